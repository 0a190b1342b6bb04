//! `gallery-trash restore` without ENTRY on a terminal: the numbered
//! entries of the current folder and the question which, answered through
//! a real pseudo-terminal (openpty), as a person types it.

use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};

use super::*;

/// Runs gallery-trash with its standard input on a fresh pseudo-terminal
/// and `typed` typed on it (the line discipline holds it until the command
/// reads); stdout and stderr are pipes, so they are told apart.
fn on_terminal(cwd: &Path, args: &[&str], typed: &[u8]) -> Shown {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two fds into the two ints; the null name,
    // termios and winsize pointers mean defaults.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just opened by openpty and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = Command::new(gallery_trash_bin());
    cmd.args(args)
        .current_dir(cwd)
        .env("TZ", "UTC0")
        .stdin(Stdio::from(slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("run gallery-trash");
    // Our copy of the terminal's slave side goes with the Command.
    drop(cmd);
    let mut terminal = File::from(master);
    terminal.write_all(typed).expect("type on the terminal");
    let out = child.wait_with_output().expect("wait for gallery-trash");
    // The master stays open until the command is done: closing it would hang up its terminal.
    drop(terminal);
    Shown {
        code: out.status.code().expect("gallery-trash killed by a signal"),
        out: String::from_utf8(out.stdout).unwrap(),
        err: String::from_utf8(out.stderr).unwrap(),
    }
}

/// End of input, typed: Ctrl-D at the start of a line.
const CTRL_D: &[u8] = b"\x04";

/// The numbered rows of the chooser's table: (number, original path).
fn choices(out: &str) -> Vec<(String, String)> {
    out.lines()
        .skip(1)
        .take_while(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let number = l.split_whitespace().next().unwrap().to_string();
            let path = l.split_whitespace().last().unwrap().to_string();
            (number, path)
        })
        .collect()
}

#[test]
fn restore_asks_which_on_a_terminal() {
    let m = Mount::new();
    let albums = m.gallery().join("albums");
    for name in [
        "albums/a.jpg",
        "albums/b.jpg",
        "albums/c.jpg",
        "albums/d.jpg",
        "other/x.jpg",
    ] {
        trash_file(&m, name, name.as_bytes());
    }

    // `0`: the first, and only entries deleted from this folder are offered.
    let first = on_terminal(&albums, &["restore"], b"0\n");
    first.succeeded();
    assert!(first.out.starts_with("#  DELETED"), "{first:#?}");
    assert_eq!(
        choices(&first.out),
        [
            ("0".into(), "gallery/albums/a.jpg".into()),
            ("1".into(), "gallery/albums/b.jpg".into()),
            ("2".into(), "gallery/albums/c.jpg".into()),
            ("3".into(), "gallery/albums/d.jpg".into()),
        ],
        "{first:#?}"
    );
    assert_eq!(
        first.err,
        "What to restore [0..3] (a number, a range or a list, e.g. 0, 1-2, 0-3,7; nothing: Enter)? ",
        "the question is on stderr; the terminal ended the line"
    );
    assert!(
        first
            .out
            .ends_with("restored a.jpg -> gallery/albums/a.jpg\n"),
        "{first:#?}"
    );
    assert_eq!(fs::read(albums.join("a.jpg")).unwrap(), b"albums/a.jpg");

    // `1-2` of what is left (b, c, d): c and d.
    let range = on_terminal(&albums, &["restore"], b"1-2\n");
    range.succeeded();
    assert!(
        range
            .out
            .contains("restored c.jpg -> gallery/albums/c.jpg\n"),
        "{range:#?}"
    );
    assert!(
        range
            .out
            .contains("restored d.jpg -> gallery/albums/d.jpg\n"),
        "{range:#?}"
    );
    assert!(albums.join("c.jpg").exists() && albums.join("d.jpg").exists());
    assert_eq!(m.trash_os_names(), ["b.jpg", "x.jpg"]);

    // Invalid answers restore nothing and say what an answer looks like.
    for (typed, message) in [
        (
            &b"1\n"[..],
            "invalid choice '1': 1 is not in 0..0; nothing restored",
        ),
        (
            b"b.jpg\n",
            "invalid choice 'b.jpg': expected a number, a range or a list, e.g. 0, 1-2, 0-3,7; nothing restored",
        ),
    ] {
        let bad = on_terminal(&albums, &["restore"], typed);
        bad.failed_with(1);
        assert!(
            bad.err
                .ends_with(&format!("\ngallery-trash restore: {message}\n"))
                || bad
                    .err
                    .contains(&format!("? gallery-trash restore: {message}\n")),
            "{bad:#?}"
        );
        assert_eq!(m.trash_os_names(), ["b.jpg", "x.jpg"]);
    }

    // End of input: nothing restored, a failure.
    let eof = on_terminal(&albums, &["restore"], CTRL_D);
    eof.failed_with(1);
    assert!(
        eof.err
            .ends_with("gallery-trash restore: nothing restored: end of input\n"),
        "{eof:#?}"
    );
    // An empty answer: nothing, by choice.
    let none = on_terminal(&albums, &["restore"], b"\n");
    assert!(
        none.succeeded().out.ends_with("Nothing restored.\n"),
        "{none:#?}"
    );
    // --dry-run says where it would go.
    let dry = on_terminal(&albums, &["restore", "--dry-run"], b"0\n");
    assert!(
        dry.succeeded()
            .out
            .ends_with("would restore b.jpg -> gallery/albums/b.jpg\n"),
        "{dry:#?}"
    );
    assert_eq!(m.trash_os_names(), ["b.jpg", "x.jpg"]);

    // From the mount's root, every entry; -i with a pipe answers too.
    let root = gallery_trash(&m.mountpoint)
        .args(["restore", "-i"])
        .input(b"0,1\n")
        .show();
    root.succeeded();
    assert_eq!(choices(&root.out).len(), 2, "{root:#?}");
    assert!(m.trash_os_names().is_empty(), "{root:#?}");
    assert!(
        m.gallery().join("other/x.jpg").exists(),
        "{root:#?}\n{:?}",
        fs::read_dir(m.gallery().join("other"))
            .map(|d| d.map(|e| e.map(|e| e.file_name())).collect::<Vec<_>>())
    );
}

#[test]
fn restore_without_entry_needs_a_terminal() {
    let m = Mount::new();
    trash_file(&m, "a.jpg", b"a");
    let shown = gallery_trash(&m.gallery())
        .arg("restore")
        .input(b"0\n")
        .show();
    shown.failed_with(2);
    assert_eq!(
        shown.err,
        "gallery-trash restore: name the ENTRY to restore, or --under PATH (standard input \
         is not a terminal to ask which; -i asks all the same)\n"
    );
    assert_eq!(m.trash_os_names(), ["a.jpg"]);

    // A folder with nothing deleted from it says so.
    fs::create_dir(m.gallery().join("empty")).unwrap();
    let nothing = on_terminal(&m.gallery().join("empty"), &["restore"], b"0\n");
    nothing.failed_with(1);
    assert_eq!(
        nothing.err,
        "gallery-trash restore: Restore failed: nothing in the trash under gallery/empty\n"
    );
}
