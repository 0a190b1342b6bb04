#!/usr/bin/env python3
"""statlat.py PROBE [--interval-ms 1] [--duration S] [--until-empty DIR] [--timeout S]

Times os.stat(PROBE) once per interval and prints JSON with the latency
percentiles in milliseconds. Stops after --duration seconds, or, with
--until-empty, as soon as DIR holds no entry (checked every 20 ms by a second
thread) — then `emptied_at` is the wall-clock time (epoch seconds) it was seen
empty. --timeout bounds the whole run."""
import argparse
import json
import os
import threading
import time


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("probe")
    ap.add_argument("--interval-ms", type=float, default=1.0)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--until-empty")
    ap.add_argument("--timeout", type=float, default=600.0)
    a = ap.parse_args()

    stop = threading.Event()
    emptied = {}

    def watch():
        while not stop.is_set():
            with os.scandir(a.until_empty) as it:
                if next(it, None) is None:
                    emptied["at"] = time.time()
                    stop.set()
                    return
            stop.wait(0.02)

    if a.until_empty:
        threading.Thread(target=watch, daemon=True).start()
    started = time.time()
    t_end = time.monotonic() + (a.duration if a.duration else a.timeout)
    hard_end = time.monotonic() + a.timeout
    lat = []
    errors = 0
    interval = a.interval_ms / 1000.0
    nxt = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= t_end or now >= hard_end:
            break
        t0 = time.perf_counter()
        try:
            os.stat(a.probe)
        except OSError:
            errors += 1
        lat.append((time.perf_counter() - t0) * 1000.0)
        nxt += interval
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            nxt = time.monotonic()
    stop.set()
    lat.sort()
    print(json.dumps({
        "n": len(lat),
        "errors": errors,
        "started_at": started,
        "emptied_at": emptied.get("at"),
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "p999_ms": pct(lat, 99.9),
        "max_ms": lat[-1] if lat else None,
    }))


if __name__ == "__main__":
    main()
