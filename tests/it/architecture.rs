//! The crate's module graph has no cycles: read from the source, every
//! `crate::…`, `super::…` and `self::…` path is an edge between the two
//! modules one level below the deepest module the two ends share (sibling
//! files, or a directory's `mod.rs` and one of its children). Module
//! declarations and test code do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path below `crate`; `<mod>` stands for the items a directory's
/// `mod.rs` defines itself.
type ModPath = Vec<String>;

const OWN_ITEMS: &str = "<mod>";

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "bin" && name != "tests" {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// `src/fs/gallery.rs` → `[fs, gallery]`; `src/fs/mod.rs` → `[fs]`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, `mod` lines, `pub(in …)`
/// visibilities and its test module.
fn code(text: &str) -> String {
    let mut text = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .to_string();
    while let Some(i) = text.find("pub(in ") {
        let end = text[i..].find(')').map_or(text.len(), |e| i + e + 1);
        text.replace_range(i..end, "pub");
    }
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .filter(|l| !(l.starts_with("mod ") || l.starts_with("pub mod ") || l.contains(") mod ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Every module path the code names, resolved from module `me`.
fn references(me: &ModPath, code: &str) -> Vec<ModPath> {
    let mut out = Vec::new();
    let parent = me[..me.len().saturating_sub(1)].to_vec();
    for (root, base) in [
        ("crate::", Vec::new()),
        ("super::", parent),
        ("self::", me.clone()),
    ] {
        let mut rest = code;
        while let Some(i) = rest.find(root) {
            let before = rest[..i].chars().last();
            rest = &rest[i + root.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            // `crate::a::b::{c, d}` or `crate::{a, b}`: the first two levels.
            let mut path = base.clone();
            let mut tail = rest;
            for _ in 0..3 {
                if let Some(group) = tail.strip_prefix('{') {
                    let group = &group[..group.find('}').unwrap_or(group.len())];
                    for item in group.split(',') {
                        let id = ident(item.trim());
                        if !id.is_empty() {
                            let mut p = path.clone();
                            p.push(id.to_string());
                            out.push(p);
                        }
                    }
                    path.clear();
                    break;
                }
                let id = ident(tail);
                if id.is_empty() {
                    break;
                }
                path.push(id.to_string());
                tail = &tail[id.len()..];
                match tail.strip_prefix("::") {
                    Some(t) => tail = t,
                    None => break,
                }
            }
            if !path.is_empty() {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn the_module_graph_has_no_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<ModPath> = files.iter().map(|f| module_of(&src, f)).collect();
    let is_module = |p: &[String]| modules.contains(p);
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for file in &files {
        let me = module_of(&src, file);
        if me == ["lib"] || me == ["main"] {
            continue;
        }
        let text = fs::read_to_string(file).unwrap();
        for target in references(&me, &code(&text)) {
            // The deepest module both ends are in, then one level below it:
            // a child module, or that module's own items.
            let shared = me.iter().zip(&target).take_while(|(a, b)| a == b).count();
            let level = |p: &ModPath| -> ModPath {
                let mut at = p[..shared].to_vec();
                match p.get(shared) {
                    Some(next) if is_module(&[at.clone(), vec![next.clone()]].concat()) => {
                        at.push(next.clone())
                    }
                    _ => at.push(OWN_ITEMS.into()),
                }
                at
            };
            let (from, to) = (level(&me), level(&target));
            if from != to && to != [OWN_ITEMS] {
                edges.entry(from).or_default().insert(to);
            }
        }
    }
    assert!(
        edges
            .keys()
            .any(|k| k == &["fs".to_string(), "gallery".to_string()]),
        "the scan found no edges from fs::gallery: {edges:#?}"
    );
    // Depth-first search for a back edge.
    fn visit(
        node: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        stack: &mut Vec<ModPath>,
        done: &mut BTreeSet<ModPath>,
        cycles: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(i) = stack.iter().position(|n| n == node) {
            let names: Vec<String> = stack[i..]
                .iter()
                .chain([node])
                .map(|p| p.join("::"))
                .collect();
            cycles.push(names.join(" -> "));
            return;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, stack, done, cycles);
        }
        stack.pop();
        done.insert(node.clone());
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        visit(node, &edges, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}
