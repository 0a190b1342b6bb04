#!/usr/bin/env python3
"""stats.py RESULTS.tsv META.tsv [--previous RESULTS.tsv META.tsv] [--samples]

Turns the raw samples bench.sh recorded (ROW<TAB>TARGET<TAB>VALUE, one line per
repetition) into the markdown tables of BENCHMARKS.md: medians, ratios to
native, and the issue-5 targets. META.tsv holds KEY<TAB>VALUE (sizes, tool
versions, and na_ROW = why a row could not be measured). With --previous, each
ratio is shown beside an earlier run's, and whether the two agree: within
AGREE of each other (issue 14's 20 %), whichever side of the target they fall."""
import statistics
import sys
from collections import defaultdict

TARGETS = ("native", "galleryfs", "bindfs", "nullfs")
AGREE = 0.20   # two runs' ratios agree when they differ by at most this share

# id, label, unit, better, target ratio (galleryfs / native, >1 slower)
MAIN = [
    ("seqread", "sequential read {seq_mib} MiB, warm", "MiB/s", "higher", 1.1),
    ("randread", "4 KiB random read, warm, 1 job ({rr_tool})", "IOPS", "higher", 1.1),
    ("seqwrite", "sequential write {seq_mib} MiB + fsync", "MiB/s", "higher", 1.2),
    ("create", "create {n_small} × 4 KiB files", "s", "lower", 2.0),
    ("ls_cold", "`ls -l` of {n_small} files, cold", "s", "lower", 1.5),
    ("ls_warm", "`ls -l` of {n_small} files, warm", "s", "lower", 1.3),
    ("mv", "`mv` of {n_small} files into another folder", "s", "lower", 2.5),
    ("rm", "`rm -rf` of a folder of {n_small} files (galleryfs: one entry)", "s", "lower", 2.5),
    ("rm_watched", "`rm -rf` of a folder of {n_small} files while inotifywait watches the trash", "s", "lower", 2.5),
    ("rm_folders", "`rm -rf` of {n_small} files in 100 folders (galleryfs: one entry)", "s", "lower", 2.5),
    ("rm_folders_big", "`rm -rf` of {n_trash} files in {n_trash_folders} folders (galleryfs: one entry)", "s", "lower", 2.5),
    ("cp_new", "`cp -R` of {n_small} new 4 KiB files", "s", "lower", 2.5),
    ("overwrite", "`cp -R` over {n_small} existing 4 KiB files (galleryfs: each kept in .trash)", "s", "lower", 2.5),
    ("overwrite_big", "`cp` over an existing {seq_mib} MiB file (galleryfs: kept whole, no copy)", "s", "lower", 1.3),
    ("untar", "untar {tree_files} files / {tree_dirs} dirs / {tree_mib} MiB", "s", "lower", 3.0),
    ("find", "`find` over that tree, warm", "s", "lower", 1.5),
    ("find_cold", "`find` over that tree, cold (drop_caches)", "s", "lower", 2.0),
    ("cp_tree", "`cp -R` of that tree", "s", "lower", 2.5),
    ("rm_tree", "`rm -rf` of that copy (galleryfs: one entry)", "s", "lower", 2.0),
]

# Mounted by an ordinary user (scripts/bench/user.sh): no kernel passthrough.
USER = [
    ("user_seqread", "sequential read {seq_mib} MiB, warm", "MiB/s", "higher", 1.5),
    ("user_seqread_cold", "sequential read {seq_mib} MiB, cold (drop_caches)", "MiB/s", "higher", 1.5),
    ("user_randread", "4 KiB random read, warm, 1 job ({rr_tool})", "IOPS", "higher", 1.1),
    ("user_seqwrite", "sequential write {seq_mib} MiB + fsync", "MiB/s", "higher", 1.5),
    ("user_create", "create {n_small} × 4 KiB files", "s", "lower", 2.0),
    ("user_rm", "`rm -rf` of a folder of {n_small} files (galleryfs: one entry)", "s", "lower", 2.0),
]


def load(results, meta_path):
    samples = defaultdict(list)
    with open(results) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                samples[(parts[0], parts[1])].append(float(parts[2]))
    meta = {}
    with open(meta_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return samples, meta


def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "s":
        if v >= 100:
            return f"{v:.0f} s"
        if v >= 10:
            return f"{v:.1f} s"
        if v >= 1:
            return f"{v:.2f} s"
        return f"{v * 1000:.0f} ms" if v >= 0.01 else f"{v * 1000:.1f} ms"
    if unit == "ms":
        return f"{v:.2f} ms" if v < 10 else f"{v:.0f} ms"
    if unit == "MiB/s":
        return f"{v:.0f} MiB/s"
    if unit == "IOPS":
        return f"{v / 1000:.0f}k IOPS" if v >= 10000 else f"{v:.0f} IOPS"
    if unit == "MiB":
        return f"{v:.0f} MiB" if v >= 10 else f"{v:.1f} MiB"
    return f"{v:g} {unit}"


def ratio_str(r):
    if r is None:
        return "—"
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×"


def gfs_ratio(med, better):
    """galleryfs ÷ native for a MAIN row's medians (above 1: slower), or None."""
    g, n = med.get("galleryfs"), med.get("native")
    if not g or not n:
        return None
    return g / n if better == "lower" else n / g


def agree(a, b):
    if a is None or b is None:
        return "—"
    # Both on the same side of the target is not agreement: 13x and 28x
    # would count as one figure.
    return "yes" if abs(a - b) <= AGREE * max(a, b) else "no"


class Report:
    def __init__(self, samples, meta, previous=None):
        self.s, self.m = samples, meta
        self.prev = previous   # an earlier run's Report, or None

    def med(self, row, target="-"):
        v = self.s.get((row, target))
        return statistics.median(v) if v else None

    def n(self, row, target="-"):
        return len(self.s.get((row, target), []))

    def label(self, text):
        return text.format_map(defaultdict(lambda: "?", self.m))

    def na(self, row):
        why = self.m.get("na_" + row)
        return f"n/a: {why}" if why else "—"

    def main_table(self, rows=MAIN):
        out = [
            "| workload | native | galleryfs | bindfs | FUSE bound (nullfs) | galleryfs ÷ native "
            "| bindfs ÷ native | bound ÷ native | target | target met | galleryfs faster than bindfs |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|:-:|",
        ]
        if self.prev:
            when = self.prev.m.get("started", "?") + ", commit " + self.prev.m.get("commit", "?")
            out[0] += f" previous run ({when}) | runs agree |"
            out[1] += "---:|:-:|"
        for row, label, unit, better, target in rows:
            med = {t: self.med(row, t) for t in TARGETS}
            ratio = {}
            for t in ("galleryfs", "bindfs", "nullfs"):
                if med[t] and med["native"]:
                    ratio[t] = (med[t] / med["native"]) if better == "lower" else (med["native"] / med[t])
                else:
                    ratio[t] = None
            met = "—" if ratio["galleryfs"] is None else ("yes" if ratio["galleryfs"] <= target else "no")
            if ratio["galleryfs"] is None or ratio["bindfs"] is None:
                beats = "—"
            else:
                beats = "yes" if ratio["galleryfs"] < ratio["bindfs"] else "no"
            cells = [fmt(med[t], unit) if med[t] is not None else self.na(row) for t in TARGETS[:3]]
            # The bound runs on the metadata rows only: elsewhere it is simply absent.
            cells.append(fmt(med["nullfs"], unit) if med["nullfs"] is not None else "—")
            line = (
                f"| {self.label(label)} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | "
                f"{ratio_str(ratio['galleryfs'])} | {ratio_str(ratio['bindfs'])} | "
                f"{ratio_str(ratio['nullfs'])} | ≤ {target:g}× | {met} | {beats} |"
            )
            if self.prev:
                before = gfs_ratio({t: self.prev.med(row, t) for t in TARGETS}, better)
                line += f" {ratio_str(before)} | {agree(ratio['galleryfs'], before)} |"
            out.append(line)
        return "\n".join(out)

    def trash_table(self):
        L = self.label
        rows = []

        def add(label, value, reps, compared, target, met):
            rows.append(f"| {L(label)} | {value} | {reps} | {compared} | {target} | {met} |")

        def val(row, unit, target="-"):
            v = self.med(row, target)
            return fmt(v, unit) if v is not None else self.na(row)

        # rm -rf into the trash vs the userland alternatives.
        g, nat = self.med("rm", "galleryfs"), self.med("rm", "native")
        gio, tp = self.med("gio_trash"), self.med("trash_put")
        parts = []
        ok = None
        if g is not None and nat is not None:
            parts.append(f"native `rm -rf` {fmt(nat, 's')} ({g / nat:.2f}×)")
            ok = g / nat <= 2.5
        if gio is not None and g is not None:
            parts.append(f"`gio trash` {fmt(gio, 's')} (galleryfs {gio / g:.1f}× faster)" if g < gio
                         else f"`gio trash` {fmt(gio, 's')} (galleryfs {g / gio:.1f}× slower)")
            ok = ok is not False and g < gio
        else:
            parts.append(f"`gio trash` {self.na('gio_trash')}")
        if tp is not None and g is not None:
            parts.append(f"`trash-put` {fmt(tp, 's')} ({tp / g:.1f}× galleryfs)")
        else:
            parts.append(f"`trash-put` {self.na('trash_put')}")
        add("`rm -rf` of {n_small} files into galleryfs's .trash", fmt(g, "s"), self.n("rm", "galleryfs"),
            "; ".join(parts), "≤ 2.5× native `rm -rf`, faster than `gio trash`",
            "—" if ok is None else ("yes" if ok else "no"))
        add("native `gio trash` of the same {n_small} files (xargs; home trash on the same disk)",
            val("gio_trash", "s"), self.n("gio_trash"), "userland alternative", "—", "")
        add("native `trash-put` of the same {n_small} files ({trash_cli})",
            val("trash_put", "s"), self.n("trash_put"), "userland alternative", "—", "")

        v = self.med("rm_full")
        add("`rm -rf` of {n_small} files into a .trash already holding {n_prefill} entries", val("rm_full", "s"),
            self.n("rm_full"), f"into an empty .trash: {fmt(g, 's')}" if g is not None else "", "—", "")
        v = self.med("ls_trash_warm")
        add("`ls -l .trash` with {n_trash} entries, warm", val("ls_trash_warm", "s"), self.n("ls_trash_warm"),
            f"first listing after the `rm -rf`: {val('ls_trash_first', 's')}", "< 1 s",
            "—" if v is None else ("yes" if v < 1 else "no"))
        add("`ls -l .trash` with {n_trash} entries, cold (drop_caches, daemon running)", val("ls_trash_cold", "s"),
            self.n("ls_trash_cold"), "", "—", "")
        v = self.med("rss_trash")
        add("galleryfs RSS (VmRSS) after those warm `ls -l .trash`, {n_trash} entries", val("rss_trash", "MiB"),
            self.n("rss_trash"), "every entry looked up by `ls -l`", "< 100 MB",
            "—" if v is None else ("yes" if v * 1.048576 < 100 else "no"))
        for row, how in (("restore_mv", "`mv` from .trash into gallery/ (`find .trash -exec mv -t gallery/r {{}} +`)"),
                         ("restore_gt", "`gallery-trash restore` (xargs)")):
            v = self.med(row)
            add(f"restore {{n_restore}} entries: {how}", val(row, "s"), self.n(row),
                f"{v / float(self.m.get('n_restore', 1)) * 1e6:.0f} µs per entry" if v else "", "—", "")
        v, mv = self.med("undo_folders"), self.med("undo_mv")
        add("`gallery-trash undo --yes` of that `rm -rf` of {n_small} files in 100 folders", val("undo_folders", "s"),
            self.n("undo_folders"), f"`mv` of the folder from .trash back: {val('undo_mv', 's')}"
            + (f" ({v / mv:.2f}×)" if v and mv else ""), "≤ 2× `mv`",
            "—" if not (v and mv) else ("yes" if v / mv <= 2 else "no"))
        v = self.med("empty")
        add("`gallery-trash empty --yes` of {n_trash} entries", val("empty", "s"), self.n("empty"),
            f"{v / float(self.m.get('n_trash', 1)) * 1e6:.0f} µs per entry" if v else "", "—", "")
        v = self.med("sweep")
        add("expiry sweep of {n_sweep} due entries (`retention=1s`), mount live → STORAGE/trash empty",
            val("sweep", "s"), self.n("sweep"),
            (f"{float(self.m['n_sweep']) / v:.0f} entries/s; from launch {val('sweep_launch', 's')}" if v else ""),
            "in batches, no stall", "see next row")
        p99, p99i = self.med("stat_sweep_p99"), self.med("stat_idle_p99")
        cmp_ = (f"p50 {val('stat_sweep_p50', 'ms')}, max {val('stat_sweep_max', 'ms')}, "
                f"{int(self.med('stat_sweep_n') or 0)} samples; idle mount: p99 {val('stat_idle_p99', 'ms')}, "
                f"max {val('stat_idle_max', 'ms')}")
        add("p99 latency of `stat` of a gallery/ file (every 1 ms) while the sweep runs", val("stat_sweep_p99", "ms"),
            self.n("stat_sweep_p99"), cmp_, "report (no stall)", "")
        for row, what in (("mount_cold", "cold (drop_caches)"), ("mount_warm", "warm")):
            v = self.med(row)
            add(f"mount time with {{n_rows}} trash rows, {what}: `galleryfs` in daemon mode until it returns",
                val(row, "s"), self.n(row), "", "< 1 s", "—" if v is None else ("yes" if v < 1 else "no"))
        v = self.med("mount_killed")
        add("mount time with {n_rows} trash rows after `kill -9` of galleryfs (full reconcile), cold", val("mount_killed", "s"),
            self.n("mount_killed"), "", "≤ 3 s", "—" if v is None else ("yes" if v <= 3 else "no"))
        add("mount time with {n_rows} trash rows after a crash of the machine (quick_check, full reconcile), warm",
            val("mount_unclean", "s"), self.n("mount_unclean"), "", "—", "")
        add("`ls .trash \\| wc -l` with {n_rows} rows, first after mount", val("ls_rows", "s"), self.n("ls_rows"),
            f"counted {self.m.get('rows_seen', '?')} entries", "—", "")
        v = self.med("rss")
        add("galleryfs RSS (VmRSS) after that listing, {n_rows} rows", val("rss", "MiB"), self.n("rss"),
            f"peak VmHWM {val('hwm', 'MiB')}", "< 100 MB", "—" if v is None else ("yes" if v * 1.048576 < 100 else "no"))
        head = ["| galleryfs trash workload | median | reps | compared with / detail | target | met |",
                "|---|---:|:-:|---|---|:-:|"]
        return "\n".join(head + rows)

    def samples_table(self):
        out = ["| row | target | samples |", "|---|---|---|"]
        for (row, target), vals in sorted(self.s.items()):
            out.append(f"| {row} | {target} | {', '.join(f'{v:.4g}' for v in vals)} |")
        return "\n".join(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    samples, meta = load(sys.argv[1], sys.argv[2])
    previous = None
    if "--previous" in sys.argv[3:]:
        i = sys.argv.index("--previous")
        previous = Report(*load(sys.argv[i + 1], sys.argv[i + 2]))
    r = Report(samples, meta, previous)
    print(r.main_table())
    print()
    if any(row == "user_create" for row, _ in samples):
        print("Mounted by an ordinary user (fusermount3; no kernel passthrough, which needs CAP_SYS_ADMIN):")
        print()
        print(r.main_table(USER))
        print()
    print(r.trash_table())
    if "--samples" in sys.argv[3:]:
        print()
        print(r.samples_table())


if __name__ == "__main__":
    main()
