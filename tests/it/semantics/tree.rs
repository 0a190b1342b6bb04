//! A real tree: `cp -a` into the gallery preserves it, `rm -r` makes one
//! entry of it, and a move back restores it exactly.

use super::*;

// ---- 16. a real tree ----------------------------------------------------------------

/// What `cp -a` must preserve of one file of a tree.
#[derive(Debug, PartialEq, Eq)]
struct TreeItem {
    kind: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: (i64, i64),
    size: Option<u64>,
    target: Option<PathBuf>,
    xattrs: BTreeMap<String, Vec<u8>>,
}

fn tree(root: &Path) -> BTreeMap<PathBuf, TreeItem> {
    fn walk(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, TreeItem>) {
        let p = root.join(rel);
        let md = lstat(&p);
        let ft = md.file_type();
        let xattrs = if ft.is_file() || ft.is_dir() {
            xattr::names(&p)
                .into_iter()
                .filter(|n| n.starts_with("user."))
                .map(|n| (n.clone(), xattr::get_opt(&p, &n).unwrap()))
                .collect()
        } else {
            BTreeMap::new()
        };
        out.insert(
            rel.to_owned(),
            TreeItem {
                kind: md.mode() & libc::S_IFMT,
                mode: md.mode() & 0o7777,
                uid: md.uid(),
                gid: md.gid(),
                mtime: (md.mtime(), md.mtime_nsec()),
                size: (!ft.is_dir()).then_some(md.size()),
                target: ft.is_symlink().then(|| fs::read_link(&p).unwrap()),
                xattrs,
            },
        );
        if ft.is_dir() {
            for name in names(&p) {
                walk(root, &rel.join(name), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, Path::new(""), &mut out);
    out
}

#[test]
fn cp_a_of_a_real_tree_then_rm_r() {
    let m = Mount::new();
    let src = m.base.path().join("src");
    mkdir_p(&src);
    // Real files from the system, whichever of these exist, plus odd bits of our own.
    let mut copied = 0;
    for dir in [
        "/usr/share/zoneinfo/America",
        "/usr/share/doc/bash",
        "/usr/share/doc/coreutils",
    ] {
        if Path::new(dir).is_dir() {
            ok(Command::new("cp").arg("-a").arg(dir).arg(&src));
            copied += 1;
        }
    }
    assert!(
        copied > 0,
        "none of the source trees exists on this machine"
    );
    sh(
        &src,
        "mkdir -p own/deep/er own/empty && printf data > own/deep/er/file && \
         ln -s deep/er/file own/rel && ln -s /etc/hostname own/abs && ln -s missing own/dangling && \
         ln -s deep own/dirlink && chmod 0750 own/deep && chmod 0604 own/deep/er/file && \
         chown -h 1000:1000 own/rel own/deep/er/file && setfattr -n user.tag -v v own/deep/er/file && \
         touch -h -d '2005-06-07 08:09:10.123456789' own/rel own/deep/er/file",
    );
    let dst = m.gallery().join("tree");
    ok(Command::new("cp").arg("-a").arg(&src).arg(&dst));

    ok(Command::new("diff")
        .arg("-r")
        .arg("--no-dereference")
        .arg(&src)
        .arg(&dst));
    let (want, got) = (tree(&src), tree(&dst));
    for (rel, item) in &want {
        assert_eq!(
            got.get(rel),
            Some(item),
            "{} differs after cp -a; log:\n{}",
            rel.display(),
            m.log()
        );
    }
    assert_eq!(want.len(), got.len(), "extra files after cp -a");
    assert_eq!(
        tree(&storage_gallery(&m).join("tree")).len(),
        want.len(),
        "backing tree"
    );

    ok(Command::new("rm").arg("-r").arg(&dst));
    assert!(!exists(&dst));
    // One removal of a folder, one entry: the whole tree, as it was
    // (contents, modes, owners, times, xattrs, links), under its name.
    assert_eq!(names(&m.trash()), name_set(&["tree"]));
    let entry = m.trash().join("tree");
    assert_eq!(
        xattr::get_string(&entry, "user.trash.original_path"),
        "tree"
    );
    let kept = tree(&entry);
    for (rel, item) in &want {
        let mut got = kept.get(rel).map(|k| TreeItem {
            xattrs: k.xattrs.clone(),
            target: k.target.clone(),
            ..*k
        });
        if rel.as_os_str().is_empty()
            && let Some(got) = &mut got
        {
            // The entry's own attributes.
            got.xattrs.retain(|n, _| !n.starts_with("user.trash."));
        }
        assert_eq!(
            got.as_ref(),
            Some(item),
            "{} differs in the trash",
            rel.display()
        );
    }
    assert_eq!(kept.len(), want.len(), "extra files in the entry");
    // A restore by one move puts it back exactly.
    fs::rename(&entry, &dst).unwrap();
    ok(Command::new("diff")
        .arg("-r")
        .arg("--no-dereference")
        .arg(&src)
        .arg(&dst));
    assert_eq!(tree(&dst), want, "the tree after its restore");
    assert!(names(&m.trash()).is_empty());
}
