//! The `galleryfs` command line: argv (including the `SRC MNT -o opts` shape that
//! mount.fuse3 uses for fstab entries) into a validated [`MountArgs`] (see `config`). Nothing here
//! touches the filesystem: paths are kept as given and checked by the caller.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::Duration;

use crate::config::{
    DEFAULT_LITTER_RETENTION, DEFAULT_OVERWRITE_INTERVAL, DEFAULT_RETENTION, DEFAULT_SWEEP,
    KernelFlag, MountArgs, Passthrough, TrashCap,
};

use crate::units::{
    DURATION_EXPECTED, DURATION_OR_ZERO_EXPECTED as MIN_RETENTION_EXPECTED, SIZE_EXPECTED,
    TRASH_CAP_EXPECTED, format_duration, parse_duration, parse_duration_or_zero, parse_size,
    parse_size_or_zero,
};

/// What the command line asks for.
// Built once per run, so boxing MountArgs would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Mount(MountArgs),
    Help,
    Version,
}

/// A command-line error; the message is complete, including the `galleryfs: ` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl UsageError {
    fn new(message: impl fmt::Display) -> Self {
        UsageError(format!("galleryfs: {message}"))
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parses the arguments after `argv[0]`.
///
/// `-h`/`--help` and `-V`/`--version` anywhere before `--` win over everything
/// else, including errors elsewhere on the line.
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let mut positionals: Vec<OsString> = Vec::new();
    let mut option_lists: Vec<OsString> = Vec::new();
    let (mut foreground, mut debug, mut single_threaded) = (false, false, false);
    // Flag errors are held back so that a later --help still wins.
    let mut flag_error: Option<UsageError> = None;
    let mut only_positionals = false;

    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        // A lone "-" is an ordinary path, as in most Unix tools.
        if only_positionals || bytes.len() < 2 || bytes[0] != b'-' {
            positionals.push(arg);
            continue;
        }
        match bytes {
            b"--" => only_positionals = true,
            b"-h" | b"--help" => return Ok(Command::Help),
            b"-V" | b"--version" => return Ok(Command::Version),
            b"-f" => foreground = true,
            b"-d" => {
                debug = true;
                foreground = true;
            }
            b"-s" => single_threaded = true,
            b"-o" => match args.next() {
                Some(value) => option_lists.push(value),
                None => {
                    flag_error
                        .get_or_insert_with(|| UsageError::new("option '-o' requires an argument"));
                }
            },
            _ if bytes.starts_with(b"-o") => {
                option_lists.push(OsString::from_vec(bytes[2..].to_vec()));
            }
            _ => {
                flag_error.get_or_insert_with(|| {
                    UsageError::new(format_args!("unknown flag '{}'", arg.to_string_lossy()))
                });
            }
        }
    }
    if let Some(err) = flag_error {
        return Err(err);
    }

    let mut positionals = positionals.into_iter();
    let (storage, mountpoint) = match (positionals.next(), positionals.next()) {
        (Some(storage), Some(mountpoint)) => (storage, mountpoint),
        (Some(_), None) => {
            return Err(UsageError::new("missing MOUNTPOINT (see galleryfs --help)"));
        }
        (None, _) => {
            return Err(UsageError::new(
                "missing STORAGE and MOUNTPOINT (see galleryfs --help)",
            ));
        }
    };
    if let Some(extra) = positionals.next() {
        return Err(UsageError::new(format_args!(
            "unexpected argument '{}' (expected exactly STORAGE and MOUNTPOINT)",
            extra.to_string_lossy()
        )));
    }
    if storage.is_empty() {
        return Err(UsageError::new("STORAGE must not be an empty path"));
    }
    if mountpoint.is_empty() {
        return Err(UsageError::new("MOUNTPOINT must not be an empty path"));
    }

    let mut mount = MountArgs::new(storage, mountpoint);
    mount.foreground = foreground;
    mount.debug = debug;
    mount.single_threaded = single_threaded;

    let mut flags = KernelFlags::default();
    for list in &option_lists {
        let list = list.to_str().ok_or_else(|| {
            UsageError::new(format_args!(
                "options '{}' are not valid UTF-8",
                list.to_string_lossy()
            ))
        })?;
        for option in split_options(list) {
            apply_option(&mut mount, &mut flags, option)?;
        }
    }

    if !mount.litter.on && !mount.litter.patterns.is_empty() {
        return Err(UsageError::new(
            "litter_pattern has no effect with litter=off",
        ));
    }
    if mount.allow_other && mount.allow_root {
        return Err(UsageError::new(
            "allow_other and allow_root are mutually exclusive",
        ));
    }
    if mount.allow_other {
        // Other users must not bypass the permission bits of the backing files.
        mount.default_permissions = true;
    }
    mount.kernel_flags = flags.into_vec();
    Ok(Command::Mount(mount))
}

/// The last setting of each kernel-flag pair seen so far.
#[derive(Default)]
struct KernelFlags {
    dev: Option<KernelFlag>,
    suid: Option<KernelFlag>,
    exec: Option<KernelFlag>,
    atime: Option<KernelFlag>,
    sync: Option<KernelFlag>,
    dirsync: Option<KernelFlag>,
}

impl KernelFlags {
    fn into_vec(self) -> Vec<KernelFlag> {
        [
            self.dev,
            self.suid,
            self.exec,
            self.atime,
            self.sync,
            self.dirsync,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Splits a `-o` value on commas, except inside double quotes (libmount quotes
/// values such as SELinux `context="a,b"`). Empty items are dropped.
fn split_options(list: &str) -> impl Iterator<Item = &str> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in list.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    items.into_iter().filter(|item| !item.is_empty())
}

/// Options from mount(8), mount.fuse3, systemd and fstab that take no value and
/// mean nothing (or nothing we can honour) on a galleryfs mount.
const IGNORED_FLAGS: &[&str] = &[
    "defaults",
    "auto",
    "noauto",
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
    "drop_privileges",
];

/// Ignored options that carry a value (`comment=…`, `setuid=…`, SELinux contexts).
/// `user` is here too: libmount rewrites it to `user=NAME` for user mounts.
const IGNORED_WITH_VALUE: &[&str] = &[
    "user",
    "comment",
    "setuid",
    "context",
    "fscontext",
    "defcontext",
    "rootcontext",
];

fn apply_option(
    mount: &mut MountArgs,
    flags: &mut KernelFlags,
    option: &str,
) -> Result<(), UsageError> {
    let (name, value) = match option.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (option, None),
    };
    let needs_value = |example: &str| {
        value.ok_or_else(|| {
            UsageError::new(format_args!(
                "option '{name}' requires a value (e.g. {name}={example})"
            ))
        })
    };
    let no_value = || match value {
        None => Ok(()),
        Some(_) => Err(UsageError::new(format_args!(
            "option '{name}' takes no value"
        ))),
    };

    match name {
        "retention" => mount.retention = option_duration(name, needs_value("30d")?)?,
        "sweep" => mount.sweep = option_duration(name, needs_value("1h")?)?,
        "min_retention" => {
            let text = needs_value("1d")?;
            mount.min_retention = parse_duration_or_zero(text).map_err(|_| {
                UsageError::new(format_args!(
                    "invalid duration '{text}' for {name} ({MIN_RETENTION_EXPECTED})"
                ))
            })?;
        }
        "passthrough" => {
            mount.passthrough = match needs_value("auto")? {
                "auto" => Passthrough::Auto,
                "on" => Passthrough::On,
                "off" => Passthrough::Off,
                other => {
                    return Err(UsageError::new(format_args!(
                        "invalid value '{other}' for passthrough (expected auto, on or off)"
                    )));
                }
            }
        }
        "max_trash" => {
            let text = needs_value("20G")?;
            mount.max_trash = Some(parse_trash_cap(text).map_err(|_| {
                UsageError::new(format_args!(
                    "invalid size '{text}' for max_trash ({TRASH_CAP_EXPECTED})"
                ))
            })?);
        }
        "quota" => {
            let text = needs_value("500G")?;
            mount.quota = Some(parse_size(text).map_err(|_| {
                UsageError::new(format_args!(
                    "invalid size '{text}' for quota ({SIZE_EXPECTED})"
                ))
            })?);
        }
        "overwrite" => {
            mount.overwrite.keep = match needs_value("keep")? {
                "keep" => true,
                "off" => false,
                other => {
                    return Err(UsageError::new(format_args!(
                        "invalid value '{other}' for overwrite (expected keep or off)"
                    )));
                }
            }
        }
        "overwrite_interval" => {
            let text = needs_value("5m")?;
            mount.overwrite.interval = parse_duration_or_zero(text).map_err(|_| {
                UsageError::new(format_args!(
                    "invalid duration '{text}' for {name} ({MIN_RETENTION_EXPECTED})"
                ))
            })?;
        }
        "overwrite_copy_max" => {
            let text = needs_value("256M")?;
            // 0: never copy (keep by inode or reflink only).
            mount.overwrite.copy_max = parse_size_or_zero(text).map_err(|_| {
                UsageError::new(format_args!(
                    "invalid size '{text}' for {name} ({SIZE_EXPECTED})"
                ))
            })?;
        }
        "litter" => {
            mount.litter.on = match needs_value("off")? {
                "default" => true,
                "off" => false,
                other => {
                    return Err(UsageError::new(format_args!(
                        "invalid value '{other}' for litter (expected default or off)"
                    )));
                }
            }
        }
        "litter_pattern" => {
            let glob = needs_value("*.tmp")?;
            // Matched against names, which never hold a '/'.
            if glob.is_empty() || glob.contains('/') {
                return Err(UsageError::new(format_args!(
                    "invalid pattern '{glob}' for litter_pattern (expected a glob for a file name, without '/', e.g. *.tmp)"
                )));
            }
            mount.litter.patterns.push(glob.to_owned());
        }
        "litter_retention" => {
            mount.litter.retention = option_duration(name, needs_value("1h")?)?;
        }
        "fsname" => {
            let text = needs_value("/srv/pictures-store")?;
            if text.is_empty() {
                return Err(UsageError::new("fsname must not be empty"));
            }
            mount.fsname = Some(text.to_owned());
        }
        "allow_other" => {
            no_value()?;
            mount.allow_other = true;
        }
        "allow_root" => {
            no_value()?;
            mount.allow_root = true;
        }
        "default_permissions" => {
            no_value()?;
            mount.default_permissions = true;
        }
        "ro" => {
            no_value()?;
            mount.read_only = true;
        }
        "rw" => {
            no_value()?;
            mount.read_only = false;
        }
        "auto_unmount" => {
            no_value()?;
            mount.auto_unmount = true;
        }
        "dev" | "nodev" | "suid" | "nosuid" | "exec" | "noexec" | "atime" | "noatime" | "sync"
        | "async" | "dirsync" => {
            no_value()?;
            let (slot, flag) = match name {
                "dev" => (&mut flags.dev, KernelFlag::Dev),
                "nodev" => (&mut flags.dev, KernelFlag::NoDev),
                "suid" => (&mut flags.suid, KernelFlag::Suid),
                "nosuid" => (&mut flags.suid, KernelFlag::NoSuid),
                "exec" => (&mut flags.exec, KernelFlag::Exec),
                "noexec" => (&mut flags.exec, KernelFlag::NoExec),
                "atime" => (&mut flags.atime, KernelFlag::Atime),
                "noatime" => (&mut flags.atime, KernelFlag::NoAtime),
                "sync" => (&mut flags.sync, KernelFlag::Sync),
                "async" => (&mut flags.sync, KernelFlag::Async),
                _ => (&mut flags.dirsync, KernelFlag::DirSync),
            };
            *slot = Some(flag);
        }
        "remount" => return Err(UsageError::new("remount is not supported")),
        _ if IGNORED_FLAGS.contains(&name) => {
            no_value()?;
            mount.ignored.push(option.to_owned());
        }
        _ if IGNORED_WITH_VALUE.contains(&name) || name.starts_with("x-") => {
            mount.ignored.push(option.to_owned());
        }
        _ => {
            return Err(UsageError::new(format_args!("unknown option '{option}'")));
        }
    }
    Ok(())
}

fn option_duration(name: &str, text: &str) -> Result<Duration, UsageError> {
    parse_duration(text).map_err(|_| {
        UsageError::new(format_args!(
            "invalid duration '{text}' for {name} ({DURATION_EXPECTED})"
        ))
    })
}

fn parse_trash_cap(s: &str) -> Result<TrashCap, String> {
    let Some(percent) = s.strip_suffix('%') else {
        return parse_size(s).map(TrashCap::Bytes);
    };
    if percent.is_empty() || !percent.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a whole percentage".to_owned());
    }
    match percent.parse::<u8>() {
        Ok(p @ 1..=100) => Ok(TrashCap::Percent(p)),
        _ => Err("percentage out of range 1-100".to_owned()),
    }
}

/// The `--help` text.
pub fn usage() -> String {
    format!(
        "\
Usage: galleryfs STORAGE MOUNTPOINT [-o OPTION[,OPTION...]]... [-f] [-d] [-s]
       galleryfs -h|--help | -V|--version

Mounts at MOUNTPOINT a FUSE filesystem kept in the directory STORAGE. Files
deleted under gallery/ move to .trash/, where they can be restored until the
retention passes. The trash counts as free space in df; a full disk purges it.

Flags:
  -o OPTIONS      comma-separated options, see below (repeatable; -oOPTIONS too)
  -f              stay in the foreground
  -d              stay in the foreground and log debug messages
  -s              handle requests on a single thread
  -h, --help      print this help and exit (-V, --version: the version)

galleryfs options:
  retention=DURATION       keep deleted files in .trash/ this long (default {retention})
  sweep=DURATION           purge expired trash this often (default {sweep})
  passthrough=auto|on|off  kernel FUSE passthrough of file I/O (default auto)
  max_trash=SIZE|PERCENT%  cap the trash's total size (PERCENT of STORAGE's
                           filesystem); oldest entries go first (default none)
  min_retention=DURATION   never purge younger entries for space (default 0)
  quota=SIZE               limit the gallery's own bytes (EDQUOT beyond; the trash
                           does not count; df shows SIZE as the total)
  overwrite=keep|off       keep in .trash/ what a truncation or O_TRUNC destroys
  overwrite_interval=DURATION  not again for a path within it ({interval}; 0: always)
  overwrite_copy_max=SIZE  the largest copy kept without reflinks ({copy_max})
  litter=default|off       programs' temporary files (*~, .*.swp, inside .git,
                           empty files) stay litter_retention, listed on request
  litter_pattern=GLOB      file names that are litter too (repeatable: *.tmp)
  litter_retention=DURATION  how long litter stays in .trash/ (default {litter})
  DURATION: 90s, 12h, 12 hours, 30d, 30days, 1w, 1h30m (quote blanks).
  SIZE: bytes, or K, M, G, T (powers of 1024): 20G, 10GB, 1.5G, '10 GiB'.

FUSE options:
  allow_other              let all users access the mount (implies
                           default_permissions)
  allow_root               let the owner and root access the mount
  default_permissions      let the kernel check permissions (always on)
  ro, rw                   mount read-only / read-write (default rw)
  fsname=NAME              mount source shown in /proc/mounts (default STORAGE)
  auto_unmount             unmount when galleryfs exits
  dev, nodev, suid, nosuid, exec, noexec, atime, noatime, sync, async, dirsync
                           applied to the mount as usual

Generic mount(8)/fstab options (defaults, auto, noauto, user, users, owner,
group, nofail, _netdev, relatime, lazytime, x-*, comment=, ...) are accepted
and ignored where they do not apply; remount is not supported.

fstab example:
  /srv/pictures-store /home/ann/Pictures fuse.galleryfs defaults,retention=30d 0 0
",
        retention = format_duration(DEFAULT_RETENTION),
        sweep = format_duration(DEFAULT_SWEEP),
        interval = format_duration(DEFAULT_OVERWRITE_INTERVAL),
        copy_max = "256M",
        litter = format_duration(DEFAULT_LITTER_RETENTION),
    )
}

/// `galleryfs X.Y.Z`.
pub fn version() -> String {
    format!("galleryfs {}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests;
