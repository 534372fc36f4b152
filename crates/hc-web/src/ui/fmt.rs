//! Small formatting helpers for pages: numbers with thousands separators, ratios, URL
//! encoding and the checks on redirect targets.

/// `1234567` → `1,234,567`.
pub fn int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `x` with `places` decimals and thousands separators; `—` when not finite.
pub fn dec(x: f64, places: usize) -> String {
    if !x.is_finite() {
        return DASH.to_owned();
    }
    let text = format!("{:.*}", places, x.abs());
    let (whole, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let whole: i64 = whole.parse().unwrap_or(0);
    let sign = if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    match frac {
        Some(f) => format!("{sign}{}.{f}", int(whole)),
        None => format!("{sign}{}", int(whole)),
    }
}

/// `num / den × per` with `places` decimals, or `—` when the denominator is zero.
pub fn ratio(num: i64, den: i64, per: f64, places: usize) -> String {
    if den <= 0 {
        DASH.to_owned()
    } else {
        dec(num as f64 / den as f64 * per, places)
    }
}

/// Shown for a missing or undefined value.
pub const DASH: &str = "—";

/// Percent-encodes a query-string component (everything but RFC 3986 unreserved and `/`).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?k=v&…` of the pairs whose value is not empty; `""` when none is.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Whether `s` is a path on this site (`/x`, not `//host` or `/\host`), safe to redirect to.
pub fn is_local_path(s: &str) -> bool {
    let b = s.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && !s.chars().any(char::is_control)
}

/// A local redirect target as a valid `Location` value: non-ASCII and spaces percent-encoded.
pub fn location(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x21..0x7f).contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?query` without the parameters named in `drop` (e.g. a locale override or an identity number).
pub fn without_params(path_and_query: &str, drop: &[&str]) -> String {
    let Some((path, q)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let kept: Vec<&str> = q
        .split('&')
        .filter(|kv| !kv.is_empty())
        .filter(|kv| {
            let key = kv.split_once('=').map_or(*kv, |(k, _)| k);
            !drop.contains(&key)
        })
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// Escapes text for HTML or SVG markup built outside templates.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_separators() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(17_500_000), "17,500,000");
        assert_eq!(int(-1234), "-1,234");
        assert_eq!(dec(1234.567, 1), "1,234.6");
        assert_eq!(dec(0.04, 1), "0.0");
        assert_eq!(dec(-0.04, 1), "0.0");
        assert_eq!(ratio(3, 0, 1000.0, 1), DASH);
        assert_eq!(ratio(1200, 3, 1000.0, 1), "400,000.0");
    }

    #[test]
    fn urls_are_encoded_and_checked() {
        assert_eq!(enc("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
        assert_eq!(enc("王"), "%E7%8E%8B");
        assert_eq!(
            query(&[("kind", "chc"), ("name", ""), ("after", "50")]),
            "?kind=chc&after=50"
        );
        assert!(is_local_path("/"));
        assert!(is_local_path("/institutions?kind=chc"));
        assert!(!is_local_path("//evil.example"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("https://evil.example"));
        assert!(!is_local_path("/a\r\nSet-Cookie: x"));
        assert_eq!(location("/residents?name=王"), "/residents?name=%E7%8E%8B");
        assert_eq!(
            without_params("/r?lang=en&name=x&id_number=1", &["lang", "id_number"]),
            "/r?name=x"
        );
        assert_eq!(without_params("/r?lang=en", &["lang"]), "/r");
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
