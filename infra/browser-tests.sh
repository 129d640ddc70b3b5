#!/usr/bin/env bash
# The pages under /ui/ driven in a real browser: Debian's chromium and
# chromium-driver (installed here with apt when missing; no browser
# download works on these machines), Selenium from .venv, against the local
# server on a free loopback port (tests/browser/test_pages.py, and the local
# checkout's pay page: tests/browser/test_checkout.py). Screenshots
# of each page land in docs/screenshots/ (SCREENSHOTS to put them
# elsewhere). Called by infra/test.sh; sets up what it needs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source infra/python-env.sh

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "==> installing chromium and chromium-driver (Debian)"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q chromium chromium-driver >/dev/null
fi
cargo build -q -p local-api --locked

work="$(mktemp -d)"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# In-memory storage and the background workers in the server, so mailed
# links and texted codes reach the local outbox. New accounts get credits,
# and the test adds ledger entries with a made-up admin token.
export SIGNUP_CREDITS=25
ADMIN_TOKEN="$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')"
export ADMIN_TOKEN
PORT="$port" LOG_LEVEL=warn "$root/target/debug/local-api" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "$base/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the local server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

if ! BASE_URL="$base" SCREENSHOTS="${SCREENSHOTS:-$root/docs/screenshots}" \
  "$venv/bin/python" tests/browser/test_pages.py; then
  echo "the local server's log:" >&2
  tail -50 "$work/server.log" >&2
  exit 1
fi
# The local checkout (no STRIPE_API_KEY: the local pay page).
if ! BASE_URL="$base" SCREENSHOTS="${SCREENSHOTS:-$root/docs/screenshots}" \
  "$venv/bin/python" tests/browser/test_checkout.py; then
  echo "the local server's log:" >&2
  tail -50 "$work/server.log" >&2
  exit 1
fi
