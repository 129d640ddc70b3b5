#!/usr/bin/env bash
# Access tokens of the local server verified by two JWT libraries nobody
# here wrote, PyJWT's PyJWKClient (PyPI) and jose (npm), from the discovery
# document alone: before, during and after a key rotation done with the
# documented keytool commands (EdDSA to ES256), and after the old key is
# pruned. A tampered token fails in both. The rotation's earlier steps run
# under faketime, as if done that long ago, so the test need not wait for
# the publish delay. Called by infra/test.sh; sets up what it needs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source infra/python-env.sh

if ! command -v faketime >/dev/null; then
  echo "==> installing faketime (Debian)"
  apt-get update -qq >/dev/null && apt-get install -y -qq faketime >/dev/null
fi
verifiers="$root/tests/verifiers"
lock_hash="$(sha256sum "$verifiers/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$verifiers/node_modules/.lock.sha256" 2>/dev/null)" != "$lock_hash" ]; then
  echo "==> npm ci (jose) in tests/verifiers"
  (cd "$verifiers" && npm ci --no-audit --no-fund --silent)
  echo "$lock_hash" > "$verifiers/node_modules/.lock.sha256"
fi
cargo build -q -p local-api -p keytool --locked

work="$(mktemp -d)"
chmod 700 "$work"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

keytool="$root/target/debug/keytool"
port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
audience="users-service-clients"

# The local server on the key set in file $1 (a restart stands in for the
# functions' key reload).
start_server() {
  stop_server
  JWT_SIGNING_KEYS="$(cat "$1")" PORT="$port" LOCAL_BACKGROUND=off LOG_LEVEL=warn \
    "$root/target/debug/local-api" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    if curl -fsS "$base/health" >/dev/null 2>&1; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the local server did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
}

# Signs up user $1 and prints the access token of its login.
access_token() {
  "$venv/bin/python" - "$base" "$1" <<'PY'
import json, sys, urllib.request
base, name = sys.argv[1:]
password = "Tr1cky-Vole-Lantern"
def post(path, body):
    request = urllib.request.Request(base + path, json.dumps(body).encode(),
                                     {"content-type": "application/json"})
    with urllib.request.urlopen(request) as reply:
        return json.load(reply)
post("/auth/signup/", {"username": name, "email": f"{name}@example.com", "password": password,
     "confirm_password": password, "rank": "Captain", "unitname": "Signals",
     "designation": "Officer", "mobileNo": "+919876543210", "personalNo": "+919876543211",
     "phoneNo": "+919876543212"})
print(post("/auth/login", {"login": name, "password": password})["data"]["access_token"])
PY
}

tamper() { printf '%s' "${1%???}AAA"; }

# Both libraries check every `ok:TOKEN` / `fail:TOKEN` argument.
verify_both() {
  "$venv/bin/python" "$verifiers/verify.py" "$base" "$audience" "$@"
  node "$verifiers/verify.mjs" "$base" "$audience" "$@"
}

algorithms() {
  curl -fsS "$base/.well-known/openid-configuration" \
    | "$venv/bin/python" -c 'import json,sys; print(",".join(json.load(sys.stdin)["id_token_signing_alg_values_supported"]))'
}

echo "--> before: an EdDSA key set"
faketime -f '-3h' "$keytool" generate --alg EdDSA >"$work/k1.json" 2>/dev/null
start_server "$work/k1.json"
t1="$(access_token before)"
verify_both "ok:$t1" "fail:$(tamper "$t1")"

echo "--> during: an ES256 key added (pending, published, not signing)"
faketime -f '-30m' "$keytool" add --alg ES256 <"$work/k1.json" >"$work/k2.json" 2>/dev/null
start_server "$work/k2.json"
[ "$(algorithms)" = "ES256,EdDSA" ] || { echo "discovery lists $(algorithms)" >&2; exit 1; }
t2="$(access_token during)"
verify_both "ok:$t1" "ok:$t2"

echo "--> after: the ES256 key promoted (published 30 min), the EdDSA key retired"
new_kid="$("$keytool" list <"$work/k2.json" | awk '$3 == "pending" { print $1 }')"
"$keytool" promote "$new_kid" <"$work/k2.json" >"$work/k3.json" 2>/dev/null
start_server "$work/k3.json"
t3="$(access_token after)"
verify_both "ok:$t1" "ok:$t2" "ok:$t3" "fail:$(tamper "$t3")"

echo "--> pruned two hours on: the EdDSA key is gone, ES256 tokens verify"
faketime -f '+2h' "$keytool" prune <"$work/k3.json" >"$work/k4.json" 2>/dev/null
start_server "$work/k4.json"
[ "$(algorithms)" = "ES256" ] || { echo "discovery lists $(algorithms)" >&2; exit 1; }
verify_both "ok:$t3" "fail:$t1"
echo "==> tokens verified by PyJWT and jose across the rotation"
