//! The syndromes and a set of them.

use std::fmt;

/// A surveillance syndrome. The order of the variants is the order codes are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Syndrome {
    /// 发热: a temperature at or above the threshold, or a fever stated in words.
    Fever,
    /// 流感样病例: fever of at least 38 °C with cough or sore throat.
    Ili,
    /// 腹泻/呕吐: diarrhoea or vomiting.
    Gi,
    /// 出疹: a rash.
    Rash,
    /// 黄疸: jaundice.
    Jaundice,
    /// 结膜红肿: red eyes, conjunctivitis.
    Conjunctivitis,
    /// 脑炎脑膜炎症状: neck stiffness, altered consciousness, convulsions.
    Neuro,
    /// 发热伴出血: fever with a bleeding sign.
    FeverHaem,
}

impl Syndrome {
    /// Every syndrome, in output order.
    pub const ALL: [Syndrome; 8] = [
        Syndrome::Fever,
        Syndrome::Ili,
        Syndrome::Gi,
        Syndrome::Rash,
        Syndrome::Jaundice,
        Syndrome::Conjunctivitis,
        Syndrome::Neuro,
        Syndrome::FeverHaem,
    ];

    /// The code used in files and in the dictionary: `fever`, `ili`, `gi`, `rash`, `jaundice`,
    /// `conjunctivitis`, `neuro`, `fever_haem`.
    pub fn as_str(self) -> &'static str {
        match self {
            Syndrome::Fever => "fever",
            Syndrome::Ili => "ili",
            Syndrome::Gi => "gi",
            Syndrome::Rash => "rash",
            Syndrome::Jaundice => "jaundice",
            Syndrome::Conjunctivitis => "conjunctivitis",
            Syndrome::Neuro => "neuro",
            Syndrome::FeverHaem => "fever_haem",
        }
    }

    /// The syndrome with code `code`.
    pub fn parse(code: &str) -> Option<Syndrome> {
        Syndrome::ALL.into_iter().find(|s| s.as_str() == code)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Syndrome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of syndromes; iterates and prints in the fixed order of [`Syndrome::ALL`], codes
/// joined by `|` (empty when there are none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SyndromeSet(u8);

impl SyndromeSet {
    /// No syndrome.
    pub const EMPTY: SyndromeSet = SyndromeSet(0);

    /// Adds `s`.
    pub fn insert(&mut self, s: Syndrome) {
        self.0 |= s.bit();
    }

    /// Whether `s` is in the set.
    pub fn contains(self, s: Syndrome) -> bool {
        self.0 & s.bit() != 0
    }

    /// Whether the set has no syndrome.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the two sets share a syndrome.
    pub(crate) fn overlaps(self, other: SyndromeSet) -> bool {
        self.0 & other.0 != 0
    }

    /// How many syndromes the set has.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The syndromes, in output order.
    pub fn iter(self) -> impl Iterator<Item = Syndrome> {
        Syndrome::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Reads codes joined by `|` (`fever|ili`; empty for none), in any order. `Err` holds the
    /// first code that is not a syndrome.
    pub fn parse(text: &str) -> Result<SyndromeSet, String> {
        let mut set = SyndromeSet::EMPTY;
        for code in text.split('|').map(str::trim).filter(|c| !c.is_empty()) {
            set.insert(Syndrome::parse(code).ok_or_else(|| code.to_owned())?);
        }
        Ok(set)
    }
}

impl FromIterator<Syndrome> for SyndromeSet {
    fn from_iter<I: IntoIterator<Item = Syndrome>>(iter: I) -> Self {
        let mut set = SyndromeSet::EMPTY;
        for s in iter {
            set.insert(s);
        }
        set
    }
}

impl fmt::Display for SyndromeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_print_in_the_fixed_order_and_parse_back() {
        let set: SyndromeSet = [Syndrome::FeverHaem, Syndrome::Gi, Syndrome::Fever]
            .into_iter()
            .collect();
        assert_eq!(set.to_string(), "fever|gi|fever_haem");
        assert_eq!(set.len(), 3);
        assert_eq!(SyndromeSet::parse("fever_haem|fever|gi"), Ok(set));
        assert_eq!(SyndromeSet::parse(""), Ok(SyndromeSet::EMPTY));
        assert_eq!(SyndromeSet::EMPTY.to_string(), "");
        assert_eq!(SyndromeSet::parse("fever|flu"), Err("flu".to_owned()));
        for s in Syndrome::ALL {
            assert_eq!(Syndrome::parse(s.as_str()), Some(s));
        }
    }
}
