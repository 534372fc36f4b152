//! `healthcity surveillance run | signals | config`: the detection run over the stored counts
//! and the signal list, as the contract states them; and the server's jobs: the daily
//! detection run and the webhook delivery loop.

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

/// Parses `--run-at`: `HH:MM` (China time), or `off` for no daily run.
pub fn parse_run_at(s: &str) -> anyhow::Result<Option<chrono::NaiveTime>> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    chrono::NaiveTime::parse_from_str(s, "%H:%M")
        .map(Some)
        .with_context(|| format!("--run-at {s:?}: expected HH:MM or off"))
}

/// The next moment, strictly after `now`, that the clock in China (UTC+8) shows `at`.
pub fn next_run(
    now: chrono::DateTime<chrono::Utc>,
    at: chrono::NaiveTime,
) -> chrono::DateTime<chrono::Utc> {
    let offset = chrono::Duration::hours(8);
    let local = now + offset;
    let today = local.date_naive().and_time(at).and_utc() - offset;
    if today > now {
        today
    } else {
        today + chrono::Duration::days(1)
    }
}

/// Starts the server's background jobs: the daily detection run at `run_at` (if any) for that
/// day, and the webhook delivery loop every `every`. Webhook secrets are read from the
/// environment at each delivery, so a rotated secret needs no restart.
pub fn spawn_jobs(
    store: hc_store::Store,
    config: Arc<Config>,
    run_at: Option<chrono::NaiveTime>,
    every: std::time::Duration,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut jobs = Vec::new();
    if let Some(at) = run_at {
        let store = store.clone();
        jobs.push(tokio::spawn(async move {
            loop {
                let now = chrono::Utc::now();
                let next = next_run(now, at);
                tracing::info!(%next, "next daily detection run");
                let wait = (next - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let date = hc_app::today();
                match hc_app::surveillance::run(&store, &Caller::cli(), &config, date, None).await {
                    Ok(r) => tracing::info!(
                        run = r.run_id,
                        from = %r.from,
                        to = %r.to,
                        signals_new = r.signals_new,
                        events_new = r.events_new,
                        "daily detection run"
                    ),
                    Err(e) => tracing::error!("daily detection run up to {date} failed: {e}"),
                }
            }
        }));
    }
    let client = hc_app::webhooks::client()?;
    jobs.push(tokio::spawn(async move {
        let secret = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = hc_store::epoch_seconds();
            match hc_app::webhooks::deliver_due(&store, &client, now, &secret).await {
                Ok(r) if r.delivered + r.failed > 0 => tracing::info!(
                    delivered = r.delivered,
                    failed = r.failed,
                    "webhook deliveries"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!("webhook delivery: {e}"),
            }
        }
    }));
    Ok(jobs)
}

/// Gives the demo's older signals a response history (see `hc_app::workflow::demo_responses`).
pub async fn demo_responses(
    store: &hc_store::Store,
    today: NaiveDate,
    seed: u64,
) -> anyhow::Result<usize> {
    hc_app::workflow::demo_responses(store, today, seed)
        .await
        .context("writing the demo's response history")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone, Utc};

    #[test]
    fn the_daily_run_is_next_at_its_china_time() {
        let at = NaiveTime::from_hms_opt(2, 0, 0).unwrap();
        // 17:00 UTC is 01:00 in China: the run is in an hour (18:00 UTC).
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 17, 0, 0).unwrap();
        assert_eq!(
            next_run(now, at),
            Utc.with_ymd_and_hms(2026, 3, 1, 18, 0, 0).unwrap()
        );
        // Exactly at the time: the next day's.
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 18, 0, 0).unwrap();
        assert_eq!(
            next_run(now, at),
            Utc.with_ymd_and_hms(2026, 3, 2, 18, 0, 0).unwrap()
        );
        // 20:00 UTC is 04:00 the next day in China: tomorrow's 02:00 China time.
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 20, 0, 0).unwrap();
        assert_eq!(
            next_run(now, at),
            Utc.with_ymd_and_hms(2026, 3, 2, 18, 0, 0).unwrap()
        );
        assert_eq!(parse_run_at("off").unwrap(), None);
        assert_eq!(
            parse_run_at("23:30").unwrap(),
            NaiveTime::from_hms_opt(23, 30, 0)
        );
        assert!(parse_run_at("25:00").is_err());
    }
}
