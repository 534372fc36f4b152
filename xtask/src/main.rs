//! `cargo run -p xtask` (or `cargo test -p xtask`): checks that the code keeps the invariants
//! ARCHITECTURE.md states — which crate may depend on what, where SQL and the clock may
//! appear, and that the code map names every crate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Dependencies a crate must not have, with the reason.
const FORBIDDEN: &[(&str, &[&str], &str)] = &[
    (
        "hc-care",
        &[
            "sqlx",
            "axum",
            "tokio",
            "askama",
            "tracing-subscriber",
            "hc-store",
            "hc-app",
            "hc-web",
            "hc-demo",
        ],
        "primary-care rules are pure (a province's rules are data, tested without a database)",
    ),
    (
        "hc-core",
        &[
            "sqlx",
            "axum",
            "tokio",
            "askama",
            "tracing-subscriber",
            "hc-store",
            "hc-app",
            "hc-web",
            "hc-demo",
        ],
        "the domain core is pure",
    ),
    (
        "hc-detect",
        &[
            "sqlx",
            "axum",
            "tokio",
            "askama",
            "tracing-subscriber",
            "hc-core",
            "hc-store",
            "hc-app",
            "hc-web",
            "hc-demo",
        ],
        "the detection engine is pure and stands alone (it is checked against R)",
    ),
    (
        "hc-syndromes",
        &[
            "sqlx",
            "axum",
            "tokio",
            "askama",
            "tracing-subscriber",
            "hc-core",
            "hc-store",
            "hc-app",
            "hc-web",
            "hc-demo",
        ],
        "the syndromic classifier is pure and stands alone (its dictionary is data, tested without a database)",
    ),
    (
        "hc-geo",
        &[
            "sqlx",
            "axum",
            "tokio",
            "askama",
            "tracing-subscriber",
            "hc-core",
            "hc-store",
            "hc-app",
            "hc-web",
            "hc-demo",
        ],
        "the map geometry is pure and stands alone (GeoJSON in and SVG out are strings)",
    ),
    (
        "hc-store",
        &[
            "axum", "askama", "hc-app", "hc-web", "hc-demo", "clap", "anyhow",
        ],
        "storage knows nothing of use cases, HTTP or the CLI",
    ),
    (
        "hc-app",
        &["axum", "askama", "hc-web", "clap", "anyhow", "indicatif"],
        "use cases know nothing of HTTP or printing",
    ),
    (
        "hc-demo",
        &["axum", "askama", "hc-web", "clap", "anyhow"],
        "the generator is a library",
    ),
    (
        "hc-web",
        &["sqlx", "clap", "anyhow"],
        "handlers call hc-app and hc-store, never SQL",
    ),
];

/// Source patterns that may only appear in the named crates.
const CONFINED: &[(&str, &[&str], &str)] = &[
    (
        "sqlx::",
        &["hc-store"],
        "hc-store is the only crate with SQL",
    ),
    (
        "fn main(",
        &["healthcity", "xtask"],
        "healthcity is the only binary",
    ),
];

/// Source patterns a pure crate must not contain.
const IMPURE: &[&str] = &[
    "std::fs",
    "Utc::now",
    "Local::now",
    "SystemTime::now",
    "std::net",
    "std::env",
];
const PURE_CRATES: &[&str] = &["hc-core", "hc-detect", "hc-care", "hc-syndromes", "hc-geo"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn crates() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("crates"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every violation found, as a sentence each.
pub fn check() -> Vec<String> {
    let mut problems = Vec::new();
    let arch = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap_or_default();
    for (name, dir) in crates() {
        if !arch.contains(&format!("### `crates/{name}`")) {
            problems.push(format!(
                "ARCHITECTURE.md has no code-map entry \"### `crates/{name}`\""
            ));
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        let Ok(doc) = manifest.parse::<toml::Table>() else {
            problems.push(format!("crates/{name}/Cargo.toml does not parse"));
            continue;
        };
        if doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            != Some(name.as_str())
        {
            problems.push(format!(
                "crates/{name}: the folder name must be the crate name"
            ));
        }
        let deps: Vec<String> = doc
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        for (krate, banned, why) in FORBIDDEN {
            if *krate == name {
                for d in deps.iter().filter(|d| banned.contains(&d.as_str())) {
                    problems.push(format!("{name} depends on {d}, but {why}"));
                }
            }
        }
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let shown = f.strip_prefix(root()).unwrap_or(f).display().to_string();
            for (pattern, allowed, why) in CONFINED {
                if !allowed.contains(&name.as_str()) && text.contains(pattern) {
                    problems.push(format!("{shown} contains `{pattern}`: {why}"));
                }
            }
            if PURE_CRATES.contains(&name.as_str()) {
                for pattern in IMPURE {
                    if text.contains(pattern) {
                        problems.push(format!(
                            "{shown} contains `{pattern}`, but {name} is pure (no I/O, no clock)"
                        ));
                    }
                }
            }
        }
        if let Some(lib) = files.iter().find(|f| f.ends_with("src/lib.rs")) {
            let text = std::fs::read_to_string(lib).unwrap_or_default();
            if !text.starts_with("//!") || !text.contains("#![deny(missing_docs)]") {
                problems.push(format!(
                    "crates/{name}/src/lib.rs must open with a //! overview and deny missing docs"
                ));
            }
        }
    }
    problems
}

fn main() -> ExitCode {
    let problems = check();
    for p in &problems {
        eprintln!("tidy: {p}");
    }
    if problems.is_empty() {
        println!("tidy: ok");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tidy() {
        let problems = super::check();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn the_checks_can_fail() {
        // A crate list that misses the real crates would make every rule vacuous.
        let names: Vec<String> = super::crates().into_iter().map(|(n, _)| n).collect();
        for expected in [
            "hc-core",
            "hc-detect",
            "hc-store",
            "hc-app",
            "hc-web",
            "healthcity",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} not found in {names:?}"
            );
        }
    }
}
