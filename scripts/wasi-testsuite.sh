#!/usr/bin/env bash
# Runs the official WebAssembly/wasi-testsuite (preview 1 and preview 3)
# through `wf wasm run`, with the suite's own Python test runner and our
# adapter (tests/wasi-testsuite/adapter.py). The suite is not committed: its
# pinned revision is taken from, in order,
#
#   $WASI_TESTSUITE_REPO              a git clone holding the revision
#   .mirror/WebAssembly+wasi-testsuite/repo   a mirror beside the work tree,
#                                     or beside where ../shared really is
#   https://github.com/WebAssembly/wasi-testsuite (cloned into the cache)
#
# and unpacked afresh for every run (tests leave *.cleanup symlinks behind
# that the runner does not remove).
#
#   scripts/wasi-testsuite.sh [WF_BINARY]     exit 0 when the suite is absent
#   WASI_TESTSUITE_REQUIRED=1 scripts/…       absent is a failure
#
# Expected failures, each with its reason, are in
# tests/wasi-testsuite/expectations.toml.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# prod/testsuite-base: the suite's runner and prebuilt test binaries.
revision=9f80ca35444cfd9e63100725615140a346652e6c
cache=${XDG_CACHE_HOME:-$HOME/.cache}/wf-wasi-testsuite
mkdir -p "$cache"

absent() {
  echo "wasi-testsuite: not run: $1" >&2
  [ -z "${WASI_TESTSUITE_REQUIRED:-}" ] || exit 1
  exit 0
}

shared=$(cd "$repo/../shared" 2>/dev/null && pwd -P || true)
mirror=.mirror/WebAssembly+wasi-testsuite/repo
source_repo=
for candidate in "${WASI_TESTSUITE_REPO:-}" "$repo/../$mirror" "${shared:+$shared/../$mirror}" "$cache/clone"; do
  if [ -n "$candidate" ] && git -C "$candidate" cat-file -e "$revision^{commit}" 2>/dev/null; then
    source_repo=$candidate
    break
  fi
done
if [ -z "$source_repo" ]; then
  rm -rf "$cache/clone"
  if timeout 120 git clone --quiet --bare --branch prod/testsuite-base \
      https://github.com/WebAssembly/wasi-testsuite "$cache/clone" 2>/dev/null \
      && git -C "$cache/clone" cat-file -e "$revision^{commit}" 2>/dev/null; then
    source_repo=$cache/clone
  else
    rm -rf "$cache/clone"
    absent "revision $revision is neither in \$WASI_TESTSUITE_REPO, nor in ../.mirror, nor reachable on GitHub"
  fi
fi

# The runner needs Python 3.12 or newer (pathlib's walk).
python=
for candidate in python3.14 python3.13 python3.12 python3; do
  for binary in "$(command -v "$candidate" 2>/dev/null || true)" "$HOME"/.pyenv/versions/3.1[2-9]*/bin/"$candidate"; do
    if [ -x "$binary" ] && "$binary" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      python=$binary
      break 2
    fi
  done
done
[ -n "$python" ] || absent "no Python 3.12 or newer for the suite's runner"

suite=$(mktemp -d "${TMPDIR:-/tmp}/wasi-testsuite.XXXXXX")
trap 'rm -rf "$suite"' EXIT
git -C "$source_repo" archive "$revision" | tar -x -C "$suite"

venv=$cache/venv
if ! "$venv/bin/python" -c 'import colorama, requests' 2>/dev/null; then
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$suite/test-runner/requirements/prod.txt"
fi

wf=${1:-}
if [ -z "$wf" ]; then
  (cd "$repo" && cargo build --quiet --bin wf)
  wf=${CARGO_TARGET_DIR:-$repo/target}/debug/wf
fi
echo "--- wasi-testsuite $revision through $("$wf" --version)"
cd "$suite"
WF=$wf "$venv/bin/python" ./run-tests --disable-colors \
  --runtime-adapter "$repo/tests/wasi-testsuite/adapter.py" \
  --expectations "$repo/tests/wasi-testsuite/expectations.toml" \
  --json-output-location "$cache/results.json"
