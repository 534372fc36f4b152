//! hc-geo through its public API: generated shapes tile, GeoJSON round-trips and names the
//! feature at fault, SVG maps are well-formed and escaped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use hc_geo::*;

/// A deterministic number in [0, 1).
fn rand(i: u64) -> f64 {
    let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    z = (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 32;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn unit(code: String, parent: Option<&str>, level: Level, weight: f64) -> Unit {
    Unit {
        code,
        parent_code: parent.map(Into::into),
        level,
        weight,
    }
}

/// A city shaped like the demo's: 9 districts, 4–12 streets each, 4–12 communities per
/// street, uneven weights (some tiny, like an airport's), parents' weights their children's sum.
fn city() -> Vec<Unit> {
    let mut units = vec![unit("440300".into(), Some("440000"), Level::City, 0.0)];
    let mut k = 0u64;
    let mut next = || {
        k += 1;
        rand(k)
    };
    for d in 0..9 {
        let dc = format!("4403{:02}", d + 3);
        let di = units.len();
        units.push(unit(dc.clone(), Some("440300"), Level::District, 0.0));
        let streets = 4 + (next() * 9.0) as usize;
        for s in 0..streets {
            let sc = format!("{dc}{:03}", s + 1);
            let si = units.len();
            units.push(unit(sc.clone(), Some(&dc), Level::Street, 0.0));
            let special = next() < 0.08;
            let communities = 4 + (next() * 9.0) as usize;
            for c in 0..communities {
                let mut w = 0.15 - (1.0 - next()).ln();
                if special {
                    w *= 0.05;
                }
                units.push(unit(
                    format!("{sc}{:03}", c + 1),
                    Some(&sc),
                    Level::Community,
                    w,
                ));
                units[si].weight += w;
            }
            let sw = units[si].weight;
            units[di].weight += sw;
        }
        let dw = units[di].weight;
        units[0].weight += dw;
    }
    units
}

fn shapes_by_code(shapes: &[Shape]) -> HashMap<&str, &Shape> {
    shapes.iter().map(|s| (s.code.as_str(), s)).collect()
}

/// Length over width of a shape on the ground: the largest and smallest extent of its
/// vertices over 180 directions (longitude scaled by the cosine of the latitude).
fn aspect_ratio(s: &Shape) -> f64 {
    let k = 22.65f64.to_radians().cos();
    let pts: Vec<[f64; 2]> = s.rings.iter().flatten().map(|p| [p[0] * k, p[1]]).collect();
    let extents: Vec<f64> = (0..180)
        .map(|d| {
            let (sin, cos) = (d as f64).to_radians().sin_cos();
            let v: Vec<f64> = pts.iter().map(|p| cos * p[0] + sin * p[1]).collect();
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                - v.iter().copied().fold(f64::INFINITY, f64::min)
        })
        .collect();
    let long = extents.iter().copied().fold(0.0, f64::max);
    let wide = extents.iter().copied().fold(f64::INFINITY, f64::min);
    long / wide
}

#[test]
fn children_tile_their_parents_and_areas_follow_weights() {
    let units = city();
    let shapes = generate(&units).unwrap();
    assert_eq!(shapes.len(), units.len());
    let by_code = shapes_by_code(&shapes);
    let mut children: HashMap<&str, Vec<&Unit>> = HashMap::new();
    for u in &units {
        if let Some(p) = u.parent_code.as_deref().filter(|p| by_code.contains_key(p)) {
            children.entry(p).or_default().push(u);
        }
    }
    assert_eq!(
        children.len(),
        1 + 9 + units.iter().filter(|u| u.level == Level::Street).count()
    );
    for (parent, kids) in &children {
        let pa = by_code[parent].area();
        let sum: f64 = kids.iter().map(|u| by_code[u.code.as_str()].area()).sum();
        assert!((sum - pa).abs() <= 1e-9 * pa, "{parent}: {sum} vs {pa}");
        // Shares follow weights exactly where no floor applies.
        let total: f64 = kids.iter().map(|u| u.weight).sum();
        let floor = 0.3 * total / kids.len() as f64;
        let eff: Vec<f64> = kids.iter().map(|u| u.weight.max(floor)).collect();
        let eff_total: f64 = eff.iter().sum();
        for (u, w) in kids.iter().zip(&eff) {
            let share = by_code[u.code.as_str()].area() / pa;
            assert!(
                (share - w / eff_total).abs() < 1e-6,
                "{}: {share} vs {}",
                u.code,
                w / eff_total
            );
            // Each child lies in its parent.
            assert!(
                by_code[parent].contains(by_code[u.code.as_str()].label),
                "{}",
                u.code
            );
        }
    }
}

#[test]
fn labels_are_inside_and_pieces_are_compact() {
    let shapes = generate(&city()).unwrap();
    let mut worst = (0.0, String::new());
    for s in &shapes {
        assert_eq!(s.rings.len(), 1, "{}", s.code);
        assert!(
            s.contains(s.label),
            "{}: label {:?} outside",
            s.code,
            s.label
        );
        let a = aspect_ratio(s);
        if a > worst.0 {
            worst = (a, s.code.clone());
        }
    }
    assert!(
        worst.0 < 4.0,
        "sliver: {} has aspect ratio {:.2}",
        worst.1,
        worst.0
    );
}

#[test]
fn the_city_stretches_west_to_east_within_shenzhen() {
    let shapes = generate(&city()).unwrap();
    let ring = &shapes[0].rings[0];
    let lon = |f: fn(f64, f64) -> f64, init| ring.iter().map(|p| p[0]).fold(init, f);
    let lat = |f: fn(f64, f64) -> f64, init| ring.iter().map(|p| p[1]).fold(init, f);
    let (w, e) = (lon(f64::min, 180.0), lon(f64::max, -180.0));
    let (s, n) = (lat(f64::min, 90.0), lat(f64::max, -90.0));
    assert!(w >= 113.75 && e <= 114.62 && s >= 22.45 && n <= 22.85);
    assert!((e - w) * 22.65f64.to_radians().cos() > 1.8 * (n - s));
    // Convex, so it takes in the bays as well: more than the real 1,997 km².
    assert!(
        (2000.0..3500.0).contains(&shapes[0].area_km2()),
        "{}",
        shapes[0].area_km2()
    );
}

#[test]
fn generation_is_deterministic_whatever_the_order() {
    let units = city();
    let a = generate(&units).unwrap();
    assert_eq!(a, generate(&units).unwrap());
    let mut reversed = units.clone();
    reversed.reverse();
    let mut b = generate(&reversed).unwrap();
    b.reverse();
    assert_eq!(a, b);
}

#[test]
fn generation_refuses_what_is_not_one_tree() {
    let u =
        |code: &str, parent: Option<&str>, level, weight| unit(code.into(), parent, level, weight);
    let cases = [
        (
            vec![
                u("1", None, Level::City, 1.0),
                u("1", None, Level::City, 1.0),
            ],
            "org unit 1: the code comes twice",
        ),
        (
            vec![
                u("1", None, Level::City, 1.0),
                u("11", Some("1"), Level::District, -1.0),
            ],
            "org unit 11: weight -1 is not a finite number ≥ 0",
        ),
        (
            vec![
                u("1", None, Level::City, 1.0),
                u("11", Some("1"), Level::City, 1.0),
            ],
            "org unit 11: a city cannot lie in a city (1)",
        ),
        (
            vec![
                u("1", None, Level::City, 1.0),
                u("2", None, Level::City, 1.0),
            ],
            "org-unit tree: expected one unit whose parent is not among the units (the city), found 2: 1, 2",
        ),
    ];
    for (units, want) in cases {
        assert_eq!(generate(&units).unwrap_err().to_string(), want);
    }
    assert_eq!(generate(&[]).unwrap(), Vec::new());
    // Zero weights share equally; a lone city is the outline.
    let shapes = generate(&[
        u("1", None, Level::City, 0.0),
        u("11", Some("1"), Level::District, 0.0),
        u("12", Some("1"), Level::District, 0.0),
    ])
    .unwrap();
    assert!((shapes[1].area() - shapes[2].area()).abs() < 1e-9 * shapes[0].area());
}

#[test]
fn geojson_round_trips_exactly() {
    let shapes = generate(&city()).unwrap();
    let text = to_geojson(&shapes);
    assert_eq!(from_geojson(&text, "code").unwrap(), shapes);
    // A geometry alone, as stores keep it.
    let s = &shapes[5];
    let back =
        Shape::from_geometry_json(s.code.clone(), &s.geometry_json(), Some(s.label)).unwrap();
    assert_eq!(&back, s);
}

const MULTI: &str = r#"{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"adcode": 440304, "name": "福田区"},
   "geometry": {"type": "MultiPolygon", "coordinates": [
     [[[114.0, 22.5], [114.0, 22.6], [114.1, 22.6], [114.1, 22.5], [114.0, 22.5]]],
     [[[114.2, 22.5], [114.3, 22.5], [114.3, 22.52], [114.2, 22.52], [114.2, 22.5]]]]}},
  {"type": "Feature", "properties": {"adcode": "440303"},
   "geometry": {"type": "Polygon", "coordinates": [
     [[114.0, 22.7], [114.3, 22.7], [114.3, 22.8], [114.2, 22.8], [114.2, 22.72], [114.1, 22.72],
      [114.1, 22.8], [114.0, 22.8], [114.0, 22.7]],
     [[114.01, 22.71], [114.02, 22.71], [114.02, 22.715], [114.01, 22.71]]]}}]}"#;

#[test]
fn geojson_reads_multipolygons_numeric_codes_and_concave_shapes() {
    let shapes = from_geojson(MULTI, "adcode").unwrap();
    assert_eq!(shapes.len(), 2);
    let futian = &shapes[0];
    assert_eq!(futian.code, "440304");
    assert_eq!(futian.rings.len(), 2);
    // The clockwise ring is turned counter-clockwise; its closing repeat is dropped.
    assert_eq!(futian.rings[0].len(), 4);
    assert_eq!(futian.rings[0][1], [114.1, 22.6]);
    assert!((futian.area() - (0.01 + 0.002)).abs() < 1e-12);
    assert!(futian.contains(futian.label));
    // A U: its centroid is in the notch, its label is not; the hole is dropped.
    let luohu = &shapes[1];
    assert_eq!(luohu.rings.len(), 1);
    assert!(luohu.contains(luohu.label), "{:?}", luohu.label);
    assert!(!luohu.contains([114.15, 22.76]));
}

#[test]
fn geojson_errors_name_the_feature_and_the_fault() {
    let feature = |props: &str, geometry: &str| {
        format!(
            r#"{{"type": "FeatureCollection", "features": [
              {{"type": "Feature", "properties": {{"code": "A"}}, "geometry": {{"type": "Polygon",
                "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}}}},
              {{"type": "Feature", "properties": {props}, "geometry": {geometry}}}]}}"#
        )
    };
    let ok_ring = r#"{"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}"#;
    let cases = [
        (
            feature("{}", ok_ring),
            "features[1]: property \"code\" is missing",
        ),
        (
            feature(r#"{"code": true}"#, ok_ring),
            "features[1]: property \"code\" is true, not a code (a string or a whole number)",
        ),
        (
            feature(r#"{"code": "A"}"#, ok_ring),
            "features[1] (code A): the code is already that of features[0]",
        ),
        (
            feature(
                r#"{"code": "B"}"#,
                r#"{"type": "Point", "coordinates": [1, 1]}"#,
            ),
            "features[1] (code B): geometry type \"Point\" is not Polygon or MultiPolygon",
        ),
        (
            feature(r#"{"code": "B"}"#, "null"),
            "features[1] (code B): has no geometry",
        ),
        (
            feature(
                r#"{"code": "B"}"#,
                r#"{"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 2]]]}"#,
            ),
            "features[1] (code B): ring 0 of polygon 0: is not closed: its last position differs from its first",
        ),
        (
            feature(
                r#"{"code": "B"}"#,
                r#"{"type": "MultiPolygon", "coordinates": [[[[1, 1], [2, 1], [2, 2], [1, 1]]],
                   [[[1, 1], [2, 1], [2, 95], [1, 1]]]]}"#,
            ),
            "features[1] (code B): ring 0 of polygon 1: position 2: latitude 95 is outside [-90, 90]",
        ),
        (
            feature(
                r#"{"code": "B"}"#,
                r#"{"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [1, 1]]]}"#,
            ),
            "features[1] (code B): ring 0 of polygon 0: has 3 positions; a ring needs at least 4, the last repeating the first",
        ),
        (
            feature(
                r#"{"code": "B"}"#,
                r#"{"type": "Polygon", "coordinates": [[[1, 1], [2, 1], ["x", 2], [1, 1]]]}"#,
            ),
            "features[1] (code B): ring 0 of polygon 0: position 2 is [\"x\",2], not two numbers",
        ),
        (
            r#"{"type": "Feature"}"#.to_owned(),
            "not a GeoJSON FeatureCollection: its type is \"Feature\"",
        ),
        (
            "[1, 2".to_owned(),
            "not JSON: EOF while parsing a list at line 1 column 5",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(from_geojson(&text, "code").unwrap_err().to_string(), want);
    }
}

fn style(code: &str) -> Option<Area> {
    match code {
        "A" => Some(Area {
            fill: "#d73027".into(),
            title: "Tom & Jerry's <\"district\">".into(),
            href: Some("/orgunits/A?x=1&y=2".into()),
            label: Some("A < B".into()),
        }),
        "B" => Some(Area {
            fill: "#fee08b".into(),
            title: "B: 12.4 / 10万".into(),
            href: None,
            label: None,
        }),
        _ => None,
    }
}

fn square(code: &str, x: f64) -> Shape {
    Shape::new(
        code.into(),
        vec![vec![[x, 22.5], [x + 0.1, 22.5], [x + 0.1, 22.6], [x, 22.6]]],
    )
}

#[test]
fn svg_maps_are_well_formed_accessible_and_escaped() {
    let shapes = [square("A", 114.0), square("B", 114.1), square("C", 114.2)];
    let mut opts = SvgOptions::new("Map <1>", "Colours & \"rates\"");
    opts.id = "m1".into();
    let svg = render_svg(&shapes, &style, &opts);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    assert_eq!(root.attribute("aria-labelledby"), Some("m1-title m1-desc"));
    let texts = |tag: &str| -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name(tag))
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        texts("title"),
        ["Map <1>", "Tom & Jerry's <\"district\">", "B: 12.4 / 10万"]
    );
    assert_eq!(texts("desc"), ["Colours & \"rates\""]);
    assert_eq!(texts("text"), ["A < B"]);
    let links: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("a")).collect();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].attribute("href"), Some("/orgunits/A?x=1&y=2"));
    let paths: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("path"))
        .collect();
    let fills: Vec<_> = paths.iter().map(|p| p.attribute("fill").unwrap()).collect();
    assert_eq!(fills, ["#d73027", "#fee08b", "#e8e8e8"]);
    assert_eq!(paths[2].attribute("aria-hidden"), Some("true"));
    // Fitted: 800 wide, the squares' height scaled by the cosine correction, padding 4.
    assert_eq!(root.attribute("viewBox"), Some("0 0 800 294"));
    assert!(
        !svg.contains("http://")
            || !svg
                .replace("http://www.w3.org/2000/svg", "")
                .contains("http")
    );

    opts.unstyled = Unstyled::Skip;
    let svg = render_svg(&shapes, &style, &opts);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name("path")).count(),
        2
    );
    let empty = render_svg(&[], &style, &opts);
    roxmltree::Document::parse(&empty).unwrap();
}

#[test]
fn a_generated_city_renders() {
    let shapes = generate(&city()).unwrap();
    let svg = render_svg(
        &shapes,
        &|code| {
            (code.len() == 6 && code != "440300").then(|| Area {
                fill: "#4575b4".into(),
                title: format!("区 {code}"),
                href: Some(format!("/orgunits/{code}")),
                label: Some(code.into()),
            })
        },
        &SvgOptions {
            unstyled: Unstyled::Skip,
            ..SvgOptions::new("深圳市", "各区")
        },
    );
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("a")).count(), 9);
}
