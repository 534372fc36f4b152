//! Plane geometry on rings of points: area, centroid, perimeter, point in polygon, interior
//! points, and the split of a convex polygon by a line.
//!
//! A ring is a `&[[f64; 2]]` without its closing repeat; its signed area is positive when it
//! runs counter-clockwise.

/// A point `[x, y]` (longitude and latitude, or projected coordinates).
pub(crate) type Pt = [f64; 2];

/// Twice the signed area of `ring` (positive counter-clockwise), computed relative to its
/// first vertex so that coordinates far from the origin (114° E) lose no precision.
fn twice_signed_area(ring: &[Pt]) -> f64 {
    let n = ring.len();
    let Some(&[ox, oy]) = ring.first() else {
        return 0.0;
    };
    let mut s = 0.0;
    for i in 0..n {
        let [x0, y0] = ring[i];
        let [x1, y1] = ring[(i + 1) % n];
        s += (x0 - ox) * (y1 - oy) - (x1 - ox) * (y0 - oy);
    }
    s
}

/// Signed area of `ring` (positive counter-clockwise).
pub(crate) fn signed_area(ring: &[Pt]) -> f64 {
    twice_signed_area(ring) / 2.0
}

/// Area of `ring`, whatever its orientation.
pub(crate) fn area(ring: &[Pt]) -> f64 {
    signed_area(ring).abs()
}

/// Perimeter of `ring`.
pub(crate) fn perimeter(ring: &[Pt]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let [x0, y0] = ring[i];
            let [x1, y1] = ring[(i + 1) % n];
            (x1 - x0).hypot(y1 - y0)
        })
        .sum()
}

/// How far `ring` is from a disc: perimeter² / (4π · area), 1 for a disc, ≈ 1.27 for a square,
/// ≈ 2 for a 1 × 4 rectangle; infinite for a degenerate ring.
pub(crate) fn elongation(ring: &[Pt]) -> f64 {
    let a = area(ring);
    if a > 0.0 {
        perimeter(ring).powi(2) / (4.0 * std::f64::consts::PI * a)
    } else {
        f64::INFINITY
    }
}

/// Centroid of `ring` (the mean of its vertices for a degenerate one).
pub(crate) fn centroid(ring: &[Pt]) -> Pt {
    let n = ring.len();
    let a2 = twice_signed_area(ring);
    if a2 == 0.0 || n < 3 {
        let k = n.max(1) as f64;
        let sx: f64 = ring.iter().map(|p| p[0]).sum();
        let sy: f64 = ring.iter().map(|p| p[1]).sum();
        return [sx / k, sy / k];
    }
    // Relative to the first vertex, so far-off coordinates lose no precision.
    let [ox, oy] = ring[0];
    let (mut cx, mut cy) = (0.0, 0.0);
    let mut a = 0.0;
    for i in 0..n {
        let [x0, y0] = ring[i];
        let [x1, y1] = ring[(i + 1) % n];
        let (x0, y0, x1, y1) = (x0 - ox, y0 - oy, x1 - ox, y1 - oy);
        let cross = x0 * y1 - x1 * y0;
        a += cross;
        cx += (x0 + x1) * cross;
        cy += (y0 + y1) * cross;
    }
    [ox + cx / (3.0 * a), oy + cy / (3.0 * a)]
}

/// Whether `p` lies inside the rings (even-odd rule, so a ring inside another is a hole).
pub(crate) fn contains(rings: &[Vec<Pt>], p: Pt) -> bool {
    let mut inside = false;
    for ring in rings {
        let n = ring.len();
        for i in 0..n {
            let [x0, y0] = ring[i];
            let [x1, y1] = ring[(i + 1) % n];
            if (y0 > p[1]) != (y1 > p[1]) {
                let x = x0 + (p[1] - y0) / (y1 - y0) * (x1 - x0);
                if p[0] < x {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

/// A point well inside the rings: the centroid of the largest ring when it lies inside, else
/// the middle of the widest horizontal chord through the rings at one of a few heights.
pub(crate) fn label_point(rings: &[Vec<Pt>]) -> Pt {
    let Some(largest) = rings
        .iter()
        .max_by(|a, b| area(a).total_cmp(&area(b)))
        .filter(|r| !r.is_empty())
    else {
        return [0.0, 0.0];
    };
    let c = centroid(largest);
    if contains(rings, c) {
        return c;
    }
    let (lo, hi) = largest
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p[1]), hi.max(p[1]))
        });
    let mut best: Option<(f64, Pt)> = None;
    let heights = [c[1], 0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9];
    for (k, &h) in heights.iter().enumerate() {
        let y = if k == 0 { h } else { lo + h * (hi - lo) };
        let mut xs: Vec<f64> = Vec::new();
        for ring in rings {
            let n = ring.len();
            for i in 0..n {
                let [x0, y0] = ring[i];
                let [x1, y1] = ring[(i + 1) % n];
                if (y0 > y) != (y1 > y) {
                    xs.push(x0 + (y - y0) / (y1 - y0) * (x1 - x0));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            let w = pair[1] - pair[0];
            if best.is_none_or(|(bw, _)| w > bw) {
                best = Some((w, [(pair[0] + pair[1]) / 2.0, y]));
            }
        }
    }
    best.map_or(c, |(_, p)| p)
}

/// Splits a convex polygon by the line `n · p = c`: the part where `n · p ≤ c`, then the part
/// where `n · p ≥ c`. Points where the line crosses an edge are computed once and shared by
/// both parts, so the parts meet exactly along the cut.
pub(crate) fn split(poly: &[Pt], n: Pt, c: f64) -> (Vec<Pt>, Vec<Pt>) {
    let mut low = Vec::with_capacity(poly.len() + 2);
    let mut high = Vec::with_capacity(poly.len() + 2);
    let len = poly.len();
    for i in 0..len {
        let p = poly[i];
        let q = poly[(i + 1) % len];
        let dp = n[0] * p[0] + n[1] * p[1] - c;
        let dq = n[0] * q[0] + n[1] * q[1] - c;
        if dp <= 0.0 {
            low.push(p);
        }
        if dp >= 0.0 {
            high.push(p);
        }
        if (dp < 0.0 && dq > 0.0) || (dp > 0.0 && dq < 0.0) {
            let t = dp / (dp - dq);
            let x = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
            low.push(x);
            high.push(x);
        }
    }
    (low, high)
}

/// Convex hull of `points`, counter-clockwise (Andrew's monotone chain).
pub(crate) fn convex_hull(points: &[Pt]) -> Vec<Pt> {
    let mut pts = points.to_vec();
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: Pt, a: Pt, b: Pt| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<Pt> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Pt>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: [Pt; 4] = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]];

    #[test]
    fn square_measures() {
        assert_eq!(signed_area(&SQUARE), 4.0);
        assert_eq!(perimeter(&SQUARE), 8.0);
        assert_eq!(centroid(&SQUARE), [1.0, 1.0]);
        assert!(contains(&[SQUARE.to_vec()], [1.0, 1.5]));
        assert!(!contains(&[SQUARE.to_vec()], [3.0, 1.0]));
        assert!((elongation(&SQUARE) - 4.0 / std::f64::consts::PI).abs() < 1e-12);
    }

    #[test]
    fn split_halves_share_the_cut() {
        let (a, b) = split(&SQUARE, [1.0, 0.0], 0.5);
        assert_eq!(area(&a) + area(&b), 4.0);
        assert_eq!(area(&a), 1.0);
        assert!(a.contains(&[0.5, 0.0]) && b.contains(&[0.5, 0.0]));
    }

    #[test]
    fn label_of_a_u_shape_is_inside() {
        // A U whose centroid falls in the notch.
        let u = vec![
            [0.0, 0.0],
            [3.0, 0.0],
            [3.0, 3.0],
            [2.0, 3.0],
            [2.0, 0.5],
            [1.0, 0.5],
            [1.0, 3.0],
            [0.0, 3.0],
        ];
        let rings = vec![u];
        assert!(!contains(&rings, centroid(&rings[0])));
        assert!(contains(&rings, label_point(&rings)));
    }

    #[test]
    fn hull_is_counter_clockwise() {
        let h = convex_hull(&[[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [1.0, 0.2], [1.0, -1.0]]);
        assert_eq!(h.len(), 4);
        assert!(signed_area(&h) > 0.0);
    }
}
