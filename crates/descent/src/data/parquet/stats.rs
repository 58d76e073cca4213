//! One pass over streamed data before training: the rows, the rows each row group keeps,
//! per-column mean and variance (Chan's parallel merge of per-chunk moments), minimum and
//! maximum, and the set of class labels; from these the scalers a run fits.
//!
//! With a validation split (a [`Selection`] whose `split` keeps the training part) the
//! counts and moments are those of the training rows, as the in-memory run fits its scalers
//! on its training split; the validation rows are counted apart ([`PartStats`]), with their
//! targets' moments (for R²). The labels are those of every row, as in memory.
//!
//! # Algorithm
//! ```text
//! per chunk b of rows:  n_b, mean_b = sum(x) / n_b, M2_b = sum((x - mean_b)^2)
//! merge into a:         delta = mean_b - mean_a,  n = n_a + n_b
//!                       mean = mean_a + delta * n_b / n
//!                       M2   = M2_a + M2_b + delta^2 * n_a * n_b / n
//! std = sqrt(M2 / n)    (population, as the in-memory scaler and scikit-learn)
//! ```
//! # Reference
//! Chan, Golub & LeVeque, "Updating formulae and a pairwise algorithm for computing sample
//! variances" (1979).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::files::ParquetFiles;
use super::rows::{RowReader, Selection, CHUNK};
use crate::data::{Scaler, Scaling};
use crate::Result;

/// Running count, mean, sum of squared deviations, minimum and maximum of some columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub mean: Vec<f64>,
    pub m2: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
}

impl Moments {
    pub fn new(columns: usize) -> Self {
        Moments {
            n: 0,
            mean: vec![0.0; columns],
            m2: vec![0.0; columns],
            min: vec![f64::INFINITY; columns],
            max: vec![f64::NEG_INFINITY; columns],
        }
    }

    /// The moments of `rows` (row-major, `columns` values each, two passes over them).
    pub fn of_chunk(rows: &[f64], columns: usize) -> Self {
        let mut m = Moments::new(columns);
        let n = rows.len() / columns.max(1);
        if n == 0 {
            return m;
        }
        m.n = n as u64;
        for row in rows.chunks_exact(columns) {
            for (j, &v) in row.iter().enumerate() {
                m.mean[j] += v;
                m.min[j] = m.min[j].min(v);
                m.max[j] = m.max[j].max(v);
            }
        }
        for mean in &mut m.mean {
            *mean /= n as f64;
        }
        for row in rows.chunks_exact(columns) {
            for (j, &v) in row.iter().enumerate() {
                m.m2[j] += (v - m.mean[j]) * (v - m.mean[j]);
            }
        }
        m
    }

    /// Chan's merge of `b` into `self`.
    #[allow(clippy::needless_range_loop)] // five columns in step
    pub fn merge(&mut self, b: &Moments) {
        if b.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = b.clone();
            return;
        }
        let (na, nb) = (self.n as f64, b.n as f64);
        let n = na + nb;
        for j in 0..self.mean.len() {
            let delta = b.mean[j] - self.mean[j];
            self.mean[j] += delta * nb / n;
            self.m2[j] += b.m2[j] + delta * delta * na * nb / n;
            self.min[j] = self.min[j].min(b.min[j]);
            self.max[j] = self.max[j].max(b.max[j]);
        }
        self.n += b.n;
    }

    /// Population standard deviations.
    pub fn std(&self) -> Vec<f64> {
        let n = self.n.max(1) as f64;
        self.m2.iter().map(|m2| (m2 / n).sqrt()).collect()
    }

    /// The scaler `scaling` fits to these moments.
    pub fn scaler(&self, scaling: Scaling) -> Scaler {
        match scaling {
            Scaling::None => Scaler::None,
            Scaling::Standard => Scaler::Standard {
                mean: self.mean.clone(),
                std: self.std(),
            },
            Scaling::MinMax => Scaler::MinMax {
                min: self.min.clone(),
                max: self.max.clone(),
            },
        }
    }
}

/// What one pass over the data found.
#[derive(Clone, Debug)]
pub struct StreamStats {
    /// Rows kept (after `drop_missing`).
    pub rows: u64,
    pub dropped: u64,
    /// Rows kept per row group, in [`ParquetFiles::row_groups`] order.
    pub kept: Vec<u64>,
    pub features: Moments,
    pub targets: Moments,
    /// Class labels in index order (class targets).
    pub classes: Option<Vec<String>>,
    /// Row groups and compressed bytes this process read to find them (none where they
    /// were received from another process: [`StreamStats::from_bytes`]).
    pub read: (u64, u64),
    /// The validation rows, where the selection splits the data.
    pub val: Option<PartStats>,
}

/// The rows of the validation part of a split.
#[derive(Clone, Debug, PartialEq)]
pub struct PartStats {
    pub rows: u64,
    /// Rows per row group, in [`ParquetFiles::row_groups`] order.
    pub kept: Vec<u64>,
    pub targets: Moments,
}

impl StreamStats {
    /// The statistics of the validation part, in the shape a stream of it reads: its rows
    /// and their targets' moments (the features' moments are the training rows': the
    /// scalers).
    pub fn validation(&self) -> Option<StreamStats> {
        let v = self.val.as_ref()?;
        Some(StreamStats {
            rows: v.rows,
            dropped: 0,
            kept: v.kept.clone(),
            features: self.features.clone(),
            targets: v.targets.clone(),
            classes: self.classes.clone(),
            read: (0, 0),
            val: None,
        })
    }
}

/// Reads every row once (in file order) and gathers [`StreamStats`]; `classes` reads the
/// target as labels. Where `sel` splits the data, the figures are of its part, and the
/// other part's rows are counted in [`StreamStats::val`].
pub fn scan(files: &Arc<ParquetFiles>, sel: &Selection, classes: bool) -> Result<StreamStats> {
    let mut sel = sel.clone();
    sel.classes = classes.then(BTreeMap::new);
    let split = sel.split.take();
    let (d, w) = (sel.features.len(), sel.width());
    let groups = files.row_groups().len();
    let mut reader = RowReader::new(files.clone(), Arc::new(sel), (0..groups).collect());
    let mut kept = vec![0u64; groups];
    let (mut features, mut targets) = (Moments::new(d), Moments::new(w - d));
    let mut labels = BTreeSet::new();
    let (mut xs, mut ys) = (
        Vec::with_capacity(CHUNK * d),
        Vec::with_capacity(CHUNK * (w - d)),
    );
    let mut row = vec![0.0; w];
    let mut rows = 0u64;
    let mut val = split.map(|_| PartStats {
        rows: 0,
        kept: vec![0; groups],
        targets: Moments::new(w - d),
    });
    let mut val_ys = Vec::new();
    loop {
        let more = reader.next_row(&mut row)?;
        if more && classes {
            labels.extend(reader.last_labels().map(str::to_string));
        }
        let other = split.is_some_and(|(s, part)| more && s.part(reader.last_index()) != part);
        if let (true, Some(v)) = (other, &mut val) {
            // A validation row.
            v.kept[reader.group()] += 1;
            v.rows += 1;
            val_ys.extend_from_slice(&row[d..]);
            if val_ys.len() >= CHUNK * (w - d).max(1) {
                v.targets.merge(&Moments::of_chunk(&val_ys, w - d));
                val_ys.clear();
            }
            continue;
        }
        if more {
            kept[reader.group()] += 1;
            rows += 1;
            xs.extend_from_slice(&row[..d]);
            ys.extend_from_slice(&row[d..]);
        }
        if xs.len() >= CHUNK * d.max(1) || !more {
            features.merge(&Moments::of_chunk(&xs, d));
            targets.merge(&Moments::of_chunk(&ys, w - d));
            xs.clear();
            ys.clear();
        }
        if !more {
            break;
        }
    }
    if let Some(v) = &mut val {
        v.targets.merge(&Moments::of_chunk(&val_ys, w - d));
    }
    let classes = classes.then(|| {
        let cells: Vec<String> = labels.into_iter().collect();
        crate::data::csv_reader::encode_labels(&cells).1
    });
    Ok(StreamStats {
        rows,
        dropped: reader.dropped,
        kept,
        features,
        targets,
        classes,
        read: reader.opened,
        val,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_chunks_give_the_moments_of_the_whole() {
        let rows: Vec<f64> = (0..1000)
            .map(|i| ((i * 37) % 101) as f64 * 0.5 + 1e6)
            .collect();
        let whole = Moments::of_chunk(&rows, 2);
        let mut merged = Moments::new(2);
        for chunk in rows.chunks(2 * 37) {
            merged.merge(&Moments::of_chunk(chunk, 2));
        }
        assert_eq!(merged.n, whole.n);
        assert_eq!(
            (merged.min.clone(), merged.max.clone()),
            (whole.min.clone(), whole.max)
        );
        for j in 0..2 {
            assert!((merged.mean[j] - whole.mean[j]).abs() <= 1e-15 * whole.mean[j].abs());
            assert!((merged.m2[j] - whole.m2[j]).abs() <= 1e-12 * whole.m2[j]);
        }
    }
}
