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
    /// Primary care: the rules and the indicators' definitions (see [`CareFile`]).
    pub care: Option<CareFile>,
}

/// The `[care]` section: what a province or city configures of primary care. Unset keys keep
/// the national specification's defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareFile {
    /// A TOML file of follow-up rules replacing the national specification's
    /// (`hc_care::Rules`: targets, danger thresholds, re-visit days, plausible ranges).
    pub rules: Option<PathBuf>,
    /// What standardised management requires: `face_to_face_per_year` and `revisits_done`.
    pub standard: Option<hc_care::Standard>,
    /// Services a contract must deliver a year: `basic` and `personalised`.
    pub fulfilment: Option<hc_care::Fulfilment>,
    /// Days overdue after which a patient counts as lost to follow-up (default 90).
    pub lost_after_days: Option<i64>,
}

impl CareFile {
    /// The settings, reading the rules file (relative to the working directory).
    pub fn settings(self) -> anyhow::Result<hc_app::care::CareSettings> {
        let rules = match &self.rules {
            None => hc_care::Rules::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("[care] rules: reading {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("[care] rules: {}", path.display()))?
            }
        };
        if let Some(days) = self.lost_after_days
            && !(14..=3650).contains(&days)
        {
            bail!("[care] lost_after_days must be between 14 and 3650, not {days}");
        }
        Ok(hc_app::care::CareSettings {
            rules,
            standard: self.standard.unwrap_or_default(),
            fulfilment: self.fulfilment.unwrap_or_default(),
            lost_after_days: self.lost_after_days,
        })
    }
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
    /// Primary-care rules and indicator definitions.
    pub care: hc_app::care::CareSettings,
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
        let care = file.care.unwrap_or_default().settings()?;
        Ok(Config {
            database,
            listen,
            web,
            care,
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

    #[test]
    fn care_settings_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hc.toml");
        let raw = || RawArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        std::fs::write(
            &path,
            "[care]\nlost_after_days = 60\n[care.standard]\nface_to_face_per_year = 6\n",
        )
        .unwrap();
        let c = Config::from_raw(raw()).unwrap();
        assert_eq!(c.care.standard.face_to_face_per_year, 6);
        assert!(c.care.standard.revisits_done, "unset keys keep the default");
        assert_eq!(c.care.lost_after_days, Some(60));
        assert_eq!(c.care.fulfilment, hc_care::Fulfilment::default());
        std::fs::write(&path, "[care]\nlost_after_days = 5\n").unwrap();
        let err = Config::from_raw(raw()).unwrap_err();
        assert!(format!("{err:#}").contains("lost_after_days"), "{err:#}");
        std::fs::write(&path, "[care]\nrules = \"missing.toml\"\n").unwrap();
        let err = Config::from_raw(raw()).unwrap_err();
        assert!(format!("{err:#}").contains("missing.toml"), "{err:#}");
    }
}
