//! The README's first row: anything ordinary in `gallery/` (create, write,
//! mkdir, rename, link, symlink, mkfifo, fsync, locks, statfs, big
//! listings, rename flags) passes through to `STORAGE/gallery` with normal
//! POSIX semantics.

use super::*;

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
    // The overwritten content is kept, by a copy: the inode stays shared.
    assert_eq!(names(&m.trash()), name_set(&["b"]));
    assert_eq!(read(&m.trash().join("b")), b"shared");
    assert_eq!(
        xattr::get_string(&m.trash().join("b"), "user.trash.reason"),
        "overwritten"
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

    assert_eq!(names(&m.trash()), name_set(&["b"]), "only the overwrite");
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

    // One entry per file: removed without removing their folder.
    ok(Command::new("find")
        .arg(g.join("many"))
        .args(["-type", "f", "-delete"]));
    assert_eq!(names(&t), want, "trash listing of {N} entries");
    let out = run(Command::new("ls").arg("-la").arg(&t));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ls -la .trash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), N + 3);
}
