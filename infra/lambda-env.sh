#!/usr/bin/env bash
# The environment of a Lambda (arm64) build, sourced by infra/build-lambda.sh
# and before `sam build` (README, "Deploy"): cargo-lambda and zig from .venv
# on PATH, and the link flags.
#
# The binaries link with infra/no-eh-frame.ld, which drops the unwind tables
# (about 1 MiB of every binary, never read under the release profile's
# panic = "abort"; docs/PERFORMANCE.md, "Binary size"). The script's path is
# absolute: dependencies that build a shared library link from their own
# directory. cargo-lambda passes its CPU choice as `build.rustflags`, which a
# target's rustflags replace, so the same CPU is named here again. Only the
# aarch64 builds see these flags: the x86_64 dev, test and cold-start builds
# (which unwind, or are measured as they are) are unchanged.
root="${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
source "$root/infra/python-env.sh"
if [ ! -x "$venv/bin/cargo-lambda" ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check cargo-lambda ziglang
fi
rustup target add aarch64-unknown-linux-gnu >/dev/null
export PATH="$venv/bin:$PATH"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-cpu=neoverse-n1 -C link-arg=-Wl,-T,$root/infra/no-eh-frame.ld"
