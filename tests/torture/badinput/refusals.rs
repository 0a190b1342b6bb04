//! Mounts that must be refused: the command line, STORAGE, MOUNTPOINT and
//! the database, each with its exact message and exit status, and a seeded
//! store that every refusal must leave untouched.

use super::*;

// ---- the store every refused mount must leave untouched ---------------------

/// A real store, unmounted: gallery files, nested directories, and enough
/// trash entries that its database spans many pages.
fn seeded_store(rng: &mut Rng) -> Mount {
    let mut m = Mount::new();
    let g = m.gallery();
    fs::create_dir_all(g.join("albums/2026")).unwrap();
    fs::write(g.join("keep.txt"), rng.bytes(5000)).unwrap();
    fs::write(g.join("albums/2026/cat.jpg"), rng.bytes(20_000)).unwrap();
    for i in 0..300 {
        let name = format!("a-rather-long-name-to-fill-the-catalog-{i:04}.jpg");
        fs::write(g.join("albums").join(&name), rng.bytes(64)).unwrap();
        fs::remove_file(g.join("albums").join(&name)).unwrap();
    }
    m.unmount();
    m
}

/// The cases about the command line, STORAGE, MOUNTPOINT and the database.
pub(super) fn refusals(c: &mut Checks, rng: &mut Rng) {
    let m = seeded_store(rng);
    open_to_others(&m);
    let (store, mnt) = (m.storage.clone(), m.mountpoint.clone());
    let _guard = Unmount(mnt.clone());
    let mut before = store_snapshot(&store);
    assert!(before.len() > 300, "the seeded store is too small");
    let with = |extra: &[&OsStr]| {
        let mut args = vec![store.as_os_str(), mnt.as_os_str()];
        args.extend_from_slice(extra);
        galleryfs(args)
    };
    let o = |s: &'static str| OsStr::new(s);

    // ---- options ------------------------------------------------------------
    let option_cases: &[(&[&OsStr], &str)] = &[
        (&[o("-o")], "galleryfs: option '-o' requires an argument"),
        (
            &[o("-o"), o("retention=")],
            "galleryfs: invalid duration '' for retention",
        ),
        (
            &[o("-o"), o("sweep=1.5x")],
            "galleryfs: invalid duration '1.5x' for sweep",
        ),
        (
            &[o("-o"), o("retention=99999999999999d")],
            "invalid duration '99999999999999d' for retention",
        ),
        (
            &[o("-o"), o("allow_other,allow_root")],
            "galleryfs: allow_other and allow_root are mutually exclusive",
        ),
        (
            &[o("-o"), o("allow_other"), o("-o"), o("allow_root")],
            "galleryfs: allow_other and allow_root are mutually exclusive",
        ),
        (
            &[o("-o"), o("fsname=")],
            "galleryfs: fsname must not be empty",
        ),
        (
            &[o("-o"), o("retention")],
            "galleryfs: option 'retention' requires a value",
        ),
        (
            &[o("-o"), o("allow_other=yes")],
            "galleryfs: option 'allow_other' takes no value",
        ),
        (
            &[o("-o"), OsStr::from_bytes(b"fsname=\xff")],
            "are not valid UTF-8",
        ),
        (
            &[o("-o"), o("remount")],
            "galleryfs: remount is not supported",
        ),
        (&[o("extra")], "galleryfs: unexpected argument 'extra'"),
    ];
    for (extra, message) in option_cases {
        c.check(&format!("option {extra:?} is refused"), || {
            refused(&with(extra), message, &mnt)?;
            unchanged(&store, &before)
        });
    }
    c.check("an empty -o means no options", || {
        with(&[o("-o"), o("")]).succeeded()?;
        ensure(is_mounted(&mnt), || "not mounted".into())?;
        content_is(
            &mnt.join("gallery/keep.txt"),
            &before[&b"gallery/keep.txt"[..]].1,
        )?;
        unmount(&mnt, &store)?;
        // A mount may write to its database; the files must be as they were.
        let now = store_snapshot(&store);
        ensure(
            now.iter()
                .filter(|(k, _)| !k.starts_with(b"galleryfs.db"))
                .eq(before
                    .iter()
                    .filter(|(k, _)| !k.starts_with(b"galleryfs.db"))),
            || "gallery or trash changed".into(),
        )
    });
    before = store_snapshot(&store);

    // ---- STORAGE --------------------------------------------------------------
    c.check("a missing STORAGE is created, never its parents", || {
        let typo = m.base.path().join("new/deeper/store");
        let r = galleryfs([typo.as_os_str(), mnt.as_os_str()]);
        refused(&r, "its parent", &mnt)?;
        ensure(r.err.contains("does not exist"), || format!("{r:?}"))?;
        ensure(!m.base.path().join("new").exists(), || {
            "a missing parent was created".into()
        })?;
        let fresh = m.base.path().join("new-store");
        let r = galleryfs([fresh.as_os_str(), mnt.as_os_str()]);
        r.succeeded()?;
        io("write", fs::write(mnt.join("gallery/x"), "x"))?;
        unmount(&mnt, &fresh)?;
        for part in ["gallery/x", "trash", "galleryfs.db"] {
            ensure(fresh.join(part).exists(), || format!("no {part}"))?;
        }
        Ok(())
    });
    c.check("STORAGE that is a file is refused", || {
        let file = m.base.path().join("a-file");
        io("write", fs::write(&file, "data"))?;
        let r = galleryfs([file.as_os_str(), mnt.as_os_str()]);
        refused(&r, "is not a directory", &mnt)?;
        content_is(&file, b"data")
    });
    c.check("STORAGE unreadable by its user is refused", || {
        let bin = shared_binary(&m, &galleryfs_bin(), "galleryfs");
        let own = |uid: u32| {
            Command::new("chown")
                .args(["-R", &format!("{uid}:{uid}")])
                .arg(&store)
                .arg(&mnt)
                .status()
                .map(|s| s.success())
        };
        ensure(io("chown", own(USER))?, || "chown failed".into())?;
        io(
            "chmod",
            fs::set_permissions(&store, fs::Permissions::from_mode(0o000)),
        )?;
        let r = as_user(
            USER,
            Path::new("/"),
            &format!("{} {} {}", bin.display(), store.display(), mnt.display()),
        );
        io(
            "chmod",
            fs::set_permissions(&store, fs::Permissions::from_mode(0o755)),
        )?;
        ensure(io("chown", own(0))?, || "chown back failed".into())?;
        refused(&r, "cannot read STORAGE", &mnt)?;
        ensure(r.err.contains("Permission denied"), || format!("{r:?}"))?;
        unchanged(&store, &before)
    });
    c.check(
        "a read-only STORAGE directory is refused naming the permission",
        || {
            let bin = shared_binary(&m, &galleryfs_bin(), "galleryfs");
            let own = |uid: u32| {
                Command::new("chown")
                    .args(["-R", &format!("{uid}:{uid}")])
                    .arg(&store)
                    .arg(&mnt)
                    .status()
                    .map(|s| s.success())
            };
            ensure(io("chown", own(USER))?, || "chown failed".into())?;
            io(
                "chmod",
                fs::set_permissions(&store, fs::Permissions::from_mode(0o555)),
            )?;
            let r = as_user(
                USER,
                Path::new("/"),
                &format!("{} {} {}", bin.display(), store.display(), mnt.display()),
            );
            io(
                "chmod",
                fs::set_permissions(&store, fs::Permissions::from_mode(0o755)),
            )?;
            ensure(io("chown", own(0))?, || "chown back failed".into())?;
            refused(&r, &format!("Permission denied for uid {USER}"), &mnt)?;
            ensure(r.err.contains("chmod u+w"), || format!("{r:?}"))?;
            // The catalog is healthy: moving it away would lose every original path.
            ensure(!r.err.contains("move it away"), || format!("{r:?}"))?;
            unchanged(&store, &before)
        },
    );
    c.check("an immutable catalog is refused naming chattr", || {
        let db = store.join("galleryfs.db");
        let chattr = |flag: &str| {
            Command::new("chattr")
                .arg(flag)
                .arg(&db)
                .status()
                .map(|s| s.success())
        };
        ensure(io("chattr", chattr("+i"))?, || {
            "chattr +i failed (STORAGE must be on ext4, btrfs or xfs)".into()
        })?;
        let r = with(&[]);
        ensure(io("chattr", chattr("-i"))?, || "chattr -i failed".into())?;
        refused(&r, "is immutable", &mnt)?;
        ensure(
            r.err.contains(&format!("chattr -i {}", db.display()))
                && !r.err.contains("Input/output error")
                && !r.err.contains("move it away"),
            || format!("{r:?}"),
        )?;
        unchanged(&store, &before)
    });
    c.check("a read-only STORAGE is refused", || {
        let ro = m.base.path().join("ro-store");
        io("mkdir", fs::create_dir(&ro))?;
        let _ro_guard = Unmount(ro.clone());
        for args in [
            vec![OsStr::new("--bind"), store.as_os_str(), ro.as_os_str()],
            vec![
                OsStr::new("-o"),
                OsStr::new("remount,bind,ro"),
                ro.as_os_str(),
            ],
        ] {
            let ok = Command::new("mount").args(&args).status();
            ensure(ok.is_ok_and(|s| s.success()), || format!("mount {args:?}"))?;
        }
        for extra in [&[][..], &[o("-o"), o("ro")][..]] {
            let mut args = vec![ro.as_os_str(), mnt.as_os_str()];
            args.extend_from_slice(extra);
            let r = galleryfs(args);
            refused(&r, "cannot write to STORAGE", &mnt)?;
            ensure(
                r.err.contains("Read-only file system") && r.err.contains("remount"),
                || format!("{r:?}"),
            )?;
        }
        unchanged(&store, &before)
    });

    c.check("a STORAGE whose filesystem filled while unmounted", || {
        let full = m.base.path().join("full-store");
        io("mkdir", fs::create_dir(&full))?;
        let _tmpfs_guard = Unmount(full.clone());
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(&full)
            .status();
        ensure(ok.is_ok_and(|s| s.success()), || "mount tmpfs".into())?;
        galleryfs([full.as_os_str(), mnt.as_os_str()]).succeeded()?;
        io("write", fs::write(mnt.join("gallery/keep.txt"), "keep"))?;
        io("write", fs::write(mnt.join("gallery/gone.txt"), "gone"))?;
        io("rm", fs::remove_file(mnt.join("gallery/gone.txt")))?;
        unmount(&mnt, &full)?;
        // Something else fills the filesystem.
        let mut filler = io("create", File::create(full.join("gallery/filler")))?;
        while filler.write_all(&[0u8; 65536]).is_ok() {}
        drop(filler);
        let full_before = store_snapshot(&full);
        let r = galleryfs([full.as_os_str(), mnt.as_os_str()]);
        if r.code == 0 {
            // Mounted: then the trash must work, to free space through it.
            io("rm", fs::remove_file(mnt.join("gallery/filler")))?;
            io("purge", fs::remove_file(mnt.join(".trash/filler")))?;
            unmount(&mnt, &full)?;
        } else {
            // Refused: saying why, changing nothing, never "move it away".
            refused(&r, "is full", &mnt)?;
            ensure(
                r.err.contains("free some space") && !r.err.contains("move it away"),
                || format!("{r:?}"),
            )?;
            unchanged(&full, &full_before)?;
            io("rm", fs::remove_file(full.join("gallery/filler")))?;
        }
        galleryfs([full.as_os_str(), mnt.as_os_str()]).succeeded()?;
        let kept = content_is(&mnt.join("gallery/keep.txt"), b"keep")
            .and_then(|()| content_is(&mnt.join(".trash/gone.txt"), b"gone"));
        unmount(&mnt, &full)?;
        kept
    });

    // ---- MOUNTPOINT -------------------------------------------------------------
    c.check(
        "a missing MOUNTPOINT is refused before STORAGE is created",
        || {
            let fresh = m.base.path().join("never-created");
            let nowhere = m.base.path().join("no-such-mnt");
            let r = galleryfs([fresh.as_os_str(), nowhere.as_os_str()]);
            refused(&r, "does not exist", &nowhere)?;
            ensure(!fresh.exists(), || "STORAGE was created".into())
        },
    );
    c.check("a MOUNTPOINT that is a file is refused", || {
        let file = m.base.path().join("mnt-file");
        io("write", fs::write(&file, "data"))?;
        let r = galleryfs([store.as_os_str(), file.as_os_str()]);
        refused(&r, "is not a directory", &file)?;
        content_is(&file, b"data")?;
        unchanged(&store, &before)
    });
    c.check("a MOUNTPOINT inside STORAGE is refused", || {
        let inside = store.join("gallery");
        let r = galleryfs([store.as_os_str(), inside.as_os_str()]);
        refused(&r, "must not contain each other", &inside)?;
        unchanged(&store, &before)
    });
    {
        let live = Mount::new();
        io_panic(fs::write(live.gallery().join("live.txt"), "live"));
        c.check("a MOUNTPOINT that is already a mount is refused", || {
            let r = galleryfs([store.as_os_str(), live.mountpoint.as_os_str()]);
            ensure(r.code == 1, || format!("{r:?}"))?;
            ensure(r.err.contains("is already a mount point"), || {
                format!("{r:?}")
            })?;
            content_is(&live.gallery().join("live.txt"), b"live")?;
            unchanged(&store, &before)
        });
        c.check(
            "the same STORAGE twice, by another path, is refused",
            || {
                let alias = m.base.path().join("alias");
                io("symlink", std::os::unix::fs::symlink(&live.storage, &alias))?;
                let r = galleryfs([alias.as_os_str(), mnt.as_os_str()]);
                refused(
                    &r,
                    &format!(
                        "is already mounted by another galleryfs (pid {})",
                        live.pid()
                    ),
                    &mnt,
                )?;
                // The lock file still names the first mount.
                let holder = io(
                    "lock",
                    fs::read_to_string(live.storage.join("galleryfs.lock")),
                )?;
                ensure(holder.trim() == live.pid().to_string(), || {
                    format!("lock file says {holder:?}")
                })?;
                content_is(&live.gallery().join("live.txt"), b"live")
            },
        );
    }

    // ---- the database -------------------------------------------------------------
    let db = store.join("galleryfs.db");
    let real_db = fs::read(&db).unwrap();
    let corrupt = |c: &mut Checks, what: &str, bad: Vec<u8>, message: &str| {
        c.check(what, || {
            io("write db", fs::write(&db, &bad))?;
            let r = with(&[]);
            let kept = fs::read(&db).map_err(|e| e.to_string());
            io("restore db", fs::write(&db, &real_db))?;
            refused(&r, message, &mnt)?;
            ensure(r.err.contains("galleryfs.db"), || format!("{r:?}"))?;
            ensure(kept? == bad, || "the database was changed".into())?;
            unchanged(&store, &before)
        });
    };
    let mut garbage = b"SQLite format 3\0".to_vec();
    garbage.extend(rng.bytes(real_db.len() - garbage.len()));
    corrupt(
        c,
        "a garbage database with an SQLite header is refused",
        garbage,
        "is not a valid galleryfs database",
    );
    corrupt(
        c,
        "a database cut in half is refused",
        real_db[..real_db.len() / 2].to_vec(),
        "is not a valid galleryfs database",
    );
    let newer = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let newer = fs::read(&db).unwrap();
        fs::write(&db, &real_db).unwrap();
        newer
    };
    corrupt(
        c,
        "a database from a newer schema is refused",
        newer,
        "was written by a newer galleryfs (schema version 99",
    );
    c.check(
        "a database locked by another process is refused in seconds",
        || {
            let conn = rusqlite::Connection::open(&db).map_err(|e| e.to_string())?;
            conn.execute_batch("BEGIN EXCLUSIVE")
                .map_err(|e| e.to_string())?;
            let start = Instant::now();
            let r = with(&[]);
            let took = start.elapsed();
            drop(conn);
            refused(&r, "is locked by another process", &mnt)?;
            ensure(!r.err.contains("move it away"), || {
                format!("a locked database must not be moved away: {r:?}")
            })?;
            ensure(took < Duration::from_secs(15), || format!("took {took:?}"))?;
            unchanged(&store, &before)?;
            // Once the lock is gone, the same command mounts with everything there.
            with(&[]).succeeded()?;
            let entries = io("readdir", fs::read_dir(mnt.join(".trash")))?.count();
            let keep = mnt.join("gallery/keep.txt");
            content_is(&keep, &before[&b"gallery/keep.txt"[..]].1)?;
            unmount(&mnt, &store)?;
            ensure(entries == 300, || format!("{entries} trash entries"))
        },
    );
}

fn io_panic<T>(r: std::io::Result<T>) -> T {
    r.expect("test setup")
}
