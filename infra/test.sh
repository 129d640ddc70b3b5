#!/usr/bin/env bash
# Every test: formatting, lints, unit and integration tests (DynamoDB on
# DynamoDB Local; SQS, SES and Secrets Manager on moto_server; both started
# and stopped here), schemathesis against the local server's OpenAPI
# document, and the SAM template lint.
# Sets up what it needs on a fresh machine: rustfmt, clippy, .venv, Java
# and node_modules (DynamoDB Local), chromium and chromium-driver (the pages'
# browser tests), qemu-user with the arm64 C library (the arm64 smoke test).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

rustup component add rustfmt clippy >/dev/null 2>&1 || true
source infra/python-env.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> dependency audit (cargo deny: licences, bans, sources)"
infra/deny.sh

source infra/moto.sh
source infra/dynamodb-local.sh
# Stripe's customers on localstripe (suite::checkout_stripe).
source infra/localstripe.sh

echo "==> cargo test"
test_log="$root/target/test-output.log"
cargo test --workspace --locked 2>&1 | tee "$test_log"

echo "==> schemathesis against the local server's OpenAPI document"
# keytool too: the arm64 smoke test below needs both, built with the same
# features (one build).
cargo build -p local-api -p keytool --locked
infra/schemathesis.sh

echo "==> the pages in Debian's chromium (Selenium)"
infra/browser-tests.sh

echo "==> access tokens verified by PyJWT and jose across a key rotation"
infra/verify-tokens.sh

echo "==> arm64 release build of one function (the deploy path: cargo-lambda, zig)"
# The smallest function proves the cross-build works; every function builds
# the same way with infra/build-lambda.sh (see docs/PERFORMANCE.md).
infra/build-lambda.sh health
echo "==> the arm64 binary answers under qemu-user (its unwind tables dropped at link)"
infra/perf/arm64-smoke.sh health

echo "==> sam validate --lint"
SAM_CLI_TELEMETRY=0 "$venv/bin/sam" validate --lint --region us-east-1 --template template.yaml
SAM_CLI_TELEMETRY=0 "$venv/bin/sam" validate --lint --region us-east-1 \
  --template examples/downstream-api/template.yaml
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$test_log"
