//! When an overwrite is kept, and how a kept one comes back.

use super::*;
use std::os::unix::fs::FileExt;
use std::time::{Duration, SystemTime};

#[test]
fn a_burst_of_saves_keeps_the_content_from_before_the_burst() {
    let m = Mount::new();
    let g = m.gallery();
    write(&g.join("draft.txt"), b"original");
    sh(&g, "echo save1 > draft.txt");
    sh(&g, "echo save2 > draft.txt");
    assert_kept(
        &m,
        "draft.txt",
        b"original",
        b"save2\n",
        "two saves within 5m",
    );

    let every = Mount::with_options(&["overwrite_interval=0"]);
    let g = every.gallery();
    write(&g.join("draft.txt"), b"original");
    sh(&g, "echo save1 > draft.txt");
    sh(&g, "echo save2 > draft.txt");
    let contents: Vec<Vec<u8>> = kept(&every, "draft.txt").into_iter().map(|e| e.1).collect();
    assert_eq!(contents.len(), 2, "overwrite_interval=0 keeps every one");
    assert!(contents.contains(&b"original".to_vec()) && contents.contains(&b"save1\n".to_vec()));

    let off = Mount::with_options(&["overwrite=off"]);
    let g = off.gallery();
    write(&g.join("draft.txt"), b"original");
    sh(&g, "echo save1 > draft.txt; truncate -s 1 draft.txt");
    assert!(off.trash_names().is_empty(), "overwrite=off keeps nothing");
}

#[test]
fn nothing_is_kept_when_nothing_is_lost() {
    let m = Mount::with_options(&["overwrite_interval=0"]);
    let g = m.gallery();
    write(&g.join("empty"), b"");
    sh(&g, "echo x > empty; echo new > brand-new");
    ok(Command::new("truncate")
        .args(["-s", "1M"])
        .arg(g.join("brand-new")));
    // Growing leaves a hole; cutting the hole off again loses nothing.
    ok(Command::new("truncate")
        .args(["-s", "4"])
        .arg(g.join("brand-new")));
    ok(Command::new("cp")
        .arg("--sparse=always")
        .arg(g.join("brand-new"))
        .arg(g.join("copy")));
    assert!(
        m.trash_names().is_empty(),
        "entries without anything lost: {:?}",
        m.trash_names()
    );
}

#[test]
fn restoring_an_overwritten_entry_brings_the_old_file_back_and_trashes_the_new() {
    let m = Mount::new();
    let g = m.gallery();
    precious(&g.join("cat.jpg"), b"old cat");
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    fs::File::open(g.join("cat.jpg"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    ok(Command::new("cp")
        .arg("/etc/hostname")
        .arg(g.join("cat.jpg")));
    fs::rename(m.trash().join("cat.jpg"), g.join("cat.jpg")).unwrap();
    assert_eq!(read(&g.join("cat.jpg")), b"old cat");
    assert_metadata(&g.join("cat.jpg"), "restored");
    assert_eq!(
        fs::symlink_metadata(g.join("cat.jpg"))
            .unwrap()
            .modified()
            .unwrap(),
        old,
        "its times as before the overwrite"
    );
    let entries = kept(&m, "cat.jpg");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].1, fs::read("/etc/hostname").unwrap());
    assert_eq!(entries[0].2, "replaced", "the newer file went to the trash");
}

#[test]
fn a_file_too_large_to_copy_is_overwritten_with_one_log_line() {
    let m = Mount::with_options(&["overwrite_interval=0", "overwrite_copy_max=64K"]);
    let g = m.gallery();
    let big = vec![7u8; 256 * 1024];
    write(&g.join("big.raw"), &big);
    // A shorter truncation needs a copy: above the limit, none is made.
    ok(Command::new("truncate")
        .args(["-s", "10"])
        .arg(g.join("big.raw")));
    assert_eq!(read(&g.join("big.raw")), &big[..10]);
    assert!(m.trash_names().is_empty(), "{:?}", m.trash_names());
    let lines: Vec<String> = m
        .log()
        .lines()
        .filter(|l| l.contains("not kept") && l.contains("big.raw"))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 1, "one log line naming the file: {lines:?}");
    assert!(lines[0].contains("overwrite_copy_max"), "{}", lines[0]);
    // Emptying it whole needs no copy: kept at any size.
    write(&g.join("big2.raw"), &big);
    sh(&g, ": > big2.raw");
    assert_kept(&m, "big2.raw", &big, b"", "O_TRUNC above the copy limit");
    // And the mount goes on working.
    let f = fs::OpenOptions::new()
        .write(true)
        .open(g.join("big.raw"))
        .unwrap();
    f.write_all_at(b"more", 10).unwrap();
    assert_eq!(read(&g.join("big.raw")).len(), 14);
}
