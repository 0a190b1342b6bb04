//! The operations of the model suite and their random generator: a small
//! name space (five names, three levels) so that collisions are frequent.

use std::fmt;

use super::spec::Model;
use galleryfs_testkit::harness::Rng;

/// File content, generated from a seed so sequences print short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Data {
    pub len: u32,
    pub seed: u32,
}

pub fn data_bytes(d: &Data) -> Vec<u8> {
    Rng::new(d.seed as u64 ^ 0xda7a).bytes(d.len as usize)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `open(O_CREAT|O_WRONLY|O_TRUNC|O_NOFOLLOW[|O_EXCL], mode)`, write, close.
    Create {
        path: String,
        mode: u32,
        excl: bool,
        data: Data,
    },
    /// `open(ACCESS|O_TRUNC|O_NOFOLLOW)` of an existing file (`access`
    /// O_WRONLY, O_RDWR or O_RDONLY), write `data` unless read-only, close.
    OpenTrunc {
        path: String,
        access: i32,
        data: Data,
    },
    /// `open(O_WRONLY|O_NOFOLLOW)`, pwrite at `offset`, close.
    Write {
        path: String,
        offset: u64,
        data: Data,
    },
    /// `truncate(2)`, or `open(O_WRONLY|O_NOFOLLOW)` + `ftruncate` with `via_fd`.
    Truncate {
        path: String,
        len: u64,
        via_fd: bool,
    },
    /// `open(O_WRONLY|O_NOFOLLOW)`, `fallocate(PUNCH_HOLE|KEEP_SIZE)`, close.
    Punch {
        path: String,
        offset: u64,
        len: u64,
    },
    Mkdir {
        path: String,
        mode: u32,
    },
    Rmdir {
        path: String,
    },
    Symlink {
        target: String,
        path: String,
    },
    Link {
        from: String,
        to: String,
    },
    Unlink {
        path: String,
    },
    /// `rm -r`: unlink/rmdir depth first, names in sorted order.
    RemoveTree {
        path: String,
    },
    Rename {
        from: String,
        to: String,
        flags: u32,
    },
    Chmod {
        path: String,
        mode: u32,
    },
    SetXattr {
        path: String,
        name: String,
        value: String,
        flags: i32,
    },
    RemoveXattr {
        path: String,
        name: String,
    },
    Remount,
    /// Sleeps until every entry has expired and the sweep has removed it
    /// (expiry sequences only, with `retention=3s,sweep=1s`).
    TimePasses,
}

impl Op {
    /// The operation's name, for statistics.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::OpenTrunc { .. } => "open O_TRUNC",
            Op::Write { .. } => "write",
            Op::Truncate { via_fd: false, .. } => "truncate",
            Op::Truncate { via_fd: true, .. } => "ftruncate",
            Op::Punch { .. } => "punch hole",
            Op::Mkdir { .. } => "mkdir",
            Op::Rmdir { .. } => "rmdir",
            Op::Symlink { .. } => "symlink",
            Op::Link { .. } => "link",
            Op::Unlink { .. } => "unlink",
            Op::RemoveTree { .. } => "rm -r",
            Op::Rename { from, to, .. } => {
                match (from.starts_with(".trash"), to.starts_with(".trash")) {
                    (false, false) => "rename gallery",
                    (false, true) => "rename into trash",
                    (true, false) => "rename out of trash",
                    (true, true) => "rename in trash",
                }
            }
            Op::Chmod { .. } => "chmod",
            Op::SetXattr { .. } => "setxattr",
            Op::RemoveXattr { .. } => "removexattr",
            Op::Remount => "remount",
            Op::TimePasses => "time passes",
        }
    }

    pub fn paths(&self) -> Vec<&str> {
        match self {
            Op::Create { path, .. }
            | Op::OpenTrunc { path, .. }
            | Op::Write { path, .. }
            | Op::Truncate { path, .. }
            | Op::Punch { path, .. }
            | Op::Mkdir { path, .. }
            | Op::Rmdir { path }
            | Op::Symlink { path, .. }
            | Op::Unlink { path }
            | Op::RemoveTree { path }
            | Op::Chmod { path, .. }
            | Op::SetXattr { path, .. }
            | Op::RemoveXattr { path, .. } => vec![path],
            Op::Link { from, to } | Op::Rename { from, to, .. } => vec![from, to],
            Op::Remount | Op::TimePasses => vec![],
        }
    }
}

fn rename_flags(flags: u32) -> &'static str {
    match flags {
        0 => "",
        libc::RENAME_NOREPLACE => " NOREPLACE",
        libc::RENAME_EXCHANGE => " EXCHANGE",
        _ => " ?",
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Create {
                path,
                mode,
                excl,
                data,
            } => write!(
                f,
                "create{} {path:?} mode={mode:o} data={}B#{}",
                if *excl { " EXCL" } else { "" },
                data.len,
                data.seed
            ),
            Op::OpenTrunc { path, access, data } => match *access {
                libc::O_RDONLY => write!(f, "open O_RDONLY|O_TRUNC {path:?}"),
                a => write!(
                    f,
                    "open {}|O_TRUNC {path:?} data={}B#{}",
                    if a == libc::O_RDWR {
                        "O_RDWR"
                    } else {
                        "O_WRONLY"
                    },
                    data.len,
                    data.seed
                ),
            },
            Op::Write { path, offset, data } => write!(
                f,
                "write {path:?} at {offset} data={}B#{}",
                data.len, data.seed
            ),
            Op::Punch { path, offset, len } => {
                write!(f, "punch hole {path:?} at {offset} len {len}")
            }
            Op::Truncate { path, len, via_fd } => write!(
                f,
                "{} {path:?} to {len}",
                if *via_fd { "ftruncate" } else { "truncate" }
            ),
            Op::Mkdir { path, mode } => write!(f, "mkdir {path:?} mode={mode:o}"),
            Op::Rmdir { path } => write!(f, "rmdir {path:?}"),
            Op::Symlink { target, path } => write!(f, "symlink {path:?} -> {target:?}"),
            Op::Link { from, to } => write!(f, "link {from:?} {to:?}"),
            Op::Unlink { path } => write!(f, "unlink {path:?}"),
            Op::RemoveTree { path } => write!(f, "rm -r {path:?}"),
            Op::Rename { from, to, flags } => {
                write!(f, "rename{} {from:?} {to:?}", rename_flags(*flags))
            }
            Op::Chmod { path, mode } => write!(f, "chmod {mode:o} {path:?}"),
            Op::SetXattr {
                path,
                name,
                value,
                flags,
            } => write!(
                f,
                "setxattr{} {path:?} {name}={value:?}",
                match *flags {
                    libc::XATTR_CREATE => " CREATE",
                    libc::XATTR_REPLACE => " REPLACE",
                    _ => "",
                }
            ),
            Op::RemoveXattr { path, name } => write!(f, "removexattr {path:?} {name}"),
            Op::Remount => write!(f, "remount"),
            Op::TimePasses => write!(f, "time passes (all entries expire)"),
        }
    }
}

/// Names used everywhere: extensions of each kind the naming rule knows.
const NAMES: [&str; 5] = ["a", "b.jpg", "c", "d.tar.gz", ".e"];
const SYMLINK_TARGETS: [&str; 4] = ["a", "../b.jpg", "nowhere", "c/d.tar.gz"];
const FILE_MODES: [u32; 5] = [0o644, 0o600, 0o666, 0o755, 0o640];
const DIR_MODES: [u32; 4] = [0o755, 0o700, 0o777, 0o1777];
const CHMOD_MODES: [u32; 9] = [
    0o644, 0o600, 0o755, 0o700, 0o000, 0o444, 0o4755, 0o2755, 0o1777,
];
const XATTR_NAMES: [&str; 3] = ["user.a", "user.b", "user.trash.original_path"];

/// Makes random operations that fit the model's current state.
pub struct Gen<'a> {
    rng: &'a mut Rng,
    model: &'a Model,
    paths: Vec<(String, char)>,
}

impl<'a> Gen<'a> {
    pub fn new(rng: &'a mut Rng, model: &'a Model) -> Gen<'a> {
        let paths = model.all_paths();
        Gen { rng, model, paths }
    }

    fn pick_str(&mut self, items: &[&str]) -> String {
        self.rng.pick(items).to_string()
    }

    fn existing(&mut self, filter: impl Fn(&str, char) -> bool) -> Option<String> {
        let matching: Vec<&String> = self
            .paths
            .iter()
            .filter(|(p, k)| filter(p, *k))
            .map(|(p, _)| p)
            .collect();
        if matching.is_empty() {
            None
        } else {
            Some(self.rng.pick(&matching).to_string())
        }
    }

    fn in_gallery(p: &str) -> bool {
        p.starts_with("gallery/")
    }

    fn nested_in_trash(p: &str) -> bool {
        p.starts_with(".trash/") && p[7..].contains('/')
    }

    fn entry(p: &str) -> bool {
        p.starts_with(".trash/") && !p[7..].contains('/')
    }

    /// A name that may or may not exist, under a gallery directory (usually).
    fn new_gallery_path(&mut self) -> String {
        let name = self.pick_str(&NAMES);
        let roll = self.rng.below(100);
        let parent = if roll < 85 {
            self.existing(|p, k| k == 'd' && Self::in_gallery(p) && p.matches('/').count() < 3)
                .filter(|_| self.rng.chance(60))
                .unwrap_or_else(|| "gallery".into())
        } else if roll < 95 {
            // A file as a parent: ENOTDIR.
            self.existing(|p, k| k == 'f' && Self::in_gallery(p))
                .unwrap_or_else(|| "gallery".into())
        } else {
            "gallery/missing".into()
        };
        format!("{parent}/{name}")
    }

    fn gallery_path(&mut self) -> String {
        if self.rng.chance(70)
            && let Some(p) = self.existing(|p, _| Self::in_gallery(p))
        {
            return p;
        }
        self.new_gallery_path()
    }

    fn gallery_path_of(&mut self, kind: char) -> String {
        if self.rng.chance(80)
            && let Some(p) = self.existing(|p, k| k == kind && Self::in_gallery(p))
        {
            return p;
        }
        self.gallery_path()
    }

    fn entry_name(&mut self) -> String {
        let names: Vec<String> = self.model.trash.keys().cloned().collect();
        if !names.is_empty() && self.rng.chance(50) {
            return self.rng.pick(&names).clone();
        }
        let base = self.pick_str(&NAMES);
        if self.rng.chance(25) {
            super::spec::candidate(&base, 2)
        } else {
            base
        }
    }

    fn trash_path(&mut self) -> String {
        let roll = self.rng.below(100);
        if roll < 55
            && let Some(p) = self.existing(|p, _| Self::entry(p))
        {
            return p;
        }
        if roll < 80
            && let Some(p) = self.existing(|p, _| Self::nested_in_trash(p))
        {
            return p;
        }
        if roll < 90
            && let Some(dir) = self.existing(|p, k| k == 'd' && p.starts_with(".trash/"))
        {
            // A new name inside a trashed directory.
            return format!("{dir}/{}", self.pick_str(&NAMES));
        }
        format!(".trash/{}", self.entry_name())
    }

    fn root_path(&mut self) -> String {
        self.pick_str(&["gallery", ".trash", "x"])
    }

    fn any_path(&mut self) -> String {
        match self.rng.below(100) {
            0..70 => self.gallery_path(),
            70..96 => self.trash_path(),
            _ => self.root_path(),
        }
    }

    /// Mostly an object that exists (anywhere), else any path.
    fn target(&mut self) -> String {
        if self.rng.chance(85)
            && let Some(p) = self.existing(|p, _| {
                // Gallery objects twice as often as trashed ones.
                Self::in_gallery(p) || p.len() % 2 == 0
            })
        {
            return p;
        }
        self.any_path()
    }

    /// An xattr name, often one the target has.
    fn xattr_name(&mut self, path: &str) -> String {
        let has: Vec<String> = self.model.xattr_names(path);
        if !has.is_empty() && self.rng.chance(60) {
            return self.rng.pick(&has).clone();
        }
        if self.rng.chance(92) {
            self.pick_str(&XATTR_NAMES[..2])
        } else {
            XATTR_NAMES[2].to_string()
        }
    }

    fn data(&mut self) -> Data {
        let len = match self.rng.below(100) {
            0..5 => 0,
            5..60 => self.rng.below(64),
            60..90 => 64 + self.rng.below(1500),
            90..98 => 1500 + self.rng.below(8000),
            _ => 9000 + self.rng.below(60_000),
        } as u32;
        Data {
            len,
            seed: self.rng.next_u64() as u32,
        }
    }

    fn rename_flags(&mut self) -> u32 {
        match self.rng.below(100) {
            0..75 => 0,
            75..90 => libc::RENAME_NOREPLACE,
            _ => libc::RENAME_EXCHANGE,
        }
    }

    fn rename(&mut self) -> Op {
        let flags = self.rename_flags();
        let (from, to) = match self.rng.below(100) {
            0..40 => (self.gallery_path(), self.gallery_path()),
            40..60 => {
                let from = self.gallery_path();
                let to = if self.rng.chance(30) {
                    // Its own name, which an entry may already have.
                    from.rsplit('/').next().unwrap_or("a").to_string()
                } else {
                    self.entry_name()
                };
                (from, format!(".trash/{to}"))
            }
            60..80 if self.model.trash.is_empty() && self.rng.chance(80) => {
                (self.gallery_path(), self.gallery_path())
            }
            60..80 => {
                let from = self
                    .existing(|p, _| Self::entry(p))
                    .unwrap_or_else(|| self.trash_path());
                let original = from
                    .strip_prefix(".trash/")
                    .and_then(|n| self.model.trash.get(n))
                    .map(|e| format!("gallery/{}", e.original));
                let to = match original {
                    Some(o) if self.rng.chance(50) => o,
                    _ => self.gallery_path(),
                };
                (from, to)
            }
            80..88 if self.model.trash.is_empty() && self.rng.chance(80) => {
                (self.gallery_path(), format!(".trash/{}", self.entry_name()))
            }
            80..88 => (self.trash_path(), format!(".trash/{}", self.entry_name())),
            88..95 => {
                let from = self
                    .existing(|p, _| Self::nested_in_trash(p))
                    .unwrap_or_else(|| self.trash_path());
                (from, self.gallery_path())
            }
            _ => (self.any_path(), self.any_path()),
        };
        Op::Rename { from, to, flags }
    }

    pub fn op(&mut self) -> Op {
        // Sequences start empty and rm is frequent: keep a few things around.
        let files = self
            .paths
            .iter()
            .filter(|(p, k)| *k != 'd' && Self::in_gallery(p))
            .count();
        let dirs = self
            .paths
            .iter()
            .filter(|(p, k)| *k == 'd' && Self::in_gallery(p))
            .count();
        if files < 3 && self.rng.chance(40) {
            return Op::Create {
                path: self.new_gallery_path(),
                mode: *self.rng.pick(&FILE_MODES),
                excl: self.rng.chance(20),
                data: self.data(),
            };
        }
        if dirs < 1 && self.rng.chance(30) {
            return Op::Mkdir {
                path: self.new_gallery_path(),
                mode: *self.rng.pick(&DIR_MODES),
            };
        }
        let roll = self.rng.below(1000);
        match roll {
            0..140 => Op::Create {
                path: if self.rng.chance(90) {
                    self.gallery_path_of('f')
                } else {
                    self.any_path()
                },
                mode: *self.rng.pick(&FILE_MODES),
                excl: self.rng.chance(20),
                data: self.data(),
            },
            140..230 => {
                let path = if self.rng.chance(85) {
                    self.gallery_path_of('f')
                } else {
                    self.any_path()
                };
                let offset = match self.rng.below(10) {
                    0..6 => self.rng.below(200),
                    6..9 => self.rng.below(3000),
                    _ => self.rng.below(70_000),
                };
                Op::Write {
                    path,
                    offset,
                    data: self.data(),
                }
            }
            230..280 => {
                let path = if self.rng.chance(85) {
                    self.gallery_path_of('f')
                } else {
                    self.any_path()
                };
                let len = self.truncate_len(&path);
                Op::Truncate {
                    path,
                    len,
                    via_fd: self.rng.chance(50),
                }
            }
            280..340 => Op::Mkdir {
                path: if self.rng.chance(90) {
                    self.new_gallery_path()
                } else {
                    self.any_path()
                },
                mode: *self.rng.pick(&DIR_MODES),
            },
            340..370 => Op::Rmdir {
                path: if self.rng.chance(60) {
                    self.gallery_path_of('d')
                } else {
                    self.any_path()
                },
            },
            370..510 => self.rename(),
            510..560 => Op::Link {
                from: if self.rng.chance(85) {
                    self.gallery_path_of('f')
                } else {
                    self.any_path()
                },
                to: if self.rng.chance(85) {
                    self.new_gallery_path()
                } else {
                    self.any_path()
                },
            },
            560..590 => Op::Symlink {
                target: self.pick_str(&SYMLINK_TARGETS),
                path: if self.rng.chance(90) {
                    self.new_gallery_path()
                } else {
                    self.any_path()
                },
            },
            590..710 => Op::Unlink {
                path: match self.rng.below(100) {
                    0..60 => self.gallery_path_of('f'),
                    60..70 => self.gallery_path_of('l'),
                    70..95 => self.trash_path(),
                    _ => self.any_path(),
                },
            },
            710..730 => Op::RemoveTree {
                path: match self.rng.below(100) {
                    0..55 => self.gallery_path_of('d'),
                    55..90 => self.trash_path(),
                    90..95 => "gallery".into(),
                    _ => ".trash".into(),
                },
            },
            730..780 => Op::Chmod {
                path: if self.rng.chance(97) {
                    self.target()
                } else {
                    "gallery".into()
                },
                mode: *self.rng.pick(&CHMOD_MODES),
            },
            780..860 => {
                let path = self.target();
                let name = self.xattr_name(&path);
                let value_len = self.rng.below(12) as usize;
                let value: String = (0..value_len)
                    .map(|_| (b'a' + self.rng.below(26) as u8) as char)
                    .collect();
                Op::SetXattr {
                    path,
                    name,
                    value,
                    flags: *self
                        .rng
                        .pick(&[0, 0, libc::XATTR_CREATE, libc::XATTR_REPLACE]),
                }
            }
            860..895 => {
                let path = self.target();
                let name = self.xattr_name(&path);
                Op::RemoveXattr { path, name }
            }
            895..910 => Op::Remount,
            910..950 => Op::OpenTrunc {
                path: if self.rng.chance(90) {
                    self.gallery_path_of('f')
                } else {
                    self.any_path()
                },
                access: *self.rng.pick(&[
                    libc::O_WRONLY,
                    libc::O_WRONLY,
                    libc::O_RDWR,
                    libc::O_RDONLY,
                ]),
                data: self.data(),
            },
            950..980 => self.punch(),
            _ => self.rename(),
        }
    }

    /// A new size for a truncation of `path`: often 0, else around its
    /// size (a little shorter, half, longer), or anything.
    fn truncate_len(&mut self, path: &str) -> u64 {
        let size = self.model.file_size(path).unwrap_or(0);
        match self.rng.below(10) {
            0..3 => 0,
            3..5 => self.rng.below(500),
            5..8 => match self.rng.below(4) {
                0 => size / 2,
                1 => size.saturating_sub(1 + self.rng.below(100)),
                2 => size + 1 + self.rng.below(9000),
                _ => size / self.model.block * self.model.block,
            },
            _ => self.rng.below(20_000),
        }
    }

    /// A hole punched into a gallery file (mostly): from its start, a block
    /// boundary or anywhere; one block or so, to its end, or past it.
    fn punch(&mut self) -> Op {
        let path = if self.rng.chance(90) {
            self.gallery_path_of('f')
        } else {
            self.any_path()
        };
        let b = self.model.block;
        let size = self.model.file_size(&path).unwrap_or(0);
        let offset = match self.rng.below(10) {
            0..3 => 0,
            3..6 => self.rng.below(size / b + 2) * b,
            _ => self.rng.below(size + 100),
        };
        let mut len = match self.rng.below(20) {
            0..5 => 1 << 20,
            5..8 => size.saturating_sub(offset).max(1),
            8..15 => 1 + self.rng.below(2 * b),
            15..19 => b * (1 + self.rng.below(3)),
            _ => 0,
        };
        // Past the end but not past its last block: backing filesystems
        // differ there (the model skips it).
        let end = offset + len;
        if offset < size && end > size && end < size.div_ceil(b) * b {
            len = 1 << 20;
        }
        Op::Punch { path, offset, len }
    }
}
