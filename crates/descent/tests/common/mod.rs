//! Helpers shared by the library's integration tests: the tape's loss and gradient (the
//! kernels' reference), and the scaffolding of streamed runs (the Parquet fixtures, an
//! observer keeping the epoch records, the bits of the parameters, a run stopped
//! mid-epoch and resumed from its checkpoint). (Not every test binary uses every helper.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use descent::autodiff::Tape;
use descent::data::parquet::ParquetBatches;
use descent::data::BatchSource;
use descent::loss::Loss;
use descent::nn::Sequential;
use descent::params::Params;
use descent::run::StreamSpec;
use descent::train::{EpochRecord, Event, EveryStep, Signal, Stop};
use descent::Float;
use descent::{Run, RunSpec};
use ndarray::{Array2, Axis};

/// The loss of `model` on the rows `rows` of `(x, y)` and its gradient, through the autodiff
/// tape: the reference the tape-free kernels are checked against.
pub fn tape_loss_and_grad<F: Float>(
    model: &Sequential,
    loss: Loss,
    params: &Params<F>,
    x: &Array2<F>,
    y: &Array2<F>,
    rows: &[usize],
) -> (F, Vec<F>) {
    let mut tape = Tape::new();
    let xv = tape.constant(x.select(Axis(0), rows));
    let yv = tape.constant(y.select(Axis(0), rows));
    let fwd = model.forward(&mut tape, params, xv).unwrap();
    let l = loss.apply(&mut tape, fwd.output, yv).unwrap();
    let g = tape.backward(l);
    let mut grads = vec![F::zero(); params.len()];
    model.gather_grads(&params.layout, &fwd, &g, &mut grads);
    (tape.scalar(l), grads)
}

/// The path of one of the Parquet (and CSV twin) fixtures in `tests/fixtures/parquet`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parquet")
        .join(name)
}

/// An observer that appends every epoch's record to `out`.
pub fn records(
    out: &mut Vec<EpochRecord>,
) -> impl FnMut(&Event<'_, f64>) -> descent::Result<Signal> + '_ {
    |e| {
        if let Event::Epoch(r, _) = e {
            out.push((*r).clone());
        }
        Ok(Signal::Continue)
    }
}

/// The bits of a run's parameters.
pub fn bits(run: &Run<f64>) -> Vec<u64> {
    run.trainer
        .params
        .values
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// An observer that stops the run after update `step`.
pub fn stop_at(step: usize) -> EveryStep<impl FnMut(&Event<'_, f64>) -> descent::Result<Signal>> {
    EveryStep(move |e: &Event<'_, f64>| {
        Ok(match e {
            Event::Step(r, _) if r.step == step => Signal::Stop("test".into()),
            _ => Signal::Continue,
        })
    })
}

/// `spec` streamed, with a shuffle buffer of `shuffle_buffer` rows and (CSV) chunks of
/// `chunk_rows` rows (`None`: the default).
pub fn streamed(spec: RunSpec, shuffle_buffer: usize, chunk_rows: Option<usize>) -> RunSpec {
    let mut spec = spec;
    spec.data.stream = Some(StreamSpec {
        shuffle_buffer,
        chunk_rows,
        ..StreamSpec::default()
    });
    spec
}

/// A whole streamed run of `spec`: its epoch records, the trained run and its source.
pub fn whole_stream_run(spec: &RunSpec) -> (Vec<EpochRecord>, Run<f64>, ParquetBatches<f64>) {
    let (mut run, mut source, _) = Run::<f64>::streaming(spec.clone(), None).unwrap();
    let mut r = Vec::new();
    run.train_source(&mut source, &mut [&mut records(&mut r)])
        .unwrap();
    (r, run, source)
}

/// A streamed run of `spec` stopped after update `stop_at(steps per epoch)`, then resumed
/// from its checkpoint by a new run and source (as a fresh process would be, given only the
/// checkpoint), each source reading ahead if `read_ahead`: the epoch records of both parts
/// and the resumed run.
pub fn stopped_and_resumed(
    spec: &RunSpec,
    stop_after: impl FnOnce(usize) -> usize,
    read_ahead: bool,
) -> (Vec<EpochRecord>, Run<f64>) {
    let (mut first, mut source, _) = Run::<f64>::streaming(spec.clone(), None).unwrap();
    if read_ahead {
        source.set_read_ahead(true);
    }
    let step = stop_after(source.steps_per_epoch());
    let mut b = Vec::new();
    let outcome = first
        .train_source(&mut source, &mut [&mut stop_at(step), &mut records(&mut b)])
        .unwrap();
    assert!(matches!(outcome.stop, Stop::Stopped { .. }));
    let checkpoint = first.trainer.checkpoint();
    drop(source);

    let (mut resumed, mut source, _) = Run::<f64>::streaming(spec.clone(), None).unwrap();
    if read_ahead {
        source.set_read_ahead(true);
    }
    resumed.restore(&checkpoint).unwrap();
    resumed
        .train_source(&mut source, &mut [&mut records(&mut b)])
        .unwrap();
    (b, resumed)
}
