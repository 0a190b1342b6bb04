//! Suite 3, fsx-style data integrity: random reads, writes, truncates (grow
//! and shrink) and fallocates (with and without KEEP_SIZE, punch hole, zero
//! range) on a few files in `gallery/`, each through one long-lived fd, with
//! every read checked against an in-memory copy and the size checked by fstat
//! after every operation. Now and then a file is closed and reopened, sent to
//! the trash with `rm` and restored with `mv .trash/NAME gallery/…` (its
//! content and `user.trash.original_path` checked while it is in the trash,
//! sometimes with the old fd kept open across the round trip), and the whole
//! mount is remounted, alternating between the kernel passthrough (the
//! default where the kernel allows it) and I/O served by galleryfs itself
//! (`passthrough=off`). On a mismatch: the seed, the operation index and the
//! last 20 operations.

use std::collections::VecDeque;
use std::fs;
use std::path::Path;
use std::time::Instant;

use galleryfs_testkit::Mount;
use galleryfs_testkit::errno::last_errno;
use galleryfs_testkit::fsutil::cpath;
use galleryfs_testkit::harness::{self, Rng};
use galleryfs_testkit::xattr;

/// Files under test, in `gallery/fsx/`.
const FILES: usize = 3;
/// Largest file size the exerciser makes.
const MAX_LEN: u64 = 256 * 1024;
/// Largest single read or write.
const MAX_IO: u64 = 64 * 1024;
/// Operations kept for the failure report.
const HISTORY: usize = 20;
/// Random bytes written data is cut from (the test is unoptimized: a
/// generator call per byte would dominate the run).
const POOL: usize = 1 << 20;

struct TestFile {
    name: String,
    fd: libc::c_int,
    data: Vec<u8>,
}

impl TestFile {
    fn path(&self, m: &Mount) -> std::path::PathBuf {
        m.gallery().join("fsx").join(&self.name)
    }
}

fn open_rw(path: &Path, create: bool) -> Result<libc::c_int, String> {
    let p = cpath(path);
    let mut flags = libc::O_RDWR | libc::O_CLOEXEC;
    if create {
        flags |= libc::O_CREAT | libc::O_EXCL;
    }
    // SAFETY: valid path.
    let fd = unsafe { libc::open(p.as_ptr(), flags, 0o644) };
    if fd < 0 {
        Err(format!("open {path:?}: errno {}", last_errno()))
    } else {
        Ok(fd)
    }
}

fn close(fd: libc::c_int) -> Result<(), String> {
    // SAFETY: the caller owns fd.
    if unsafe { libc::close(fd) } < 0 {
        Err(format!("close: errno {}", last_errno()))
    } else {
        Ok(())
    }
}

fn fstat_size(fd: libc::c_int) -> Result<u64, String> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: valid fd and buffer.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } < 0 {
        return Err(format!("fstat: errno {}", last_errno()));
    }
    // SAFETY: fstat succeeded.
    Ok(unsafe { st.assume_init() }.st_size as u64)
}

fn pread_full(fd: libc::c_int, len: usize, offset: u64) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    let mut got = 0;
    while got < len {
        // SAFETY: the buffer is valid for len - got bytes from got.
        let n = unsafe {
            libc::pread(
                fd,
                buf[got..].as_mut_ptr().cast(),
                len - got,
                (offset + got as u64) as libc::off_t,
            )
        };
        if n < 0 {
            return Err(format!("pread: errno {}", last_errno()));
        }
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    buf.truncate(got);
    Ok(buf)
}

fn pwrite_all(fd: libc::c_int, data: &[u8], offset: u64) -> Result<(), String> {
    let mut done = 0;
    while done < data.len() {
        // SAFETY: the buffer is valid for its length.
        let n = unsafe {
            libc::pwrite(
                fd,
                data[done..].as_ptr().cast(),
                data.len() - done,
                (offset + done as u64) as libc::off_t,
            )
        };
        if n <= 0 {
            return Err(format!("pwrite: errno {}", last_errno()));
        }
        done += n as usize;
    }
    Ok(())
}

fn first_difference(want: &[u8], got: &[u8]) -> String {
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    format!(
        "{} bytes expected, {} read; first difference at +{at} (expected {:?}, read {:?})",
        want.len(),
        got.len(),
        want.get(at),
        got.get(at)
    )
}

/// The fallocate modes exercised, with whether the kernel accepted them here.
const FALLOC_MODES: [(i32, &str); 5] = [
    (0, "fallocate"),
    (libc::FALLOC_FL_KEEP_SIZE, "fallocate KEEP_SIZE"),
    (
        libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
        "fallocate PUNCH_HOLE",
    ),
    (libc::FALLOC_FL_ZERO_RANGE, "fallocate ZERO_RANGE"),
    (
        libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE,
        "fallocate ZERO_RANGE|KEEP_SIZE",
    ),
];

/// What fallocate does to the in-memory copy.
fn model_fallocate(data: &mut Vec<u8>, mode: i32, offset: u64, len: u64) {
    let end = (offset + len) as usize;
    let keep = mode & libc::FALLOC_FL_KEEP_SIZE != 0;
    if !keep && end > data.len() {
        data.resize(end, 0);
    }
    if mode & (libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_ZERO_RANGE) != 0 {
        let stop = end.min(data.len());
        if (offset as usize) < stop {
            data[offset as usize..stop].fill(0);
        }
    }
}

struct Fsx {
    mount: Mount,
    rng: Rng,
    pool: Vec<u8>,
    files: Vec<TestFile>,
    history: VecDeque<String>,
    falloc_ok: [bool; 5],
    restores: usize,
    remounts: usize,
    reopens: usize,
    reads: usize,
    writes: usize,
    checked_bytes: u64,
}

impl Fsx {
    fn log(&mut self, what: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(what);
    }

    fn reopen(&mut self, f: usize) -> Result<(), String> {
        close(self.files[f].fd)?;
        self.files[f].fd = open_rw(&self.files[f].path(&self.mount), false)?;
        self.reopens += 1;
        self.verify_all(f)
    }

    /// Reads the whole file and compares it with the copy.
    fn verify_all(&mut self, f: usize) -> Result<(), String> {
        let file = &self.files[f];
        let got = pread_full(file.fd, file.data.len() + 4096, 0)?;
        self.checked_bytes += got.len() as u64;
        if got != file.data {
            return Err(format!(
                "whole-file check of {}: {}",
                file.name,
                first_difference(&file.data, &got)
            ));
        }
        Ok(())
    }

    fn check_size(&self, f: usize) -> Result<(), String> {
        let file = &self.files[f];
        let size = fstat_size(file.fd)?;
        if size != file.data.len() as u64 {
            return Err(format!(
                "fstat of {} says {size} bytes, expected {}",
                file.name,
                file.data.len()
            ));
        }
        Ok(())
    }

    /// `rm` the file, check it in the trash, `mv` it back, reopen.
    fn trash_and_restore(&mut self, f: usize) -> Result<(), String> {
        let keep_open = self.rng.chance(50);
        let name = self.files[f].name.clone();
        let path = self.files[f].path(&self.mount);
        self.log(format!(
            "rm + restore {name}{}",
            if keep_open { " (fd kept open)" } else { "" }
        ));
        if !keep_open {
            close(self.files[f].fd)?;
            self.files[f].fd = -1;
        }
        fs::remove_file(&path).map_err(|e| format!("rm {path:?}: {e}"))?;
        let entry = self.mount.trash().join(&name);
        let in_trash = fs::read(&entry).map_err(|e| format!("read {entry:?}: {e}"))?;
        if in_trash != self.files[f].data {
            return Err(format!(
                "{name} in the trash: {}",
                first_difference(&self.files[f].data, &in_trash)
            ));
        }
        let original = xattr::get(&entry, "user.trash.original_path").ok();
        let want = format!("fsx/{name}");
        if original.as_deref() != Some(want.as_bytes()) {
            return Err(format!(
                "{name} in the trash: user.trash.original_path is {:?}, expected {want:?}",
                original.map(|v| String::from_utf8_lossy(&v).into_owned())
            ));
        }
        fs::rename(&entry, &path).map_err(|e| format!("mv {entry:?} {path:?}: {e}"))?;
        if fs::symlink_metadata(&entry).is_ok() {
            return Err(format!("{entry:?} is still there after the restore"));
        }
        self.restores += 1;
        if keep_open {
            // The restored file is the same inode: the old fd still reads it.
            self.verify_all(f)?;
            self.reopen(f)
        } else {
            self.files[f].fd = open_rw(&path, false)?;
            self.reopens += 1;
            self.verify_all(f)
        }
    }

    fn remount(&mut self) -> Result<(), String> {
        self.log(format!(
            "remount{}",
            if self.remounts.is_multiple_of(2) {
                " with passthrough=off"
            } else {
                " with passthrough=auto"
            }
        ));
        for f in 0..self.files.len() {
            close(self.files[f].fd)?;
            self.files[f].fd = -1;
        }
        // Alternate between the kernel passthrough (the default where
        // available) and I/O through galleryfs itself.
        self.mount.unmount();
        self.mount.options = if self.remounts.is_multiple_of(2) {
            vec!["passthrough=off".into(), "overwrite=off".into()]
        } else {
            vec!["overwrite=off".into()]
        };
        self.mount.mount();
        self.remounts += 1;
        for f in 0..self.files.len() {
            self.files[f].fd = open_rw(&self.files[f].path(&self.mount), false)?;
            self.verify_all(f)?;
            self.check_size(f)?;
        }
        Ok(())
    }

    fn offset(&mut self, f: usize) -> u64 {
        let size = self.files[f].data.len() as u64;
        match self.rng.below(10) {
            // Around the end of file, where most bugs live.
            0..4 => (size + self.rng.below(8192))
                .saturating_sub(4096)
                .min(MAX_LEN - 1),
            _ => self.rng.below(MAX_LEN),
        }
    }

    fn io_len(&mut self, offset: u64) -> u64 {
        let len = match self.rng.below(10) {
            0..6 => 1 + self.rng.below(4096),
            6..9 => 1 + self.rng.below(16384),
            _ => 1 + self.rng.below(MAX_IO),
        };
        len.min(MAX_LEN - offset).max(1)
    }

    fn op(&mut self, f: usize) -> Result<(), String> {
        let roll = self.rng.below(1000);
        match roll {
            0..350 | 985.. => {
                let offset = if self.rng.chance(80) {
                    let size = self.files[f].data.len() as u64;
                    self.rng.below(size + 1)
                } else {
                    self.offset(f)
                };
                let len = self.io_len(offset);
                self.log(format!("read {} at {offset} len {len}", self.files[f].name));
                let got = pread_full(self.files[f].fd, len as usize, offset)?;
                let data = &self.files[f].data;
                let start = (offset as usize).min(data.len());
                let end = ((offset + len) as usize).min(data.len());
                self.reads += 1;
                self.checked_bytes += got.len() as u64;
                if got != data[start..end] {
                    return Err(format!(
                        "read of {} at {offset} len {len}: {}",
                        self.files[f].name,
                        first_difference(&data[start..end], &got)
                    ));
                }
            }
            350..700 => {
                let offset = self.offset(f);
                let len = self.io_len(offset);
                // A slice of the random pool, tagged with the operation count
                // so that stale data from an earlier write cannot match.
                let from = self.rng.below(POOL as u64 - len) as usize;
                let tag = self.writes as u8;
                let bytes: Vec<u8> = self.pool[from..from + len as usize]
                    .iter()
                    .map(|b| b ^ tag)
                    .collect();
                self.log(format!(
                    "write {} at {offset} len {len}",
                    self.files[f].name
                ));
                pwrite_all(self.files[f].fd, &bytes, offset)?;
                let data = &mut self.files[f].data;
                let end = (offset + len) as usize;
                if data.len() < end {
                    data.resize(end, 0);
                }
                data[offset as usize..end].copy_from_slice(&bytes);
                self.writes += 1;
            }
            700..800 => {
                let size = self.files[f].data.len() as u64;
                let len = match self.rng.below(4) {
                    0 => 0,
                    1 => size / 2,
                    2 => (size + self.rng.below(65536)).min(MAX_LEN),
                    _ => self.rng.below(MAX_LEN + 1),
                };
                self.log(format!(
                    "ftruncate {} to {len} (from {size})",
                    self.files[f].name
                ));
                // SAFETY: valid fd.
                if unsafe { libc::ftruncate(self.files[f].fd, len as libc::off_t) } < 0 {
                    return Err(format!("ftruncate: errno {}", last_errno()));
                }
                self.files[f].data.resize(len as usize, 0);
            }
            800..960 => {
                let which = self.rng.below(FALLOC_MODES.len() as u64) as usize;
                let (mode, label) = FALLOC_MODES[which];
                let offset = self.offset(f);
                let len = self.io_len(offset);
                self.log(format!(
                    "{label} {} at {offset} len {len}",
                    self.files[f].name
                ));
                // SAFETY: valid fd.
                let r = unsafe {
                    libc::fallocate(
                        self.files[f].fd,
                        mode,
                        offset as libc::off_t,
                        len as libc::off_t,
                    )
                };
                if r < 0 {
                    let e = last_errno();
                    if e == libc::EOPNOTSUPP && !self.falloc_ok[which] {
                        // Unsupported here: the state is unchanged.
                        return self.check_size(f);
                    }
                    return Err(format!("{label}: errno {e}"));
                }
                self.falloc_ok[which] = true;
                model_fallocate(&mut self.files[f].data, mode, offset, len);
            }
            960..975 => {
                self.log(format!("close + reopen {}", self.files[f].name));
                self.reopen(f)?;
            }
            975..985 => {
                self.log(format!("fsync {}", self.files[f].name));
                // SAFETY: valid fd.
                if unsafe { libc::fsync(self.files[f].fd) } < 0 {
                    return Err(format!("fsync: errno {}", last_errno()));
                }
            }
        }
        self.check_size(f)
    }
}

#[test]
fn fsx_data_integrity() {
    let seed = harness::seed("fsx");
    let total = harness::size(20_000, 1_000_000);
    let start = Instant::now();
    // Data integrity of files and of moves into the trash: the entries kept
    // for overwrites (tests/it/overwrite) would take the names it checks.
    let mount = Mount::with_options(&["overwrite=off"]);
    fs::create_dir(mount.gallery().join("fsx")).expect("mkdir gallery/fsx");
    let mut files = Vec::new();
    for i in 0..FILES {
        let name = format!("file{i}.bin");
        let fd = open_rw(&mount.gallery().join("fsx").join(&name), true).expect("create");
        files.push(TestFile {
            name,
            fd,
            data: Vec::new(),
        });
    }
    let mut rng = Rng::new(seed);
    let pool = rng.bytes(POOL);
    let mut fsx = Fsx {
        mount,
        rng,
        pool,
        files,
        history: VecDeque::new(),
        falloc_ok: [false; 5],
        restores: 0,
        remounts: 0,
        reopens: 0,
        reads: 0,
        writes: 0,
        checked_bytes: 0,
    };
    for i in 0..total {
        let f = fsx.rng.below(FILES as u64) as usize;
        let result = match fsx.rng.below(10_000) {
            0..5 => fsx.trash_and_restore(f),
            5 => fsx.remount(),
            _ => fsx.op(f),
        }
        .and_then(|()| {
            if i % 1000 == 999 {
                fsx.verify_all(f)
            } else {
                Ok(())
            }
        });
        if let Err(e) = result {
            let history: Vec<String> = fsx
                .history
                .iter()
                .enumerate()
                .map(|(n, h)| format!("  {:>8}  {h}", i + 1 + n - fsx.history.len()))
                .collect();
            panic!(
                "fsx mismatch at operation {i} (seed {seed:#x}; replay with GALLERYFS_SEED={seed:#x}):\n  {e}\nlast {} operations:\n{}\ngalleryfs log:\n{}",
                history.len(),
                history.join("\n"),
                fsx.mount
                    .log()
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        if harness::full() && i % 100_000 == 99_999 {
            eprintln!("fsx: {} operations, {:.0?}", i + 1, start.elapsed());
        }
    }
    for f in 0..FILES {
        fsx.verify_all(f)
            .unwrap_or_else(|e| panic!("final check (seed {seed:#x}): {e}"));
        close(fsx.files[f].fd).expect("close");
    }
    let unsupported: Vec<&str> = FALLOC_MODES
        .iter()
        .zip(fsx.falloc_ok)
        .filter(|(_, ok)| !ok)
        .map(|((_, label), _)| *label)
        .collect();
    harness::summary(
        "fsx",
        seed,
        &format!(
            "{total} operations, {} restores, {} remounts, 0 mismatches ({} reads, {} writes, {} reopens, {} MiB checked{}, {:.1?})",
            fsx.restores,
            fsx.remounts,
            fsx.reads,
            fsx.writes,
            fsx.reopens,
            fsx.checked_bytes >> 20,
            if unsupported.is_empty() {
                String::new()
            } else {
                format!(", unsupported: {}", unsupported.join(", "))
            },
            start.elapsed()
        ),
    );
}
