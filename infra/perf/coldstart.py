#!/usr/bin/env python3
"""Cold-start harness: a stand-in for the Lambda Runtime API on 127.0.0.1.

For every function of template.yaml (found by its cargo-lambda `Binary`),
runs its release binary RUNS times with the real environment (the table on
DynamoDB Local, at DYNAMODB_ENDPOINT, which coldstart.sh starts; signing-key
and phone-key secrets and the queues on moto_server, started here), and
measures:

- init: from exec to the binary's first `GET /2018-06-01/runtime/invocation/next`
  (process start, telemetry, configuration, SDK clients);
- first response: from handing over one real event (from events/) to its
  `POST .../response` (the first request, with cold connections and the
  first secret read);
- peak RSS (VmHWM) after that first request.

Prints p50/p95 per function as a Markdown table. New functions are picked up
from template.yaml and events/ without edits: routes by their events'
routeKey, queue/stream/schedule functions by samples named after the binary. Usage: infra/perf/coldstart.sh;
COLDSTART_RUNS (default 30) and COLDSTART_FUNCTIONS (logical ids, comma-
separated) narrow a run; COLDSTART_LOG_LEVEL (default warn) sets the timed
functions' LOG_LEVEL; COLDSTART_SSL_CERT_FILE (default this machine's CA
bundle, as the template names Amazon Linux's) their SSL_CERT_FILE.

COLDSTART_LAMBDA_DIR (target/lambda) runs the cross-built Lambda binaries
(`<dir>/<binary>/bootstrap`) instead, each started through COLDSTART_LAUNCHER
(infra/perf/arm64-smoke.sh: qemu-user); their times are emulated, not
measurements. COLDSTART_FAIL_ON_5XX=1 makes any 5xx answer or failed queue
item an error (exit status 1) rather than a table entry.
"""

import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from loopback import free_port, wait_until_answers

import boto3
import yaml

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Tr1cky-Vole-Lantern"
RUNS = int(os.environ.get("COLDSTART_RUNS", "30"))
TARGET = Path(os.environ.get("COLDSTART_BIN_DIR",
                           Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"))
LAMBDA_DIR = os.environ.get("COLDSTART_LAMBDA_DIR")
LAUNCHER = shlex.split(os.environ.get("COLDSTART_LAUNCHER", ""))
FAIL_ON_5XX = os.environ.get("COLDSTART_FAIL_ON_5XX") == "1"
CERT_FILE = os.environ.get("COLDSTART_SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
# The queues the background functions and the tasks routes use (a set per
# timed function).
QUEUES = [("TASKS_QUEUE_URL", "coldstart-tasks"),
          ("ACCOUNT_TASKS_QUEUE_URL", "coldstart-account-tasks"),
          ("NOTIFICATIONS_QUEUE_URL", "coldstart-notifications")]
# moto_server's slow requests and, after a hang, its thread stacks.
MOTO_LOG = ROOT / "target" / "coldstart-moto.log"


class _Loader(yaml.SafeLoader):
    pass


# CloudFormation tags (!Ref, !GetAtt, ...) are irrelevant here.
_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def functions():
    """(logical id, binary, [route keys]) for every function of the template."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    found = []
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        routes = []
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                props = event.get("Properties", {})
                routes.append(f"{props.get('Method', 'ANY').upper()} {props.get('Path', '$default')}")
        found.append((name, binary, routes))
    return found


def events_for(routes, binary=None):
    """Sample events whose routeKey is one of `routes` ($default: the rest);
    for a function without routes (queue, stream, schedule), the samples
    named after its binary (`task-worker-sqs.json`)."""
    chosen = []
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        if not routes:
            if binary and path.name.startswith(binary + "-") and "routeKey" not in event:
                chosen.append((path.name, event))
            continue
        key = event.get("routeKey", "")
        # API Gateway sends `/x/` to the `/x` route.
        key = key.rstrip("/") if key.endswith("/") and key.count("/") > 1 else key
        if key in routes or ("ANY $default" in routes and key == "$default"):
            chosen.append((path.name, event))
    # A valid request says more about the first response than a rejected one.
    chosen.sort(key=lambda item: ("invalid" in item[0], item[0]))
    return chosen


class Runtime:
    """One invocation per process: the event, then a `next` that waits."""

    def __init__(self):
        self.lock = threading.Condition()
        self.reset(None)

    def reset(self, event):
        with self.lock:
            self.event = event
            self.request_id = str(uuid.uuid4())
            self.first_next = None
            self.responded = None
            self.response = None
            self.error = None
            self.served = False

    def handler(runtime):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                with runtime.lock:
                    if runtime.first_next is None:
                        runtime.first_next = time.perf_counter()
                    serve = not runtime.served
                    runtime.served = True
                    event = runtime.event
                    request_id = runtime.request_id
                if not serve:
                    # The process is killed after its first response.
                    time.sleep(30)
                    return
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 10_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:coldstart")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with runtime.lock:
                    if self.path.endswith("/response"):
                        runtime.responded = time.perf_counter()
                        runtime.response = body
                    else:
                        runtime.error = body or self.path.encode()
                        runtime.responded = time.perf_counter()
                    runtime.lock.notify_all()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


def report_stall(pid, moto):
    """The sockets of a stalled process and of moto_server; moto's thread
    stacks go to MOTO_LOG."""
    sockets = subprocess.run(["ss", "-tnpi"], capture_output=True, text=True).stdout
    for owner in (pid, moto.pid):
        print(f"sockets of pid {owner}:", file=sys.stderr)
        print("\n".join(line for line in sockets.splitlines() if f"pid={owner}," in line), file=sys.stderr)
    moto.send_signal(signal.SIGUSR1)
    print(f"moto_server's thread stacks: {MOTO_LOG}", file=sys.stderr)


def report_hang(name, run, pid, runtime, moto):
    """A run that took no event or gave no answer in 20 s is counted in the
    table, and what the process was doing goes to stderr: its sockets and
    moto_server's, moto's thread stacks (in MOTO_LOG) and, where gdb is
    installed, every thread's stack of the hung process."""
    state = "never asked for an event" if runtime.first_next is None else "took the event"
    print(f"{name}: run {run + 1}: no response in 20 s ({state})", file=sys.stderr)
    report_stall(pid, moto)
    if shutil.which("gdb"):
        stacks = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                                capture_output=True, text=True, timeout=60).stdout
        print(stacks[-6000:], file=sys.stderr)


def outcome(response):
    """An HTTP response's status; a queue batch's failed-item count
    (`SqsBatchResponse`); "ok" for the rest (stream, schedule)."""
    if not isinstance(response, dict):
        return "ok"
    if "statusCode" in response:
        return response["statusCode"]
    if "batchItemFailures" in response:
        return f"{len(response['batchItemFailures'])} failed"
    return "ok"


def stripe_stand_in():
    """Stripe's two calls of a first checkout (a customer, then a Checkout
    session), answered on loopback. localstripe, which the tests use, has
    no Checkout sessions (the suite stubs them too), and a benchmark makes
    no request to Stripe."""
    counter = iter(range(1 << 62))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            n = next(counter)
            if self.path == "/v1/customers":
                answer = {"id": f"cus_coldstart{n}", "object": "customer"}
            elif self.path == "/v1/checkout/sessions":
                answer = {"id": f"cs_test_coldstart{n}", "object": "checkout.session",
                          "url": f"https://checkout.stripe.com/c/pay/cs_test_coldstart{n}"}
            else:
                self.send_error(404)
                return
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def runtime_api_server(runtime):
    server = ThreadingHTTPServer(("127.0.0.1", 0), runtime.handler())
    # Killed processes reset their connections: nothing to report.
    server.handle_error = lambda request, address: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def peak_rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def http_json(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fresh_account(local_api):
    """A new username account on the local server: (login, password)."""
    name = f"cs{uuid.uuid4().hex[:12]}"
    status, body = http_json("POST", f"{local_api}/auth/signup", {
        "username": name, "email": f"{name}@example.com",
        "password": PASSWORD, "confirm_password": PASSWORD,
        "rank": "Captain", "unitname": "Signals", "designation": "Officer",
        "mobileNo": "+919876543210", "personalNo": "+919876543211", "phoneNo": "+919876543212"})
    assert status == 201, body
    return name


def personalise(event, local_api):
    """A fresh account, number and token pair per run, so each first
    request takes its success path rather than a conflict or a 401."""
    # Ids the samples leave to the caller: fresh ones name nothing, which
    # each function answers without failing (404, or a skipped message).
    text = json.dumps(event)
    for placeholder in ("TASK_ID", "USER_ID", "PUSH_TOKEN_ID"):
        text = text.replace(placeholder, str(uuid.uuid4()))
    event = json.loads(text)
    body = event.get("body") or ""
    fields = json.loads(body) if body.startswith("{") else None
    if "ACCESS_TOKEN" in text or "REFRESH_TOKEN" in text or (fields and "login" in fields):
        name = fresh_account(local_api)
        if fields and "login" in fields:
            fields["login"] = name
        else:
            status, login = http_json("POST", f"{local_api}/auth/login",
                                      {"login": name, "password": PASSWORD, "device_id": "pixel-7-a1b2c3"})
            assert status == 200, login
            access, refresh = login["data"]["access_token"], login["data"]["refresh_token"]
            event = json.loads(text.replace("ACCESS_TOKEN", access).replace("REFRESH_TOKEN", refresh))
            body = event.get("body") or ""
            fields = json.loads(body) if body.startswith("{") else None
    if fields is not None and set(fields) == {"phone_number"} and "ACCESS_TOKEN" in text:
        # The sample deletes a phone account; the token here is a username
        # account's, which confirms with its password.
        fields = {"password": PASSWORD}
    elif fields is not None and set(fields) == {"email"}:
        # Link requests (password reset, confirmation again) do their work
        # for an account that exists; a pre-registration for a new address.
        if event.get("routeKey") == "POST /auth/pre-register":
            fields["email"] = f"cs{uuid.uuid4().hex[:12]}@example.com"
        else:
            fields["email"] = f"{fresh_account(local_api)}@example.com"
    elif fields is not None:
        suffix = uuid.uuid4().hex[:10]
        if "username" in fields and "email" in fields:
            fields["username"] = f"cs{suffix}"
            fields["email"] = f"cs{suffix}@example.com"
        if "phone_number" in fields:
            fields["phone_number"] = f"+9197{uuid.uuid4().int % 10**8:08d}"
    if fields is not None:
        event["body"] = json.dumps(fields)
        event.setdefault("headers", {})["content-length"] = str(len(event["body"]))
    return event


def start_local_server(env):
    """The local server on the timed functions' table and secrets, which
    hands out accounts and tokens: (process, base URL). It keeps its queues
    in memory and runs no relay or workers: on SQS it would long-poll both
    queues, and moto_server (one request at a time) would make every timed
    call wait behind those polls; its relay would query the table every
    200 ms and take the CPU the timed functions need."""
    port = free_port()
    local = subprocess.Popen([str(TARGET / "local-api")],
                             env={**env, "CREATE_TABLE": "true", "LOCAL_BACKGROUND": "off",
                                  "LOCAL_API_ADDR": f"127.0.0.1:{port}"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_answers(f"{url}/health")
    return local, url


def function_path(binary):
    """Where a function's binary is: this machine's build, or the Lambda build."""
    return Path(LAMBDA_DIR) / binary / "bootstrap" if LAMBDA_DIR else TARGET / binary


def is_failure(status):
    """A 5xx answer, or a queue batch with failed items."""
    return (isinstance(status, int) and status >= 500) or (
        isinstance(status, str) and status.endswith(" failed") and not status.startswith("0 "))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * p))]


def main():
    moto_port = free_port()
    moto = subprocess.Popen([sys.executable, str(ROOT / "infra" / "moto_server.py"), "-H", "127.0.0.1",
                             "-p", str(moto_port)], stdout=subprocess.DEVNULL,
                            stderr=MOTO_LOG.open("w"))
    procs = [moto]
    try:
        endpoint = f"http://127.0.0.1:{moto_port}"
        wait_until_answers(f"{endpoint}/moto-api/", attempts=100, pause=0.2)
        stripe = stripe_stand_in()
        dynamodb = os.environ.get("DYNAMODB_ENDPOINT")
        if not dynamodb:
            sys.exit("DYNAMODB_ENDPOINT is not set: run infra/perf/coldstart.sh, which starts DynamoDB Local")
        base_env = {
            "PATH": os.environ.get("PATH", ""),
            # The TLS roots from one bundle file and no directory, as template.yaml
            # sets them on Lambda (PERFORMANCE.md, "Where init goes"); here this
            # machine's bundle. COLDSTART_SSL_CERT_FILE= (empty) measures the
            # default lookup instead.
            **({"SSL_CERT_FILE": CERT_FILE} if CERT_FILE else {}),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb,
            "TABLE_NAME": "coldstart",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "STORAGE": "dynamodb",
            "SIGNING_KEYS_SECRET_ID": "coldstart/signing-keys",
            "PHONE_KEYS_SECRET_ID": "coldstart/phone-keys",
            "STRIPE_SECRET_ID": "coldstart/stripe",
            # The local server hands out the tokens and names itself their
            # issuer unless PUBLIC_BASE_URL says otherwise: one base URL for
            # both, or every authenticated sample would be a 401.
            "PUBLIC_BASE_URL": "https://coldstart.example",
            "STRIPE_API_BASE": f"http://127.0.0.1:{stripe.server_address[1]}",
            "LOG_LEVEL": os.environ.get("COLDSTART_LOG_LEVEL", "warn"),
            # Every run signs up, asks for links and for texted codes from one
            # address (each to a new number).
            "SIGNUP_IP_LIMIT": "0", "LINK_IP_LIMIT": "1000000", "OTP_IP_LIMIT": "1000000",
        }
        keytool = TARGET / "keytool"
        secrets = {
            "coldstart/signing-keys": subprocess.check_output([str(keytool), "generate"]),
            "coldstart/phone-keys": subprocess.check_output([str(keytool), "phone-keys", "generate"]),
            "coldstart/stripe": json.dumps({"webhook_secrets": ["whsec_coldstart"],
                                            "api_key": "sk_test_coldstart"}).encode(),
        }
        secretsmanager = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1",
                                      aws_access_key_id="testing", aws_secret_access_key="testing")
        for name, value in secrets.items():
            secretsmanager.create_secret(Name=name, SecretString=value.decode())
        # The queues are made per function, below (QUEUES).
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")

        print(f"{RUNS} cold starts per function; binaries from {TARGET}\n")
        print("| function | event | init p50 | init p95 | first response p50 | first response p95 | statuses | peak RSS (max) | size |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        only = set(filter(None, os.environ.get("COLDSTART_FUNCTIONS", "").split(",")))
        failures = []
        for name, binary, routes in functions():
            if only and name not in only:
                continue
            path = function_path(binary)
            events = events_for(routes, binary)
            if not path.exists() or not events:
                print(f"| {name} | (skipped: {'no binary' if not path.exists() else 'no event'}) |")
                continue
            event_name, event = events[0]
            # Every function meets empty queues of its own: nothing consumes
            # them here, and moto's SendMessage counts a queue's messages on
            # every call (the clean-up, relaying the outbox the other
            # functions left, took seconds per run on queues of thousands).
            queues = {variable: sqs.create_queue(QueueName=f"{queue}-{name}")["QueueUrl"]
                      for variable, queue in QUEUES}
            local, local_api = start_local_server(base_env)
            procs.append(local)
            inits, firsts, peaks, statuses = [], [], [], {}
            for run in range(RUNS):
                # A Runtime API of its own per run: a killed process's last
                # `next` can still be in the socket when the next run starts,
                # and on a shared server it would take the new run's event.
                runtime = Runtime()
                try:
                    runtime.reset(personalise(event, local_api))
                except (TimeoutError, urllib.error.URLError):
                    print(f"{name}: run {run + 1}: the local server did not answer in 60 s", file=sys.stderr)
                    report_stall(local.pid, moto)
                    raise
                server = runtime_api_server(runtime)
                runtime_api = f"127.0.0.1:{server.server_address[1]}"
                env = {**base_env, **queues, "AWS_LAMBDA_RUNTIME_API": runtime_api,
                       "AWS_LAMBDA_FUNCTION_NAME": binary, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                       "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}
                started = time.perf_counter()
                proc = subprocess.Popen([*LAUNCHER, str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                with runtime.lock:
                    runtime.lock.wait_for(lambda: runtime.responded is not None or proc.poll() is not None, timeout=20)
                peak = peak_rss_kib(proc.pid)
                hung = runtime.responded is None and proc.poll() is None
                if hung:
                    report_hang(name, run, proc.pid, runtime, moto)
                proc.kill()
                _, stderr = proc.communicate()
                server.shutdown()
                server.server_close()
                if hung:
                    statuses["no response in 20 s"] = statuses.get("no response in 20 s", 0) + 1
                    continue
                if runtime.response is None:
                    state = "never asked for an event" if runtime.first_next is None else "took the event"
                    sys.exit(f"{name}: run {run + 1}: no response in 20 s ({state}, exit status {proc.returncode}, "
                             f"error {runtime.error!r}); stderr:\n{stderr.decode()[-4000:]}")
                inits.append((runtime.first_next - started) * 1000)
                firsts.append((runtime.responded - runtime.first_next) * 1000)
                if peak:
                    peaks.append(peak)
                status = outcome(json.loads(runtime.response))
                statuses[status] = statuses.get(status, 0) + 1
                if FAIL_ON_5XX and is_failure(status):
                    failures.append(f"{name} ({event_name}): {status}; stderr:\n{stderr.decode()[-2000:]}")
            local.kill()
            local.wait()
            size = path.stat().st_size / (1024 * 1024)
            print(f"| {name} | {event_name} | {percentile(inits, .5):.1f} ms | {percentile(inits, .95):.1f} ms "
                  f"| {percentile(firsts, .5):.1f} ms | {percentile(firsts, .95):.1f} ms "
                  f"| {', '.join(f'{k}×{v}' for k, v in sorted(statuses.items(), key=str))} "
                  f"| {max(peaks) / 1024 if peaks else 0:.1f} MiB | {size:.2f} MiB |")
        if failures:
            sys.exit("failed answers:\n" + "\n".join(failures))
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
