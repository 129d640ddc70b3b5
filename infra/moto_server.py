"""moto_server, with each request applied as one atomic step.

The tests use moto for SQS, SES and Secrets Manager (DynamoDB is on
DynamoDB Local, infra/dynamodb-local.sh). moto's own server handles
requests on parallel threads without isolating them. For DynamoDB that
let two transactions both pass their conditions; for SQS it still matters:
ReceiveMessage walks the queue and marks messages received without a
lock, so two concurrent receives (the task worker's, a test's) can both
take one message, which SQS's visibility timeout never allows within it.
Holding one lock per request restores that. Everything else is moto's
stock server, wire protocol and all. The price: a long poll
(WaitTimeSeconds > 0) on an empty queue holds every other request back
for its wait.

Usage: python infra/moto_server.py -H 127.0.0.1 -p PORT

Diagnostics: SIGUSR1 prints every thread's stack to stderr, and a request
that waits for the lock or runs longer than SLOW_REQUEST_SECONDS is logged
there with its target and timings.
"""

import argparse
import faulthandler
import signal
import sys
import threading
import time

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


SLOW_REQUEST_SECONDS = 2.0


class OneRequestAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        arrived = time.monotonic()
        with self.lock:
            started = time.monotonic()
            try:
                result = self.app(environ, start_response)
                try:
                    return [b"".join(result)]
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            finally:
                done = time.monotonic()
                if done - arrived > SLOW_REQUEST_SECONDS:
                    target = environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO")
                    print(f"slow request {target} from port {environ.get('REMOTE_PORT')}: "
                          f"waited {started - arrived:.2f} s for the lock, ran {done - started:.2f} s",
                          file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        OneRequestAtATime(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
