//! Charts drawn on the server as inline SVG: accessible (`role="img"`, title and
//! description), styled by the page's CSS classes, no script.

use std::fmt::Write;

use hc_store::PyramidBar;

use super::fmt::{escape, int};

/// Texts of a pyramid chart, already translated.
pub struct PyramidText<'a> {
    /// Title (read by screen readers).
    pub title: &'a str,
    /// Longer description (read by screen readers).
    pub desc: &'a str,
    /// "Male".
    pub male: &'a str,
    /// "Female".
    pub female: &'a str,
    /// Label of each bar, youngest first.
    pub bands: &'a [String],
}

const WIDTH: f64 = 720.0;
const ROW: f64 = 22.0;
const BAR: f64 = 15.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 30.0;
const CENTRE: f64 = 88.0;
const SIDE: f64 = 44.0;

/// A round upper bound for the axis: 1, 2, 2.5 or 5 × 10^k, at least `max`.
fn nice_max(max: i64) -> i64 {
    if max <= 0 {
        return 1;
    }
    let mut step: i64 = 1;
    loop {
        for m in [10, 20, 25, 50] {
            let candidate = step * m / 10;
            if candidate >= max {
                return candidate.max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

/// A population pyramid: males to the left, females to the right, the oldest band on top.
pub fn pyramid(id: &str, bars: &[PyramidBar], text: &PyramidText<'_>) -> String {
    let rows = bars.len() as f64;
    let height = TOP + rows * ROW + BOTTOM;
    let half = (WIDTH - CENTRE - 2.0 * SIDE) / 2.0;
    let cx = WIDTH / 2.0;
    let left0 = cx - CENTRE / 2.0;
    let right0 = cx + CENTRE / 2.0;
    let max = nice_max(bars.iter().map(|b| b.male.max(b.female)).max().unwrap_or(0));
    let scale = half / max as f64;
    let (males, females): (i64, i64) = bars
        .iter()
        .fold((0, 0), |(m, f), b| (m + b.male, f + b.female));

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart pyramid" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(text.title),
        escape(text.desc)
    );
    // Side headings with totals.
    let _ = write!(
        s,
        r#"<text class="ch-head male" x="{left0}" y="18" text-anchor="end">{} {}</text><text class="ch-head female" x="{right0}" y="18">{} {}</text>"#,
        escape(text.male),
        int(males),
        escape(text.female),
        int(females)
    );
    // Grid lines and axis ticks at 0, ½ and the full scale on each side.
    let axis_y = TOP + rows * ROW;
    for frac in [0.0, 0.5, 1.0] {
        let value = (max as f64 * frac).round() as i64;
        for (x, anchor) in [
            (left0 - frac * half, "middle"),
            (right0 + frac * half, "middle"),
        ] {
            let _ = write!(
                s,
                r#"<line class="ch-grid" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y}"/><text class="ch-tick" x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
                axis_y + 18.0,
                int(value)
            );
        }
    }
    // Bars, oldest band on top.
    for (i, bar) in bars.iter().rev().enumerate() {
        let y = TOP + i as f64 * ROW + (ROW - BAR) / 2.0;
        let band = text
            .bands
            .get(bars.len() - 1 - i)
            .map_or("", String::as_str);
        let mw = bar.male as f64 * scale;
        let fw = bar.female as f64 * scale;
        let _ = write!(
            s,
            r#"<rect class="ch-bar male" x="{:.1}" y="{y:.1}" width="{mw:.1}" height="{BAR}"><title>{} {}: {}</title></rect>"#,
            left0 - mw,
            escape(text.male),
            escape(band),
            int(bar.male)
        );
        let _ = write!(
            s,
            r#"<rect class="ch-bar female" x="{right0:.1}" y="{y:.1}" width="{fw:.1}" height="{BAR}"><title>{} {}: {}</title></rect>"#,
            escape(text.female),
            escape(band),
            int(bar.female)
        );
        let _ = write!(
            s,
            r#"<text class="ch-band" x="{cx}" y="{:.1}" text-anchor="middle">{}</text>"#,
            y + BAR - 3.0,
            escape(band)
        );
    }
    let _ = write!(
        s,
        r#"<line class="ch-axis" x1="{SIDE}" y1="{axis_y}" x2="{:.1}" y2="{axis_y}"/>"#,
        WIDTH - SIDE
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(21), 25);
        assert_eq!(nice_max(4_321), 5_000);
        assert_eq!(nice_max(600_001), 1_000_000);
    }

    #[test]
    fn pyramid_is_escaped_svg_with_one_bar_per_sex_and_band() {
        let bars = [
            PyramidBar {
                band_start: 0,
                male: 3,
                female: 5,
            },
            PyramidBar {
                band_start: 5,
                male: 0,
                female: 1,
            },
        ];
        let bands = ["0–4".to_owned(), "5+".to_owned()];
        let text = PyramidText {
            title: "A<B",
            desc: "d",
            male: "M",
            female: "F",
            bands: &bands,
        };
        let svg = pyramid("p", &bars, &text);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"p-t\">A&lt;B</title>"));
        assert_eq!(svg.matches("class=\"ch-bar male\"").count(), 2);
        assert_eq!(svg.matches("class=\"ch-bar female\"").count(), 2);
        assert!(svg.contains("M 3") && svg.contains("F 6"));
    }
}
