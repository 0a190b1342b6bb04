//! The differential runner: a case is a closure that performs an operation
//! sequence under a directory and records every result in a transcript. The
//! same closure runs on a native temporary directory (on the filesystem that
//! also holds STORAGE) and on a directory in a mounted `gallery/`; the two
//! transcripts must be equal line for line.
//!
//! What goes into a transcript is what POSIX lets a program observe and must
//! be the same on both: return values and errno, file types, modes, link
//! counts, sizes, owners, data, xattr values, and for timestamps only
//! whether each one changed (values differ between two runs anyway). Inode
//! numbers and devices differ by nature; cases compare them only as
//! relations (`same inode as …`).
//!
//! Where galleryfs differs by design (unlink moves a file to `.trash/`), the
//! case branches on `ctx.gallery()` and records the designed behaviour with a
//! comment saying why.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt::Debug;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::sys::{self, SysResult, errname};
use galleryfs_testkit::Mount;

/// Users the permission cases act as (through `setpriv`).
pub const ALICE: u32 = 2101;
pub const BOB: u32 = 2102;
/// A group neither belongs to.
pub const GROUP: u32 = 3101;

/// Longer than the kernel's timestamp granularity (jiffies, or the coarse
/// clock): an operation after `tick()` gets visibly newer timestamps.
const TICK: Duration = Duration::from_millis(25);

/// One run of a case: where it runs and what it saw.
pub struct Ctx<'a> {
    dir: PathBuf,
    mount: Option<&'a Mount>,
    log: Vec<String>,
}

/// Timestamps of one file, to tell which changed.
#[derive(Clone, Copy)]
pub struct Times {
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl Times {
    pub fn of(st: &libc::stat) -> Times {
        Times {
            atime: (st.st_atime, st.st_atime_nsec),
            mtime: (st.st_mtime, st.st_mtime_nsec),
            ctime: (st.st_ctime, st.st_ctime_nsec),
        }
    }
}

pub fn kind(mode: u32) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFREG => "file",
        libc::S_IFDIR => "dir",
        libc::S_IFLNK => "symlink",
        libc::S_IFIFO => "fifo",
        libc::S_IFSOCK => "socket",
        libc::S_IFCHR => "chardev",
        libc::S_IFBLK => "blockdev",
        _ => "?",
    }
}

/// The fields of a stat that must match: type, mode, link count, owner, size
/// (directory sizes are the backing filesystem's on both sides).
pub fn show_stat(st: &libc::stat) -> String {
    format!(
        "{} mode={:04o} nlink={} uid={} gid={} size={}",
        kind(st.st_mode),
        st.st_mode & 0o7777,
        st.st_nlink,
        st.st_uid,
        st.st_gid,
        st.st_size
    )
}

pub fn show<T: Debug>(r: &SysResult<T>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => format!("err {}", errname(*e)),
    }
}

impl<'a> Ctx<'a> {
    /// Whether this run is the one in the gallery.
    pub fn gallery(&self) -> bool {
        self.mount.is_some()
    }

    /// The mount (gallery run only).
    pub fn mount(&self) -> Option<&'a Mount> {
        self.mount
    }

    /// The case's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `rel` under the case's directory.
    pub fn p(&self, rel: &str) -> PathBuf {
        if rel.is_empty() || rel == "." {
            self.dir.clone()
        } else {
            self.dir.join(rel)
        }
    }

    /// Records a line.
    pub fn note(&mut self, line: impl Into<String>) {
        self.log.push(line.into());
    }

    /// Records `what` with the result (value or errno).
    pub fn rec<T: Debug>(&mut self, what: &str, r: SysResult<T>) {
        self.log.push(format!("{what}: {}", show(&r)));
    }

    /// Records only whether `r` succeeded or its errno (for values that
    /// differ by nature, such as fd numbers).
    pub fn rec_ok<T>(&mut self, what: &str, r: SysResult<T>) {
        let _ = self.rec_okv(what, r);
    }

    /// `rec_ok`, returning the result.
    pub fn rec_okv<T>(&mut self, what: &str, r: SysResult<T>) -> SysResult<T> {
        let line = match &r {
            Ok(_) => format!("{what}: ok"),
            Err(e) => format!("{what}: err {}", errname(*e)),
        };
        self.log.push(line);
        r
    }

    /// Records the comparable stat fields of `rel` (lstat).
    pub fn stat(&mut self, rel: &str) -> Option<libc::stat> {
        let r = sys::lstat(&self.p(rel));
        let line = match &r {
            Ok(st) => format!("stat {rel}: {}", show_stat(st)),
            Err(e) => format!("stat {rel}: err {}", errname(*e)),
        };
        self.log.push(line);
        r.ok()
    }

    /// Records the comparable stat fields of an open fd.
    pub fn fstat(&mut self, what: &str, fd: sys::Fd) -> Option<libc::stat> {
        let r = sys::fstat(fd);
        let line = match &r {
            Ok(st) => format!("fstat {what}: {}", show_stat(st)),
            Err(e) => format!("fstat {what}: err {}", errname(*e)),
        };
        self.log.push(line);
        r.ok()
    }

    /// The timestamps of `rel` (lstat), not recorded.
    pub fn times(&self, rel: &str) -> Times {
        let st = sys::lstat(&self.p(rel))
            .unwrap_or_else(|e| panic!("lstat {rel} in {:?}: {}", self.dir, errname(e)));
        Times::of(&st)
    }

    /// Sleeps past the timestamp granularity, so the next operation's
    /// timestamps differ from the current ones.
    pub fn tick(&self) {
        std::thread::sleep(TICK);
    }

    /// Records which of `rel`'s timestamps changed since `before`
    /// (`a`, `m`, `c` each `+` changed or `-` not).
    pub fn changed(&mut self, rel: &str, before: Times) {
        let now = self.times(rel);
        let flag = |a: (i64, i64), b: (i64, i64)| if a == b { '-' } else { '+' };
        self.log.push(format!(
            "times {rel}: a{} m{} c{}",
            flag(before.atime, now.atime),
            flag(before.mtime, now.mtime),
            flag(before.ctime, now.ctime)
        ));
    }

    /// Like `changed`, ignoring atime (whose update on read is relatime's
    /// decision on a native filesystem).
    pub fn changed_mc(&mut self, rel: &str, before: Times) {
        let now = self.times(rel);
        let flag = |a: (i64, i64), b: (i64, i64)| if a == b { '-' } else { '+' };
        self.log.push(format!(
            "times {rel}: m{} c{}",
            flag(before.mtime, now.mtime),
            flag(before.ctime, now.ctime)
        ));
    }

    /// Records the exact timestamps of `rel` relative to `base` seconds
    /// (for cases that set explicit times).
    pub fn exact_times(&mut self, rel: &str) {
        let t = self.times(rel);
        self.log.push(format!(
            "times {rel}: atime={}.{:09} mtime={}.{:09}",
            t.atime.0, t.atime.1, t.mtime.0, t.mtime.1
        ));
    }

    /// Records the sorted names in directory `rel`.
    pub fn list(&mut self, rel: &str) {
        let names = match fs::read_dir(self.p(rel)) {
            Ok(rd) => {
                let mut v: Vec<String> = rd
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                v.sort();
                format!("{v:?}")
            }
            Err(e) => format!("err {}", errname(e.raw_os_error().unwrap_or(0))),
        };
        self.log.push(format!("ls {rel}: {names}"));
    }

    /// Records the content of `rel`.
    pub fn content(&mut self, rel: &str) {
        let line = match fs::read(self.p(rel)) {
            Ok(data) => format!("content {rel}: {:?}", String::from_utf8_lossy(&data)),
            Err(e) => format!(
                "content {rel}: err {}",
                errname(e.raw_os_error().unwrap_or(0))
            ),
        };
        self.log.push(line);
    }

    /// Runs `script` with `sh -c` as `uid` (gid = uid, no supplementary
    /// groups) in the case's directory; records the exit status and output.
    pub fn as_user(&mut self, uid: u32, script: &str) {
        let line = self.as_user_unrecorded(uid, script);
        self.log.push(line);
    }

    /// Runs `script` with `sh -c` as root in the case's directory with a
    /// fixed environment; records the exit status and output.
    pub fn sh(&mut self, script: &str) {
        self.sh_env(script, &[]);
    }

    /// `sh` with extra environment variables (for values, such as paths,
    /// that differ between the two runs: the script refers to them as
    /// `$NAME`, so the recorded line is the same).
    pub fn sh_env(&mut self, script: &str, env: &[(&str, &str)]) {
        let out = Command::new("sh")
            .args(["-c", script])
            .envs(env.iter().copied())
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env("HOME", &self.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Gallery Tester")
            .env("GIT_AUTHOR_EMAIL", "tester@example.org")
            .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
            .env("GIT_COMMITTER_NAME", "Gallery Tester")
            .env("GIT_COMMITTER_EMAIL", "tester@example.org")
            .env("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z")
            .output()
            .expect("run sh");
        self.log.push(format!(
            "sh: {script} => exit {} out {:?} err {:?}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).trim_end(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }

    /// `as_user` without recording: returns the line it would record.
    pub fn as_user_unrecorded(&self, uid: u32, script: &str) -> String {
        let out = Command::new("setpriv")
            .args([
                "--reuid",
                &uid.to_string(),
                "--regid",
                &uid.to_string(),
                "--clear-groups",
                "sh",
                "-c",
                script,
            ])
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .output()
            .expect("run setpriv");
        format!(
            "as {uid}: {script} => exit {} out {:?} err {:?}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).trim_end(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        )
    }

    /// Records every file under `rel` (see `snapshot`), one line each.
    pub fn tree(&mut self, rel: &str, with_mtime: bool, skip: &[&str]) {
        for (k, n) in snapshot(&self.p(rel), with_mtime, skip) {
            self.log.push(format!("tree {rel}/{k}: {}", brief(&n)));
        }
    }

    /// Entries now in `.trash/` (gallery run only), sorted.
    pub fn trash_entries(&self) -> Vec<OsString> {
        let Some(m) = self.mount else {
            return Vec::new();
        };
        let mut v: Vec<OsString> = fs::read_dir(m.trash())
            .map(|rd| rd.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The `user.trash.original_path` of trash entry `name`.
    pub fn original_path(&self, name: impl AsRef<OsStr>) -> String {
        let m = self.mount.expect("gallery run");
        let name = name.as_ref();
        let v = sys::getxattr(&m.trash().join(name), "user.trash.original_path")
            .unwrap_or_else(|e| panic!("original_path of {name:?}: {}", errname(e)));
        String::from_utf8_lossy(&v).into_owned()
    }

    /// The case directory's path relative to `gallery/` (gallery run only).
    pub fn gallery_rel(&self, rel: &str) -> String {
        let m = self.mount.expect("gallery run");
        let full = self.p(rel);
        full.strip_prefix(m.gallery())
            .expect("under gallery")
            .to_string_lossy()
            .into_owned()
    }
}

/// Makes `path` and its parents up to `/tmp`-level searchable by others.
pub fn open_up(path: &Path) {
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A native temporary directory on the same filesystem as the mounts'
/// STORAGE (the fixture puts them in the default temporary directory).
pub fn native_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("galleryfs-native-")
        .tempdir()
        .expect("native temp dir");
    open_up(d.path());
    d
}

/// A fresh `allow_other` mount whose every ancestor other users can search.
pub fn mount() -> Mount {
    let m = Mount::with_options(&["allow_other"]);
    open_up(m.base.path());
    m
}

/// Runs `case` natively and in the gallery and requires equal transcripts;
/// returns the gallery transcript for further designed checks.
pub fn differential(name: &str, case: impl Fn(&mut Ctx)) -> Vec<String> {
    let native = native_dir();
    let m = mount();
    differential_on(name, &native, &m, case)
}

/// `differential` on a given native directory and mount.
pub fn differential_on(
    name: &str,
    native: &tempfile::TempDir,
    m: &Mount,
    case: impl Fn(&mut Ctx),
) -> Vec<String> {
    let run = |root: PathBuf, mount: Option<&Mount>| {
        let dir = root.join(name);
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
        open_up(&dir);
        let mut ctx = Ctx {
            dir,
            mount,
            log: Vec::new(),
        };
        case(&mut ctx);
        ctx.log
    };
    let expected = run(native.path().to_path_buf(), None);
    let got = run(m.gallery(), Some(m));
    if std::env::var_os("GALLERYFS_POSIX_SHOW").is_some() {
        eprintln!("case {name}, gallery transcript:\n  {}", got.join("\n  "));
    }
    compare(name, &expected, &got, m);
    got
}

fn compare(name: &str, native: &[String], gallery: &[String], m: &Mount) {
    if native == gallery {
        return;
    }
    let mut report = format!("case {name}: the gallery differs from a native directory\n");
    let n = native.len().max(gallery.len());
    for i in 0..n {
        let a = native.get(i).map_or("<missing>", |s| s.as_str());
        let b = gallery.get(i).map_or("<missing>", |s| s.as_str());
        if a == b {
            report.push_str(&format!("    {a}\n"));
        } else {
            report.push_str(&format!("  - native:  {a}\n  + gallery: {b}\n"));
        }
    }
    let log = m.log();
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    report.push_str("daemon log (last lines):\n");
    for line in tail.into_iter().rev() {
        report.push_str(&format!("    {line}\n"));
    }
    panic!("{report}");
}

/// One file of a tree snapshot.
#[derive(Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: &'static str,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Only where the workflow preserves it (tar, rsync -a); else 0.
    pub mtime: (i64, i64),
    pub target: Option<Vec<u8>>,
    pub data: Option<Vec<u8>>,
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// The first path (in order) with the same inode: hard-link structure.
    pub same_as: Option<String>,
}

/// Everything under `root` by relative path: the comparable description of
/// a tree, for workflows (tar, rsync, git) that must give equal trees.
pub fn snapshot(root: &Path, with_mtime: bool, skip: &[&str]) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<u64, String> = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let full = root.join(&rel);
        let mut children: Vec<_> = fs::read_dir(&full)
            .unwrap_or_else(|e| panic!("read_dir {full:?}: {e}"))
            .map(|e| e.unwrap().file_name())
            .collect();
        children.sort();
        for name in children {
            let child_rel = rel.join(&name);
            let key = child_rel.to_string_lossy().into_owned();
            if skip
                .iter()
                .any(|s| key == *s || key.starts_with(&format!("{s}/")))
            {
                continue;
            }
            let path = root.join(&child_rel);
            let md = fs::symlink_metadata(&path).unwrap();
            let k = kind(md.mode());
            let same_as = if k != "dir" && md.nlink() > 1 {
                match inodes.get(&md.ino()) {
                    Some(first) => Some(first.clone()),
                    None => {
                        inodes.insert(md.ino(), key.clone());
                        None
                    }
                }
            } else {
                None
            };
            let xattrs = sys::list_user_xattrs(&path)
                .unwrap_or_default()
                .into_iter()
                .map(|n| {
                    let v = sys::lgetxattr(&path, &n).unwrap_or_default();
                    (n, v)
                })
                .collect();
            out.insert(
                key,
                Node {
                    kind: k,
                    mode: md.mode() & 0o7777,
                    nlink: if k == "dir" { 0 } else { md.nlink() },
                    uid: md.uid(),
                    gid: md.gid(),
                    size: if k == "dir" { 0 } else { md.size() },
                    // Directory mtimes change as entries come and go; tar and
                    // rsync restore them at the end, so they compare too.
                    mtime: if with_mtime {
                        (md.mtime(), md.mtime_nsec())
                    } else {
                        (0, 0)
                    },
                    target: (k == "symlink").then(|| {
                        fs::read_link(&path)
                            .unwrap()
                            .as_os_str()
                            .as_bytes()
                            .to_vec()
                    }),
                    data: (k == "file").then(|| fs::read(&path).unwrap()),
                    xattrs,
                    same_as,
                },
            );
            if k == "dir" {
                stack.push(child_rel);
            }
        }
    }
    out
}

fn brief(n: &Node) -> String {
    format!(
        "{} mode={:04o} nlink={} uid={} gid={} size={} mtime={:?} target={:?} data={} xattrs={:?} same_as={:?}",
        n.kind,
        n.mode,
        n.nlink,
        n.uid,
        n.gid,
        n.size,
        n.mtime,
        n.target
            .as_ref()
            .map(|t| String::from_utf8_lossy(t).into_owned()),
        n.data.as_ref().map_or("-".into(), |d| format!(
            "{} bytes fnv {:016x}",
            d.len(),
            fnv(d)
        )),
        n.xattrs,
        n.same_as
    )
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}
