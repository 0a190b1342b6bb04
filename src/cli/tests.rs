//! The command line, argv in, settings or a message out.

use super::*;
use std::path::PathBuf;

fn os(s: &str) -> OsString {
    OsString::from(s)
}

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

fn mount(list: &[&str]) -> MountArgs {
    match parse(args(list)) {
        Ok(Command::Mount(m)) => m,
        other => panic!("expected a mount for {list:?}, got {other:?}"),
    }
}

fn error(list: &[&str]) -> String {
    match parse(args(list)) {
        Err(UsageError(message)) => message,
        other => panic!("expected an error for {list:?}, got {other:?}"),
    }
}

const DAY: u64 = 86_400;

#[test]
fn defaults() {
    let m = mount(&["/srv/store", "/mnt/pics"]);
    assert_eq!(m, MountArgs::new("/srv/store", "/mnt/pics"));
    assert_eq!(m.retention, Duration::from_secs(30 * DAY));
    assert_eq!(m.sweep, Duration::from_secs(3600));
    assert_eq!(m.min_retention, Duration::ZERO);
    assert_eq!(m.passthrough, Passthrough::Auto);
    assert_eq!(m.max_trash, None);
    assert_eq!(m.quota, None);
    assert!(!m.foreground && !m.debug && !m.single_threaded);
    assert!(!m.read_only && !m.allow_other && !m.default_permissions);
    assert_eq!(m.kernel_flags, vec![]);
    assert_eq!(m.ignored, Vec::<String>::new());
}

#[test]
fn mount_fuse3_call_shape() {
    let m = mount(&["/srv/store", "/mnt/pics", "-o", "rw,retention=30d,dev,suid"]);
    assert_eq!(m.storage, PathBuf::from("/srv/store"));
    assert_eq!(m.mountpoint, PathBuf::from("/mnt/pics"));
    assert!(!m.read_only);
    assert_eq!(m.retention, Duration::from_secs(30 * DAY));
    assert_eq!(m.kernel_flags, vec![KernelFlag::Dev, KernelFlag::Suid]);
    assert_eq!(m.ignored, Vec::<String>::new());
    assert!(!m.foreground);
}

#[test]
fn options_before_paths_and_flags_anywhere() {
    let m = mount(&["-o", "ro,sweep=15m", "-f", "/a", "-s", "/b"]);
    assert_eq!(m.storage, PathBuf::from("/a"));
    assert_eq!(m.mountpoint, PathBuf::from("/b"));
    assert!(m.read_only);
    assert_eq!(m.sweep, Duration::from_secs(15 * 60));
    assert!(m.foreground && !m.debug && m.single_threaded);
}

#[test]
fn debug_implies_foreground() {
    let m = mount(&["/a", "/b", "-d"]);
    assert!(m.debug && m.foreground && !m.single_threaded);
}

#[test]
fn repeated_and_attached_o() {
    let m = mount(&[
        "-oretention=7d",
        "/a",
        "-o",
        "sweep=90s",
        "/b",
        "-oro,,quota=1G",
        "-o",
        "retention=12h,rw",
    ]);
    assert_eq!(m.retention, Duration::from_secs(12 * 3600));
    assert_eq!(m.sweep, Duration::from_secs(90));
    assert_eq!(m.quota, Some(1 << 30));
    assert!(!m.read_only, "the later rw wins over ro");
}

#[test]
fn empty_option_strings_are_ignored() {
    let m = mount(&["/a", "/b", "-o", ",,ro,", "-o", ""]);
    assert!(m.read_only);
    assert_eq!(m.ignored, Vec::<String>::new());
}

#[test]
fn o_without_value() {
    assert_eq!(
        error(&["/a", "/b", "-o"]),
        "galleryfs: option '-o' requires an argument"
    );
}

#[test]
fn every_ignored_option() {
    let ignored = [
        "defaults",
        "auto",
        "noauto",
        "user",
        "user=ann",
        "users",
        "owner",
        "group",
        "nofail",
        "_netdev",
        "relatime",
        "norelatime",
        "strictatime",
        "nostrictatime",
        "lazytime",
        "nolazytime",
        "diratime",
        "nodiratime",
        "nosymfollow",
        "symfollow",
        "iversion",
        "noiversion",
        "mand",
        "nomand",
        "silent",
        "loud",
        "x-systemd.automount",
        "x-gvfs-show",
        "comment=systemd.automount",
        "context=system_u:object_r:fusefs_t:s0",
        "fscontext=system_u:object_r:fusefs_t:s0",
        "defcontext=system_u:object_r:fusefs_t:s0",
        "rootcontext=system_u:object_r:fusefs_t:s0",
        "setuid=ann",
        "drop_privileges",
    ];
    let joined = ignored.join(",");
    let m = mount(&["/a", "/b", "-o", &joined]);
    assert_eq!(m.ignored, ignored.map(String::from).to_vec());
    // Nothing else changed.
    let mut expected = MountArgs::new("/a", "/b");
    expected.ignored = m.ignored.clone();
    assert_eq!(m, expected);
}

#[test]
fn quoted_option_values_keep_their_commas() {
    let m = mount(&["/a", "/b", "-o", "context=\"u:r:t:s0:c1,c2\",ro"]);
    assert_eq!(m.ignored, vec!["context=\"u:r:t:s0:c1,c2\"".to_owned()]);
    assert!(m.read_only);
}

#[test]
fn ignored_flag_with_value_is_an_error() {
    assert_eq!(
        error(&["/a", "/b", "-o", "nofail=1"]),
        "galleryfs: option 'nofail' takes no value"
    );
}

#[test]
fn remount_is_not_supported() {
    assert_eq!(
        error(&["/a", "/b", "-o", "remount,ro"]),
        "galleryfs: remount is not supported"
    );
}

#[test]
fn unknown_option() {
    assert_eq!(
        error(&["/a", "/b", "-o", "rw,foo"]),
        "galleryfs: unknown option 'foo'"
    );
    assert_eq!(
        error(&["/a", "/b", "-o", "subtype=x"]),
        "galleryfs: unknown option 'subtype=x'"
    );
    assert_eq!(
        error(&["/a", "/b", "-o", "=5"]),
        "galleryfs: unknown option '=5'"
    );
}

#[test]
fn unknown_flags() {
    assert_eq!(error(&["/a", "/b", "-x"]), "galleryfs: unknown flag '-x'");
    assert_eq!(
        error(&["--bogus", "/a", "/b"]),
        "galleryfs: unknown flag '--bogus'"
    );
    assert_eq!(error(&["/a", "/b", "-fd"]), "galleryfs: unknown flag '-fd'");
}

#[test]
fn durations() {
    let m = mount(&["/a", "/b", "-o", "retention=90s,sweep=5m,min_retention=2h"]);
    assert_eq!(m.retention, Duration::from_secs(90));
    assert_eq!(m.sweep, Duration::from_secs(300));
    assert_eq!(m.min_retention, Duration::from_secs(7200));
    // The forms of crate::units, as people type them.
    let m = mount(&[
        "/a",
        "/b",
        "-o",
        "retention=30days,sweep=12 hours,min_retention=1w,litter_retention=1h30m",
    ]);
    assert_eq!(m.retention, Duration::from_secs(30 * DAY));
    assert_eq!(m.sweep, Duration::from_secs(12 * 3600));
    assert_eq!(m.min_retention, Duration::from_secs(7 * DAY));
    assert_eq!(m.litter.retention, Duration::from_secs(5400));
}

#[test]
fn bad_durations_name_the_value() {
    for bad in [
        "30x",
        "30",
        "0d",
        "0",
        "-5d",
        "+5d",
        "",
        "d",
        "5dd",
        "5D",
        "3650001d",
        "18446744073709551616s",
        "99999999999999999999d",
        "1.h",
    ] {
        let option = format!("retention={bad}");
        assert_eq!(
            error(&["/a", "/b", "-o", &option]),
            format!(
                "galleryfs: invalid duration '{bad}' for retention (expected a positive \
                 duration such as 90s, 12h, 12 hours, 30d, 30days, 1w or 1h30m)"
            ),
            "for {bad:?}"
        );
    }
    assert_eq!(
        error(&["/a", "/b", "-o", "sweep=0s"]),
        "galleryfs: invalid duration '0s' for sweep (expected a positive duration \
         such as 90s, 12h, 12 hours, 30d, 30days, 1w or 1h30m)"
    );
    assert_eq!(
        error(&["/a", "/b", "-o", "retention"]),
        "galleryfs: option 'retention' requires a value (e.g. retention=30d)"
    );
}

#[test]
fn min_retention_allows_zero() {
    for zero in ["0", "00", "0s", "0m", "0h", "0d"] {
        let option = format!("min_retention=1h,min_retention={zero}");
        assert_eq!(
            mount(&["/a", "/b", "-o", &option]).min_retention,
            Duration::ZERO,
            "for {zero:?}"
        );
    }
    for bad in ["", "-1d", "1", "0x", "x"] {
        let option = format!("min_retention={bad}");
        assert_eq!(
            error(&["/a", "/b", "-o", &option]),
            format!(
                "galleryfs: invalid duration '{bad}' for min_retention (expected 0 or a \
                 positive duration such as 90s, 12h, 12 hours, 1d, 1w or 1h30m)"
            ),
            "for {bad:?}"
        );
    }
}

#[test]
fn sizes() {
    let m = mount(&["/a", "/b", "-o", "quota=2T,max_trash=20G"]);
    assert_eq!(m.quota, Some(2 << 40));
    assert_eq!(m.max_trash, Some(TrashCap::Bytes(20 << 30)));
    assert_eq!(
        mount(&["/a", "/b", "-o", "max_trash=1048576"]).max_trash,
        Some(TrashCap::Bytes(1_048_576))
    );
    // The forms of crate::units: fractions, B, iB, blanks; powers of 1024.
    let m = mount(&[
        "/a",
        "/b",
        "-o",
        "quota=10GB,max_trash=1.5G,overwrite_copy_max=10 MiB",
    ]);
    assert_eq!(m.quota, Some(10 << 30));
    assert_eq!(m.max_trash, Some(TrashCap::Bytes(3 << 29)));
    assert_eq!(m.overwrite.copy_max, 10 << 20);
    assert_eq!(
        mount(&["/a", "/b", "-o", "overwrite_copy_max=0"])
            .overwrite
            .copy_max,
        0
    );
}

#[test]
fn bad_sizes_name_the_value() {
    for bad in ["", "0", "-1", "G", "1 G B", "10X", "1..5G", "ten"] {
        let option = format!("quota={bad}");
        assert_eq!(
            error(&["/a", "/b", "-o", &option]),
            format!(
                "galleryfs: invalid size '{bad}' for quota (expected a positive size: \
                 bytes, or a number followed by K, M, G or T (powers of 1024, also written \
                 KB, KiB, ...), e.g. 500G, 10GB, 1.5G, 10 GiB)"
            ),
            "for {bad:?}"
        );
    }
    for bad in ["0%", "101%", "%", "50.5%", "-5%", "256%", "x%", "20X", "0"] {
        let option = format!("max_trash={bad}");
        assert_eq!(
            error(&["/a", "/b", "-o", &option]),
            format!(
                "galleryfs: invalid size '{bad}' for max_trash (expected a size such as \
                 20G, 10GB, 1.5G or 10 GiB (bytes, or a number followed by K, M, G or T, \
                 powers of 1024) or a percentage from 1% to 100%)"
            ),
            "for {bad:?}"
        );
    }
}

#[test]
fn percent() {
    assert_eq!(
        mount(&["/a", "/b", "-o", "max_trash=10%"]).max_trash,
        Some(TrashCap::Percent(10))
    );
    assert_eq!(
        mount(&["/a", "/b", "-o", "max_trash=1%"]).max_trash,
        Some(TrashCap::Percent(1))
    );
    assert_eq!(
        mount(&["/a", "/b", "-o", "max_trash=100%"]).max_trash,
        Some(TrashCap::Percent(100))
    );
    assert_eq!(
        mount(&["/a", "/b", "-o", "max_trash=050%"]).max_trash,
        Some(TrashCap::Percent(50))
    );
}

#[test]
fn passthrough_values() {
    for (text, expected) in [
        ("auto", Passthrough::Auto),
        ("on", Passthrough::On),
        ("off", Passthrough::Off),
    ] {
        let option = format!("passthrough={text}");
        assert_eq!(mount(&["/a", "/b", "-o", &option]).passthrough, expected);
    }
    assert_eq!(
        error(&["/a", "/b", "-o", "passthrough=yes"]),
        "galleryfs: invalid value 'yes' for passthrough (expected auto, on or off)"
    );
}

#[test]
fn allow_other_implies_default_permissions() {
    let m = mount(&["/a", "/b", "-o", "allow_other"]);
    assert!(m.allow_other && m.default_permissions && !m.allow_root);
    let m = mount(&["/a", "/b", "-o", "allow_root"]);
    assert!(m.allow_root && !m.allow_other && !m.default_permissions);
    let m = mount(&["/a", "/b", "-o", "default_permissions"]);
    assert!(m.default_permissions && !m.allow_other);
}

#[test]
fn allow_other_conflicts_with_allow_root() {
    assert_eq!(
        error(&["/a", "/b", "-o", "allow_other", "-o", "allow_root"]),
        "galleryfs: allow_other and allow_root are mutually exclusive"
    );
    assert_eq!(
        error(&["/a", "/b", "-o", "allow_other=1"]),
        "galleryfs: option 'allow_other' takes no value"
    );
}

#[test]
fn fuse_options() {
    let m = mount(&["/a", "/b", "-o", "fsname=/srv/store,auto_unmount,rw,ro"]);
    assert_eq!(m.fsname, Some("/srv/store".to_owned()));
    assert!(m.auto_unmount && m.read_only);
    assert_eq!(
        error(&["/a", "/b", "-o", "fsname="]),
        "galleryfs: fsname must not be empty"
    );
    assert_eq!(
        error(&["/a", "/b", "-o", "fsname"]),
        "galleryfs: option 'fsname' requires a value (e.g. fsname=/srv/pictures-store)"
    );
}

#[test]
fn kernel_flags_last_of_each_pair_wins_in_stable_order() {
    let m = mount(&[
        "/a",
        "/b",
        "-o",
        "dirsync,noatime,sync,nosuid,dev,suid,nodev,exec,async,noexec,atime,dirsync",
    ]);
    assert_eq!(
        m.kernel_flags,
        vec![
            KernelFlag::NoDev,
            KernelFlag::Suid,
            KernelFlag::NoExec,
            KernelFlag::Atime,
            KernelFlag::Async,
            KernelFlag::DirSync,
        ]
    );
}

#[test]
fn help_and_version_win() {
    assert_eq!(parse(args(&["-h"])), Ok(Command::Help));
    assert_eq!(parse(args(&["--help"])), Ok(Command::Help));
    assert_eq!(parse(args(&["-V"])), Ok(Command::Version));
    assert_eq!(parse(args(&["--version"])), Ok(Command::Version));
    assert_eq!(
        parse(args(&["-x", "/a", "-o", "bogus", "--help"])),
        Ok(Command::Help)
    );
    assert_eq!(parse(args(&["/a", "/b", "/c", "-V"])), Ok(Command::Version));
    assert_eq!(parse(args(&["-V", "-h"])), Ok(Command::Version));
    // After "--" they are paths.
    let m = mount(&["--", "-h", "--version"]);
    assert_eq!(m.storage, PathBuf::from("-h"));
    assert_eq!(m.mountpoint, PathBuf::from("--version"));
}

#[test]
fn help_and_version_text() {
    let text = usage();
    assert!(text.starts_with("Usage: galleryfs STORAGE MOUNTPOINT"));
    for needle in [
        "retention=DURATION",
        "(default 30d)",
        "sweep=DURATION",
        "(default 1h)",
        "max_trash=SIZE|PERCENT%",
        "min_retention=DURATION",
        "quota=SIZE",
        "allow_other",
        "allow_root",
        "default_permissions",
        "fsname=NAME",
        "auto_unmount",
        "noexec",
        "nofail",
        "/srv/pictures-store /home/ann/Pictures fuse.galleryfs defaults,retention=30d 0 0",
    ] {
        assert!(text.contains(needle), "usage lacks {needle:?}");
    }
    assert!(text.lines().count() <= 50, "{} lines", text.lines().count());
    assert!(text.lines().all(|l| l.chars().count() <= 82));
    assert_eq!(
        version(),
        format!("galleryfs {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn missing_and_extra_positionals() {
    assert_eq!(
        error(&[]),
        "galleryfs: missing STORAGE and MOUNTPOINT (see galleryfs --help)"
    );
    assert_eq!(
        error(&["-f", "-o", "ro"]),
        "galleryfs: missing STORAGE and MOUNTPOINT (see galleryfs --help)"
    );
    assert_eq!(
        error(&["/a"]),
        "galleryfs: missing MOUNTPOINT (see galleryfs --help)"
    );
    assert_eq!(
        error(&["/a", "/b", "/c"]),
        "galleryfs: unexpected argument '/c' (expected exactly STORAGE and MOUNTPOINT)"
    );
    assert_eq!(
        error(&["", "/b"]),
        "galleryfs: STORAGE must not be an empty path"
    );
    assert_eq!(
        error(&["/a", ""]),
        "galleryfs: MOUNTPOINT must not be an empty path"
    );
}

#[test]
fn double_dash_ends_flags() {
    let m = mount(&["-f", "--", "-o", "-store"]);
    assert_eq!(m.storage, PathBuf::from("-o"));
    assert_eq!(m.mountpoint, PathBuf::from("-store"));
    assert!(m.foreground);
    let m = mount(&["/a", "-o", "ro", "--", "-"]);
    assert_eq!(m.mountpoint, PathBuf::from("-"));
    assert!(m.read_only);
    assert_eq!(
        error(&["/a", "--", "/b", "-c"]),
        "galleryfs: unexpected argument '-c' (expected exactly STORAGE and MOUNTPOINT)"
    );
}

#[test]
fn non_utf8_paths_are_kept() {
    let storage = OsString::from_vec(b"/srv/caf\xe9".to_vec());
    let mountpoint = OsString::from_vec(b"/mnt/\xff\xfe".to_vec());
    let parsed = parse(vec![storage.clone(), mountpoint.clone(), os("-f")]);
    let Ok(Command::Mount(m)) = parsed else {
        panic!("expected a mount, got {parsed:?}");
    };
    assert_eq!(m.storage.as_os_str(), storage.as_os_str());
    assert_eq!(m.mountpoint.as_os_str(), mountpoint.as_os_str());
    assert!(m.foreground);

    let bad_options = OsString::from_vec(b"ro,fsname=\xff".to_vec());
    assert_eq!(
        parse(vec![os("/a"), os("/b"), os("-o"), bad_options]),
        Err(UsageError(
            "galleryfs: options 'ro,fsname=\u{fffd}' are not valid UTF-8".to_owned()
        ))
    );
    assert_eq!(
        parse(vec![
            os("/a"),
            os("/b"),
            OsString::from_vec(b"-\xff".to_vec())
        ]),
        Err(UsageError("galleryfs: unknown flag '-\u{fffd}'".to_owned()))
    );
}

#[test]
fn usage_error_displays_its_message() {
    let err = UsageError("galleryfs: unknown flag '-x'".to_owned());
    assert_eq!(err.to_string(), "galleryfs: unknown flag '-x'");
    let _: &dyn std::error::Error = &err;
}

#[test]
fn litter_options() {
    let m = mount(&["/a", "/b"]);
    assert!(m.litter.on && m.litter.patterns.is_empty());
    assert_eq!(m.litter.retention, Duration::from_secs(3600));
    let m = mount(&[
        "/a",
        "/b",
        "-o",
        "litter_pattern=*.tmp,litter_retention=10m",
        "-o",
        "litter_pattern=core.[0-9]*,litter=default",
    ]);
    assert!(m.litter.on);
    assert_eq!(m.litter.patterns, ["*.tmp", "core.[0-9]*"]);
    assert_eq!(m.litter.retention, Duration::from_secs(600));
    assert!(!mount(&["/a", "/b", "-o", "litter=off"]).litter.on);
    assert_eq!(
        error(&["/a", "/b", "-o", "litter=on"]),
        "galleryfs: invalid value 'on' for litter (expected default or off)"
    );
    for bad in ["litter_pattern=", "litter_pattern=a/b"] {
        assert!(
            error(&["/a", "/b", "-o", bad]).starts_with("galleryfs: invalid pattern '"),
            "{bad}"
        );
    }
    assert_eq!(
        error(&["/a", "/b", "-o", "litter_pattern"]),
        "galleryfs: option 'litter_pattern' requires a value (e.g. litter_pattern=*.tmp)"
    );
    assert_eq!(
        error(&["/a", "/b", "-o", "litter_retention=0"]),
        "galleryfs: invalid duration '0' for litter_retention (expected a positive duration such as 90s, 12h, 12 hours, 30d, 30days, 1w or 1h30m)"
    );
    assert_eq!(
        error(&["/a", "/b", "-o", "litter=off,litter_pattern=*.tmp"]),
        "galleryfs: litter_pattern has no effect with litter=off"
    );
}
