//! The core semantics of issue 2, one table row at a time: what a user sees
//! through the mount when real tools (`rm`, `mv`, `cp`, `ln`, `touch`,
//! `getfattr`, …) and plain syscalls act on `gallery/` and `.trash/`, and
//! what STORAGE holds afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, NaiveDateTime, Utc};

use galleryfs_testkit::errno::{assert_errno, check, must_fail};
use galleryfs_testkit::fsutil::{chmod, cpath, exists, lstat, mkdir_p, names, read, write};
use galleryfs_testkit::xattr::{self, TRASH_XATTRS};
use galleryfs_testkit::{Mount, fails, ok, run, sh, wait_until};

mod attributes;
mod delete;
mod departed;
mod document;
mod entries;
mod expiry;
mod gallery;
mod metadata;
mod names;
mod readonly;
mod restore;
mod root;
mod tree;

/// The unprivileged owner files are given in these tests.
const USER: u32 = 1000;
const SECS_PER_DAY: i64 = 86_400;

// ---- helpers -------------------------------------------------------------

fn name_set(list: &[&str]) -> BTreeSet<OsString> {
    list.iter().map(OsString::from).collect()
}

/// What `ls -a MOUNT` prints, one name per element.
fn ls_a(dir: &Path) -> Vec<String> {
    ok(Command::new("ls").arg("-a").arg("-1").arg(dir))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The identity and metadata a move must preserve.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Meta {
    ino: u64,
    kind: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: (i64, i64),
}

fn meta(p: &Path) -> Meta {
    let m = lstat(p);
    Meta {
        ino: m.ino(),
        kind: m.mode() & libc::S_IFMT,
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
    }
}

/// Parses `YYYY-MM-DDThh:mm:ssZ` exactly (RFC 3339, UTC, whole seconds).
fn parse_utc(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ")
        .unwrap_or_else(|e| panic!("{text:?} is not YYYY-MM-DDThh:mm:ssZ: {e}"));
    assert_eq!(text.len(), 20, "{text:?} has extra characters");
    naive.and_utc()
}

fn time_xattr(p: &Path, name: &str) -> DateTime<Utc> {
    parse_utc(&xattr::get_string(p, name))
}

fn mv(from: &Path, to: &Path) {
    ok(Command::new("mv").arg(from).arg(to));
}

fn rm(p: &Path) {
    ok(Command::new("rm").arg(p));
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
}

fn touch_d(p: &Path, date: &str) {
    ok(Command::new("touch").arg("-h").arg("-d").arg(date).arg(p));
}

fn storage_trash(m: &Mount) -> PathBuf {
    m.storage.join("trash")
}

fn storage_gallery(m: &Mount) -> PathBuf {
    m.storage.join("gallery")
}

/// Returns once the wall clock has passed `t` (a deadline, not a synchronisation).
fn sleep_past(t: DateTime<Utc>) {
    galleryfs_testkit::wait::until_clock_passes(t.into());
}

/// A file path from raw bytes.
fn bytes_path(dir: &Path, name: &[u8]) -> PathBuf {
    dir.join(OsStr::from_bytes(name))
}
