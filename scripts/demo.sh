#!/bin/sh
# The main job: install what is missing, build, start roved on its embedded
# SQLite store with demo data and a local certificate, and play a short field
# day with simulated devices against it.
#
#   ./scripts/demo.sh            # stop roved when the field day is over
#   ./scripts/demo.sh --serve    # keep roved serving afterwards (Ctrl-C stops it)
set -eu
cd "$(dirname "$0")/.."
root="$(pwd)"
serve=0
[ "${1:-}" = "--serve" ] && serve=1

./scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build roved rovectl field-day rove-field

data="$root/demo-data"
port="${ROVE_PORT:-8443}"
mkdir -p "$data"
log="$data/roved.log"
echo
echo "== starting roved on https://localhost:$port (data in $data, log in $log)"
./build/server/roved --data-dir "$data" --demo --listen "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM
i=0
until curl -fsS --cacert "$data/ca.pem" "https://localhost:$port/healthz" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "roved did not come up; its log:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
sed -n '/Logins:/,/territories/p' "$log" || true
echo
rm -rf "$data/devices"
status=0
./build/examples/field-day --server "https://localhost:$port" --ca "$data/ca.pem" \
    --dir "$data/devices" || status=$?
echo
if [ "$serve" = 1 ]; then
    echo "roved keeps serving on https://localhost:$port (CA: $data/ca.pem); Ctrl-C stops it."
    echo "Try: ./build/examples/rove-field --db /tmp/me.db --server https://localhost:$port --ca $data/ca.pem login rita rita-demo"
    wait "$pid"
else
    kill -TERM "$pid"
    wait "$pid" || true
    trap - EXIT INT TERM
    echo "roved stopped cleanly. Start it again with:"
    echo "  ./build/server/roved --data-dir $data --listen 127.0.0.1:$port"
fi
exit "$status"
