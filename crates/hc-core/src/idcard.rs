//! Mainland resident identity numbers (居民身份证号码), GB 11643-1999.
//!
//! An 18-character number: a 6-digit address code (GB/T 2260), an 8-digit birth date
//! `YYYYMMDD`, a 3-digit sequence whose parity encodes sex (odd = male, even = female) and an
//! ISO 7064 MOD 11-2 check character (`0`-`9` or `X`).

use chrono::NaiveDate;

use crate::model::Sex;

/// Weights of positions 1..=17 under ISO 7064 MOD 11-2 (2^(18-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of the weighted sum modulo 11.
const CHECK: [u8; 11] = *b"10X98765432";

/// Why an identity number is not a valid GB 11643 number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters long.
    #[error("must be 18 characters, found {0}")]
    Length(usize),
    /// A character other than a digit in the first 17 positions, or other than a digit or `X` last.
    #[error("character {position} must be a digit{}", if *.position == 18 { " or X" } else { "" })]
    Character {
        /// 1-based position of the offending character.
        position: usize,
    },
    /// The province part of the address code is not a province.
    #[error("address code {0} does not name a province")]
    Region(String),
    /// Positions 7-14 are not a calendar date.
    #[error("birth date {0} is not a valid date")]
    BirthDate(String),
    /// The encoded birth date lies after the reference date.
    #[error("birth date {0} is in the future")]
    FutureBirth(NaiveDate),
    /// The check character does not match.
    #[error("check digit is {found}, expected {expected}")]
    CheckDigit {
        /// Character found in position 18.
        found: char,
        /// Character the first 17 digits call for.
        expected: char,
    },
}

/// The facts a valid identity number encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdNumberFacts {
    /// The 6-digit address code of the place of first registration.
    pub region: u32,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex, from the parity of the sequence code.
    pub sex: Sex,
}

/// The check character for the first 17 digits of an identity number.
///
/// Returns `None` when `first17` is not 17 ASCII digits.
pub fn check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(char::from(CHECK[(sum % 11) as usize]))
}

/// Validates an identity number (upper-case `X` expected; see [`normalize`]) and returns what it encodes.
///
/// `today` bounds the birth date; the check is pure and reads no clock.
pub fn parse(number: &str, today: NaiveDate) -> Result<IdNumberFacts, IdNumberError> {
    let b = number.as_bytes();
    if b.len() != 18 || !number.is_ascii() {
        return Err(IdNumberError::Length(number.chars().count()));
    }
    if let Some(pos) = b[..17].iter().position(|c| !c.is_ascii_digit()) {
        return Err(IdNumberError::Character { position: pos + 1 });
    }
    if !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err(IdNumberError::Character { position: 18 });
    }
    let province = &number[..2];
    if !is_province(province) {
        return Err(IdNumberError::Region(number[..6].to_owned()));
    }
    let date_str = &number[6..14];
    let birth_date = NaiveDate::parse_from_str(date_str, "%Y%m%d")
        .map_err(|_| IdNumberError::BirthDate(date_str.to_owned()))?;
    if birth_date > today {
        return Err(IdNumberError::FutureBirth(birth_date));
    }
    let expected = check_char(&b[..17]).ok_or(IdNumberError::Character { position: 1 })?;
    let found = char::from(b[17]);
    if found != expected {
        return Err(IdNumberError::CheckDigit { found, expected });
    }
    let sex = if (b[16] - b'0') % 2 == 1 {
        Sex::M
    } else {
        Sex::F
    };
    let region = number[..6]
        .parse()
        .map_err(|_| IdNumberError::Region(number[..6].to_owned()))?;
    Ok(IdNumberFacts {
        region,
        birth_date,
        sex,
    })
}

/// Trims surrounding whitespace and upper-cases a trailing `x`.
pub fn normalize(number: &str) -> String {
    number.trim().to_ascii_uppercase()
}

/// Builds a valid identity number from its parts; `sequence` is reduced to 0..=999 and its
/// last digit adjusted to match `sex`.
pub fn compose(region: u32, birth_date: NaiveDate, sequence: u32, sex: Sex) -> String {
    let mut seq = sequence % 1000;
    let odd = seq % 2 == 1;
    if odd != (sex == Sex::M) {
        seq = if seq == 999 { 998 } else { seq + 1 };
        if (seq % 2 == 1) != (sex == Sex::M) {
            seq -= 2;
        }
    }
    let mut s = format!(
        "{:06}{}{:03}",
        region % 1_000_000,
        birth_date.format("%Y%m%d"),
        seq
    );
    // `s` is 17 ASCII digits by construction, so a check character always exists.
    if let Some(c) = check_char(s.as_bytes()) {
        s.push(c);
    }
    s
}

/// Province-level codes of GB/T 2260 (including 71 Taiwan, 81 Hong Kong, 82 Macao).
fn is_province(two: &str) -> bool {
    matches!(
        two,
        "11" | "12"
            | "13"
            | "14"
            | "15"
            | "21"
            | "22"
            | "23"
            | "31"
            | "32"
            | "33"
            | "34"
            | "35"
            | "36"
            | "37"
            | "41"
            | "42"
            | "43"
            | "44"
            | "45"
            | "46"
            | "50"
            | "51"
            | "52"
            | "53"
            | "54"
            | "61"
            | "62"
            | "63"
            | "64"
            | "65"
            | "71"
            | "81"
            | "82"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn accepts_the_standard_example() {
        // The worked example of GB 11643-1999, appendix A.
        let facts = parse("11010519491231002X", today()).unwrap();
        assert_eq!(facts.region, 110105);
        assert_eq!(
            facts.birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(facts.sex, Sex::F);
        assert_eq!(parse("440524188001010014", today()).unwrap().sex, Sex::M);
    }

    #[test]
    fn rejects_each_kind_of_error() {
        let t = today();
        assert_eq!(parse("1101051949123100", t), Err(IdNumberError::Length(16)));
        assert_eq!(
            parse("11010519491231002Y", t),
            Err(IdNumberError::Character { position: 18 })
        );
        assert_eq!(
            parse("1101051949123A002X", t),
            Err(IdNumberError::Character { position: 14 })
        );
        assert_eq!(
            parse("99010519491231002X", t),
            Err(IdNumberError::Region("990105".into()))
        );
        assert_eq!(
            parse("110105194913310021", t),
            Err(IdNumberError::BirthDate("19491331".into()))
        );
        assert_eq!(
            parse("110105194912310021", t),
            Err(IdNumberError::CheckDigit {
                found: '1',
                expected: 'X'
            })
        );
        let future = compose(
            440305,
            NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            1,
            Sex::M,
        );
        assert!(matches!(
            parse(&future, t),
            Err(IdNumberError::FutureBirth(_))
        ));
    }

    #[test]
    fn compose_round_trips_for_every_sequence() {
        let d = NaiveDate::from_ymd_opt(1990, 2, 28).unwrap();
        for seq in 0..1000 {
            for sex in [Sex::M, Sex::F] {
                let n = compose(440305, d, seq, sex);
                let f = parse(&n, today()).unwrap_or_else(|e| panic!("{n}: {e}"));
                assert_eq!((f.sex, f.birth_date, f.region), (sex, d, 440305), "{n}");
            }
        }
    }

    #[test]
    fn normalize_uppercases_x() {
        assert_eq!(normalize(" 11010519491231002x "), "11010519491231002X");
    }
}
