//! Man pages and shell completions, generated from the commands' own
//! definitions so that they cannot drift from `--help`: `gallery-trash`'s
//! clap derive, and for `galleryfs` (whose argv parser is hand-written for
//! mount.fuse3's `SRC DIR -o opts` shape) a clap [`Command`] that mirrors
//! the parser's flags and takes every other word of its man page from
//! [`cli::usage`]. Nothing here parses a real command line.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command, ValueHint};
use clap_complete::Shell;

use crate::cli;

/// The shells whose completions are shipped (`/usr/share/…` in the .deb).
pub const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// Hidden `galleryfs` arguments (handled before [`cli::parse`]): print the
/// completions for a shell, write the man page into a directory.
pub const COMPLETIONS_ARG: &str = "--completions";
pub const MAN_PAGES_ARG: &str = "--man-pages";

/// A section a man page adds after clap's own: its title and roff body.
pub struct Section {
    pub title: String,
    pub roff: String,
}

/// `galleryfs`'s arguments as clap sees them: what [`cli::parse`] accepts.
/// The flags' help is the `Flags:` lines of `--help`.
pub fn galleryfs_command() -> Command {
    let usage = cli::usage();
    let help = |flag: &str| flag_help(&usage, flag);
    let flag = |id: &'static str, short: char| {
        Arg::new(id)
            .short(short)
            .action(ArgAction::SetTrue)
            .help(help(&format!("-{short}")))
    };
    Command::new("galleryfs")
        .version(env!("CARGO_PKG_VERSION"))
        .about("a trash-safe FUSE filesystem: deleted files wait in .trash/ to be restored")
        .long_about(description(&usage))
        .override_usage(synopsis(&usage))
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("STORAGE")
                .required(true)
                .value_hint(ValueHint::DirPath)
                .help("the directory that keeps the files, the trash and its catalog (created if missing)"),
        )
        .arg(
            Arg::new("MOUNTPOINT")
                .required(true)
                .value_hint(ValueHint::DirPath)
                .help("an existing directory to mount on"),
        )
        .arg(
            Arg::new("options")
                .short('o')
                .value_name("OPTION[,OPTION...]")
                .action(ArgAction::Append)
                .help(help("-o")),
        )
        .arg(flag("foreground", 'f'))
        .arg(flag("debug", 'd'))
        .arg(flag("single", 's'))
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help(help("-h")),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("print the version, the FUSE protocol and whether kernel passthrough is available, and exit"),
        )
}

/// `galleryfs(1)`'s sections after OPTIONS: the `-o` options, generic mount
/// options and fstab example of `--help`, verbatim.
pub fn galleryfs_sections() -> Vec<Section> {
    let usage = cli::usage();
    let mut mount_options = String::new();
    let mut fstab = String::new();
    for (heading, body) in blocks(&usage).into_iter().skip(2) {
        match heading {
            Some("Flags") => {}
            Some("fstab example") => fstab = preformatted(&body),
            Some(heading) => {
                mount_options += &format!(".SS \"{}\"\n{}", escape(heading), preformatted(&body));
            }
            None => mount_options += &format!(".PP\n{}\n", escape(&body.join(" "))),
        }
    }
    vec![
        Section {
            title: "MOUNT OPTIONS".into(),
            roff: mount_options,
        },
        Section {
            title: "FSTAB".into(),
            roff: format!(
                "{fstab}.PP\nmount(8) runs galleryfs for the type fuse.galleryfs through \
                 mount.fuse3, so galleryfs must be in root's PATH (/usr/bin or /usr/local/bin). \
                 Add \\fBuser,noauto\\fR for a mount its user may mount and unmount, \
                 \\fBallow_other\\fR for a mount made by root that other users may use, \
                 \\fBnofail\\fR so that a failed mount does not stop the boot.\n"
            ),
        },
        Section {
            title: "SEE ALSO".into(),
            roff: "gallery\\-trash(1), fusermount3(1), mount.fuse3(8), fstab(5)\n".into(),
        },
    ]
}

/// Renders one man page: clap_mangen's sections, then `extra`.
pub fn man_page(cmd: &Command, extra: &[Section]) -> io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out)?;
    }
    if cmd.get_after_long_help().is_some() {
        man.render_extra_section(&mut out)?;
    }
    for section in extra {
        writeln!(out, ".SH \"{}\"", escape(&section.title))?;
        out.extend_from_slice(section.roff.as_bytes());
    }
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Writes `NAME.1` for `cmd` (with `extra`) into `dir`, and `NAME-SUB.1` for
/// each visible subcommand, as `git` does. Returns the files written.
pub fn write_man_pages(cmd: Command, extra: &[Section], dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let path = dir.join(format!("{}.1", cmd.get_name()));
    std::fs::write(&path, man_page(&cmd, extra)?)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        written.push(clap_mangen::Man::new(sub.clone()).generate_to(dir)?);
    }
    Ok(written)
}

/// Prints `cmd`'s completion script for `shell`.
pub fn completions(mut cmd: Command, shell: Shell, out: &mut dyn Write) {
    let name = cmd.get_name().to_owned();
    clap_complete::generate(shell, &mut cmd, name, out);
}

/// The help of `flag` on its line in `--help`'s `Flags:` block
/// (`  -f              stay in the foreground`).
fn flag_help(usage: &str, flag: &str) -> String {
    blocks(usage)
        .into_iter()
        .filter(|(heading, _)| *heading == Some("Flags"))
        .flat_map(|(_, body)| body)
        .find_map(|line| {
            let (names, help) = line.trim_start().split_once("  ")?;
            let first = names.split([',', ' ']).next()?;
            (first == flag).then(|| help.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("galleryfs --help has no line for {flag}"))
}

/// `--help`'s `Usage:` lines, without the word.
fn synopsis(usage: &str) -> String {
    let block = blocks(usage)
        .into_iter()
        .next()
        .map(|(_, b)| b)
        .unwrap_or_default();
    block
        .iter()
        .map(|l| l.strip_prefix("Usage:").unwrap_or(l).trim())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `--help`'s description: its second paragraph, joined.
fn description(usage: &str) -> String {
    let blocks = blocks(usage);
    blocks
        .get(1)
        .map(|(_, body)| body.join(" "))
        .unwrap_or_default()
}

/// `--help` split at blank lines; a block whose first line is `Heading:`
/// (unindented) is that heading's, with the lines below it.
fn blocks(usage: &str) -> Vec<(Option<&str>, Vec<&str>)> {
    usage
        .split("\n\n")
        .map(|block| {
            let mut lines: Vec<&str> = block.lines().collect();
            match lines.first() {
                Some(first) if !first.starts_with(' ') && first.ends_with(':') => {
                    let heading = &first[..first.len() - 1];
                    lines.remove(0);
                    (Some(heading), lines)
                }
                _ => (None, lines),
            }
        })
        .collect()
}

/// Lines kept as they are (the option tables line up in columns).
fn preformatted(lines: &[&str]) -> String {
    let mut out = String::from(".PP\n.nf\n");
    for line in lines {
        out += &escape(line);
        out.push('\n');
    }
    out + ".fi\n"
}

/// Roff-escapes text: backslashes, minus signs (so that options can be
/// copied), and a leading `.` or `'`, which would start a request.
fn escape(text: &str) -> String {
    let body = text.replace('\\', "\\e").replace('-', "\\-");
    if body.starts_with(['.', '\'']) {
        format!("\\&{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command as Parsed;

    /// Every flag of `--help`'s `Flags:` block is in the clap mirror, and the
    /// mirror's flags are ones the real parser accepts.
    #[test]
    fn the_clap_mirror_has_the_parsers_flags() {
        let cmd = galleryfs_command();
        cmd.clone().debug_assert();
        let usage = cli::usage();
        let mut in_help = Vec::new();
        for (_, body) in blocks(&usage)
            .into_iter()
            .filter(|(h, _)| *h == Some("Flags"))
        {
            for line in body {
                let names = line.trim_start().split("  ").next().unwrap();
                for name in names.split(", ") {
                    in_help.push(name.split(' ').next().unwrap().to_owned());
                }
            }
        }
        let mut in_clap = Vec::new();
        for arg in cmd.get_arguments() {
            if let Some(s) = arg.get_short() {
                in_clap.push(format!("-{s}"));
            }
            if let Some(l) = arg.get_long() {
                in_clap.push(format!("--{l}"));
            }
        }
        for name in &in_help {
            assert!(
                in_clap.contains(name),
                "{name} of --help is not in the man page"
            );
        }
        for name in &in_clap {
            let parsed = match name.as_str() {
                "-o" => cli::parse(["-o", "ro", "/s", "/m"].map(Into::into)),
                _ => cli::parse([name.as_str(), "/s", "/m"].map(Into::into)),
            };
            assert!(
                matches!(
                    parsed,
                    Ok(Parsed::Mount(_) | Parsed::Help | Parsed::Version)
                ),
                "galleryfs does not accept {name}: {parsed:?}"
            );
        }
    }

    #[test]
    fn the_man_page_carries_the_option_tables_of_help() {
        let page =
            String::from_utf8(man_page(&galleryfs_command(), &galleryfs_sections()).unwrap())
                .unwrap();
        for needle in [
            ".SH \"MOUNT OPTIONS\"",
            "retention=DURATION",
            "allow_other",
            "auto_unmount",
            "fuse.galleryfs",
            "\\-f",
        ] {
            assert!(page.contains(needle), "galleryfs.1 lacks {needle:?}");
        }
        // No line of the tables starts a roff request by accident.
        assert!(page.lines().all(|l| !l.starts_with('\'')));
    }

    #[test]
    fn escape_guards_requests_and_backslashes() {
        assert_eq!(escape(".hidden"), "\\&.hidden");
        assert_eq!(escape("a\\b -x"), "a\\eb \\-x");
    }
}
