//! The org tree as the streams need it: each community's street, district and city, and where
//! two areas meet.

use std::collections::HashMap;

/// A level of the city's administrative tree, from the finest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// 社区 / 村.
    Community,
    /// 街道 / 镇.
    Street,
    /// 区.
    District,
    /// 市.
    City,
}

impl Level {
    /// Every level, finest first.
    pub const ALL: [Level; 4] = [
        Level::Community,
        Level::Street,
        Level::District,
        Level::City,
    ];

    /// `community`, `street`, `district`, `city`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Community => "community",
            Level::Street => "street",
            Level::District => "district",
            Level::City => "city",
        }
    }

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Level::Community => "社区",
            Level::Street => "街道",
            Level::District => "区",
            Level::City => "市",
        }
    }

    /// Parses [`Level::as_str`].
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// Why the org tree cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AreaError {
    /// An org unit names a parent that is not in the tree.
    #[error("org unit {code} names parent {parent}, which is not in the tree")]
    UnknownParent {
        /// The unit.
        code: String,
        /// Its parent.
        parent: String,
    },
    /// An org unit's parent is not one level up.
    #[error("org unit {code} ({level}) has parent {parent} ({parent_level})")]
    BadParent {
        /// The unit.
        code: String,
        /// Its level.
        level: &'static str,
        /// Its parent.
        parent: String,
        /// The parent's level.
        parent_level: &'static str,
    },
    /// A code appears twice.
    #[error("org unit {0} appears twice")]
    Duplicate(String),
}

/// The org tree, indexed.
#[derive(Debug, Clone, Default)]
pub struct Areas {
    codes: Vec<String>,
    levels: Vec<Level>,
    parents: Vec<Option<usize>>,
    index: HashMap<String, usize>,
    points: Vec<Option<[f64; 2]>>,
}

impl Areas {
    /// Builds the tree from `(code, parent code, level)`; a unit's parent must be one level up.
    /// A city's parent (its province, which the registry does not hold) is ignored.
    pub fn new(units: &[(String, Option<String>, Level)]) -> Result<Areas, AreaError> {
        let mut index = HashMap::with_capacity(units.len());
        for (i, (code, _, _)) in units.iter().enumerate() {
            if index.insert(code.clone(), i).is_some() {
                return Err(AreaError::Duplicate(code.clone()));
            }
        }
        let mut parents = Vec::with_capacity(units.len());
        for (code, parent, level) in units {
            let p = match parent {
                None => None,
                Some(_) if *level == Level::City => None,
                Some(parent) => {
                    let Some(&p) = index.get(parent) else {
                        return Err(AreaError::UnknownParent {
                            code: code.clone(),
                            parent: parent.clone(),
                        });
                    };
                    let parent_level = units[p].2;
                    if parent_level as u8 != *level as u8 + 1 {
                        return Err(AreaError::BadParent {
                            code: code.clone(),
                            level: level.as_str(),
                            parent: parent.clone(),
                            parent_level: parent_level.as_str(),
                        });
                    }
                    Some(p)
                }
            };
            parents.push(p);
        }
        Ok(Areas {
            codes: units.iter().map(|u| u.0.clone()).collect(),
            levels: units.iter().map(|u| u.2).collect(),
            parents,
            index,
            points: vec![None; units.len()],
        })
    }

    /// Sets the label point (longitude, latitude) of an area, used by the space-time scan.
    pub fn set_point(&mut self, code: &str, point: [f64; 2]) -> bool {
        match self.index.get(code) {
            Some(&i) if point.iter().all(|v| v.is_finite()) => {
                self.points[i] = Some(point);
                true
            }
            _ => false,
        }
    }

    /// The index of `code`.
    pub fn get(&self, code: &str) -> Option<usize> {
        self.index.get(code).copied()
    }

    /// The code of area `i`.
    pub fn code(&self, i: usize) -> &str {
        &self.codes[i]
    }

    /// The level of area `i`.
    pub fn level(&self, i: usize) -> Level {
        self.levels[i]
    }

    /// The label point of area `i`, if known.
    pub fn point(&self, i: usize) -> Option<[f64; 2]> {
        self.points[i]
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The communities, by index.
    pub fn communities(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|&i| self.levels[i] == Level::Community)
    }

    /// The area at `level` that holds area `i` (itself at its own level); `None` when `level`
    /// is finer than `i`'s or the tree stops short.
    pub fn ancestor(&self, mut i: usize, level: Level) -> Option<usize> {
        if level < self.levels[i] {
            return None;
        }
        while self.levels[i] < level {
            i = self.parents[i]?;
        }
        Some(i)
    }

    /// Whether area `outer` is area `inner` or holds it.
    pub fn contains(&self, outer: usize, inner: usize) -> bool {
        self.ancestor(inner, self.levels[outer]) == Some(outer)
    }

    /// The finest area that holds both `a` and `b`.
    pub fn common(&self, a: usize, b: usize) -> Option<usize> {
        let from = self.levels[a].max(self.levels[b]);
        Level::ALL.into_iter().filter(|l| *l >= from).find_map(|l| {
            match (self.ancestor(a, l), self.ancestor(b, l)) {
                (Some(x), Some(y)) if x == y => Some(x),
                _ => None,
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A city `C` with districts D1, D2; streets S11, S12 (in D1), S21; communities
    /// c111, c112 (S11), c121 (S12), c211 (S21).
    pub(crate) fn city() -> Areas {
        let u = |c: &str, p: Option<&str>, l| (c.to_owned(), p.map(str::to_owned), l);
        Areas::new(&[
            u("C", None, Level::City),
            u("D1", Some("C"), Level::District),
            u("D2", Some("C"), Level::District),
            u("S11", Some("D1"), Level::Street),
            u("S12", Some("D1"), Level::Street),
            u("S21", Some("D2"), Level::Street),
            u("c111", Some("S11"), Level::Community),
            u("c112", Some("S11"), Level::Community),
            u("c121", Some("S12"), Level::Community),
            u("c211", Some("S21"), Level::Community),
        ])
        .unwrap()
    }

    #[test]
    fn ancestors_and_meeting_points() {
        let a = city();
        let id = |c| a.get(c).unwrap();
        assert_eq!(a.ancestor(id("c112"), Level::District), Some(id("D1")));
        assert_eq!(a.ancestor(id("S11"), Level::Community), None);
        assert_eq!(a.common(id("c111"), id("c112")), Some(id("S11")));
        assert_eq!(a.common(id("c111"), id("c121")), Some(id("D1")));
        assert_eq!(a.common(id("c111"), id("c211")), Some(id("C")));
        assert_eq!(a.common(id("D1"), id("c121")), Some(id("D1")));
        assert!(a.contains(id("D1"), id("c121")) && !a.contains(id("D2"), id("c121")));
    }

    #[test]
    fn a_broken_tree_is_refused_with_the_unit() {
        let u = |c: &str, p: Option<&str>, l| (c.to_owned(), p.map(str::to_owned), l);
        let e =
            Areas::new(&[u("C", None, Level::City), u("x", Some("C"), Level::Street)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("org unit x (street) has parent C (city)")
        );
        let e = Areas::new(&[u("x", Some("nowhere"), Level::Street)]).unwrap_err();
        assert!(e.to_string().contains("nowhere"));
    }
}
