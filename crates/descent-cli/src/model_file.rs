//! `model.json`: everything `descent predict` needs (architecture, parameters, scaler, label
//! mapping, precision), checked thoroughly on load so that a truncated or hand-edited file
//! gives a clear error instead of wrong predictions.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use descent::data::Scaler;
use descent::loss::Loss;
use descent::nn::{Layer, ModelKind, Sequential};
use descent::params::Params;
use descent::Float;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "descent-model";
pub const VERSION: u32 = 1;

/// One named tensor, row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    pub name: String,
    pub shape: [usize; 2],
    pub values: Vec<f64>,
}

/// The saved model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub format: String,
    pub version: u32,
    pub descent_version: String,
    /// `f32` or `f64`: the precision the model was trained and predicts in.
    pub dtype: String,
    pub model: ModelKind,
    pub layers: Vec<Layer>,
    pub loss: Loss,
    pub features: Vec<String>,
    pub targets: Vec<String>,
    /// Class labels in index order, for classifiers.
    pub classes: Option<Vec<String>>,
    pub scaler: Scaler,
    pub parameters: Vec<Tensor>,
}

impl ModelFile {
    #[allow(clippy::too_many_arguments)]
    pub fn new<F: Float>(
        kind: &ModelKind,
        model: &Sequential,
        loss: Loss,
        features: Vec<String>,
        targets: Vec<String>,
        classes: Option<Vec<String>>,
        scaler: Scaler,
        params: &Params<F>,
    ) -> Self {
        let parameters = params
            .layout
            .views()
            .iter()
            .map(|v| Tensor {
                name: v.name.clone(),
                shape: [v.shape.0, v.shape.1],
                values: params.values[v.range()].iter().map(|x| x.f64()).collect(),
            })
            .collect();
        ModelFile {
            format: FORMAT.into(),
            version: VERSION,
            descent_version: env!("CARGO_PKG_VERSION").into(),
            dtype: F::NAME.into(),
            model: kind.clone(),
            layers: model.layers().to_vec(),
            loss,
            features,
            targets,
            classes,
            scaler,
            parameters,
        }
    }

    /// `PATH` may be the run directory or the `model.json` inside it.
    pub fn resolve(path: &Path) -> PathBuf {
        if path.is_dir() {
            path.join("model.json")
        } else {
            path.to_path_buf()
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let path = Self::resolve(path);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read model {}", path.display()))?;
        Self::parse(&path, &text)
    }

    /// Parses and checks the text of a model file (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let file: ModelFile = serde_json::from_str(text).with_context(|| {
            format!(
                "{} is not a valid descent model file (truncated or edited?); retrain or restore it",
                path.display()
            )
        })?;
        file.check()
            .with_context(|| format!("{} is inconsistent", path.display()))?;
        Ok(file)
    }

    fn check(&self) -> Result<()> {
        ensure!(
            self.format == FORMAT,
            "field `format` is `{}`, expected `{FORMAT}`",
            self.format
        );
        ensure!(
            self.version == VERSION,
            "field `version` is {}, this descent reads version {VERSION}",
            self.version
        );
        ensure!(
            matches!(self.dtype.as_str(), "f32" | "f64"),
            "field `dtype` must be f32 or f64, not `{}`",
            self.dtype
        );
        self.check_layer_sizes()?;
        let seq = self.sequential()?;
        ensure!(
            seq.n_in() == self.features.len(),
            "the first layer takes {} inputs but `features` names {}",
            seq.n_in(),
            self.features.len()
        );
        if let Some(k) = self.scaler.n_columns() {
            ensure!(
                k == self.features.len(),
                "the scaler has {k} columns but there are {} features",
                self.features.len()
            );
        }
        let layout = seq.layout();
        ensure!(
            layout.views().len() == self.parameters.len(),
            "the layers need {} parameter tensors, the file has {}",
            layout.views().len(),
            self.parameters.len()
        );
        for (view, t) in layout.views().iter().zip(&self.parameters) {
            ensure!(
                view.name == t.name,
                "parameter `{}` found where `{}` was expected",
                t.name,
                view.name
            );
            ensure!([view.shape.0, view.shape.1] == t.shape && t.values.len() == view.shape.0 * view.shape.1,
                "parameter `{}` should be {}x{} ({} values), the file has shape {:?} with {} values",
                t.name, view.shape.0, view.shape.1, view.shape.0 * view.shape.1, t.shape, t.values.len());
            if let Some(i) = t.values.iter().position(|v| !v.is_finite()) {
                bail!("parameter `{}` value {i} is not finite", t.name);
            }
        }
        if self.loss.is_classification() {
            let classes = self
                .classes
                .as_ref()
                .context("a classifier needs its `classes`")?;
            let expected = if self.loss == Loss::BceWithLogits {
                ensure!(
                    classes.len() == 2,
                    "a binary classifier needs 2 `classes`, the file has {}",
                    classes.len()
                );
                1
            } else {
                classes.len()
            };
            ensure!(
                seq.n_out() == expected,
                "the model has {} outputs but {} classes",
                seq.n_out(),
                classes.len()
            );
        } else {
            ensure!(
                self.classes.is_none(),
                "a regression model ({}) has no `classes`; set it to null",
                self.loss
            );
            ensure!(
                seq.n_out() == self.targets.len(),
                "the model has {} outputs but `targets` names {}",
                seq.n_out(),
                self.targets.len()
            );
        }
        Ok(())
    }

    /// Layer widths whose parameter count overflows (a hand-edited file) are rejected before
    /// the layout is computed from them.
    fn check_layer_sizes(&self) -> Result<()> {
        const MAX_PARAMETERS: usize = 1 << 40;
        let mut total = 0usize;
        for layer in &self.layers {
            if let Layer::Linear {
                in_features,
                out_features,
                bias,
            } = *layer
            {
                total = in_features
                    .checked_mul(out_features)
                    .and_then(|n| n.checked_add(if bias { out_features } else { 0 }))
                    .and_then(|n| n.checked_add(total))
                    .filter(|&n| n <= MAX_PARAMETERS)
                    .with_context(|| {
                        format!(
                            "layer sizes {in_features}x{out_features} are too large for a model"
                        )
                    })?;
            }
        }
        Ok(())
    }

    pub fn sequential(&self) -> Result<Sequential> {
        Ok(Sequential::new(self.layers.clone())?)
    }

    pub fn params<F: Float>(&self) -> Result<Params<F>> {
        let layout = self.sequential()?.layout();
        let values = self
            .parameters
            .iter()
            .flat_map(|t| t.values.iter().map(|&v| F::of(v)))
            .collect();
        Ok(Params::from_values(layout, values)?)
    }

    /// Raw model outputs (predictions or logits) for unscaled features `x`, computed in the
    /// model's precision.
    pub fn outputs(&self, mut x: Array2<f64>) -> Result<Array2<f64>> {
        self.scaler.transform(&mut x)?;
        match self.dtype.as_str() {
            "f32" => self.outputs_in::<f32>(&x),
            _ => self.outputs_in::<f64>(&x),
        }
    }

    fn outputs_in<F: Float>(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        let params = self.params::<F>()?;
        let out = self.sequential()?.predict(&params, x.mapv(F::of).view())?;
        Ok(out.mapv(|v| v.f64()))
    }
}
