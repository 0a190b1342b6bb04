//! What the trash costs in storage (issue 7), on a small tmpfs STORAGE:
//! df counts the trash as free, a full disk purges the oldest entries (never
//! younger than `min_retention`), `max_trash` and `quota`, and concurrent
//! writers on a nearly full disk.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use galleryfs_testkit::errno::must_fail;
use galleryfs_testkit::xattr;
use galleryfs_testkit::{Mount, Tmpfs, gallery_trash_bin, ok, run, wait_until};

const MIB: u64 = 1 << 20;
/// The size of every test's STORAGE.
const TMPFS_SIZE: &str = "64m";
/// What a write that fits leaves at least, in these tests.
const SLACK: u64 = 2 * MIB;

/// galleryfs on a fresh tmpfs. Fields drop in order: the mount first.
struct Small {
    m: Mount,
    tmpfs: Tmpfs,
}

fn small(options: &[&str]) -> Small {
    let tmpfs = Tmpfs::new(TMPFS_SIZE);
    let m = Mount::on_storage(tmpfs.path(), options);
    Small { m, tmpfs }
}

/// Block figures in bytes, from statvfs(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Space {
    total: u64,
    free: u64,
    avail: u64,
}

fn statvfs(path: &Path) -> Space {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid path and out pointer.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    assert_eq!(
        rc,
        0,
        "statvfs {}: {}",
        path.display(),
        io::Error::last_os_error()
    );
    let f = st.f_frsize;
    Space {
        total: st.f_blocks * f,
        free: st.f_bfree * f,
        avail: st.f_bavail * f,
    }
}

/// `df -B1` of each path, from one run of df: (size, used, available) in bytes.
fn df(paths: &[&Path]) -> Vec<(u64, u64, u64)> {
    let out = ok(Command::new("df")
        .args(["-B1", "--output=size,used,avail"])
        .args(paths));
    out.lines()
        .skip(1)
        .map(|line| {
            let n: Vec<u64> = line
                .split_whitespace()
                .map(|w| w.parse().expect("a number"))
                .collect();
            (n[0], n[1], n[2])
        })
        .collect()
}

/// Deterministic, incompressible-looking content: `size` bytes for `seed`.
fn content(seed: u64, size: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes `size` bytes of `content(seed)` to a new file, `chunk` bytes per write(2).
fn write_chunked(path: &Path, seed: u64, size: u64, chunk: u64) -> io::Result<()> {
    let data = content(seed, size);
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    for part in data.chunks(chunk as usize) {
        f.write_all(part)?;
    }
    f.sync_all()
}

fn write_file(path: &Path, seed: u64, size: u64) -> io::Result<()> {
    write_chunked(path, seed, size, MIB)
}

fn assert_content(path: &Path, seed: u64, size: u64) {
    let mut got = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut got))
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        got.len() as u64 == size && got == content(seed, size),
        "{} does not hold what was written",
        path.display()
    );
}

/// A file of `size` written into the gallery and deleted into the trash.
fn trash_file(m: &Mount, name: &str, size: u64) {
    let path = m.gallery().join(name);
    write_file(&path, size, size).unwrap();
    fs::remove_file(&path).unwrap();
}

fn trash_total(m: &Mount) -> u64 {
    xattr::get_string_opt(&m.trash(), "user.trash.total_size")
        .expect("user.trash.total_size")
        .parse()
        .unwrap()
}

/// Fills the gallery with a file `name` until the backing filesystem has
/// about `left` bytes available; nothing is purged on the way.
fn fill_leaving(s: &Small, name: &str, left: u64) {
    let avail = statvfs(s.tmpfs.path()).avail;
    let size = (avail - left) / MIB * MIB;
    write_file(&s.m.gallery().join(name), 7, size).unwrap();
    let after = statvfs(s.tmpfs.path()).avail;
    assert!(
        after >= left && after < left + 2 * MIB,
        "filled to {after} bytes free"
    );
}

fn gallery_trash(cwd: &Path, args: &[&str]) -> std::process::Output {
    run(Command::new(gallery_trash_bin())
        .args(args)
        .current_dir(cwd))
}

/// Purge log lines of the daemon, in order.
fn purges(m: &Mount) -> Vec<String> {
    m.log()
        .lines()
        .filter(|l| l.contains(": purged "))
        .map(str::to_owned)
        .collect()
}

/// Waits until the daemon has let go of the file `backing` (in STORAGE):
/// the kernel tells it of a close asynchronously (RELEASE), so right after
/// `close` returns it may still hold the file's descriptor.
fn wait_released(m: &Mount, backing: &Path) {
    use std::os::unix::fs::MetadataExt;
    let st = fs::metadata(backing).unwrap();
    let fds = PathBuf::from(format!("/proc/{}/fd", m.pid()));
    wait_until("galleryfs to close the file", || {
        fs::read_dir(&fds)
            .unwrap()
            .filter_map(Result::ok)
            .all(|fd| {
                fs::metadata(fd.path()).map_or(true, |held| {
                    (held.dev(), held.ino()) != (st.dev(), st.ino())
                })
            })
    });
}

#[test]
fn df_counts_the_trash_as_available() {
    let mut s = small(&[]);
    let store = &s.tmpfs.path().to_path_buf();
    let m = &s.m;
    for name in ["a", "b", "c"] {
        write_file(&m.gallery().join(name), 1, 8 * MIB).unwrap();
    }
    let before = df(&[store, &m.mountpoint]);
    assert_eq!(before[0], before[1], "an empty trash changes nothing");

    for name in ["a", "b", "c"] {
        fs::remove_file(m.gallery().join(name)).unwrap();
    }
    let after = df(&[store, &m.mountpoint]);
    let ((size, used, avail), (msize, mused, mavail)) = (after[0], after[1]);
    // STORAGE still holds the bytes (the trash is a rename away)...
    assert!(
        avail + MIB > before[0].2 && avail <= before[0].2,
        "{before:?} {after:?}"
    );
    // ...but the mount shows them as available, not used.
    assert_eq!(msize, size);
    assert_eq!(mavail, avail + 24 * MIB, "{after:?}");
    assert_eq!(mused, used - 24 * MIB, "{after:?}");
    assert_eq!(trash_total(m), 24 * MIB);
    let vfs = statvfs(&m.mountpoint);
    assert!(vfs.free >= vfs.avail && vfs.free <= vfs.total);

    // Restoring takes the space again; purging frees it on STORAGE too, by
    // the time `rm` returns: galleryfs holds nothing of a purged file that
    // no one has open (no descriptor, no pin).
    fs::rename(m.trash().join("b"), m.gallery().join("b")).unwrap();
    wait_released(m, &m.storage_trash().join("a"));
    fs::remove_file(m.trash().join("a")).unwrap();
    let later = df(&[store, &m.mountpoint]);
    assert_eq!(later[1].2, later[0].2 + 8 * MIB, "{later:?}");
    assert!(
        later[0].2 >= avail + 7 * MIB,
        "purging a freed its 8 MiB: {later:?}"
    );
    assert_eq!(trash_total(m), 8 * MIB);

    // The counter is the catalog's sum at mount.
    s.m.remount();
    let again = df(&[store, &s.m.mountpoint]);
    assert_eq!(again[1].2, again[0].2 + 8 * MIB, "{again:?}");
    assert_eq!(trash_total(&s.m), 8 * MIB);
    assert_eq!(
        xattr::get_string_opt(&s.m.trash(), "user.trash.purging_for_space").unwrap(),
        "no"
    );
    assert_eq!(
        xattr::get_string_opt(&s.m.trash(), "user.trash.max_size"),
        None,
        "no cap"
    );
}

#[test]
fn a_full_disk_purges_the_oldest_entries_first() {
    let s = small(&[]);
    let m = &s.m;
    for name in ["a", "b", "c", "d"] {
        trash_file(m, name, 8 * MIB);
    }
    fill_leaving(&s, "filler", SLACK);
    assert_eq!(
        m.trash_names(),
        ["a", "b", "c", "d"],
        "filling purged nothing"
    );

    // 12 MiB with 2 free: the oldest two entries (16 MiB) must go, no more.
    write_file(&m.gallery().join("new"), 3, 12 * MIB).expect("the write succeeds");
    assert_eq!(m.trash_names(), ["c", "d"], "{}", m.log());
    let purged = purges(m);
    assert_eq!(purged.len(), 2, "{purged:?}");
    assert!(
        purged[0].contains("disk full: purged \"a\" (from gallery/a, 8.0 MiB)"),
        "{purged:?}"
    );
    assert!(
        purged[1].contains("purged \"b\" (from gallery/b"),
        "{purged:?}"
    );
    assert_content(&m.gallery().join("new"), 3, 12 * MIB);
    assert_eq!(trash_total(m), 16 * MIB);
    assert_eq!(
        xattr::get_string_opt(&m.trash(), "user.trash.purging_for_space").unwrap(),
        "yes"
    );
    let list = gallery_trash(&m.mountpoint, &["list"]);
    let out = String::from_utf8_lossy(&list.stdout);
    assert!(
        out.lines()
            .last()
            .unwrap()
            .ends_with("; purging the oldest entries for space"),
        "{out}"
    );

    // Creating names purges too, as does a file extended by fallocate.
    fill_leaving(&s, "filler2", SLACK);
    let f = File::create(m.gallery().join("reserved")).unwrap();
    // SAFETY: a valid fd; plain fallocate of 6 MiB.
    let rc = unsafe { libc::fallocate(std::os::fd::AsRawFd::as_raw_fd(&f), 0, 0, 6 << 20) };
    assert_eq!(rc, 0, "fallocate: {}", io::Error::last_os_error());
    assert_eq!(m.trash_names(), ["d"]);
}

#[test]
fn min_retention_keeps_young_entries_and_enospc_reaches_the_writer() {
    let s = small(&["min_retention=1h"]);
    let m = &s.m;
    for name in ["a", "b"] {
        trash_file(m, name, 8 * MIB);
    }
    fill_leaving(&s, "filler", SLACK);
    let full = write_file(&m.gallery().join("new"), 3, 12 * MIB);
    assert_eq!(must_fail("writing past the free space", full), libc::ENOSPC);
    assert_eq!(
        m.trash_names(),
        ["a", "b"],
        "nothing younger than 1h is purged"
    );
    assert!(purges(m).is_empty(), "{}", m.log());
    // The gallery is intact; the partial file is the writer's to remove.
    assert_content(
        &m.gallery().join("filler"),
        7,
        fs::metadata(m.gallery().join("filler")).unwrap().len(),
    );
}

#[test]
fn max_trash_purges_the_oldest_but_keeps_an_oversized_entry_until_the_next() {
    // 25% of 64 MiB: a 16 MiB cap.
    let s = small(&["max_trash=25%"]);
    let m = &s.m;
    let cap = 16 * MIB;
    assert_eq!(
        xattr::get_string_opt(&m.trash(), "user.trash.max_size").unwrap(),
        cap.to_string()
    );
    trash_file(m, "a", 6 * MIB);
    trash_file(m, "b", 6 * MIB);
    assert_eq!(m.trash_names(), ["a", "b"]);
    trash_file(m, "c", 6 * MIB);
    assert_eq!(
        m.trash_names(),
        ["b", "c"],
        "18 MiB > 16 MiB: the oldest goes"
    );
    assert_eq!(trash_total(m), 12 * MIB);

    // Larger than the cap by itself: trashed all the same, the others go.
    trash_file(m, "huge", 20 * MIB);
    assert_eq!(m.trash_names(), ["huge"]);
    assert_eq!(trash_total(m), 20 * MIB);
    let list = gallery_trash(&m.mountpoint, &["list"]);
    let out = String::from_utf8_lossy(&list.stdout);
    assert_eq!(
        out.lines().last().unwrap(),
        "1 item, 20.0 MiB; 20.0 MiB on disk of a 16.0 MiB cap; purging the oldest entries for space",
        "{out}"
    );
    let info = gallery_trash(&m.trash(), &["info", "huge"]);
    let out = String::from_utf8_lossy(&info.stdout);
    assert!(
        out.contains("trash size:    20.0 MiB (20971520 bytes on disk)"),
        "{out}"
    );
    assert!(
        out.contains("trash cap:     16.0 MiB (16777216 bytes)"),
        "{out}"
    );
    assert!(out.contains("purging:       yes"), "{out}");

    // It goes first when the next entry arrives.
    trash_file(m, "next", MIB);
    assert_eq!(m.trash_names(), ["next"]);
    let log = m.log();
    assert_eq!(log.matches("(over 90%)").count(), 1, "one warning:\n{log}");
    let purged = purges(m);
    assert_eq!(purged.len(), 4, "{purged:?}");
    assert!(
        purged.iter().all(|l| l.contains("trash over max_trash")),
        "{purged:?}"
    );
    assert!(purged[3].contains("\"huge\""), "{purged:?}");
}

#[test]
fn a_cap_spares_entries_younger_than_min_retention() {
    let s = small(&["max_trash=8M", "min_retention=1h"]);
    let m = &s.m;
    trash_file(m, "a", 6 * MIB);
    trash_file(m, "b", 6 * MIB);
    assert_eq!(
        m.trash_names(),
        ["a", "b"],
        "over the cap, but all too young"
    );
    assert_eq!(trash_total(m), 12 * MIB);
}

#[test]
fn quota_limits_the_gallery_and_the_trash_does_not_count() {
    let mut s = small(&["quota=16M"]);
    let m = &s.m;
    assert!(m.log().contains("kernel passthrough is off"), "{}", m.log());
    let (size, used, avail) = df(&[&m.mountpoint])[0];
    assert_eq!((size, used, avail), (16 * MIB, 0, 16 * MIB));

    write_file(&m.gallery().join("a"), 1, 10 * MIB).unwrap();
    assert_eq!(df(&[&m.mountpoint])[0], (16 * MIB, 10 * MIB, 6 * MIB));
    let over = write_file(&m.gallery().join("b"), 2, 10 * MIB);
    assert_eq!(must_fail("writing past the quota", over), libc::EDQUOT);
    assert_eq!(fs::metadata(m.gallery().join("b")).unwrap().len(), 6 * MIB);

    // The trash does not count.
    fs::remove_file(m.gallery().join("b")).unwrap();
    fs::remove_file(m.gallery().join("a")).unwrap();
    assert_eq!(df(&[&m.mountpoint])[0], (16 * MIB, 0, 16 * MIB));
    write_file(&m.gallery().join("c"), 3, 12 * MIB).unwrap();

    // A restore counts again: 12 + 10 MiB would not fit.
    let refused = gallery_trash(&m.gallery(), &["restore", "a"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(err.contains("Restore failed: quota exceeded"), "{err}");
    assert_eq!(m.trash_names(), ["a", "b"]);
    let raw = fs::rename(m.trash().join("a"), m.gallery().join("a"));
    assert_eq!(must_fail("restoring past the quota", raw), libc::EDQUOT);

    // Truncating frees quota; then the restore fits.
    OpenOptions::new()
        .write(true)
        .open(m.gallery().join("c"))
        .and_then(|f| f.set_len(MIB))
        .unwrap();
    assert_eq!(df(&[&m.mountpoint])[0], (16 * MIB, MIB, 15 * MIB));
    let restored = gallery_trash(&m.gallery(), &["restore", "a"]);
    assert_eq!(restored.status.code(), Some(0), "{restored:?}");
    assert_content(&m.gallery().join("a"), 1, 10 * MIB);
    assert_eq!(df(&[&m.mountpoint])[0], (16 * MIB, 11 * MIB, 5 * MIB));

    // The gallery is measured again at mount.
    s.m.remount();
    assert_eq!(df(&[&s.m.mountpoint])[0], (16 * MIB, 11 * MIB, 5 * MIB));
}

#[test]
fn passthrough_writers_are_watched() {
    let s = small(&[]);
    let m = &s.m;
    // The mount shows in mountinfo before galleryfs probes passthrough.
    wait_until("the passthrough probe's log line", || {
        m.log().contains("kernel passthrough")
    });
    assert!(
        m.log().contains("kernel passthrough enabled"),
        "this test needs kernel FUSE passthrough (root, Linux 6.9+):\n{}",
        m.log()
    );
    // Opened while the trash is empty: served by kernel passthrough.
    let mut writer = File::create(m.gallery().join("stream")).unwrap();
    trash_file(m, "victim", 8 * MIB);
    // Write behind galleryfs's back until under the low-water mark (64 MiB / 20).
    let chunk = content(5, MIB);
    while statvfs(s.tmpfs.path()).avail > 2 * MIB {
        writer.write_all(&chunk).unwrap();
    }
    wait_until("the watcher to purge", || m.trash_names().is_empty());
    drop(writer);
    // The purge is logged right after it happens: wait for the line.
    wait_until("the watcher's log line", || {
        m.log().contains("disk nearly full: purged \"victim\"")
    });
}

#[test]
fn concurrent_writers_on_a_nearly_full_disk_lose_nothing() {
    let mut s = small(&[]);
    let m = &s.m;
    let keep: Vec<PathBuf> = (0..8)
        .map(|i| m.gallery().join(format!("keep{i}")))
        .collect();
    for (i, path) in keep.iter().enumerate() {
        write_file(path, 100 + i as u64, MIB).unwrap();
    }
    for i in 0..14 {
        trash_file(m, &format!("old{i:02}"), 2 * MIB);
    }
    fill_leaving(&s, "filler", 4 * MIB);
    let free_before = statvfs(s.tmpfs.path()).avail;

    // Four writers of 3 × 2 MiB (24 MiB, 20 more than free) while a fifth
    // process deletes half the kept files into the trash.
    let gallery = Arc::new(m.gallery());
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let gallery = gallery.clone();
            std::thread::spawn(move || {
                for j in 0..3 {
                    let path = gallery.join(format!("w{t}-{j}"));
                    write_chunked(&path, t * 10 + j, 2 * MIB, 256 << 10)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                }
            })
        })
        .collect();
    let deleter = {
        let keep = keep[4..].to_vec();
        std::thread::spawn(move || {
            for path in keep {
                fs::remove_file(path).unwrap();
            }
        })
    };
    for w in writers {
        w.join().expect("a writer failed");
    }
    deleter.join().unwrap();

    for (i, path) in keep[..4].iter().enumerate() {
        assert_content(path, 100 + i as u64, MIB);
    }
    for t in 0..4 {
        for j in 0..3 {
            assert_content(&m.gallery().join(format!("w{t}-{j}")), t * 10 + j, 2 * MIB);
        }
    }
    // Purged: enough for 20 MiB, not much more (2 MiB entries, a 1 MiB margin).
    let purged = purges(m).len() as u64;
    assert!((10..=13).contains(&purged), "{purged} purged:\n{}", m.log());
    let free_after = statvfs(s.tmpfs.path()).avail;
    assert!(
        free_after < 6 * MIB,
        "{free_after} free after ({free_before} before)"
    );

    // The catalog is sound and agrees with STORAGE/trash.
    s.m.unmount();
    let db = rusqlite::Connection::open(s.tmpfs.path().join("galleryfs.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut rows: Vec<String> = db
        .prepare("SELECT name FROM entries")
        .unwrap()
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|n| String::from_utf8(n.unwrap()).unwrap())
        .collect();
    rows.sort();
    let files: BTreeSet<String> = fs::read_dir(s.tmpfs.path().join("trash"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(rows.iter().cloned().collect::<BTreeSet<_>>(), files);
    assert!(files.iter().filter(|n| n.starts_with("keep")).count() <= 4);
}
