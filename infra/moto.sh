#!/usr/bin/env bash
# Starts moto_server on a free loopback port and exports MOTO_ENDPOINT;
# stops it when the sourcing shell exits. Sourced by infra/test.sh.
source "$root/infra/on-exit.sh"
moto_log="${MOTO_LOG:-$root/target/moto.log}"
mkdir -p "$(dirname "$moto_log")"
moto_port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$venv/bin/python" "$root/infra/moto_server.py" -H 127.0.0.1 -p "$moto_port" >"$moto_log" 2>&1 &
moto_pid=$!
on_exit 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true'
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$moto_port/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "moto_server failed to start:" >&2; cat "$moto_log" >&2; exit 1
  fi
  sleep 0.2
done
export MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
echo "==> moto_server on $MOTO_ENDPOINT (pid $moto_pid)"
