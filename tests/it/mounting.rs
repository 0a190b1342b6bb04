//! The `galleryfs` command: daemon mode, fstab, options, refusals, signals,
//! and a crash in the middle of a stream of trash moves.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use galleryfs_testkit::{Mount, galleryfs_bin, is_mounted, ok, require_fuse, run, wait_until};

mod catalog;
mod messages;
mod signals;

/// A temp dir with `store/` (not created) and `mnt/`.
fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
    require_fuse();
    let base = tempfile::Builder::new()
        .prefix("galleryfs-cmd-")
        .tempdir()
        .unwrap();
    let store = base.path().join("store");
    let mnt = base.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    (base, store, mnt)
}

/// Unmounts `mnt` when dropped, so a failing test leaves no mount behind.
struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        if is_mounted(self.0) {
            let _ = Command::new("umount").arg(self.0).status();
            wait_until("unmount", || !is_mounted(self.0));
        }
    }
}

fn galleryfs(args: &[&std::ffi::OsStr]) -> std::process::Output {
    run(Command::new(galleryfs_bin())
        .args(args)
        .stdin(Stdio::null()))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `/proc/mounts` line of `mnt`, split into fields.
fn mounts_line(mnt: &Path) -> Vec<String> {
    let mounts = fs::read_to_string("/proc/mounts").unwrap();
    let mnt = mnt.to_str().unwrap();
    mounts
        .lines()
        .map(|l| l.split(' ').map(str::to_string).collect::<Vec<_>>())
        .find(|f| f[1] == mnt)
        .unwrap_or_else(|| panic!("{mnt} not in /proc/mounts"))
}

#[test]
fn daemon_mode_returns_once_mounted_and_exits_on_umount() {
    let (_base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    // Output captured through pipes: returning proves stdio was detached.
    let out = galleryfs(&[store.as_os_str(), mnt.as_os_str()]);
    assert!(out.status.success(), "daemon failed: {}", stderr(&out));
    assert!(
        is_mounted(&mnt),
        "the command returned before the mount was live"
    );
    fs::write(mnt.join("gallery/a.txt"), "hello").unwrap();
    let fields = mounts_line(&mnt);
    assert_eq!(fields[0], store.canonicalize().unwrap().to_str().unwrap());
    assert_eq!(fields[2], "fuse.galleryfs");
    let pid: i32 = fs::read_to_string(store.join("galleryfs.lock"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    ok(Command::new("umount").arg(&mnt));
    // The daemon exits once unmounted, releasing its lock.
    wait_until("the daemon to exit", || {
        !Path::new(&format!("/proc/{pid}/cmdline")).exists()
            || fs::read(format!("/proc/{pid}/cmdline"))
                .unwrap_or_default()
                .is_empty()
    });
    assert_eq!(
        fs::read_to_string(store.join("gallery/a.txt")).unwrap(),
        "hello"
    );
}

#[test]
fn fsname_option_sets_the_mount_source() {
    let (_base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let out = galleryfs(&[
        store.as_os_str(),
        mnt.as_os_str(),
        "-o".as_ref(),
        "fsname=pictures".as_ref(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mounts_line(&mnt)[0], "pictures");
}

#[test]
fn fstab_line_mounts_with_mount_dash_t() {
    let (base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let fstab = base.path().join("fstab");
    // fuse./abs/path runs the unstaged binary, as `fuse.galleryfs` runs it
    // from PATH. mount(8) finds no helper for the type when the path holds
    // another dot, as a checkout's may (a clone in /tmp/ci.X): a link from
    // the scratch dir, whose path has none, stands in.
    let bin = base.path().join("galleryfs");
    std::os::unix::fs::symlink(galleryfs_bin(), &bin).unwrap();
    fs::write(
        &fstab,
        format!(
            "{} {} fuse.{} defaults,retention=30d,sweep=1h,x-systemd.automount,nofail,_netdev,noatime 0 0\n",
            store.display(),
            mnt.display(),
            bin.display()
        ),
    )
    .unwrap();
    let out = run(Command::new("mount").arg("-T").arg(&fstab).arg(&mnt));
    assert!(out.status.success(), "mount -T failed: {}", stderr(&out));
    assert!(is_mounted(&mnt));
    fs::write(mnt.join("gallery/x"), "x").unwrap();
    fs::remove_file(mnt.join("gallery/x")).unwrap();
    assert!(mnt.join(".trash/x").exists());
    let fields = mounts_line(&mnt);
    assert_eq!(fields[2], "fuse.galleryfs");
    assert!(
        fields[3].split(',').any(|o| o == "noatime"),
        "noatime applied: {}",
        fields[3]
    );
    ok(Command::new("umount").arg(&mnt));
}

#[test]
fn foreground_stops_cleanly_on_sigterm() {
    let (_base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let mut child = Command::new(galleryfs_bin())
        .arg(&store)
        .arg(&mnt)
        .arg("-f")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("mount", || is_mounted(&mnt));
    fs::write(mnt.join("gallery/f"), "data").unwrap();
    fs::remove_file(mnt.join("gallery/f")).unwrap();
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(!is_mounted(&mnt));
    assert!(store.join("trash/f").exists());
}

#[test]
fn help_and_version() {
    let out = galleryfs(&["--help".as_ref()]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "retention=",
        "sweep=",
        "allow_other",
        "fsname=",
        "auto_unmount",
        "default_permissions",
    ] {
        assert!(help.contains(option), "--help lacks {option}");
    }
    assert!(
        help.contains("30d") && help.contains("1h"),
        "defaults shown"
    );
    let out = galleryfs(&["-V".as_ref()]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().lines().next(),
        Some(format!("galleryfs {}", env!("CARGO_PKG_VERSION")).as_str())
    );
}

#[test]
fn bad_options_fail_with_a_message_and_mount_nothing() {
    let (_base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let cases: &[(&[&str], &str)] = &[
        (&["-o", "foo"], "galleryfs: unknown option 'foo'"),
        (&["-o", "rw,bogus=1"], "galleryfs: unknown option 'bogus=1'"),
        (&["-o", "retention=30x"], "'30x'"),
        (&["-o", "retention=0d"], "'0d'"),
        (&["-o", "sweep=-1h"], "'-1h'"),
        (&["--frobnicate"], "--frobnicate"),
    ];
    for (extra, message) in cases {
        let mut args = vec![store.as_os_str(), mnt.as_os_str()];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        let out = galleryfs(&args);
        assert_eq!(out.status.code(), Some(1), "{extra:?} must exit 1");
        assert!(
            stderr(&out).contains(message),
            "{extra:?}: stderr was {:?}",
            stderr(&out)
        );
        assert!(!is_mounted(&mnt));
        assert!(!store.exists(), "{extra:?} created STORAGE");
    }
}

#[test]
fn a_second_mount_of_the_same_storage_is_refused() {
    let m = Mount::new();
    let other = m.base.path().join("mnt2");
    fs::create_dir(&other).unwrap();
    let out = galleryfs(&[m.storage.as_os_str(), other.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("already mounted by another galleryfs"),
        "{}",
        stderr(&out)
    );
    assert!(!is_mounted(&other));
    // The first mount is unaffected.
    fs::write(m.gallery().join("still-works"), "yes").unwrap();
}

#[test]
fn a_directory_that_is_not_a_store_is_refused_untouched() {
    let (base, _store, mnt) = scratch();
    let foreign = base.path().join("photos");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("holiday.jpg"), "jpeg").unwrap();
    let out = galleryfs(&[foreign.as_os_str(), mnt.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    // Moving files in goes through the mount (never behind it), or into
    // STORAGE/gallery before mounting.
    let mnt_gallery = format!("{}/gallery", mnt.canonicalize().unwrap().display());
    let storage_gallery = format!("{}/gallery", foreign.canonicalize().unwrap().display());
    assert!(
        err.contains("not a galleryfs store")
            && err.contains(&format!("move them into {mnt_gallery}"))
            && err.contains(&format!(
                "before mounting, move them into {storage_gallery}"
            )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let names: Vec<_> = fs::read_dir(&foreign)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("holiday.jpg")]);
    assert!(!is_mounted(&mnt));
}

#[test]
fn a_corrupt_database_is_refused_and_kept() {
    let mut m = Mount::new();
    fs::write(m.gallery().join("keep.txt"), "precious").unwrap();
    m.unmount();
    let db = m.storage.join("galleryfs.db");
    let _ = fs::remove_file(m.storage.join("galleryfs.db-wal"));
    let _ = fs::remove_file(m.storage.join("galleryfs.db-shm"));
    let garbage = vec![0x5a_u8; 8192];
    fs::write(&db, &garbage).unwrap();
    let out = galleryfs(&[
        m.storage.as_os_str(),
        m.mountpoint.as_os_str(),
        "-f".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("galleryfs.db"), "{}", stderr(&out));
    assert!(!is_mounted(&m.mountpoint));
    assert_eq!(fs::read(&db).unwrap(), garbage, "the database was changed");
    assert_eq!(
        fs::read_to_string(m.storage.join("gallery/keep.txt")).unwrap(),
        "precious"
    );
}

#[test]
fn missing_storage_is_created_and_a_missing_mountpoint_is_an_error() {
    let (base, store, _mnt) = scratch();
    let nowhere = base.path().join("no-such-dir");
    let out = galleryfs(&[store.as_os_str(), nowhere.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    let m = Mount::new();
    assert!(m.storage.join("gallery").is_dir() && m.storage.join("trash").is_dir());
    assert!(m.storage.join("galleryfs.db").is_file());
}

/// kill -9 of the daemon during a stream of rm and restores, then a remount:
/// every file is found exactly once, with its content.
#[test]
fn kill_9_during_trash_moves_loses_and_duplicates_nothing() {
    let mut m = Mount::new();
    const FILES: usize = 200;
    for i in 0..FILES {
        fs::write(m.gallery().join(format!("f{i}")), format!("content {i}")).unwrap();
    }
    // A shell loop trashes and restores files until the daemon dies under it.
    let script = format!(
        "cd {g}; i=0; while :; do rm -f f$i 2>/dev/null; \
         mv ../.trash/f$((i/2)) f$((i/2)) 2>/dev/null; i=$(( (i+1) % {FILES} )); done",
        g = m.gallery().display()
    );
    let mut churn = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it run until a good number of entries exist, then crash the daemon.
    wait_until("trash moves", || {
        fs::read_dir(m.storage.join("trash"))
            .map(|d| d.count() > 20)
            .unwrap_or(false)
    });
    m.kill9();
    let _ = churn.kill();
    let _ = churn.wait();
    m.mount();
    let mut seen = std::collections::HashMap::new();
    for dir in [m.gallery(), m.trash()] {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let content = fs::read_to_string(e.path()).unwrap();
            let i: usize = content.strip_prefix("content ").unwrap().parse().unwrap();
            let ino = e.metadata().unwrap().ino();
            assert!(
                seen.insert(i, (e.path(), ino)).is_none(),
                "file {i} found twice: {:?}",
                e.path()
            );
        }
    }
    assert_eq!(seen.len(), FILES, "files lost: {}", FILES - seen.len());
    // Nothing in STORAGE that the view does not show.
    let stored = fs::read_dir(m.storage.join("gallery")).unwrap().count()
        + fs::read_dir(m.storage.join("trash")).unwrap().count();
    assert_eq!(stored, FILES);
}

/// Open fds stay bounded by the process's limit, however many directories
/// the kernel knows: a tree with far more directories than allowed fds is
/// copied in, listed, compared and trashed under `ulimit -n 64`.
#[test]
fn a_low_open_file_limit_is_enough_for_a_large_tree() {
    let (base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let src = base.path().join("src");
    ok(Command::new("sh").arg("-c").arg(format!(
        "for d in $(seq 1 150); do mkdir -p {s}/d$d/sub; for f in 1 2 3 4 5; do echo $d$f > {s}/d$d/sub/f$f; done; done",
        s = src.display()
    )));
    let daemon = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec {} {} {} -f",
            galleryfs_bin().display(),
            store.display(),
            mnt.display()
        ))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("mount", || is_mounted(&mnt));
    let gallery = mnt.join("gallery");
    ok(Command::new("cp")
        .arg("-a")
        .arg(&src)
        .arg(gallery.join("tree")));
    ok(Command::new("diff")
        .arg("-r")
        .arg(&src)
        .arg(gallery.join("tree")));
    let listed = ok(Command::new("find")
        .arg(gallery.join("tree"))
        .arg("-type")
        .arg("f"));
    assert_eq!(listed.lines().count(), 750);
    let fds = fs::read_dir(format!("/proc/{}/fd", daemon.id()))
        .unwrap()
        .count();
    assert!(fds <= 64, "{fds} fds open");
    ok(Command::new("rm").arg("-r").arg(gallery.join("tree")));
    // One removal of a folder, one entry holding all of it.
    assert_eq!(fs::read_dir(mnt.join(".trash")).unwrap().count(), 1);
    let kept = ok(Command::new("find")
        .arg(mnt.join(".trash/tree"))
        .arg("-type")
        .arg("f"));
    assert_eq!(kept.lines().count(), 750);
    ok(Command::new("umount").arg(&mnt));
    let out = daemon.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "daemon failed: {log}");
    assert!(!log.contains("Too many open files"), "{log}");
}

/// `passthrough=on` mounts where kernel passthrough works (root), and fails
/// clearly, with nothing mounted, where it cannot (another uid).
#[test]
fn passthrough_on_mounts_as_root_and_is_refused_without_privileges() {
    let (base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let out = galleryfs(&[
        store.as_os_str(),
        mnt.as_os_str(),
        "-o".as_ref(),
        "passthrough=on".as_ref(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    fs::write(mnt.join("gallery/f"), "via passthrough").unwrap();
    assert_eq!(
        fs::read_to_string(mnt.join("gallery/f")).unwrap(),
        "via passthrough"
    );
    ok(Command::new("umount").arg(&mnt));
    wait_until("unmount", || !is_mounted(&mnt));

    let user_dir = base.path().join("user");
    fs::create_dir(&user_dir).unwrap();
    ok(Command::new("chown")
        .arg("-R")
        .arg("1000:1000")
        .arg(base.path()));
    let user_mnt = user_dir.join("m");
    fs::create_dir(&user_mnt).unwrap();
    ok(Command::new("chown").arg("1000:1000").arg(&user_mnt));
    let out = run(Command::new("setpriv")
        .args(["--reuid", "1000", "--regid", "1000", "--clear-groups"])
        .arg(galleryfs_bin())
        .arg(user_dir.join("s"))
        .arg(&user_mnt)
        .args(["-o", "passthrough=on"])
        .stdin(Stdio::null()));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("passthrough=on"), "{}", stderr(&out));
    assert!(!is_mounted(&user_mnt));
}
