//! Layers, the sequential model, and the named model kinds of the command line.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::autodiff::{Tape, Var};
use crate::loss::Loss;
use crate::params::{Layout, Params};
use crate::{Error, Float, Result};

/// An element-wise non-linearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
}

impl FromStr for Activation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sigmoid" => Ok(Activation::Sigmoid),
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            _ => Err(Error::invalid(
                "activation",
                s,
                "expected sigmoid, tanh or relu",
            )),
        }
    }
}

/// One layer of a [`Sequential`] model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Layer {
    /// `y = x Wᵀ + b` with `W` as `[out][in]` (`torch.nn.Linear`).
    Linear {
        in_features: usize,
        out_features: usize,
        bias: bool,
    },
    Sigmoid,
    Tanh,
    Relu,
}

impl From<Activation> for Layer {
    fn from(a: Activation) -> Self {
        match a {
            Activation::Sigmoid => Layer::Sigmoid,
            Activation::Tanh => Layer::Tanh,
            Activation::Relu => Layer::Relu,
        }
    }
}

/// The model kinds a user names on the command line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelKind {
    /// `y = x·w`: one weight per feature and target, no bias (the classic `y = w*x`).
    LinearNobias,
    /// `y = x Wᵀ + b`, any number of features and targets, mean squared error.
    Linear,
    /// Binary logistic regression: one logit, BCE with logits.
    Logistic,
    /// Multi-class softmax regression: one logit per class, cross-entropy.
    Softmax,
    /// A multi-layer perceptron: hidden layers with an activation, a linear output whose
    /// width and loss follow the task (regression, binary or multi-class).
    Mlp {
        hidden: Vec<usize>,
        activation: Activation,
    },
}

impl ModelKind {
    /// Parses `linear-nobias | linear | logistic | softmax | mlp` (an MLP also needs
    /// `hidden` and `activation`).
    pub fn parse(name: &str, hidden: &[usize], activation: Activation) -> Result<Self> {
        Ok(match name {
            "linear-nobias" => ModelKind::LinearNobias,
            "linear" => ModelKind::Linear,
            "logistic" => ModelKind::Logistic,
            "softmax" => ModelKind::Softmax,
            "mlp" => {
                if hidden.is_empty() || hidden.contains(&0) {
                    return Err(Error::invalid(
                        "hidden",
                        format!("{hidden:?}"),
                        "an mlp needs at least one hidden layer of positive width, e.g. --hidden 64,32",
                    ));
                }
                ModelKind::Mlp {
                    hidden: hidden.to_vec(),
                    activation,
                }
            }
            _ => {
                return Err(Error::invalid(
                    "model",
                    name,
                    "expected linear-nobias, linear, logistic, softmax or mlp",
                ))
            }
        })
    }

    /// The command-line name.
    pub fn name(&self) -> &'static str {
        match self {
            ModelKind::LinearNobias => "linear-nobias",
            ModelKind::Linear => "linear",
            ModelKind::Logistic => "logistic",
            ModelKind::Softmax => "softmax",
            ModelKind::Mlp { .. } => "mlp",
        }
    }

    /// Whether targets are class labels (logistic, softmax) rather than real numbers.
    pub fn is_classifier(&self) -> bool {
        matches!(self, ModelKind::Logistic | ModelKind::Softmax)
    }

    /// The loss that matches this model's output when the user names none.
    /// An MLP regresses unless `classes` says the task is classification.
    pub fn default_loss(&self, classes: Option<usize>) -> Loss {
        match (self, classes) {
            (ModelKind::Logistic, _) => Loss::BceWithLogits,
            (ModelKind::Softmax, _) => Loss::CrossEntropy,
            (ModelKind::Mlp { .. }, Some(2)) => Loss::BceWithLogits,
            (ModelKind::Mlp { .. }, Some(_)) => Loss::CrossEntropy,
            _ => Loss::Mse,
        }
    }

    /// The layers for `n_in` features and `n_out` outputs (targets, or logits).
    pub fn build(&self, n_in: usize, n_out: usize) -> Result<Sequential> {
        if n_in == 0 || n_out == 0 {
            return Err(Error::Data(format!(
                "a model needs at least one feature and one output (got {n_in} and {n_out})"
            )));
        }
        let linear = |i, o, bias| Layer::Linear {
            in_features: i,
            out_features: o,
            bias,
        };
        let layers = match self {
            ModelKind::LinearNobias => vec![linear(n_in, n_out, false)],
            ModelKind::Linear | ModelKind::Logistic | ModelKind::Softmax => {
                vec![linear(n_in, n_out, true)]
            }
            ModelKind::Mlp { hidden, activation } => {
                let mut layers = Vec::new();
                let mut width = n_in;
                for &h in hidden {
                    layers.push(linear(width, h, true));
                    layers.push(Layer::from(*activation));
                    width = h;
                }
                layers.push(linear(width, n_out, true));
                layers
            }
        };
        Sequential::new(layers)
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelKind::Mlp { hidden, activation } => {
                let h: Vec<String> = hidden.iter().map(|h| h.to_string()).collect();
                write!(f, "mlp [{}] {:?}", h.join(","), activation)
            }
            other => f.write_str(other.name()),
        }
    }
}

/// Layers applied in order; the output is the last layer's value (predictions or logits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequential {
    layers: Vec<Layer>,
}

/// The result of a forward pass on a tape: the output and the handle of every parameter view.
#[derive(Debug)]
pub struct Forward {
    pub output: Var,
    pub params: Vec<Var>,
}

impl Sequential {
    /// Checks that consecutive linear layers fit together.
    pub fn new(layers: Vec<Layer>) -> Result<Self> {
        let mut width: Option<usize> = None;
        for layer in &layers {
            if let Layer::Linear {
                in_features,
                out_features,
                ..
            } = *layer
            {
                if let Some(w) = width {
                    if w != in_features {
                        return Err(Error::ShapeMismatch {
                            op: "sequential layers",
                            lhs: vec![w],
                            rhs: vec![in_features],
                        });
                    }
                }
                width = Some(out_features);
            }
        }
        if width.is_none() {
            return Err(Error::Data(
                "a model needs at least one linear layer".into(),
            ));
        }
        Ok(Sequential { layers })
    }

    /// The layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    fn linears(&self) -> impl Iterator<Item = (usize, usize, bool)> + '_ {
        self.layers.iter().filter_map(|l| match *l {
            Layer::Linear {
                in_features,
                out_features,
                bias,
            } => Some((in_features, out_features, bias)),
            _ => None,
        })
    }

    /// Number of input features.
    pub fn n_in(&self) -> usize {
        self.linears().next().map_or(0, |l| l.0)
    }

    /// Number of outputs.
    pub fn n_out(&self) -> usize {
        self.linears().last().map_or(0, |l| l.1)
    }

    /// The parameter layout: `layer{i}.weight` (`[out][in]`) and `layer{i}.bias` (`[1][out]`)
    /// for the i-th linear layer.
    pub fn layout(&self) -> Layout {
        let mut layout = Layout::default();
        for (i, (n_in, n_out, bias)) in self.linears().enumerate() {
            layout.push(format!("layer{i}.weight"), (n_out, n_in), n_in);
            if bias {
                layout.push(format!("layer{i}.bias"), (1, n_out), n_in);
            }
        }
        layout
    }

    /// Records the forward pass of a batch `x` (a node already on the tape). Parameters are
    /// copied onto the tape as leaves, in layout order.
    pub fn forward<F: Float>(
        &self,
        tape: &mut Tape<F>,
        params: &Params<F>,
        x: Var,
    ) -> Result<Forward> {
        let mut vars = Vec::with_capacity(params.layout.views().len());
        let mut next_view = 0;
        let mut h = x;
        for layer in &self.layers {
            h = match *layer {
                Layer::Linear { bias, .. } => {
                    let w = tape.param(params.view(next_view).to_owned());
                    vars.push(w);
                    next_view += 1;
                    let b = if bias {
                        let b = tape.param(params.view(next_view).to_owned());
                        vars.push(b);
                        next_view += 1;
                        Some(b)
                    } else {
                        None
                    };
                    tape.linear(h, w, b)?
                }
                Layer::Sigmoid => tape.sigmoid(h),
                Layer::Tanh => tape.tanh(h),
                Layer::Relu => tape.relu(h),
            };
        }
        Ok(Forward {
            output: h,
            params: vars,
        })
    }

    /// The model's output for a batch of (already scaled) features, without recording
    /// gradients.
    pub fn predict<F: Float>(&self, params: &Params<F>, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        if x.ncols() != self.n_in() {
            return Err(Error::ShapeMismatch {
                op: "predict (features)",
                lhs: x.shape().to_vec(),
                rhs: vec![self.n_in()],
            });
        }
        let mut tape = Tape::new();
        let xv = tape.constant(x.to_owned());
        let out = self.forward(&mut tape, params, xv)?.output;
        Ok(tape.value(out).clone())
    }

    /// Copies the gradients of a forward pass into the flat gradient buffer `grads`
    /// (same layout as the parameters); parameters that got no gradient get 0.
    pub fn gather_grads<F: Float>(
        &self,
        layout: &Layout,
        fwd: &Forward,
        gradients: &crate::autodiff::Gradients<F>,
        grads: &mut [F],
    ) {
        for (view, &var) in layout.views().iter().zip(&fwd.params) {
            let dst = &mut grads[view.range()];
            match gradients.get(var) {
                Some(g) => {
                    for (d, &s) in dst.iter_mut().zip(g.iter()) {
                        *d = s;
                    }
                }
                None => dst.fill(F::zero()),
            }
        }
    }
}
