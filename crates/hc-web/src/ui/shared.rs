//! View pieces several pages share: parsing query values, links, breadcrumbs, the area
//! selector and community names.

use hc_core::access::Scope;
use std::collections::HashMap;

use chrono::NaiveDate;
use hc_core::model::{OrgLevel, OrgUnit};
use hc_store::{OrgUnitFilter, Page, Store, StoreError, Stored};

use super::ctx::Ctx;
use super::error::UiError;

/// Rows per page of the lists.
pub const PAGE_SIZE: u32 = 50;

/// A link with its text.
#[derive(Debug, Clone)]
pub struct Link {
    /// Target.
    pub href: String,
    /// Text.
    pub text: String,
}

/// An `<option>` of a `<select>`.
#[derive(Debug, Clone)]
pub struct SelectOpt {
    /// Submitted value.
    pub value: String,
    /// Shown text.
    pub label: String,
    /// Whether it is the current choice.
    pub selected: bool,
}

/// One labelled fact of a detail page.
pub struct Fact {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
    /// Link of the value, if any.
    pub href: String,
}

impl Fact {
    /// A fact `label` (a message key) with `value`.
    pub fn new(ctx: &Ctx, label: &str, value: impl Into<String>) -> Fact {
        Fact {
            label: ctx.t(label).to_owned(),
            value: value.into(),
            href: String::new(),
        }
    }

    /// The same fact, linked.
    pub fn link(mut self, href: String) -> Fact {
        self.href = href;
        self
    }
}

/// A trimmed query value; `None` when absent or blank (an unset form field).
pub fn opt(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A coded value (`kind=hospital`, …): 400 when it is not one of the codes.
pub fn coded<T>(
    field: &'static str,
    v: &Option<String>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, UiError> {
    v.as_deref()
        .map(|s| parse(s).ok_or_else(|| UiError::bad(field, s)))
        .transpose()
}

/// A pagination cursor: 400 unless a non-negative integer.
pub fn cursor(v: &Option<String>) -> Result<Option<i64>, UiError> {
    v.as_deref()
        .map(|s| {
            s.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| UiError::bad("after", s))
        })
        .transpose()
}

/// A date `YYYY-MM-DD`: 400 otherwise.
pub fn date(field: &'static str, v: &Option<String>) -> Result<Option<NaiveDate>, UiError> {
    v.as_deref()
        .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| UiError::bad(field, s)))
        .transpose()
}

/// A yes/no filter: `yes`/`no` (also `true`/`false`, `1`/`0`); 400 otherwise.
pub fn yes_no(field: &'static str, v: &Option<String>) -> Result<Option<bool>, UiError> {
    v.as_deref()
        .map(|s| match s {
            "yes" | "true" | "1" => Ok(true),
            "no" | "false" | "0" => Ok(false),
            other => Err(UiError::bad(field, other)),
        })
        .transpose()
}

/// An org-unit code: 6, 9 or 12 digits; 400 otherwise.
pub fn org_code(field: &'static str, v: &Option<String>) -> Result<Option<String>, UiError> {
    v.as_deref()
        .map(|s| {
            if matches!(s.len(), 6 | 9 | 12) && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(s.to_owned())
            } else {
                Err(UiError::bad(field, s))
            }
        })
        .transpose()
}

/// The org unit with `code`: 404 when unknown.
pub async fn unit(store: &Store, scope: &Scope, code: &str) -> Result<Stored<OrgUnit>, UiError> {
    store
        .orgunit(code, scope)
        .await
        .map_err(UiError::store("what.orgunit", code))
}

/// `unit` and its registered ancestors, from the top down.
pub async fn lineage(
    store: &Store,
    scope: &Scope,
    unit: &Stored<OrgUnit>,
) -> Result<Vec<OrgUnit>, UiError> {
    let mut chain = vec![unit.record.clone()];
    let mut parent = unit.record.parent_code.clone();
    while let Some(code) = parent.take() {
        if chain.len() > 8 {
            break;
        }
        match store.orgunit(&code, scope).await {
            Ok(u) => {
                parent = u.record.parent_code.clone();
                chain.push(u.record);
            }
            // A city's parent (the province) need not be registered.
            Err(StoreError::NotFound) => break,
            Err(e) => return Err(e.into()),
        }
    }
    chain.reverse();
    Ok(chain)
}

/// Names of the org units with `codes` (unknown codes are left out).
pub async fn unit_names(
    store: &Store,
    scope: &Scope,
    mut codes: Vec<String>,
) -> Result<HashMap<String, String>, UiError> {
    codes.sort_unstable();
    codes.dedup();
    let mut names = HashMap::new();
    for code in codes {
        match store.orgunit(&code, scope).await {
            Ok(u) => {
                names.insert(code, u.record.name);
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(names)
}

/// Options for an area filter: cities, districts and streets in force today, in tree order,
/// indented by level; `selected` is added when it is a unit not among them (a community).
pub async fn area_options(
    ctx: &Ctx,
    store: &Store,
    selected: Option<&Stored<OrgUnit>>,
) -> Result<Vec<SelectOpt>, UiError> {
    let mut units = Vec::new();
    for (level, limit) in [
        (OrgLevel::City, 100),
        (OrgLevel::District, 1_000),
        (OrgLevel::Street, 10_000),
    ] {
        let filter = OrgUnitFilter {
            level: Some(level),
            as_of: Some(ctx.today),
            ..OrgUnitFilter::default()
        };
        units.extend(
            store
                .orgunits(&filter, Page { after: None, limit }, &ctx.scope)
                .await?
                .items
                .into_iter()
                .map(|s| s.record),
        );
    }
    units.sort_by(|a, b| a.code.cmp(&b.code));
    let selected_code = selected.map(|s| s.record.code.as_str());
    let mut opts = vec![SelectOpt {
        value: String::new(),
        label: ctx.t("common.all_areas").to_owned(),
        selected: selected.is_none(),
    }];
    if let Some(s) = selected.filter(|s| !units.iter().any(|u| u.code == s.record.code)) {
        opts.push(SelectOpt {
            value: s.record.code.clone(),
            label: s.record.name.clone(),
            selected: true,
        });
    }
    opts.extend(units.into_iter().map(|u| {
        let indent = match u.level {
            OrgLevel::City => "",
            OrgLevel::District => "\u{3000}",
            _ => "\u{3000}\u{3000}",
        };
        SelectOpt {
            selected: Some(u.code.as_str()) == selected_code,
            label: format!("{indent}{}", u.name),
            value: u.code,
        }
    }));
    Ok(opts)
}

/// Options of a coded filter, with an "all" option first.
pub fn enum_options<T: Copy + PartialEq>(
    ctx: &Ctx,
    section: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    current: Option<T>,
) -> Vec<SelectOpt> {
    let mut opts = vec![SelectOpt {
        value: String::new(),
        label: ctx.t("common.all").to_owned(),
        selected: current.is_none(),
    }];
    opts.extend(all.iter().map(|v| SelectOpt {
        value: code(*v).to_owned(),
        label: ctx.label(section, code(*v)),
        selected: current == Some(*v),
    }));
    opts
}

/// Validity of an org unit, e.g. `2019-01-01 – ` or `— – 2023-12-31`.
pub fn validity(ctx: &Ctx, u: &OrgUnit) -> String {
    match (u.valid_from, u.valid_to) {
        (None, None) => ctx.t("orgunits.always").to_owned(),
        (from, to) => format!(
            "{} – {}",
            from.map_or_else(
                || ctx.t("orgunits.open_start").to_owned(),
                |d| d.to_string()
            ),
            to.map_or_else(|| ctx.t("orgunits.open_end").to_owned(), |d| d.to_string())
        ),
    }
}
