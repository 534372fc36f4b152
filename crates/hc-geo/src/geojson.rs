//! GeoJSON (RFC 7946) in and out: a FeatureCollection of Polygon and MultiPolygon features.
//!
//! Read with `serde_json` rather than the `geojson` crate: that crate is maintained, but it
//! stops at the first bad feature without saying which, and every check made here (closed
//! rings, coordinate ranges, the code property, duplicates) would have to be made anyway.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::geom::{self, Pt};
use crate::{GeoError, Shape};

/// Reads shapes from a FeatureCollection: see [`crate::from_geojson`].
pub(crate) fn from_geojson(text: &str, code_property: &str) -> Result<Vec<Shape>, GeoError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| GeoError::Json(e.to_string()))?;
    let kind = doc.get("type").and_then(Value::as_str);
    if kind != Some("FeatureCollection") {
        return Err(GeoError::NotFeatureCollection(match kind {
            Some(k) => format!("its type is {k:?}"),
            None => "it has no \"type\"".to_owned(),
        }));
    }
    let Some(features) = doc.get("features").and_then(Value::as_array) else {
        return Err(GeoError::NotFeatureCollection(
            "it has no \"features\" array".to_owned(),
        ));
    };
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(features.len());
    let mut shapes = Vec::with_capacity(features.len());
    for (index, f) in features.iter().enumerate() {
        let fail = |code: Option<&str>, problem: String| GeoError::Feature {
            index,
            code: code.map(str::to_owned),
            problem,
        };
        let Some(obj) = f.as_object() else {
            return Err(fail(None, "is not an object".to_owned()));
        };
        if obj.get("type").and_then(Value::as_str) != Some("Feature") {
            return Err(fail(None, "its \"type\" is not \"Feature\"".to_owned()));
        }
        let code = feature_code(obj, code_property).map_err(|p| fail(None, p))?;
        if let Some(first) = seen.get(&code) {
            return Err(fail(
                Some(&code),
                format!("the code is already that of features[{first}]"),
            ));
        }
        let rings = match obj.get("geometry") {
            None | Some(Value::Null) => Err("has no geometry".to_owned()),
            Some(g) => geometry_rings(g),
        }
        .map_err(|p| fail(Some(&code), p))?;
        seen.insert(code.clone(), index);
        shapes.push(Shape::new(code, rings));
    }
    Ok(shapes)
}

/// The org-unit code under `property`: a non-empty string, or a whole number written as one.
fn feature_code(obj: &Map<String, Value>, property: &str) -> Result<String, String> {
    let value = obj
        .get("properties")
        .and_then(Value::as_object)
        .and_then(|p| p.get(property));
    match value {
        None | Some(Value::Null) => Err(format!("property {property:?} is missing")),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(Value::Number(n)) if n.is_u64() => Ok(n.to_string()),
        Some(v) => Err(format!(
            "property {property:?} is {v}, not a code (a string or a whole number)"
        )),
    }
}

/// The outer rings of a Polygon or MultiPolygon geometry (holes are checked, then dropped),
/// without their closing repeat, counter-clockwise.
pub(crate) fn geometry_rings(g: &Value) -> Result<Vec<Vec<Pt>>, String> {
    let kind = g.get("type").and_then(Value::as_str);
    let coords = g.get("coordinates").and_then(Value::as_array);
    let polygons: Vec<&Vec<Value>> = match (kind, coords) {
        (Some("Polygon"), Some(c)) => vec![c],
        (Some("MultiPolygon"), Some(c)) => c
            .iter()
            .enumerate()
            .map(|(i, p)| {
                p.as_array()
                    .ok_or_else(|| format!("polygon {i} is not an array of rings"))
            })
            .collect::<Result<_, _>>()?,
        (Some("Polygon" | "MultiPolygon"), None) => {
            return Err("the geometry has no \"coordinates\" array".to_owned());
        }
        (Some(k), _) => {
            return Err(format!(
                "geometry type {k:?} is not Polygon or MultiPolygon"
            ));
        }
        (None, _) => return Err("the geometry has no \"type\"".to_owned()),
    };
    let mut out = Vec::with_capacity(polygons.len());
    for (pi, rings) in polygons.iter().enumerate() {
        if rings.is_empty() {
            return Err(format!("polygon {pi} has no rings"));
        }
        for (ri, ring) in rings.iter().enumerate() {
            let mut ring =
                read_ring(ring).map_err(|p| format!("ring {ri} of polygon {pi}: {p}"))?;
            if ri == 0 {
                if geom::signed_area(&ring) < 0.0 {
                    ring.reverse();
                }
                out.push(ring);
            }
        }
    }
    Ok(out)
}

/// A linear ring: at least four positions, the last equal to the first, finite longitudes in
/// [-180, 180] and latitudes in [-90, 90], enclosing some area. Returned without the repeat.
fn read_ring(ring: &Value) -> Result<Vec<Pt>, String> {
    let Some(positions) = ring.as_array() else {
        return Err("is not an array of positions".to_owned());
    };
    let mut pts = Vec::with_capacity(positions.len());
    for (k, p) in positions.iter().enumerate() {
        let xy = p
            .as_array()
            .filter(|a| a.len() >= 2)
            .ok_or_else(|| format!("position {k} is {p}, not [longitude, latitude]"))?;
        let (Some(x), Some(y)) = (xy[0].as_f64(), xy[1].as_f64()) else {
            return Err(format!("position {k} is {p}, not two numbers"));
        };
        if !(x.is_finite() && (-180.0..=180.0).contains(&x)) {
            return Err(format!(
                "position {k}: longitude {x} is outside [-180, 180]"
            ));
        }
        if !(y.is_finite() && (-90.0..=90.0).contains(&y)) {
            return Err(format!("position {k}: latitude {y} is outside [-90, 90]"));
        }
        pts.push([x, y]);
    }
    if pts.len() < 4 {
        return Err(format!(
            "has {} positions; a ring needs at least 4, the last repeating the first",
            pts.len()
        ));
    }
    if pts.first() != pts.last() {
        return Err("is not closed: its last position differs from its first".to_owned());
    }
    pts.pop();
    if geom::area(&pts) == 0.0 {
        return Err("encloses no area".to_owned());
    }
    Ok(pts)
}

/// The GeoJSON geometry of `rings`: a Polygon for one ring, else a MultiPolygon; rings closed.
pub(crate) fn geometry(rings: &[Vec<Pt>]) -> Value {
    let closed = |ring: &Vec<Pt>| -> Value {
        let mut pts: Vec<Value> = ring.iter().map(|p| json!([p[0], p[1]])).collect();
        if let Some(first) = pts.first().cloned() {
            pts.push(first);
        }
        Value::Array(pts)
    };
    match rings {
        [one] => json!({ "type": "Polygon", "coordinates": [closed(one)] }),
        _ => json!({
            "type": "MultiPolygon",
            "coordinates": rings.iter().map(|r| json!([closed(r)])).collect::<Vec<_>>(),
        }),
    }
}

/// A FeatureCollection of `shapes`, each with its code in the property `code`.
pub(crate) fn to_geojson(shapes: &[Shape]) -> String {
    let features: Vec<Value> = shapes
        .iter()
        .map(|s| {
            json!({
                "type": "Feature",
                "properties": { "code": s.code },
                "geometry": geometry(&s.rings),
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features }).to_string()
}
