//! A streamed CSV file (chunks of rows in place of row groups) trains to the bits of the same
//! file read whole without shuffling, dropping the same rows; shuffled, it is the stream of
//! the same rows from Parquet with the same boundaries (row groups of 32, chunks of 32), with
//! and without a validation split; it resumes mid-epoch to the bits of the uninterrupted
//! run; a bad cell is the in-memory reader's error, naming the file, line and column, even
//! where quoted line breaks, CRLF line ends and blank lines move the lines.

use std::path::{Path, PathBuf};

use descent::data::Scaling;
use descent::nn::ModelKind;
use descent::{Run, RunSpec};

mod common;

use common::{bits, fixture, records, stopped_and_resumed, streamed, whole_stream_run};

/// A directory of its own for a test, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("descent-csv-stream-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CSV file of `n` rows written to be awkward: a byte-order mark, CRLF line ends, a text
/// column whose quoted cells hold line breaks and separators, blank lines, missing values
/// (`NA`, empty, `nan`) in every third of the first thirty rows, text labels, no line end
/// after the last row.
fn awkward_csv(dir: &Path, n: usize) -> PathBuf {
    let mut text = String::from("\u{feff}a, note ,b,y,label\r\n");
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
    };
    for i in 0..n {
        let (a, b) = (next(), next());
        let y = 1.5 * a - 0.5 * b + 0.1 * next();
        let label = ["cat", "dog", "eel"][((a + 2.0) * 0.75) as usize % 3];
        let note = if i % 4 == 0 {
            format!("\"first line\r\nsecond, {i}\"")
        } else {
            format!("n{i}")
        };
        let a = match i {
            3 => "NA".to_string(),
            12 => String::new(),
            _ => format!("{a:.6}"),
        };
        let y = if i == 21 {
            "nan".into()
        } else {
            format!("{y:.6}")
        };
        text += &format!("{a},{note}, {b:.6} ,{y},{label}\r\n");
        if i % 17 == 5 {
            text += "\r\n";
        }
    }
    text.truncate(text.len() - 2);
    let path = dir.join("awkward.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn awkward_spec(path: &Path, model: ModelKind, target: &str) -> RunSpec {
    let mut spec = RunSpec::csv(path)
        .model(model)
        .scale(Scaling::MinMax)
        .optimizer("adam", 0.01)
        .batch(8)
        .epochs(3)
        .seed(5)
        .targets(&[target]);
    spec.data.features = Some(vec!["a".into(), "b".into()]);
    spec.data.drop_missing = true;
    spec.shuffle = Some(false);
    spec
}

#[test]
fn an_unshuffled_csv_stream_trains_to_the_bits_of_the_file_read_whole() {
    let tmp = Scratch::new("unshuffled");
    let path = awkward_csv(tmp.path(), 150);
    let mlp = ModelKind::Mlp {
        hidden: vec![5],
        activation: descent::nn::Activation::Tanh,
    };
    for (model, target) in [
        (ModelKind::Linear, "y"),
        (ModelKind::Softmax, "label"),
        (mlp, "label"),
    ] {
        let mut spec = awkward_spec(&path, model.clone(), target);
        if target == "label" {
            spec.loss = Some(descent::loss::Loss::CrossEntropy);
        }
        let mut memory = Run::<f64>::new(spec.clone()).unwrap();
        let mut a = Vec::new();
        memory.train(&mut [&mut records(&mut a)]).unwrap();
        for chunk_rows in [7, 64, 1000] {
            let spec = streamed(spec.clone(), 16, Some(chunk_rows));
            let (mut streamed, mut source, report) = Run::<f64>::streaming(spec, None).unwrap();
            assert_eq!(report.rows as usize, memory.train_set.n_rows(), "{model:?}");
            // Rows 3 and 12 (a), and 21 where y is the target.
            let dropped = if target == "y" { 3 } else { 2 };
            assert_eq!(report.dropped, dropped);
            assert_eq!(memory.train_set.dropped_rows, dropped as usize);
            assert_eq!(report.row_groups, 150usize.div_ceil(chunk_rows));
            assert_eq!(streamed.scaler, memory.scaler, "minmax is exact");
            assert_eq!(streamed.train_set.classes, memory.train_set.classes);
            let mut b = Vec::new();
            streamed
                .train_source(&mut source, &mut [&mut records(&mut b)])
                .unwrap();
            assert_eq!(a, b, "{model:?}, chunks of {chunk_rows}");
            assert_eq!(bits(&memory), bits(&streamed), "{model:?}");
        }
    }
}

fn numbers_spec(path: &Path, val: f64) -> RunSpec {
    let mut spec = RunSpec::csv(path)
        .scale(Scaling::MinMax)
        .optimizer("sgd", 0.05)
        .batch(8)
        .epochs(3)
        .seed(9)
        .val_fraction(val);
    spec.data.drop_missing = true;
    spec.data.features = Some(
        ["i8", "u16", "f16", "f32", "f64", "flag", "d32", "level"]
            .map(String::from)
            .to_vec(),
    );
    spec.shuffle = Some(true);
    streamed(spec, 20, Some(32))
}

#[test]
fn a_shuffled_csv_stream_is_the_parquet_stream_of_the_same_rows() {
    for val in [0.0, 0.25] {
        let mut runs = Vec::new();
        for file in ["numbers.csv", "numbers_snappy.parquet"] {
            let spec = numbers_spec(&fixture(file), val);
            let (mut run, mut source, report) = Run::<f64>::streaming(spec, None).unwrap();
            assert_eq!(report.row_groups, 3, "{file}: 96 rows, 32 a group or chunk");
            let mut r = Vec::new();
            run.train_source(&mut source, &mut [&mut records(&mut r)])
                .unwrap();
            runs.push((r, bits(&run), report.rows, report.val_rows));
        }
        assert_eq!(runs[0], runs[1], "validation fraction {val}");
    }
}

#[test]
fn a_shuffled_csv_stream_resumes_mid_epoch_to_the_bits_of_the_whole_run() {
    let tmp = Scratch::new("resume");
    let path = awkward_csv(tmp.path(), 150);
    let mut spec = awkward_spec(&path, ModelKind::Linear, "y").val_fraction(0.2);
    spec.shuffle = Some(true);
    let spec = streamed(spec, 24, Some(11));
    let (a, whole, _) = whole_stream_run(&spec);
    // Mid-epoch 2.
    let (b, resumed) = stopped_and_resumed(&spec, |steps| steps + steps / 2 + 1, false);
    assert_eq!(a, b);
    assert_eq!(bits(&whole), bits(&resumed));
}

/// The error of a streamed run of `text` and of the same file read whole.
fn both_errors(dir: &Path, text: &str, target: &str, drop_missing: bool) -> (String, String) {
    let path = dir.join("bad.csv");
    std::fs::write(&path, text).unwrap();
    let mut spec = awkward_spec(&path, ModelKind::Linear, target);
    spec.data.drop_missing = drop_missing;
    if target == "label" {
        spec.model = ModelKind::Softmax;
    }
    let memory = Run::<f64>::new(spec.clone()).unwrap_err().to_string();
    let streamed = match Run::<f64>::streaming(streamed(spec, 4, Some(2)), None) {
        Ok((mut run, mut source, _)) => run
            .train_source(&mut source, &mut [])
            .map(|_| ())
            .unwrap_err(),
        Err(e) => e,
    };
    let local = |e: String| e.replace(&format!("{}/", dir.display()), "");
    (local(memory), local(streamed.to_string()))
}

#[test]
fn a_bad_cell_is_the_in_memory_readers_error_naming_file_line_and_column() {
    let tmp = Scratch::new("cells");
    let d = tmp.path();
    let head = "a,b,y,label\r\n1,2,3,cat\r\n\"4\",5,6,dog\r\n\r\n7,8,9,cat\r\n";
    let cases = [
        // A bad number in the fourth chunk, after a blank line and a quoted line break.
        (
            format!("{head}1,2,3,\"x\ny\"\r\n1,2,3,dog\r\n1,2,3,cat\r\n1,oops,3,dog"),
            "y",
            false,
            "bad.csv, line 10, column b: `oops` is not a number",
        ),
        (
            format!("{head}1,2,3,cat\r\n1,2,3,dog\r\n1,2,,dog\r\n"),
            "y",
            false,
            "bad.csv, line 8, column y: empty cell; fill it in, remove the row, or pass --drop-missing",
        ),
        (
            format!("{head}1,2,3,cat\r\n1,2,3,dog\r\n1,2,3\r\n"),
            "y",
            false,
            "bad.csv, line 8: this row has 3 fields but the header has 4",
        ),
        (
            format!("{head}1,2,3,cat\r\n1,2,inf,dog\r\n"),
            "y",
            false,
            "bad.csv, line 7, column y: `inf` is infinite; only finite numbers can be used (--drop-missing drops such rows)",
        ),
        (
            format!("{head}1,2,3,cat\r\n1,2,3,\r\n"),
            "label",
            false,
            "bad.csv, line 7, column label: empty label",
        ),
        // A missing value does not hide a typo elsewhere in the row unless the row is dropped.
        (
            format!("{head}NA,2,x,cat\r\n1,2,3,cat\r\n1,2,z,dog\r\n"),
            "y",
            true,
            "bad.csv, line 8, column y: `z` is not a number",
        ),
    ];
    for (text, target, drop, expected) in cases {
        let (memory, streamed) = both_errors(d, &text, target, drop);
        assert_eq!(streamed, memory);
        assert_eq!(memory, expected);
    }
}

#[test]
fn the_header_is_checked_as_in_memory() {
    let tmp = Scratch::new("header");
    let d = tmp.path();
    for (text, expected) in [
        ("", "bad.csv, line 1: the file is empty; expected a header row naming the columns"),
        ("a,a,y\n1,2,3\n", "bad.csv, line 1: the column name `a` appears twice in the header"),
        (
            "a:b:y\n1:2:3\n",
            "bad.csv, line 1: the header parses as one column, `a:b:y`, with each separator tried (comma, tab, semicolon, pipe); if the file separates its columns with another character, pass it with --delimiter",
        ),
    ] {
        let (memory, streamed) = both_errors(d, text, "y", false);
        assert_eq!(memory, expected);
        assert_eq!(streamed, expected);
    }
}
