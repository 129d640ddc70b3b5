#!/usr/bin/env bash
# The cross-built Lambda binaries (target/lambda/<name>/bootstrap, from
# infra/build-lambda.sh) answer their sample events: each runs once under
# qemu-user through the cold-start harness's Runtime API stand-in, on
# DynamoDB Local and moto; any 5xx (or failed queue item) fails the run.
# It proves the deploy build starts and works, not how fast: the times it
# prints are emulated.
#   infra/perf/arm64-smoke.sh              every function built under target/lambda
#   infra/perf/arm64-smoke.sh health jwks  those binaries
# Sets up what it needs: Debian's qemu-user and the arm64 C library
# (libc6-arm64-cross), and a debug build of local-api and keytool, which
# hand the harness its accounts and keys. DynamoDB Local is started here
# unless DYNAMODB_ENDPOINT is set (infra/test.sh has one running).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source infra/python-env.sh
sysroot=/usr/aarch64-linux-gnu
if ! command -v qemu-aarch64 >/dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
  echo "==> installing qemu-user and the arm64 C library (Debian packages)"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q qemu-user libc6-arm64-cross >/dev/null
fi
# The same two packages as infra/test.sh's schemathesis build, so that the
# shared crate's features (and its build) are the same.
cargo build --locked -p local-api -p keytool
if [ -z "${DYNAMODB_ENDPOINT:-}" ]; then
  source infra/dynamodb-local.sh
fi
# The template's logical ids of the binaries asked for (all built ones by default).
binaries=("$@")
if [ "${#binaries[@]}" -eq 0 ]; then
  for dir in target/lambda/*/; do binaries+=("$(basename "$dir")"); done
fi
functions="$("$venv/bin/python" - "${binaries[@]}" <<'PY'
import sys
sys.path.insert(0, "infra/perf")
from coldstart import functions
wanted = set(sys.argv[1:])
print(",".join(name for name, binary, _ in functions() if binary in wanted))
PY
)"
if [ -z "$functions" ]; then
  echo "no function of template.yaml is built as ${binaries[*]} (run infra/build-lambda.sh)" >&2
  exit 1
fi
echo "==> arm64 binaries under qemu-user: ${binaries[*]}"
COLDSTART_RUNS=1 COLDSTART_FUNCTIONS="$functions" COLDSTART_BIN_DIR="$root/target/debug" \
  COLDSTART_LAMBDA_DIR="$root/target/lambda" COLDSTART_LAUNCHER="qemu-aarch64 -L $sysroot" \
  COLDSTART_FAIL_ON_5XX=1 "$venv/bin/python" infra/perf/coldstart.py
