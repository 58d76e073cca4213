//! Building optimizers by name from an option map (torch's argument names), for the CLI, config
//! files and the oracle harness. Everything here is derived from the optimizers' own
//! [`Definition`]s, visited in one list ([`visit_all`]).

use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    did_you_mean, Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, Definition, DynOptimizer,
    GroupOptions, GroupRange, Grouped, NAdam, Optimizer, OptimizerInfo, OptionValues, RAdam,
    RmsProp, Rprop, Sgd, SignDescent,
};
use crate::{Error, Float, Result};

/// Something done with an optimizer's definition; [`visit_all`] stops at the first `Some`.
trait Visit {
    type Output;
    fn visit<O: Optimizer>(&mut self, definition: &Definition<O>) -> Option<Self::Output>;
}

/// Visits every optimizer definition, in the order `--help` lists them. This is the one list
/// of the optimizers that can be built by name.
fn visit_all<V: Visit>(v: &mut V) -> Option<V::Output> {
    v.visit(&Sgd::DEFINITION)
        .or_else(|| v.visit(&Sgd::MOMENTUM_EMA))
        .or_else(|| v.visit(&Adagrad::DEFINITION))
        .or_else(|| v.visit(&RmsProp::DEFINITION))
        .or_else(|| v.visit(&Adam::DEFINITION))
        .or_else(|| v.visit(&AdamW::DEFINITION))
        .or_else(|| v.visit(&Adamax::DEFINITION))
        .or_else(|| v.visit(&NAdam::DEFINITION))
        .or_else(|| v.visit(&RAdam::DEFINITION))
        .or_else(|| v.visit(&Adadelta::DEFINITION))
        .or_else(|| v.visit(&Asgd::DEFINITION))
        .or_else(|| v.visit(&Rprop::DEFINITION))
        .or_else(|| v.visit(&SignDescent::DEFINITION))
}

/// Every optimizer, as `--help` lists it: name, torch class, summary, and options with their
/// defaults (`Display` renders one as a help block).
pub fn describe() -> &'static [OptimizerInfo] {
    static INFOS: OnceLock<Vec<OptimizerInfo>> = OnceLock::new();
    INFOS.get_or_init(|| {
        struct Collect(Vec<OptimizerInfo>);
        impl Visit for Collect {
            type Output = ();
            fn visit<O: Optimizer>(&mut self, d: &Definition<O>) -> Option<()> {
                self.0.push(d.info());
                None
            }
        }
        let mut all = Collect(Vec::new());
        visit_all(&mut all);
        all.0
    })
}

/// The command-line names, in the order `--help` lists them.
pub fn names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| describe().iter().map(|i| i.name).collect())
}

/// An optimizer named with its options, e.g. `adam` with `{"lr": 0.01, "betas": [0.8, 0.99]}`.
///
/// Names are the command-line names ([`names`]) or torch's class names (`SGD`, `Adam`, ...).
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
        Ok(info_of(&self.name)?.name)
    }

    /// The learning rate: `options["lr"]`, else the optimizer's torch default.
    pub fn lr(&self) -> Result<f64> {
        OptionValues::new(info_of(&self.name)?, &self.options)?.lr()
    }

    /// The options `name` takes (a command-line or torch name), `lr` first, for `--help` and
    /// errors.
    pub fn known_options(name: &str) -> Result<&'static [&'static str]> {
        static KEYS: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            describe()
                .iter()
                .map(|i| i.all_options().iter().map(|o| o.name).collect())
                .collect()
        });
        let info = info_of(name)?;
        let i = describe()
            .iter()
            .position(|d| d.name == info.name)
            .expect("info_of returns a listed optimizer");
        Ok(&keys[i])
    }

    /// Builds the optimizer over the given parameter groups, after validating every option
    /// (the learning rate and each group's weight-decay override included).
    pub fn build<F: Float>(
        &self,
        groups: Vec<(GroupRange, GroupOptions)>,
    ) -> Result<Box<dyn DynOptimizer<F>>> {
        let info = info_of(&self.name)?;
        let values = OptionValues::new(info, &self.options)?;
        let mut build = Build {
            name: info.name,
            values,
            groups: Some(groups),
            element: PhantomData::<F>,
        };
        visit_all(&mut build).expect("every listed optimizer has a definition")
    }
}

/// The [`Visit`] that builds the optimizer named `name` from `values`, in precision `F`.
struct Build<'a, F> {
    name: &'static str,
    values: OptionValues<'a>,
    groups: Option<Vec<(GroupRange, GroupOptions)>>,
    element: PhantomData<F>,
}

impl<F: Float> Visit for Build<'_, F> {
    type Output = Result<Box<dyn DynOptimizer<F>>>;

    fn visit<O: Optimizer>(&mut self, definition: &Definition<O>) -> Option<Self::Output> {
        if definition.name != self.name {
            return None;
        }
        let groups = self.groups.take().expect("one definition per name");
        Some((|| {
            let lr = self.values.lr()?;
            let config = (definition.config)(&self.values)?;
            self.values.check_all_read();
            grouped(config, lr, groups)
        })())
    }
}

/// The optimizer called `name`: a command-line name or a torch class name.
fn info_of(name: &str) -> Result<OptimizerInfo> {
    let all = describe();
    if let Some(info) = all
        .iter()
        .find(|i| i.name == name || i.torch_name == Some(name))
    {
        return Ok(*info);
    }
    let candidates: Vec<&str> = all
        .iter()
        .map(|i| i.name)
        .chain(all.iter().filter_map(|i| i.torch_name))
        .collect();
    let hint = did_you_mean(name, &candidates)
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    let torch: Vec<&str> = all.iter().filter_map(|i| i.torch_name).collect();
    Err(Error::Parse {
        what: "optimizer",
        spec: name.to_string(),
        reason: format!(
            "unknown optimizer; {hint}known: {} (or torch's class names: {})",
            names().join(", "),
            torch.join(", ")
        ),
    })
}
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
