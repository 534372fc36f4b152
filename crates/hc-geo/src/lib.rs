//! HealthCity maps: the shapes of a city's districts, streets and communities, and SVG maps
//! drawn from them.
//!
//! A [`Shape`] is an org unit's outline in longitude/latitude degrees (WGS 84, as GeoJSON has
//! them) with a label point inside it. Shapes come from one of two places:
//!
//! - [`generate`] makes up plausible nested shapes for an org-unit tree (the demo city has no
//!   real boundaries): an irregular city outline stretched west–east like Shenzhen, which the
//!   districts tile exactly, each district tiled by its streets, each street by its
//!   communities, areas in proportion to the units' weights (population), pieces compact;
//! - [`from_geojson`] reads a deployment's real boundaries from a GeoJSON FeatureCollection,
//!   checking every feature and naming the one at fault; [`to_geojson`] writes shapes back.
//!
//! [`render_svg`] draws shapes as a self-contained, accessible SVG map (no scripts, styles,
//! fonts or links to anything outside it): the caller says, shape by shape, how each is
//! filled, what its tooltip says and where it links.
//!
//! **Pure:** no I/O, no clock, no database. Files and storage are the callers' business.
//!
//! ```
//! use hc_geo::{Area, Level, SvgOptions, Unit};
//!
//! let unit = |code: &str, parent: Option<&str>, level, weight| Unit {
//!     code: code.into(),
//!     parent_code: parent.map(Into::into),
//!     level,
//!     weight,
//! };
//! let units = [
//!     unit("440300", None, Level::City, 3.0),
//!     unit("440303", Some("440300"), Level::District, 1.0),
//!     unit("440304", Some("440300"), Level::District, 2.0),
//! ];
//! let shapes = hc_geo::generate(&units).unwrap();
//! let (city, luohu, futian) = (&shapes[0], &shapes[1], &shapes[2]);
//! assert!((luohu.area() + futian.area() - city.area()).abs() < 1e-12 * city.area());
//! assert!(futian.contains(futian.label));
//!
//! let svg = hc_geo::render_svg(
//!     &shapes[1..],
//!     &|code| {
//!         Some(Area {
//!             fill: if code == "440304" { "#c00".into() } else { "#fcc".into() },
//!             title: format!("district {code}"),
//!             href: Some(format!("/orgunits/{code}")),
//!             label: None,
//!         })
//!     },
//!     &SvgOptions::new("Districts", "Cases per 100,000 residents by district"),
//! );
//! assert!(svg.starts_with("<svg") && svg.contains("<title>district 440304</title>"));
//!
//! let back = hc_geo::from_geojson(&hc_geo::to_geojson(&shapes), "code").unwrap();
//! assert_eq!(back, shapes);
//! ```
#![deny(missing_docs)]

mod generate;
mod geojson;
mod geom;
mod svg;

/// An org unit's outline and label point.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// The org unit's code.
    pub code: String,
    /// The outer rings of its polygon (one) or multipolygon (several), `[longitude, latitude]`
    /// in degrees, counter-clockwise, each without the closing repeat of its first point.
    /// Holes are not kept.
    pub rings: Vec<Vec<[f64; 2]>>,
    /// Where its name goes: a point inside it (see [`Shape::new`]).
    pub label: [f64; 2],
}

impl Shape {
    /// A shape with its label point computed: the centroid of its largest ring when that lies
    /// inside the shape, else the middle of the widest horizontal chord through it.
    pub fn new(code: String, rings: Vec<Vec<[f64; 2]>>) -> Shape {
        let label = geom::label_point(&rings);
        Shape { code, rings, label }
    }

    /// Planar area in square degrees (longitude × latitude): good for comparing shapes with
    /// each other, not for reporting (see [`Shape::area_km2`]).
    pub fn area(&self) -> f64 {
        self.rings.iter().map(|r| geom::area(r)).sum()
    }

    /// Approximate area in square kilometres (each ring scaled by the cosine of its mean
    /// latitude; within a fraction of a percent for a city).
    pub fn area_km2(&self) -> f64 {
        const KM_PER_DEGREE: f64 = 111.32;
        self.rings
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| {
                let lat = r.iter().map(|p| p[1]).sum::<f64>() / r.len() as f64;
                geom::area(r) * lat.to_radians().cos() * KM_PER_DEGREE * KM_PER_DEGREE
            })
            .sum()
    }

    /// Whether `point` (`[longitude, latitude]`) lies inside the shape.
    pub fn contains(&self, point: [f64; 2]) -> bool {
        geom::contains(&self.rings, point)
    }

    /// The shape's geometry as GeoJSON text: a Polygon for one ring, else a MultiPolygon.
    pub fn geometry_json(&self) -> String {
        geojson::geometry(&self.rings).to_string()
    }

    /// A shape from a GeoJSON Polygon or MultiPolygon geometry (as [`Shape::geometry_json`]
    /// writes and stores keep it), checked like a feature of [`from_geojson`], with the
    /// label point given or, when `None`, computed.
    pub fn from_geometry_json(
        code: String,
        geometry: &str,
        label: Option<[f64; 2]>,
    ) -> Result<Shape, GeoError> {
        let value: serde_json::Value =
            serde_json::from_str(geometry).map_err(|e| GeoError::Geometry {
                code: code.clone(),
                problem: format!("not JSON: {e}"),
            })?;
        let rings = geojson::geometry_rings(&value).map_err(|problem| GeoError::Geometry {
            code: code.clone(),
            problem,
        })?;
        Ok(match label {
            Some(label) => Shape { code, rings, label },
            None => Shape::new(code, rings),
        })
    }
}

/// The level of an org unit in the administrative tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// 市.
    City,
    /// 区.
    District,
    /// 街道.
    Street,
    /// 社区.
    Community,
}

impl Level {
    /// The wire code: `city`, `district`, `street` or `community`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
        }
    }
}

/// An org unit to make a shape for.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Its code.
    pub code: String,
    /// Its parent's code; `None`, or a code not among the units, for the top of the tree.
    pub parent_code: Option<String>,
    /// Its level: below its parent's.
    pub level: Level,
    /// How much area it should get compared with its siblings (its population, say): finite
    /// and ≥ 0. A weight below 0.3 of its siblings' mean counts as that.
    pub weight: f64,
}

/// How one shape of a map is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    /// Fill colour, any SVG paint (`#d73027`, `rgb(…)`, a named colour).
    pub fill: String,
    /// Its tooltip and accessible name, with the figure it shows (e.g. `南山区: 12.4 / 10万`).
    pub title: String,
    /// Where a click goes, if anywhere.
    pub href: Option<String>,
    /// Text drawn at its label point, if any.
    pub label: Option<String>,
}

/// What [`render_svg`] does with shapes its style gives no [`Area`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unstyled {
    /// Draw them in [`SvgOptions::background`], without title or link (context: the
    /// neighbouring districts of the one shown, say). They count in the map's extent.
    Background,
    /// Leave them out, and out of the map's extent.
    Skip,
}

/// Options of [`render_svg`].
#[derive(Debug, Clone, PartialEq)]
pub struct SvgOptions {
    /// The map's accessible name (its `<title>`).
    pub title: String,
    /// What it shows, for screen readers (its `<desc>`): say what the colours mean.
    pub description: String,
    /// Prefix of the element ids (`{id}-title`, `{id}-desc`): unique within the page.
    pub id: String,
    /// Width of the map in pixels; the height follows from the shapes' extent.
    pub width: f64,
    /// Space left around the shapes, in pixels.
    pub padding: f64,
    /// Outline colour of every shape.
    pub stroke: String,
    /// Outline width in pixels.
    pub stroke_width: f64,
    /// Fill of unstyled shapes drawn as background.
    pub background: String,
    /// What to do with unstyled shapes.
    pub unstyled: Unstyled,
    /// Font size of labels, in pixels.
    pub font_size: f64,
    /// Colour of labels.
    pub label_colour: String,
}

impl SvgOptions {
    /// Options for a map named `title` and described by `description`: 800 pixels wide,
    /// white outlines, unstyled shapes in light grey.
    pub fn new(title: impl Into<String>, description: impl Into<String>) -> SvgOptions {
        SvgOptions {
            title: title.into(),
            description: description.into(),
            id: "map".to_owned(),
            width: 800.0,
            padding: 4.0,
            stroke: "#ffffff".to_owned(),
            stroke_width: 0.75,
            background: "#e8e8e8".to_owned(),
            unstyled: Unstyled::Background,
            font_size: 11.0,
            label_colour: "#222222".to_owned(),
        }
    }
}

/// Why shapes could not be made or read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// A unit given to [`generate`] is unusable.
    #[error("org unit {code}: {problem}")]
    Unit {
        /// The unit's code.
        code: String,
        /// What is wrong.
        problem: String,
    },
    /// The units given to [`generate`] do not form one tree.
    #[error("org-unit tree: {0}")]
    Tree(String),
    /// The text is not JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// The JSON is not a GeoJSON FeatureCollection.
    #[error("not a GeoJSON FeatureCollection: {0}")]
    NotFeatureCollection(String),
    /// A feature is unusable.
    #[error(
        "features[{index}]{}: {problem}",
        code.as_deref().map(|c| format!(" (code {c})")).unwrap_or_default()
    )]
    Feature {
        /// Its position in `features`, from 0.
        index: usize,
        /// Its code, when it has a usable one.
        code: Option<String>,
        /// What is wrong.
        problem: String,
    },
    /// A stored geometry is unusable.
    #[error("geometry of {code}: {problem}")]
    Geometry {
        /// The org unit's code.
        code: String,
        /// What is wrong.
        problem: String,
    },
}

/// Makes up nested shapes for an org-unit tree.
///
/// The one unit whose parent is not among `units` (the city) gets an irregular convex outline
/// over 113.75–114.62° E, 22.45–22.85° N; every unit's children split their parent's shape
/// among them by straight cuts, in proportion to their weights, choosing the cuts that keep
/// pieces compact. So children tile their parent exactly: no gaps, no overlaps, their areas
/// add up to its area; a piece's edge may carry a vertex of its neighbour's children.
/// Deterministic: the same units, in any order, give the same shapes, returned in the order
/// of `units`.
///
/// Errors: a code given twice, a weight that is negative or not finite, a child whose level
/// is not below its parent's, no top unit or more than one, a unit not below the top.
pub fn generate(units: &[Unit]) -> Result<Vec<Shape>, GeoError> {
    generate::generate(units)
}

/// Reads shapes from a GeoJSON FeatureCollection of Polygon and MultiPolygon features whose
/// properties hold the org-unit code under `code_property` (a string, or a whole number).
///
/// Every ring must be closed, have at least four positions and enclose some area; every
/// coordinate must be a finite longitude in [-180, 180] or latitude in [-90, 90]; no code may
/// come twice. The first fault is the error, naming the feature (`features[i]`, from 0), its
/// code when known, the ring and position. Holes are checked and then dropped; outer rings
/// are turned counter-clockwise.
pub fn from_geojson(text: &str, code_property: &str) -> Result<Vec<Shape>, GeoError> {
    geojson::from_geojson(text, code_property)
}

/// Writes shapes as a GeoJSON FeatureCollection, each feature's code in its property `code`
/// (rings closed, coordinates as stored: [`from_geojson`] reads back the same shapes).
pub fn to_geojson(shapes: &[Shape]) -> String {
    geojson::to_geojson(shapes)
}

/// Draws `shapes` as a self-contained SVG map.
///
/// The projection is equirectangular with longitude scaled by the cosine of the middle
/// latitude, fitted to [`SvgOptions::width`]. `style(code)` says how each shape is drawn:
/// each styled shape is a `<path>` filled with [`Area::fill`], with a `<title>` (tooltip and
/// accessible name) and, when [`Area::href`] is set, inside an `<a href>`; [`Area::label`]
/// is written at the shape's label point. Shapes without an [`Area`] are background or left
/// out ([`SvgOptions::unstyled`]). The map has `role="img"` and is named by its `<title>` and
/// `<desc>`; every text is XML-escaped. A legend is the caller's to draw beside it.
pub fn render_svg(
    shapes: &[Shape],
    style: &dyn Fn(&str) -> Option<Area>,
    opts: &SvgOptions,
) -> String {
    svg::render_svg(shapes, style, opts)
}
