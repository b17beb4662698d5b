#!/bin/sh
# The one test command, for CI and for people: installs what is missing
# (scripts/setup.sh, needs root), then builds and runs the whole ctest suite
# twice with warnings as errors:
#
#   build/       normal build (RelWithDebInfo)
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer, benchmarks left out
#
# Usage: scripts/test.sh [--no-setup] [--only normal|asan]
# Exits nonzero when any step fails; prints a summary either way.
set -u

cd "$(dirname "$0")/.." || exit 2
root=$(pwd)

setup=1
only=""
while [ $# -gt 0 ]; do
    case "$1" in
    --no-setup) setup=0 ;;
    --only) only=${2:-}; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

jobs=$(nproc 2>/dev/null || echo 2)
summary=""
status=0

note() { summary="$summary$1
"; }

if [ "$setup" = 1 ]; then
    if [ "$(id -u)" = 0 ]; then
        sh scripts/setup.sh || { echo "test.sh: setup failed" >&2; exit 1; }
    elif command -v sudo >/dev/null 2>&1; then
        sudo sh scripts/setup.sh || { echo "test.sh: setup failed" >&2; exit 1; }
    else
        echo "test.sh: scripts/setup.sh needs root (or run with --no-setup)" >&2
        exit 1
    fi
fi

# Sanitizer reports must fail the run and say where.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}"

# phase <name> <build dir> <ctest args> -- <cmake args>
phase() {
    name=$1 dir=$2 ctest_args=$3
    shift 3
    start=$(date +%s)
    echo "==== $name: configure ($dir)"
    if ! cmake -S "$root" -B "$dir" -G Ninja -DROVE_WERROR=ON "$@"; then
        note "$name: configure FAILED"
        status=1
        return
    fi
    echo "==== $name: build"
    if ! cmake --build "$dir" -j "$jobs"; then
        note "$name: build FAILED"
        status=1
        return
    fi
    echo "==== $name: ctest"
    log="$dir/ctest.log"
    # shellcheck disable=SC2086
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" $ctest_args 2>&1 | tee "$log"
    rc=$(tail -n 200 "$log" | grep -c 'tests passed, 0 tests failed')
    line=$(grep -E 'tests passed.*out of' "$log" | tail -n 1)
    [ -n "$line" ] || line="no test summary (ctest did not run?)"
    secs=$(($(date +%s) - start))
    if [ "$rc" -ge 1 ]; then
        note "$name: $line (${secs}s)"
    else
        note "$name: FAILED: $line (${secs}s)"
        failed=$(sed -n '/The following tests FAILED/,$p' "$log" | grep -E '^[[:space:]]+[0-9]+ - ')
        [ -n "$failed" ] && note "$failed"
        status=1
    fi
}

if [ -z "$only" ] || [ "$only" = normal ]; then
    phase normal "$root/build" ""
fi
if [ -z "$only" ] || [ "$only" = asan ]; then
    phase asan "$root/build-asan" "-LE bench -E bench" \
        -DROVE_SANITIZE=ON -DROVE_BUILD_BENCH=OFF
fi

echo
echo "==== summary"
printf '%s' "$summary"
if [ "$status" = 0 ]; then
    echo "test.sh: all passed"
else
    echo "test.sh: FAILED"
fi
exit $status
