//! The ping-pong between ranks 0 and 1 that measures α (latency) and β (seconds per byte)
//! of a run's MPI: `train`'s start-up probe ([`crate::cluster`]) and the benchmark
//! `examples/mpi_pingpong.rs` time the same loop.

use std::time::Instant;

use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Destination, Source};

/// Half round trips of `values` f64 between ranks 0 and 1, `reps` times (each after a
/// barrier, which every rank of `world` must enter; the ranks above 1 take no other part),
/// sorted; the median is `[reps / 2]`. The times are rank 0's (rank 1's are returned too,
/// but only rank 0's are the round trips' own).
pub fn half_round_trips(world: &SimpleCommunicator, values: usize, reps: usize) -> Vec<f64> {
    let rank = world.rank();
    let mut buf = vec![0.0f64; if rank < 2 { values } else { 0 }];
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        world.barrier();
        let t = Instant::now();
        if rank == 0 {
            world.process_at_rank(1).send(&buf[..]);
            world.process_at_rank(1).receive_into(&mut buf[..]);
        } else if rank == 1 {
            world.process_at_rank(0).receive_into(&mut buf[..]);
            world.process_at_rank(0).send(&buf[..]);
        }
        times.push(t.elapsed().as_secs_f64() / 2.0);
    }
    times.sort_by(f64::total_cmp);
    times
}

/// The median of sorted `times` (0 for none).
pub fn median(times: &[f64]) -> f64 {
    times.get(times.len() / 2).copied().unwrap_or(0.0)
}
