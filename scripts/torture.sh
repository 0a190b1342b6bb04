#!/usr/bin/env bash
# Runs galleryfs's reliability suites and prints one summary line per suite.
#   scripts/torture.sh           full sizes (minutes to tens of minutes)
#   scripts/torture.sh --quick   the sizes `cargo test` runs (seconds each)
# GALLERYFS_SEED=N replays a run; each suite prints the seed it used.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
for arg in "$@"; do
    case "$arg" in
        --quick) mode=quick ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "torture.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done
[ -e /dev/fuse ] || { echo "torture.sh: /dev/fuse is missing: the suites need FUSE" >&2; exit 1; }
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
