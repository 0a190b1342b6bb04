//! doc/SEMANTICS.md's operation table, executed: every row's example runs on
//! a fresh mount holding the scene the document describes, and its outcome
//! (`ok`, `→ .trash`, `→ gallery`, `deleted` or an errno) is asserted, so the
//! document cannot drift from the code. A row whose example has no executor,
//! or whose outcome differs, fails the test; all failures are reported at
//! once, each with its line in the document.

use std::ffi::CString;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use galleryfs_testkit::consistency::walk;
use galleryfs_testkit::errno::{errno_from_name, errno_name, last_errno};

use super::*;

mod calls;
mod table;

use calls::*;
use table::*;

/// Threads running rows (each on a mount of its own).
const PARALLEL: usize = 3;

// ---- the scene -----------------------------------------------------------------

/// Builds the scene of the document's "Operations" section through the mount.
fn scene(m: &Mount) {
    let g = m.gallery();
    write(&g.join("f"), b"f");
    write(&g.join("g"), b"g");
    write(&g.join("h"), b"h");
    fs::hard_link(g.join("h"), g.join("h2")).expect("link gallery/h2");
    mkdir_p(&g.join("d"));
    write(&g.join("d/x"), b"x");
    mkdir_p(&g.join("e"));
    for name in ["t", "u"] {
        write(&g.join(name), name.as_bytes());
        fs::remove_file(g.join(name)).expect("unlink into the trash");
    }
    mkdir_p(&g.join("td/sub"));
    write(&g.join("td/x"), b"x");
    fs::rename(g.join("td"), m.trash().join("td")).expect("mv gallery/td .trash/td");
    mkdir_p(&g.join("te"));
    fs::rename(g.join("te"), m.trash().join("te")).expect("mv gallery/te .trash/te");
    assert_eq!(
        m.trash_names(),
        ["t", "td", "te", "u"],
        "the scene's entries"
    );
}

// ---- observing the effects ----------------------------------------------------------

/// Everything an errno row must leave unchanged: each name below `gallery/`
/// and `.trash/` with its kind, mode, owner, size, content and user xattrs.
fn snapshot(m: &Mount) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for area in ["gallery", ".trash"] {
        let mut items = Vec::new();
        walk(&m.mountpoint.join(area), "", &mut items)
            .unwrap_or_else(|e| panic!("walk {area}: {e}"));
        for (rel, md) in items {
            let path = m.mountpoint.join(area).join(&rel);
            let mut what = format!("{:o} {}:{} {}", md.mode(), md.uid(), md.gid(), md.len());
            if md.is_file() {
                what += &format!(" {:?}", fs::read(&path).ok());
            }
            if md.is_file() || md.is_dir() {
                for name in xattr::list(&path).unwrap_or_default() {
                    if name.starts_with("user.") && !name.starts_with("user.trash.") {
                        what += &format!(" {name}={:?}", xattr::get(&path, &name).ok());
                    }
                }
            }
            out.insert(format!("{area}/{rel}"), what);
        }
    }
    out
}

/// The inode number at `p`, if anything is there.
fn ino(p: &Path) -> Option<u64> {
    fs::symlink_metadata(p).ok().map(|md| md.ino())
}

/// Whether an example's path names an entry itself (a child of `.trash` or
/// of `.Trash-UID/files`).
fn is_entry(p: &str) -> bool {
    let parts: Vec<&str> = p.split('/').collect();
    matches!(parts.as_slice(), [".trash", _] | [".Trash-UID", "files", _])
}

/// Where STORAGE keeps what an example's path names, if anywhere.
fn stored_at(m: &Mount, p: &str) -> Option<PathBuf> {
    if let Some(rest) = p.strip_prefix("gallery/") {
        return Some(m.storage.join("gallery").join(rest));
    }
    p.strip_prefix(".trash/")
        .or_else(|| p.strip_prefix(".Trash-UID/files/"))
        .map(|rest| m.storage.join("trash").join(rest))
}

/// The entries of `.trash` by inode number: (name, original path).
fn entries_by_ino(m: &Mount) -> BTreeMap<u64, (String, Option<String>)> {
    m.trash_names()
        .into_iter()
        .filter_map(|name| {
            let path = m.trash().join(&name);
            let orig = xattr::get(&path, "user.trash.original_path")
                .ok()
                .map(|v| String::from_utf8_lossy(&v).into_owned());
            Some((ino(&path)?, (name, orig)))
        })
        .collect()
}

/// Runs `row` on a fresh mount; what differs from the document, if anything.
fn run_row(row: &Row) -> Result<(), String> {
    let m = Mount::new();
    scene(&m);
    let calls: Vec<&str> = row.example.split(" ; ").map(str::trim).collect();
    let (last, setup) = calls.split_last().expect("split yields one");
    for call in setup {
        match step(&m, call) {
            Ok(()) => {}
            Err(Failure::NoExecutor(e)) => return Err(e),
            Err(Failure::Errno(e)) => {
                return Err(format!("`{call}` failed with {}", errno_name(e)));
            }
            Err(Failure::Wrong(e)) => return Err(format!("`{call}`: {e}")),
        }
    }
    let (_, args_text) = last.split_once(' ').unwrap_or((last, ""));
    let args: Vec<&str> = expectation(args_text).0.split_whitespace().collect();
    let before_snapshot = snapshot(&m);
    let before_count = m.trash_names().len() as i64;
    let before_ino: Vec<Option<u64>> = args.iter().map(|a| ino(&resolve(&m, a))).collect();
    let before_content: Vec<Option<Vec<u8>>> =
        args.iter().map(|a| fs::read(resolve(&m, a)).ok()).collect();

    let result = step(&m, last);
    let got = match result {
        Err(Failure::NoExecutor(e)) => return Err(e),
        Err(Failure::Wrong(e)) => return Err(e),
        Err(Failure::Errno(e)) => Err(e),
        Ok(()) => Ok(()),
    };
    if let [Outcome::Errno(want)] = row.outcomes[..] {
        return match got {
            Ok(()) => Err(format!("succeeded; the document says {}", errno_name(want))),
            Err(e) if e != want => Err(format!(
                "failed with {}; the document says {}",
                errno_name(e),
                errno_name(want)
            )),
            Err(_) => {
                let after = snapshot(&m);
                if after == before_snapshot {
                    Ok(())
                } else {
                    Err(format!(
                        "failed with {} as documented, but changed the tree: before {before_snapshot:#?}, after {after:#?}",
                        errno_name(want)
                    ))
                }
            }
        };
    }
    if let Err(e) = got {
        return Err(format!(
            "failed with {}; the document says {}",
            errno_name(e),
            list(&row.outcomes)
        ));
    }

    let mut problems = Vec::new();
    let mut delta = 0i64;
    for outcome in &row.outcomes {
        match outcome {
            Outcome::Ok | Outcome::Errno(_) => {}
            Outcome::ToTrash => {
                delta += 1;
                let entries = entries_by_ino(&m);
                let trashed = args.iter().zip(&before_ino).any(|(a, i)| {
                    let Some(orig) = a.strip_prefix("gallery/") else {
                        return false;
                    };
                    i.and_then(|i| entries.get(&i))
                        .is_some_and(|(_, o)| o.as_deref() == Some(orig))
                });
                if !trashed {
                    problems.push(format!(
                        "no entry holds a gallery file of {args:?} with its original path: {entries:?}"
                    ));
                }
            }
            Outcome::Kept => {
                delta += 1;
                let kept = args.iter().zip(&before_content).any(|(a, old)| {
                    let (Some(orig), Some(old)) = (a.strip_prefix("gallery/"), old) else {
                        return false;
                    };
                    ino(&resolve(&m, a)).is_some()
                        && m.trash_names().iter().any(|name| {
                            let e = m.trash().join(name);
                            xattr::get_string_opt(&e, "user.trash.original_path").as_deref()
                                == Some(orig)
                                && xattr::get_string_opt(&e, "user.trash.reason").as_deref()
                                    == Some("overwritten")
                                && fs::read(&e).ok().as_ref() == Some(old)
                        })
                });
                if !kept {
                    problems.push(format!(
                        "no overwritten entry holds the old content of {args:?}, or the file is gone"
                    ));
                }
            }
            Outcome::ToGallery => {
                let (Some(from), Some(to)) = (args.first(), args.get(1)) else {
                    return Err("→ gallery needs a source and a destination".into());
                };
                if is_entry(from) {
                    delta -= 1;
                }
                if ino(&resolve(&m, from)).is_some() {
                    problems.push(format!("{from} is still there"));
                }
                let now = ino(&resolve(&m, to));
                if now.is_none() || now != before_ino[0] {
                    problems.push(format!(
                        "{to} is inode {now:?}, not {from}'s {:?}",
                        before_ino[0]
                    ));
                }
            }
            Outcome::Deleted => {
                let Some(path) = args.first() else {
                    return Err("deleted needs a path".into());
                };
                if is_entry(path) {
                    delta -= 1;
                }
                if ino(&resolve(&m, path)).is_some() {
                    problems.push(format!("{path} is still there"));
                }
                if let Some(stored) = stored_at(&m, path)
                    && fs::symlink_metadata(&stored).is_ok()
                {
                    problems.push(format!("STORAGE still holds {}", stored.display()));
                }
            }
        }
    }
    let count = m.trash_names().len() as i64;
    if count != before_count + delta {
        problems.push(format!(
            ".trash holds {count} entries, {before_count} before: expected {}",
            before_count + delta
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} (the document says {})",
            problems.join("; "),
            list(&row.outcomes)
        ))
    }
}

fn list(outcomes: &[Outcome]) -> String {
    outcomes
        .iter()
        .map(Outcome::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn the_operation_table_of_semantics_md_matches_the_mount() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DOCUMENT);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {DOCUMENT}: {e}"));
    let rows = match parse(&text) {
        Ok(rows) => rows,
        Err(problems) => panic!("{DOCUMENT}'s table:\n  {}", problems.join("\n  ")),
    };
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(row) = rows.get(i) else { break };
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_row(row)))
                            .unwrap_or_else(|panic| {
                                Err(format!(
                                    "panicked: {}",
                                    panic
                                        .downcast_ref::<String>()
                                        .cloned()
                                        .or_else(|| panic
                                            .downcast_ref::<&str>()
                                            .map(|s| s.to_string()))
                                        .unwrap_or_default()
                                ))
                            });
                    if let Err(e) = outcome {
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((row.line, format!("{}: {e}", row.at())));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} rows of {DOCUMENT} do not match the mount:\n  {}",
        failures.len(),
        rows.len(),
        failures
            .iter()
            .map(|(_, f)| f.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    eprintln!(
        "{DOCUMENT}: {} rows executed, all as documented",
        rows.len()
    );
}

#[test]
fn the_table_parser_rejects_rows_it_cannot_execute() {
    let table = |rows: &str| {
        format!(
            "| operation | place | example | outcome | what happens |\n|---|---|---|---|---|\n{rows}"
        )
    };
    let bad_place = table("| lookup | nowhere | `stat x` | ok | |\n");
    assert!(parse(&bad_place).is_err_and(|p| p.iter().any(|p| p.contains("unknown place"))));
    let bad_outcome = table("| lookup | mount root | `stat x` | EWHATEVER | |\n");
    assert!(parse(&bad_outcome).is_err_and(|p| p.iter().any(|p| p.contains("unknown outcome"))));
    let two_calls = table("| lookup | mount root | `stat x` `stat y` | ok | |\n");
    assert!(parse(&two_calls).is_err_and(|p| p.iter().any(|p| p.contains("one `backticked`"))));
    let sparse = table("| lookup | mount root | `stat gallery` | ok | |\n");
    assert!(parse(&sparse).is_err_and(|p| p.iter().any(|p| p.contains("no row for"))));
    assert_eq!(
        parse_outcome("`→ gallery`, `→ .trash`"),
        Ok(vec![Outcome::ToGallery, Outcome::ToTrash])
    );
    assert!(parse_outcome("ok, EROFS").is_err());
    let m = Mount::new();
    assert!(matches!(
        step(&m, "frobnicate gallery"),
        Err(Failure::NoExecutor(e)) if e.contains("no executor")
    ));
}
