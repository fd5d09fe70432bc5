#!/usr/bin/env bash
# The C compiler `scripts/cross-build.sh macos` gives build scripts: Apple's
# SDK (its C headers) is not on these machines, so C sources of dependencies
# (SQLite, zstd, ring, wasmtime's helpers) cannot be compiled for macOS here.
# Each compile instead yields an empty object of the target's format, so the
# build scripts finish and `cargo check` checks all the Rust. Nothing is
# linked in a check; the C itself is not checked for macOS.
set -euo pipefail
out= target=
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift ;;
    --target=*) target=${1#--target=} ;;
    -target) target=$2; shift ;;
  esac
  shift
done
[ -n "$out" ] || exit 0
exec clang-22 --target="${target:-$WF_CROSS_TARGET}" -c -x c /dev/null -o "$out"
