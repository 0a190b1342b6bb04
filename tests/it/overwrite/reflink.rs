//! On a STORAGE with reflinks (btrfs, xfs on loop images made here), any
//! file is kept at any size, sharing its blocks.

use super::*;
use galleryfs_testkit::LoopFs;

fn kept_by_reflink(kind: &str) {
    let fs_ = LoopFs::new(kind, 320);
    let storage = fs_.path().join("store");
    let m = Mount::on_storage(&storage, &["overwrite_interval=0", "overwrite_copy_max=0"]);
    let g = m.gallery();
    let data: Vec<u8> = (0..8u32 << 20).map(|i| (i / 4096) as u8).collect();
    write(&g.join("video.raw"), &data);
    // A shorter truncation through an open file needs a copy; the limit
    // allows none, so only a reflink keeps it.
    let f = fs::OpenOptions::new()
        .write(true)
        .open(g.join("video.raw"))
        .unwrap();
    f.set_len(4096).unwrap();
    drop(f);
    assert_kept(&m, "video.raw", &data, &data[..4096], kind);
    assert!(
        m.log().contains("makes reflinks"),
        "{kind}: the log says reflinks are used:\n{}",
        m.log()
    );
    drop(m);
}

#[test]
fn btrfs_keeps_any_size_by_reflink() {
    kept_by_reflink("btrfs");
}

#[test]
fn xfs_keeps_any_size_by_reflink() {
    kept_by_reflink("xfs");
}
