#!/usr/bin/env bash
# Starts localstripe (PyPI: a fake, stateful Stripe server) on a free
# loopback port and exports LOCALSTRIPE_ENDPOINT; stops it by its PID when
# the sourcing shell exits. Sourced by infra/test.sh after moto.sh (it
# needs $root and $venv, and localstripe in .venv: infra/requirements-test.txt).
source "$root/infra/on-exit.sh"
localstripe_log="${LOCALSTRIPE_LOG:-$root/target/localstripe.log}"
mkdir -p "$(dirname "$localstripe_log")"
localstripe_port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$venv/bin/python" "$root/infra/localstripe_server.py" "$localstripe_port" >"$localstripe_log" 2>&1 &
localstripe_pid=$!
on_exit 'kill "$localstripe_pid" 2>/dev/null || true; wait "$localstripe_pid" 2>/dev/null || true'
for _ in $(seq 1 100); do
  # Any answer will do (401 without a key): the server is up.
  if "$venv/bin/python" -c "import urllib.request,urllib.error,sys
try: urllib.request.urlopen('http://127.0.0.1:$localstripe_port/v1/customers', timeout=1)
except urllib.error.HTTPError: pass" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$localstripe_pid" 2>/dev/null; then
    echo "localstripe failed to start:" >&2; cat "$localstripe_log" >&2; exit 1
  fi
  sleep 0.2
done
export LOCALSTRIPE_ENDPOINT="http://127.0.0.1:$localstripe_port"
echo "==> localstripe on $LOCALSTRIPE_ENDPOINT (pid $localstripe_pid)"
