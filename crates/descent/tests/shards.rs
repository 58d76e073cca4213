//! The data-parallel seam ([`Shard`] and the gradient hook's `all_gather`), proven without
//! MPI: N trainers on N threads play N processes, exchanging their chunk sums through shared
//! memory (gathering every part, or passing a running sum from rank to rank as the MPI
//! chain does). Under `Combine::Ordered` every one of them ends with the parameters and the loss
//! history of the single run, bit for bit, for 1, 2, 3 and 5 "ranks"; under `Combine::Sum`
//! (a plain all-reduce) they agree with it to 1e-12 relative in f64.

use std::sync::{Arc, Barrier, Mutex};

use descent::data::Scaling;
use descent::nn::{Activation, ModelKind};
use descent::train::{Combine, GradientHook, History, Shard};
use descent::{DType, Float, Run, RunSpec};

/// What the threads share: a barrier and one slot per rank.
struct Exchange {
    barrier: Barrier,
    slots: Mutex<Vec<Vec<f64>>>,
}

/// One thread's hook: its rank, and the exchange.
struct ThreadRank {
    rank: usize,
    size: usize,
    combine: Combine,
    /// `ordered_fold` by passing the running sum from rank to rank (as the MPI chain does)
    /// instead of gathering every part.
    chain: bool,
    exchange: Arc<Exchange>,
}

impl ThreadRank {
    /// Every rank's `mine`, in rank order (two barriers: nobody overwrites a slot before all
    /// have read it).
    fn gather(&self, mine: &[f64]) -> Vec<Vec<f64>> {
        self.exchange.slots.lock().unwrap()[self.rank] = mine.to_vec();
        self.exchange.barrier.wait();
        let all = self.exchange.slots.lock().unwrap().clone();
        self.exchange.barrier.wait();
        all
    }
}

impl<F: Float> GradientHook<F> for ThreadRank {
    fn on_gradient(&mut self, _: usize, loss: &mut f64, grads: &mut [F]) -> descent::Result<()> {
        if self.combine == Combine::Sum {
            let mut mine = vec![*loss];
            mine.extend(grads.iter().map(|g| g.f64()));
            let all = self.gather(&mine);
            *loss = all.iter().map(|v| v[0]).sum();
            for (i, g) in grads.iter_mut().enumerate() {
                *g = F::of(all.iter().map(|v| v[i + 1]).sum());
            }
        }
        Ok(())
    }

    fn shard(&self) -> Option<Shard> {
        Some(Shard {
            rank: self.rank,
            size: self.size,
            combine: self.combine,
        })
    }

    fn all_gather(&mut self, mine: &[f64], counts: &[usize]) -> descent::Result<Vec<f64>> {
        assert_eq!(counts[self.rank], mine.len());
        let all = self.gather(mine);
        for (r, v) in all.iter().enumerate() {
            assert_eq!(v.len(), counts[r], "rank {r}");
        }
        Ok(all.concat())
    }

    fn ordered_fold(
        &mut self,
        mine: &[f64],
        counts: &[usize],
        len: usize,
        fold: &mut dyn FnMut(&mut Vec<f64>, &[f64]),
    ) -> descent::Result<Vec<f64>> {
        if !self.chain {
            let all = <Self as GradientHook<F>>::all_gather(self, mine, counts)?;
            let mut carry = Vec::new();
            fold(&mut carry, &all);
            return Ok(carry);
        }
        // Slot 0 carries the running sum; rank r adds its part on turn r.
        for turn in 0..self.size {
            if turn == self.rank {
                let mut slots = self.exchange.slots.lock().unwrap();
                let mut carry = if turn == 0 {
                    Vec::new()
                } else {
                    std::mem::take(&mut slots[0])
                };
                fold(&mut carry, mine);
                assert_eq!(carry.len(), len);
                slots[0] = carry;
            }
            self.exchange.barrier.wait();
        }
        let total = self.exchange.slots.lock().unwrap()[0].clone();
        self.exchange.barrier.wait();
        Ok(total)
    }
}

/// Parameters and per-epoch losses of `spec` on `size` threaded ranks (those of rank 0, after
/// checking that every rank has the same).
fn sharded<F: Float>(
    spec: &RunSpec,
    size: usize,
    combine: Combine,
    chain: bool,
) -> (Vec<F>, Vec<f64>) {
    let exchange = Arc::new(Exchange {
        barrier: Barrier::new(size),
        slots: Mutex::new(vec![Vec::new(); size]),
    });
    let results: Vec<(Vec<F>, Vec<f64>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                let exchange = Arc::clone(&exchange);
                s.spawn(move || {
                    let mut run = Run::<F>::new(spec.clone()).unwrap();
                    run.trainer.set_gradient_hook(Box::new(ThreadRank {
                        rank,
                        size,
                        combine,
                        chain,
                        exchange,
                    }));
                    let mut history = History::<F>::new();
                    run.train(&mut [&mut history]).unwrap();
                    let losses = history.records.iter().map(|r| r.loss).collect();
                    (run.trainer.params.values.clone(), losses)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (rank, r) in results.iter().enumerate().skip(1) {
        let same = r.0.iter().zip(&results[0].0).all(|(a, b)| a.to_bits_eq(b));
        assert!(
            same && r.1 == results[0].1,
            "rank {rank} differs from rank 0"
        );
    }
    results.into_iter().next().unwrap()
}

/// The single process's parameters and losses.
fn single<F: Float>(spec: &RunSpec) -> (Vec<F>, Vec<f64>) {
    let mut run = Run::<F>::new(spec.clone()).unwrap();
    let mut history = History::<F>::new();
    run.train(&mut [&mut history]).unwrap();
    let losses = history.records.iter().map(|r| r.loss).collect();
    (run.trainer.params.values.clone(), losses)
}

trait BitsEq {
    fn to_bits_eq(&self, other: &Self) -> bool;
}

impl<F: Float> BitsEq for F {
    fn to_bits_eq(&self, other: &Self) -> bool {
        self.f64().to_bits() == other.f64().to_bits()
    }
}

fn specs() -> Vec<(&'static str, RunSpec)> {
    let mlp = ModelKind::Mlp {
        hidden: vec![8],
        activation: Activation::Tanh,
    };
    let base = |data: &str| RunSpec::builtin(data).scale(Scaling::Standard).seed(3);
    vec![
        // 442 rows, batch 200: 4 chunks of 64 rows, the last 8 short, over the epoch's
        // batches of 200, 200 and 42 rows.
        (
            "linear sgd",
            base("diabetes").optimizer("sgd", 0.05).batch(200).epochs(6),
        ),
        (
            "logistic adam",
            base("breast_cancer")
                .model(ModelKind::Logistic)
                .optimizer("adam", 0.01)
                .batch(150)
                .epochs(5),
        ),
        (
            "softmax momentum",
            base("wine")
                .model(ModelKind::Softmax)
                .optimizer_spec(
                    descent::optim::OptimizerSpec::new("sgd")
                        .with("lr", 0.1)
                        .with("momentum", 0.9),
                )
                .batch(100)
                .epochs(5),
        ),
        (
            "mlp adam",
            base("iris")
                .model(mlp)
                .optimizer("adam", 0.01)
                .batch(70)
                .epochs(4),
        ),
        // Products large enough for the AVX-512 GEMM (kernels/matmul.rs), on shards of 14
        // to 35 rows (padded below 32).
        (
            "wide mlp adam",
            base("breast_cancer")
                .model(ModelKind::Mlp {
                    hidden: vec![600, 40],
                    activation: Activation::Relu,
                })
                .optimizer("adam", 0.001)
                .batch(70)
                .epochs(2),
        ),
    ]
}

fn bit_equal_for<F: Float>(dtype: DType) {
    for (name, spec) in specs() {
        let spec = spec.dtype(dtype);
        let (params, losses) = single::<F>(&spec);
        for size in [1, 2, 3, 5] {
            for chain in [false, true] {
                let (p, l) = sharded::<F>(&spec, size, Combine::Ordered, chain);
                let how = if chain { "chain" } else { "all-gather" };
                let same = p.iter().zip(&params).all(|(a, b)| a.to_bits_eq(b));
                assert!(
                    same,
                    "{name} {dtype:?}: parameters differ on {size} ranks ({how})"
                );
                assert_eq!(
                    l, losses,
                    "{name} {dtype:?}: losses differ on {size} ranks ({how})"
                );
            }
        }
    }
}

#[test]
fn ordered_chunks_give_the_single_process_bits_in_f64() {
    bit_equal_for::<f64>(DType::F64);
}

#[test]
fn ordered_chunks_give_the_single_process_bits_in_f32() {
    bit_equal_for::<f32>(DType::F32);
}

/// A plain sum of the ranks' sums: the single run's numbers up to summation order, to 1e-12
/// relative in f64 after 50 epochs.
#[test]
fn a_plain_sum_agrees_to_1e_12_after_50_epochs() {
    let spec = RunSpec::builtin("diabetes")
        .scale(Scaling::Standard)
        .optimizer("adam", 0.01)
        .batch(300)
        .epochs(50)
        .seed(3);
    let (params, losses) = single::<f64>(&spec);
    for size in [2, 3] {
        let (p, l) = sharded::<f64>(&spec, size, Combine::Sum, false);
        // Relative to the largest magnitude: single parameters near zero carry the others'
        // rounding.
        for (what, a, b) in [("parameters", &p, &params), ("losses", &l, &losses)] {
            let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let worst = a
                .iter()
                .zip(b)
                .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
            assert!(
                worst <= 1e-12 * scale,
                "{size} ranks, {what}: {worst:e} off"
            );
        }
    }
}
