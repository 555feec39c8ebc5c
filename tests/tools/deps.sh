#!/bin/sh
# Install the Debian packages the build and the tests use; quick when everything is present.
# Usage: deps.sh PKG...   (called by `make deps`)
set -e
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# Node modules for the browser test (playwright-core drives Debian's chromium; no browser download).
if [ -f tests/web/package.json ] && [ ! -d tests/web/node_modules/playwright-core ]; then
    echo "deps: npm install in tests/web"
    (cd tests/web && npm install --no-audit --no-fund --loglevel=error)
fi
exit 0
