//! Suite 8, peer suites from crates.io: the Rust rewrite of pjdfstest (398
//! POSIX cases) and the fsx exerciser, run against directories in `gallery/`.
//!
//! Both are installed with `cargo install --locked` into `target/peers`
//! (`GALLERYFS_PEERS_ROOT` overrides), once: an existing binary is reused;
//! `.ci/run` installs them before the tests. If they cannot be installed the
//! suite fails, saying so; it never skips.
//!
//! pjdfstest runs as root on an `allow_other` mount (its cases switch to the
//! users `nobody` and `daemon`), in a short path (it binds unix sockets, whose
//! paths are limited to 107 bytes), with every feature galleryfs supports, a
//! native directory as the "secondary filesystem" of its EXDEV cases, and,
//! in a second run, its EROFS cases, which remount the mount read-only.
//! Every case must pass except those the trash causes by design (`EXPECTED`,
//! listed in the README's Reliability section). At both sizes all cases run
//! (they take seconds).
//!
//! fsx runs with every operation galleryfs supports (read, write, mmap
//! read/write, truncate, fallocate, punch hole, copy_file_range, sendfile,
//! fadvise, fsync, close/reopen) on two mounts at once: one with kernel
//! passthrough (the default as root), one with `passthrough=off`, where every
//! read and write goes through galleryfs itself. 10,000 operations in all at
//! quick size, 100,000 at full size.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use galleryfs_testkit::Mount;
use galleryfs_testkit::harness::{self, Rng};

/// The pjdfstest cases galleryfs fails by design, each with its reason
/// (the README's Reliability section lists the same).
const EXPECTED: &[(&str, &str)] = &[(
    "unlink::open_file_not_freed",
    "an unlinked open file lives on in the trash, so its st_nlink is 1, not 0",
)];

/// Cases that cannot run on any FUSE mount, with the reason.
const UNRUNNABLE: &[(&str, &str)] = &[(
    "link::link_count_max",
    "FUSE reports no LINK_MAX (pathconf gives Linux's generic 127)",
)];

const PJDFSTEST: (&str, &str) = ("pjdfstest", "0.2.2");
const FSX: (&str, &str) = ("fsx", "0.3.2");

/// Longest path under the `-p` directory at which pjdfstest binds a socket:
/// its base and per-case temporary directories (`/.tmpXXXXXX` each) and a
/// 32-character name.
const PJDFSTEST_SOCKET_SUFFIX: usize = 11 + 11 + 1 + 32;

fn peers_root() -> PathBuf {
    std::env::var_os("GALLERYFS_PEERS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers"))
}

/// The binary of crate `name` (`version`), installed into the peers root if
/// missing. Panics with the reason if it cannot be installed.
fn installed((name, version): (&str, &str)) -> PathBuf {
    let root = peers_root();
    let bin = root.join("bin").join(name);
    if bin.exists() {
        return bin;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("peers: installing {name} {version} into {root:?} (cargo install --locked; minutes)");
    let start = Instant::now();
    let out = Command::new(&cargo)
        .args([
            "install",
            "--locked",
            "--version",
            &format!("={version}"),
            name,
            "--root",
        ])
        .arg(&root)
        .arg("--target-dir")
        .arg(root.join("build"))
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => panic!("peers: cannot run {cargo} to install {name}: {e}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
    assert!(
        out.status.success() && bin.exists(),
        "peers: `cargo install --locked {name}@{version}` failed ({}), so the {name} suite \
         cannot run; it needs crates.io access (or a pre-installed {bin:?}). Last output:\n{}",
        out.status,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    eprintln!("peers: installed {name} in {:.0?}", start.elapsed());
    bin
}

fn open_up(path: &Path) {
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The name of `user`'s primary group (`nobody`'s is `nogroup` on Debian).
fn primary_group(user: &str) -> String {
    let out = Command::new("id")
        .args(["-gn", user])
        .output()
        .expect("run id");
    assert!(
        out.status.success(),
        "pjdfstest needs the user {user:?} to switch to: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn pjdfstest_config(dir: &Path, allow_remount: bool) -> PathBuf {
    // Every opt-in feature galleryfs supports; not chflags, NFSv4 ACLs or
    // st_birthtime (Linux has none of them on any filesystem).
    let config = format!(
        "[features]\n\
         posix_fallocate = {{}}\n\
         rename_ctime = {{}}\n\
         utime_now = {{}}\n\
         utimensat = {{}}\n\
         \n\
         [settings]\n\
         naptime = 0.01\n\
         allow_remount = {allow_remount}\n\
         \n\
         [dummy_auth]\n\
         entries = [[\"nobody\", \"{}\"], [\"daemon\", \"{}\"]]\n",
        primary_group("nobody"),
        primary_group("daemon"),
    );
    let path = dir.join(if allow_remount {
        "pjdfstest-erofs.toml"
    } else {
        "pjdfstest.toml"
    });
    fs::write(&path, config).unwrap();
    path
}

/// The outcome of each case in pjdfstest's output.
fn parse_pjdfstest(stdout: &str) -> BTreeMap<String, String> {
    let mut cases = BTreeMap::new();
    for line in stdout.lines() {
        let line = strip_ansi(line);
        let mut words = line.split_whitespace();
        let (Some(name), Some(first)) = (words.next(), words.next()) else {
            continue;
        };
        if !name.contains("::") {
            continue;
        }
        let rest: Vec<&str> = std::iter::once(first).chain(words).collect();
        let outcome = rest.join(" ");
        if matches!(
            outcome.as_str(),
            "ok" | "FAILED" | "skipped" | "failed as expected" | "PASSED UNEXPECTEDLY"
        ) {
            cases.insert(name.to_string(), outcome);
        }
    }
    cases
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn show(out: &Output) -> String {
    format!(
        "{}\nstdout (last 60 lines):\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .take(60)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
    )
}

struct PjdResult {
    cases: BTreeMap<String, String>,
    /// Failure messages, for the report.
    log: String,
}

/// Runs all of pjdfstest in `gallery/p` of an `allow_other` mount, then its
/// EROFS cases with remounts allowed.
fn run_pjdfstest(bin: &Path) -> PjdResult {
    let m = Mount::with_options(&["allow_other"]);
    // pjdfstest's cases act as other users: every ancestor must be searchable.
    open_up(m.base.path());
    let dir = m.gallery().join("p");
    fs::create_dir(&dir).unwrap();
    open_up(&dir);
    let socket_path = dir.as_os_str().len() + PJDFSTEST_SOCKET_SUFFIX;
    assert!(
        socket_path <= 107,
        "pjdfstest's unix sockets would be {socket_path} bytes deep under {dir:?}, over the \
         107-byte limit: use a shorter TMPDIR"
    );
    let work = tempfile::Builder::new().prefix("pjd-").tempdir().unwrap();
    // A native directory: the "other filesystem" of the EXDEV cases.
    let secondary = work.path().join("secondary");
    fs::create_dir(&secondary).unwrap();
    open_up(work.path());
    open_up(&secondary);
    let run = |config: &Path, extra_path: Option<&Path>, patterns: &[&str]| {
        let mut cmd = Command::new(bin);
        cmd.arg("-c")
            .arg(config)
            .arg("-p")
            .arg(&dir)
            .arg("-s")
            .arg(&secondary)
            .args(patterns)
            .current_dir(work.path())
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "0");
        if let Some(p) = extra_path {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut paths = vec![p.to_path_buf()];
            paths.extend(std::env::split_paths(&path));
            cmd.env("PATH", std::env::join_paths(paths).unwrap());
        }
        cmd.output().expect("run pjdfstest")
    };
    let start = Instant::now();
    let main = run(&pjdfstest_config(work.path(), false), None, &[]);
    let mut cases = parse_pjdfstest(&String::from_utf8_lossy(&main.stdout));
    assert!(
        cases.len() >= 398,
        "pjdfstest reported {} cases, not its 398: {}",
        cases.len(),
        show(&main)
    );
    // The EROFS cases remount the filesystem read-only with `mount -o
    // remount,ro`. mount(8) would hand a fuse.galleryfs remount to
    // mount.fuse3 (galleryfs does not support remount, see its --help); the
    // kernel remounts a FUSE superblock read-only itself, so `mount -i`
    // (no helper) does it. They run apart: pjdfstest leaves files open for
    // writing, and a filesystem with writers cannot become read-only.
    let wrapper = work.path().join("bin");
    fs::create_dir(&wrapper).unwrap();
    let real_mount = ["/usr/bin/mount", "/bin/mount"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("mount(8)");
    fs::write(
        wrapper.join("mount"),
        format!("#!/bin/sh\nexec {real_mount} -i \"$@\"\n"),
    )
    .unwrap();
    fs::set_permissions(wrapper.join("mount"), fs::Permissions::from_mode(0o755)).unwrap();
    let erofs = run(
        &pjdfstest_config(work.path(), true),
        Some(&wrapper),
        &["erofs"],
    );
    let erofs_cases = parse_pjdfstest(&String::from_utf8_lossy(&erofs.stdout));
    assert!(
        !erofs_cases.is_empty(),
        "pjdfstest's EROFS run: {}",
        show(&erofs)
    );
    for (name, outcome) in erofs_cases {
        cases.insert(name, outcome);
    }
    eprintln!("peers: pjdfstest ran in {:.1?}", start.elapsed());
    let mut log = String::new();
    for out in [&main, &erofs] {
        let text = String::from_utf8_lossy(&out.stdout);
        let mut keep = false;
        for line in text.lines() {
            let line = strip_ansi(line);
            if line.contains(" FAILED") || line.contains("PASSED UNEXPECTEDLY") {
                keep = true;
            } else if line.contains("::") && !line.starts_with(char::is_whitespace) {
                keep = false;
            }
            if keep
                && !line.trim_start().starts_with(|c: char| c.is_ascii_digit())
                && !line.trim_start().starts_with("at ")
            {
                log.push_str(&line);
                log.push('\n');
            }
        }
    }
    drop(m);
    PjdResult { cases, log }
}

const FSX_CONFIG: &str = "\
flen = 262144
[opsize]
max = 65536
min = 0
align = 1
[weights]
close_open = 1
read = 10
write = 10
mapread = 10
mapwrite = 10
invalidate = 1
truncate = 5
fsync = 1
fdatasync = 1
posix_fallocate = 2
punch_hole = 2
sendfile = 2
posix_fadvise = 1
copy_file_range = 2
";

/// Runs fsx for `ops` operations on a file in `gallery/` of a mount with
/// `options`; returns its output on failure.
fn run_fsx(bin: &Path, options: &[&str], ops: usize, seed: u64) -> Result<(), String> {
    let m = Mount::with_options(options);
    let dir = m.gallery().join("fsx");
    fs::create_dir(&dir).unwrap();
    let work = tempfile::Builder::new().prefix("fsx-").tempdir().unwrap();
    let config = work.path().join("fsx.toml");
    fs::write(&config, FSX_CONFIG).unwrap();
    let start = Instant::now();
    let out = Command::new(bin)
        .arg("-f")
        .arg(&config)
        .args(["-N", &ops.to_string(), "-S", &seed.to_string()])
        .arg("-P")
        .arg(work.path())
        .arg(dir.join("testfile"))
        .current_dir(work.path())
        .output()
        .expect("run fsx");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "peers: fsx {ops} operations on {options:?} in {:.1?}",
        start.elapsed()
    );
    if out.status.success() && text.contains("All operations completed A-OK!") {
        // The file fsx left is intact through the mount's own machinery too.
        let data = fs::read(dir.join("testfile")).map_err(|e| e.to_string())?;
        fs::remove_file(dir.join("testfile")).map_err(|e| e.to_string())?;
        let entry = fs::read_dir(m.trash())
            .unwrap()
            .next()
            .expect("trash entry")
            .unwrap();
        if fs::read(entry.path()).map_err(|e| e.to_string())? != data {
            return Err("the fsx file differs once moved to the trash".into());
        }
        Ok(())
    } else {
        let artifacts: Vec<String> = fs::read_dir(work.path())
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(60).collect();
        Err(format!(
            "fsx on {options:?} failed ({}), seed {seed}; artifacts {artifacts:?}; output:\n{}\n{}",
            out.status,
            lines.into_iter().rev().collect::<Vec<_>>().join("\n"),
            m.log()
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

#[test]
fn peer_suites_pjdfstest_and_fsx() {
    let seed = harness::seed("peers");
    let mut rng = Rng::new(seed);
    let ops_each = harness::size(5_000, 50_000);
    let pjd_bin = installed(PJDFSTEST);
    let fsx_bin = installed(FSX);
    let (fsx_seed_a, fsx_seed_b) = (rng.below(1 << 31), rng.below(1 << 31));

    // fsx on its own two mounts while pjdfstest runs on a third.
    let fsx = {
        let (a, b) = (fsx_bin.clone(), fsx_bin.clone());
        // fsx checks its file once moved into the trash by name: the entries
        // kept for its truncations (tests/it/overwrite) would take that name.
        let with =
            std::thread::spawn(move || run_fsx(&a, &["overwrite=off"], ops_each, fsx_seed_a));
        let without = std::thread::spawn(move || {
            run_fsx(
                &b,
                &["passthrough=off", "overwrite=off"],
                ops_each,
                fsx_seed_b,
            )
        });
        (with, without)
    };
    let pjd = run_pjdfstest(&pjd_bin);
    let fsx_results = [
        fsx.0.join().expect("fsx thread"),
        fsx.1.join().expect("fsx thread"),
    ];

    let failed: BTreeSet<&str> = pjd
        .cases
        .iter()
        .filter(|(_, o)| *o != "ok" && *o != "skipped")
        .map(|(n, _)| n.as_str())
        .collect();
    let skipped: BTreeSet<&str> = pjd
        .cases
        .iter()
        .filter(|(_, o)| *o == "skipped")
        .map(|(n, _)| n.as_str())
        .collect();
    let expected: BTreeSet<&str> = EXPECTED.iter().map(|(n, _)| *n).collect();
    let unrunnable: BTreeSet<&str> = UNRUNNABLE.iter().map(|(n, _)| *n).collect();
    let fsx_failures: Vec<&String> = fsx_results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .collect();
    harness::summary(
        "peers",
        seed,
        &format!(
            "pjdfstest {} cases, {} failed (expected: {}), {} skipped ({}), fsx {} operations, {} failures",
            pjd.cases.len(),
            failed.len(),
            EXPECTED
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
            skipped.len(),
            UNRUNNABLE
                .iter()
                .map(|(n, why)| format!("{n}: {why}"))
                .collect::<Vec<_>>()
                .join("; "),
            2 * ops_each,
            fsx_failures.len(),
        ),
    );
    let mut problems = Vec::new();
    if failed != expected {
        let unexpected: Vec<_> = failed.difference(&expected).collect();
        let passing: Vec<_> = expected.difference(&failed).collect();
        problems.push(format!(
            "pjdfstest failures differ from the expected set (README, Reliability): \
             unexpected failures {unexpected:?}; expected failures that passed {passing:?}\n{}",
            pjd.log
        ));
    }
    if skipped != unrunnable {
        problems.push(format!(
            "pjdfstest skipped {skipped:?}, expected only {unrunnable:?}"
        ));
    }
    for f in fsx_failures {
        problems.push(f.clone());
    }
    assert!(
        problems.is_empty(),
        "peers (seed {seed:#x}):\n{}",
        problems.join("\n\n")
    );
}
