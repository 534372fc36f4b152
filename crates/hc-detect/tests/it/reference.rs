//! R `surveillance` 1.20.3 cases: `test_data/surveillance/manifest.tsv`.

use crate::support::check_manifest;

fn check(method: &str) {
    check_manifest("surveillance/manifest.tsv", method);
}

#[test]
fn farrington_flexible() {
    check("farrington-flexible");
}

#[test]
fn ears() {
    check("ears");
}

#[test]
fn cusum() {
    check("cusum");
}

#[test]
fn glrnb() {
    check("glrnb");
}

#[test]
fn glrpois() {
    check("glrpois");
}

#[test]
fn bayes() {
    check("bayes");
}

#[test]
fn rki() {
    check("rki");
}
