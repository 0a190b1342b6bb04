//! Writing to, chmod/chown/touch/setfattr of, or creating inside anything in
//! `.trash/` is `Read-only file system`; listing it in long form shows no
//! errors.

use super::*;

// ---- 10. the trash is read-only ---------------------------------------------------

#[test]
fn the_trash_is_read_only() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    write(&g.join("f"), b"content");
    rm(&g.join("f"));
    mkdir_p(&g.join("d/sub"));
    write(&g.join("d/inner"), b"inner");
    mv(&g.join("d"), &t.join("D"));
    write(&g.join("outside"), b"outside");
    let rofs = libc::EROFS;

    for target in [t.join("f"), t.join("D/inner")] {
        let what = |op: &str| format!("{op} {}", target.display());
        let before = meta(&target);
        assert_errno(
            &what("open for write"),
            OpenOptions::new().write(true).open(&target),
            rofs,
        );
        assert_errno(
            &what("open for append"),
            OpenOptions::new().append(true).open(&target),
            rofs,
        );
        // SAFETY: valid path.
        let fd = unsafe { libc::open(cpath(&target).as_ptr(), libc::O_RDONLY | libc::O_TRUNC) };
        assert_errno(&what("open O_TRUNC"), check(fd), rofs);
        // SAFETY: valid path.
        assert_errno(
            &what("truncate"),
            check(unsafe { libc::truncate(cpath(&target).as_ptr(), 0) }),
            rofs,
        );
        assert_errno(
            &what("chmod"),
            fs::set_permissions(&target, fs::Permissions::from_mode(0o777)),
            rofs,
        );
        assert_errno(
            &what("chown"),
            std::os::unix::fs::chown(&target, Some(USER), None),
            rofs,
        );
        let times = [libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_NOW,
        }; 2];
        // SAFETY: valid path and two timespecs.
        let r = check(unsafe {
            libc::utimensat(libc::AT_FDCWD, cpath(&target).as_ptr(), times.as_ptr(), 0)
        });
        assert_errno(&what("utimensat"), r, rofs);
        let err = fails(Command::new("touch").arg(&target));
        assert!(err.contains("Read-only file system"), "touch: {err}");
        assert_errno(
            &what("setxattr"),
            xattr::set(&target, "user.new", b"v"),
            rofs,
        );
        let path = cpath(&target);
        // SAFETY: valid C strings.
        let removed =
            check(unsafe { libc::lremovexattr(path.as_ptr(), c"user.trash.days_left".as_ptr()) });
        assert_errno(&what("removexattr"), removed, rofs);
        let err = fails(
            Command::new("setfattr")
                .args(["-n", "user.trash.days_left", "-v", "99d"])
                .arg(&target),
        );
        assert!(err.contains("Read-only file system"), "setfattr: {err}");
        assert_eq!(meta(&target), before, "{} changed", target.display());
        let mut content = Vec::new();
        File::open(&target)
            .and_then(|mut f| f.read_to_end(&mut content))
            .unwrap_or_else(|e| panic!("reading {}: {e}", target.display()));
        assert!(
            content == b"content" || content == b"inner",
            "{}: {content:?}",
            target.display()
        );
    }

    for dir in [t.clone(), t.join("D"), t.join("D/sub")] {
        let what = |op: &str| format!("{op} in {}", dir.display());
        assert_errno(&what("create"), File::create(dir.join("new")), rofs);
        assert_errno(&what("mkdir"), fs::create_dir(dir.join("newdir")), rofs);
        assert_errno(
            &what("symlink"),
            std::os::unix::fs::symlink("x", dir.join("ln")),
            rofs,
        );
        assert_errno(
            &what("link"),
            fs::hard_link(g.join("outside"), dir.join("hard")),
            rofs,
        );
        let err = fails(Command::new("mkfifo").arg(dir.join("fifo")));
        assert!(err.contains("Read-only file system"), "mkfifo: {err}");
        let err = fails(Command::new("touch").arg(dir.join("touched")));
        assert!(err.contains("Read-only file system"), "touch: {err}");
    }
    assert_errno(
        "link of an entry into the gallery",
        fs::hard_link(t.join("f"), g.join("linked")),
        rofs,
    );
    assert_errno(
        "link of a file in a trashed dir",
        fs::hard_link(t.join("D/inner"), g.join("linked")),
        rofs,
    );
    assert_errno(
        "chmod of a trashed dir",
        fs::set_permissions(t.join("D"), fs::Permissions::from_mode(0o700)),
        rofs,
    );
    assert_errno(
        "rename inside a trashed dir",
        fs::rename(t.join("D/inner"), t.join("D/renamed")),
        rofs,
    );
    assert_errno(
        "rename out of a trashed dir into the trash",
        fs::rename(t.join("D/inner"), t.join("inner")),
        rofs,
    );
    assert_errno(
        "rename into a trashed dir",
        fs::rename(g.join("outside"), t.join("D/outside")),
        rofs,
    );

    assert_eq!(names(&t), name_set(&["D", "f"]));
    assert_eq!(names(&t.join("D")), name_set(&["inner", "sub"]));
    assert_eq!(read(&t.join("f")), b"content");
    assert_eq!(read(&t.join("D/inner")), b"inner");
    assert_eq!(names(&storage_trash(&m)), name_set(&["D", "f"]));
}

#[test]
fn listing_the_gallery_and_trash_in_long_form_shows_no_errors() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("d"));
    write(&g.join("d/f"), b"f");
    std::os::unix::fs::symlink("d/f", g.join("s")).unwrap();
    rm(&g.join("s"));
    mv(&g.join("d"), &m.trash().join("D"));
    write(&g.join("keep"), b"k");
    for dir in [
        m.mountpoint.clone(),
        g.clone(),
        m.trash(),
        m.trash().join("D"),
    ] {
        let out = run(Command::new("ls").arg("-laR").arg(&dir));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "ls -laR {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
