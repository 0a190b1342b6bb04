//! The echo helper (see `fs::echo`): a child process that repeats, with
//! real syscalls on the mount, the trash changes watchers did not see, so
//! that the kernel raises their inotify events.
//!
//! A process, not a thread of the daemon: a syscall on the mount can wait
//! for a directory lock held by a request of another process, and if the
//! daemon is killed meanwhile, a thread of it stuck there would keep the
//! daemon from dying and the mount hung. The helper holds no /dev/fuse
//! descriptor, so the daemon's death aborts the connection and frees it.
//!
//! The echo thread gathers echoes, waits for a quiet moment (a burst, such
//! as an `rm -rf`, is told once it ends, as its net change), then sends
//! them. Protocol on the helper's stdin: `+` or `-` (appear, vanish), a
//! type letter, the path relative to the mount point, NUL; a batch ends
//! with `=` NUL. The helper answers one byte per record (0 or an errno),
//! then `=`.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::backing;
use crate::fs::{Echo, Echoes, net_echoes};
use crate::node::ROOT;
use crate::sync::lock;

/// The hidden first argument that makes `galleryfs` the helper.
pub const HELPER_ARG: &str = "--internal-echo-helper";

/// A change is told once the trash has been quiet this long...
const QUIET: Duration = Duration::from_millis(100);
/// ...or this long after it, whichever comes first,
const LATENCY: Duration = Duration::from_secs(1);
/// unless the batch is a burst of this many changes: then only when quiet
const BURST: usize = 256;
/// (or this long after its start, to bound the memory it holds).
const BURST_MAX: Duration = Duration::from_secs(300);
/// Records per round trip with the helper (its answers fit a pipe).
const CHUNK: usize = 1024;

/// The echo thread and its helper.
pub struct Echoer {
    queue: Arc<Queue>,
    stopped: Arc<AtomicBool>,
    helper: Arc<Mutex<Option<Child>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Echoes waiting for the thread. A sender wakes the thread only when it
/// waits for a first echo: during a burst it sleeps until the quiet moment
/// on its own, so an `rm -rf` does not pay a thread wake-up per file.
#[derive(Default)]
struct Queue {
    state: Mutex<Waiting>,
    wake: Condvar,
}

#[derive(Default)]
struct Waiting {
    echoes: Vec<Echo>,
    /// When the first and the last of `echoes` came.
    first: Option<Instant>,
    last: Option<Instant>,
    /// The thread waits for a first echo.
    idle: bool,
    closed: bool,
}

impl Echoer {
    pub fn start(echoes: Arc<Echoes>, mountpoint: PathBuf) -> io::Result<Echoer> {
        let queue = Arc::new(Queue::default());
        let stopped = Arc::new(AtomicBool::new(false));
        let helper = Arc::new(Mutex::new(None));
        let thread = {
            let (queue, stopped, helper) = (queue.clone(), stopped.clone(), helper.clone());
            std::thread::Builder::new()
                .name("echoer".into())
                .spawn(move || run(&queue, &echoes, &mountpoint, &stopped, &helper))?
        };
        Ok(Echoer {
            queue,
            stopped,
            helper,
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn send(&self, echo: Echo) {
        let mut waiting = lock(&self.queue.state);
        if waiting.closed {
            return;
        }
        let now = Instant::now();
        waiting.first.get_or_insert(now);
        waiting.last = Some(now);
        waiting.echoes.push(echo);
        if std::mem::take(&mut waiting.idle) {
            drop(waiting);
            self.queue.wake.notify_one();
        }
    }

    /// Stops echoing before an unmount: the helper is killed (a syscall of
    /// it in flight would make the unmount busy) and the thread joined.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        lock(&self.queue.state).closed = true;
        self.queue.wake.notify_all();
        if let Some(mut child) = lock(&self.helper).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Echoer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(
    queue: &Queue,
    echoes: &Echoes,
    mountpoint: &Path,
    stopped: &AtomicBool,
    helper: &Mutex<Option<Child>>,
) {
    let mut pipes: Option<(ChildStdin, BufReader<ChildStdout>)> = None;
    let mut dev = None;
    while let Some(batch) = gather(queue) {
        let mut told = net_echoes(batch);
        // A burst only for the directories someone watches (see `watchers`).
        if told.len() >= BURST
            && let Some(dev) = *dev.get_or_insert_with(|| mount_dev(mountpoint))
            && let Some(watched) = super::watchers::watched(dev)
        {
            let all = told.len();
            told.retain(|e| watched.contains(&e.dir));
            log::debug!(
                "echoing {} of {all} changes: the others' directories are not watched",
                told.len()
            );
        }
        for chunk in told.chunks(CHUNK) {
            if stopped.load(Ordering::SeqCst) {
                return;
            }
            if pipes.is_none() {
                pipes = spawn(mountpoint, echoes, helper)
                    .map_err(|e| log::warn!("cannot start the echo helper: {e}"))
                    .ok();
            }
            let Some((stdin, stdout)) = pipes.as_mut() else {
                continue;
            };
            echoes.begin(chunk);
            let told = tell(stdin, stdout, chunk);
            echoes.end();
            if let Err(e) = told {
                if !stopped.load(Ordering::SeqCst) {
                    log::warn!("the echo helper failed ({e}): restarting it");
                }
                pipes = None;
                if let Some(mut child) = lock(helper).take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
    }
}

/// The device of the galleryfs mounted at `mountpoint`, as the kernel
/// encodes it, from mountinfo (no syscall on the mount itself).
fn mount_dev(mountpoint: &Path) -> Option<u64> {
    let mounts = crate::contract::read_mountinfo().ok()?;
    let mount = mounts
        .iter()
        .rfind(|m| m.is_galleryfs() && m.mount_point == mountpoint)?;
    super::watchers::kernel_dev(&mount.dev)
}

/// The next batch: from a first echo until a quiet moment (see `QUIET`);
/// `None` once the mount is going.
fn gather(queue: &Queue) -> Option<Vec<Echo>> {
    let mut waiting = lock(&queue.state);
    while waiting.echoes.is_empty() && !waiting.closed {
        waiting.idle = true;
        waiting = queue.wake.wait(waiting).unwrap_or_else(|e| e.into_inner());
    }
    loop {
        if waiting.closed {
            return None;
        }
        let (Some(first), Some(last)) = (waiting.first, waiting.last) else {
            return None;
        };
        let cap = if waiting.echoes.len() >= BURST {
            BURST_MAX
        } else {
            LATENCY
        };
        let deadline = (last + QUIET).min(first + cap);
        let Some(wait) = deadline.checked_duration_since(Instant::now()) else {
            waiting.first = None;
            waiting.last = None;
            return Some(std::mem::take(&mut waiting.echoes));
        };
        waiting = queue
            .wake
            .wait_timeout(waiting, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

fn spawn(
    mountpoint: &Path,
    echoes: &Echoes,
    helper: &Mutex<Option<Child>>,
) -> io::Result<(ChildStdin, BufReader<ChildStdout>)> {
    let mut child = Command::new("/proc/self/exe")
        .arg(HELPER_ARG)
        .arg(mountpoint)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdin = child.stdin.take().ok_or(io::ErrorKind::BrokenPipe)?;
    let stdout = child.stdout.take().ok_or(io::ErrorKind::BrokenPipe)?;
    echoes.set_helper(child.id());
    *lock(helper) = Some(child);
    Ok((stdin, BufReader::new(stdout)))
}

/// One round trip: `batch` to the helper, its answers back.
fn tell(stdin: &mut ChildStdin, stdout: &mut impl Read, batch: &[Echo]) -> io::Result<()> {
    let mut out = Vec::new();
    let mut sent = Vec::new();
    for e in batch {
        let Some(path) = e.path() else { continue };
        out.push(if e.appeared { b'+' } else { b'-' });
        out.push(type_letter(e.kind));
        out.extend_from_slice(&path);
        out.push(0);
        sent.push(e);
    }
    out.extend_from_slice(b"=\0");
    stdin.write_all(&out)?;
    stdin.flush()?;
    let mut answers = vec![0u8; sent.len() + 1];
    stdout.read_exact(&mut answers)?;
    if answers.last() != Some(&b'=') {
        return Err(io::Error::other("the echo helper is out of step"));
    }
    for (e, &errno) in sent.iter().zip(&answers) {
        if errno != 0 {
            log::debug!("echo {e:?}: errno {errno}");
        }
    }
    Ok(())
}

fn type_letter(kind: u32) -> u8 {
    match kind {
        libc::S_IFDIR => b'd',
        libc::S_IFLNK => b'l',
        libc::S_IFIFO => b'p',
        libc::S_IFSOCK => b's',
        libc::S_IFCHR => b'c',
        libc::S_IFBLK => b'b',
        _ => b'f',
    }
}

fn kind_of(letter: u8) -> u32 {
    match letter {
        b'd' => libc::S_IFDIR,
        b'l' => libc::S_IFLNK,
        b'p' => libc::S_IFIFO,
        b's' => libc::S_IFSOCK,
        b'c' => libc::S_IFCHR,
        b'b' => libc::S_IFBLK,
        _ => libc::S_IFREG,
    }
}

/// The helper's main: `galleryfs --internal-echo-helper MOUNTPOINT`.
/// Exits when its input ends (the daemon stopped or died).
pub fn helper_main(mountpoint: &OsStr) -> io::Result<()> {
    let mut input = BufReader::new(io::stdin().lock());
    let mut output = io::stdout().lock();
    let mut record = Vec::new();
    let mut root = None;
    let mut answers = Vec::new();
    loop {
        record.clear();
        if input.read_until(0, &mut record)? == 0 {
            return Ok(());
        }
        record.pop();
        match record.as_slice() {
            b"=" => {
                // Hold nothing on the mount between batches: it would make
                // an unmount busy.
                root = None;
                answers.push(b'=');
                output.write_all(&answers)?;
                output.flush()?;
                answers.clear();
            }
            [op, letter, path @ ..] => {
                if root.is_none() {
                    root = open_root(mountpoint).ok();
                }
                let errno = match &root {
                    Some(fd) => repeat(fd, *op == b'+', kind_of(*letter), OsStr::from_bytes(path)),
                    None => libc::EXDEV,
                };
                answers.push(errno.clamp(0, 255) as u8);
            }
            _ => answers.push(libc::EINVAL as u8),
        }
    }
}

/// The mount's root, if it still is galleryfs's (not something mounted over
/// it): a detached copy of the mount where the helper may make one (as
/// root), so that an unmount meanwhile is never busy because of it; else
/// the mount itself (an unmount falling on a batch then answers EBUSY).
fn open_root(mountpoint: &OsStr) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let fd = match backing::open_tree_clone(mountpoint) {
        Ok(fd) => fd,
        Err(_) => std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(mountpoint)?
            .into(),
    };
    let st = backing::fstat(fd.as_fd()).map_err(|e| io::Error::from_raw_os_error(e.errno()))?;
    if st.st_ino != ROOT {
        return Err(io::Error::other("not a galleryfs mount"));
    }
    Ok(fd)
}

/// Makes or removes `path` below `root` as the echo says; 0 or an errno.
fn repeat(root: &std::os::fd::OwnedFd, appeared: bool, kind: u32, path: &OsStr) -> i32 {
    let root = root.as_fd();
    let done = match (appeared, kind) {
        (true, libc::S_IFDIR) => backing::mkdirat(root, path, 0o700),
        (true, libc::S_IFLNK) => backing::symlinkat(OsStr::new("."), root, path),
        (true, _) => backing::mknodat(root, path, kind | 0o600, 0),
        (false, kind) => backing::unlinkat(root, path, kind == libc::S_IFDIR),
    };
    match done {
        Ok(()) => 0,
        Err(e) => e.errno(),
    }
}
