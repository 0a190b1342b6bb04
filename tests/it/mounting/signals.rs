//! Stopping on signals (issue 16, item 3) and a quiet log (item 7): every
//! SIGINT/SIGTERM/SIGHUP unmounts; a busy mount is detached lazily, keeps
//! serving what is open, and the daemon exits once it is closed; a signal
//! that comes then is not lost; a clean stop logs no warning or error.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

use galleryfs_testkit::wait::poll;
use galleryfs_testkit::{MOUNT_TIMEOUT, galleryfs_bin, is_mounted, ok, run, wait_until};

use super::{Unmount, scratch};

/// galleryfs in the foreground, its stderr in `log`.
fn start(store: &Path, mnt: &Path, log: &Path) -> Child {
    let out = File::create(log).unwrap();
    let child = Command::new(galleryfs_bin())
        .arg(store)
        .arg(mnt)
        .arg("-f")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    wait_until("mount", || is_mounted(mnt));
    child
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to our own child (alive or a zombie).
    unsafe { libc::kill(child.id() as i32, sig) };
}

/// Waits for the daemon to exit, which it must do with status 0.
fn exited(child: &mut Child, log: &Path) {
    let status: ExitStatus = poll("the daemon to exit", MOUNT_TIMEOUT, || {
        child.try_wait().unwrap()
    });
    assert!(status.success(), "exit {status}: {}", read(log));
}

fn read(log: &Path) -> String {
    fs::read_to_string(log).unwrap_or_default()
}

/// Lines at WARN or ERROR in a log.
fn complaints(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect()
}

#[test]
fn every_stop_signal_unmounts_cleanly() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let (base, store, mnt) = scratch();
        let _guard = Unmount(&mnt);
        let log = base.path().join("log");
        let mut child = start(&store, &mnt, &log);
        fs::write(mnt.join("gallery/f"), "kept").unwrap();
        signal(&child, sig);
        exited(&mut child, &log);
        assert!(!is_mounted(&mnt), "signal {sig} left the mount");
        assert_eq!(fs::read_to_string(store.join("gallery/f")).unwrap(), "kept");
        let text = read(&log);
        assert!(complaints(&text).is_empty(), "signal {sig}: {text}");
    }
}

/// The issue's sequence: a file open for writing, TERM, close, TERM.
#[test]
fn a_busy_mount_is_detached_and_the_daemon_exits_once_it_is_closed() {
    let (base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let log = base.path().join("log");
    let mut child = start(&store, &mnt, &log);
    let mut open = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(mnt.join("gallery/x"))
        .unwrap();
    open.write_all(b"before ").unwrap();
    signal(&child, libc::SIGTERM);
    // Out of the mount table at once, and the log says why it was not clean.
    wait_until("the busy mount to be detached", || !is_mounted(&mnt));
    wait_until("the log to name the busy mount", || {
        read(&log).contains("is busy")
    });
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited while a file was open"
    );
    // What is open keeps working: nothing written through it is lost.
    open.write_all(b"after").unwrap();
    drop(open);
    signal(&child, libc::SIGTERM);
    exited(&mut child, &log);
    assert_eq!(
        fs::read_to_string(store.join("gallery/x")).unwrap(),
        "before after"
    );
}

/// A shell whose working directory is in the mount: TERM detaches; another
/// TERM while it is still there is answered in the log, not lost; the
/// daemon exits when the shell leaves.
#[test]
fn a_signal_while_detached_is_answered_and_the_daemon_exits_when_free() {
    let (base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let log = base.path().join("log");
    let mut child = start(&store, &mnt, &log);
    let fifo = base.path().join("go");
    ok(Command::new("mkfifo").arg(&fifo));
    // Sits in gallery/ until told to go, then writes a file there by relative name.
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "read _ < '{}'; echo late > late.txt",
            fifo.display()
        ))
        .current_dir(mnt.join("gallery"))
        .spawn()
        .unwrap();
    signal(&child, libc::SIGTERM);
    wait_until("the busy mount to be detached", || !is_mounted(&mnt));
    signal(&child, libc::SIGTERM);
    wait_until("the second signal to be answered", || {
        read(&log).contains("is already detached")
    });
    assert!(child.try_wait().unwrap().is_none());
    fs::write(&fifo, "go\n").unwrap();
    assert!(shell.wait().unwrap().success());
    exited(&mut child, &log);
    assert_eq!(
        fs::read_to_string(store.join("gallery/late.txt")).unwrap(),
        "late\n"
    );
}

/// An external `umount` and a request whose process is killed mid-way are
/// normal: no WARN or ERROR line.
#[test]
fn a_clean_umount_logs_no_warning() {
    let (base, store, mnt) = scratch();
    let _guard = Unmount(&mnt);
    let log = base.path().join("log");
    let mut child = start(&store, &mnt, &log);
    fs::write(mnt.join("gallery/a"), "a").unwrap();
    // Processes killed while their requests are in flight.
    let ran = base.path().join("ran");
    for _ in 0..5 {
        let _ = fs::remove_file(&ran);
        let mut reader = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while :; do ls -lR . >/dev/null; cat gallery/a >/dev/null; : > '{}'; done",
                ran.display()
            ))
            .current_dir(&mnt)
            .process_group(0)
            .spawn()
            .unwrap();
        wait_until("the reader to run", || ran.exists());
        // The whole group: a killed sh leaves its ls or cat running in the
        // mount, and the umount below would find it busy.
        let group = format!("-{}", reader.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = reader.wait();
        wait_until("the reader's children to exit", || {
            !Command::new("kill")
                .args(["-0", "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    }
    ok(Command::new("umount").arg(&mnt));
    exited(&mut child, &log);
    let text = read(&log);
    assert!(text.contains("unmounted"), "{text}");
    assert!(complaints(&text).is_empty(), "{text}");
    assert_eq!(fs::read_to_string(store.join("gallery/a")).unwrap(), "a");
}

/// A user's mount stops through fusermount3: `-u`, and `-u -z` when busy.
/// The user exists only in a private mount namespace (a scratch passwd and
/// group bound over the real ones: fusermount3 wants a user name), where
/// the mount lives too.
#[test]
fn a_users_busy_mount_is_detached_through_fusermount3() {
    use std::os::unix::fs::PermissionsExt;
    const UID: u32 = 2102;
    let (base, _store, _mnt) = scratch();
    let dir = base.path();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    let mut passwd = fs::read_to_string("/etc/passwd").unwrap();
    passwd += &format!("gfs-signals:x:{UID}:{UID}::/nonexistent:/bin/sh\n");
    fs::write(dir.join("passwd"), passwd).unwrap();
    let mut group = fs::read_to_string("/etc/group").unwrap();
    group += &format!("gfs-signals:x:{UID}:\n");
    fs::write(dir.join("group"), group).unwrap();
    fs::copy(galleryfs_bin(), dir.join("galleryfs")).unwrap();
    ok(Command::new("mkfifo").arg(dir.join("go")));
    ok(Command::new("chown")
        .arg("-R")
        .arg(format!("{UID}:{UID}"))
        .arg(dir));
    // Each wait is a poll with a deadline (20 s), exiting with its own code.
    let script = format!(
        r#"
set -u
mount --bind passwd /etc/passwd && mount --bind group /etc/group || exit 10
U="setpriv --reuid {UID} --regid {UID} --clear-groups"
mounted() {{ grep -q " $PWD/mnt " /proc/self/mountinfo; }}
upto() {{ i=0; until eval "$2"; do i=$((i+1)); [ $i -lt 200 ] || exit $1; sleep 0.1; done; }}
mkdir mnt && chown {UID}:{UID} mnt
$U ./galleryfs store mnt -f 2>log &
P=$!
upto 11 mounted
$U sh -c 'exec 3>mnt/gallery/x; echo before >&3; read _ < go; echo after >&3' &
S=$!
upto 12 '[ -s store/gallery/x ]'
kill -TERM $P
upto 13 '! mounted'
upto 14 'grep -q "is busy" log'
kill -0 $P || exit 15
echo go > go
wait $S || exit 16
wait $P || exit 17
cat store/gallery/x
"#
    );
    let out = run(Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .current_dir(dir));
    let log = read(&dir.join("log"));
    assert!(
        out.status.success(),
        "exit {}: {}\nlog:\n{log}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "before\nafter\n");
    assert!(
        complaints(&log).iter().all(|l| l.contains("is busy")),
        "{log}"
    );
}
