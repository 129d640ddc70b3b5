#!/usr/bin/env bash
# Cold starts of every function (see coldstart.py): release binaries for this
# machine, DynamoDB Local for the table (started here, stopped on exit),
# moto_server for the secrets and queues, 30 runs each.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source infra/python-env.sh
cargo build --release --locked --workspace --bins
source infra/dynamodb-local.sh
# Not exec: this shell's exit stops DynamoDB Local.
"$venv/bin/python" infra/perf/coldstart.py "$@"
