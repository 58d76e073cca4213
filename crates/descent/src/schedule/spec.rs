//! [`ScheduleSpec`]: a schedule by name and options, as the CLI and the oracle describe it.

use serde::{Deserialize, Serialize};

use super::{
    check, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, CyclicOptions,
    ExponentialLR, InvSqrtLR, LinearLR, MultiStepLR, OneCycleLR, OneCycleOptions, PlateauOptions,
    PolynomialLR, ReduceLROnPlateau, Scheduler, SequentialLR, StepLR,
};
use crate::Result;

/// A learning-rate schedule and its options: parsed from the command line
/// ([`ScheduleSpec::parse`], printed back by `Display`), read from torch's class and option names
/// ([`ScheduleSpec::from_torch`]) and turned into a running [`Scheduler`] by
/// [`ScheduleSpec::build`]. Field names are torch's argument names in snake_case; each
/// variant's schedule type documents the algorithm and the defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name")]
pub enum ScheduleSpec {
    /// [`ConstantLR`]; `factor 1, total_iters 0` is no schedule at all.
    #[serde(rename = "constant")]
    Constant { factor: f64, total_iters: usize },
    /// [`StepLR`].
    #[serde(rename = "step")]
    Step { step_size: usize, gamma: f64 },
    /// [`MultiStepLR`].
    #[serde(rename = "multistep")]
    MultiStep { milestones: Vec<usize>, gamma: f64 },
    /// [`ExponentialLR`].
    #[serde(rename = "exponential")]
    Exponential { gamma: f64 },
    /// [`CosineAnnealingLR`].
    #[serde(rename = "cosine")]
    Cosine { t_max: usize, eta_min: f64 },
    /// [`CosineAnnealingWarmRestarts`].
    #[serde(rename = "cosine-restarts")]
    CosineRestarts {
        t_0: usize,
        t_mult: usize,
        eta_min: f64,
    },
    /// [`LinearLR`].
    #[serde(rename = "linear")]
    Linear {
        start_factor: f64,
        end_factor: f64,
        total_iters: usize,
    },
    /// [`OneCycleLR`].
    #[serde(rename = "onecycle")]
    OneCycle(OneCycleOptions),
    /// [`CyclicLR`].
    #[serde(rename = "cyclic")]
    Cyclic(CyclicOptions),
    /// [`InvSqrtLR`] (torch's `LambdaLR` with `1 / sqrt(epoch + 1)`).
    #[serde(rename = "inv-sqrt")]
    InvSqrt,
    /// [`PolynomialLR`].
    #[serde(rename = "polynomial")]
    Polynomial { total_iters: usize, power: f64 },
    /// [`ReduceLROnPlateau`].
    #[serde(rename = "plateau")]
    Plateau(PlateauOptions),
    /// [`SequentialLR`].
    #[serde(rename = "sequential")]
    Sequential {
        schedules: Vec<ScheduleSpec>,
        milestones: Vec<usize>,
    },
}

impl ScheduleSpec {
    /// No schedule: the optimizer's lr throughout.
    pub const NONE: ScheduleSpec = ScheduleSpec::Constant {
        factor: 1.0,
        total_iters: 0,
    };

    /// The command-line name (`cosine`, `onecycle`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            ScheduleSpec::Constant { .. } => "constant",
            ScheduleSpec::Step { .. } => "step",
            ScheduleSpec::MultiStep { .. } => "multistep",
            ScheduleSpec::Exponential { .. } => "exponential",
            ScheduleSpec::Cosine { .. } => "cosine",
            ScheduleSpec::CosineRestarts { .. } => "cosine-restarts",
            ScheduleSpec::Linear { .. } => "linear",
            ScheduleSpec::OneCycle(_) => "onecycle",
            ScheduleSpec::Cyclic(_) => "cyclic",
            ScheduleSpec::InvSqrt => "inv-sqrt",
            ScheduleSpec::Polynomial { .. } => "polynomial",
            ScheduleSpec::Plateau(_) => "plateau",
            ScheduleSpec::Sequential { .. } => "sequential",
        }
    }

    /// Whether [`Scheduler::step`] needs the metric (the validation loss) to be meaningful.
    pub fn needs_metric(&self) -> bool {
        matches!(self, ScheduleSpec::Plateau(_))
    }

    /// Checks every option against its rule; the error names the option.
    pub fn validate(&self) -> Result<()> {
        match self {
            ScheduleSpec::Constant { factor, .. } => ConstantLR::validate(*factor),
            ScheduleSpec::Step { step_size, gamma } => StepLR::validate(*step_size, *gamma),
            ScheduleSpec::MultiStep { milestones, gamma } => {
                MultiStepLR::validate(milestones, *gamma)
            }
            ScheduleSpec::Exponential { gamma } => super::step::check_gamma(*gamma),
            ScheduleSpec::Cosine { t_max, eta_min } => {
                CosineAnnealingLR::validate(*t_max, *eta_min)
            }
            ScheduleSpec::CosineRestarts {
                t_0,
                t_mult,
                eta_min,
            } => CosineAnnealingWarmRestarts::validate(*t_0, *t_mult, *eta_min),
            ScheduleSpec::Linear {
                start_factor,
                end_factor,
                ..
            } => LinearLR::validate(*start_factor, *end_factor),
            ScheduleSpec::OneCycle(o) => o.validate(),
            ScheduleSpec::Cyclic(o) => o.validate(),
            ScheduleSpec::InvSqrt => Ok(()),
            ScheduleSpec::Polynomial { power, .. } => PolynomialLR::validate(*power),
            ScheduleSpec::Plateau(o) => o.validate(),
            ScheduleSpec::Sequential {
                schedules,
                milestones,
            } => SequentialLR::validate(schedules, milestones),
        }
    }

    /// Builds the running schedule for an optimizer with learning rate `base_lr` and momentum
    /// (or beta1) `base_momentum` (`None` if it has neither), in a run of `total_steps`
    /// schedule steps (one-cycle's length when its `total_steps` is not given).
    pub fn build(
        &self,
        base_lr: f64,
        base_momentum: Option<f64>,
        total_steps: usize,
    ) -> Result<Box<dyn Scheduler>> {
        check(
            "lr",
            base_lr,
            base_lr.is_finite() && base_lr >= 0.0,
            "must be finite and >= 0",
        )?;
        match self {
            ScheduleSpec::OneCycle(o) => Ok(Box::new(OneCycleLR::new(
                o.clone(),
                base_momentum,
                total_steps,
            )?)),
            ScheduleSpec::Cyclic(o) => Ok(Box::new(CyclicLR::new(o.clone(), base_momentum)?)),
            ScheduleSpec::Plateau(o) => Ok(Box::new(ReduceLROnPlateau::new(base_lr, o.clone())?)),
            ScheduleSpec::Sequential {
                schedules,
                milestones,
            } => Ok(Box::new(SequentialLR::new(
                base_lr,
                schedules.clone(),
                milestones.clone(),
            )?)),
            other => other.build_part(base_lr, false),
        }
    }

    /// Builds a schedule that needs neither momentum nor run length (a part of a sequence).
    /// `at_milestone`: started by [`SequentialLR`] at a milestone, where torch sets the lr from
    /// the schedule's closed form at epoch 0 instead of running its first step.
    pub(crate) fn build_part(
        &self,
        base_lr: f64,
        at_milestone: bool,
    ) -> Result<Box<dyn Scheduler>> {
        Ok(match *self {
            ScheduleSpec::Constant {
                factor,
                total_iters,
            } => {
                let s = ConstantLR::new(base_lr, factor, total_iters)?;
                Box::new(if at_milestone {
                    s.at_milestone(base_lr)
                } else {
                    s
                })
            }
            ScheduleSpec::Step { step_size, gamma } => {
                Box::new(StepLR::new(base_lr, step_size, gamma)?)
            }
            ScheduleSpec::MultiStep {
                ref milestones,
                gamma,
            } => Box::new(MultiStepLR::new(base_lr, milestones.clone(), gamma)?),
            ScheduleSpec::Exponential { gamma } => Box::new(ExponentialLR::new(base_lr, gamma)?),
            ScheduleSpec::Cosine { t_max, eta_min } => {
                let s = CosineAnnealingLR::new(base_lr, t_max, eta_min)?;
                Box::new(if at_milestone { s.at_milestone() } else { s })
            }
            ScheduleSpec::CosineRestarts {
                t_0,
                t_mult,
                eta_min,
            } => Box::new(CosineAnnealingWarmRestarts::new(
                base_lr, t_0, t_mult, eta_min,
            )?),
            ScheduleSpec::Linear {
                start_factor,
                end_factor,
                total_iters,
            } => Box::new(LinearLR::new(
                base_lr,
                start_factor,
                end_factor,
                total_iters,
            )?),
            ScheduleSpec::InvSqrt => Box::new(InvSqrtLR::new(base_lr)),
            ScheduleSpec::Polynomial { total_iters, power } => {
                Box::new(PolynomialLR::new(base_lr, total_iters, power)?)
            }
            ScheduleSpec::OneCycle(_)
            | ScheduleSpec::Cyclic(_)
            | ScheduleSpec::Plateau(_)
            | ScheduleSpec::Sequential { .. } => {
                return Err(crate::Error::invalid(
                    "schedules",
                    self.name(),
                    "plateau, onecycle, cyclic and sequences cannot be part of a sequence",
                ))
            }
        })
    }

    /// Likely mistakes for a run of `total_steps` schedule steps, one sentence each.
    pub fn warnings(&self, total_steps: usize) -> Vec<String> {
        let mut w = Vec::new();
        let n = total_steps;
        match self {
            ScheduleSpec::Constant {
                factor,
                total_iters,
            } if *factor != 1.0 && *total_iters >= n => w.push(format!(
                "constant: total_iters={total_iters} >= the run's {n} steps: the lr stays at factor={factor:?} times the base lr for the whole run"
            )),
            ScheduleSpec::Step { step_size, .. } if *step_size >= n => w.push(format!(
                "step: step_size={step_size} >= the run's {n} steps: the lr never decays"
            )),
            ScheduleSpec::MultiStep { milestones, .. } => {
                let mut late: Vec<usize> = milestones.iter().copied().filter(|&m| m >= n).collect();
                late.dedup();
                for m in late {
                    w.push(format!(
                        "multistep: milestone {m} is at or beyond the run's {n} steps: it is never reached"
                    ));
                }
            }
            ScheduleSpec::Exponential { gamma } if *gamma > 1.0 => w.push(format!(
                "exponential: gamma={gamma:?} > 1: the lr grows every step"
            )),
            ScheduleSpec::Cosine { t_max, .. } if t_max + 1 < n => w.push(format!(
                "cosine: t_max={t_max} is shorter than the run's {n} steps: the lr reaches eta_min at step {t_max} and then climbs back up (torch's CosineAnnealingLR does not stop); use t_max={n}"
            )),
            ScheduleSpec::CosineRestarts { t_0, .. } if *t_0 >= n => w.push(format!(
                "cosine-restarts: t_0={t_0} >= the run's {n} steps: there is no restart"
            )),
            ScheduleSpec::Linear { total_iters, .. } if *total_iters > n => w.push(format!(
                "linear: total_iters={total_iters} is longer than the run's {n} steps: the warm-up never finishes"
            )),
            ScheduleSpec::OneCycle(o) => match o.total_steps {
                Some(t) if t < n => w.push(format!(
                    "onecycle: total_steps={t} < the run's {n} steps: the cycle ends early and the lr stays at its final value (torch raises an error)"
                )),
                Some(t) if t > n => w.push(format!(
                    "onecycle: total_steps={t} > the run's {n} steps: the run stops before the lr has annealed"
                )),
                _ => {}
            },
            ScheduleSpec::Cyclic(o) => {
                if let Some(given) = o.scale_mode.filter(|&s| s != o.mode.scale_mode()) {
                    w.push(format!(
                        "cyclic: scale_mode={given} is ignored with mode={}, which scales per {} (torch's CyclicLR sets the scale mode of every built-in mode)",
                        o.mode,
                        match o.mode.scale_mode() {
                            super::ScaleMode::Cycle => "cycle",
                            super::ScaleMode::Iterations => "iteration",
                        }
                    ));
                }
                if o.step_size_up >= n {
                    w.push(format!(
                        "cyclic: step_size_up={} >= the run's {n} steps: the lr only rises (torch's default 2000 counts batches: schedule per step, or choose a shorter step_size_up)",
                        o.step_size_up
                    ));
                }
            }
            ScheduleSpec::Polynomial { total_iters, .. } if *total_iters < n => w.push(format!(
                "polynomial: total_iters={total_iters} < the run's {n} steps: the lr is 0 for the last {} steps",
                n - total_iters
            )),
            ScheduleSpec::Plateau(o) if o.patience >= n => w.push(format!(
                "plateau: patience={} >= the run's {n} steps: the lr is never reduced",
                o.patience
            )),
            ScheduleSpec::Sequential {
                schedules,
                milestones,
            } => {
                for (i, s) in schedules.iter().enumerate() {
                    let start = if i == 0 { Some(0) } else { milestones.get(i - 1).copied() };
                    let Some(start) = start else { break };
                    if start >= n {
                        w.push(format!(
                            "sequential: milestone {start} is at or beyond the run's {n} steps: `{s}` never runs"
                        ));
                        break;
                    }
                    let end = milestones.get(i).map_or(n, |&m| m.min(n));
                    w.extend(s.warnings(end.saturating_sub(start)));
                }
            }
            _ => {}
        }
        w
    }
}
