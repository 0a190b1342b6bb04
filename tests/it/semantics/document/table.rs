//! The operation table of doc/SEMANTICS.md, parsed: one row per line,
//! each with its operation, place, example and outcomes, checked for being
//! well formed and for covering every operation and place.

use super::*;

pub(super) const DOCUMENT: &str = "doc/SEMANTICS.md";

/// The header of the operation table, cell by cell.
pub(super) const HEADER: [&str; 5] = ["operation", "place", "example", "outcome", "what happens"];

/// The places of the table: every row names one, and each has rows.
pub(super) const PLACES: [&str; 6] = [
    "mount root",
    "gallery/",
    ".trash/ (entries)",
    "inside a trashed directory",
    ".Trash-UID/files",
    ".Trash-UID/info",
];

/// The operations the table must cover.
pub(super) const OPERATIONS: [&str; 17] = [
    "lookup",
    "readdir",
    "read",
    "create",
    "mkdir",
    "mknod",
    "symlink",
    "open for write",
    "write",
    "truncate",
    "unlink",
    "rmdir",
    "rename within gallery",
    "rename over an existing file",
    "rename gallery→.trash",
    "rename .trash→gallery (restore)",
    "rename within .trash",
];

/// Operations that must have a row at every place.
pub(super) const AT_EVERY_PLACE: [&str; 6] =
    ["lookup", "readdir", "create", "mkdir", "unlink", "xattrs"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Ok,
    ToTrash,
    /// The content the call destroyed is an `overwritten` entry of the file.
    Kept,
    ToGallery,
    Deleted,
    Errno(i32),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok => write!(f, "ok"),
            Outcome::ToTrash => write!(f, "→ .trash"),
            Outcome::Kept => write!(f, "kept"),
            Outcome::ToGallery => write!(f, "→ gallery"),
            Outcome::Deleted => write!(f, "deleted"),
            Outcome::Errno(e) => write!(f, "{}", errno_name(*e)),
        }
    }
}

pub(super) struct Row {
    pub(super) line: usize,
    pub(super) operation: String,
    pub(super) place: String,
    pub(super) example: String,
    pub(super) outcomes: Vec<Outcome>,
}

impl Row {
    pub(super) fn at(&self) -> String {
        format!("{DOCUMENT}:{} `{}`", self.line, self.example)
    }
}

pub(super) fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

pub(super) fn parse_outcome(text: &str) -> Result<Vec<Outcome>, String> {
    let outcomes: Vec<Outcome> = text
        .replace('`', "")
        .split(',')
        .map(str::trim)
        .map(|word| match word {
            "ok" => Ok(Outcome::Ok),
            "→ .trash" => Ok(Outcome::ToTrash),
            "kept" => Ok(Outcome::Kept),
            "→ gallery" => Ok(Outcome::ToGallery),
            "deleted" => Ok(Outcome::Deleted),
            name => errno_from_name(name)
                .map(Outcome::Errno)
                .ok_or_else(|| format!("unknown outcome {name:?}")),
        })
        .collect::<Result<_, _>>()?;
    let errnos = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Errno(_)))
        .count();
    if errnos > 0 && outcomes.len() > 1 {
        return Err(format!(
            "an errno cannot be combined with another outcome: {text:?}"
        ));
    }
    if outcomes.contains(&Outcome::Ok) && outcomes.len() > 1 {
        return Err(format!(
            "`ok` cannot be combined with another outcome: {text:?}"
        ));
    }
    Ok(outcomes)
}

/// The rows of the operation table (the one with `HEADER`), or what is wrong with it.
pub(super) fn parse(text: &str) -> Result<Vec<Row>, Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with('|') && cells(l) == HEADER)
        .ok_or_else(|| vec![format!("{DOCUMENT} has no table headed {HEADER:?}")])?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(header + 2) {
        if !line.trim_start().starts_with('|') {
            break;
        }
        let n = i + 1;
        let c = cells(line);
        if c.len() != HEADER.len() {
            problems.push(format!(
                "{DOCUMENT}:{n}: {} cells, not {}",
                c.len(),
                HEADER.len()
            ));
            continue;
        }
        if !PLACES.contains(&c[1].as_str()) {
            problems.push(format!("{DOCUMENT}:{n}: unknown place {:?}", c[1]));
        }
        let parts: Vec<&str> = c[2].split('`').collect();
        if parts.len() != 3 || !parts[0].is_empty() || !parts[2].is_empty() {
            problems.push(format!(
                "{DOCUMENT}:{n}: the example must be one `backticked` call, not {:?}",
                c[2]
            ));
            continue;
        }
        match parse_outcome(&c[3]) {
            Ok(outcomes) => rows.push(Row {
                line: n,
                operation: c[0].clone(),
                place: c[1].clone(),
                example: parts[1].to_string(),
                outcomes,
            }),
            Err(e) => problems.push(format!("{DOCUMENT}:{n}: {e}")),
        }
    }
    for op in OPERATIONS.iter().chain(&AT_EVERY_PLACE) {
        if !rows.iter().any(|r| r.operation == *op) {
            problems.push(format!("{DOCUMENT}: no row for the operation {op:?}"));
        }
    }
    for op in AT_EVERY_PLACE {
        for place in PLACES {
            if !rows.iter().any(|r| r.operation == op && r.place == place) {
                problems.push(format!("{DOCUMENT}: no row for {op} at {place}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}
