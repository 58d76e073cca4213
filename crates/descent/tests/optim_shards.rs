//! Large parameter groups are cut into shards that step in parallel: the result equals one
//! unsharded pass, bit for bit, for any thread count.

use descent::optim::{Adam, DynOptimizer, Grouped, Optimizer, Sgd, SHARD};

fn run<O: Optimizer>(config: O, threads: usize) -> (Vec<f32>, Vec<f32>) {
    let n = 2 * SHARD + 12_345;
    let mut sharded: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) / 17.0).collect();
    let mut whole = sharded.clone();
    let mut state = O::State::<f32>::default();
    let mut grouped = Grouped::<O, f32>::new(config.clone(), 0..n);
    grouped.set_threads(threads);
    for step in 0..3 {
        let grads: Vec<f32> = (0..n)
            .map(|i| (((i * 31 + step) % 101) as f32 - 50.0) / 13.0)
            .collect();
        grouped.step(1e-2, &mut sharded, &grads);
        config.step(1e-2, &mut whole, &grads, &mut state);
    }
    (sharded, whole)
}

#[test]
fn sharded_steps_equal_one_pass() {
    for threads in [1, 2, 3] {
        let (a, b) = run(Adam::default(), threads);
        assert!(a == b, "adam, {threads} threads");
        let sgd = Sgd {
            momentum: 0.9,
            ..Sgd::default()
        };
        let (a, b) = run(sgd, threads);
        assert!(a == b, "sgd, {threads} threads");
    }
}
