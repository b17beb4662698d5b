#!/bin/sh
# Builds the libFuzzer binaries with clang (build-fuzz/) and runs each target.
#
#   tests/fuzz/run.sh [seconds per target, default 60] [target...]
#
# New inputs go to build-fuzz/corpus/<target>/ (seeded from the committed
# corpus, which is never written to); crashes to build-fuzz/artifacts/<target>/.
# To keep a finding as a regression test, copy its crash-* file into
# tests/fuzz/corpus/<target>/ and commit it: the replay ctest then runs it.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-sync_req sync_resp inflate flat}
build=${ROVE_FUZZ_BUILD:-$root/build-fuzz}

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DROVE_FUZZ=ON \
    -DROVE_BUILD_SERVER=OFF -DROVE_BUILD_EXAMPLES=OFF -DROVE_BUILD_BENCH=OFF >/dev/null
for t in $targets; do
    ninja -C "$build" "fuzz_$t" >/dev/null
done

status=0
for t in $targets; do
    mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
    echo "fuzz: $t for ${secs}s"
    if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=8192 \
            -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
            -dict="$root/tests/fuzz/proto.dict" \
            -artifact_prefix="$build/artifacts/$t/" \
            "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" \
            >"$build/artifacts/$t.log" 2>&1; then
        echo "fuzz: $t FAILED, see $build/artifacts/$t.log and $build/artifacts/$t/"
        status=1
    fi
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+ *DONE' \
        "$build/artifacts/$t.log" | sed "s/^/fuzz: $t: /" || true
done
exit $status
