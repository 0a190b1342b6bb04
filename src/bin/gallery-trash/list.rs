//! `gallery-trash list`: the trash as a table (or JSON), with a footer.

use std::process::ExitCode;

use galleryfs::contract;
use serde_json::Value;

use crate::cli::ListArgs;
use crate::entries;
use crate::escape::escape;
use crate::json;
use crate::order;
use crate::report::{Report, describe};
use crate::resolve::Resolver;
use crate::space;
use crate::table::{self, Summary};

pub(crate) const EMPTY_TRASH: &str = "Trash is empty";

pub(crate) fn run(args: &ListArgs) -> ExitCode {
    let mut report = Report::new("list");
    let fs = match Resolver::new() {
        Ok(resolver) => match resolver.mount(args.mount.as_deref()) {
            Ok(fs) => fs,
            Err(message) => return report.usage(message),
        },
        Err(e) => {
            report.error(format!(
                "cannot read {}: {}",
                contract::MOUNTINFO,
                describe(&e)
            ));
            return report.exit_code();
        }
    };
    let found = match entries::read_all(&fs) {
        Ok(found) => found,
        Err(e) => {
            use std::os::unix::ffi::OsStrExt;
            report.error(format!(
                "cannot read {}: {}",
                escape(fs.trash_dir().as_os_str().as_bytes()),
                describe(&e)
            ));
            return report.exit_code();
        }
    };
    let mut rows = entries::measure(found);
    order::sort(&mut rows, args.sort, args.reverse);
    if args.json {
        let array = Value::Array(rows.iter().map(json::entry).collect());
        println!(
            "{}",
            serde_json::to_string_pretty(&array).unwrap_or_else(|_| "[]".into())
        );
    } else if rows.is_empty() {
        println!("{EMPTY_TRASH}");
    } else {
        print!("{}", table::render(&rows));
        let summary = Summary::of(&rows).with_space(space::read(&fs.trash_dir()));
        println!("{}", table::footer(&summary));
    }
    report.exit_code()
}
