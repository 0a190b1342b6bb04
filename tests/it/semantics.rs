//! The core semantics of issue 2, one table row at a time: what a user sees
//! through the mount when real tools (`rm`, `mv`, `cp`, `ln`, `touch`,
//! `getfattr`, …) and plain syscalls act on `gallery/` and `.trash/`, and
//! what STORAGE holds afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use galleryfs_testkit::errno::{assert_errno, check, must_fail};
use galleryfs_testkit::fsutil::{chmod, cpath, exists, lstat, mkdir_p, names, read, write};
use galleryfs_testkit::xattr::{self, TRASH_XATTRS};
use galleryfs_testkit::{Mount, fails, ok, run, sh, wait_until};

/// The unprivileged owner files are given in these tests.
const USER: u32 = 1000;
const SECS_PER_DAY: i64 = 86_400;

// ---- helpers -------------------------------------------------------------

fn name_set(list: &[&str]) -> BTreeSet<OsString> {
    list.iter().map(OsString::from).collect()
}

/// What `ls -a MOUNT` prints, one name per element.
fn ls_a(dir: &Path) -> Vec<String> {
    ok(Command::new("ls").arg("-a").arg("-1").arg(dir))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The identity and metadata a move must preserve.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Meta {
    ino: u64,
    kind: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: (i64, i64),
}

fn meta(p: &Path) -> Meta {
    let m = lstat(p);
    Meta {
        ino: m.ino(),
        kind: m.mode() & libc::S_IFMT,
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
    }
}

/// Parses `YYYY-MM-DDThh:mm:ssZ` exactly (RFC 3339, UTC, whole seconds).
fn parse_utc(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ")
        .unwrap_or_else(|e| panic!("{text:?} is not YYYY-MM-DDThh:mm:ssZ: {e}"));
    assert_eq!(text.len(), 20, "{text:?} has extra characters");
    naive.and_utc()
}

fn time_xattr(p: &Path, name: &str) -> DateTime<Utc> {
    parse_utc(&xattr::get_string(p, name))
}

fn mv(from: &Path, to: &Path) {
    ok(Command::new("mv").arg(from).arg(to));
}

fn rm(p: &Path) {
    ok(Command::new("rm").arg(p));
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
}

fn touch_d(p: &Path, date: &str) {
    ok(Command::new("touch").arg("-h").arg("-d").arg(date).arg(p));
}

fn storage_trash(m: &Mount) -> PathBuf {
    m.storage.join("trash")
}

fn storage_gallery(m: &Mount) -> PathBuf {
    m.storage.join("gallery")
}

/// Sleeps until the wall clock passes `t` (a deadline, not a synchronisation).
fn sleep_past(t: DateTime<Utc>) {
    while Utc::now() <= t {
        sleep(Duration::from_millis(50));
    }
}

/// A file path from raw bytes.
fn bytes_path(dir: &Path, name: &[u8]) -> PathBuf {
    dir.join(OsStr::from_bytes(name))
}

// ---- 1. ordinary operations pass through ------------------------------------

#[test]
fn files_directories_and_renames_pass_through() {
    let m = Mount::new();
    let (g, sg) = (m.gallery(), storage_gallery(&m));

    mkdir_p(&g.join("a"));
    write(&g.join("a/f"), b"hello");
    assert_eq!(read(&g.join("a/f")), b"hello");
    assert_eq!(read(&sg.join("a/f")), b"hello", "backing file differs");
    let mut f = OpenOptions::new().append(true).open(g.join("a/f")).unwrap();
    f.write_all(b" world").unwrap();
    drop(f);
    assert_eq!(read(&g.join("a/f")), b"hello world");
    assert_eq!(read(&sg.join("a/f")), b"hello world");

    // More than one FUSE request each way.
    let big: Vec<u8> = (0..3 * 1024 * 1024 + 17)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    write(&g.join("big"), &big);
    assert!(read(&g.join("big")) == big, "3 MiB file read back differs");
    assert!(read(&sg.join("big")) == big, "3 MiB backing file differs");
    // cp uses copy_file_range and SEEK_DATA/SEEK_HOLE.
    ok(Command::new("cp").arg(g.join("big")).arg(g.join("big2")));
    assert!(
        read(&g.join("big2")) == big,
        "cp of a 3 MiB file inside the mount differs"
    );
    sh(
        &g,
        "truncate -s 8M sparse && printf middle | dd of=sparse bs=1 seek=5000000 conv=notrunc status=none",
    );
    ok(Command::new("cp")
        .arg("--sparse=always")
        .arg(g.join("sparse"))
        .arg(g.join("sparse2")));
    assert!(
        read(&g.join("sparse2")) == read(&g.join("sparse")),
        "cp of a sparse file differs"
    );
    assert_eq!(lstat(&g.join("sparse2")).len(), 8 << 20);

    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(g.join("a/mode640"))
        .unwrap();
    drop(created);
    assert_eq!(meta(&g.join("a/mode640")).mode, 0o640);
    assert_eq!(meta(&sg.join("a/mode640")).mode, 0o640);
    assert_eq!(
        meta(&g.join("a/mode640")).uid,
        0,
        "created by root, owned by root"
    );
    assert_errno(
        "create_new on an existing file",
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(g.join("a/f")),
        libc::EEXIST,
    );

    mkdir_p(&g.join("a/b/c"));
    assert!(lstat(&sg.join("a/b/c")).is_dir());
    assert_errno(
        "mkdir of an existing dir",
        fs::create_dir(g.join("a/b")),
        libc::EEXIST,
    );
    assert_errno(
        "rmdir of a non-empty dir",
        fs::remove_dir(g.join("a/b")),
        libc::ENOTEMPTY,
    );
    assert_errno(
        "open of a missing file",
        File::open(g.join("a/missing")),
        libc::ENOENT,
    );

    let ino = meta(&g.join("a/f")).ino;
    fs::rename(g.join("a/f"), g.join("a/b/g")).unwrap();
    assert!(!exists(&g.join("a/f")));
    assert_eq!(read(&g.join("a/b/g")), b"hello world");
    assert_eq!(meta(&g.join("a/b/g")).ino, ino, "a rename keeps the inode");
    assert!(!exists(&sg.join("a/f")));
    assert_eq!(read(&sg.join("a/b/g")), b"hello world");

    mv(&g.join("a/b"), &g.join("moved"));
    assert!(!exists(&g.join("a/b")));
    assert_eq!(read(&g.join("moved/g")), b"hello world");
    assert!(lstat(&g.join("moved/c")).is_dir());
    assert_eq!(read(&sg.join("moved/g")), b"hello world");
    assert!(!exists(&sg.join("a/b")));
    assert_eq!(names(&g.join("moved")), name_set(&["c", "g"]));

    assert!(
        names(&m.trash()).is_empty(),
        "nothing was deleted, yet the trash holds something"
    );
    assert!(names(&storage_trash(&m)).is_empty());
}

#[test]
fn links_symlinks_and_fifos_pass_through() {
    let m = Mount::new();
    let (g, sg) = (m.gallery(), storage_gallery(&m));

    write(&g.join("a"), b"shared");
    ok(Command::new("ln").arg(g.join("a")).arg(g.join("b")));
    let (ma, mb) = (lstat(&g.join("a")), lstat(&g.join("b")));
    assert_eq!((ma.nlink(), mb.nlink()), (2, 2), "link counts after ln");
    assert_eq!(ma.ino(), mb.ino(), "hard links share one inode");
    assert_eq!(lstat(&sg.join("a")).nlink(), 2);
    assert_eq!(lstat(&sg.join("a")).ino(), lstat(&sg.join("b")).ino());
    write(&g.join("b"), b"via b");
    assert_eq!(
        read(&g.join("a")),
        b"via b",
        "a write through one link shows through the other"
    );
    assert_errno(
        "link onto an existing name",
        fs::hard_link(g.join("a"), g.join("b")),
        libc::EEXIST,
    );
    mkdir_p(&g.join("d"));
    fs::hard_link(g.join("a"), g.join("d/c")).unwrap();
    assert_eq!(lstat(&g.join("a")).nlink(), 3);
    assert_eq!(lstat(&g.join("d/c")).nlink(), 3);

    ok(Command::new("ln").arg("-s").arg("a").arg(g.join("s")));
    assert!(lstat(&g.join("s")).file_type().is_symlink());
    assert_eq!(fs::read_link(g.join("s")).unwrap(), Path::new("a"));
    assert_eq!(read(&g.join("s")), b"via b", "reading through a symlink");
    assert_eq!(
        fs::read_link(sg.join("s")).unwrap(),
        Path::new("a"),
        "backing symlink"
    );
    std::os::unix::fs::symlink("nowhere/at/all", g.join("dangling")).unwrap();
    assert_eq!(
        fs::read_link(g.join("dangling")).unwrap(),
        Path::new("nowhere/at/all")
    );
    assert_errno(
        "open of a dangling symlink",
        File::open(g.join("dangling")),
        libc::ENOENT,
    );

    ok(Command::new("mkfifo")
        .arg("-m")
        .arg("0620")
        .arg(g.join("p")));
    let p = lstat(&g.join("p"));
    assert!(p.file_type().is_fifo(), "mkfifo made {:?}", p.file_type());
    assert_eq!(p.mode() & 0o7777, 0o620);
    assert!(lstat(&sg.join("p")).file_type().is_fifo(), "backing fifo");
    ok(Command::new("mknod")
        .arg(g.join("null"))
        .args(["c", "1", "3"]));
    let dev = lstat(&g.join("null"));
    assert!(
        dev.file_type().is_char_device(),
        "mknod c made {:?}",
        dev.file_type()
    );
    assert_eq!(
        (dev.rdev(), lstat(&sg.join("null")).rdev()),
        (0x103, 0x103),
        "device numbers"
    );

    assert!(names(&m.trash()).is_empty());
}

#[test]
fn metadata_changes_pass_through() {
    let m = Mount::new();
    let (g, sg) = (m.gallery(), storage_gallery(&m));
    write(&g.join("f"), b"0123456789");

    chmod(&g.join("f"), 0o751);
    assert_eq!(meta(&g.join("f")).mode, 0o751);
    assert_eq!(meta(&sg.join("f")).mode, 0o751);

    std::os::unix::fs::chown(g.join("f"), Some(USER), Some(USER)).unwrap();
    assert_eq!(
        (meta(&g.join("f")).uid, meta(&g.join("f")).gid),
        (USER, USER)
    );
    assert_eq!(
        (meta(&sg.join("f")).uid, meta(&sg.join("f")).gid),
        (USER, USER)
    );

    // A symlink is changed itself, never its target.
    std::os::unix::fs::symlink("f", g.join("s")).unwrap();
    chown(&g.join("s"), USER + 1, USER + 1);
    assert_eq!(meta(&g.join("s")).uid, USER + 1);
    assert_eq!(meta(&sg.join("s")).uid, USER + 1);
    assert_eq!(
        meta(&g.join("f")).uid,
        USER,
        "lchown changed the symlink's target"
    );

    touch_d(&g.join("f"), "2001-02-03 04:05:06.789 UTC");
    let f = lstat(&g.join("f"));
    assert_eq!(
        (f.mtime(), f.mtime_nsec()),
        (981_173_106, 789_000_000),
        "mtime after touch -d"
    );
    assert_eq!(
        (f.atime(), f.atime_nsec()),
        (981_173_106, 789_000_000),
        "atime after touch -d"
    );
    assert_eq!(
        meta(&sg.join("f")).mtime,
        (981_173_106, 789_000_000),
        "backing mtime"
    );
    touch_d(&g.join("s"), "1999-12-31 23:59:59 UTC");
    assert_eq!(
        meta(&g.join("s")).mtime,
        (946_684_799, 0),
        "touch -h on a symlink"
    );
    assert_eq!(
        meta(&sg.join("s")).mtime,
        (946_684_799, 0),
        "backing symlink mtime"
    );
    assert_eq!(
        meta(&g.join("f")).mtime,
        (981_173_106, 789_000_000),
        "touch -h changed the target"
    );
    ok(Command::new("touch").arg(g.join("f")));
    assert!(
        lstat(&g.join("f")).mtime() > 1_600_000_000,
        "plain touch sets the time to now"
    );

    ok(Command::new("truncate").arg("-s").arg("4").arg(g.join("f")));
    assert_eq!(read(&g.join("f")), b"0123");
    assert_eq!(read(&sg.join("f")), b"0123");
    ok(Command::new("truncate")
        .arg("-s")
        .arg("100")
        .arg(g.join("f")));
    assert_eq!(lstat(&g.join("f")).len(), 100);
    let mut expect = b"0123".to_vec();
    expect.resize(100, 0);
    assert_eq!(read(&g.join("f")), expect);
    let file = OpenOptions::new().write(true).open(g.join("f")).unwrap();
    file.set_len(2).unwrap();
    drop(file);
    assert_eq!(read(&g.join("f")), b"01", "ftruncate through an open file");
    assert_eq!(lstat(&sg.join("f")).len(), 2);

    ok(Command::new("fallocate")
        .arg("-l")
        .arg("1MiB")
        .arg(g.join("alloc")));
    let a = lstat(&g.join("alloc"));
    assert_eq!(a.len(), 1 << 20, "fallocate size");
    assert!(
        a.blocks() >= 2048,
        "fallocate allocated only {} blocks",
        a.blocks()
    );
    assert_eq!(lstat(&sg.join("alloc")).len(), 1 << 20);
    ok(Command::new("fallocate")
        .arg("-p")
        .arg("-o")
        .arg("0")
        .arg("-l")
        .arg("512KiB")
        .arg(g.join("alloc")));
    assert_eq!(
        lstat(&g.join("alloc")).len(),
        1 << 20,
        "punching a hole keeps the size"
    );
    assert!(
        lstat(&sg.join("alloc")).blocks() < 2048,
        "punching a hole frees blocks"
    );

    ok(Command::new("setfattr")
        .args(["-n", "user.foo", "-v", "bar"])
        .arg(g.join("f")));
    let got = ok(Command::new("getfattr")
        .args(["--only-values", "-n", "user.foo"])
        .arg(g.join("f")));
    assert_eq!(got, "bar");
    assert_eq!(
        xattr::get_opt(&sg.join("f"), "user.foo").as_deref(),
        Some(&b"bar"[..]),
        "backing xattr"
    );
    assert!(xattr::names(&g.join("f")).contains("user.foo"));
    mkdir_p(&g.join("dir"));
    xattr::set(&g.join("dir"), "user.dirattr", b"on a dir").unwrap();
    assert_eq!(
        xattr::get_opt(&g.join("dir"), "user.dirattr").as_deref(),
        Some(&b"on a dir"[..])
    );
    ok(Command::new("setfattr")
        .args(["-x", "user.foo"])
        .arg(g.join("f")));
    assert_eq!(xattr::get_opt(&g.join("f"), "user.foo"), None);
    assert_eq!(xattr::get_opt(&sg.join("f"), "user.foo"), None);
    fails(
        Command::new("getfattr")
            .args(["-n", "user.foo"])
            .arg(g.join("f")),
    );
    let path = cpath(&g.join("f"));
    // SAFETY: valid C strings.
    let removed = check(unsafe { libc::lremovexattr(path.as_ptr(), c"user.foo".as_ptr()) });
    assert_errno("removexattr of a missing xattr", removed, libc::ENODATA);
}

#[test]
fn fsync_locks_and_statfs_work() {
    let m = Mount::new();
    let g = m.gallery();

    let mut f = File::create(g.join("f")).unwrap();
    f.write_all(b"durable").unwrap();
    f.sync_all().expect("fsync");
    f.sync_data().expect("fdatasync");
    drop(f);
    ok(Command::new("sync").arg(g.join("f")));

    // flock: held here, refused to another process, free again once released.
    let held = File::open(g.join("f")).unwrap();
    // SAFETY: valid fd.
    check(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }).expect("flock");
    let out = run(Command::new("flock").arg("-n").arg(g.join("f")).arg("true"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "flock -n succeeded while the file was locked"
    );
    // SAFETY: valid fd.
    check(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_UN) }).unwrap();
    ok(Command::new("flock").arg("-n").arg(g.join("f")).arg("true"));

    // fcntl (POSIX) locks: a child process sees our write lock.
    let locked = OpenOptions::new()
        .read(true)
        .write(true)
        .open(g.join("f"))
        .unwrap();
    // SAFETY: zeroed flock is a valid value; fields are set below.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: valid fd and flock struct.
    check(unsafe { libc::fcntl(locked.as_raw_fd(), libc::F_SETLK, &fl) }).expect("F_SETLK");
    // SAFETY: the child only calls fcntl and _exit, both async-signal-safe.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: as above.
        unsafe {
            let mut q: libc::flock = std::mem::zeroed();
            q.l_type = libc::F_WRLCK as libc::c_short;
            q.l_whence = libc::SEEK_SET as libc::c_short;
            let r = libc::fcntl(locked.as_raw_fd(), libc::F_GETLK, &mut q);
            let conflict =
                r == 0 && q.l_type == libc::F_WRLCK as libc::c_short && q.l_pid == libc::getppid();
            libc::_exit(if conflict { 0 } else { 1 });
        }
    }
    let mut status = 0;
    // SAFETY: valid pid and status pointer.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "another process did not see the fcntl write lock (status {status})"
    );
    drop(locked);

    let namemax = ok(Command::new("stat").args(["-f", "-c", "%l"]).arg(&g));
    assert_eq!(namemax.trim(), "255", "stat -f name length");
    ok(Command::new("df").arg(&g));
    let statvfs = |p: &Path| {
        // SAFETY: zeroed statvfs is valid; the call fills it.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: valid path and pointer.
        check(unsafe { libc::statvfs(cpath(p).as_ptr(), &mut st) }).expect("statvfs");
        st
    };
    let (through, backing) = (statvfs(&g), statvfs(&m.storage));
    assert_eq!(
        (through.f_blocks * through.f_frsize, through.f_files),
        (backing.f_blocks * backing.f_frsize, backing.f_files),
        "statfs through the mount differs from STORAGE's filesystem"
    );
}

// ---- 2, 3. unlink ----------------------------------------------------------------

#[test]
fn rm_moves_the_file_to_the_trash_unchanged() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("a"));
    let f = g.join("a/f");
    write(&f, b"precious pixels");
    xattr::set(&f, "user.own", b"mine").unwrap();
    chmod(&f, 0o640);
    chown(&f, USER, USER);
    touch_d(&f, "2010-05-06 07:08:09.5 UTC");
    let before = meta(&f);

    rm(&f);

    assert!(!exists(&f), "the file is still in the gallery");
    assert!(!exists(&storage_gallery(&m).join("a/f")));
    assert_eq!(
        names(&m.trash()),
        name_set(&["f"]),
        "trash listing; log:\n{}",
        m.log()
    );
    let entry = m.trash().join("f");
    assert_eq!(read(&entry), b"precious pixels");
    assert_eq!(
        meta(&entry),
        before,
        "the entry's metadata differs from the deleted file's"
    );
    assert_eq!(
        xattr::get_opt(&entry, "user.own").as_deref(),
        Some(&b"mine"[..])
    );
    assert_eq!(xattr::get_string(&entry, "user.trash.original_path"), "a/f");
    assert_eq!(
        read(&storage_trash(&m).join("f")),
        b"precious pixels",
        "STORAGE/trash lacks the data"
    );
    assert!(ls_a(&m.mountpoint).contains(&".trash".to_owned()));
    assert_errno(
        "unlink of a directory",
        fs::remove_file(g.join("a")),
        libc::EISDIR,
    );
}

#[test]
fn rm_of_a_hard_linked_name_is_a_real_unlink() {
    let m = Mount::new();
    let g = m.gallery();
    write(&g.join("a"), b"linked");
    fs::hard_link(g.join("a"), g.join("b")).unwrap();

    rm(&g.join("b"));
    assert!(
        names(&m.trash()).is_empty(),
        "a name whose data survives became an entry"
    );
    assert!(names(&storage_trash(&m)).is_empty());
    assert_eq!(
        lstat(&g.join("a")).nlink(),
        1,
        "the remaining name's link count"
    );
    assert_eq!(lstat(&storage_gallery(&m).join("a")).nlink(), 1);
    assert!(!exists(&g.join("b")));

    rm(&g.join("a"));
    assert_eq!(
        names(&m.trash()),
        name_set(&["a"]),
        "the last name must be trashed"
    );
    assert_eq!(read(&m.trash().join("a")), b"linked");
    assert_eq!(lstat(&m.trash().join("a")).nlink(), 1);
}

// ---- 4. rename over an existing file ------------------------------------------

#[test]
fn rename_over_a_file_trashes_the_replaced_one() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("dir"));
    write(&g.join("dir/y"), b"old y");
    write(&g.join("x"), b"new y");
    let x_ino = meta(&g.join("x")).ino;

    mv(&g.join("x"), &g.join("dir/y"));
    assert!(!exists(&g.join("x")));
    assert_eq!(read(&g.join("dir/y")), b"new y");
    assert_eq!(meta(&g.join("dir/y")).ino, x_ino);
    assert_eq!(names(&m.trash()), name_set(&["y"]));
    assert_eq!(
        read(&m.trash().join("y")),
        b"old y",
        "the replaced file's content"
    );
    assert_eq!(
        xattr::get_string(&m.trash().join("y"), "user.trash.original_path"),
        "dir/y"
    );

    write(&g.join("z"), b"newest y");
    ok(Command::new("mv")
        .arg("-f")
        .arg(g.join("z"))
        .arg(g.join("dir/y")));
    assert_eq!(read(&g.join("dir/y")), b"newest y");
    assert_eq!(names(&m.trash()), name_set(&["y", "y (2)"]));
    assert_eq!(read(&m.trash().join("y (2)")), b"new y");

    write(&g.join("w"), b"by syscall");
    fs::rename(g.join("w"), g.join("dir/y")).unwrap();
    assert_eq!(read(&m.trash().join("y (3)")), b"newest y");

    // The replaced file has another name: nothing is lost, no entry.
    write(&g.join("h"), b"hard");
    fs::hard_link(g.join("h"), g.join("h2")).unwrap();
    write(&g.join("s"), b"src");
    fs::rename(g.join("s"), g.join("h")).unwrap();
    assert_eq!(read(&g.join("h")), b"src");
    assert_eq!(read(&g.join("h2")), b"hard");
    assert_eq!(lstat(&g.join("h2")).nlink(), 1);
    assert_eq!(
        names(&m.trash()).len(),
        3,
        "a replaced file with another link became an entry"
    );
    assert_eq!(names(&storage_trash(&m)).len(), 3);
}

#[test]
fn a_failed_rename_leaves_the_target_and_the_trash_alone() {
    let m = Mount::new();
    let g = m.gallery();
    let untouched = |what: &str| {
        assert!(
            names(&m.trash()).is_empty(),
            "{what}: the trash changed; log:\n{}",
            m.log()
        );
        assert!(
            names(&storage_trash(&m)).is_empty(),
            "{what}: STORAGE/trash changed"
        );
    };

    mkdir_p(&g.join("full"));
    write(&g.join("full/inside"), b"in");
    write(&g.join("file"), b"file");
    assert_errno(
        "rename of a file onto a non-empty dir",
        fs::rename(g.join("file"), g.join("full")),
        libc::EISDIR,
    );
    assert_eq!(read(&g.join("full/inside")), b"in");
    assert_eq!(read(&g.join("file")), b"file");
    untouched("file onto dir");

    mkdir_p(&g.join("dir"));
    assert_errno(
        "rename of a dir onto a file",
        fs::rename(g.join("dir"), g.join("file")),
        libc::ENOTDIR,
    );
    assert_eq!(read(&g.join("file")), b"file");
    assert!(lstat(&g.join("dir")).is_dir());
    untouched("dir onto file");

    mkdir_p(&g.join("full/sub"));
    write(&g.join("full/sub/deep"), b"deep");
    assert_errno(
        "rename of a dir into itself",
        fs::rename(g.join("full"), g.join("full/sub/x")),
        libc::EINVAL,
    );
    untouched("dir into itself");

    // A failure only the backing store can report: the source vanished
    // behind the kernel's back (its cached name still looks valid).
    write(&g.join("src"), b"src");
    write(&g.join("dst"), b"dst");
    assert!(exists(&g.join("src")) && exists(&g.join("dst")));
    fs::remove_file(storage_gallery(&m).join("src")).unwrap();
    assert_errno(
        "rename of a vanished source",
        fs::rename(g.join("src"), g.join("dst")),
        libc::ENOENT,
    );
    assert_eq!(
        read(&g.join("dst")),
        b"dst",
        "the target was replaced by a failed rename"
    );
    assert_eq!(lstat(&storage_gallery(&m).join("dst")).nlink(), 1);
    untouched("vanished source");
}

// ---- 5. rmdir and rm -r -----------------------------------------------------------

#[test]
fn rmdir_removes_and_rm_r_trashes_each_file() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("empty"));
    fs::remove_dir(g.join("empty")).unwrap();
    assert!(!exists(&g.join("empty")));
    assert!(!exists(&storage_gallery(&m).join("empty")));
    assert!(
        names(&m.trash()).is_empty(),
        "an empty directory became an entry"
    );

    mkdir_p(&g.join("t/sub/deeper"));
    mkdir_p(&g.join("t/sub/empty"));
    write(&g.join("t/a.txt"), b"A");
    write(&g.join("t/sub/b.txt"), b"B");
    write(&g.join("t/sub/deeper/c.txt"), b"C");
    ok(Command::new("rm").arg("-r").arg(g.join("t")));

    assert!(!exists(&g.join("t")));
    assert!(!exists(&storage_gallery(&m).join("t")));
    assert_eq!(names(&m.trash()), name_set(&["a.txt", "b.txt", "c.txt"]));
    for (entry, path, content) in [
        ("a.txt", "t/a.txt", "A"),
        ("b.txt", "t/sub/b.txt", "B"),
        ("c.txt", "t/sub/deeper/c.txt", "C"),
    ] {
        let e = m.trash().join(entry);
        assert_eq!(xattr::get_string(&e, "user.trash.original_path"), path);
        assert_eq!(read(&e), content.as_bytes());
    }
    assert_eq!(names(&storage_trash(&m)).len(), 3);
}

// ---- 6. move into the trash by name ----------------------------------------------

#[test]
fn mv_into_the_trash_makes_a_named_entry() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("a"));
    write(&g.join("a/x"), b"x");
    chown(&g.join("a/x"), USER, USER);
    mv(&g.join("a/x"), &t.join("keep"));
    assert!(!exists(&g.join("a/x")));
    assert_eq!(read(&t.join("keep")), b"x");
    assert_eq!(
        xattr::get_string(&t.join("keep"), "user.trash.original_path"),
        "a/x"
    );
    assert_eq!(meta(&t.join("keep")).uid, USER);

    mkdir_p(&g.join("d/e"));
    write(&g.join("d/e/f"), b"deep");
    write(&g.join("d/top"), b"top");
    mv(&g.join("d"), &t.join("old dir"));
    assert!(!exists(&g.join("d")));
    assert_eq!(read(&t.join("old dir/e/f")), b"deep");
    assert_eq!(read(&t.join("old dir/top")), b"top");
    assert_eq!(
        xattr::get_string(&t.join("old dir"), "user.trash.original_path"),
        "d"
    );
    assert_eq!(read(&storage_trash(&m).join("old dir/e/f")), b"deep");
    assert_eq!(names(&t), name_set(&["keep", "old dir"]));

    write(&g.join("y"), b"y");
    assert_errno(
        "rename onto a taken entry name",
        fs::rename(g.join("y"), t.join("keep")),
        libc::EEXIST,
    );
    assert_eq!(read(&g.join("y")), b"y", "the file left the gallery");
    assert_eq!(read(&t.join("keep")), b"x", "an entry was replaced");
    assert_eq!(
        xattr::get_string(&t.join("keep"), "user.trash.original_path"),
        "a/x"
    );
    let err = fails(Command::new("mv").arg(g.join("y")).arg(t.join("keep")));
    assert!(err.contains("File exists"), "mv onto a taken entry: {err}");
    assert_eq!(read(&t.join("keep")), b"x");
    assert_eq!(names(&t), name_set(&["keep", "old dir"]));
}

#[test]
fn a_gallery_name_of_a_hard_link_moved_into_the_trash_stays_a_gallery_file() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    // The trash name is the one galleryfs learns last in both cases.
    write(&g.join("b"), b"b");
    fs::hard_link(g.join("b"), g.join("a")).unwrap();
    mv(&g.join("a"), &t.join("A"));
    assert_eq!(read(&t.join("A")), b"b");
    write(&g.join("other"), b"o");
    mkdir_p(&g.join("d"));
    fs::hard_link(g.join("other"), g.join("d/f")).unwrap();
    mv(&g.join("d"), &t.join("D"));
    assert_eq!(read(&t.join("D/f")), b"o");

    for name in ["b", "other"] {
        let p = g.join(name);
        let mut f = OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap_or_else(|e| panic!("gallery/{name} is no longer writable: {e}"));
        f.write_all(b"+").unwrap();
        drop(f);
        chmod(&p, 0o600);
        xattr::set(&p, "user.mine", b"1")
            .unwrap_or_else(|e| panic!("setxattr gallery/{name}: {e}"));
        assert!(
            xattr::trash_names(&p).is_empty(),
            "gallery/{name} lists {:?}",
            xattr::trash_names(&p)
        );
        assert_eq!(
            xattr::get_opt(&p, "user.trash.original_path"),
            None,
            "gallery/{name}"
        );
    }
    assert_eq!(read(&g.join("b")), b"b+");
    assert_eq!(read(&g.join("other")), b"o+");
}

// ---- 7. restore --------------------------------------------------------------

#[test]
fn restore_brings_the_entry_back_exactly() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("a"));
    let f = g.join("a/f");
    write(&f, b"restore me");
    xattr::set(&f, "user.own", b"mine").unwrap();
    chmod(&f, 0o604);
    chown(&f, USER, USER);
    touch_d(&f, "2015-01-02 03:04:05.25 UTC");
    let before = meta(&f);
    rm(&f);
    assert_eq!(names(&t), name_set(&["f"]));

    mv(&t.join("f"), &f);
    assert_eq!(read(&f), b"restore me");
    assert_eq!(meta(&f), before, "restored metadata or inode differ");
    assert_eq!(
        xattr::get_opt(&f, "user.own").as_deref(),
        Some(&b"mine"[..])
    );
    assert!(
        xattr::trash_names(&f).is_empty(),
        "restored file lists {:?}",
        xattr::trash_names(&f)
    );
    assert_eq!(xattr::get_opt(&f, "user.trash.original_path"), None);
    assert!(names(&t).is_empty(), "the entry is still listed");
    assert!(
        names(&storage_trash(&m)).is_empty(),
        "the entry is still in STORAGE/trash"
    );
    assert_eq!(read(&storage_gallery(&m).join("a/f")), b"restore me");
    assert!(!ls_a(&m.mountpoint).contains(&".trash".to_owned()));

    // Restoring over a file sends that file to the trash.
    write(&g.join("other"), b"other");
    rm(&g.join("other"));
    write(&g.join("a/occupant"), b"occupant");
    mv(&t.join("other"), &g.join("a/occupant"));
    assert_eq!(read(&g.join("a/occupant")), b"other");
    let replaced: Vec<OsString> = names(&t).into_iter().collect();
    assert_eq!(
        replaced.len(),
        1,
        "the replaced file did not become one entry: {replaced:?}"
    );
    let replaced = t.join(&replaced[0]);
    assert_eq!(read(&replaced), b"occupant");
    assert_eq!(
        xattr::get_string(&replaced, "user.trash.original_path"),
        "a/occupant"
    );

    // A missing parent is ENOENT, and the entry stays.
    let entry_name = replaced.file_name().unwrap().to_owned();
    assert_errno(
        "restore under a missing directory",
        fs::rename(&replaced, g.join("nope/x")),
        libc::ENOENT,
    );
    assert_eq!(names(&t), BTreeSet::from([entry_name]));

    // A whole directory comes back as it was.
    mkdir_p(&g.join("tree/sub"));
    write(&g.join("tree/sub/leaf"), b"leaf");
    chmod(&g.join("tree/sub"), 0o750);
    let tree_before = (
        meta(&g.join("tree")),
        meta(&g.join("tree/sub")),
        meta(&g.join("tree/sub/leaf")),
    );
    mv(&g.join("tree"), &t.join("tree"));
    assert!(!exists(&g.join("tree")));
    mv(&t.join("tree"), &g.join("tree"));
    let tree_after = (
        meta(&g.join("tree")),
        meta(&g.join("tree/sub")),
        meta(&g.join("tree/sub/leaf")),
    );
    assert_eq!(tree_after, tree_before);
    assert_eq!(read(&g.join("tree/sub/leaf")), b"leaf");
    assert!(xattr::trash_names(&g.join("tree")).is_empty());
}

// ---- 8. purge ------------------------------------------------------------------

#[test]
fn purging_deletes_the_data_from_storage() {
    let m = Mount::new();
    let (g, t, st) = (m.gallery(), m.trash(), storage_trash(&m));
    write(&g.join("f"), b"f");
    rm(&g.join("f"));
    rm(&t.join("f"));
    assert!(names(&t).is_empty());
    assert!(
        names(&st).is_empty(),
        "rm .trash/f left data in STORAGE/trash"
    );

    mkdir_p(&g.join("d/sub"));
    write(&g.join("d/sub/x"), b"x");
    write(&g.join("d/y"), b"y");
    mv(&g.join("d"), &t.join("D"));
    ok(Command::new("rm").arg("-r").arg(t.join("D")));
    assert!(!exists(&t.join("D")));
    assert!(
        names(&st).is_empty(),
        "rm -r .trash/D left data in STORAGE/trash"
    );
    assert!(names(&m.storage.join("purging")).is_empty());

    mkdir_p(&g.join("e/sub"));
    write(&g.join("e/sub/x"), b"x");
    write(&g.join("e/y"), b"y");
    mv(&g.join("e"), &t.join("E"));
    rm(&t.join("E/y"));
    assert!(
        !exists(&st.join("E/y")),
        "unlink inside a trashed dir left the data"
    );
    rm(&t.join("E/sub/x"));
    fs::remove_dir(t.join("E/sub")).unwrap();
    assert!(
        !exists(&st.join("E/sub")),
        "rmdir inside a trashed dir left the dir"
    );
    assert_eq!(
        names(&t),
        name_set(&["E"]),
        "the trashed dir is still an entry"
    );
    fs::remove_dir(t.join("E")).unwrap();
    assert!(names(&st).is_empty());
    assert!(!ls_a(&m.mountpoint).contains(&".trash".to_owned()));
}

// ---- 9. rename an entry ---------------------------------------------------------

#[test]
fn renaming_an_entry_keeps_its_attributes() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    write(&g.join("a"), b"a");
    xattr::set(&g.join("a"), "user.own", b"mine").unwrap();
    write(&g.join("b"), b"b");
    rm(&g.join("a"));
    rm(&g.join("b"));
    let deleted_at = xattr::get_string(&t.join("a"), "user.trash.deleted_at");

    mv(&t.join("a"), &t.join("c"));
    assert_eq!(names(&t), name_set(&["b", "c"]));
    assert_eq!(names(&storage_trash(&m)), name_set(&["b", "c"]));
    let c = t.join("c");
    assert_eq!(read(&c), b"a");
    assert_eq!(xattr::get_string(&c, "user.trash.original_path"), "a");
    assert_eq!(xattr::get_string(&c, "user.trash.deleted_at"), deleted_at);
    assert_eq!(
        xattr::get_opt(&c, "user.own").as_deref(),
        Some(&b"mine"[..])
    );

    assert_errno(
        "rename onto another entry",
        fs::rename(&c, t.join("b")),
        libc::EEXIST,
    );
    assert_eq!(read(&t.join("b")), b"b");
    assert_eq!(read(&c), b"a");
    assert_eq!(names(&t), name_set(&["b", "c"]));
}

// ---- 10. the trash is read-only ---------------------------------------------------

#[test]
fn the_trash_is_read_only() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    write(&g.join("f"), b"content");
    rm(&g.join("f"));
    mkdir_p(&g.join("d/sub"));
    write(&g.join("d/inner"), b"inner");
    mv(&g.join("d"), &t.join("D"));
    write(&g.join("outside"), b"outside");
    let rofs = libc::EROFS;

    for target in [t.join("f"), t.join("D/inner")] {
        let what = |op: &str| format!("{op} {}", target.display());
        let before = meta(&target);
        assert_errno(
            &what("open for write"),
            OpenOptions::new().write(true).open(&target),
            rofs,
        );
        assert_errno(
            &what("open for append"),
            OpenOptions::new().append(true).open(&target),
            rofs,
        );
        // SAFETY: valid path.
        let fd = unsafe { libc::open(cpath(&target).as_ptr(), libc::O_RDONLY | libc::O_TRUNC) };
        assert_errno(&what("open O_TRUNC"), check(fd), rofs);
        // SAFETY: valid path.
        assert_errno(
            &what("truncate"),
            check(unsafe { libc::truncate(cpath(&target).as_ptr(), 0) }),
            rofs,
        );
        assert_errno(
            &what("chmod"),
            fs::set_permissions(&target, fs::Permissions::from_mode(0o777)),
            rofs,
        );
        assert_errno(
            &what("chown"),
            std::os::unix::fs::chown(&target, Some(USER), None),
            rofs,
        );
        let times = [libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_NOW,
        }; 2];
        // SAFETY: valid path and two timespecs.
        let r = check(unsafe {
            libc::utimensat(libc::AT_FDCWD, cpath(&target).as_ptr(), times.as_ptr(), 0)
        });
        assert_errno(&what("utimensat"), r, rofs);
        let err = fails(Command::new("touch").arg(&target));
        assert!(err.contains("Read-only file system"), "touch: {err}");
        assert_errno(
            &what("setxattr"),
            xattr::set(&target, "user.new", b"v"),
            rofs,
        );
        let path = cpath(&target);
        // SAFETY: valid C strings.
        let removed =
            check(unsafe { libc::lremovexattr(path.as_ptr(), c"user.trash.days_left".as_ptr()) });
        assert_errno(&what("removexattr"), removed, rofs);
        let err = fails(
            Command::new("setfattr")
                .args(["-n", "user.trash.days_left", "-v", "99d"])
                .arg(&target),
        );
        assert!(err.contains("Read-only file system"), "setfattr: {err}");
        assert_eq!(meta(&target), before, "{} changed", target.display());
        let mut content = Vec::new();
        File::open(&target)
            .and_then(|mut f| f.read_to_end(&mut content))
            .unwrap_or_else(|e| panic!("reading {}: {e}", target.display()));
        assert!(
            content == b"content" || content == b"inner",
            "{}: {content:?}",
            target.display()
        );
    }

    for dir in [t.clone(), t.join("D"), t.join("D/sub")] {
        let what = |op: &str| format!("{op} in {}", dir.display());
        assert_errno(&what("create"), File::create(dir.join("new")), rofs);
        assert_errno(&what("mkdir"), fs::create_dir(dir.join("newdir")), rofs);
        assert_errno(
            &what("symlink"),
            std::os::unix::fs::symlink("x", dir.join("ln")),
            rofs,
        );
        assert_errno(
            &what("link"),
            fs::hard_link(g.join("outside"), dir.join("hard")),
            rofs,
        );
        let err = fails(Command::new("mkfifo").arg(dir.join("fifo")));
        assert!(err.contains("Read-only file system"), "mkfifo: {err}");
        let err = fails(Command::new("touch").arg(dir.join("touched")));
        assert!(err.contains("Read-only file system"), "touch: {err}");
    }
    assert_errno(
        "link of an entry into the gallery",
        fs::hard_link(t.join("f"), g.join("linked")),
        rofs,
    );
    assert_errno(
        "link of a file in a trashed dir",
        fs::hard_link(t.join("D/inner"), g.join("linked")),
        rofs,
    );
    assert_errno(
        "chmod of a trashed dir",
        fs::set_permissions(t.join("D"), fs::Permissions::from_mode(0o700)),
        rofs,
    );
    assert_errno(
        "rename inside a trashed dir",
        fs::rename(t.join("D/inner"), t.join("D/renamed")),
        rofs,
    );
    assert_errno(
        "rename out of a trashed dir into the trash",
        fs::rename(t.join("D/inner"), t.join("inner")),
        rofs,
    );
    assert_errno(
        "rename into a trashed dir",
        fs::rename(g.join("outside"), t.join("D/outside")),
        rofs,
    );

    assert_eq!(names(&t), name_set(&["D", "f"]));
    assert_eq!(names(&t.join("D")), name_set(&["inner", "sub"]));
    assert_eq!(read(&t.join("f")), b"content");
    assert_eq!(read(&t.join("D/inner")), b"inner");
    assert_eq!(names(&storage_trash(&m)), name_set(&["D", "f"]));
}

// ---- 11. the mount root ----------------------------------------------------------

#[test]
fn the_mount_root_is_fixed_and_shows_trash_only_when_not_empty() {
    let m = Mount::new();
    let root = &m.mountpoint;
    let refused = |what: &str, r: io::Result<()>| {
        let e = must_fail(what, r);
        assert!(
            e == libc::EPERM || e == libc::EACCES,
            "{what}: {}",
            io::Error::from_raw_os_error(e)
        );
    };
    refused("create in the root", File::create(root.join("x")).map(drop));
    refused("mkdir in the root", fs::create_dir(root.join("y")));
    refused(
        "symlink in the root",
        std::os::unix::fs::symlink("gallery", root.join("z")),
    );
    refused("rmdir gallery", fs::remove_dir(m.gallery()));
    refused("rmdir .trash", fs::remove_dir(m.trash()));
    refused("rename gallery", fs::rename(m.gallery(), root.join("g2")));
    refused("rename .trash", fs::rename(m.trash(), root.join("t2")));
    write(&m.gallery().join("f"), b"f");
    refused(
        "rename into the root",
        fs::rename(m.gallery().join("f"), root.join("f")),
    );
    refused(
        "rename gallery into the trash",
        fs::rename(m.gallery(), m.trash().join("g")),
    );
    let err = fails(Command::new("touch").arg(root.join("x")));
    assert!(
        err.contains("Operation not permitted") || err.contains("Permission denied"),
        "touch: {err}"
    );
    assert!(exists(&m.gallery().join("f")));

    assert_eq!(
        ls_a(root),
        [".", "..", "gallery"],
        "an empty trash is hidden"
    );
    assert!(
        ok(Command::new("ls").arg(m.trash())).is_empty(),
        "ls of the empty trash"
    );
    let tm = lstat(&m.trash());
    assert!(tm.is_dir());
    assert_eq!(
        (tm.mode() & 0o7777, tm.uid(), tm.gid()),
        (0o1777, 0, 0),
        ".trash mode and owner"
    );

    rm(&m.gallery().join("f"));
    assert_eq!(ls_a(root), [".", "..", ".trash", "gallery"]);
    mv(&m.trash().join("f"), &m.gallery().join("f"));
    assert_eq!(
        ls_a(root),
        [".", "..", "gallery"],
        "trash shown after its last entry was restored"
    );
    rm(&m.gallery().join("f"));
    assert!(ls_a(root).contains(&".trash".to_owned()));
    rm(&m.trash().join("f"));
    assert_eq!(
        ls_a(root),
        [".", "..", "gallery"],
        "trash shown after its last entry was purged"
    );
}

// ---- 12. entry names -------------------------------------------------------------

#[test]
fn entry_names_avoid_collisions_keep_extensions_and_fit() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    for d in ["a", "b", "c"] {
        mkdir_p(&g.join(d));
        write(&g.join(d).join("cat.jpg"), d.as_bytes());
    }
    ok(Command::new("rm")
        .arg(g.join("a/cat.jpg"))
        .arg(g.join("b/cat.jpg"))
        .arg(g.join("c/cat.jpg")));
    assert_eq!(
        names(&t),
        name_set(&["cat.jpg", "cat (2).jpg", "cat (3).jpg"])
    );
    for (entry, from) in [("cat.jpg", "a"), ("cat (2).jpg", "b"), ("cat (3).jpg", "c")] {
        assert_eq!(read(&t.join(entry)), from.as_bytes(), "{entry}");
        assert_eq!(
            xattr::get_string(&t.join(entry), "user.trash.original_path"),
            format!("{from}/cat.jpg")
        );
    }

    let odd: &[u8] = b"\xff\xfe.jpg";
    for d in ["a", "b"] {
        write(&bytes_path(&g.join(d), odd), d.as_bytes());
        rm(&bytes_path(&g.join(d), odd));
    }
    let first = bytes_path(&t, odd);
    let second = bytes_path(&t, b"\xff\xfe (2).jpg");
    assert_eq!(read(&first), b"a");
    assert_eq!(read(&second), b"b");
    assert_eq!(
        xattr::get_opt(&first, "user.trash.original_path").unwrap(),
        b"a/\xff\xfe.jpg"
    );
    assert_eq!(
        xattr::get_opt(&second, "user.trash.original_path").unwrap(),
        b"b/\xff\xfe.jpg"
    );

    let long = format!("{}.png", "n".repeat(251));
    assert_eq!(long.len(), 255);
    for d in ["a", "b"] {
        write(&g.join(d).join(&long), d.as_bytes());
        rm(&g.join(d).join(&long));
    }
    assert_eq!(read(&t.join(&long)), b"a");
    let shortened: Vec<OsString> = names(&t)
        .into_iter()
        .filter(|n| n.as_bytes().starts_with(b"nnnn") && n.as_bytes() != long.as_bytes())
        .collect();
    assert_eq!(shortened.len(), 1, "{shortened:?}");
    let s = shortened[0].as_bytes();
    assert!(s.len() <= 255, "entry name of {} bytes", s.len());
    assert!(
        s.ends_with(b" (2).png"),
        "suffix lost: {:?}",
        String::from_utf8_lossy(s)
    );
    assert_eq!(read(&t.join(&shortened[0])), b"b");
    assert_eq!(
        xattr::get_string(&t.join(&shortened[0]), "user.trash.original_path"),
        format!("b/{long}")
    );
    assert_eq!(names(&storage_trash(&m)), names(&t));
}

#[test]
fn concurrent_deletions_get_distinct_names() {
    const N: usize = 40;
    let m = Mount::new();
    let g = m.gallery();
    for i in 0..N {
        mkdir_p(&g.join(format!("d{i}")));
        write(&g.join(format!("d{i}/cat.jpg")), format!("{i}").as_bytes());
    }
    sh(
        &g,
        &format!("i=0; while [ $i -lt {N} ]; do rm d$i/cat.jpg & i=$((i+1)); done; wait"),
    );
    let mut want = name_set(&["cat.jpg"]);
    want.extend((2..=N).map(|n| OsString::from(format!("cat ({n}).jpg"))));
    assert_eq!(names(&m.trash()), want, "log:\n{}", m.log());
    // Each entry holds the file its original path names.
    for e in &want {
        let e = m.trash().join(e);
        let original = xattr::get_string(&e, "user.trash.original_path");
        let i = original
            .strip_prefix('d')
            .and_then(|r| r.strip_suffix("/cat.jpg"))
            .expect("d<i>/cat.jpg");
        assert_eq!(
            read(&e),
            i.as_bytes(),
            "{} came from {original}",
            e.display()
        );
    }
}

// ---- 13. trash attributes ----------------------------------------------------------

#[test]
fn entries_carry_the_four_trash_attributes() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("albums/2026"));
    let f = g.join("albums/2026/cat.jpg");
    write(&f, b"meow");
    xattr::set(&f, "user.own", b"mine").unwrap();
    assert!(
        xattr::trash_names(&f).is_empty(),
        "a gallery file lists trash attributes"
    );
    assert_eq!(
        xattr::get_opt(&f, "user.trash.original_path"),
        None,
        "a gallery file has trash attributes"
    );
    let before = Utc::now().timestamp();
    rm(&f);
    let after = Utc::now().timestamp();

    let e = t.join("cat.jpg");
    let mut expected: BTreeSet<String> = TRASH_XATTRS.iter().map(|s| s.to_string()).collect();
    expected.insert("user.own".into());
    assert_eq!(xattr::names(&e), expected, "listxattr of an entry");
    assert_eq!(
        xattr::get_string(&e, "user.trash.original_path"),
        "albums/2026/cat.jpg"
    );
    let deleted = time_xattr(&e, "user.trash.deleted_at");
    assert!(
        (before..=after).contains(&deleted.timestamp()),
        "deleted_at {deleted} is not between {before} and {after}"
    );
    let expires = time_xattr(&e, "user.trash.expires_at");
    assert_eq!(
        (expires - deleted).num_seconds(),
        30 * SECS_PER_DAY,
        "default retention"
    );
    assert_eq!(xattr::get_string(&e, "user.trash.days_left"), "30d");

    let dump = ok(Command::new("getfattr").arg("-d").arg(&e));
    for line in [
        "user.own=\"mine\"",
        "user.trash.original_path=\"albums/2026/cat.jpg\"",
        "user.trash.days_left=\"30d\"",
    ] {
        assert!(
            dump.lines().any(|l| l == line),
            "getfattr -d lacks {line}:\n{dump}"
        );
    }
    assert!(dump.contains(&format!(
        "user.trash.deleted_at=\"{}\"",
        deleted.format("%Y-%m-%dT%H:%M:%SZ")
    )));

    // A trashed directory is an entry too; what is inside it is not.
    mkdir_p(&g.join("d"));
    write(&g.join("d/inner"), b"i");
    mv(&g.join("d"), &t.join("D"));
    assert_eq!(xattr::trash_names(&t.join("D")).len(), 4);
    assert_eq!(
        xattr::get_string(&t.join("D"), "user.trash.original_path"),
        "d"
    );
    assert!(xattr::trash_names(&t.join("D/inner")).is_empty());

    // Reserved on gallery files, and gone once restored.
    write(&g.join("plain"), b"p");
    let err = fails(
        Command::new("setfattr")
            .args(["-n", "user.trash.x", "-v", "1"])
            .arg(g.join("plain")),
    );
    assert!(
        !err.is_empty(),
        "setfattr of a reserved name failed silently"
    );
    xattr::set(&g.join("plain"), "user.trash.original_path", b"forged")
        .expect_err("a forged trash attribute was accepted");
    assert!(
        xattr::names(&g.join("plain")).is_empty(),
        "{:?}",
        xattr::names(&g.join("plain"))
    );
    assert!(xattr::names(&storage_gallery(&m).join("plain")).is_empty());
    // Copies carry the file's own attributes; the gallery drops the trash's quietly.
    ok(Command::new("cp").arg("-a").arg(&e).arg(g.join("copy.jpg")));
    assert_eq!(
        xattr::names(&g.join("copy.jpg")),
        BTreeSet::from(["user.own".to_owned()])
    );
    mv(&e, &g.join("back.jpg"));
    assert_eq!(
        xattr::names(&g.join("back.jpg")),
        BTreeSet::from(["user.own".to_owned()])
    );
}

#[test]
fn days_left_and_expires_at_follow_the_retention() {
    for (retention, secs, days_left) in [
        ("3s", 3, "1d"),
        ("12h", 12 * 3600, "1d"),
        ("40d", 40 * SECS_PER_DAY, "40d"),
    ] {
        let option = format!("retention={retention}");
        let m = Mount::with_options(&[&option]);
        write(&m.gallery().join("f"), b"f");
        rm(&m.gallery().join("f"));
        let e = m.trash().join("f");
        let deleted = time_xattr(&e, "user.trash.deleted_at");
        let expires = time_xattr(&e, "user.trash.expires_at");
        assert_eq!(
            (expires - deleted).num_seconds(),
            secs,
            "expires_at - deleted_at with {option}"
        );
        assert_eq!(
            xattr::get_string(&e, "user.trash.days_left"),
            days_left,
            "days_left with {option}"
        );
    }
}

#[test]
fn special_file_entries_list_only_attributes_they_can_show() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    std::os::unix::fs::symlink("target", g.join("lnk")).unwrap();
    ok(Command::new("mkfifo").arg(g.join("fifo")));
    rm(&g.join("lnk"));
    rm(&g.join("fifo"));
    assert_eq!(fs::read_link(t.join("lnk")).unwrap(), Path::new("target"));
    assert!(lstat(&t.join("fifo")).file_type().is_fifo());
    // Linux allows user.* xattrs only on regular files and directories, so
    // listing them on a symlink or fifo would name attributes nobody can read.
    for e in ["lnk", "fifo"] {
        let out = run(Command::new("getfattr").arg("-h").arg("-d").arg(t.join(e)));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "getfattr -h -d .trash/{e}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for name in xattr::names(&t.join(e)) {
            assert!(
                xattr::get_opt(&t.join(e), &name).is_some(),
                "{e} lists {name} but has no such attribute"
            );
        }
    }
    mv(&t.join("lnk"), &g.join("lnk"));
    assert_eq!(fs::read_link(g.join("lnk")).unwrap(), Path::new("target"));
}

#[test]
fn days_left_counts_down_to_1d() {
    let mut m = Mount::new();
    for name in ["fresh", "half", "last"] {
        write(&m.gallery().join(name), name.as_bytes());
        rm(&m.gallery().join(name));
    }
    m.unmount();
    // Age the entries as if days had passed (the catalog is plain SQLite).
    let db = rusqlite::Connection::open(m.storage.join("galleryfs.db")).expect("open the catalog");
    for (name, aged) in [
        ("half", 15 * SECS_PER_DAY + 60),
        ("last", 30 * SECS_PER_DAY - 3600),
    ] {
        let n = db
            .execute(
                "UPDATE entries SET deleted_at = deleted_at - ?1 WHERE name = ?2",
                rusqlite::params![aged, name.as_bytes()],
            )
            .expect("age an entry");
        assert_eq!(n, 1, "no catalog row for {name}");
    }
    drop(db);
    m.mount();
    for (name, left) in [("fresh", "30d"), ("half", "15d"), ("last", "1d")] {
        assert_eq!(
            xattr::get_string(&m.trash().join(name), "user.trash.days_left"),
            left,
            "days_left of {name}"
        );
    }
}

// ---- 14. persistence ---------------------------------------------------------------

#[test]
fn entries_and_their_attributes_survive_a_remount() {
    let mut m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("a"));
    write(&g.join("a/f"), b"file");
    xattr::set(&g.join("a/f"), "user.own", b"mine").unwrap();
    mkdir_p(&g.join("d/sub"));
    write(&g.join("d/sub/x"), b"x");
    rm(&g.join("a/f"));
    mv(&g.join("d"), &t.join("D"));
    let snapshot = |e: &Path| -> BTreeMap<String, Vec<u8>> {
        xattr::names(e)
            .into_iter()
            .map(|n| (n.clone(), xattr::get_opt(e, &n).unwrap()))
            .collect()
    };
    let (f_attrs, d_attrs) = (snapshot(&t.join("f")), snapshot(&t.join("D")));
    let f_meta = meta(&t.join("f"));

    m.remount();

    assert_eq!(
        names(&t),
        name_set(&["D", "f"]),
        "entries after remount; log:\n{}",
        m.log()
    );
    assert!(ls_a(&m.mountpoint).contains(&".trash".to_owned()));
    assert_eq!(read(&t.join("f")), b"file");
    assert_eq!(read(&t.join("D/sub/x")), b"x");
    assert_eq!(snapshot(&t.join("f")), f_attrs, "xattrs of f after remount");
    assert_eq!(snapshot(&t.join("D")), d_attrs, "xattrs of D after remount");
    assert_eq!(meta(&t.join("f")), f_meta);

    // Retention is read at mount: it changes expires_at of existing entries.
    m.options = vec!["retention=40d".into()];
    m.remount();
    let deleted = time_xattr(&t.join("f"), "user.trash.deleted_at");
    let expires = time_xattr(&t.join("f"), "user.trash.expires_at");
    assert_eq!((expires - deleted).num_seconds(), 40 * SECS_PER_DAY);
    assert_eq!(
        xattr::get_string(&t.join("f"), "user.trash.days_left"),
        "40d"
    );

    mv(&t.join("f"), &g.join("a/f"));
    assert_eq!(meta(&g.join("a/f")), f_meta, "restore after remount");
    assert_eq!(
        xattr::get_opt(&g.join("a/f"), "user.own").as_deref(),
        Some(&b"mine"[..])
    );
}

// ---- 15. expiry ------------------------------------------------------------------

#[test]
fn entries_expire_after_the_retention() {
    let m = Mount::with_options(&["retention=3s", "sweep=1s"]);
    let (g, t) = (m.gallery(), m.trash());
    write(&g.join("f"), b"f");
    mkdir_p(&g.join("d/sub"));
    write(&g.join("d/sub/x"), b"x");
    rm(&g.join("f"));
    mv(&g.join("d"), &t.join("D"));
    assert_eq!(names(&t), name_set(&["D", "f"]));
    assert_eq!(names(&storage_trash(&m)), name_set(&["D", "f"]));
    let (f_expires, d_expires) = (
        time_xattr(&t.join("f"), "user.trash.expires_at"),
        time_xattr(&t.join("D"), "user.trash.expires_at"),
    );
    let expires = f_expires.max(d_expires);

    // Still there shortly before the expiry (the sweep runs every second)...
    sleep_past(f_expires.min(d_expires) - chrono::Duration::milliseconds(500));
    assert_eq!(
        names(&t),
        name_set(&["D", "f"]),
        "entries went before their expiry"
    );
    assert!(exists(&storage_trash(&m).join("f")));
    // ...invisible as soon as expired, whether or not a sweep has run yet.
    sleep_past(expires + chrono::Duration::milliseconds(50));
    assert!(names(&t).is_empty(), "expired entries are listed");
    assert!(!exists(&t.join("f")), "an expired entry can be looked up");
    wait_until("expired entries to leave .trash and STORAGE/trash", || {
        names(&t).is_empty() && names(&storage_trash(&m)).is_empty()
    });
    assert!(
        !exists(&t.join("f")),
        "an expired entry can still be looked up; log:\n{}",
        m.log()
    );
    assert!(
        !exists(&t.join("D")),
        "an expired directory can still be looked up"
    );
    assert_eq!(ls_a(&m.mountpoint), [".", "..", "gallery"]);
    assert!(names(&m.storage.join("purging")).is_empty());
}

#[test]
fn entries_that_expired_while_unmounted_are_never_seen() {
    // sweep=1h: the only sweep of the second mount is the one right after mounting.
    let mut m = Mount::with_options(&["retention=3s", "sweep=1h"]);
    write(&m.gallery().join("f"), b"f");
    rm(&m.gallery().join("f"));
    let expires = time_xattr(&m.trash().join("f"), "user.trash.expires_at");
    m.unmount();
    sleep_past(expires + chrono::Duration::seconds(1));
    m.mount();

    assert!(
        !names(&m.trash()).contains(OsStr::new("f")),
        "an expired entry is listed"
    );
    assert!(
        !exists(&m.trash().join("f")),
        "an expired entry can be looked up"
    );
    assert_eq!(ls_a(&m.mountpoint), [".", "..", "gallery"]);
    wait_until("the initial sweep to delete the expired entry", || {
        names(&storage_trash(&m)).is_empty()
    });
}

/// Clears the immutable flag it set, so the temporary directory can go.
struct Immutable(PathBuf);

impl Immutable {
    fn set(p: &Path) -> Immutable {
        ok(Command::new("chattr").arg("+i").arg(p));
        Immutable(p.to_owned())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn an_expired_entry_the_sweep_cannot_delete_stays_invisible() {
    let m = Mount::with_options(&["retention=3s", "sweep=1s"]);
    write(&m.gallery().join("f"), b"f");
    rm(&m.gallery().join("f"));
    let expires = time_xattr(&m.trash().join("f"), "user.trash.expires_at");
    // The sweep's unlink fails on an immutable backing file: only the
    // expiry check keeps the entry out of sight.
    let guard = Immutable::set(&storage_trash(&m).join("f"));
    sleep_past(expires + chrono::Duration::seconds(2));
    assert!(
        exists(&storage_trash(&m).join("f")),
        "the immutable file was deleted"
    );
    assert!(names(&m.trash()).is_empty(), "an expired entry is listed");
    assert!(
        !exists(&m.trash().join("f")),
        "an expired entry can be looked up"
    );
    assert_eq!(ls_a(&m.mountpoint), [".", "..", "gallery"]);
    drop(guard);
    wait_until("the sweep to delete the entry once it can", || {
        names(&storage_trash(&m)).is_empty()
    });
}

#[test]
fn an_entry_made_by_mv_is_not_seen_after_its_expiry_even_before_the_sweep() {
    // sweep=1h: after the sweep at mount, none runs during the test, so only
    // the expiry check (and the kernel's cache timeouts) hide the entries.
    let m = Mount::with_options(&["retention=3s", "sweep=1h"]);
    let (g, t) = (m.gallery(), m.trash());
    write(&g.join("f"), b"f");
    mkdir_p(&g.join("d"));
    write(&g.join("d/x"), b"x");
    // The kernel knows these names from the gallery, with the gallery's long timeout.
    assert!(exists(&g.join("f")) && exists(&g.join("d/x")));
    mv(&g.join("f"), &t.join("F"));
    mv(&g.join("d"), &t.join("D"));
    assert!(exists(&t.join("F")) && exists(&t.join("D/x")));
    let expires = time_xattr(&t.join("F"), "user.trash.expires_at")
        .max(time_xattr(&t.join("D"), "user.trash.expires_at"));
    // Just past the expiry: no cached name may outlive it, not even by a second.
    sleep_past(expires + chrono::Duration::milliseconds(50));
    assert!(names(&t).is_empty(), "expired entries are listed");
    assert!(
        !exists(&t.join("F")),
        "an expired entry made by mv can still be looked up"
    );
    assert!(
        !exists(&t.join("D")),
        "an expired directory made by mv can still be looked up"
    );
    assert!(
        exists(&storage_trash(&m).join("F")),
        "nothing should have swept yet"
    );
}

// ---- 16. a real tree ----------------------------------------------------------------

/// What `cp -a` must preserve of one file of a tree.
#[derive(Debug, PartialEq, Eq)]
struct TreeItem {
    kind: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: (i64, i64),
    size: Option<u64>,
    target: Option<PathBuf>,
    xattrs: BTreeMap<String, Vec<u8>>,
}

fn tree(root: &Path) -> BTreeMap<PathBuf, TreeItem> {
    fn walk(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, TreeItem>) {
        let p = root.join(rel);
        let md = lstat(&p);
        let ft = md.file_type();
        let xattrs = if ft.is_file() || ft.is_dir() {
            xattr::names(&p)
                .into_iter()
                .filter(|n| n.starts_with("user."))
                .map(|n| (n.clone(), xattr::get_opt(&p, &n).unwrap()))
                .collect()
        } else {
            BTreeMap::new()
        };
        out.insert(
            rel.to_owned(),
            TreeItem {
                kind: md.mode() & libc::S_IFMT,
                mode: md.mode() & 0o7777,
                uid: md.uid(),
                gid: md.gid(),
                mtime: (md.mtime(), md.mtime_nsec()),
                size: (!ft.is_dir()).then_some(md.size()),
                target: ft.is_symlink().then(|| fs::read_link(&p).unwrap()),
                xattrs,
            },
        );
        if ft.is_dir() {
            for name in names(&p) {
                walk(root, &rel.join(name), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, Path::new(""), &mut out);
    out
}

#[test]
fn cp_a_of_a_real_tree_then_rm_r() {
    let m = Mount::new();
    let src = m.base.path().join("src");
    mkdir_p(&src);
    // Real files from the system, whichever of these exist, plus odd bits of our own.
    let mut copied = 0;
    for dir in [
        "/usr/share/zoneinfo/America",
        "/usr/share/doc/bash",
        "/usr/share/doc/coreutils",
    ] {
        if Path::new(dir).is_dir() {
            ok(Command::new("cp").arg("-a").arg(dir).arg(&src));
            copied += 1;
        }
    }
    assert!(
        copied > 0,
        "none of the source trees exists on this machine"
    );
    sh(
        &src,
        "mkdir -p own/deep/er own/empty && printf data > own/deep/er/file && \
         ln -s deep/er/file own/rel && ln -s /etc/hostname own/abs && ln -s missing own/dangling && \
         ln -s deep own/dirlink && chmod 0750 own/deep && chmod 0604 own/deep/er/file && \
         chown -h 1000:1000 own/rel own/deep/er/file && setfattr -n user.tag -v v own/deep/er/file && \
         touch -h -d '2005-06-07 08:09:10.123456789' own/rel own/deep/er/file",
    );
    let dst = m.gallery().join("tree");
    ok(Command::new("cp").arg("-a").arg(&src).arg(&dst));

    ok(Command::new("diff")
        .arg("-r")
        .arg("--no-dereference")
        .arg(&src)
        .arg(&dst));
    let (want, got) = (tree(&src), tree(&dst));
    for (rel, item) in &want {
        assert_eq!(
            got.get(rel),
            Some(item),
            "{} differs after cp -a; log:\n{}",
            rel.display(),
            m.log()
        );
    }
    assert_eq!(want.len(), got.len(), "extra files after cp -a");
    assert_eq!(
        tree(&storage_gallery(&m).join("tree")).len(),
        want.len(),
        "backing tree"
    );

    ok(Command::new("rm").arg("-r").arg(&dst));
    assert!(!exists(&dst));
    let files: BTreeSet<Vec<u8>> = want
        .iter()
        .filter(|(_, i)| i.kind != libc::S_IFDIR)
        .map(|(rel, _)| [&b"tree/"[..], rel.as_os_str().as_bytes()].concat())
        .collect();
    let entries = names(&m.trash());
    assert_eq!(entries.len(), files.len(), "one entry per file");
    assert_eq!(names(&storage_trash(&m)).len(), files.len());
    // Regular files and directories can carry user xattrs (symlinks cannot).
    let originals: BTreeSet<Vec<u8>> = entries
        .iter()
        .map(|e| m.trash().join(e))
        .filter(|e| lstat(e).is_file())
        .map(|e| xattr::get_opt(&e, "user.trash.original_path").expect("original_path"))
        .collect();
    let regular: BTreeSet<Vec<u8>> = want
        .iter()
        .filter(|(_, i)| i.kind == libc::S_IFREG)
        .map(|(rel, _)| [&b"tree/"[..], rel.as_os_str().as_bytes()].concat())
        .collect();
    assert_eq!(originals, regular, "original paths of the entries");
    assert!(files.is_superset(&regular));
}

// ---- 17. odd names ---------------------------------------------------------------

#[test]
fn non_utf8_and_255_byte_names_work_throughout() {
    let m = Mount::new();
    let (g, t, sg) = (m.gallery(), m.trash(), storage_gallery(&m));
    let long_utf8 = format!("{}.txt", "é".repeat(125) + "x");
    assert_eq!(long_utf8.len(), 255);
    let mut long_raw = vec![0xffu8; 251];
    long_raw.extend_from_slice(b".raw");
    let odd: [&[u8]; 3] = [b"caf\xe9 \xff\xfe.dat", long_utf8.as_bytes(), &long_raw];

    let dir = bytes_path(&g, b"d\xe9\xe9p");
    mkdir_p(&dir);
    for (i, name) in odd.iter().enumerate() {
        write(&bytes_path(&dir, name), format!("content {i}").as_bytes());
    }
    let listed: BTreeSet<Vec<u8>> = names(&dir).into_iter().map(OsString::into_vec).collect();
    let wanted: BTreeSet<Vec<u8>> = odd.iter().map(|n| n.to_vec()).collect();
    assert_eq!(listed, wanted, "listing of odd names");
    let backing: BTreeSet<Vec<u8>> = names(&bytes_path(&sg, b"d\xe9\xe9p"))
        .into_iter()
        .map(OsString::into_vec)
        .collect();
    assert_eq!(backing, wanted, "backing names");
    let too_long = vec![b'z'; 256];
    assert_errno(
        "create with a 256-byte name",
        File::create(bytes_path(&dir, &too_long)),
        libc::ENAMETOOLONG,
    );

    // Rename between odd names, then rm and restore each.
    fs::rename(bytes_path(&dir, odd[0]), bytes_path(&dir, b"\x80renamed")).unwrap();
    fs::rename(bytes_path(&dir, b"\x80renamed"), bytes_path(&dir, odd[0])).unwrap();
    for (i, name) in odd.iter().enumerate() {
        let path = bytes_path(&dir, name);
        let ino = meta(&path).ino;
        rm(&path);
        let entry = bytes_path(&t, name);
        assert_eq!(read(&entry), format!("content {i}").as_bytes());
        let original = xattr::get_opt(&entry, "user.trash.original_path").expect("original_path");
        assert_eq!(original, [&b"d\xe9\xe9p/"[..], name].concat());
        assert!(exists(&storage_trash(&m).join(OsStr::from_bytes(name))));
        mv(&entry, &path);
        assert_eq!(read(&path), format!("content {i}").as_bytes());
        assert_eq!(meta(&path).ino, ino);
    }
    assert!(names(&t).is_empty());

    // A directory with an odd name, trashed and restored whole.
    let sub = bytes_path(&dir, odd[2]);
    fs::remove_file(&sub).unwrap();
    mkdir_p(&sub);
    write(&bytes_path(&sub, odd[1]), b"nested");
    mv(&dir, &bytes_path(&t, odd[0]));
    assert_eq!(
        read(&bytes_path(
            &bytes_path(&bytes_path(&t, odd[0]), odd[2]),
            odd[1]
        )),
        b"nested"
    );
    mv(&bytes_path(&t, odd[0]), &dir);
    assert_eq!(read(&bytes_path(&sub, odd[1])), b"nested");
}

// ---- more of rows 1-7: flags, big listings, users, listings -----------------------

fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    let (from, to) = (cpath(from), cpath(to));
    // SAFETY: valid C strings.
    check(unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    })
}

#[test]
fn rename_flags_and_directory_targets_make_no_entries() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    write(&g.join("a"), b"a");
    write(&g.join("b"), b"b");
    assert_errno(
        "RENAME_NOREPLACE onto a file",
        renameat2(&g.join("a"), &g.join("b"), libc::RENAME_NOREPLACE),
        libc::EEXIST,
    );
    assert_eq!(
        (read(&g.join("a")), read(&g.join("b"))),
        (b"a".to_vec(), b"b".to_vec())
    );
    renameat2(&g.join("a"), &g.join("b"), libc::RENAME_EXCHANGE).expect("RENAME_EXCHANGE");
    assert_eq!(
        (read(&g.join("a")), read(&g.join("b"))),
        (b"b".to_vec(), b"a".to_vec())
    );
    assert_eq!(
        (
            read(&storage_gallery(&m).join("a")),
            read(&storage_gallery(&m).join("b"))
        ),
        (b"b".to_vec(), b"a".to_vec())
    );

    mkdir_p(&g.join("src/inner"));
    mkdir_p(&g.join("empty"));
    fs::rename(g.join("src"), g.join("empty")).expect("a dir replaces an empty dir");
    assert!(lstat(&g.join("empty/inner")).is_dir());
    mkdir_p(&g.join("other"));
    assert_errno(
        "a dir onto a non-empty dir",
        fs::rename(g.join("other"), g.join("empty")),
        libc::ENOTEMPTY,
    );
    assert!(
        names(&t).is_empty(),
        "renames that replace no file made entries"
    );

    // Restores honour the flags too.
    write(&g.join("c"), b"c");
    rm(&g.join("c"));
    assert_errno(
        "restore with RENAME_NOREPLACE onto a file",
        renameat2(&t.join("c"), &g.join("a"), libc::RENAME_NOREPLACE),
        libc::EEXIST,
    );
    assert_errno(
        "RENAME_EXCHANGE with an entry",
        renameat2(&t.join("c"), &g.join("a"), libc::RENAME_EXCHANGE),
        libc::EINVAL,
    );
    assert_eq!(names(&t), name_set(&["c"]));
    assert_eq!(read(&g.join("a")), b"b");
    renameat2(&t.join("c"), &g.join("c"), libc::RENAME_NOREPLACE)
        .expect("restore with RENAME_NOREPLACE");
    assert_eq!(read(&g.join("c")), b"c");

    // Restoring over a file that has another link loses nothing: no entry.
    fs::hard_link(g.join("c"), g.join("c2")).unwrap();
    write(&g.join("d"), b"d");
    rm(&g.join("d"));
    mv(&t.join("d"), &g.join("c"));
    assert_eq!(read(&g.join("c")), b"d");
    assert_eq!(read(&g.join("c2")), b"c");
    assert_eq!(lstat(&g.join("c2")).nlink(), 1);
    assert!(names(&t).is_empty());
    assert!(names(&storage_trash(&m)).is_empty());
}

#[test]
fn large_directories_list_completely() {
    const N: usize = 1200;
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("many"));
    sh(
        &g.join("many"),
        &format!(
            "i=0; while [ $i -lt {N} ]; do : > \"file-$i-with-a-longish-name.jpg\"; i=$((i+1)); done"
        ),
    );
    let want: BTreeSet<OsString> = (0..N)
        .map(|i| OsString::from(format!("file-{i}-with-a-longish-name.jpg")))
        .collect();
    assert_eq!(names(&g.join("many")), want, "gallery listing");
    assert_eq!(
        ok(Command::new("ls").arg("-la").arg(g.join("many")))
            .lines()
            .count(),
        N + 3
    );

    ok(Command::new("rm").arg("-r").arg(g.join("many")));
    assert_eq!(names(&t), want, "trash listing of {N} entries");
    let out = run(Command::new("ls").arg("-la").arg(&t));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ls -la .trash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), N + 3);
}

#[test]
fn files_belong_to_their_creator_and_entries_to_their_owner() {
    let m = Mount::with_options(&["allow_other"]);
    // The temp dir is root's and private: let other users reach the mount.
    chmod(m.base.path(), 0o755);
    chmod(&m.gallery(), 0o1777);
    let as_user = |uid: u32, script: &str| {
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={uid}"))
            .arg(format!("--regid={uid}"))
            .arg("--clear-groups")
            .args(["sh", "-c", script])
            .current_dir(&m.mountpoint);
        run(&mut cmd)
    };
    let out = as_user(
        USER,
        "umask 022 && echo x > gallery/f && mkdir gallery/d && ln -s f gallery/s && mkfifo gallery/p",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["f", "d", "s", "p"] {
        let md = meta(&m.gallery().join(name));
        assert_eq!(
            (md.uid, md.gid),
            (USER, USER),
            "owner of {name} created by uid {USER}"
        );
        assert_eq!(
            (meta(&storage_gallery(&m).join(name)).uid),
            USER,
            "backing owner of {name}"
        );
    }
    assert_eq!(meta(&m.gallery().join("f")).mode, 0o644);
    // A setgid directory passes its group on.
    mkdir_p(&m.gallery().join("shared"));
    chown(&m.gallery().join("shared"), 0, 4242);
    chmod(&m.gallery().join("shared"), 0o2777);
    assert!(
        as_user(
            USER,
            "echo y > gallery/shared/g && mkdir gallery/shared/sub"
        )
        .status
        .success()
    );
    assert_eq!(
        meta(&m.gallery().join("shared/g")).gid,
        4242,
        "group in a setgid dir"
    );
    assert_eq!(
        meta(&m.gallery().join("shared/sub")).mode & 0o2000,
        0o2000,
        "setgid inherited by a subdir"
    );

    assert!(as_user(USER, "rm gallery/f").status.success());
    assert_eq!(meta(&m.trash().join("f")).uid, USER);
    // Sticky .trash: another user can neither restore nor purge it.
    let other = 65534;
    let out = as_user(other, "mv .trash/f gallery/stolen");
    assert!(
        !out.status.success(),
        "another user restored someone's entry"
    );
    let out = as_user(other, "rm -f .trash/f");
    assert!(!out.status.success(), "another user purged someone's entry");
    assert_eq!(read(&m.trash().join("f")), b"x\n");
    let out = as_user(USER, "mv .trash/f gallery/f");
    assert!(
        out.status.success(),
        "the owner cannot restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&m.gallery().join("f")), b"x\n");
}

#[test]
fn listing_the_gallery_and_trash_in_long_form_shows_no_errors() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("d"));
    write(&g.join("d/f"), b"f");
    std::os::unix::fs::symlink("d/f", g.join("s")).unwrap();
    rm(&g.join("s"));
    mv(&g.join("d"), &m.trash().join("D"));
    write(&g.join("keep"), b"k");
    for dir in [
        m.mountpoint.clone(),
        g.clone(),
        m.trash(),
        m.trash().join("D"),
    ] {
        let out = run(Command::new("ls").arg("-laR").arg(&dir));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "ls -laR {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn purge_and_rmdir_of_entries_follow_posix() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("d"));
    write(&g.join("d/x"), b"x");
    mv(&g.join("d"), &t.join("D"));
    assert_errno(
        "rmdir of a non-empty trashed dir",
        fs::remove_dir(t.join("D")),
        libc::ENOTEMPTY,
    );
    assert_errno(
        "unlink of a trashed dir",
        fs::remove_file(t.join("D")),
        libc::EISDIR,
    );
    assert_eq!(names(&t), name_set(&["D"]));
    assert_eq!(read(&t.join("D/x")), b"x");
    assert_errno(
        "unlink of a missing entry",
        fs::remove_file(t.join("nope")),
        libc::ENOENT,
    );

    // An open file keeps its data after the name is gone.
    write(&g.join("open"), b"still here");
    let mut held = File::open(g.join("open")).unwrap();
    rm(&g.join("open"));
    rm(&t.join("open"));
    assert!(!exists(&storage_trash(&m).join("open")));
    let mut content = Vec::new();
    held.read_to_end(&mut content).unwrap();
    assert_eq!(content, b"still here");
}
