//! Parameter groups: contiguous ranges of the flat buffer, each with its own config and state.

use serde::{Deserialize, Serialize};

use super::{DynOptimizer, GroupRange, Optimizer};
use crate::{Error, Float, Result};

/// What a parameter group may override (as a torch `param_group` dict does).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupOptions {
    /// Replaces the optimizer's `weight_decay` for this group (e.g. 0 for biases).
    pub weight_decay: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
struct Group<O: Optimizer, F: Float> {
    range: GroupRange,
    config: O,
    state: O::State<F>,
}

/// An optimizer applied group by group to one flat parameter buffer.
///
/// Every optimizer here is element-wise, so stepping each group's sub-slice with its own
/// config equals torch stepping its `param_groups` one after another.
#[derive(Clone, Debug)]
pub struct Grouped<O: Optimizer, F: Float> {
    groups: Vec<Group<O, F>>,
}

impl<O: Optimizer, F: Float> Grouped<O, F> {
    /// One group covering `range`.
    pub fn new(config: O, range: GroupRange) -> Self {
        Self::with_groups(config, vec![(range, GroupOptions::default())])
    }

    /// Several groups; each range gets `config` with its overrides applied.
    pub fn with_groups(config: O, groups: Vec<(GroupRange, GroupOptions)>) -> Self {
        let groups = groups
            .into_iter()
            .map(|(range, options)| {
                let mut c = config.clone();
                if let Some(wd) = options.weight_decay {
                    c.set_weight_decay(wd);
                }
                Group {
                    range,
                    config: c,
                    state: O::State::<F>::default(),
                }
            })
            .collect();
        Grouped { groups }
    }

    /// The config of the first group (the optimizer's own settings).
    pub fn config(&self) -> &O {
        &self.groups[0].config
    }

    /// The state of group `i`.
    pub fn state(&self, i: usize) -> &O::State<F> {
        &self.groups[i].state
    }
}

impl<O: Optimizer, F: Float> DynOptimizer<F> for Grouped<O, F> {
    fn name(&self) -> &'static str {
        O::NAME
    }

    fn step(&mut self, lr: f64, params: &mut [F], grads: &[F]) {
        for g in &mut self.groups {
            let r = g.range.clone();
            g.config
                .step(lr, &mut params[r.clone()], &grads[r], &mut g.state);
        }
    }

    fn momentum(&self) -> Option<f64> {
        self.groups.first().and_then(|g| g.config.momentum())
    }

    fn set_momentum(&mut self, momentum: f64) {
        for g in &mut self.groups {
            g.config.set_momentum(momentum);
        }
    }

    fn averaged(&self) -> Option<Vec<F>> {
        let mut out = Vec::new();
        for g in &self.groups {
            out.extend_from_slice(O::averaged(&g.state)?);
        }
        Some(out)
    }

    fn save_state(&self) -> serde_json::Value {
        serde_json::to_value(&self.groups).expect("optimizer state serializes")
    }

    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        let groups: Vec<Group<O, F>> = serde_json::from_value(state.clone())
            .map_err(|e| Error::State(format!("optimizer `{}` state: {e}", O::NAME)))?;
        if groups.len() != self.groups.len()
            || groups
                .iter()
                .zip(&self.groups)
                .any(|(a, b)| a.range != b.range)
        {
            return Err(Error::State(format!(
                "optimizer `{}` state has a different parameter layout",
                O::NAME
            )));
        }
        self.groups = groups;
        Ok(())
    }
}
