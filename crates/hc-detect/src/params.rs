//! Method parameters as `key=value` pairs, named after R's control arguments in snake_case
//! (`no_periods` for `noPeriods`). Each method takes the keys it knows; any key left over is an
//! error, so a misspelt parameter never passes silently.

use std::fmt::Display;
use std::str::FromStr;

/// A bad or unknown parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// A pair without `=`.
    #[error("parameter `{0}` is not of the form key=value")]
    Syntax(String),
    /// The same key twice.
    #[error("parameter `{0}` is given twice")]
    Duplicate(String),
    /// A value that does not parse or is out of range.
    #[error("parameter `{key}={value}`: expected {expected}")]
    Invalid {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What the method accepts.
        expected: String,
    },
    /// Keys the method does not know.
    #[error("method {method} has no parameter {}; it takes {known}", .keys.join(", "))]
    Unknown {
        /// The method.
        method: String,
        /// The unknown keys.
        keys: Vec<String>,
        /// The keys the method knows.
        known: String,
    },
    /// A method name that is not one of [`crate::METHODS`].
    #[error("unknown method `{0}`; methods are {methods}", methods = crate::METHODS.join(", "))]
    UnknownMethod(String),
}

/// `key=value` pairs, consumed by a method's `from_params`.
#[derive(Debug, Clone, Default)]
pub struct Params {
    entries: Vec<Entry>,
    known: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct Entry {
    key: String,
    value: String,
    used: bool,
}

impl Params {
    /// Parses `k=v;k=v` (blank pairs are skipped; keys are trimmed and lower-cased).
    pub fn parse(text: &str) -> Result<Params, ParamError> {
        let mut params = Params::default();
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| ParamError::Syntax(pair.to_owned()))?;
            params.insert(key, value)?;
        }
        Ok(params)
    }

    /// Adds one pair; a key given twice is an error.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), ParamError> {
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(ParamError::Syntax(format!("={value}")));
        }
        if self.entries.iter().any(|e| e.key == key) {
            return Err(ParamError::Duplicate(key));
        }
        self.entries.push(Entry {
            key,
            value: value.trim().to_owned(),
            used: false,
        });
        Ok(())
    }

    /// The raw value of `key`, marking it as known and used.
    pub fn raw(&mut self, key: &'static str) -> Option<String> {
        self.known.push(key);
        self.entries.iter_mut().find(|e| e.key == key).map(|e| {
            e.used = true;
            e.value.clone()
        })
    }

    /// A value parsed with [`FromStr`], or `default` when absent.
    pub fn get<T: FromStr>(
        &mut self,
        key: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, ParamError> {
        match self.raw(key) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|_| invalid(key, &value, expected)),
        }
    }

    /// A finite number, or `default`.
    pub fn number(&mut self, key: &'static str, default: f64) -> Result<f64, ParamError> {
        let value = self.get(key, default, "a number")?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(invalid(key, &value.to_string(), "a finite number"))
        }
    }

    /// A number strictly between 0 and 1 (a probability such as `alpha`), or `default`.
    pub fn probability(&mut self, key: &'static str, default: f64) -> Result<f64, ParamError> {
        let value = self.number(key, default)?;
        if value > 0.0 && value < 1.0 {
            Ok(value)
        } else {
            Err(invalid(key, &value.to_string(), "a number between 0 and 1"))
        }
    }

    /// A whole number ≥ `min`, or `default`.
    pub fn count(
        &mut self,
        key: &'static str,
        default: usize,
        min: usize,
    ) -> Result<usize, ParamError> {
        let value = self.get(key, default, "a whole number")?;
        if value >= min {
            Ok(value)
        } else {
            Err(invalid(
                key,
                &value.to_string(),
                &format!("a whole number ≥ {min}"),
            ))
        }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, R's `TRUE`/`FALSE`), or `default`.
    pub fn flag(&mut self, key: &'static str, default: bool) -> Result<bool, ParamError> {
        match self.raw(key) {
            None => Ok(default),
            Some(value) => match value.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" => Ok(true),
                "false" | "f" | "0" | "no" => Ok(false),
                _ => Err(invalid(key, &value, "true or false")),
            },
        }
    }

    /// One of the named `choices` (case-insensitive), or `default`.
    pub fn choice<T: Copy>(
        &mut self,
        key: &'static str,
        choices: &[(&str, T)],
        default: T,
    ) -> Result<T, ParamError> {
        match self.raw(key) {
            None => Ok(default),
            Some(value) => choices
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&value))
                .map(|&(_, t)| t)
                .ok_or_else(|| {
                    let names: Vec<&str> = choices.iter().map(|c| c.0).collect();
                    invalid(key, &value, &format!("one of {}", names.join(", ")))
                }),
        }
    }

    /// A comma-separated list of numbers (R's `c(5, 4)`), or `default`.
    pub fn numbers(
        &mut self,
        key: &'static str,
        default: Vec<f64>,
    ) -> Result<Vec<f64>, ParamError> {
        match self.raw(key) {
            None => Ok(default),
            Some(value) => value
                .split(',')
                .map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| invalid(key, &value, "numbers separated by commas")),
        }
    }

    /// Fails when a key was given that no getter asked for.
    pub fn finish(self, method: &str) -> Result<(), ParamError> {
        let keys: Vec<String> = self
            .entries
            .iter()
            .filter(|e| !e.used)
            .map(|e| e.key.clone())
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let mut known = self.known;
        known.sort_unstable();
        known.dedup();
        Err(ParamError::Unknown {
            method: method.to_owned(),
            keys,
            known: if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            },
        })
    }
}

/// An [`ParamError::Invalid`] for `key=value`.
pub fn invalid(key: &str, value: &(impl Display + ?Sized), expected: &str) -> ParamError {
    ParamError::Invalid {
        key: key.to_owned(),
        value: value.to_string(),
        expected: expected.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_bad_keys_are_named() {
        let mut p = Params::parse("b=4; w=x;limit54=0,4;typo=1").unwrap_or_default();
        assert_eq!(p.count("b", 5, 1), Ok(4));
        assert_eq!(
            p.count("w", 3, 0).map_err(|e| e.to_string()),
            Err("parameter `w=x`: expected a whole number".into())
        );
        assert_eq!(p.numbers("limit54", vec![5.0, 4.0]), Ok(vec![0.0, 4.0]));
        assert_eq!(
            p.finish("farrington-flexible").map_err(|e| e.to_string()),
            Err("method farrington-flexible has no parameter typo; it takes b, limit54, w".into())
        );
        assert_eq!(
            Params::parse("a=1;a=2").map(|_| ()),
            Err(ParamError::Duplicate("a".into()))
        );
    }
}
