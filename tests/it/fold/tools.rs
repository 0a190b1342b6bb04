//! The tools that remove folders, each making one entry.

use super::*;

#[test]
fn rm_r_and_rm_rf_make_one_entry_restored_exactly() {
    for args in [&["-r"][..], &["-rf"][..]] {
        let m = Mount::new();
        let d = tree(&m, "album");
        let want = snapshot(&d);
        ok(Command::new("rm").args(args).arg(&d));
        assert!(!d.exists());
        assert_one_entry(&m, "album", &want, &format!("rm {args:?}"));
    }
}

#[test]
fn find_delete_makes_one_entry() {
    let m = Mount::new();
    let d = tree(&m, "album");
    let want = snapshot(&d);
    ok(Command::new("find").arg(&d).arg("-delete"));
    assert_one_entry(&m, "album", &want, "find -delete");
}

#[test]
fn python_shutil_rmtree_makes_one_entry() {
    let m = Mount::new();
    let d = tree(&m, "album");
    let want = snapshot(&d);
    ok(Command::new("python3")
        .arg("-c")
        .arg("import shutil, sys; shutil.rmtree(sys.argv[1])")
        .arg(&d));
    assert_one_entry(&m, "album", &want, "shutil.rmtree");
}

#[test]
fn rsync_delete_of_a_whole_folder_makes_one_entry() {
    let m = Mount::new();
    let d = tree(&m, "album");
    let want = snapshot(&d);
    let src = tempfile::tempdir().unwrap();
    // The destination's album/ is not in the source: rsync deletes it.
    ok(Command::new("rsync")
        .args(["-a", "--delete"])
        .arg(format!("{}/", src.path().display()))
        .arg(format!("{}/", m.gallery().display())));
    assert!(!d.exists());
    assert_one_entry(&m, "album", &want, "rsync --delete");
}

#[test]
fn git_clean_makes_one_entry_of_an_untracked_folder() {
    let m = Mount::new();
    let repo = m.gallery().join("repo");
    fs::create_dir(&repo).unwrap();
    sh(
        &repo,
        "git init -q . && git -c user.email=t@t -c user.name=t commit -q --allow-empty -m init",
    );
    let d = tree(&m, "repo/build");
    let want = snapshot(&d);
    ok(Command::new("git")
        .args(["clean", "-fdxq"])
        .current_dir(&repo));
    assert!(!d.exists());
    let entries: Vec<String> = m
        .trash_names()
        .into_iter()
        .filter(|n| {
            xattr::get_string_opt(&m.trash().join(n), "user.trash.original_path").as_deref()
                == Some("repo/build")
        })
        .collect();
    assert_eq!(entries, ["build"], "git clean -fdx: {:?}", m.trash_names());
    assert_eq!(snapshot(&m.trash().join("build")), want);
}

#[test]
fn the_desktop_view_shows_the_folder_as_one_item() {
    let m = Mount::new();
    let d = tree(&m, "album");
    ok(Command::new("rm").arg("-r").arg(&d));
    let files = m.mountpoint.join(".Trash-0/files");
    let names: Vec<String> = fs::read_dir(&files)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["album"]);
    let info = fs::read_to_string(m.mountpoint.join(".Trash-0/info/album.trashinfo")).unwrap();
    assert!(info.contains("Path=gallery/album\n"), "{info}");
    assert!(read(&files.join("album/sub/deeper/c.jpg")) == b"C");
}
