#!/bin/sh
# Runs many simulation seeds on every core: run_many.sh [SEEDS [FIRST [JOBS]]]
#   tests/sim/run_many.sh 1000000          # seeds 1..1000000 on all cores
#   tests/sim/run_many.sh 1000000 5000001  # another million
# Each job takes a slice of CHUNK seeds (ROVE_SIM_FIRST/ROVE_SIM_SEEDS) and
# stops at its first failure, which it prints with the seed to replay:
#   ROVE_SIM_SEED=<n> build/tests/sim/rove_sim
# Exits 1 when any slice failed. ROVE_SIM (default build/tests/sim/rove_sim)
# names the binary; CHUNK (default 2000) the slice size.
set -eu
SEEDS=${1:-1000000}
FIRST=${2:-1}
JOBS=${3:-$(nproc 2>/dev/null || echo 2)}
CHUNK=${CHUNK:-2000}
SIM=${ROVE_SIM:-build/tests/sim/rove_sim}
[ -x "$SIM" ] || { echo "run_many: no $SIM; build first (ninja -C build rove_sim)" >&2; exit 2; }
LAST=$((FIRST + SEEDS - 1))
echo "run_many: seeds $FIRST..$LAST, $JOBS jobs, slices of $CHUNK"
i=$FIRST
while [ "$i" -le "$LAST" ]; do
    n=$CHUNK
    [ $((i + n - 1)) -gt "$LAST" ] && n=$((LAST - i + 1))
    echo "$i $n"
    i=$((i + n))
done | xargs -P "$JOBS" -L 1 sh -c 'ROVE_SIM_FIRST=$0 ROVE_SIM_SEEDS=$1 "'"$SIM"'" 2>&1' \
    | tee /tmp/rove-sim-run-$$.log | grep "^rove-sim: \|FAILED"
if grep -q "FAILED" /tmp/rove-sim-run-$$.log; then
    echo "run_many: failures; full output in /tmp/rove-sim-run-$$.log" >&2
    exit 1
fi
rm -f /tmp/rove-sim-run-$$.log
echo "run_many: all $SEEDS seeds passed"
