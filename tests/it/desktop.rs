//! Issue 6's freedesktop.org Trash view (`.Trash-UID/{files,info}`) driven by
//! the real clients: `gio` with gvfsd-trash in a private D-Bus session, and
//! trash-cli from PyPI. Assertions are on what the user sees: the clients'
//! output, `.trash/`, its attributes, and `gallery-trash list`.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, FixedOffset, Local};
use serde_json::Value;

use galleryfs_testkit::errno::errno_of;
use galleryfs_testkit::fsutil::{chmod, sorted_names as names, write_with_parents as write};
use galleryfs_testkit::xattr::getfattr;
use galleryfs_testkit::{Mount, gallery_trash_bin, ok, run, wait_until};

use clients::Clients;

mod gio;
mod live;
mod trash_cli;
mod view;

/// The other user of the multi-user tests.
const USER: u32 = 1000;

/// The uid running the tests (root on CI): the `.Trash-UID` they see.
fn my_uid() -> u32 {
    fs::metadata("/proc/self").expect("stat /proc/self").uid()
}

fn trash_dir(m: &Mount) -> PathBuf {
    m.mountpoint.join(format!(".Trash-{}", my_uid()))
}

fn deleted_at(entry: &Path) -> DateTime<FixedOffset> {
    let text = getfattr(entry, "user.trash.deleted_at");
    DateTime::parse_from_rfc3339(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// A deletion time as the `.trashinfo` and trash-cli show it: local time.
fn local(t: DateTime<FixedOffset>, format: &str) -> String {
    t.with_timezone(&Local).format(format).to_string()
}

fn gallery_trash_list(m: &Mount) -> Vec<Value> {
    let out = ok(Command::new(gallery_trash_bin())
        .args(["list", "--json"])
        .arg(&m.mountpoint));
    match serde_json::from_str(&out) {
        Ok(Value::Array(items)) => items,
        other => panic!("not a JSON array: {other:?}\n{out}"),
    }
}

/// `gio trash --list` lines for this mount: (URI, original path).
fn gio_entries(m: &Mount, listing: &str) -> Vec<(String, String)> {
    let prefix = format!("{}/", m.mountpoint.display());
    listing
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(_, orig)| orig.starts_with(&prefix))
        .map(|(uri, orig)| (uri.to_string(), orig.to_string()))
        .collect()
}

/// The part of a script's output after `== name` up to the next marker.
fn section<'a>(out: &'a str, name: &str) -> &'a str {
    let marker = format!("== {name}\n");
    let start = out
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{out}"))
        + marker.len();
    let rest = &out[start..];
    &rest[..rest.find("\n== ").map_or(rest.len(), |i| i + 1)]
}

/// The value of `  ATTRIBUTE: value` in `gio info` output.
fn gio_attribute<'a>(info: &'a str, attribute: &str) -> &'a str {
    let key = format!("{attribute}: ");
    info.lines()
        .find_map(|l| l.trim_start().strip_prefix(key.as_str()))
        .unwrap_or_else(|| panic!("no {attribute} in:\n{info}"))
}

/// Runs `script` as `uid` (sh -c, in the mount root), returning its output.
fn as_user(m: &Mount, uid: u32, script: &str, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={uid}"))
        .arg("--clear-groups")
        .args(["sh", "-c", script])
        .current_dir(&m.mountpoint);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// An `allow_other` mount other users can reach, with a shared gallery.
fn shared_mount() -> Mount {
    let m = Mount::with_options(&["allow_other"]);
    // The temp dir is root's and private: let the other user reach the mount.
    chmod(m.base.path(), 0o755);
    chmod(&m.gallery(), 0o1777);
    m
}

/// The real clients: a private home for them, GIO in its own D-Bus session,
/// trash-cli from a venv built once under `target/`.
mod clients {
    use std::fs::{self, File};
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::OnceLock;

    use galleryfs_testkit::fsutil::chmod;
    use galleryfs_testkit::{Mount, ok, run};

    /// The trash-cli the tests were written against (its prompt, its
    /// `--trash-dir` and `TRASH_VOLUMES` behaviour).
    const TRASH_CLI: &str = "trash-cli==0.26.9.29";

    pub struct Clients {
        dir: tempfile::TempDir,
    }

    impl Clients {
        pub fn new() -> Clients {
            let dir = tempfile::Builder::new()
                .prefix("galleryfs-desktop-")
                .tempdir()
                .expect("create temp dir");
            for sub in ["home", "data", "run"] {
                fs::create_dir(dir.path().join(sub)).unwrap();
            }
            chmod(&dir.path().join("run"), 0o700);
            Clients { dir }
        }

        /// A home of their own, so no client touches the real home trash.
        fn home(&self, cmd: &mut Command) {
            let d = self.dir.path();
            cmd.env("HOME", d.join("home"))
                .env("XDG_DATA_HOME", d.join("data"))
                .env("XDG_RUNTIME_DIR", d.join("run"));
        }

        /// A trash-cli command (`trash-put`, `trash-list`, ...).
        pub fn trash_cli(&self, tool: &str) -> Command {
            let mut cmd = Command::new(venv().join("bin").join(tool));
            self.home(&mut cmd);
            cmd
        }

        /// Runs `script` (sh -e) in a D-Bus session of its own, where
        /// `gio trash --list/--restore/--empty` reach a fresh gvfsd-trash;
        /// `$MNT` is the mount point. gvfsd-trash serves every mount it sees,
        /// and `gio trash --empty` would empty them all: in a private mount
        /// namespace the other galleryfs mounts (other tests') are detached
        /// first.
        pub fn gio(&self, m: &Mount, script: &str) -> String {
            let outer = r#"
                awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
                           if ($(i + 1) == "fuse.galleryfs") print $5
                           break
                       } }' /proc/self/mountinfo |
                while read -r mp; do
                    mp=$(printf '%b' "$mp")
                    [ "$mp" = "$MNT" ] || umount -l "$mp" || true
                done
                dbus-run-session -- sh -ec "$SCRIPT"
                rc=$?
                umount -l "$MNT"
                exit $rc
            "#;
            let mut cmd = Command::new("unshare");
            cmd.args(["--mount", "--propagation", "private", "sh", "-c", outer])
                .env("MNT", &m.mountpoint)
                .env("SCRIPT", script)
                .env("GVFS_DISABLE_FUSE", "1")
                .current_dir(self.dir.path());
            self.home(&mut cmd);
            let out = run(&mut cmd);
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "gio script failed with {}:\n{script}\nstdout:\n{stdout}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            stdout
        }
    }

    /// The trash-cli venv, `target/trash-cli-venv`: made once (a file lock
    /// guards it against concurrent test processes), never skipped.
    fn venv() -> &'static Path {
        static VENV: OnceLock<PathBuf> = OnceLock::new();
        VENV.get_or_init(|| {
            let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .expect("target dir");
            let dir = target.join("trash-cli-venv");
            let lock = File::create(target.join("trash-cli-venv.lock")).expect("create lock");
            lock.lock().expect("lock trash-cli-venv.lock");
            if !usable(&dir) {
                make(&dir);
                assert!(
                    usable(&dir),
                    "the trash-cli venv at {} does not work after installing {TRASH_CLI}",
                    dir.display()
                );
            }
            dir
        })
    }

    fn usable(dir: &Path) -> bool {
        let version = TRASH_CLI.rsplit('=').next().unwrap();
        Command::new(dir.join("bin/trash-list"))
            .arg("--version")
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains(version)
            })
    }

    fn make(dir: &Path) {
        let _ = fs::remove_dir_all(dir);
        let venv = run(Command::new("python3").args(["-m", "venv"]).arg(dir));
        assert!(
            venv.status.success(),
            "cannot create the trash-cli venv: `python3 -m venv {}` failed \
             (on Debian: apt-get install python3-venv):\n{}",
            dir.display(),
            String::from_utf8_lossy(&venv.stderr)
        );
        let pip = run(Command::new(dir.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            TRASH_CLI,
        ]));
        assert!(
            pip.status.success(),
            "cannot install {TRASH_CLI} into {} (pip needs network access to PyPI):\n{}",
            dir.display(),
            String::from_utf8_lossy(&pip.stderr)
        );
        ok(Command::new(dir.join("bin/trash-put")).arg("--version"));
    }
}
