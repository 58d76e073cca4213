//! The command-line syntax of schedules: `NAME[:key=value,...]`, joined by `@MILESTONE`.
//! [`ScheduleSpec::parse`] reads it and `Display` prints the canonical form back.

use std::fmt;

use super::{
    Anneal, CyclicMode, CyclicOptions, OneCycleOptions, PlateauMode, PlateauOptions, ScaleMode,
    ScheduleSpec, ThresholdMode,
};
use crate::{Error, Result};

/// Every schedule name with the keys it accepts (required keys first, marked by `!`).
pub(crate) const NAMES: &[(&str, &[&str])] = &[
    ("constant", &["factor", "total_iters"]),
    ("step", &["!step_size", "gamma"]),
    ("multistep", &["!milestones", "gamma"]),
    ("exponential", &["!gamma"]),
    ("cosine", &["!t_max", "eta_min"]),
    ("cosine-restarts", &["!t_0", "t_mult", "eta_min"]),
    ("linear", &["start_factor", "end_factor", "total_iters"]),
    (
        "onecycle",
        &[
            "!max_lr",
            "total_steps",
            "pct_start",
            "anneal_strategy",
            "cycle_momentum",
            "base_momentum",
            "max_momentum",
            "div_factor",
            "final_div_factor",
            "three_phase",
        ],
    ),
    (
        "cyclic",
        &[
            "!base_lr",
            "!max_lr",
            "step_size_up",
            "step_size_down",
            "mode",
            "gamma",
            "scale_mode",
            "cycle_momentum",
            "base_momentum",
            "max_momentum",
        ],
    ),
    ("inv-sqrt", &[]),
    ("polynomial", &["total_iters", "power"]),
    (
        "plateau",
        &[
            "mode",
            "factor",
            "patience",
            "threshold",
            "threshold_mode",
            "cooldown",
            "min_lr",
            "eps",
        ],
    ),
];

fn parse_error(spec: &str, reason: String) -> Error {
    Error::Parse {
        what: "schedule",
        spec: spec.to_string(),
        reason,
    }
}

fn accepted_names() -> String {
    let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
    format!(
        "accepted: {} (or schedules joined by `@MILESTONE`, e.g. `linear:total_iters=5 @5 cosine:t_max=95`)",
        names.join(", ")
    )
}

/// The `key=value` options of one schedule, checked against the keys its name accepts.
pub(crate) struct Options<'a> {
    spec: &'a str,
    name: &'static str,
    keys: &'static [&'static str],
    pairs: Vec<(String, String)>,
}

impl<'a> Options<'a> {
    /// `spec` is the whole text being parsed, for error messages.
    pub(crate) fn new(spec: &'a str, name: &str, pairs: Vec<(String, String)>) -> Result<Self> {
        let Some(&(name, keys)) = NAMES.iter().find(|(n, _)| *n == name) else {
            return Err(parse_error(
                spec,
                format!("unknown schedule `{name}`; {}", accepted_names()),
            ));
        };
        let o = Options {
            spec,
            name,
            keys,
            pairs,
        };
        for (i, (key, _)) in o.pairs.iter().enumerate() {
            if !keys.iter().any(|k| k.trim_start_matches('!') == key) {
                return Err(o.error(format!(
                    "unknown key `{key}` for `{name}`; {}",
                    o.accepted()
                )));
            }
            if o.pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(o.error(format!("key `{key}` is given twice")));
            }
        }
        Ok(o)
    }

    fn accepted(&self) -> String {
        if self.keys.is_empty() {
            return format!("`{}` takes no keys", self.name);
        }
        let list: Vec<String> = self
            .keys
            .iter()
            .map(|k| match k.strip_prefix('!') {
                Some(k) => format!("{k} (required)"),
                None => k.to_string(),
            })
            .collect();
        format!("accepted keys: {}", list.join(", "))
    }

    fn error(&self, reason: String) -> Error {
        parse_error(self.spec, reason)
    }

    fn raw(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` converted by `convert` (which names the expected type), or
    /// `default`; a missing key without default is an error.
    fn get<T>(
        &self,
        key: &str,
        default: Option<T>,
        what: &str,
        convert: impl Fn(&str) -> Option<T>,
    ) -> Result<T> {
        match (self.raw(key), default) {
            (Some(v), _) => {
                convert(v.trim()).ok_or_else(|| self.error(format!("`{key}={v}` is not {what}")))
            }
            (None, Some(d)) => Ok(d),
            (None, None) => Err(self.error(format!(
                "missing required key `{key}` for `{}`; {}",
                self.name,
                self.accepted()
            ))),
        }
    }

    pub(crate) fn f64(&self, key: &str, default: Option<f64>) -> Result<f64> {
        self.get(key, default, "a number", |v| v.parse().ok())
    }

    pub(crate) fn usize(&self, key: &str, default: Option<usize>) -> Result<usize> {
        self.get(key, default, "a non-negative integer", parse_usize)
    }

    pub(crate) fn list(&self, key: &str) -> Result<Vec<usize>> {
        self.get(
            key,
            None,
            "a `;`-separated list of non-negative integers",
            |v| v.split(';').map(|x| parse_usize(x.trim())).collect(),
        )
    }

    pub(crate) fn bool(&self, key: &str, default: bool) -> Result<bool> {
        self.get(key, Some(default), "true or false", |v| match v {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    pub(crate) fn choice<T: Copy>(
        &self,
        key: &str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T> {
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let what = format!("one of {}", names.join(", "));
        self.get(key, Some(default), &what, |v| {
            choices.iter().find(|(n, _)| *n == v).map(|(_, t)| *t)
        })
    }

    /// The spec these options describe.
    pub(crate) fn spec(&self) -> Result<ScheduleSpec> {
        Ok(match self.name {
            "constant" => {
                if self.pairs.is_empty() {
                    ScheduleSpec::NONE
                } else {
                    ScheduleSpec::Constant {
                        factor: self.f64("factor", None)?,
                        total_iters: self.usize("total_iters", None)?,
                    }
                }
            }
            "step" => ScheduleSpec::Step {
                step_size: self.usize("step_size", None)?,
                gamma: self.f64("gamma", Some(0.1))?,
            },
            "multistep" => ScheduleSpec::MultiStep {
                milestones: self.list("milestones")?,
                gamma: self.f64("gamma", Some(0.1))?,
            },
            "exponential" => ScheduleSpec::Exponential {
                gamma: self.f64("gamma", None)?,
            },
            "cosine" => ScheduleSpec::Cosine {
                t_max: self.usize("t_max", None)?,
                eta_min: self.f64("eta_min", Some(0.0))?,
            },
            "cosine-restarts" => ScheduleSpec::CosineRestarts {
                t_0: self.usize("t_0", None)?,
                t_mult: self.usize("t_mult", Some(1))?,
                eta_min: self.f64("eta_min", Some(0.0))?,
            },
            "linear" => ScheduleSpec::Linear {
                start_factor: self.f64("start_factor", Some(1.0 / 3.0))?,
                end_factor: self.f64("end_factor", Some(1.0))?,
                total_iters: self.usize("total_iters", Some(5))?,
            },
            "onecycle" => self.onecycle()?,
            "cyclic" => self.cyclic()?,
            "inv-sqrt" => ScheduleSpec::InvSqrt,
            "polynomial" => ScheduleSpec::Polynomial {
                total_iters: self.usize("total_iters", Some(5))?,
                power: self.f64("power", Some(1.0))?,
            },
            "plateau" => self.plateau()?,
            other => unreachable!("`{other}` is in NAMES but not built"),
        })
    }

    fn onecycle(&self) -> Result<ScheduleSpec> {
        let d = OneCycleOptions::new(self.f64("max_lr", None)?);
        let total_steps = match self.raw("total_steps") {
            Some(_) => Some(self.usize("total_steps", None)?),
            None => None,
        };
        let anneal = [("cos", Anneal::Cos), ("linear", Anneal::Linear)];
        Ok(ScheduleSpec::OneCycle(OneCycleOptions {
            total_steps,
            pct_start: self.f64("pct_start", Some(d.pct_start))?,
            anneal_strategy: self.choice("anneal_strategy", d.anneal_strategy, &anneal)?,
            cycle_momentum: self.bool("cycle_momentum", d.cycle_momentum)?,
            base_momentum: self.f64("base_momentum", Some(d.base_momentum))?,
            max_momentum: self.f64("max_momentum", Some(d.max_momentum))?,
            div_factor: self.f64("div_factor", Some(d.div_factor))?,
            final_div_factor: self.f64("final_div_factor", Some(d.final_div_factor))?,
            three_phase: self.bool("three_phase", d.three_phase)?,
            ..d
        }))
    }

    fn cyclic(&self) -> Result<ScheduleSpec> {
        let d = CyclicOptions::new(self.f64("base_lr", None)?, self.f64("max_lr", None)?);
        let modes = [
            ("triangular", CyclicMode::Triangular),
            ("triangular2", CyclicMode::Triangular2),
            ("exp_range", CyclicMode::ExpRange),
        ];
        let scales = [
            ("cycle", ScaleMode::Cycle),
            ("iterations", ScaleMode::Iterations),
        ];
        let step_size_down = match self.raw("step_size_down") {
            Some(_) => Some(self.usize("step_size_down", None)?),
            None => None,
        };
        let scale_mode = match self.raw("scale_mode") {
            Some(_) => Some(self.choice("scale_mode", ScaleMode::Cycle, &scales)?),
            None => None,
        };
        Ok(ScheduleSpec::Cyclic(CyclicOptions {
            step_size_up: self.usize("step_size_up", Some(d.step_size_up))?,
            step_size_down,
            mode: self.choice("mode", d.mode, &modes)?,
            gamma: self.f64("gamma", Some(d.gamma))?,
            scale_mode,
            cycle_momentum: self.bool("cycle_momentum", d.cycle_momentum)?,
            base_momentum: self.f64("base_momentum", Some(d.base_momentum))?,
            max_momentum: self.f64("max_momentum", Some(d.max_momentum))?,
            ..d
        }))
    }

    fn plateau(&self) -> Result<ScheduleSpec> {
        let d = PlateauOptions::default();
        let modes = [("min", PlateauMode::Min), ("max", PlateauMode::Max)];
        let thresholds = [("rel", ThresholdMode::Rel), ("abs", ThresholdMode::Abs)];
        Ok(ScheduleSpec::Plateau(PlateauOptions {
            mode: self.choice("mode", d.mode, &modes)?,
            factor: self.f64("factor", Some(d.factor))?,
            patience: self.usize("patience", Some(d.patience))?,
            threshold: self.f64("threshold", Some(d.threshold))?,
            threshold_mode: self.choice("threshold_mode", d.threshold_mode, &thresholds)?,
            cooldown: self.usize("cooldown", Some(d.cooldown))?,
            min_lr: self.f64("min_lr", Some(d.min_lr))?,
            eps: self.f64("eps", Some(d.eps))?,
        }))
    }
}

/// A non-negative integer, also written as an integral float (`10.0`, as torch accepts).
fn parse_usize(v: &str) -> Option<usize> {
    v.parse().ok().or_else(|| {
        let x: f64 = v.parse().ok()?;
        (x >= 0.0 && x.fract() == 0.0 && x < usize::MAX as f64).then_some(x as usize)
    })
}

/// Parses one `NAME[:key=value,...]` (no `@`).
fn parse_one(spec: &str, text: &str) -> Result<ScheduleSpec> {
    if text.is_empty() {
        return Err(parse_error(
            spec,
            format!("empty schedule; {}", accepted_names()),
        ));
    }
    if text.contains(char::is_whitespace) {
        return Err(parse_error(
            spec,
            format!(
                "unexpected space in `{text}`: write `NAME:key=value,key=value` without spaces"
            ),
        ));
    }
    let (name, body) = match text.split_once(':') {
        Some((n, b)) => (n, Some(b)),
        None => (text, None),
    };
    let name = if name == "none" { "constant" } else { name };
    let mut pairs = Vec::new();
    for item in body.into_iter().flat_map(|b| b.split(',')) {
        let Some((k, v)) = item.split_once('=') else {
            return Err(parse_error(
                spec,
                format!(
                    "expected `key=value`, found `{item}`{}",
                    if item.trim().parse::<f64>().is_ok() {
                        " (list items are separated by `;`, e.g. milestones=30;80)"
                    } else {
                        ""
                    }
                ),
            ));
        };
        pairs.push((k.to_string(), v.to_string()));
    }
    let spec = Options::new(spec, name, pairs)?.spec()?;
    Ok(spec)
}

impl ScheduleSpec {
    /// Parses the command-line syntax (see the [module docs](super)) and validates the options.
    ///
    /// # Example
    /// ```
    /// use descent::schedule::ScheduleSpec;
    /// let spec = ScheduleSpec::parse("cosine:t_max=100")?;
    /// assert_eq!(spec, ScheduleSpec::Cosine { t_max: 100, eta_min: 0.0 });
    /// assert_eq!(ScheduleSpec::parse(&spec.to_string())?, spec); // `Display` prints it back
    /// // From lr 0.1, down to eta_min = 0 after t_max steps.
    /// let mut schedule = spec.build(0.1, None, 100)?;
    /// assert_eq!(schedule.lr(), 0.1);
    /// for _ in 0..100 {
    ///     schedule.step(0.0);
    /// }
    /// assert!(schedule.lr().abs() < 1e-12);
    /// // t_max is required: the error says so.
    /// assert!(ScheduleSpec::parse("cosine").unwrap_err().to_string().contains("t_max"));
    /// # Ok::<(), descent::Error>(())
    /// ```
    pub fn parse(spec: &str) -> Result<Self> {
        let mut parts = spec.split('@');
        let first = parse_one(spec, parts.next().unwrap_or_default().trim())?;
        let mut schedules = vec![first];
        let mut milestones = Vec::new();
        for part in parts {
            let part = part.trim();
            let (m, rest) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
            let milestone = m.parse().map_err(|_| {
                parse_error(spec, format!("`@{m}` is not a milestone: write `@STEP` with STEP a non-negative integer, then a space and the next schedule"))
            })?;
            milestones.push(milestone);
            schedules.push(parse_one(spec, rest.trim())?);
        }
        let parsed = if milestones.is_empty() {
            schedules.pop().expect("one schedule")
        } else {
            ScheduleSpec::Sequential {
                schedules,
                milestones,
            }
        };
        parsed.validate()?;
        Ok(parsed)
    }
}

impl fmt::Display for ScheduleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleSpec::Constant {
                factor,
                total_iters,
            } => {
                if *self == ScheduleSpec::NONE {
                    write!(f, "constant")
                } else {
                    write!(f, "constant:factor={factor:?},total_iters={total_iters}")
                }
            }
            ScheduleSpec::Step { step_size, gamma } => {
                write!(f, "step:step_size={step_size},gamma={gamma:?}")
            }
            ScheduleSpec::MultiStep { milestones, gamma } => {
                let list: Vec<String> = milestones.iter().map(usize::to_string).collect();
                write!(f, "multistep:milestones={},gamma={gamma:?}", list.join(";"))
            }
            ScheduleSpec::Exponential { gamma } => write!(f, "exponential:gamma={gamma:?}"),
            ScheduleSpec::Cosine { t_max, eta_min } => {
                write!(f, "cosine:t_max={t_max},eta_min={eta_min:?}")
            }
            ScheduleSpec::CosineRestarts { t_0, t_mult, eta_min } => write!(
                f,
                "cosine-restarts:t_0={t_0},t_mult={t_mult},eta_min={eta_min:?}"
            ),
            ScheduleSpec::Linear {
                start_factor,
                end_factor,
                total_iters,
            } => write!(
                f,
                "linear:start_factor={start_factor:?},end_factor={end_factor:?},total_iters={total_iters}"
            ),
            ScheduleSpec::OneCycle(o) => {
                write!(f, "onecycle:max_lr={:?}", o.max_lr)?;
                if let Some(n) = o.total_steps {
                    write!(f, ",total_steps={n}")?;
                }
                write!(
                    f,
                    ",pct_start={:?},anneal_strategy={},cycle_momentum={},base_momentum={:?},max_momentum={:?},div_factor={:?},final_div_factor={:?},three_phase={}",
                    o.pct_start,
                    o.anneal_strategy,
                    o.cycle_momentum,
                    o.base_momentum,
                    o.max_momentum,
                    o.div_factor,
                    o.final_div_factor,
                    o.three_phase
                )
            }
            ScheduleSpec::Cyclic(o) => {
                write!(
                    f,
                    "cyclic:base_lr={:?},max_lr={:?},step_size_up={}",
                    o.base_lr, o.max_lr, o.step_size_up
                )?;
                if let Some(n) = o.step_size_down {
                    write!(f, ",step_size_down={n}")?;
                }
                write!(f, ",mode={},gamma={:?}", o.mode, o.gamma)?;
                if let Some(s) = o.scale_mode {
                    write!(f, ",scale_mode={s}")?;
                }
                write!(
                    f,
                    ",cycle_momentum={},base_momentum={:?},max_momentum={:?}",
                    o.cycle_momentum, o.base_momentum, o.max_momentum
                )
            }
            ScheduleSpec::InvSqrt => write!(f, "inv-sqrt"),
            ScheduleSpec::Polynomial { total_iters, power } => {
                write!(f, "polynomial:total_iters={total_iters},power={power:?}")
            }
            ScheduleSpec::Plateau(o) => write!(
                f,
                "plateau:mode={},factor={:?},patience={},threshold={:?},threshold_mode={},cooldown={},min_lr={:?},eps={:?}",
                o.mode, o.factor, o.patience, o.threshold, o.threshold_mode, o.cooldown, o.min_lr, o.eps
            ),
            ScheduleSpec::Sequential {
                schedules,
                milestones,
            } => {
                for (i, s) in schedules.iter().enumerate() {
                    if i > 0 {
                        match milestones.get(i - 1) {
                            Some(m) => write!(f, " @{m} ")?,
                            None => write!(f, " @? ")?,
                        }
                    }
                    write!(f, "{s}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::str::FromStr for ScheduleSpec {
    type Err = crate::Error;

    /// [`ScheduleSpec::parse`].
    fn from_str(s: &str) -> Result<Self> {
        ScheduleSpec::parse(s)
    }
}
