#!/usr/bin/env bash
# Load test of the local server (see load.py); installs wrk if missing.
# LOAD_STORAGE=dynamodb: on a table in DynamoDB Local (started here, stopped
# on exit) instead of the in-memory store.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
if ! command -v wrk >/dev/null; then
  echo "==> installing wrk (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q wrk >/dev/null; else sudo apt-get install -y -q wrk >/dev/null; fi
fi
# One build for both (built apart, they would resolve features apart).
cargo build --release --locked -p local-api -p keytool
if [ "${LOAD_STORAGE:-memory}" = dynamodb ]; then
  source infra/dynamodb-local.sh
  # Not exec: this shell's exit stops DynamoDB Local.
  python3 infra/perf/load.py "$@"
else
  exec python3 infra/perf/load.py "$@"
fi
