//! Suite 5, the bad input catalogue: options, STORAGE, MOUNTPOINT and
//! databases that are wrong in every way we know, and names, paths and
//! files at the edges of what Linux allows. Each case checks the exact
//! outcome (message and exit status, or errno) and that nothing was lost.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::multiuser::{Checks, Outcome, Ran, as_user, ensure, open_to_others, shared_binary};
use galleryfs_testkit::errno::errno_of;
use galleryfs_testkit::harness::{self, Rng};
use galleryfs_testkit::xattr;
use galleryfs_testkit::{Mount, galleryfs_bin, is_mounted};

/// A non-root user for the cases where root would bypass permissions.
const USER: u32 = 2101;

/// The longest time a refused mount may take (the locked database waits
/// for the lock a few seconds before giving up).
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `cmd` with stdin closed, killing it if it outlives `timeout`.
fn run_bounded(cmd: &mut Command, timeout: Duration) -> Ran {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Ran {
                code: -1,
                out: String::new(),
                err: format!("hung: killed after {timeout:?}"),
            };
        }
        sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("collect output");
    Ran {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `galleryfs ARGS...` in daemon mode, as mount(8) runs it.
fn galleryfs<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Ran {
    run_bounded(Command::new(galleryfs_bin()).args(args), REFUSAL_TIMEOUT)
}

/// Whether anything is mounted at `path`.
fn mounted_any(path: &Path) -> bool {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let want = path.to_string_lossy().replace(' ', "\\040");
    info.lines()
        .any(|l| l.split(' ').nth(4) == Some(want.as_str()))
}

/// Unmounts (lazily if it must) whatever is mounted at the path when dropped.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        for _ in 0..100 {
            if !mounted_any(&self.0) {
                return;
            }
            let _ = Command::new("umount").arg(&self.0).status();
            sleep(Duration::from_millis(20));
        }
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Unmounts a galleryfs mounted in daemon mode from `store`, and waits for
/// the daemon to exit: it flushes its database after the mount is gone.
fn unmount(path: &Path, store: &Path) -> Outcome {
    let pid = fs::read_to_string(store.join("galleryfs.lock")).unwrap_or_default();
    let out = Command::new("umount")
        .arg(path)
        .output()
        .map_err(|e| e.to_string())?;
    ensure(out.status.success(), || {
        format!("umount: {}", String::from_utf8_lossy(&out.stderr))
    })?;
    let alive = || {
        fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or("").starts_with(" Z"))
    };
    let start = Instant::now();
    while mounted_any(path) || alive() {
        ensure(start.elapsed() < Duration::from_secs(20), || {
            "the daemon did not exit".into()
        })?;
        sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Every file under `dir` (relative path → type, mode, content).
type Snapshot = BTreeMap<Vec<u8>, (u32, Vec<u8>)>;

fn snapshot(dir: &Path) -> Snapshot {
    fn walk(root: &Path, rel: &Path, into: &mut Snapshot) {
        let Ok(list) = fs::read_dir(root.join(rel)) else {
            return;
        };
        for e in list {
            let e = e.unwrap();
            let rel = rel.join(e.file_name());
            let path = root.join(&rel);
            let meta = fs::symlink_metadata(&path).unwrap();
            let content = if meta.is_file() {
                fs::read(&path).unwrap()
            } else if meta.file_type().is_symlink() {
                fs::read_link(&path).unwrap().into_os_string().into_vec()
            } else {
                Vec::new()
            };
            into.insert(rel.as_os_str().as_bytes().to_vec(), (meta.mode(), content));
            if meta.is_dir() {
                walk(root, &rel, into);
            }
        }
    }
    let mut snap = Snapshot::new();
    walk(dir, Path::new(""), &mut snap);
    snap
}

/// The parts of a STORAGE that must never change when a mount is refused.
fn store_snapshot(store: &Path) -> Snapshot {
    let mut snap = Snapshot::new();
    for part in ["gallery", "trash"] {
        for (k, v) in snapshot(&store.join(part)) {
            snap.insert([part.as_bytes(), b"/", &k].concat(), v);
        }
    }
    if let Ok(db) = fs::read(store.join("galleryfs.db")) {
        snap.insert(b"galleryfs.db".to_vec(), (0, db));
    }
    snap
}

fn unchanged(store: &Path, before: &Snapshot) -> Outcome {
    let now = store_snapshot(store);
    if &now == before {
        return Ok(());
    }
    let changed: Vec<String> = before
        .keys()
        .chain(now.keys())
        .filter(|k| before.get(*k) != now.get(*k))
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    Err(format!("STORAGE changed: {changed:?}"))
}

/// A refusal: exit status 1, `message` on stderr, nothing mounted at `mnt`.
fn refused(r: &Ran, message: &str, mnt: &Path) -> Outcome {
    ensure(r.code == 1, || format!("exit status {}: {r:?}", r.code))?;
    ensure(r.err.contains(message), || {
        format!("stderr lacks {message:?}: {r:?}")
    })?;
    ensure(!mounted_any(mnt), || "something was mounted".into())
}

fn expect_errno(what: &str, r: std::io::Result<impl Sized>, errno: i32) -> Outcome {
    let got = errno_of(r);
    ensure(got == Some(errno), || {
        format!(
            "{what}: expected {}, got {got:?}",
            std::io::Error::from_raw_os_error(errno)
        )
    })
}

fn io<T>(what: &str, r: std::io::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

fn cstr(bytes: &[u8]) -> CString {
    CString::new(bytes).expect("no NUL in names")
}

fn original_path_is(entry: &Path, want: &[u8]) -> Outcome {
    let got = xattr::get(entry, "user.trash.original_path").map_err(|e| {
        format!(
            "getxattr user.trash.original_path of {}: {e}",
            entry.display()
        )
    })?;
    ensure(got == want, || {
        format!(
            "original_path of {} is {:?}, expected {:?}",
            entry.display(),
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want)
        )
    })
}

/// The original path the catalog records for `entry`, read behind the mount's
/// back: the kernel serves no `user.*` attributes on symlinks, FIFOs and
/// sockets, so the mount cannot show it for them.
fn cataloged_path_is(store: &Path, entry: &[u8], want: &[u8]) -> Outcome {
    let conn = rusqlite::Connection::open_with_flags(
        store.join("galleryfs.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| e.to_string())?;
    let got: Vec<u8> = conn
        .query_row(
            "SELECT original_path FROM entries WHERE name = ?1",
            [entry],
            |r| r.get(0),
        )
        .map_err(|e| format!("catalog row of {:?}: {e}", String::from_utf8_lossy(entry)))?;
    ensure(got == want, || {
        format!("catalog original_path {:?}", String::from_utf8_lossy(&got))
    })
}

/// A special file's entry: `user.*` attributes are ENODATA (the kernel's
/// rule), and the catalog has its original path.
fn special_entry(m: &Mount, entry: &str, original: &[u8]) -> Outcome {
    let path = m.trash().join(entry);
    let got = xattr::get(&path, "user.trash.original_path");
    ensure(
        got.as_ref()
            .is_err_and(|e| e.raw_os_error() == Some(libc::ENODATA)),
        || format!("user.* attribute on a special file: {got:?}"),
    )?;
    cataloged_path_is(&m.storage, entry.as_bytes(), original)
}

fn content_is(path: &Path, want: &[u8]) -> Outcome {
    let got = io(&path.display().to_string(), fs::read(path))?;
    ensure(got == want, || {
        format!(
            "{} has {} bytes of other content",
            path.display(),
            got.len()
        )
    })
}

// ---- *at wrappers for paths longer than PATH_MAX ---------------------------

fn last_err<T>(what: &str) -> Result<T, String> {
    Err(format!("{what}: {}", std::io::Error::last_os_error()))
}

fn open_dir_at(dir: &OwnedFd, name: &[u8]) -> Result<OwnedFd, String> {
    let n = cstr(name);
    // SAFETY: a valid fd and C string.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            n.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return last_err("openat");
    }
    // SAFETY: a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_dir(path: &Path) -> Result<OwnedFd, String> {
    io(
        &path.display().to_string(),
        File::open(path).map(OwnedFd::from),
    )
}

fn mkdir_at(dir: &OwnedFd, name: &[u8]) -> Outcome {
    let n = cstr(name);
    // SAFETY: a valid fd and C string.
    if unsafe { libc::mkdirat(dir.as_raw_fd(), n.as_ptr(), 0o755) } != 0 {
        return last_err("mkdirat");
    }
    Ok(())
}

fn file_at(dir: &OwnedFd, name: &[u8], flags: i32) -> Result<File, String> {
    let n = cstr(name);
    // SAFETY: a valid fd and C string.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), n.as_ptr(), flags | libc::O_CLOEXEC, 0o644) };
    if fd < 0 {
        return last_err("openat");
    }
    // SAFETY: a fresh fd we own.
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn unlink_at(dir: &OwnedFd, name: &[u8]) -> Outcome {
    let n = cstr(name);
    // SAFETY: a valid fd and C string.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), n.as_ptr(), 0) } != 0 {
        return last_err("unlinkat");
    }
    Ok(())
}

fn rename_at(from: &OwnedFd, name: &[u8], to: &OwnedFd, new_name: &[u8]) -> Outcome {
    let (a, b) = (cstr(name), cstr(new_name));
    // SAFETY: valid fds and C strings.
    if unsafe { libc::renameat(from.as_raw_fd(), a.as_ptr(), to.as_raw_fd(), b.as_ptr()) } != 0 {
        return last_err("renameat");
    }
    Ok(())
}

// ---- the store every refused mount must leave untouched ---------------------

/// A real store, unmounted: gallery files, nested directories, and enough
/// trash entries that its database spans many pages.
fn seeded_store(rng: &mut Rng) -> Mount {
    let mut m = Mount::new();
    let g = m.gallery();
    fs::create_dir_all(g.join("albums/2026")).unwrap();
    fs::write(g.join("keep.txt"), rng.bytes(5000)).unwrap();
    fs::write(g.join("albums/2026/cat.jpg"), rng.bytes(20_000)).unwrap();
    for i in 0..300 {
        let name = format!("a-rather-long-name-to-fill-the-catalog-{i:04}.jpg");
        fs::write(g.join("albums").join(&name), rng.bytes(64)).unwrap();
        fs::remove_file(g.join("albums").join(&name)).unwrap();
    }
    m.unmount();
    m
}

/// The cases about the command line, STORAGE, MOUNTPOINT and the database.
fn refusals(c: &mut Checks, rng: &mut Rng) {
    let m = seeded_store(rng);
    open_to_others(&m);
    let (store, mnt) = (m.storage.clone(), m.mountpoint.clone());
    let _guard = Unmount(mnt.clone());
    let mut before = store_snapshot(&store);
    assert!(before.len() > 300, "the seeded store is too small");
    let with = |extra: &[&OsStr]| {
        let mut args = vec![store.as_os_str(), mnt.as_os_str()];
        args.extend_from_slice(extra);
        galleryfs(args)
    };
    let o = |s: &'static str| OsStr::new(s);

    // ---- options ------------------------------------------------------------
    let option_cases: &[(&[&OsStr], &str)] = &[
        (&[o("-o")], "galleryfs: option '-o' requires an argument"),
        (
            &[o("-o"), o("retention=")],
            "galleryfs: invalid duration '' for retention",
        ),
        (
            &[o("-o"), o("sweep=1.5h")],
            "galleryfs: invalid duration '1.5h' for sweep",
        ),
        (
            &[o("-o"), o("retention=99999999999999d")],
            "invalid duration '99999999999999d' for retention",
        ),
        (
            &[o("-o"), o("allow_other,allow_root")],
            "galleryfs: allow_other and allow_root are mutually exclusive",
        ),
        (
            &[o("-o"), o("allow_other"), o("-o"), o("allow_root")],
            "galleryfs: allow_other and allow_root are mutually exclusive",
        ),
        (
            &[o("-o"), o("fsname=")],
            "galleryfs: fsname must not be empty",
        ),
        (
            &[o("-o"), o("retention")],
            "galleryfs: option 'retention' requires a value",
        ),
        (
            &[o("-o"), o("allow_other=yes")],
            "galleryfs: option 'allow_other' takes no value",
        ),
        (
            &[o("-o"), OsStr::from_bytes(b"fsname=\xff")],
            "are not valid UTF-8",
        ),
        (
            &[o("-o"), o("remount")],
            "galleryfs: remount is not supported",
        ),
        (&[o("extra")], "galleryfs: unexpected argument 'extra'"),
    ];
    for (extra, message) in option_cases {
        c.check(&format!("option {extra:?} is refused"), || {
            refused(&with(extra), message, &mnt)?;
            unchanged(&store, &before)
        });
    }
    c.check("an empty -o means no options", || {
        with(&[o("-o"), o("")]).succeeded()?;
        ensure(is_mounted(&mnt), || "not mounted".into())?;
        content_is(
            &mnt.join("gallery/keep.txt"),
            &before[&b"gallery/keep.txt"[..]].1,
        )?;
        unmount(&mnt, &store)?;
        // A mount may write to its database; the files must be as they were.
        let now = store_snapshot(&store);
        ensure(
            now.iter()
                .filter(|(k, _)| !k.starts_with(b"galleryfs.db"))
                .eq(before
                    .iter()
                    .filter(|(k, _)| !k.starts_with(b"galleryfs.db"))),
            || "gallery or trash changed".into(),
        )
    });
    before = store_snapshot(&store);

    // ---- STORAGE --------------------------------------------------------------
    c.check("a missing STORAGE is created, parents too", || {
        let fresh = m.base.path().join("new/deeper/store");
        let r = galleryfs([fresh.as_os_str(), mnt.as_os_str()]);
        r.succeeded()?;
        io("write", fs::write(mnt.join("gallery/x"), "x"))?;
        unmount(&mnt, &fresh)?;
        for part in ["gallery/x", "trash", "galleryfs.db"] {
            ensure(fresh.join(part).exists(), || format!("no {part}"))?;
        }
        Ok(())
    });
    c.check("STORAGE that is a file is refused", || {
        let file = m.base.path().join("a-file");
        io("write", fs::write(&file, "data"))?;
        let r = galleryfs([file.as_os_str(), mnt.as_os_str()]);
        refused(&r, "is not a directory", &mnt)?;
        content_is(&file, b"data")
    });
    c.check("STORAGE unreadable by its user is refused", || {
        let bin = shared_binary(&m, &galleryfs_bin(), "galleryfs");
        let own = |uid: u32| {
            Command::new("chown")
                .args(["-R", &format!("{uid}:{uid}")])
                .arg(&store)
                .arg(&mnt)
                .status()
                .map(|s| s.success())
        };
        ensure(io("chown", own(USER))?, || "chown failed".into())?;
        io(
            "chmod",
            fs::set_permissions(&store, fs::Permissions::from_mode(0o000)),
        )?;
        let r = as_user(
            USER,
            Path::new("/"),
            &format!("{} {} {}", bin.display(), store.display(), mnt.display()),
        );
        io(
            "chmod",
            fs::set_permissions(&store, fs::Permissions::from_mode(0o755)),
        )?;
        ensure(io("chown", own(0))?, || "chown back failed".into())?;
        refused(&r, "cannot read STORAGE", &mnt)?;
        ensure(r.err.contains("Permission denied"), || format!("{r:?}"))?;
        unchanged(&store, &before)
    });
    c.check("a read-only STORAGE is refused", || {
        let ro = m.base.path().join("ro-store");
        io("mkdir", fs::create_dir(&ro))?;
        let _ro_guard = Unmount(ro.clone());
        for args in [
            vec![OsStr::new("--bind"), store.as_os_str(), ro.as_os_str()],
            vec![
                OsStr::new("-o"),
                OsStr::new("remount,bind,ro"),
                ro.as_os_str(),
            ],
        ] {
            let ok = Command::new("mount").args(&args).status();
            ensure(ok.is_ok_and(|s| s.success()), || format!("mount {args:?}"))?;
        }
        for extra in [&[][..], &[o("-o"), o("ro")][..]] {
            let mut args = vec![ro.as_os_str(), mnt.as_os_str()];
            args.extend_from_slice(extra);
            let r = galleryfs(args);
            refused(&r, "cannot write to STORAGE", &mnt)?;
            ensure(r.err.contains("Read-only file system"), || format!("{r:?}"))?;
        }
        unchanged(&store, &before)
    });

    c.check("a STORAGE whose filesystem filled while unmounted", || {
        let full = m.base.path().join("full-store");
        io("mkdir", fs::create_dir(&full))?;
        let _tmpfs_guard = Unmount(full.clone());
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(&full)
            .status();
        ensure(ok.is_ok_and(|s| s.success()), || "mount tmpfs".into())?;
        galleryfs([full.as_os_str(), mnt.as_os_str()]).succeeded()?;
        io("write", fs::write(mnt.join("gallery/keep.txt"), "keep"))?;
        io("write", fs::write(mnt.join("gallery/gone.txt"), "gone"))?;
        io("rm", fs::remove_file(mnt.join("gallery/gone.txt")))?;
        unmount(&mnt, &full)?;
        // Something else fills the filesystem.
        let mut filler = io("create", File::create(full.join("gallery/filler")))?;
        while filler.write_all(&[0u8; 65536]).is_ok() {}
        drop(filler);
        let full_before = store_snapshot(&full);
        let r = galleryfs([full.as_os_str(), mnt.as_os_str()]);
        if r.code == 0 {
            // Mounted: then the trash must work, to free space through it.
            io("rm", fs::remove_file(mnt.join("gallery/filler")))?;
            io("purge", fs::remove_file(mnt.join(".trash/filler")))?;
            unmount(&mnt, &full)?;
        } else {
            // Refused: saying why, changing nothing, never "move it away".
            refused(&r, "is full", &mnt)?;
            ensure(
                r.err.contains("free some space") && !r.err.contains("move it away"),
                || format!("{r:?}"),
            )?;
            unchanged(&full, &full_before)?;
            io("rm", fs::remove_file(full.join("gallery/filler")))?;
        }
        galleryfs([full.as_os_str(), mnt.as_os_str()]).succeeded()?;
        let kept = content_is(&mnt.join("gallery/keep.txt"), b"keep")
            .and_then(|()| content_is(&mnt.join(".trash/gone.txt"), b"gone"));
        unmount(&mnt, &full)?;
        kept
    });

    // ---- MOUNTPOINT -------------------------------------------------------------
    c.check(
        "a missing MOUNTPOINT is refused before STORAGE is created",
        || {
            let fresh = m.base.path().join("never-created");
            let nowhere = m.base.path().join("no-such-mnt");
            let r = galleryfs([fresh.as_os_str(), nowhere.as_os_str()]);
            refused(&r, "does not exist", &nowhere)?;
            ensure(!fresh.exists(), || "STORAGE was created".into())
        },
    );
    c.check("a MOUNTPOINT that is a file is refused", || {
        let file = m.base.path().join("mnt-file");
        io("write", fs::write(&file, "data"))?;
        let r = galleryfs([store.as_os_str(), file.as_os_str()]);
        refused(&r, "is not a directory", &file)?;
        content_is(&file, b"data")?;
        unchanged(&store, &before)
    });
    c.check("a MOUNTPOINT inside STORAGE is refused", || {
        let inside = store.join("gallery");
        let r = galleryfs([store.as_os_str(), inside.as_os_str()]);
        refused(&r, "must not contain each other", &inside)?;
        unchanged(&store, &before)
    });
    {
        let live = Mount::new();
        io_panic(fs::write(live.gallery().join("live.txt"), "live"));
        c.check("a MOUNTPOINT that is already a mount is refused", || {
            let r = galleryfs([store.as_os_str(), live.mountpoint.as_os_str()]);
            ensure(r.code == 1, || format!("{r:?}"))?;
            ensure(r.err.contains("is already a mount point"), || {
                format!("{r:?}")
            })?;
            content_is(&live.gallery().join("live.txt"), b"live")?;
            unchanged(&store, &before)
        });
        c.check(
            "the same STORAGE twice, by another path, is refused",
            || {
                let alias = m.base.path().join("alias");
                io("symlink", std::os::unix::fs::symlink(&live.storage, &alias))?;
                let r = galleryfs([alias.as_os_str(), mnt.as_os_str()]);
                refused(
                    &r,
                    &format!(
                        "is already mounted by another galleryfs (pid {})",
                        live.pid()
                    ),
                    &mnt,
                )?;
                // The lock file still names the first mount.
                let holder = io(
                    "lock",
                    fs::read_to_string(live.storage.join("galleryfs.lock")),
                )?;
                ensure(holder.trim() == live.pid().to_string(), || {
                    format!("lock file says {holder:?}")
                })?;
                content_is(&live.gallery().join("live.txt"), b"live")
            },
        );
    }

    // ---- the database -------------------------------------------------------------
    let db = store.join("galleryfs.db");
    let real_db = fs::read(&db).unwrap();
    let corrupt = |c: &mut Checks, what: &str, bad: Vec<u8>, message: &str| {
        c.check(what, || {
            io("write db", fs::write(&db, &bad))?;
            let r = with(&[]);
            let kept = fs::read(&db).map_err(|e| e.to_string());
            io("restore db", fs::write(&db, &real_db))?;
            refused(&r, message, &mnt)?;
            ensure(r.err.contains("galleryfs.db"), || format!("{r:?}"))?;
            ensure(kept? == bad, || "the database was changed".into())?;
            unchanged(&store, &before)
        });
    };
    let mut garbage = b"SQLite format 3\0".to_vec();
    garbage.extend(rng.bytes(real_db.len() - garbage.len()));
    corrupt(
        c,
        "a garbage database with an SQLite header is refused",
        garbage,
        "is not a valid galleryfs database",
    );
    corrupt(
        c,
        "a database cut in half is refused",
        real_db[..real_db.len() / 2].to_vec(),
        "is not a valid galleryfs database",
    );
    let newer = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let newer = fs::read(&db).unwrap();
        fs::write(&db, &real_db).unwrap();
        newer
    };
    corrupt(
        c,
        "a database from a newer schema is refused",
        newer,
        "was written by a newer galleryfs (schema version 99",
    );
    c.check(
        "a database locked by another process is refused in seconds",
        || {
            let conn = rusqlite::Connection::open(&db).map_err(|e| e.to_string())?;
            conn.execute_batch("BEGIN EXCLUSIVE")
                .map_err(|e| e.to_string())?;
            let start = Instant::now();
            let r = with(&[]);
            let took = start.elapsed();
            drop(conn);
            refused(&r, "is locked by another process", &mnt)?;
            ensure(!r.err.contains("move it away"), || {
                format!("a locked database must not be moved away: {r:?}")
            })?;
            ensure(took < Duration::from_secs(15), || format!("took {took:?}"))?;
            unchanged(&store, &before)?;
            // Once the lock is gone, the same command mounts with everything there.
            with(&[]).succeeded()?;
            let entries = io("readdir", fs::read_dir(mnt.join(".trash")))?.count();
            let keep = mnt.join("gallery/keep.txt");
            content_is(&keep, &before[&b"gallery/keep.txt"[..]].1)?;
            unmount(&mnt, &store)?;
            ensure(entries == 300, || format!("{entries} trash entries"))
        },
    );
}

fn io_panic<T>(r: std::io::Result<T>) -> T {
    r.expect("test setup")
}

// ---- names, paths and files -----------------------------------------------------

/// rm of `path` (in the gallery) makes entry `entry` with `original`, and
/// mv back restores it with its content.
fn round_trip(m: &Mount, rel: &[u8], entry: &[u8], content: &[u8]) -> Outcome {
    let path = m.gallery().join(OsStr::from_bytes(rel));
    io("write", fs::write(&path, content))?;
    io("rm", fs::remove_file(&path))?;
    ensure(!path.exists(), || "still in the gallery".into())?;
    let e = m.trash().join(OsStr::from_bytes(entry));
    content_is(&e, content)?;
    original_path_is(&e, rel)?;
    io("restore", fs::rename(&e, &path))?;
    content_is(&path, content)?;
    ensure(!e.exists(), || "still in the trash".into())
}

fn names_and_files(c: &mut Checks, rng: &mut Rng) {
    let m = Mount::new();
    let g = m.gallery();
    let sentinel = rng.bytes(4096);
    fs::write(g.join("sentinel"), &sentinel).unwrap();

    let long: Vec<u8> = [vec![b'n'; 251], b".jpg".to_vec()].concat();
    c.check("a 255-byte name goes to the trash and back", || {
        round_trip(&m, &long, &long, b"long")
    });
    c.check("a 256-byte name is ENAMETOOLONG", || {
        let too_long = g.join(OsStr::from_bytes(&[b'x'; 256]));
        expect_errno("create", fs::write(&too_long, "x"), libc::ENAMETOOLONG)?;
        io("write", fs::write(g.join("short"), "s"))?;
        expect_errno(
            "rename",
            fs::rename(g.join("short"), &too_long),
            libc::ENAMETOOLONG,
        )?;
        content_is(&g.join("short"), b"s")
    });
    c.check(
        "two 255-byte names collide into a name of at most 255 bytes",
        || {
            for d in ["d1", "d2"] {
                io("mkdir", fs::create_dir(g.join(d)))?;
                let p = g.join(d).join(OsStr::from_bytes(&long));
                io("write", fs::write(&p, d))?;
                io("rm", fs::remove_file(&p))?;
            }
            let names = m.trash_os_names();
            let second = names
                .iter()
                .find(|n| n.as_bytes() != long.as_slice())
                .ok_or_else(|| format!("only {names:?}"))?;
            let sb = second.as_bytes();
            ensure(sb.len() <= 255 && sb.ends_with(b" (2).jpg"), || {
                format!("second entry {:?} ({} bytes)", second, sb.len())
            })?;
            original_path_is(&m.trash().join(second), &[b"d2/", &long[..]].concat())?;
            content_is(&m.trash().join(second), b"d2")?;
            for (entry, d) in [(OsStr::from_bytes(&long), "d1"), (second.as_os_str(), "d2")] {
                let back = g.join(d).join(OsStr::from_bytes(&long));
                io("restore", fs::rename(m.trash().join(entry), &back))?;
                content_is(&back, d.as_bytes())?;
            }
            Ok(())
        },
    );
    c.check("a non-UTF-8 name goes to the trash and back", || {
        round_trip(
            &m,
            b"caf\xe9-\xff\xfe.jpg",
            b"caf\xe9-\xff\xfe.jpg",
            b"bytes",
        )
    });
    c.check("a name with newlines goes to the trash and back", || {
        round_trip(
            &m,
            b"line one\nline two\n.txt",
            b"line one\nline two\n.txt",
            b"nl",
        )
    });

    c.check(
        "a path 100 directories deep goes to the trash and back",
        || {
            let rel: Vec<u8> = [&b"d/".repeat(100)[..], b"deep.txt"].concat();
            let dir = g.join(OsStr::from_bytes(&b"d/".repeat(100)));
            io("mkdir -p", fs::create_dir_all(&dir))?;
            round_trip(&m, &rel, b"deep.txt", b"deep")
        },
    );
    c.check(
        "a path longer than PATH_MAX goes to the trash and back",
        || {
            // Reached level by level through relative names, as `cd` would.
            let levels: Vec<Vec<u8>> = (0..25).map(|i| format!("{i:0>200}").into_bytes()).collect();
            let mut dir = open_dir(&g)?;
            for name in &levels {
                mkdir_at(&dir, name)?;
                dir = open_dir_at(&dir, name)?;
            }
            let data = rng.bytes(100_000);
            let mut f = file_at(
                &dir,
                b"far.bin",
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
            )?;
            io("write", f.write_all(&data))?;
            drop(f);
            unlink_at(&dir, b"far.bin")?;
            let rel: Vec<u8> = [&levels.join(&b'/')[..], b"/far.bin"].concat();
            ensure(rel.len() > libc::PATH_MAX as usize, || "too short".into())?;
            let entry = m.trash().join("far.bin");
            original_path_is(&entry, &rel)?;
            content_is(&entry, &data)?;
            rename_at(&open_dir(&m.trash())?, b"far.bin", &dir, b"far.bin")?;
            let mut back = Vec::new();
            io(
                "read",
                file_at(&dir, b"far.bin", libc::O_RDONLY)?.read_to_end(&mut back),
            )?;
            ensure(back == data, || "content changed".into())?;
            ensure(!entry.exists(), || "still in the trash".into())
        },
    );

    c.check("a 0-byte file goes to the trash and back", || {
        round_trip(&m, b"empty", b"empty", b"")?;
        let len = io("stat", fs::metadata(g.join("empty")))?.len();
        ensure(len == 0, || format!("size {len}"))
    });
    for (label, size, offsets) in [
        ("a sparse file", 64u64 << 20, vec![0u64, (64 << 20) - 1]),
        (
            "a sparse file over 4 GiB",
            5u64 << 30,
            vec![1 << 20, (9 << 29) + 7, (5 << 30) - 3],
        ),
    ] {
        c.check(&format!("{label} keeps its size and holes"), || {
            let name = format!("sparse-{size}");
            let path = g.join(&name);
            let f = io("create", File::create(&path))?;
            io("truncate", f.set_len(size))?;
            for &off in &offsets {
                io("pwrite", f.write_all_at(b"xyz", off.min(size - 3)))?;
            }
            drop(f);
            let check = |p: &Path| -> Outcome {
                let meta = io("stat", fs::symlink_metadata(p))?;
                ensure(meta.len() == size, || format!("size {}", meta.len()))?;
                ensure(meta.blocks() * 512 < 1 << 20, || {
                    format!("{} blocks: holes were filled", meta.blocks())
                })?;
                let f = io("open", File::open(p))?;
                for &off in &offsets {
                    let mut buf = [0u8; 3];
                    io("pread", f.read_exact_at(&mut buf, off.min(size - 3)))?;
                    ensure(&buf == b"xyz", || format!("data at {off}"))?;
                }
                Ok(())
            };
            check(&path)?;
            io("rm", fs::remove_file(&path))?;
            let entry = m.trash().join(&name);
            check(&entry)?;
            check(&m.storage.join("trash").join(&name))?;
            io("restore", fs::rename(&entry, &path))?;
            check(&path)?;
            io("cleanup", fs::remove_file(&path))?;
            io("purge", fs::remove_file(&entry))
        });
    }

    c.check("a symlink loop gives ELOOP and rm works", || {
        io("ln", std::os::unix::fs::symlink("b", g.join("a")))?;
        io("ln", std::os::unix::fs::symlink("a", g.join("b")))?;
        expect_errno("stat", fs::metadata(g.join("a")), libc::ELOOP)?;
        expect_errno("open", File::open(g.join("b")), libc::ELOOP)?;
        io("rm", fs::remove_file(g.join("a")))?;
        io("rm", fs::remove_file(g.join("b")))?;
        for (name, target) in [("a", "b"), ("b", "a")] {
            let e = m.trash().join(name);
            let link = io("readlink", fs::read_link(&e))?;
            ensure(link == Path::new(target), || format!("{name} -> {link:?}"))?;
            special_entry(&m, name, name.as_bytes())?;
        }
        io("restore", fs::rename(m.trash().join("a"), g.join("a")))?;
        ensure(
            io("lstat", fs::symlink_metadata(g.join("a")))?
                .file_type()
                .is_symlink(),
            || "not a symlink".into(),
        )?;
        io("cleanup", fs::remove_file(g.join("a")))?;
        io("purge", fs::remove_file(m.trash().join("a")))?;
        io("purge", fs::remove_file(m.trash().join("b")))
    });
    c.check("a FIFO goes to the trash and back", || {
        let ok = Command::new("mkfifo").arg(g.join("fifo")).status();
        ensure(ok.is_ok_and(|s| s.success()), || "mkfifo".into())?;
        io("rm", fs::remove_file(g.join("fifo")))?;
        let e = m.trash().join("fifo");
        ensure(
            io("lstat", fs::symlink_metadata(&e))?.file_type().is_fifo(),
            || "entry is not a FIFO".into(),
        )?;
        special_entry(&m, "fifo", b"fifo")?;
        io("restore", fs::rename(&e, g.join("fifo")))?;
        ensure(
            io("lstat", fs::symlink_metadata(g.join("fifo")))?
                .file_type()
                .is_fifo(),
            || "restored is not a FIFO".into(),
        )
    });
    c.check("a unix socket goes to the trash and back", || {
        let listener = io(
            "bind",
            std::os::unix::net::UnixListener::bind(g.join("sock")),
        )?;
        drop(listener);
        io("rm", fs::remove_file(g.join("sock")))?;
        let e = m.trash().join("sock");
        ensure(
            io("lstat", fs::symlink_metadata(&e))?
                .file_type()
                .is_socket(),
            || "entry is not a socket".into(),
        )?;
        special_entry(&m, "sock", b"sock")?;
        io("restore", fs::rename(&e, g.join("sock")))?;
        ensure(
            io("lstat", fs::symlink_metadata(g.join("sock")))?
                .file_type()
                .is_socket(),
            || "restored is not a socket".into(),
        )
    });
    c.check("rm of a file being written keeps every byte", || {
        let path = g.join("growing.log");
        let mut f = io("create", File::create(&path))?;
        let mut all = Vec::new();
        for i in 0..48 {
            let chunk = rng.bytes(64 * 1024);
            io("write", f.write_all(&chunk))?;
            all.extend_from_slice(&chunk);
            if i == 16 {
                io("rm", fs::remove_file(&path))?;
            }
        }
        io("fsync", f.sync_all())?;
        drop(f);
        ensure(!path.exists(), || "still in the gallery".into())?;
        let e = m.trash().join("growing.log");
        let len = io("stat", fs::metadata(&e))?.len();
        ensure(len == all.len() as u64, || format!("entry size {len}"))?;
        content_is(&e, &all)?;
        content_is(&m.storage.join("trash/growing.log"), &all)
    });

    c.check("the sentinel file is intact after every case", || {
        content_is(&g.join("sentinel"), &sentinel)?;
        let log = m.log();
        ensure(!log.contains("panicked"), || format!("daemon log: {log}"))
    });
}

#[test]
fn badinput() {
    let seed = harness::seed("badinput");
    let mut rng = Rng::new(seed);
    let mut c = Checks::new("badinput", seed);
    refusals(&mut c, &mut rng);
    names_and_files(&mut c, &mut rng);
    let cases = c.count();
    c.finish(&format!("{cases} cases"));
}
