//! Suite 6, disk full: STORAGE on a small tmpfs, filled through the mount
//! until ENOSPC, again and again. The writer must get ENOSPC (never EIO, and
//! the daemon must not panic), rm / restore / purge must still work at 100%,
//! the database must stay consistent, and after space is freed everything
//! works and no file that was written successfully is lost.
//!
//! Each fill starts with an empty trash, so its ENOSPC assertions stay true
//! once galleryfs frees space by purging old trash entries on ENOSPC.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::multiuser::{Checks, Outcome, ensure};
use galleryfs_testkit::errno::errno;
use galleryfs_testkit::harness::{self, Rng};
use galleryfs_testkit::wait::poll_for;
use galleryfs_testkit::{Mount, Tmpfs};

const TMPFS_SIZE: &str = "32m";
const CHUNK: usize = 64 * 1024;

/// Where a file written through the mount is now.
#[derive(Clone, Debug, PartialEq)]
enum Place {
    Gallery(String),
    Trash(String),
    Purged,
    /// Purged by galleryfs to make room (logged).
    Evicted,
}

/// A file whose every byte was acknowledged by the mount.
struct Written {
    seed: u64,
    len: usize,
    place: Place,
}

impl Written {
    fn content(&self) -> Vec<u8> {
        content(self.seed, self.len)
    }
}

/// The content of a file: `len` pseudo-random bytes from `seed` (eight per
/// draw, so that tens of megabytes are quick to make and to check).
fn content(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        data.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    data.truncate(len);
    data
}

/// Writes `data` to a new `path` chunk by chunk; returns how many bytes were
/// acknowledged and the error that stopped it, if any.
fn write_file(path: &Path, data: &[u8]) -> (usize, Option<std::io::Error>) {
    let mut f = match File::create(path) {
        Ok(f) => f,
        Err(e) => return (0, Some(e)),
    };
    let mut done = 0;
    while done < data.len() {
        let end = (done + CHUNK).min(data.len());
        match f.write(&data[done..end]) {
            Ok(0) => return (done, Some(std::io::Error::from_raw_os_error(libc::EIO))),
            Ok(n) => done += n,
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

struct State {
    rng: Rng,
    files: BTreeMap<u64, Written>,
    next: u64,
    evicted: usize,
}

impl State {
    fn in_gallery(&self) -> Vec<u64> {
        self.files
            .iter()
            .filter(|(_, w)| matches!(w.place, Place::Gallery(_)))
            .map(|(&id, _)| id)
            .collect()
    }

    fn pick_in_gallery(&mut self) -> Option<u64> {
        let ids = self.in_gallery();
        (!ids.is_empty()).then(|| *self.rng.pick(&ids))
    }

    /// Checks every file still meant to exist against the mount; returns
    /// those missing or changed. A trash entry may be gone if galleryfs
    /// logged purging it (to make room on a full disk): it is then counted
    /// as evicted, not lost.
    fn audit(&mut self, m: &Mount) -> Vec<String> {
        let mut lost = Vec::new();
        for (id, w) in self.files.iter_mut() {
            let path = match &w.place {
                Place::Gallery(name) => m.gallery().join(name),
                Place::Trash(name) => m.trash().join(name),
                Place::Purged | Place::Evicted => continue,
            };
            match fs::read(&path) {
                Ok(data) if data == w.content() => {}
                Ok(data) => lost.push(format!(
                    "file {id} at {}: {} bytes, other content",
                    path.display(),
                    data.len()
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => match &w.place {
                    Place::Trash(name) if purge_logged(m, name) => {
                        w.place = Place::Evicted;
                        self.evicted += 1;
                    }
                    _ => lost.push(format!("file {id} at {}: {e}", path.display())),
                },
                Err(e) => lost.push(format!("file {id} at {}: {e}", path.display())),
            }
        }
        lost
    }
}

/// Whether galleryfs logged purging trash entry `name` (for space). The
/// line may lag the purge by a moment.
fn purge_logged(m: &Mount, name: &str) -> bool {
    let quoted = format!("{name:?}");
    poll_for(Duration::from_millis(500), || {
        m.log()
            .lines()
            .any(|l| l.contains("purged") && l.contains(&quoted))
            .then_some(())
    })
    .is_some()
}

/// An operation on entry `name` failed with `e`: fine if galleryfs purged
/// the entry for space meanwhile (then true), else the error.
fn evicted(m: &Mount, name: &str, what: &str, e: std::io::Error) -> Result<bool, String> {
    if e.kind() == std::io::ErrorKind::NotFound && purge_logged(m, name) {
        Ok(true)
    } else {
        Err(format!("{what} {name}: {e}"))
    }
}

/// At most a few of `items`, for a readable failure message.
fn some(items: &[String]) -> String {
    let shown: Vec<&String> = items.iter().take(5).collect();
    format!("{} in all: {shown:?}", items.len())
}

fn trash_listing(m: &Mount) -> Result<BTreeSet<String>, String> {
    fs::read_dir(m.trash())
        .map_err(|e| e.to_string())?
        .map(|e| {
            e.map(|e| e.file_name().to_string_lossy().into_owned())
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// The one entry in the trash now that was not in `before`.
fn new_entry(m: &Mount, before: &BTreeSet<String>) -> Result<String, String> {
    let now = trash_listing(m)?;
    let new: Vec<&String> = now.difference(before).collect();
    match new[..] {
        [name] => Ok(name.clone()),
        _ => Err(format!("expected one new entry, found {new:?}")),
    }
}

fn trash_count(m: &Mount) -> Result<usize, String> {
    Ok(trash_listing(m)?.len())
}

fn used_percent(m: &Mount) -> u64 {
    let out = Command::new("df")
        .args(["--output=pcent"])
        .arg(&m.storage)
        .output()
        .expect("df");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().trim_end_matches('%').parse().ok())
        .unwrap_or(0)
}

fn daemon_healthy(m: &Mount) -> Outcome {
    let log = m.log();
    ensure(!log.contains("panicked"), || format!("daemon log: {log}"))?;
    fs::metadata(m.gallery())
        .map(|_| ())
        .map_err(|e| format!("the mount no longer serves: {e}"))
}

/// Moves a gallery file to the trash with rm; the model follows.
fn trash_one(m: &Mount, s: &mut State, id: u64) -> Outcome {
    let Place::Gallery(name) = s.files[&id].place.clone() else {
        return Err("not in the gallery".into());
    };
    let before = trash_listing(m)?;
    fs::remove_file(m.gallery().join(&name)).map_err(|e| format!("rm {name}: {e}"))?;
    // Its own name, or `name (2).bin` if an entry has that name already.
    let entry = new_entry(m, &before)?;
    s.files.get_mut(&id).unwrap().place = Place::Trash(entry);
    Ok(())
}

/// Files the model has in the trash, listed in `.trash` now, whose entry
/// name passes `wanted`.
fn listed_in_trash(
    m: &Mount,
    s: &State,
    wanted: impl Fn(&String) -> bool,
) -> Result<Vec<u64>, String> {
    let listed = trash_listing(m)?;
    Ok(s.files
        .iter()
        .filter(|(_, w)| matches!(&w.place, Place::Trash(n) if listed.contains(n) && wanted(n)))
        .map(|(&id, _)| id)
        .collect())
}

fn restore_one(m: &Mount, s: &mut State, id: u64) -> Outcome {
    let Place::Trash(name) = s.files[&id].place.clone() else {
        return Err("not in the trash".into());
    };
    match fs::rename(m.trash().join(&name), m.gallery().join(&name)) {
        Ok(()) => s.files.get_mut(&id).unwrap().place = Place::Gallery(name),
        Err(e) => {
            evicted(m, &name, "restore", e)?;
            s.files.get_mut(&id).unwrap().place = Place::Evicted;
            s.evicted += 1;
        }
    }
    Ok(())
}

fn purge_one(m: &Mount, s: &mut State, id: u64) -> Outcome {
    let Place::Trash(name) = s.files[&id].place.clone() else {
        return Err("not in the trash".into());
    };
    match fs::remove_file(m.trash().join(&name)) {
        Ok(()) => s.files.get_mut(&id).unwrap().place = Place::Purged,
        Err(e) => {
            evicted(m, &name, "purge", e)?;
            s.files.get_mut(&id).unwrap().place = Place::Evicted;
            s.evicted += 1;
        }
    }
    Ok(())
}

/// One fill: from an empty trash to ENOSPC, then rm / restore / purge at
/// 100%, then space is freed and the mount must work as before.
fn fill(c: &mut Checks, m: &mut Mount, s: &mut State, round: usize) {
    c.check(&format!("fill {round}: starts with an empty trash"), || {
        let n = trash_count(m)?;
        ensure(n == 0, || format!("{n} entries"))
    });

    // ---- write until ENOSPC ---------------------------------------------------
    let mut stopped = None;
    for _ in 0..4000 {
        let id = s.next;
        s.next += 1;
        let name = format!("f{round}-{id}.bin");
        let seed = s.rng.next_u64();
        let len = 16 * 1024 + s.rng.below(1024 * 1024) as usize;
        let data = content(seed, len);
        let (done, err) = write_file(&m.gallery().join(&name), &data);
        match err {
            None => {
                s.files.insert(
                    id,
                    Written {
                        seed,
                        len,
                        place: Place::Gallery(name),
                    },
                );
            }
            Some(e) => {
                stopped = Some((name, done, data, e));
                break;
            }
        }
    }
    let Some((partial, done, data, e)) = stopped else {
        c.check(&format!("fill {round}: the disk fills up"), || {
            Err("4000 files written without ENOSPC".into())
        });
        return;
    };
    c.check(&format!("fill {round}: the writer gets ENOSPC"), || {
        ensure(errno(&e) == libc::ENOSPC, || format!("got {e}"))
    });
    c.check(
        &format!("fill {round}: a failed write leaves exactly what was acknowledged"),
        || {
            let got = fs::read(m.gallery().join(&partial)).map_err(|e| e.to_string())?;
            ensure(got.len() == done, || {
                format!("{} bytes in the file, {done} acknowledged", got.len())
            })?;
            ensure(got[..] == data[..got.len()], || "other content".into())
        },
    );
    c.check(&format!("fill {round}: a new file gets ENOSPC too"), || {
        let (_, err) = write_file(&m.gallery().join("one-more"), &[7u8; 256 * 1024]);
        // Out of the way (to the trash, then purged) if the disk allows.
        let _ = fs::remove_file(m.gallery().join("one-more"));
        let _ = fs::remove_file(m.trash().join("one-more"));
        ensure(
            err.as_ref().is_some_and(|e| errno(e) == libc::ENOSPC),
            || format!("got {err:?}"),
        )
    });
    c.check(&format!("fill {round}: the daemon survives"), || {
        daemon_healthy(m)
    });
    c.check(
        &format!("fill {round}: a full STORAGE mounts again"),
        || {
            m.remount();
            daemon_healthy(m)?;
            let lost = s.audit(m);
            ensure(lost.is_empty(), || some(&lost))
        },
    );
    let m = &*m;

    // ---- rm, restore, purge at 100% -----------------------------------------------
    // The partly written file goes to the trash first, and is purged last.
    let used = used_percent(m);
    c.check(
        &format!("fill {round}: rm works on a full disk ({used}%)"),
        || {
            fs::remove_file(m.gallery().join(&partial)).map_err(|e| format!("rm: {e}"))?;
            for _ in 0..3 {
                let Some(id) = s.pick_in_gallery() else { break };
                trash_one(m, s, id)?;
            }
            Ok(())
        },
    );
    c.check(
        &format!("fill {round}: rename over a file works on a full disk"),
        || {
            let ids = s.in_gallery();
            if ids.len() < 2 {
                return Ok(());
            }
            let (a, b) = (ids[0], ids[1]);
            let (Place::Gallery(na), Place::Gallery(nb)) =
                (s.files[&a].place.clone(), s.files[&b].place.clone())
            else {
                unreachable!()
            };
            let before = trash_listing(m)?;
            fs::rename(m.gallery().join(&na), m.gallery().join(&nb))
                .map_err(|e| format!("mv {na} {nb}: {e}\nLOG:{}", m.log()))?;
            let entry = new_entry(m, &before)?;
            s.files.get_mut(&a).unwrap().place = Place::Gallery(nb);
            s.files.get_mut(&b).unwrap().place = Place::Trash(entry);
            Ok(())
        },
    );
    c.check(
        &format!("fill {round}: restore works on a full disk"),
        || {
            // One whose original name is free (not the victim of the rename above).
            let free = |n: &String| !m.gallery().join(n).exists();
            let id = *listed_in_trash(m, s, free)?
                .first()
                .ok_or("nothing to restore")?;
            restore_one(m, s, id)?;
            ensure(matches!(s.files[&id].place, Place::Gallery(_)), || {
                "purged for space before it could be restored".into()
            })
        },
    );
    c.check(&format!("fill {round}: purge works on a full disk"), || {
        if let Err(e) = fs::remove_file(m.trash().join(&partial)) {
            evicted(m, &partial, "purge", e)?;
        }
        let id = *listed_in_trash(m, s, |_| true)?
            .first()
            .ok_or("nothing to purge")?;
        purge_one(m, s, id)?;
        ensure(s.files[&id].place == Place::Purged, || {
            "purged for space before it could be purged".into()
        })
    });
    c.check(&format!("fill {round}: nothing lost at 100%"), || {
        let lost = s.audit(m);
        ensure(lost.is_empty(), || some(&lost))
    });

    // ---- free space: empty the trash and purge half the gallery ------------------------
    c.check(&format!("fill {round}: space is freed by purging"), || {
        let gallery = s.in_gallery();
        for &id in gallery.iter().take(gallery.len() / 2 + 1) {
            trash_one(m, s, id)?;
        }
        let trashed: Vec<u64> = s
            .files
            .iter()
            .filter(|(_, w)| matches!(w.place, Place::Trash(_)))
            .map(|(&id, _)| id)
            .collect();
        for id in trashed {
            purge_one(m, s, id)?;
        }
        let n = trash_count(m)?;
        ensure(n == 0, || format!("{n} entries left"))
    });
    c.check(
        &format!("fill {round}: everything works after freeing space"),
        || {
            let data = vec![round as u8; 1 << 20];
            let (done, err) = write_file(&m.gallery().join("after"), &data);
            ensure(err.is_none() && done == data.len(), || {
                format!("write: {err:?}")
            })?;
            fs::remove_file(m.gallery().join("after")).map_err(|e| format!("rm: {e}"))?;
            fs::rename(m.trash().join("after"), m.gallery().join("after"))
                .map_err(|e| format!("restore: {e}"))?;
            fs::remove_file(m.gallery().join("after")).map_err(|e| format!("rm: {e}"))?;
            fs::remove_file(m.trash().join("after")).map_err(|e| format!("purge: {e}"))?;
            daemon_healthy(m)
        },
    );
    c.check(
        &format!("fill {round}: nothing lost after freeing space"),
        || {
            let lost = s.audit(m);
            ensure(lost.is_empty(), || some(&lost))
        },
    );
}

/// Whether this galleryfs has the `min_retention` option (purging for space).
fn supports_min_retention() -> bool {
    // The option is checked before MOUNTPOINT, which is missing here.
    let out = Command::new(galleryfs_testkit::galleryfs_bin())
        .args([
            "/nonexistent/store",
            "/nonexistent/mnt",
            "-o",
            "min_retention=1d",
        ])
        .output()
        .expect("run galleryfs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "galleryfs mounted /nonexistent/mnt");
    !err.contains("min_retention")
}

#[test]
fn diskfull() {
    let seed = harness::seed("diskfull");
    let mut c = Checks::new("diskfull", seed);
    let fills = harness::size(3, 12);
    let tmpfs = Tmpfs::new(TMPFS_SIZE);
    let mut m = Mount::new();
    m.unmount();
    m.storage = tmpfs.path().to_path_buf();
    // Where galleryfs can purge the trash for space, young entries are kept out
    // of it, so that the entries under test stay until the test purges them.
    if supports_min_retention() {
        m.options.push("min_retention=1d".into());
    }
    m.mount();
    let mut s = State {
        rng: Rng::new(seed),
        files: BTreeMap::new(),
        next: 0,
        evicted: 0,
    };
    for round in 1..=fills {
        fill(&mut c, &mut m, &mut s, round);
    }
    // Some files stay in the trash across the remount.
    for _ in 0..3 {
        if let Some(id) = s.pick_in_gallery() {
            let _ = trash_one(&m, &mut s, id);
        }
    }
    m.unmount();
    c.check("the database passes integrity_check after unmount", || {
        let conn = rusqlite::Connection::open(tmpfs.path().join("galleryfs.db"))
            .map_err(|e| e.to_string())?;
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        ensure(check == "ok", || format!("integrity_check: {check}"))?;
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        let files = fs::read_dir(tmpfs.path().join("trash"))
            .map_err(|e| e.to_string())?
            .count();
        ensure(rows as usize == files, || {
            format!("{rows} rows for {files} files in STORAGE/trash")
        })
    });
    m.mount();
    c.check("nothing lost after a remount", || {
        let lost = s.audit(&m);
        ensure(lost.is_empty(), || some(&lost))?;
        let log = m.log();
        ensure(!log.contains("reconciled"), || {
            format!("the catalog needed repair: {log}")
        })
    });
    let written = s.files.len();
    let lost = s.audit(&m).len();
    drop(m);
    drop(tmpfs);
    c.finish(&format!(
        "{fills} fills, {written} files, {} purged for space, {lost} lost",
        s.evicted
    ));
}
