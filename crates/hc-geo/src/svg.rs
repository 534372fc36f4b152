//! Self-contained, accessible SVG maps.

use std::fmt::Write;

use crate::{Area, Shape, SvgOptions, Unstyled};

/// Draws `shapes`: see [`crate::render_svg`].
pub(crate) fn render_svg(
    shapes: &[Shape],
    style: &dyn Fn(&str) -> Option<Area>,
    opts: &SvgOptions,
) -> String {
    let styled: Vec<(&Shape, Option<Area>)> = shapes
        .iter()
        .map(|s| (s, style(&s.code)))
        .filter(|(_, a)| a.is_some() || opts.unstyled == Unstyled::Background)
        .collect();
    let proj = Projection::fit(styled.iter().map(|(s, _)| *s), opts);
    let id = escape(&opts.id);
    let mut out = String::with_capacity(256 + styled.len() * 512);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="{id}-title {id}-desc">"#,
        w = num(proj.width),
        h = num(proj.height),
    );
    let _ = write!(
        out,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(&opts.title),
        escape(&opts.description)
    );
    let _ = write!(
        out,
        r#"<g stroke="{}" stroke-width="{}" stroke-linejoin="round">"#,
        escape(&opts.stroke),
        num(opts.stroke_width)
    );
    for (shape, area) in &styled {
        let d = proj.path(shape);
        if d.is_empty() {
            continue;
        }
        match area {
            None => {
                let _ = write!(
                    out,
                    r#"<path d="{d}" fill="{}" aria-hidden="true"/>"#,
                    escape(&opts.background)
                );
            }
            Some(a) => {
                let title = escape(&a.title);
                let fill = escape(&a.fill);
                match &a.href {
                    Some(href) => {
                        let _ = write!(
                            out,
                            r#"<a href="{}"><title>{title}</title><path d="{d}" fill="{fill}"/></a>"#,
                            escape(href)
                        );
                    }
                    None => {
                        let _ = write!(
                            out,
                            r#"<path d="{d}" fill="{fill}"><title>{title}</title></path>"#
                        );
                    }
                }
            }
        }
    }
    out.push_str("</g>");
    let labels: Vec<(&Shape, &str)> = styled
        .iter()
        .filter_map(|(s, a)| Some((*s, a.as_ref()?.label.as_deref()?)))
        .collect();
    if !labels.is_empty() {
        let _ = write!(
            out,
            r#"<g font-size="{}" font-family="sans-serif" text-anchor="middle" dominant-baseline="middle" fill="{}" pointer-events="none" aria-hidden="true">"#,
            num(opts.font_size),
            escape(&opts.label_colour)
        );
        for (shape, text) in labels {
            let [x, y] = proj.point(shape.label);
            let _ = write!(
                out,
                r#"<text x="{}" y="{}">{}</text>"#,
                num(x),
                num(y),
                escape(text)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// Equirectangular projection, longitude scaled by the cosine of the middle latitude, fitted
/// into `width` with `padding` on every side; y grows southwards.
struct Projection {
    west: f64,
    north: f64,
    kx: f64,
    k: f64,
    padding: f64,
    width: f64,
    height: f64,
}

impl Projection {
    fn fit<'a>(shapes: impl Iterator<Item = &'a Shape>, opts: &SvgOptions) -> Projection {
        let (mut w, mut e, mut s, mut n) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for p in shapes.flat_map(|s| s.rings.iter().flatten()) {
            w = w.min(p[0]);
            e = e.max(p[0]);
            s = s.min(p[1]);
            n = n.max(p[1]);
        }
        let padding = opts.padding.max(0.0);
        let width = if opts.width.is_finite() && opts.width > 2.0 * padding {
            opts.width
        } else {
            800.0
        };
        if !(w <= e && s <= n) {
            return Projection {
                west: 0.0,
                north: 0.0,
                kx: 1.0,
                k: 1.0,
                padding,
                width,
                height: 2.0 * padding + 1.0,
            };
        }
        let kx = ((s + n) / 2.0).to_radians().cos();
        let span_x = ((e - w) * kx).max(1e-12);
        let span_y = (n - s).max(1e-12);
        let k = (width - 2.0 * padding) / span_x;
        Projection {
            west: w,
            north: n,
            kx,
            k,
            padding,
            width,
            height: (span_y * k + 2.0 * padding).ceil(),
        }
    }

    fn point(&self, p: [f64; 2]) -> [f64; 2] {
        [
            self.padding + (p[0] - self.west) * self.kx * self.k,
            self.padding + (self.north - p[1]) * self.k,
        ]
    }

    /// The path data of a shape, one closed subpath per ring.
    fn path(&self, shape: &Shape) -> String {
        let mut d = String::new();
        for ring in shape.rings.iter().filter(|r| r.len() >= 3) {
            for (i, p) in ring.iter().enumerate() {
                let [x, y] = self.point(*p);
                let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { "L" }, num(x), num(y));
            }
            d.push('Z');
        }
        d
    }
}

/// A coordinate with two decimals at most (a hundredth of a pixel), without trailing zeros.
fn num(x: f64) -> String {
    let s = format!("{:.2}", if x.is_finite() { x } else { 0.0 });
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// `s` made safe for XML text and attribute values: markup characters escaped, characters
/// that XML 1.0 does not allow replaced by U+FFFD.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}"
        );
    }
}
