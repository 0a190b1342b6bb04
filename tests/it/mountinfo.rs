//! A mount point whose name holds every character mountinfo escapes (proc(5):
//! space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`) is
//! recognised like any other: gallery-trash finds the mount, and a second
//! galleryfs on it is refused as already mounted.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use galleryfs_testkit::{Mount, galleryfs_bin, ok, run, wait_until};

/// Every character mountinfo escapes, and plain text around them.
const ODD_NAME: &str = "odd name\ttab\nnewline\\back";
/// How the kernel writes `ODD_NAME` in mountinfo, spelled out by hand so the
/// test does not depend on the codec it checks.
const ODD_NAME_ESCAPED: &str = "odd\\040name\\011tab\\012newline\\134back";

/// How many mounts are stacked on the mount point that mountinfo spells `escaped`.
fn mounts_on(escaped: &[u8]) -> usize {
    let info = fs::read("/proc/self/mountinfo").expect("read mountinfo");
    info.split(|&b| b == b'\n')
        .filter(|line| line.split(|&b| b == b' ').nth(4) == Some(escaped))
        .count()
}

/// Unmounts whatever was stacked on the mount point beyond the fixture's own
/// mount, so a test that fails because a second galleryfs did mount leaves
/// nothing behind.
struct Unstack {
    mountpoint: PathBuf,
    escaped: Vec<u8>,
}

impl Drop for Unstack {
    fn drop(&mut self) {
        while mounts_on(&self.escaped) > 1 {
            let _ = Command::new("umount").arg(&self.mountpoint).status();
            let before = mounts_on(&self.escaped);
            wait_until("the stacked mount to go", || {
                mounts_on(&self.escaped) < before
            });
        }
    }
}

fn gallery_trash_list(cwd: &Path, mount: Option<&Path>) -> Vec<Value> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gallery-trash"));
    cmd.arg("list").arg("--json").current_dir(cwd);
    if let Some(mount) = mount {
        cmd.arg(mount);
    }
    let out = ok(&mut cmd);
    match serde_json::from_str(&out) {
        Ok(Value::Array(entries)) => entries,
        other => panic!("list --json printed {out:?}: {other:?}"),
    }
}

#[test]
fn a_mount_point_with_escaped_characters_is_recognised() {
    let mut m = Mount::new();
    m.unmount();
    let odd = m.base.path().join(ODD_NAME);
    fs::create_dir(&odd).unwrap();
    m.mountpoint = odd.clone();
    m.mount();

    let base = m.base.path().to_str().expect("temp dirs are UTF-8");
    let escaped = format!("{base}/{ODD_NAME_ESCAPED}").into_bytes();
    assert_eq!(
        mounts_on(&escaped),
        1,
        "mountinfo does not spell the mount point as proc(5) says"
    );

    fs::write(m.gallery().join("cat.jpg"), "meow").unwrap();
    fs::remove_file(m.gallery().join("cat.jpg")).unwrap();
    // By MOUNT argument, and by the current directory inside the mount.
    for (cwd, mount) in [(Path::new("/"), Some(odd.as_path())), (&m.gallery(), None)] {
        let entries = gallery_trash_list(cwd, mount);
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["original_path"], "cat.jpg", "{entries:?}");
    }

    let _unstack = Unstack {
        mountpoint: odd.clone(),
        escaped: escaped.clone(),
    };
    let storage2 = m.base.path().join("store2");
    let out = run(Command::new(galleryfs_bin())
        .arg(&storage2)
        .arg(&odd)
        .stdin(Stdio::null()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a second galleryfs on the mount point must fail; stderr: {err}"
    );
    assert!(err.contains("is already a mount point"), "stderr: {err}");
    assert_eq!(mounts_on(&escaped), 1, "something was mounted on top");
    assert!(!storage2.exists(), "the refused mount created STORAGE2");
    // The first mount is unaffected.
    fs::write(m.gallery().join("still-works"), "yes").unwrap();
    assert_eq!(gallery_trash_list(Path::new("/"), Some(&odd)).len(), 1);
}
