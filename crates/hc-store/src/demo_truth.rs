//! The demo city's truth (migration `0008`, table `demo_outbreaks`): the outbreaks the demo
//! generator injected into its surveillance feeds, one row per (outbreak, feed, code), so that
//! the signal pages can show what was there to find, and when.
//!
//! Also the two unscoped registry reads the generator needs to draw feed records for the
//! city it wrote: residents per community and the names of org units and institutions. Like
//! the other unscoped reads they serve generation and imports, never what a caller is shown.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{Result, Store, on_pool};

/// One injected outbreak's contribution to one stream: the records (or units) the demo added
/// to `feed`'s `code` in `area_code` from `first_day` to `last_day`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoOutbreak {
    /// The feed: `visits`, `cases`, `pharmacy-sales`, `absenteeism` or `lab-results`.
    pub feed: String,
    /// The stream's code in that feed: a syndrome, disease code, drug category, absence
    /// measure (`ill-gi`, ...) or pathogen.
    pub code: String,
    /// The community or street the extra records were put in.
    pub area_code: String,
    /// The first day with an extra record.
    pub first_day: NaiveDate,
    /// The last day with an extra record.
    pub last_day: NaiveDate,
    /// What was added: visits or cases (records), units sold, pupils absent ill, positives.
    pub extra: i64,
    /// What happened, in Chinese and English (the rows of one outbreak share it).
    pub description: String,
}

impl Store {
    /// Replaces the stored demo outbreaks with `rows`, in one transaction.
    pub async fn put_demo_outbreaks(&self, rows: &[DemoOutbreak]) -> Result<()> {
        const DELETE: &str = "DELETE FROM demo_outbreaks";
        const INSERT: &str = "INSERT INTO demo_outbreaks \
            (feed, code, area_code, first_day, last_day, extra, description) \
            VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(DELETE).execute(&mut *tx).await?;
            for r in rows {
                sqlx::query(INSERT)
                    .bind(&r.feed)
                    .bind(&r.code)
                    .bind(&r.area_code)
                    .bind(r.first_day)
                    .bind(r.last_day)
                    .bind(r.extra)
                    .bind(&r.description)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The stored demo outbreaks, in the order they were put.
    pub async fn demo_outbreaks(&self) -> Result<Vec<DemoOutbreak>> {
        const SQL: &str = "SELECT feed, code, area_code, first_day, last_day, extra, description \
            FROM demo_outbreaks ORDER BY id";
        type Row = (String, String, String, NaiveDate, NaiveDate, i64, String);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(
                |(feed, code, area_code, first_day, last_day, extra, description)| DemoOutbreak {
                    feed,
                    code,
                    area_code,
                    first_day,
                    last_day,
                    extra,
                    description,
                },
            )
            .collect())
    }

    /// Residents per community code (communities without residents are absent); unscoped,
    /// for the demo generator.
    pub async fn residents_per_community(&self) -> Result<Vec<(String, i64)>> {
        const SQL: &str = "SELECT community_code, COUNT(*) FROM residents \
            GROUP BY community_code ORDER BY community_code";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// Code and name of every org unit and institution; unscoped, for the demo generator
    /// (names are not personal data).
    pub async fn registry_names(&self) -> Result<Vec<(String, String)>> {
        const SQL: &str = "SELECT code, name FROM orgunits \
            UNION ALL SELECT code, name FROM institutions ORDER BY 1";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }
}
