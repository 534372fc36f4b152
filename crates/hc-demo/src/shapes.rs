//! The demo city's map: made-up shapes for every org unit (`hc_geo::generate`), each unit's
//! area in proportion to the residents planned in it.

use std::collections::HashMap;

use hc_core::model::OrgLevel;
use hc_geo::{Level, Unit};
use hc_store::ShapeRow;

use crate::DemoError;
use crate::plan::CityPlan;

/// What `org_shapes.source` says of the demo's shapes.
pub(crate) const SOURCE: &str = "demo";

/// A shape for every org unit of the plan. A community weighs the residents it can expect;
/// a street, district or the city the sum of its communities (airports and bonded zones
/// have few residents: `hc_geo` gives them a floor of area, as they have in reality).
pub(crate) fn rows(plan: &CityPlan) -> Result<Vec<ShapeRow>, DemoError> {
    let mut weight: HashMap<&str, f64> = HashMap::new();
    for d in &plan.districts {
        for (code, expected) in d.expected_residents() {
            weight.insert(code, expected);
        }
    }
    // Org units come parents first: from the end, every unit is complete before its parent.
    for u in plan.orgunits.iter().rev() {
        let w = weight.get(u.code.as_str()).copied().unwrap_or(0.0);
        if let Some(p) = u.parent_code.as_deref() {
            *weight.entry(p).or_insert(0.0) += w;
        }
    }
    let units: Vec<Unit> = plan
        .orgunits
        .iter()
        .map(|u| Unit {
            code: u.code.clone(),
            parent_code: u.parent_code.clone(),
            level: match u.level {
                OrgLevel::City => Level::City,
                OrgLevel::District => Level::District,
                OrgLevel::Street => Level::Street,
                OrgLevel::Community => Level::Community,
            },
            weight: weight.get(u.code.as_str()).copied().unwrap_or(0.0),
        })
        .collect();
    let shapes = hc_geo::generate(&units).map_err(|e| DemoError::Data(format!("map: {e}")))?;
    Ok(shapes
        .into_iter()
        .map(|s| ShapeRow {
            geometry: s.geometry_json(),
            x: s.label[0],
            y: s.label[1],
            code: s.code,
            source: SOURCE.to_owned(),
        })
        .collect())
}
