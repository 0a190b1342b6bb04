//! README's "Set-ups", run as written: its fstab lines (the system mount
//! with allow_other, by root; the `user,noauto` one, mounted and unmounted
//! by an unprivileged user), `fusermount3 -u`, `auto_unmount` with and
//! without `user_allow_other`, and what `galleryfs -V` says about
//! passthrough. A user of its own (in /etc/passwd, which fusermount3 and
//! mount(8) consult) exists only inside a private mount namespace, where a
//! scratch passwd, group, fstab and fuse.conf are bound over the real ones.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use galleryfs_testkit::{galleryfs_bin, is_mounted, ok, require_fuse, run, wait_until};

/// The uid (and gid) of the user the tests create; 64123 is far from
/// Debian's ranges, so no real account has it.
const USER: u32 = 64123;
const OTHER: u32 = 64124;

/// The options field of README's fstab line whose mount point is `mnt`.
fn readme_options(mnt: &str) -> String {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let setups = &readme[readme.find("## Set-ups").expect("README has Set-ups")..];
    setups
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() == 6 && f[1] == mnt && f[2] == "fuse.galleryfs")
        .unwrap_or_else(|| panic!("README's Set-ups has no fstab line for {mnt}"))[3]
        .to_owned()
}

/// A world-traversable scratch dir (the user must reach inside), with
/// galleryfs in it under a path that holds no dot (see mounting.rs). A hard
/// link or a copy, not a symlink: the checkout may sit below a directory
/// only root can enter (a `mktemp -d` clone), where mount.fuse3's shell,
/// running as the user, could not reach the binary.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    require_fuse();
    let base = tempfile::Builder::new()
        .prefix("galleryfs-setup-")
        .tempdir()
        .unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bin = base.path().join("galleryfs");
    if fs::hard_link(galleryfs_bin(), &bin).is_err() {
        fs::copy(galleryfs_bin(), &bin).unwrap();
    }
    (base, bin)
}

fn mounts_line(mnt: &Path) -> Option<String> {
    let mnt = mnt.to_str().unwrap();
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(mnt))
        .map(str::to_owned)
}

/// Runs `script` with bash in a private mount namespace in which `base`'s
/// passwd, group, fstab and fuse.conf replace the real ones and /run
/// (libmount's utab) is a private tmpfs, so that nothing outside `base` changes.
/// The script runs as root; `as_user` in it runs a command as USER.
/// Whatever it leaves mounted on `mnt` is unmounted on the way out.
fn in_namespace(
    base: &Path,
    mnt: &Path,
    fstab: &str,
    fuse_conf: &str,
    script: &str,
) -> (bool, String) {
    let mut passwd = fs::read_to_string("/etc/passwd").unwrap();
    passwd += &format!(
        "gtest:x:{USER}:{USER}:gallery test:{}:/bin/sh\n",
        base.display()
    );
    let mut group = fs::read_to_string("/etc/group").unwrap();
    group += &format!("gtest:x:{USER}:\n");
    for (name, text) in [
        ("passwd", passwd.as_str()),
        ("group", group.as_str()),
        ("fstab", fstab),
        ("fuse.conf", fuse_conf),
    ] {
        fs::write(base.join(name), text).unwrap();
    }
    let (b, m) = (base.display(), mnt.display());
    let full = format!(
        "set -e\n\
         trap \"umount -l '{m}' 2>/dev/null || true\" EXIT\n\
         for f in passwd group fstab fuse.conf; do mount --bind '{b}/'$f /etc/$f; done\n\
         mount -t tmpfs -o mode=755 tmpfs /run\n\
         as_user() {{ setpriv --reuid={USER} --regid={USER} --clear-groups \"$@\"; }}\n\
         {script}\n"
    );
    let out = run(Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash", "-c", &full])
        .stdin(Stdio::null()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A home for USER in `base`, with `mnt` in it.
fn user_home(base: &Path) -> (PathBuf, PathBuf) {
    let home = base.join("home");
    let mnt = home.join("Gallery");
    fs::create_dir_all(&mnt).unwrap();
    for dir in [&home, &mnt] {
        ok(Command::new("chown").arg(format!("{USER}:{USER}")).arg(dir));
    }
    (home, mnt)
}

#[test]
fn the_system_fstab_line_mounts_for_every_user() {
    let (base, bin) = scratch();
    let store = base.path().join("gallery-store");
    let mnt = base.path().join("gallery");
    fs::create_dir(&mnt).unwrap();
    let options = readme_options("/srv/gallery");
    assert!(options.contains("allow_other"), "{options}");
    let fstab = base.path().join("fstab");
    fs::write(
        &fstab,
        format!(
            "{} {} fuse.{} {options} 0 0\n",
            store.display(),
            mnt.display(),
            bin.display()
        ),
    )
    .unwrap();
    let out = run(Command::new("mount").arg("-T").arg(&fstab).arg(&mnt));
    assert!(
        out.status.success(),
        "mount -T: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unmount = scopeguard(&mnt);
    let line = mounts_line(&mnt).expect("mounted");
    assert!(line.contains(" - fuse.galleryfs "), "{line}");
    assert!(
        line.contains("allow_other"),
        "allow_other reaches the kernel: {line}"
    );
    // README: give each user a place of their own; they may then use it.
    let own = mnt.join("gallery/ann");
    fs::create_dir(&own).unwrap();
    ok(Command::new("chown")
        .arg(format!("{OTHER}:{OTHER}"))
        .arg(&own));
    let as_other = |script: &str| {
        run(Command::new("setpriv")
            .args([
                &format!("--reuid={OTHER}"),
                &format!("--regid={OTHER}"),
                "--clear-groups",
            ])
            .args(["sh", "-c", script])
            .current_dir("/"))
    };
    let own_s = own.display();
    let out = as_other(&format!(
        "echo mine > '{own_s}/f' && rm '{own_s}/f' && ls '{}'",
        mnt.join(".trash").display()
    ));
    assert!(
        out.status.success(),
        "another user on the mount: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == "f"),
        "f in the trash"
    );
    assert_eq!(fs::metadata(mnt.join(".trash/f")).unwrap().uid(), OTHER);
    // The kernel still checks permissions: root's files stay root's.
    fs::write(mnt.join("gallery/root-only"), "x").unwrap();
    fs::set_permissions(
        mnt.join("gallery/root-only"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let out = as_other(&format!(
        "cat '{}'",
        mnt.join("gallery/root-only").display()
    ));
    assert!(!out.status.success(), "another user read a 0600 root file");
    drop(unmount);
}

#[test]
fn a_user_mounts_the_user_noauto_line_and_unmounts_it() {
    let (base, bin) = scratch();
    let (home, mnt) = user_home(base.path());
    let store = home.join("store");
    let options = readme_options("/home/ann/Gallery");
    assert!(
        options.contains("user") && options.contains("noauto"),
        "{options}"
    );
    let fstab = format!(
        "{} {} fuse.{} {options} 0 0\n",
        store.display(),
        mnt.display(),
        bin.display()
    );
    let (m, st) = (mnt.display(), store.display());
    let (ok_, out) = in_namespace(
        base.path(),
        &mnt,
        &fstab,
        "",
        &format!(
            "cd /\n\
             as_user mount '{m}'\n\
             grep ' {m} ' /proc/self/mountinfo\n\
             ls '{m}' >/dev/null 2>&1 && echo root entered || echo root kept out\n\
             as_user sh -c 'echo hi > {m}/gallery/f && rm {m}/gallery/f && ls {m}/.trash'\n\
             as_user umount '{m}'\n\
             ! grep -q ' {m} ' /proc/self/mountinfo\n\
             echo unmounted\n\
             for i in $(seq 200); do pgrep -f -- '{st}' >/dev/null || break; sleep 0.05; done  # the daemon exits\n\
             as_user mount '{m}'\n\
             as_user fusermount3 -u '{m}'\n\
             ! grep -q ' {m} ' /proc/self/mountinfo\n\
             echo unmounted again"
        ),
    );
    assert!(ok_, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let info = lines
        .iter()
        .find(|l| l.contains(" - fuse.galleryfs "))
        .unwrap_or_else(|| panic!("not mounted: {out}"));
    assert!(
        info.contains(&format!("user_id={USER}")),
        "the user's mount: {info}"
    );
    assert!(
        !info.contains("allow_other"),
        "a user mount is the user's alone: {info}"
    );
    assert!(lines.contains(&"f"), "rm went to the trash: {out}");
    assert!(
        lines.contains(&"root kept out"),
        "only the user enters: {out}"
    );
    assert!(
        lines.contains(&"unmounted") && lines.contains(&"unmounted again"),
        "{out}"
    );
    assert!(!is_mounted(&mnt));
    // What the user made is theirs, in STORAGE too.
    assert_eq!(fs::metadata(store.join("trash/f")).unwrap().uid(), USER);
}

#[test]
fn auto_unmount_as_a_user_works_without_user_allow_other() {
    let (base, bin) = scratch();
    let (home, mnt) = user_home(base.path());
    let (m, b) = (mnt.display(), bin.display());
    let store = home.join("store");
    let st = store.display();
    // /etc/fuse.conf without user_allow_other, as Debian ships it.
    let (ok_, out) = in_namespace(
        base.path(),
        &mnt,
        "",
        "#user_allow_other\n",
        &format!(
            "cd /\n\
             as_user '{b}' '{st}' '{m}' -o auto_unmount\n\
             grep ' {m} ' /proc/self/mountinfo\n\
             as_user ls '{m}'\n\
             ls '{m}' >/dev/null 2>&1 && echo root entered || echo root kept out\n\
             pkill -KILL -u {USER} -f -- '{b} {st} '  # this daemon only\n\
             for i in $(seq 200); do grep -q ' {m} ' /proc/self/mountinfo || break; sleep 0.05; done\n\
             grep -q ' {m} ' /proc/self/mountinfo && echo still mounted || echo gone after kill\n\
             as_user '{b}' '{st}' '{m}' -o auto_unmount\n\
             as_user fusermount3 -u '{m}'\n\
             for i in $(seq 200); do pgrep -u {USER} -f -- '{m}' >/dev/null || break; sleep 0.05; done\n\
             pgrep -u {USER} -f -- '{m}' && echo left running || echo all exited"
        ),
    );
    assert!(ok_, "{out}");
    let info = out
        .lines()
        .find(|l| l.contains(" - fuse.galleryfs "))
        .unwrap_or_else(|| panic!("not mounted: {out}"));
    assert!(
        !info.contains("allow_other"),
        "a user mount is the user's alone: {info}"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"gallery"), "{out}");
    assert!(lines.contains(&"root kept out"), "{out}");
    assert!(
        lines.contains(&"gone after kill"),
        "auto_unmount after kill -9: {out}"
    );
    assert_eq!(
        lines.last(),
        Some(&"all exited"),
        "after fusermount3 -u: {out}"
    );
}

/// On a system without udev (a container) /dev/fuse stays 0600: a user's
/// mount then fails, and the message says how to fix it. The 0600 device
/// is a node of the test's own, bound over /dev/fuse in the namespace.
#[test]
fn a_user_told_how_to_fix_a_dev_fuse_only_root_may_open() {
    let (base, bin) = scratch();
    let (home, mnt) = user_home(base.path());
    let store = home.join("store");
    let (m, b, st) = (mnt.display(), bin.display(), store.display());
    let dev = base.path().join("fuse-0600");
    let d = dev.display();
    let (ok_, out) = in_namespace(
        base.path(),
        &mnt,
        "",
        "",
        &format!(
            "mknod -m 0600 '{d}' c 10 229\n\
             mount --bind '{d}' /dev/fuse\n\
             as_user '{b}' '{st}' '{m}' && echo mounted || echo \"exit $?\"\n\
             grep -q ' {m} ' /proc/self/mountinfo && echo still mounted || echo not mounted"
        ),
    );
    assert!(ok_, "{out}");
    assert!(out.contains("exit 1"), "{out}");
    assert!(out.contains("not mounted"), "{out}");
    assert!(
        out.contains("may not open /dev/fuse") && out.contains("chmod 0666 /dev/fuse"),
        "{out}"
    );
}

#[test]
fn version_says_who_gets_kernel_passthrough() {
    let version = |uid: u32| {
        ok(Command::new("setpriv")
            .args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
            ])
            .arg(galleryfs_bin())
            .arg("-V"))
    };
    let root = version(0);
    let lines: Vec<&str> = root.lines().collect();
    assert_eq!(lines[0], format!("galleryfs {}", env!("CARGO_PKG_VERSION")));
    assert!(
        root.contains("fuser 0.18") && root.contains("kernel protocol 7."),
        "{root}"
    );
    let user = version(USER);
    assert!(user.contains("kernel passthrough: no"), "{user}");
    assert!(user.contains("CAP_SYS_ADMIN"), "{user}");
    if !root.contains("predates") {
        assert!(root.contains("kernel passthrough: yes"), "{root}");
    }
}

/// Unmounts `mnt` when dropped, so a failing test leaves no mount behind.
fn scopeguard(mnt: &Path) -> impl Drop + '_ {
    struct Guard<'a>(&'a Path);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            if is_mounted(self.0) {
                let _ = Command::new("umount").arg(self.0).status();
                wait_until("unmount", || !is_mounted(self.0));
            }
        }
    }
    Guard(mnt)
}

/// What the .deb ships, as the binaries make it (scripts/package.sh): the
/// completions load in bash and complete subcommands, the man pages render.
#[test]
fn completions_load_in_bash_and_man_pages_render() {
    let dir = tempfile::tempdir().unwrap();
    let gt = galleryfs_testkit::gallery_trash_bin();
    for (cmd, script) in [
        (
            "gallery-trash",
            ok(Command::new(&gt).args(["completions", "bash"])),
        ),
        (
            "galleryfs",
            ok(Command::new(galleryfs_bin()).args(["--completions", "bash"])),
        ),
    ] {
        let file = dir.path().join(format!("{cmd}.bash"));
        fs::write(&file, script).unwrap();
        let registered = ok(Command::new("bash")
            .arg("-c")
            .arg(format!("source '{}' && complete -p {cmd}", file.display())));
        assert!(registered.contains(cmd), "{registered}");
    }
    let words = ok(Command::new("bash").arg("-c").arg(format!(
        "source '{}'; COMP_WORDS=(gallery-trash re); COMP_CWORD=1; \
         _gallery__trash gallery-trash re gallery-trash; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        dir.path().join("gallery-trash.bash").display()
    )));
    assert_eq!(words.trim(), "restore", "bash completes 'gallery-trash re'");
    let out = run(Command::new(galleryfs_bin()).args(["--completions", "tcsh"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown shell 'tcsh'"));

    let man = dir.path().join("man");
    ok(Command::new(galleryfs_bin()).arg("--man-pages").arg(&man));
    ok(Command::new(&gt).arg("man-pages").arg(&man));
    if Command::new("man").arg("--version").output().is_err() {
        return; // .ci/run installs man-db; the pages were still written.
    }
    // Plain text: without a terminal, man still overstrikes bold (`N\bN`).
    let render = |page: &str| {
        let text = ok(Command::new("man")
            .arg("-l")
            .arg(man.join(page))
            .env("MANWIDTH", "200"));
        let mut plain = String::new();
        for c in text.chars() {
            match c {
                '\u{8}' => {
                    plain.pop();
                }
                _ => plain.push(c),
            }
        }
        plain
    };
    let fs_page = render("galleryfs.1");
    for needle in [
        "SYNOPSIS",
        "MOUNT OPTIONS",
        "retention=DURATION",
        "allow_other",
        "fuse.galleryfs",
    ] {
        assert!(
            fs_page.contains(needle),
            "galleryfs(1) lacks {needle}:\n{fs_page}"
        );
    }
    let gt_page = render("gallery-trash.1");
    assert!(gt_page.contains("gallery-trash-restore(1)"), "{gt_page}");
    assert!(render("gallery-trash-restore.1").contains("SYNOPSIS"));
    assert!(
        !man.join("gallery-trash-man-pages.1").exists(),
        "the hidden command has no page"
    );
}
