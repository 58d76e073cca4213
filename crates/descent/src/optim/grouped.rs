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
/// config equals torch stepping its `param_groups` one after another. For the same reason a
/// large group is cut into shards of [`SHARD`] elements that step in parallel on
/// the threads it is given ([`DynOptimizer::set_threads`], 1 by default): the shard
/// boundaries depend only on the group sizes, so the result is the same for any count.
#[derive(Clone, Debug)]
pub struct Grouped<O: Optimizer, F: Float> {
    groups: Vec<Group<O, F>>,
    /// Whether the group ranges are sorted and disjoint (so they can be split across threads).
    disjoint: bool,
    /// Threads for stepping shards in parallel.
    threads: usize,
}

/// Elements per shard of a large parameter group (4 MiB of `f32`).
pub const SHARD: usize = 1 << 20;

/// Elements each thread must have to step before a step is split across threads: waking a
/// pool worker costs microseconds, and tens when its core is busy, the time to step about
/// 10⁵ elements. Below this the calling thread steps everything (the same bits, as the
/// shards are the same).
pub const MIN_ELEMENTS_PER_THREAD: usize = 1 << 17;

/// Elements each thread must have before one group's element loop is cut across threads
/// ([`Optimizer::step_on`]). Lower than [`MIN_ELEMENTS_PER_THREAD`]: a model with few groups
/// steps right after its products, whose blocks have just woken the pool's workers.
pub const MIN_ELEMENTS_PER_CUT: usize = 1 << 16;

impl<O: Optimizer, F: Float> Grouped<O, F> {
    /// One group covering `range`.
    pub fn new(config: O, range: GroupRange) -> Self {
        Self::with_groups(config, vec![(range, GroupOptions::default())])
    }

    /// Several groups; each range gets `config` with its overrides applied.
    pub fn with_groups(config: O, groups: Vec<(GroupRange, GroupOptions)>) -> Self {
        let mut shards = Vec::new();
        for (range, options) in groups {
            let mut c = config.clone();
            if let Some(wd) = options.weight_decay {
                c.set_weight_decay(wd);
            }
            let mut start = range.start;
            loop {
                let end = (start + SHARD).min(range.end);
                shards.push(Group {
                    range: start..end,
                    config: c.clone(),
                    state: O::State::<F>::default(),
                });
                start = end;
                if start >= range.end {
                    break;
                }
            }
        }
        let disjoint = shards
            .windows(2)
            .all(|w| w[0].range.end <= w[1].range.start);
        Grouped {
            groups: shards,
            disjoint,
            threads: 1,
        }
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

    fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    fn step(&mut self, lr: f64, params: &mut [F], grads: &[F]) {
        let total: usize = self.groups.iter().map(|g| g.range.len()).sum();
        let threads = self
            .threads
            .min(self.groups.len())
            .min(total / MIN_ELEMENTS_PER_THREAD);
        if threads > 1 && self.disjoint && self.groups.len() > 2 {
            step_parallel(&mut self.groups, threads, lr, params, grads);
            return;
        }
        match crate::parallel::pool(self.threads).filter(|_| self.disjoint) {
            Some(pool) => step_cut(&mut self.groups, pool, self.threads, lr, params, grads),
            None => step_run(&mut self.groups, 0, lr, params, grads),
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

    fn is_plain_step(&self) -> bool {
        self.groups.iter().all(|g| g.config.is_plain_step())
    }

    fn effective_steps(&self, lr: f64) -> Option<Vec<f64>> {
        let mut out = Vec::new();
        for g in &self.groups {
            out.extend(g.config.effective_steps(lr, &g.state)?);
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

/// Steps sorted, disjoint groups on the shared pool of `threads` threads
/// ([`crate::parallel::pool`]), each group (a shard of at most [`SHARD`] elements) taken by
/// whichever thread comes to it first ([`crate::parallel::run_blocks`]): no thread is
/// started per step, and a thread that is held up by other work on its core leaves its
/// shards to the others. Which thread steps a group never changes its bits.
fn step_parallel<O: Optimizer, F: Float>(
    groups: &mut [Group<O, F>],
    threads: usize,
    lr: f64,
    params: &mut [F],
    grads: &[F],
) {
    let Some(pool) = crate::parallel::pool(threads) else {
        step_run(groups, 0, lr, params, grads);
        return;
    };
    let mut blocks = Vec::with_capacity(groups.len());
    let (mut params, mut grads, mut offset) = (params, grads, 0);
    for group in groups.iter_mut() {
        // Disjoint and sorted: each group's slices are cut off the front of what is left.
        let (_, p_rest) = std::mem::take(&mut params).split_at_mut(group.range.start - offset);
        let (_, g_rest) = grads.split_at(group.range.start - offset);
        let (p, p_rest) = p_rest.split_at_mut(group.range.len());
        let (g, g_rest) = g_rest.split_at(group.range.len());
        let (base, end) = (group.range.start, group.range.end);
        blocks.push((std::slice::from_mut(group), base, p, g));
        (params, grads, offset) = (p_rest, g_rest, end);
    }
    crate::parallel::run_blocks(pool, blocks, |(group, base, p, g)| {
        step_run(group, base, lr, p, g)
    });
}

/// Steps sorted, disjoint groups one after the other, each with its element loop cut into
/// runs of at least [`MIN_ELEMENTS_PER_CUT`] on `pool` ([`Optimizer::step_on`]): the step of
/// a model with one or two groups (an MLP's 203,530 parameters in P4) uses the threads its
/// products just used. Which thread steps an element never changes its bits.
fn step_cut<O: Optimizer, F: Float>(
    groups: &mut [Group<O, F>],
    pool: &rayon::ThreadPool,
    threads: usize,
    lr: f64,
    params: &mut [F],
    grads: &[F],
) {
    for group in groups.iter_mut() {
        let r = group.range.clone();
        let parts = threads.min(r.len() / MIN_ELEMENTS_PER_CUT);
        if parts > 1 {
            let (p, g) = (&mut params[r.clone()], &grads[r]);
            group
                .config
                .step_on(pool, parts, lr, p, g, &mut group.state);
        } else {
            let base = r.start;
            step_run(
                std::slice::from_mut(group),
                base,
                lr,
                &mut params[r.clone()],
                &grads[r],
            );
        }
    }
}

/// Steps a run of groups whose ranges start at `base` in `params` / `grads`; with AVX-512 or
/// AVX2 when the CPU has it (wider vectors, the same operations in the same order, so the
/// same bits: each is one IEEE operation, rounded once, at any width, and no multiply is
/// fused with an add).
fn step_run<O: Optimizer, F: Float>(
    run: &mut [Group<O, F>],
    base: usize,
    lr: f64,
    params: &mut [F],
    grads: &[F],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (checked just above).
        unsafe { step_run_avx512(run, base, lr, params, grads) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { step_run_avx2(run, base, lr, params, grads) };
        return;
    }
    step_run_portable(run, base, lr, params, grads);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn step_run_avx512<O: Optimizer, F: Float>(
    run: &mut [Group<O, F>],
    base: usize,
    lr: f64,
    params: &mut [F],
    grads: &[F],
) {
    step_run_portable(run, base, lr, params, grads);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn step_run_avx2<O: Optimizer, F: Float>(
    run: &mut [Group<O, F>],
    base: usize,
    lr: f64,
    params: &mut [F],
    grads: &[F],
) {
    step_run_portable(run, base, lr, params, grads);
}

#[inline(always)]
fn step_run_portable<O: Optimizer, F: Float>(
    run: &mut [Group<O, F>],
    base: usize,
    lr: f64,
    params: &mut [F],
    grads: &[F],
) {
    for group in run {
        let r = group.range.start - base..group.range.end - base;
        group
            .config
            .step(lr, &mut params[r.clone()], &grads[r], &mut group.state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{
        Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, NAdam, RAdam, RmsProp, Rprop, Sgd,
        SignDescent,
    };

    /// Values of many sizes and both signs, with zeros and ties, from a fixed LCG.
    fn values<F: Float>(n: usize, seed: u64) -> Vec<F> {
        let mut x = seed;
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                F::of(match i % 7 {
                    0 => 0.0,
                    1 => u * 1e-6,
                    2 => u * 1e3,
                    _ => u,
                })
            })
            .collect()
    }

    /// Three steps of `config` through the AVX-512 and AVX2 builds of [`step_run`] (where the
    /// CPU has them) leave the parameters and the state with the portable build's bits.
    fn same_bits_on_every_build<O: Optimizer, F: Float>(config: O) {
        let n = 2 * 1000 + 13; // an odd tail after the last full vector
        let start = Grouped::<O, F>::with_groups(
            config,
            vec![
                (0..1000, GroupOptions::default()),
                (1000..n, GroupOptions::default()),
            ],
        );
        type Build<O, F> = unsafe fn(&mut [Group<O, F>], usize, f64, &mut [F], &[F]);
        let portable: Build<O, F> = |r, b, lr, p, g| step_run_portable(r, b, lr, p, g);
        let mut builds: Vec<(&str, Build<O, F>)> = vec![("portable", portable)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                builds.push(("avx2", step_run_avx2::<O, F>));
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                builds.push(("avx512", step_run_avx512::<O, F>));
            }
        }
        let mut results = Vec::new();
        for (name, build) in &builds {
            let mut opt = start.clone();
            let mut params = values::<F>(n, 1);
            for step in 0..3 {
                let grads = values::<F>(n, 2 + step);
                // SAFETY: only builds the CPU supports are listed.
                unsafe { build(&mut opt.groups, 0, 0.01, &mut params, &grads) };
            }
            let bits: Vec<u64> = params.iter().map(|p| p.f64().to_bits()).collect();
            results.push((*name, bits, opt.save_state().to_string()));
        }
        for (name, bits, state) in &results[1..] {
            assert!(bits == &results[0].1, "{} {name}: parameters", O::NAME);
            assert!(state == &results[0].2, "{} {name}: state", O::NAME);
        }
    }

    fn same_bits_for<F: Float>() {
        same_bits_on_every_build::<_, F>(Adam::default());
        same_bits_on_every_build::<_, F>(Adam {
            amsgrad: true,
            maximize: true,
            weight_decay: 0.1,
            ..Adam::default()
        });
        same_bits_on_every_build::<_, F>(AdamW::default());
        same_bits_on_every_build::<_, F>(Sgd::default());
        same_bits_on_every_build::<_, F>(Sgd {
            momentum: 0.9,
            nesterov: true,
            ..Sgd::default()
        });
        same_bits_on_every_build::<_, F>(Adagrad::default());
        same_bits_on_every_build::<_, F>(Adadelta::default());
        same_bits_on_every_build::<_, F>(Adamax::default());
        same_bits_on_every_build::<_, F>(Asgd::default());
        same_bits_on_every_build::<_, F>(NAdam::default());
        same_bits_on_every_build::<_, F>(RAdam::default());
        same_bits_on_every_build::<_, F>(RmsProp::default());
        same_bits_on_every_build::<_, F>(RmsProp {
            momentum: 0.9,
            centered: true,
            ..RmsProp::default()
        });
        same_bits_on_every_build::<_, F>(Rprop::default());
        same_bits_on_every_build::<_, F>(SignDescent::default());
    }

    #[test]
    fn every_optimizer_has_the_same_bits_on_every_instruction_set() {
        same_bits_for::<f32>();
        same_bits_for::<f64>();
    }

    /// Three steps of `config` on a small and a large group (the large one cut across the
    /// pool's threads, [`step_cut`]) leave the parameters and the state with the bits of one
    /// thread, for 1, 2 and 3 threads.
    fn same_bits_cut_across_threads<O: Optimizer, F: Float>(config: O) {
        let n = 1000 + 2 * MIN_ELEMENTS_PER_CUT + 13;
        let start = Grouped::<O, F>::with_groups(
            config,
            vec![
                (0..1000, GroupOptions::default()),
                (1000..n, GroupOptions::default()),
            ],
        );
        let mut results = Vec::new();
        for threads in [1, 2, 3] {
            let mut opt = start.clone();
            opt.set_threads(threads);
            let mut params = values::<F>(n, 1);
            for step in 0..3 {
                opt.step(0.01, &mut params, &values::<F>(n, 2 + step));
            }
            let bits: Vec<u64> = params.iter().map(|p| p.f64().to_bits()).collect();
            results.push((threads, bits, opt.save_state().to_string()));
        }
        for (threads, bits, state) in &results[1..] {
            assert!(
                bits == &results[0].1,
                "{} on {threads} threads: parameters",
                O::NAME
            );
            assert!(
                state == &results[0].2,
                "{} on {threads} threads: state",
                O::NAME
            );
        }
    }

    #[test]
    fn a_group_cut_across_threads_has_the_bits_of_one_thread() {
        fn all<F: Float>() {
            same_bits_cut_across_threads::<_, F>(Adam::default());
            same_bits_cut_across_threads::<_, F>(Adam {
                amsgrad: true,
                maximize: true,
                weight_decay: 0.1,
                ..Adam::default()
            });
            same_bits_cut_across_threads::<_, F>(AdamW {
                amsgrad: true,
                ..AdamW::default()
            });
            // The default `step_on`: the whole group on this thread.
            same_bits_cut_across_threads::<_, F>(Sgd {
                momentum: 0.9,
                ..Sgd::default()
            });
        }
        all::<f32>();
        all::<f64>();
    }

    /// [`Adam::step_on`] cut into any number of runs, including more runs than elements
    /// allow and lengths that are not whole cache lines, equals [`Adam::step`].
    #[test]
    fn adam_cut_into_any_runs_equals_its_step() {
        let pool = crate::parallel::pool(2).expect("a pool of two threads");
        for n in [1, 63, 64, 1000, 4099] {
            let grads = values::<f32>(n, 7);
            let mut whole = (values::<f32>(n, 3), crate::optim::AdamState::default());
            Adam::default().step(0.01, &mut whole.0, &grads, &mut whole.1);
            for parts in 1..6 {
                let mut cut = (values::<f32>(n, 3), crate::optim::AdamState::default());
                Adam::default().step_on(pool, parts, 0.01, &mut cut.0, &grads, &mut cut.1);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&cut.0), bits(&whole.0), "n {n}, {parts} parts");
                assert_eq!(bits(&cut.1.exp_avg_sq), bits(&whole.1.exp_avg_sq));
                assert_eq!(cut.1.step, 1);
            }
        }
    }
}
