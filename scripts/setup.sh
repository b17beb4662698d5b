#!/bin/sh
# Installs everything Rove needs on a fresh Debian 12 machine (run as root).
# Idempotent: re-running it only installs what is missing.
set -eu

PKGS="build-essential cmake pkg-config ninja-build dpkg-dev openssl ca-certificates \
 libsqlite3-dev sqlite3 libcurl4-openssl-dev libmbedtls-dev zlib1g-dev \
 libjansson-dev libcbor-dev libcsv-dev clang"

# CivetWeb is built from Debian's *source* package, so apt needs a deb-src entry.
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
    cat > /etc/apt/sources.list.d/rove-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    NEED_UPDATE=1
fi

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done

if [ -n "$missing" ] || [ "${NEED_UPDATE:-0}" = 1 ] || [ ! -d /var/lib/apt/lists ] || \
   ! ls /var/lib/apt/lists/*Sources* >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
fi
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
echo "setup: all dependencies present"
