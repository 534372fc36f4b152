//! China CDC's moving-percentile method (移动百分位数法) as used by CIDARS, the China Infectious
//! Disease Automated-alert and Response System, and fixed thresholds for diseases where a single
//! case is a signal.
//!
//! Sources: Yang W, Li Z, Lan Y, et al. "A nationwide web-based automated system for outbreak
//! early detection and rapid response in China." Western Pacific Surveillance and Response
//! Journal 2011;2(1):10–15; Li Z, Lai S, Zhang H, et al. "Hand, foot and mouth disease in China:
//! evaluating an automated system for the detection of outbreaks." Bulletin of the WHO
//! 2014;92:656–663 (CIDARS' moving-percentile method and its thresholds).
//!
//! # Moving percentile (`mpm`)
//! The current count is the sum of the last `window` periods (7 days for daily data, 1 week for
//! weekly data). Its baseline is, for each of the past `years` years, the sums over `window`
//! periods of the block that ends on the same calendar date that year (29 February becomes
//! 28 February; for weekly data the period nearest that date) and of `blocks` adjacent blocks on
//! either side: `(2·blocks + 1)·years` values, 15 with the defaults (3 years × 5 blocks of
//! 7 days, i.e. the same fortnight-and-a-half of each past year). A block with a missing count is
//! left out of the baseline.
//!
//! A signal is raised when the current count is strictly greater than the `percentile`-th
//! percentile of the baseline values and at least `min_count`. Percentiles are R's default
//! `quantile(type = 7)`: for n sorted values `x₁…xₙ` and `p = percentile/100`, with
//! `h = (n − 1)·p`, `x₍⌊h⌋₊₁₎ + (h − ⌊h⌋)·(x₍⌊h⌋₊₂₎ − x₍⌊h⌋₊₁₎)`.
//!
//! Parameters: `percentile` (80; CIDARS uses P50–P90, so 50–90 is allowed), `years` (3),
//! `window` (`auto`, the default: 7 for daily data, 1 for weekly data), `blocks` (2), `min_count`
//! (1). `(2·blocks + 1)·window` may not exceed 52 periods, so that the blocks of the past years
//! never reach the current one.
//!
//! Output: `expected` = the median of the baseline values, `upperbound` = the percentile, `score`
//! = the current count; `alarm` as above. The first evaluable period is the first whose earliest
//! baseline block, `years` years back, lies inside the series.
//!
//! # Fixed threshold (`fixed`)
//! A signal when the count of the period (or the sum of the last `window` periods, 1 by default)
//! is at least `threshold` (1 by default: every case of cholera or plague is a signal).
//! `upperbound` = the threshold, `score` = the count; there is no `expected` value.
//!
//! A missing count in the current window is an error ([`DetectError::Missing`]).

use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};

use crate::{DetectError, Detector, Evaluation, Frequency, ParamError, Params, Series, invalid};

/// The moving-percentile method with its resolved parameters.
#[derive(Debug, Clone)]
pub struct Mpm {
    percentile: f64,
    years: usize,
    /// `None`: 7 for daily, 1 for weekly data.
    window: Option<usize>,
    blocks: usize,
    min_count: f64,
}

impl Mpm {
    /// Reads `percentile`, `years`, `window`, `blocks` and `min_count`.
    pub fn from_params(params: &mut Params) -> Result<Mpm, ParamError> {
        let percentile = params.number("percentile", 80.0)?;
        if !(50.0..=90.0).contains(&percentile) {
            return Err(invalid(
                "percentile",
                &percentile,
                "a percentile between 50 and 90",
            ));
        }
        let years = params.count("years", 3, 1)?;
        let window = match params.raw("window") {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("auto") => None,
            Some(v) => match v.parse::<usize>() {
                Ok(w) if w >= 1 => Some(w),
                _ => return Err(invalid("window", &v, "a whole number ≥ 1, or auto")),
            },
        };
        let blocks = params.count("blocks", 2, 0)?;
        let min_count = params.number("min_count", 1.0)?;
        if min_count < 0.0 {
            return Err(invalid("min_count", &min_count, "a number ≥ 0"));
        }
        if let Some(w) = window
            && (2 * blocks + 1) * w > 52
        {
            return Err(invalid(
                "window",
                &w,
                "a window such that (2·blocks + 1)·window ≤ 52 periods",
            ));
        }
        if (2 * blocks + 1) * window.unwrap_or(7) > 52 {
            return Err(invalid(
                "blocks",
                &blocks,
                "a number such that (2·blocks + 1)·window ≤ 52 periods",
            ));
        }
        Ok(Mpm {
            percentile,
            years,
            window,
            blocks,
            min_count,
        })
    }

    fn window(&self, frequency: Frequency) -> usize {
        self.window.unwrap_or(match frequency {
            Frequency::Daily => 7,
            Frequency::Weekly => 1,
        })
    }

    /// The index (possibly before the series' start or after its end) of the period that, `k`
    /// years before period `t`, falls on the same calendar date (the nearest one, weekly).
    fn back(series: &Series, t: usize, k: usize) -> i64 {
        let step = series.frequency().days();
        let Some(&first) = series.dates().first() else {
            return i64::MIN;
        };
        let date = first + chrono::Duration::days(t as i64 * step);
        let target = years_before(date, k);
        let days = (target - first).num_days();
        (days + step / 2).div_euclid(step)
    }
}

/// The same calendar date `k` years earlier; 29 February becomes 28 February.
fn years_before(date: NaiveDate, k: usize) -> NaiveDate {
    let year = date.year() - k as i32;
    date.with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), 28))
        .unwrap_or(date)
}

/// R's `quantile(x, p, type = 7)` of sorted values.
fn quantile7(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let index = (n - 1) as f64 * p;
    let lo = index.floor();
    let h = index - lo;
    let lo = lo as usize;
    let hi = (index.ceil() as usize).min(n - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    Some(if h > 0.0 && b != a {
        (1.0 - h) * a + h * b
    } else {
        a
    })
}

/// The sum of `window` periods ending at `end`; `Err(date)` at the first missing count.
fn window_sum(series: &Series, end: usize, window: usize) -> Result<f64, NaiveDate> {
    let start = end + 1 - window;
    let mut sum = 0.0;
    for (count, date) in series.counts()[start..=end]
        .iter()
        .zip(&series.dates()[start..=end])
    {
        match count {
            Some(c) => sum += c,
            None => return Err(*date),
        }
    }
    Ok(sum)
}

impl Detector for Mpm {
    fn method(&self) -> &'static str {
        "mpm"
    }

    fn describe(&self) -> String {
        let window = self
            .window
            .map_or_else(|| "auto".to_owned(), |w| w.to_string());
        format!(
            "percentile={};years={};window={window};blocks={};min_count={}",
            self.percentile, self.years, self.blocks, self.min_count
        )
    }

    fn first_index(&self, series: &Series) -> Result<usize, DetectError> {
        let window = self.window(series.frequency());
        let reach = ((self.blocks + 1) * window) as i64 - 1;
        // The earliest block, `years` back, must start at period 0 or later; the condition only
        // becomes true as t grows, and a year is at most 53 weeks or 366 days.
        let per_year = match series.frequency() {
            Frequency::Daily => 366,
            Frequency::Weekly => 53,
        };
        let mut t = 0;
        while Mpm::back(series, t, self.years) < reach {
            t += 1;
            if t > per_year * (self.years + 1) + reach as usize {
                break;
            }
        }
        Ok(t.max(window - 1))
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        let window = self.window(series.frequency());
        let p = self.percentile / 100.0;
        let blocks = self.blocks as i64;
        let mut baseline = Vec::with_capacity((2 * self.blocks + 1) * self.years);
        let mut out = Vec::with_capacity(range.clone().count());
        for t in range {
            if t >= series.len() || t + 1 < window {
                break;
            }
            let current = window_sum(series, t, window).map_err(|date| DetectError::Missing {
                method: "mpm",
                date,
            })?;
            baseline.clear();
            for k in 1..=self.years {
                for j in -blocks..=blocks {
                    // The last period of the j-th block around the same date k years back.
                    let end = Mpm::back(series, t, k) + j * window as i64;
                    let start = end + 1 - window as i64;
                    if start < 0 || end > t as i64 - window as i64 {
                        continue;
                    }
                    if let Ok(sum) = window_sum(series, end as usize, window) {
                        baseline.push(sum);
                    }
                }
            }
            baseline.sort_by(f64::total_cmp);
            let mut e = Evaluation::at(t);
            e.score = Some(current);
            e.expected = quantile7(&baseline, 0.5);
            e.upperbound = quantile7(&baseline, p);
            e.alarm = e
                .upperbound
                .is_some_and(|u| current > u && current >= self.min_count);
            out.push(e);
        }
        Ok(out)
    }
}

/// A fixed threshold on the count of a period (or of a few).
#[derive(Debug, Clone)]
pub struct Fixed {
    threshold: f64,
    window: usize,
}

impl Fixed {
    /// Reads `threshold` and `window`.
    pub fn from_params(params: &mut Params) -> Result<Fixed, ParamError> {
        let threshold = params.number("threshold", 1.0)?;
        if threshold <= 0.0 {
            return Err(invalid("threshold", &threshold, "a number > 0"));
        }
        let window = params.count("window", 1, 1)?;
        Ok(Fixed { threshold, window })
    }
}

impl Detector for Fixed {
    fn method(&self) -> &'static str {
        "fixed"
    }

    fn describe(&self) -> String {
        format!("threshold={};window={}", self.threshold, self.window)
    }

    fn first_index(&self, _series: &Series) -> Result<usize, DetectError> {
        Ok(self.window - 1)
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        let mut out = Vec::with_capacity(range.clone().count());
        for t in range {
            if t >= series.len() || t + 1 < self.window {
                break;
            }
            let count =
                window_sum(series, t, self.window).map_err(|date| DetectError::Missing {
                    method: "fixed",
                    date,
                })?;
            let mut e = Evaluation::at(t);
            e.score = Some(count);
            e.upperbound = Some(self.threshold);
            e.alarm = count >= self.threshold;
            out.push(e);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad date"))
    }

    fn detector(method: &str, params: &str) -> Box<dyn Detector> {
        let params = Params::parse(params).unwrap_or_else(|e| panic!("{e}"));
        crate::detector(method, params).unwrap_or_else(|e| panic!("{e}"))
    }

    fn index(series: &Series, date: NaiveDate) -> usize {
        series.index_at_or_after(date)
    }

    /// Daily counts from 2021-01-01 to 2024-03-31, zero but for the last day of each baseline
    /// block around 20 March of 2021–2023, which holds 1…15, and `current` on 2024-03-20.
    fn daily_case(current: f64) -> (Series, NaiveDate) {
        let start = day(2021, 1, 1);
        let n = (day(2024, 3, 31) - start).num_days() as usize + 1;
        let mut counts = vec![Some(0.0); n];
        for (k, year) in [2023, 2022, 2021].into_iter().enumerate() {
            for j in -2i64..=2 {
                let end = day(year, 3, 20) + chrono::Duration::days(7 * j);
                let i = (end - start).num_days() as usize;
                counts[i] = Some((k * 5) as f64 + (j + 2) as f64 + 1.0);
            }
        }
        let today = day(2024, 3, 20);
        counts[(today - start).num_days() as usize] = Some(current);
        (Series::regular("d", start, Frequency::Daily, counts), today)
    }

    fn at(method: &str, params: &str, series: &Series, date: NaiveDate) -> Evaluation {
        let d = detector(method, params);
        let out = crate::run(d.as_ref(), series, Some(date), Some(date))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.len(), 1);
        out[0].clone()
    }

    #[test]
    fn daily_baseline_is_fifteen_weekly_sums_around_the_same_date() {
        // Baseline {1, …, 15}: median 8; P80 at h = 14·0.8 = 11.2 → 12 + 0.2 = 12.2;
        // P90 at h = 12.6 → 13.6; P50 = 8.
        let (series, today) = daily_case(13.0);
        let e = at("mpm", "", &series, today);
        assert_eq!(e.score, Some(13.0));
        assert_eq!(e.expected, Some(8.0));
        assert!((e.upperbound.unwrap_or_default() - 12.2).abs() < 1e-12);
        assert!(e.alarm);
        let e = at("mpm", "percentile=90", &series, today);
        assert!((e.upperbound.unwrap_or_default() - 13.6).abs() < 1e-12);
        assert!(!e.alarm);
        // A current count equal to the percentile is not a signal (strictly greater).
        let (series, today) = daily_case(8.0);
        let e = at("mpm", "percentile=50", &series, today);
        assert_eq!(e.upperbound, Some(8.0));
        assert!(!e.alarm);
        let (series, today) = daily_case(9.0);
        assert!(at("mpm", "percentile=50", &series, today).alarm);
        assert!(!at("mpm", "percentile=80", &series, today).alarm);
        // The count of the last 7 days, not of the day: the spike is still in the window 6 days
        // later, and out of it on the 7th.
        let (series, today) = daily_case(13.0);
        assert_eq!(
            at("mpm", "", &series, today + chrono::Duration::days(6)).score,
            Some(13.0)
        );
        assert_eq!(
            at("mpm", "", &series, today + chrono::Duration::days(7)).score,
            Some(0.0)
        );
        // min_count: no signal below it even above the percentile.
        assert!(!at("mpm", "min_count=14", &series, today).alarm);
    }

    #[test]
    fn daily_history_must_reach_the_earliest_block() {
        let (series, _) = daily_case(1.0);
        let d = detector("mpm", "");
        // The earliest block, three years before 2024-01-21, is 2021-01-01…07: index
        // 3·365 + 20 = 1115.
        assert_eq!(d.first_index(&series), Ok(1115));
        assert_eq!(series.dates()[1115], day(2024, 1, 21));
        assert_eq!(
            crate::run(d.as_ref(), &series, Some(day(2024, 1, 20)), None),
            Err(DetectError::NotEnoughHistory {
                method: "mpm",
                needed: 1115,
                available: 1114,
                first_possible: Some(day(2024, 1, 21)),
            })
        );
        let short = Series::regular("s", day(2023, 1, 1), Frequency::Daily, vec![Some(1.0); 400]);
        assert!(matches!(
            crate::run(d.as_ref(), &short, None, None),
            Err(DetectError::NotEnoughHistory {
                first_possible: None,
                ..
            })
        ));
        // Two years are enough with years=2.
        let d2 = detector("mpm", "years=2");
        assert_eq!(d2.first_index(&series), Ok(730 + 20));
    }

    #[test]
    fn weekly_baseline_takes_the_nearest_weeks_of_past_years() {
        // Weekly from Monday 2021-01-04; 2024-03-18 is period 167. A year before it, 2023-03-18
        // is 803 days after the start, nearest to period 115 (2023-03-20); 2022-03-18 (438 days)
        // is nearest to period 63; 2021-03-18 (73 days) to period 10. Blocks of one week, two on
        // each side: periods 113–117, 61–65 and 8–12.
        let start = day(2021, 1, 4);
        let mut counts = vec![Some(0.0); 180];
        let mut v = 0.0;
        for centre in [115usize, 63, 10] {
            for c in &mut counts[centre - 2..=centre + 2] {
                v += 1.0;
                *c = Some(v);
            }
        }
        counts[167] = Some(13.0);
        let series = Series::regular("w", start, Frequency::Weekly, counts);
        assert_eq!(index(&series, day(2024, 3, 18)), 167);
        let e = at("mpm", "", &series, day(2024, 3, 18));
        assert_eq!(e.score, Some(13.0));
        assert_eq!(e.expected, Some(8.0));
        assert!((e.upperbound.unwrap_or_default() - 12.2).abs() < 1e-12);
        assert!(e.alarm);
        assert!(!at("mpm", "percentile=90", &series, day(2024, 3, 18)).alarm);
        // A missing week drops its block: baseline {1, …, 14} (the 15 of period 12 is gone),
        // median 7.5.
        let mut gap = series.counts().to_vec();
        gap[12] = None;
        let gap = Series::regular("w", start, Frequency::Weekly, gap);
        assert_eq!(at("mpm", "", &gap, day(2024, 3, 18)).expected, Some(7.5));
        assert_eq!(
            detector("mpm", "").describe(),
            "percentile=80;years=3;window=auto;blocks=2;min_count=1"
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        for (method, bad) in [
            ("mpm", "percentile=95"),
            ("mpm", "percentile=40"),
            ("mpm", "years=0"),
            ("mpm", "window=0"),
            ("mpm", "window=7;blocks=4"),
            ("mpm", "blocks=4"),
            ("mpm", "min_count=-1"),
            ("fixed", "threshold=0"),
            ("fixed", "percentile=80"),
        ] {
            let params = Params::parse(bad).unwrap_or_else(|e| panic!("{e}"));
            assert!(crate::detector(method, params).is_err(), "{method} {bad}");
        }
    }

    #[test]
    fn fixed_threshold_signals_every_case() {
        let counts = [0.0, 1.0, 0.0, 0.0, 2.0, 1.0].map(Some).to_vec();
        let series = Series::regular("c", day(2024, 1, 1), Frequency::Daily, counts);
        let alarms = |params: &str| -> Vec<bool> {
            let d = detector("fixed", params);
            crate::run(d.as_ref(), &series, None, None)
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|e| e.alarm)
                .collect()
        };
        assert_eq!(alarms(""), [false, true, false, false, true, true]);
        assert_eq!(
            alarms("threshold=2"),
            [false, false, false, false, true, false]
        );
        // Sums over three days (1, 1, 2, 3), from the third period on.
        assert_eq!(alarms("threshold=3;window=3"), [false, false, false, true]);
        let mut gap = series.counts().to_vec();
        gap[2] = None;
        let gap = Series::regular("g", day(2024, 1, 1), Frequency::Daily, gap);
        let d = detector("fixed", "");
        assert_eq!(
            crate::run(d.as_ref(), &gap, None, None),
            Err(DetectError::Missing {
                method: "fixed",
                date: day(2024, 1, 3)
            })
        );
    }
}
