//! `descent train --plot`: records the run (losses, learning rates, and for small models the
//! parameters after every epoch) and draws it when the run ends: `loss`, `lr`, and where the
//! data allow a picture of the model itself, `fit` with `fit.gif` (one feature, regression:
//! the fitted line settling onto the points) or `boundary` (two features, classification).

use std::path::Path;

use anyhow::{Context, Result};
use descent::data::{Dataset, Scaler};
use descent::loss::Loss;
use descent::nn::Sequential;
use descent::params::Params;
use descent::train::{Event, Observer, Signal};
use descent::Float;
use ndarray::Array2;

use crate::plot::{
    save_both, save_gif, ContourChart, Field, LineChart, Marker, Regions, ScatterFit, Series,
    PALETTE,
};

/// Parameters are kept per epoch only for models this small (a line, a plane).
const MAX_KEPT_PARAMS: usize = 64;
/// Frames of `fit.gif` at most.
const MAX_FRAMES: usize = 40;

/// One epoch as the figures need it.
struct Epoch {
    epoch: usize,
    loss: f64,
    val_loss: Option<f64>,
    lr: f64,
}

/// The `--plot` observer: does nothing unless enabled.
pub struct Plots {
    enabled: bool,
    epochs: Vec<Epoch>,
    /// The parameters at the start and after every epoch (small models only).
    snapshots: Vec<Vec<f64>>,
}

impl Plots {
    /// Watches a run that starts from `initial`.
    pub fn new<F: Float>(enabled: bool, initial: &[F]) -> Self {
        let keep = enabled && initial.len() <= MAX_KEPT_PARAMS;
        Plots {
            enabled,
            epochs: Vec::new(),
            snapshots: if keep {
                vec![initial.iter().map(|v| v.f64()).collect()]
            } else {
                Vec::new()
            },
        }
    }

    /// Adds the epochs a resumed run did before its checkpoint (their parameters are not
    /// kept, so `fit.gif` starts at the resume).
    pub fn resume_from(&mut self, rows: &[descent::train::EpochRecord]) {
        if !self.enabled {
            return;
        }
        let before = rows.iter().map(|r| Epoch {
            epoch: r.epoch,
            loss: r.loss,
            val_loss: r.val_loss,
            lr: r.lr,
        });
        self.epochs.splice(0..0, before);
    }

    /// Draws the figures into `out` (after the run); `data` is the scaled training data and
    /// `scaler` maps it back to the units of the file.
    pub fn write(
        &self,
        out: &Path,
        model: &Sequential,
        loss: Loss,
        data: &Dataset,
        scaler: &Scaler,
    ) -> Result<()> {
        if !self.enabled || self.epochs.is_empty() {
            return Ok(());
        }
        let mut files = Vec::new();
        files.extend(self.loss_chart(out, loss)?);
        files.extend(self.lr_chart(out)?);
        if let Some(last) = self.snapshots.last() {
            let params = Params::from_values(model.layout(), last.clone())?;
            if data.n_features() == 1 && !loss.is_classification() && model.n_out() == 1 {
                files.extend(self.fit(out, model, data, scaler)?);
            } else if data.n_features() == 2 && loss.is_classification() {
                files.extend(boundary(out, model, &params, data, scaler)?);
            }
        }
        println!("  plots: {}", files.join(", "));
        Ok(())
    }

    fn loss_chart(&self, out: &Path, loss: Loss) -> Result<[String; 2]> {
        let mut series = vec![Series {
            name: "train loss".into(),
            points: self
                .epochs
                .iter()
                .map(|e| (e.epoch as f64, e.loss))
                .collect(),
        }];
        let val: Vec<(f64, f64)> = self
            .epochs
            .iter()
            .filter_map(|e| e.val_loss.map(|v| (e.epoch as f64, v)))
            .collect();
        if !val.is_empty() {
            series.push(Series {
                name: "validation loss".into(),
                points: val,
            });
        }
        let positive = series.iter().all(|s| s.points.iter().all(|p| p.1 > 0.0));
        let y_label = format!("{loss} loss{}", if positive { " (log scale)" } else { "" });
        let chart = LineChart {
            title: "loss per epoch",
            x_label: "epoch",
            y_label: &y_label,
            series,
            log_y: positive,
            ..LineChart::default()
        };
        save_both(&chart, out, "loss")
    }

    fn lr_chart(&self, out: &Path) -> Result<[String; 2]> {
        let chart = LineChart {
            title: "learning rate per epoch",
            x_label: "epoch",
            y_label: "learning rate",
            series: vec![Series {
                name: String::new(),
                points: self.epochs.iter().map(|e| (e.epoch as f64, e.lr)).collect(),
            }],
            ..LineChart::default()
        };
        save_both(&chart, out, "lr")
    }

    /// The fitted line over the scatter (`fit.svg`, `fit.png`) and its animation (`fit.gif`).
    fn fit(
        &self,
        out: &Path,
        model: &Sequential,
        data: &Dataset,
        scaler: &Scaler,
    ) -> Result<Vec<String>> {
        let raw = unscaled(data, scaler)?;
        let points: Vec<(f64, f64)> = raw
            .column(0)
            .iter()
            .copied()
            .zip(data.y.column(0).iter().copied())
            .collect();
        let range = ScatterFit::data_range(&points);
        // The line is evaluated on a grid of the scaled feature and drawn in file units.
        let (lo, hi) = column_bounds(data, 0);
        let grid = Array2::from_shape_fn((60, 1), |(i, _)| lo + (hi - lo) * i as f64 / 59.0);
        let mut grid_raw = grid.clone();
        scaler.inverse(&mut grid_raw)?;
        let line = |values: &[f64]| -> Result<Vec<(f64, f64)>> {
            let p = Params::from_values(model.layout(), values.to_vec())?;
            let y = model.predict(&p, grid.view())?;
            Ok(grid_raw
                .column(0)
                .iter()
                .copied()
                .zip(y.column(0).iter().copied())
                .collect())
        };
        let (x_label, y_label) = (
            data.feature_names[0].as_str(),
            data.target_names[0].as_str(),
        );
        let every = self.snapshots.len().div_ceil(MAX_FRAMES).max(1);
        let mut picks: Vec<usize> = (0..self.snapshots.len()).step_by(every).collect();
        if picks.last() != Some(&(self.snapshots.len() - 1)) {
            picks.push(self.snapshots.len() - 1);
        }
        let titles: Vec<String> = picks
            .iter()
            .map(|k| format!("fit after epoch {k}"))
            .collect();
        let mut frames = Vec::with_capacity(picks.len());
        for (&k, title) in picks.iter().zip(&titles) {
            frames.push(ScatterFit {
                title,
                x_label,
                y_label,
                points: points.clone(),
                fits: vec![Series {
                    name: "model".into(),
                    points: line(&self.snapshots[k])?,
                }],
                range: Some(range),
            });
        }
        let last = frames.last().context("at least the initial parameters")?;
        let mut files = save_both(last, out, "fit")?.to_vec();
        save_gif(&out.join("fit.gif"), &frames, 120)?;
        files.push("fit.gif".into());
        Ok(files)
    }
}

impl<F: Float> Observer<F> for Plots {
    // Per epoch only.
    fn on_event(&mut self, event: &Event<'_, F>) -> descent::Result<Signal> {
        if let (true, Event::Epoch(r, p)) = (self.enabled, event) {
            self.epochs.push(Epoch {
                epoch: r.epoch,
                loss: r.loss,
                val_loss: r.val_loss,
                lr: r.lr,
            });
            if !self.snapshots.is_empty() {
                self.snapshots.push(p.iter().map(|v| v.f64()).collect());
            }
        }
        Ok(Signal::Continue)
    }
}

fn unscaled(data: &Dataset, scaler: &Scaler) -> Result<Array2<f64>> {
    let mut raw = data.x.clone();
    scaler.inverse(&mut raw)?;
    Ok(raw)
}

fn column_bounds(data: &Dataset, j: usize) -> (f64, f64) {
    let c = data.x.column(j);
    let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = 0.05 * (hi - lo).max(1e-12);
    (lo - pad, hi + pad)
}

/// The decision boundary of a two-feature classifier over its data (`boundary.svg`, `.png`):
/// shading by the winning class's margin, the boundary in black, the points by class.
fn boundary(
    out: &Path,
    model: &Sequential,
    params: &Params<f64>,
    data: &Dataset,
    scaler: &Scaler,
) -> Result<Vec<String>> {
    let (bx, by) = (column_bounds(data, 0), column_bounds(data, 1));
    // A fine grid: the boundaries are zero lines of smooth score differences, and the
    // shading steps between cells should not show.
    let (nx, ny) = (300, 200);
    // Sample in scaled units; the plot's axes are the file's units.
    let mut grid = Array2::zeros((nx * ny, 2));
    for j in 0..ny {
        for i in 0..nx {
            grid[[j * nx + i, 0]] = bx.0 + (bx.1 - bx.0) * (i as f64 + 0.5) / nx as f64;
            grid[[j * nx + i, 1]] = by.0 + (by.1 - by.0) * (j as f64 + 0.5) / ny as f64;
        }
    }
    let logits = model.predict(params, grid.view())?;
    let n_classes = data.classes.as_ref().map_or(2, Vec::len).max(2);
    let regions = regions(&logits, n_classes);
    let mut corners = Array2::from_shape_vec((2, 2), vec![bx.0, by.0, bx.1, by.1])?;
    scaler.inverse(&mut corners)?;
    let field = Field {
        x: (corners[[0, 0]], corners[[1, 0]]),
        y: (corners[[0, 1]], corners[[1, 1]]),
        nx,
        ny,
        values: regions.probability.clone(),
    };
    let raw = unscaled(data, scaler)?;
    let classes = data.classes.clone().unwrap_or_default();
    let mut dots: Vec<Marker> = (0..classes.len().max(1))
        .map(|c| Marker {
            name: classes
                .get(c)
                .map_or_else(|| format!("class {c}"), String::clone),
            points: Vec::new(),
        })
        .collect();
    for (row, label) in raw.rows().into_iter().zip(data.y.column(0)) {
        let c = (*label as usize).min(dots.len() - 1);
        dots[c].points.push((row[0], row[1]));
    }
    let chart = ContourChart {
        title: "decision boundary",
        x_label: &data.feature_names[0],
        y_label: &data.feature_names[1],
        field: &field,
        paths: Vec::new(),
        markers: Vec::new(),
        dots,
        boundaries: Vec::new(),
        equal_aspect: false,
        note: None,
        regions: Some(regions),
    };
    Ok(save_both(&chart, out, "boundary")?.to_vec())
}

/// The regions of a classifier's scores on a grid: one logit (binary, the boundary where it is
/// 0) or one per class (softmax, boundaries where the two best are equal).
fn regions(logits: &Array2<f64>, n_classes: usize) -> Regions {
    let colours = (0..n_classes).map(|c| PALETTE[c % PALETTE.len()]).collect();
    let mut class = Vec::with_capacity(logits.nrows());
    let mut probability = Vec::with_capacity(logits.nrows());
    if logits.ncols() == 1 {
        let z: Vec<f64> = logits.column(0).to_vec();
        for &v in &z {
            let p = 1.0 / (1.0 + (-v).exp());
            class.push(usize::from(p >= 0.5));
            probability.push(p.max(1.0 - p));
        }
        return Regions {
            colours,
            class,
            probability,
            edges: vec![z],
        };
    }
    for r in logits.rows() {
        let best = (0..r.len())
            .max_by(|&a, &b| r[a].total_cmp(&r[b]))
            .unwrap_or(0);
        let m = r[best];
        let sum: f64 = r.iter().map(|v| (v - m).exp()).sum();
        class.push(best);
        probability.push(1.0 / sum);
    }
    let k = logits.ncols();
    let mut edges = Vec::new();
    for a in 0..k {
        for b in a + 1..k {
            let e: Vec<f64> = logits
                .rows()
                .into_iter()
                .zip(&class)
                .map(|(r, &c)| {
                    if c == a || c == b {
                        r[a] - r[b]
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            edges.push(e);
        }
    }
    Regions {
        colours,
        class,
        probability,
        edges,
    }
}
