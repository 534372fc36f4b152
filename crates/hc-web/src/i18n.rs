//! Locales and message catalogues. Every user-facing string of the UI lives in
//! `messages/<locale>.toml`; Chinese (zh-CN) is the default, English is on request.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// A supported locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文 (zh-CN), the default.
    #[default]
    Zh,
    /// English.
    En,
}

/// Name of the cookie that remembers the chosen locale.
pub const LANG_COOKIE: &str = "lang";

impl Lang {
    /// Parses `zh`, `zh-CN`, `en`, `en-US`, …
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The BCP 47 tag, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The message catalogue.
    pub fn messages(self) -> &'static Messages {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

/// A flat catalogue: `section.key` → text.
#[derive(Debug)]
pub struct Messages {
    map: HashMap<String, String>,
}

impl Messages {
    /// Parses a TOML catalogue, flattening tables into dotted keys.
    pub fn parse(text: &str) -> Result<Messages, toml::de::Error> {
        let table: toml::Table = text.parse()?;
        let mut map = HashMap::new();
        flatten("", &table, &mut map);
        Ok(Messages { map })
    }

    /// The text of `key`; the key itself when missing (visible, and caught by the catalogue tests).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map_or(key, String::as_str)
    }

    /// All keys, sorted.
    pub fn keys(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.map.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

fn load(text: &str) -> Messages {
    Messages::parse(text).unwrap_or_else(|e| {
        tracing::error!(error = %e, "message catalogue does not parse");
        Messages {
            map: HashMap::new(),
        }
    })
}

static ZH: LazyLock<Messages> = LazyLock::new(|| load(include_str!("../messages/zh-CN.toml")));
static EN: LazyLock<Messages> = LazyLock::new(|| load(include_str!("../messages/en.toml")));

/// The raw catalogues, for tests: (locale tag, TOML text).
pub const CATALOGUES: [(&str, &str); 2] = [
    ("zh-CN", include_str!("../messages/zh-CN.toml")),
    ("en", include_str!("../messages/en.toml")),
];

/// The request's locale: `?lang=` first, then the `lang` cookie, else Chinese.
impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
            .and_then(Lang::parse);
        let from_cookie = || crate::auth::cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse);
        Ok(from_query.or_else(from_cookie).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_parse_and_have_the_same_keys() {
        let zh = Messages::parse(CATALOGUES[0].1).unwrap();
        let en = Messages::parse(CATALOGUES[1].1).unwrap();
        assert!(!zh.keys().is_empty());
        assert_eq!(
            zh.keys(),
            en.keys(),
            "zh-CN and en must define the same keys"
        );
    }

    #[test]
    fn lang_parses_tags() {
        assert_eq!(Lang::parse("en-US"), Some(Lang::En));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
    }
}
