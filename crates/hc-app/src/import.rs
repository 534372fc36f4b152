//! Bulk import of registry records from CSV.
//!
//! A reader thread parses and validates rows (pure `hc-core` rules) into batches and hands
//! them over a bounded channel, so memory stays bounded whatever the file size. Each batch is
//! checked against the registry (references, duplicates), compared with what is stored, and
//! written in one transaction: new records inserted, changed ones updated, identical ones left
//! alone — so importing the same file twice changes nothing. Every rejected row goes to a
//! [`RejectSink`] with its line number, the fields at fault and the reason.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::str::FromStr;

use chrono::NaiveDate;
use hc_core::model::*;
use hc_core::validate::{self, FieldError, Fields};
use hc_store::{Entity, Existing, Store, StoreError};
use serde::Serialize;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    /// Administrative units.
    OrgUnits,
    /// Institutions.
    Institutions,
    /// Practitioners.
    Practitioners,
    /// Residents.
    Residents,
}

impl ImportKind {
    /// The CLI / URL name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::OrgUnits => "orgunits",
            ImportKind::Institutions => "institutions",
            ImportKind::Practitioners => "practitioners",
            ImportKind::Residents => "residents",
        }
    }

    /// Columns the header must name.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::OrgUnits => &["code", "name", "parent_code", "level"],
            ImportKind::Institutions => &["code", "name", "kind", "community_code"],
            ImportKind::Practitioners => {
                &["id_type", "id_number", "name", "kind", "institution_code"]
            }
            ImportKind::Residents => &["id_type", "id_number", "name", "community_code"],
        }
    }
}

impl FromStr for ImportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "orgunits" => Ok(ImportKind::OrgUnits),
            "institutions" => Ok(ImportKind::Institutions),
            "practitioners" => Ok(ImportKind::Practitioners),
            "residents" => Ok(ImportKind::Residents),
            other => Err(format!(
                "unknown import kind {other:?}; expected orgunits|institutions|practitioners|residents"
            )),
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Rows per transaction.
    pub batch_size: usize,
    /// The date identity numbers and birth dates are checked against.
    pub today: NaiveDate,
    /// Where the rows come from (file name), recorded with the run.
    pub source: String,
}

impl ImportOptions {
    /// Defaults: 5,000 rows a batch, today's date.
    pub fn new(source: impl Into<String>) -> Self {
        ImportOptions {
            batch_size: 5_000,
            today: crate::today(),
            source: source.into(),
        }
    }
}

/// A rejected row.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    /// Line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The fields at fault, comma-separated (`row` for the row as a whole).
    pub field: String,
    /// Why, in plain words.
    pub reason: String,
    /// The row as read.
    #[serde(skip)]
    pub record: Vec<String>,
}

/// Receives the header and each rejected row.
pub trait RejectSink: Send {
    /// Called once with the file's header before any rejection.
    fn header(&mut self, columns: &[String]) -> std::io::Result<()>;
    /// Called for each rejected row, in file order.
    fn reject(&mut self, r: &Rejection) -> std::io::Result<()>;
}

/// Writes rejections as CSV: `line,field,reason` followed by the row's own columns, so the file
/// can be corrected and imported again as it is (unknown columns are ignored).
pub struct CsvRejects<W: std::io::Write + Send>(csv::Writer<W>);

impl<W: std::io::Write + Send> CsvRejects<W> {
    /// A sink writing to `w`.
    pub fn new(w: W) -> Self {
        // Flexible: a rejected row may have more or fewer fields than the header.
        CsvRejects(csv::WriterBuilder::new().flexible(true).from_writer(w))
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> std::io::Result<W> {
        self.0.into_inner().map_err(|e| e.into_error())
    }
}

impl<W: std::io::Write + Send> RejectSink for CsvRejects<W> {
    fn header(&mut self, columns: &[String]) -> std::io::Result<()> {
        let head = ["line", "field", "reason"]
            .into_iter()
            .map(str::to_owned)
            .chain(columns.iter().cloned());
        self.0.write_record(head).map_err(std::io::Error::other)
    }
    fn reject(&mut self, r: &Rejection) -> std::io::Result<()> {
        let row = [r.line.to_string(), r.field.clone(), r.reason.clone()]
            .into_iter()
            .chain(r.record.iter().cloned());
        self.0.write_record(row).map_err(std::io::Error::other)
    }
}

/// Keeps the first `limit` rejections in memory (for an HTTP response).
#[derive(Debug, Default)]
pub struct CollectRejects {
    /// The kept rejections.
    pub items: Vec<Rejection>,
    /// How many to keep.
    pub limit: usize,
}

impl RejectSink for CollectRejects {
    fn header(&mut self, _: &[String]) -> std::io::Result<()> {
        Ok(())
    }
    fn reject(&mut self, r: &Rejection) -> std::io::Result<()> {
        if self.items.len() < self.limit {
            self.items.push(r.clone());
        }
        Ok(())
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The import run's id.
    pub import_id: i64,
    /// Data rows read.
    pub rows: u64,
    /// New records stored.
    pub inserted: u64,
    /// Stored records changed.
    pub updated: u64,
    /// Rows identical to what was stored.
    pub unchanged: u64,
    /// Rows rejected.
    pub rejected: u64,
}

impl ImportReport {
    /// Rows accepted: inserted, updated or unchanged.
    pub fn accepted(&self) -> u64 {
        self.inserted + self.updated + self.unchanged
    }
}

/// Progress of a running import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Bytes of the file consumed.
    pub bytes: u64,
    /// Rows processed so far.
    pub rows: u64,
}

/// Why an import could not proceed. Row-level problems are never errors: they are rejections.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read as CSV.
    #[error("reading the file{}: {source}", .line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Read {
        /// Where reading stopped, if known.
        line: Option<u64>,
        /// The reader's error.
        source: csv::Error,
        /// What earlier batches committed before reading stopped (their rejects were sent).
        committed: ImportReport,
    },
    /// The header lacks required columns.
    #[error("the header lacks column(s) {}: a {kind} file needs {}", .missing.join(", "), .kind.required_columns().join(","))]
    MissingColumns {
        /// What was being imported.
        kind: ImportKind,
        /// The missing columns.
        missing: Vec<String>,
    },
    /// Writing a rejection failed.
    #[error("writing the rejects: {0}")]
    Rejects(std::io::Error),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl std::fmt::Display for ImportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Imports a CSV stream of `kind` into `store`.
pub async fn import<R: Read + Send + 'static>(
    store: &Store,
    kind: ImportKind,
    reader: R,
    opts: &ImportOptions,
    sink: &mut dyn RejectSink,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    match kind {
        ImportKind::OrgUnits => run::<OrgUnit, R>(store, reader, opts, sink, progress).await,
        ImportKind::Institutions => {
            run::<Institution, R>(store, reader, opts, sink, progress).await
        }
        ImportKind::Practitioners => {
            run::<Practitioner, R>(store, reader, opts, sink, progress).await
        }
        ImportKind::Residents => run::<Resident, R>(store, reader, opts, sink, progress).await,
    }
}

// ---------------------------------------------------------------------------------------------

/// Registry facts a batch is checked against, loaded once per import and grown as rows of the
/// file itself become referable (an org unit's parent, a group's lead institution).
#[derive(Default)]
struct Refs {
    units: HashMap<String, OrgLevel>,
    institutions: HashSet<String>,
    /// Natural keys seen in this file, for kinds whose rows are few (org units, institutions).
    seen_codes: HashMap<String, u64>,
}

/// A record kind the importer handles.
trait Importable: Entity + Clone + PartialEq + Send + Sync + 'static {
    const KIND: ImportKind;
    fn parse(f: &Row<'_>, today: NaiveDate) -> Result<Self, Vec<FieldError>>;
    /// Reference checks against the registry; records itself as referable when it passes.
    fn check_refs(&self, refs: &mut Refs) -> Vec<FieldError>;
    /// The identity document type of a person; empty for records keyed by code alone.
    fn id_kind(&self) -> &'static str;
    /// Whether `other` has the same identity (persons: the same document type too).
    fn same_identity(&self, other: &Self) -> bool {
        self.id_kind() == other.id_kind()
    }
    /// Whether the kind tracks duplicates by its import stamp (large kinds) or in memory.
    const STAMPED: bool;
    async fn load_refs(store: &Store, refs: &mut Refs) -> Result<(), StoreError>;
}

async fn load_units(store: &Store, refs: &mut Refs) -> Result<(), StoreError> {
    refs.units = store.orgunit_levels().await?.into_iter().collect();
    Ok(())
}

fn check_unit(refs: &Refs, field: &str, code: &str, level: OrgLevel) -> Option<FieldError> {
    match refs.units.get(code) {
        Some(l) if *l == level => None,
        Some(l) => Some(FieldError::new(
            field,
            format!("{code} is a {l}, not a {level}"),
        )),
        None => Some(FieldError::new(field, format!("unknown {level} {code}"))),
    }
}

impl Importable for OrgUnit {
    const KIND: ImportKind = ImportKind::OrgUnits;
    const STAMPED: bool = false;
    fn parse(f: &Row<'_>, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validate::parse_orgunit(f)
    }
    fn check_refs(&self, refs: &mut Refs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let (Some(parent), Some(level)) = (&self.parent_code, validate::parent_level(self.level))
        {
            errs.extend(check_unit(refs, "parent_code", parent, level));
        }
        if errs.is_empty() {
            refs.units.insert(self.code.clone(), self.level);
        }
        errs
    }
    fn id_kind(&self) -> &'static str {
        ""
    }
    async fn load_refs(store: &Store, refs: &mut Refs) -> Result<(), StoreError> {
        load_units(store, refs).await
    }
}

impl Importable for Institution {
    const KIND: ImportKind = ImportKind::Institutions;
    const STAMPED: bool = false;
    fn parse(f: &Row<'_>, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validate::parse_institution(f)
    }
    fn check_refs(&self, refs: &mut Refs) -> Vec<FieldError> {
        let mut errs: Vec<FieldError> = check_unit(
            refs,
            "community_code",
            &self.community_code,
            OrgLevel::Community,
        )
        .into_iter()
        .collect();
        if let Some(g) = &self.group_code
            && g != &self.code
            && !refs.institutions.contains(g)
        {
            let msg = format!(
                "unknown institution {g} (a group's lead must be registered or come earlier in the file)"
            );
            errs.push(FieldError::new("group_code", msg));
        }
        if errs.is_empty() {
            refs.institutions.insert(self.code.clone());
        }
        errs
    }
    fn id_kind(&self) -> &'static str {
        ""
    }
    async fn load_refs(store: &Store, refs: &mut Refs) -> Result<(), StoreError> {
        load_units(store, refs).await?;
        refs.institutions = store.institution_codes().await?.into_iter().collect();
        Ok(())
    }
}

impl Importable for Practitioner {
    const KIND: ImportKind = ImportKind::Practitioners;
    const STAMPED: bool = true;
    fn parse(f: &Row<'_>, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validate::parse_practitioner(f, today)
    }
    fn check_refs(&self, refs: &mut Refs) -> Vec<FieldError> {
        if refs.institutions.contains(&self.institution_code) {
            Vec::new()
        } else {
            vec![FieldError::new(
                "institution_code",
                format!("unknown institution {}", self.institution_code),
            )]
        }
    }
    fn id_kind(&self) -> &'static str {
        self.id_type.as_str()
    }
    async fn load_refs(store: &Store, refs: &mut Refs) -> Result<(), StoreError> {
        refs.institutions = store.institution_codes().await?.into_iter().collect();
        Ok(())
    }
}

impl Importable for Resident {
    const KIND: ImportKind = ImportKind::Residents;
    const STAMPED: bool = true;
    fn parse(f: &Row<'_>, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validate::parse_resident(f, today)
    }
    fn check_refs(&self, refs: &mut Refs) -> Vec<FieldError> {
        check_unit(
            refs,
            "community_code",
            &self.community_code,
            OrgLevel::Community,
        )
        .into_iter()
        .collect()
    }
    fn id_kind(&self) -> &'static str {
        self.id_type.as_str()
    }
    async fn load_refs(store: &Store, refs: &mut Refs) -> Result<(), StoreError> {
        load_units(store, refs).await
    }
}

/// One CSV row's fields by column name.
struct Row<'a> {
    columns: &'a HashMap<String, usize>,
    values: &'a [String],
}

impl Fields for Row<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        let i = *self.columns.get(name)?;
        self.values
            .get(i)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

struct Parsed<T> {
    line: u64,
    values: Vec<String>,
    result: Result<T, Vec<FieldError>>,
}

struct Batch<T> {
    rows: Vec<Parsed<T>>,
    bytes: u64,
}

enum Message<T> {
    Header(Vec<String>),
    Batch(Batch<T>),
}

fn reject_of(line: u64, values: Vec<String>, errs: &[FieldError]) -> Rejection {
    let mut fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    fields.dedup();
    Rejection {
        line,
        field: fields.join(","),
        reason: errs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        record: values,
    }
}

/// The reader thread: parses the CSV into validated batches.
fn read_batches<T: Importable, R: Read>(
    reader: R,
    batch_size: usize,
    today: NaiveDate,
    tx: tokio::sync::mpsc::Sender<Result<Message<T>, ImportError>>,
) {
    let send = |m: Result<Message<T>, ImportError>| tx.blocking_send(m).is_ok();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    // Header.
    match rdr.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            send(Err(ImportError::MissingColumns {
                kind: T::KIND,
                missing: T::KIND
                    .required_columns()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            }));
            return;
        }
        Err(source) => {
            send(Err(ImportError::Read {
                line: Some(1),
                source,
                committed: ImportReport::default(),
            }));
            return;
        }
    }
    let header: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let s = String::from_utf8_lossy(f);
            let s = if i == 0 {
                s.trim_start_matches('\u{feff}')
            } else {
                &s
            };
            s.trim().to_owned()
        })
        .collect();
    let missing: Vec<String> = T::KIND
        .required_columns()
        .iter()
        .filter(|c| !header.iter().any(|h| h == *c))
        .map(|c| c.to_string())
        .collect();
    if !missing.is_empty() {
        send(Err(ImportError::MissingColumns {
            kind: T::KIND,
            missing,
        }));
        return;
    }
    let mut columns = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        columns.entry(h.clone()).or_insert(i);
    }
    if !send(Ok(Message::Header(header.clone()))) {
        return;
    }
    let mut rows = Vec::with_capacity(batch_size);
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(source) => {
                let line = source.position().map(|p| p.line());
                if !rows.is_empty() {
                    let bytes = rdr.position().byte();
                    send(Ok(Message::Batch(Batch {
                        rows: std::mem::take(&mut rows),
                        bytes,
                    })));
                }
                send(Err(ImportError::Read {
                    line,
                    source,
                    committed: ImportReport::default(),
                }));
                return;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
            continue; // a blank line
        }
        let mut values = Vec::with_capacity(record.len());
        let mut errs = Vec::new();
        for (i, f) in record.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) => values.push(s.to_owned()),
                Err(_) => {
                    let col = header
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("column {}", i + 1));
                    errs.push(FieldError::new(col, "is not valid UTF-8"));
                    values.push(String::from_utf8_lossy(f).into_owned());
                }
            }
        }
        if record.len() != header.len() {
            errs.push(FieldError::new(
                "row",
                format!(
                    "has {} fields, the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
        }
        // Parse even a malformed row, so its rejection lists every fault at once.
        let result = match T::parse(
            &Row {
                columns: &columns,
                values: &values,
            },
            today,
        ) {
            Ok(rec) if errs.is_empty() => Ok(rec),
            Ok(_) => Err(errs),
            Err(more) => {
                errs.extend(more);
                Err(errs)
            }
        };
        rows.push(Parsed {
            line,
            values,
            result,
        });
        if rows.len() >= batch_size {
            let bytes = rdr.position().byte();
            if !send(Ok(Message::Batch(Batch {
                rows: std::mem::replace(&mut rows, Vec::with_capacity(batch_size)),
                bytes,
            }))) {
                return;
            }
        }
    }
    if !rows.is_empty() {
        let bytes = rdr.position().byte();
        send(Ok(Message::Batch(Batch { rows, bytes })));
    }
}

async fn run<T: Importable, R: Read + Send + 'static>(
    store: &Store,
    reader: R,
    opts: &ImportOptions,
    sink: &mut dyn RejectSink,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let (batch_size, today) = (opts.batch_size.max(1), opts.today);
    let reader_task =
        tokio::task::spawn_blocking(move || read_batches::<T, R>(reader, batch_size, today, tx));

    let mut refs = Refs::default();
    T::load_refs(store, &mut refs).await?;
    let import_id = store.start_import(T::KIND.as_str(), &opts.source).await?;
    let mut report = ImportReport {
        import_id,
        ..Default::default()
    };
    let mut outcome = Ok(());
    while let Some(msg) = rx.recv().await {
        match msg {
            Ok(Message::Header(h)) => sink.header(&h).map_err(ImportError::Rejects)?,
            Ok(Message::Batch(batch)) => {
                report.rows += batch.rows.len() as u64;
                write_batch(store, batch.rows, import_id, &mut refs, &mut report, sink).await?;
                progress(Progress {
                    bytes: batch.bytes,
                    rows: report.rows,
                });
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    drop(rx);
    let _ = reader_task.await;
    store
        .finish_import(
            import_id,
            report.inserted,
            report.updated,
            report.unchanged,
            report.rejected,
        )
        .await?;
    outcome.map(|()| report).map_err(|e| match e {
        ImportError::Read { line, source, .. } => ImportError::Read {
            line,
            source,
            committed: report,
        },
        other => other,
    })
}

async fn write_batch<T: Importable>(
    store: &Store,
    rows: Vec<Parsed<T>>,
    import_id: i64,
    refs: &mut Refs,
    report: &mut ImportReport,
    sink: &mut dyn RejectSink,
) -> Result<(), ImportError> {
    let mut rejections: Vec<Rejection> = Vec::new();
    let mut valid: Vec<(u64, Vec<String>, T)> = Vec::with_capacity(rows.len());
    // Keys seen in this batch: duplicates within the file are refused, not merged.
    let mut in_batch: HashMap<(String, &'static str), u64> = HashMap::new();
    for row in rows {
        let rec = match row.result {
            Ok(r) => r,
            Err(errs) => {
                rejections.push(reject_of(row.line, row.values, &errs));
                continue;
            }
        };
        let identity = (rec.key().to_owned(), rec.id_kind());
        if let Some(first) = in_batch.get(&identity).copied().or_else(|| {
            (!T::STAMPED)
                .then(|| refs.seen_codes.get(rec.key()).copied())
                .flatten()
        }) {
            let field = if T::STAMPED { "id_number" } else { "code" };
            rejections.push(reject_of(
                row.line,
                row.values,
                &[FieldError::new(
                    field,
                    format!("duplicates line {first} of this file"),
                )],
            ));
            continue;
        }
        let errs = rec.check_refs(refs);
        if !errs.is_empty() {
            rejections.push(reject_of(row.line, row.values, &errs));
            continue;
        }
        in_batch.insert(identity, row.line);
        if !T::STAMPED {
            refs.seen_codes.insert(rec.key().to_owned(), row.line);
        }
        valid.push((row.line, row.values, rec));
    }

    let started = std::time::Instant::now();
    let keys: Vec<&str> = valid.iter().map(|(_, _, r)| r.key()).collect();
    let existing: Vec<Existing<T>> = if keys.is_empty() {
        Vec::new()
    } else {
        store.existing::<T>(&keys).await?
    };
    let mut by_key: HashMap<&str, Vec<&Existing<T>>> = HashMap::new();
    for e in &existing {
        by_key.entry(e.stored.record.key()).or_default().push(e);
    }
    // Records to insert are kept apart from their line and values, so the batch write can
    // borrow them as a slice without copying each record.
    let mut ins: Vec<T> = Vec::new();
    let mut ins_rows: Vec<(u64, Vec<String>)> = Vec::new();
    let mut updates: Vec<(u64, Vec<String>, i64, T)> = Vec::new();
    let mut unchanged: Vec<i64> = Vec::new();
    for (line, values, rec) in valid {
        let found = by_key
            .get(rec.key())
            .and_then(|v| v.iter().find(|e| e.stored.record.same_identity(&rec)));
        match found {
            None => {
                ins.push(rec);
                ins_rows.push((line, values));
            }
            Some(e) if T::STAMPED && e.import_id == Some(import_id) => {
                let r = FieldError::new("id_number", "duplicates an earlier line of this file");
                rejections.push(reject_of(line, values, &[r]));
            }
            Some(e) if e.stored.record == rec => {
                report.unchanged += 1;
                unchanged.push(e.stored.id);
            }
            Some(e) => updates.push((line, values, e.stored.id, rec)),
        }
    }

    let looked_up = started.elapsed();
    let upd: Vec<(i64, &T)> = updates.iter().map(|(_, _, id, r)| (*id, r)).collect();
    let (inserts_n, updates_n) = (ins.len(), upd.len());
    match store.write_batch(&ins, &upd, Some(import_id)).await {
        Ok(out) => {
            report.inserted += out.inserted;
            report.updated += out.updated;
        }
        Err(StoreError::Conflict { .. }) => {
            // Something changed underneath (a concurrent writer): write row by row so each
            // failure is rejected with its own reason and the rest still lands.
            let refused = |constraint: String| {
                [FieldError::new(
                    "row",
                    format!("refused by the database ({constraint})"),
                )]
            };
            for ((line, values), rec) in ins_rows.into_iter().zip(&ins) {
                match store
                    .write_batch(std::slice::from_ref(rec), &[], Some(import_id))
                    .await
                {
                    Ok(out) => report.inserted += out.inserted,
                    Err(StoreError::Conflict { constraint }) => {
                        rejections.push(reject_of(line, values, &refused(constraint)))
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            for (line, values, id, rec) in updates {
                match store
                    .write_batch::<T>(&[], &[(id, &rec)], Some(import_id))
                    .await
                {
                    Ok(out) => report.updated += out.updated,
                    Err(StoreError::Conflict { constraint }) => {
                        rejections.push(reject_of(line, values, &refused(constraint)))
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Err(e) => return Err(e.into()),
    }
    // Identical rows write nothing but the import stamp, so that a later copy of the same
    // identity in this file is still recognised as a duplicate.
    store.stamp::<T>(&unchanged, import_id).await?;
    tracing::debug!(
        kind = %T::KIND,
        lookup_ms = looked_up.as_millis() as u64,
        write_ms = (started.elapsed() - looked_up).as_millis() as u64,
        inserted = inserts_n,
        updated = updates_n,
        "batch written"
    );
    rejections.sort_by_key(|r| r.line);
    for r in &rejections {
        sink.reject(r).map_err(ImportError::Rejects)?;
    }
    report.rejected += rejections.len() as u64;
    Ok(())
}
