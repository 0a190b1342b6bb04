//! A folder moved into `.trash/` while another process has it open in the
//! gallery (an `rm -r` holding its fd): for that process the folder is gone
//! from the gallery, so its unlinks through the fd find nothing and never
//! delete a file of the entry for good; the trash's name works at once.

use super::*;

fn unlinkat(dir: &File, name: &str, flags: i32) -> io::Result<()> {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: a valid fd and a NUL-terminated name.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })
}

#[test]
fn an_unlink_through_a_gallery_fd_of_a_folder_moved_into_the_trash_deletes_nothing() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("d/sub"));
    write(&g.join("d/x"), b"x data");
    write(&g.join("d/sub/y"), b"y data");
    let dir = File::open(g.join("d")).unwrap();
    let sub = File::open(g.join("d/sub")).unwrap();

    fs::rename(g.join("d"), m.trash().join("d")).unwrap();

    assert_errno("unlinkat(d, x)", unlinkat(&dir, "x", 0), libc::ENOENT);
    assert_errno("unlinkat(d/sub, y)", unlinkat(&sub, "y", 0), libc::ENOENT);
    assert_errno(
        "unlinkat(d, sub, AT_REMOVEDIR)",
        unlinkat(&dir, "sub", libc::AT_REMOVEDIR),
        libc::ENOENT,
    );
    let t = m.trash().join("d");
    assert_eq!(read(&t.join("x")), b"x data", "log:\n{}", m.log());
    assert_eq!(read(&t.join("sub/y")), b"y data");
    assert_eq!(names(&m.trash()), name_set(&["d"]));
    assert_eq!(xattr::get_string(&t, "user.trash.original_path"), "d");
}

#[test]
fn a_folder_moved_into_the_trash_can_be_used_there_at_once() {
    let m = Mount::new();
    let g = m.gallery();
    for round in 0..20 {
        let name = format!("d{round}");
        mkdir_p(&g.join(&name));
        write(&g.join(format!("{name}/x")), b"x data");
        // The kernel knew the folder and its file by their gallery names.
        assert_eq!(read(&g.join(format!("{name}/x"))), b"x data");
        let t = m.trash().join(&name);
        let ino = lstat(&g.join(&name)).ino();
        fs::rename(g.join(&name), &t).unwrap();
        // Listed first (READDIRPLUS meets the moved name without a walk),
        // then looked up: the folder keeps its inode number, as a rename does.
        assert!(names(&m.trash()).contains(OsStr::new(&name)));
        assert_eq!(lstat(&t).ino(), ino, "round {round}: st_ino of the entry");
        // At once, in the same thread: read, then delete for good inside
        // the entry, then the entry.
        assert_eq!(read(&t.join("x")), b"x data", "round {round}");
        fs::remove_file(t.join("x")).unwrap_or_else(|e| panic!("round {round}: rm x: {e}"));
        assert!(!exists(&t.join("x")));
        fs::remove_dir(&t).unwrap_or_else(|e| panic!("round {round}: rmdir: {e}"));
    }
    assert!(names(&m.trash()).is_empty(), "log:\n{}", m.log());
    assert!(names(&storage_trash(&m)).is_empty());
}
