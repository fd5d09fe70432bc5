#!/usr/bin/env bash
# Builds wf for Windows, and checks it for macOS, on these Linux machines,
# where `rustup target add` cannot download a target's std: Debian's Rust
# (rustc-web 1.96) builds std from its sources (rust-web-src, build-std),
# as ../shared/tools/wasm-toolchain.sh does for wasm guests, and Debian's
# MinGW-w64 links the Windows executable.
#
#   scripts/cross-build.sh windows   wf.exe (x86_64-pc-windows-gnu, debug), path printed last
#   scripts/cross-build.sh macos     cargo check, x86_64- and aarch64-apple-darwin
#                                    (the Rust; C dependencies need Apple's SDK)
#
# Packages it needs are installed when missing. Builds go to
# $WF_CROSS_TARGET_DIR (default ~/.cache/wf-target-cross): the first
# Windows build takes ~20 minutes on 2 cores, later ones a few.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
platform=${1:?usage: scripts/cross-build.sh windows|macos}

need=(rustc-web cargo-web rust-web-src)
[ "$platform" = windows ] && need+=(gcc-mingw-w64-x86-64)
missing=()
for package in "${need[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_unwind
export CARGO_TARGET_DIR=${WF_CROSS_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wf-target-cross}
cargo=(/usr/bin/cargo --quiet)
cd "$repo"

case "$platform" in
  windows)
    target=x86_64-pc-windows-gnu
    export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
    export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
    export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
    "${cargo[@]}" build --locked --target "$target" --bin wf >&2
    echo "$CARGO_TARGET_DIR/$target/debug/wf.exe"
    ;;
  macos)
    # Without Apple's SDK, dependencies' C compiles to empty objects
    # (scripts/cross/empty-object-cc.sh): the check is of the Rust.
    command -v clang-22 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-22 llvm-22 >&2
    for target in x86_64-apple-darwin aarch64-apple-darwin; do
      echo "cargo check --target $target" >&2
      env_target=${target//-/_}
      env WF_CROSS_TARGET="$target" \
        "CC_$env_target=$repo/scripts/cross/empty-object-cc.sh" "AR_$env_target=llvm-ar-22" \
        "${cargo[@]}" check --locked --target "$target" --bin wf >&2
    done
    ;;
  *)
    echo "unknown platform $platform (windows or macos)" >&2
    exit 2
    ;;
esac
