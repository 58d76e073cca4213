//! The fitted coefficients of a one-layer model (linear, logistic, softmax) by feature name,
//! as the model holds them (on scaled features) and in the features' original units (the
//! scaler undone), so that a weight reads as "per unit of this column".
//!
//! # Algorithm
//! ```text
//! scaled:   y = b' + Σ_j w'_j x'_j,   x'_j = (x_j - shift_j) / scale_j
//! original: w_j = w'_j / scale_j,      b = b' - Σ_j w'_j shift_j / scale_j
//! ```

use serde::{Deserialize, Serialize};

use super::Model;
use crate::loss::Loss;
use crate::nn::Layer;

/// One output's intercept and weights, in the order of [`Coefficients::features`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    /// The target (regression) or the class whose logit this is.
    pub output: String,
    pub intercept: f64,
    pub weights: Vec<f64>,
}

/// A one-layer model's coefficients in the scaled space and in original units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coefficients {
    pub features: Vec<String>,
    /// What the model holds: weights of the scaled features.
    pub scaled: Vec<Affine>,
    /// The same function of the raw features: weights per original unit.
    pub original_units: Vec<Affine>,
}

impl Model {
    /// The coefficients of a one-layer model; `None` for a network with hidden layers.
    ///
    /// ```
    /// # fn main() -> descent::Result<()> {
    /// use descent::data::Scaling;
    /// let spec = descent::RunSpec::builtin("classic").scale(Scaling::Standard)
    ///     .optimizer("sgd", 0.1).batch_full().epochs(500);
    /// let model = descent::fit(&spec)?.model;
    /// let c = model.coefficients().expect("a linear model");
    /// // y = 2x: in original units the weight is 2 and the intercept 0.
    /// assert!((c.original_units[0].weights[0] - 2.0).abs() < 1e-6);
    /// assert!(c.original_units[0].intercept.abs() < 1e-6);
    /// # Ok(()) }
    /// ```
    pub fn coefficients(&self) -> Option<Coefficients> {
        let [Layer::Linear {
            in_features,
            out_features,
            bias,
        }] = *self.net.layers()
        else {
            return None;
        };
        let (n, k) = (in_features, out_features);
        let weights = &self.params[..n * k];
        let names = self.output_names(k);
        let scaled: Vec<Affine> = (0..k)
            .map(|o| Affine {
                output: names[o].clone(),
                intercept: if bias { self.params[n * k + o] } else { 0.0 },
                weights: weights[o * n..(o + 1) * n].to_vec(),
            })
            .collect();
        let original_units = match self.scaler.affine() {
            None => scaled.clone(),
            Some(affine) => scaled
                .iter()
                .map(|a| Affine {
                    output: a.output.clone(),
                    intercept: a.intercept
                        - a.weights
                            .iter()
                            .zip(&affine)
                            .map(|(w, (shift, scale))| w * shift / scale)
                            .sum::<f64>(),
                    weights: a
                        .weights
                        .iter()
                        .zip(&affine)
                        .map(|(w, (_, scale))| w / scale)
                        .collect(),
                })
                .collect(),
        };
        Some(Coefficients {
            features: self.features.clone(),
            scaled,
            original_units,
        })
    }

    /// What each of the `k` outputs is: a target, or the logit of a class.
    fn output_names(&self, k: usize) -> Vec<String> {
        match (&self.classes, self.loss) {
            (Some(c), Loss::BceWithLogits) if c.len() == 2 => {
                vec![format!("logit({})", c[1])]
            }
            (Some(c), _) if c.len() == k => c.iter().map(|c| format!("logit({c})")).collect(),
            _ if self.targets.len() == k => self.targets.clone(),
            _ => (0..k).map(|o| format!("output{o}")).collect(),
        }
    }
}
