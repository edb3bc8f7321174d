//! The modules of the checks crate import one another without a cycle:
//! the catalogue lists the checks, the engine runs the catalogue, the checks
//! build on the toolkit, walk and view, and nothing below points back up.
//! A cycle is how "the engine names a check" or "a check reaches into the
//! engine" creeps back in, so it fails here, naming the cycle.
//!
//! Module A imports B when A's files say `crate::B` outside comments; the
//! files of a directory module (`checks/`, `net/`) count as that module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src` belongs to; `None` for `lib.rs`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib").then(|| name.to_string())
}

/// The code of a file without its comments (doc links name modules
/// without importing them).
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let code = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every module name following `crate::`, including each one of a
/// `crate::{a, b::c}` group.
fn referenced(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.insert(ident(item.trim()));
            }
        } else {
            out.insert(ident(after));
        }
        rest = after;
    }
    out
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut texts = Vec::new();
    for file in &files {
        if let Some(module) = module_of(&src, file) {
            edges.entry(module.clone()).or_default();
            let text = std::fs::read_to_string(file).expect("read");
            texts.push((module, without_comments(&text)));
        }
    }
    let modules: BTreeSet<String> = edges.keys().cloned().collect();
    for (module, code) in texts {
        for to in referenced(&code) {
            if to != module && modules.contains(&to) {
                edges.entry(module.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// A cycle of the graph, as the modules on it, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut done, &mut Vec::new()))
}

#[test]
fn the_module_graph_of_the_checks_crate_has_no_cycle() {
    let edges = graph();
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle: {}\n(graph: {edges:#?})", cycle.join(" -> "));
    }
}

#[test]
fn the_parser_sees_imports_and_the_finder_sees_cycles() {
    let code = without_comments(
        "use crate::{engine::x, view};\n// crate::model\nlet a = crate::tls::f();",
    );
    let got: Vec<String> = referenced(&code).into_iter().collect();
    assert_eq!(got, ["engine", "tls", "view"]);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default();
    assert_eq!(find_cycle(&edges), None);
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

/// The layering the crate is built on, checked edge by edge so a new
/// upward import is caught even before it closes a cycle.
#[test]
fn lower_modules_do_not_import_the_ones_that_run_them() {
    let edges = graph();
    for low in ["toolkit", "checks", "view", "model", "finding", "walk"] {
        for high in ["engine", "catalogue"] {
            assert!(
                !edges.get(low).is_some_and(|e| e.contains(high)),
                "{low} imports {high}"
            );
        }
    }
}

/// The topology walk runs once per stage, in `StageCtx::walk`: a check
/// that called `walk::walk` itself would walk again and report its stops
/// twice over. Only the toolkit may call it.
#[test]
fn only_the_toolkit_runs_the_walk() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        if rel == Path::new("toolkit.rs") || rel == Path::new("walk.rs") {
            continue;
        }
        let code = without_comments(&std::fs::read_to_string(&file).expect("read"));
        for needle in ["walk::walk", "walk::{walk", ", walk}", ", walk,"] {
            assert!(
                !code.contains(needle),
                "{} calls the walk itself ({needle}); use StageCtx::walk or Findings::walked",
                rel.display()
            );
        }
    }
}
