//! `gallery-trash purge` and `empty`: they list what goes, ask, and delete
//! only on yes.

use super::*;

#[test]
fn purge_asks_and_only_yes_deletes() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    for name in ["a.jpg", "b.jpg", "c.jpg", "d.jpg"] {
        trash_file(&m, name, name.as_bytes());
    }
    let pair = [".trash/a.jpg", ".trash/b.jpg"];

    for (answer, why) in [
        (&b"n\n"[..], "n"),
        (b"", "end of input"),
        (b"maybe\ny\n", "not y"),
    ] {
        let shown = gallery_trash(mnt)
            .arg("purge")
            .args(pair)
            .input(answer)
            .show();
        shown.succeeded();
        assert!(
            shown.out.contains("a.jpg") && shown.out.contains("b.jpg"),
            "lists what will go ({why}):\n{}",
            shown.out
        );
        // The question goes to stderr, what it is about to stdout.
        assert_eq!(
            shown.err, "This cannot be undone.\nPermanently delete 2 items? [y/N] \n",
            "({why})"
        );
        assert!(!shown.out.contains("[y/N]"), "{}", shown.out);
        assert_eq!(m.trash_os_names().len(), 4, "nothing deleted after {why}");
    }

    let yes = gallery_trash(mnt)
        .arg("purge")
        .args(pair)
        .input(b"y\n")
        .show();
    assert!(
        yes.succeeded()
            .err
            .contains("Permanently delete 2 items? [y/N]")
    );
    assert!(
        yes.out.contains("purged a.jpg\n") && yes.out.contains("purged b.jpg\n"),
        "{}",
        yes.out
    );
    assert_eq!(m.trash_os_names(), ["c.jpg", "d.jpg"]);

    let word = gallery_trash(mnt)
        .args(["purge", ".trash/c.jpg"])
        .input(b"yes\n")
        .show();
    assert!(
        word.succeeded()
            .err
            .contains("Permanently delete 1 item? [y/N]"),
        "{word:#?}"
    );
    assert_eq!(m.trash_os_names(), ["d.jpg"]);

    let forced = gallery_trash(mnt)
        .args(["purge", "--yes", ".trash/d.jpg"])
        .show();
    assert_eq!(forced.succeeded().out, "purged d.jpg\n");
    assert!(m.trash_os_names().is_empty());
}

#[test]
fn empty_asks_with_the_count_and_only_yes_deletes() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    for name in ["a.jpg", "b.jpg", "c.jpg"] {
        trash_file(&m, name, b"x");
    }
    write(&m.gallery().join("trip/x.jpg"), b"x");
    fs::rename(m.gallery().join("trip"), m.trash().join("trip")).unwrap();

    for (answer, why) in [
        (&b"n\n"[..], "n"),
        (b"", "end of input"),
        (b"nope\n", "nope"),
    ] {
        let shown = gallery_trash(mnt).arg("empty").input(answer).show();
        shown.succeeded();
        assert!(
            shown.err.contains("Delete all 4 items? [y/N]"),
            "({why}):\n{shown:#?}"
        );
        // What goes is listed first, on stdout.
        for name in ["a.jpg", "b.jpg", "c.jpg", "trip/"] {
            assert!(shown.out.contains(name), "{name} ({why}):\n{}", shown.out);
        }
        assert!(shown.out.contains("4 items, "), "{}", shown.out);
        assert_eq!(m.trash_os_names().len(), 4, "nothing deleted after {why}");
    }

    gallery_trash(mnt)
        .args(["purge", "-y", ".trash/a.jpg"])
        .show()
        .succeeded();
    let shown = gallery_trash(mnt)
        .arg("empty")
        .arg(mnt)
        .input(b"y\n")
        .show();
    assert!(
        shown.succeeded().err.contains("Delete all 3 items? [y/N]"),
        "{shown:#?}"
    );
    assert!(shown.out.contains("Deleted 3 items."), "{}", shown.out);
    assert!(m.trash_os_names().is_empty());
    assert_eq!(
        gallery_trash(mnt).arg("empty").show().succeeded().out,
        "Trash is empty\n"
    );

    trash_file(&m, "e.jpg", b"x");
    trash_file(&m, "f.jpg", b"x");
    let forced = gallery_trash(mnt).args(["empty", "--yes"]).show();
    assert!(!forced.succeeded().err.contains("[y/N]"), "{forced:#?}");
    assert!(forced.out.contains("Deleted 2 items."), "{}", forced.out);
    assert!(m.trash_os_names().is_empty());
}
