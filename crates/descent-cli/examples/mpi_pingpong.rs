//! α (latency) and β (seconds per byte) of this machine's MPI, and the time of one
//! all-reduce and one all-gather of `f64` buffers, for `bench/mpi.sh`.
//!
//! ```sh
//! cargo build --release -p descent-cli --features mpi --example mpi_pingpong
//! mpirun -n 2 target/release/examples/mpi_pingpong
//! ```
//! Rank 0 prints CSV lines `kind,ranks,bytes,seconds` (median of the repetitions) for 8 B to
//! 8 MiB: `pingpong` is half a round trip between ranks 0 and 1 (two ranks or more),
//! `allreduce`, `allgather` and `bcast` one collective on all ranks (`bytes`: the reduced or
//! broadcast buffer, the gathered total). The ping-pong is `train`'s start-up probe's own
//! loop ([`descent_cli::pingpong`]). `--no-header` leaves the header out (for appending
//! the runs on other rank counts to one file).

use std::time::Instant;

use descent_cli::pingpong::{self, half_round_trips};
use mpi::collective::SystemOperation;
use mpi::traits::{Communicator, CommunicatorCollectives, Root};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    pingpong::median(&v)
}

fn main() {
    let universe = mpi::initialize().expect("MPI initializes once");
    let world = universe.world();
    let (rank, size) = (world.rank(), world.size());
    let header = !std::env::args().any(|a| a == "--no-header");
    if rank == 0 && header {
        println!("kind,ranks,bytes,seconds");
    }
    for exp in 0..=20 {
        let n: usize = 1 << exp; // f64 values: 8 B .. 8 MiB
        let reps = if n <= 1 << 12 {
            100
        } else {
            (1000 >> (exp - 12).min(10)).max(9)
        };
        let buf = vec![1.0f64; n];
        let mut out = vec![0.0f64; n];
        if size >= 2 {
            let times = half_round_trips(&world, n, reps);
            if rank == 0 {
                println!("pingpong,{size},{},{:e}", n * 8, pingpong::median(&times));
            }
        }
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps {
            world.barrier();
            let t = Instant::now();
            world.all_reduce_into(&buf[..], &mut out[..], SystemOperation::sum());
            times.push(t.elapsed().as_secs_f64());
        }
        if rank == 0 {
            println!("allreduce,{size},{},{:e}", n * 8, median(times));
        }
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps {
            world.barrier();
            let t = Instant::now();
            world.process_at_rank(0).broadcast_into(&mut out[..]);
            times.push(t.elapsed().as_secs_f64());
        }
        if rank == 0 {
            println!("bcast,{size},{},{:e}", n * 8, median(times));
        }
        let per = (n / size as usize).max(1);
        let mut all = vec![0.0f64; per * size as usize];
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps {
            world.barrier();
            let t = Instant::now();
            world.all_gather_into(&buf[..per], &mut all[..]);
            times.push(t.elapsed().as_secs_f64());
        }
        if rank == 0 {
            println!(
                "allgather,{size},{},{:e}",
                per * size as usize * 8,
                median(times)
            );
        }
    }
}
