#!/usr/bin/env bash
# Schema-driven API test: starts the local server (in-memory storage) on a
# free loopback port and runs schemathesis against the document it serves,
# for every route with a bounded number of generated requests. Fails on
# any 5xx and on any answer that the document does not describe (status,
# content type, body schema). Run by infra/test.sh after `cargo test`;
# needs target/debug/local-api (`cargo build -p local-api`).
#
#   SCHEMATHESIS_MAX_EXAMPLES  generated requests per operation and phase (default 15)
#   SCHEMATHESIS_SEED          the generator's seed (default: fixed, so runs repeat)
#   SCHEMATHESIS_DEBUG_LOG     a file to append each refused valid case to, with the answer
#                              (to find a rule the document does not state)
#
# infra/schemathesis_hooks.py gives generated valid cases what only the
# server can supply (ids, the account's password, mailed tokens), so that
# no operation mostly answers 400 or 404 to data the document calls valid.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source infra/python-env.sh

server="$root/target/debug/local-api"
if [ ! -x "$server" ]; then
  echo "missing $server: run 'cargo build -p local-api' first" >&2
  exit 1
fi
port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
server_log="$root/target/schemathesis-server.log"
# Known to the hooks: the admin routes' bearer token, and the webhook
# secret that signs generated Stripe events.
admin_token="$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))')"
webhook_secret="whsec_$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(24))')"
# Its own clean environment: in-memory storage whatever the caller exported
# (infra/test.sh exports the emulators' endpoints for the integration tests).
# The per-address and per-identifier limits are raised so that generated
# requests reach the logic behind them instead of mostly answering 429 (the
# limits themselves are tested in the integration suite).
env -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_DYNAMODB STORAGE=memory PORT="$port" LOG_LEVEL=warn \
  SIGNUP_IP_LIMIT=0 LINK_EMAIL_LIMIT=1000000 LINK_IP_LIMIT=1000000 \
  LOGIN_MAX_FAILURES=1000000 LOGIN_IP_MAX_FAILURES=1000000 \
  OTP_NUMBER_LIMIT=1000000 OTP_IP_LIMIT=1000000 SMS_DAILY_LIMIT=0 \
  ADMIN_TOKEN="$admin_token" STRIPE_WEBHOOK_SECRET="$webhook_secret" \
  "$server" >"$server_log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$base/health" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "local-api failed to start:" >&2; cat "$server_log" >&2; exit 1
  fi
  sleep 0.2
done

run_schemathesis() {
  # One worker: with two threads, Python 3.11's `ast` module can fail at
  # random ("AST constructor recursion depth mismatch", CPython gh-106905)
  # inside hypothesis, ending the run with an error that is not the API's.
  # The outer timeout is a safety net: a run that long has gone wrong.
  timeout 300 "$venv/bin/schemathesis" --no-color run "$base/openapi.json" \
    --url "$base" \
    --workers 1 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-15}" \
    --seed "${SCHEMATHESIS_SEED:-20260101}" \
    --generation-database none \
    --request-timeout 10 \
    "$@"
}

# A fresh account for the signed-in run, made before the generated
# requests use up this address's sign-up and login allowances. Its password
# is in no example of the document, so generated requests cannot delete it
# or change its password.
password="$("$venv/bin/python" -c 'import secrets; print("St-" + secrets.token_urlsafe(18))')"
signup="{\"username\": \"schemathesis\", \"email\": \"schemathesis@example.com\",
  \"password\": \"$password\", \"confirm_password\": \"$password\", \"rank\": \"Tester\",
  \"unitname\": \"QA\", \"designation\": \"Fuzzer\", \"mobileNo\": \"+919876543210\",
  \"personalNo\": \"+919876543211\", \"phoneNo\": \"+919876543212\"}"
curl -fsS -o /dev/null -X POST "$base/auth/signup" -H 'content-type: application/json' -d "$signup"
access_token="$(curl -fsS -X POST "$base/auth/login" -H 'content-type: application/json' \
  -d "{\"login\": \"schemathesis\", \"password\": \"$password\"}" |
  "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["data"]["access_token"])')"

# The hooks make generated valid cases carry what only the server can
# supply (ids, the real password, mailed tokens): infra/schemathesis_hooks.py.
export PYTHONPATH="$root/infra${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks
export SCHEMATHESIS_BASE="$base" SCHEMATHESIS_LOGIN=schemathesis SCHEMATHESIS_PASSWORD="$password"
export SCHEMATHESIS_EMAIL=schemathesis@example.com SCHEMATHESIS_ADMIN_TOKEN="$admin_token"
export SCHEMATHESIS_WEBHOOK_SECRET="$webhook_secret"

echo "==> schemathesis against $base/openapi.json, without credentials"
# The routes that need a token answer 401 (documented, in the error envelope):
# every warning but the one saying so.
run_schemathesis --warnings missing_test_data,base_url_mismatch,validation_mismatch,missing_deserializer,unused_openapi_auth,unsupported_regex,method_not_allowed,unresolvable_reference,rate_limited

echo "==> schemathesis again, signed in"
# Logout would end the session the rest needs; it had its turn above.
# The hooks send the token (see there).
SCHEMATHESIS_SIGNED_IN=1 SCHEMATHESIS_TOKEN="$access_token" run_schemathesis --exclude-path /auth/logout
