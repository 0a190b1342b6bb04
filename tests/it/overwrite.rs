//! Overwrites keep what they destroy (issue 11): every way a program
//! truncates or overwrites a file in `gallery/` leaves the content as it was
//! just before in `.trash/`, as an `overwritten` entry; the new content is
//! at the path. Each tool runs for real, with kernel passthrough and without.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use galleryfs_testkit::fsutil::{read, write};
use galleryfs_testkit::xattr;
use galleryfs_testkit::{Mount, ok, sh};

mod reflink;
mod rules;
mod tools;

/// Both ways the data path is served, every overwrite kept (no interval).
const MODES: [&[&str]; 2] = [
    &["overwrite_interval=0"],
    &["overwrite_interval=0", "passthrough=off"],
];

/// The trash's entries of original path `path`, as (name, content, reason).
fn kept(m: &Mount, path: &str) -> Vec<(String, Vec<u8>, String)> {
    let mut out = Vec::new();
    for name in m.trash_names() {
        let entry = m.trash().join(&name);
        if xattr::get_string_opt(&entry, "user.trash.original_path").as_deref() == Some(path) {
            let reason = xattr::get_string(&entry, "user.trash.reason");
            out.push((name, read(&entry), reason));
        }
    }
    out.sort();
    out
}

/// Exactly one entry of `path`, overwritten, holding `old`; the path holds `new`.
fn assert_kept(m: &Mount, path: &str, old: &[u8], new: &[u8], how: &str) {
    let entries = kept(m, path);
    assert_eq!(
        entries.len(),
        1,
        "{how}: one entry of {path} expected, the trash holds {:?}",
        m.trash_names()
    );
    let (name, content, reason) = &entries[0];
    assert_eq!(
        String::from_utf8_lossy(content),
        String::from_utf8_lossy(old),
        "{how}: .trash/{name} does not hold the old content"
    );
    assert_eq!(reason, "overwritten", "{how}: reason of .trash/{name}");
    assert_eq!(
        String::from_utf8_lossy(&read(&m.gallery().join(path))),
        String::from_utf8_lossy(new),
        "{how}: the path does not hold the new content"
    );
}

/// A file with a mode, an owner and an xattr of its own.
fn precious(path: &Path, content: &[u8]) {
    write(path, content);
    fs::set_permissions(path, fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(path, Some(1000), Some(1000)).unwrap();
    xattr::set(path, "user.note", b"keep me").unwrap();
}

/// Checks that `entry` kept `precious`'s mode, owner and xattr.
fn assert_metadata(entry: &Path, how: &str) {
    let md = fs::symlink_metadata(entry).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o640, "{how}: mode of {entry:?}");
    assert_eq!(
        (md.uid(), md.gid()),
        (1000, 1000),
        "{how}: owner of {entry:?}"
    );
    assert_eq!(
        xattr::get_string(entry, "user.note"),
        "keep me",
        "{how}: xattr of {entry:?}"
    );
}

fn python(dir: &Path, code: &str) {
    ok(Command::new("python3").arg("-c").arg(code).current_dir(dir));
}
