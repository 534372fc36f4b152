//! Time series of counts: regular dates (daily or weekly), counts that may be missing, and an
//! optional population for each period.

use chrono::NaiveDate;

/// How far apart consecutive periods of a series are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// One period a day.
    Daily,
    /// One period every seven days.
    Weekly,
}

impl Frequency {
    /// Days between consecutive periods.
    pub fn days(self) -> i64 {
        match self {
            Frequency::Daily => 1,
            Frequency::Weekly => 7,
        }
    }

    /// Periods in a year, as R's `sts` objects count them (`frequency`).
    pub fn periods_per_year(self) -> usize {
        match self {
            Frequency::Daily => 365,
            Frequency::Weekly => 52,
        }
    }

    /// `daily` or `weekly`.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }
}

/// One period of input: its date, its count (`None` when missing) and its population.
pub type Period = (NaiveDate, Option<f64>, Option<f64>);

/// A named series of counts at regular dates.
///
/// Invariants, checked by [`Series::new`]: dates strictly increase by one [`Frequency`] step,
/// counts and populations are finite and not negative, all vectors have the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    name: String,
    dates: Vec<NaiveDate>,
    counts: Vec<Option<f64>>,
    population: Option<Vec<f64>>,
    frequency: Frequency,
}

/// Why a series cannot be analysed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeriesError {
    /// A series needs two dates to know its frequency.
    #[error("has {0} period(s); at least 2 are needed to tell daily from weekly data")]
    TooShort(usize),
    /// Dates, counts and populations differ in length.
    #[error("dates, counts and populations differ in length")]
    Length,
    /// The same date twice.
    #[error("date {0} appears twice")]
    Duplicate(NaiveDate),
    /// The first two dates are neither 1 nor 7 days apart.
    #[error(
        "dates {0} and {1} are {2} days apart; a series must be daily (1 day) or weekly (7 days)"
    )]
    UnknownFrequency(NaiveDate, NaiveDate, i64),
    /// A gap or a step that breaks the series' frequency.
    #[error("irregular dates: {prev} is followed by {next}, {gap} days later, but the series is {frequency} ({days} days)", frequency = .frequency.as_str(), days = .frequency.days())]
    Irregular {
        /// The earlier date.
        prev: NaiveDate,
        /// The date that breaks the step.
        next: NaiveDate,
        /// Days between them.
        gap: i64,
        /// The frequency the series' first dates set.
        frequency: Frequency,
    },
    /// A count below zero or not a finite number.
    #[error("count {count} on {date} is not a non-negative number")]
    BadCount {
        /// The period's date.
        date: NaiveDate,
        /// The value given.
        count: f64,
    },
    /// A population that is not positive and finite.
    #[error("population {population} on {date} is not a positive number")]
    BadPopulation {
        /// The period's date.
        date: NaiveDate,
        /// The value given.
        population: f64,
    },
}

impl Series {
    /// Builds a series from periods in any order; they are sorted by date and checked.
    pub fn new(name: impl Into<String>, mut periods: Vec<Period>) -> Result<Series, SeriesError> {
        periods.sort_by_key(|p| p.0);
        if periods.len() < 2 {
            return Err(SeriesError::TooShort(periods.len()));
        }
        let first_gap = (periods[1].0 - periods[0].0).num_days();
        let frequency = match first_gap {
            0 => return Err(SeriesError::Duplicate(periods[0].0)),
            1 => Frequency::Daily,
            7 => Frequency::Weekly,
            gap => {
                return Err(SeriesError::UnknownFrequency(
                    periods[0].0,
                    periods[1].0,
                    gap,
                ));
            }
        };
        for pair in periods.windows(2) {
            let gap = (pair[1].0 - pair[0].0).num_days();
            if gap == 0 {
                return Err(SeriesError::Duplicate(pair[0].0));
            }
            if gap != frequency.days() {
                return Err(SeriesError::Irregular {
                    prev: pair[0].0,
                    next: pair[1].0,
                    gap,
                    frequency,
                });
            }
        }
        for &(date, count, population) in &periods {
            if let Some(count) = count
                && (!count.is_finite() || count < 0.0)
            {
                return Err(SeriesError::BadCount { date, count });
            }
            if let Some(population) = population
                && (!population.is_finite() || population <= 0.0)
            {
                return Err(SeriesError::BadPopulation { date, population });
            }
        }
        let with_population = periods.iter().any(|p| p.2.is_some());
        let population = if with_population {
            let mut values = Vec::with_capacity(periods.len());
            for &(date, _, population) in &periods {
                match population {
                    Some(p) => values.push(p),
                    None => {
                        return Err(SeriesError::BadPopulation {
                            date,
                            population: f64::NAN,
                        });
                    }
                }
            }
            Some(values)
        } else {
            None
        };
        Ok(Series {
            name: name.into(),
            dates: periods.iter().map(|p| p.0).collect(),
            counts: periods.iter().map(|p| p.1).collect(),
            population,
            frequency,
        })
    }

    /// Builds a series of consecutive periods starting at `start`.
    pub fn regular(
        name: impl Into<String>,
        start: NaiveDate,
        frequency: Frequency,
        counts: Vec<Option<f64>>,
    ) -> Series {
        let dates = (0..counts.len())
            .map(|i| start + chrono::Duration::days(i as i64 * frequency.days()))
            .collect();
        Series {
            name: name.into(),
            dates,
            counts,
            population: None,
            frequency,
        }
    }

    /// The series' name (the `series` column).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Dates of the periods, increasing.
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// Counts of the periods; `None` is a missing value (R's `NA`).
    pub fn counts(&self) -> &[Option<f64>] {
        &self.counts
    }

    /// Population of each period, when the input had one.
    pub fn population(&self) -> Option<&[f64]> {
        self.population.as_deref()
    }

    /// Daily or weekly.
    pub fn frequency(&self) -> Frequency {
        self.frequency
    }

    /// Number of periods.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// True when the series has no periods (never, for a series built by [`Series::new`]).
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// The index of `date`, or of the first period after it.
    pub fn index_at_or_after(&self, date: NaiveDate) -> usize {
        self.dates.partition_point(|d| *d < date)
    }

    /// The index of `date`, or of the last period before it (`None` when all are later).
    pub fn index_at_or_before(&self, date: NaiveDate) -> Option<usize> {
        self.dates.partition_point(|d| *d <= date).checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn frequency_comes_from_the_dates() {
        let s = Series::new(
            "a",
            vec![
                (d("2024-01-08"), Some(2.0), None),
                (d("2024-01-01"), None, None),
            ],
        );
        let s = s.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.frequency(), Frequency::Weekly);
        assert_eq!(s.counts(), &[None, Some(2.0)]);
    }

    #[test]
    fn gaps_and_bad_counts_are_named() {
        let gap = Series::new(
            "a",
            vec![
                (d("2024-01-01"), Some(1.0), None),
                (d("2024-01-02"), Some(1.0), None),
                (d("2024-01-04"), Some(1.0), None),
            ],
        );
        assert_eq!(
            gap.map(|_| ()).map_err(|e| e.to_string()),
            Err("irregular dates: 2024-01-02 is followed by 2024-01-04, 2 days later, but the series is daily (1 days)".into())
        );
        let negative = Series::new(
            "a",
            vec![
                (d("2024-01-01"), Some(-1.0), None),
                (d("2024-01-02"), Some(1.0), None),
            ],
        );
        assert!(matches!(negative, Err(SeriesError::BadCount { .. })));
    }
}
