#!/usr/bin/env bash
# Rebuilds every committed .wasm (built-in buildpacks, examples, test
# fixtures) from its sources, reproducibly.
#
#   scripts/build-wasm.sh           rebuild and copy the results into the tree
#   scripts/build-wasm.sh --check   rebuild and fail if a committed file differs
#
# Uses plain cargo when rustup has the wasm32-wasip1/p2 targets, otherwise
# $WASM_CARGO from ../shared/tools/wasm-toolchain.sh (installed on demand).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
check=false
[ "${1:-}" = "--check" ] && check=true

if rustup target list --installed 2>/dev/null | grep -q '^wasm32-wasip2$' \
   && rustup target list --installed 2>/dev/null | grep -q '^wasm32-wasip1$'; then
  cargo=cargo
else
  if [ -z "${WASM_CARGO:-}" ]; then
    eval "$("$repo/../shared/tools/wasm-toolchain.sh")"
  fi
  cargo=$WASM_CARGO
fi

target_dir=${WF_GUEST_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wf-guest-target}
cargo_home=${CARGO_HOME:-$HOME/.cargo}
# Guests build from a copy at one fixed path: cargo hashes a path
# dependency's location into symbol names, so building in place would make
# the bytes depend on where the checkout is.
build_root=/tmp/wasmfoundry-guest-src
rm -rf "$build_root"
for dir in guest-sdk buildpacks-wasm examples tests/fixtures; do
  mkdir -p "$build_root/$(dirname "$dir")"
  cp -a "$repo/$dir" "$build_root/$dir"
done
# Bytecode a local Python left beside the sources is not a source.
find "$build_root" -name __pycache__ -type d -prune -exec rm -rf {} +
# Paths of this machine must not end up in the bytes.
reproducible="--remap-path-prefix=$build_root=/wasmfoundry --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$target_dir=/target -C debuginfo=0"
export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$reproducible"
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="$reproducible"
export SOURCE_DATE_EPOCH=0

# The staticfile buildpack embeds its file server and js_buildpack its
# runtime: built first, not committed.
export WF_STATIC_SERVER_WASM="$target_dir/wasm32-wasip2/release/static_server.wasm"
export WF_JS_RUNTIME_WASM="$target_dir/wasm32-wasip2/release/js_runtime.wasm"

# QuickJS is C: rquickjs compiles it with the clang of a wasi-sdk at
# $WASI_SDK. One made here from Debian's clang and the toolchain's
# wasi-libc serves (rquickjs would otherwise download wasi-sdk), its clang
# told to keep this machine's paths out of the objects.
clang=$(command -v clang-22 || true)
if [ -z "$clang" ]; then
  echo "installing clang-22 (QuickJS is C)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-22 llvm-22 >&2
  clang=$(command -v clang-22)
fi
sysroot=${WASM_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wasm-toolchain}/wasi-libc/usr
export WASI_SDK=$target_dir/wasi-sdk
mkdir -p "$WASI_SDK/bin" "$WASI_SDK/share"
ln -sfn "$sysroot" "$WASI_SDK/share/wasi-sysroot"
ln -sfn "$(command -v llvm-ar-22)" "$WASI_SDK/bin/ar"
cat >"$WASI_SDK/bin/clang" <<CLANG
#!/bin/sh
exec "$clang" -ffile-prefix-map=$target_dir=/target -ffile-prefix-map=$cargo_home=/cargo "\$@"
CLANG
chmod +x "$WASI_SDK/bin/clang"

# python_buildpack embeds CPython for WASI, built by componentize-py
# (PyPI, pinned) from buildpacks-wasm/python/runtime, and the standard
# library that CPython was built with (scripts/python-stdlib.py).
# componentize-py pre-initialises CPython at build time and keeps its
# memory, so it runs under scripts/deterministic-host.c (fixed random bytes,
# clocks and file metadata) with every file it reads at a fixed path.
build_python_runtime() {
  local venv=$target_dir/componentize-py-0.25.1 runtime=$build_root/buildpacks-wasm/python/runtime
  if [ ! -x "$venv/bin/componentize-py" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet componentize-py==0.25.1 zstandard==0.25.0
  fi
  if ! command -v wasm-ld-22 >/dev/null; then
    echo "installing lld-22 (the runtime's C extension)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lld-22 >&2
  fi
  # The WIT of the wasi:http the platform runs (wasmtime-wasi-http's).
  local wasi_http
  wasi_http=$(cd "$repo" && cargo metadata --locked --format-version 1 | python3 -c \
    'import json, sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "wasmtime-wasi-http"))')
  # An empty virtualenv: componentize-py would otherwise add the site-packages
  # of whatever Python is on PATH (and run it to find them).
  mkdir -p "$runtime/wit/deps/wasmfoundry" "$build_root/tmp" "$build_root/no-site-packages/lib/python3.14/site-packages"
  cp -r "$(dirname "$wasi_http")/wit/deps/." "$runtime/wit/deps/"
  cp "$build_root/guest-sdk/wit/preinit.wit" "$runtime/wit/deps/wasmfoundry/"
  "$clang" --target=wasm32-wasip1 -O2 -fPIC -fvisibility=hidden -c "$runtime/wasi_reset.c" -o "$runtime/wasi_reset.o"
  wasm-ld-22 -shared --experimental-pic --unresolved-symbols=import-dynamic \
    -o "$runtime/_wasmfoundry_wasi.cpython-314-wasm32-wasi.so" "$runtime/wasi_reset.o"
  gcc -shared -fPIC -O2 -o "$build_root/deterministic-host.so" "$repo/scripts/deterministic-host.c" -ldl
  (cd "$runtime" && TMPDIR=$build_root/tmp VIRTUAL_ENV=$build_root/no-site-packages \
    LD_PRELOAD=$build_root/deterministic-host.so "$venv/bin/componentize-py" --quiet \
    -d wit -w wsgi-runtime componentize -p . wasmfoundry_wsgi -o "$WF_PYTHON_RUNTIME_WASM")
  "$venv/bin/python" "$repo/scripts/python-stdlib.py" \
    "$("$venv/bin/python" -c 'import componentize_py, os; print(os.path.dirname(componentize_py.__file__))')"/componentize_py.abi3.so \
    "$WF_PYTHON_STDLIB_ZIP"
}
export WF_PYTHON_RUNTIME_WASM="$target_dir/python_runtime.wasm"
export WF_PYTHON_STDLIB_ZIP="$target_dir/python-stdlib.zip"
echo "building buildpacks-wasm/python/runtime (componentize-py)" >&2
build_python_runtime

# crate dir | target | built artifact name | committed path ("-": an intermediate)
guests=(
  "buildpacks-wasm/wasm|wasm32-wasip2|wasm_buildpack.wasm|buildpacks-wasm/wasm_buildpack.wasm"
  "buildpacks-wasm/staticfile/server|wasm32-wasip2|static_server.wasm|-"
  "buildpacks-wasm/staticfile|wasm32-wasip2|staticfile_buildpack.wasm|buildpacks-wasm/staticfile_buildpack.wasm"
  "buildpacks-wasm/js/runtime|wasm32-wasip2|js_runtime.wasm|-"
  "buildpacks-wasm/js|wasm32-wasip2|js_buildpack.wasm|buildpacks-wasm/js_buildpack.wasm"
  "buildpacks-wasm/python|wasm32-wasip2|python_buildpack.wasm|buildpacks-wasm/python_buildpack.wasm"
  "examples/hello-http|wasm32-wasip2|hello_http.wasm|examples/hello-http/hello_http.wasm"
  "examples/items|wasm32-wasip2|items.wasm|examples/items/items.wasm"
  "tests/fixtures/crasher|wasm32-wasip2|crasher.wasm|tests/fixtures/crasher-app/crasher.wasm"
  "tests/fixtures/command-app|wasm32-wasip2|command-app.wasm|tests/fixtures/program-app/command-app.wasm"
  "tests/fixtures/hostile-buildpack|wasm32-wasip2|hostile_buildpack.wasm|tests/fixtures/hostile_buildpack.wasm"
  "tests/fixtures/cli-tool|wasm32-wasip2|cli-tool.wasm|tests/fixtures/cli-tool.component.wasm"
  "tests/fixtures/cli-tool|wasm32-wasip1|cli-tool.wasm|tests/fixtures/cli-tool.wasip1.wasm"
  "tests/fixtures/cli-p3|wasm32-wasip2|cli_p3.wasm|tests/fixtures/cli-p3.wasm"
  "tests/fixtures/http-p3|wasm32-wasip2|http_p3.wasm|tests/fixtures/http-p3.wasm"
)

status=0
for entry in "${guests[@]}"; do
  IFS='|' read -r dir target artifact committed <<<"$entry"
  echo "building $dir for $target" >&2
  (cd "$build_root/$dir" && $cargo build --quiet --locked --release --target "$target" --target-dir "$target_dir")
  built="$target_dir/$target/release/$artifact"
  if [ "$committed" = "-" ]; then
    continue
  elif $check; then
    if ! cmp -s "$built" "$repo/$committed"; then
      echo "STALE: $committed does not match its sources; run scripts/build-wasm.sh and commit" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$repo/$committed")"
    cp "$built" "$repo/$committed"
    echo "  -> $committed ($(wc -c <"$repo/$committed") bytes)" >&2
  fi
done
exit $status
