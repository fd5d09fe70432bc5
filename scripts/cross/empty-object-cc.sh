#!/usr/bin/env bash
# The C compiler `scripts/cross-build.sh macos` gives build scripts: Apple's
# SDK (its C headers) is not on these machines, so C sources of dependencies
# (SQLite, zstd, ring, wasmtime's helpers) cannot be compiled for macOS here.
# Each compile (`-c`) instead yields an empty object of the target's
# format, so the build scripts finish and `cargo check` checks all the
# Rust. Nothing is linked in a check; the C itself is not checked for
# macOS. Anything else (how the cc crate asks which compiler it has) is
# clang's own answer.
set -euo pipefail
target=${WF_CROSS_TARGET:?the target triple}
compile=false out=
for arg in "$@"; do
  [ "$arg" = -c ] && compile=true
done
$compile || exec clang-22 --target="$target" "$@"
while [ $# -gt 0 ]; do
  [ "$1" = -o ] && { out=$2; shift; }
  shift
done
exec clang-22 --target="$target" -c -x c /dev/null -o "${out:?no -o in a compile}"
