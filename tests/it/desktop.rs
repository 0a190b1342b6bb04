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

// ---- GIO ----------------------------------------------------------------

#[test]
fn gio_trash_moves_files_into_the_galleryfs_trash() {
    let m = Mount::new();
    let c = Clients::new();
    write(&m.gallery().join("albums/x.jpg"), b"x data");
    write(&m.gallery().join("trip/a.jpg"), b"a");
    write(&m.gallery().join("trip/sub/b.jpg"), b"b");

    // gvfsd-trash is already running when `gio trash` moves the file, and
    // lists right after it: the info file must never vanish in between.
    let out = c.gio(
        &m,
        "gio trash --list >/dev/null
         gio trash \"$MNT/gallery/albums/x.jpg\" \"$MNT/gallery/trip\"
         echo '== list'
         gio trash --list",
    );
    // Another x.jpg: GIO finds `info/x.jpg.trashinfo` taken (EEXIST) and
    // names the entry x.2.jpg.
    write(&m.gallery().join("albums/x.jpg"), b"x again");
    let again = c.gio(
        &m,
        "gio trash \"$MNT/gallery/albums/x.jpg\"
         echo '== list'
         gio trash --list",
    );

    assert!(!m.gallery().join("albums/x.jpg").exists());
    assert!(m.gallery().join("albums").is_dir(), "the folder stays");
    assert!(!m.gallery().join("trip").exists());
    assert_eq!(names(&m.trash()), ["trip", "x.2.jpg", "x.jpg"]);
    assert_eq!(fs::read(m.trash().join("x.jpg")).unwrap(), b"x data");
    assert_eq!(fs::read(m.trash().join("x.2.jpg")).unwrap(), b"x again");
    assert_eq!(
        getfattr(&m.trash().join("x.2.jpg"), "user.trash.original_path"),
        "albums/x.jpg"
    );
    assert_eq!(fs::read(m.trash().join("trip/sub/b.jpg")).unwrap(), b"b");
    assert_eq!(
        getfattr(&m.trash().join("x.jpg"), "user.trash.original_path"),
        "albums/x.jpg"
    );
    assert_eq!(
        getfattr(&m.trash().join("trip"), "user.trash.original_path"),
        "trip"
    );

    let items = gallery_trash_list(&m);
    let mut listed: Vec<(&str, &str)> = items
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap(),
                v["original_path"].as_str().unwrap(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("trip", "trip"),
            ("x.2.jpg", "albums/x.jpg"),
            ("x.jpg", "albums/x.jpg")
        ]
    );

    let mnt = m.mountpoint.display();
    let mut shown: Vec<String> = gio_entries(&m, section(&out, "list"))
        .into_iter()
        .map(|(_, orig)| orig)
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        [
            format!("{mnt}/gallery/albums/x.jpg"),
            format!("{mnt}/gallery/trip"),
        ],
        "gio trash --list:\n{out}"
    );
    let x = format!("{mnt}/gallery/albums/x.jpg");
    let xs: Vec<String> = gio_entries(&m, section(&again, "list"))
        .into_iter()
        .filter(|(_, orig)| *orig == x)
        .map(|(uri, _)| uri)
        .collect();
    assert_eq!(xs.len(), 2, "two entries from albums/x.jpg:\n{again}");
    assert!(xs.iter().any(|u| u.ends_with("x.2.jpg")), "{xs:?}");
    assert_eq!(
        names(&trash_dir(&m).join("files")),
        ["trip", "x.2.jpg", "x.jpg"]
    );
}

#[test]
fn rm_shows_in_gio_trash_list_also_with_gvfsd_trash_already_running() {
    let m = Mount::new();
    let c = Clients::new();
    write(&m.gallery().join("albums/y photo.jpg"), b"y");
    write(&m.gallery().join("albums/z.jpg"), b"z");
    let mnt = m.mountpoint.display();
    let y = format!("{mnt}/gallery/albums/y photo.jpg");
    let z = format!("{mnt}/gallery/albums/z.jpg");

    // y is removed before gvfsd-trash starts, z while it runs: gvfsd-trash
    // re-reads files/ only because its mtime changed.
    fs::remove_file(m.gallery().join("albums/y photo.jpg")).unwrap();
    let out = c.gio(
        &m,
        "echo '== before'
         gio trash --list
         rm \"$MNT/gallery/albums/z.jpg\"
         echo '== after'
         gio trash --list
         for p in \"$MNT/gallery/albums/y photo.jpg\" \"$MNT/gallery/albums/z.jpg\"; do
             uri=$(gio trash --list | awk -F '\\t' -v p=\"$p\" '$2 == p { print $1 }')
             echo \"== info $p\"
             gio info -a trash:: \"$uri\"
         done",
    );

    let before: Vec<String> = gio_entries(&m, section(&out, "before"))
        .into_iter()
        .map(|(_, orig)| orig)
        .collect();
    assert_eq!(before, std::slice::from_ref(&y), "{out}");
    let after = gio_entries(&m, section(&out, "after"));
    let mut shown: Vec<&str> = after.iter().map(|(_, orig)| orig.as_str()).collect();
    shown.sort();
    assert_eq!(shown, [y.as_str(), z.as_str()], "{out}");
    for (uri, _) in &after {
        assert!(uri.starts_with("trash:///"), "{uri}");
    }
    let y_uri = &after.iter().find(|(_, orig)| *orig == y).unwrap().0;
    assert!(y_uri.ends_with("y%2520photo.jpg"), "{y_uri}");

    for (name, orig) in [("y photo.jpg", &y), ("z.jpg", &z)] {
        let info = section(&out, &format!("info {orig}"));
        assert_eq!(gio_attribute(info, "trash::orig-path"), orig.as_str());
        let deleted = deleted_at(&m.trash().join(name));
        assert_eq!(
            gio_attribute(info, "trash::deletion-date"),
            local(deleted, "%Y-%m-%dT%H:%M:%S"),
            "{name}"
        );
    }
}

#[test]
fn gio_trash_restore_puts_files_back_also_into_a_removed_folder() {
    let m = Mount::new();
    let c = Clients::new();
    let g = m.gallery();
    write(&g.join("albums/r.jpg"), b"r data");
    write(&g.join("gone/deep/s.jpg"), b"s data");
    fs::set_permissions(g.join("albums/r.jpg"), fs::Permissions::from_mode(0o640)).unwrap();
    let r_ino = fs::metadata(g.join("albums/r.jpg")).unwrap().ino();
    fs::remove_file(g.join("albums/r.jpg")).unwrap();
    fs::remove_file(g.join("gone/deep/s.jpg")).unwrap();
    fs::remove_dir_all(g.join("gone")).unwrap();
    assert_eq!(names(&m.trash()), ["r.jpg", "s.jpg"]);

    let out = c.gio(
        &m,
        "for p in \"$MNT/gallery/albums/r.jpg\" \"$MNT/gallery/gone/deep/s.jpg\"; do
             uri=$(gio trash --list | awk -F '\\t' -v p=\"$p\" '$2 == p { print $1 }')
             [ -n \"$uri\" ] || { echo \"$p is not in gio trash --list\" >&2; exit 1; }
             gio trash --restore \"$uri\"
         done
         echo '== after'
         gio trash --list",
    );

    assert_eq!(fs::read(g.join("albums/r.jpg")).unwrap(), b"r data");
    let md = fs::metadata(g.join("albums/r.jpg")).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o640, "restored exactly as it was");
    assert_eq!(md.ino(), r_ino, "restored exactly as it was");
    assert_eq!(fs::read(g.join("gone/deep/s.jpg")).unwrap(), b"s data");
    assert!(names(&m.trash()).is_empty(), "{:?}", names(&m.trash()));
    assert!(names(&trash_dir(&m).join("files")).is_empty());
    assert!(names(&trash_dir(&m).join("info")).is_empty());
    assert!(gallery_trash_list(&m).is_empty());
    assert!(
        gio_entries(&m, section(&out, "after")).is_empty(),
        "gio trash --list after restoring:\n{out}"
    );
}

#[test]
fn gio_trash_empty_purges_all_the_users_entries_and_only_them() {
    let m = shared_mount();
    let c = Clients::new();
    write(&m.gallery().join("a.jpg"), b"a");
    write(&m.gallery().join("albums/b.jpg"), b"b");
    write(&m.gallery().join("trip/c.jpg"), b"c");
    fs::remove_file(m.gallery().join("a.jpg")).unwrap();
    fs::remove_file(m.gallery().join("albums/b.jpg")).unwrap();
    fs::rename(m.gallery().join("trip"), m.trash().join("trip")).unwrap();
    let theirs = as_user(&m, USER, "echo u > gallery/u.jpg && rm gallery/u.jpg", &[]);
    assert!(theirs.status.success(), "{theirs:?}");
    assert_eq!(names(&m.trash()), ["a.jpg", "b.jpg", "trip", "u.jpg"]);

    let out = c.gio(
        &m,
        "gio trash --empty
         echo '== after'
         gio trash --list",
    );

    assert!(gio_entries(&m, section(&out, "after")).is_empty(), "{out}");
    assert_eq!(names(&m.trash()), ["u.jpg"], "another user's entry stays");
    assert_eq!(names(&m.storage.join("trash")), ["u.jpg"]);
    assert!(names(&trash_dir(&m).join("files")).is_empty());
    assert!(names(&trash_dir(&m).join("info")).is_empty());
    // No data survives the client's delete.
    wait_until("the purge to finish", || {
        stored_files(&m) == ["trash/u.jpg"]
    });
}

/// Files kept in STORAGE's gallery, trash and purge area.
fn stored_files(m: &Mount) -> Vec<String> {
    let out = ok(Command::new("find")
        .args(["gallery", "trash", "purging", "-type", "f"])
        .current_dir(&m.storage)
        .stderr(Stdio::null()));
    let mut files: Vec<String> = out.lines().map(str::to_string).collect();
    files.sort();
    files
}

// ---- trash-cli ----------------------------------------------------------

#[test]
fn trash_put_and_trash_list_agree_with_dot_trash() {
    let m = Mount::new();
    let c = Clients::new();
    let albums = m.gallery().join("albums");
    write(&albums.join("a b.jpg"), b"a");
    write(&albums.join("c.jpg"), b"c1");
    ok(c.trash_cli("trash-put")
        .args(["a b.jpg", "c.jpg"])
        .current_dir(&albums));
    // A second c.jpg: trash-cli finds `info/c.jpg.trashinfo` taken (EEXIST)
    // and picks another name, which galleryfs keeps.
    write(&albums.join("c.jpg"), b"c2");
    ok(c.trash_cli("trash-put").arg("c.jpg").current_dir(&albums));

    assert!(names(&albums).is_empty());
    let entries = names(&m.trash());
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(entries.contains(&"a b.jpg".to_string()), "{entries:?}");
    assert!(entries.contains(&"c.jpg".to_string()), "{entries:?}");
    let second = entries
        .iter()
        .find(|e| !["a b.jpg", "c.jpg"].contains(&e.as_str()))
        .unwrap();
    assert_eq!(fs::read(m.trash().join("c.jpg")).unwrap(), b"c1");
    assert_eq!(fs::read(m.trash().join(second)).unwrap(), b"c2");
    for e in &entries {
        let orig = getfattr(&m.trash().join(e), "user.trash.original_path");
        let want = if e == "a b.jpg" {
            "albums/a b.jpg"
        } else {
            "albums/c.jpg"
        };
        assert_eq!(orig, want, "{e}");
    }

    let listed = ok(c
        .trash_cli("trash-list")
        .arg("--trash-dir")
        .arg(trash_dir(&m)));
    let mut lines: Vec<&str> = listed.lines().collect();
    lines.sort();
    let mnt = m.mountpoint.display();
    let mut want: Vec<String> = entries
        .iter()
        .map(|e| {
            let orig = getfattr(&m.trash().join(e), "user.trash.original_path");
            let when = local(deleted_at(&m.trash().join(e)), "%Y-%m-%d %H:%M:%S");
            format!("{when} {mnt}/gallery/{orig}")
        })
        .collect();
    want.sort();
    assert_eq!(lines, want, "trash-list:\n{listed}");
}

#[test]
fn trash_restore_answers_its_prompt_and_puts_the_file_back() {
    let m = Mount::new();
    let c = Clients::new();
    let albums = m.gallery().join("albums");
    write(&albums.join("r.jpg"), b"r data");
    write(&albums.join("keep.jpg"), b"k");
    fs::remove_file(albums.join("r.jpg")).unwrap();
    fs::remove_file(albums.join("keep.jpg")).unwrap();
    fs::remove_dir(&albums).unwrap();

    let mut restore = c.trash_cli("trash-restore");
    restore
        .arg("--trash-dir")
        .arg(trash_dir(&m))
        .arg(albums.join("r.jpg"))
        .current_dir(&m.mountpoint)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = restore.spawn().expect("run trash-restore");
    child.stdin.take().unwrap().write_all(b"0\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains(&format!("{}", albums.join("r.jpg").display()))
            && stdout.contains("What file to restore"),
        "trash-restore showed:\n{stdout}"
    );

    assert_eq!(fs::read(albums.join("r.jpg")).unwrap(), b"r data");
    assert_eq!(names(&m.trash()), ["keep.jpg"]);
    assert_eq!(names(&trash_dir(&m).join("info")), ["keep.jpg.trashinfo"]);
    let listed = ok(c
        .trash_cli("trash-list")
        .arg("--trash-dir")
        .arg(trash_dir(&m)));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("/gallery/albums/keep.jpg"), "{listed}");
}

#[test]
fn trash_rm_and_trash_empty_purge() {
    let m = Mount::new();
    let c = Clients::new();
    for name in ["one.jpg", "two.jpg", "three.png"] {
        write(&m.gallery().join(name), name.as_bytes());
        fs::remove_file(m.gallery().join(name)).unwrap();
    }

    // trash-rm does not scan fuse.galleryfs mounts and ignores --trash-dir:
    // TRASH_VOLUMES names the mount.
    ok(c.trash_cli("trash-rm")
        .arg("*.png")
        .env("TRASH_VOLUMES", &m.mountpoint));
    assert_eq!(names(&m.trash()), ["one.jpg", "two.jpg"]);
    assert_eq!(names(&m.storage.join("trash")), ["one.jpg", "two.jpg"]);
    assert_eq!(
        names(&trash_dir(&m).join("info")),
        ["one.jpg.trashinfo", "two.jpg.trashinfo"]
    );

    ok(c.trash_cli("trash-empty")
        .arg("--trash-dir")
        .arg(trash_dir(&m))
        .arg("-f"));
    assert!(names(&m.trash()).is_empty());
    assert!(names(&m.storage.join("trash")).is_empty());
    assert!(names(&trash_dir(&m).join("files")).is_empty());
    assert!(names(&trash_dir(&m).join("info")).is_empty());
    let listed = ok(c
        .trash_cli("trash-list")
        .arg("--trash-dir")
        .arg(trash_dir(&m)));
    assert_eq!(listed, "");
}

// ---- users, expiry ------------------------------------------------------

#[test]
fn a_second_uid_sees_only_its_own_entries_and_cannot_open_anothers() {
    let m = shared_mount();
    write(&m.gallery().join("root.jpg"), b"r");
    fs::remove_file(m.gallery().join("root.jpg")).unwrap();
    // A home for the user, for GIO.
    let home = m.base.path().join("home");
    fs::create_dir(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(USER), Some(USER)).unwrap();

    let mine = as_user(
        &m,
        USER,
        &format!(
            "unset DBUS_SESSION_BUS_ADDRESS
             echo u > gallery/u.jpg && rm gallery/u.jpg &&
             echo g > gallery/g.jpg && gio trash gallery/g.jpg &&
             stat -c '%u %a' .Trash-{USER} .Trash-{USER}/files .Trash-{USER}/info &&
             echo '== files' && ls -A .Trash-{USER}/files &&
             echo '== info' && ls -A .Trash-{USER}/info &&
             echo '== content' && cat .Trash-{USER}/info/u.jpg.trashinfo"
        ),
        &[("HOME", &home), ("XDG_DATA_HOME", &home)],
    );
    let out = String::from_utf8_lossy(&mine.stdout);
    assert!(mine.status.success(), "{mine:?}");
    assert_eq!(
        out.lines().take(3).collect::<Vec<_>>(),
        vec![format!("{USER} 700"); 3],
        "owned by the user, private:\n{out}"
    );
    assert_eq!(section(&out, "files"), "g.jpg\nu.jpg\n");
    assert_eq!(section(&out, "info"), "g.jpg.trashinfo\nu.jpg.trashinfo\n");
    assert!(
        section(&out, "content").contains("\nPath=gallery/u.jpg\n"),
        "{out}"
    );
    assert_eq!(
        getfattr(&m.trash().join("g.jpg"), "user.trash.original_path"),
        "g.jpg"
    );

    for script in [
        "ls .Trash-0",
        "ls .Trash-0/files",
        "cat .Trash-0/info/root.jpg.trashinfo",
    ] {
        let theirs = as_user(&m, USER, script, &[]);
        let err = String::from_utf8_lossy(&theirs.stderr);
        assert!(
            !theirs.status.success() && err.contains("Permission denied"),
            "{script} as uid {USER}: {theirs:?}"
        );
        assert!(theirs.stdout.is_empty(), "{script}: {theirs:?}");
    }

    // And root's own view holds only root's entry.
    assert_eq!(names(&trash_dir(&m).join("files")), ["root.jpg"]);
    assert_eq!(names(&trash_dir(&m).join("info")), ["root.jpg.trashinfo"]);
    assert_eq!(names(&m.trash()), ["g.jpg", "root.jpg", "u.jpg"]);
}

#[test]
fn expiry_removes_entries_from_files_and_info() {
    let m = Mount::with_options(&["retention=3s", "sweep=1s"]);
    let c = Clients::new();
    let view = trash_dir(&m);
    write(&m.gallery().join("old.jpg"), b"o");
    fs::remove_file(m.gallery().join("old.jpg")).unwrap();
    // The kernel now caches both names.
    assert_eq!(names(&view.join("files")), ["old.jpg"]);
    assert_eq!(names(&view.join("info")), ["old.jpg.trashinfo"]);
    assert!(view.join("files/old.jpg").exists());
    assert!(view.join("info/old.jpg.trashinfo").exists());

    wait_until("old.jpg to expire from the view", || {
        !view.join("files/old.jpg").exists()
            && !view.join("info/old.jpg.trashinfo").exists()
            && names(&view.join("files")).is_empty()
            && names(&view.join("info")).is_empty()
    });
    assert!(names(&m.trash()).is_empty());
    let out = c.gio(&m, "echo '== list'; gio trash --list");
    assert!(gio_entries(&m, section(&out, "list")).is_empty(), "{out}");
}

// ---- the view through the filesystem ------------------------------------

#[test]
fn the_view_is_unlisted_but_resolves_and_its_directories_exist() {
    let m = Mount::new();
    let view = trash_dir(&m);
    write(&m.gallery().join("a.jpg"), b"a");
    fs::remove_file(m.gallery().join("a.jpg")).unwrap();

    assert_eq!(names(&m.mountpoint), [".trash", "gallery"]);
    let md = fs::symlink_metadata(&view).unwrap();
    assert!(md.is_dir());
    assert_eq!((md.uid(), md.mode() & 0o7777), (my_uid(), 0o700));
    let mut inside = names(&view);
    inside.retain(|n| n == "files" || n == "info");
    assert_eq!(inside, ["files", "info"]);
    for dir in [view.clone(), view.join("files"), view.join("info")] {
        assert_eq!(
            errno_of(fs::create_dir(&dir)),
            Some(libc::EEXIST),
            "mkdir {}",
            dir.display()
        );
    }
    assert_eq!(
        errno_of(fs::symlink_metadata(m.mountpoint.join(".Trash"))),
        Some(libc::ENOENT),
        "no shared .Trash: GIO would prefer it"
    );
}

#[test]
fn trashinfo_is_exact_in_local_time_with_a_percent_encoded_path() {
    // A zone far from UTC, with half hours, so local time is really local.
    let m = Mount::with_env(&[], &[("TZ", "IST-5:30")]);
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    let name = "cat photo é&%.jpg";
    write(&m.gallery().join("albums").join(name), b"meow");
    fs::remove_file(m.gallery().join("albums").join(name)).unwrap();

    let info = trash_dir(&m).join("info").join(format!("{name}.trashinfo"));
    let content = fs::read_to_string(&info).unwrap();
    let deleted = deleted_at(&m.trash().join(name));
    let date = deleted.with_timezone(&ist).format("%Y-%m-%dT%H:%M:%S");
    assert_eq!(
        content,
        format!(
            "[Trash Info]\nPath=gallery/albums/cat%20photo%20%C3%A9%26%25.jpg\nDeletionDate={date}\n"
        )
    );
    let md = fs::metadata(&info).unwrap();
    assert_eq!(
        md.len(),
        content.len() as u64,
        "size matches what read gives"
    );
    assert_eq!(md.mtime(), deleted.timestamp(), "mtime is the deletion");
    // Read in small pieces, as GKeyFile and Python may.
    let mut f = fs::File::open(&info).unwrap();
    let mut pieces = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        pieces.extend_from_slice(&buf[..n]);
    }
    assert_eq!(pieces, content.as_bytes());
}

#[test]
fn info_files_are_claimed_with_o_excl_and_give_way_to_the_entry() {
    let m = Mount::new();
    let info = trash_dir(&m).join("info");
    let create = |name: &str| {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(info.join(name))
    };
    write(&m.gallery().join("taken.jpg"), b"t");
    fs::remove_file(m.gallery().join("taken.jpg")).unwrap();
    assert_eq!(
        errno_of(create("taken.jpg.trashinfo")),
        Some(libc::EEXIST),
        "an entry holds the name"
    );

    // A client's claim: kept, readable, exclusive, released by unlink.
    let written = b"[Trash Info]\nPath=gallery/free.jpg\nDeletionDate=2000-01-01T00:00:00\n";
    create("free.jpg.trashinfo")
        .unwrap()
        .write_all(written)
        .unwrap();
    assert_eq!(fs::read(info.join("free.jpg.trashinfo")).unwrap(), written);
    assert_eq!(
        errno_of(create("free.jpg.trashinfo")),
        Some(libc::EEXIST),
        "claimed"
    );
    fs::remove_file(info.join("free.jpg.trashinfo")).unwrap();
    assert_eq!(
        errno_of(fs::metadata(info.join("free.jpg.trashinfo"))),
        Some(libc::ENOENT)
    );

    // Claim, move the file in: galleryfs's own info file replaces the
    // client's at once (no ENOENT while the kernel still caches the name).
    create("free.jpg.trashinfo")
        .unwrap()
        .write_all(written)
        .unwrap();
    write(&m.gallery().join("sub/free.jpg"), b"f");
    fs::rename(
        m.gallery().join("sub/free.jpg"),
        trash_dir(&m).join("files/free.jpg"),
    )
    .unwrap();
    let deleted = deleted_at(&m.trash().join("free.jpg"));
    let expected = format!(
        "[Trash Info]\nPath=gallery/sub/free.jpg\nDeletionDate={}\n",
        local(deleted, "%Y-%m-%dT%H:%M:%S")
    );
    assert_eq!(
        fs::read_to_string(info.join("free.jpg.trashinfo")).unwrap(),
        expected
    );
    assert_eq!(
        fs::metadata(info.join("free.jpg.trashinfo")).unwrap().len(),
        expected.len() as u64
    );
    assert_eq!(
        getfattr(&m.trash().join("free.jpg"), "user.trash.original_path"),
        "sub/free.jpg"
    );
}

#[test]
fn renames_inside_the_mount_never_answer_exdev() {
    let m = Mount::new();
    let g = m.gallery();
    let view = trash_dir(&m);
    for name in ["a.jpg", "b.jpg", "c.jpg", "d.jpg"] {
        write(&g.join(name), name.as_bytes());
    }
    fs::create_dir(g.join("back")).unwrap();
    let mut results = Vec::new();
    let mut rename = |from: PathBuf, to: PathBuf| {
        let r = fs::rename(&from, &to);
        results.push((from, to, r.as_ref().err().and_then(|e| e.raw_os_error())));
        r
    };

    // What the clients do.
    rename(g.join("a.jpg"), view.join("files/a.jpg")).expect("trash into files/");
    rename(view.join("files/a.jpg"), g.join("back/a.jpg")).expect("restore from files/");
    rename(g.join("b.jpg"), m.trash().join("b.jpg")).expect("trash into .trash/");
    rename(m.trash().join("b.jpg"), view.join("files/b2.jpg")).expect("rename an entry");
    rename(view.join("files/b2.jpg"), m.trash().join("b3.jpg")).expect("rename an entry");
    fs::create_dir(view.join("expunged")).unwrap();
    rename(view.join("files/b3.jpg"), view.join("expunged/k")).expect("gvfsd-trash's delete");
    fs::write(view.join("info/c.jpg.trashinfo.ABC123"), b"x").unwrap();
    rename(
        view.join("info/c.jpg.trashinfo.ABC123"),
        view.join("info/c.jpg.trashinfo"),
    )
    .expect("GIO's temporary info file");
    // And what makes no sense: refused, but never with EXDEV.
    let _ = rename(g.join("c.jpg"), view.join("info/c.jpg"));
    let _ = rename(g.join("d.jpg"), view.join("d.jpg"));
    let _ = rename(view.join("info/c.jpg.trashinfo"), g.join("c.trashinfo"));
    let _ = rename(view.join("files"), g.join("files"));

    for (from, to, errno) in &results {
        assert_ne!(
            *errno,
            Some(libc::EXDEV),
            "{} → {}",
            from.display(),
            to.display()
        );
    }
    assert_eq!(fs::read(g.join("back/a.jpg")).unwrap(), b"a.jpg");
    assert!(names(&m.trash()).is_empty(), "b3 was purged");
    assert!(names(&m.storage.join("trash")).is_empty());
    assert!(g.join("c.jpg").exists() && g.join("d.jpg").exists());
    assert!(names(&view.join("expunged")).is_empty());
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
