//! Settings from the command line, `HEALTHCITY_*` environment variables and `healthcity.toml`,
//! in that order of precedence, validated once into [`Config`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// What `healthcity.toml` may hold. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Database URL.
    pub database: Option<String>,
    /// Listen address of `serve` and `demo`.
    pub listen: Option<String>,
    /// Largest JSON request body, in bytes.
    pub max_body_bytes: Option<usize>,
    /// Largest CSV upload, in bytes.
    pub max_import_bytes: Option<usize>,
    /// Mark cookies Secure (behind HTTPS).
    pub secure_cookies: Option<bool>,
    /// Account security: `password_profile` (`dengbao` or `asvs`), `lockout_attempts`,
    /// `lockout_minutes`, `idle_minutes`, `absolute_hours`, `totp_for_admins`,
    /// `break_glass_minutes`. Unset keys keep the 等保 2.0 level-3 defaults.
    pub security: Option<hc_core::access::SecurityPolicy>,
}

impl FileConfig {
    /// Reads `path`; a missing file is an empty configuration unless it was asked for by name.
    pub fn load(path: &Path, required: bool) -> anyhow::Result<FileConfig> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(FileConfig::default())
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL.
    pub database: String,
    /// Listen address.
    pub listen: String,
    /// HTTP settings.
    pub web: hc_web::WebConfig,
}

/// Raw values from the command line and environment (clap fills these).
#[derive(Debug, Clone, Default)]
pub struct RawArgs {
    pub database: Option<String>,
    pub listen: Option<String>,
    pub config: Option<PathBuf>,
    pub max_body_bytes: Option<usize>,
    pub max_import_bytes: Option<usize>,
    pub secure_cookies: Option<bool>,
}

pub const DEFAULT_DATABASE: &str = "sqlite://healthcity.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    /// Merges `raw` over the file over the defaults and checks the result.
    pub fn from_raw(raw: RawArgs) -> anyhow::Result<Config> {
        let (path, required) = match &raw.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from("healthcity.toml"), false),
        };
        let file = FileConfig::load(&path, required)?;
        let database = raw
            .database
            .or(file.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        if !(database.starts_with("sqlite:")
            || database.starts_with("postgres:")
            || database.starts_with("postgresql:"))
        {
            bail!("--database {database:?}: expected sqlite://PATH or postgres://USER@HOST/DB");
        }
        let listen = raw
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        if listen.parse::<std::net::SocketAddr>().is_err() {
            bail!("--listen {listen:?}: expected an address such as 127.0.0.1:8080");
        }
        let defaults = hc_web::WebConfig::default();
        let web = hc_web::WebConfig {
            max_body_bytes: raw
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(defaults.max_body_bytes),
            max_import_bytes: raw
                .max_import_bytes
                .or(file.max_import_bytes)
                .unwrap_or(defaults.max_import_bytes),
            secure_cookies: raw
                .secure_cookies
                .or(file.secure_cookies)
                .unwrap_or(defaults.secure_cookies),
            policy: file.security.unwrap_or_default(),
        };
        if web.max_body_bytes < 1024 {
            bail!("max_body_bytes must be at least 1024");
        }
        Ok(Config {
            database,
            listen,
            web,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hc.toml");
        std::fs::write(
            &path,
            "database = \"postgres://db/x\"\nlisten = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        let raw = RawArgs {
            config: Some(path.clone()),
            listen: Some("127.0.0.1:1".into()),
            ..Default::default()
        };
        let c = Config::from_raw(raw).unwrap();
        assert_eq!(
            (c.database.as_str(), c.listen.as_str()),
            ("postgres://db/x", "127.0.0.1:1")
        );
        std::fs::write(&path, "databse = \"typo\"\n").unwrap();
        let err = Config::from_raw(RawArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown field `databse`"),
            "{err:#}"
        );
        let err = Config::from_raw(RawArgs {
            config: Some(dir.path().join("none.toml")),
            ..Default::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("none.toml"));
        let err = Config::from_raw(RawArgs {
            database: Some("mysql://x".into()),
            config: Some(dir.path().join("x")),
            ..Default::default()
        });
        assert!(err.is_err());
    }
}
