//! The validation split of a stream ([`HashSplit`]): the training stream yields exactly the
//! training rows, in every epoch and order, the validation stream exactly the others; the
//! scalers are fitted on the training rows; the split is a function of the seed; and a run
//! with a split resumes mid-epoch to the bits of the uninterrupted run.

use std::path::{Path, PathBuf};

use descent::data::parquet::StreamStats;
use descent::data::parquet::{OutColumn, OutKind, ParquetBatches, ParquetSink};
use descent::data::{BatchSource, HashSplit, Scaler, Scaling};
use descent::run::{Alone, ShareStats};
use descent::train::EpochRecord;
use descent::{Run, RunSpec};

mod common;

use common::{records, stopped_and_resumed, streamed, whole_stream_run};

const ROWS: u64 = 1000;

/// `id` (the row index), `x` (null in every 13th row) and `y`, in row groups of 100 rows.
fn write_data(path: &Path) {
    let columns = ["id", "x", "y"].map(|n| (n.to_string(), OutKind::Number, true));
    let mut sink = ParquetSink::create(path, &columns).unwrap();
    for g in 0..ROWS / 100 {
        let rows = g * 100..(g + 1) * 100;
        let id = rows.clone().map(|i| Some(i as f64)).collect();
        let x = rows
            .clone()
            .map(|i| (i % 13 != 5).then_some((i % 7) as f64 - 3.0))
            .collect();
        let y = rows.map(|i| Some((i % 11) as f64 * 0.5 - 2.0)).collect();
        sink.write_group(&[
            OutColumn::Numbers(id),
            OutColumn::Numbers(x),
            OutColumn::Numbers(y),
        ])
        .unwrap();
    }
    sink.finish().unwrap();
}

/// The data written to a file of this process's own (`name`: one per test).
fn data(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "descent-stream-split-{}-{name}.parquet",
        std::process::id()
    ));
    write_data(&path);
    path
}

fn spec(path: &Path, seed: u64) -> RunSpec {
    let mut spec = RunSpec::csv(path)
        .scale(Scaling::MinMax)
        .optimizer("adam", 0.01)
        .batch(7)
        .epochs(3)
        .seed(seed)
        .val_fraction(0.25);
    spec.data.drop_missing = true;
    spec.data.targets = Some(vec!["y".into()]);
    spec.data.features = Some(vec!["id".into(), "x".into()]);
    spec.shuffle = Some(true);
    streamed(spec, 50, None)
}

/// The row ids an epoch of `source` yields (undoing the min-max scaling of `id`).
fn ids(source: &mut ParquetBatches<f64>, epoch: usize, (min, max): (f64, f64)) -> Vec<u64> {
    source.seek(epoch, 0).unwrap();
    let mut out = Vec::new();
    while let Some(b) = source.next_batch().unwrap() {
        out.extend(
            b.x.column(0)
                .iter()
                .map(|v| (v * (max - min) + min).round() as u64),
        );
    }
    out
}

fn sorted(v: &[u64]) -> Vec<u64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v
}

#[test]
fn the_training_stream_never_yields_a_validation_row() {
    let path = data("a");
    let split = HashSplit::new(0.25, 3);
    let kept = |i: &u64| i % 13 != 5;
    let want_train: Vec<u64> = (0..ROWS)
        .filter(kept)
        .filter(|&i| !split.is_validation(i))
        .collect();
    let want_val: Vec<u64> = (0..ROWS)
        .filter(kept)
        .filter(|&i| split.is_validation(i))
        .collect();

    let (mut run, mut source, report) = Run::<f64>::streaming(spec(&path, 3), None).unwrap();
    assert_eq!(report.rows as usize, want_train.len());
    assert_eq!(report.val_rows as usize, want_val.len());
    assert_eq!(
        report.dropped,
        (0..ROWS).filter(|i| !kept(i)).count() as u64
    );
    // The scalers are fitted on the training rows alone, as in memory.
    let Scaler::MinMax { min, max } = &run.scaler else {
        panic!("minmax");
    };
    let range = (min[0], max[0]);
    assert_eq!(
        range,
        (want_train[0] as f64, *want_train.last().unwrap() as f64)
    );
    for epoch in 0..2 {
        let got = ids(&mut source, epoch, range);
        assert_eq!(sorted(&got), want_train, "epoch {epoch}");
        assert_ne!(got, want_train, "epoch {epoch} is shuffled");
    }
    let val = run.val_stream().expect("a validation stream");
    assert_eq!(ids(val, 0, range), want_val);

    // Another seed holds out other rows.
    let (_, mut other, _) = Run::<f64>::streaming(spec(&path, 4), None).unwrap();
    let Scaler::MinMax { min, max } = Run::<f64>::streaming(spec(&path, 4), None)
        .unwrap()
        .0
        .scaler
    else {
        panic!("minmax");
    };
    let theirs = sorted(&ids(&mut other, 0, (min[0], max[0])));
    assert_ne!(theirs, want_train);
    let split4 = HashSplit::new(0.25, 4);
    assert!(theirs.iter().all(|&i| !split4.is_validation(i)));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_run_with_a_streamed_split_validates_every_epoch_and_resumes_mid_epoch_to_its_bits() {
    let path = data("b");
    let spec = spec(&path, 3);
    let (a, mut whole, mut source) = whole_stream_run(&spec);
    assert_eq!(a.len(), 3);
    assert!(a.iter().all(|r| r.val_loss.is_some_and(f64::is_finite)));
    let m2 = source.stats().targets.m2.clone();
    let report = whole.report_source(&mut source, &m2).unwrap();
    let val = report.val.expect("validation metrics");
    // The last epoch's validation loss is the report's: the same rows, parameters and sums.
    assert_eq!(val.loss, a[2].val_loss.unwrap());
    assert!(val.r2.is_some());

    // Mid-epoch 2.
    let (b, resumed) = stopped_and_resumed(&spec, |steps| steps + steps / 2 + 1, false);
    assert_eq!(a, b);
    assert_eq!(whole.trainer.params.values, resumed.trainer.params.values);
    std::fs::remove_file(&path).unwrap();
}

/// A library caller that shares the one pass in its own way (here: through the statistics'
/// bytes, as a data-parallel run sends them) streams the same validation rows as one
/// process; one whose statistics come without their validation part is told so.
#[test]
fn statistics_shared_through_their_bytes_keep_the_validation_split() {
    struct Wire;
    impl ShareStats for Wire {
        fn share(
            &mut self,
            compute: &mut dyn FnMut() -> descent::Result<StreamStats>,
        ) -> descent::Result<StreamStats> {
            StreamStats::from_bytes(&compute()?.to_bytes())
        }
    }
    struct Lossy;
    impl ShareStats for Lossy {
        fn share(
            &mut self,
            compute: &mut dyn FnMut() -> descent::Result<StreamStats>,
        ) -> descent::Result<StreamStats> {
            Ok(StreamStats {
                val: None,
                ..compute()?
            })
        }
    }
    let path = data("c");
    let spec = spec(&path, 5);
    let train = |share: &mut dyn ShareStats| -> descent::Result<(Vec<EpochRecord>, Vec<f64>)> {
        let (mut run, mut source, _) = Run::<f64>::streaming_with(spec.clone(), None, share)?;
        let mut epochs = Vec::new();
        run.train_source(&mut source, &mut [&mut records(&mut epochs)])?;
        Ok((epochs, run.trainer.params.values.clone()))
    };
    let alone = train(&mut Alone).unwrap();
    assert!(alone.0.iter().all(|r| r.val_loss.is_some()));
    assert_eq!(train(&mut Wire).unwrap(), alone);
    let e = train(&mut Lossy).unwrap_err().to_string();
    assert!(
        e.contains("without their validation part") && e.contains("descent-stream-split"),
        "{e}"
    );
    std::fs::remove_file(&path).unwrap();
}
