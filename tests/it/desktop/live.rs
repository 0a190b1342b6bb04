//! Issue 13: a live trash. Watchers — `inotifywait` (inotify-tools) and a
//! `gio monitor trash:///` backed by the real gvfsd-trash — see entries
//! appear and vanish whichever way the trash changed: an `rm` in the
//! gallery, an expiry, a purge for space, a restore or purge through the
//! other view. Every wait polls with a deadline.

use std::collections::BTreeSet;
use std::process::Child;
use std::time::Duration;

use galleryfs_testkit::wait::wait_within;

use super::*;

/// How long a change may take to reach a watcher here (the daemon tells
/// within about a second; CI machines are slow and shared).
const TOLD: Duration = Duration::from_secs(10);

/// `inotifywait -m` on some directories, its events in a log file.
struct Inotify {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Inotify {
    fn start(dirs: &[PathBuf]) -> Inotify {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("events");
        let errors = dir.path().join("stderr");
        let child = Command::new("inotifywait")
            .args(["-m", "-q", "--format", "%w|%e|%f"])
            .args(["-e", "create,delete,moved_to,moved_from"])
            .args(dirs)
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(&errors).unwrap())
            .spawn()
            .expect("run inotifywait (apt-get install inotify-tools)");
        Inotify {
            child,
            log,
            _dir: dir,
        }
    }

    /// Events so far, as (directory, events, name).
    fn events(&self) -> Vec<(String, String, String)> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut parts = l.splitn(3, '|');
                Some((
                    parts.next()?.trim_end_matches('/').to_string(),
                    parts.next()?.to_string(),
                    parts.next()?.to_string(),
                ))
            })
            .collect()
    }

    fn saw(&self, dir: &Path, event: &str, name: &str) -> bool {
        let dir = dir.display().to_string();
        self.events()
            .iter()
            .any(|(d, e, n)| *d == dir && e.split(',').any(|x| x == event) && n == name)
    }

    fn wait_for(&self, dir: &Path, event: &str, name: &str) {
        wait_within(
            &format!(
                "{event} {name} in {} (events: {:?})",
                dir.display(),
                self.events()
            ),
            TOLD,
            || self.saw(dir, event, name),
        );
    }

    /// The names a watcher of `dir` believes are there, replaying its
    /// events over `start`.
    fn replay(&self, dir: &Path, start: &[String]) -> BTreeSet<String> {
        let dir = dir.display().to_string();
        let mut names: BTreeSet<String> = start.iter().cloned().collect();
        for (d, e, n) in self.events() {
            if d != dir {
                continue;
            }
            let events: Vec<&str> = e.split(',').collect();
            if events.contains(&"CREATE") || events.contains(&"MOVED_TO") {
                names.insert(n);
            } else if events.contains(&"DELETE") || events.contains(&"MOVED_FROM") {
                names.remove(&n);
            }
        }
        names
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn files_dir(m: &Mount) -> PathBuf {
    trash_dir(m).join("files")
}

/// Starts a watcher on `.trash` and `.Trash-U/files` once it is watching:
/// proven by an entry that must show in both.
fn watch(m: &Mount) -> Inotify {
    let dirs = [m.trash(), files_dir(m)];
    let w = Inotify::start(&dirs);
    static PROBES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    wait_within("inotifywait to start", TOLD, || {
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("probe-{n}.jpg");
        write(&m.gallery().join(&name), b"p");
        fs::remove_file(m.gallery().join(&name)).unwrap();
        poll_saw(&w, &m.trash(), "CREATE", &name)
    });
    w
}

/// The trash's entries but the probes of `watch`.
fn entries(m: &Mount) -> Vec<String> {
    m.trash_names()
        .into_iter()
        .filter(|n| !n.starts_with("probe-"))
        .collect()
}

/// Whether `w` reports `event name` in `dir` within a second.
fn poll_saw(w: &Inotify, dir: &Path, event: &str, name: &str) -> bool {
    galleryfs_testkit::wait::poll_for(Duration::from_secs(1), || {
        w.saw(dir, event, name).then_some(())
    })
    .is_some()
}

#[test]
fn inotify_sees_rm_in_the_gallery_in_both_views_and_a_restore_through_the_other() {
    let m = Mount::new();
    write(&m.gallery().join("a.jpg"), b"a");
    write(&m.gallery().join("b.jpg"), b"b");
    let w = watch(&m);

    fs::remove_file(m.gallery().join("a.jpg")).unwrap();
    w.wait_for(&m.trash(), "CREATE", "a.jpg");
    w.wait_for(&files_dir(&m), "CREATE", "a.jpg");

    // Restored through the desktop view: .trash's watcher is told too.
    fs::rename(files_dir(&m).join("a.jpg"), m.gallery().join("a.jpg")).unwrap();
    w.wait_for(&m.trash(), "DELETE", "a.jpg");
    assert!(w.saw(&files_dir(&m), "MOVED_FROM", "a.jpg"));

    // Restored through .trash (mv) and purged through .trash (rm): the
    // desktop view's watcher is told.
    fs::remove_file(m.gallery().join("b.jpg")).unwrap();
    w.wait_for(&files_dir(&m), "CREATE", "b.jpg");
    fs::remove_file(m.trash().join("b.jpg")).unwrap();
    w.wait_for(&files_dir(&m), "DELETE", "b.jpg");
    assert!(w.saw(&m.trash(), "DELETE", "b.jpg"));

    // Nothing of the echoes shows in the catalog or the listing.
    assert_eq!(entries(&m), Vec::<String>::new());
    let listed = gallery_trash_list(&m);
    assert_eq!(
        listed.len(),
        m.trash_names().len(),
        "only the probes: {listed:?}"
    );
    assert_eq!(fs::read(m.gallery().join("a.jpg")).unwrap(), b"a");
}

/// Once the echoes gave the kernel an entry's name in both views, a restore
/// through either opens under its new name: the node must follow the name
/// the rename moved (a regression: the second view's name used to replace
/// the first in galleryfs's node table, and the restored file answered
/// ENOENT until the kernel dropped it).
#[test]
fn an_entry_both_views_showed_opens_after_a_restore_through_either() {
    let m = Mount::with_options(&["overwrite_interval=0"]);
    for (name, data) in [("a.jpg", "a"), ("b.jpg", "b"), ("c.jpg", "v1")] {
        write(&m.gallery().join(name), data.as_bytes());
    }
    let w = watch(&m);
    fs::remove_file(m.gallery().join("a.jpg")).unwrap();
    w.wait_for(&files_dir(&m), "CREATE", "a.jpg");
    fs::rename(m.trash().join("a.jpg"), m.gallery().join("back.jpg")).unwrap();
    assert_eq!(fs::read(m.gallery().join("back.jpg")).unwrap(), b"a");

    fs::remove_file(m.gallery().join("b.jpg")).unwrap();
    w.wait_for(&files_dir(&m), "CREATE", "b.jpg");
    fs::rename(files_dir(&m).join("b.jpg"), m.gallery().join("b2.jpg")).unwrap();
    assert_eq!(fs::read(m.gallery().join("b2.jpg")).unwrap(), b"b");

    // A kept overwrite: the old inode is in the trash under a number of its own.
    fs::write(m.gallery().join("c.jpg"), b"v2").unwrap();
    w.wait_for(&files_dir(&m), "CREATE", "c.jpg");
    fs::rename(m.trash().join("c.jpg"), m.gallery().join("c-old.jpg")).unwrap();
    assert_eq!(fs::read(m.gallery().join("c-old.jpg")).unwrap(), b"v1");
    assert_eq!(fs::read(m.gallery().join("c.jpg")).unwrap(), b"v2");
}

#[test]
fn inotify_sees_expiry_and_purge_for_space() {
    let m = Mount::with_options(&["retention=3s", "sweep=1s"]);
    write(&m.gallery().join("old.jpg"), b"o");
    let w = watch(&m);
    fs::remove_file(m.gallery().join("old.jpg")).unwrap();
    w.wait_for(&m.trash(), "CREATE", "old.jpg");
    // Expired by the sweep: nobody removed it through the mount.
    w.wait_for(&m.trash(), "DELETE", "old.jpg");
    w.wait_for(&files_dir(&m), "DELETE", "old.jpg");
    assert!(!m.trash_names().contains(&"old.jpg".to_string()));

    let m = Mount::with_options(&["max_trash=96K"]);
    write(&m.gallery().join("first.bin"), &[1u8; 60 * 1024]);
    write(&m.gallery().join("second.bin"), &[2u8; 60 * 1024]);
    let w = watch(&m);
    fs::remove_file(m.gallery().join("first.bin")).unwrap();
    w.wait_for(&m.trash(), "CREATE", "first.bin");
    fs::remove_file(m.gallery().join("second.bin")).unwrap();
    // The cap purges the oldest entry to make room.
    w.wait_for(&m.trash(), "DELETE", "first.bin");
    w.wait_for(&files_dir(&m), "DELETE", "first.bin");
    assert!(m.trash_names().contains(&"second.bin".to_string()));
}

#[test]
fn a_watcher_ends_up_agreeing_with_ls_after_rm_rf_of_a_tree() {
    let m = Mount::new();
    for d in 0..10 {
        for f in 0..200 {
            write(&m.gallery().join(format!("tree/d{d}/f{f}.jpg")), b"x");
        }
    }
    write(&m.gallery().join("loose.jpg"), b"l");
    let w = watch(&m);
    let before = m.trash_names();
    ok(Command::new("rm").arg("-rf").arg(m.gallery().join("tree")));
    fs::remove_file(m.gallery().join("loose.jpg")).unwrap();
    wait_within("the watcher to agree with ls .trash", TOLD, || {
        let shown: BTreeSet<String> = m.trash_names().into_iter().collect();
        w.replay(&m.trash(), &before) == shown && w.replay(&files_dir(&m), &before) == shown
    });
    assert_eq!(entries(&m), ["loose.jpg", "tree"]);
}

#[test]
fn unmount_and_kill_with_a_watcher_running_leave_no_hung_mount() {
    let mut m = Mount::new();
    let w = watch(&m);
    for i in 0..300 {
        write(&m.gallery().join(format!("f{i}.jpg")), b"x");
    }
    for i in 0..300 {
        fs::remove_file(m.gallery().join(format!("f{i}.jpg"))).unwrap();
    }
    // Unmounted while echoes may be in flight: the daemon exits 0.
    m.unmount();
    drop(w);
    m.mount();
    let count = |m: &Mount, p: char| m.trash_names().iter().filter(|n| n.starts_with(p)).count();
    assert_eq!(count(&m, 'f'), 300, "{:?}", m.trash_names());

    let w = watch(&m);
    for i in 0..300 {
        fs::remove_file(m.trash().join(format!("f{i}.jpg"))).unwrap();
    }
    for i in 0..300 {
        write(&m.gallery().join(format!("g{i}.jpg")), b"y");
        fs::remove_file(m.gallery().join(format!("g{i}.jpg"))).unwrap();
    }
    // Killed while the helper may be mid-syscall: the mount dies, and the
    // remount has every entry exactly once.
    m.kill9();
    drop(w);
    m.mount();
    assert_eq!(count(&m, 'f'), 0, "{:?}", m.trash_names());
    assert_eq!(count(&m, 'g'), 300, "{:?}", m.trash_names());
}

/// `gio monitor trash:///` started before the changes, in the script's
/// D-Bus session; `waitfor NAME EVENT` polls its log.
const MONITOR: &str = r#"
    LOG=$PWD/monitor.log
    : > "$LOG"
    gio monitor trash:/// > "$LOG" 2>&1 &
    MON=$!
    trap 'kill $MON 2>/dev/null' EXIT
    waitfor() {
        i=0
        until grep -F "$1" "$LOG" | grep -q ": $2"; do
            i=$((i + 1))
            if [ $i -gt 100 ]; then
                echo "no '$2' for $1 within 10 s:"; cat "$LOG"; exit 1
            fi
            sleep 0.1
        done
    }
    gio trash --list > /dev/null
    # gvfsd-trash watches the mount once it has read it: a probe proves it.
    n=0
    until grep -q 'probe.jpg: created' "$LOG"; do
        n=$((n + 1))
        [ $n -gt 10 ] && { echo "gio monitor never saw the probe:"; cat "$LOG"; exit 1; }
        echo p > "$MNT/gallery/probe.jpg" && rm "$MNT/gallery/probe.jpg"
        i=0
        until grep -q 'probe.jpg: created' "$LOG" || [ $i -gt 10 ]; do i=$((i + 1)); sleep 0.1; done
    done
"#;

#[test]
fn gio_monitor_sees_rm_restore_and_purge() {
    let m = Mount::new();
    let c = Clients::new();
    write(&m.gallery().join("y.jpg"), b"y");
    write(&m.gallery().join("z.jpg"), b"z");
    let gt = gallery_trash_bin();
    let out = c.gio(
        &m,
        &format!(
            "{MONITOR}
             rm \"$MNT/gallery/y.jpg\"
             waitfor y.jpg created
             echo '== list'
             gio trash --list
             {gt} restore \"$MNT/.trash/y.jpg\" > /dev/null
             waitfor y.jpg deleted
             rm \"$MNT/gallery/z.jpg\"
             waitfor z.jpg created
             rm \"$MNT/.trash/z.jpg\"
             waitfor z.jpg deleted
             echo '== gallery'
             ls -la \"$MNT/gallery\" \"$MNT/.trash\"
             echo '== monitor'
             cat \"$LOG\"",
            gt = gt.display()
        ),
    );
    let listed: Vec<String> = gio_entries(&m, section(&out, "list"))
        .into_iter()
        .map(|(_, orig)| orig)
        .collect();
    let y = format!("{}/gallery/y.jpg", m.mountpoint.display());
    assert!(listed.contains(&y), "{out}");
    assert_eq!(
        fs::read(m.gallery().join("y.jpg")).ok().as_deref(),
        Some(&b"y"[..]),
        "{out}"
    );
    assert!(!m.trash().join("z.jpg").exists(), "{out}");
}

#[test]
fn gio_monitor_sees_expiry_and_never_another_users_entries() {
    let m = {
        let m = Mount::with_options(&["allow_other", "retention=4s", "sweep=1s"]);
        chmod(m.base.path(), 0o755);
        chmod(&m.gallery(), 0o1777);
        m
    };
    let c = Clients::new();
    write(&m.gallery().join("mine.jpg"), b"m");
    let out = c.gio(
        &m,
        &format!(
            "{MONITOR}
             setpriv --reuid={USER} --regid={USER} --clear-groups \
                 sh -c 'echo t > \"$MNT/gallery/theirs.jpg\" && rm \"$MNT/gallery/theirs.jpg\"'
             rm \"$MNT/gallery/mine.jpg\"
             waitfor mine.jpg created
             waitfor mine.jpg deleted
             echo '== monitor'
             cat \"$LOG\""
        ),
    );
    let log = section(&out, "monitor");
    assert!(
        !log.contains("theirs.jpg"),
        "another uid's entry showed:\n{log}"
    );
}

#[test]
fn litter_shows_in_the_trash_watchers_view_but_never_in_the_desktop_one() {
    let m = Mount::new();
    write(&m.gallery().join(".notes.txt.swp"), b"swap");
    write(&m.gallery().join("kept.jpg"), b"k");
    let w = watch(&m);
    fs::remove_file(m.gallery().join(".notes.txt.swp")).unwrap();
    fs::remove_file(m.gallery().join("kept.jpg")).unwrap();
    w.wait_for(&m.trash(), "CREATE", ".notes.txt.swp");
    // Told after the swap file: had the desktop view been told of it, it
    // would be there by now.
    w.wait_for(&files_dir(&m), "CREATE", "kept.jpg");
    fs::remove_file(m.trash().join(".notes.txt.swp")).unwrap();
    fs::remove_file(m.trash().join("kept.jpg")).unwrap();
    w.wait_for(&files_dir(&m), "DELETE", "kept.jpg");
    let seen: Vec<_> = w
        .events()
        .into_iter()
        .filter(|(d, _, n)| *d == files_dir(&m).display().to_string() && n.contains("swp"))
        .collect();
    assert!(
        seen.is_empty(),
        "the desktop view's watcher saw litter: {seen:?}"
    );
}
