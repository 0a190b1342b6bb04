//! A catalog galleryfs cannot trust (issue 16, item 4): a missing or empty
//! `galleryfs.db` beside a non-empty `trash/` is refused, leaving both as
//! they are, with a message saying what to do; each way it offers works.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use galleryfs_testkit::{Mount, galleryfs_bin, is_mounted, run, xattr};

use super::stderr;

/// `galleryfs STORAGE MNT` in daemon mode.
fn mount(m: &Mount) -> std::process::Output {
    run(Command::new(galleryfs_bin())
        .arg(&m.storage)
        .arg(&m.mountpoint)
        .stdin(Stdio::null()))
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_lost_catalog_beside_a_trash_is_refused_and_each_way_out_works() {
    let mut m = Mount::new();
    fs::create_dir_all(m.gallery().join("albums/2025")).unwrap();
    fs::write(m.gallery().join("albums/2025/cat.jpg"), "cat").unwrap();
    fs::remove_file(m.gallery().join("albums/2025/cat.jpg")).unwrap();
    m.unmount();
    let db = m.storage.join("galleryfs.db");
    for log in ["galleryfs.db-wal", "galleryfs.db-shm"] {
        let _ = fs::remove_file(m.storage.join(log));
    }
    let good = fs::read(&db).unwrap();
    let trash = m.storage_trash();
    assert_eq!(names(&trash), ["cat.jpg"]);

    for state in ["empty", "missing"] {
        match state {
            "empty" => fs::write(&db, b"").unwrap(),
            _ => fs::remove_file(&db).unwrap(),
        }
        let out = mount(&m);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{state}: {err}");
        assert!(!is_mounted(&m.mountpoint), "{state}: mounted");
        assert_eq!(err.lines().count(), 1, "{err}");
        for part in [
            format!("galleryfs.db is {state}"),
            "holds 1 entry".into(),
            "will not make up their original paths".into(),
            "from a backup".into(),
            format!("{}/gallery", m.storage.canonicalize().unwrap().display()),
        ] {
            assert!(err.contains(&part), "{state}: {err:?} lacks {part:?}");
        }
        // Nothing was touched: no catalog made, the entry where it was.
        match state {
            "empty" => assert_eq!(fs::read(&db).unwrap(), b""),
            _ => assert!(!db.exists(), "a catalog was created"),
        }
        assert_eq!(names(&trash), ["cat.jpg"]);
    }

    // Putting the catalog back brings the entry back with its history.
    fs::write(&db, &good).unwrap();
    m.mount();
    assert_eq!(m.trash_names(), ["cat.jpg"]);
    assert_eq!(
        xattr::get(&m.trash().join("cat.jpg"), "user.trash.original_path").unwrap(),
        b"albums/2025/cat.jpg"
    );
    m.unmount();

    // Or keeping the files as ordinary ones, as the message says.
    fs::remove_file(&db).unwrap();
    for log in ["galleryfs.db-wal", "galleryfs.db-shm"] {
        let _ = fs::remove_file(m.storage.join(log));
    }
    let kept = m.storage_gallery().join("recovered-trash");
    fs::create_dir(&kept).unwrap();
    fs::rename(trash.join("cat.jpg"), kept.join("cat.jpg")).unwrap();
    m.mount();
    assert!(m.trash_names().is_empty());
    assert_eq!(
        fs::read_to_string(m.gallery().join("recovered-trash/cat.jpg")).unwrap(),
        "cat"
    );
}
