//! Read-ahead (the next chunk decoded on a thread of its own) changes nothing but the
//! timing: streamed runs from Parquet and CSV, shuffled or not, with a validation split and
//! dropped rows, give the bits of the runs without it (which `threads` 1 asks for); a
//! mid-epoch resume on it gives the uninterrupted run's bits; the rows, counts and errors
//! of a [`RowReader`] are the same, an error in a later chunk included, with row groups
//! passed over unread before it starts; a run stopped early or failing mid-epoch ends
//! without waiting for the thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use descent::data::parquet::{ParquetFiles, RowReader, Selection};
use descent::data::Scaling;
use descent::train::{EpochRecord, Event, EveryStep, Signal, Stop};
use descent::{Run, RunSpec};

mod common;

use common::{bits, fixture, records, stopped_and_resumed, streamed};

/// A file of this process's own for a test, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("descent-read-ahead-{}-{name}", std::process::id()));
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `n` rows of `a,b,y,label` with a missing `a` in every 9th row, and `x`s in place of the
/// digits of row `bad_row`'s `b` (if any: the file keeps its length).
fn csv_text(n: usize, bad_row: Option<usize>) -> String {
    let mut text = String::from("a,b,y,label\n");
    for i in 0..n {
        let a = if i % 9 == 4 {
            "NA".to_string()
        } else {
            format!("{:.3}", (i % 23) as f64 * 0.25 - 2.0)
        };
        let mut b = format!("{:.3}", (i % 7) as f64 - 3.0 + 0.5);
        if bad_row == Some(i) {
            b = "x".repeat(b.len());
        }
        let y = (i % 11) as f64 * 0.5 - 2.0 + 0.1 * (i % 3) as f64;
        let label = ["cat", "dog", "eel"][i % 3];
        text += &format!("{a},{b},{y:.3},{label}\n");
    }
    text
}

/// A streamed run of `path` (CSV in chunks of 16 rows, Parquet in its row groups of 32).
fn spec(path: &Path, features: &[&str], shuffle: bool, val: f64) -> RunSpec {
    let mut spec = RunSpec::csv(path)
        .scale(Scaling::MinMax)
        .optimizer("adam", 0.01)
        .batch(8)
        .epochs(3)
        .seed(5)
        .val_fraction(val);
    spec.data.drop_missing = true;
    spec.data.features = Some(features.iter().map(|s| s.to_string()).collect());
    spec.data.targets = Some(vec!["y".into()]);
    spec.shuffle = Some(shuffle);
    streamed(spec, 20, Some(16))
}

const NUMBERS: [&str; 8] = ["i8", "u16", "f16", "f32", "f64", "flag", "d32", "level"];

/// Every stream of a run given two threads reads ahead, the validation stream and the final
/// pass included (`DESCENT_READ_AHEAD=1`); the runs without it are given one thread, which
/// turns it off whatever the variable says, so the tests of this file agree on its value.
fn every_stream_reads_ahead() {
    std::env::set_var("DESCENT_READ_AHEAD", "1");
}

/// The records, bits and final report of a whole run of `spec`, read ahead or not.
fn whole_run(spec: &RunSpec, ahead: bool) -> (Vec<EpochRecord>, Vec<u64>, descent::run::Report) {
    every_stream_reads_ahead();
    let mut spec = spec.clone();
    // One thread: no read-ahead anywhere (the validation stream's too).
    spec.threads = Some(if ahead { 2 } else { 1 });
    let (mut run, mut source, _) = Run::<f64>::streaming(spec, None).unwrap();
    source.set_read_ahead(ahead);
    let mut r = Vec::new();
    run.train_source(&mut source, &mut [&mut records(&mut r)])
        .unwrap();
    let m2 = source.stats().targets.m2.clone();
    let report = run.report_source(&mut source, &m2).unwrap();
    // The final pass read its rows on a thread of their own, or not.
    assert_eq!(source.is_reading_ahead(), ahead);
    (r, bits(&run), report)
}

#[test]
fn runs_read_ahead_give_the_bits_of_runs_without() {
    let csv = Scratch::new("same.csv");
    std::fs::write(&csv.0, csv_text(300, None)).unwrap();
    let cases = [
        (fixture("numbers_snappy.parquet"), &NUMBERS[..]),
        (fixture("parts"), &NUMBERS[..]),
        (fixture("numbers.csv"), &NUMBERS[..]),
        (csv.0.clone(), &["a", "b"][..]),
    ];
    for (path, features) in &cases {
        for shuffle in [false, true] {
            for val in [0.0, 0.25] {
                let spec = spec(path, features, shuffle, val);
                let plain = whole_run(&spec, false);
                let ahead = whole_run(&spec, true);
                let case = format!("{}, shuffle {shuffle}, val {val}", path.display());
                assert_eq!(plain.0, ahead.0, "{case}");
                assert_eq!(plain.1, ahead.1, "{case}");
                assert_eq!(plain.2, ahead.2, "{case}");
                assert_eq!(plain.0.len(), 3);
                assert_eq!(plain.0[0].val_loss.is_some(), val > 0.0);
            }
        }
    }
}

#[test]
fn a_run_read_ahead_resumes_mid_epoch_to_the_bits_of_the_whole_run() {
    let csv = Scratch::new("resume.csv");
    std::fs::write(&csv.0, csv_text(300, None)).unwrap();
    for (path, features, shuffle) in [
        (fixture("numbers_snappy.parquet"), &NUMBERS[..], true),
        (csv.0.clone(), &["a", "b"][..], false),
        (csv.0.clone(), &["a", "b"][..], true),
    ] {
        let spec = spec(&path, features, shuffle, 0.2);
        let (whole, whole_bits, _) = whole_run(&spec, false);

        let mut spec = spec.clone();
        spec.threads = Some(2);
        // Late in epoch 2: an unshuffled resume passes over whole chunks before reading.
        let (b, resumed) = stopped_and_resumed(&spec, |steps| steps + steps * 3 / 4 + 1, true);
        let case = format!("{}, shuffle {shuffle}", path.display());
        assert_eq!(whole, b, "{case}");
        assert_eq!(whole_bits, bits(&resumed), "{case}");
    }
}

/// Everything a reader of `path`'s columns `features` and `y` yields in the order of row
/// groups `order`, after skipping `skip` kept rows (`kept`: per row group): each row with
/// its index, group and labels, the counts after it, and how it ended.
fn read_all(
    files: &Arc<ParquetFiles>,
    sel: &Selection,
    order: &[usize],
    skip: (u64, &[u64]),
    ahead: bool,
) -> (Vec<String>, Result<(), String>) {
    let mut reader = RowReader::new(files.clone(), Arc::new(sel.clone()), order.to_vec());
    if ahead {
        reader.read_ahead();
    }
    let mut seen = Vec::new();
    let mut row = vec![0.0; sel.width()];
    let end = reader.skip_kept(skip.0, skip.1).and_then(|()| loop {
        if !reader.next_row(&mut row)? {
            break Ok(());
        }
        let labels: Vec<&str> = reader.last_labels().collect();
        seen.push(format!(
            "{row:?} {} {} {labels:?} {} {:?}",
            reader.last_index(),
            reader.group(),
            reader.dropped,
            reader.opened
        ));
    });
    if !seen.is_empty() {
        assert_eq!(reader.is_reading_ahead(), ahead);
    }
    (seen, end.map_err(|e| e.to_string()))
}

#[test]
fn a_reader_yields_the_same_rows_counts_and_errors_read_ahead() {
    let good = Scratch::new("rows.csv");
    std::fs::write(&good.0, csv_text(200, None)).unwrap();
    let bad = Scratch::new("bad.csv");
    // Row 150: the chunk of rows 144-159, the 10th of 13.
    std::fs::write(&bad.0, csv_text(200, Some(150))).unwrap();
    for (path, drop_missing) in [(&good.0, true), (&good.0, false), (&bad.0, true)] {
        let files = Arc::new(ParquetFiles::open_csv(path, None, 16).unwrap());
        let sel = Selection {
            features: vec![0, 1],
            targets: vec![3],
            classes: Some(Default::default()),
            drop_missing,
            dtype: descent::DType::F64,
            split: Some((
                descent::data::HashSplit::new(0.3, 2),
                descent::data::Part::Train,
            )),
        };
        let n = files.row_groups().len();
        let order: Vec<usize> = (0..n).rev().collect();
        // Rows kept per chunk, made up (the reader takes them as given): whole chunks are
        // passed over before the thread starts.
        let kept: Vec<u64> = (0..n as u64)
            .map(|k| if k % 2 == 0 { 16 } else { 3 })
            .collect();
        for skip in [0, 5, 40] {
            let plain = read_all(&files, &sel, &order, (skip, &kept), false);
            let ahead = read_all(&files, &sel, &order, (skip, &kept), true);
            assert_eq!(plain, ahead, "{}, skip {skip}", path.display());
            if path == &bad.0 && skip == 40 {
                // Chunks 12, 11, 10 and 9 (the bad one) kept 16 + 3 + 16 + 3 rows: passed
                // over unread.
                assert_eq!(plain.1, Ok(()));
            } else if path == &bad.0 {
                // In reverse order the bad chunk is the 4th read.
                assert!(skip > 0 || plain.0.len() > 16, "{}", plain.0.len());
                let line = plain.1.as_ref().unwrap_err();
                assert!(
                    line.contains("line 152") && line.contains("column b"),
                    "{line}"
                );
            } else if !drop_missing {
                let na = plain.1.as_ref().unwrap_err();
                assert!(na.contains("column a"), "{na}");
            } else {
                assert_eq!(plain.1, Ok(()));
            }
        }
    }
    // Parquet: every row group, a null (`level`) an error or a dropped row.
    let files = Arc::new(ParquetFiles::open(&fixture("numbers_zstd.parquet")).unwrap());
    let names = files.names();
    let index = |n: &str| names.iter().position(|m| m == n).unwrap();
    for drop_missing in [true, false] {
        let sel = Selection {
            features: NUMBERS.iter().map(|n| index(n)).collect(),
            targets: vec![index("y")],
            classes: None,
            drop_missing,
            dtype: descent::DType::F64,
            split: None,
        };
        let order = [2, 0, 1];
        let plain = read_all(&files, &sel, &order, (0, &[]), false);
        assert_eq!(plain, read_all(&files, &sel, &order, (0, &[]), true));
        assert_eq!(plain.1.is_ok(), drop_missing, "{:?}", plain.1);
    }
}

#[test]
fn a_bad_cell_met_mid_epoch_read_ahead_is_the_same_error_and_ends_the_run() {
    let file = Scratch::new("changed.csv");
    let mut errors = Vec::new();
    for ahead in [false, true] {
        std::fs::write(&file.0, csv_text(300, None)).unwrap();
        let mut spec = spec(&file.0, &["a", "b"], false, 0.0);
        spec.threads = Some(if ahead { 2 } else { 1 });
        let (mut run, mut source, _) = Run::<f64>::streaming(spec, None).unwrap();
        source.set_read_ahead(ahead);
        // After the statistics pass: a bad cell of the same length in the 12th chunk.
        std::fs::write(&file.0, csv_text(300, Some(190))).unwrap();
        let mut r = Vec::new();
        let err = run
            .train_source(&mut source, &mut [&mut records(&mut r)])
            .unwrap_err();
        assert!(r.is_empty(), "the first epoch fails");
        errors.push(err.to_string());
    }
    assert_eq!(errors[0], errors[1]);
    assert!(
        errors[0].contains("line 192") && errors[0].contains("column b"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_run_stopped_at_its_first_step_ends_with_the_thread() {
    let file = Scratch::new("stop.csv");
    std::fs::write(&file.0, csv_text(3000, None)).unwrap();
    let mut spec = spec(&file.0, &["a", "b"], true, 0.0);
    spec.threads = Some(2);
    for _ in 0..3 {
        let (mut run, mut source, _) = Run::<f64>::streaming(spec.clone(), None).unwrap();
        source.set_read_ahead(true);
        let mut stop = EveryStep(|_: &Event<'_, f64>| Ok(Signal::Stop("test".into())));
        let outcome = run.train_source(&mut source, &mut [&mut stop]).unwrap();
        assert!(matches!(outcome.stop, Stop::Stopped { .. }));
        // The thread waits with decoded chunks for a reader that stopped: dropping the
        // source ends it (a hang here is the failure).
        drop(source);
    }
}
