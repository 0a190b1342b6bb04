//! The calls an example is made of (`stat P`, `rename A B`, `getxattr P N ==
//! V`, …), each executed as the one syscall the document says, reporting
//! its errno.

use super::*;

// ---- running an example -----------------------------------------------------------

pub(super) enum Failure {
    /// The call failed with this errno.
    Errno(i32),
    /// The call succeeded but showed something else than the example says.
    Wrong(String),
    /// The example cannot be executed.
    NoExecutor(String),
}

pub(super) type Step = Result<(), Failure>;

pub(super) fn sys(ret: libc::c_int) -> Step {
    if ret < 0 {
        Err(Failure::Errno(last_errno()))
    } else {
        Ok(())
    }
}

pub(super) fn io_step<T>(r: io::Result<T>) -> Result<T, Failure> {
    r.map_err(|e| Failure::Errno(e.raw_os_error().unwrap_or(libc::EIO)))
}

pub(super) fn uid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// A path of an example: relative to the mount root, `.` the root itself.
pub(super) fn resolve(m: &Mount, p: &str) -> PathBuf {
    if p == "." {
        return m.mountpoint.clone();
    }
    m.mountpoint
        .join(p.replace(".Trash-UID", &format!(".Trash-{}", uid())))
}

/// `left == right` as an example's expectation.
pub(super) fn expect_eq(what: &str, got: String, want: &str) -> Step {
    if got == want {
        Ok(())
    } else {
        Err(Failure::Wrong(format!("{what} is {got:?}, not {want:?}")))
    }
}

/// Splits `ARGS == EXPECTED` (or `~ EXPECTED` where `contains` is allowed).
pub(super) fn expectation(rest: &str) -> (&str, Option<(&str, &str)>) {
    for op in [" == ", " ~ "] {
        if let Some((args, want)) = rest.split_once(op) {
            return (args, Some((op.trim(), want)));
        }
    }
    for op in [" ==", " ~"] {
        if let Some(args) = rest.strip_suffix(op) {
            return (args, Some((op.trim(), "")));
        }
    }
    (rest, None)
}

/// An xattr value: the text itself, or bytes written `0x…` in hex.
pub(super) fn value_bytes(v: &str) -> Result<Vec<u8>, Failure> {
    let Some(hex) = v.strip_prefix("0x") else {
        return Ok(v.as_bytes().to_vec());
    };
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| Failure::NoExecutor(format!("bad hex value {v:?}")))
        })
        .collect()
}

pub(super) fn mode_arg(s: &str) -> Result<u32, Failure> {
    u32::from_str_radix(s, 8).map_err(|_| Failure::NoExecutor(format!("bad mode {s:?}")))
}

/// Runs one call of an example.
pub(super) fn step(m: &Mount, call: &str) -> Step {
    let (verb, rest) = call.split_once(' ').unwrap_or((call, ""));
    let (args_text, want) = expectation(rest);
    let args: Vec<&str> = args_text.split_whitespace().collect();
    let p = |i: usize| -> Result<PathBuf, Failure> {
        args.get(i)
            .map(|a| resolve(m, a))
            .ok_or_else(|| Failure::NoExecutor(format!("`{call}` lacks argument {}", i + 1)))
    };
    let c = |i: usize| -> Result<CString, Failure> { Ok(cpath(&p(i)?)) };
    let no_expectation = |s: Step| -> Step {
        match want {
            Some(_) => Err(Failure::NoExecutor(format!("`{verb}` takes no == or ~"))),
            None => s,
        }
    };
    match verb {
        "stat" => no_expectation(io_step(fs::symlink_metadata(p(0)?)).map(drop)),
        "readdir" => {
            let names: Vec<String> = io_step(fs::read_dir(p(0)?))?
                .map(|e| io_step(e).map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<Result<_, _>>()?;
            let mut names = names;
            names.sort();
            match want {
                Some(("==", want)) => {
                    let mut want: Vec<&str> = want.split_whitespace().collect();
                    want.sort();
                    expect_eq("the listing", names.join(" "), &want.join(" "))
                }
                None => Ok(()),
                Some(_) => Err(Failure::NoExecutor("readdir takes ==".into())),
            }
        }
        "read" => {
            let data = io_step(fs::read(p(0)?))?;
            let text = String::from_utf8_lossy(&data).into_owned();
            match want {
                Some(("==", want)) => expect_eq("the content", text, want),
                Some(("~", want)) if text.contains(want) => Ok(()),
                Some(("~", want)) => Err(Failure::Wrong(format!(
                    "the content {text:?} lacks {want:?}"
                ))),
                _ => Ok(()),
            }
        }
        "create" => no_expectation({
            let path = c(0)?;
            // SAFETY: a valid path.
            let fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                )
            };
            sys(fd).map(|()| {
                // SAFETY: the fd just opened.
                unsafe { libc::close(fd) };
            })
        }),
        "mkdir" => no_expectation({
            let path = c(0)?;
            // SAFETY: a valid path.
            sys(unsafe { libc::mkdir(path.as_ptr(), 0o755) })
        }),
        "mkfifo" => no_expectation({
            let path = c(0)?;
            // SAFETY: a valid path.
            sys(unsafe { libc::mknod(path.as_ptr(), libc::S_IFIFO | 0o644, 0) })
        }),
        "symlink" => no_expectation({
            let target = CString::new(
                *args
                    .first()
                    .ok_or_else(|| Failure::NoExecutor("symlink lacks a target".into()))?,
            )
            .expect("no NUL");
            let path = c(1)?;
            // SAFETY: valid strings.
            sys(unsafe { libc::symlink(target.as_ptr(), path.as_ptr()) })
        }),
        "open" => no_expectation({
            let path = c(0)?;
            let mut flags = match args.get(1).copied() {
                Some("r") => libc::O_RDONLY,
                Some("w") => libc::O_WRONLY,
                Some("rw") => libc::O_RDWR,
                other => {
                    return Err(Failure::NoExecutor(format!("open mode {other:?}")));
                }
            };
            match args.get(2).copied() {
                None => {}
                Some("trunc") => flags |= libc::O_TRUNC,
                Some(other) => return Err(Failure::NoExecutor(format!("open flag {other:?}"))),
            }
            // SAFETY: a valid path.
            let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
            sys(fd).map(|()| {
                // SAFETY: the fd just opened.
                unsafe { libc::close(fd) };
            })
        }),
        "write" => no_expectation({
            let (path, text) = rest
                .split_once(' ')
                .ok_or_else(|| Failure::NoExecutor("write P TEXT".into()))?;
            let mut f = io_step(OpenOptions::new().write(true).open(resolve(m, path)))?;
            io_step(f.write_all(text.as_bytes()))
        }),
        "truncate" => no_expectation({
            let path = c(0)?;
            let len: i64 = args
                .get(1)
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| Failure::NoExecutor("truncate P N".into()))?;
            // SAFETY: a valid path.
            sys(unsafe { libc::truncate(path.as_ptr(), len) })
        }),
        "unlink" => no_expectation({
            let path = c(0)?;
            // SAFETY: a valid path.
            sys(unsafe { libc::unlink(path.as_ptr()) })
        }),
        "rmdir" => no_expectation({
            let path = c(0)?;
            // SAFETY: a valid path.
            sys(unsafe { libc::rmdir(path.as_ptr()) })
        }),
        "rename" | "rename-noreplace" | "rename-exchange" => no_expectation({
            let flags = match verb {
                "rename" => 0,
                "rename-noreplace" => libc::RENAME_NOREPLACE,
                _ => libc::RENAME_EXCHANGE,
            };
            let (from, to) = (c(0)?, c(1)?);
            // SAFETY: valid paths.
            sys(unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    from.as_ptr(),
                    libc::AT_FDCWD,
                    to.as_ptr(),
                    flags,
                )
            })
        }),
        "link" => no_expectation({
            let (from, to) = (c(0)?, c(1)?);
            // SAFETY: valid paths.
            sys(unsafe { libc::link(from.as_ptr(), to.as_ptr()) })
        }),
        "chmod" => no_expectation({
            let path = c(0)?;
            let mode = mode_arg(args.get(1).copied().unwrap_or(""))?;
            // SAFETY: a valid path.
            sys(unsafe { libc::fchmodat(libc::AT_FDCWD, path.as_ptr(), mode, 0) })
        }),
        "chown" => no_expectation({
            let path = c(0)?;
            let (u, g) = args
                .get(1)
                .and_then(|s| s.split_once(':'))
                .and_then(|(u, g)| Some((u.parse().ok()?, g.parse().ok()?)))
                .ok_or_else(|| Failure::NoExecutor("chown P UID:GID".into()))?;
            // SAFETY: a valid path.
            sys(unsafe { libc::lchown(path.as_ptr(), u, g) })
        }),
        "touch" => no_expectation({
            let path = c(0)?;
            // SAFETY: a valid path; null times mean now.
            sys(unsafe {
                libc::utimensat(
                    libc::AT_FDCWD,
                    path.as_ptr(),
                    std::ptr::null(),
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            })
        }),
        "getxattr" => {
            let name = args
                .get(1)
                .ok_or_else(|| Failure::NoExecutor("getxattr P NAME".into()))?;
            let value = io_step(xattr::get(&p(0)?, name))?;
            match want {
                Some(("==", want)) => {
                    expect_eq("the value", String::from_utf8_lossy(&value).into(), want)
                }
                None => Ok(()),
                Some(_) => Err(Failure::NoExecutor("getxattr takes ==".into())),
            }
        }
        "listxattr" => {
            let names = io_step(xattr::list(&p(0)?))?;
            match want {
                Some(("==", want)) => {
                    let mut want: Vec<&str> = want.split_whitespace().collect();
                    want.sort();
                    let got: Vec<&str> = names.iter().map(String::as_str).collect();
                    expect_eq("the names", got.join(" "), &want.join(" "))
                }
                None => Ok(()),
                Some(_) => Err(Failure::NoExecutor("listxattr takes ==".into())),
            }
        }
        "setxattr" => no_expectation({
            let mut parts = rest.splitn(3, ' ');
            let (path, name, value) = match (parts.next(), parts.next(), parts.next()) {
                (Some(p), Some(n), Some(v)) => (resolve(m, p), n, v),
                _ => return Err(Failure::NoExecutor("setxattr P NAME VALUE".into())),
            };
            io_step(xattr::set(&path, name, &value_bytes(value)?))
        }),
        "removexattr" => no_expectation({
            let name = args
                .get(1)
                .ok_or_else(|| Failure::NoExecutor("removexattr P NAME".into()))?;
            io_step(xattr::remove(&p(0)?, name))
        }),
        _ => Err(Failure::NoExecutor(format!("no executor for `{verb}`"))),
    }
}
