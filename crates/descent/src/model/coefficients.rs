//! The fitted coefficients of a one-layer model (linear, logistic, softmax) by feature name,
//! as the model holds them (on scaled features and scaled targets) and in the original units
//! of the features and targets (both scalers undone), so that a weight reads as "units of
//! this target per unit of this column".
//!
//! # Algorithm
//! ```text
//! scaled:   y' = b' + Σ_j w'_j x'_j,   x'_j = (x_j - shift_j) / scale_j,
//!                                      y'   = (y - t_shift) / t_scale   (regression only)
//! original: w_j = t_scale · w'_j / scale_j
//!           b   = t_scale · (b' - Σ_j w'_j shift_j / scale_j) + t_shift
//! ```
//! Without a target scaler `t_shift = 0`, `t_scale = 1`; a classifier's logits are never
//! target-scaled.

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
        let features = self.scaler.affine();
        // The target scaler, one (shift, scale) per output, when it is the outputs' own.
        let targets = self.target_scaler.affine().filter(|t| t.len() == k);
        let original_units = scaled
            .iter()
            .enumerate()
            .map(|(o, a)| {
                let (t_shift, t_scale) = targets.as_ref().map_or((0.0, 1.0), |t| t[o]);
                let (mut intercept, mut weights) = (a.intercept, a.weights.clone());
                if let Some(affine) = &features {
                    intercept -= a
                        .weights
                        .iter()
                        .zip(affine)
                        .map(|(w, (shift, scale))| w * shift / scale)
                        .sum::<f64>();
                    for (w, (_, scale)) in weights.iter_mut().zip(affine) {
                        *w /= scale;
                    }
                }
                if targets.is_some() {
                    intercept = t_scale * intercept + t_shift;
                    for w in &mut weights {
                        *w *= t_scale;
                    }
                }
                Affine {
                    output: a.output.clone(),
                    intercept,
                    weights,
                }
            })
            .collect();
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

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    use crate::analysis::normal_equation::normal_equation;
    use crate::data::{Dataset, Scaling};
    use crate::{Run, RunSpec};

    /// Raw features with their own offsets and spreads, two targets far from mean 0 / std 1.
    fn data(rows: usize) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        let (shift, spread) = ([5.0, -40.0, 0.01], [2.0, 30.0, 0.5]);
        let x = Array2::from_shape_fn((rows, 3), |(_, j)| shift[j] + spread[j] * normal());
        let y = Array2::from_shape_fn((rows, 2), |(i, o)| {
            let r = x.row(i);
            let w = if o == 0 {
                [3.0, -0.5, 7.0]
            } else {
                [-1.0, 0.25, 2.0]
            };
            let b = if o == 0 { 1000.0 } else { -20.0 };
            b + w[0] * r[0] + w[1] * r[1] + w[2] * r[2]
        });
        let y = y.mapv(|v| v + 0.1 * v.abs().sqrt() * normal());
        Dataset::new(
            x,
            y,
            vec!["a".into(), "b".into(), "c".into()],
            vec!["u".into(), "v".into()],
        )
        .unwrap()
    }

    /// With scaled features and scaled targets, the coefficients in original units are the
    /// closed-form least-squares solution on the raw data (the run converges to it).
    #[test]
    fn original_units_undo_the_feature_and_target_scalers() {
        let data = data(400);
        let exact = normal_equation(data.x.view(), data.y.view(), true).unwrap();
        for (scale, target) in [
            (Scaling::Standard, Scaling::Standard),
            (Scaling::MinMax, Scaling::Standard),
            (Scaling::Standard, Scaling::MinMax),
            (Scaling::Standard, Scaling::None),
        ] {
            let spec = RunSpec::new("memory")
                .scale(scale)
                .scale_target(target)
                .optimizer("sgd", 0.4)
                .batch_full()
                .epochs(20_000);
            let mut run = Run::<f64>::from_dataset(spec, data.clone()).unwrap();
            run.train(&mut []).unwrap();
            let model = run.model();
            let c = model.coefficients().unwrap();
            let bias = exact.bias.as_ref().unwrap();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
            for (o, ((got, held), want)) in c
                .original_units
                .iter()
                .zip(&c.scaled)
                .zip(exact.weight.iter().zip(bias))
                .enumerate()
            {
                let (weights, intercept) = want;
                for (j, (g, w)) in got.weights.iter().zip(weights).enumerate() {
                    assert!(
                        close(*g, *w),
                        "{scale:?}/{target:?} output {o} weight {j}: {g} vs {w}"
                    );
                }
                assert!(
                    close(got.intercept, *intercept),
                    "{scale:?}/{target:?} output {o} intercept: {} vs {intercept}",
                    got.intercept
                );
                // The scaled coefficients are what the model holds, for the same output.
                assert_eq!(got.output, held.output);
            }
            assert_eq!(c.original_units.len(), 2);
            // Predictions agree with the original-units equation.
            let pred = model.predict(data.x.view()).unwrap();
            let row = data.x.row(7);
            let by_hand = c.original_units[0].intercept
                + (0..3)
                    .map(|j| c.original_units[0].weights[j] * row[j])
                    .sum::<f64>();
            let p = pred.values().unwrap()[[7, 0]];
            assert!(
                (p - by_hand).abs() <= 1e-9 * p.abs().max(1.0),
                "{p} vs {by_hand}"
            );
        }
    }
}
