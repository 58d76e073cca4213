//! Learning-rate schedules, equal to `torch.optim.lr_scheduler` step for step.
//!
//! A schedule owns the current learning rate. The protocol is PyTorch's:
//! ```text
//! let mut s = spec.build(base_lr, momentum, steps)?;   // s.lr() is the lr of the first update
//! for i in 0..steps { optimizer.step(s.lr(), ..); s.step(metric); }
//! ```
//! Schedules that torch computes recursively (`lr_t` from `lr_{t-1}`) copy that recurrence so
//! that results agree to the last bits.
//!
//! # Command-line syntax
//! A schedule is written `NAME[:key=value,key=value...]`; list values are separated by `;`;
//! schedules joined by `@MILESTONE` run one after another (torch's `SequentialLR`):
//! ```text
//! constant                                    no schedule: the optimizer's lr throughout
//! constant:factor=0.5,total_iters=10          ConstantLR: lr*factor for 10 steps, then lr
//! step:step_size=30,gamma=0.1                 StepLR: multiply by gamma every 30 steps
//! multistep:milestones=30;80,gamma=0.1        MultiStepLR: multiply by gamma at 30 and 80
//!                                             (a milestone listed twice: by gamma^2 there)
//! exponential:gamma=0.95                      ExponentialLR: multiply by gamma every step
//! cosine:t_max=100,eta_min=0.001              CosineAnnealingLR (climbs back up after t_max)
//! cosine-restarts:t_0=10,t_mult=2             CosineAnnealingWarmRestarts
//! linear:start_factor=0.1,total_iters=5       LinearLR (e.g. warm-up)
//! onecycle:max_lr=0.1,anneal_strategy=linear  OneCycleLR (total_steps defaults to the run)
//! cyclic:base_lr=0.001,max_lr=0.1,step_size_up=20,mode=triangular2
//!                                             CyclicLR (replaces the optimizer's lr; momentum
//!                                             cycles the other way)
//! inv-sqrt                                    LambdaLR with factor 1/sqrt(epoch+1)
//! polynomial:total_iters=100,power=2          PolynomialLR
//! plateau:mode=min,factor=0.5,patience=3      ReduceLROnPlateau on the validation loss
//! linear:start_factor=0.1,total_iters=5 @5 cosine:t_max=95
//!                                             linear warm-up, then cosine from step 5
//! ```
//! Keys are torch's argument names in snake_case (`t_max`, `t_0`, `t_mult`, `eta_min`); every
//! key but the required ones has torch's default. [`ScheduleSpec`] parses, prints, validates,
//! warns about likely mistakes and builds a [`Scheduler`].

mod constant;
mod cosine;
mod cyclic;
mod exponential;
mod inv_sqrt;
mod linear;
mod onecycle;
mod plateau;
mod polynomial;
mod sequential;
mod spec;
mod state;
mod step;
mod syntax;
mod torch;

pub use constant::{Constant, ConstantLR};
pub use cosine::{CosineAnnealingLR, CosineAnnealingWarmRestarts};
pub use cyclic::{CyclicLR, CyclicMode, CyclicOptions, ScaleMode};
pub use exponential::ExponentialLR;
pub use inv_sqrt::InvSqrtLR;
pub use linear::LinearLR;
pub use onecycle::{Anneal, OneCycleLR, OneCycleOptions};
pub use plateau::{PlateauMode, PlateauOptions, ReduceLROnPlateau, ThresholdMode};
pub use polynomial::PolynomialLR;
pub use sequential::SequentialLR;
pub use spec::ScheduleSpec;
pub use step::{MultiStepLR, StepLR};

use std::fmt::Debug;

use crate::Result;

/// A learning-rate schedule (and, for one-cycle and cyclic, a momentum schedule).
pub trait Scheduler: Send + Debug {
    /// The learning rate for the next optimizer step.
    fn lr(&self) -> f64;

    /// The momentum (or Adam's beta1) for the next step, for schedules that cycle it.
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Advances one epoch (or step). `metric` drives `ReduceLROnPlateau`; others ignore it.
    fn step(&mut self, metric: f64);

    /// Everything needed to continue exactly, for checkpoints. Floats are stored as their
    /// shortest round-trip text (`"0.1"`, `"inf"`), so a restored schedule continues
    /// bit-identically whatever the JSON reader does with numbers.
    fn save_state(&self) -> serde_json::Value;

    /// Restores what [`Scheduler::save_state`] wrote, into a schedule built from the same spec.
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()>;
}

/// Checks a schedule option with a predicate: the error names the option and the rule.
pub(crate) fn check(name: &str, value: impl ToString, ok: bool, rule: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(crate::Error::invalid(name, value, rule))
    }
}
