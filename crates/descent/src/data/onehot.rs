//! One-hot encoding of text feature columns: `city = Shelbyville` becomes indicator columns
//! `city=Ogdenville`, `city=Shelbyville`, `city=Springfield` holding 0 or 1.
//!
//! The CSV reader fits the encoding (the sorted distinct values of each chosen column, at
//! most a cap of them) while it reads the training data, and applies a fitted one to new data
//! ([`OneHotMode`]). The fitted [`OneHot`] travels with the model, so that `predict` reads
//! the same text columns and builds the same indicators; a value it has not seen is an error
//! naming it, or all-zero indicators, as the caller chooses ([`UnknownCategory`]).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The cap on distinct values per encoded column unless the caller sets another.
pub const DEFAULT_MAX_CATEGORIES: usize = 32;

/// Which feature columns to encode: named ones, or every column holding text (`auto`).
///
/// ```
/// use descent::data::OneHotColumns;
/// assert_eq!("auto".parse::<OneHotColumns>()?, OneHotColumns::Auto);
/// assert_eq!("city,state".parse::<OneHotColumns>()?,
///            OneHotColumns::Named(vec!["city".into(), "state".into()]));
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OneHotColumns {
    /// Every used feature column with a cell that is neither a number nor a missing value.
    Auto,
    /// These columns.
    Named(Vec<String>),
}

impl FromStr for OneHotColumns {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s == "auto" {
            return Ok(OneHotColumns::Auto);
        }
        let names: Vec<String> = s.split(',').map(|c| c.trim().to_string()).collect();
        if names.iter().any(String::is_empty) {
            return Err(Error::invalid(
                "one-hot",
                s,
                "expected `auto` or comma-separated column names",
            ));
        }
        Ok(OneHotColumns::Named(names))
    }
}

impl fmt::Display for OneHotColumns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OneHotColumns::Auto => write!(f, "auto"),
            OneHotColumns::Named(names) => write!(f, "{}", names.join(",")),
        }
    }
}

impl TryFrom<String> for OneHotColumns {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<OneHotColumns> for String {
    fn from(c: OneHotColumns) -> Self {
        c.to_string()
    }
}

/// What to do with a value a fitted encoding has not seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownCategory {
    /// Stop with an error naming the value, its line and column.
    #[default]
    Error,
    /// Set every indicator of the column to 0 and count the value
    /// ([`Dataset::unknown_categories`](super::Dataset::unknown_categories)).
    Zeros,
}

impl FromStr for UnknownCategory {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "error" => Ok(UnknownCategory::Error),
            "zeros" => Ok(UnknownCategory::Zeros),
            _ => Err(Error::invalid(
                "unknown-category",
                s,
                "expected error or zeros",
            )),
        }
    }
}

/// How the reader treats text feature columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum OneHotMode {
    /// Every feature cell must be a number.
    #[default]
    Off,
    /// Fit an encoding of these columns, refusing a column with more than `max_categories`
    /// distinct values.
    Fit {
        columns: OneHotColumns,
        max_categories: usize,
    },
    /// Apply a fitted encoding (the reader's feature columns are its [`OneHot::inputs`]).
    Apply {
        encoding: OneHot,
        unknown: UnknownCategory,
    },
}

/// One encoded column and its categories, in the order of its indicator columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Categories {
    pub column: String,
    pub categories: Vec<String>,
}

/// A fitted encoding: the columns read from the data and the categories of the encoded ones.
///
/// ```
/// use std::path::Path;
/// use descent::data::{read_csv_bytes_with, Columns, OneHotColumns, OneHotMode, ReadOptions, TargetKind};
/// let csv = b"sqft,city,price\n900,Springfield,100\n1200,Shelbyville,150\n700,Springfield,90\n";
/// let options = ReadOptions {
///     one_hot: OneHotMode::Fit { columns: OneHotColumns::Auto, max_categories: 32 },
///     ..ReadOptions::default()
/// };
/// let homes = read_csv_bytes_with::<f64>(Path::new("homes.csv"), csv, &Columns::default(), TargetKind::Real, &options)?;
/// assert_eq!(homes.feature_names, ["sqft", "city=Shelbyville", "city=Springfield"]);
/// assert_eq!(homes.x.row(1).to_vec(), [1200.0, 1.0, 0.0]);
/// let encoding = homes.one_hot.expect("city holds text");
/// assert_eq!(encoding.inputs, ["sqft", "city"]);
/// assert_eq!(encoding.feature_names(), homes.feature_names);
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneHot {
    /// The feature columns read from the data, in order; an encoded one by its own name.
    pub inputs: Vec<String>,
    /// The encoded columns, in input order.
    pub columns: Vec<Categories>,
}

impl OneHot {
    /// The name of the indicator column of `category` in `column`: `column=category`.
    pub fn indicator(column: &str, category: &str) -> String {
        format!("{column}={category}")
    }

    /// The encoded column named `column`, if it is one.
    pub fn column(&self, column: &str) -> Option<&Categories> {
        self.columns.iter().find(|c| c.column == column)
    }

    /// The model's feature columns: the inputs, each encoded one replaced by its indicators.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for input in &self.inputs {
            match self.column(input) {
                Some(c) => names.extend(c.categories.iter().map(|v| Self::indicator(input, v))),
                None => names.push(input.clone()),
            }
        }
        names
    }

    /// Checks that every encoded column is an input, once, with distinct categories.
    pub fn check(&self) -> std::result::Result<(), String> {
        for (i, c) in self.columns.iter().enumerate() {
            if !self.inputs.contains(&c.column) {
                return Err(format!("encoded column `{}` is not an input", c.column));
            }
            if self.columns[..i].iter().any(|d| d.column == c.column) {
                return Err(format!("column `{}` is encoded twice", c.column));
            }
            let mut seen = std::collections::BTreeSet::new();
            if c.categories.is_empty() || !c.categories.iter().all(|v| seen.insert(v)) {
                return Err(format!(
                    "column `{}` needs distinct categories, at least one",
                    c.column
                ));
            }
        }
        Ok(())
    }

    /// One line per encoded column: `` `city` as 3 columns (Ogdenville, Shelbyville, ...)``.
    pub fn describe(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| {
                let shown: Vec<&str> = c.categories.iter().take(6).map(String::as_str).collect();
                let more = if c.categories.len() > 6 { ", ..." } else { "" };
                format!(
                    "`{}` as {} columns ({}{more})",
                    c.column,
                    c.categories.len(),
                    shown.join(", ")
                )
            })
            .collect()
    }
}

/// Codes of one encoded column while the reader goes through the rows.
pub(crate) struct Encoder {
    column: String,
    ids: HashMap<String, u32>,
    /// Fitting: the values in order of first appearance. Applying: the fitted categories.
    names: Vec<String>,
    /// `None` while fitting; the policy for unseen values when applying.
    unknown: Option<UnknownCategory>,
    max: usize,
    /// Rows of each code, in row order.
    pub codes: Vec<u32>,
}

/// The code of a value an applied encoding has not seen (all indicators 0).
const UNSEEN: u32 = u32::MAX;

/// Why [`Encoder::push`] refused a value.
pub(crate) enum Refused {
    /// The cap on categories would be exceeded by this value.
    TooMany,
    /// An applied encoding has not seen this value.
    Unknown,
}

impl Encoder {
    pub fn fit(column: &str, max: usize) -> Self {
        Encoder {
            column: column.to_string(),
            ids: HashMap::new(),
            names: Vec::new(),
            unknown: None,
            max,
            codes: Vec::new(),
        }
    }

    pub fn apply(fitted: &Categories, unknown: UnknownCategory) -> Self {
        let ids = (0u32..)
            .zip(&fitted.categories)
            .map(|(i, v)| (v.clone(), i));
        Encoder {
            column: fitted.column.clone(),
            ids: ids.collect(),
            names: fitted.categories.clone(),
            unknown: Some(unknown),
            max: usize::MAX,
            codes: Vec::new(),
        }
    }

    /// Records `value` for the next row; `Ok(false)` for an unseen value set to zeros.
    pub fn push(&mut self, value: &str) -> std::result::Result<bool, Refused> {
        if let Some(&id) = self.ids.get(value) {
            self.codes.push(id);
            return Ok(true);
        }
        match self.unknown {
            Some(UnknownCategory::Error) => Err(Refused::Unknown),
            Some(UnknownCategory::Zeros) => {
                self.codes.push(UNSEEN);
                Ok(false)
            }
            None if self.names.len() >= self.max => Err(Refused::TooMany),
            None => {
                let id = self.names.len() as u32;
                self.ids.insert(value.to_string(), id);
                self.names.push(value.to_string());
                self.codes.push(id);
                Ok(true)
            }
        }
    }

    /// The categories so far (fitting: in order of appearance).
    pub fn categories(&self) -> &[String] {
        &self.names
    }

    /// Ends the read: the categories and the code of every row (a fitted encoder sorts its
    /// categories and renumbers the codes).
    pub fn finish(mut self) -> (Categories, Vec<u32>) {
        if self.unknown.is_none() {
            let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
            order.sort_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
            let mut rank = vec![0u32; order.len()];
            for (r, &id) in order.iter().enumerate() {
                rank[id as usize] = r as u32;
            }
            for c in &mut self.codes {
                *c = rank[*c as usize];
            }
            self.names = order
                .iter()
                .map(|&id| self.names[id as usize].clone())
                .collect();
        }
        let categories = Categories {
            column: self.column,
            categories: self.names,
        };
        (categories, self.codes)
    }

    /// Writes the indicators of row `row` into `out` (one cell per category).
    pub fn indicators(codes: &[u32], row: usize, out: &mut [f64]) {
        out.fill(0.0);
        let code = codes[row];
        if code != UNSEEN {
            out[code as usize] = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_sorts_the_categories_and_renumbers_the_rows() {
        let mut e = Encoder::fit("city", 3);
        for v in ["b", "a", "c", "a"] {
            assert!(matches!(e.push(v), Ok(true)));
        }
        assert!(matches!(e.push("d"), Err(Refused::TooMany)));
        let (c, codes) = e.finish();
        assert_eq!(c.categories, ["a", "b", "c"]);
        assert_eq!(codes, [1, 0, 2, 0]);
    }

    #[test]
    fn applying_refuses_or_zeroes_unseen_values() {
        let fitted = Categories {
            column: "city".into(),
            categories: vec!["a".into(), "b".into()],
        };
        let mut strict = Encoder::apply(&fitted, UnknownCategory::Error);
        assert!(matches!(strict.push("b"), Ok(true)));
        assert!(matches!(strict.push("z"), Err(Refused::Unknown)));
        let mut lenient = Encoder::apply(&fitted, UnknownCategory::Zeros);
        assert!(matches!(lenient.push("z"), Ok(false)));
        let mut row = [9.0; 2];
        Encoder::indicators(&lenient.codes, 0, &mut row);
        assert_eq!(row, [0.0, 0.0]);
    }

    #[test]
    fn feature_names_expand_encoded_inputs_in_place() {
        let e = OneHot {
            inputs: vec!["a".into(), "city".into(), "b".into()],
            columns: vec![Categories {
                column: "city".into(),
                categories: vec!["x".into(), "y".into()],
            }],
        };
        assert_eq!(e.feature_names(), ["a", "city=x", "city=y", "b"]);
        assert!(e.check().is_ok());
    }
}
