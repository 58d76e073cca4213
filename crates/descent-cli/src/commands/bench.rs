//! `descent bench`: the speed workloads ([`descent::workloads`]), run in-process, timed as
//! medians of repetitions.
//! `bench/reference.py` runs the same work in PyTorch / scikit-learn and `bench/compare.sh`
//! puts both side by side. Data generation is not timed.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use descent::workloads::{Floor, Workload, WorkloadObserver, WORKLOADS};
use serde_json::json;

use crate::args::BenchArgs;
use crate::observers::events::{EventFile, EVENTS_FILE};

/// The worker threads of every workload (`--threads`), set once per `descent bench`;
/// `None`: each run chooses its count from its work, as `descent train` does.
static THREADS: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

fn threads() -> Option<usize> {
    *THREADS.get_or_init(|| None)
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if let Some(t) = args.threads {
        descent::parallel::check_threads(t).context("--threads")?;
    }
    let _ = THREADS.set(args.threads);
    if args.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let ids: Vec<&str> = match args.workload.as_str() {
        "all" => WORKLOADS.to_vec(),
        w => match WORKLOADS.iter().find(|x| **x == w) {
            Some(w) => vec![*w],
            None => bail!(
                "unknown workload `{w}`; choose all or one of {}",
                WORKLOADS.join(", ")
            ),
        },
    };
    let rows = args.rows;
    if let Some(dir) = &args.events {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    for id in ids {
        let (times, ran_on, floor) = time_workload(id, args.repeat, rows, args.events.as_deref())?;
        report(id, &times, ran_on, floor, args.json);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints one workload's timings, run on `threads` threads (the count given, or the one its
/// runs chose from their work).
fn report(id: &str, times: &[f64], threads: usize, floor: Option<Floor>, as_json: bool) {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
    };
    if as_json {
        let line = json!({
            "workload": id,
            "impl": "descent",
            "seconds": median,
            "min": sorted[0],
            "max": sorted[sorted.len() - 1],
            "repeat": times.len(),
            "threads": threads,
            "limit": floor.map(|f| f.limit),
            "floor_seconds": floor.map(|f| f.seconds),
            "fraction_of_limit": floor.map(|f| f.seconds / median),
        });
        println!("{line}");
    } else {
        println!(
            "{id:<8} median {median:>10.6} s   min {:>10.6}   max {:>10.6}   ({} runs, {threads} threads)",
            sorted[0],
            sorted[sorted.len() - 1],
            times.len()
        );
        if let Some(f) = floor {
            println!(
                "{:<8} floor  {:>10.6} s   ({} limit): {:.0}% of the limit",
                "",
                f.seconds,
                f.limit,
                100.0 * f.seconds / median
            );
        }
    }
}

/// Runs the workload `repeat` times after its warm-ups ([`Workload::warmups`], as many as
/// `bench/reference.py` runs on its side); returns the timings in seconds, the
/// threads its runs used and the machine's floor for it on as many, measured right after. With `events`, each repetition has
/// the event-file observer attached, writing a new `events/events.jsonl` (opened before the
/// clock starts; its writer thread finishes within the repetition, as in a run).
fn time_workload(
    id: &str,
    repeat: usize,
    rows: Option<usize>,
    events: Option<&Path>,
) -> Result<(Vec<f64>, usize, Option<Floor>)> {
    let mut w = Workload::prepare(id, rows, threads())?;
    let (mut ran_on, warmups) = (1, w.warmups());
    let mut once = || -> Result<f64> {
        let mut observer = match events {
            Some(dir) => {
                let path = dir.join(EVENTS_FILE);
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("cannot remove {}", path.display())))
                    }
                    _ => {}
                }
                Some(EventFile::create(&path, json!({}))?)
            }
            None => None,
        };
        let mut observers: Vec<&mut dyn WorkloadObserver> = Vec::new();
        if let Some(o) = &mut observer {
            observers.push(o);
        }
        let t = Instant::now();
        ran_on = w.run_observed(threads(), &mut observers)?;
        drop(observers);
        drop(observer);
        Ok(t.elapsed().as_secs_f64())
    };
    for _ in 0..warmups {
        once()?;
    }
    let times = (0..repeat).map(|_| once()).collect::<Result<_>>()?;
    Ok((times, ran_on, w.floor(ran_on)))
}
