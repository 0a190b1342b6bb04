//! Expiry: entries go after the retention, at mount and at each sweep, and
//! an expired entry is never shown, even before the sweep deletes it.

use super::*;

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
    // (The sweep moves an entry into STORAGE/purging, then deletes it there.)
    wait_until(
        "expired entries to leave .trash, STORAGE/trash and purging",
        || {
            names(&t).is_empty()
                && names(&storage_trash(&m)).is_empty()
                && names(&m.storage.join("purging")).is_empty()
        },
    );
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
