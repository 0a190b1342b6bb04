//! rename(2) and renameat2(2): over existing names, RENAME_NOREPLACE,
//! RENAME_EXCHANGE, directories over empty and non-empty directories, link
//! counts and timestamps of everything involved.

use std::ffi::OsString;
use std::fs;

use crate::diff::{Ctx, differential};
use crate::sys;

const NOREPLACE: u32 = libc::RENAME_NOREPLACE;
const EXCHANGE: u32 = libc::RENAME_EXCHANGE;
const WHITEOUT: u32 = libc::RENAME_WHITEOUT;

/// The designed difference of a rename that replaces a file: natively the
/// replaced file is gone; in the gallery it is a new trash entry with its
/// original path and content (nothing loses its last name without landing in
/// the trash). Checks that and records nothing, so both transcripts agree.
fn replaced_goes_to_trash(c: &Ctx, before: &[OsString], rel: &str, content: &[u8]) {
    if !c.gallery() {
        return;
    }
    let after = c.trash_entries();
    let new: Vec<&OsString> = after.iter().filter(|e| !before.contains(e)).collect();
    assert_eq!(
        new.len(),
        1,
        "one new trash entry for the replaced {rel}: {after:?}"
    );
    assert_eq!(c.original_path(new[0]), c.gallery_rel(rel));
    let m = c.mount().unwrap();
    assert_eq!(fs::read(m.trash().join(new[0])).unwrap(), content);
}

fn no_new_trash(c: &Ctx, before: &[OsString], why: &str) {
    if c.gallery() {
        assert_eq!(
            c.trash_entries(),
            before,
            "{why}: the trash must not change"
        );
    }
}

#[test]
fn rename_files() {
    differential("rename_files", |c| {
        fs::write(c.p("a"), b"A").unwrap();
        fs::write(c.p("b"), b"B").unwrap();
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        // To a new name in another directory: both directories and the file change.
        let (dot, d, a) = (c.times("."), c.times("d"), c.times("a"));
        c.tick();
        c.rec("rename a -> d/a", sys::rename(&c.p("a"), &c.p("d/a")));
        c.changed(".", dot);
        c.changed("d", d);
        c.changed_mc("d/a", a);
        c.stat("d/a");
        c.stat("a");
        // Over an existing file.
        let trash = c.trash_entries();
        let (d, b) = (c.times("d"), c.times("b"));
        c.tick();
        c.rec(
            "rename b -> d/a (exists)",
            sys::rename(&c.p("b"), &c.p("d/a")),
        );
        replaced_goes_to_trash(c, &trash, "d/a", b"A");
        c.changed("d", d);
        c.changed_mc("d/a", b);
        c.content("d/a");
        c.stat("d/a");
        c.list(".");
        c.list("d");
        // Onto itself, and onto another name of the same inode: nothing happens.
        let trash = c.trash_entries();
        c.rec("rename d/a -> d/a", sys::rename(&c.p("d/a"), &c.p("d/a")));
        c.rec("link d/a d/h", sys::link(&c.p("d/a"), &c.p("d/h")));
        c.rec(
            "rename d/a -> d/h (same inode)",
            sys::rename(&c.p("d/a"), &c.p("d/h")),
        );
        c.list("d");
        c.stat("d/a");
        // Over a name whose inode has another link: the data survives there.
        fs::write(c.p("x"), b"X").unwrap();
        c.rec(
            "rename x -> d/h (nlink 2)",
            sys::rename(&c.p("x"), &c.p("d/h")),
        );
        no_new_trash(c, &trash, "the replaced inode keeps its other name");
        c.stat("d/a");
        c.content("d/a");
        c.content("d/h");
        // Errors.
        c.rec(
            "rename missing -> y",
            sys::rename(&c.p("missing"), &c.p("y")),
        );
        c.rec(
            "rename d/a -> nodir/a",
            sys::rename(&c.p("d/a"), &c.p("nodir/a")),
        );
        c.rec(
            "rename d/a -> d/a/x",
            sys::rename(&c.p("d/a"), &c.p("d/a/x")),
        );
        c.rec(
            "rename d/a -> d (a dir)",
            sys::rename(&c.p("d/a"), &c.p("d")),
        );
        c.rec(
            "rename d/a -> d/ (trailing slash)",
            sys::rename(&c.p("d/a"), &c.p("z/")),
        );
        c.rec(
            "rename d/a -> 256-byte name",
            sys::rename(&c.p("d/a"), &c.p(&"n".repeat(256))),
        );
        no_new_trash(c, &trash, "failed renames");
        c.list("d");
    });
}

#[test]
fn rename_noreplace() {
    differential("noreplace", |c| {
        fs::write(c.p("a"), b"A").unwrap();
        fs::write(c.p("b"), b"B").unwrap();
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        let trash = c.trash_entries();
        c.rec(
            "renameat2 a -> b NOREPLACE",
            sys::rename2(&c.p("a"), &c.p("b"), NOREPLACE),
        );
        c.rec(
            "renameat2 a -> d NOREPLACE",
            sys::rename2(&c.p("a"), &c.p("d"), NOREPLACE),
        );
        no_new_trash(c, &trash, "RENAME_NOREPLACE over an existing name fails");
        c.content("a");
        c.content("b");
        c.rec(
            "renameat2 a -> c NOREPLACE",
            sys::rename2(&c.p("a"), &c.p("c"), NOREPLACE),
        );
        c.rec(
            "renameat2 d -> e NOREPLACE (dir)",
            sys::rename2(&c.p("d"), &c.p("e"), NOREPLACE),
        );
        c.rec(
            "renameat2 NOREPLACE|EXCHANGE",
            sys::rename2(&c.p("b"), &c.p("c"), NOREPLACE | EXCHANGE),
        );
        c.rec(
            "renameat2 unknown flag",
            sys::rename2(&c.p("b"), &c.p("f"), 1 << 10),
        );
        c.list(".");
    });
}

/// RENAME_WHITEOUT (issue 16; overlayfs upper layers use it): the source
/// becomes a whiteout, a 0/0 character device, as on ext4; a file it
/// replaces goes to the trash. Into or out of the trash it is EINVAL.
#[test]
fn rename_whiteout() {
    let got = differential("whiteout", |c| {
        fs::write(c.p("a"), b"A").unwrap();
        fs::write(c.p("b"), b"B").unwrap();
        fs::write(c.p("x"), b"X").unwrap();
        let trash = c.trash_entries();
        c.rec(
            "renameat2 a -> b WHITEOUT",
            sys::rename2(&c.p("a"), &c.p("b"), WHITEOUT),
        );
        replaced_goes_to_trash(c, &trash, "b", b"B");
        c.content("b");
        if let Some(st) = c.stat("a") {
            assert_eq!(st.st_rdev, 0, "a whiteout is device 0/0");
        }
        let trash = c.trash_entries();
        c.rec(
            "renameat2 x -> y WHITEOUT (a new name)",
            sys::rename2(&c.p("x"), &c.p("y"), WHITEOUT),
        );
        no_new_trash(
            c,
            &trash,
            "a whiteout rename to a new name replaces nothing",
        );
        c.stat("x");
        c.content("y");
        c.rec(
            "renameat2 WHITEOUT|EXCHANGE",
            sys::rename2(&c.p("b"), &c.p("y"), WHITEOUT | EXCHANGE),
        );
        c.list(".");
    });
    assert!(
        got.iter()
            .any(|l| l.starts_with("stat a:") && l.contains("chardev")),
        "the whiteout is a character device: {got:?}"
    );
}

#[test]
fn whiteout_into_or_out_of_the_trash_is_einval() {
    let m = galleryfs_testkit::Mount::new();
    fs::write(m.gallery().join("f"), b"f").unwrap();
    fs::write(m.gallery().join("t"), b"t").unwrap();
    fs::remove_file(m.gallery().join("t")).unwrap();
    assert_eq!(
        sys::rename2(&m.gallery().join("f"), &m.trash().join("f"), WHITEOUT),
        Err(libc::EINVAL)
    );
    assert_eq!(
        sys::rename2(&m.trash().join("t"), &m.gallery().join("t"), WHITEOUT),
        Err(libc::EINVAL)
    );
    assert_eq!(fs::read(m.gallery().join("f")).unwrap(), b"f");
    assert_eq!(m.trash_names(), ["t"]);
}

#[test]
fn rename_exchange() {
    differential("exchange", |c| {
        fs::write(c.p("a"), b"A").unwrap();
        fs::write(c.p("b"), b"BB").unwrap();
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        c.rec("mkdir d/sub", sys::mkdir(&c.p("d/sub"), 0o700));
        fs::write(c.p("d/inner"), b"I").unwrap();
        let trash = c.trash_entries();
        let (a, b, dot) = (c.times("a"), c.times("b"), c.times("."));
        c.tick();
        c.rec(
            "exchange a <-> b",
            sys::rename2(&c.p("a"), &c.p("b"), EXCHANGE),
        );
        c.content("a");
        c.content("b");
        // The inode once at a is now at b.
        c.changed_mc("b", a);
        c.changed_mc("a", b);
        c.changed(".", dot);
        // A file and a directory, across directories: the link counts of
        // both parents follow the directory.
        c.stat(".");
        c.stat("d");
        c.rec(
            "exchange a <-> d/sub",
            sys::rename2(&c.p("a"), &c.p("d/sub"), EXCHANGE),
        );
        c.stat("a");
        c.stat("d/sub");
        c.stat(".");
        c.stat("d");
        c.content("d/sub");
        c.rec(
            "exchange d <-> a (a dir now)",
            sys::rename2(&c.p("d"), &c.p("a"), EXCHANGE),
        );
        c.list(".");
        c.list("a");
        c.list("d");
        // Errors: a missing side, a directory into itself.
        c.rec(
            "exchange b <-> missing",
            sys::rename2(&c.p("b"), &c.p("missing"), EXCHANGE),
        );
        c.rec(
            "exchange a <-> a/sub",
            sys::rename2(&c.p("a"), &c.p("a/sub"), EXCHANGE),
        );
        c.rec(
            "exchange b <-> b",
            sys::rename2(&c.p("b"), &c.p("b"), EXCHANGE),
        );
        no_new_trash(c, &trash, "an exchange replaces nothing");
        c.content("b");
    });
}

#[test]
fn rename_directories() {
    differential("rename_dirs", |c| {
        for d in ["src", "src/child", "empty", "full", "other"] {
            c.rec(&format!("mkdir {d}"), sys::mkdir(&c.p(d), 0o755));
        }
        fs::write(c.p("full/f"), b"F").unwrap();
        fs::write(c.p("file"), b"x").unwrap();
        let trash = c.trash_entries();
        c.stat(".");
        // Over an empty directory: it is replaced (an empty directory holds nothing).
        let (dot, src) = (c.times("."), c.times("src"));
        c.tick();
        c.rec(
            "rename src -> empty",
            sys::rename(&c.p("src"), &c.p("empty")),
        );
        c.changed(".", dot);
        c.changed_mc("empty", src);
        c.stat(".");
        c.stat("empty");
        c.list("empty");
        // Over a non-empty directory, a file over a directory, a directory over a file.
        c.rec(
            "rename empty -> full",
            sys::rename(&c.p("empty"), &c.p("full")),
        );
        c.rec(
            "rename file -> full",
            sys::rename(&c.p("file"), &c.p("full")),
        );
        c.rec(
            "rename full -> file",
            sys::rename(&c.p("full"), &c.p("file")),
        );
        // Into its own subdirectory, and '.'/'..'.
        c.rec(
            "rename empty -> empty/child/x",
            sys::rename(&c.p("empty"), &c.p("empty/child/x")),
        );
        c.rec("rename . -> y", sys::rename(&c.p("."), &c.p("y")));
        c.rec(
            "rename empty/.. -> y",
            sys::rename(&c.p("empty/.."), &c.p("y")),
        );
        // Across directories: '..' follows, link counts of both parents change.
        c.stat("other");
        let (other, empty) = (c.times("other"), c.times("empty"));
        c.tick();
        c.rec(
            "rename empty -> other/moved",
            sys::rename(&c.p("empty"), &c.p("other/moved")),
        );
        c.changed("other", other);
        // Linux updates the ctime of a moved directory (its '..' changed).
        c.changed_mc("other/moved", empty);
        c.stat(".");
        c.stat("other");
        c.stat("other/moved/..");
        c.rec(
            "mkdir other/moved/child/new",
            sys::mkdir(&c.p("other/moved/child/new"), 0o755),
        );
        no_new_trash(c, &trash, "directories replaced by a rename are empty");
        c.list(".");
        c.list("other/moved/child");
        // rmdir of a replaced-then-recreated name works (fresh inode).
        c.rec(
            "rmdir other/moved/child/new",
            sys::rmdir(&c.p("other/moved/child/new")),
        );
        c.rec("rmdir full", sys::rmdir(&c.p("full")));
        c.rec("rmdir .", sys::rmdir(&c.p("other/.")));
        c.rec("rmdir file", sys::rmdir(&c.p("file")));
        c.rec("unlink other", sys::unlink(&c.p("other")));
    });
}

#[test]
fn rename_symlinks_and_specials() {
    differential("rename_specials", |c| {
        fs::write(c.p("f"), b"F").unwrap();
        c.rec("symlink l -> f", sys::symlink("f", &c.p("l")));
        c.rec("mkfifo p", sys::mkfifo(&c.p("p"), 0o600));
        let trash = c.trash_entries();
        // A symlink is renamed, not its target.
        c.rec("rename l -> l2", sys::rename(&c.p("l"), &c.p("l2")));
        c.rec("readlink l2", sys::readlink(&c.p("l2")));
        // A FIFO over a symlink: the symlink is replaced.
        c.rec("rename p -> l2", sys::rename(&c.p("p"), &c.p("l2")));
        c.stat("l2");
        c.list(".");
        if c.gallery() {
            // The replaced symlink is a trash entry like any replaced file.
            let after = c.trash_entries();
            assert_eq!(after.len(), trash.len() + 1, "{after:?}");
        }
    });
}
