//! Made-up but plausible shapes for an org-unit tree: a convex, irregular city outline
//! stretched west–east like Shenzhen, split recursively by straight cuts so that each unit's
//! children tile it exactly.
//!
//! The work is done in a plane where one unit of x is as long on the ground as one unit of y
//! (longitude scaled by the cosine of the city's latitude), so "compact" means compact on the
//! ground. Every piece of a convex polygon cut by a line is convex, so every shape is one
//! convex ring and its centroid lies inside it.

use std::collections::HashMap;

use crate::geom::{self, Pt};
use crate::{GeoError, Shape, Unit};

/// The city's centre (longitude, latitude): the plane's origin.
const CENTRE: Pt = [114.185, 22.65];
/// Corners of the city outline (longitude, latitude), counter-clockwise from the south-west:
/// roughly the convex hull of Shenzhen, 113.75–114.62° E, 22.45–22.85° N.
const CORNERS: [Pt; 13] = [
    [113.89, 22.46],
    [114.05, 22.49],
    [114.30, 22.47],
    [114.50, 22.45],
    [114.59, 22.48],
    [114.61, 22.57],
    [114.52, 22.70],
    [114.37, 22.79],
    [114.18, 22.83],
    [113.93, 22.845],
    [113.79, 22.82],
    [113.76, 22.74],
    [113.80, 22.58],
];
/// A sibling's weight counts as at least this share of its siblings' mean, so that a unit with
/// few people (an airport, a bonded zone) still gets an area one can see and click.
const MIN_WEIGHT_SHARE: f64 = 0.3;
/// Directions tried for each cut: every 15 degrees around the circle, turned by an angle
/// drawn for the parent so that cuts do not line up with the axes.
const DIRECTIONS: usize = 24;
/// A cut is drawn among those whose pieces are at most this much more elongated than the
/// most compact cut's, so that the pieces look less like a treemap.
const TOLERANCE: f64 = 1.05;
/// Bisection steps that place a cut (the areas come out within 2⁻⁴⁰ of the intended ratio).
const BISECTION_STEPS: usize = 40;

fn cos0() -> f64 {
    CENTRE[1].to_radians().cos()
}

fn to_plane(p: Pt) -> Pt {
    [(p[0] - CENTRE[0]) * cos0(), p[1] - CENTRE[1]]
}

fn to_lonlat(p: Pt) -> Pt {
    [p[0] / cos0() + CENTRE[0], p[1] + CENTRE[1]]
}

/// A deterministic number in `[-1, 1]` for `i` (SplitMix64).
fn noise(i: u64) -> f64 {
    let mut z = i
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// A stable hash of `s` (FNV-1a), to draw per-unit choices that do not depend on the order of
/// the units.
fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The city outline in the plane, counter-clockwise: [`CORNERS`] with each edge bent outwards
/// a little at a few points (the hull keeps it convex).
fn outline() -> Vec<Pt> {
    let corners: Vec<Pt> = CORNERS.iter().map(|&p| to_plane(p)).collect();
    let mut pts = corners.clone();
    let n = corners.len();
    for i in 0..n {
        let (p, q) = (corners[i], corners[(i + 1) % n]);
        let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
        for k in 1..4 {
            let t = k as f64 / 4.0 + 0.08 * noise((i * 8 + k) as u64);
            let out = 0.025 * (1.0 + noise((i * 8 + k + 100) as u64)) * (t * (1.0 - t)).sqrt();
            // The outward normal of a counter-clockwise edge is (dy, -dx).
            pts.push([p[0] + t * dx + out * dy, p[1] + t * dy - out * dx]);
        }
    }
    // Keep within the city's box.
    let [w, s] = to_plane([113.75, 22.45]);
    let [e, n] = to_plane([114.62, 22.85]);
    let mut ring = geom::convex_hull(&pts);
    for (nrm, c) in [
        ([-1.0, 0.0], -w),
        ([1.0, 0.0], e),
        ([0.0, -1.0], -s),
        ([0.0, 1.0], n),
    ] {
        ring = geom::split(&ring, nrm, c).0;
    }
    ring
}

/// Makes a shape for every unit: see [`crate::generate`].
pub(crate) fn generate(units: &[Unit]) -> Result<Vec<Shape>, GeoError> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(units.len());
    for (i, u) in units.iter().enumerate() {
        if index.insert(u.code.as_str(), i).is_some() {
            return Err(unit_error(u, "the code comes twice"));
        }
        if !(u.weight.is_finite() && u.weight >= 0.0) {
            return Err(unit_error(
                u,
                format!("weight {} is not a finite number ≥ 0", u.weight),
            ));
        }
    }
    let mut roots = Vec::new();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
    for (i, u) in units.iter().enumerate() {
        match u.parent_code.as_deref().and_then(|p| index.get(p)) {
            Some(&p) => {
                if units[p].level >= u.level {
                    return Err(unit_error(
                        u,
                        format!(
                            "a {} cannot lie in a {} ({})",
                            u.level.as_str(),
                            units[p].level.as_str(),
                            units[p].code
                        ),
                    ));
                }
                children[p].push(i);
            }
            None => roots.push(i),
        }
    }
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let root = match roots.as_slice() {
        [r] => *r,
        _ => {
            let codes: Vec<&str> = roots.iter().map(|&i| units[i].code.as_str()).collect();
            return Err(GeoError::Tree(format!(
                "expected one unit whose parent is not among the units (the city), found {}: {}",
                codes.len(),
                codes.join(", ")
            )));
        }
    };
    for c in &mut children {
        c.sort_by(|&a, &b| units[a].code.cmp(&units[b].code));
    }

    let mut polys: Vec<Option<Vec<Pt>>> = vec![None; units.len()];
    let mut todo = vec![(root, outline())];
    let mut reached = 0;
    while let Some((i, poly)) = todo.pop() {
        reached += 1;
        if !children[i].is_empty() {
            let mut items: Vec<(usize, f64)> =
                children[i].iter().map(|&c| (c, units[c].weight)).collect();
            floor_weights(&mut items);
            // Heaviest first; equal weights in code order (the sort is stable).
            items.sort_by(|a, b| b.1.total_cmp(&a.1));
            let mut parts = Vec::with_capacity(items.len());
            partition(poly.clone(), &items, hash(&units[i].code), &mut parts);
            todo.extend(parts);
        }
        polys[i] = Some(poly);
    }
    if reached != units.len() {
        let lost: Vec<&str> = (0..units.len())
            .filter(|&i| polys[i].is_none())
            .take(5)
            .map(|i| units[i].code.as_str())
            .collect();
        return Err(GeoError::Tree(format!(
            "{} units are not below the city (a loop of parents?), e.g. {}",
            units.len() - reached,
            lost.join(", ")
        )));
    }
    units
        .iter()
        .zip(polys)
        .map(|(u, poly)| {
            let ring: Vec<Pt> = poly
                .unwrap_or_default()
                .into_iter()
                .map(to_lonlat)
                .collect();
            Ok(Shape::new(u.code.clone(), vec![ring]))
        })
        .collect()
}

fn unit_error(u: &Unit, problem: impl Into<String>) -> GeoError {
    GeoError::Unit {
        code: u.code.clone(),
        problem: problem.into(),
    }
}

/// Raises each weight to at least [`MIN_WEIGHT_SHARE`] of the mean; all zero become equal.
fn floor_weights(items: &mut [(usize, f64)]) {
    let total: f64 = items.iter().map(|i| i.1).sum();
    if total <= 0.0 {
        items.iter_mut().for_each(|i| i.1 = 1.0);
        return;
    }
    let floor = MIN_WEIGHT_SHARE * total / items.len() as f64;
    items.iter_mut().for_each(|i| i.1 = i.1.max(floor));
}

/// Splits the convex polygon `poly` among `items` (heaviest first) in proportion to their
/// weights, pushing each item's piece onto `out`.
///
/// Each step cuts the items in two groups, heaviest first: the group whose pieces would be
/// most square if laid side by side across the polygon (as a squarified treemap does), or the
/// one closest to half the weight. The cut is a straight line placed by bisection so that the
/// first group's side has its share of the area, in one of 24 directions that leave the two
/// sides about as compact as the best one does (drawn from `salt`). Both sides take the same
/// crossing points, so they meet exactly.
fn partition(poly: Vec<Pt>, items: &[(usize, f64)], salt: u64, out: &mut Vec<(usize, Vec<Pt>)>) {
    let [first, rest @ ..] = items else {
        return;
    };
    if rest.is_empty() {
        out.push((first.0, poly));
        return;
    }
    let total: f64 = items.iter().map(|i| i.1).sum();
    let area = geom::area(&poly);
    let turn = noise(salt) * std::f64::consts::PI / DIRECTIONS as f64;
    let mut buf = Vec::with_capacity(poly.len() + 2);
    // (elongation, group size, normal, offset) of every usable cut.
    let mut cuts: Vec<(f64, usize, Pt, f64)> = Vec::new();
    for k in group_sizes(&poly, items, total, area) {
        let share: f64 = items[..k].iter().map(|i| i.1).sum::<f64>() / total;
        for d in 0..DIRECTIONS {
            let angle = std::f64::consts::TAU * d as f64 / DIRECTIONS as f64 + turn;
            let n = [angle.cos(), angle.sin()];
            let c = place_cut(&poly, n, share * area, &mut buf);
            let (low, high) = geom::split(&poly, n, c);
            if low.len() < 3 || high.len() < 3 {
                continue;
            }
            let score = geom::elongation(&low).max(geom::elongation(&high));
            cuts.push((score, k, n, c));
        }
    }
    let best = cuts.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let good: Vec<&(f64, usize, Pt, f64)> =
        cuts.iter().filter(|c| c.0 <= best * TOLERANCE).collect();
    let pick = ((noise(salt ^ 0x5EED) + 1.0) / 2.0 * good.len() as f64) as usize;
    match good.get(pick.min(good.len().saturating_sub(1))) {
        Some(&&(_, k, n, c)) => {
            let (low, high) = geom::split(&poly, n, c);
            let next = salt.wrapping_mul(0x0100_0000_01b3);
            partition(low, &items[..k], next ^ 1, out);
            partition(high, &items[k..], next ^ 2, out);
        }
        // Only a degenerate polygon cannot be cut: give it whole to the heaviest item and
        // nothing to the others (never happens for the outline and positive weights).
        None => {
            out.push((first.0, poly));
            out.extend(rest.iter().map(|i| (i.0, Vec::new())));
        }
    }
}

/// The sizes of the first group worth trying: the squarified treemap's choice and the most
/// even split.
fn group_sizes(poly: &[Pt], items: &[(usize, f64)], total: f64, area: f64) -> Vec<usize> {
    // The polygon seen as a rectangle: its longest extent, and the width that gives its area.
    let long = (0..12)
        .map(|d| {
            let a = std::f64::consts::PI * d as f64 / 12.0;
            let (s, c) = a.sin_cos();
            let (lo, hi) = poly
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, p| {
                    let v = c * p[0] + s * p[1];
                    (acc.0.min(v), acc.1.max(v))
                });
            hi - lo
        })
        .fold(0.0, f64::max);
    let width = if long > 0.0 { area / long } else { 0.0 };
    let mut squarest = (f64::INFINITY, 1);
    let mut even = (f64::INFINITY, 1);
    let mut sum = 0.0;
    for k in 1..items.len() {
        sum += items[k - 1].1;
        // The strip of the first k items across the polygon, each item a slice of it.
        let thick = sum / total * long;
        let worst = items[..k]
            .iter()
            .map(|i| {
                let h = i.1 / sum * width;
                (thick / h).max(h / thick)
            })
            .fold(0.0, f64::max);
        if worst < squarest.0 {
            squarest = (worst, k);
        }
        let gap = (sum / total - 0.5).abs();
        if gap < even.0 {
            even = (gap, k);
        }
    }
    if squarest.1 == even.1 {
        vec![squarest.1]
    } else {
        vec![squarest.1, even.1]
    }
}

/// The `c` for which the part of `poly` where `n · p ≤ c` has area `target`.
fn place_cut(poly: &[Pt], n: Pt, target: f64, buf: &mut Vec<Pt>) -> f64 {
    let (mut lo, mut hi) = poly
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, p| {
            let v = n[0] * p[0] + n[1] * p[1];
            (acc.0.min(v), acc.1.max(v))
        });
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (lo + hi);
        if area_below(poly, n, mid, buf) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Area of the part of the convex `poly` where `n · p ≤ c` (`buf` is scratch space).
fn area_below(poly: &[Pt], n: Pt, c: f64, buf: &mut Vec<Pt>) -> f64 {
    buf.clear();
    let len = poly.len();
    for i in 0..len {
        let p = poly[i];
        let q = poly[(i + 1) % len];
        let dp = n[0] * p[0] + n[1] * p[1] - c;
        let dq = n[0] * q[0] + n[1] * q[1] - c;
        if dp <= 0.0 {
            buf.push(p);
        }
        if (dp < 0.0 && dq > 0.0) || (dp > 0.0 && dq < 0.0) {
            let t = dp / (dp - dq);
            buf.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
        }
    }
    geom::area(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outline_spans_the_city() {
        let ring: Vec<Pt> = outline().into_iter().map(to_lonlat).collect();
        let (mut w, mut e, mut s, mut n) = (180.0f64, -180.0f64, 90.0f64, -90.0f64);
        for p in &ring {
            w = w.min(p[0]);
            e = e.max(p[0]);
            s = s.min(p[1]);
            n = n.max(p[1]);
        }
        assert!((113.75..113.8).contains(&w), "west {w}");
        assert!(e <= 114.62 && e > 114.55, "east {e}");
        assert!((22.45..22.5).contains(&s), "south {s}");
        assert!(n <= 22.85 && n > 22.8, "north {n}");
        assert!(geom::signed_area(&ring) > 0.0);
    }

    #[test]
    fn noise_is_in_range() {
        assert!((0..1000).map(noise).all(|x| (-1.0..=1.0).contains(&x)));
    }
}
