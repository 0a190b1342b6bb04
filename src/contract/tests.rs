//! Every codec of the contract: round trips, odd bytes, the exact spellings clients parse.

use super::*;
use std::path::Path;

fn at(text: &str) -> DateTime<Utc> {
    parse_time(text.as_bytes()).unwrap()
}

#[test]
fn names_agree_with_each_other() {
    assert_eq!(FSTYPE, format!("fuse.{SUBTYPE}"));
    for name in ENTRY_XATTRS.iter().chain(&TRASH_DIR_XATTRS) {
        assert!(name.starts_with(XATTR_PREFIX), "{name}");
    }
    assert_eq!(
        ENTRY_XATTRS,
        [
            "user.trash.original_path",
            "user.trash.deleted_at",
            "user.trash.expires_at",
            "user.trash.days_left",
            "user.trash.reason"
        ]
    );
    assert_eq!(
        TRASH_DIR_XATTRS,
        [
            "user.trash.total_size",
            "user.trash.max_size",
            "user.trash.purging_for_space"
        ]
    );
    assert_eq!(
        (XATTR_DELETED_BY, XATTR_LITTER),
        ("user.trash.deleted_by", "user.trash.litter")
    );
    assert_eq!((GALLERY, TRASH), ("gallery", ".trash"));
}

#[test]
fn times_are_rfc3339_utc_whole_seconds() {
    assert_eq!(rfc3339(1_764_190_000), "2025-11-26T20:46:40Z");
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    // Out of chrono's range: the epoch rather than a panic.
    assert_eq!(rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    let fraction = at("2026-11-26T22:03:46.7+01:00");
    assert_eq!(format_time(fraction), "2026-11-26T21:03:46Z");
}

#[test]
fn times_round_trip() {
    for secs in [0, 1, 1_764_190_000, -86_400, 253_402_300_799] {
        let text = rfc3339(secs);
        assert_eq!(parse_time(text.as_bytes()).unwrap().timestamp(), secs);
    }
}

#[test]
fn times_parse_leniently_but_not_garbage() {
    assert_eq!(
        parse_time(b"2026-11-26T22:03:46+01:00"),
        Some(at("2026-11-26T21:03:46Z"))
    );
    assert_eq!(
        parse_time(b" 2026-11-26T21:03:46Z\n"),
        Some(at("2026-11-26T21:03:46Z"))
    );
    assert_eq!(parse_time(b"yesterday"), None);
    assert_eq!(parse_time(b"\xff"), None);
    assert_eq!(parse_time(b""), None);
}

#[test]
fn days_left_rounds_up_and_never_shows_zero() {
    let now = 1_000_000_000;
    let day = SECS_PER_DAY;
    assert_eq!(days_left(now + 30 * day, now), 30);
    assert_eq!(days_left(now + 30 * day - 1, now), 30);
    assert_eq!(days_left(now + 30 * day + 1, now), 31);
    assert_eq!(days_left(now + 4, now), 1);
    assert_eq!(days_left(now, now), 1);
    assert_eq!(days_left(now - 5 * day, now), 1);
    // Extremes saturate instead of overflowing.
    assert_eq!(days_left(i64::MAX, i64::MIN), i64::MAX / day);
    assert_eq!(days_left(i64::MIN, i64::MAX), 1);
}

#[test]
fn days_round_trip() {
    for days in [1, 7, 30, 365, i64::MAX] {
        assert_eq!(parse_days(format_days(days).as_bytes()), Some(days));
    }
    assert_eq!(format_days(30), "30d");
    assert_eq!(parse_days(b"27d\n"), Some(27));
    assert_eq!(parse_days(b"27"), None);
    assert_eq!(parse_days(b"d"), None);
    assert_eq!(parse_days(b"1.5d"), None);
    assert_eq!(parse_days(b"\xffd"), None);
}

#[test]
fn trash_values_round_trip() {
    for bytes in [0, 1536, u64::MAX] {
        assert_eq!(parse_bytes(format_bytes(bytes).as_bytes()), Some(bytes));
    }
    assert_eq!(parse_bytes(b" 42\n"), Some(42));
    assert_eq!(parse_bytes(b"-1"), None);
    assert_eq!(parse_bytes(b"1 KiB"), None);
    for on in [true, false] {
        assert_eq!(parse_flag(format_flag(on).as_bytes()), Some(on));
    }
    assert_eq!(parse_flag(b"Yes"), None);
    assert_eq!(parse_flag(b""), None);
}

#[test]
fn human_sizes_below_a_kibibyte_are_exact() {
    for f in [human_size, human_size_pib] {
        assert_eq!(f(0), "0 B");
        assert_eq!(f(512), "512 B");
        assert_eq!(f(1023), "1023 B");
    }
}

#[test]
fn human_sizes_have_one_decimal() {
    assert_eq!(human_size(1024), "1.0 KiB");
    assert_eq!(human_size(1536), "1.5 KiB");
    assert_eq!(human_size(3 * 1024 * 1024 + 200 * 1024), "3.2 MiB");
    assert_eq!(human_size(1536 * 1024), "1.5 MiB");
    assert_eq!(human_size(8 << 20), "8.0 MiB");
    assert_eq!(human_size(10 * 1024 * 1024 * 1024), "10.0 GiB");
    assert_eq!(human_size(u64::MAX), "16.0 EiB");
}

#[test]
fn human_sizes_never_show_1024_of_a_unit() {
    assert_eq!(human_size(1024 * 1024 - 1), "1.0 MiB");
    assert_eq!(human_size(1024 * 1024 - 60), "1023.9 KiB");
    assert_eq!(human_size(1024 * 1024 - 50), "1.0 MiB");
    assert_eq!(human_size(1023 * 1024), "1023.0 KiB");
}

#[test]
fn the_daemon_sizes_differ_only_from_an_exbibyte_up() {
    for bytes in [0, 1023, 1024, 1536, 5 << 20, 16 << 30, 3 << 40, 1023 << 50] {
        assert_eq!(human_size_pib(bytes), human_size(bytes), "{bytes}");
    }
    assert_eq!(human_size_pib(1 << 60), "1024.0 PiB");
    assert_eq!(human_size(1 << 60), "1.0 EiB");
    assert_eq!(human_size_pib(u64::MAX), "16384.0 PiB");
}

#[test]
fn mountinfo_escapes_what_proc5_says() {
    assert_eq!(mountinfo_escape(b" \t\n\\"), b"\\040\\011\\012\\134");
    assert_eq!(
        mountinfo_escape(b"/mnt/odd name\ttab\nnl\\x"),
        b"/mnt/odd\\040name\\011tab\\012nl\\134x"
    );
    // Other bytes, odd or not UTF-8, are the kernel's to pass through.
    assert_eq!(mountinfo_escape(b"/mnt/\xff\x01#,="), b"/mnt/\xff\x01#,=");
    assert_eq!(mountinfo_unescape(b"/mnt/a\\040b"), b"/mnt/a b");
    assert_eq!(mountinfo_unescape(b"\\011\\012\\134"), b"\t\n\\");
    // Escapes of other characters (`#` in some fields) decode too.
    assert_eq!(mountinfo_unescape(b"a\\043b"), b"a#b");
}

#[test]
fn mountinfo_round_trips_every_byte() {
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(mountinfo_unescape(&mountinfo_escape(&all)), all);
    let escaped = mountinfo_escape(&all);
    assert!(!escaped.iter().any(|b| b" \t\n".contains(b)));
    for odd in [&b""[..], b"\\", b"\\\\040", b"\\040", b"a\\"] {
        assert_eq!(mountinfo_unescape(&mountinfo_escape(odd)), odd);
    }
}

#[test]
fn mountinfo_leaves_malformed_escapes_alone() {
    assert_eq!(mountinfo_unescape(b"a\\09"), b"a\\09");
    assert_eq!(mountinfo_unescape(b"end\\"), b"end\\");
    assert_eq!(mountinfo_unescape(b"\\777"), b"\\777");
    assert_eq!(mountinfo_unescape(b"\\12"), b"\\12");
    assert_eq!(mountinfo_unescape(b"\\400"), b"\\400");
    assert_eq!(mountinfo_unescape(b"\\377"), b"\xff");
}

const SAMPLE: &[u8] = b"\
22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 25 0:40 / /home/ann/Gallery rw,nosuid,nodev,relatime shared:30 master:2 - fuse.galleryfs /srv/my\\040store rw,user_id=0,group_id=0
42 25 0:42 / /mnt/with\\040space\\011tab\\012nl\\134back rw - fuse.galleryfs store2 rw
43 25 0:40 /gallery/albums /home/ann/Albums rw - fuse.galleryfs /srv/store rw
";

#[test]
fn mountinfo_lines_parse_with_or_without_optional_fields() {
    let m = parse_mountinfo(SAMPLE);
    assert_eq!(m.len(), 5);
    assert_eq!(m[0].fstype, b"proc");
    assert!(!m[1].is_galleryfs());
    assert_eq!(m[2].dev, b"0:40");
    assert_eq!(m[2].root, Path::new("/"));
    assert_eq!(m[2].mount_point, Path::new("/home/ann/Gallery"));
    assert_eq!(m[2].source, b"/srv/my store");
    assert!(m[2].is_galleryfs());
    assert_eq!(
        m[3].mount_point,
        Path::new("/mnt/with space\ttab\nnl\\back")
    );
    assert_eq!(m[4].root, Path::new("/gallery/albums"));
}

#[test]
fn mountinfo_lines_round_trip_odd_mount_points() {
    use std::os::unix::ffi::OsStrExt;
    for point in [
        &b"/mnt/plain"[..],
        b"/mnt/a b",
        b"/mnt/\t\n\\ -",
        b"/mnt/\xff\xfe",
    ] {
        let line = [
            &b"50 25 0:50 / "[..],
            &mountinfo_escape(point),
            b" rw - fuse.galleryfs s rw",
        ]
        .concat();
        let m = parse_mountinfo_line(&line).unwrap();
        assert_eq!(m.mount_point.as_os_str().as_bytes(), point);
        assert!(m.is_galleryfs());
    }
}

#[test]
fn malformed_mountinfo_lines_are_skipped() {
    assert!(parse_mountinfo(b"garbage\n\n1 2 3\n").is_empty());
    // No separator, or nothing after it.
    assert_eq!(parse_mountinfo_line(b"1 2 0:1 / /x rw shared:1"), None);
    assert_eq!(parse_mountinfo_line(b"1 2 0:1 / /x rw -"), None);
    // A `-` among the fixed fields is not the separator.
    assert_eq!(parse_mountinfo_line(b"1 2 0:1 / - rw"), None);
    let no_source = parse_mountinfo_line(b"1 2 0:1 / /x rw - ext4").unwrap();
    assert_eq!(no_source.source, b"");
}

#[test]
fn this_process_has_mounts() {
    let mounts = read_mountinfo().unwrap();
    assert!(mounts.iter().any(|m| m.mount_point == Path::new("/")));
}

#[test]
fn top_dir_names_round_trip() {
    for uid in [0, 1000, 65534, u32::MAX] {
        assert_eq!(top_dir_uid(top_dir_name(uid).as_bytes()), Some(uid));
    }
    assert_eq!(top_dir_name(1000), ".Trash-1000");
    assert_eq!(top_dir_uid(b".Trash-"), None);
    assert_eq!(top_dir_uid(b".Trash-1x"), None);
    assert_eq!(top_dir_uid(b".Trash"), None);
    assert_eq!(top_dir_uid(b".Trash--1"), None);
    assert_eq!(top_dir_uid(b".Trash-+1"), None);
    assert_eq!(top_dir_uid(b".Trash-4294967296"), None);
    assert_eq!(top_dir_uid(b".Trash-99999999999"), None);
    assert_eq!(top_dir_uid(b".Trash-\xff"), None);
}

#[test]
fn info_names_round_trip() {
    assert_eq!(info_name(b"cat.jpg"), b"cat.jpg.trashinfo");
    for entry in [&b"cat.jpg"[..], b"a.trashinfo", b"\xff\n"] {
        assert_eq!(entry_of_info(&info_name(entry)), Some(entry));
    }
    assert_eq!(entry_of_info(b".trashinfo"), None);
    assert_eq!(entry_of_info(b"cat.jpg.trashinfo.ABC123"), None);
    assert_eq!(entry_of_info(b"cat.jpg"), None);
}

#[test]
fn percent_encoding_is_what_trash_cli_parses() {
    assert_eq!(
        percent_encode(b"albums/cat photo.jpg"),
        "albums/cat%20photo.jpg"
    );
    assert_eq!(percent_encode("é%&".as_bytes()), "%C3%A9%25%26");
    assert_eq!(percent_encode(b"a-b._~/\n\xff"), "a-b._~/%0A%FF");
}

#[test]
fn percent_encoding_round_trips_every_byte() {
    let all: Vec<u8> = (0..=255).collect();
    let encoded = percent_encode(&all);
    assert!(encoded.is_ascii());
    assert_eq!(percent_decode(encoded.as_bytes()), Some(all));
    assert_eq!(percent_decode(b"caf%c3%a9"), Some("café".into()));
    assert_eq!(percent_decode(b"plain/path"), Some(b"plain/path".to_vec()));
}

#[test]
fn malformed_percent_escapes_are_refused() {
    for bad in [&b"%"[..], b"a%2", b"%zz", b"%+1", b"%\xff\xff"] {
        assert_eq!(percent_decode(bad), None, "{bad:?}");
    }
}

#[test]
fn trashinfo_is_what_trash_cli_parses() {
    let text = String::from_utf8(trashinfo(b"a b/c.jpg", 1_764_190_000)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], "[Trash Info]");
    assert_eq!(lines[1], "Path=gallery/a%20b/c.jpg");
    let date = lines[2].strip_prefix("DeletionDate=").unwrap();
    assert_eq!(date, deletion_date(1_764_190_000));
    assert!(parse_deletion_date(date).is_some(), "{date}");
    assert_eq!(date.len(), 19);
    assert!(text.ends_with('\n'));
}

#[test]
fn deletion_dates_are_local_time() {
    let secs = 1_764_190_000;
    let local = Local.timestamp_opt(secs, 0).single().unwrap();
    assert_eq!(
        parse_deletion_date(&deletion_date(secs)),
        Some(local.naive_local())
    );
    assert_eq!(deletion_date(i64::MAX), "");
    assert_eq!(parse_deletion_date("2026-11-26T21:03:46Z"), None);
    assert_eq!(parse_deletion_date("2026-11-26 21:03:46"), None);
}

#[test]
fn trashinfo_round_trips_odd_paths() {
    for original in [
        &b"cat.jpg"[..],
        b"a b/c%d.jpg",
        b"caf\xe9/\n\t\\",
        b"x/[Trash Info]",
    ] {
        let info = parse_trashinfo(&trashinfo(original, 1_764_190_000)).unwrap();
        assert_eq!(info.original_path(), Some(original));
        assert_eq!(info.path, [b"gallery/", original].concat());
        assert_eq!(
            info.deletion_date,
            parse_deletion_date(&deletion_date(1_764_190_000))
        );
    }
}

#[test]
fn trashinfo_written_by_clients_parses() {
    let gio = b"[Trash Info]\nPath=gallery/free.jpg\nDeletionDate=2000-01-01T00:00:00\n";
    let info = parse_trashinfo(gio).unwrap();
    assert_eq!(info.original_path(), Some(&b"free.jpg"[..]));
    assert_eq!(
        info.deletion_date,
        parse_deletion_date("2000-01-01T00:00:00")
    );
    let odd = b"# comment\r\n[Trash Info]\r\nDeletionDate=bad\r\nX=1\r\nPath=/home/ann/x%20y\r\nPath=second\r\n[Other]\r\nPath=other\r\n";
    let info = parse_trashinfo(odd).unwrap();
    assert_eq!(info.path, b"/home/ann/x y");
    assert_eq!(info.original_path(), None);
    assert_eq!(info.deletion_date, None);
}

#[test]
fn trashinfo_without_group_or_path_is_refused() {
    assert_eq!(
        parse_trashinfo(b"Path=a\nDeletionDate=2000-01-01T00:00:00\n"),
        None
    );
    assert_eq!(
        parse_trashinfo(b"[Trash Info]\nDeletionDate=2000-01-01T00:00:00\n"),
        None
    );
    assert_eq!(parse_trashinfo(b"[Trash Info]\nPath=\n"), None);
    assert_eq!(parse_trashinfo(b"[Trash Info]\nPath=%zz\n"), None);
    assert_eq!(parse_trashinfo(b"[Other]\nPath=a\n"), None);
    assert_eq!(parse_trashinfo(b""), None);
}

#[test]
fn gallery_paths_need_something_after_the_directory() {
    let info = |path: &[u8]| TrashInfo {
        path: path.to_vec(),
        deletion_date: None,
    };
    assert_eq!(info(b"gallery/").original_path(), None);
    assert_eq!(info(b"gallery").original_path(), None);
    assert_eq!(info(b"galleryx/a").original_path(), None);
    assert_eq!(info(b"gallery/a/b").original_path(), Some(&b"a/b"[..]));
}

#[test]
fn reasons_round_trip_and_nothing_else_parses() {
    for reason in Reason::ALL {
        assert_eq!(Reason::parse(reason.as_str().as_bytes()), Some(reason));
    }
    assert_eq!(Reason::parse(b" overwritten\n"), Some(Reason::Overwritten));
    assert_eq!(Reason::parse(b"Deleted"), None);
    assert_eq!(Reason::parse(b""), None);
}

#[test]
fn deleters_round_trip() {
    assert_eq!(format_deleter(4242, 123_456), "4242:123456");
    assert_eq!(parse_deleter(b"4242:123456\n"), Some((4242, 123_456)));
    assert_eq!(parse_deleter(b"4242"), None);
    assert_eq!(parse_deleter(b"x:1"), None);
}
