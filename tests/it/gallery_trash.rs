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
use std::thread::sleep;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use galleryfs_testkit::fsutil::write_with_parents as write;
use galleryfs_testkit::xattr;
use galleryfs_testkit::{Mount, gallery_trash_bin, ok, sh};

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
    while Utc::now() < latest + chrono::Duration::seconds(1) {
        sleep(Duration::from_millis(20));
    }
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

#[test]
fn list_shows_table_json_empty_trash_odd_names_and_directory_sizes() {
    let m = Mount::new();
    let mnt = &m.mountpoint;

    let empty = gallery_trash(mnt).args(["list", "--json"]).show();
    assert_eq!(empty.succeeded().out.trim(), "[]");
    let empty = gallery_trash(mnt).arg("list").arg(mnt).show();
    assert_eq!(empty.succeeded().out, "Trash is empty\n");

    trash_file(&m, "albums/cat.jpg", &[7; 1000]);
    write(&m.gallery().join("trip/a.jpg"), &[1; 2000]);
    write(&m.gallery().join("trip/sub/b.jpg"), &[2; 3000]);
    fs::rename(m.gallery().join("trip"), m.trash().join("trip")).unwrap();
    let odd = OsStr::from_bytes(b"bad\xff\x01name.jpg");
    fs::write(m.gallery().join(odd), b"").unwrap();
    fs::remove_file(m.gallery().join(odd)).unwrap();

    let table = gallery_trash(mnt).arg("list").arg(mnt).show();
    table.succeeded();
    let lines: Vec<&str> = table.out.lines().collect();
    assert_eq!(lines.len(), 5, "header, 3 rows, footer:\n{}", table.out);
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        ["NAME", "ORIGINAL PATH", "DELETED", "DAYS LEFT", "SIZE"]
    );
    assert_eq!(lines[4], "3 items, 5.9 KiB");

    let cat = line_with(&table.out, "cat.jpg");
    let deleted = time_attr(&m.trash().join("cat.jpg"), "user.trash.deleted_at");
    assert!(cat.starts_with("cat.jpg "), "{cat}");
    assert!(cat.contains("gallery/albums/cat.jpg"), "{cat}");
    assert!(
        cat.contains(&deleted.format("%Y-%m-%d %H:%M").to_string()),
        "{cat}"
    );
    assert!(cat.contains(" 30d "), "{cat}");
    assert!(cat.ends_with(" 1000 B"), "{cat}");

    let trip = line_with(&table.out, "trip/");
    assert!(trip.contains("gallery/trip "), "{trip}");
    assert!(trip.ends_with(" 4.9 KiB"), "directory total 5000 B: {trip}");

    // Escaped, never raw.
    let bad = line_with(&table.out, "bad");
    assert!(bad.starts_with("bad\\xff\\x01name.jpg "), "{bad}");
    assert!(bad.contains("gallery/bad\\xff\\x01name.jpg"), "{bad}");
    assert!(!table.out.contains('\u{1}'));

    let json = gallery_trash(mnt).args(["list", "--json"]).arg(mnt).show();
    let items = parse_json(&json.succeeded().out);
    assert_eq!(items.len(), 3);
    let cat = by_name(&items, "cat.jpg");
    let entry = m.trash().join("cat.jpg");
    let keys: Vec<&str> = cat
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected_keys = [
        "name",
        "path",
        "original_path",
        "deleted_at",
        "expires_at",
        "days_left",
        "size",
        "kind",
    ];
    expected_keys.sort();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort();
    assert_eq!(keys_sorted, expected_keys);
    assert_eq!(cat["path"], entry.to_str().unwrap());
    assert_eq!(cat["original_path"], "albums/cat.jpg");
    assert_eq!(
        cat["deleted_at"].as_str().unwrap().as_bytes(),
        xattr::get_opt(&entry, "user.trash.deleted_at").unwrap()
    );
    assert_eq!(
        cat["expires_at"].as_str().unwrap().as_bytes(),
        xattr::get_opt(&entry, "user.trash.expires_at").unwrap()
    );
    assert_eq!(cat["days_left"], 30);
    assert_eq!(cat["size"], 1000);
    assert_eq!(cat["kind"], "file");

    let trip = by_name(&items, "trip");
    assert_eq!(
        (trip["kind"].as_str(), trip["size"].as_u64()),
        (Some("dir"), Some(5000))
    );
    assert_eq!(trip["original_path"], "trip");

    let bad = items
        .iter()
        .find(|v| v.get("name_bytes").is_some())
        .expect("an entry with name_bytes");
    assert_eq!(bad["name"], "bad\u{fffd}\u{1}name.jpg");
    let bytes: Vec<u8> = bad["name_bytes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(bytes, b"bad\xff\x01name.jpg");
    assert_eq!(bad["size"], 0);

    let sorted = gallery_trash(mnt)
        .args(["list", "--json", "--sort", "size"])
        .show();
    let names: Vec<String> = parse_json(&sorted.succeeded().out)
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["trip", "cat.jpg", "bad\u{fffd}\u{1}name.jpg"]);
    let reversed = gallery_trash(mnt)
        .args(["list", "--json", "--sort", "name", "--reverse"])
        .show();
    let names: Vec<String> = parse_json(&reversed.succeeded().out)
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["trip", "cat.jpg", "bad\u{fffd}\u{1}name.jpg"]);
}

#[test]
fn symlink_entries_show_an_unknown_original_path_and_restore_with_to() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    std::os::unix::fs::symlink("cat.jpg", m.gallery().join("link")).unwrap();
    fs::remove_file(m.gallery().join("link")).unwrap();

    let table = gallery_trash(mnt).arg("list").show();
    let row = line_with(&table.succeeded().out, "link");
    assert!(row.split_whitespace().nth(1) == Some("?"), "{row}");
    let json = parse_json(
        &gallery_trash(mnt)
            .args(["list", "--json"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(json[0]["kind"], "symlink");
    assert_eq!(json[0]["original_path"], Value::Null);

    let without = gallery_trash(mnt).args(["restore", ".trash/link"]).show();
    let errors = without.failed_with(1).errors_from("restore");
    assert!(
        errors[0].contains("Restore failed: ") && errors[0].contains("--to"),
        "{errors:?}"
    );

    let with = gallery_trash(mnt)
        .args(["restore", ".trash/link", "--to", "gallery/link"])
        .show();
    assert_eq!(with.succeeded().out, "restored link -> gallery/link\n");
    assert_eq!(
        fs::read_link(m.gallery().join("link")).unwrap(),
        Path::new("cat.jpg")
    );
}

#[test]
fn restore_recreates_deleted_parent_directories_with_the_users_umask() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    trash_file(&m, "a/b/cat.jpg", b"meow");
    fs::remove_dir(m.gallery().join("a/b")).unwrap();
    fs::remove_dir(m.gallery().join("a")).unwrap();

    let bin = gallery_trash_bin();
    let bin = bin.display();
    let out = sh(
        mnt,
        &format!("umask 027 && TZ=UTC0 '{bin}' restore '.trash/cat.jpg'"),
    );
    assert_eq!(out, "restored cat.jpg -> gallery/a/b/cat.jpg\n");
    assert_eq!(fs::read(m.gallery().join("a/b/cat.jpg")).unwrap(), b"meow");
    for dir in ["a", "a/b"] {
        let meta = fs::metadata(m.gallery().join(dir)).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o7777, 0o750, "{dir} made with umask 027");
        assert_eq!(meta.uid(), 0);
    }
    assert_eq!(
        gallery_trash(mnt).arg("list").show().succeeded().out,
        "Trash is empty\n"
    );
}

#[test]
fn restore_by_original_path_takes_the_most_recent_deletion() {
    let m = Mount::new();
    let albums = m.gallery().join("albums");
    for version in ["v1", "v2", "v3"] {
        if version != "v1" {
            wait_past_deletions(&m);
        }
        trash_file(&m, "albums/cat.jpg", version.as_bytes());
    }
    trash_file(&m, "albums/dog.jpg", b"woof");
    assert_eq!(m.trash_os_names().len(), 4);

    // Relative, from inside the gallery: `rm cat.jpg && gallery-trash restore cat.jpg`.
    let first = gallery_trash(&albums).args(["restore", "cat.jpg"]).show();
    assert!(
        first.succeeded().out.starts_with("restored cat"),
        "{first:#?}"
    );
    assert!(
        first.out.ends_with(" -> gallery/albums/cat.jpg\n"),
        "{first:#?}"
    );
    assert_eq!(fs::read(albums.join("cat.jpg")).unwrap(), b"v3");

    // Absolute, once the place is free again: the next most recent.
    fs::rename(albums.join("cat.jpg"), albums.join("kept.jpg")).unwrap();
    let second = gallery_trash(m.base.path())
        .arg("restore")
        .arg(albums.join("cat.jpg"))
        .show();
    assert!(
        second
            .succeeded()
            .out
            .ends_with(" -> gallery/albums/cat.jpg\n"),
        "{second:#?}"
    );
    assert_eq!(fs::read(albums.join("cat.jpg")).unwrap(), b"v2");
    assert_eq!(m.trash_os_names().len(), 2, "v1 and dog.jpg stay");
}

#[test]
fn restore_conflicts_fail_unless_rename_or_to() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    let cat = m.gallery().join("cat.jpg");
    trash_file(&m, "cat.jpg", b"old");
    write(&cat, b"new");

    let refused = gallery_trash(mnt)
        .args(["restore", "gallery/cat.jpg"])
        .show();
    let errors = refused.failed_with(1).errors_from("restore");
    assert_eq!(
        errors,
        ["gallery-trash restore: Restore failed: gallery/cat.jpg already exists"]
    );
    assert_eq!(refused.out, "");
    assert_eq!(fs::read(&cat).unwrap(), b"new");
    assert_eq!(fs::read(m.trash().join("cat.jpg")).unwrap(), b"old");

    let renamed = gallery_trash(mnt)
        .args(["restore", "--rename", ".trash/cat.jpg"])
        .show();
    assert_eq!(
        renamed.succeeded().out,
        "restored cat.jpg -> gallery/cat (restored).jpg\n"
    );
    assert_eq!(
        fs::read(m.gallery().join("cat (restored).jpg")).unwrap(),
        b"old"
    );
    assert_eq!(fs::read(&cat).unwrap(), b"new");

    // Both names taken: the next number.
    fs::rename(&cat, m.gallery().join("keep.jpg")).unwrap();
    trash_file(&m, "cat.jpg", b"third");
    fs::copy(m.gallery().join("keep.jpg"), &cat).unwrap();
    let again = gallery_trash(mnt)
        .args(["restore", "gallery/cat.jpg", "--rename"])
        .show();
    assert_eq!(
        again.succeeded().out,
        "restored cat.jpg -> gallery/cat (restored 2).jpg\n"
    );
    assert_eq!(
        fs::read(m.gallery().join("cat (restored 2).jpg")).unwrap(),
        b"third"
    );

    // --to a free path, --to a taken path, --to a directory.
    trash_file(&m, "cat.jpg", b"fourth");
    write(&cat, b"new");
    fs::create_dir(m.gallery().join("elsewhere")).unwrap();
    let taken = gallery_trash(mnt)
        .args(["restore", ".trash/cat.jpg", "--to", "gallery/keep.jpg"])
        .show();
    let errors = taken.failed_with(1).errors_from("restore");
    assert_eq!(
        errors,
        ["gallery-trash restore: Restore failed: gallery/keep.jpg already exists"]
    );
    assert_eq!(fs::read(m.gallery().join("keep.jpg")).unwrap(), b"new");

    let to = gallery_trash(mnt)
        .args([
            "restore",
            ".trash/cat.jpg",
            "--to",
            "gallery/elsewhere/moved.jpg",
        ])
        .show();
    assert_eq!(
        to.succeeded().out,
        "restored cat.jpg -> gallery/elsewhere/moved.jpg\n"
    );
    assert_eq!(
        fs::read(m.gallery().join("elsewhere/moved.jpg")).unwrap(),
        b"fourth"
    );

    trash_file(&m, "albums/dog.jpg", b"woof");
    let into = gallery_trash(mnt)
        .args(["restore", ".trash/dog.jpg", "--to"])
        .arg(m.gallery().join("elsewhere"))
        .show();
    assert_eq!(
        into.succeeded().out,
        "restored dog.jpg -> gallery/elsewhere/dog.jpg\n"
    );
    assert_eq!(
        fs::read(m.gallery().join("elsewhere/dog.jpg")).unwrap(),
        b"woof"
    );
    assert!(m.trash_os_names().is_empty());
}

#[test]
fn purge_asks_and_only_yes_deletes() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    for name in ["a.jpg", "b.jpg", "c.jpg", "d.jpg"] {
        trash_file(&m, name, name.as_bytes());
    }
    let pair = [".trash/a.jpg", ".trash/b.jpg"];

    for (answer, why) in [
        (&b"n\n"[..], "n"),
        (b"", "end of input"),
        (b"maybe\ny\n", "not y"),
    ] {
        let shown = gallery_trash(mnt)
            .arg("purge")
            .args(pair)
            .input(answer)
            .show();
        shown.succeeded();
        assert!(
            shown.out.contains("a.jpg") && shown.out.contains("b.jpg"),
            "lists what will go ({why}):\n{}",
            shown.out
        );
        assert!(
            shown.out.contains("This cannot be undone."),
            "{}",
            shown.out
        );
        assert!(
            shown.out.contains("Permanently delete 2 items? [y/N]"),
            "{}",
            shown.out
        );
        assert_eq!(m.trash_os_names().len(), 4, "nothing deleted after {why}");
    }

    let yes = gallery_trash(mnt)
        .arg("purge")
        .args(pair)
        .input(b"y\n")
        .show();
    assert!(
        yes.succeeded()
            .out
            .contains("Permanently delete 2 items? [y/N]")
    );
    assert!(
        yes.out.contains("purged a.jpg\n") && yes.out.contains("purged b.jpg\n"),
        "{}",
        yes.out
    );
    assert_eq!(m.trash_os_names(), ["c.jpg", "d.jpg"]);

    let word = gallery_trash(mnt)
        .args(["purge", ".trash/c.jpg"])
        .input(b"yes\n")
        .show();
    assert!(
        word.succeeded()
            .out
            .contains("Permanently delete 1 item? [y/N]"),
        "{}",
        word.out
    );
    assert_eq!(m.trash_os_names(), ["d.jpg"]);

    let forced = gallery_trash(mnt)
        .args(["purge", "--yes", ".trash/d.jpg"])
        .show();
    assert_eq!(forced.succeeded().out, "purged d.jpg\n");
    assert!(m.trash_os_names().is_empty());
}

#[test]
fn empty_asks_with_the_count_and_only_yes_deletes() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    for name in ["a.jpg", "b.jpg", "c.jpg"] {
        trash_file(&m, name, b"x");
    }
    write(&m.gallery().join("trip/x.jpg"), b"x");
    fs::rename(m.gallery().join("trip"), m.trash().join("trip")).unwrap();

    for (answer, why) in [
        (&b"n\n"[..], "n"),
        (b"", "end of input"),
        (b"nope\n", "nope"),
    ] {
        let shown = gallery_trash(mnt).arg("empty").input(answer).show();
        shown.succeeded();
        assert!(
            shown.out.contains("Delete all 4 items? [y/N]"),
            "({why}):\n{}",
            shown.out
        );
        assert_eq!(m.trash_os_names().len(), 4, "nothing deleted after {why}");
    }

    gallery_trash(mnt)
        .args(["purge", "-y", ".trash/a.jpg"])
        .show()
        .succeeded();
    let shown = gallery_trash(mnt)
        .arg("empty")
        .arg(mnt)
        .input(b"y\n")
        .show();
    assert!(
        shown.succeeded().out.contains("Delete all 3 items? [y/N]"),
        "{}",
        shown.out
    );
    assert!(shown.out.contains("Deleted 3 items."), "{}", shown.out);
    assert!(m.trash_os_names().is_empty());
    assert_eq!(
        gallery_trash(mnt).arg("empty").show().succeeded().out,
        "Trash is empty\n"
    );

    trash_file(&m, "e.jpg", b"x");
    trash_file(&m, "f.jpg", b"x");
    let forced = gallery_trash(mnt).args(["empty", "--yes"]).show();
    assert!(!forced.succeeded().out.contains("[y/N]"), "{}", forced.out);
    assert!(forced.out.contains("Deleted 2 items."), "{}", forced.out);
    assert!(m.trash_os_names().is_empty());
}

#[test]
fn partial_failures_exit_1_after_processing_the_rest() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    trash_file(&m, "a.jpg", b"a");
    trash_file(&m, "b.jpg", b"b");

    let restore = gallery_trash(mnt)
        .args([
            "restore",
            ".trash/missing.jpg",
            ".trash/a.jpg",
            "gallery/never.jpg",
        ])
        .show();
    let errors = restore.failed_with(1).errors_from("restore");
    assert_eq!(errors.len(), 2, "{restore:#?}");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("Restore failed: no such entry")),
        "{errors:?}"
    );
    assert_eq!(restore.out, "restored a.jpg -> gallery/a.jpg\n");
    assert_eq!(fs::read(m.gallery().join("a.jpg")).unwrap(), b"a");

    let purge = gallery_trash(mnt)
        .args(["purge", "--yes", ".trash/b.jpg", ".trash/missing.jpg"])
        .show();
    let errors = purge.failed_with(1).errors_from("purge");
    assert_eq!(errors.len(), 1, "{purge:#?}");
    assert_eq!(purge.out, "purged b.jpg\n");
    assert!(m.trash_os_names().is_empty());

    let outside = gallery_trash(mnt).args(["info", "/"]).show();
    assert_eq!(outside.failed_with(1).errors_from("info").len(), 1);

    // Usage errors are status 2.
    gallery_trash(mnt).arg("restore").show().failed_with(2);
    gallery_trash(mnt)
        .args(["list", "--sort", "colour"])
        .show()
        .failed_with(2);
    gallery_trash(mnt)
        .args(["frobnicate"])
        .show()
        .failed_with(2);
}

#[test]
fn runs_from_inside_the_mount_without_mount_argument() {
    let m = Mount::new();
    let cat = m.gallery().join("albums/2026/cat.jpg");
    write(&cat, b"meow");
    fs::set_permissions(&cat, fs::Permissions::from_mode(0o644)).unwrap();
    fs::remove_file(&cat).unwrap();
    let deep = m.gallery().join("albums/2026");

    let list = gallery_trash(&deep).arg("list").show();
    assert!(line_with(&list.succeeded().out, "cat.jpg").contains("gallery/albums/2026/cat.jpg"));
    let from_root = gallery_trash(&m.mountpoint).args(["list", "--json"]).show();
    assert_eq!(parse_json(&from_root.succeeded().out).len(), 1);

    // Inside .trash, a bare name is the entry.
    let info = gallery_trash(&m.trash()).args(["info", "cat.jpg"]).show();
    assert!(
        line_with(&info.succeeded().out, "original path").ends_with("gallery/albums/2026/cat.jpg"),
        "{}",
        info.out
    );
    let json = parse_json(
        &gallery_trash(&m.trash())
            .args(["info", "--json", "cat.jpg"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(json[0]["mode"], "0644");
    assert_eq!(json[0]["uid"], 0);
    let restored = gallery_trash(&m.trash())
        .args(["restore", "cat.jpg"])
        .show();
    assert_eq!(
        restored.succeeded().out,
        "restored cat.jpg -> gallery/albums/2026/cat.jpg\n"
    );

    // Outside any galleryfs: says so, suggests MOUNT.
    let outside = gallery_trash(m.base.path()).arg("list").show();
    let errors = outside.failed_with(2).errors_from("list");
    assert!(
        errors[0].contains("not inside a galleryfs mount") && errors[0].contains("MOUNT"),
        "{errors:?}"
    );
    let empty_outside = gallery_trash(m.base.path()).args(["empty", "--yes"]).show();
    empty_outside.failed_with(2);
}

#[test]
fn another_uid_can_neither_restore_nor_purge_private_entries() {
    let m = Mount::with_options(&["allow_other"]);
    let mnt = &m.mountpoint;
    // The test's temp dir is root's and private: let the other users reach the mount and the binary.
    fs::set_permissions(m.base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(m.gallery(), fs::Permissions::from_mode(0o1777)).unwrap();
    let bin = m.base.path().join("gallery-trash");
    fs::copy(gallery_trash_bin(), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();

    let as_user = |uid: u32, script: &str| {
        ok(Command::new("setpriv")
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={uid}"))
            .arg("--clear-groups")
            .args(["sh", "-c", script])
            .current_dir(mnt))
    };
    as_user(
        OWNER_UID,
        "umask 077 && echo secret > gallery/secret.jpg && rm gallery/secret.jpg",
    );
    as_user(
        OTHER_UID,
        "echo mine > gallery/mine.jpg && rm gallery/mine.jpg",
    );
    let secret = m.trash().join("secret.jpg");
    assert_eq!(fs::symlink_metadata(&secret).unwrap().uid(), OWNER_UID);

    let other = |args: &[&str], input: &[u8]| {
        gallery_trash(mnt)
            .args(args)
            .input(input)
            .run_as(OTHER_UID, &bin)
            .show()
    };

    let list = other(&["list"], b"");
    assert!(
        list.succeeded().out.contains("secret.jpg") && list.out.contains("mine.jpg"),
        "{}",
        list.out
    );

    for args in [
        &["restore", ".trash/secret.jpg"][..],
        &["restore", ".trash/secret.jpg", "--to", "gallery/stolen.jpg"],
        &["restore", ".trash/secret.jpg", "--rename"],
    ] {
        let shown = other(args, b"");
        let errors = shown.failed_with(1).errors_from("restore");
        assert_eq!(
            errors,
            ["gallery-trash restore: Restore failed: permission denied (.trash/secret.jpg)"],
            "{args:?}"
        );
    }
    // By original path: its attributes are private too, so it cannot even be found.
    let by_path = other(&["restore", "gallery/secret.jpg"], b"");
    assert!(by_path.failed_with(1).errors_from("restore")[0].contains("Restore failed: "));
    assert!(!m.gallery().join("secret.jpg").exists() && !m.gallery().join("stolen.jpg").exists());

    let purge = other(&["purge", "--yes", ".trash/secret.jpg"], b"");
    assert!(
        purge.failed_with(1).errors_from("purge")[0].contains("permission denied"),
        "{purge:#?}"
    );
    let asked = other(&["purge", ".trash/secret.jpg"], b"y\n");
    asked.failed_with(1);
    assert!(
        !asked.out.contains("[y/N]"),
        "nothing to ask about: {asked:#?}"
    );
    assert_eq!(fs::read(&secret).unwrap(), b"secret\n");

    // Their own entry: restore and trash again work for them.
    let mine = other(&["restore", ".trash/mine.jpg"], b"");
    assert_eq!(
        mine.succeeded().out,
        "restored mine.jpg -> gallery/mine.jpg\n"
    );
    as_user(OTHER_UID, "rm gallery/mine.jpg");

    let empty = other(&["empty"], b"y\n");
    assert!(
        empty.succeeded().out.contains("Delete all 2 items? [y/N]"),
        "{}",
        empty.out
    );
    assert!(empty.out.contains("Deleted 1 item."), "{}", empty.out);
    assert!(empty.out.contains("Kept 1 item"), "{}", empty.out);
    assert_eq!(m.trash_os_names(), ["secret.jpg"]);
    assert_eq!(fs::read(&secret).unwrap(), b"secret\n");
}
