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

use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Latency and per-byte time of this run's MPI, rank 0's measurement at start.
    link: Link,
    /// Seconds the measurement of `link` took on this rank.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    probe_s: f64,
    /// Time and values in this rank's collective operations during training.
    traffic: Arc<Mutex<Traffic>>,
    /// Bytes of statistics this rank received from rank 0 (0: none, or it is rank 0).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    received: AtomicU64,
    /// MPI is finalized when this is dropped.
    #[cfg(feature = "mpi")]
    _universe: mpi::environment::Universe,
}

/// α (seconds per message) and β (seconds per byte) of the run's MPI, measured at start by
/// a ping-pong between ranks 0 and 1 and broadcast from rank 0 (so that every rank makes the
/// same choices from them); zero on one rank.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Link {
    pub alpha: f64,
    pub beta: f64,
}

/// How `--allreduce ordered` moves the chunk sums of the linear kernels (linear, logistic,
/// softmax) between the ranks. Both add every chunk in global chunk order, so the bits are
/// the same; the bytes and the messages differ (the α-β costs: [`Ordered::cost`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ordered {
    /// Every rank gathers every chunk's sums (`MPI_Allgatherv`) and adds them in order.
    Allgather,
    /// Rank 0 adds its chunks, sends the running sum to rank 1, which adds its own and
    /// passes it on, ...; the last rank broadcasts the total (`MPI_Bcast`).
    Chain,
}

/// The environment variable that forces the ordered combine's algorithm on rank 0 (its
/// choice is everyone's): `allgather` or `chain`; unset, the α-β model chooses.
pub const ORDERED_ENV: &str = "DESCENT_MPI_ORDERED";

impl Ordered {
    pub fn name(self) -> &'static str {
        match self {
            Ordered::Allgather => "allgather",
            Ordered::Chain => "chain",
        }
    }

    /// The α-β time of one ordered combine on `p` ranks of a gradient of `n` values cut into
    /// `c` chunks (records of `n + 1` values, the carry `n + 2`, 8 bytes each):
    /// ```text
    /// allgather   T = (p-1) α + (p-1)/p · 8 c (n+1) β          (ring: p-1 steps, each rank
    ///                                                          receives every other's chunks)
    /// chain       T = (p-1 + ⌈log2 p⌉) (α + 8 (n+2) β)         (p-1 hops of the running sum,
    ///                                                          then a binomial broadcast)
    /// ```
    /// The additions are the same in both (every chunk added once on the critical path) and
    /// left out. The chain's latency grows with `p` as the ring's does, plus the broadcast;
    /// its bytes do not grow with the chunks: it wins for large gradients cut into more
    /// chunks than ranks, the all-gather for small (latency-bound) ones.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub fn cost(self, link: Link, p: usize, n: usize, c: usize) -> f64 {
        if p < 2 {
            return 0.0;
        }
        let pf = p as f64;
        match self {
            Ordered::Allgather => {
                (pf - 1.0) * link.alpha
                    + (pf - 1.0) / pf * 8.0 * c as f64 * (n as f64 + 1.0) * link.beta
            }
            Ordered::Chain => {
                let hops = (p - 1) as f64 + f64::from(usize::BITS - (p - 1).leading_zeros());
                hops * (link.alpha + 8.0 * (n as f64 + 2.0) * link.beta)
            }
        }
    }

    /// The cheaper of the two by [`Self::cost`] (the all-gather on a tie).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub fn choose(link: Link, p: usize, n: usize, c: usize) -> Ordered {
        if Ordered::Chain.cost(link, p, n, c) < Ordered::Allgather.cost(link, p, n, c) {
            Ordered::Chain
        } else {
            Ordered::Allgather
        }
    }

    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    fn parse(text: &str) -> Result<Ordered> {
        match text {
            "allgather" => Ok(Ordered::Allgather),
            "chain" => Ok(Ordered::Chain),
            _ => anyhow::bail!(
                "{ORDERED_ENV}={text:?} is not an ordered combine: use allgather or chain, or unset it to let the α-β model choose"
            ),
        }
    }
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
        let probe = std::time::Instant::now();
        let link = comm::measure(&world);
        let probe_s = probe.elapsed().as_secs_f64();
        Ok(Some(Cluster {
            rank: world.rank() as usize,
            size: world.size() as usize,
            combine,
            link,
            probe_s,
            traffic: Arc::default(),
            received: AtomicU64::new(0),
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

    /// `MPI N ranks, α A µs, β B ns/byte: ...`: the figures and what the run does with them.
    pub fn note(&self, ordered: Ordered, mlp: bool) -> String {
        let how = match (self.combine, mlp) {
            (Combine::Sum, _) => "plain all-reduce (--allreduce plain)".to_string(),
            (Combine::Ordered, true) => "ordered combine: the MLP's rows by allgather".to_string(),
            (Combine::Ordered, false) => format!("ordered combine by {}", ordered.name()),
        };
        if self.size < 2 {
            return "MPI 1 rank: nothing to combine".to_string();
        }
        format!(
            "MPI {} ranks, α {:.1} µs, β {:.3} ns/byte (measured in {:.0} ms): {how}",
            self.size,
            self.link.alpha * 1e6,
            self.link.beta * 1e9,
            self.probe_s * 1e3
        )
    }

    /// `rank R of N: statistics ...`: whether this rank made the pass over the streamed data
    /// for its statistics (rank 0: the row groups and bytes it read) or received them.
    pub fn stats_note(&self, read: (u64, u64)) -> String {
        let received = self.received.load(Ordering::Relaxed);
        if self.rank == 0 {
            format!(
                "{}: statistics from one pass over {} row group(s) ({} bytes), sent to the other {} rank(s)",
                self.describe(),
                read.0,
                read.1,
                self.size - 1
            )
        } else {
            format!(
                "{}: statistics received from rank 0 ({received} bytes); read {} row group(s) for them",
                self.describe(),
                read.0
            )
        }
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
        // One write of the whole line: the ranks' messages reach the launcher's stderr
        // whole instead of interleaved piece by piece.
        let line = format!("error: rank {} of {}: {message}\n", self.rank, self.size);
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
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
    use descent::data::parquet::StreamStats;
    use descent::run::ShareStats;
    use descent::train::{Combine, GradientHook, Shard};
    use descent::Float;
    use mpi::collective::SystemOperation;
    use mpi::datatype::PartitionMut;
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::{Communicator, CommunicatorCollectives, Destination, Root, Source};

    use super::{Cluster, Link, Ordered, Traffic, ORDERED_ENV};
    use crate::pingpong::{half_round_trips, median};

    /// FNV-1a, 64 bits: the same on every machine and build (std's hasher is not promised
    /// to be).
    fn fnv1a(text: &str) -> u64 {
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// Ping-pong repetitions of the small (8 B) message, and of the large one (8 MiB: large
    /// enough to leave the caches, as a gradient all-reduce's buffers of a big model do; a
    /// 256 KiB message stays in cache and measured β 6-8 times below the fitted one).
    const PING_SMALL: usize = 31;
    const PING_LARGE: usize = 3;
    const LARGE_VALUES: usize = 1 << 20;

    /// α and β by a ping-pong between ranks 0 and 1 (the median half round trip of 8 B for
    /// α, the slope from 8 B to 8 MiB for β: about 40 ms in all on quiet shared memory),
    /// broadcast from rank 0 so that every rank holds the same figures.
    pub(super) fn measure(world: &SimpleCommunicator) -> Link {
        let (rank, size) = (world.rank(), world.size());
        let mut figures = [0.0f64; 2];
        if size >= 2 {
            let small = median(&half_round_trips(world, 1, PING_SMALL));
            let large = median(&half_round_trips(world, LARGE_VALUES, PING_LARGE));
            if rank == 0 {
                let bytes = ((LARGE_VALUES - 1) * 8) as f64;
                figures = [small, ((large - small) / bytes).max(0.0)];
            }
            world.process_at_rank(0).broadcast_into(&mut figures[..]);
        }
        Link {
            alpha: figures[0],
            beta: figures[1],
        }
    }

    impl Cluster {
        /// The ordered combine's algorithm for a gradient of `n` values and batches of
        /// `batch` rows: `DESCENT_MPI_ORDERED` on rank 0 if set, else the cheaper by the α-β
        /// model ([`Ordered::choose`]); rank 0's choice, broadcast (the ranks must agree, or
        /// they would wait in different collectives).
        pub fn plan(&self, n: usize, batch: usize) -> Result<Ordered> {
            let world = SimpleCommunicator::world();
            let chunks = batch.div_ceil(descent::kernels::CHUNK_ROWS).max(1);
            let mut code = 0u8;
            let mut problem = None;
            if self.rank == 0 {
                let chosen = match std::env::var(ORDERED_ENV) {
                    Ok(text) => Ordered::parse(&text),
                    Err(_) => Ok(Ordered::choose(self.link, self.size, n, chunks)),
                };
                code = match chosen {
                    Ok(Ordered::Allgather) => 1,
                    Ok(Ordered::Chain) => 2,
                    Err(e) => {
                        problem = Some(e);
                        0
                    }
                };
            }
            world.process_at_rank(0).broadcast_into(&mut code);
            match (code, problem) {
                (_, Some(e)) => Err(e),
                (1, _) => Ok(Ordered::Allgather),
                (2, _) => Ok(Ordered::Chain),
                _ => bail!("rank 0 refused the {ORDERED_ENV} it was given"),
            }
        }

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

        /// Rank 0's `compute()` on every rank (see [`ShareStats`]): its statistics as bytes
        /// ([`StreamStats::to_bytes`]: exact bits), or its error's message, broadcast.
        fn share_from_root(
            &self,
            compute: &mut dyn FnMut() -> descent::Result<StreamStats>,
        ) -> descent::Result<StreamStats> {
            let world = SimpleCommunicator::world();
            let root = world.process_at_rank(0);
            // [1, length] and the statistics, or [0, length] and the error's message.
            let mut head = [0u64; 2];
            let (mut bytes, mine) = if self.rank == 0 {
                let result = compute();
                let bytes = match &result {
                    Ok(stats) => stats.to_bytes(),
                    Err(e) => e.to_string().into_bytes(),
                };
                head = [u64::from(result.is_ok()), bytes.len() as u64];
                (bytes, Some(result))
            } else {
                (Vec::new(), None)
            };
            root.broadcast_into(&mut head[..]);
            bytes.resize(head[1] as usize, 0);
            root.broadcast_into(&mut bytes[..]);
            if let Some(result) = mine {
                return result;
            }
            let size = bytes.len();
            if head[0] == 0 {
                return Err(descent::Error::Data(format!(
                    "rank 0 could not make the pass over the data for its statistics: {}",
                    String::from_utf8_lossy(&bytes)
                )));
            }
            let stats = StreamStats::from_bytes(&bytes)?;
            self.received.store(size as u64, super::Ordering::Relaxed);
            Ok(stats)
        }

        /// The gradient hook of this rank.
        pub fn hook<F: Float>(&self, ordered: Ordered) -> Box<dyn GradientHook<F>> {
            Box::new(MpiHook {
                ordered,
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
        ordered: Ordered,
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

        fn ordered_fold(
            &mut self,
            mine: &[f64],
            counts: &[usize],
            len: usize,
            fold: &mut dyn FnMut(&mut Vec<f64>, &[f64]),
        ) -> descent::Result<Vec<f64>> {
            let (rank, size) = (self.shard.rank, self.shard.size);
            if self.ordered == Ordered::Allgather || size < 2 {
                let all = <Self as GradientHook<F>>::all_gather(self, mine, counts)?;
                let mut carry = Vec::new();
                fold(&mut carry, &all);
                return Ok(carry);
            }
            // The chain: the running sum goes from rank to rank in rank order (the global
            // chunk order), each adding its chunks; the last broadcasts the total.
            let world = SimpleCommunicator::world();
            let started = Instant::now();
            let mut carry = Vec::new();
            if rank > 0 {
                carry.resize(len, 0.0);
                world
                    .process_at_rank(rank as i32 - 1)
                    .receive_into(&mut carry[..]);
            }
            fold(&mut carry, mine);
            if carry.len() != len {
                return Err(descent::Error::State(format!(
                    "the running sum holds {} values, not {len}",
                    carry.len()
                )));
            }
            if rank + 1 < size {
                world.process_at_rank(rank as i32 + 1).send(&carry[..]);
            }
            world
                .process_at_rank(size as i32 - 1)
                .broadcast_into(&mut carry[..]);
            // Its contribution, as the all-gather counts its part: the running sum passed
            // on (or, from the last rank, broadcast).
            self.count(started, len);
            Ok(carry)
        }
    }

    impl ShareStats for &Cluster {
        fn share(
            &mut self,
            compute: &mut dyn FnMut() -> descent::Result<StreamStats>,
        ) -> descent::Result<StreamStats> {
            self.share_from_root(compute)
        }
    }
}

/// Never reached: without the feature there is no cluster.
#[cfg(not(feature = "mpi"))]
impl descent::run::ShareStats for &Cluster {
    fn share(
        &mut self,
        compute: &mut dyn FnMut() -> descent::Result<descent::data::parquet::StreamStats>,
    ) -> descent::Result<descent::data::parquet::StreamStats> {
        compute()
    }
}

#[cfg(not(feature = "mpi"))]
impl Cluster {
    /// Never reached: without the feature there is no cluster.
    pub fn check_same(&self, _: &str) -> Result<()> {
        Ok(())
    }

    /// Never reached: without the feature there is no cluster.
    pub fn plan(&self, _: usize, _: usize) -> Result<Ordered> {
        Ok(Ordered::Allgather)
    }

    /// Never reached: without the feature there is no cluster.
    pub fn hook<F: descent::Float>(&self, _: Ordered) -> Box<dyn descent::train::GradientHook<F>> {
        unreachable!("no cluster without the mpi feature")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: Link = Link {
        alpha: 0.67e-6,
        beta: 0.77e-9,
    };

    /// The formulas of `Ordered::cost` worked by hand for one case each, and the choice
    /// they make: latency-bound small gradients and few chunks gather; a large gradient cut
    /// into many more chunks than ranks goes by the chain.
    #[test]
    fn the_alpha_beta_costs_choose_the_cheaper_ordered_combine() {
        let (a, b) = (LINK.alpha, LINK.beta);
        // 4 ranks, 1e6 values, 64 chunks.
        let gather = 3.0 * a + 0.75 * 8.0 * 64.0 * 1_000_001.0 * b;
        let chain = (3.0 + 2.0) * (a + 8.0 * 1_000_002.0 * b);
        assert_eq!(Ordered::Allgather.cost(LINK, 4, 1_000_000, 64), gather);
        assert_eq!(Ordered::Chain.cost(LINK, 4, 1_000_000, 64), chain);
        assert_eq!(Ordered::choose(LINK, 4, 1_000_000, 64), Ordered::Chain);
        // Batch 256 (4 chunks): gathering 4 chunk sums beats 3 hops of the whole sum.
        assert_eq!(Ordered::choose(LINK, 4, 1_000_000, 4), Ordered::Allgather);
        assert_eq!(Ordered::choose(LINK, 8, 100, 64), Ordered::Chain);
        // Many ranks, small model: the chain's extra broadcast latency loses.
        assert_eq!(Ordered::choose(LINK, 256, 100, 64), Ordered::Allgather);
        // One rank moves nothing; without figures the all-gather wins the tie.
        assert_eq!(Ordered::Chain.cost(LINK, 1, 100, 4), 0.0);
        assert_eq!(
            Ordered::choose(Link::default(), 4, 100, 4),
            Ordered::Allgather
        );
        // ⌈log2 p⌉ of the broadcast: 1 for 2 ranks, 2 for 3 and 4, 3 for 5.
        for (p, hops) in [(2, 2.0), (3, 4.0), (4, 5.0), (5, 7.0)] {
            let one = a + 8.0 * 12.0 * b;
            assert_eq!(Ordered::Chain.cost(LINK, p, 10, 1), hops * one, "{p} ranks");
        }
    }

    #[test]
    fn an_unknown_algorithm_name_is_refused_with_the_choices() {
        assert_eq!(Ordered::parse("chain").unwrap(), Ordered::Chain);
        let e = Ordered::parse("ring").unwrap_err().to_string();
        assert!(e.contains("DESCENT_MPI_ORDERED=\"ring\"") && e.contains("allgather or chain"));
    }
}
