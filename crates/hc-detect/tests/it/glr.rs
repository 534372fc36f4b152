//! Tests of `glr` beyond the shared R reference cases: `test_data/glr/` (made by
//! `test_data/glr/make_glr.R`) checks μ₀, `ret=cases`, trends, more harmonics, decreases, a
//! fixed overdispersion, windows, known change sizes, the epidemic chart and daily data.

use crate::support::check_manifest;

#[test]
fn glrnb_extra_cases_match_r() {
    check_manifest("glr/manifest.tsv", "glrnb");
}

#[test]
fn glrpois_extra_cases_match_r() {
    check_manifest("glr/manifest.tsv", "glrpois");
}
