//! Seeded synthetic data sets, written row by row as CSV, or a row group at a time as
//! Parquet (so any number of rows streams in constant memory).
//!
//! Every random number comes from one ChaCha8 stream seeded with `seed`, drawn in a fixed
//! order (model coefficients first, then row by row), so the same arguments give the same
//! bytes.

use std::io::Write;
use std::path::Path;

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::parquet::{OutColumn, OutKind, ParquetSink};
use crate::{Error, Result};

/// The kinds of synthetic data.
///
/// # Algorithm
/// ```text
/// classic   x = 1, 2, ..., rows;  y = 2x                    (the 3-point lesson set)
/// beans     size ~ U(0,1);  toxicity = 1.2 size + noise (U(0,1) - 0.5)       (noise 0.1)
/// linear    w_j ~ U(-2,2), b ~ U(-1,1);  x ~ N(0,1)^D;  y = x·w + b + noise N(0,1)  (noise 0.1)
/// logistic  as linear;  label = 1 if x·w + b + noise N(0,1) > 0 else 0           (noise 0.5)
/// blobs     centres c_k ~ U(-5,5)^D;  class ~ U{0..K-1};  x = c_class + noise N(0,1)^D (noise 1)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generator {
    Classic,
    Beans,
    Linear,
    Logistic,
    Blobs,
}

impl std::str::FromStr for Generator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "classic" => Generator::Classic,
            "beans" => Generator::Beans,
            "linear" => Generator::Linear,
            "logistic" => Generator::Logistic,
            "blobs" => Generator::Blobs,
            _ => {
                return Err(Error::invalid(
                    "generator",
                    s,
                    "expected classic, beans, linear, logistic or blobs",
                ))
            }
        })
    }
}

/// Size and randomness of a synthetic data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub rows: usize,
    /// Feature columns (linear, logistic, blobs; classic and beans have one).
    pub features: usize,
    /// Noise scale; `None` for the generator's default.
    pub noise: Option<f64>,
    pub seed: u64,
    /// Classes for blobs.
    pub classes: usize,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            rows: 100,
            features: 1,
            noise: None,
            seed: 0,
            classes: 3,
        }
    }
}

impl Generator {
    fn default_noise(self) -> f64 {
        match self {
            Generator::Classic => 0.0,
            Generator::Beans | Generator::Linear => 0.1,
            Generator::Logistic => 0.5,
            Generator::Blobs => 1.0,
        }
    }

    /// Checks `spec` and returns the noise scale to use.
    fn check(self, spec: &Spec) -> Result<f64> {
        let noise = spec.noise.unwrap_or(self.default_noise());
        if !(noise.is_finite() && noise >= 0.0) {
            return Err(Error::invalid("noise", noise, "must be finite and >= 0"));
        }
        if spec.features == 0 {
            return Err(Error::invalid("features", 0, "must be positive"));
        }
        if self == Generator::Blobs && spec.classes < 2 {
            return Err(Error::invalid(
                "classes",
                spec.classes,
                "blobs need at least 2",
            ));
        }
        Ok(noise)
    }

    /// The column names: the features, then the target.
    pub fn columns(self, spec: &Spec) -> Vec<String> {
        let features = (0..spec.features).map(|j| format!("x{j}"));
        match self {
            Generator::Classic => vec!["x".into(), "y".into()],
            Generator::Beans => vec!["size".into(), "toxicity".into()],
            Generator::Linear | Generator::Logistic => features.chain(["y".into()]).collect(),
            Generator::Blobs => features.chain(["class".into()]).collect(),
        }
    }

    /// Writes the header and `spec.rows` rows of CSV to `out`: every value in Rust's
    /// shortest form that reads back to the same `f64` (integers without a point).
    pub fn write_csv(self, spec: &Spec, out: &mut impl Write) -> Result<()> {
        let io = |source| Error::Io {
            path: "<generated csv>".into(),
            source,
        };
        self.check(spec)?;
        writeln!(out, "{}", self.columns(spec).join(",")).map_err(io)?;
        self.for_each_row(spec, |row| {
            let (last, first) = row.split_last().unwrap_or((&0.0, &[]));
            for x in first {
                write!(out, "{x},").map_err(io)?;
            }
            writeln!(out, "{last}").map_err(io)
        })?;
        out.flush().map_err(io)
    }

    /// Writes the data set as Parquet to `path`: one DOUBLE column per CSV column, holding
    /// the numbers the CSV text reads back to, snappy-compressed, in row groups of
    /// `row_group_rows` rows (memory: one row group).
    pub fn write_parquet(self, spec: &Spec, path: &Path, row_group_rows: usize) -> Result<()> {
        if row_group_rows == 0 {
            return Err(Error::invalid(
                "row_group_rows",
                0,
                "a row group holds at least one row",
            ));
        }
        self.check(spec)?;
        let names = self.columns(spec);
        let schema: Vec<(String, OutKind, bool)> = names
            .iter()
            .map(|n| (n.clone(), OutKind::Number, false))
            .collect();
        let mut sink = ParquetSink::create(path, &schema)?;
        let group = row_group_rows.min(spec.rows.max(1));
        let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(group); names.len()];
        let flush = |sink: &mut ParquetSink, columns: &mut [Vec<Option<f64>>]| {
            let out: Vec<OutColumn> = columns
                .iter_mut()
                .map(|c| OutColumn::Numbers(std::mem::take(c)))
                .collect();
            sink.write_group(&out)
        };
        self.for_each_row(spec, |row| {
            for (c, &v) in columns.iter_mut().zip(row) {
                c.push(Some(v));
            }
            if columns[0].len() == group {
                flush(&mut sink, &mut columns)?;
            }
            Ok(())
        })?;
        if !columns[0].is_empty() {
            flush(&mut sink, &mut columns)?;
        }
        sink.finish()
    }

    /// Calls `emit` with each of the `spec.rows` rows (features, then the target), in order.
    pub fn for_each_row(
        self,
        spec: &Spec,
        mut emit: impl FnMut(&[f64]) -> Result<()>,
    ) -> Result<()> {
        let noise = self.check(spec)?;
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let d = spec.features;
        let mut row = vec![0.0f64; d + 1];
        match self {
            Generator::Classic => {
                for i in 1..=spec.rows {
                    emit(&[i as f64, 2.0 * i as f64])?;
                }
            }
            Generator::Beans => {
                for _ in 0..spec.rows {
                    let size: f64 = rng.random();
                    let jitter: f64 = rng.random();
                    emit(&[size, 1.2 * size + noise * (jitter - 0.5)])?;
                }
            }
            Generator::Linear | Generator::Logistic => {
                let w: Vec<f64> = (0..d).map(|_| rng.random_range(-2.0..2.0)).collect();
                let b: f64 = rng.random_range(-1.0..1.0);
                for _ in 0..spec.rows {
                    fill_normal(&mut rng, &mut row[..d]);
                    let z = row[..d].iter().zip(&w).map(|(x, w)| x * w).sum::<f64>() + b;
                    let e: f64 = StandardNormal.sample(&mut rng);
                    let y = z + noise * e;
                    row[d] = if self == Generator::Linear {
                        y
                    } else {
                        f64::from(u8::from(y > 0.0))
                    };
                    emit(&row)?;
                }
            }
            Generator::Blobs => {
                let centres: Vec<Vec<f64>> = (0..spec.classes)
                    .map(|_| (0..d).map(|_| rng.random_range(-5.0..5.0)).collect())
                    .collect();
                for _ in 0..spec.rows {
                    let k = rng.random_range(0..spec.classes);
                    fill_normal(&mut rng, &mut row[..d]);
                    for (x, c) in row.iter_mut().zip(&centres[k]) {
                        *x = c + noise * *x;
                    }
                    row[d] = k as f64;
                    emit(&row)?;
                }
            }
        }
        Ok(())
    }
}

fn fill_normal(rng: &mut impl Rng, row: &mut [f64]) {
    for x in row {
        *x = StandardNormal.sample(rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(g: Generator, spec: &Spec) -> String {
        let mut out = Vec::new();
        g.write_csv(spec, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn classic_is_the_three_point_set() {
        let spec = Spec {
            rows: 3,
            ..Spec::default()
        };
        assert_eq!(csv(Generator::Classic, &spec), "x,y\n1,2\n2,4\n3,6\n");
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let spec = Spec {
            rows: 20,
            features: 3,
            ..Spec::default()
        };
        for g in [
            Generator::Beans,
            Generator::Linear,
            Generator::Logistic,
            Generator::Blobs,
        ] {
            let a = csv(g, &spec);
            assert_eq!(a, csv(g, &spec));
            assert_ne!(
                a,
                csv(
                    g,
                    &Spec {
                        seed: 1,
                        ..spec.clone()
                    }
                )
            );
            assert_eq!(a.lines().count(), 21);
        }
    }

    #[test]
    fn logistic_labels_are_binary_and_blobs_in_range() {
        let spec = Spec {
            rows: 200,
            features: 2,
            ..Spec::default()
        };
        for line in csv(Generator::Logistic, &spec).lines().skip(1) {
            assert!(line.ends_with(",0") || line.ends_with(",1"));
        }
        for line in csv(Generator::Blobs, &spec).lines().skip(1) {
            let k: usize = line.rsplit(',').next().unwrap().parse().unwrap();
            assert!(k < 3);
        }
    }
}
