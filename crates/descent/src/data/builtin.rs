//! Data sets that ship with `descent`: `--data builtin:NAME`, no files needed.
//!
//! - `classic`: x = 1, 2, 3; y = 2, 4, 6 (the first lesson of gradient descent).
//! - `beans`: 100 beans, size -> toxicity (`toxicity = 1.2 size + noise`), generated with
//!   seed 0 (see [`Generator::Beans`](super::generate::Generator)).
//! - `diabetes` (442 x 10, regression), `breast_cancer` (569 x 30, binary: 1 = benign),
//!   `iris` (150 x 4, 3 classes), `wine` (178 x 13, 3 classes): the small real data sets that
//!   ship with scikit-learn, carried as CSV in `crates/descent/data/` (exported by
//!   `export_sklearn.py` there).

use std::borrow::Cow;
use std::path::Path;

use super::generate::{Generator, Spec};
use super::{read_csv_bytes, Columns, Dataset, TargetKind};
use crate::{Error, Result};

/// Names accepted after `builtin:`.
pub const NAMES: [&str; 6] = [
    "classic",
    "beans",
    "diabetes",
    "breast_cancer",
    "iris",
    "wine",
];

/// The CSV text of a built-in data set.
pub fn csv_text(name: &str) -> Result<Cow<'static, [u8]>> {
    let generated = |g: Generator, rows| -> Result<Cow<'static, [u8]>> {
        let mut out = Vec::new();
        g.write_csv(
            &Spec {
                rows,
                ..Spec::default()
            },
            &mut out,
        )?;
        Ok(Cow::Owned(out))
    };
    Ok(match name {
        "classic" => generated(Generator::Classic, 3)?,
        "beans" => generated(Generator::Beans, 100)?,
        "diabetes" => Cow::Borrowed(include_bytes!("../../data/diabetes.csv")),
        "breast_cancer" => Cow::Borrowed(include_bytes!("../../data/breast_cancer.csv")),
        "iris" => Cow::Borrowed(include_bytes!("../../data/iris.csv")),
        "wine" => Cow::Borrowed(include_bytes!("../../data/wine.csv")),
        _ => {
            return Err(Error::invalid(
                "data",
                format!("builtin:{name}"),
                format!(
                    "unknown built-in data set; choose one of builtin:{}",
                    NAMES.join(", builtin:")
                ),
            ))
        }
    })
}

/// Loads a built-in data set with the given column choice.
pub fn load(name: &str, columns: &Columns, kind: TargetKind) -> Result<Dataset> {
    let text = csv_text(name)?;
    read_csv_bytes(Path::new(&format!("builtin:{name}")), &text, columns, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads_with_its_expected_shape() {
        let shapes = [
            ("classic", 3, 1, TargetKind::Real),
            ("beans", 100, 1, TargetKind::Real),
            ("diabetes", 442, 10, TargetKind::Real),
            ("breast_cancer", 569, 30, TargetKind::Classes),
            ("iris", 150, 4, TargetKind::Classes),
            ("wine", 178, 13, TargetKind::Classes),
        ];
        for (name, rows, features, kind) in shapes {
            let d = load(name, &Columns::default(), kind).unwrap();
            assert_eq!((d.n_rows(), d.n_features()), (rows, features), "{name}");
        }
        let iris = load("iris", &Columns::default(), TargetKind::Classes).unwrap();
        assert_eq!(iris.n_classes(), Some(3));
    }

    #[test]
    fn unknown_name_lists_the_choices() {
        let e = load("nope", &Columns::default(), TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert!(e.contains("builtin:diabetes"), "{e}");
    }
}
