//! `gallery-trash` driven as a process against real galleryfs mounts:
//! what the user sees (stdout, stderr, exit status) and what the files
//! become afterwards.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use serde_json::Value;

use galleryfs_testkit::fsutil::write_with_parents as write;
use galleryfs_testkit::xattr;
use galleryfs_testkit::{Mount, gallery_trash_bin, ok, sh};

mod bulk;
mod chooser;
mod cleanup;
mod context;
mod list;
mod litter;
mod purge;
mod restore;
mod undo;
mod units;
mod versions;

/// The uids of the multi-user test: a file owner and an intruder.
const OWNER_UID: u32 = 1000;
const OTHER_UID: u32 = 65534;

/// What one run of gallery-trash showed.
#[derive(Debug)]
struct Shown {
    code: i32,
    out: String,
    err: String,
}

impl Shown {
    fn succeeded(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success:\n{self:#?}");
        self
    }

    fn failed_with(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "expected exit status {code}:\n{self:#?}");
        self
    }

    /// Every stderr line is one error starting with the command's name.
    fn errors_from(&self, command: &str) -> Vec<&str> {
        let lines: Vec<&str> = self.err.lines().collect();
        for line in &lines {
            assert!(
                line.starts_with(&format!("gallery-trash {command}: ")),
                "bad error line {line:?}:\n{self:#?}"
            );
        }
        lines
    }
}

/// A gallery-trash command line, run in `cwd`, optionally as another user.
struct Run {
    bin: PathBuf,
    cwd: PathBuf,
    args: Vec<OsString>,
    input: Vec<u8>,
    uid: Option<u32>,
}

fn gallery_trash(cwd: &Path) -> Run {
    Run {
        bin: gallery_trash_bin(),
        cwd: cwd.to_path_buf(),
        args: Vec::new(),
        input: Vec::new(),
        uid: None,
    }
}

impl Run {
    fn arg(mut self, arg: impl AsRef<OsStr>) -> Run {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Run {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Standard input (a pipe, so not a terminal); empty means end of input at once.
    fn input(mut self, input: &[u8]) -> Run {
        self.input = input.to_vec();
        self
    }

    /// Runs the binary at `bin` as `uid` (gid the same, no supplementary groups).
    fn run_as(mut self, uid: u32, bin: &Path) -> Run {
        self.uid = Some(uid);
        self.bin = bin.to_path_buf();
        self
    }

    fn show(self) -> Shown {
        let mut cmd = match self.uid {
            None => Command::new(&self.bin),
            Some(uid) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={uid}"))
                    .arg("--clear-groups")
                    .arg(&self.bin);
                c
            }
        };
        // Dates in the table are local time: make local time UTC.
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .env("TZ", "UTC0");
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        {
            let mut stdin = child.stdin.take().expect("piped stdin");
            // The command may exit without reading (nothing to ask): ignore EPIPE.
            let _ = stdin.write_all(&self.input);
        }
        let out = child.wait_with_output().expect("wait for gallery-trash");
        Shown {
            code: out.status.code().expect("gallery-trash killed by a signal"),
            out: String::from_utf8(out.stdout).expect("stdout is UTF-8 even for non-UTF-8 names"),
            err: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }
}

fn time_attr(entry: &Path, name: &str) -> DateTime<Utc> {
    let value =
        xattr::get_opt(entry, name).unwrap_or_else(|| panic!("{} has no {name}", entry.display()));
    DateTime::parse_from_rfc3339(std::str::from_utf8(&value).unwrap())
        .unwrap()
        .to_utc()
}

/// Returns once the clock is past the second of every deletion so far, so
/// the next deletion gets a later `deleted_at` (it has whole seconds).
fn wait_past_deletions(m: &Mount) {
    let latest = m
        .trash_os_names()
        .iter()
        .map(|name| time_attr(&m.trash().join(name), "user.trash.deleted_at"))
        .max()
        .expect("something was deleted");
    galleryfs_testkit::wait::until_clock_passes((latest + chrono::Duration::seconds(1)).into());
}

/// Writes `name` in the gallery and deletes it: one new trash entry.
fn trash_file(m: &Mount, name: &str, content: &[u8]) {
    let path = m.gallery().join(name);
    write(&path, content);
    fs::remove_file(&path).unwrap();
}

fn parse_json(text: &str) -> Vec<Value> {
    match serde_json::from_str(text) {
        Ok(Value::Array(items)) => items,
        other => panic!("not a JSON array: {other:?}\n{text}"),
    }
}

fn by_name<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {items:#?}"))
}

fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}
