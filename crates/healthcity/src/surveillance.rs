//! `healthcity surveillance run | signals | config`: the detection run over the stored counts
//! and the signal list, as the contract states them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use hc_app::audit::Caller;
use hc_surveillance::Config;
use hc_syndromes::DiseaseList;

/// The stream configuration: `path` (TOML) or the built-in one.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let diseases = DiseaseList::builtin().context("the built-in disease list")?;
    match path {
        None => Ok(Config::builtin()?),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the stream configuration {}", p.display()))?;
            Config::from_toml(&text, &diseases).with_context(|| format!("{}", p.display()))
        }
    }
}

/// `surveillance run`.
pub async fn run(
    store: &hc_store::Store,
    date: Option<NaiveDate>,
    from: Option<NaiveDate>,
    streams: Option<PathBuf>,
) -> anyhow::Result<()> {
    let config = Arc::new(load_config(streams.as_deref())?);
    let date = date.unwrap_or_else(hc_app::today);
    let report = hc_app::surveillance::run(store, &Caller::cli(), &config, date, from)
        .await
        .with_context(|| format!("running detection up to {date}"))?;
    println!(
        "run {} ({} to {}, configuration {}): {} streams, {} periods evaluated, {} alarms; \
         {} new signals, {} extended; {} new events, {} changed \
         (read {:.2}s, evaluate {:.2}s, write {:.2}s)",
        report.run_id,
        report.from,
        report.to,
        report.config_version,
        report.streams,
        report.evaluations,
        report.alarms,
        report.signals_new,
        report.signals_updated,
        report.events_new,
        report.events_updated,
        report.seconds.read,
        report.seconds.evaluate,
        report.seconds.write,
    );
    for s in &report.skipped {
        eprintln!(
            "skipped {} stream(s) of rule {} (e.g. {}): {}",
            s.streams, s.rule, s.example, s.reason
        );
    }
    for (c, n) in &report.unknown_communities {
        eprintln!("counts of unknown community {c} ({n} cases) were left out");
    }
    Ok(())
}

/// The demo's detection: two years of daily runs in one (the third year before them is the
/// history the weekly and moving-percentile rules need).
pub async fn demo_run(
    store: &hc_store::Store,
    today: NaiveDate,
) -> anyhow::Result<hc_app::surveillance::RunReport> {
    let config = Arc::new(Config::builtin()?);
    let from = today - chrono::Duration::days(729);
    hc_app::surveillance::run(store, &Caller::cli(), &config, today, Some(from))
        .await
        .context("running detection over the demo's feeds")
}

/// The contract's columns of `surveillance signals`.
pub const SIGNAL_COLUMNS: [&str; 12] = [
    "signal_id",
    "stream",
    "source",
    "syndrome",
    "area_code",
    "level",
    "date",
    "observed",
    "expected",
    "threshold",
    "method",
    "status",
];

/// `surveillance signals`.
pub async fn signals(
    store: &hc_store::Store,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: &str,
) -> anyhow::Result<()> {
    use std::io::Write;
    let rows = hc_app::surveillance::signals(store, &Caller::cli(), from, to)
        .await
        .context("listing signals")?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let num = |v: Option<f64>| {
        v.map(|x| format!("{}", (x * 1e4).round() / 1e4))
            .unwrap_or_default()
    };
    if format == "json" {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "signal_id": r.id,
                    "stream": r.stream,
                    "source": r.feed,
                    "syndrome": r.code,
                    "area_code": r.area_code,
                    "level": r.level,
                    "date": r.first_day,
                    "observed": r.observed,
                    "expected": r.expected,
                    "threshold": r.threshold,
                    "method": r.method,
                    "status": r.status,
                    "last_date": r.last_day,
                    "days": r.days,
                    "peak_date": r.peak_day,
                    "peak_observed": r.peak_observed,
                    "rule": r.rule,
                    "alert": r.alert,
                    "params": r.params,
                    "engine_version": r.engine_version,
                    "event_id": r.event_id,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
    } else {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(SIGNAL_COLUMNS)?;
        for r in &rows {
            w.write_record([
                r.id.to_string(),
                r.stream.clone(),
                r.feed.clone(),
                r.code.clone(),
                r.area_code.clone(),
                r.level.clone(),
                r.first_day.to_string(),
                num(Some(r.observed)),
                num(r.expected),
                num(r.threshold),
                r.method.clone(),
                r.status.clone(),
            ])?;
        }
        w.flush()?;
    }
    Ok(())
}
