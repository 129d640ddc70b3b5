#!/usr/bin/env bash
# on_exit CMD: runs CMD when the shell exits, after whatever EXIT trap is
# already set (a second `trap ... EXIT` would replace the first). Sourced by
# the scripts that start servers (moto.sh, dynamodb-local.sh).
on_exit() {
  local command="$1" previous=""
  # `trap -p EXIT` prints `trap -- 'cmd' EXIT`, quoted for reuse.
  eval "set -- $(trap -p EXIT)"
  if [ $# -ge 3 ]; then previous="$3"; fi
  if [ -n "$previous" ]; then
    trap -- "$previous
$command" EXIT
  else
    trap -- "$command" EXIT
  fi
}
