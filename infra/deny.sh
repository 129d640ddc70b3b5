#!/usr/bin/env bash
# Dependency audit with cargo-deny (configuration: deny.toml): licences,
# bans (duplicate major versions are listed as warnings) and sources.
# Run by infra/test.sh. The first run on a machine compiles cargo-deny
# (about 5 minutes of CPU on 2 cores); later runs reuse ~/.cargo/bin.
# DENY_ADVISORIES=1 adds the RustSec advisory check, which clones its
# database from github.com: run it where that is reachable.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! cargo deny --version >/dev/null 2>&1; then
    echo "==> cargo install cargo-deny --locked (once; several minutes)"
    cargo install cargo-deny --locked
fi

checks=(licenses bans sources)
if [[ "${DENY_ADVISORIES:-0}" == 1 ]]; then
    checks+=(advisories)
fi
echo "==> cargo deny check ${checks[*]}"
cargo deny --locked check "${checks[@]}"
