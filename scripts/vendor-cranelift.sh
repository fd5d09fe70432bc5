#!/usr/bin/env bash
# Makes vendor/cranelift-codegen: cranelift-codegen as published on
# crates.io (the version wasmtime pins) with vendor/cranelift-codegen.patch
# applied. See vendor/README.md for why.
#
#   scripts/vendor-cranelift.sh           (re)make it
#   scripts/vendor-cranelift.sh --check   fail if the committed copy differs
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
version=0.135.8
dest=$repo/vendor/cranelift-codegen

# The published crate, through cargo (its checksum checked against the
# index) in a throwaway project: the workspace itself patches it out.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/fetch/src"
printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\ncranelift-codegen = "=%s"\n' \
  "$version" > "$work/fetch/Cargo.toml"
touch "$work/fetch/src/lib.rs"
cargo fetch --quiet --manifest-path "$work/fetch/Cargo.toml"
crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/cranelift-codegen-$version.crate | head -1)
tar -xzf "$crate" -C "$work"
patch --quiet -p1 -d "$work/cranelift-codegen-$version" < "$repo/vendor/cranelift-codegen.patch"

if [ "${1:-}" = "--check" ]; then
  diff -r "$work/cranelift-codegen-$version" "$dest" \
    || { echo "vendor/cranelift-codegen differs from crates.io's $version + the patch: run scripts/vendor-cranelift.sh" >&2; exit 1; }
else
  rm -rf "$dest"
  mv "$work/cranelift-codegen-$version" "$dest"
fi
