//! Names, paths and files at the edges of what Linux allows: odd and long
//! names, deep and over-`PATH_MAX` paths (through the `*at` calls), sparse
//! and >4 GiB files, loops, FIFOs, sockets, removing a file being written.

use super::*;

// ---- *at wrappers for paths longer than PATH_MAX ---------------------------

fn last_err<T>(what: &str) -> Result<T, String> {
    Err(format!("{what}: {}", std::io::Error::last_os_error()))
}

fn open_dir_at(dir: &OwnedFd, name: &[u8]) -> Result<OwnedFd, String> {
    let n = cstr(name);
    // SAFETY: a valid fd and C string.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            n.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return last_err("openat");
    }
    // SAFETY: a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_dir(path: &Path) -> Result<OwnedFd, String> {
    io(
        &path.display().to_string(),
        File::open(path).map(OwnedFd::from),
    )
}

fn mkdir_at(dir: &OwnedFd, name: &[u8]) -> Outcome {
    let n = cstr(name);
    // SAFETY: a valid fd and C string.
    if unsafe { libc::mkdirat(dir.as_raw_fd(), n.as_ptr(), 0o755) } != 0 {
        return last_err("mkdirat");
    }
    Ok(())
}

fn file_at(dir: &OwnedFd, name: &[u8], flags: i32) -> Result<File, String> {
    let n = cstr(name);
    // SAFETY: a valid fd and C string.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), n.as_ptr(), flags | libc::O_CLOEXEC, 0o644) };
    if fd < 0 {
        return last_err("openat");
    }
    // SAFETY: a fresh fd we own.
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn unlink_at(dir: &OwnedFd, name: &[u8]) -> Outcome {
    let n = cstr(name);
    // SAFETY: a valid fd and C string.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), n.as_ptr(), 0) } != 0 {
        return last_err("unlinkat");
    }
    Ok(())
}

fn rename_at(from: &OwnedFd, name: &[u8], to: &OwnedFd, new_name: &[u8]) -> Outcome {
    let (a, b) = (cstr(name), cstr(new_name));
    // SAFETY: valid fds and C strings.
    if unsafe { libc::renameat(from.as_raw_fd(), a.as_ptr(), to.as_raw_fd(), b.as_ptr()) } != 0 {
        return last_err("renameat");
    }
    Ok(())
}

// ---- names, paths and files -----------------------------------------------------

/// rm of `path` (in the gallery) makes entry `entry` with `original`, and
/// mv back restores it with its content.
fn round_trip(m: &Mount, rel: &[u8], entry: &[u8], content: &[u8]) -> Outcome {
    let path = m.gallery().join(OsStr::from_bytes(rel));
    io("write", fs::write(&path, content))?;
    io("rm", fs::remove_file(&path))?;
    ensure(!path.exists(), || "still in the gallery".into())?;
    let e = m.trash().join(OsStr::from_bytes(entry));
    content_is(&e, content)?;
    original_path_is(&e, rel)?;
    io("restore", fs::rename(&e, &path))?;
    content_is(&path, content)?;
    ensure(!e.exists(), || "still in the trash".into())
}

pub(super) fn names_and_files(c: &mut Checks, rng: &mut Rng) {
    let m = Mount::new();
    let g = m.gallery();
    let sentinel = rng.bytes(4096);
    fs::write(g.join("sentinel"), &sentinel).unwrap();

    let long: Vec<u8> = [vec![b'n'; 251], b".jpg".to_vec()].concat();
    c.check("a 255-byte name goes to the trash and back", || {
        round_trip(&m, &long, &long, b"long")
    });
    c.check("a 256-byte name is ENAMETOOLONG", || {
        let too_long = g.join(OsStr::from_bytes(&[b'x'; 256]));
        expect_errno("create", fs::write(&too_long, "x"), libc::ENAMETOOLONG)?;
        io("write", fs::write(g.join("short"), "s"))?;
        expect_errno(
            "rename",
            fs::rename(g.join("short"), &too_long),
            libc::ENAMETOOLONG,
        )?;
        content_is(&g.join("short"), b"s")
    });
    c.check(
        "two 255-byte names collide into a name of at most 255 bytes",
        || {
            for d in ["d1", "d2"] {
                io("mkdir", fs::create_dir(g.join(d)))?;
                let p = g.join(d).join(OsStr::from_bytes(&long));
                io("write", fs::write(&p, d))?;
                io("rm", fs::remove_file(&p))?;
            }
            let names = m.trash_os_names();
            let second = names
                .iter()
                .find(|n| n.as_bytes() != long.as_slice())
                .ok_or_else(|| format!("only {names:?}"))?;
            let sb = second.as_bytes();
            ensure(sb.len() <= 255 && sb.ends_with(b" (2).jpg"), || {
                format!("second entry {:?} ({} bytes)", second, sb.len())
            })?;
            original_path_is(&m.trash().join(second), &[b"d2/", &long[..]].concat())?;
            content_is(&m.trash().join(second), b"d2")?;
            for (entry, d) in [(OsStr::from_bytes(&long), "d1"), (second.as_os_str(), "d2")] {
                let back = g.join(d).join(OsStr::from_bytes(&long));
                io("restore", fs::rename(m.trash().join(entry), &back))?;
                content_is(&back, d.as_bytes())?;
            }
            Ok(())
        },
    );
    c.check("a non-UTF-8 name goes to the trash and back", || {
        round_trip(
            &m,
            b"caf\xe9-\xff\xfe.jpg",
            b"caf\xe9-\xff\xfe.jpg",
            b"bytes",
        )
    });
    c.check("a name with newlines goes to the trash and back", || {
        round_trip(
            &m,
            b"line one\nline two\n.txt",
            b"line one\nline two\n.txt",
            b"nl",
        )
    });

    c.check(
        "a path 100 directories deep goes to the trash and back",
        || {
            let rel: Vec<u8> = [&b"d/".repeat(100)[..], b"deep.txt"].concat();
            let dir = g.join(OsStr::from_bytes(&b"d/".repeat(100)));
            io("mkdir -p", fs::create_dir_all(&dir))?;
            round_trip(&m, &rel, b"deep.txt", b"deep")
        },
    );
    c.check(
        "a path longer than PATH_MAX goes to the trash and back",
        || {
            // Reached level by level through relative names, as `cd` would.
            let levels: Vec<Vec<u8>> = (0..25).map(|i| format!("{i:0>200}").into_bytes()).collect();
            let mut dir = open_dir(&g)?;
            for name in &levels {
                mkdir_at(&dir, name)?;
                dir = open_dir_at(&dir, name)?;
            }
            let data = rng.bytes(100_000);
            let mut f = file_at(
                &dir,
                b"far.bin",
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
            )?;
            io("write", f.write_all(&data))?;
            drop(f);
            unlink_at(&dir, b"far.bin")?;
            let rel: Vec<u8> = [&levels.join(&b'/')[..], b"/far.bin"].concat();
            ensure(rel.len() > libc::PATH_MAX as usize, || "too short".into())?;
            let entry = m.trash().join("far.bin");
            original_path_is(&entry, &rel)?;
            content_is(&entry, &data)?;
            rename_at(&open_dir(&m.trash())?, b"far.bin", &dir, b"far.bin")?;
            let mut back = Vec::new();
            io(
                "read",
                file_at(&dir, b"far.bin", libc::O_RDONLY)?.read_to_end(&mut back),
            )?;
            ensure(back == data, || "content changed".into())?;
            ensure(!entry.exists(), || "still in the trash".into())
        },
    );

    c.check("a 0-byte file goes to the trash and back", || {
        round_trip(&m, b"empty", b"empty", b"")?;
        let len = io("stat", fs::metadata(g.join("empty")))?.len();
        ensure(len == 0, || format!("size {len}"))
    });
    for (label, size, offsets) in [
        ("a sparse file", 64u64 << 20, vec![0u64, (64 << 20) - 1]),
        (
            "a sparse file over 4 GiB",
            5u64 << 30,
            vec![1 << 20, (9 << 29) + 7, (5 << 30) - 3],
        ),
    ] {
        c.check(&format!("{label} keeps its size and holes"), || {
            let name = format!("sparse-{size}");
            let path = g.join(&name);
            let f = io("create", File::create(&path))?;
            io("truncate", f.set_len(size))?;
            for &off in &offsets {
                io("pwrite", f.write_all_at(b"xyz", off.min(size - 3)))?;
            }
            drop(f);
            let check = |p: &Path| -> Outcome {
                let meta = io("stat", fs::symlink_metadata(p))?;
                ensure(meta.len() == size, || format!("size {}", meta.len()))?;
                ensure(meta.blocks() * 512 < 1 << 20, || {
                    format!("{} blocks: holes were filled", meta.blocks())
                })?;
                let f = io("open", File::open(p))?;
                for &off in &offsets {
                    let mut buf = [0u8; 3];
                    io("pread", f.read_exact_at(&mut buf, off.min(size - 3)))?;
                    ensure(&buf == b"xyz", || format!("data at {off}"))?;
                }
                Ok(())
            };
            check(&path)?;
            io("rm", fs::remove_file(&path))?;
            let entry = m.trash().join(&name);
            check(&entry)?;
            check(&m.storage.join("trash").join(&name))?;
            io("restore", fs::rename(&entry, &path))?;
            check(&path)?;
            io("cleanup", fs::remove_file(&path))?;
            io("purge", fs::remove_file(&entry))
        });
    }

    c.check("a symlink loop gives ELOOP and rm works", || {
        io("ln", std::os::unix::fs::symlink("b", g.join("a")))?;
        io("ln", std::os::unix::fs::symlink("a", g.join("b")))?;
        expect_errno("stat", fs::metadata(g.join("a")), libc::ELOOP)?;
        expect_errno("open", File::open(g.join("b")), libc::ELOOP)?;
        io("rm", fs::remove_file(g.join("a")))?;
        io("rm", fs::remove_file(g.join("b")))?;
        for (name, target) in [("a", "b"), ("b", "a")] {
            let e = m.trash().join(name);
            let link = io("readlink", fs::read_link(&e))?;
            ensure(link == Path::new(target), || format!("{name} -> {link:?}"))?;
            special_entry(&m, name, name.as_bytes())?;
        }
        io("restore", fs::rename(m.trash().join("a"), g.join("a")))?;
        ensure(
            io("lstat", fs::symlink_metadata(g.join("a")))?
                .file_type()
                .is_symlink(),
            || "not a symlink".into(),
        )?;
        io("cleanup", fs::remove_file(g.join("a")))?;
        io("purge", fs::remove_file(m.trash().join("a")))?;
        io("purge", fs::remove_file(m.trash().join("b")))
    });
    c.check("a FIFO goes to the trash and back", || {
        let ok = Command::new("mkfifo").arg(g.join("fifo")).status();
        ensure(ok.is_ok_and(|s| s.success()), || "mkfifo".into())?;
        io("rm", fs::remove_file(g.join("fifo")))?;
        let e = m.trash().join("fifo");
        ensure(
            io("lstat", fs::symlink_metadata(&e))?.file_type().is_fifo(),
            || "entry is not a FIFO".into(),
        )?;
        special_entry(&m, "fifo", b"fifo")?;
        io("restore", fs::rename(&e, g.join("fifo")))?;
        ensure(
            io("lstat", fs::symlink_metadata(g.join("fifo")))?
                .file_type()
                .is_fifo(),
            || "restored is not a FIFO".into(),
        )
    });
    c.check("a unix socket goes to the trash and back", || {
        let listener = io(
            "bind",
            std::os::unix::net::UnixListener::bind(g.join("sock")),
        )?;
        drop(listener);
        io("rm", fs::remove_file(g.join("sock")))?;
        let e = m.trash().join("sock");
        ensure(
            io("lstat", fs::symlink_metadata(&e))?
                .file_type()
                .is_socket(),
            || "entry is not a socket".into(),
        )?;
        special_entry(&m, "sock", b"sock")?;
        io("restore", fs::rename(&e, g.join("sock")))?;
        ensure(
            io("lstat", fs::symlink_metadata(g.join("sock")))?
                .file_type()
                .is_socket(),
            || "restored is not a socket".into(),
        )
    });
    c.check("rm of a file being written keeps every byte", || {
        let path = g.join("growing.log");
        let mut f = io("create", File::create(&path))?;
        let mut all = Vec::new();
        for i in 0..48 {
            let chunk = rng.bytes(64 * 1024);
            io("write", f.write_all(&chunk))?;
            all.extend_from_slice(&chunk);
            if i == 16 {
                io("rm", fs::remove_file(&path))?;
            }
        }
        io("fsync", f.sync_all())?;
        drop(f);
        ensure(!path.exists(), || "still in the gallery".into())?;
        let e = m.trash().join("growing.log");
        let len = io("stat", fs::metadata(&e))?.len();
        ensure(len == all.len() as u64, || format!("entry size {len}"))?;
        content_is(&e, &all)?;
        content_is(&m.storage.join("trash/growing.log"), &all)
    });

    c.check("the sentinel file is intact after every case", || {
        content_is(&g.join("sentinel"), &sentinel)?;
        let log = m.log();
        ensure(!log.contains("panicked"), || format!("daemon log: {log}"))
    });
}
