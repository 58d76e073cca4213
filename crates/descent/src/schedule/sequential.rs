//! One schedule after another: torch's `SequentialLR`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state;
use super::step::{check_ordered, Order};
use super::{check, ScheduleSpec, Scheduler};
use crate::Result;

/// Runs `schedules[0]` until `milestones[0]`, then `schedules[1]` restarted at its epoch 0,
/// and so on, as `torch.optim.lr_scheduler.SequentialLR`.
///
/// # Algorithm
/// ```text
/// t <- t + 1;  i = number of milestones <= t
/// t == milestones[i-1]:  schedules[i] restarts at its epoch 0 (torch's closed form, from base_lr)
/// otherwise:             schedules[i].step()
/// ```
/// Every schedule counts from the base lr, not from where the previous one stopped.
/// `plateau`, `onecycle` and `cyclic` cannot be part of a sequence (torch rejects the first;
/// the others rewrite the optimizer's initial lr).
/// # Defaults
/// schedules and milestones required; milestones strictly increasing and >= 1, one fewer than
/// schedules.
/// # Reference
/// `torch.optim.lr_scheduler.SequentialLR.step` (PyTorch 2.9).
#[derive(Debug)]
pub struct SequentialLR {
    pub schedules: Vec<ScheduleSpec>,
    pub milestones: Vec<usize>,
    base_lr: f64,
    active: Box<dyn Scheduler>,
    state: SequentialState,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct SequentialState {
    last_epoch: usize,
    index: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    last_epoch: usize,
    index: usize,
    active: Value,
}

impl SequentialLR {
    pub fn new(base_lr: f64, schedules: Vec<ScheduleSpec>, milestones: Vec<usize>) -> Result<Self> {
        Self::validate(&schedules, &milestones)?;
        let active = schedules[0].build_part(base_lr, false)?;
        // Build every part once so that a bad one fails now, not at its milestone.
        for s in &schedules[1..] {
            s.build_part(base_lr, true)?;
        }
        Ok(SequentialLR {
            schedules,
            milestones,
            base_lr,
            active,
            state: SequentialState {
                last_epoch: 0,
                index: 0,
            },
        })
    }

    pub(crate) fn validate(schedules: &[ScheduleSpec], milestones: &[usize]) -> Result<()> {
        check(
            "schedules",
            schedules.len(),
            schedules.len() >= 2,
            "a sequence needs at least two schedules",
        )?;
        check(
            "milestones",
            milestones.len(),
            milestones.len() + 1 == schedules.len(),
            &format!(
                "needs one milestone between each two of the {} schedules",
                schedules.len()
            ),
        )?;
        check_ordered("milestones", milestones, 1, Order::Strict)?;
        for s in schedules {
            let name = s.name();
            check(
                "schedules",
                name,
                !matches!(
                    s,
                    ScheduleSpec::Plateau(_)
                        | ScheduleSpec::OneCycle(_)
                        | ScheduleSpec::Cyclic(_)
                        | ScheduleSpec::Sequential { .. }
                ),
                "plateau, onecycle, cyclic and sequences cannot be part of a sequence",
            )?;
            s.validate()?;
        }
        Ok(())
    }
}

impl Scheduler for SequentialLR {
    fn lr(&self) -> f64 {
        self.active.lr()
    }
    fn momentum(&self) -> Option<f64> {
        self.active.momentum()
    }
    fn step(&mut self, metric: f64) {
        self.state.last_epoch += 1;
        let t = self.state.last_epoch;
        let index = self.milestones.partition_point(|&m| m <= t);
        if index > 0 && self.milestones[index - 1] == t {
            self.active = self.schedules[index]
                .build_part(self.base_lr, true)
                .expect("validated when the sequence was built");
            self.state.index = index;
        } else {
            self.active.step(metric);
        }
    }
    fn save_state(&self) -> Value {
        let saved = Saved {
            last_epoch: self.state.last_epoch,
            index: self.state.index,
            active: self.active.save_state(),
        };
        state::save("sequential", &saved)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        let saved: Saved = state::load("sequential", value)?;
        let spec = self.schedules.get(saved.index).ok_or_else(|| {
            crate::Error::State(format!(
                "sequence state names schedule {} of {}",
                saved.index,
                self.schedules.len()
            ))
        })?;
        let mut active = spec.build_part(self.base_lr, saved.index > 0)?;
        active.load_state(&saved.active)?;
        self.active = active;
        self.state = SequentialState {
            last_epoch: saved.last_epoch,
            index: saved.index,
        };
        Ok(())
    }
}
