//! Regression cases for bugs the peer suites found.

use std::fs;

use crate::diff::differential;
use crate::sys::{self, close};

/// pjdfstest leaves fds open on files it deletes, then removes their
/// directory and makes the next test's directory, which on ext4 may get the
/// same inode number. galleryfs gave the new directory the old one's node
/// number while the kernel still held the old (dead) inode, so the kernel
/// reused that dead inode for the new directory and every create in it failed
/// with ENOENT (192 of pjdfstest's 398 cases failed after
/// `open::einval_invalid_combination`). Fixed by telling the kernel a new
/// generation for a reused number, and since then also by pinning a removed
/// directory's backing inode until the kernel forgets it, so that ext4 cannot
/// reuse the number meanwhile. Whether ext4 would reuse it depends on its
/// allocator's state, so the case replays the sequence a number of times.
#[test]
fn a_directory_made_after_removing_a_pinned_one_works() {
    differential("inode_reuse_dir", |c| {
        let mut failures = Vec::new();
        for round in 0..20 {
            sys::mkdir(&c.p("old"), 0o755).unwrap();
            // An open file inside pins the removed directory in the kernel.
            let f = sys::open(&c.p("old/f"), libc::O_CREAT | libc::O_RDWR, 0o644).unwrap();
            sys::unlink(&c.p("old/f")).unwrap();
            sys::rmdir(&c.p("old")).unwrap();
            sys::mkdir(&c.p("new"), 0o755).unwrap();
            let g = c.p("new/g");
            let create = sys::open(&g, libc::O_CREAT | libc::O_WRONLY, 0o644).map(close);
            let mkdir = sys::mkdir(&c.p("new/sub"), 0o755);
            let listed = fs::read_dir(c.p("new")).map(|d| d.count()).unwrap_or(0);
            // The open file still works.
            let write = sys::write(f, b"x");
            if create.is_err() || mkdir.is_err() || listed != 2 || write.is_err() {
                failures.push(format!(
                    "round {round}: create {create:?}, mkdir {mkdir:?}, {listed} names, write {write:?}"
                ));
            }
            close(f).unwrap();
            // Tolerant cleanup: a failure is reported below.
            let _ = sys::rmdir(&c.p("new/sub"));
            let _ = fs::remove_file(&g);
            if sys::rmdir(&c.p("new")).is_err() {
                failures.push("cannot remove the new directory".into());
                break;
            }
        }
        c.note(format!("failed rounds: {failures:?}"));
    });
}
