//! Normalising a complaint, finding its clause marks and the numbers in it.

/// Writes the normal form of `text` into `out` (cleared first): full-width ASCII variants and
/// the ideographic space become ASCII, ASCII letters lower case, runs of white space one space
/// (line breaks stay line breaks), and spaces after a colon are dropped. Terms of the
/// dictionary go through the same function, so both sides compare alike.
pub(crate) fn normalise_into(text: &str, out: &mut String) {
    out.clear();
    out.reserve(text.len());
    let mut last = '\0';
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '\r' => '\n',
            c => c,
        }
        .to_ascii_lowercase();
        let c = if c != '\n' && c.is_whitespace() {
            ' '
        } else {
            c
        };
        if (c == ' ' && (last == ' ' || last == ':' || last == '\n')) || (c == '\n' && last == '\n')
        {
            continue;
        }
        if c == '\n' && last == ' ' {
            out.pop();
        }
        out.push(c);
        last = c;
    }
}

/// [`normalise_into`] into a new string, trimmed.
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::new();
    normalise_into(text, &mut out);
    out.trim().to_owned()
}

/// Byte offsets of the clause marks of normalised `text`: each character of `marks`, except
/// a full stop between two digits (a decimal point).
pub(crate) fn clause_marks(text: &str, marks: &[char], out: &mut Vec<usize>) {
    let b = text.as_bytes();
    for (i, c) in text.char_indices() {
        if !marks.contains(&c) {
            continue;
        }
        if c == '.'
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            continue;
        }
        out.push(i);
    }
}

/// The scale a unit gives a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    Celsius,
    Fahrenheit,
}

/// A number of the text and what surrounds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Number {
    /// Where its first digit is.
    pub start: usize,
    /// Just after its last digit.
    pub end: usize,
    /// Its value as written (before any conversion).
    pub value: f64,
    /// Written with a decimal point.
    pub decimal: bool,
    /// The temperature unit after it, if any.
    pub unit: Option<Scale>,
    /// Followed by something that makes it not a temperature (36小时, 38.5kg, 38 weeks).
    pub not_temperature: bool,
}

/// What makes a number a temperature or not, beyond cues.
#[derive(Debug)]
pub(crate) struct Units {
    /// Temperature units, longest first, with their scale.
    pub units: Vec<(String, Scale)>,
    /// Words after a number that make it something else (天, 次, 岁, ...).
    pub not_units: Vec<String>,
}

/// A range between two numbers: 38-39, 38~39, 38至39, 38到39.
fn is_range_separator(between: &str) -> bool {
    matches!(between.trim(), "-" | "~" | "～" | "至" | "到" | "—" | "–")
}

/// The numbers of normalised `text`, in order.
pub(crate) fn numbers(text: &str, units: &Units, out: &mut Vec<Number>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let mut decimal = false;
        if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            decimal = true;
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        let end = i;
        let Ok(mut value) = text[start..end].parse::<f64>() else {
            continue;
        };
        // What follows, after spaces.
        let rest = text[end..].trim_start_matches(' ');
        let mut unit = None;
        let mut not_temperature = false;
        if let Some((u, scale)) = units.units.iter().find(|(u, _)| {
            rest.starts_with(u.as_str())
                && (!u.ends_with(|c: char| c.is_ascii_alphabetic())
                    || !rest[u.len()..].starts_with(|c: char| c.is_ascii_alphabetic()))
        }) {
            unit = Some(*scale);
            // 38度5: the colloquial way of saying 38.5.
            let after = &rest.as_bytes()[u.len()..];
            if u == "度"
                && !decimal
                && after.first().is_some_and(u8::is_ascii_digit)
                && !after.get(1).is_some_and(u8::is_ascii_digit)
            {
                value += f64::from(after[0] - b'0') / 10.0;
                decimal = true;
                i = end + (text[end..].len() - rest.len()) + u.len() + 1;
            }
        } else if text[end..].starts_with(|c: char| c.is_ascii_alphabetic())
            || units.not_units.iter().any(|w| {
                rest.starts_with(w.as_str())
                    && (!w.ends_with(|c: char| c.is_ascii_alphabetic())
                        || !rest[w.len()..].starts_with(|c: char| c.is_ascii_alphabetic()))
            })
        {
            // A letter right after the number (38.5kg, 3d), or a word that makes it a count,
            // an age, a weight, a duration.
            not_temperature = true;
        }
        out.push(Number {
            start,
            end,
            value,
            decimal,
            unit,
            not_temperature,
        });
    }
    // A range shares its unit: 38-39℃, 38℃~39.
    for k in 1..out.len() {
        let (a, b) = (out[k - 1].end, out[k].start);
        if a <= b && is_range_separator(&text[a..b]) {
            match (out[k - 1].unit, out[k].unit) {
                (None, Some(u)) if !out[k - 1].not_temperature => out[k - 1].unit = Some(u),
                (Some(u), None) if !out[k].not_temperature => out[k].unit = Some(u),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> Units {
        Units {
            units: vec![
                ("°c".into(), Scale::Celsius),
                ("°f".into(), Scale::Fahrenheit),
                ("℃".into(), Scale::Celsius),
                ("度".into(), Scale::Celsius),
                ("°".into(), Scale::Celsius),
                ("c".into(), Scale::Celsius),
                ("f".into(), Scale::Fahrenheit),
            ],
            not_units: vec!["天".into(), "小时".into(), "weeks".into(), "cm".into()],
        }
    }

    fn nums(text: &str) -> Vec<(f64, Option<Scale>, bool)> {
        let text = normalise(text);
        let mut out = Vec::new();
        numbers(&text, &units(), &mut out);
        out.into_iter()
            .map(|n| (n.value, n.unit, n.not_temperature))
            .collect()
    }

    #[test]
    fn normal_form() {
        assert_eq!(
            normalise("  Fever　３８．５℃ ，  T:  39 \r\n Cough "),
            "fever 38.5℃ , t:39\ncough"
        );
        assert_eq!(normalise("（－）"), "(-)");
        assert_eq!(
            normalise("ＦＥＶＥＲ ３８．９，ＣＯＵＧＨ"),
            "fever 38.9,cough"
        );
    }

    #[test]
    fn decimal_points_are_not_clause_marks() {
        let text = normalise("T 38.5. cough");
        let mut out = Vec::new();
        clause_marks(&text, &['.', ','], &mut out);
        assert_eq!(out, [6]);
    }

    #[test]
    fn numbers_with_units_ranges_and_colloquial_decimals() {
        use Scale::*;
        assert_eq!(nums("发热38.5℃"), [(38.5, Some(Celsius), false)]);
        assert_eq!(nums("temp 101.3 F"), [(101.3, Some(Fahrenheit), false)]);
        assert_eq!(
            nums("38-39℃"),
            [(38.0, Some(Celsius), false), (39.0, Some(Celsius), false)]
        );
        assert_eq!(nums("烧到38度5"), [(38.5, Some(Celsius), false)]);
        assert_eq!(nums("发热36小时"), [(36.0, None, true)]);
        assert_eq!(nums("38 weeks"), [(38.0, None, true)]);
        assert_eq!(nums("37 cm"), [(37.0, None, true)]);
        assert_eq!(nums("x3d 38.9"), [(3.0, None, true), (38.9, None, false)]);
        assert_eq!(nums("38.5kg"), [(38.5, None, true)]);
        assert_eq!(nums("39 sore throat"), [(39.0, None, false)]);
    }
}
