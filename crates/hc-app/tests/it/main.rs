//! Use-case tests on SQLite and, when `HEALTHCITY_TEST_POSTGRES` is set, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod care;
mod feeds;
mod import;
mod registry;
mod surveillance;
mod workflow;

use chrono::NaiveDate;
use hc_app::import::{CsvRejects, ImportKind, ImportOptions, ImportReport};
use hc_store::Store;

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

pub const ORGUNITS: &str = "code,name,parent_code,level,valid_from,valid_to\n\
440300,深圳市,440000,city,,\n\
440305,南山区,440300,district,,\n\
440305001,南头街道,440305,street,,\n\
440305001001,南头社区,440305001,community,,\n\
440305001002,前海社区,440305001,community,2020-01-01,\n";

/// Imports `csv` and returns the report and the reject file's text.
pub async fn import(
    store: &Store,
    kind: ImportKind,
    csv: &str,
    batch_size: usize,
) -> (ImportReport, String) {
    let mut opts = ImportOptions::new("test.csv");
    opts.today = today();
    opts.batch_size = batch_size;
    let mut sink = CsvRejects::new(Vec::new());
    let report = hc_app::import::import(
        store,
        kind,
        std::io::Cursor::new(csv.as_bytes().to_vec()),
        &opts,
        &mut sink,
        &|_| {},
    )
    .await
    .unwrap();
    (report, String::from_utf8(sink.finish().unwrap()).unwrap())
}
