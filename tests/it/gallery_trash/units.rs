//! Durations and sizes as people type them (`2 weeks`, `30days`, `1w`,
//! `1.5G`, `16 MiB`), read by the same parser in the mount options and in
//! gallery-trash, and refused alike with a message saying what is expected.

use galleryfs_testkit::galleryfs_bin;

use super::*;

const MIB: u64 = 1 << 20;

#[test]
fn the_mount_takes_durations_and_sizes_as_people_type_them() {
    let m = Mount::with_options(&[
        "retention=2 weeks,sweep=12hours,min_retention=1 day",
        "max_trash=1.5G,quota=16 MiB",
    ]);
    trash_file(&m, "a.jpg", b"a");
    let list = gallery_trash(&m.mountpoint).args(["list", "--json"]).show();
    let items = parse_json(&list.succeeded().out);
    assert_eq!(
        by_name(&items, "a.jpg")["days_left"],
        14,
        "retention=2 weeks"
    );
    let table = gallery_trash(&m.mountpoint).arg("list").show();
    assert!(
        table.succeeded().out.contains(" of a 1.5 GiB cap"),
        "max_trash=1.5G:\n{}",
        table.out
    );
    let size = sh(&m.mountpoint, "df -B1 --output=size . | tail -n 1");
    assert_eq!(
        size.trim().parse::<u64>().unwrap(),
        16 * MIB,
        "quota=16 MiB"
    );
}

#[test]
fn the_mount_refuses_what_is_no_duration_or_size() {
    let base = tempfile::tempdir().unwrap();
    let (storage, mnt) = (base.path().join("store"), base.path().join("mnt"));
    fs::create_dir(&mnt).unwrap();
    for (option, message) in [
        (
            "retention=soon",
            "galleryfs: invalid duration 'soon' for retention (expected a positive duration \
             such as 90s, 12h, 12 hours, 30d, 30days, 1w or 1h30m)",
        ),
        (
            "retention=30",
            "galleryfs: invalid duration '30' for retention (expected a positive duration \
             such as 90s, 12h, 12 hours, 30d, 30days, 1w or 1h30m)",
        ),
        (
            "quota=10XB",
            "galleryfs: invalid size '10XB' for quota (expected a positive size: bytes, or a \
             number followed by K, M, G or T (powers of 1024, also written KB, KiB, ...), e.g. \
             500G, 10GB, 1.5G, 10 GiB)",
        ),
    ] {
        let out = Command::new(galleryfs_bin())
            .arg(&storage)
            .arg(&mnt)
            .args(["-o", option])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{option}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), message);
        assert!(!storage.exists(), "nothing created for {option}");
    }
}

#[test]
fn gallery_trash_takes_the_same_durations() {
    let m = Mount::new();
    trash_file(&m, "a.jpg", b"a");
    for form in ["30days", "1w", "12 hours", "2h30m", "1.5h"] {
        let shown = gallery_trash(&m.mountpoint)
            .args(["empty", "--older-than", form])
            .show();
        assert_eq!(
            shown.succeeded().out,
            format!("Nothing in the trash was deleted more than {form} ago.\n")
        );
    }
    let bad = gallery_trash(&m.mountpoint)
        .args(["empty", "--older-than", "30"])
        .show();
    bad.failed_with(2);
    assert!(
        bad.err.contains(
            "invalid value '30' for '--older-than <DURATION>': missing unit (expected a \
             positive duration such as 90s, 12h, 12 hours, 30d, 30days, 1w or 1h30m)"
        ),
        "{bad:#?}"
    );
    assert_eq!(m.trash_os_names(), ["a.jpg"]);
}
