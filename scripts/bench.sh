#!/usr/bin/env bash
# Side-by-side benchmark of galleryfs against the disk under it and bindfs (issue 5).
#
#   scripts/bench.sh [--quick] [--reps N] [--out FILE] [--bin-dir DIR] [--keep]
#
#   --quick        small sizes and 2 repetitions (about two minutes): a smoke run
#   --reps N       repetitions of the side-by-side rows (default 5, at least 3;
#                  the heavy galleryfs-only rows use up to min(N, 3)). Past the
#                  minimum, each phase stops repeating when its time budget is
#                  spent, so that a full run stays near 15 minutes; the notes
#                  say where (the first run also builds cached inputs)
#   --out FILE     also write the report as markdown to FILE
#                  (default: BENCHMARKS.md for a full run, none for --quick)
#   --bin-dir DIR  use galleryfs and gallery-trash from DIR instead of building
#   --keep         keep target/bench/run (the trees and stores) afterwards
#   --busy-ok      start a full run even when the machine is not quiet
#
# A full run, once it has built galleryfs and made its inputs (both load the
# machine), waits up to 10 minutes for the 1-minute load average to fall
# below 1 and refuses to measure otherwise: figures from a busy machine
# do not count. Its report puts each ratio beside the previous full run's
# (kept in target/bench/last-full/) and says whether the two agree; a figure
# counts only once a second run agrees with it.
#
# Needs root (FUSE mounts, drop_caches) and /dev/fuse. Installs bindfs, fio,
# libglib2.0-bin (gio) and trash-cli (into target/bench-venv) when missing.
# Everything lives under target/bench/ on the workspace disk (not tmpfs):
# native files, a galleryfs STORAGE + mountpoint, and a bindfs source +
# mountpoint, side by side. Progress goes to stderr, the tables to stdout.
set -euo pipefail
export LC_ALL=C
CALLER_PWD=$PWD
cd "$(dirname "$0")/.."
ROOT=$PWD
HELPERS=$ROOT/scripts/bench
ARGS="$*"

QUICK=0 REPS="" OUT="" OUT_SET=0 BIN_DIR="" KEEP=0 BUSY_OK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --reps) REPS=${2:?--reps needs a number}; shift ;;
        --reps=*) REPS=${1#--reps=} ;;
        --out) OUT=${2:?--out needs a file}; OUT_SET=1; shift ;;
        --out=*) OUT=${1#--out=}; OUT_SET=1 ;;
        --bin-dir) BIN_DIR=${2:?--bin-dir needs a directory}; shift ;;
        --bin-dir=*) BIN_DIR=${1#--bin-dir=} ;;
        --keep) KEEP=1 ;;
        --busy-ok) BUSY_OK=1 ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

die() { echo "bench.sh: $*" >&2; exit 1; }
log() { printf '[bench %3dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

[ "$(id -u)" -eq 0 ] || die "run as root: it mounts FUSE filesystems and drops the page cache"
[ -e /dev/fuse ] || die "/dev/fuse is missing: galleryfs and bindfs need FUSE"
# The user section's mounts open /dev/fuse as that user: 0666, as udev's rules make it
# (a machine without udev leaves it 0600, and every such mount fails with EACCES).
[ "$(stat -c %a /dev/fuse)" = 666 ] || chmod 0666 /dev/fuse
[ -w /proc/sys/vm/drop_caches ] || die "/proc/sys/vm/drop_caches is not writable: cold rows need it"
command -v python3 >/dev/null || die "python3 is missing (apt-get install python3)"
case "$OUT" in ""|/*) ;; *) OUT=$CALLER_PWD/$OUT ;; esac
if [ -n "$REPS" ] && ! [[ "$REPS" =~ ^[1-9][0-9]*$ ]]; then die "--reps wants a positive integer, not '$REPS'"; fi

# ---------------------------------------------------------------- sizes
if [ "$QUICK" = 1 ]; then
    MODE=quick
    SEQ_MIB=128 RR_SECS=1 N_SMALL=1000 TREE_FILES=2000 TREE_MIB=24
    N_TRASH=5000 N_RESTORE=1000 N_SWEEP=5000 N_ROWS=20000
    REPS=${REPS:-2}
else
    MODE=full
    SEQ_MIB=1024 RR_SECS=3 N_SMALL=10000 TREE_FILES=22000 TREE_MIB=320
    N_TRASH=100000 N_RESTORE=10000 N_SWEEP=100000 N_ROWS=1000000
    REPS=${REPS:-5}
    [ "$OUT_SET" = 1 ] || OUT=$ROOT/BENCHMARKS.md
fi
HEAVY=$((REPS < 3 ? REPS : 3))   # repetitions of the slow galleryfs-only rows
[ "$QUICK" = 1 ] && HEAVY=1

B=$ROOT/target/bench
RUN=$B/run
CACHE=$B/cache
[[ "$B" =~ [[:space:]] ]] && die "the checkout path must not contain white space ($B)"
mkdir -p "$B" "$CACHE"
LAST=$B/last-full   # the previous full run's results.tsv and meta.tsv, for the agreement column

# ---------------------------------------------------------------- cleanup
PIDS=()          # daemons this script started (galleryfs, bindfs, nullfs)
IMG_MOUNTED=0    # the run's disk image is mounted on $RUN
GMNT=$RUN/gfs-mnt GSTORE=$RUN/gfs-store
BMNT=$RUN/bind-mnt BSRC=$RUN/bind-src
RMNT=$RUN/rows-mnt NMNT=$RUN/null-mnt

is_mounted() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }

unmount() {
    local mp=$1
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        is_mounted "$mp" || return 0
        umount "$mp" 2>/dev/null || fusermount3 -u "$mp" 2>/dev/null || sleep 0.5
    done
    is_mounted "$mp" || return 0
    echo "bench.sh: $mp is busy; detaching it lazily" >&2
    umount -l "$mp" 2>/dev/null || true
}

wait_exit() {   # PID SECONDS: wait for a process (ours) to exit
    local pid=$1 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    trap '' INT TERM   # a second Ctrl-C must not cut the unmounting short
    for mp in "$GMNT" "$BMNT" "$RMNT" "$NMNT"; do unmount "$mp"; done
    # The raw samples of the last run, kept for inspection.
    [ -s "$RUN/results.tsv" ] && cp "$RUN/results.tsv" "$B/last-results.tsv" && cp "$RUN/meta.tsv" "$B/last-meta.tsv"
    # Our daemons only: their command line names a path under target/bench.
    for sig in TERM KILL; do
        for pid in "${PIDS[@]}"; do
            wait_exit "$pid" 10 && continue
            grep -qF "$B/" "/proc/$pid/cmdline" 2>/dev/null && kill -"$sig" "$pid" 2>/dev/null
        done
    done
    if [ "$rc" -ne 0 ] && [ "$IMG_MOUNTED" = 1 ]; then
        mkdir -p "$B/logs" && cp "$RUN"/*.log "$B/logs/" 2>/dev/null
        echo "bench.sh: stopped (exit $rc); mounts removed. Logs: $B/logs/*.log" >&2
    elif [ "$rc" -ne 0 ]; then
        echo "bench.sh: stopped (exit $rc); mounts removed." >&2
    fi
    # The run's disk (only once nothing of ours is mounted in it); --keep keeps the image.
    if [ "$IMG_MOUNTED" = 1 ] && ! awk -v r="$RUN/" 'index($5, r) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
        umount "$RUN" 2>/dev/null || umount -l "$RUN"
        if [ "$KEEP" = 0 ]; then rm -f "$IMG"; else echo "bench.sh: kept $IMG (mount -o loop $IMG $RUN)" >&2; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Mounts left by an interrupted earlier run (only ours, under target/bench).
awk -v r="$B/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mp; do
    log "unmounting $mp, left by an earlier run"
    unmount "$mp"
done

# ---------------------------------------------------------------- tools
APT_UPDATED=0
apt_install() {   # PACKAGE...: Debian packages, quietly
    command -v apt-get >/dev/null || return 1
    if [ "$APT_UPDATED" = 0 ]; then
        apt-get update -qq >>"$B/apt.log" 2>&1 || true
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$B/apt.log" 2>&1
}
need() {   # COMMAND PACKAGE: installs PACKAGE when COMMAND is missing; fails if it cannot
    command -v "$1" >/dev/null && return 0
    log "installing $2 (for $1)"
    apt_install "$2" && command -v "$1" >/dev/null
}
need bindfs bindfs || die "bindfs is missing and could not be installed (apt-get install bindfs; see $B/apt.log)"
need fusermount3 fuse3 || log "fuse3 (fusermount3) unavailable: unmounting with umount only"
HAVE_FIO=1
need fio fio || { HAVE_FIO=0; log "fio unavailable: random reads fall back to a python pread loop"; }
need gio libglib2.0-bin || log "gio unavailable: the gio trash row will be n/a"
need inotifywait inotify-tools || log "inotifywait unavailable: the watched rm -rf row will be n/a"

VENV=$ROOT/target/bench-venv
TRASH_PUT=""
if [ -x "$VENV/bin/trash-put" ]; then
    TRASH_PUT=$VENV/bin/trash-put
elif command -v trash-put >/dev/null; then
    TRASH_PUT=$(command -v trash-put)
else
    log "installing trash-cli into target/bench-venv (pip)"
    if { python3 -m venv "$VENV" || { apt_install python3-venv && python3 -m venv "$VENV"; }; } >>"$B/pip.log" 2>&1 &&
        "$VENV/bin/pip" install -q trash-cli >>"$B/pip.log" 2>&1; then
        TRASH_PUT=$VENV/bin/trash-put
    elif python3 -m pip install -q --user trash-cli >>"$B/pip.log" 2>&1 && [ -x "$HOME/.local/bin/trash-put" ]; then
        TRASH_PUT=$HOME/.local/bin/trash-put
    else
        log "trash-cli could not be installed (see $B/pip.log): the trash-put row will be n/a"
    fi
fi

# ---------------------------------------------------------------- build
if [ -n "$BIN_DIR" ]; then
    GFS=$(cd "$BIN_DIR" && pwd)/galleryfs GT=$(cd "$BIN_DIR" && pwd)/gallery-trash
    BUILT="prebuilt binaries from $BIN_DIR, not a build of this checkout"
else
    log "cargo build --release"
    command -v cargo >/dev/null || die "cargo is missing: install a Rust toolchain (rustup)"
    cargo build --release >"$B/build.log" 2>&1 || { tail -30 "$B/build.log" >&2; die "cargo build --release failed (log: $B/build.log)"; }
    GFS=$ROOT/target/release/galleryfs GT=$ROOT/target/release/gallery-trash
    BUILT="cargo build --release of this checkout"
fi
[ -x "$GFS" ] && [ -x "$GT" ] || die "no galleryfs / gallery-trash binaries at $(dirname "$GFS")"
# The kernel's bound (examples/nullfs.rs) is built from this checkout in any case.
cargo build --release --example nullfs >>"$B/build.log" 2>&1 || { tail -30 "$B/build.log" >&2; die "cargo build --release --example nullfs failed (log: $B/build.log)"; }
NULLFS=$ROOT/target/release/examples/nullfs

# ---------------------------------------------------------------- the disk
# Every target works in one ext4 made for the run: a loop image in target/bench with a journal
# and mkfs.ext4's defaults, as a user's disk has. Not the workspace's own filesystem, which may
# lack a journal: ext4 without one checks, at every inode allocation, each free inode of the
# group for a deletion in the last minutes (ialloc.c, recently_deleted()), so a create there
# costs what the rows before it deleted (measured: 65-93 % of a `cp -R`'s time), not what it does.
IMG=$B/disk.img
rm -rf "$RUN"
mkdir -p "$RUN"
rm -f "$IMG"
truncate -s "$((QUICK ? 8 : 40))G" "$IMG"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$IMG" >"$B/mkfs.log" 2>&1 ||
    die "mkfs.ext4 of $IMG failed (log: $B/mkfs.log)"
mount -o loop "$IMG" "$RUN" || die "cannot loop-mount $IMG on $RUN"
IMG_MOUNTED=1

# ---------------------------------------------------------------- records
RES=$RUN/results.tsv META=$RUN/meta.tsv
: >"$RES"; : >"$META"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RES"; }     # ROW TARGET VALUE
na() { meta "na_$1" "$2"; log "n/a: $1: $2"; }
NOTES=()
note() { NOTES+=("$1"); log "note: $1"; }

T=0
timed() {   # runs "$@", sets T to its wall time in seconds; returns its status
    local t0=$EPOCHREALTIME rc=0
    "$@" || rc=$?
    local t1=$EPOCHREALTIME
    T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    return "$rc"
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a / b }'; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

for k in SEQ_MIB RR_SECS N_SMALL N_TRASH N_RESTORE N_SWEEP N_ROWS REPS HEAVY MODE; do
    meta "$(echo "$k" | tr 'A-Z' 'a-z')" "${!k}"
done
meta n_trash_folders "$((N_TRASH / 100))"
meta started "$(date -u '+%F %H:%M UTC')"
meta rr_tool "$([ "$HAVE_FIO" = 1 ] && echo "fio psync, ${RR_SECS} s" || echo "python pread loop, ${RR_SECS} s")"
meta trash_cli "$([ -n "$TRASH_PUT" ] && "$TRASH_PUT" --version 2>/dev/null | head -1 || echo "trash-cli missing")"

# ---------------------------------------------------------------- the source tree for untar
TARBALL=$CACHE/tree-$TREE_FILES-$TREE_MIB.tar
if [ ! -s "$TARBALL" ] || [ ! -s "$TARBALL.json" ]; then
    log "building the source tree tarball once (cached as $TARBALL)"
    t0=$SECONDS
    python3 "$HELPERS/mktree.py" "$TARBALL" "$TREE_FILES" "$TREE_MIB" \
        "$HOME/.cargo/registry/src" /usr/share >&2
    note "this run built the untar archive ($((SECONDS - t0)) s; cached in target/bench/cache for later runs)"
fi
read -r TREE_F TREE_D TREE_BYTES < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["files"], d["dirs"], d["bytes"])' "$TARBALL.json")
meta tree_files "$TREE_F"; meta tree_dirs "$TREE_D"; meta tree_mib "$((TREE_BYTES >> 20))"
cat "$TARBALL" >/dev/null   # the archive is read from the page cache in every run

# ---------------------------------------------------------------- targets
TARGETS=(native galleryfs bindfs)
# The metadata rows also run on nullfs (examples/nullfs.rs): a FUSE filesystem with galleryfs's
# connection settings that keeps its tree in memory and does nothing else, the kernel's bound.
META_TARGETS=(native galleryfs bindfs nullfs)
declare -A WD=([native]=$RUN/native [galleryfs]=$GMNT/gallery [bindfs]=$BMNT [nullfs]=$NMNT)
mkdir -p "$RUN/native" "$GSTORE/gallery" "$GMNT" "$BSRC" "$BMNT" "$RMNT" "$NMNT"
GFS_PID="" BIND_PID="" NULL_PID=""

mount_gfs() {   # [OPTIONS]: galleryfs -f in the background, until it is mounted
    local opts=${1:-}
    "$GFS" "$GSTORE" "$GMNT" -f ${opts:+-o "$opts"} >>"$RUN/galleryfs.log" 2>&1 &
    GFS_PID=$!
    PIDS+=("$GFS_PID")
    wait_mounted "$GMNT" "$GFS_PID" || die "galleryfs did not mount on $GMNT (log: $RUN/galleryfs.log)"
}
umount_gfs() {
    unmount "$GMNT"
    if ! wait_exit "$GFS_PID" 120; then
        # Where each thread waits, for the bug report.
        for t in /proc/"$GFS_PID"/task/*; do
            echo "$t $(cat "$t/comm") $(cat "$t/wchan" 2>/dev/null) $(tr '\n' ' ' <"$t/stack" 2>/dev/null)"
        done >>"$RUN/galleryfs.log"
        die "galleryfs (pid $GFS_PID) did not exit after the unmount (its threads: $RUN/galleryfs.log)"
    fi
    wait "$GFS_PID" || note "galleryfs exited with status $? at an unmount (log: $RUN/galleryfs.log)"
}
wait_mounted() {   # MOUNTPOINT PID
    local deadline=$((SECONDS + 300))
    until is_mounted "$1"; do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}

gfs_reset() {   # [NAME...]: untimed: unmount galleryfs, delete gallery/NAME... and every trash
    # entry (file and catalog row) straight in STORAGE, remount. Permanent deletion through the
    # mount can be far slower than the rows being measured; this keeps cleanup out of the way.
    umount_gfs
    local n
    for n in "$@"; do rm -rf "${GSTORE:?}/gallery/$n"; done
    find "$GSTORE/trash" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM entries"); c.commit()' "$GSTORE/galleryfs.db"
    mount_gfs
}
discard() {   # TARGET NAME: untimed removal of WD/NAME (galleryfs: through the mount, not into the trash)
    case $1 in
        native) rm -rf "${RUN:?}/native/$2" ;;
        bindfs) rm -rf "${BSRC:?}/$2" ;;   # behind bindfs's back: it keeps no state; names are never reused
        nullfs) rm -rf "${NMNT:?}/$2" ;;
        galleryfs)
            local e="zz-discard-$RANDOM$RANDOM"
            mv "$GMNT/gallery/$2" "$GMNT/.trash/$e"
            rm -rf "$GMNT/.trash/$e" ;;
    esac
}

log "writing the ${SEQ_MIB} MiB read file in each backing directory (before mounting)"
for f in "$RUN/native/big" "$GSTORE/gallery/big" "$BSRC/big"; do
    dd if=/dev/zero of="$f" bs=1M count="$SEQ_MIB" status=none
done
sync
: >"$GSTORE/gallery/probe"   # stat()ed by the latency sampler
mount_gfs
bindfs -f "$BSRC" "$BMNT" >>"$RUN/bindfs.log" 2>&1 &
BIND_PID=$!
PIDS+=("$BIND_PID")
wait_mounted "$BMNT" "$BIND_PID" || die "bindfs did not mount on $BMNT (log: $RUN/bindfs.log)"
"$NULLFS" "$NMNT" >>"$RUN/nullfs.log" 2>&1 &
NULL_PID=$!
PIDS+=("$NULL_PID")
wait_mounted "$NMNT" "$NULL_PID" || die "nullfs did not mount on $NMNT (log: $RUN/nullfs.log)"
log "mounted galleryfs (pid $GFS_PID), bindfs (pid $BIND_PID) and nullfs (pid $NULL_PID)"

phase() { PHASE_T0=$SECONDS REP_T0=$SECONDS PHASE_NAME=$1; log "== $1"; }
phase_end() { meta "phase_$1" "$((SECONDS - PHASE_T0))"; }
# Whether to run repetition REP of a loop that started at REP_T0: always up to MIN, never past
# MAX, and in between only while the loop, at its pace so far, stays within BUDGET seconds. This
# bounds the run's time when galleryfs or the machine is slow; a cut is reported in the notes.
want_rep() {   # REP MAX MIN BUDGET [WHAT]
    local rep=$1 max=$2 min=$3 budget=$4 spent=$((SECONDS - REP_T0))
    [ "$rep" -le "$max" ] || return 1
    [ "$rep" -le "$min" ] && return 0
    [ $((spent * rep / (rep - 1))) -le "$budget" ] && return 0
    note "${5:-$PHASE_NAME}: $((rep - 1)) of $max repetitions (the ${budget} s time budget of the phase was spent)"
    return 1
}
MIN=$((REPS < 3 ? REPS : 3))   # side-by-side rows: at least 3 repetitions, for a median

# ---------------------------------------------------------------- a quiet machine
# Waited for here, after the build, the disk image and the inputs are made (each of them
# loads the machine), so that the load recorded at the start is that of the measurements.
quiet() { awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l < 1) }'; }
if [ "$MODE" = full ] && [ "$BUSY_OK" = 0 ] && ! quiet; then
    printf 'bench.sh: waiting up to 10 minutes for the load average (%s) to fall below 1\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
    for _ in $(seq 60); do quiet && break; sleep 10; done
    quiet || die "the machine is busy (load average $(cut -d' ' -f1-3 /proc/loadavg)): figures from it would not count. Stop the other work, or pass --busy-ok for a run that only shows the rows work"
fi

# ---------------------------------------------------------------- machine
DEV=$(findmnt -n -o SOURCE -T "$B" | head -1)
FSTYPE=$(findmnt -n -o FSTYPE -T "$B" | head -1)
FSOPTS=$(findmnt -n -o OPTIONS -T "$B" | head -1)
RUNFS="ext4 ($(findmnt -n -o OPTIONS -T "$RUN" | head -1)) on a $(du -h --apparent-size "$IMG" | cut -f1) loop image, mkfs.ext4 defaults (journal: $(dumpe2fs -h "$IMG" 2>/dev/null | grep -q has_journal && echo yes || echo no)), in target/bench"
[ "$FSTYPE" = tmpfs ] && die "target/bench is on tmpfs: the benchmark must run on the workspace disk"
DISK=$(lsblk -dn -o NAME,SIZE,ROTA,MODEL "$DEV" 2>/dev/null | awk '{ $3 = ($3 == "1" ? "rotational" : "non-rotational"); print }' || true)
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
GITREV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then GITREV="$GITREV + uncommitted changes in src/"; fi
load() {   # load average, and the share of time some task waited for I/O (PSI), over the last minute
    local psi
    psi=$(awk '/^some/ { sub("avg60=", "", $3); print $3 }' /proc/pressure/io 2>/dev/null || true)
    echo "$(cut -d' ' -f1-3 /proc/loadavg)${psi:+, I/O pressure ${psi}%}"
}
MACHINE=(
    "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    "command: \`scripts/bench.sh${ARGS:+ $ARGS}\` ($MODE sizes, $REPS repetitions of the side-by-side rows, $HEAVY of the heavy galleryfs-only rows)"
    "galleryfs: $("$GFS" --version 2>/dev/null | head -1), commit $GITREV ($BUILT)"
    "machine: $(nproc) CPUs ($CPU), $MEM RAM"
    "kernel: $(uname -sr)"
    "filesystem of every target: $RUNFS, on $FSTYPE ($FSOPTS) on $DEV${DISK:+ — $DISK}"
    "open-file limit: $(ulimit -n); at the start: load average $(load)"
    "tools: $(bindfs --version 2>/dev/null | head -1); $([ "$HAVE_FIO" = 1 ] && fio --version); $(gio --version 2>/dev/null | sed 's/^/gio /' || echo 'gio missing'); trash-cli $(grep trash_cli "$META" | cut -f2); $(python3 --version)"
)
for line in "${MACHINE[@]}"; do log "$line"; done
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
    note "the machine was busy with other work when the run started (load average $(load)): expect noisy figures"
fi

# ---------------------------------------------------------------- sequential and random reads
phase "sequential read ${SEQ_MIB} MiB warm, then 4 KiB random reads warm"
for t in "${TARGETS[@]}"; do cat "${WD[$t]}/big" >/dev/null; done
read_big() { dd if="$1" of=/dev/null bs=1M status=none; }
randread() {   # FILE: prints IOPS
    if [ "$HAVE_FIO" = 1 ]; then
        fio --name=randread --filename="$1" --rw=randread --bs=4k --size="${SEQ_MIB}M" \
            --ioengine=psync --invalidate=0 --numjobs=1 --time_based --runtime="$RR_SECS" \
            --output-format=json --output="$RUN/fio.json" >/dev/null 2>>"$RUN/fio.log"
        python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"][0]["read"]["iops"])' "$RUN/fio.json"
    else
        python3 - "$1" "$RR_SECS" <<'EOF'
import os, random, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY); blocks = os.fstat(fd).st_size // 4096
n, end = 0, time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    for _ in range(256):
        os.pread(fd, 4096, random.randrange(blocks) * 4096)
    n += 256
print(n / float(sys.argv[2]))
EOF
    fi
}
rep=1
while want_rep "$rep" "$REPS" "$MIN" "$((QUICK ? 60 : 120))"; do
    for t in "${TARGETS[@]}"; do
        timed read_big "${WD[$t]}/big"
        rec seqread "$t" "$(div "$SEQ_MIB" "$T")"
    done
    for t in "${TARGETS[@]}"; do
        rec randread "$t" "$(randread "${WD[$t]}/big")"
    done
    rep=$((rep + 1))
done
phase_end reads

# ---------------------------------------------------------------- sequential write
phase "sequential write ${SEQ_MIB} MiB + fsync"
write_big() { dd if=/dev/zero of="$1" bs=1M count="$SEQ_MIB" conv=fsync status=none; }
rep=1
while want_rep "$rep" "$REPS" "$MIN" "$((QUICK ? 60 : 120))"; do
    for t in "${TARGETS[@]}"; do
        sync
        timed write_big "${WD[$t]}/w.$rep"
        rec seqwrite "$t" "$(div "$SEQ_MIB" "$T")"
        discard "$t" "w.$rep"
    done
    rep=$((rep + 1))
done
phase_end write

# ---------------------------------------------------------------- small files: create, ls -l cold/warm, rm -rf
phase "create ${N_SMALL} × 4 KiB files, ls -l cold and warm, rm -rf"
ls_l() { ls -l "$1" >/dev/null; }
mv_all() { find "$1" -mindepth 1 -maxdepth 1 -exec mv -t "$2" {} +; }   # FROM TO: every name of FROM into TO
rep=1
while want_rep "$rep" "$REPS" "$MIN" "$((QUICK ? 60 : 150))"; do
    for t in "${META_TARGETS[@]}"; do
        timed python3 "$HELPERS/mkfiles.py" "${WD[$t]}/small.$rep" "$N_SMALL" 4096
        rec create "$t" "$T"
    done
    for t in "${META_TARGETS[@]}"; do
        drop_caches
        timed ls_l "${WD[$t]}/small.$rep"
        rec ls_cold "$t" "$T"
    done
    for t in "${META_TARGETS[@]}"; do
        ls_l "${WD[$t]}/small.$rep"
        timed ls_l "${WD[$t]}/small.$rep"
        rec ls_warm "$t" "$T"
    done
    for t in "${META_TARGETS[@]}"; do
        mkdir "${WD[$t]}/moved.$rep"
        timed mv_all "${WD[$t]}/small.$rep" "${WD[$t]}/moved.$rep"
        rec mv "$t" "$T"
        # Back, untimed, so that the rm -rf below removes the folder they were created in.
        mv_all "${WD[$t]}/moved.$rep" "${WD[$t]}/small.$rep"
        rmdir "${WD[$t]}/moved.$rep" 2>/dev/null || note "moved.$rep on $t was not empty after moving back"
    done
    for t in "${META_TARGETS[@]}"; do
        timed rm -rf "${WD[$t]}/small.$rep"
        rec rm "$t" "$T"
    done
    n=$(find "$GMNT/.trash" -mindepth 1 -maxdepth 1 ! -name 'moved.*' | wc -l)
    [ "$n" -eq 1 ] || note "rm -rf of a folder of $N_SMALL files left $n entries in .trash (rep $rep), expected 1 (the folder)"
    gfs_reset
    rep=$((rep + 1))
done
phase_end small

# ---------------------------------------------------------------- rm -rf while a watcher runs (issue 13)
phase "rm -rf of ${N_SMALL} files while inotifywait watches .trash and .Trash-$(id -u)/files"
# The watcher sees what a Trash window sees; galleryfs echoes the net change
# (one new entry) once the burst is over. Native: a watcher on the folder's parent.
watched_rm() {   # DIR WATCHED...: rm -rf DIR with inotifywait -m on WATCHED
    local dir=$1 events=$RUN/watch.events w
    shift
    inotifywait -m -e create,delete,moved_to,moved_from --format '%w|%e|%f' "$@" >"$events" 2>"$events.err" &
    w=$!
    for _ in $(seq 200); do grep -q 'Watches established' "$events.err" && break; sleep 0.05; done
    timed rm -rf "$dir"
    WATCHED_T=$T
    WATCH_PID=$w
}
if command -v inotifywait >/dev/null; then
    rep=1
    while want_rep "$rep" "$REPS" "$MIN" "$((QUICK ? 30 : 90))"; do
        for t in native galleryfs; do python3 "$HELPERS/mkfiles.py" "${WD[$t]}/watched.$rep" "$N_SMALL" 4096; done
        sync
        watched_rm "$RUN/native/watched.$rep" "$RUN/native"
        rec rm_watched native "$WATCHED_T"
        kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null || true
        watched_rm "$GMNT/gallery/watched.$rep" "$GMNT/.trash" "$GMNT/.Trash-$(id -u)/files"
        rec rm_watched galleryfs "$WATCHED_T"
        # The watcher must come to show the entry (within 10 s).
        seen=0
        for _ in $(seq 100); do
            if grep -q "^$GMNT/.trash/|CREATE,ISDIR|watched.$rep\$" "$RUN/watch.events"; then seen=1; break; fi
            sleep 0.1
        done
        [ "$seen" = 1 ] || note "the watcher never saw watched.$rep appear in .trash (rep $rep)"
        kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null || true
        gfs_reset
        rep=$((rep + 1))
    done
else
    na rm_watched "inotifywait (inotify-tools) is not installed"
fi
phase_end watched

# ---------------------------------------------------------------- overwrites: cp over existing files (issue 11)
phase "cp of ${N_SMALL} new files, cp over ${N_SMALL} existing 4 KiB files, cp over a ${SEQ_MIB} MiB file"
rep=1
while want_rep "$rep" "$REPS" "$MIN" "$((QUICK ? 60 : 180))"; do
    for t in "${META_TARGETS[@]}"; do
        python3 "$HELPERS/mkfiles.py" "${WD[$t]}/ow-src.$rep" "$N_SMALL" 4096
        python3 "$HELPERS/mkfiles.py" "${WD[$t]}/ow-dst.$rep" "$N_SMALL" 4096
    done
    for t in "${TARGETS[@]}"; do
        dd if=/dev/urandom of="${WD[$t]}/ow-big.$rep" bs=1M count="$SEQ_MIB" status=none
    done
    sync
    for t in "${META_TARGETS[@]}"; do
        timed cp -R "${WD[$t]}/ow-src.$rep/." "${WD[$t]}/ow-new.$rep"
        rec cp_new "$t" "$T"
    done
    for t in "${META_TARGETS[@]}"; do
        timed cp -R "${WD[$t]}/ow-src.$rep/." "${WD[$t]}/ow-dst.$rep"
        rec overwrite "$t" "$T"
    done
    n=$(find "$GMNT/.trash" -mindepth 1 -maxdepth 1 | wc -l)
    [ "$n" -eq "$N_SMALL" ] || note "cp over $N_SMALL files left $n entries in .trash (rep $rep), expected $N_SMALL"
    for t in "${TARGETS[@]}"; do
        sync
        timed cp "${WD[$t]}/big" "${WD[$t]}/ow-big.$rep"
        rec overwrite_big "$t" "$T"
    done
    for t in native bindfs nullfs; do
        for d in ow-src ow-dst ow-new ow-big; do discard "$t" "$d.$rep"; done
    done
    gfs_reset "ow-src.$rep" "ow-dst.$rep" "ow-new.$rep" "ow-big.$rep"
    rep=$((rep + 1))
done
phase_end overwrite

# ---------------------------------------------------------------- rm -rf of a tree of folders (issue 12: one entry)
mktree() {   # DIR FILES FOLDERS: FILES × 4 KiB files spread over FOLDERS folders of DIR
    local dir=$1 files=$2 folders=$3 i
    for ((i = 0; i < folders; i++)); do
        python3 "$HELPERS/mkfiles.py" "$dir/d$i" "$((files / folders))" 4096
    done
}
phase "rm -rf of ${N_SMALL} files in 100 folders, and of ${N_TRASH} files in $((N_TRASH / 100)) folders"
rep=1
while want_rep "$rep" "$REPS" "$MIN" "$((QUICK ? 60 : 150))"; do
    for t in "${META_TARGETS[@]}"; do mktree "${WD[$t]}/folders.$rep" "$N_SMALL" 100; done
    sync
    for t in "${META_TARGETS[@]}"; do
        timed rm -rf "${WD[$t]}/folders.$rep"
        rec rm_folders "$t" "$T"
    done
    n=$(find "$GMNT/.trash" -mindepth 1 -maxdepth 1 | wc -l)
    [ "$n" -eq 1 ] || note "rm -rf of ${N_SMALL} files in 100 folders left $n entries in .trash (rep $rep), expected 1"
    # Undoing that deletion, against moving the folder back by hand (both
    # through the mount, each after its own rm -rf of the same tree).
    if timed "$GT" undo --yes "$GMNT" >>"$RUN/gallery-trash.log" 2>&1; then
        rec undo_folders - "$T"
    else
        na undo_folders "gallery-trash undo failed (log: $RUN/gallery-trash.log)"
    fi
    n=$(find "$GMNT/gallery/folders.$rep" -type f 2>/dev/null | wc -l)
    [ "$n" -eq "$N_SMALL" ] || note "gallery-trash undo put back $n of $N_SMALL files (rep $rep)"
    rm -rf "$GMNT/gallery/folders.$rep"
    timed mv "$GMNT/.trash/folders.$rep" "$GMNT/gallery/"
    rec undo_mv - "$T"
    gfs_reset
    rep=$((rep + 1))
done
# The same at ten times the size, native and galleryfs only: folding must not
# be quadratic in the number of files.
rep=1
while want_rep "$rep" "$HEAVY" 1 "$((QUICK ? 60 : 300))"; do
    for t in native galleryfs; do mktree "${WD[$t]}/big-tree.$rep" "$N_TRASH" "$((N_TRASH / 100))"; done
    sync
    for t in native galleryfs; do
        timed rm -rf "${WD[$t]}/big-tree.$rep"
        rec rm_folders_big "$t" "$T"
    done
    gfs_reset
    rep=$((rep + 1))
done
phase_end folders

# ---------------------------------------------------------------- the userland alternatives: gio trash, trash-put
phase "native gio trash and trash-put of ${N_SMALL} files"
XDG=$RUN/xdg   # the home trash of these runs: on the same disk, so a trash is a rename
# gio takes the home trash only for a file on the filesystem of $HOME (else the disk's
# .Trash-UID): HOME on the run's disk too.
GIO=()
if command -v gio >/dev/null; then
    mkdir -p "$XDG" && : >"$RUN/native/gio-probe"
    if HOME=$RUN XDG_DATA_HOME=$XDG gio trash "$RUN/native/gio-probe" 2>>"$RUN/gio.log" && [ -e "$XDG/Trash/files/gio-probe" ]; then
        GIO=(gio trash)
    elif command -v dbus-run-session >/dev/null &&
        : >"$RUN/native/gio-probe" && HOME=$RUN XDG_DATA_HOME=$XDG dbus-run-session -- gio trash "$RUN/native/gio-probe" 2>>"$RUN/gio.log" &&
        [ -e "$XDG/Trash/files/gio-probe" ]; then
        GIO=(dbus-run-session -- gio trash)
        note "gio trash needed a D-Bus session here: timed under dbus-run-session (one per xargs batch)"
    else
        na gio_trash "gio trash failed here: $(tail -1 "$RUN/gio.log" 2>/dev/null)"
    fi
    rm -rf "$XDG/Trash" "$RUN/.Trash-$(id -u)" "$RUN/native/gio-probe"
else
    na gio_trash "gio (libglib2.0-bin) is not installed"
fi
[ -n "$TRASH_PUT" ] || na trash_put "trash-cli could not be installed"
trash_all() {   # DIR CMD...: trash every file of DIR with CMD, batched by xargs
    local d=$1; shift
    find "$d" -type f -print0 | HOME=$RUN XDG_DATA_HOME=$XDG xargs -0 "$@"
}
if [ -n "$TRASH_PUT" ]; then   # several times slower than the rest: once
    python3 "$HELPERS/mkfiles.py" "$RUN/native/tp" "$N_SMALL" 4096
    sync
    if timed trash_all "$RUN/native/tp" "$TRASH_PUT" 2>>"$RUN/trash-put.log"; then
        rec trash_put - "$T"
    else
        na trash_put "trash-put failed on the $N_SMALL files (log: $RUN/trash-put.log)"
    fi
    rm -rf "$RUN/native/tp" "$XDG/Trash"
fi
REP_T0=$SECONDS
rep=1
while [ ${#GIO[@]} -gt 0 ] && want_rep "$rep" "$HEAVY" 1 "$((QUICK ? 30 : 60))" "gio trash"; do
    python3 "$HELPERS/mkfiles.py" "$RUN/native/gio.$rep" "$N_SMALL" 4096
    sync
    if timed trash_all "$RUN/native/gio.$rep" "${GIO[@]}" 2>>"$RUN/gio.log"; then
        rec gio_trash - "$T"
    else
        na gio_trash "gio trash failed on the $N_SMALL files (log: $RUN/gio.log)"; GIO=()
    fi
    rm -rf "$RUN/native/gio.$rep" "$XDG/Trash"
    rep=$((rep + 1))
done
phase_end userland

# ---------------------------------------------------------------- untar and find
# Each target in turn: untar, find, and removal before the next, while the data is still only in
# the page cache (ext4's delayed allocation): removing a tree once written to this disk costs far
# more than the untar itself and would spill into the next measurement.
phase "untar ${TREE_F} files / ${TREE_D} dirs / $((TREE_BYTES >> 20)) MiB, find warm and cold, cp -R, rm -rf"
untar() { mkdir "$2" && tar -xf "$1" -C "$2"; }
count_tree() { find "$1" | wc -l; }
find_all() { find "$1" >/dev/null; }
EXPECT=$((TREE_F + TREE_D + 1))
rep=1
while want_rep "$rep" "$REPS" "$MIN" "$((QUICK ? 60 : 200))"; do
    for t in "${META_TARGETS[@]}"; do
        d=${WD[$t]}/untar.$rep
        sync
        if timed untar "$TARBALL" "$d" 2>>"$RUN/tar.log"; then
            rec untar "$t" "$T"
            n=$(count_tree "$d")
            [ "$n" -eq "$EXPECT" ] || note "untar on $t (rep $rep) gave $n names, expected $EXPECT"
            timed find_all "$d"
            rec find "$t" "$T"
            drop_caches
            timed find_all "$d"
            rec find_cold "$t" "$T"
            timed cp -R "$d" "$d.copy"
            rec cp_tree "$t" "$T"
            timed rm -rf "$d.copy"
            rec rm_tree "$t" "$T"
        else
            na untar "tar failed on $t: $(tail -1 "$RUN/tar.log")"
        fi
        if [ "$t" = galleryfs ]; then gfs_reset "untar.$rep"; else discard "$t" "untar.$rep"; fi
    done
    rep=$((rep + 1))
done
phase_end untar

# ---------------------------------------------------------------- galleryfs: the trash at scale
N_PREFILL=$((N_TRASH - 1))   # the rm -rf below adds one entry: the folder
meta n_prefill "$N_PREFILL"
phase "galleryfs: .trash with ${N_TRASH} entries: rm -rf of ${N_SMALL} files into it, ls -l .trash, stat idle, empty"
# The first N_PREFILL entries go straight into STORAGE (fill_store.py, galleryfs unmounted):
# creating and removing them through the mount would take minutes and measures nothing more
# than the rm -rf row below, which adds the last one (a folder of N_SMALL files) through the mount.
umount_gfs
python3 "$HELPERS/fill_store.py" "$GSTORE" "$N_PREFILL" "$(($(date +%s) - 60))" t >>"$RUN/fill.log"
mount_gfs
python3 "$HELPERS/mkfiles.py" "$GMNT/gallery/many" "$N_SMALL" 4096
sync
timed rm -rf "$GMNT/gallery/many"
rec rm_full - "$T"
timed ls_l "$GMNT/.trash"
rec ls_trash_first - "$T"
n=$(ls -A "$GMNT/.trash" | wc -l)
[ "$n" -eq "$N_TRASH" ] || note ".trash shows $n entries, expected $N_TRASH"
REP_T0=$SECONDS
rep=1
while want_rep "$rep" "$HEAVY" 1 "$((QUICK ? 20 : 30))" "ls -l .trash warm"; do
    timed ls_l "$GMNT/.trash"
    rec ls_trash_warm - "$T"
    rep=$((rep + 1))
done
rec rss_trash - "$(awk '/^VmRSS/ { print $2 / 1024 }' "/proc/$GFS_PID/status")"
REP_T0=$SECONDS
rep=1
while want_rep "$rep" 2 1 "$((QUICK ? 20 : 30))" "ls -l .trash cold"; do
    drop_caches
    timed ls_l "$GMNT/.trash"
    rec ls_trash_cold - "$T"
    rep=$((rep + 1))
done
statlat_rec() {   # PREFIX JSON-FILE
    read -r p50 p99 mx n < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["p50_ms"], d["p99_ms"], d["max_ms"], d["n"])' "$2")
    rec "$1_p50" - "$p50"; rec "$1_p99" - "$p99"; rec "$1_max" - "$mx"; rec "$1_n" - "$n"
}
python3 "$HELPERS/statlat.py" "$GMNT/gallery/probe" --duration 3 >"$RUN/stat-idle.json"
statlat_rec stat_idle "$RUN/stat-idle.json"
timed "$GT" empty --yes "$GMNT" >>"$RUN/gallery-trash.log" 2>&1 || note "gallery-trash empty exited non-zero (log: $RUN/gallery-trash.log)"
rec empty - "$T"
n=$(ls -A "$GMNT/.trash" | wc -l)
[ "$n" -eq 0 ] || { note "gallery-trash empty left $n entries"; gfs_reset; }
phase_end trash_scale

phase "galleryfs: restore ${N_RESTORE} entries (mv, gallery-trash restore)"
restore_mv() { find "$GMNT/.trash" -mindepth 1 -maxdepth 1 -exec mv -t "$GMNT/gallery/r" {} +; }
restore_gt() { find "$GMNT/.trash" -mindepth 1 -maxdepth 1 -print0 | xargs -0 "$GT" restore >>"$RUN/gallery-trash.log" 2>&1; }
python3 "$HELPERS/mkfiles.py" "$GMNT/gallery/r" "$N_RESTORE" 4096
rep=1
while want_rep "$rep" "$HEAVY" 1 "$((QUICK ? 20 : 60))"; do
    for how in mv gt; do
        # File by file (the folder stays): N_RESTORE entries, not one folded folder.
        find "$GMNT/gallery/r" -mindepth 1 -delete
        if timed "restore_$how"; then rec "restore_$how" - "$T"; else na "restore_$how" "restore failed (log: $RUN/gallery-trash.log)"; fi
        n=$(ls -A "$GMNT/gallery/r" | wc -l)
        [ "$n" -eq "$N_RESTORE" ] || note "restore by $how put back $n of $N_RESTORE files (rep $rep)"
    done
    rep=$((rep + 1))
done
gfs_reset r
phase_end restore

# ---------------------------------------------------------------- the expiry sweep
phase "galleryfs: expiry sweep of ${N_SWEEP} due entries, stat latency meanwhile"
umount_gfs
python3 "$HELPERS/fill_store.py" "$GSTORE" "$N_SWEEP" "$(($(date +%s) - 60))" s >>"$RUN/fill.log"
sync
t_launch=$EPOCHREALTIME
mount_gfs "retention=1s,sweep=1h"
t_ready=$EPOCHREALTIME
python3 "$HELPERS/statlat.py" "$GMNT/gallery/probe" --until-empty "$GSTORE/trash" --timeout 600 >"$RUN/stat-sweep.json"
statlat_rec stat_sweep "$RUN/stat-sweep.json"
emptied=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["emptied_at"] or "")' "$RUN/stat-sweep.json")
if [ -n "$emptied" ]; then
    rec sweep - "$(awk -v a="$t_ready" -v b="$emptied" 'BEGIN { d = b - a; printf "%.6f", d < 0 ? 0 : d }')"
    rec sweep_launch - "$(awk -v a="$t_launch" -v b="$emptied" 'BEGIN { printf "%.6f", b - a }')"
else
    na sweep "STORAGE/trash was not empty 600 s after the mount"
fi
umount_gfs
left=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from entries").fetchone()[0])' "$GSTORE/galleryfs.db")
[ "$left" -eq 0 ] || note "after the sweep, $left catalog rows remain"
phase_end sweep

# ---------------------------------------------------------------- mount time and RSS with N_ROWS rows
phase "galleryfs: mount time and RSS with ${N_ROWS} trash rows"
unmount "$BMNT"
wait_exit "$BIND_PID" 30 || true
SCHEMA=$(python3 -c 'import sqlite3,sys,hashlib; c=sqlite3.connect(sys.argv[1]); s=str(c.execute("pragma user_version").fetchone())+"".join(r[0] or "" for r in c.execute("select sql from sqlite_master order by name")); print(hashlib.sha1(s.encode()).hexdigest()[:12])' "$GSTORE/galleryfs.db")
SCHEMA="$SCHEMA $(sha1sum "$HELPERS/fill_store.py" | cut -c1-8)"   # the generator is part of the cache key
RSTORE=$CACHE/store-$N_ROWS
if [ "$(cat "$RSTORE.ok" 2>/dev/null)" != "$N_ROWS $SCHEMA" ]; then
    log "generating a STORAGE with ${N_ROWS} trash rows (cached as $RSTORE)"
    t0=$SECONDS
    rm -f "$RSTORE.ok"
    # An outdated store is deleted with the rest of the run's files at the end, not here.
    if [ -e "$RSTORE" ]; then mv "$RSTORE" "$RUN/outdated-store-$N_ROWS"; fi
    "$GFS" "$RSTORE" "$RMNT" >>"$RUN/galleryfs.log" 2>&1 || die "galleryfs could not initialise $RSTORE"
    pid=$(cat "$RSTORE/galleryfs.lock"); PIDS+=("$pid")
    unmount "$RMNT"; wait_exit "$pid" 60 || die "galleryfs did not exit"
    python3 "$HELPERS/fill_store.py" "$RSTORE" "$N_ROWS" "$(date +%s)" >>"$RUN/fill.log"
    echo "$N_ROWS $SCHEMA" >"$RSTORE.ok"
    note "this run generated the ${N_ROWS}-row STORAGE ($((SECONDS - t0)) s; cached in target/bench/cache until the catalog schema changes)"
fi
# retention=3650d: the cached rows stay live whatever their age; the sweep at mount finds nothing due.
rows_mount() {
    "$GFS" "$RSTORE" "$RMNT" -o retention=3650d 2>>"$RUN/galleryfs.log"
}
# The first mount is cold and is followed by the listing and the RSS reading; the others are warm.
for rep in $(seq $((QUICK ? 2 : 3))); do
    if [ "$rep" = 1 ]; then drop_caches; kind=mount_cold; else kind=mount_warm; fi
    timed rows_mount || die "galleryfs could not mount $RSTORE (log: $RUN/galleryfs.log)"
    rec "$kind" - "$T"
    pid=$(cat "$RSTORE/galleryfs.lock"); PIDS+=("$pid")
    if [ "$rep" = 1 ]; then
        t0=$EPOCHREALTIME
        n=$(ls "$RMNT/.trash" | wc -l)
        rec ls_rows - "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }')"
        meta rows_seen "$n"
        [ "$n" -eq "$N_ROWS" ] || note "ls .trash | wc -l counted $n entries, expected $N_ROWS"
        rec rss - "$(awk '/^VmRSS/ { print $2 / 1024 }' "/proc/$pid/status")"
        rec hwm - "$(awk '/^VmHWM/ { print $2 / 1024 }' "/proc/$pid/status")"
    fi
    unmount "$RMNT"
    wait_exit "$pid" 120 || die "galleryfs (pid $pid) did not exit after the unmount"
done
# After galleryfs is killed the next mount compares the whole catalog with STORAGE/trash: a real
# kill -9 of a live mount, then a cold mount. After a crash of the machine it also checks the
# catalog file (quick_check): the clean-stop flag set as such a crash leaves it (in use, on a
# boot the catalog does not record), warm. Each following clean unmount clears the flag again.
unclean_mount() {   # ROW: time a mount of RSTORE, check it shows every row, unmount
    timed rows_mount || die "galleryfs could not mount $RSTORE (log: $RUN/galleryfs.log)"
    rec "$1" - "$T"
    pid=$(cat "$RSTORE/galleryfs.lock"); PIDS+=("$pid")
    n=$(ls "$RMNT/.trash" | wc -l)
    [ "$n" -eq "$N_ROWS" ] || note "after the $1 mount, .trash shows $n entries, expected $N_ROWS"
    unmount "$RMNT"
    wait_exit "$pid" 120 || die "galleryfs (pid $pid) did not exit after the unmount"
}
rows_mount || die "galleryfs could not mount $RSTORE (log: $RUN/galleryfs.log)"
pid=$(cat "$RSTORE/galleryfs.lock"); PIDS+=("$pid")
kill -9 "$pid"; wait_exit "$pid" 30 || die "galleryfs (pid $pid) survived kill -9"
unmount "$RMNT"
drop_caches
unclean_mount mount_killed
if python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
if not c.execute("select 1 from sqlite_master where name = ?", ("meta",)).fetchone(): sys.exit(1)
c.execute("insert or replace into meta (key, value) values (?, 1)", ("in_use",))
c.execute("delete from meta where key = ?", ("boot",)); c.commit()' "$RSTORE/galleryfs.db" 2>>"$RUN/fill.log"; then
    unclean_mount mount_unclean
else
    na mount_unclean "the catalog has no meta table with a clean-stop flag (scripts/bench.sh knows no other way to simulate a crash)"
fi
phase_end rows

# ---------------------------------------------------------------- mounted by an ordinary user
# scripts/bench/user.sh, in a private mount namespace where its user exists; see rows_doc.
phase "mounted by an ordinary user (fusermount3, no passthrough): reads, write, create, rm -rf"
if command -v fusermount3 >/dev/null; then
    unshare --mount --propagation private bash "$HELPERS/user.sh" "$RUN" "$GFS" "$SEQ_MIB" "$N_SMALL" \
        "$MIN" "$RR_SECS" "$HAVE_FIO" "$RES" 2>>"$RUN/user.log" ||
        na user_create "scripts/bench/user.sh failed: $(tail -1 "$RUN/user.log")"
else
    na user_create "fusermount3 is missing (apt-get install fuse3)"
fi
phase_end user

# ---------------------------------------------------------------- report
rows_doc() {
    cat <<EOF
## What each row measures

All times are wall-clock (bash \$EPOCHREALTIME around the command). native is a
directory under \`target/bench/run/\`; galleryfs is \`gfs-mnt/gallery\` of
\`galleryfs gfs-store gfs-mnt -f\` (default options); bindfs is \`bindfs -f bind-src
bind-mnt\` (default options: single-threaded); all on one ext4 made for the run (a
journaled loop image, mkfs.ext4 defaults, mounted on \`target/bench/run\`). The
**FUSE bound** is \`nullfs null-mnt\` (examples/nullfs.rs): a FUSE filesystem
with galleryfs's connection settings (4 request threads, cloned fds, the same init
flags and cache lifetimes, no FLUSH or OPENDIR) that keeps names and sizes in memory
and discards data, run on the metadata rows: what the requests alone cost, a floor
for any FUSE filesystem that stores something. Each side-by-side repetition runs
native, galleryfs, bindfs (and nullfs) in turn before the next.
Repetitions: up to ${REPS} (at least ${MIN}) of the side-by-side rows, up to ${HEAVY} of the
slow galleryfs-only rows; each phase has a time budget past its minimum, so that a
slow galleryfs or a busy machine shortens the run instead of stretching it (the
notes say where that happened; the reps column and the raw samples show the count).

- **sequential read, warm**: \`dd if=big of=/dev/null bs=1M\` of a ${SEQ_MIB} MiB file
  written before mounting and read once through each target first; MiB/s.
- **4 KiB random read, warm, 1 job**: \`fio --rw=randread --bs=4k --ioengine=psync
  --invalidate=0 --time_based --runtime=${RR_SECS}\` on that file (invalidate=0 keeps
  the page cache; fio's default would drop it); IOPS.
- **sequential write + fsync**: \`dd if=/dev/zero of=NEW bs=1M count=${SEQ_MIB}
  conv=fsync\` to a new file after a \`sync\`; MiB/s including the final fsync. The
  file is removed untimed afterwards (on galleryfs: moved into .trash and purged).
- **create**: a python loop of open(O_CREAT|O_EXCL), write(4096), close for ${N_SMALL}
  new files in a new directory (scripts/bench/mkfiles.py).
- **ls -l cold**: \`sync; echo 3 > /proc/sys/vm/drop_caches\` right before
  \`ls -l DIR > /dev/null\` of those files. The daemons keep running: their own
  caches stay, the kernel's go.
- **ls -l warm**: the same listing twice; the second is timed.
- **mv**: \`find A -mindepth 1 -maxdepth 1 -exec mv -t B {} +\` of those ${N_SMALL}
  files into a new folder (then moved back untimed).
- **rm -rf**: \`rm -rf DIR\` of those (synced, by the drop_caches) files. On
  galleryfs the folder becomes one .trash entry holding every file (checked:
  the trash then holds exactly one entry); the trash is emptied untimed before
  the next repetition (galleryfs unmounted, entries deleted in STORAGE, remounted).
- **rm -rf while a watcher runs**: \`inotifywait -m\` on galleryfs's \`.trash\` and
  \`.Trash-UID/files\` (what a Trash window watches), then \`rm -rf\` of a folder
  of ${N_SMALL} synced 4 KiB files; native: the same with a watcher on the
  folder's parent. Checked: the watcher sees the folder's entry appear.
- **cp -R of new files / over existing files**: \`cp -R SRC/. DST\` of ${N_SMALL}
  synced 4 KiB files into a new directory, then over a directory of ${N_SMALL}
  existing 4 KiB files of other content (on galleryfs each overwritten file is
  kept as a .trash entry, checked by count).
- **cp over a ${SEQ_MIB} MiB file**: \`cp big OLD\` over an existing file of random
  content, after a \`sync\`; on galleryfs the old file moves into the trash whole
  (O_TRUNC of a file nobody holds open: no copy).
- **rm -rf of folder trees**: ${N_SMALL} synced 4 KiB files in 100 folders, on every
  target; and ${N_TRASH} files in $((N_TRASH / 100)) folders, native and galleryfs
  only: on galleryfs each tree becomes one entry (checked for the small one).
- **gallery-trash undo**: right after that small tree's \`rm -rf\`,
  \`gallery-trash undo --yes MOUNT\` until it returns (checked: every file is
  back); the tree is then \`rm -rf\`ed again and moved back by \`mv
  .trash/NAME gallery/\`, the same restore by hand.
- **untar**: \`tar -xf\` (as root: owners, modes and times restored) of an
  uncompressed archive built once from ~/.cargo/registry/src and /usr/share
  (scripts/bench/mktree.py, cached in target/bench/cache), read from the page
  cache, into a new directory, after a \`sync\`; no sync inside the timing. Each
  target's tree is removed (galleryfs: unmounted and deleted in STORAGE) before
  the next target's untar, while its data is still only in the page cache:
  deleting ~20k files once written to this disk takes longer than the untar.
- **find warm**: \`find TREE > /dev/null\` over the extracted tree after an
  untimed \`find | wc -l\`, which also checks that every name arrived.
- **find cold**: the same after \`drop_caches\` (galleryfs keeps running).
- **cp -R of the tree**: \`cp -R TREE TREE.copy\` on the same target, then
  **rm -rf** of that copy (on galleryfs: into the trash, one entry).
- **gio trash / trash-put**: \`find DIR -type f -print0 | xargs -0 gio trash\`
  (resp. trash-put of trash-cli, once: it is several times slower) of ${N_SMALL}
  synced 4 KiB files on native, with XDG_DATA_HOME under target/bench/run so the
  home trash is on the same disk: each file costs a rename plus a .trashinfo
  file, as on a desktop.
- **rm -rf into a .trash already holding ${N_PREFILL} entries**: with galleryfs
  unmounted, ${N_PREFILL} entries are added straight to STORAGE (an empty file in
  STORAGE/trash and its catalog row each, exactly what galleryfs records;
  scripts/bench/fill_store.py); after the mount, ${N_SMALL} synced 4 KiB files in
  gallery/many are \`rm -rf\`ed through it (one more entry: the folder), making
  ${N_TRASH} entries.
- **ls -l .trash**: \`ls -l MOUNT/.trash > /dev/null\` with those ${N_TRASH} entries:
  the first listing after the rm, then warm repetitions, then the RSS of the
  galleryfs process (every entry has been looked up), then cold listings
  (drop_caches before each).
- **stat latency**: a python loop timing \`os.stat(gallery/probe)\` once per ms
  (scripts/bench/statlat.py). Idle: 3 s on the mount holding ${N_TRASH} entries.
  During the sweep: from the moment the mount is live until STORAGE/trash is
  empty. The kernel's attribute cache may answer some calls without galleryfs.
- **gallery-trash empty --yes**: of the ${N_TRASH} entries, until it returns.
- **restore**: ${N_RESTORE} 4 KiB files in gallery/r are removed one by one into the
  trash (\`find gallery/r -mindepth 1 -delete\`, untimed: ${N_RESTORE} entries), then restored by \`find .trash -mindepth 1 -maxdepth 1 -exec mv -t
  gallery/r {} +\` (what a user's \`mv .trash/* gallery/r/\` does), and in the
  next cycle by \`gallery-trash restore\` (xargs; back to the original paths).
- **expiry sweep**: with galleryfs unmounted, ${N_SWEEP} entries deleted 60 s
  earlier are added straight to STORAGE as above; then \`galleryfs -f -o
  retention=1s,sweep=1h\`: time from the mount being live (and from the launch)
  until STORAGE/trash is empty, polled every 20 ms. The catalog is checked empty
  afterwards.
- **mount time with ${N_ROWS} rows**: a STORAGE holding ${N_ROWS} empty files in
  STORAGE/trash and their rows (generated once by fill_store.py, cached in
  target/bench/cache until the catalog schema changes), mounted by \`galleryfs
  STORAGE MOUNT -o retention=3650d\` in daemon mode (the retention keeps cached rows
  live whatever their age), timed until the command returns, i.e. until the mount
  is live. The first repetition follows a drop_caches (cold), the others are warm.
  These follow clean unmounts. After \`kill -9\`: a live mount of that STORAGE
  killed, then a cold mount, which compares every row with STORAGE/trash. After a
  crash of the machine: the catalog's clean-stop flag set as such a crash leaves it
  (\`meta.in_use = 1\`, no record of this boot), so the mount also runs
  \`PRAGMA quick_check\` over the catalog before that comparison; warm.
- **mounted by an ordinary user**: scripts/bench/user.sh runs as root in a private
  mount namespace where a user (uid 2199) exists (a passwd and a group bound over the
  real ones); as that user (\`setpriv\`) it mounts \`galleryfs -f\` and \`bindfs -f\`
  through fusermount3, as a desktop user does: no kernel passthrough (it needs
  CAP_SYS_ADMIN), so galleryfs serves every read and write itself. Then, as that user,
  interleaved over native, galleryfs and bindfs: the sequential read warm and cold
  (drop_caches), the 4 KiB random read, the sequential write + fsync, create and
  \`rm -rf\` of ${N_SMALL} files, as the rows above; ${MIN} repetitions.
- **RSS**: VmRSS (and the peak, VmHWM) of the galleryfs daemon from
  /proc/PID/status after \`ls .trash | wc -l\` has listed every entry.
EOF
}

meta runtime_s "$SECONDS"
meta commit "$GITREV"
log "done in $((SECONDS / 60)) min $((SECONDS % 60)) s"
PREV=()
[ "$MODE" = full ] && [ -s "$LAST/results.tsv" ] && PREV=(--previous "$LAST/results.tsv" "$LAST/meta.tsv")
TABLES=$(python3 "$HELPERS/stats.py" "$RES" "$META" "${PREV[@]}")
echo "$TABLES"
if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    printf -- '- %s\n' "${NOTES[@]}"
fi

if [ -n "$OUT" ]; then
    {
        echo "# galleryfs benchmarks"
        echo
        echo "Written by \`scripts/bench.sh\` (issue 5): galleryfs, the disk under it (\"native\") and"
        echo "bindfs side by side on one filesystem, in one run, interleaved, medians of the repetitions."
        echo "Rerun \`scripts/bench.sh\` (12 to 15 minutes here; \`--quick\`, about 2, for a smoke run) to refresh this file."
        echo "Ratios are time relative to native: above 1 is slower. The machine is noisy (2 shared"
        echo "vCPUs, a virtio disk that swings 2× between runs): compare within a run, not across runs."
        echo "A full run starts only on a quiet machine (load average below 1) and puts each ratio"
        echo "beside the previous full run's: a figure counts only where the two runs agree (within 20 %)."
        echo
        echo "## Run"
        echo
        printf -- '- %s\n' "${MACHINE[@]}"
        echo "- runtime: $((SECONDS / 60)) min $((SECONDS % 60)) s; at the end: load average $(load)"
        echo
        echo "## Results"
        echo
        echo "$TABLES"
        echo
        echo "## Notes from this run"
        echo
        if [ ${#NOTES[@]} -gt 0 ]; then printf -- '- %s\n' "${NOTES[@]}"; else echo "- none: every check passed (file counts after untar, rm -rf, restore, sweep)."; fi
        grep '^na_' "$META" | sed 's/^na_\([^\t]*\)\t/- n\/a \1: /' || true
        echo "- time per phase (s): $(grep '^phase_' "$META" | sed 's/^phase_//; s/\t/ /' | paste -sd, - | sed 's/,/, /g')"
        echo
        rows_doc
        echo
        echo "## Raw samples"
        echo
        echo "Every repetition, in the units of the tables (s, MiB/s, IOPS, ms, MiB)."
        echo
        python3 "$HELPERS/stats.py" "$RES" "$META" --samples | sed -n '/^| row | target/,$p'
    } >"$OUT"
    log "wrote $OUT"
fi
if [ "$MODE" = full ]; then
    mkdir -p "$LAST" && cp "$RES" "$META" "$LAST/"   # the next full run compares with this one
fi
