//! `gallery-trash info`: every attribute of some entries, as labelled lines
//! or JSON.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use galleryfs::contract::{self, human_size};

use crate::cli::InfoArgs;
use crate::entries::{self, Kind, Measured};
use crate::escape::escape;
use crate::human;
use crate::json;
use crate::report::{Report, describe};
use crate::resolve::Resolver;
use crate::space;
use crate::syscalls;
use crate::table::{self, UNKNOWN};

pub(crate) fn run(args: &InfoArgs) -> ExitCode {
    let mut report = Report::new("info");
    let mut resolver = match Resolver::new() {
        Ok(r) => r,
        Err(e) => {
            report.error(format!(
                "cannot read {}: {}",
                contract::MOUNTINFO,
                describe(&e)
            ));
            return report.exit_code();
        }
    };
    let mut found = Vec::new();
    let mut mounts = Vec::new();
    for arg in &args.entries {
        match resolver.resolve(arg) {
            Ok((fs, entry)) => {
                if !mounts.contains(&fs) {
                    mounts.push(fs);
                }
                found.push(entry)
            }
            Err(e) => report.error(e),
        }
    }
    let rows = entries::measure(found);
    let names = |m: &Measured| {
        (
            name_text(syscalls::user_name(m.entry.stat.uid)),
            name_text(syscalls::group_name(m.entry.stat.gid)),
        )
    };
    if args.json {
        let names: Vec<_> = rows.iter().map(names).collect();
        let array: Vec<_> = rows
            .iter()
            .zip(&names)
            .map(|(m, (owner, group))| json::info(m, owner.as_deref(), group.as_deref()))
            .collect();
        println!("{}", json::array(&array));
    } else {
        let blocks: Vec<String> = rows
            .iter()
            .map(|m| {
                let (owner, group) = names(m);
                render(m, owner.as_deref(), group.as_deref(), human::local_minute)
            })
            .collect();
        print!("{}", blocks.join("\n"));
        // Then the whole trash, as galleryfs counts it, once per mount.
        for fs in &mounts {
            if let Some(trash) = space::read(&fs.trash_dir()) {
                println!();
                if mounts.len() > 1 {
                    println!("mount:         {}", escape(fs.root.as_os_str().as_bytes()));
                }
                print!("{}", space::info_lines(&trash));
            }
        }
    }
    report.exit_code()
}

fn name_text(name: Option<OsString>) -> Option<String> {
    name.map(|n| escape(n.as_bytes()))
}

/// One entry as `label: value` lines.
fn render(
    m: &Measured,
    owner: Option<&str>,
    group: Option<&str>,
    time: impl Fn(DateTime<Utc>) -> String,
) -> String {
    let e = &m.entry;
    let s = &e.stat;
    let when = |at: Option<DateTime<Utc>>| {
        at.map_or_else(
            || UNKNOWN.to_string(),
            |at| format!("{} ({})", time(at), contract::format_time(at)),
        )
    };
    let who = |name: Option<&str>, id: u32| {
        name.map_or_else(|| id.to_string(), |n| format!("{n} ({id})"))
    };
    let mut lines = vec![
        ("name", escape(e.name.as_bytes())),
        ("path", escape(e.path.as_os_str().as_bytes())),
        ("original path", table::original_display(e)),
        ("reason", table::reason_display(e)),
        ("kind", s.kind.as_str().to_string()),
        ("deleted", when(e.deleted_at)),
        ("expires", when(e.expires_at)),
        (
            "days left",
            e.days_left
                .map_or_else(|| UNKNOWN.to_string(), contract::format_days),
        ),
        ("size", format!("{} ({} bytes)", human_size(m.size), m.size)),
        ("owner", who(owner, s.uid)),
        ("group", who(group, s.gid)),
        (
            "mode",
            format!("{:04o} ({})", s.mode, mode_string(s.kind, s.mode)),
        ),
    ];
    if e.litter {
        // After `kind`: what sort of thing it is.
        lines.insert(5, ("litter", "yes (a short-lived temporary file)".into()));
    }
    lines
        .iter()
        .map(|(label, value)| format!("{:<14} {value}\n", format!("{label}:")))
        .collect()
}

/// `ls -l` notation: `-rw-r--r--`, `drwxrwxrwt`, `lrwxrwxrwx`.
pub(crate) fn mode_string(kind: Kind, mode: u32) -> String {
    let type_char = match kind {
        Kind::File => '-',
        Kind::Dir => 'd',
        Kind::Symlink => 'l',
        Kind::Fifo => 'p',
        Kind::Socket => 's',
        Kind::Block => 'b',
        Kind::Char => 'c',
    };
    let mut out = String::from(type_char);
    // (read, write, execute bits, special bit, char when special and x, when special without x)
    let triads = [
        (0o400, 0o200, 0o100, 0o4000, 's', 'S'),
        (0o040, 0o020, 0o010, 0o2000, 's', 'S'),
        (0o004, 0o002, 0o001, 0o1000, 't', 'T'),
    ];
    for (r, w, x, special, with_x, without_x) in triads {
        out.push(if mode & r != 0 { 'r' } else { '-' });
        out.push(if mode & w != 0 { 'w' } else { '-' });
        out.push(match (mode & special != 0, mode & x != 0) {
            (true, true) => with_x,
            (true, false) => without_x,
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

    #[test]
    fn mode_strings() {
        assert_eq!(mode_string(Kind::File, 0o644), "-rw-r--r--");
        assert_eq!(mode_string(Kind::Dir, 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(Kind::File, 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string(Kind::File, 0o2640), "-rw-r-S---");
        assert_eq!(mode_string(Kind::Symlink, 0o777), "lrwxrwxrwx");
    }

    #[test]
    fn renders_every_attribute() {
        let m = Measured {
            entry: fake(
                b"cat (2).jpg",
                Some("albums/cat.jpg"),
                Some("2026-11-26T21:03:46Z"),
            ),
            size: 1536,
        };
        let text = render(&m, Some("ann"), None, |at| {
            at.format("%Y-%m-%d %H:%M").to_string()
        });
        assert_eq!(
            text,
            "\
name:          cat (2).jpg
path:          /mnt/g/.trash/cat (2).jpg
original path: gallery/albums/cat.jpg
reason:        deleted
kind:          file
deleted:       2026-11-26 21:03 (2026-11-26T21:03:46Z)
expires:       2026-12-26 21:03 (2026-12-26T21:03:46Z)
days left:     30d
size:          1.5 KiB (1536 bytes)
owner:         ann (1000)
group:         1000
mode:          0644 (-rw-r--r--)
"
        );
    }

    #[test]
    fn says_when_it_is_litter() {
        let mut entry = fake(b".x.swp", Some(".x.swp"), Some("2026-11-26T21:03:46Z"));
        entry.litter = true;
        let text = render(&Measured { entry, size: 0 }, None, None, |at| {
            at.format("%H:%M").to_string()
        });
        assert!(
            text.contains(
                "kind:          file\nlitter:        yes (a short-lived temporary file)\ndeleted:"
            ),
            "{text}"
        );
    }
}
