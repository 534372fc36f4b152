//! Test harness: a fresh, migrated store per test on each backend.
//!
//! SQLite always (a file in a temporary directory); PostgreSQL when the environment variable
//! `HEALTHCITY_TEST_POSTGRES` holds a server URL, in a database of its own per test.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{Backend, Result, Store};

/// A store for one test; its SQLite directory or PostgreSQL database lives as long as it does.
pub struct TestDb {
    /// The migrated store.
    pub store: Store,
    /// The URL it was opened with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: (server URL, database name) to drop when the test ends.
    drop_pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, name)) = self.drop_pg.take() else {
            return;
        };
        // Tests run inside a runtime that cannot block on async work: use a thread of our own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = Store::connect_with(&base, 1).await {
                    if let crate::Db::Postgres(p) = &admin.db {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await;
                    }
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The backends this run tests: SQLite, and PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if postgres_url().is_some() {
        b.push(Backend::Postgres);
    }
    b
}

fn postgres_url() -> Option<String> {
    std::env::var("HEALTHCITY_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, migrated store on `backend`.
pub async fn fresh(backend: Backend) -> Result<TestDb> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().map_err(|e| crate::StoreError::Db(sqlx::Error::Io(e)))?;
            let url = format!("sqlite://{}/test.db", dir.path().display());
            let store = Store::connect_with(&url, 4).await?;
            store.migrate().await?;
            Ok(TestDb {
                store,
                url,
                _dir: Some(dir),
                drop_pg: None,
            })
        }
        Backend::Postgres => {
            let base = postgres_url().ok_or_else(|| {
                crate::StoreError::Url("HEALTHCITY_TEST_POSTGRES is not set".into())
            })?;
            let name = format!(
                "hc_test_{}_{}_{}",
                std::process::id(),
                n,
                rand::random::<u32>()
            );
            let admin = Store::connect_with(&base, 1).await?;
            if let crate::Db::Postgres(p) = &admin.db {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(p)
                    .await?;
            }
            admin.close().await;
            let url = with_database(&base, &name);
            let store = Store::connect_with(&url, 4).await?;
            store.migrate().await?;
            Ok(TestDb {
                store,
                url,
                _dir: None,
                drop_pg: Some((base, name)),
            })
        }
    }
}

/// `base` with its database name replaced by `name`.
fn with_database(base: &str, name: &str) -> String {
    let (head, query) = base
        .split_once('?')
        .map_or((base, None), |(h, q)| (h, Some(q)));
    let after_scheme = head.find("://").map_or(0, |i| i + 3);
    let path_start = head[after_scheme..]
        .find('/')
        .map_or(head.len(), |i| after_scheme + i);
    let mut url = format!("{}/{}", &head[..path_start], name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
