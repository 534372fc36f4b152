//! Streams and their evaluation: community counts summed to each level, each stream run
//! through its rule's detector over the days of the run, alarms kept with what explains them.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate};
use hc_detect::scan::{CaseCount, Circles, Coordinates, Location, ScanConfig};
use hc_detect::{Evaluation, Frequency, Series};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::config::{Alert, Config, Period, Rule, ScanRule};
use crate::{Areas, DENOMINATOR, Level};

/// One day's count of one code in one community, as the store holds it.
#[derive(Debug, Clone, Copy)]
pub struct Count<'a> {
    /// The code (a syndrome, disease, drug category …; [`DENOMINATOR`] for the denominator).
    pub code: &'a str,
    /// The community.
    pub community: &'a str,
    /// The day.
    pub day: NaiveDate,
    /// The count.
    pub value: i64,
}

/// One feed's community counts over a span of days, indexed for the streams.
#[derive(Debug, Clone)]
pub struct FeedCounts {
    feed: String,
    start: NaiveDate,
    days: usize,
    codes: Vec<String>,
    /// (code, community) → one value a day from `start`.
    cells: HashMap<(u32, u32), Vec<f64>>,
    /// community → the denominator a day from `start`.
    denominators: HashMap<u32, Vec<f64>>,
    /// Communities named by counts but absent from the tree, with the cases they hold.
    unknown: BTreeMap<String, i64>,
}

impl FeedCounts {
    /// Indexes the counts of `feed` from `start` to `end` (counts outside are ignored).
    pub fn new<'a>(
        feed: &str,
        start: NaiveDate,
        end: NaiveDate,
        areas: &Areas,
        counts: impl IntoIterator<Item = Count<'a>>,
    ) -> FeedCounts {
        let days = usize::try_from((end - start).num_days() + 1).unwrap_or(0);
        let mut codes: Vec<String> = Vec::new();
        let mut code_index: HashMap<String, u32> = HashMap::new();
        let mut cells: HashMap<(u32, u32), Vec<f64>> = HashMap::new();
        let mut denominators: HashMap<u32, Vec<f64>> = HashMap::new();
        let mut unknown = BTreeMap::new();
        for c in counts {
            let Ok(t) = usize::try_from((c.day - start).num_days()) else {
                continue;
            };
            if t >= days || c.value == 0 {
                continue;
            }
            let Some(area) = areas
                .get(c.community)
                .filter(|&a| areas.level(a) == Level::Community)
            else {
                *unknown.entry(c.community.to_owned()).or_insert(0) += c.value;
                continue;
            };
            let area = area as u32;
            let series = if c.code == DENOMINATOR {
                denominators.entry(area).or_insert_with(|| vec![0.0; days])
            } else {
                let code = match code_index.get(c.code) {
                    Some(&i) => i,
                    None => {
                        let i = codes.len() as u32;
                        codes.push(c.code.to_owned());
                        code_index.insert(c.code.to_owned(), i);
                        i
                    }
                };
                cells.entry((code, area)).or_insert_with(|| vec![0.0; days])
            };
            series[t] += c.value as f64;
        }
        FeedCounts {
            feed: feed.to_owned(),
            start,
            days,
            codes,
            cells,
            denominators,
            unknown,
        }
    }

    /// The feed.
    pub fn feed(&self) -> &str {
        &self.feed
    }

    /// Communities that counts name but the tree lacks, with their cases (left out of every
    /// stream; a run reports them).
    pub fn unknown_communities(&self) -> &BTreeMap<String, i64> {
        &self.unknown
    }

    /// The day of index `t`.
    fn day(&self, t: usize) -> NaiveDate {
        self.start + Duration::days(t as i64)
    }
}

/// The engine's baseline of an alarm: the counts before it that the method looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// The first period of `counts`.
    pub start: NaiveDate,
    /// Day or week.
    pub period: &'static str,
    /// The counts, one a period (school days only where the rule says so).
    pub counts: Vec<f64>,
}

/// A stream's alarm on one period, with everything that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// The rule that raised it.
    pub rule: String,
    /// The feed.
    pub feed: String,
    /// The code (syndrome, disease, drug category …).
    pub code: String,
    /// The level of the area.
    pub level: Level,
    /// The area's code.
    pub area: String,
    /// Day or week.
    pub period: Period,
    /// The day, or the Monday of the ISO week.
    pub day: NaiveDate,
    /// The engine's method.
    pub method: String,
    /// Its parameters in effect, defaults included.
    pub params: String,
    /// The alert colour the rule gives.
    pub alert: Alert,
    /// The count (for window methods, the window's sum; for a scan, the cluster's cases).
    pub observed: f64,
    /// The expected count.
    pub expected: Option<f64>,
    /// The threshold in cases (none for a scan, whose threshold is on its likelihood ratio).
    pub threshold: Option<f64>,
    /// The method's score (Farrington's exceedance, ESSENCE's adjusted R², the scan's LLR).
    pub score: Option<f64>,
    /// The p-value where the method gives one.
    pub p_value: Option<f64>,
    /// The feed's denominator in the area on that period, where it has one.
    pub denominator: Option<f64>,
    /// The counts the method compared it with.
    pub baseline: Baseline,
    /// Method-specific facts (the scan's communities and radius).
    pub detail: serde_json::Value,
}

impl Alarm {
    /// The stream's identifier: `feed/code/area/period`.
    pub fn stream(&self) -> String {
        stream_id(&self.feed, &self.code, &self.area, self.period)
    }
}

/// `feed/code/area/period`, the identifier of a stream.
pub fn stream_id(feed: &str, code: &str, area: &str, period: Period) -> String {
    format!("{feed}/{code}/{area}/{}", period.as_str())
}

/// Streams that could not be evaluated, by rule and reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// The rule.
    pub rule: String,
    /// Why (the engine's message for the first such stream).
    pub reason: String,
    /// How many streams.
    pub streams: usize,
    /// One of them.
    pub example: String,
}

/// What [`evaluate`] found.
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    /// The alarms that pass their rule's minimum count, by rule, stream and day.
    pub alarms: Vec<Alarm>,
    /// Streams formed (with at least one case in or just before the run).
    pub streams: usize,
    /// Periods evaluated.
    pub evaluations: usize,
    /// Streams skipped, summarised.
    pub skipped: Vec<Skipped>,
}

/// How many periods of history a rule's method wants before the first evaluated one.
pub fn history_periods(rule: &Rule, to: NaiveDate) -> usize {
    let frequency = match rule.period {
        Period::Day => Frequency::Daily,
        Period::Week => Frequency::Weekly,
    };
    // A long dummy series ending at `to` tells the method's first evaluable period.
    let n = match rule.period {
        Period::Day => 8 * 366,
        Period::Week => 8 * 53,
    };
    let start = to - Duration::days((n as i64 - 1) * rule.period.days());
    let dummy = Series::regular("history", start, frequency, vec![Some(0.0); n]);
    let first = rule.detector.first_index(&dummy).unwrap_or(n);
    let preferred = if rule.method == "essence" {
        // ESSENCE starts on short baselines; it is at its best with the full `b + g` days.
        let described = rule.detector.describe();
        let param = |key: &str| {
            described
                .split(';')
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        param("b") + param("g")
    } else {
        0
    };
    first.max(preferred)
}

/// The first day a run from `from` must read for every rule of `feed` in `config`.
pub fn read_start(config: &Config, feed: &str, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let mut start = from;
    for rule in config.rules.iter().filter(|r| r.feed == feed) {
        // Seven periods more cover a window method's sum and the minimum-count screen.
        let periods = history_periods(rule, to) as i64 + 8;
        let mut s = from - Duration::days(periods * rule.period.days());
        if rule.school_days {
            // Holidays hold no school days: read far enough back to find the baseline.
            s -= Duration::days(120);
        }
        start = start.min(s);
    }
    for scan in config.scans.iter().filter(|s| s.feed == feed) {
        start = start.min(from - Duration::days(scan.study_days as i64 + 28));
    }
    start
}

/// One stream to evaluate.
struct Job<'a> {
    rule: &'a Rule,
    level: Level,
    code: u32,
    area: u32,
    counts: &'a [f64],
    denominators: Option<&'a [f64]>,
}

/// Evaluates every rule and scan of `config` on the days `from..=to` (weekly rules on the
/// ISO weeks that end in that span), with the counts of `feeds`.
pub fn evaluate(
    config: &Config,
    areas: &Areas,
    feeds: &[FeedCounts],
    from: NaiveDate,
    to: NaiveDate,
) -> RunOutput {
    let mut out = RunOutput::default();
    let mut skipped: BTreeMap<(String, String), (usize, String)> = BTreeMap::new();
    for fc in feeds {
        let rules: Vec<&Rule> = config.rules.iter().filter(|r| r.feed == fc.feed).collect();
        let mut levels: Vec<Level> = rules.iter().flat_map(|r| r.levels.clone()).collect();
        levels.sort();
        levels.dedup();
        let sums: HashMap<Level, Sums> = levels
            .iter()
            .filter(|l| **l != Level::Community)
            .map(|&l| (l, Sums::new(fc, areas, l)))
            .collect();
        let mut jobs = Vec::new();
        for rule in &rules {
            for &level in &rule.levels {
                let (cells, denominators) = match sums.get(&level) {
                    Some(s) => (&s.cells, &s.denominators),
                    None => (&fc.cells, &fc.denominators),
                };
                for (&(code, area), counts) in cells {
                    if rule.codes.contains(&fc.codes[code as usize]) {
                        jobs.push(Job {
                            rule,
                            level,
                            code,
                            area,
                            counts,
                            denominators: denominators.get(&area).map(Vec::as_slice),
                        });
                    }
                }
            }
        }
        let results: Vec<StreamResult> = jobs
            .par_iter()
            .map(|job| run_stream(job, fc, areas, from, to))
            .collect();
        for r in results {
            if r.formed {
                out.streams += 1;
            }
            out.evaluations += r.evaluations;
            out.alarms.extend(r.alarms);
            if let Some((rule, reason, example)) = r.skipped {
                let e = skipped.entry((rule, reason)).or_insert((0, example));
                e.0 += 1;
            }
        }
        for scan in config.scans.iter().filter(|s| s.feed == fc.feed) {
            let (alarms, evaluations, problem) = run_scan(scan, fc, areas, from, to);
            out.evaluations += evaluations;
            out.alarms.extend(alarms);
            if let Some(reason) = problem {
                skipped.insert((scan.name.clone(), reason), (1, scan.feed.clone()));
            }
        }
    }
    out.alarms
        .sort_by(|a, b| (&a.rule, a.stream(), a.day).cmp(&(&b.rule, b.stream(), b.day)));
    out.skipped = skipped
        .into_iter()
        .map(|((rule, reason), (streams, example))| Skipped {
            rule,
            reason,
            streams,
            example,
        })
        .collect();
    out
}

/// Counts summed to one level.
struct Sums {
    cells: HashMap<(u32, u32), Vec<f64>>,
    denominators: HashMap<u32, Vec<f64>>,
}

impl Sums {
    fn new(fc: &FeedCounts, areas: &Areas, level: Level) -> Sums {
        let mut cells: HashMap<(u32, u32), Vec<f64>> = HashMap::new();
        for (&(code, area), counts) in &fc.cells {
            if let Some(up) = areas.ancestor(area as usize, level) {
                add(cells.entry((code, up as u32)).or_default(), counts);
            }
        }
        let mut denominators: HashMap<u32, Vec<f64>> = HashMap::new();
        for (&area, counts) in &fc.denominators {
            if let Some(up) = areas.ancestor(area as usize, level) {
                add(denominators.entry(up as u32).or_default(), counts);
            }
        }
        Sums {
            cells,
            denominators,
        }
    }
}

fn add(sum: &mut Vec<f64>, counts: &[f64]) {
    if sum.is_empty() {
        sum.extend_from_slice(counts);
    } else {
        for (s, c) in sum.iter_mut().zip(counts) {
            *s += c;
        }
    }
}

struct StreamResult {
    formed: bool,
    evaluations: usize,
    alarms: Vec<Alarm>,
    skipped: Option<(String, String, String)>,
}

/// Methods whose `upperbound` is a number of cases.
const COUNT_THRESHOLDS: &[&str] = &[
    "farrington-flexible",
    "farrington",
    "ears",
    "bayes",
    "rki",
    "cdc",
    "mpm",
    "fixed",
];

/// Methods that judge the sum of a window of periods, reported as their `score`.
const WINDOW_METHODS: &[&str] = &["mpm", "fixed"];

fn run_stream(
    job: &Job<'_>,
    fc: &FeedCounts,
    areas: &Areas,
    from: NaiveDate,
    to: NaiveDate,
) -> StreamResult {
    let rule = job.rule;
    let code = fc.codes[job.code as usize].as_str();
    let area = areas.code(job.area as usize);
    let stream = stream_id(&fc.feed, code, area, rule.period);
    let mut result = StreamResult {
        formed: false,
        evaluations: 0,
        alarms: Vec::new(),
        skipped: None,
    };
    // The periods: (first day of the period, count, denominator).
    let mut periods: Vec<(NaiveDate, f64, f64)> = Vec::new();
    match rule.period {
        Period::Day => {
            for (t, &c) in job.counts.iter().enumerate() {
                let d = job.denominators.map_or(0.0, |v| v[t]);
                if rule.school_days && d <= 0.0 {
                    continue;
                }
                periods.push((fc.day(t), c, d));
            }
        }
        Period::Week => {
            let first_monday = (0..7)
                .map(|k| fc.start + Duration::days(k))
                .find(|d| d.weekday() == chrono::Weekday::Mon)
                .unwrap_or(fc.start);
            let mut monday = first_monday;
            while monday + Duration::days(6) <= to {
                let t0 = (monday - fc.start).num_days() as usize;
                let (mut c, mut d) = (0.0, 0.0);
                for t in t0..(t0 + 7).min(fc.days) {
                    c += job.counts[t];
                    d += job.denominators.map_or(0.0, |v| v[t]);
                }
                periods.push((monday, c, d));
                monday += Duration::days(7);
            }
        }
    }
    // The periods evaluated: days in the run, or weeks that end in it.
    let in_run = |day: NaiveDate| match rule.period {
        Period::Day => day >= from && day <= to,
        Period::Week => {
            let sunday = day + Duration::days(6);
            sunday >= from && sunday <= to
        }
    };
    let Some(first) = periods.iter().position(|p| in_run(p.0)) else {
        return result;
    };
    let last = periods.iter().rposition(|p| in_run(p.0)).unwrap_or(first);
    // A stream without enough cases near the run cannot raise a signal.
    let near: f64 = periods[first.saturating_sub(7)..=last]
        .iter()
        .map(|p| p.1)
        .sum();
    let min_count = rule.min_count(job.level);
    if near < min_count.max(1.0) {
        return result;
    }
    result.formed = true;
    let frequency = match rule.period {
        Period::Day if !rule.school_days => Frequency::Daily,
        Period::Day => Frequency::Daily,
        Period::Week => Frequency::Weekly,
    };
    let start = periods[0].0;
    let counts: Vec<Option<f64>> = periods.iter().map(|p| Some(p.1)).collect();
    // School days are consecutive periods to the engine (their dates are not).
    let series = Series::regular(stream.clone(), start, frequency, counts);
    let first_index = match rule.detector.first_index(&series) {
        Ok(i) => i,
        Err(e) => {
            result.skipped = Some((rule.name.clone(), e.to_string(), stream));
            return result;
        }
    };
    if first_index > last {
        result.skipped = Some((
            rule.name.clone(),
            format!(
                "not enough history: {} needs {first_index} {}s before the first evaluated one",
                rule.method,
                rule.period.as_str()
            ),
            stream,
        ));
        return result;
    }
    let begin = first.max(first_index);
    let evaluations = match rule.detector.evaluate(&series, begin..=last) {
        Ok(e) => e,
        Err(e) => {
            result.skipped = Some((rule.name.clone(), e.to_string(), stream));
            return result;
        }
    };
    result.evaluations = evaluations.len();
    let history = history_periods(rule, to).max(1);
    for e in evaluations.iter().filter(|e| e.alarm) {
        let Some(&(day, count, denominator)) = periods.get(e.index) else {
            continue;
        };
        let observed = if WINDOW_METHODS.contains(&rule.method.as_str()) {
            e.score.unwrap_or(count)
        } else {
            count
        };
        if observed < min_count {
            continue;
        }
        let from_index = e.index.saturating_sub(history);
        result.alarms.push(Alarm {
            rule: rule.name.clone(),
            feed: fc.feed.clone(),
            code: code.to_owned(),
            level: job.level,
            area: area.to_owned(),
            period: rule.period,
            day,
            method: rule.method.clone(),
            params: rule.detector.describe(),
            alert: rule.alert,
            observed,
            expected: e.expected,
            threshold: threshold(&rule.method, e),
            score: if WINDOW_METHODS.contains(&rule.method.as_str()) {
                None
            } else {
                e.score
            },
            p_value: e.p_value,
            denominator: (denominator > 0.0).then_some(denominator),
            baseline: Baseline {
                start: periods[from_index].0,
                period: rule.period.as_str(),
                counts: periods[from_index..e.index].iter().map(|p| p.1).collect(),
            },
            detail: if rule.school_days {
                json!({ "school_days": true })
            } else {
                serde_json::Value::Null
            },
        });
    }
    result
}

fn threshold(method: &str, e: &Evaluation) -> Option<f64> {
    e.limit.or_else(|| {
        COUNT_THRESHOLDS
            .contains(&method)
            .then_some(e.upperbound)
            .flatten()
    })
}

/// A prospective scan on the last days of the run (at most 28: a scan answers "what is
/// clustering now", and each costs its Monte Carlo replicates).
fn run_scan(
    scan: &ScanRule,
    fc: &FeedCounts,
    areas: &Areas,
    from: NaiveDate,
    to: NaiveDate,
) -> (Vec<Alarm>, usize, Option<String>) {
    let mut locations = Vec::new();
    let mut index = HashMap::new();
    for c in areas.communities() {
        if let Some([x, y]) = areas.point(c) {
            index.insert(c as u32, locations.len());
            locations.push(Location {
                id: areas.code(c).to_owned(),
                x,
                y,
            });
        }
    }
    if locations.len() < 2 {
        return (
            Vec::new(),
            0,
            Some("no map points for the communities: load shapes to run the scan".into()),
        );
    }
    let first = from.max(to - Duration::days(27));
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= to).collect();
    let jobs: Vec<(u32, NaiveDate)> = (0..fc.codes.len() as u32)
        .filter(|&c| scan.codes.contains(&fc.codes[c as usize]))
        .flat_map(|c| days.iter().map(move |d| (c, *d)))
        .collect();
    let share = (scan.max_locations as f64 / locations.len() as f64).min(1.0);
    // The circles are the same for every code and day: built once, when a first scan needs
    // them (a quiet day may need none).
    let built = std::sync::OnceLock::new();
    let circles = || built.get_or_init(|| Circles::new(&locations, Coordinates::LatLon, share));
    // Replicates stop once no cluster can reach the rule's p-value (Besag–Clifford): the same
    // alarms as running them all.
    let stop_after = (scan.p_value * (scan.permutations + 1) as f64).floor() as usize;
    let results: Vec<Vec<Alarm>> = jobs
        .par_iter()
        .map(|&(code, day)| {
            let study_start = day - Duration::days(scan.study_days as i64 - 1);
            let mut cases = Vec::new();
            for (&(c, area), counts) in &fc.cells {
                if c != code {
                    continue;
                }
                let Some(&location) = index.get(&area) else {
                    continue;
                };
                for d in study_start.iter_days().take_while(|d| *d <= day) {
                    let Ok(t) = usize::try_from((d - fc.start).num_days()) else {
                        continue;
                    };
                    if let Some(&v) = counts.get(t)
                        && v > 0.0
                    {
                        cases.push(CaseCount {
                            location,
                            date: d,
                            count: v as u32,
                        });
                    }
                }
            }
            let recent: u64 = cases
                .iter()
                .filter(|c| c.date > day - Duration::days(scan.max_days as i64))
                .map(|c| u64::from(c.count))
                .sum();
            if recent < scan.min_cases {
                return Vec::new();
            }
            let config = ScanConfig {
                coordinates: Coordinates::LatLon,
                max_spatial_share: share,
                max_days: scan.max_days,
                study_days: Some(scan.study_days),
                end: Some(day),
                permutations: scan.permutations,
                seed: u64::from(day.num_days_from_ce() as u32) << 16 | u64::from(code),
                max_clusters: 5,
                min_cases: scan.min_cases,
                stop_after: Some(stop_after),
            };
            let Ok(circles) = circles() else {
                return Vec::new();
            };
            let Ok(clusters) = hc_detect::scan::scan_in(circles, &cases, &config) else {
                return Vec::new();
            };
            let code_name = &fc.codes[code as usize];
            clusters
                .into_iter()
                .filter(|c| c.p_value <= scan.p_value && c.end == day)
                .map(|c| {
                    let members: Vec<&str> = c
                        .locations
                        .iter()
                        .map(|&l| locations[l].id.as_str())
                        .collect();
                    Alarm {
                        rule: scan.name.clone(),
                        feed: fc.feed.clone(),
                        code: code_name.clone(),
                        level: Level::Community,
                        area: locations[c.center].id.clone(),
                        period: Period::Day,
                        day,
                        method: "scan".into(),
                        params: format!(
                            "study_days={};max_days={};max_locations={};permutations={};p_value={};min_cases={}",
                            scan.study_days,
                            scan.max_days,
                            scan.max_locations,
                            scan.permutations,
                            scan.p_value,
                            scan.min_cases
                        ),
                        alert: scan.alert,
                        observed: c.observed as f64,
                        expected: Some(c.expected),
                        threshold: None,
                        score: Some(c.llr),
                        p_value: Some(c.p_value),
                        denominator: None,
                        baseline: Baseline {
                            start: c.start,
                            period: "day",
                            counts: Vec::new(),
                        },
                        detail: json!({
                            "communities": members,
                            "radius_km": c.radius,
                            "start": c.start,
                            "end": c.end,
                            "llr": c.llr,
                            "recurrence_days": c.recurrence_days,
                        }),
                    }
                })
                .collect()
        })
        .collect();
    let problem = match built.get() {
        Some(Err(e)) => Some(format!("the communities' map points: {e}")),
        _ => None,
    };
    (results.into_iter().flatten().collect(), jobs.len(), problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::areas::tests::city;
    use hc_syndromes::DiseaseList;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Config text with one visits rule and nothing else.
    fn one_rule(body: &str) -> Config {
        let text = format!(
            "version = \"t\"\nsource = \"test\"\nmerge_gap = 2\nlookback_days = 7\n[[rule]]\n{body}"
        );
        Config::from_toml(&text, &DiseaseList::builtin().unwrap()).unwrap()
    }

    /// Ninety days of ILI with a Poisson-ish baseline of about 3 a day in each community and
    /// an outbreak of `extra` a day in c111 on the last `days` days.
    fn counts(extra: i64, days: i64) -> Vec<(String, String, NaiveDate, i64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let start = d("2026-01-01");
        let mut out = Vec::new();
        for t in 0..90 {
            let day = start + Duration::days(t);
            for c in ["c111", "c112", "c121", "c211"] {
                let mut v = 2 + rng.random_range(0..3);
                if c == "c111" && t >= 90 - days {
                    v += extra;
                }
                out.push(("ili".into(), c.into(), day, v));
                out.push((DENOMINATOR.into(), c.into(), day, 40));
            }
        }
        out
    }

    fn feed(rows: &[(String, String, NaiveDate, i64)], areas: &Areas) -> FeedCounts {
        FeedCounts::new(
            "visits",
            d("2026-01-01"),
            d("2026-03-31"),
            areas,
            rows.iter().map(|(code, community, day, value)| Count {
                code,
                community,
                day: *day,
                value: *value,
            }),
        )
    }

    const EARS: &str = "name = \"r\"\nfeed = \"visits\"\ncodes = [\"ili\"]\nlevels = [\"community\", \"street\", \"district\", \"city\"]\nperiod = \"day\"\nmethod = \"ears\"\nparams = \"variant=C2\"\nmin_count = { community = 4 }\nalert = \"yellow\"\n";

    #[test]
    fn an_outbreak_in_one_community_alarms_there_and_up_its_tree_only() {
        let areas = city();
        let config = one_rule(EARS);
        let rows = counts(12, 2);
        let out = evaluate(
            &config,
            &areas,
            &[feed(&rows, &areas)],
            d("2026-03-30"),
            d("2026-03-31"),
        );
        let areas_alarmed: std::collections::BTreeSet<&str> =
            out.alarms.iter().map(|a| a.area.as_str()).collect();
        assert!(areas_alarmed.contains("c111"), "{areas_alarmed:?}");
        assert!(areas_alarmed.contains("S11"), "{areas_alarmed:?}");
        assert!(
            !areas_alarmed.contains("c211") && !areas_alarmed.contains("D2"),
            "{areas_alarmed:?}"
        );
        // 4 communities + 3 streets + 2 districts + city, on 2 days.
        assert_eq!(out.streams, 10);
        assert_eq!(out.evaluations, 20);
        let a = out.alarms.iter().find(|a| a.area == "c111").unwrap();
        assert_eq!(a.stream(), "visits/ili/c111/day");
        assert!(a.observed >= 14.0 && a.observed > a.threshold.unwrap());
        assert!(a.expected.unwrap() < 5.0);
        assert_eq!(a.denominator, Some(40.0));
        // EARS C2: a 7-day baseline ending two days before.
        assert_eq!(a.baseline.counts.len(), 9);
        assert_eq!(a.level, Level::Community);
    }

    #[test]
    fn quiet_streams_raise_nothing_and_min_count_holds_back_small_excesses() {
        let areas = city();
        let config = one_rule(EARS);
        let out = evaluate(
            &config,
            &areas,
            &[feed(&counts(0, 0), &areas)],
            d("2026-03-01"),
            d("2026-03-31"),
        );
        let community: Vec<_> = out
            .alarms
            .iter()
            .filter(|a| a.level == Level::Community)
            .collect();
        // With 31 days × 4 communities and C2's 3-sigma line, chance alarms are rare.
        assert!(community.len() <= 3, "{community:?}");
        let strict = one_rule(&EARS.replace("community = 4", "community = 50"));
        let out = evaluate(
            &strict,
            &areas,
            &[feed(&counts(12, 2), &areas)],
            d("2026-03-30"),
            d("2026-03-31"),
        );
        assert!(out.alarms.iter().all(|a| a.level != Level::Community));
    }

    #[test]
    fn essence_thresholds_are_in_cases() {
        let areas = city();
        let config = one_rule(&EARS.replace(
            "method = \"ears\"\nparams = \"variant=C2\"",
            "method = \"essence\"\nparams = \"detector=switch\"",
        ));
        let out = evaluate(
            &config,
            &areas,
            &[feed(&counts(15, 1), &areas)],
            d("2026-03-31"),
            d("2026-03-31"),
        );
        let a = out.alarms.iter().find(|a| a.area == "c111").unwrap();
        let t = a.threshold.unwrap();
        assert!(t > a.expected.unwrap() && t < a.observed, "{a:?}");
        // The full 28 + 2 days of baseline.
        assert_eq!(a.baseline.counts.len(), 30);
    }

    #[test]
    fn weekly_streams_evaluate_complete_iso_weeks_and_fixed_diseases_signal_one_case() {
        let areas = city();
        let diseases = DiseaseList::builtin().unwrap();
        let text = "version = \"t\"\nsource = \"s\"\nmerge_gap = 1\nlookback_days = 7\n\
            [[rule]]\nname = \"fixed\"\nfeed = \"cases\"\ncodes = [\"@fixed\"]\nlevels = [\"community\"]\nperiod = \"day\"\nmethod = \"fixed\"\nparams = \"threshold=1\"\nalert = \"orange\"\n\
            [[rule]]\nname = \"weekly\"\nfeed = \"cases\"\ncodes = [\"J11\"]\nlevels = [\"city\"]\nperiod = \"week\"\nmethod = \"ears\"\nparams = \"variant=C1\"\nalert = \"yellow\"\n";
        let config = Config::from_toml(text, &diseases).unwrap();
        let mut rows = Vec::new();
        let start = d("2025-10-01");
        for t in 0..182 {
            let day = start + Duration::days(t);
            rows.push(("J11".to_owned(), "c111".to_owned(), day, 1 + (t % 3)));
        }
        // A surge in the ISO week of Monday 2026-03-23 and one cholera case on the 25th.
        for t in 0..7 {
            rows.push((
                "J11".into(),
                "c121".into(),
                d("2026-03-23") + Duration::days(t),
                6,
            ));
        }
        rows.push(("A00".into(), "c211".into(), d("2026-03-25"), 1));
        let fc = FeedCounts::new(
            "cases",
            start,
            d("2026-03-31"),
            &areas,
            rows.iter().map(|(code, community, day, value)| Count {
                code,
                community,
                day: *day,
                value: *value,
            }),
        );
        let out = evaluate(&config, &areas, &[fc], d("2026-03-20"), d("2026-03-31"));
        let weekly: Vec<_> = out.alarms.iter().filter(|a| a.rule == "weekly").collect();
        assert_eq!(weekly.len(), 1, "{weekly:?}");
        assert_eq!(weekly[0].day, d("2026-03-23"));
        assert_eq!(weekly[0].stream(), "cases/J11/C/week");
        // The week of 2026-03-30 has not ended on the 31st: not evaluated.
        assert!(out.alarms.iter().all(|a| a.day != d("2026-03-30")));
        let fixed: Vec<_> = out.alarms.iter().filter(|a| a.rule == "fixed").collect();
        assert_eq!(fixed.len(), 1);
        assert_eq!(
            (fixed[0].area.as_str(), fixed[0].code.as_str()),
            ("c211", "A00")
        );
        assert_eq!(fixed[0].observed, 1.0);
        assert_eq!(fixed[0].alert, Alert::Orange);
    }

    #[test]
    fn school_day_streams_skip_holidays_instead_of_alarming_when_school_resumes() {
        let areas = city();
        let config = one_rule(
            "name = \"abs\"\nfeed = \"absenteeism\"\ncodes = [\"ill\"]\nlevels = [\"community\"]\nperiod = \"day\"\nmethod = \"ears\"\nparams = \"variant=C2\"\nmin_count = { community = 3 }\nschool_days = true\nalert = \"yellow\"\n",
        );
        let start = d("2026-01-01");
        let mut rows = Vec::new();
        for t in 0..90 {
            let day = start + Duration::days(t);
            // A four-week holiday in February: no reports at all.
            let holiday = day >= d("2026-02-01") && day < d("2026-03-01");
            if holiday || day.weekday().num_days_from_monday() >= 5 {
                continue;
            }
            rows.push(("ill".to_owned(), "c111".to_owned(), day, 8 + (t % 2)));
            rows.push((DENOMINATOR.to_owned(), "c111".to_owned(), day, 400));
        }
        let fc = FeedCounts::new(
            "absenteeism",
            start,
            d("2026-03-31"),
            &areas,
            rows.iter().map(|(code, community, day, value)| Count {
                code,
                community,
                day: *day,
                value: *value,
            }),
        );
        let out = evaluate(&config, &areas, &[fc], d("2026-03-02"), d("2026-03-06"));
        assert!(out.alarms.is_empty(), "{:?}", out.alarms);
        assert_eq!(out.evaluations, 5);
    }

    #[test]
    fn unknown_communities_are_reported_not_counted() {
        let areas = city();
        let rows = [("ili".to_owned(), "nowhere".to_owned(), d("2026-01-02"), 5)];
        let fc = feed(&rows, &areas);
        assert_eq!(fc.unknown_communities().get("nowhere"), Some(&5));
        assert!(fc.cells.is_empty());
    }
}
