#!/usr/bin/env bash
# Installs an example app's packages as its user would before `wf push`
# (nothing is downloaded at staging), each checked against the hash in the
# example's lock file, so the same files are installed on every machine:
#
#   scripts/example-deps.sh examples/hello-express [DEST]   npm ci, from package-lock.json
#   scripts/example-deps.sh examples/hello-flask [DEST]     pip, from requirements.txt, into vendor/
#
# With DEST the example is copied there first and the packages go into the
# copy; the tests install each example once into a cache keyed by its files.
set -euo pipefail
src=$1
dest=${2:-$1}
if [ "$dest" != "$src" ]; then
  mkdir -p "$dest"
  cp -a "$src/." "$dest/"
  rm -rf "$dest/node_modules" "$dest/vendor"
fi
cd "$dest"
if [ -f package-lock.json ]; then
  # --ignore-scripts: a package's install script would run on this machine,
  # not in the droplet; npm checks every package's integrity hash.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
elif [ -f requirements.txt ]; then
  # Wheels for CPython 3.11 on x86_64 Linux whatever Python runs this: the
  # pins and hashes name exactly those files, and python_buildpack leaves
  # any compiled extension in them out.
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --require-hashes --no-deps \
    --only-binary=:all: --python-version 3.11 --platform manylinux2014_x86_64 --implementation cp \
    --target vendor -r requirements.txt >&2
else
  echo "$src has neither package-lock.json nor requirements.txt" >&2
  exit 1
fi
