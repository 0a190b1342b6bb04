//! Litter on a real mount: which entries carry `user.trash.litter`, what
//! the options change, and that the desktop view leaves litter out (its
//! info file still opens by name). gallery-trash's side is in
//! `gallery_trash::litter`.

use std::fs;
use std::path::Path;

use galleryfs_testkit::Mount;
use galleryfs_testkit::fsutil::sorted_names;
use galleryfs_testkit::xattr;

const LITTER: &str = "user.trash.litter";

fn trash(m: &Mount, name: &str, content: &[u8]) {
    let path = m.gallery().join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, content).unwrap();
    fs::remove_file(&path).unwrap();
}

fn litter(entry: &Path) -> Option<Vec<u8>> {
    xattr::get_opt(entry, LITTER)
}

#[test]
fn litter_entries_say_so_and_others_do_not() {
    let m = Mount::new();
    for (name, content) in [
        (".notes.txt.swp", &b"swap"[..]),
        ("notes.txt~", b"old"),
        ("#notes.txt#", b"autosave"),
        (".~lock.report.odt#", b"lock"),
        ("~$report.docx", b"owner"),
        ("film.mkv.part", b"half"),
        ("repo/.git/index", b"index"),
        ("empty.jpg", b""),
        ("cat.jpg", b"cat"),
        ("repo/.gitignore", b"target"),
    ] {
        trash(&m, name, content);
    }
    for name in sorted_names(&m.trash()) {
        let entry = m.trash().join(&name);
        let listed = xattr::names(&entry).contains(LITTER);
        match name.as_str() {
            "cat.jpg" | ".gitignore" => {
                assert_eq!(litter(&entry), None, "{name}");
                assert!(!listed, "{name}");
            }
            _ => {
                assert_eq!(litter(&entry).as_deref(), Some(&b"yes"[..]), "{name}");
                assert!(listed, "{name}");
            }
        }
    }
    // Expiry comes with the shorter retention: within the hour.
    let days = xattr::get_string(&m.trash().join("notes.txt~"), "user.trash.days_left");
    assert_eq!(days, "1d");
    let deleted = xattr::get_string(&m.trash().join("index"), "user.trash.deleted_at");
    let expires = xattr::get_string(&m.trash().join("index"), "user.trash.expires_at");
    let secs = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp();
    assert_eq!(secs(&expires) - secs(&deleted), 3600);

    // A file moved into the trash is meant: never litter.
    fs::write(m.gallery().join("draft~"), "d").unwrap();
    fs::rename(m.gallery().join("draft~"), m.trash().join("draft~")).unwrap();
    assert_eq!(litter(&m.trash().join("draft~")), None);
}

#[test]
fn the_desktop_view_leaves_litter_out() {
    let m = Mount::new();
    trash(&m, "photo.jpg", b"photo");
    trash(&m, ".photo.jpg.swp", b"swap");
    trash(&m, "empty", b"");
    let top = m.mountpoint.join(".Trash-0");
    assert_eq!(sorted_names(&top.join("files")), ["photo.jpg"]);
    assert_eq!(sorted_names(&top.join("info")), ["photo.jpg.trashinfo"]);
    assert!(fs::symlink_metadata(top.join("files/.photo.jpg.swp")).is_err());
    assert_eq!(
        sorted_names(&m.trash()),
        [".photo.jpg.swp", "empty", "photo.jpg"]
    );
    // Asked for by name, its info file answers, with the entry's facts.
    let info = top.join("info/.photo.jpg.swp.trashinfo");
    assert!(
        fs::read_to_string(&info)
            .unwrap()
            .contains("Path=gallery/.photo.jpg.swp\n")
    );
    assert_eq!(litter(&info).as_deref(), Some(&b"yes"[..]));
    assert_eq!(
        xattr::get_opt(
            &top.join("info/photo.jpg.trashinfo"),
            "user.trash.original_path"
        )
        .as_deref(),
        Some(&b"photo.jpg"[..])
    );
}

#[test]
fn options_choose_what_is_litter() {
    let mut m = Mount::with_options(&["litter_pattern=*.tmp", "litter_pattern=core.[0-9]*"]);
    trash(&m, "render.tmp", b"t");
    trash(&m, "core.4242", b"c");
    trash(&m, ".x.swp", b"s");
    trash(&m, "core", b"c");
    for name in ["render.tmp", "core.4242", ".x.swp"] {
        assert!(litter(&m.trash().join(name)).is_some(), "{name}");
    }
    assert_eq!(litter(&m.trash().join("core")), None);

    // With litter off, nothing is litter, not even what was marked before.
    m.options = vec!["litter=off".into()];
    m.remount();
    trash(&m, "y~", b"y");
    trash(&m, "blank", b"");
    for name in sorted_names(&m.trash()) {
        let entry = m.trash().join(&name);
        assert_eq!(litter(&entry), None, "{name}");
        assert_eq!(
            xattr::get_string(&entry, "user.trash.days_left"),
            "30d",
            "{name}"
        );
    }
    assert_eq!(sorted_names(&m.mountpoint.join(".Trash-0/files")).len(), 6);
}
