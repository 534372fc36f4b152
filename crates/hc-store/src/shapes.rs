//! The org units' shapes for maps (table `org_shapes`, migration `0008_signals`): a GeoJSON
//! geometry and a label point per org unit, and where they came from (`demo`, or the file a
//! deployment imported). The geometry is kept as text: the store neither reads nor checks it
//! (that is `hc-geo`'s business).

use crate::{Result, Store, StoreError, on_pool};

/// One org unit's shape as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct ShapeRow {
    /// The org unit's code.
    pub code: String,
    /// A GeoJSON geometry (Polygon or MultiPolygon), as JSON text.
    pub geometry: String,
    /// Longitude of the label point.
    pub x: f64,
    /// Latitude of the label point.
    pub y: f64,
    /// Where the shape came from: `demo`, or the name of the imported file.
    pub source: String,
}

/// Rows per insert statement (each row's geometry is a few kilobytes at most).
const SHAPE_BATCH: usize = 500;

const DELETE: &str = "DELETE FROM org_shapes";
const INSERT_SQLITE: &str = "INSERT INTO org_shapes (code, geometry, x, y, source) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each($1)";
const INSERT_PG: &str = "INSERT INTO org_shapes (code, geometry, x, y, source) \
     SELECT j ->> 0, j ->> 1, CAST(j ->> 2 AS DOUBLE PRECISION), CAST(j ->> 3 AS DOUBLE PRECISION), j ->> 4 \
     FROM jsonb_array_elements(CAST($1 AS jsonb)) j";
const SELECT: &str = "SELECT code, geometry, x, y, source FROM org_shapes ORDER BY code";

impl Store {
    /// Replaces every stored shape by `rows`, in one transaction: readers see the old set or
    /// the new one, never a mix. A code given twice is a [`StoreError::Conflict`] and
    /// nothing changes.
    pub async fn put_shapes(&self, rows: &[ShapeRow]) -> Result<()> {
        let batches = rows
            .chunks(SHAPE_BATCH)
            .map(|chunk| {
                let tuples: Vec<(&str, &str, f64, f64, &str)> = chunk
                    .iter()
                    .map(|r| {
                        (
                            r.code.as_str(),
                            r.geometry.as_str(),
                            r.x,
                            r.y,
                            r.source.as_str(),
                        )
                    })
                    .collect();
                serde_json::to_string(&tuples)
                    .map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))
            })
            .collect::<Result<Vec<String>>>()?;
        macro_rules! write {
            ($tx:expr, $insert:expr) => {{
                sqlx::query(DELETE).execute(&mut *$tx).await?;
                for batch in &batches {
                    sqlx::query($insert).bind(batch).execute(&mut *$tx).await?;
                }
            }};
        }
        match &self.db {
            crate::Db::Sqlite(p) => {
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                write!(tx, INSERT_SQLITE);
                tx.commit().await?;
            }
            crate::Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                write!(tx, INSERT_PG);
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Every stored shape, by code.
    pub async fn shapes(&self) -> Result<Vec<ShapeRow>> {
        Ok(on_pool!(self, p => sqlx::query_as(SELECT).fetch_all(p).await?))
    }
}
