//! Data-parallel `train` across processes started by an MPI launcher (`mpirun`, `srun`),
//! with the cargo feature `mpi` (rsmpi over the system's Open MPI or MPICH).
//!
//! The library does the sharding ([`descent::train::Shard`]); this module supplies what it
//! asks of the gradient hook: the communicator's all-gather of chunk sums (`--allreduce
//! ordered`, the single process's bits) or one all-reduce of the gradient (`plain`), and a
//! broadcast of each epoch's loss, so that every rank takes the same decisions. It also
//! compares a hash of the run specification across ranks at start, and turns an error on
//! any rank into a message naming the rank followed by `MPI_Abort`, so that no rank waits
//! forever on one that is gone. Without the feature, a process started by a launcher as one
//! of several refuses to run (each would train alone and overwrite the others' files).

use std::sync::{Arc, Mutex};

#[cfg(not(feature = "mpi"))]
use anyhow::bail;
use anyhow::Result;
use descent::train::Combine;

/// Variables through which launchers tell a process its place: Open MPI's `mpirun`, PMI
/// (MPICH's hydra, Slurm's `srun --mpi=pmi2`) and PMIx (Open MPI 5, `srun --mpi=pmix`).
const LAUNCHER_SIZE: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"];
const LAUNCHER_RANK: [&str; 3] = ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"];

/// This process's place among the ranks of an MPI run.
pub struct Cluster {
    rank: usize,
    size: usize,
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    combine: Combine,
    /// Time and values in this rank's collective operations during training.
    traffic: Arc<Mutex<Traffic>>,
    /// MPI is finalized when this is dropped.
    #[cfg(feature = "mpi")]
    _universe: mpi::environment::Universe,
}

/// What the gradient hook spent in collective operations.
#[derive(Debug, Default)]
pub struct Traffic {
    pub calls: u64,
    /// `f64` values sent by this rank.
    pub values: u64,
    pub seconds: f64,
}

/// Whether a launcher started this process, and the size it says.
fn launched() -> Option<usize> {
    let size = LAUNCHER_SIZE
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok());
    let rank = LAUNCHER_RANK.iter().any(|v| std::env::var_os(v).is_some());
    size.or(rank.then_some(0))
}

impl Cluster {
    /// The cluster when an MPI launcher started this process (MPI is then initialized);
    /// `None` otherwise (the run is a plain single process).
    pub fn detect(combine: Combine) -> Result<Option<Cluster>> {
        let Some(size) = launched() else {
            return Ok(None);
        };
        Self::start(size, combine)
    }

    #[cfg(not(feature = "mpi"))]
    fn start(size: usize, _: Combine) -> Result<Option<Cluster>> {
        if size > 1 {
            bail!(
                "started by an MPI launcher as one of {size} processes, but this descent was built without MPI: each process would train alone and overwrite the others' files; build it with `cargo build --release -p descent-cli --features mpi` (needs Open MPI and libclang)"
            );
        }
        Ok(None)
    }

    #[cfg(feature = "mpi")]
    fn start(_: usize, combine: Combine) -> Result<Option<Cluster>> {
        use mpi::traits::Communicator;
        let universe = mpi::initialize()
            .ok_or_else(|| anyhow::anyhow!("MPI was initialized twice in this process"))?;
        let world = universe.world();
        Ok(Some(Cluster {
            rank: world.rank() as usize,
            size: world.size() as usize,
            combine,
            traffic: Arc::default(),
            _universe: universe,
        }))
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether this is rank 0, the one that writes the files.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// `rank R of N on HOST`.
    pub fn describe(&self) -> String {
        #[cfg(feature = "mpi")]
        let host = mpi::environment::processor_name().unwrap_or_default();
        #[cfg(not(feature = "mpi"))]
        let host = String::new();
        let on = if host.is_empty() {
            String::new()
        } else {
            format!(" on {host}")
        };
        format!("rank {} of {}{on}", self.rank, self.size)
    }

    /// `N collectives, V values sent, S s` of this rank's training so far.
    pub fn traffic(&self) -> String {
        let t = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        format!(
            "{} collective operations, {} values sent, {:.3} s in them",
            t.calls, t.values, t.seconds
        )
    }

    /// Prints `error: rank R of N: MESSAGE` and ends every rank of the run (`MPI_Abort`):
    /// the others may be waiting for this one in a collective operation.
    pub fn abort(&self, message: &str) -> ! {
        eprintln!("error: rank {} of {}: {message}", self.rank, self.size);
        #[cfg(feature = "mpi")]
        {
            use mpi::traits::Communicator;
            mpi::topology::SimpleCommunicator::world().abort(1)
        }
        #[cfg(not(feature = "mpi"))]
        std::process::exit(1)
    }
}

#[cfg(feature = "mpi")]
mod comm {
    //! The collective operations of the run (on `MPI_COMM_WORLD`).

    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use anyhow::{bail, Result};
    use descent::train::{Combine, GradientHook, Shard};
    use descent::Float;
    use mpi::collective::SystemOperation;
    use mpi::datatype::PartitionMut;
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::{Communicator, CommunicatorCollectives, Root};

    use super::{Cluster, Traffic};

    /// FNV-1a, 64 bits: the same on every machine and build (std's hasher is not promised
    /// to be).
    fn fnv1a(text: &str) -> u64 {
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    impl Cluster {
        /// Refuses to start unless every rank runs the same specification (`text`: the run
        /// spec and whatever else must agree; the program's version and `--allreduce` are
        /// added).
        pub fn check_same(&self, text: &str) -> Result<()> {
            let world = SimpleCommunicator::world();
            let mine = fnv1a(&format!(
                "descent {}\n{:?}\n{text}",
                env!("CARGO_PKG_VERSION"),
                self.combine
            ));
            let mut all = vec![0u64; self.size];
            world.all_gather_into(&mine, &mut all[..]);
            let differ: Vec<String> = all
                .iter()
                .enumerate()
                .filter(|&(_, &h)| h != all[0])
                .map(|(r, _)| r.to_string())
                .collect();
            if !differ.is_empty() {
                bail!(
                    "the run specification of rank(s) {} differs from rank 0's (other arguments or another descent binary): every rank must run the same command",
                    differ.join(", ")
                );
            }
            Ok(())
        }

        /// The gradient hook of this rank.
        pub fn hook<F: Float>(&self) -> Box<dyn GradientHook<F>> {
            Box::new(MpiHook {
                shard: Shard {
                    rank: self.rank,
                    size: self.size,
                    combine: self.combine,
                },
                buffer: Vec::new(),
                traffic: Arc::clone(&self.traffic),
            })
        }
    }

    /// The hook: gathers chunk sums, or sums gradients, across the ranks.
    struct MpiHook {
        shard: Shard,
        /// The plain all-reduce's send buffer (loss, then the gradient).
        buffer: Vec<f64>,
        traffic: Arc<Mutex<Traffic>>,
    }

    impl MpiHook {
        fn count(&self, started: Instant, values: usize) {
            let mut t = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
            t.calls += 1;
            t.values += values as u64;
            t.seconds += started.elapsed().as_secs_f64();
        }
    }

    impl<F: Float> GradientHook<F> for MpiHook {
        fn on_gradient(
            &mut self,
            _: usize,
            loss: &mut f64,
            grads: &mut [F],
        ) -> descent::Result<()> {
            if self.shard.combine != Combine::Sum {
                return Ok(()); // the engine gathered and combined the chunks already
            }
            self.buffer.clear();
            self.buffer.push(*loss);
            self.buffer.extend(grads.iter().map(|g| g.f64()));
            let mut sum = vec![0.0; self.buffer.len()];
            let started = Instant::now();
            SimpleCommunicator::world().all_reduce_into(
                &self.buffer[..],
                &mut sum[..],
                SystemOperation::sum(),
            );
            self.count(started, sum.len());
            *loss = sum[0];
            for (g, &s) in grads.iter_mut().zip(&sum[1..]) {
                *g = F::of(s);
            }
            Ok(())
        }

        /// Rank 0's value on every rank: the decisions taken on it (divergence, early
        /// stopping, a plateau schedule) are then the same everywhere, even where a plain
        /// all-reduce rounded differently on different ranks.
        fn on_epoch_loss(&mut self, _: usize, loss: &mut f64) -> descent::Result<()> {
            SimpleCommunicator::world()
                .process_at_rank(0)
                .broadcast_into(loss);
            Ok(())
        }

        fn shard(&self) -> Option<Shard> {
            Some(self.shard)
        }

        fn all_gather(&mut self, mine: &[f64], counts: &[usize]) -> descent::Result<Vec<f64>> {
            let too_big = || descent::Error::State("a gathered buffer over 2^31 values".into());
            let counts: Vec<i32> = counts
                .iter()
                .map(|&c| i32::try_from(c).map_err(|_| too_big()))
                .collect::<descent::Result<_>>()?;
            let mut displs = Vec::with_capacity(counts.len());
            let mut at = 0i32;
            for &c in &counts {
                displs.push(at);
                at = at.checked_add(c).ok_or_else(too_big)?;
            }
            let mut all = vec![0.0; at as usize];
            let started = Instant::now();
            let mut into = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            SimpleCommunicator::world().all_gather_varcount_into(mine, &mut into);
            self.count(started, mine.len());
            Ok(all)
        }
    }
}

#[cfg(not(feature = "mpi"))]
impl Cluster {
    /// Never reached: without the feature there is no cluster.
    pub fn check_same(&self, _: &str) -> Result<()> {
        Ok(())
    }

    /// Never reached: without the feature there is no cluster.
    pub fn hook<F: descent::Float>(&self) -> Box<dyn descent::train::GradientHook<F>> {
        unreachable!("no cluster without the mpi feature")
    }
}
