//! Allocation of unique, valid identity numbers.
//!
//! A GB 11643 number is unique by (address code, birth date, sequence); the sequence's parity
//! carries the sex, so each (region, date, sex) has 500 sequences: `2k + 1` for men, `2k` for
//! women, `k = 0..500`. The allocator keeps one counter per (region, date, sex) in a dense
//! array per region (about 37,000 days × 2 sexes × 2 bytes = 150 kB a region), so memory stays
//! bounded however many people are generated.

use chrono::{Datelike, NaiveDate};
use hc_core::idcard;
use hc_core::model::Sex;

/// Sequences available per (region, date, sex).
const PER_SEX: u16 = 500;

/// Hands out identity numbers that are valid and never repeat.
pub(crate) struct SeqAllocator {
    /// `num_days_from_ce` of the first birth date covered.
    first_day: i32,
    /// Number of birth dates covered.
    days: usize,
    /// Used-sequence counters per region, indexed by `day * 2 + (sex == M)`.
    regions: Vec<(u32, Vec<u16>)>,
}

impl SeqAllocator {
    /// An allocator for birth dates from `first` to `last` inclusive.
    pub(crate) fn new(first: NaiveDate, last: NaiveDate) -> Self {
        let first_day = first.num_days_from_ce();
        let days = usize::try_from(last.num_days_from_ce() - first_day + 1).unwrap_or(0);
        SeqAllocator {
            first_day,
            days,
            regions: Vec::new(),
        }
    }

    fn counters(&mut self, region: u32) -> &mut Vec<u16> {
        let i = match self.regions.iter().position(|(r, _)| *r == region) {
            Some(i) => i,
            None => {
                self.regions.push((region, vec![0; self.days * 2]));
                self.regions.len() - 1
            }
        };
        &mut self.regions[i].1
    }

    /// A new identity number for someone of `sex` born on `birth`, under the first of
    /// `regions` that still has a free sequence that day; `None` when none has (or the date
    /// lies outside the allocator's range).
    pub(crate) fn allocate(
        &mut self,
        regions: &[u32],
        birth: NaiveDate,
        sex: Sex,
    ) -> Option<String> {
        let day = usize::try_from(birth.num_days_from_ce() - self.first_day).ok()?;
        if day >= self.days {
            return None;
        }
        let slot = day * 2 + usize::from(sex == Sex::M);
        for &region in regions {
            let counters = self.counters(region);
            let k = counters[slot];
            if k < PER_SEX {
                counters[slot] = k + 1;
                let k = u32::from(k);
                let seq = if sex == Sex::M { 2 * k + 1 } else { 2 * k };
                return Some(idcard::compose(region, birth, seq, sex));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn numbers_are_unique_valid_and_overflow_to_the_next_region() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let mut a = SeqAllocator::new(d(1990, 1, 1), d(1990, 12, 31));
        let mut seen = HashSet::new();
        for sex in [Sex::M, Sex::F] {
            for i in 0..1000 {
                let n = a.allocate(&[440305, 440301], d(1990, 5, 1), sex).unwrap();
                let f = idcard::parse(&n, d(2026, 1, 1)).unwrap();
                assert_eq!((f.sex, f.birth_date), (sex, d(1990, 5, 1)));
                assert_eq!(f.region, if i < 500 { 440305 } else { 440301 });
                assert!(seen.insert(n));
            }
            assert_eq!(a.allocate(&[440305, 440301], d(1990, 5, 1), sex), None);
        }
        assert_eq!(a.allocate(&[440305], d(1991, 1, 1), Sex::M), None);
    }
}
