//! The tools people overwrite files with, each on a real mount.

use super::*;

#[test]
fn cp_over_a_file_keeps_it_whole_with_its_metadata() {
    for options in MODES {
        let m = Mount::with_options(options);
        let g = m.gallery();
        precious(&g.join("cat.jpg"), b"the real cat");
        write(&g.join("other.jpg"), b"another picture");
        let before = fs::symlink_metadata(g.join("cat.jpg")).unwrap();
        ok(Command::new("cp")
            .arg(g.join("other.jpg"))
            .arg(g.join("cat.jpg")));
        assert_kept(&m, "cat.jpg", b"the real cat", b"another picture", "cp");
        assert_metadata(&m.trash().join("cat.jpg"), "cp");
        let entry = m.trash().join("cat.jpg");
        assert_eq!(
            xattr::get_string(&entry, "user.trash.days_left"),
            "30d",
            "{options:?}"
        );
        assert!(xattr::get_opt(&entry, "user.trash.deleted_at").is_some());
        // The file at the path keeps its mode, owner and xattrs, and its number.
        let now = fs::symlink_metadata(g.join("cat.jpg")).unwrap();
        assert_eq!(now.mode() & 0o7777, 0o640);
        assert_eq!((now.uid(), now.gid()), (1000, 1000));
        assert_eq!(
            xattr::get_string(&g.join("cat.jpg"), "user.note"),
            "keep me"
        );
        assert_eq!(now.ino(), before.ino(), "{options:?}: the path's st_ino");
        // Nothing else changed.
        assert_eq!(read(&g.join("other.jpg")), b"another picture");
        assert_eq!(m.trash_names().len(), 1, "{options:?}");
    }
}

#[test]
fn shell_redirections_and_application_saves_keep_the_old_content() {
    for options in MODES {
        let m = Mount::with_options(options);
        let g = m.gallery();
        write(&g.join("notes.txt"), b"v1\n");
        sh(&g, "echo v2 > notes.txt");
        assert_kept(&m, "notes.txt", b"v1\n", b"v2\n", "echo >");

        write(&g.join("empty-me"), b"content");
        sh(&g, ": > empty-me");
        assert_kept(&m, "empty-me", b"content", b"", "shell >");

        write(&g.join("doc.xmp"), b"<xmp>old</xmp>");
        python(&g, "open('doc.xmp', 'w').write('<xmp>new</xmp>')");
        assert_kept(
            &m,
            "doc.xmp",
            b"<xmp>old</xmp>",
            b"<xmp>new</xmp>",
            "python open('w')",
        );
    }
}

#[test]
fn truncations_keep_the_whole_previous_content() {
    for options in MODES {
        let m = Mount::with_options(options);
        let g = m.gallery();
        write(&g.join("a"), b"0123456789");
        ok(Command::new("truncate").args(["-s", "0"]).arg(g.join("a")));
        assert_kept(&m, "a", b"0123456789", b"", "truncate -s 0");

        write(&g.join("b"), b"0123456789");
        ok(Command::new("truncate").args(["-s", "4"]).arg(g.join("b")));
        assert_kept(&m, "b", b"0123456789", b"0123", "truncate -s 4");

        // vim's `:w`: open(O_WRONLY|O_CREAT), then ftruncate(fd, 0) and write.
        write(&g.join("c.txt"), b"vim text before");
        python(
            &g,
            "import os\nfd = os.open('c.txt', os.O_WRONLY | os.O_CREAT)\nos.ftruncate(fd, 0)\nos.write(fd, b'after')\nos.close(fd)",
        );
        assert_kept(
            &m,
            "c.txt",
            b"vim text before",
            b"after",
            "vim-style ftruncate",
        );
    }
}

#[test]
fn rsync_inplace_and_a_punched_hole_keep_what_they_destroy() {
    for options in MODES {
        let m = Mount::with_options(options);
        let g = m.gallery();
        let src = tempfile::tempdir().unwrap();
        fs::write(src.path().join("long.txt"), b"short").unwrap();
        write(&g.join("long.txt"), b"a much longer old content");
        ok(Command::new("rsync")
            .args(["--inplace", "--no-whole-file", "-I"])
            .arg(src.path().join("long.txt"))
            .arg(g.join("long.txt")));
        // rsync writes in place, then truncates: the entry holds what the
        // file was just before the truncation, with its lost tail.
        let entries = kept(&m, "long.txt");
        assert_eq!(entries.len(), 1, "{options:?}: {entries:?}");
        assert!(
            entries[0].1.ends_with(b"old content"),
            "{options:?}: the lost tail is kept: {:?}",
            String::from_utf8_lossy(&entries[0].1)
        );
        assert_eq!(read(&g.join("long.txt")), b"short");

        let data: Vec<u8> = (0..16384u32).map(|i| (i % 251) as u8 + 1).collect();
        write(&g.join("holes.bin"), &data);
        ok(Command::new("fallocate")
            .args(["--punch-hole", "--offset", "4096", "--length", "4096"])
            .arg(g.join("holes.bin")));
        let mut punched = data.clone();
        punched[4096..8192].fill(0);
        assert_kept(&m, "holes.bin", &data, &punched, "fallocate --punch-hole");
    }
}

#[test]
fn a_hard_linked_file_changes_under_every_name_and_the_trash_keeps_the_old() {
    for options in MODES {
        let m = Mount::with_options(options);
        let g = m.gallery();
        write(&g.join("a"), b"shared old");
        fs::hard_link(g.join("a"), g.join("b")).unwrap();
        ok(Command::new("cp").arg("/etc/hostname").arg(g.join("a")));
        let new = fs::read("/etc/hostname").unwrap();
        // FUSE does not say which name an open came through: the entry's
        // original path is one of the file's names.
        let by_name = if kept(&m, "a").is_empty() { "b" } else { "a" };
        assert_kept(&m, by_name, b"shared old", &new, "cp over a hard link");
        assert_eq!(read(&g.join("a")), new);
        assert_eq!(
            read(&g.join("b")),
            new,
            "POSIX: the other name shows it too"
        );
        assert_eq!(fs::symlink_metadata(g.join("b")).unwrap().nlink(), 2);
    }
}

#[test]
fn a_writer_holding_the_file_open_keeps_writing_to_the_file_at_its_path() {
    for options in MODES {
        let m = Mount::with_options(options);
        let g = m.gallery();
        let log = g.join("app.log");
        let mut writer = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        use std::io::Write;
        writer.write_all(b"line 1\nline 2\n").unwrap();
        sh(&g, "> app.log");
        writer.write_all(b"line 3\n").unwrap();
        drop(writer);
        assert_kept(
            &m,
            "app.log",
            b"line 1\nline 2\n",
            b"line 3\n",
            "> with a writer",
        );
    }
}
