#!/usr/bin/env python3
"""mktree.py OUT.tar MAX_FILES MAX_MIB ROOT...

Builds the untar benchmark's source tree from files already on the machine:
walks each ROOT in sorted order and archives its directories and regular files
(at most 64 per directory, each at most 1 MiB; symlinks, sockets and unreadable
files are skipped) until MAX_FILES files or MAX_MIB MiB are reached. The archive
is uncompressed, so untarring it measures the filesystem, not gzip. Paths in the
archive are tree/<n>/<path below ROOT n>. Prints a JSON summary (files, dirs,
bytes) that is also written to OUT.tar.json."""
import json
import os
import stat
import sys
import tarfile

PER_DIR = 64
MAX_FILE = 1 << 20


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    out, max_files, max_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) << 20
    roots = [r for r in sys.argv[4:] if os.path.isdir(r)]
    if not roots:
        sys.exit("mktree.py: none of the source roots exists")
    files = dirs = size = 0
    tmp = out + ".part"
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as tar:
        tar.add(roots[0], arcname="tree", recursive=False)
        dirs += 1
        done = False
        for n, root in enumerate(roots):
            for top, subdirs, names in os.walk(root):
                subdirs.sort()
                rel = os.path.relpath(top, root)
                arc_top = f"tree/{n}" if rel == "." else f"tree/{n}/{rel}"
                tar.add(top, arcname=arc_top, recursive=False)
                dirs += 1
                taken = 0
                for name in sorted(names):
                    if taken >= PER_DIR:
                        break
                    p = os.path.join(top, name)
                    try:
                        st = os.lstat(p)
                        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE:
                            continue
                        with open(p, "rb"):
                            pass
                    except OSError:
                        continue
                    tar.add(p, arcname=f"{arc_top}/{name}", recursive=False)
                    files += 1
                    size += st.st_size
                    taken += 1
                    if files >= max_files or size >= max_bytes:
                        done = True
                        break
                if done:
                    break
            if done:
                break
    os.replace(tmp, out)
    info = {"files": files, "dirs": dirs, "bytes": size}
    with open(out + ".json", "w") as f:
        json.dump(info, f)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
