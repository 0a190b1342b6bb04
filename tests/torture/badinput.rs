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
use galleryfs_testkit::wait::poll_for;
use galleryfs_testkit::xattr;
use galleryfs_testkit::{Mount, galleryfs_bin, is_mounted};

mod names;
mod refusals;

use names::names_and_files;
use refusals::refusals;

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
        let gone = poll_for(Duration::from_secs(2), || {
            if !mounted_any(&self.0) {
                return Some(());
            }
            let _ = Command::new("umount").arg(&self.0).status();
            None
        });
        if gone.is_none() {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
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
    let exited = poll_for(Duration::from_secs(20), || {
        (!mounted_any(path) && !alive()).then_some(())
    });
    ensure(exited.is_some(), || "the daemon did not exit".into())
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
