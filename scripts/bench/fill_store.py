#!/usr/bin/env python3
"""fill_store.py STORAGE COUNT DELETED_AT [PREFIX]

Fills an initialised, unmounted galleryfs STORAGE with COUNT trash entries
quickly: an empty file STORAGE/trash/PREFIX%07d each, and a matching settled
row in STORAGE/galleryfs.db (original path old/NAME, deleted at DELETED_AT,
epoch seconds; the backing inode number where the catalog has that column). The rows are exactly what galleryfs would have recorded for
an empty regular file deleted at that time, so the mount's reconcile finds
nothing to fix. Prints a JSON summary."""
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time

NEEDED = {"name", "original_path", "deleted_at", "kind", "uid", "size"}
OPTIONAL = {"ino"}  # filled in when the catalog has it


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    store, count, deleted_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    prefix = sys.argv[4] if len(sys.argv) == 5 else "e"
    db_path = os.path.join(store, "galleryfs.db")
    trash = os.path.join(store, "trash")
    if not os.path.isfile(db_path) or not os.path.isdir(trash):
        sys.exit(f"fill_store.py: {store} is not an initialised galleryfs STORAGE")
    db = sqlite3.connect(db_path)
    cols = {r[1]: r for r in db.execute("PRAGMA table_info(entries)")}
    missing = NEEDED - cols.keys()
    if missing:
        sys.exit(f"fill_store.py: the entries table lacks {sorted(missing)}: "
                 "the catalog schema changed, update scripts/bench/fill_store.py")
    # Any other NOT NULL column without a default would make the inserts fail.
    for name, (_, _, _, notnull, dflt, pk) in cols.items():
        if name not in NEEDED | OPTIONAL and notnull and dflt is None and not pk:
            sys.exit(f"fill_store.py: new NOT NULL column {name!r} in entries: "
                     "update scripts/bench/fill_store.py")
    t0 = time.monotonic()
    names = [f"{prefix}{i:07d}" for i in range(count)]
    for n in names[:1]:
        if os.path.lexists(os.path.join(trash, n)):
            sys.exit(f"fill_store.py: {trash}/{n} exists already")
    # touch(1) through xargs, two at a time: several times faster than a python loop here.
    feed = subprocess.Popen(["xargs", "-0", "-P", "2", "-n", "4096", "touch", "--"],
                            cwd=trash, stdin=subprocess.PIPE)
    feed.communicate(("\0".join(names)).encode())
    if feed.returncode != 0:
        sys.exit("fill_store.py: touch failed")
    t1 = time.monotonic()
    uid = os.getuid()
    kind = stat.S_IFREG
    # Newer catalogs record each entry's backing inode number, as galleryfs does on a move.
    inos = None
    if "ino" in cols:
        wanted = set(names)
        inos = {}
        with os.scandir(trash) as it:
            for e in it:
                if e.name in wanted:
                    inos[e.name] = e.inode()
    db.execute("BEGIN")
    if inos is None:
        db.executemany(
            "INSERT INTO entries (name, original_path, deleted_at, kind, uid, size) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((n.encode(), b"old/" + n.encode(), deleted_at, kind, uid, 0) for n in names),
        )
    else:
        db.executemany(
            "INSERT INTO entries (name, original_path, deleted_at, kind, uid, size, ino) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((n.encode(), b"old/" + n.encode(), deleted_at, kind, uid, 0, inos[n]) for n in names),
        )
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    t2 = time.monotonic()
    print(json.dumps({"entries": count, "files_s": round(t1 - t0, 2), "rows_s": round(t2 - t1, 2)}))


if __name__ == "__main__":
    main()
