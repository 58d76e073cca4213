//! Building optimizers by name from an option map (torch's argument names), for the CLI, config
//! files and the oracle harness.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, DynOptimizer, GroupOptions, GroupRange, Grouped,
    NAdam, Optimizer, RAdam, RmsProp, Rprop, Sgd, SignDescent,
};
use crate::{Error, Float, Result};

/// The command-line names, in the order `--help` lists them.
pub const NAMES: &[&str] = &[
    "sgd",
    "momentum-ema",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "radam",
    "adadelta",
    "asgd",
    "rprop",
    "sign",
];

/// An optimizer named with its options, e.g. `adam` with `{"lr": 0.01, "betas": [0.8, 0.99]}`.
///
/// Names are the command-line names (`sgd`, `adam`, ..., as `--help` lists them) or torch's
/// class names (`SGD`, `Adam`, ...).
/// Option keys are torch's argument names; pairs are 2-element arrays and switches JSON booleans.
/// Options left out take torch's defaults; an option that the optimizer does not take, or a
/// value of the wrong type, is an error.
///
/// # Example
/// ```
/// use descent::optim::{GroupOptions, OptimizerSpec};
/// let spec = OptimizerSpec::new("Adam").with("lr", 0.01).with("betas", vec![0.8, 0.99]);
/// assert_eq!(spec.canonical_name()?, "adam");
/// assert_eq!(spec.lr()?, 0.01);
/// // One group over two parameters; Adam's first step moves each by lr, against the gradient.
/// let mut adam = spec.build::<f64>(vec![(0..2, GroupOptions::default())])?;
/// let mut p = [1.0, -1.0];
/// adam.step(0.01, &mut p, &[0.5, -0.5]);
/// assert!((p[0] - 0.99).abs() < 1e-9 && (p[1] + 0.99).abs() < 1e-9);
/// // An option the optimizer does not take is an error that lists those it takes.
/// let err = OptimizerSpec::new("sgd").with("betas", vec![0.9, 0.99]).lr().unwrap_err();
/// assert!(err.to_string().contains("momentum"));
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSpec {
    pub name: String,
    #[serde(default)]
    pub options: Map<String, Value>,
}

impl OptimizerSpec {
    /// A spec with no options (every hyper-parameter at its default).
    pub fn new(name: &str) -> Self {
        OptimizerSpec {
            name: name.to_string(),
            options: Map::new(),
        }
    }

    /// Sets one option.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.options.insert(key.to_string(), value.into());
        self
    }

    /// The command-line name for [`OptimizerSpec::name`] (which may be a torch class name).
    pub fn canonical_name(&self) -> Result<&'static str> {
        canonical_name(&self.name)
    }

    /// The learning rate: `options["lr"]`, else the optimizer's torch default.
    pub fn lr(&self) -> Result<f64> {
        let name = self.canonical_name()?;
        Reader::new(name, &self.options)?.f64("lr", default_lr(name))
    }

    /// The options `name` takes (a command-line or torch name), for `--help` and errors.
    pub fn known_options(name: &str) -> Result<&'static [&'static str]> {
        Ok(options_of(canonical_name(name)?))
    }

    /// Builds the optimizer over the given parameter groups, after validating every option
    /// (the learning rate and each group's weight-decay override included).
    pub fn build<F: Float>(
        &self,
        groups: Vec<(GroupRange, GroupOptions)>,
    ) -> Result<Box<dyn DynOptimizer<F>>> {
        let name = self.canonical_name()?;
        let r = Reader::new(name, &self.options)?;
        let lr = r.f64("lr", default_lr(name))?;
        match name {
            "sgd" => {
                let d = Sgd::default();
                let config = Sgd {
                    momentum: r.f64("momentum", d.momentum)?,
                    dampening: r.f64("dampening", d.dampening)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    nesterov: r.bool("nesterov", d.nesterov)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "momentum-ema" => {
                let config = Sgd {
                    weight_decay: r.f64("weight_decay", 0.0)?,
                    maximize: r.bool("maximize", false)?,
                    ..Sgd::momentum_ema(r.f64("beta", MOMENTUM_EMA_BETA)?)
                };
                grouped(config, lr, groups)
            }
            "adagrad" => {
                let d = Adagrad::default();
                let config = Adagrad {
                    lr_decay: r.f64("lr_decay", d.lr_decay)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    initial_accumulator_value: r
                        .f64("initial_accumulator_value", d.initial_accumulator_value)?,
                    eps: r.f64("eps", d.eps)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "rmsprop" => {
                let d = RmsProp::default();
                let config = RmsProp {
                    alpha: r.f64("alpha", d.alpha)?,
                    eps: r.f64("eps", d.eps)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    momentum: r.f64("momentum", d.momentum)?,
                    centered: r.bool("centered", d.centered)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "adam" => {
                let d = Adam::default();
                let config = Adam {
                    betas: r.pair("betas", d.betas)?,
                    eps: r.f64("eps", d.eps)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    amsgrad: r.bool("amsgrad", d.amsgrad)?,
                    maximize: r.bool("maximize", d.maximize)?,
                    decoupled_weight_decay: r
                        .bool("decoupled_weight_decay", d.decoupled_weight_decay)?,
                };
                grouped(config, lr, groups)
            }
            "adamw" => {
                let d = AdamW::default();
                let config = AdamW {
                    betas: r.pair("betas", d.betas)?,
                    eps: r.f64("eps", d.eps)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    amsgrad: r.bool("amsgrad", d.amsgrad)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "adamax" => {
                let d = Adamax::default();
                let config = Adamax {
                    betas: r.pair("betas", d.betas)?,
                    eps: r.f64("eps", d.eps)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "nadam" => {
                let d = NAdam::default();
                let config = NAdam {
                    betas: r.pair("betas", d.betas)?,
                    eps: r.f64("eps", d.eps)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    momentum_decay: r.f64("momentum_decay", d.momentum_decay)?,
                    decoupled_weight_decay: r
                        .bool("decoupled_weight_decay", d.decoupled_weight_decay)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "radam" => {
                let d = RAdam::default();
                let config = RAdam {
                    betas: r.pair("betas", d.betas)?,
                    eps: r.f64("eps", d.eps)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    decoupled_weight_decay: r
                        .bool("decoupled_weight_decay", d.decoupled_weight_decay)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "adadelta" => {
                let d = Adadelta::default();
                let config = Adadelta {
                    rho: r.f64("rho", d.rho)?,
                    eps: r.f64("eps", d.eps)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "asgd" => {
                let d = Asgd::default();
                let config = Asgd {
                    lambd: r.f64("lambd", d.lambd)?,
                    alpha: r.f64("alpha", d.alpha)?,
                    t0: r.f64("t0", d.t0)?,
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "rprop" => {
                let d = Rprop::default();
                let config = Rprop {
                    etas: r.pair("etas", d.etas)?,
                    step_sizes: r.pair("step_sizes", d.step_sizes)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            "sign" => {
                let d = SignDescent::default();
                let config = SignDescent {
                    weight_decay: r.f64("weight_decay", d.weight_decay)?,
                    maximize: r.bool("maximize", d.maximize)?,
                };
                grouped(config, lr, groups)
            }
            other => unreachable!("canonical name `{other}` without a builder"),
        }
    }
}

/// The default `beta` of `momentum-ema`.
const MOMENTUM_EMA_BETA: f64 = 0.9;

/// Validates `config` (and each group's weight-decay override) and wraps it in [`Grouped`].
fn grouped<O: Optimizer, F: Float>(
    config: O,
    lr: f64,
    groups: Vec<(GroupRange, GroupOptions)>,
) -> Result<Box<dyn DynOptimizer<F>>> {
    config.validate(lr)?;
    for (_, options) in &groups {
        if let Some(wd) = options.weight_decay {
            let mut c = config.clone();
            c.set_weight_decay(wd);
            c.validate(lr)?;
        }
    }
    Ok(Box::new(Grouped::<O, F>::with_groups(config, groups)))
}

fn canonical_name(name: &str) -> Result<&'static str> {
    let canonical = match name {
        "SGD" => "sgd",
        "Adagrad" => "adagrad",
        "RMSprop" => "rmsprop",
        "Adam" => "adam",
        "AdamW" => "adamw",
        "Adamax" => "adamax",
        "NAdam" => "nadam",
        "RAdam" => "radam",
        "Adadelta" => "adadelta",
        "ASGD" => "asgd",
        "Rprop" => "rprop",
        other => match NAMES.iter().find(|&&n| n == other) {
            Some(n) => n,
            None => {
                return Err(Error::Parse {
                    what: "optimizer",
                    spec: name.to_string(),
                    reason: format!("unknown optimizer; known: {}", NAMES.join(", ")),
                })
            }
        },
    };
    Ok(canonical)
}

fn default_lr(name: &str) -> f64 {
    match name {
        "sgd" | "momentum-ema" => Sgd::DEFAULT_LR,
        "adagrad" => Adagrad::DEFAULT_LR,
        "rmsprop" => RmsProp::DEFAULT_LR,
        "adam" => Adam::DEFAULT_LR,
        "adamw" => AdamW::DEFAULT_LR,
        "adamax" => Adamax::DEFAULT_LR,
        "nadam" => NAdam::DEFAULT_LR,
        "radam" => RAdam::DEFAULT_LR,
        "adadelta" => Adadelta::DEFAULT_LR,
        "asgd" => Asgd::DEFAULT_LR,
        "rprop" => Rprop::DEFAULT_LR,
        _ => SignDescent::DEFAULT_LR,
    }
}

fn options_of(name: &str) -> &'static [&'static str] {
    match name {
        "sgd" => &[
            "lr",
            "momentum",
            "dampening",
            "weight_decay",
            "nesterov",
            "maximize",
        ],
        "momentum-ema" => &["lr", "beta", "weight_decay", "maximize"],
        "adagrad" => &[
            "lr",
            "lr_decay",
            "weight_decay",
            "initial_accumulator_value",
            "eps",
            "maximize",
        ],
        "rmsprop" => &[
            "lr",
            "alpha",
            "eps",
            "weight_decay",
            "momentum",
            "centered",
            "maximize",
        ],
        "adam" => &[
            "lr",
            "betas",
            "eps",
            "weight_decay",
            "amsgrad",
            "maximize",
            "decoupled_weight_decay",
        ],
        "adamw" => &["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
        "adamax" => &["lr", "betas", "eps", "weight_decay", "maximize"],
        "nadam" => &[
            "lr",
            "betas",
            "eps",
            "weight_decay",
            "momentum_decay",
            "decoupled_weight_decay",
            "maximize",
        ],
        "radam" => &[
            "lr",
            "betas",
            "eps",
            "weight_decay",
            "decoupled_weight_decay",
            "maximize",
        ],
        "adadelta" => &["lr", "rho", "eps", "weight_decay", "maximize"],
        "asgd" => &["lr", "lambd", "alpha", "t0", "weight_decay", "maximize"],
        "rprop" => &["lr", "etas", "step_sizes", "maximize"],
        _ => &["lr", "weight_decay", "maximize"],
    }
}

/// Typed access to an option map whose keys were checked against the optimizer's options.
struct Reader<'a> {
    options: &'a Map<String, Value>,
}

impl<'a> Reader<'a> {
    fn new(name: &'static str, options: &'a Map<String, Value>) -> Result<Self> {
        let known = options_of(name);
        if let Some(key) = options.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(Error::Parse {
                what: "optimizer",
                spec: name.to_string(),
                reason: format!(
                    "option `{key}` does not apply to {name}; it takes: {}",
                    known.join(", ")
                ),
            });
        }
        Ok(Reader { options })
    }

    fn f64(&self, key: &str, default: f64) -> Result<f64> {
        match self.options.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| Error::invalid(key, v, "must be a number")),
        }
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.options.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| Error::invalid(key, v, "must be true or false")),
        }
    }

    fn pair(&self, key: &str, default: (f64, f64)) -> Result<(f64, f64)> {
        let Some(v) = self.options.get(key) else {
            return Ok(default);
        };
        match v.as_array().map(Vec::as_slice) {
            Some([a, b]) => match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => Err(Error::invalid(key, v, "must be a pair of numbers [a, b]")),
            },
            _ => Err(Error::invalid(key, v, "must be a pair of numbers [a, b]")),
        }
    }
}
