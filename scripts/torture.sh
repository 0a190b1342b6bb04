#!/usr/bin/env bash
# Runs galleryfs's reliability suites and prints one summary line per suite.
#   scripts/torture.sh           full sizes (minutes to tens of minutes)
#   scripts/torture.sh --quick   the sizes `cargo test` runs (seconds each)
#   scripts/torture.sh --repeat N TEST   runs `tests/it` test TEST N times in a
#       row, each beside the rest of its module on 8 threads (parallel load);
#       stops at the first failure
# GALLERYFS_SEED=N replays a run; each suite prints the seed it used.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
repeat=0
test=
while (($#)); do
    case "$1" in
        --quick) mode=quick ;;
        --repeat)
            [[ "${2:-}" =~ ^[1-9][0-9]*$ && -n "${3:-}" ]] ||
                { echo "torture.sh: --repeat needs a count and a test name (--repeat 20 space::df_counts_the_trash_as_available)" >&2; exit 2; }
            repeat=$2 test=$3; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "torture.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
[ -e /dev/fuse ] || { echo "torture.sh: /dev/fuse is missing: the suites need FUSE" >&2; exit 1; }
if ((repeat)); then
    # The load: every test of TEST's module at once, on 8 threads.
    module=${test%%::*}
    cargo test --quiet --test it --no-run 2>/dev/null
    for i in $(seq "$repeat"); do
        out=$(cargo test --quiet --test it "$module" -- --test-threads=8 2>&1) || true
        if grep -qE "^---- $test stdout ----" <<<"$out" || ! grep -q "test result" <<<"$out"; then
            echo "REPEAT $test: failed on run $i of $repeat"
            sed -n "/^---- $test stdout ----/,/^----/p" <<<"$out" | head -40
            exit 1
        fi
        others=$(sed -n 's/^---- \(.*\) stdout ----$/\1/p' <<<"$out" | tr '\n' ' ')
        echo "run $i: $test ok${others:+ (failed beside it: $others)}"
    done
    echo "REPEAT $test: $repeat runs in a row passed under parallel load"
    exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
GALLERYFS_TORTURE=$mode cargo test --test torture -- --nocapture --test-threads=1 >"$log" 2>&1 || status=$?
grep -E '^SUITE ' "$log" || true
if [ "$status" -ne 0 ]; then
    echo "--- failures ---"
    sed -n '/^failures:/,$p' "$log" | head -200
    grep -E 'seed|panicked' "$log" | head -40
    exit "$status"
fi
echo "all suites passed ($mode sizes)"
