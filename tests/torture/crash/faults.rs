//! A crash at each `fault::point` of the trash, restore and purge orderings:
//! mount with `GALLERYFS_CRASH_AT=POINT`, run the operation that reaches it,
//! remount without it and assert the outcome the ordering promises.

use super::*;

// ---- fault points ------------------------------------------------------------

/// `fault::point("…")` names in the product source: every `.rs` file below
/// `src/`, at any depth (`src/store/trash.rs` as well as `src/trash.rs`).
pub(super) fn points_in_source() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let points = fault_points_below(&root).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !points.is_empty(),
        "no fault::point(\"…\") calls found below {}: has the fault module been renamed?",
        root.display()
    );
    points
}

/// The names of the `fault::point("NAME")` calls in the `.rs` files below
/// `root`, recursively. The call may be qualified (`crate::fault::point`)
/// and wrapped by rustfmt (whitespace before the literal); a call whose
/// argument is not a string literal is an error, since it cannot be
/// matched with a scenario. The module that defines `point` holds no call,
/// wherever it lives, so it needs no exception.
pub(super) fn fault_points_below(root: &Path) -> Result<BTreeSet<String>, String> {
    const CALL: &str = "fault::point(";
    let mut files = Vec::new();
    walk(root, "", &mut files).map_err(|e| format!("list {}: {e}", root.display()))?;
    let mut points = BTreeSet::new();
    for (rel, md) in files {
        if !md.is_file() || !rel.ends_with(".rs") {
            continue;
        }
        let path = root.join(&rel);
        let text =
            fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
        for piece in text.split(CALL).skip(1) {
            let name = piece
                .trim_start()
                .strip_prefix('"')
                .and_then(|rest| rest.split_once('"'))
                .map(|(name, _)| name)
                .ok_or_else(|| {
                    format!("{rel}: a {CALL}…) whose argument is not a string literal")
                })?;
            points.insert(name.to_string());
        }
    }
    Ok(points)
}

#[test]
pub(super) fn fault_points_are_found_in_subdirectories_of_src() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    fs::create_dir_all(src.join("store/deep")).unwrap();
    fs::create_dir_all(src.join("fault")).unwrap();
    fs::write(
        src.join("fault/mod.rs"),
        "pub fn point(name: &str) { let _ = name; }\n",
    )
    .unwrap();
    fs::write(src.join("lib.rs"), "fn f() { fault::point(\"top:a\"); }\n").unwrap();
    fs::write(
        src.join("store/trash.rs"),
        "fn g() {\n    crate::fault::point(\"store:b\");\n    fault::point(\n        \"store:c\",\n    );\n}\n",
    )
    .unwrap();
    fs::write(
        src.join("store/deep/x.rs"),
        "fn h() { fault::point(\"deep:d\") }\n",
    )
    .unwrap();
    fs::write(src.join("store/notes.txt"), "fault::point(\"not:rust\")\n").unwrap();
    let found = fault_points_below(src).unwrap();
    let want: BTreeSet<String> = ["top:a", "store:b", "store:c", "deep:d"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, want);

    fs::write(
        src.join("store/bad.rs"),
        "fn i(n: &str) { fault::point(n) }\n",
    )
    .unwrap();
    let err = fault_points_below(src).unwrap_err();
    assert!(err.contains("store/bad.rs"), "{err}");
}

/// Setup run on a normal mount, then the operation run with
/// `GALLERYFS_CRASH_AT` set, then the outcome checked after a clean remount.
pub(super) struct Scenario {
    pub(super) point: &'static str,
    pub(super) what: &'static str,
    /// Mount options while crashing (the expiry scenario shortens retention).
    pub(super) options: &'static [&'static str],
    pub(super) setup: fn(&Mount),
    pub(super) op: fn(&Mount),
    pub(super) check: fn(&Mount),
}

pub(super) fn put(m: &Mount, path: &str, data: &str) {
    let p = m.gallery().join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

pub(super) fn read(path: PathBuf) -> Option<String> {
    match fs::read(&path) {
        Ok(d) => Some(String::from_utf8(d).unwrap()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => panic!("read {}: {e}", path.display()),
    }
}

pub(super) fn orig(m: &Mount, entry: &str) -> String {
    String::from_utf8(xattr::get(&m.trash().join(entry), "user.trash.original_path").unwrap())
        .unwrap()
}

pub(super) fn storage_nlink(m: &Mount, path: &str) -> u64 {
    fs::symlink_metadata(m.storage.join("gallery").join(path))
        .unwrap()
        .nlink()
}

/// The operation that reaches the crash point fails once the daemon aborts.
pub(super) fn attempt(what: &str, r: io::Result<()>) {
    if let Ok(()) = r {
        panic!("{what} succeeded although the daemon was to crash during it");
    }
}

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            point: "put:after-insert",
            what: "rm album/cat.jpg",
            options: &[],
            setup: |m| put(m, "album/cat.jpg", "cat"),
            op: |m| attempt("rm", fs::remove_file(m.gallery().join("album/cat.jpg"))),
            check: |m| {
                assert_eq!(
                    read(m.gallery().join("album/cat.jpg")).as_deref(),
                    Some("cat")
                );
                assert_eq!(m.trash_names(), Vec::<String>::new(), "no entry");
            },
        },
        Scenario {
            point: "put:after-rename",
            what: "rm album/cat.jpg",
            options: &[],
            setup: |m| put(m, "album/cat.jpg", "cat"),
            op: |m| attempt("rm", fs::remove_file(m.gallery().join("album/cat.jpg"))),
            check: |m| {
                assert_eq!(read(m.gallery().join("album/cat.jpg")), None);
                assert_eq!(m.trash_names(), ["cat.jpg"]);
                assert_eq!(read(m.trash().join("cat.jpg")).as_deref(), Some("cat"));
                assert_eq!(orig(m, "cat.jpg"), "album/cat.jpg");
            },
        },
        Scenario {
            point: "put:after-rename",
            what: "mv album .trash/pics (a directory)",
            options: &[],
            setup: |m| put(m, "album/cat.jpg", "cat"),
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("album"), m.trash().join("pics")),
                )
            },
            check: |m| {
                assert_eq!(read(m.gallery().join("album/cat.jpg")), None);
                assert_eq!(m.trash_names(), ["pics"]);
                assert_eq!(read(m.trash().join("pics/cat.jpg")).as_deref(), Some("cat"));
                assert_eq!(orig(m, "pics"), "album");
            },
        },
        Scenario {
            point: "stash:after-insert",
            what: "mv new old (replacing old)",
            options: &[],
            setup: |m| {
                put(m, "old", "old");
                put(m, "new", "new");
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("new"), m.gallery().join("old")),
                )
            },
            check: |m| {
                assert_eq!(read(m.gallery().join("old")).as_deref(), Some("old"));
                assert_eq!(read(m.gallery().join("new")).as_deref(), Some("new"));
                assert_eq!(m.trash_names(), Vec::<String>::new());
                assert_eq!(storage_nlink(m, "old"), 1);
            },
        },
        Scenario {
            point: "stash:after-link",
            what: "mv new old (replacing old)",
            options: &[],
            setup: |m| {
                put(m, "old", "old");
                put(m, "new", "new");
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("new"), m.gallery().join("old")),
                )
            },
            check: |m| {
                // The rename never happened: old stays, only in the gallery.
                assert_eq!(read(m.gallery().join("old")).as_deref(), Some("old"));
                assert_eq!(read(m.gallery().join("new")).as_deref(), Some("new"));
                assert_eq!(
                    m.trash_names(),
                    Vec::<String>::new(),
                    "not duplicated in the trash"
                );
                assert_eq!(storage_nlink(m, "old"), 1, "the stash link is gone");
            },
        },
        Scenario {
            point: "stash:before-settle",
            what: "mv new old (replacing old)",
            options: &[],
            setup: |m| {
                put(m, "old", "old");
                put(m, "new", "new");
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("new"), m.gallery().join("old")),
                )
            },
            check: |m| {
                // The rename happened: old's data is a trash entry.
                assert_eq!(read(m.gallery().join("old")).as_deref(), Some("new"));
                assert_eq!(read(m.gallery().join("new")), None);
                assert_eq!(m.trash_names(), ["old"]);
                assert_eq!(read(m.trash().join("old")).as_deref(), Some("old"));
                assert_eq!(orig(m, "old"), "old");
                assert_eq!(storage_nlink(m, "old"), 1);
            },
        },
        Scenario {
            point: "take-out:after-rename",
            what: "restore .trash/r.txt to album/r.txt",
            options: &[],
            setup: |m| {
                put(m, "album/r.txt", "first");
                fs::remove_file(m.gallery().join("album/r.txt")).unwrap();
            },
            op: |m| {
                let r = fs::rename(m.trash().join("r.txt"), m.gallery().join("album/r.txt"));
                attempt("restore", r)
            },
            check: |m| {
                assert_eq!(
                    read(m.gallery().join("album/r.txt")).as_deref(),
                    Some("first")
                );
                assert_eq!(m.trash_names(), Vec::<String>::new(), "the entry is gone");
            },
        },
        Scenario {
            point: "take-out:after-rename",
            what: "restore .trash/r.txt over an existing album/r.txt",
            options: &[],
            setup: |m| {
                put(m, "album/r.txt", "first");
                fs::remove_file(m.gallery().join("album/r.txt")).unwrap();
                put(m, "album/r.txt", "second");
            },
            op: |m| {
                let r = fs::rename(m.trash().join("r.txt"), m.gallery().join("album/r.txt"));
                attempt("restore", r)
            },
            check: |m| {
                assert_eq!(
                    read(m.gallery().join("album/r.txt")).as_deref(),
                    Some("first")
                );
                assert_eq!(m.trash_names(), ["r (2).txt"], "only the replaced file");
                assert_eq!(read(m.trash().join("r (2).txt")).as_deref(), Some("second"));
                assert_eq!(orig(m, "r (2).txt"), "album/r.txt");
                assert_eq!(storage_nlink(m, "album/r.txt"), 1);
            },
        },
        Scenario {
            point: "purge:after-unlink",
            what: "rm .trash/x.txt",
            options: &[],
            setup: |m| {
                put(m, "x.txt", "x");
                put(m, "keep.txt", "keep");
                fs::remove_file(m.gallery().join("x.txt")).unwrap();
            },
            op: |m| attempt("purge", fs::remove_file(m.trash().join("x.txt"))),
            check: |m| {
                assert_eq!(m.trash_names(), Vec::<String>::new());
                assert_eq!(read(m.gallery().join("x.txt")), None);
                assert_eq!(read(m.gallery().join("keep.txt")).as_deref(), Some("keep"));
            },
        },
        Scenario {
            point: "purge:after-park",
            what: "Empty Trash of album/ (files/album -> expunged/)",
            options: &[],
            setup: |m| {
                put(m, "album/a.jpg", "a");
                put(m, "album/sub/b.jpg", "b");
                put(m, "keep.txt", "keep");
                fs::rename(m.gallery().join("album"), m.trash().join("album")).unwrap();
            },
            op: |m| {
                let top = m.mountpoint.join(".Trash-0");
                let _ = fs::create_dir(top.join("expunged"));
                attempt(
                    "expunge",
                    fs::rename(top.join("files/album"), top.join("expunged/1")),
                )
            },
            check: |m| {
                assert_eq!(m.trash_names(), Vec::<String>::new());
                assert_eq!(read(m.gallery().join("album/a.jpg")), None);
                assert_eq!(read(m.gallery().join("keep.txt")).as_deref(), Some("keep"));
            },
        },
        Scenario {
            point: "bulk:after-purge",
            what: "expiry of a.txt, b.txt and c.txt in one chunk",
            options: &["retention=1s", "sweep=1s"],
            setup: |m| {
                for name in ["a.txt", "b.txt", "c.txt"] {
                    put(m, name, name);
                    fs::remove_file(m.gallery().join(name)).unwrap();
                }
                put(m, "keep.txt", "keep");
            },
            // The sweep reaches the point by itself, at the chunk's first unlink.
            op: |_| {},
            check: |m| {
                // The unlinked file's row is dropped; the two not reached yet
                // are whole entries (the 30-day retention of the remount keeps them).
                let left = m.trash_names();
                assert_eq!(left.len(), 2, "{left:?}");
                for name in &left {
                    assert_eq!(read(m.trash().join(name)).as_deref(), Some(name.as_str()));
                }
                assert_eq!(read(m.gallery().join("keep.txt")).as_deref(), Some("keep"));
            },
        },
        Scenario {
            point: "bulk:after-purge",
            what: "expiry of the trashed directory album/",
            options: &["retention=1s", "sweep=1s"],
            setup: |m| {
                put(m, "album/a.jpg", "a");
                put(m, "album/sub/b.jpg", "b");
                fs::rename(m.gallery().join("album"), m.trash().join("album")).unwrap();
            },
            // The sweep reaches the point by itself.
            op: |_| {},
            check: |m| {
                // Remounted with the default 30-day retention: had the entry
                // survived, it would show.
                assert_eq!(m.trash_names(), Vec::<String>::new());
                assert_eq!(read(m.gallery().join("album/a.jpg")), None);
            },
        },
        Scenario {
            point: "bulk:after-purge",
            what: "a bulk purge of a.txt, album/ and b.txt (user.trash.purge)",
            options: &[],
            setup: bulk_setup,
            op: |m| {
                let names = [&b"a.txt"[..], b"album", b"b.txt"];
                attempt(
                    "bulk purge",
                    xattr::set(&m.trash(), "user.trash.purge.crash", &bulk_value(&names)),
                )
            },
            check: |m| {
                // The first went; the rest are whole.
                assert_eq!(m.trash_names(), ["album", "b.txt"]);
                assert_eq!(
                    read(m.trash().join("album/sub/x.txt")).as_deref(),
                    Some("x")
                );
                assert_eq!(read(m.trash().join("b.txt")).as_deref(), Some("b"));
                assert_eq!(orig(m, "album"), "album");
                assert_eq!(read(m.gallery().join("keep.txt")).as_deref(), Some("keep"));
            },
        },
        Scenario {
            point: "bulk:after-purge",
            what: "a bulk purge of album/, a.txt and b.txt (a directory first)",
            options: &[],
            setup: bulk_setup,
            op: |m| {
                let names = [&b"album"[..], b"a.txt", b"b.txt"];
                attempt(
                    "bulk purge",
                    xattr::set(&m.trash(), "user.trash.purge.crash", &bulk_value(&names)),
                )
            },
            check: |m| {
                assert_eq!(m.trash_names(), ["a.txt", "b.txt"]);
                assert_eq!(read(m.trash().join("a.txt")).as_deref(), Some("a"));
                assert_eq!(orig(m, "b.txt"), "b.txt");
            },
        },
        Scenario {
            point: "bulk:after-restore",
            what: "a bulk restore of a.txt, album/ and b.txt into gallery/back (user.trash.restore)",
            options: &[],
            setup: |m| {
                bulk_setup(m);
                fs::create_dir(m.gallery().join("back")).unwrap();
            },
            op: |m| {
                let pairs = [
                    &b"a.txt"[..],
                    b"a.txt",
                    b"album",
                    b"album",
                    b"b.txt",
                    b"b.txt",
                ];
                let r = xattr::set(
                    &m.gallery().join("back"),
                    "user.trash.restore.crash",
                    &bulk_value(&pairs),
                );
                attempt("bulk restore", r)
            },
            check: |m| {
                // The first is back, the rest still in the trash, whole.
                assert_eq!(read(m.gallery().join("back/a.txt")).as_deref(), Some("a"));
                assert_eq!(m.trash_names(), ["album", "b.txt"]);
                assert_eq!(
                    read(m.trash().join("album/sub/x.txt")).as_deref(),
                    Some("x")
                );
                assert_eq!(orig(m, "b.txt"), "b.txt");
            },
        },
        Scenario {
            point: "rename:after-begin",
            what: "mv .trash/x.txt .trash/y.txt",
            options: &[],
            setup: |m| {
                put(m, "d/x.txt", "x");
                fs::remove_file(m.gallery().join("d/x.txt")).unwrap();
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.trash().join("x.txt"), m.trash().join("y.txt")),
                )
            },
            check: |m| {
                assert_eq!(m.trash_names(), ["x.txt"]);
                assert_eq!(read(m.trash().join("x.txt")).as_deref(), Some("x"));
                assert_eq!(orig(m, "x.txt"), "d/x.txt");
            },
        },
        Scenario {
            point: "rename:after-rename",
            what: "mv .trash/x.txt .trash/y.txt",
            options: &[],
            setup: |m| {
                put(m, "d/x.txt", "x");
                fs::remove_file(m.gallery().join("d/x.txt")).unwrap();
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.trash().join("x.txt"), m.trash().join("y.txt")),
                )
            },
            check: |m| {
                // The file moved: the entry settles under its new name.
                assert_eq!(m.trash_names(), ["y.txt"]);
                assert_eq!(read(m.trash().join("y.txt")).as_deref(), Some("x"));
                assert_eq!(orig(m, "y.txt"), "d/x.txt");
            },
        },
        Scenario {
            point: "displace:after-insert",
            what: "mv new old, on a STORAGE without hard links",
            options: &[],
            setup: |m| {
                put(m, "d/old", "old");
                put(m, "d/new", "new");
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("d/new"), m.gallery().join("d/old")),
                )
            },
            check: |m| {
                assert_eq!(read(m.gallery().join("d/old")).as_deref(), Some("old"));
                assert_eq!(read(m.gallery().join("d/new")).as_deref(), Some("new"));
                assert_eq!(m.trash_names(), Vec::<String>::new(), "no entry");
            },
        },
        Scenario {
            point: "displace:after-move",
            what: "mv new old, on a STORAGE without hard links",
            options: &[],
            setup: |m| {
                put(m, "d/old", "old");
                put(m, "d/new", "new");
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("d/new"), m.gallery().join("d/old")),
                )
            },
            check: |m| {
                // The rename never happened: the displaced file is back.
                assert_eq!(read(m.gallery().join("d/old")).as_deref(), Some("old"));
                assert_eq!(read(m.gallery().join("d/new")).as_deref(), Some("new"));
                assert_eq!(m.trash_names(), Vec::<String>::new(), "no entry");
            },
        },
        Scenario {
            point: "resize:after-change",
            what: "mv .trash/album/big.jpg gallery/ (a partial restore)",
            options: &[],
            setup: |m| {
                put(m, "album/big.jpg", &"b".repeat(64 * 1024));
                put(m, "album/small.jpg", "s");
                fs::rename(m.gallery().join("album"), m.trash().join("album")).unwrap();
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.trash().join("album/big.jpg"), m.gallery().join("big.jpg")),
                )
            },
            check: |m| {
                assert_eq!(
                    read(m.gallery().join("big.jpg")).map(|d| d.len()),
                    Some(64 * 1024)
                );
                assert_eq!(m.trash_names(), ["album"]);
                assert_eq!(
                    read(m.trash().join("album/small.jpg")).as_deref(),
                    Some("s")
                );
                // The entry's size was measured again: it no longer counts big.jpg.
                let total = xattr::get(&m.trash(), "user.trash.total_size").unwrap();
                let total: u64 = String::from_utf8(total).unwrap().parse().unwrap();
                assert_eq!(total, tree_bytes(&m.storage.join("trash/album")));
            },
        },
        Scenario {
            point: "displace:after-move",
            what: "echo new > d/f (an overwrite kept by inode)",
            options: &[],
            setup: |m| put(m, "d/f", "old"),
            op: |m| attempt("write", fs::write(m.gallery().join("d/f"), "new")),
            check: |m| {
                // The new file never took the name: the old one is back.
                assert_eq!(read(m.gallery().join("d/f")).as_deref(), Some("old"));
                assert_eq!(m.trash_names(), Vec::<String>::new(), "no entry");
            },
        },
        Scenario {
            point: "copy:after-insert",
            what: "truncate -s 3 d/f (an overwrite kept by a copy)",
            options: &[],
            setup: |m| put(m, "d/f", "old content"),
            op: |m| attempt("truncate", shorten(m, "d/f", 3)),
            check: |m| {
                assert_eq!(
                    read(m.gallery().join("d/f")).as_deref(),
                    Some("old content")
                );
                assert_eq!(m.trash_names(), Vec::<String>::new(), "no entry");
            },
        },
        Scenario {
            point: "copy:after-copy",
            what: "truncate -s 3 d/f (an overwrite kept by a copy)",
            options: &[],
            setup: |m| put(m, "d/f", "old content"),
            op: |m| attempt("truncate", shorten(m, "d/f", 3)),
            check: |m| {
                // The copy never settled and the file was never truncated.
                assert_eq!(
                    read(m.gallery().join("d/f")).as_deref(),
                    Some("old content")
                );
                assert_eq!(m.trash_names(), Vec::<String>::new(), "no entry");
                assert!(
                    fs::read_dir(m.storage.join("trash"))
                        .unwrap()
                        .next()
                        .is_none(),
                    "the half-made copy is removed from STORAGE"
                );
            },
        },
        Scenario {
            point: "fold:after-mark",
            what: "rm -r d (one removal of a folder, folded into one entry)",
            options: &[],
            setup: fold_setup,
            op: |m| attempt("rm -r", rm_r(m, "d")),
            check: |m| {
                // The folder never moved: what rm removed stays loose, the
                // emptied subfolder shows as an entry of its own.
                assert!(m.gallery().join("d").is_dir(), "d is still in the gallery");
                assert_eq!(m.trash_names(), ["empty", "x", "y"]);
                assert_eq!(read(m.trash().join("x")).as_deref(), Some("x"));
                assert_eq!(orig(m, "y"), "d/y");
                assert_eq!(orig(m, "empty"), "d/empty");
            },
        },
        Scenario {
            point: "pending:after-insert",
            what: "rm -r d (d/empty, emptied first or last, waits hidden for d's fold)",
            options: &[],
            setup: fold_setup,
            op: |m| attempt("rm -r", rm_r(m, "d")),
            check: |m| {
                // The emptied folder never left; what rm removed before the
                // crash is loose in the trash, the rest still in the gallery.
                assert!(m.gallery().join("d/empty").is_dir(), "d/empty never left");
                let names = m.trash_names();
                for f in ["x", "y"] {
                    let here = m.gallery().join("d").join(f).exists();
                    let there = names.iter().any(|n| n == f);
                    assert!(here != there, "{f} is in exactly one place: {names:?}");
                }
                assert!(names.iter().all(|n| n == "x" || n == "y"), "{names:?}");
            },
        },
        Scenario {
            point: "fold:after-rename",
            what: "rm -r d (one removal of a folder, folded into one entry)",
            options: &[],
            setup: fold_setup,
            op: |m| attempt("rm -r", rm_r(m, "d")),
            check: fold_finished,
        },
        Scenario {
            point: "fold:after-move",
            what: "rm -r d (one removal of a folder, folded into one entry)",
            options: &[],
            setup: fold_setup,
            op: |m| attempt("rm -r", rm_r(m, "d")),
            check: fold_finished,
        },
    ]
}

/// Three entries for a bulk request: files `a.txt` and `b.txt`, a folder
/// `album/` moved in whole; and a gallery file that stays.
fn bulk_setup(m: &Mount) {
    put(m, "a.txt", "a");
    put(m, "b.txt", "b");
    put(m, "album/sub/x.txt", "x");
    put(m, "keep.txt", "keep");
    fs::remove_file(m.gallery().join("a.txt")).unwrap();
    fs::remove_file(m.gallery().join("b.txt")).unwrap();
    fs::rename(m.gallery().join("album"), m.trash().join("album")).unwrap();
}

/// A bulk request's value: each field followed by a NUL.
pub(super) fn bulk_value(fields: &[&[u8]]) -> Vec<u8> {
    fields
        .iter()
        .flat_map(|f| f.iter().copied().chain([0]))
        .collect()
}

/// Files and an empty folder in `d`: `rm -r d` folds once, at `rmdir d`
/// (a folder with files of its own inside would fold first).
fn fold_setup(m: &Mount) {
    put(m, "d/x", "x");
    put(m, "d/y", "y");
    fs::create_dir(m.gallery().join("d/empty")).unwrap();
}

/// The folder moved into the trash: reconcile finished the fold.
fn fold_finished(m: &Mount) {
    assert!(!m.gallery().join("d").exists());
    assert_eq!(m.trash_names(), ["d"]);
    assert_eq!(orig(m, "d"), "d");
    assert_eq!(read(m.trash().join("d/x")).as_deref(), Some("x"));
    assert_eq!(read(m.trash().join("d/y")).as_deref(), Some("y"));
    assert!(m.trash().join("d/empty").is_dir());
}

/// `rm -r gallery/PATH`, as a process of its own.
fn rm_r(m: &Mount, path: &str) -> io::Result<()> {
    let status = std::process::Command::new("rm")
        .arg("-r")
        .arg(m.gallery().join(path))
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("rm -r {path}: {status}")))
    }
}

/// `truncate -s LEN PATH` through an open file (ftruncate), as vim does.
fn shorten(m: &Mount, path: &str, len: u64) -> io::Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .open(m.gallery().join(path))?
        .set_len(len)
}

/// Bytes allocated to a tree, as the trash counts an entry's size.
fn tree_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let md = fs::symlink_metadata(path).unwrap();
    let mut total = md.blocks() * 512;
    if md.is_dir() {
        for e in fs::read_dir(path).unwrap() {
            total += tree_bytes(&e.unwrap().path());
        }
    }
    total
}

/// Runs every fault-point scenario; returns how many distinct points and
/// scenarios were covered.
pub(super) fn fault_points() -> (usize, usize) {
    let in_source = points_in_source();
    let all = scenarios();
    let covered: BTreeSet<String> = all.iter().map(|s| s.point.to_string()).collect();
    let missing: Vec<&String> = in_source.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "fault points without a crash scenario in tests/torture/crash/faults.rs: {missing:?}"
    );
    let stale: Vec<&String> = covered.difference(&in_source).collect();
    assert!(
        stale.is_empty(),
        "scenarios for fault points that no longer exist: {stale:?}"
    );
    // Each on a mount of its own, all at once.
    let outcomes: Vec<_> = thread::scope(|scope| {
        let running: Vec<_> = all
            .iter()
            .map(|s| scope.spawn(move || run_scenario(s)))
            .collect();
        running.into_iter().map(|h| h.join()).collect()
    });
    for outcome in outcomes {
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
    (covered.len(), all.len())
}

pub(super) fn run_scenario(s: &Scenario) {
    let mut m = Mount::new();
    (s.setup)(&m);
    m.unmount();
    let marker = format!("fault injection: crashing at {}", s.point);
    let before = m.log().matches(&marker).count();
    m.options = s.options.iter().map(|o| o.to_string()).collect();
    m.env = vec![("GALLERYFS_CRASH_AT".into(), s.point.into())];
    if s.point.starts_with("displace:") {
        // Displacing is the fallback for a STORAGE without hard links.
        m.env.push(("GALLERYFS_FAIL".into(), "link".into()));
    }
    m.mount();
    (s.op)(&m);
    let start = Instant::now();
    while m.log().matches(&marker).count() == before {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} ({}): the daemon never reached the fault point:\n{}",
            s.point,
            s.what,
            m.log()
        );
        thread::sleep(Duration::from_millis(20));
    }
    let _ = m.kill9();
    if let Some(p) = integrity_problem(&m) {
        panic!("{} ({}): after the crash: {p}", s.point, s.what);
    }
    m.env.clear();
    m.options.clear();
    m.mount();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (s.check)(&m)));
    if let Err(e) = outcome {
        let why = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!(
            "fault point {} ({}): wrong outcome after remount: {why}\ndaemon log:\n{}",
            s.point,
            s.what,
            m.log()
        );
    }
    let problems = match scan(&m) {
        Ok(scan) => storage_problems(&m, &scan),
        Err(e) => vec![e],
    };
    assert!(
        problems.is_empty(),
        "fault point {} ({}): {problems:#?}\ndaemon log:\n{}",
        s.point,
        s.what,
        m.log()
    );
    m.unmount();
    if let Some(p) = integrity_problem(&m) {
        panic!("{} ({}): after unmount: {p}", s.point, s.what);
    }
}
