//! Bulk requests (`user.trash.purge.T`, `user.trash.restore.T`, answers in
//! `user.trash.result.T`): what they do and answer through a real mount,
//! that gallery-trash sends them (counted with strace) and falls back to
//! one call per entry on a galleryfs without them, and that a bulk request
//! of one user takes only what that user could take one by one.

use std::collections::BTreeMap;

use galleryfs_testkit::errno::{errno, must_fail};

use super::*;

/// A request's value: each field followed by a NUL.
fn value(fields: &[&[u8]]) -> Vec<u8> {
    fields
        .iter()
        .flat_map(|f| f.iter().copied().chain([0]))
        .collect()
}

/// The answers of request `token`, one errno per name.
fn answers(m: &Mount, token: &str) -> Vec<i32> {
    xattr::get(&m.trash(), &format!("user.trash.result.{token}"))
        .unwrap()
        .into_iter()
        .map(i32::from)
        .collect()
}

fn names_in(dir: &Path) -> Vec<OsString> {
    let mut names: Vec<OsString> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    names
}

/// `part` of the desktop view of the mount's owner (the tests' uid).
fn view(m: &Mount, part: &str) -> PathBuf {
    let uid = fs::metadata(&m.mountpoint).unwrap().uid();
    m.mountpoint.join(format!(".Trash-{uid}")).join(part)
}

#[test]
fn a_bulk_purge_answers_each_name_and_leaves_nothing_behind() {
    let m = Mount::new();
    trash_file(&m, "a.jpg", b"a");
    trash_file(&m, "b.jpg", b"b");
    let odd = OsStr::from_bytes(b"caf\xe9.jpg");
    write(&m.gallery().join(odd), b"odd");
    fs::remove_file(m.gallery().join(odd)).unwrap();
    write(&m.gallery().join("album/x.jpg"), b"x");
    write(&m.gallery().join("album/sub/y.jpg"), b"y");
    fs::rename(m.gallery().join("album"), m.trash().join("album")).unwrap();
    // The kernel holds these names (and the view's listing): they must go too.
    let held = fs::symlink_metadata(m.trash().join("a.jpg")).unwrap();
    assert!(held.is_file());
    assert!(
        fs::symlink_metadata(m.trash().join("album/sub"))
            .unwrap()
            .is_dir()
    );
    assert_eq!(names_in(&view(&m, "files")).len(), 4);

    let request = value(&[
        b"a.jpg",
        b"caf\xe9.jpg",
        b"album",
        b"nothing",
        b"a.jpg",
        b"x/y",
    ]);
    xattr::set(&m.trash(), "user.trash.purge.t1", &request).unwrap();
    assert_eq!(
        answers(&m, "t1"),
        [0, 0, 0, libc::ENOENT, libc::ENOENT, libc::EINVAL],
        "one answer per name, in order (the second a.jpg is gone already)"
    );
    assert_eq!(m.trash_names(), ["b.jpg"]);
    assert_eq!(
        names_in(&m.storage_trash()),
        ["b.jpg"],
        "STORAGE keeps nothing"
    );
    assert!(names_in(&m.storage.join("purging")).is_empty());
    // Names the kernel held: gone, ENOENT (never ESTALE).
    for gone in ["a.jpg", "album", "album/sub"] {
        let e = fs::symlink_metadata(m.trash().join(gone)).unwrap_err();
        assert_eq!(errno(&e), libc::ENOENT, "{gone}: {e}");
    }
    assert_eq!(names_in(&view(&m, "files")), ["b.jpg"]);
    assert_eq!(names_in(&view(&m, "info")), ["b.jpg.trashinfo"]);
    // The answers stay readable (a client asks their size first).
    assert_eq!(answers(&m, "t1").len(), 6);

    let absent = xattr::get(&m.trash(), "user.trash.result.never-sent").unwrap_err();
    assert_eq!(errno(&absent), libc::ENODATA);
    // Refused as a whole, changing nothing.
    let unterminated = xattr::set(&m.trash(), "user.trash.purge.t2", b"b.jpg");
    assert_eq!(
        must_fail("an unterminated name", unterminated),
        libc::EINVAL
    );
    let in_gallery = xattr::set(&m.gallery(), "user.trash.purge.t3", &value(&[b"b.jpg"]));
    assert_eq!(
        must_fail("a purge sent to gallery/", in_gallery),
        libc::EINVAL
    );
    let bad_token = xattr::set(&m.trash(), "user.trash.purge.a/b", &value(&[b"b.jpg"]));
    assert_eq!(must_fail("a token with a slash", bad_token), libc::EPERM);
    assert_eq!(m.trash_names(), ["b.jpg"]);
}

#[test]
fn a_bulk_restore_puts_each_entry_back_as_it_was_and_never_replaces() {
    let m = Mount::new();
    let r = m.gallery().join("r");
    trash_file(&m, "a.jpg", b"a");
    trash_file(&m, "b.jpg", b"b");
    trash_file(&m, "c.jpg", b"old c");
    write(&r.join("c.jpg"), b"new c");
    write(&m.gallery().join("album/x.jpg"), b"x");
    fs::rename(m.gallery().join("album"), m.trash().join("album")).unwrap();
    let inode = |name: &str| fs::symlink_metadata(m.trash().join(name)).unwrap().ino();
    let before: BTreeMap<&str, u64> = ["a.jpg", "b.jpg", "album"]
        .into_iter()
        .map(|n| (n, inode(n)))
        .collect();
    // The kernel lists r/ (and caches the listing) before the restore.
    assert_eq!(names_in(&r), ["c.jpg"]);

    let request = value(&[
        b"a.jpg", b"a.jpg", b"b.jpg", b"b2.jpg", b"c.jpg", b"c.jpg", b"nothing", b"n.jpg",
        b"album", b"album",
    ]);
    xattr::set(&r, "user.trash.restore.t1", &request).unwrap();
    assert_eq!(answers(&m, "t1"), [0, 0, libc::EEXIST, libc::ENOENT, 0]);
    assert_eq!(fs::read(r.join("a.jpg")).unwrap(), b"a");
    assert_eq!(fs::read(r.join("b2.jpg")).unwrap(), b"b");
    assert_eq!(
        fs::read(r.join("c.jpg")).unwrap(),
        b"new c",
        "never replaced"
    );
    assert_eq!(fs::read(r.join("album/x.jpg")).unwrap(), b"x");
    for (name, placed) in [("a.jpg", "a.jpg"), ("b.jpg", "b2.jpg"), ("album", "album")] {
        let ino = fs::symlink_metadata(r.join(placed)).unwrap().ino();
        assert_eq!(ino, before[name], "{placed} is the entry's own inode");
    }
    assert_eq!(names_in(&r), ["a.jpg", "album", "b2.jpg", "c.jpg"]);
    assert_eq!(m.trash_names(), ["c.jpg"]);
    assert_eq!(
        errno(&fs::symlink_metadata(m.trash().join("a.jpg")).unwrap_err()),
        libc::ENOENT
    );

    let c = value(&[b"c.jpg", b"c.jpg"]);
    let into_file = xattr::set(&r.join("a.jpg"), "user.trash.restore.t2", &c);
    assert_eq!(must_fail("a restore into a file", into_file), libc::ENOTDIR);
    let into_trash = xattr::set(&m.trash(), "user.trash.restore.t3", &c);
    assert_eq!(must_fail("a restore into .trash", into_trash), libc::EINVAL);
    let half = xattr::set(&r, "user.trash.restore.t4", &value(&[b"c.jpg"]));
    assert_eq!(must_fail("half a pair", half), libc::EINVAL);
    assert_eq!(m.trash_names(), ["c.jpg"]);
}

/// What gallery-trash did, run under strace: its output, and how many
/// calls of each of `calls` it made.
fn traced(m: &Mount, args: &[&str], calls: &[&str]) -> (Shown, BTreeMap<String, usize>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("strace");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&log)
        .arg("-e")
        .arg(format!("trace={}", calls.join(",")))
        .arg(gallery_trash_bin())
        .args(args)
        .current_dir(&m.mountpoint)
        .env("TZ", "UTC0")
        .stdin(Stdio::null())
        .output()
        .expect("run strace (apt-get install strace)");
    let shown = Shown {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8(out.stdout).unwrap(),
        err: String::from_utf8(out.stderr).unwrap(),
    };
    let traced = fs::read_to_string(&log).unwrap_or_default();
    // gallery-trash makes syscalls of its own at every start (opening the
    // mount, reading its listing): a log without one means strace traced
    // nothing, which must fail as such, not as a count of 0.
    assert!(
        traced.lines().count() > 0 || shown.code != 0,
        "strace logged no call at all of {calls:?} (strace's exit and stderr: {} {:?}; \
         gallery-trash's output: {:?})",
        shown.code,
        shown.err,
        shown.out.lines().take(3).collect::<Vec<_>>(),
    );
    let mut counts = BTreeMap::new();
    for line in traced.lines() {
        // "PID  call(...": strace pads the pid to five columns, so a pid
        // below 10000 is followed by two spaces.
        let call = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .trim_start()
            .split('(')
            .next()
            .unwrap_or_default();
        if calls.contains(&call) {
            *counts.entry(call.to_string()).or_insert(0) += 1;
        }
    }
    (shown, counts)
}

const PER_ENTRY: &[&str] = &[
    "fsetxattr",
    "unlink",
    "unlinkat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
];

fn count(counts: &BTreeMap<String, usize>, calls: &[&str]) -> usize {
    calls
        .iter()
        .map(|c| counts.get(*c).copied().unwrap_or(0))
        .sum()
}

const REMOVALS: &[&str] = &["unlink", "unlinkat", "rmdir"];
const RENAMES: &[&str] = &["rename", "renameat", "renameat2"];

#[test]
fn gallery_trash_purges_and_restores_in_bulk() {
    let m = Mount::new();
    let n = 300;
    for i in 0..n {
        write(&m.gallery().join(format!("r/f{i}.jpg")), b"f");
    }
    ok(Command::new("find")
        .arg(m.gallery().join("r"))
        .args(["-type", "f", "-delete"]));
    assert_eq!(m.trash_names().len(), n);

    // restore --under: one request, no rename of its own.
    let (under, calls) = traced(&m, &["restore", "--under", "gallery/r"], PER_ENTRY);
    under.succeeded();
    assert_eq!(under.out.lines().count(), n, "{under:#?}");
    assert_eq!(count(&calls, &["fsetxattr"]), 1, "{calls:?}");
    assert_eq!(count(&calls, RENAMES), 0, "{calls:?}");
    assert_eq!(names_in(&m.gallery().join("r")).len(), n);
    assert!(m.trash_names().is_empty());

    // undo of one rm of them all.
    ok(Command::new("sh")
        .arg("-c")
        .arg("rm gallery/r/*.jpg")
        .current_dir(&m.mountpoint));
    let (undo, calls) = traced(&m, &["undo", "--yes"], PER_ENTRY);
    undo.succeeded();
    assert_eq!(count(&calls, &["fsetxattr"]), 1, "{calls:?}");
    assert_eq!(count(&calls, RENAMES), 0, "{calls:?}");
    assert!(m.trash_names().is_empty());

    // restore of many named entries: one listing, one request.
    ok(Command::new("sh")
        .arg("-c")
        .arg("rm gallery/r/*.jpg")
        .current_dir(&m.mountpoint));
    let entries: Vec<String> = m
        .trash_names()
        .iter()
        .map(|e| format!(".trash/{e}"))
        .collect();
    let mut args = vec!["restore"];
    args.extend(entries.iter().map(String::as_str));
    let (restore, calls) = traced(&m, &args, &["fsetxattr", "lgetxattr", "renameat2"]);
    restore.succeeded();
    assert_eq!(count(&calls, &["fsetxattr"]), 1, "{calls:?}");
    assert_eq!(count(&calls, &["renameat2"]), 0, "{calls:?}");
    assert!(
        count(&calls, &["lgetxattr"]) < 10,
        "the trash is listed in pages, not asked entry by entry: {calls:?}"
    );
    assert!(m.trash_names().is_empty());

    // purge PATTERN, empty --older-than, empty.
    ok(Command::new("sh")
        .arg("-c")
        .arg("rm gallery/r/f1*.jpg")
        .current_dir(&m.mountpoint));
    let (purge, calls) = traced(&m, &["purge", "--yes", "f1*.jpg"], PER_ENTRY);
    purge.succeeded();
    assert_eq!(count(&calls, &["fsetxattr"]), 1, "{calls:?}");
    assert_eq!(count(&calls, REMOVALS), 0, "{calls:?}");
    assert!(m.trash_names().is_empty());
    ok(Command::new("sh")
        .arg("-c")
        .arg("rm gallery/r/f2*.jpg")
        .current_dir(&m.mountpoint));
    wait_past_deletions(&m);
    let (old, calls) = traced(&m, &["empty", "--yes", "--older-than", "1s"], PER_ENTRY);
    old.succeeded();
    assert_eq!(count(&calls, &["fsetxattr"]), 1, "{calls:?}");
    assert_eq!(count(&calls, REMOVALS), 0, "{calls:?}");
    assert!(m.trash_names().is_empty());
    ok(Command::new("sh")
        .arg("-c")
        .arg("rm -r gallery/r")
        .current_dir(&m.mountpoint));
    trash_file(&m, "loose.jpg", b"l");
    let (empty, calls) = traced(&m, &["empty", "--yes"], PER_ENTRY);
    assert!(
        empty.succeeded().out.contains("Deleted 2 items."),
        "{empty:#?}"
    );
    assert_eq!(count(&calls, &["fsetxattr"]), 1, "{calls:?}");
    assert_eq!(count(&calls, REMOVALS), 0, "{calls:?}");
    assert!(m.trash_names().is_empty());
    assert!(names_in(&m.storage_trash()).is_empty());
}

#[test]
fn on_a_galleryfs_without_bulk_requests_gallery_trash_goes_one_by_one() {
    // GALLERYFS_FAIL=bulk: the daemon answers as one without them did.
    let m = Mount::with_env(&[], &[("GALLERYFS_FAIL", "bulk")]);
    for name in ["a.jpg", "b.jpg", "c.jpg"] {
        trash_file(&m, &format!("r/{name}"), name.as_bytes());
    }
    let refused = xattr::set(&m.trash(), "user.trash.purge.t", &value(&[b"a.jpg"]));
    assert_eq!(must_fail("a bulk purge", refused), libc::EPERM);
    let refused = xattr::set(
        &m.gallery(),
        "user.trash.restore.t",
        &value(&[b"a.jpg", b"a"]),
    );
    assert_eq!(must_fail("a bulk restore", refused), libc::EOPNOTSUPP);

    let (restore, calls) = traced(&m, &["restore", ".trash/a.jpg", ".trash/b.jpg"], PER_ENTRY);
    assert_eq!(
        restore.succeeded().out,
        "restored a.jpg -> gallery/r/a.jpg\nrestored b.jpg -> gallery/r/b.jpg\n"
    );
    assert_eq!(count(&calls, &["fsetxattr"]), 1, "tried once: {calls:?}");
    assert_eq!(count(&calls, RENAMES), 2, "{calls:?}");
    fs::remove_file(m.gallery().join("r/a.jpg")).unwrap();
    let (empty, calls) = traced(&m, &["empty", "--yes"], PER_ENTRY);
    assert!(
        empty.succeeded().out.contains("Deleted 2 items."),
        "{empty:#?}"
    );
    assert_eq!(count(&calls, &["fsetxattr"]), 1, "tried once: {calls:?}");
    assert_eq!(count(&calls, REMOVALS), 2, "{calls:?}");
    assert!(m.trash_names().is_empty());
}

/// Runs python3 `code` as `uid` in `cwd`; its stdout.
fn python_as(uid: u32, cwd: &Path, code: &str) -> String {
    let out = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={uid}"))
        .arg("--clear-groups")
        .args(["python3", "-c", code])
        // Not a python of root's own (a pyenv shim in root's PATH, say).
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python as {uid}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The python for one bulk request: prints `errno ERRNO` if refused as a
/// whole, else the answers, space-separated.
fn py_request(dir: &str, op: &str, fields: &[&str], token: &str) -> String {
    let value: String = fields.iter().map(|f| format!("{f}\\0")).collect();
    format!(
        "import os\n\
         try:\n    os.setxattr({dir:?}, 'user.trash.{op}.{token}', b'{value}')\n\
         except OSError as e:\n    print('errno', e.errno); raise SystemExit\n\
         print(*os.getxattr('.trash', 'user.trash.result.{token}'))\n"
    )
}

#[test]
fn a_users_bulk_request_takes_only_what_they_could_take_one_by_one() {
    let m = Mount::with_options(&["allow_other"]);
    let mnt = &m.mountpoint;
    fs::set_permissions(m.base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(m.gallery(), fs::Permissions::from_mode(0o1777)).unwrap();
    let bin = m.base.path().join("gallery-trash");
    fs::copy(gallery_trash_bin(), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let as_user = |uid: u32, script: &str| {
        ok(Command::new("setpriv")
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={uid}"))
            .arg("--clear-groups")
            .args(["sh", "-c", script])
            .current_dir(mnt))
    };
    as_user(
        OWNER_UID,
        "echo a > gallery/owner-a && echo b > gallery/owner-b && rm gallery/owner-a gallery/owner-b",
    );
    as_user(
        OTHER_UID,
        "echo a > gallery/other-a && echo b > gallery/other-b && rm gallery/other-a gallery/other-b \
         && mkdir -m 777 gallery/shared && mkdir gallery/o",
    );
    // A folder of OTHER's holding one of OWNER's that OTHER may not empty.
    as_user(
        OWNER_UID,
        "mkdir gallery/shared/sub && echo f > gallery/shared/sub/f",
    );
    as_user(OTHER_UID, "mv gallery/shared .trash/shared");
    let (owner, other) = (OWNER_UID.to_string(), OTHER_UID.to_string());
    let others_view = format!(".Trash-{other}/files");

    // `.trash` is sticky: only root may write its attributes.
    let on_trash = py_request(".trash", "purge", &["other-a"], "u1");
    assert_eq!(
        python_as(OTHER_UID, mnt, &on_trash).trim(),
        format!("errno {}", libc::EPERM)
    );
    // Through their own view: only their own entries.
    let mixed = py_request(
        &others_view,
        "purge",
        &["owner-a", "other-a", "shared"],
        "u2",
    );
    assert_eq!(
        python_as(OTHER_UID, mnt, &mixed).trim(),
        format!("{} 0 {}", libc::ENOENT, libc::EACCES),
        "another's entry is not in the view; a tree they cannot empty is left to the kernel"
    );
    // Another user's view is the kernel's to refuse.
    let owners_view = py_request(
        &format!(".Trash-{owner}/files"),
        "purge",
        &["owner-a"],
        "u3",
    );
    assert_eq!(
        python_as(OTHER_UID, mnt, &owners_view).trim(),
        format!("errno {}", libc::EACCES)
    );
    // A restore into their own folder: the sticky rule for each entry.
    let restore = py_request(
        "gallery/o",
        "restore",
        &["owner-b", "stolen", "other-b", "back"],
        "u4",
    );
    assert_eq!(
        python_as(OTHER_UID, mnt, &restore).trim(),
        format!("{} 0", libc::EPERM)
    );
    assert_eq!(fs::read(m.gallery().join("o/back")).unwrap(), b"b\n");
    assert!(!m.gallery().join("o/stolen").exists());
    // Into the sticky gallery/ of root's: the kernel refuses the request
    // (gallery-trash then renames one by one, which a sticky directory allows).
    let sticky = py_request("gallery", "restore", &["other-b", "x"], "u5");
    assert_eq!(
        python_as(OTHER_UID, mnt, &sticky).trim(),
        format!("errno {}", libc::EPERM)
    );
    // The answers are their own.
    let peek = "import os\ntry:\n    os.getxattr('.trash', 'user.trash.result.u4'); print('read')\n\
                except OSError as e:\n    print('errno', e.errno)\n";
    assert_eq!(
        python_as(OWNER_UID, mnt, peek).trim(),
        format!("errno {}", libc::ENODATA)
    );
    assert_eq!(m.trash_names(), ["owner-a", "owner-b", "shared"]);

    // gallery-trash: OTHER empties what they may; the tree they cannot
    // empty fails as `rm -r` would, and nothing of OWNER's goes.
    as_user(
        OTHER_UID,
        "echo c > gallery/other-c && echo d > gallery/other-d && rm gallery/other-c gallery/other-d",
    );
    let empty = gallery_trash(mnt)
        .args(["empty", "--yes"])
        .run_as(OTHER_UID, &bin)
        .show();
    empty.failed_with(1);
    assert!(empty.out.contains("Deleted 2 items."), "{empty:#?}");
    assert!(
        empty
            .err
            .contains("cannot delete shared: permission denied"),
        "{empty:#?}"
    );
    assert_eq!(fs::read(m.trash().join("shared/sub/f")).unwrap(), b"f\n");
    assert_eq!(m.trash_names(), ["owner-a", "owner-b", "shared"]);
    // OWNER restores their two in one request.
    let restored = gallery_trash(mnt)
        .args(["restore", ".trash/owner-a", ".trash/owner-b"])
        .run_as(OWNER_UID, &bin)
        .show();
    assert_eq!(
        restored.succeeded().out,
        "restored owner-a -> gallery/owner-a\nrestored owner-b -> gallery/owner-b\n"
    );
    assert_eq!(m.trash_names(), ["shared"]);
}

/// `inotifywait -m` on `dirs`; its events are read from `log`.
fn watch(dirs: &[PathBuf], log: &Path) -> std::process::Child {
    Command::new("inotifywait")
        .args(["-m", "-q", "--format", "%w|%e|%f"])
        .args(["-e", "create,delete"])
        .args(dirs)
        .stdout(fs::File::create(log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("run inotifywait (apt-get install inotify-tools)")
}

/// The names `log` shows `event` for in `dir`.
fn seen(log: &Path, dir: &Path, event: &str) -> std::collections::BTreeSet<String> {
    let dir = format!("{}/", dir.display());
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '|');
            let (d, e, name) = (parts.next()?, parts.next()?, parts.next()?);
            (d == dir && e.split(',').any(|x| x == event)).then(|| name.to_string())
        })
        .collect()
}

#[test]
fn watchers_see_every_entry_a_bulk_purge_or_restore_takes() {
    let m = Mount::new();
    let n = 300;
    for i in 0..n {
        write(&m.gallery().join(format!("r/f{i}.jpg")), b"f");
    }
    ok(Command::new("find")
        .arg(m.gallery().join("r"))
        .args(["-type", "f", "-delete"]));
    let files = view(&m, "files");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events");
    let mut watcher = watch(&[m.trash(), files.clone()], &log);
    // Ready once it sees a probe arrive (a single change: always told).
    let mut probes = 0;
    galleryfs_testkit::wait::wait_within(
        "inotifywait to start",
        std::time::Duration::from_secs(20),
        || {
            probes += 1;
            trash_file(&m, &format!("probe{probes}"), b"p");
            std::thread::sleep(std::time::Duration::from_millis(200));
            seen(&log, &m.trash(), "CREATE").contains(&format!("probe{probes}"))
        },
    );
    let gone: Vec<String> = m
        .trash_names()
        .into_iter()
        .filter(|name| name.starts_with('f'))
        .collect();
    assert_eq!(gone.len(), n);

    // Half go back (restore --under), the rest are purged.
    let (half, rest) = gone.split_at(n / 2);
    let mut restore = vec!["restore".to_string()];
    restore.extend(half.iter().map(|name| format!(".trash/{name}")));
    gallery_trash(&m.mountpoint)
        .args(&restore)
        .show()
        .succeeded();
    let mut purge = vec!["purge".to_string(), "--yes".to_string()];
    purge.extend(rest.iter().map(|name| format!(".trash/{name}")));
    gallery_trash(&m.mountpoint).args(&purge).show().succeeded();
    let want: std::collections::BTreeSet<String> = gone.iter().cloned().collect();
    galleryfs_testkit::wait::wait_within(
        "the watcher to see every entry go from both directories",
        std::time::Duration::from_secs(30),
        || seen(&log, &m.trash(), "DELETE") == want && seen(&log, &files, "DELETE") == want,
    );
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert_eq!(names_in(&m.gallery().join("r")).len(), n / 2);
}
