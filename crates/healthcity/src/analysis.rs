//! The analysis commands: `detect` (outbreak detection on a CSV of counts), `rt` (the
//! reproduction number), `scan` (space-time clusters) and `programs evaluate` (chronic-disease
//! follow-up rules). They read files and print results; they need no database.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use hc_app::detect::{
    Columns, detect_all, read_cases, read_incidence, read_locations, read_series, write_clusters,
    write_evaluations, write_rt,
};
use hc_detect::Params;

/// Exit code for unreadable input or unusable parameters.
const BAD_INPUT: u8 = 2;

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// farrington-flexible, farrington, ears, cusum, glrnb, glrpois, bayes, rki, cdc, essence,
    /// mpm or fixed.
    #[arg(long)]
    method: String,
    /// CSV with `date,count` and optionally `series` and `population` ("-" for standard input).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the results. [default: standard output]
    #[arg(long)]
    output: Option<PathBuf>,
    /// First period to evaluate (YYYY-MM-DD). [default: the first with enough history]
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Last period to evaluate (YYYY-MM-DD). [default: the last]
    #[arg(long)]
    to: Option<NaiveDate>,
    /// A method parameter, KEY=VALUE, named after R's control argument in snake_case
    /// (no_periods=10, threshold_method=nbplugin, limit54=0,4, variant=C3, ...). Repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    param: Vec<String>,
    /// Several parameters at once: "k=v;k=v".
    #[arg(long)]
    params: Option<String>,
    /// Add the columns that explain each result: score, p_value, level, trend, params.
    #[arg(long)]
    explain: bool,
    /// Print to standard error how long the method itself took (reading and writing excluded),
    /// as R's `system.time` around a method call measures it.
    #[arg(long)]
    timing: bool,
}

pub fn detect(args: &DetectArgs) -> ExitCode {
    let detector = match params(args)
        .and_then(|p| hc_detect::detector(&args.method, p).map_err(|e| e.to_string()))
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let input = match open(&args.input) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let inputs = match read_series(input) {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("error: {}: {e}", args.input.display());
            return ExitCode::from(BAD_INPUT);
        }
    };
    let started = std::time::Instant::now();
    let outcomes = detect_all(detector.as_ref(), inputs, args.from, args.to);
    if args.timing {
        let periods: usize = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .map(|(_, e)| e.len())
            .sum();
        eprintln!(
            "timing: {} evaluated {periods} periods of {} series in {:.6} s",
            args.method,
            outcomes.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let columns = Columns::for_method(&args.method, args.explain);
    let written = finish(args.output.as_ref(), |w| {
        write_evaluations(w, detector.as_ref(), &outcomes, columns)
    });
    if written != ExitCode::SUCCESS {
        return written;
    }
    let mut failed = 0;
    for outcome in &outcomes {
        if let Err(e) = &outcome.result {
            failed += 1;
            let name = if outcome.name.is_empty() {
                "(unnamed)"
            } else {
                outcome.name.as_str()
            };
            eprintln!("error: series {name}: {e}");
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} series could not be evaluated",
            outcomes.len()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// `--param` pairs and `--params` merged; a key given twice is an error.
fn params(args: &DetectArgs) -> Result<Params, String> {
    let mut params = match &args.params {
        Some(text) => Params::parse(text).map_err(|e| e.to_string())?,
        None => Params::default(),
    };
    for pair in &args.param {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--param `{pair}` is not of the form KEY=VALUE"))?;
        params.insert(key, value).map_err(|e| e.to_string())?;
    }
    Ok(params)
}

/// `path` opened for reading, or standard input for "-".
pub(crate) fn open(path: &PathBuf) -> Result<Box<dyn Read>, String> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    File::open(path)
        .map(|f| Box::new(BufReader::new(f)) as Box<dyn Read>)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[derive(Args, Debug)]
pub struct RtArgs {
    /// CSV of daily incidence: `incidence` (or `count`), optionally `t` or `date`, in time order.
    #[arg(long)]
    input: PathBuf,
    /// Mean of the serial interval, in days (> 1): a discretised gamma, EpiEstim's
    /// parametric_si.
    #[arg(long, requires = "std_si", required_unless_present = "si_distr")]
    mean_si: Option<f64>,
    /// Standard deviation of the serial interval, in days.
    #[arg(long, requires = "mean_si")]
    std_si: Option<f64>,
    /// Instead of a mean and SD: the serial interval's weights for days 0, 1, 2, … separated by
    /// commas (day 0 weighs 0; they sum to 1), EpiEstim's non_parametric_si.
    #[arg(long, conflicts_with_all = ["mean_si", "std_si"])]
    si_distr: Option<String>,
    /// Days in each sliding window.
    #[arg(long, default_value_t = 7)]
    window: usize,
    /// Mean of the gamma prior on R.
    #[arg(long, default_value_t = 5.0)]
    mean_prior: f64,
    /// Standard deviation of the gamma prior on R.
    #[arg(long, default_value_t = 5.0)]
    std_prior: f64,
    /// Where to write the estimates. [default: standard output]
    #[arg(long)]
    output: Option<PathBuf>,
}

pub fn rt(args: &RtArgs) -> ExitCode {
    let incidence = match open(&args.input).and_then(|input| {
        read_incidence(input).map_err(|e| format!("{}: {e}", args.input.display()))
    }) {
        Ok(incidence) => incidence,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let base = match (&args.si_distr, args.mean_si, args.std_si) {
        (Some(text), _, _) => {
            let weights: Result<Vec<f64>, _> =
                text.split(',').map(|w| w.trim().parse::<f64>()).collect();
            match weights {
                Ok(weights) => hc_detect::rt::RtConfig::non_parametric(weights),
                Err(_) => {
                    eprintln!("error: --si-distr `{text}` is not numbers separated by commas");
                    return ExitCode::from(BAD_INPUT);
                }
            }
        }
        (None, Some(mean), Some(std)) => hc_detect::rt::RtConfig::new(mean, std),
        _ => {
            eprintln!("error: give --mean-si and --std-si, or --si-distr");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let config = hc_detect::rt::RtConfig {
        window: args.window,
        mean_prior: args.mean_prior,
        std_prior: args.std_prior,
        ..base
    };
    let estimates = match hc_detect::rt::estimate(&incidence, &config) {
        Ok(estimates) => estimates,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    finish(args.output.as_ref(), |w| write_rt(w, &estimates))
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// CSV of cases: `location,date` and optionally `count` (default one case a row).
    #[arg(long)]
    input: PathBuf,
    /// CSV of locations: `id` with `x,y` (planar, e.g. km) or `lon,lat` (degrees).
    #[arg(long)]
    locations: PathBuf,
    /// Analysis date: clusters must be ongoing on it. [default: the last date with cases]
    #[arg(long)]
    end: Option<NaiveDate>,
    /// Longest cluster duration in days.
    #[arg(long, default_value_t = 7)]
    max_days: usize,
    /// Days of data before the analysis date used as the study period. [default: all]
    #[arg(long)]
    study_days: Option<usize>,
    /// Largest share of the locations a cluster may cover.
    #[arg(long, default_value_t = 0.5)]
    max_share: f64,
    /// Smallest number of cases in a cluster.
    #[arg(long, default_value_t = 2)]
    min_cases: u64,
    /// Monte Carlo replicates for the p-values.
    #[arg(long, default_value_t = 999)]
    permutations: usize,
    /// Random seed; the same seed gives the same p-values on any number of threads.
    #[arg(long, default_value_t = 12345)]
    seed: u64,
    /// Most clusters to report (the most likely first, then ones that share no location).
    #[arg(long, default_value_t = 10)]
    max_clusters: usize,
    /// Where to write the clusters. [default: standard output]
    #[arg(long)]
    output: Option<PathBuf>,
}

pub fn scan(args: &ScanArgs) -> ExitCode {
    let read = open(&args.locations)
        .and_then(|input| {
            read_locations(input).map_err(|e| format!("{}: {e}", args.locations.display()))
        })
        .and_then(|(locations, coordinates)| {
            let cases = open(&args.input).and_then(|input| {
                read_cases(input, &locations).map_err(|e| format!("{}: {e}", args.input.display()))
            })?;
            Ok((locations, coordinates, cases))
        });
    let (locations, coordinates, cases) = match read {
        Ok(read) => read,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let config = hc_detect::scan::ScanConfig {
        coordinates,
        max_spatial_share: args.max_share,
        max_days: args.max_days,
        study_days: args.study_days,
        end: args.end,
        permutations: args.permutations,
        seed: args.seed,
        max_clusters: args.max_clusters,
        min_cases: args.min_cases,
        stop_after: None,
    };
    let clusters = match hc_detect::scan::scan(&locations, &cases, &config) {
        Ok(clusters) => clusters,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    finish(args.output.as_ref(), |w| {
        write_clusters(w, &clusters, &locations)
    })
}

/// Writes through `write` to `output` or standard output; failure to write is exit code 1.
fn finish(
    output: Option<&PathBuf>,
    write: impl FnOnce(Box<dyn std::io::Write>) -> Result<(), csv::Error>,
) -> ExitCode {
    let result = match output {
        Some(path) => File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))
            .and_then(|f| {
                write(Box::new(BufWriter::new(f)))
                    .map_err(|e| format!("writing {}: {e}", path.display()))
            }),
        None => write(Box::new(std::io::stdout().lock()))
            .map_err(|e| format!("writing the results: {e}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Args, Debug)]
pub struct ProgramsArgs {
    /// hypertension or diabetes.
    #[arg(long)]
    program: String,
    /// CSV with `patient_id,birth_date,visit_date,sbp,dbp,fpg,danger_sign,adverse_reaction,
    /// complication` ("-" for standard input).
    #[arg(long)]
    input: PathBuf,
    /// Where to write `patient_id,visit_date,classification,action,next_due`.
    /// [default: standard output]
    #[arg(long)]
    output: Option<PathBuf>,
    /// A TOML file of rules replacing the national specification's (see `hc_care::Rules`).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The date visits may not be after. [default: today in China Standard Time]
    #[arg(long)]
    today: Option<NaiveDate>,
}

/// `healthcity programs evaluate`: exit 0 when every row was evaluated, 1 when some rows were
/// left out (each named on standard error), 2 when the file or the rules cannot be used.
pub fn programs_evaluate(args: &ProgramsArgs) -> ExitCode {
    let Some(program) = hc_care::Program::parse(&args.program) else {
        eprintln!(
            "error: --program {:?}: expected hypertension or diabetes",
            args.program
        );
        return ExitCode::from(BAD_INPUT);
    };
    let rules = match &args.rules {
        None => hc_care::Rules::default(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| toml::from_str(&text).map_err(|e| e.to_string()))
        {
            Ok(rules) => rules,
            Err(e) => {
                eprintln!("error: rules {}: {e}", path.display());
                return ExitCode::from(BAD_INPUT);
            }
        },
    };
    let input = match open(&args.input) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let today = args.today.unwrap_or_else(hc_app::today);
    let (rows, errors) = match hc_app::programs::read_visits(input, &rules, today) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("error: {}: {e}", args.input.display());
            return ExitCode::from(BAD_INPUT);
        }
    };
    for e in &errors {
        eprintln!("error: {}: {e}", args.input.display());
    }
    let evaluated = hc_app::programs::evaluate_rows(program, &rules, rows);
    let code = finish(args.output.as_ref(), |w| {
        hc_app::programs::write_evaluated(w, &evaluated)
    });
    if code == ExitCode::SUCCESS && !errors.is_empty() {
        ExitCode::FAILURE
    } else {
        code
    }
}
