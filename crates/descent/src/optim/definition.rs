//! What an optimizer takes by name: its [`Definition`] (command-line name, torch class, default
//! learning rate, options with torch's names, defaults and help) and the typed reader
//! ([`OptionValues`]) its config is built from.
//!
//! Each optimizer's file states its definition (`Optimizer::DEFINITION`); the list of names, the
//! spec parser, the key checks and the `--help` listing ([`super::describe`]) are all derived
//! from those definitions, so an option is added in exactly one place.

use std::cell::Cell;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{Error, Result};

/// An option's default value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OptionValue {
    Float(f64),
    Bool(bool),
    Pair(f64, f64),
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Float(x) => write!(f, "{x:?}"),
            OptionValue::Bool(b) => write!(f, "{b}"),
            OptionValue::Pair(a, b) => write!(f, "({a:?}, {b:?})"),
        }
    }
}

/// One option: torch's argument name, torch's default (whose variant is the option's type) and
/// one line of help.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OptionInfo {
    pub name: &'static str,
    pub default: OptionValue,
    pub help: &'static str,
}

impl OptionInfo {
    /// A number (JSON number).
    pub const fn float(name: &'static str, default: f64, help: &'static str) -> Self {
        OptionInfo {
            name,
            default: OptionValue::Float(default),
            help,
        }
    }

    /// A switch (JSON `true`/`false`).
    pub const fn bool(name: &'static str, default: bool, help: &'static str) -> Self {
        OptionInfo {
            name,
            default: OptionValue::Bool(default),
            help,
        }
    }

    /// A pair of numbers (JSON `[a, b]`), such as `betas`.
    pub const fn pair(name: &'static str, default: (f64, f64), help: &'static str) -> Self {
        OptionInfo {
            name,
            default: OptionValue::Pair(default.0, default.1),
            help,
        }
    }
}

/// An optimizer as the command line and `--help` know it (the non-generic part of a
/// [`Definition`]), as [`super::describe`] returns it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OptimizerInfo {
    /// The command-line name (`sgd`, `momentum-ema`, ...).
    pub name: &'static str,
    /// The `torch.optim` class this equals (`SGD`, ...), also accepted as a name; `None` for
    /// optimizers torch does not have.
    pub torch_name: Option<&'static str>,
    /// One line saying what it is.
    pub summary: &'static str,
    /// torch's default learning rate.
    pub default_lr: f64,
    /// Every option besides `lr`, in torch's argument order.
    pub options: &'static [OptionInfo],
}

impl OptimizerInfo {
    /// `lr` (with this optimizer's default), then [`OptimizerInfo::options`].
    pub fn all_options(&self) -> Vec<OptionInfo> {
        let lr = OptionInfo::float("lr", self.default_lr, "learning rate");
        std::iter::once(lr)
            .chain(self.options.iter().copied())
            .collect()
    }
}

/// `--help`-style: a header line, then one line per option with its default.
impl fmt::Display for OptimizerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.torch_name {
            Some(t) => writeln!(f, "{} (torch.optim.{t}): {}", self.name, self.summary)?,
            None => writeln!(f, "{} (not in torch): {}", self.name, self.summary)?,
        }
        for o in self.all_options() {
            let setting = format!("{}={}", o.name, o.default);
            writeln!(f, "  {setting:<34} {}", o.help)?;
        }
        Ok(())
    }
}

/// How an optimizer is named and configured: what [`OptimizerInfo`] says, plus `config`, which
/// builds the config from the option map (every option it reads must be listed in `options`,
/// and every listed option must be read).
pub struct Definition<O> {
    pub name: &'static str,
    pub torch_name: Option<&'static str>,
    pub summary: &'static str,
    pub default_lr: f64,
    pub options: &'static [OptionInfo],
    pub config: fn(&OptionValues) -> Result<O>,
}

impl<O> Definition<O> {
    /// The non-generic part, for listings and the key checks.
    pub const fn info(&self) -> OptimizerInfo {
        OptimizerInfo {
            name: self.name,
            torch_name: self.torch_name,
            summary: self.summary,
            default_lr: self.default_lr,
            options: self.options,
        }
    }
}

/// The option map of one optimizer, its keys checked against the definition: typed access,
/// with the definition's default for a key left out.
pub struct OptionValues<'a> {
    info: OptimizerInfo,
    given: &'a Map<String, Value>,
    /// Bit `i` set once `info.options[i]` has been read (see [`OptionValues::check_all_read`]).
    read: Cell<u64>,
}

impl<'a> OptionValues<'a> {
    /// Checks every key of `given` against `lr` and the optimizer's options.
    pub(crate) fn new(info: OptimizerInfo, given: &'a Map<String, Value>) -> Result<Self> {
        let keys: Vec<&str> = info.all_options().iter().map(|o| o.name).collect();
        if let Some(key) = given.keys().find(|k| !keys.contains(&k.as_str())) {
            let hint = super::did_you_mean(key, &keys)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
            return Err(Error::Parse {
                what: "optimizer",
                spec: info.name.to_string(),
                reason: format!(
                    "option `{key}` does not apply to {}; it takes: {}{hint}",
                    info.name,
                    keys.join(", ")
                ),
            });
        }
        assert!(info.options.len() <= 64, "at most 64 options per optimizer");
        Ok(OptionValues {
            info,
            given,
            read: Cell::new(0),
        })
    }

    /// The learning rate: `lr` if given, else the optimizer's default.
    pub(crate) fn lr(&self) -> Result<f64> {
        match self.given.get("lr") {
            None => Ok(self.info.default_lr),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| Error::invalid("lr", v, "must be a number")),
        }
    }

    /// A number option.
    pub fn float(&self, key: &str) -> Result<f64> {
        let OptionValue::Float(default) = self.default(key) else {
            panic!(
                "{} reads `{key}` as a number; it is listed as another type",
                self.info.name
            );
        };
        match self.given.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| Error::invalid(key, v, "must be a number")),
        }
    }

    /// A switch.
    pub fn bool(&self, key: &str) -> Result<bool> {
        let OptionValue::Bool(default) = self.default(key) else {
            panic!(
                "{} reads `{key}` as a switch; it is listed as another type",
                self.info.name
            );
        };
        match self.given.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| Error::invalid(key, v, "must be true or false")),
        }
    }

    /// A pair of numbers.
    pub fn pair(&self, key: &str) -> Result<(f64, f64)> {
        let OptionValue::Pair(a, b) = self.default(key) else {
            panic!(
                "{} reads `{key}` as a pair; it is listed as another type",
                self.info.name
            );
        };
        let Some(v) = self.given.get(key) else {
            return Ok((a, b));
        };
        match v.as_array().map(Vec::as_slice) {
            Some([a, b]) => match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => Err(Error::invalid(key, v, "must be a pair of numbers [a, b]")),
            },
            _ => Err(Error::invalid(key, v, "must be a pair of numbers [a, b]")),
        }
    }

    /// The listed default of `key`, marking it read. Reading an unlisted key is a bug in the
    /// optimizer's definition, not a user error.
    fn default(&self, key: &str) -> OptionValue {
        let Some(i) = self.info.options.iter().position(|o| o.name == key) else {
            panic!(
                "{}'s config reads `{key}`, which its definition does not list",
                self.info.name
            );
        };
        self.read.set(self.read.get() | 1 << i);
        self.info.options[i].default
    }

    /// Panics unless the config read every listed option (a listed option that is silently
    /// ignored is a bug in the definition).
    pub(crate) fn check_all_read(&self) {
        for (i, o) in self.info.options.iter().enumerate() {
            assert!(
                self.read.get() & 1 << i != 0,
                "{} lists option `{}` but its config does not read it",
                self.info.name,
                o.name
            );
        }
    }
}
