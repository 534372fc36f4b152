//! ICD-10 codes as records write them (`J10.1`, `J101`, `j11`, `A39.0†`, `J18.900x001`) and the
//! ranges of the dictionary (`A00-A09`, `B08.2`, `K52`).

use std::fmt;

/// An ICD-10 code read into its 3-character category and the subdivision digits after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcdCode<'a> {
    /// The category as a number: the letter's index × 100 + the two digits (`J10` → 910).
    category: u16,
    /// The digits after the category, without the dot (`J10.1` and `J101` → `1`).
    subdivision: &'a str,
}

impl<'a> IcdCode<'a> {
    /// Reads a code: a letter and two digits, then optionally a dot and digits, then
    /// optionally an extension starting with `x` (the national clinical edition's `x001`);
    /// case does not matter, and a trailing dagger or asterisk (dual classification) is
    /// ignored. `None` when `text` is not of that shape.
    pub fn parse(text: &'a str) -> Option<IcdCode<'a>> {
        let text = text.trim().trim_end_matches(['†', '*', '+']).trim_end();
        let b = text.as_bytes();
        if b.len() < 3 || !b[0].is_ascii_alphabetic() {
            return None;
        }
        let (d1, d2) = (b[1], b[2]);
        if !d1.is_ascii_digit() || !d2.is_ascii_digit() {
            return None;
        }
        let category = u16::from(b[0].to_ascii_uppercase() - b'A') * 100
            + u16::from(d1 - b'0') * 10
            + u16::from(d2 - b'0');
        let rest = text.get(3..)?;
        let rest = rest.strip_prefix('.').unwrap_or(rest);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (subdivision, extension) = rest.split_at(digits);
        let extension_ok = extension.is_empty()
            || (extension.starts_with(['x', 'X'])
                && extension[1..].bytes().all(|c| c.is_ascii_alphanumeric()));
        extension_ok.then_some(IcdCode {
            category,
            subdivision,
        })
    }
}

/// A dictionary entry: a category (`K52`), a range of categories (`A00-A09`), or a
/// subdivision and everything under it (`B08.2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IcdRange {
    from: u16,
    to: u16,
    subdivision: Option<String>,
    /// As written in the dictionary, for the reasons.
    pub(crate) text: String,
}

impl IcdRange {
    /// Reads `A00-A09` (a hyphen or an en dash), `K52` or `B08.2`.
    pub(crate) fn parse(text: &str) -> Result<IcdRange, String> {
        let text = text.trim();
        let category = |part: &str| -> Result<(u16, String), String> {
            let part = part.trim();
            let code = IcdCode::parse(part)
                .filter(|_| !part.contains(['x', 'X']))
                .ok_or_else(|| format!("`{part}` is not an ICD-10 category or subdivision"))?;
            Ok((code.category, code.subdivision.to_owned()))
        };
        let entry = match text.split_once(['-', '–']) {
            Some((a, b)) => {
                let (from, sub_a) = category(a)?;
                let (to, sub_b) = category(b)?;
                if !sub_a.is_empty() || !sub_b.is_empty() {
                    return Err(format!(
                        "`{text}`: a range joins two 3-character categories (A00-A09)"
                    ));
                }
                if from > to {
                    return Err(format!("`{text}`: the range runs backwards"));
                }
                IcdRange {
                    from,
                    to,
                    subdivision: None,
                    text: text.to_owned(),
                }
            }
            None => {
                let (cat, sub) = category(text)?;
                IcdRange {
                    from: cat,
                    to: cat,
                    subdivision: (!sub.is_empty()).then_some(sub),
                    text: text.to_owned(),
                }
            }
        };
        Ok(entry)
    }

    /// Whether `code` falls in the entry.
    pub(crate) fn contains(&self, code: &IcdCode<'_>) -> bool {
        (self.from..=self.to).contains(&code.category)
            && self
                .subdivision
                .as_deref()
                .is_none_or(|s| code.subdivision.starts_with(s))
    }
}

impl fmt::Display for IcdRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(range: &str, code: &str) -> bool {
        let range = IcdRange::parse(range).unwrap();
        let code = IcdCode::parse(code).unwrap();
        range.contains(&code)
    }

    #[test]
    fn codes_are_read_with_or_without_dot_in_any_case() {
        for code in [
            "J10.1",
            "J101",
            "j10.1",
            " J10.1 ",
            "J10.100x001",
            "J10.1†",
            "J10.1*",
        ] {
            assert!(inside("J09-J11", code), "{code}");
        }
        assert!(inside("J09-J11", "j11"));
        assert!(inside("J09-J11", "J09"));
        assert!(!inside("J09-J11", "J12.0"));
        assert!(!inside("J09-J11", "J06.9"));
        for bad in ["", "J1", "10.1", "JJ0", "J10.1a", "感冒", "J10-1"] {
            assert_eq!(IcdCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_subdivision_takes_itself_and_what_is_under_it() {
        assert!(inside("B08.2", "B08.2"));
        assert!(inside("B08.2", "B082"));
        assert!(inside("B08.2", "B08.20"));
        assert!(!inside("B08.2", "B08.5"));
        assert!(!inside("B08.2", "B08"));
        assert!(inside("K52", "K52.9"));
        assert!(inside("K52", "K52"));
        assert!(inside("A00-A09", "A09.0"));
        assert!(inside("A00–A09", "A04.7"));
        assert!(!inside("A00-A09", "A15.0"));
        assert!(inside("A83-A87", "A86"));
        assert!(!inside("G00-G05", "G06"));
    }

    #[test]
    fn bad_ranges_say_what_is_wrong() {
        assert!(
            IcdRange::parse("A09-A00")
                .unwrap_err()
                .contains("backwards")
        );
        assert!(
            IcdRange::parse("B08.2-B08.4")
                .unwrap_err()
                .contains("3-character")
        );
        assert!(
            IcdRange::parse("flu")
                .unwrap_err()
                .contains("not an ICD-10")
        );
        assert!(IcdRange::parse("J10x001").is_err());
    }
}
