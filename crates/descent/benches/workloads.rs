//! `cargo bench -p descent`: the speed workloads of `descent bench` (P1–P5,
//! [`descent::workloads`]), each timed as the median of a few repetitions after its warm-ups,
//! on the default thread count. `cargo bench -p descent -- P2-sgd P4` runs some of them.
//! For the side-by-side ratios against PyTorch use `bench/compare.sh`.

use std::time::Instant;

use descent::workloads::{Workload, WORKLOADS};

fn main() -> descent::Result<()> {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let threads = descent::parallel::default_threads();
    for id in WORKLOADS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == id) {
            continue;
        }
        let mut w = Workload::prepare(id, None, None)?;
        for _ in 0..w.warmups() {
            w.run(None)?;
        }
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(w.run(None))?;
                Ok(t.elapsed().as_secs_f64())
            })
            .collect::<descent::Result<_>>()?;
        times.sort_by(f64::total_cmp);
        println!(
            "{id:<8} median {:>10.6} s   min {:>10.6} s   ({threads} threads)",
            times[2], times[0]
        );
    }
    Ok(())
}
