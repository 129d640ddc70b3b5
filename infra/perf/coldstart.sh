#!/usr/bin/env bash
# Cold starts of every function (see coldstart.py): release binaries for this
# machine, moto_server for the table and secrets, 30 runs each.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source infra/python-env.sh
cargo build --release --locked --workspace --bins
exec "$venv/bin/python" infra/perf/coldstart.py "$@"
