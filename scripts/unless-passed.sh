#!/usr/bin/env bash
# Runs a CI step unless the same inputs passed it before on this machine.
#
#   scripts/unless-passed.sh NAME PATH... -- COMMAND [ARGS...]
#
# The inputs are the committed contents of the PATHs (git's blob ids,
# so only a change of what is built counts), the step's command line and
# the versions of the Rust toolchains. When a run of COMMAND with inputs
# of that hash passed, the step says so and is skipped; when it passes
# now, the hash is kept (in ~/.cache/wf-ci/). A step whose inputs are not
# all committed always runs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
name=${1:?usage: scripts/unless-passed.sh NAME PATH... -- COMMAND}
shift
paths=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  paths+=("$1")
  shift
done
[ "${1:-}" = -- ] || { echo "unless-passed: no -- before the command" >&2; exit 2; }
shift

cd "$repo"
if [ -n "$(git status --porcelain -- "${paths[@]}" 2>/dev/null)" ] || ! git rev-parse -q HEAD >/dev/null 2>&1; then
  exec "$@"
fi
inputs_hash() {
  {
    git ls-files -s -- "${paths[@]}"
    printf '%s\n' "$@"
    rustc --version 2>/dev/null || true
    /usr/bin/rustc --version 2>/dev/null || true
  } | sha256sum | cut -c1-16
}
hash=$(inputs_hash "$@")
stamps=${XDG_CACHE_HOME:-$HOME/.cache}/wf-ci
if [ -f "$stamps/$name-$hash" ]; then
  echo "$name: its inputs ($hash) passed here before; not run again"
  exit 0
fi
"$@"
mkdir -p "$stamps"
# A step may install a toolchain whose version is an input (the guests
# step installs the wasm one): the hash taken now is the one the next run
# computes, so it is kept beside the first.
touch "$stamps/$name-$hash" "$stamps/$name-$(inputs_hash "$@")"
