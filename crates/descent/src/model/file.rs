//! `model.json`, version 1: the on-disk form of a [`Model`](super::Model), checked thoroughly
//! on load so that a truncated or hand-edited file gives a clear error instead of wrong
//! predictions.
//!
//! The field order is the file's: a model written by release 0.1 loads unchanged, and a
//! model saved now is byte-identical to what release 0.1 wrote for the same parameters.

use serde::{Deserialize, Serialize};

use crate::data::{OneHot, Scaler};
use crate::loss::Loss;
use crate::nn::{Layer, ModelKind, Sequential};
use crate::{Error, Result};

/// `format` of every model file.
pub const FORMAT: &str = "descent-model";
/// The version this release writes; [`ModelFile::parse`] reads every version up to it.
pub const VERSION: u32 = 1;

/// Parameter tensors whose total would exceed this are refused before any allocation.
const MAX_PARAMETERS: usize = 1 << 40;

/// One named tensor, row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    pub name: String,
    pub shape: [usize; 2],
    pub values: Vec<f64>,
}

/// The saved model, field for field as in the file.
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
    /// The one-hot encoding of text columns that `features` come from (absent: none; a
    /// model without one is written as release 0.1 wrote it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_hot: Option<OneHot>,
    /// The regression targets' scaling, undone at predict time; absent (and not written)
    /// when the targets were not scaled, so version-1 files from before it load unchanged and
    /// models saved without it are byte-identical.
    #[serde(default = "no_scaler", skip_serializing_if = "is_no_scaler")]
    pub target_scaler: Scaler,
}

fn no_scaler() -> Scaler {
    Scaler::None
}

fn is_no_scaler(s: &Scaler) -> bool {
    *s == Scaler::None
}

fn inconsistent(reason: String) -> Error {
    Error::State(reason)
}

/// `Ok` if `ok`, else the inconsistency `message()`.
fn require(ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(inconsistent(message()))
    }
}

impl ModelFile {
    /// Parses and checks the text of a model file; `origin` (a path) names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let file: ModelFile = serde_json::from_str(text).map_err(|e| {
            Error::State(format!(
                "{origin} is not a valid descent model file (truncated or edited?); retrain or restore it: {e}"
            ))
        })?;
        file.check()
            .map_err(|e| Error::State(format!("{origin} is inconsistent: {}", strip_state(e))))?;
        Ok(file)
    }

    fn check(&self) -> Result<()> {
        require(self.format == FORMAT, || {
            format!("field `format` is `{}`, expected `{FORMAT}`", self.format)
        })?;
        require(self.version == VERSION, || {
            format!(
                "field `version` is {}, this descent reads version {VERSION}",
                self.version
            )
        })?;
        require(matches!(self.dtype.as_str(), "f32" | "f64"), || {
            format!("field `dtype` must be f32 or f64, not `{}`", self.dtype)
        })?;
        self.check_layer_sizes()?;
        if let Some(e) = &self.one_hot {
            e.check()
                .map_err(|r| inconsistent(format!("field `one_hot`: {r}")))?;
            require(e.feature_names() == self.features, || {
                "field `one_hot` does not expand to `features`".to_string()
            })?;
        }
        let seq = Sequential::new(self.layers.clone())?;
        require(seq.n_in() == self.features.len(), || {
            format!(
                "the first layer takes {} inputs but `features` names {}",
                seq.n_in(),
                self.features.len()
            )
        })?;
        if let Some(k) = self.scaler.n_columns() {
            require(k == self.features.len(), || {
                format!(
                    "the scaler has {k} columns but there are {} features",
                    self.features.len()
                )
            })?;
        }
        if let Some(k) = self.target_scaler.n_columns() {
            require(!self.loss.is_classification(), || {
                "a classifier has no `target_scaler`".to_string()
            })?;
            require(k == self.targets.len(), || {
                format!(
                    "the target scaler has {k} columns but there are {} targets",
                    self.targets.len()
                )
            })?;
        }
        let layout = seq.layout();
        require(layout.views().len() == self.parameters.len(), || {
            format!(
                "the layers need {} parameter tensors, the file has {}",
                layout.views().len(),
                self.parameters.len()
            )
        })?;
        for (view, t) in layout.views().iter().zip(&self.parameters) {
            require(view.name == t.name, || {
                format!(
                    "parameter `{}` found where `{}` was expected",
                    t.name, view.name
                )
            })?;
            let n = view.shape.0 * view.shape.1;
            require(
                [view.shape.0, view.shape.1] == t.shape && t.values.len() == n,
                || {
                    format!("parameter `{}` should be {}x{} ({n} values), the file has shape {:?} with {} values",
                t.name,
                view.shape.0,
                view.shape.1,
                t.shape,
                t.values.len())
                },
            )?;
            if let Some(i) = t.values.iter().position(|v| !v.is_finite()) {
                return Err(inconsistent(format!(
                    "parameter `{}` value {i} is not finite",
                    t.name
                )));
            }
        }
        if self.loss.is_classification() {
            let Some(classes) = self.classes.as_ref() else {
                return Err(inconsistent("a classifier needs its `classes`".into()));
            };
            let expected = if self.loss == Loss::BceWithLogits {
                require(classes.len() == 2, || {
                    format!(
                        "a binary classifier needs 2 `classes`, the file has {}",
                        classes.len()
                    )
                })?;
                1
            } else {
                classes.len()
            };
            require(seq.n_out() == expected, || {
                format!(
                    "the model has {} outputs but {} classes",
                    seq.n_out(),
                    classes.len()
                )
            })?;
        } else {
            require(self.classes.is_none(), || {
                format!(
                    "a regression model ({}) has no `classes`; set it to null",
                    self.loss
                )
            })?;
            require(seq.n_out() == self.targets.len(), || {
                format!(
                    "the model has {} outputs but `targets` names {}",
                    seq.n_out(),
                    self.targets.len()
                )
            })?;
        }
        Ok(())
    }

    /// Layer widths whose parameter count overflows (a hand-edited file) are rejected before
    /// the layout is computed from them.
    fn check_layer_sizes(&self) -> Result<()> {
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
                    .ok_or_else(|| {
                        inconsistent(format!(
                            "layer sizes {in_features}x{out_features} are too large for a model"
                        ))
                    })?;
            }
        }
        Ok(())
    }
}

/// The message of an [`Error::State`] without its `state: ` prefix (to nest it).
fn strip_state(e: Error) -> String {
    match e {
        Error::State(s) => s,
        other => other.to_string(),
    }
}
