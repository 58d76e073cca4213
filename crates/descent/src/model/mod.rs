//! [`Model`]: a trained model as one owned value (architecture, parameters, scaler, label
//! mapping, precision), saved to and loaded from `model.json` ([`file`](mod@file)), predicting on raw,
//! unscaled features.

mod coefficients;
pub mod file;

use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayView2};

pub use coefficients::{Affine, Coefficients};
pub use file::{ModelFile, Tensor};

use crate::data::{Delimiter, OneHot, OneHotMode, ReadOptions, Scaler, UnknownCategory};
use crate::files::{read_text, write_json_atomic};
use crate::loss::{predicted_class, Loss};
use crate::nn::{ModelKind, Sequential};
use crate::params::Params;
use crate::{DType, Error, Float, Result};

/// A trained model: what `predict` needs and nothing else.
///
/// ```
/// use descent::Model;
/// # fn main() -> descent::Result<()> {
/// let spec = descent::RunSpec::builtin("classic").model(descent::nn::ModelKind::LinearNobias)
///     .init(descent::params::Init::Constant(1.0)).optimizer("sgd", 0.01).batch_full().epochs(100);
/// let model = descent::fit(&spec)?.model;
/// let y = model.predict(ndarray::array![[4.0]].view())?;
/// assert!((y.values().unwrap()[[0, 0]] - 8.0).abs() < 1e-3);
/// assert!(y.labels().is_none());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub kind: ModelKind,
    pub net: Sequential,
    pub loss: Loss,
    /// The precision it was trained in and predicts in.
    pub dtype: DType,
    pub features: Vec<String>,
    pub targets: Vec<String>,
    /// Class labels in index order, for classifiers.
    pub classes: Option<Vec<String>>,
    /// Applied to raw features before the network.
    pub scaler: Scaler,
    /// The regression targets' scaling the network was trained on; [`Model::outputs`] undoes
    /// it (`Scaler::None`: the targets were not scaled).
    pub target_scaler: Scaler,
    /// Flat parameters in the network's layout, widened to `f64` (exact for `f32`).
    pub params: Vec<f64>,
    /// The one-hot encoding of text columns that `features` come from, if any: applied to
    /// raw data before the scaler (see [`Model::read_options`]).
    pub one_hot: Option<OneHot>,
}

/// What [`Model::predict`] returns for a batch of rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Prediction {
    /// Regression: one column per target.
    Values(Array2<f64>),
    /// Classification: per row the class index and its label, and one probability column
    /// per class.
    Classes {
        index: Vec<usize>,
        labels: Vec<String>,
        probabilities: Array2<f64>,
    },
}

impl Prediction {
    /// The predicted values (regression), one column per target.
    pub fn values(&self) -> Option<&Array2<f64>> {
        match self {
            Prediction::Values(v) => Some(v),
            Prediction::Classes { .. } => None,
        }
    }

    /// The predicted labels (classification), one per row.
    pub fn labels(&self) -> Option<&[String]> {
        match self {
            Prediction::Classes { labels, .. } => Some(labels),
            Prediction::Values(_) => None,
        }
    }

    /// The class probabilities (classification), one column per class.
    pub fn probabilities(&self) -> Option<&Array2<f64>> {
        match self {
            Prediction::Classes { probabilities, .. } => Some(probabilities),
            Prediction::Values(_) => None,
        }
    }
}

impl Model {
    /// A model from a network and its trained parameters (in precision `F`).
    #[allow(clippy::too_many_arguments)]
    pub fn new<F: Float>(
        kind: ModelKind,
        net: Sequential,
        loss: Loss,
        features: Vec<String>,
        targets: Vec<String>,
        classes: Option<Vec<String>>,
        scaler: Scaler,
        params: &Params<F>,
    ) -> Self {
        Model {
            kind,
            net,
            loss,
            dtype: DType::of::<F>(),
            features,
            targets,
            classes,
            scaler,
            target_scaler: Scaler::None,
            params: params.values.iter().map(|v| v.f64()).collect(),
            one_hot: None,
        }
    }

    /// The model with the one-hot encoding its features come from (`None`: plain numbers).
    pub fn with_one_hot(mut self, one_hot: Option<OneHot>) -> Self {
        self.one_hot = one_hot;
        self
    }

    /// The columns a data file must hold for this model: its features, or for a one-hot
    /// encoded model the text columns the indicators come from.
    pub fn inputs(&self) -> &[String] {
        self.one_hot.as_ref().map_or(&self.features, |e| &e.inputs)
    }

    /// How to read raw data for this model: its encoding applied (an unseen value handled
    /// as `unknown` says), the separator `delimiter` or a detected one.
    pub fn read_options(
        &self,
        delimiter: Option<Delimiter>,
        unknown: UnknownCategory,
    ) -> ReadOptions {
        let encoding = self.one_hot.clone().unwrap_or_else(|| OneHot {
            inputs: self.features.clone(),
            columns: Vec::new(),
        });
        ReadOptions {
            delimiter,
            one_hot: OneHotMode::Apply { encoding, unknown },
        }
    }

    /// The same model trained on targets scaled by `target_scaler` (undone at predict time).
    pub fn with_target_scaler(mut self, target_scaler: Scaler) -> Self {
        self.target_scaler = target_scaler;
        self
    }

    /// `path` may be a run directory (its `model.json` is read) or a model file.
    pub fn resolve(path: &Path) -> PathBuf {
        if path.is_dir() {
            path.join("model.json")
        } else {
            path.to_path_buf()
        }
    }

    /// Loads `model.json` (any version this release reads), checking it thoroughly.
    pub fn load(path: &Path) -> Result<Self> {
        let path = Self::resolve(path);
        let text = read_text(&path)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses the text of a model file; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        Self::from_file(ModelFile::parse(origin, text)?)
    }

    /// Writes `model.json` atomically (a reader never sees half a file).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_json_atomic(path, &self.to_file())
    }

    /// The on-disk form.
    pub fn to_file(&self) -> ModelFile {
        let parameters = self
            .net
            .layout()
            .views()
            .iter()
            .map(|v| Tensor {
                name: v.name.clone(),
                shape: [v.shape.0, v.shape.1],
                values: self.params[v.range()].to_vec(),
            })
            .collect();
        ModelFile {
            format: file::FORMAT.into(),
            version: file::VERSION,
            descent_version: env!("CARGO_PKG_VERSION").into(),
            dtype: self.dtype.name().into(),
            model: self.kind.clone(),
            layers: self.net.layers().to_vec(),
            loss: self.loss,
            features: self.features.clone(),
            targets: self.targets.clone(),
            classes: self.classes.clone(),
            scaler: self.scaler.clone(),
            parameters,
            target_scaler: self.target_scaler.clone(),
            one_hot: self.one_hot.clone(),
        }
    }

    /// The model of a checked file.
    pub fn from_file(f: ModelFile) -> Result<Self> {
        let net = Sequential::new(f.layers)?;
        Ok(Model {
            kind: f.model,
            net,
            loss: f.loss,
            dtype: f.dtype.parse()?,
            features: f.features,
            targets: f.targets,
            classes: f.classes,
            scaler: f.scaler,
            target_scaler: f.target_scaler,
            params: f.parameters.into_iter().flat_map(|t| t.values).collect(),
            one_hot: f.one_hot,
        })
    }

    /// The parameters in precision `F`.
    pub fn params_as<F: Float>(&self) -> Result<Params<F>> {
        Params::from_values(
            self.net.layout(),
            self.params.iter().map(|&v| F::of(v)).collect(),
        )
    }

    /// Raw network outputs (predictions in the targets' own units, or logits for a
    /// classifier) for unscaled features, computed in the model's precision; a target scaling
    /// is undone (in f64).
    pub fn outputs(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.features.len() {
            return Err(Error::ShapeMismatch {
                op: "predict: input columns vs the model's features",
                lhs: x.shape().to_vec(),
                rhs: vec![self.features.len()],
            });
        }
        let mut x = x.to_owned();
        self.scaler.transform(&mut x)?;
        let mut out = match self.dtype {
            DType::F32 => self.outputs_in::<f32>(&x),
            DType::F64 => self.outputs_in::<f64>(&x),
        }?;
        self.target_scaler.inverse(&mut out)?;
        Ok(out)
    }

    fn outputs_in<F: Float>(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        let params = self.params_as::<F>()?;
        let out = self.net.predict(&params, x.mapv(F::of).view())?;
        Ok(out.mapv(|v| v.f64()))
    }

    /// The prediction for one row of unscaled features.
    pub fn predict_row(&self, x: &[f64]) -> Result<Prediction> {
        let row = ArrayView2::from_shape((1, x.len()), x).expect("one row of x.len() values");
        self.predict(row)
    }

    /// Predictions for unscaled features: values, or classes with their probabilities.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction> {
        let out = self.outputs(x)?;
        let Some(classes) = &self.classes else {
            return Ok(Prediction::Values(out));
        };
        let k = classes.len();
        let mut index = Vec::with_capacity(out.nrows());
        let mut probabilities = Array2::zeros((out.nrows(), k));
        for (i, row) in out.rows().into_iter().enumerate() {
            let logits = row.to_vec();
            index.push(self.class_of(&logits));
            for (j, p) in self.probabilities(&logits).into_iter().enumerate() {
                probabilities[[i, j]] = p;
            }
        }
        let labels = index.iter().map(|&c| classes[c].clone()).collect();
        Ok(Prediction::Classes {
            index,
            labels,
            probabilities,
        })
    }

    /// The class index of one row of logits.
    pub fn class_of(&self, logits: &[f64]) -> usize {
        let k = self.classes.as_ref().map_or(1, Vec::len);
        predicted_class(logits.iter().copied()).min(k - 1)
    }

    /// Class probabilities of one row of logits (sigmoid for one logit, else softmax).
    pub fn probabilities(&self, logits: &[f64]) -> Vec<f64> {
        if self.loss == Loss::BceWithLogits {
            let p = 1.0 / (1.0 + (-logits[0]).exp());
            return vec![1.0 - p, p];
        }
        let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = logits.iter().map(|z| (z - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    }

    /// Shortest text that round-trips `v` in the model's precision.
    pub fn format_value(&self, v: f64) -> String {
        match self.dtype {
            DType::F32 => format!("{}", v as f32),
            DType::F64 => format!("{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Scaling;
    use crate::RunSpec;

    #[test]
    fn a_target_scaler_is_stored_undone_at_predict_time_and_absent_otherwise() {
        let spec = RunSpec::builtin("diabetes")
            .scale(Scaling::Standard)
            .optimizer("sgd", 0.2)
            .batch_full()
            .epochs(300);
        let plain = crate::fit(&spec).unwrap().model;
        let scaled = crate::fit(&spec.clone().scale_target(Scaling::Standard))
            .unwrap()
            .model;
        let text = serde_json::to_string(&plain.to_file()).unwrap();
        assert!(!text.contains("target_scaler"), "{text}");
        let text = serde_json::to_string(&scaled.to_file()).unwrap();
        assert!(
            text.contains("\"target_scaler\":{\"kind\":\"standard\""),
            "{text}"
        );
        let back = Model::parse("model.json", &text).unwrap();
        assert_eq!(back, scaled);
        // Both predict diabetes progression in its own units (25 .. 346): gradient descent
        // on standardized targets reaches the same fit up to rounding.
        let x = crate::data::builtin::load(
            "diabetes",
            &crate::data::Columns::default(),
            crate::data::TargetKind::Real,
        )
        .unwrap()
        .x;
        let (a, b) = (
            plain.outputs(x.view()).unwrap(),
            back.outputs(x.view()).unwrap(),
        );
        let worst = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "{worst}");
        // A target scaler of the wrong width is refused.
        let mut bad: serde_json::Value = serde_json::from_str(&text).unwrap();
        bad["targets"] = serde_json::json!(["a", "b"]);
        let err = Model::parse("m", &bad.to_string()).unwrap_err().to_string();
        assert!(
            err.contains("the target scaler has 1 columns but there are 2"),
            "{err}"
        );
    }
}
