//! `healthcity`: the HealthCity command line and server.
//!
//! Exit codes: 0 success; 1 failure (bad settings, database unreachable, a command failed, a
//! series that `detect` could not evaluate, rows that `programs evaluate` or
//! `syndromes classify` left out); 2 an input file that cannot be read, bad method parameters,
//! an unusable rules file or dictionary, or a GeoJSON file `shapes import` cannot use.

use hc_app::audit::Caller;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use hc_app::import::{CsvRejects, ImportError, ImportKind, ImportOptions};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

mod analysis;
mod config;
mod surveillance;
mod syndromes;

use config::{Config, RawArgs};

/// 健康城市平台 HealthCity: the health information platform of a city.
#[derive(Parser, Debug)]
#[command(name = "healthcity", version, about, long_about = None)]
struct Cli {
    /// Database URL: sqlite://PATH (created if absent) or postgres://USER@HOST/DB.
    /// [default: sqlite://healthcity.db]
    #[arg(long, global = true, env = "HEALTHCITY_DATABASE")]
    database: Option<String>,
    /// Settings file. [default: ./healthcity.toml when present]
    #[arg(long, global = true, env = "HEALTHCITY_CONFIG")]
    config: Option<PathBuf>,
    /// Largest JSON request body in bytes. [default: 1048576]
    #[arg(long, global = true, env = "HEALTHCITY_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Largest CSV upload in bytes. [default: 67108864]
    #[arg(long, global = true, env = "HEALTHCITY_MAX_IMPORT_BYTES")]
    max_import_bytes: Option<usize>,
    /// Mark session cookies Secure (serve behind HTTPS). [default: false]
    #[arg(long, global = true, env = "HEALTHCITY_SECURE_COOKIES")]
    secure_cookies: Option<bool>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct ListenArg {
    /// Address to serve on. [default: 127.0.0.1:8080]
    #[arg(long, env = "HEALTHCITY_LISTEN")]
    listen: Option<String>,
}

#[derive(Args, Debug, Clone)]
struct ScheduleArg {
    /// When the server runs detection each day (HH:MM, China time), or `off`.
    #[arg(long, env = "HEALTHCITY_RUN_AT", default_value = "02:00")]
    run_at: String,
    /// The stream configuration of the daily run (TOML). [default: the built-in one]
    #[arg(long, env = "HEALTHCITY_STREAMS")]
    streams: Option<PathBuf>,
    /// Seconds between webhook delivery rounds.
    #[arg(long, env = "HEALTHCITY_DELIVER_EVERY", default_value_t = 10)]
    deliver_every: u64,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the synthetic demo city (Shenzhen), then serve its web UI.
    Demo {
        /// Share of the real population to generate: 0.01 ≈ 175,000 residents, 1.0 = 17.5 million.
        #[arg(long, default_value_t = hc_demo::DEFAULT_SCALE)]
        scale: f64,
        /// Random seed; the same seed and scale give the same city.
        #[arg(long, default_value_t = hc_demo::DEFAULT_SEED)]
        seed: u64,
        /// Only build the database; do not serve.
        #[arg(long)]
        no_serve: bool,
        #[command(flatten)]
        listen: ListenArg,
        #[command(flatten)]
        schedule: ScheduleArg,
    },
    /// Serve the web UI and the API; run detection daily and deliver webhook notifications.
    Serve {
        #[command(flatten)]
        listen: ListenArg,
        #[command(flatten)]
        schedule: ScheduleArg,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Import a CSV file: orgunits, institutions, practitioners or residents.
    Import {
        /// What the file holds: orgunits, institutions, practitioners, residents, or a
        /// surveillance feed (visits, cases, pharmacy-sales, absenteeism, lab-results).
        #[arg(value_parser = parse_kind)]
        kind: AnyKind,
        /// The CSV file (UTF-8, with or without BOM, header row).
        file: PathBuf,
        /// Where rejected rows go. [default: FILE.rejects.csv]
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Rows per transaction.
        #[arg(long, default_value_t = 20_000)]
        batch_size: usize,
    },
    /// Manage accounts (audited as the command line, `cli`).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage API tokens for systems (hospital information systems, pharmacy feeds).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Chronic-disease programs: run the follow-up rules on a CSV file (no database needed).
    Programs {
        #[command(subcommand)]
        action: ProgramsAction,
    },
    /// Surveillance: maintenance of the stored feeds.
    Surveillance {
        #[command(subcommand)]
        action: SurveillanceAction,
    },
    /// Print the primary-care indicators of a year: contract, key-population contract,
    /// fulfilment and renewal rates, hypertension and diabetes standardised management and
    /// control, elderly health management; with numerator and denominator.
    Indicators {
        /// Calendar year.
        #[arg(long)]
        year: i32,
        /// Org-unit code to report on (default: the city).
        #[arg(long)]
        org: Option<String>,
        /// Break the figures down by district, street, institution (社康) or community under
        /// `--org`.
        #[arg(long, value_parser = ["district", "street", "institution", "community"])]
        level: Option<String>,
        /// Output format.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
        /// The day the figures are as of (default: today); for reproducible reports.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
    },
    /// Map shapes of the org units: load a deployment's boundaries from GeoJSON, or write out
    /// the stored ones.
    Shapes {
        #[command(subcommand)]
        action: ShapesAction,
    },
    /// Syndromic surveillance: classify visits into syndromes from a CSV file (no database
    /// needed).
    Syndromes {
        #[command(subcommand)]
        action: syndromes::SyndromesAction,
    },
    /// Run an outbreak-detection method on counts from a CSV file (no database needed).
    Detect(analysis::DetectArgs),
    /// Estimate the instantaneous reproduction number Rt (Cori et al. 2013, as EpiEstim).
    Rt(analysis::RtArgs),
    /// Find space-time clusters of cases (Kulldorff's space-time permutation scan statistic).
    Scan(analysis::ScanArgs),
}

#[derive(Subcommand, Debug)]
enum UserAction {
    /// Create an account. With HEALTHCITY_PASSWORD set, that is its password; otherwise a
    /// one-time password is generated, printed, and must be changed at the first login.
    Add {
        username: String,
        /// admin, commission, district_bureau, cdc_analyst, institution_staff, family_doctor,
        /// inspector, auditor or resident.
        #[arg(long)]
        role: String,
        /// Org-unit code whose subtree the account sees (district_bureau, family_doctor, …).
        #[arg(long)]
        scope: Option<String>,
        /// Institution code the account works for.
        #[arg(long)]
        institution: Option<String>,
        /// For role resident: the resident's id.
        #[arg(long)]
        resident_id: Option<i64>,
        /// For family doctors and institution staff: the practitioner (id) whose account it
        /// is; a family doctor then sees only that practitioner's teams.
        #[arg(long)]
        practitioner_id: Option<i64>,
        /// Name shown in the UI.
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// List accounts.
    List,
    /// Replace the password with a printed one-time password; ends the account's sessions.
    ResetPassword { username: String },
    /// Give an account a new TOTP secret and print its enrolment URI (a lost authenticator, or
    /// an administrator from before second factors).
    ResetTotp { username: String },
    /// Stop an account from logging in; ends its sessions.
    Disable { username: String },
    /// Allow a disabled or locked account to log in again.
    Enable { username: String },
}

#[derive(Subcommand, Debug)]
enum SurveillanceAction {
    /// Re-classify the stored visits under a dictionary (the built-in one by default), moving
    /// the counts of those whose syndromes change. Visits already classified under its
    /// version are left alone, so an interrupted run can be started again.
    Reclassify {
        /// A TOML dictionary (see `healthcity syndromes dictionary`).
        #[arg(long)]
        dictionary: Option<PathBuf>,
        /// Visits per transaction.
        #[arg(long, default_value_t = 5_000)]
        batch_size: usize,
    },
    /// Run detection over every stream up to a day: from the day after the last run (or the
    /// first day late records changed, within the look-back), or from `--from`.
    Run {
        /// The last day to evaluate (default: today).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// The first day to evaluate (default: see above; a first run evaluates `--date` only).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// A stream configuration (TOML; see `healthcity surveillance config`).
        #[arg(long)]
        streams: Option<PathBuf>,
    },
    /// List the signals whose alarms overlap `--from`..`--to`, newest first.
    Signals {
        /// First day.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// csv (the contract's columns) or json (with the signal's details).
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
    /// Print the built-in stream configuration, to copy and edit.
    Config,
    /// Webhooks that signals, events and workflow steps are sent to (signed, retried).
    Webhook {
        #[command(subcommand)]
        action: WebhookAction,
    },
}

#[derive(Subcommand, Debug)]
enum WebhookAction {
    /// Add an endpoint. The payload is signed with HMAC-SHA256 under the secret held by the
    /// server's environment variable `--secret-env` (the secret itself is never stored).
    Add {
        /// Where to POST (https://…).
        #[arg(long)]
        url: String,
        /// The NAME of the environment variable that holds the secret.
        #[arg(long)]
        secret_env: String,
        /// Lowest alert colour sent: blue, yellow, orange, red.
        #[arg(long, default_value = "yellow")]
        min_alert: String,
        /// Only signals and events in this org unit's subtree. [default: the whole city]
        #[arg(long)]
        area: Option<String>,
    },
    /// List the endpoints with their pending, delivered and given-up notifications.
    List,
    /// Stop sending to an endpoint.
    Disable {
        /// The webhook's id (see `list`).
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
enum ShapesAction {
    /// Replace the stored shapes by those of a GeoJSON FeatureCollection of Polygon and
    /// MultiPolygon features, one per org unit (WGS 84 longitude/latitude). Nothing is written
    /// if any feature is unusable or names an org unit that is not registered.
    Import {
        /// The GeoJSON file.
        file: PathBuf,
        /// The feature property that holds the org-unit code.
        #[arg(long, default_value = "code")]
        code_property: String,
    },
    /// Write the stored shapes as a GeoJSON FeatureCollection (each code in property `code`).
    Export {
        /// Where to write it. [default: standard output]
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ProgramsAction {
    /// Classify each follow-up visit and say what it requires next and when.
    Evaluate(analysis::ProgramsArgs),
}

#[derive(Subcommand, Debug)]
enum TokenAction {
    /// Create a token; prints the token alone on standard output (it is shown only once).
    Create {
        /// The system it is for.
        #[arg(long)]
        name: String,
        /// Role code (not admin, auditor or resident).
        #[arg(long)]
        role: String,
        /// Org-unit code whose subtree it sees.
        #[arg(long)]
        scope: Option<String>,
        /// Institution code it speaks for.
        #[arg(long)]
        institution: Option<String>,
        /// Days until it expires.
        #[arg(long, default_value_t = 365)]
        expires_days: u32,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name or id.
    Revoke { token: String },
}

/// A registry file or a surveillance feed.
#[derive(Debug, Clone, Copy)]
enum AnyKind {
    Registry(ImportKind),
    Feed(hc_app::feeds::FeedKind),
}

fn parse_kind(s: &str) -> Result<AnyKind, String> {
    if let Ok(feed) = s.parse() {
        return Ok(AnyKind::Feed(feed));
    }
    s.parse().map(AnyKind::Registry).map_err(|_: String| {
        format!(
            "unknown import kind {s:?}; expected orgunits|institutions|practitioners|residents|{}",
            hc_app::feeds::FeedKind::ALL.map(|k| k.as_str()).join("|")
        )
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    // The analysis commands work on files alone: no settings, database or runtime.
    match &cli.command {
        Command::Detect(args) => return analysis::detect(args),
        Command::Rt(args) => return analysis::rt(args),
        Command::Scan(args) => return analysis::scan(args),
        Command::Programs {
            action: ProgramsAction::Evaluate(args),
        } => return analysis::programs_evaluate(args),
        Command::Syndromes { action } => return syndromes::run(action),
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HEALTHCITY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let listen = match &cli.command {
        Command::Demo { listen, .. } | Command::Serve { listen, .. } => listen.listen.clone(),
        _ => None,
    };
    let cfg = Config::from_raw(RawArgs {
        database: cli.database,
        listen,
        config: cli.config,
        max_body_bytes: cli.max_body_bytes,
        max_import_bytes: cli.max_import_bytes,
        secure_cookies: cli.secure_cookies,
    })?;
    let store = open(&cfg.database).await?;
    match cli.command {
        Command::Migrate => {
            println!("migrated {}", redact(&cfg.database));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { schedule, .. } => {
            serve(&cfg, store, &schedule).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            scale,
            seed,
            no_serve,
            schedule,
            ..
        } => {
            demo(&cfg, &store, scale, seed).await?;
            if !no_serve {
                serve(&cfg, store, &schedule).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            kind,
            file,
            rejects,
            batch_size,
        } => match kind {
            AnyKind::Registry(kind) => import(&store, kind, file, rejects, batch_size).await,
            AnyKind::Feed(kind) => import_feed(&store, kind, file, rejects, batch_size).await,
        },
        Command::User { action } => {
            user(&store, &cfg.web.policy, action).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { action } => {
            token(&store, action).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Surveillance { action } => match action {
            SurveillanceAction::Reclassify {
                dictionary,
                batch_size,
            } => reclassify(&store, dictionary, batch_size).await,
            SurveillanceAction::Run {
                date,
                from,
                streams,
            } => {
                surveillance::run(&store, date, from, streams).await?;
                Ok(ExitCode::SUCCESS)
            }
            SurveillanceAction::Signals { from, to, format } => {
                surveillance::signals(&store, from, to, &format).await?;
                Ok(ExitCode::SUCCESS)
            }
            SurveillanceAction::Config => {
                print!("{}", hc_surveillance::config::BUILTIN);
                Ok(ExitCode::SUCCESS)
            }
            SurveillanceAction::Webhook { action } => {
                webhook(&store, action).await?;
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Indicators {
            year,
            org,
            level,
            format,
            today,
        } => {
            indicators(&store, &cfg.care, year, org, level, &format, today).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Shapes {
            action:
                ShapesAction::Import {
                    file,
                    code_property,
                },
        } => shapes_import(&store, &file, &code_property).await,
        Command::Shapes {
            action: ShapesAction::Export { output },
        } => shapes_export(&store, output.as_deref()).await,
        Command::Detect(args) => Ok(analysis::detect(&args)),
        Command::Programs {
            action: ProgramsAction::Evaluate(args),
        } => Ok(analysis::programs_evaluate(&args)),
        Command::Rt(args) => Ok(analysis::rt(&args)),
        Command::Scan(args) => Ok(analysis::scan(&args)),
        Command::Syndromes { action } => Ok(syndromes::run(&action)),
    }
}

/// `healthcity indicators`: every primary-care indicator of `year`, as CSV
/// (`indicator,org_code,org_name,numerator,denominator,value`) or JSON.
async fn indicators(
    store: &hc_store::Store,
    care: &hc_app::care::CareSettings,
    year: i32,
    org: Option<String>,
    level: Option<String>,
    format: &str,
    today: Option<chrono::NaiveDate>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let period = hc_app::care::Period::year(year).context("--year: not a calendar year")?;
    let level = level.as_deref().and_then(hc_app::care::Level::parse);
    let rows = hc_app::care::indicators(
        store,
        &hc_app::audit::Caller::cli(),
        care,
        period,
        org.as_deref(),
        level,
        today.unwrap_or_else(hc_app::today),
    )
    .await
    .with_context(|| format!("computing the indicators of {year}"))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if format == "json" {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "indicator",
            "org_code",
            "org_name",
            "numerator",
            "denominator",
            "value",
        ])?;
        for r in &rows {
            w.write_record([
                r.indicator.to_owned(),
                r.org_code.clone(),
                r.org_name.clone(),
                r.numerator.to_string(),
                r.denominator.to_string(),
                r.value.map(|v| format!("{v:.4}")).unwrap_or_default(),
            ])?;
        }
        w.flush()?;
    }
    Ok(())
}

/// `healthcity shapes import`: replaces the stored shapes by the file's, once every feature is
/// usable and names a registered org unit. Exit code 2 for a file that cannot be read, is not
/// usable GeoJSON or names unknown org units (nothing is written then).
async fn shapes_import(
    store: &hc_store::Store,
    file: &Path,
    code_property: &str,
) -> anyhow::Result<ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let shapes = match hc_geo::from_geojson(&text, code_property) {
        Ok(s) if s.is_empty() => {
            eprintln!(
                "error: {}: the FeatureCollection has no features",
                file.display()
            );
            return Ok(ExitCode::from(2));
        }
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let known: std::collections::HashSet<String> = store
        .orgunit_levels()
        .await?
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    let unknown: Vec<String> = shapes
        .iter()
        .enumerate()
        .filter(|(_, s)| !known.contains(&s.code))
        .map(|(i, s)| format!("features[{i}] (code {})", s.code))
        .collect();
    if !unknown.is_empty() {
        let more = unknown.len().saturating_sub(10);
        eprintln!(
            "error: {}: {} feature(s) name no registered org unit: {}{}",
            file.display(),
            unknown.len(),
            unknown[..unknown.len().min(10)].join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        return Ok(ExitCode::from(2));
    }
    let source = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let rows: Vec<hc_store::ShapeRow> = shapes
        .iter()
        .map(|s| hc_store::ShapeRow {
            code: s.code.clone(),
            geometry: s.geometry_json(),
            x: s.label[0],
            y: s.label[1],
            source: source.clone(),
        })
        .collect();
    store
        .put_shapes(&rows)
        .await
        .context("storing the shapes")?;
    Caller::cli()
        .record(
            store,
            hc_app::audit::Event::new("import", "org_shapes")
                .id(&source)
                .detail(format!("{} shapes", rows.len())),
        )
        .await
        .context("recording the import in the audit trail")?;
    println!(
        "imported {} shapes from {}; they replace the shapes stored before",
        rows.len(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `healthcity shapes export`: the stored shapes as GeoJSON, to `output` or standard output.
async fn shapes_export(store: &hc_store::Store, output: Option<&Path>) -> anyhow::Result<ExitCode> {
    let shapes = store
        .shapes()
        .await?
        .into_iter()
        .map(|r| hc_geo::Shape::from_geometry_json(r.code, &r.geometry, Some([r.x, r.y])))
        .collect::<Result<Vec<_>, _>>()
        .context("reading the stored shapes")?;
    let mut text = hc_geo::to_geojson(&shapes);
    text.push('\n');
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} shapes to {}", shapes.len(), path.display());
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `url` with any password replaced by `***`, for messages and logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    match tail {
        Some(t) => format!("{scheme}://{authority}/{t}"),
        None => format!("{scheme}://{authority}"),
    }
}

/// Connects and applies migrations.
async fn open(url: &str) -> anyhow::Result<hc_store::Store> {
    let store = hc_store::Store::connect(url)
        .await
        .with_context(|| format!("opening {url}"))?;
    store
        .migrate()
        .await
        .with_context(|| format!("migrating {url}"))?;
    Ok(store)
}

/// `surveillance webhook`.
async fn webhook(store: &hc_store::Store, action: WebhookAction) -> anyhow::Result<()> {
    let cli = Caller::cli();
    match action {
        WebhookAction::Add {
            url,
            secret_env,
            min_alert,
            area,
        } => {
            let id = hc_app::webhooks::add(
                store,
                &cli,
                hc_app::webhooks::NewWebhook {
                    url,
                    secret_env: secret_env.clone(),
                    min_alert,
                    area_code: area,
                },
            )
            .await?;
            println!("added webhook {id}");
            if std::env::var_os(&secret_env).is_none() {
                eprintln!(
                    "note: {secret_env} is not set here; the server needs it in its environment to sign"
                );
            }
        }
        WebhookAction::List => {
            println!(
                "id\tactive\tmin_alert\tarea\tsecret_env\tpending\tdelivered\tgiven_up\turl\tlast_error"
            );
            for w in hc_app::webhooks::list(store, &cli).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    w.hook.id,
                    if w.hook.active { "yes" } else { "no" },
                    w.hook.min_alert,
                    if w.hook.area_code.is_empty() {
                        "city"
                    } else {
                        &w.hook.area_code
                    },
                    w.hook.secret_env,
                    w.pending,
                    w.delivered,
                    w.given_up,
                    w.hook.url,
                    w.last_error.as_deref().unwrap_or(""),
                );
            }
        }
        WebhookAction::Disable { id } => {
            hc_app::webhooks::disable(store, &cli, id).await?;
            println!("disabled webhook {id}");
        }
    }
    Ok(())
}

async fn serve(cfg: &Config, store: hc_store::Store, schedule: &ScheduleArg) -> anyhow::Result<()> {
    let run_at = surveillance::parse_run_at(&schedule.run_at)?;
    let streams = std::sync::Arc::new(surveillance::load_config(schedule.streams.as_deref())?);
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let jobs = surveillance::spawn_jobs(
        store.clone(),
        std::sync::Arc::clone(&streams),
        run_at,
        Duration::from_secs(schedule.deliver_every.max(1)),
    )?;
    tracing::info!(address = %cfg.listen, database = %redact(&cfg.database), "serving");
    println!(
        "HealthCity 健康城市平台 is serving on http://{}/  (Ctrl-C stops it)",
        cfg.listen
    );
    hc_web::serve(
        hc_web::AppState::new(store.clone(), cfg.web.clone())
            .with_care(cfg.care.clone())
            .with_surveillance(streams),
        listener,
    )
    .await
    .context("serving")?;
    for job in jobs {
        job.abort();
    }
    store.close().await;
    Ok(())
}

async fn demo(cfg: &Config, store: &hc_store::Store, scale: f64, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    if store.totals().await?.residents > 0 {
        println!(
            "{} already holds a city; serving it as it is (delete the file to build anew).",
            cfg.database
        );
    } else {
        let multi = MultiProgress::with_draw_target(draw_target());
        let style = ProgressStyle::with_template(
            "{prefix:>18} [{bar:40.cyan/blue}] {human_pos}/{human_len} {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bars: Vec<ProgressBar> = [
            "org units",
            "institutions",
            "practitioners",
            "residents",
            "primary care",
            "surveillance feeds",
        ]
        .iter()
        .map(|name| {
            let b = multi.add(ProgressBar::new(0));
            b.set_style(style.clone());
            b.set_prefix(*name);
            b
        })
        .collect();
        let progress = |stage: hc_demo::Stage, done: u64, total: u64| {
            let i = match stage {
                hc_demo::Stage::OrgUnits => 0,
                hc_demo::Stage::Institutions => 1,
                hc_demo::Stage::Practitioners => 2,
                hc_demo::Stage::Residents => 3,
                hc_demo::Stage::Care => 4,
            };
            let bar = &bars[i];
            bar.set_length(total);
            bar.set_position(done);
            if done >= total {
                bar.finish();
            }
        };
        let opts = hc_demo::DemoOptions {
            scale,
            seed,
            today: hc_app::today(),
        };
        let report = hc_demo::build(store, &opts, &progress).await?;
        let feeds = demo_feeds(store, &opts, &bars[5]).await?;
        store.optimize().await?;
        let detection = surveillance::demo_run(store, opts.today).await?;
        let responses = surveillance::demo_responses(store, opts.today, seed).await?;
        println!(
            "built the demo city in {:.1}s: {} org units, {} institutions, {} practitioners, {} residents, \
             {} family-doctor teams, {} contracts, {} program enrolments, {} follow-ups; \
             surveillance feeds in {:.1}s: {} visits, {} cases, {} pharmacy sales, {} absenteeism reports, \
             {} lab results, {} injected outbreaks; detection over {} to {} in {:.1}s: {} signals, {} events, \
             {} demo response actions",
            started.elapsed().as_secs_f64(),
            report.orgunits,
            report.institutions,
            report.practitioners,
            report.residents,
            report.teams,
            report.contracts,
            report.enrolments,
            report.followups,
            feeds.seconds,
            feeds.records[0],
            feeds.records[1],
            feeds.records[2],
            feeds.records[3],
            feeds.records[4],
            feeds.outbreaks,
            detection.from,
            detection.to,
            detection.seconds.read + detection.seconds.evaluate + detection.seconds.write,
            detection.signals_new,
            detection.events_new,
            responses,
        );
    }
    demo_accounts(cfg, store).await?;
    Ok(())
}

/// What the demo's surveillance feeds stored.
struct FeedsReport {
    /// Records stored per feed, in `hc_demo::feeds::FEEDS` order.
    records: [u64; 5],
    /// Injected outbreaks (not rows: an outbreak has a row per feed and code).
    outbreaks: usize,
    /// How long generating and ingesting took.
    seconds: f64,
}

/// Generates the demo city's surveillance feeds and sends them through the same ingest path
/// as the API (checked, classified, counted), then stores the injected outbreaks. The demo
/// generates only valid records, so a refused one is a defect and stops the build.
async fn demo_feeds(
    store: &hc_store::Store,
    opts: &hc_demo::DemoOptions,
    bar: &ProgressBar,
) -> anyhow::Result<FeedsReport> {
    let started = Instant::now();
    let demo = hc_demo::FeedDemo::load(store, opts).await?;
    let rules = hc_app::feeds::FeedRules::shared()?;
    let caller = hc_app::audit::Caller::cli();
    let days = demo.days();
    bar.set_length(days * hc_demo::feeds::FEEDS.len() as u64);
    bar.set_position(0);
    let mut records = [0u64; 5];
    for batch in demo.batches() {
        let i = hc_demo::feeds::FEEDS
            .iter()
            .position(|f| *f == batch.feed)
            .context("a feed the demo does not know")?;
        let kind: hc_app::feeds::FeedKind = batch.feed.parse().map_err(anyhow::Error::msg)?;
        let report =
            hc_app::feeds::receive_batch(store, &caller, &rules, kind, &batch.records, opts.today)
                .await?;
        if let Some(r) = report.rejected.first() {
            let errors: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
            anyhow::bail!(
                "the demo generated {} {} record(s) the feed refused; the first, record {:?}: {}",
                report.rejected.len(),
                batch.feed,
                r.record_id.as_deref().unwrap_or(""),
                errors.join("; ")
            );
        }
        records[i] += report.inserted + report.updated + report.unchanged;
        let done = (batch.through - demo.first_day()).num_days() as u64 + 1;
        bar.set_position(i as u64 * days + done);
    }
    bar.set_position(days * hc_demo::feeds::FEEDS.len() as u64);
    bar.finish();
    let truth = demo.outbreaks();
    let outbreaks = truth
        .iter()
        .map(|o| o.description.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    store.put_demo_outbreaks(&truth).await?;
    Ok(FeedsReport {
        records,
        outbreaks,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The password of every demo account but the administrator (README, "Demo accounts").
const DEMO_PASSWORD: &str = "Demo-2026!";

/// Creates the demo's accounts on the first run: an administrator with a one-time password
/// and a second factor (both printed once), and one account per other role, scoped to the
/// first district, its first 社康 and one of its residents.
async fn demo_accounts(cfg: &Config, store: &hc_store::Store) -> anyhow::Result<()> {
    if !store.users().await?.is_empty() {
        println!(
            "Open http://{}/ and log in (demo accounts: see README, password {DEMO_PASSWORD}).",
            cfg.listen
        );
        return Ok(());
    }
    let cli = Caller::cli();
    let city = hc_core::access::Scope::city();
    let district = store
        .orgunit_codes(hc_core::model::OrgLevel::District)
        .await?
        .into_iter()
        .next()
        .context("the demo city has no district")?;
    let chc = store
        .institutions(
            &hc_store::InstitutionFilter {
                kind: Some(hc_core::model::InstitutionKind::Chc),
                under: Some(district.clone()),
                ..Default::default()
            },
            hc_store::Page {
                after: None,
                limit: 1,
            },
            &city,
        )
        .await?
        .items
        .into_iter()
        .next()
        .context("the demo district has no community health centre")?;
    let resident = store
        .residents(
            &hc_store::ResidentFilter {
                under: Some(chc.record.community_code.clone()),
                ..Default::default()
            },
            hc_store::Page {
                after: None,
                limit: 1,
            },
            &city,
        )
        .await?
        .items
        .into_iter()
        .next()
        .context("the demo community has no resident")?;
    // The demo family doctor is the lead GP of the 社康's first team, and sees that team only.
    let mut doctor = None;
    for team in store.teams(&city, Some(&chc.record.code)).await? {
        let members = store.team_members(team.id).await?;
        if let Some(lead) = members.iter().find(|m| m.role == "gp_lead") {
            doctor = Some(lead.practitioner_id);
            break;
        }
    }
    let policy = &cfg.web.policy;
    let admin = hc_app::accounts::create_user(
        store,
        policy,
        &cli,
        hc_app::accounts::NewAccount {
            username: "admin".into(),
            display_name: "系统管理员".into(),
            role: "admin".into(),
            ..Default::default()
        },
    )
    .await
    .context("creating the demo administrator")?;
    let account = |username: &str, display: &str, role: &str| hc_app::accounts::NewAccount {
        username: username.into(),
        display_name: display.into(),
        password: Some(DEMO_PASSWORD.into()),
        role: role.into(),
        ..Default::default()
    };
    let people = [
        account("commission", "市卫健委 王主任", "commission"),
        hc_app::accounts::NewAccount {
            scope_orgunit: Some(district.clone()),
            ..account("district", "区卫健局 李科长", "district_bureau")
        },
        account("cdc", "疾控中心 赵医师", "cdc_analyst"),
        hc_app::accounts::NewAccount {
            scope_institution: Some(chc.record.code.clone()),
            ..account("staff", "社康中心 陈护士", "institution_staff")
        },
        hc_app::accounts::NewAccount {
            scope_institution: Some(chc.record.code.clone()),
            practitioner_id: doctor,
            ..account("doctor", "家庭医生 刘医生", "family_doctor")
        },
        account("inspector", "卫生监督所 周监督员", "inspector"),
        account("auditor", "安全审计员 吴审计", "auditor"),
        hc_app::accounts::NewAccount {
            resident_id: Some(resident.id),
            ..account("resident", "居民", "resident")
        },
    ];
    for a in people {
        let username = a.username.clone();
        hc_app::accounts::create_user(store, policy, &cli, a)
            .await
            .with_context(|| format!("creating the demo account {username}"))?;
    }
    println!("Open http://{}/ and log in.", cfg.listen);
    println!(
        "  admin: one-time password {} (change it at the first login)",
        admin.one_time_password.unwrap_or_default()
    );
    if let Some(uri) = admin.totp_uri {
        println!("  admin second factor: enrol in an authenticator app: {uri}");
    }
    println!(
        "  commission, district ({district}), cdc, staff / doctor ({}), inspector, auditor, resident: password {DEMO_PASSWORD}",
        chc.record.code
    );
    Ok(())
}

fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// Where an import's refused rows go: `--rejects`, or `FILE.rejects.csv` beside the file.
fn rejects_path(file: &Path, rejects: Option<PathBuf>) -> PathBuf {
    rejects.unwrap_or_else(|| {
        let mut p = file.as_os_str().to_owned();
        p.push(".rejects.csv");
        PathBuf::from(p)
    })
}

async fn import(
    store: &hc_store::Store,
    kind: ImportKind,
    file: PathBuf,
    rejects: Option<PathBuf>,
    batch_size: usize,
) -> anyhow::Result<ExitCode> {
    let input = match std::fs::File::open(&file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let rejects_path = rejects_path(&file, rejects);
    let out = std::fs::File::create(&rejects_path)
        .with_context(|| format!("creating {}", rejects_path.display()))?;
    let mut sink = CsvRejects::new(std::io::BufWriter::new(out));
    let bar = ProgressBar::with_draw_target(Some(size), draw_target());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:40.cyan/blue}] {binary_bytes}/{binary_total_bytes} {msg} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(format!("importing {kind}"));
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut opts = ImportOptions::new(file.display().to_string());
    opts.batch_size = batch_size;
    let started = Instant::now();
    let result = hc_app::import::import(
        store,
        kind,
        std::io::BufReader::with_capacity(1 << 20, input),
        &opts,
        &mut sink,
        &|p| {
            bar.set_position(p.bytes);
            bar.set_message(format!("{} rows", p.rows));
        },
    )
    .await;
    bar.finish_and_clear();
    sink.finish()
        .with_context(|| format!("writing {}", rejects_path.display()))?;
    let report = match result {
        Ok(r) => r,
        Err(e @ ImportError::MissingColumns { .. }) => {
            eprintln!("error: {}: {e}", file.display());
            let _ = std::fs::remove_file(&rejects_path);
            return Ok(ExitCode::from(2));
        }
        Err(ImportError::Read {
            line,
            source,
            committed,
        }) => {
            let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
            eprintln!("error: {}: reading stopped{at}: {source}", file.display());
            eprintln!(
                "before that, committed: accepted {} (inserted {}, updated {}, unchanged {}), rejected {}",
                committed.accepted(),
                committed.inserted,
                committed.updated,
                committed.unchanged,
                committed.rejected
            );
            if committed.rejected > 0 {
                eprintln!("rejected rows: {}", rejects_path.display());
            } else {
                let _ = std::fs::remove_file(&rejects_path);
            }
            return Ok(ExitCode::from(2));
        }
        Err(e) => bail!("importing {}: {e}", file.display()),
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{kind}: {} rows in {secs:.1}s ({:.0} rows/s): accepted {} (inserted {}, updated {}, unchanged {}), rejected {}",
        report.rows,
        report.rows as f64 / secs.max(1e-9),
        report.accepted(),
        report.inserted,
        report.updated,
        report.unchanged,
        report.rejected
    );
    if report.rejected > 0 {
        println!(
            "rejected rows with line numbers and reasons: {}",
            rejects_path.display()
        );
    } else {
        let _ = std::fs::remove_file(&rejects_path);
    }
    Ok(ExitCode::SUCCESS)
}

/// `healthcity surveillance reclassify`.
async fn reclassify(
    store: &hc_store::Store,
    dictionary: Option<PathBuf>,
    batch_size: usize,
) -> anyhow::Result<ExitCode> {
    let dictionary = match syndromes::load_dictionary(dictionary.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let bar = ProgressBar::with_draw_target(None, draw_target());
    bar.set_style(
        ProgressStyle::with_template("{prefix} {spinner} {pos} visits {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(format!("re-classifying under {}", dictionary.version()));
    let r = hc_app::feeds::reclassify(store, &Caller::cli(), &dictionary, batch_size, &|n| {
        bar.set_position(n)
    })
    .await
    .context("re-classifying the visits")?;
    bar.finish_and_clear();
    println!(
        "visits re-classified under {}: {} read, {} changed, {} corrected meanwhile and left alone",
        dictionary.version(),
        r.read,
        r.changed,
        r.skipped
    );
    Ok(ExitCode::SUCCESS)
}

/// `healthcity import <feed> FILE`: surveillance records, each stored once per sender and
/// record id; refused records go to the rejects file with their line and every fault.
async fn import_feed(
    store: &hc_store::Store,
    kind: hc_app::feeds::FeedKind,
    file: PathBuf,
    rejects: Option<PathBuf>,
    batch_size: usize,
) -> anyhow::Result<ExitCode> {
    use hc_app::feeds::{FeedFileError, FeedRules, FileOptions};
    let input = match std::fs::File::open(&file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let rules = FeedRules::builtin().map_err(|e| anyhow::anyhow!(e))?;
    let bar = ProgressBar::with_draw_target(None, draw_target());
    bar.set_style(
        ProgressStyle::with_template("{prefix} {spinner} {pos} records {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(format!("importing {}", kind.as_str()));
    bar.enable_steady_tick(Duration::from_millis(200));
    let started = Instant::now();
    let result = hc_app::feeds::import_file(
        store,
        &Caller::cli(),
        &rules,
        kind,
        std::io::BufReader::with_capacity(1 << 20, input),
        FileOptions {
            today: hc_app::today(),
            batch_size: batch_size.min(10_000),
        },
        &|n| bar.set_position(n),
    )
    .await;
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e @ (FeedFileError::MissingColumn(..) | FeedFileError::Csv { .. })) => {
            eprintln!("error: {}: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
        Err(FeedFileError::App(e)) => bail!("importing {}: {e}", file.display()),
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: {} records in {secs:.1}s ({:.0} records/s): inserted {}, updated {}, unchanged {}, rejected {}",
        kind.as_str(),
        report.received,
        report.received as f64 / secs.max(1e-9),
        report.inserted,
        report.updated,
        report.unchanged,
        report.rejected.len()
    );
    if !report.rejected.is_empty() {
        let path = rejects_path(&file, rejects);
        let out =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(out));
        w.write_record(["line", "record_id", "field", "reason", "reason_zh"])?;
        for r in &report.rejected {
            for e in &r.errors {
                let line = r.line.to_string();
                let id = r.record_id.as_deref().unwrap_or("");
                let zh = e.zh.as_deref().unwrap_or("");
                w.write_record([line.as_str(), id, e.field.as_str(), e.message.as_str(), zh])?;
            }
        }
        w.flush()
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "rejected records with line numbers and reasons: {}",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn user(
    store: &hc_store::Store,
    policy: &hc_core::access::SecurityPolicy,
    action: UserAction,
) -> anyhow::Result<()> {
    let cli = Caller::cli();
    match action {
        UserAction::Add {
            username,
            role,
            scope,
            institution,
            resident_id,
            practitioner_id,
            display_name,
        } => {
            let password = std::env::var("HEALTHCITY_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty());
            let created = hc_app::accounts::create_user(
                store,
                policy,
                &cli,
                hc_app::accounts::NewAccount {
                    username: username.clone(),
                    display_name,
                    password,
                    role: role.clone(),
                    scope_orgunit: scope,
                    scope_institution: institution,
                    resident_id,
                    practitioner_id,
                },
            )
            .await?;
            println!("created {username} ({role})");
            if let Some(p) = created.one_time_password {
                println!("one-time password (to be changed at the first login): {p}");
            }
            if let Some(uri) = created.totp_uri {
                println!("second factor: enrol this in an authenticator app: {uri}");
            }
        }
        UserAction::List => {
            println!(
                "{:<20} {:<18} {:<9} {:<34} display name",
                "username", "role", "status", "scope"
            );
            let now = chrono::Utc::now().timestamp();
            for u in store.users().await? {
                let status = if u.disabled {
                    "disabled"
                } else if u.locked_until.is_some_and(|t| t > now) {
                    "locked"
                } else {
                    "active"
                };
                println!(
                    "{:<20} {:<18} {:<9} {:<34} {}",
                    u.username,
                    u.role,
                    status,
                    hc_app::accounts::describe_scope(&hc_app::accounts::scope_of(&u)),
                    u.display_name
                );
            }
        }
        UserAction::ResetPassword { username } => {
            let password = hc_app::accounts::reset_password(store, &cli, &username).await?;
            println!(
                "one-time password of {username} (to be changed at the next login): {password}"
            );
        }
        UserAction::ResetTotp { username } => {
            let uri = hc_app::accounts::reset_totp(store, &cli, &username).await?;
            println!("second factor of {username}: enrol this in an authenticator app: {uri}");
        }
        UserAction::Disable { username } => {
            hc_app::accounts::set_disabled(store, &cli, &username, true)
                .await
                .with_context(|| format!("user {username}"))?;
            println!("{username} disabled");
        }
        UserAction::Enable { username } => {
            hc_app::accounts::set_disabled(store, &cli, &username, false)
                .await
                .with_context(|| format!("user {username}"))?;
            println!("{username} enabled");
        }
    }
    Ok(())
}

async fn token(store: &hc_store::Store, action: TokenAction) -> anyhow::Result<()> {
    let cli = Caller::cli();
    match action {
        TokenAction::Create {
            name,
            role,
            scope,
            institution,
            expires_days,
        } => {
            let (secret, _) = hc_app::accounts::create_token(
                store,
                &cli,
                hc_app::accounts::NewApiToken {
                    name,
                    role,
                    scope_orgunit: scope,
                    scope_institution: institution,
                    expires_days: Some(expires_days),
                },
            )
            .await?;
            println!("{secret}");
        }
        TokenAction::List => {
            println!(
                "{:<5} {:<24} {:<18} {:<30} {:<10} {:<12} last used",
                "id", "name", "role", "scope", "status", "expires"
            );
            let now = chrono::Utc::now().timestamp();
            let day = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string())
            };
            for t in store.tokens().await? {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.expires_at.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "live"
                };
                let scope = hc_app::accounts::describe_scope(&hc_core::access::Scope {
                    orgunit: t.scope_orgunit.clone(),
                    institution: t.scope_institution.clone(),
                    resident: None,
                    practitioner: None,
                });
                println!(
                    "{:<5} {:<24} {:<18} {:<30} {:<10} {:<12} {}",
                    t.id,
                    t.name,
                    t.role,
                    scope,
                    status,
                    t.expires_at.map(day).unwrap_or_default(),
                    t.last_used_at.map_or_else(|| "never".to_owned(), day)
                );
            }
        }
        TokenAction::Revoke { token } => {
            let row = hc_app::accounts::revoke_token(store, &cli, &token).await?;
            println!("token {} ({}) revoked", row.id, row.name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://hc:s3cret@db:5432/x?sslmode=require"),
            "postgres://hc:***@db:5432/x?sslmode=require"
        );
        assert_eq!(super::redact("postgres://hc@db/x"), "postgres://hc@db/x");
        assert_eq!(
            super::redact("sqlite://healthcity.db"),
            "sqlite://healthcity.db"
        );
    }
}
