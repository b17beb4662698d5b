#!/bin/sh
# Fetches CivetWeb 1.15 from Debian's source package into $1 and applies Rove's
# patches. Debian's binary libcivetweb1 is linked against OpenSSL 3 symbols it does
# not have, so Rove compiles the source itself with USE_MBEDTLS.
set -eu
dest="$1"
patchdir="$(cd "$(dirname "$0")/../third_party/civetweb" && pwd)"
# The stamp names the patches applied; a changed patch set fetches afresh.
stamp="$(cat "$patchdir"/*.patch | sha256sum | cut -d' ' -f1)"
if [ -f "$dest/src/civetweb.c" ] && [ "$(cat "$dest/.rove-patched" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get source -qq civetweb >/dev/null 2>apt.err; then
    cat apt.err >&2
    echo "fetch-civetweb: 'apt-get source civetweb' failed; run scripts/setup.sh (adds deb-src)" >&2
    exit 1
fi
src="$(find . -maxdepth 1 -type d -name 'civetweb-1.15*' | head -n 1)"
[ -n "$src" ] || { echo "fetch-civetweb: no civetweb-1.15 source tree" >&2; exit 1; }
for p in "$patchdir"/*.patch; do
    patch -s -d "$src" -p1 < "$p"
done
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -a "$src" "$dest"
echo "$stamp" > "$dest/.rove-patched"
