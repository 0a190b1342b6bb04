//! `gallery-trash versions PATH`: the entries whose original path is PATH
//! (deleted, replaced, overwritten), newest first, as a table or JSON.

use std::process::ExitCode;

use galleryfs::contract;

use crate::cli::VersionsArgs;
use crate::entries;
use crate::escape::escape;
use crate::json;
use crate::report::{Report, describe};
use crate::resolve::Resolver;
use crate::table;

pub(crate) fn run(args: &VersionsArgs) -> ExitCode {
    let mut report = Report::new("versions");
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
    let (_, original, found) = match resolver.versions(&args.path) {
        Ok(found) => found,
        Err(e) => {
            report.error(e);
            return report.exit_code();
        }
    };
    let rows = entries::measure(found);
    if args.json {
        let array: Vec<_> = rows.iter().map(json::entry).collect();
        println!("{}", json::array(&array));
    } else if !rows.is_empty() {
        print!("{}", table::render_versions(&rows));
        println!("{}", table::versions_footer(&rows, &original));
    }
    if rows.is_empty() {
        report.error(no_versions(&original));
    }
    report.exit_code()
}

/// `no versions of gallery/albums/cat.jpg in the trash`.
fn no_versions(original: &[u8]) -> String {
    format!(
        "no versions of {}/{} in the trash",
        contract::GALLERY,
        escape(original)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_says_which_path() {
        assert_eq!(
            no_versions(b"albums/cat.jpg"),
            "no versions of gallery/albums/cat.jpg in the trash"
        );
        assert_eq!(
            no_versions(b"bad\nname"),
            "no versions of gallery/bad\\nname in the trash"
        );
    }
}
