//! Bulk requests through the mount (`galleryfs::contract::bulk`): many
//! entries purged or restored per setxattr, the answers read back from
//! `.trash`. A galleryfs without them refuses the first request as a
//! whole, and the caller then acts one by one; so does it for every name a
//! request refused (the kernel decides there, and says why).

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use galleryfs::contract::{self, bulk};

use crate::entries::Stat;
use crate::mounts::Galleryfs;
use crate::syscalls;

/// Items per request at most: a request holds the directory's lock in the
/// kernel while it runs, so none takes long, and watchers' echoes (which
/// wait for the trash to be quiet) do not start between two.
const ITEMS_MAX: usize = 4096;
/// Fewer entries than this go one by one: a request costs about as much.
pub(crate) const BULK_MIN: usize = 2;

/// The answer for each name: 0 if done, else the errno it failed with.
pub(crate) type Answers = Vec<i32>;

/// Purges entries `names` of `fs` (whose `.trash` has stat `trash`) as
/// user `euid`; `progress` is told how many are done after each request.
/// None if the mount takes no bulk requests.
pub(crate) fn purge(
    fs: &Galleryfs,
    trash: &Stat,
    euid: u32,
    names: &[&OsStr],
    progress: impl FnMut(usize),
) -> Option<Answers> {
    // Only `.trash`'s owner may write its attributes (the kernel's rule for
    // a sticky directory); anyone else sends to their own view of it.
    let dir = if euid == trash.uid || euid == 0 {
        fs.trash_dir()
    } else {
        fs.root
            .join(contract::top_dir_name(euid))
            .join(contract::FILES_DIR)
    };
    let items: Vec<[&[u8]; 1]> = names.iter().map(|n| [n.as_bytes()]).collect();
    send(fs, &dir, bulk::Op::Purge, &items, progress)
}

/// Restores each `(entry, new name)` of `pairs` into directory `dir` of
/// `fs`; None if the mount (or that directory) takes no bulk requests.
pub(crate) fn restore(fs: &Galleryfs, dir: &Path, pairs: &[(&OsStr, &OsStr)]) -> Option<Answers> {
    let items: Vec<[&[u8]; 2]> = pairs
        .iter()
        .map(|(entry, name)| [entry.as_bytes(), name.as_bytes()])
        .collect();
    send(fs, dir, bulk::Op::Restore, &items, |_| {})
}

/// Sends `items` to `dir` in requests of `op`. A request refused as a
/// whole after the first succeeded answers each of its names with that
/// errno.
fn send<const N: usize>(
    fs: &Galleryfs,
    dir: &Path,
    op: bulk::Op,
    items: &[[&[u8]; N]],
    mut progress: impl FnMut(usize),
) -> Option<Answers> {
    let trash = File::open(fs.trash_dir()).ok()?;
    let target = File::open(dir).ok()?;
    // Through a symlink to another filesystem the request would be an
    // ordinary attribute there.
    let (Ok(t), Ok(d)) = (trash.metadata(), target.metadata()) else {
        return None;
    };
    if t.dev() != d.dev() || !d.is_dir() {
        return None;
    }
    let mut answers = Vec::with_capacity(items.len());
    let mut rest = items;
    while !rest.is_empty() {
        let mut request = bulk::Request::new(op);
        while request.items() < ITEMS_MAX
            && let Some(item) = rest.get(request.items())
            && request.push(item)
        {}
        // An item too long for any request (it cannot be a valid name).
        let taken = request.items().max(1);
        match ask(&trash, &target, op, &request, taken) {
            Ok(got) => answers.extend(got),
            Err(_) if answers.is_empty() => return None,
            Err(e) => answers.extend(std::iter::repeat_n(errno(&e), taken)),
        }
        rest = &rest[taken..];
        progress(answers.len());
    }
    Some(answers)
}

/// One request and its answers.
fn ask(
    trash: &File,
    target: &File,
    op: bulk::Op,
    request: &bulk::Request,
    items: usize,
) -> io::Result<Vec<i32>> {
    if request.items() == 0 {
        return Ok(vec![libc::ENAMETOOLONG]);
    }
    let token = token();
    syscalls::fsetxattr(target, &format!("{}{token}", op.prefix()), request.value())?;
    let answer = syscalls::fgetxattr_once(
        trash,
        &format!("{}{token}", bulk::XATTR_RESULT),
        bulk::VALUE_MAX,
    )?;
    if answer.len() != items {
        return Err(io::Error::other(
            "galleryfs answered a bulk request out of step",
        ));
    }
    Ok(answer.into_iter().map(i32::from).collect())
}

/// A token no other request of this process or another uses at once.
fn token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "gt.{}.{}.{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_valid_and_distinct() {
        let (a, b) = (token(), token());
        assert_ne!(a, b);
        assert!(bulk::valid_token(a.as_bytes()), "{a}");
    }
}
