//! One deletion, one entry (issue 12): a folder removed by the tools people
//! remove folders with becomes one entry holding its whole tree, restored
//! by one move; what other commands removed stays loose.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use galleryfs_testkit::fsutil::{read, write};
use galleryfs_testkit::xattr;
use galleryfs_testkit::{Mount, ok, sh};

mod mixed;
mod tools;

/// What a tree holds: per relative path, its kind, mode, owner, mtime,
/// content or link target, and user xattrs (not the trash's own).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let p = root.join(rel);
        let md = fs::symlink_metadata(&p).unwrap();
        let ft = md.file_type();
        let what = if ft.is_symlink() {
            format!("-> {:?}", fs::read_link(&p).unwrap())
        } else if ft.is_dir() {
            "dir".to_string()
        } else {
            format!("{:?}", String::from_utf8_lossy(&fs::read(&p).unwrap()))
        };
        let xattrs: Vec<(String, String)> = if ft.is_file() || ft.is_dir() {
            xattr::names(&p)
                .into_iter()
                .filter(|n| n.starts_with("user.") && !n.starts_with("user.trash."))
                .map(|n| {
                    let v = xattr::get_string(&p, &n);
                    (n, v)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mtime = if ft.is_dir() { 0 } else { md.mtime() };
        out.insert(
            rel.to_owned(),
            format!(
                "{what} mode={:o} uid={} mtime={mtime} xattrs={xattrs:?}",
                md.mode() & 0o7777,
                md.uid()
            ),
        );
        if ft.is_dir() {
            let mut names: Vec<_> = fs::read_dir(&p)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            names.sort();
            for n in names {
                walk(root, &rel.join(n), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, Path::new(""), &mut out);
    out
}

/// A tree with files, symlinks, an empty subfolder, odd modes, xattrs and
/// a name that is not UTF-8, under gallery/`name`.
fn tree(m: &Mount, name: &str) -> PathBuf {
    let d = m.gallery().join(name);
    fs::create_dir_all(d.join("sub/deeper")).unwrap();
    fs::create_dir_all(d.join("empty")).unwrap();
    write(&d.join("a.jpg"), b"A");
    write(&d.join("sub/b.jpg"), b"B");
    write(&d.join("sub/deeper/c.jpg"), b"C");
    write(&d.join(OsStr::from_bytes(b"caf\xe9.jpg")), b"latin-1");
    std::os::unix::fs::symlink("a.jpg", d.join("link")).unwrap();
    fs::set_permissions(d.join("sub"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::set_permissions(d.join("a.jpg"), fs::Permissions::from_mode(0o600)).unwrap();
    xattr::set(&d.join("sub/b.jpg"), "user.tag", b"b").unwrap();
    xattr::set(&d.join("sub"), "user.tag", b"dir").unwrap();
    d
}

/// The trash holds exactly one entry, `name`, from gallery/`name`, holding
/// `want`; moved back it is `want` again.
fn assert_one_entry(m: &Mount, name: &str, want: &BTreeMap<PathBuf, String>, how: &str) {
    assert_eq!(m.trash_names(), [name], "{how}: one entry");
    let entry = m.trash().join(name);
    assert_eq!(
        xattr::get_string(&entry, "user.trash.original_path"),
        name,
        "{how}"
    );
    assert_eq!(&snapshot(&entry), want, "{how}: the entry's tree");
    fs::rename(&entry, m.gallery().join(name)).unwrap();
    assert_eq!(&snapshot(&m.gallery().join(name)), want, "{how}: restored");
    assert!(m.trash_names().is_empty());
}
