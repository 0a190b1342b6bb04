#!/usr/bin/env bash
# user.sh RUN GFS SEQ_MIB N_SMALL REPS RR_SECS HAVE_FIO RESULTS: the rows of scripts/bench.sh
# mounted by an ordinary user, as a desktop user mounts galleryfs: through fusermount3, without
# kernel passthrough (it needs CAP_SYS_ADMIN), so the daemon serves every read and write itself.
# bindfs as the same user beside it. Run by bench.sh as root inside `unshare --mount`: the user
# (uid 2199, "gfsbench") exists only in this mount namespace, through a passwd and a group file
# bound over the real ones (fusermount3 wants a user name), and so do its mounts.
set -euo pipefail
RUN=$1 GFS=$2 SEQ_MIB=$3 N_SMALL=$4 REPS=$5 RR_SECS=$6 HAVE_FIO=$7 RES=$8
U=2199
D=$RUN/user
mkdir -p "$D/etc"
cp /etc/passwd "$D/etc/passwd"; cp /etc/group "$D/etc/group"
echo "gfsbench:x:$U:$U::/nonexistent:/bin/sh" >>"$D/etc/passwd"
echo "gfsbench:x:$U:" >>"$D/etc/group"
mount --bind "$D/etc/passwd" /etc/passwd
mount --bind "$D/etc/group" /etc/group
AS=(setpriv --reuid "$U" --regid "$U" --clear-groups --)
# The system's python: root's may live where the user cannot reach it (pyenv).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
mkdir -p "$D/native" "$D/gfs-store/gallery" "$D/gfs-mnt" "$D/bind-src" "$D/bind-mnt" "$D/tmp"
chown -R "$U:$U" "$D/native" "$D/gfs-store" "$D/gfs-mnt" "$D/bind-src" "$D/bind-mnt" "$D/tmp"
declare -A WD=([native]=$D/native [galleryfs]=$D/gfs-mnt/gallery [bindfs]=$D/bind-mnt)
TARGETS=(native galleryfs bindfs)

rec() { printf 'user_%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RES"; }
timed() { local t0=$EPOCHREALTIME; "$@"; T=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'); }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a / b }'; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
mounted() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }
until_mounted() {
    local i
    for i in $(seq 600); do mounted "$1" && return 0; sleep 0.05; done
    echo "user.sh: nothing mounted on $1" >&2; exit 1
}

for f in "${WD[native]}/big" "$D/gfs-store/gallery/big" "$D/bind-src/big"; do
    "${AS[@]}" dd if=/dev/zero of="$f" bs=1M count="$SEQ_MIB" status=none
done
sync
"${AS[@]}" "$GFS" "$D/gfs-store" "$D/gfs-mnt" -f 2>>"$RUN/galleryfs-user.log" &
GPID=$!
"${AS[@]}" bindfs --no-allow-other -f "$D/bind-src" "$D/bind-mnt" 2>>"$RUN/bindfs-user.log" &
BPID=$!
trap 'umount "$D/gfs-mnt" "$D/bind-mnt" 2>/dev/null; wait' EXIT
until_mounted "$D/gfs-mnt"
until_mounted "$D/bind-mnt"
grep -q "passthrough enabled" "$RUN/galleryfs-user.log" &&
    echo "user.sh: galleryfs got kernel passthrough as an ordinary user: the section measures the wrong thing" >&2

randread() {   # FILE: prints IOPS
    if [ "$HAVE_FIO" = 1 ]; then
        "${AS[@]}" fio --name=randread --filename="$1" --rw=randread --bs=4k --size="${SEQ_MIB}M" \
            --ioengine=psync --invalidate=0 --numjobs=1 --time_based --runtime="$RR_SECS" \
            --output-format=json --output="$D/tmp/fio.json" >/dev/null
        "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"][0]["read"]["iops"])' "$D/tmp/fio.json"
    else
        "${AS[@]}" "$PY" - "$1" "$RR_SECS" <<'EOF'
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
read_big() { "${AS[@]}" dd if="$1" of=/dev/null bs=1M status=none; }
write_big() { "${AS[@]}" dd if=/dev/zero of="$1" bs=1M count="$SEQ_MIB" conv=fsync status=none; }
gone() {   # TARGET NAME: untimed removal (galleryfs: into the trash, then out of it for good)
    local p=${WD[$1]}/$2
    if [ "$1" = galleryfs ]; then
        "${AS[@]}" mv "$p" "$D/gfs-mnt/.trash/zz-$2"
        "${AS[@]}" rm -rf "$D/gfs-mnt/.trash/zz-$2"
    else
        "${AS[@]}" rm -rf "$p"
    fi
}

for rep in $(seq "$REPS"); do
    for t in "${TARGETS[@]}"; do
        read_big "${WD[$t]}/big"
        timed read_big "${WD[$t]}/big"
        rec seqread "$t" "$(div "$SEQ_MIB" "$T")"
    done
    for t in "${TARGETS[@]}"; do
        drop_caches
        timed read_big "${WD[$t]}/big"
        rec seqread_cold "$t" "$(div "$SEQ_MIB" "$T")"
    done
    for t in "${TARGETS[@]}"; do
        read_big "${WD[$t]}/big"
        iops=$(randread "${WD[$t]}/big")
        [ -n "$iops" ] || { echo "user.sh: the random read on $t gave no figure" >&2; exit 1; }
        rec randread "$t" "$iops"
    done
    for t in "${TARGETS[@]}"; do
        sync
        timed write_big "${WD[$t]}/w.$rep"
        rec seqwrite "$t" "$(div "$SEQ_MIB" "$T")"
        gone "$t" "w.$rep"
    done
    for t in "${TARGETS[@]}"; do
        timed "${AS[@]}" "$PY" "$(dirname "$0")/mkfiles.py" "${WD[$t]}/small.$rep" "$N_SMALL" 4096
        rec create "$t" "$T"
    done
    sync
    for t in "${TARGETS[@]}"; do
        timed "${AS[@]}" rm -rf "${WD[$t]}/small.$rep"
        rec rm "$t" "$T"
    done
    "${AS[@]}" find "$D/gfs-mnt/.trash" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
done
