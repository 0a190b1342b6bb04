//! Paths longer than PATH_MAX, reached by chdir through relative names. The
//! kernel accepts them (every name is short; only whole path strings are
//! limited to 4096 bytes), so a filesystem must too: galleryfs works on
//! directory fds and never rebuilds absolute backing paths, which a
//! path-based passthrough does and fails with ENAMETOOLONG.
//!
//! chdir moves the whole process, so each run happens in a thread that
//! unshared its filesystem context (CLONE_FS): its cwd is its own.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::diff::{Ctx, differential};
use crate::sys::{self, close, errname};

/// 24 levels of 200-byte names: about 4,800 bytes below the case directory.
const LEVELS: usize = 24;

fn level_name(i: usize) -> String {
    format!("{i:02}{}", "d".repeat(198))
}

/// Runs `f` in a thread with its own cwd, starting in `dir`.
fn in_own_cwd<T: Send + 'static>(dir: PathBuf, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        sys::unshare_fs().expect("unshare(CLONE_FS)");
        sys::chdir(dir.to_str().unwrap()).expect("chdir to the case directory");
        f()
    })
    .join()
    .expect("long-path thread")
}

#[test]
fn deep_paths_beyond_path_max() {
    let got = differential("longpath", |c: &mut Ctx| {
        let gallery = c.gallery();
        let trash = c.mount().map(|m| m.trash());
        let dir = c.dir().to_path_buf();
        let log = in_own_cwd(dir.clone(), move || {
            let mut log = Vec::new();
            let mut note = |s: String| log.push(s);
            // Down, one relative name at a time.
            for i in 0..LEVELS {
                let name = level_name(i);
                sys::mkdir(PathBuf::from(&name).as_path(), 0o755).unwrap();
                sys::chdir(&name).unwrap_or_else(|e| panic!("chdir level {i}: {}", errname(e)));
            }
            let depth: usize = (0..LEVELS).map(|i| level_name(i).len() + 1).sum();
            note(format!("depth below the case directory: {depth} bytes"));
            // The absolute path is too long for the kernel's path calls.
            let mut abs = dir.clone();
            for i in 0..LEVELS {
                abs.push(level_name(i));
            }
            note(format!(
                "stat by absolute path: {}",
                sys::stat(&abs)
                    .map(|_| "ok".to_string())
                    .unwrap_or_else(errname)
            ));
            // getcwd knows it is too long for a PATH_MAX buffer.
            let mut buf = vec![0u8; 4096];
            // SAFETY: valid buffer.
            let r = unsafe { libc::getcwd(buf.as_mut_ptr().cast(), buf.len()) };
            note(format!(
                "getcwd(4096): {}",
                if r.is_null() { "err" } else { "ok" }
            ));
            // Create, write, read, stat, rename, link, xattr, rm, here.
            let f = PathBuf::from("file");
            let fd = sys::open(&f, libc::O_CREAT | libc::O_RDWR, 0o644).unwrap();
            note(format!("write: {:?}", sys::write(fd, b"deep data")));
            close(fd).unwrap();
            note(format!(
                "read: {:?}",
                fs::read(&f).map(|v| String::from_utf8(v).unwrap()).ok()
            ));
            note(format!(
                "setxattr: {:?}",
                sys::setxattr(&f, "user.deep", b"yes", 0)
            ));
            note(format!(
                "rename: {:?}",
                sys::rename(&f, PathBuf::from("renamed").as_path())
            ));
            note(format!(
                "link: {:?}",
                sys::link(
                    PathBuf::from("renamed").as_path(),
                    PathBuf::from("linked").as_path()
                )
            ));
            note(format!(
                "unlink link: {:?}",
                sys::unlink(PathBuf::from("linked").as_path())
            ));
            note(format!(
                "symlink: {:?}",
                sys::symlink("renamed", PathBuf::from("sym").as_path())
            ));
            note(format!(
                "read via symlink: {:?}",
                fs::read("sym").map(|v| v.len()).ok()
            ));
            let st = sys::stat(PathBuf::from("renamed").as_path()).unwrap();
            note(format!("stat: size {} nlink {}", st.st_size, st.st_nlink));
            // A child process inherits the deep cwd (fork copies this thread's fs context).
            let out = Command::new("sh")
                .arg("-c")
                .arg("echo shell > sh.txt && cat sh.txt && ls | sort | tr '\\n' ' ' && rm sh.txt")
                .output()
                .unwrap();
            note(format!(
                "sh: {} {:?}",
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout)
            ));
            // rm: natively gone; in the gallery a trash entry whose original
            // path is longer than PATH_MAX, restored here by a relative rename.
            note(format!(
                "unlink: {:?}",
                sys::unlink(PathBuf::from("renamed").as_path())
            ));
            note(format!(
                "stat after unlink: {:?}",
                sys::stat(PathBuf::from("renamed").as_path())
                    .err()
                    .map(errname)
            ));
            if gallery {
                let trash = trash.unwrap();
                let entries: Vec<_> = fs::read_dir(&trash)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().into_string().unwrap())
                    .filter(|n| n.starts_with("renamed") || n.starts_with("sh.txt"))
                    .collect();
                let entry = entries
                    .iter()
                    .find(|n| n.starts_with("renamed"))
                    .expect("trash entry");
                let original =
                    sys::getxattr(&trash.join(entry), "user.trash.original_path").unwrap();
                let want: Vec<String> = (0..LEVELS).map(level_name).collect();
                let want = format!("longpath/{}/renamed", want.join("/"));
                assert_eq!(String::from_utf8(original).unwrap(), want, "original path");
                assert!(want.len() > 4096);
                let tfd = sys::open(&trash, libc::O_RDONLY | libc::O_DIRECTORY, 0).unwrap();
                let r = sys::renameat(tfd, entry, libc::AT_FDCWD, "renamed");
                close(tfd).unwrap();
                assert_eq!(r, Ok(()), "restore to the deep directory by relative name");
            } else {
                fs::write("renamed", b"deep data").unwrap();
                sys::setxattr(PathBuf::from("renamed").as_path(), "user.deep", b"yes", 0).unwrap();
            }
            note(format!(
                "restored: {:?}",
                fs::read("renamed")
                    .map(|v| String::from_utf8(v).unwrap())
                    .ok()
            ));
            note(format!(
                "xattr kept: {:?}",
                sys::getxattr(PathBuf::from("renamed").as_path(), "user.deep")
                    .map(String::from_utf8)
            ));
            // Up again, removing everything on the way.
            fs::remove_file("renamed").unwrap();
            fs::remove_file("sym").unwrap();
            for i in (0..LEVELS).rev() {
                sys::chdir("..").unwrap();
                let r = sys::rmdir(PathBuf::from(level_name(i)).as_path());
                if r.is_err() {
                    note(format!("rmdir level {i}: {:?}", r.map_err(errname)));
                }
            }
            note(format!(
                "back at the top: {:?}",
                fs::read_dir(".").map(|d| d.count()).ok()
            ));
            log
        });
        for line in log {
            c.note(line);
        }
    });
    assert!(got.iter().any(|l| l.starts_with("back at the top")));
}
