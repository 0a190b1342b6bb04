//! Refusals that must leave nothing behind, each with one actionable line
//! (issue 15, item 5): a STORAGE whose parent is missing is not created
//! with its parents; a STORAGE inside MOUNTPOINT is refused before it is
//! created.

use std::fs;
use std::process::Command;

use galleryfs_testkit::{galleryfs_bin, is_mounted, run};

use super::{scratch, stderr};

/// A refusal: exit 1, one line on stderr containing each of `parts`.
fn refused(args: &[&std::path::Path], cwd: &std::path::Path, parts: &[&str]) -> String {
    let out = run(Command::new(galleryfs_bin()).args(args).current_dir(cwd));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for part in parts {
        assert!(err.contains(part), "{args:?}: {err:?} lacks {part:?}");
    }
    err
}

#[test]
fn a_storage_whose_parent_is_missing_is_refused_and_nothing_is_created() {
    let (base, _store, mnt) = scratch();
    let typo = base.path().join("no-such/a/b");
    refused(
        &[&typo, &mnt],
        base.path(),
        &[
            "cannot create STORAGE",
            &format!(
                "its parent {} does not exist",
                base.path().join("no-such/a").display()
            ),
            "create the parent first",
        ],
    );
    assert!(
        !base.path().join("no-such").exists(),
        "a parent was created"
    );
    assert!(!is_mounted(&mnt));
}

#[test]
fn a_storage_inside_the_mountpoint_is_refused_before_it_is_created() {
    let (base, _store, _mnt) = scratch();
    let m3 = base.path().join("m3");
    fs::create_dir(&m3).unwrap();
    // Relative paths, as typed: `galleryfs m3/st m3`.
    refused(
        &["m3/st".as_ref(), "m3".as_ref()],
        base.path(),
        &[
            "must not contain each other",
            "two directories side by side",
        ],
    );
    assert!(
        fs::read_dir(&m3).unwrap().next().is_none(),
        "m3/st was left behind"
    );
    assert!(!is_mounted(&m3));
}
