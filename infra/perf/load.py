#!/usr/bin/env python3
"""Load test of the local server with wrk on loopback.

Sign-up, login, refresh and GET /users/me at concurrency 1, 10 and 50, each
for LOAD_SECONDS (default 10): requests/s and p50/p95/p99, then the
server's peak RSS. Usage: infra/perf/load.sh. The store is the in-memory
one, or with LOAD_STORAGE=dynamodb a table on DynamoDB Local (load.sh
starts it and sets DYNAMODB_ENDPOINT), the real engine on the same CPUs.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from loopback import free_port, wait_until_answers

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("LOAD_SECONDS", "10"))
CONCURRENCY = [int(c) for c in os.environ.get("LOAD_CONCURRENCY", "1,10,50").split(",")]
ROUTES = os.environ.get("LOAD_ROUTES", "me,refresh,login,signup").split(",")
PASSWORD = "Tr1cky-Vole-Lantern"
STORAGE = os.environ.get("LOAD_STORAGE", "memory")
RELEASE = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"


def call(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def storage_env():
    """The store's settings: none for memory; for DynamoDB Local, a table the
    server creates, dummy credentials (it checks that a request is signed, not
    by whom) and phone keys for this run (numbers are encrypted at rest)."""
    if STORAGE == "memory":
        return {"STORAGE": "memory"}
    if STORAGE != "dynamodb":
        sys.exit(f"LOAD_STORAGE is memory or dynamodb, not {STORAGE!r}")
    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if not endpoint:
        sys.exit("DYNAMODB_ENDPOINT is not set: run infra/perf/load.sh, which starts DynamoDB Local")
    phone_keys = subprocess.check_output([str(RELEASE / "keytool"), "phone-keys", "generate"], text=True)
    return {"STORAGE": "dynamodb", "CREATE_TABLE": "true", "TABLE_NAME": f"load-{uuid.uuid4().hex[:8]}",
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "us-east-1", "PHONE_KEYS": phone_keys.strip()}


def main():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LOCAL_API_ADDR": f"127.0.0.1:{port}", **storage_env(),
           # Load from one address: no per-address sign-up or failure caps.
           "SIGNUP_IP_LIMIT": "0", "LOG_LEVEL": "warn"}
    server = subprocess.Popen([str(RELEASE / "local-api")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answers(f"{base}/health", pause=0.05)
        call(f"{base}/auth/signup", {
            "username": "loadtest", "email": "loadtest@example.com", "password": PASSWORD,
            "confirm_password": PASSWORD, "rank": "Captain", "unitname": "Signals",
            "designation": "Officer", "mobileNo": "+919876543210", "personalNo": "+919876543211",
            "phoneNo": "+919876543212"})
        store = "in-memory store" if STORAGE == "memory" else "table on DynamoDB Local"
        print(f"wrk on loopback, {SECONDS} s per row, local-api ({store}), "
              f"{os.cpu_count()} CPUs shared by server and load generator\n")
        notes = []
        print("| route | concurrency | requests | requests/s | p50 | p95 | p99 | errors |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for route in ROUTES:
            for concurrency in CONCURRENCY:
                token_file = None
                if route in ("me", "refresh"):
                    # One session per connection (refresh tokens rotate).
                    pairs = [call(f"{base}/auth/login", {"login": "loadtest", "password": PASSWORD})["data"]
                             for _ in range(concurrency)]
                    key = "access_token" if route == "me" else "refresh_token"
                    handle = tempfile.NamedTemporaryFile("w", delete=False, suffix=".tokens")
                    handle.write("\n".join(p[key] for p in pairs) + "\n")
                    handle.close()
                    token_file = handle.name
                args = ["wrk", "-t", str(concurrency), "-c", str(concurrency), "-d", f"{SECONDS}s",
                        "--timeout", "10s", "-s", str(ROOT / "infra" / "perf" / "load.lua"), base, "--", route, uuid.uuid4().hex[:8]]
                if token_file:
                    args.append(token_file)
                output = subprocess.run(args, capture_output=True, text=True, check=True)
                line = next((l for l in output.stdout.splitlines() if l.startswith("RESULT ")), None)
                if line is None:
                    sys.exit(f"wrk gave no result:\n{output.stdout}\n{output.stderr}")
                result = json.loads(line[len("RESULT "):])
                rate = result["requests"] / result["seconds"]
                print(f"| {route} | {concurrency} | {result['requests']} | {rate:,.0f} "
                      f"| {result['p50_us'] / 1000:.2f} ms | {result['p95_us'] / 1000:.2f} ms "
                      f"| {result['p99_us'] / 1000:.2f} ms | {result['errors']} |")
                if token_file:
                    os.unlink(token_file)
                if result["errors"]:
                    notes.append(f"{route} at {concurrency}: {output.stderr.strip().splitlines()[:1]}")
        for note in notes:
            print(f"- errors, {note}")
        print(f"\nlocal-api peak RSS: {peak_rss_mib(server.pid):.1f} MiB")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
