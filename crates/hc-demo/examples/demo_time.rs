//! Times a demo build into a fresh SQLite file.
//!
//! `cargo run --release -p hc-demo --example demo_time -- /tmp/x.db 0.01 [seed]`
//! (the file, with its `-wal`/`-shm` companions, is replaced).

use std::time::Instant;

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: demo_time SQLITE_PATH [SCALE] [SEED]")?;
    let scale: f64 = args
        .next()
        .map_or(Ok(hc_demo::DEFAULT_SCALE), |s| s.parse())?;
    let seed: u64 = args
        .next()
        .map_or(Ok(hc_demo::DEFAULT_SEED), |s| s.parse())?;
    for suffix in ["", "-wal", "-shm"] {
        match std::fs::remove_file(format!("{path}{suffix}")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let store = hc_store::Store::connect(&format!("sqlite://{path}")).await?;
    store.migrate().await?;
    let opts = hc_demo::DemoOptions {
        scale,
        seed,
        ..hc_demo::DemoOptions::default()
    };
    println!(
        "building scale {scale} (seed {seed}): {} residents planned",
        hc_demo::planned_residents(scale)
    );
    let started = Instant::now();
    let stage_started = std::sync::Mutex::new((hc_demo::Stage::OrgUnits, Instant::now()));
    let report = hc_demo::build(&store, &opts, &|stage, done, total| {
        if let Ok(mut s) = stage_started.lock() {
            if done == 0 {
                *s = (stage, Instant::now());
            } else if done == total {
                println!(
                    "  {:<14} {total:>9} rows in {:>6.2} s",
                    stage.as_str(),
                    s.1.elapsed().as_secs_f64()
                );
            }
        }
    })
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    let rows = report.orgunits + report.institutions + report.practitioners + report.residents;
    println!("{report:?}");
    println!(
        "build: {elapsed:.2} s, {rows} rows, {:.0} rows/s ({:.0} residents/s)",
        rows as f64 / elapsed,
        report.residents as f64 / elapsed
    );
    let t = Instant::now();
    store.optimize().await?;
    println!("optimize: {:.2} s", t.elapsed().as_secs_f64());
    store.close().await;
    Ok(())
}
