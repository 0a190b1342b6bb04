//! What a folder's removal folds and what it leaves loose.

use super::*;

#[test]
fn a_file_removed_earlier_by_another_command_stays_its_own_entry() {
    let m = Mount::new();
    let d = tree(&m, "album");
    ok(Command::new("rm").arg(d.join("sub/b.jpg")));
    ok(Command::new("rm").arg("-r").arg(&d));
    let mut names = m.trash_names();
    names.sort();
    assert_eq!(names, ["album", "b.jpg"]);
    assert_eq!(
        xattr::get_string(&m.trash().join("b.jpg"), "user.trash.original_path"),
        "album/sub/b.jpg"
    );
    assert!(!m.trash().join("album/sub/b.jpg").exists());
    assert_eq!(read(&m.trash().join("album/sub/deeper/c.jpg")), b"C");
}

#[test]
fn removing_files_without_their_folder_leaves_one_entry_per_file() {
    let m = Mount::new();
    let d = m.gallery().join("album");
    fs::create_dir(&d).unwrap();
    for i in 0..5 {
        write(&d.join(format!("img{i}.jpg")), format!("{i}").as_bytes());
    }
    sh(&d, "rm img*.jpg");
    let mut names = m.trash_names();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(d.is_dir());
}

#[test]
fn two_commands_removing_sibling_folders_at_once_make_two_entries() {
    let m = Mount::new();
    let a = tree(&m, "one");
    let b = tree(&m, "two");
    let (want_a, want_b) = (snapshot(&a), snapshot(&b));
    let mut ra = Command::new("rm").arg("-r").arg(&a).spawn().unwrap();
    let mut rb = Command::new("rm").arg("-r").arg(&b).spawn().unwrap();
    assert!(ra.wait().unwrap().success() && rb.wait().unwrap().success());
    let mut names = m.trash_names();
    names.sort();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(snapshot(&m.trash().join("one")), want_a);
    assert_eq!(snapshot(&m.trash().join("two")), want_b);
}

#[test]
fn a_folder_removed_by_a_folder_move_and_one_by_rm_r_each_restore_whole() {
    let m = Mount::new();
    let d = tree(&m, "album");
    let want = snapshot(&d);
    fs::rename(&d, m.trash().join("album")).unwrap();
    assert_eq!(
        snapshot(&m.trash().join("album")),
        want,
        "a move is one entry too"
    );
    // The same name removed by rm -r later takes the next free name.
    let again = tree(&m, "album");
    let want_again = snapshot(&again);
    ok(Command::new("rm").arg("-r").arg(&again));
    let mut names = m.trash_names();
    names.sort();
    assert_eq!(names, ["album", "album (2)"]);
    assert_eq!(snapshot(&m.trash().join("album (2)")), want_again);
}

#[test]
fn a_file_where_a_folded_file_s_folder_was_stays_apart_and_remounts() {
    // This process removes a/c/x; another removes the emptied folder a/c;
    // this one then makes a file a/c, removes it, and removes a. In the
    // entry, a/c is the file, so x (whose folder c was) stays an entry of
    // its own. Nothing is lost, the fold is finished before rmdir returns,
    // and the next mount is clean (a fold stopped there used to leave one
    // no mount could finish: "cannot reconcile the trash: Not a directory").
    let mut m = Mount::new();
    let a = m.gallery().join("a");
    fs::create_dir_all(a.join("c")).unwrap();
    write(&a.join("c/x"), b"x in the folder c");
    fs::remove_file(a.join("c/x")).unwrap();
    ok(Command::new("rmdir").arg(a.join("c")));
    write(&a.join("c"), b"the file c");
    fs::remove_file(a.join("c")).unwrap();
    fs::remove_dir(&a).unwrap();
    for pass in ["live", "after a remount"] {
        let mut names = m.trash_names();
        names.sort();
        assert_eq!(names, ["a", "x"], "{pass}");
        assert_eq!(read(&m.trash().join("a/c")), b"the file c", "{pass}");
        assert_eq!(read(&m.trash().join("x")), b"x in the folder c", "{pass}");
        assert_eq!(
            xattr::get_string(&m.trash().join("x"), "user.trash.original_path"),
            "a/c/x",
            "{pass}"
        );
        m.unmount();
        m.mount();
    }
}
