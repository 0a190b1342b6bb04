#!/usr/bin/env python3
"""mkfiles.py DIR COUNT SIZE [PREFIX]: create DIR (and parents) and COUNT files
PREFIX0 .. PREFIX{COUNT-1} of SIZE bytes each, with one open/write/close per file.
Used both as a timed workload (create 10,000 x 4 KiB) and as setup."""
import os
import sys


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    d, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    prefix = sys.argv[4] if len(sys.argv) == 5 else "f"
    os.makedirs(d, exist_ok=True)
    buf = b"\xa5" * size
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for i in range(count):
        fd = os.open(os.path.join(d, f"{prefix}{i:07d}"), flags, 0o644)
        if size:
            os.write(fd, buf)
        os.close(fd)


if __name__ == "__main__":
    main()
