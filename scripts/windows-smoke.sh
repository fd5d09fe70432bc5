#!/usr/bin/env bash
# The Windows smoke test: wf.exe (scripts/cross-build.sh windows) under
# Debian's Wine runs a committed wasi:cli component, and `wf.exe up` serves
# the v2 API and runs examples/hello-http, pushed to it by the Linux wf,
# through its router, two instances, restarted; and a static site whose
# links became copies on Windows.
#
#   scripts/windows-smoke.sh [LINUX_WF]   (default $CARGO_TARGET_DIR/debug/wf)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
linux_wf=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/wf-target}/debug/wf}
[ -x "$linux_wf" ] || { echo "no Linux wf at $linux_wf (cargo build first)" >&2; exit 1; }
dpkg -s wine64 >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wine64 >&2
wine=/usr/lib/wine/wine64

exe=$(scripts/cross-build.sh windows | tail -1)
work=$(mktemp -d)
trap 'WINEPREFIX=$work/prefix wineserver -k 2>/dev/null || true; rm -rf "$work"' EXIT
cp "$exe" "$work/wf.exe"
x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" scripts/windows/bcryptprimitives.c
export WINEPREFIX=$work/prefix WINEDEBUG=-all
fail() { echo "windows smoke test: $*" >&2; exit 1; }

echo "--- wf.exe --version"
"$wine" "$work/wf.exe" --version

echo "--- wf.exe wasm run tests/fixtures/cli-tool.component.wasm"
mkdir "$work/data"
echo "written on linux, read on windows" > "$work/data/input.txt"
out=$("$wine" "$work/wf.exe" wasm run --env GREETING=hi --dir "Z:$work/data::/data" \
  tests/fixtures/cli-tool.component.wasm one two 2>&1) || fail "wasm run failed: $out"
echo "$out"
grep -q "args: one two" <<<"$out" || fail "the component did not get its arguments"
grep -q "greeting: hi" <<<"$out" || fail "the component did not get its environment"
grep -q "outside: denied" <<<"$out" || fail "the component read outside its directories"
[ "$(cat "$work/data/output.txt")" = "WRITTEN ON LINUX, READ ON WINDOWS" ] || fail "no output file in the preopened directory"

echo "--- wf.exe up, then a push of examples/hello-http through it"
api=127.0.0.1:28181 router=127.0.0.1:28081
"$wine" "$work/wf.exe" up --data-dir "Z:$work/up" --cc-listen "$api" --router-listen "$router" \
  >"$work/up.log" 2>&1 &
for _ in $(seq 1 300); do
  curl -sf "http://$api/v2/info" >/dev/null && break
  sleep 0.2
done
curl -sf "http://$api/v2/info" || { cat "$work/up.log"; fail "wf.exe up does not serve /v2/info"; }
echo
export HOME=$work/home
mkdir -p "$HOME"
"$linux_wf" login -a "http://$api" -u admin -p "$(cat "$work/up/admin-password")"
routed() { curl -sf -H "Host: $1" "http://$router$2" || { cat "$work/up.log"; fail "$1$2 does not answer through the router"; }; }
"$linux_wf" push hello -p examples/hello-http -m 64M -i 2 || { cat "$work/up.log"; fail "push failed"; }
body=$(routed hello.localhost /)
echo "$body"
grep -q '"application_name":"hello"' <<<"$body" || fail "hello answered without its VCAP_APPLICATION"
"$linux_wf" restart hello || { cat "$work/up.log"; fail "restart failed"; }
routed hello.localhost / | grep -q '"application_name":"hello"' || fail "hello does not answer after a restart"

echo "--- a site with links: on Windows they are copies"
site=$work/site
mkdir -p "$site/releases/v2"
echo "<h1>home</h1>" >"$site/index.html"
echo "<p>v2 notes</p>" >"$site/releases/v2/notes.html"
ln -s releases/v2 "$site/latest"
ln -s index.html "$site/home.html"
"$linux_wf" push site -p "$site" -m 32M || { cat "$work/up.log"; fail "push of the site failed"; }
[ "$(routed site.localhost /latest/notes.html)" = "<p>v2 notes</p>" ] || fail "a link to a directory is not served"
[ "$(routed site.localhost /home.html)" = "<h1>home</h1>" ] || fail "a link to a file is not served"
echo "windows smoke test: passed"
