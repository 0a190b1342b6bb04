//! Suite 4, multi-user security: on an `allow_other` mount, users A and B
//! (and root) act through the mount with their own uids (`setpriv`), and
//! every check is about what one may do to the other's files and entries.
//! Without `allow_other`, another uid cannot enter the mount at all.
//!
//! Also home of the small helpers the other checklist suites share: a list
//! of named checks that reports every failure at the end, and running a
//! shell snippet as another user.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use galleryfs_testkit::harness::{self, Rng};
use galleryfs_testkit::{Mount, gallery_trash_bin};

/// User A, the owner of the private files.
const A: u32 = 2001;
/// User B, the other user.
const B: u32 = 2002;
/// A group neither A nor B belongs to, for the setgid directory.
const G: u32 = 3000;

/// Named checks: each passes or records why not; `finish` prints the
/// summary line and fails the test with every failure listed.
pub struct Checks {
    suite: &'static str,
    seed: u64,
    count: usize,
    failures: Vec<String>,
}

pub type Outcome = Result<(), String>;

impl Checks {
    pub fn new(suite: &'static str, seed: u64) -> Checks {
        Checks {
            suite,
            seed,
            count: 0,
            failures: Vec::new(),
        }
    }

    /// Runs one check; a failure is recorded (and printed at once), not fatal.
    pub fn check(&mut self, what: &str, outcome: impl FnOnce() -> Outcome) {
        self.count += 1;
        if let Err(why) = outcome() {
            eprintln!("{} FAILED: {what}: {why}", self.suite);
            self.failures.push(format!("{what}: {why}"));
        }
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Prints `SUITE name: FIGURES, N failures` and fails if any check did.
    pub fn finish(self, figures: &str) {
        harness::summary(
            self.suite,
            self.seed,
            &format!("{figures}, {} failures", self.failures.len()),
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} checks failed (seed {:#x}):\n  {}",
            self.failures.len(),
            self.count,
            self.seed,
            self.failures.join("\n  ")
        );
    }
}

/// Fails with `message` unless `cond`.
pub fn ensure(cond: bool, message: impl FnOnce() -> String) -> Outcome {
    if cond { Ok(()) } else { Err(message()) }
}

/// What a command run as some user showed.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl Ran {
    pub fn succeeded(&self) -> Outcome {
        ensure(self.code == 0, || format!("expected success: {self:?}"))
    }

    /// Failed with a non-zero status and `message` (a strerror text) on stderr.
    pub fn failed_with(&self, message: &str) -> Outcome {
        ensure(self.code != 0 && self.err.contains(message), || {
            format!("expected a failure with {message:?}: {self:?}")
        })
    }
}

fn ran(cmd: &mut Command) -> Ran {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Ran {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `sh -c script` in `cwd` as `uid` (gid the same, no supplementary groups).
pub fn as_user(uid: u32, cwd: &Path, script: &str) -> Ran {
    ran(Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={uid}"))
        .arg("--clear-groups")
        .args(["sh", "-c", script])
        .current_dir(cwd))
}

/// Runs `sh -c script` in `cwd` as root, the test's own user.
pub fn as_root(cwd: &Path, script: &str) -> Ran {
    ran(Command::new("sh").args(["-c", script]).current_dir(cwd))
}

/// Makes the fixture's private temp dir reachable by other users.
pub fn open_to_others(m: &Mount) {
    fs::set_permissions(m.base.path(), fs::Permissions::from_mode(0o755)).unwrap();
}

/// A copy of a binary of the crate that every user may run.
pub fn shared_binary(m: &Mount, built: &Path, name: &str) -> PathBuf {
    let bin = m.base.path().join(name);
    fs::copy(built, &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn owner(path: &Path) -> Result<(u32, u32, u32), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((meta.uid(), meta.gid(), meta.mode()))
}

fn owned_by(path: &Path, uid: u32, gid: u32) -> Outcome {
    let (u, g, _) = owner(path)?;
    ensure((u, g) == (uid, gid), || {
        format!("{} is {u}:{g}, expected {uid}:{gid}", path.display())
    })
}

fn getfattr(uid: u32, cwd: &Path, attr: &str, path: &str) -> Ran {
    as_user(
        uid,
        cwd,
        &format!("getfattr --only-values --absolute-names -n {attr} '{path}'"),
    )
}

#[test]
fn multiuser() {
    let seed = harness::seed("multiuser");
    let mut rng = Rng::new(seed);
    let mut c = Checks::new("multiuser", seed);
    let m = Mount::with_options(&["allow_other"]);
    open_to_others(&m);
    let mnt = m.mountpoint.clone();
    let gallery = m.gallery();
    let trash = m.trash();
    fs::set_permissions(&gallery, fs::Permissions::from_mode(0o1777)).unwrap();
    // A secret with random content, so a leak cannot pass by accident.
    let secret: String = rng
        .bytes(24)
        .iter()
        .map(|b| char::from(b'a' + b % 26))
        .collect();

    // ---- what A creates belongs to A --------------------------------------
    let made = as_user(
        A,
        &gallery,
        &format!(
            "umask 022 && mkdir adir && echo public > adir/pub.txt && echo public > apub.txt \
             && mkfifo afifo && ln -s apub.txt alink \
             && umask 077 && printf %s {secret} > secret.txt"
        ),
    );
    c.check("A can create files, dirs, fifos, symlinks", || {
        made.succeeded()
    });
    for name in ["secret.txt", "adir", "afifo", "alink", "adir/pub.txt"] {
        c.check(&format!("{name} belongs to A's uid and gid"), || {
            owned_by(&gallery.join(name), A, A)?;
            // On disk too, not only in the view.
            owned_by(&m.storage.join("gallery").join(name), A, A)
        });
    }
    c.check("a private file keeps its 0600 mode", || {
        let (_, _, mode) = owner(&gallery.join("secret.txt"))?;
        ensure(mode & 0o7777 == 0o600, || format!("mode {mode:o}"))
    });

    // ---- a setgid directory gives its group --------------------------------
    let shared = gallery.join("shared");
    fs::create_dir(&shared).unwrap();
    std::os::unix::fs::chown(&shared, Some(A), Some(G)).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o2775)).unwrap();
    let made = as_user(
        A,
        &shared,
        "umask 022 && echo f > f && mkdir sub && mkfifo p && ln -s f l",
    );
    c.check("A creates in a setgid directory", || made.succeeded());
    for name in ["f", "sub", "p", "l"] {
        c.check(
            &format!("{name} in a setgid directory takes its group"),
            || owned_by(&shared.join(name), A, G),
        );
    }
    c.check("a directory made in a setgid directory is setgid", || {
        let (_, _, mode) = owner(&shared.join("sub"))?;
        ensure(mode & 0o2000 != 0, || format!("mode {mode:o}"))
    });
    c.check(
        "A cannot make a file setgid for a group A is not in",
        || {
            // chmod succeeds, but the kernel drops S_ISGID, as on any filesystem.
            as_user(A, &shared, "chmod 2755 f").succeeded()?;
            let (_, _, mode) = owner(&shared.join("f"))?;
            ensure(mode & 0o7777 == 0o755, || format!("mode {mode:o}"))
        },
    );

    // ---- B and A's files in the gallery -----------------------------------
    c.check("B cannot read A's 0600 file", || {
        let r = as_user(B, &gallery, "cat secret.txt");
        r.failed_with("Permission denied")?;
        ensure(!r.out.contains(&secret), || "the secret leaked".into())
    });
    c.check("B cannot create in A's 0755 directory", || {
        as_user(B, &gallery, "touch adir/x").failed_with("Permission denied")?;
        as_user(B, &gallery, "mkdir adir/d").failed_with("Permission denied")
    });
    c.check(
        "B cannot remove or move a file out of A's 0755 directory",
        || {
            as_user(B, &gallery, "rm -f adir/pub.txt").failed_with("Permission denied")?;
            as_user(B, &gallery, "mv adir/pub.txt mine.txt").failed_with("Permission denied")?;
            ensure(gallery.join("adir/pub.txt").exists(), || {
                "pub.txt is gone".into()
            })
        },
    );
    c.check("B cannot trash A's file in the sticky gallery", || {
        as_user(B, &gallery, "rm -f secret.txt").failed_with("Operation not permitted")?;
        as_user(B, &mnt, "mv gallery/secret.txt .trash/stolen.txt")
            .failed_with("Operation not permitted")?;
        ensure(gallery.join("secret.txt").exists(), || {
            "secret.txt left the gallery".into()
        })
    });
    c.check("B cannot hard-link A's private file", || {
        as_user(B, &gallery, "ln secret.txt b-link").failed_with("Operation not permitted")
    });
    c.check("B cannot chmod A's file", || {
        as_user(B, &gallery, "chmod 644 secret.txt").failed_with("Operation not permitted")
    });

    // ---- A's entries in the trash -----------------------------------------
    let trashed = as_user(
        A,
        &gallery,
        "rm secret.txt apub.txt && umask 022 && mkdir adir2 adir3 && echo f > adir2/f \
         && echo f > adir3/f && chmod 777 adir3 && mv adir2 adir3 ../.trash/",
    );
    c.check("A trashes files and directories", || {
        trashed.succeeded()?;
        owned_by(&trash.join("secret.txt"), A, A)?;
        owned_by(&trash.join("adir2"), A, A)
    });
    c.check("B cannot restore A's entry", || {
        as_user(B, &mnt, "mv .trash/secret.txt gallery/stolen.txt")
            .failed_with("Operation not permitted")?;
        as_user(B, &mnt, "mv .trash/adir2 gallery/stolen")
            .failed_with("Operation not permitted")?;
        ensure(!gallery.join("stolen.txt").exists(), || {
            "stolen.txt exists".into()
        })
    });
    c.check("B cannot rename A's entry", || {
        as_user(B, &trash, "mv secret.txt mine.txt").failed_with("Operation not permitted")
    });
    c.check("B cannot purge A's entry", || {
        as_user(B, &trash, "rm -f secret.txt").failed_with("Operation not permitted")?;
        as_user(B, &trash, "rm -rf adir2").failed_with("Permission denied")?;
        ensure(
            trash.join("secret.txt").exists() && trash.join("adir2/f").exists(),
            || "an entry of A is gone".into(),
        )
    });
    c.check("B cannot read A's private entry", || {
        let r = as_user(B, &trash, "cat secret.txt");
        r.failed_with("Permission denied")?;
        ensure(!r.out.contains(&secret), || "the secret leaked".into())
    });
    c.check(
        "B cannot take a file out of A's trashed 0755 directory",
        || {
            as_user(B, &mnt, "mv .trash/adir2/f gallery/f").failed_with("Permission denied")?;
            as_user(B, &mnt, "touch .trash/adir2/new").failed_with("Permission denied")
        },
    );
    for attr in ["user.trash.original_path", "user.trash.days_left"] {
        c.check(&format!("B cannot read {attr} of A's 0600 entry"), || {
            getfattr(B, &trash, attr, "secret.txt").failed_with("Permission denied")
        });
    }
    c.check("A reads the attributes of A's own entry", || {
        let path = getfattr(A, &trash, "user.trash.original_path", "secret.txt");
        path.succeeded()?;
        ensure(path.out == "secret.txt", || {
            format!("original_path {path:?}")
        })?;
        let days = getfattr(A, &trash, "user.trash.days_left", "secret.txt");
        days.succeeded()?;
        ensure(days.out == "30d", || format!("days_left {days:?}"))
    });
    c.check("B reads the attributes of A's 0644 entry", || {
        let path = getfattr(B, &trash, "user.trash.original_path", "apub.txt");
        path.succeeded()?;
        ensure(path.out == "apub.txt", || format!("original_path {path:?}"))
    });

    // ---- nothing is written through .trash --------------------------------
    for (who, uid) in [("A", A), ("B", B)] {
        c.check(&format!("{who} cannot create anything in .trash"), || {
            for script in [
                "touch new",
                "mkdir newdir",
                "mkfifo fifo",
                "ln -s x link",
                "echo x > new2",
            ] {
                as_user(uid, &trash, script).failed_with("Read-only file system")?;
            }
            Ok(())
        });
        c.check(
            &format!("{who} cannot create in a trashed directory whose mode allows it"),
            || as_user(uid, &trash, "touch adir3/new").failed_with("Read-only file system"),
        );
    }
    c.check("A cannot modify A's own entry", || {
        for script in [
            "echo x >> secret.txt",
            "chmod 644 secret.txt",
            "touch secret.txt",
            "truncate -s 0 secret.txt",
            "setfattr -n user.note -v 1 secret.txt",
            "echo x > adir2/f",
        ] {
            as_user(A, &trash, script).failed_with("Read-only file system")?;
        }
        let kept = fs::read_to_string(trash.join("secret.txt")).map_err(|e| e.to_string())?;
        ensure(kept == secret, || format!("the entry changed: {kept:?}"))
    });
    c.check("B cannot chmod or chown A's entry", || {
        as_user(B, &trash, "chmod 644 secret.txt").failed_with("Operation not permitted")?;
        as_user(B, &trash, "chown 2002 secret.txt").failed_with("Operation not permitted")
    });
    c.check("B cannot create entries under a name A's entry has", || {
        as_user(
            B,
            &gallery,
            "echo b > b.txt && mv b.txt ../.trash/secret.txt",
        )
        .failed_with("")?;
        ensure(
            fs::read_to_string(trash.join("secret.txt")).is_ok_and(|s| s == secret),
            || "A's entry was replaced".into(),
        )?;
        ensure(gallery.join("b.txt").exists(), || "b.txt left".into())
    });

    // ---- B's own entries ---------------------------------------------------
    c.check("B trashes and restores B's own files", || {
        as_user(
            B,
            &gallery,
            "echo 1 > b1.txt && echo 2 > b2.txt && rm b1.txt b2.txt \
             && mv ../.trash/b1.txt b1.txt && rm b1.txt",
        )
        .succeeded()?;
        owned_by(&trash.join("b1.txt"), B, B)?;
        owned_by(&trash.join("b2.txt"), B, B)
    });
    let bin = shared_binary(&m, &gallery_trash_bin(), "gallery-trash");
    c.check("gallery-trash empty --yes as B keeps A's entries", || {
        let r = as_user(B, &mnt, &format!("{} empty --yes", bin.display()));
        ensure(r.code == 0, || format!("exit status: {r:?}"))?;
        ensure(r.out.contains("Deleted 2 items."), || format!("{r:?}"))?;
        ensure(
            r.out
                .contains("Kept 4 items of other users (permission denied)."),
            || format!("{r:?}"),
        )?;
        ensure(r.err.is_empty(), || format!("errors: {r:?}"))?;
        let mut left: Vec<String> = fs::read_dir(&trash)
            .map_err(|e| e.to_string())?
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        ensure(left == ["adir2", "adir3", "apub.txt", "secret.txt"], || {
            format!("left in the trash: {left:?}")
        })
    });

    // ---- root can do everything -------------------------------------------
    c.check("root restores A's private entry as it was", || {
        as_root(&mnt, "mv .trash/secret.txt gallery/secret.txt").succeeded()?;
        owned_by(&gallery.join("secret.txt"), A, A)?;
        let back = fs::read_to_string(gallery.join("secret.txt")).map_err(|e| e.to_string())?;
        ensure(back == secret, || format!("content {back:?}"))
    });
    c.check("root renames and purges A's entries", || {
        as_root(
            &trash,
            "mv apub.txt renamed.txt && rm renamed.txt && rm -r adir2 adir3",
        )
        .succeeded()?;
        let left = fs::read_dir(m.storage.join("trash"))
            .map_err(|e| e.to_string())?
            .count();
        ensure(left == 0, || format!("{left} files left in STORAGE/trash"))
    });
    c.check("root reads and removes A's private file", || {
        as_root(
            &gallery,
            "cat secret.txt >/dev/null && rm secret.txt && rm ../.trash/secret.txt",
        )
        .succeeded()?;
        ensure(!m.storage.join("trash/secret.txt").exists(), || {
            "still in STORAGE/trash".into()
        })
    });

    // ---- without allow_other, nobody else gets in -------------------------
    let private = Mount::new();
    open_to_others(&private);
    fs::set_permissions(private.gallery(), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::write(private.gallery().join("mine"), "root's").unwrap();
    for uid in [A, B] {
        c.check(
            &format!("without allow_other, uid {uid} cannot stat the mount"),
            || {
                let mnt = private.mountpoint.as_os_str().as_bytes();
                let mnt = String::from_utf8_lossy(mnt);
                as_user(uid, Path::new("/"), &format!("stat '{mnt}'"))
                    .failed_with("Permission denied")?;
                as_user(uid, Path::new("/"), &format!("ls '{mnt}/gallery'"))
                    .failed_with("Permission denied")?;
                as_user(uid, Path::new("/"), &format!("cat '{mnt}/gallery/mine'"))
                    .failed_with("Permission denied")
            },
        );
    }

    let checks = c.count();
    c.finish(&format!("{checks} checks"));
}
