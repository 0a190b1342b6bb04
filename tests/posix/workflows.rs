//! Whole tools on the gallery against the same natively: `git init && git
//! add && git commit`, `tar x` of a tarball, `rsync -a` of a tree. Each
//! compares the resulting trees file by file (type, mode, owner, size,
//! content, xattrs, hard-link structure, and mtimes where the tool keeps
//! them) and the tools' own checks (`git fsck`, `tar -d`, `diff -r`).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::diff::{ALICE, BOB, Ctx, differential, native_dir};
use crate::sys::{self, ts};

/// A tree with what archivers must carry: modes (set-id, sticky, odd
/// directory modes), owners, symlinks, hard links, a FIFO, empty and sparse
/// files, long and non-UTF-8 names, user xattrs, old and nanosecond mtimes.
fn make_source(root: &Path) {
    let p = |rel: &str| root.join(rel);
    for d in [
        "docs",
        "docs/deep",
        "docs/deep/deeper",
        "bin",
        "private",
        "ro",
        "empty",
    ] {
        fs::create_dir(p(d)).unwrap();
    }
    fs::write(p("docs/readme.txt"), b"hello gallery\n").unwrap();
    fs::write(
        p("docs/deep/deeper/data.bin"),
        (0..200_000u32).map(|i| (i * 7) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    fs::write(p("docs/empty"), b"").unwrap();
    fs::write(p("bin/tool"), b"#!/bin/sh\necho tool\n").unwrap();
    sys::chmod(&p("bin/tool"), 0o755).unwrap();
    fs::write(p("bin/suid"), b"s").unwrap();
    sys::chmod(&p("bin/suid"), 0o4755).unwrap();
    fs::write(p("private/secret"), b"alice's").unwrap();
    sys::chown(&p("private/secret"), ALICE, ALICE).unwrap();
    sys::chmod(&p("private/secret"), 0o600).unwrap();
    sys::chown(&p("private"), ALICE, BOB).unwrap();
    sys::chmod(&p("private"), 0o2750).unwrap();
    fs::write(p("ro/frozen"), b"ro").unwrap();
    sys::chmod(&p("ro/frozen"), 0o444).unwrap();
    sys::chmod(&p("ro"), 0o555).unwrap();
    sys::chmod(&p("empty"), 0o1777).unwrap();
    sys::symlink("docs/readme.txt", &p("link")).unwrap();
    sys::symlink("../nowhere", &p("docs/dangling")).unwrap();
    sys::link(&p("docs/readme.txt"), &p("hardlink")).unwrap();
    sys::link(&p("docs/readme.txt"), &p("docs/deep/hardlink2")).unwrap();
    sys::mkfifo(&p("fifo"), 0o640).unwrap();
    let long = format!("{}.txt", "L".repeat(200));
    fs::write(p(&long), b"long name").unwrap();
    let odd = root.join(OsStr::from_bytes(b"caf\xe9 \xff\xfe name"));
    fs::write(&odd, b"not utf-8").unwrap();
    fs::write(p("spaces and\nnewline"), b"odd").unwrap();
    let fd = sys::open(&p("sparse"), libc::O_CREAT | libc::O_WRONLY, 0o644).unwrap();
    sys::pwrite(fd, b"start", 0).unwrap();
    sys::pwrite(fd, b"end", 10 << 20).unwrap();
    sys::close(fd).unwrap();
    sys::setxattr(&p("docs/readme.txt"), "user.comment", b"a readme", 0).unwrap();
    sys::setxattr(&p("docs"), "user.dir", b"docs dir", 0).unwrap();
    sys::setxattr(&p("bin/tool"), "user.empty", b"", 0).unwrap();
    set_times(root);
}

/// Fixed times for everything a change may touch, children before parents,
/// so that two copies of the source made at different moments are equal.
fn set_times(root: &Path) {
    // Everything first (a time change does not touch the parent's mtime),
    // then particular times.
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let at = [ts(1_111_111_111, 0), ts(1_111_111_111, 0)];
            sys::utimensat(&path, Some(at), libc::AT_SYMLINK_NOFOLLOW).unwrap();
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                stack.push(path);
            }
        }
    }
    let times = |rel: &str, sec: i64, nsec: i64| {
        let path = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        if sys::lstat(&path).is_ok() {
            sys::utimensat(
                &path,
                Some([ts(sec, nsec), ts(sec, nsec)]),
                libc::AT_SYMLINK_NOFOLLOW,
            )
            .unwrap();
        }
    };
    times("docs/readme.txt", 1_600_000_000, 123_456_789);
    times("docs/deep/deeper/data.bin", 100, 0);
    times("bin/suid", -86_400, 0);
    times("link", 1_500_000_000, 5);
    times("ro/frozen", 1_200_000_000, 0);
    times("added.txt", 1_250_000_000, 0);
    times("docs-empty-moved", 1_260_000_000, 0);
    times("docs/deep/deeper", 1_400_000_000, 0);
    times("docs/deep", 1_400_000_001, 0);
    times("docs", 1_400_000_002, 0);
    times("ro", 1_300_000_000, 0);
    times("", 1_450_000_000, 0);
}

fn source() -> tempfile::TempDir {
    let dir = native_dir();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    make_source(&src);
    dir
}

/// New trash entries since `before` must all come from under `under`
/// (relative to `gallery/`): what a tool replaced or removed, by design.
fn trash_from(c: &Ctx, before: &[OsString], under: &str) -> Vec<String> {
    let mut originals = Vec::new();
    let trash = c.mount().unwrap().trash();
    for e in c.trash_entries() {
        // Symlinks and special files carry no user.* attributes (README,
        // known limits), so they have no original path to check.
        let kind = fs::symlink_metadata(trash.join(&e)).unwrap().file_type();
        let carries = kind.is_file() || kind.is_dir();
        if !before.contains(&e) && carries {
            let original = c.original_path(&e);
            assert!(
                original.starts_with(under),
                "trash entry {e:?} from {original}, not under {under}"
            );
            originals.push(original);
        }
    }
    originals.sort();
    originals
}

#[test]
fn git_init_add_commit() {
    differential("git", |c| {
        c.sh("git init -q -b main repo && cd repo && git config core.fileMode true && echo ok");
        c.sh(
            "cd repo && mkdir -p src/lib docs && printf 'fn main() {}\\n' > src/main.rs \
             && printf 'pub fn f() {}\\n' > src/lib/mod.rs && echo '# Project' > README.md \
             && printf '#!/bin/sh\\necho run\\n' > run.sh && chmod 755 run.sh && ln -s README.md docs/link \
             && head -c 300000 /dev/zero | tr '\\0' 'x' > docs/big.txt && git add -A && git commit -q -m first && git log --format='%H %T %s'",
        );
        let trash = c.trash_entries();
        c.sh(
            "cd repo && echo change >> README.md && git mv src/lib src/library && rm run.sh \
             && echo new > new.txt && git add -A && git commit -q -m second && git log --format='%H %T %s'",
        );
        c.sh("cd repo && git status --porcelain=v1 --untracked-files=all && echo clean");
        c.sh("cd repo && git fsck --full --strict 2>&1 && echo fsck-ok");
        c.sh("cd repo && git cat-file --batch-all-objects --batch-check | sort");
        c.sh("cd repo && git checkout -q HEAD~1 && ls -R | sort && git checkout -q main && git diff HEAD~1 --stat");
        c.sh("cd repo && git gc -q && git count-objects -v | grep -E '^(count|in-pack|garbage)' && git fsck 2>&1 && echo fsck-ok");
        c.sh("cd repo && git stash -q 2>&1; echo stash=$?; git branch topic && git checkout -q topic && echo x > t && git add t && git commit -q -m t && git checkout -q main && git merge -q --no-edit topic && git log --format='%H %s' | head -3");
        c.tree("repo", false, &[".git"]);
        if c.gallery() {
            // By design: git replaces its index, refs and packs by renaming
            // lock files over them, deletes loose objects after gc, and
            // replaces work-tree files on checkout, so those land in the
            // trash, all from under the repository (as does `rm run.sh`).
            // Checking out another commit replaces work-tree files too.
            let originals = trash_from(c, &trash, &c.gallery_rel("repo"));
            assert!(
                originals.iter().any(|o| o.ends_with("/run.sh")),
                "{originals:?}"
            );
            assert!(
                originals.iter().any(|o| o.ends_with(".git/index")),
                "{originals:?}"
            );
        }
    });
}

#[test]
fn tar_extract() {
    let src = source();
    let tarball = src.path().join("src.tar");
    galleryfs_testkit::ok(
        std::process::Command::new("tar")
            .args([
                "--xattrs",
                "--xattrs-include=user.*",
                "--sparse",
                "--numeric-owner",
                "-cf",
            ])
            .arg(&tarball)
            .arg("-C")
            .arg(src.path().join("src"))
            .arg("."),
    );
    let tar = tarball.to_str().unwrap().to_string();
    differential("tar", move |c| {
        let trash = c.trash_entries();
        c.sh(&format!(
            "mkdir x && tar --xattrs --xattrs-include='user.*' --numeric-owner -xpf {tar} -C x && echo extracted"
        ));
        c.tree("x", true, &[]);
        // tar's own comparison of archive and disk.
        c.sh(&format!(
            "cd x && tar --xattrs --xattrs-include='user.*' -df {tar} && echo same"
        ));
        // Extracting again over the tree: tar replaces each file.
        c.sh(&format!(
            "tar --xattrs --xattrs-include='user.*' --numeric-owner -xpf {tar} -C x && echo again"
        ));
        c.tree("x", true, &[]);
        c.sh(&format!("cd x && tar -df {tar} && echo same"));
        // And a fresh archive of the extracted tree lists the same.
        c.sh("tar --numeric-owner -cf - -C x . | tar -tvf - | awk '{print $1, $2, $3, $6}' | sort");
        if c.gallery() {
            // By design: files tar replaced (it unlinks an existing file
            // before extracting it, and replaces the placeholder it makes for
            // a symlink) are in the trash, from under x/. A name whose inode
            // had other links is unlinked for real: its data was not lost.
            let originals = trash_from(c, &trash, &c.gallery_rel("x"));
            let has = |f: &str| originals.iter().any(|o| o.ends_with(f));
            assert!(
                has("/docs/deep/deeper/data.bin") && has("/bin/tool"),
                "{originals:?}"
            );
            assert!(!has("/docs/readme.txt"), "{originals:?}");
        }
    });
}

#[test]
fn rsync_archive() {
    differential("rsync", |c| {
        // Each run syncs from its own copy of the source (changed below).
        let src = source();
        let from = src.path().join("src");
        let from_s = format!("{}/", from.to_str().unwrap());
        let env = [("SRC", from_s.as_str())];
        c.sh_env("rsync -aHX \"$SRC\" r/ && echo synced", &env);
        c.tree("r", true, &[]);
        let diff = "{ [ -L src ] || ln -s \"$SRC\" src; } && diff -r --no-dereference src/ r/; echo diff=$?";
        c.sh_env(diff, &env);
        // A second run with changes: two files modified (one read-only),
        // one removed, one added.
        let trash = c.trash_entries();
        fs::write(from.join("docs/deep/deeper/data.bin"), b"new content").unwrap();
        sys::chmod(&from.join("ro"), 0o755).unwrap();
        sys::chmod(&from.join("ro/frozen"), 0o644).unwrap();
        fs::write(from.join("ro/frozen"), b"thawed").unwrap();
        sys::chmod(&from.join("ro/frozen"), 0o444).unwrap();
        sys::chmod(&from.join("ro"), 0o555).unwrap();
        fs::write(from.join("added.txt"), b"added").unwrap();
        fs::rename(from.join("docs/empty"), from.join("docs-empty-moved")).unwrap();
        set_times(&from);
        c.sh_env("rsync -aHX --delete \"$SRC\" r/ && echo synced", &env);
        c.tree("r", true, &[]);
        c.sh_env(diff, &env);
        if c.gallery() {
            // By design: the two files rsync replaced (it renames its temp
            // file over them) and the one --delete removed are in the trash.
            let originals = trash_from(c, &trash, &c.gallery_rel("r"));
            let rel = c.gallery_rel("r");
            let want: Vec<String> = ["docs/deep/deeper/data.bin", "docs/empty", "ro/frozen"]
                .iter()
                .map(|f| format!("{rel}/{f}"))
                .collect();
            assert_eq!(originals, want);
        }
    });
}
