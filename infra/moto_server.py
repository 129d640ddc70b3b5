"""moto_server, with each request applied as one atomic step.

moto's own server handles requests on parallel threads without isolating
them, so two concurrent TransactWriteItems can both pass their conditions:
DynamoDB never allows that. Holding one lock per request gives the
emulator DynamoDB's guarantee (conditional writes and transactions are
atomic), which the concurrency tests rely on. Everything else is moto's
stock server, wire protocol and all.

Usage: python infra/moto_server.py -H 127.0.0.1 -p PORT

It also stops moto keeping every DynamoDB object it ever built (see
`forget_dynamodb_instances`), which made long runs slow to a stop.

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
from moto.core.common_models import BaseModel


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


def forget_dynamodb_instances():
    """moto appends every model object it creates to a class-level list, for
    its dashboard, and never drops them. TransactWriteItems deep-copies the
    whole table (once per item of the transaction) to roll back on failure,
    so every transaction leaked a copy of every item: 12 GB after ten
    minutes of the cold-start harness, and Python's full garbage collections
    over those objects paused the server (under the lock above) for 3 s,
    then 5, 10, 22 s and more, which callers saw as hung requests. DynamoDB
    objects are no longer tracked; the dashboard lists none of them."""
    tracked_new = BaseModel.__new__

    def new(cls, *args, **kwargs):
        if cls.__module__.startswith("moto.dynamodb."):
            return object.__new__(cls)
        return tracked_new(cls, *args, **kwargs)

    BaseModel.__new__ = staticmethod(new)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    forget_dynamodb_instances()
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
