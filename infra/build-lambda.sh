#!/usr/bin/env bash
# Release builds of the Lambda functions for provided.al2023 on arm64:
# one `bootstrap` per function under target/lambda/<name>/.
# Sets up what it needs (infra/lambda-env.sh): the aarch64 target, and
# cargo-lambda with zig (as the cross linker) from PyPI into .venv.
#   infra/build-lambda.sh            every function
#   infra/build-lambda.sh health     one function
# `sam build` uses the same tool (BuildMethod rust-cargolambda), in the
# same environment (README, "Deploy").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source infra/lambda-env.sh
# Every Lambda is a package in functions/ with a main.rs, but the local server.
packages=()
if [ "$#" -gt 0 ]; then
  packages=("$@")
else
  for dir in functions/*/; do
    name="$(basename "$dir")"
    [ "$name" = local-api ] && continue
    [ -f "$dir/src/main.rs" ] && packages+=("$name")
  done
fi
args=()
for package in "${packages[@]}"; do args+=(-p "$package"); done
cargo lambda build --release --arm64 "${args[@]}"
echo "==> stripped sizes"
for package in "${packages[@]}"; do
  ls -l "target/lambda/$package/bootstrap" | awk -v p="$package" '{ printf "%-16s %6.2f MiB\n", p, $5 / 1048576 }'
done
