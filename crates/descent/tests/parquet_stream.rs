//! Streamed Parquet data ([`ParquetBatches`]) trains to the bits of the same data in memory
//! without shuffling; a shuffled stream is a seeded permutation, the same for a seed, and
//! resumes mid-epoch from a position to the bits of the uninterrupted run.

use std::path::Path;

use descent::data::parquet::{shuffle_quality, StreamOrder};
use descent::data::Scaling;
use descent::{Run, RunSpec};

mod common;

use common::{bits, fixture, records, stopped_and_resumed, streamed, whole_stream_run};

fn spec(path: &Path, shuffle: bool) -> RunSpec {
    let mut spec = RunSpec::csv(path)
        .scale(Scaling::MinMax)
        .optimizer("adam", 0.01)
        .batch(8)
        .epochs(3)
        .seed(5);
    spec.data.drop_missing = true;
    spec.data.features = Some(
        ["i8", "u16", "f16", "f32", "f64", "flag", "d32", "level"]
            .map(String::from)
            .to_vec(),
    );
    spec.shuffle = Some(shuffle);
    streamed(spec, 16, None)
}

#[test]
fn an_unshuffled_stream_trains_to_the_bits_of_the_table_in_memory() {
    for file in ["numbers_zstd.parquet", "parts"] {
        let spec = spec(&fixture(file), false);
        let mut memory = Run::<f64>::new(spec.clone()).unwrap();
        let mut a = Vec::new();
        memory.train(&mut [&mut records(&mut a)]).unwrap();
        let (mut streamed, mut source, report) = Run::<f64>::streaming(spec, None).unwrap();
        assert_eq!(streamed.scaler, memory.scaler, "minmax is exact");
        assert_eq!(report.rows as usize, memory.train_set.n_rows());
        let mut b = Vec::new();
        streamed
            .train_source(&mut source, &mut [&mut records(&mut b)])
            .unwrap();
        assert_eq!(a, b, "{file}");
        assert_eq!(bits(&memory), bits(&streamed), "{file}");
    }
}

#[test]
fn standard_scaling_from_one_pass_matches_the_table_to_rounding() {
    let mut spec = spec(&fixture("numbers_none.parquet"), false);
    spec.scale = Scaling::Standard;
    let memory = Run::<f64>::new(spec.clone()).unwrap();
    let (streamed, _, _) = Run::<f64>::streaming(spec, None).unwrap();
    let (
        descent::data::Scaler::Standard { mean: m1, std: s1 },
        descent::data::Scaler::Standard { mean: m2, std: s2 },
    ) = (&memory.scaler, &streamed.scaler)
    else {
        panic!("standard scalers");
    };
    for (a, b) in m1.iter().zip(m2).chain(s1.iter().zip(s2)) {
        assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn a_shuffled_stream_resumes_mid_epoch_to_the_bits_of_the_whole_run() {
    let spec = spec(&fixture("numbers_snappy.parquet"), true);
    let (a, whole, _) = whole_stream_run(&spec);
    // Stopped mid-epoch 2; resumed as a fresh process: a new run and a new source, given
    // only the checkpoint.
    let (b, resumed) = stopped_and_resumed(&spec, |steps| steps + steps / 2 + 1, false);
    assert_eq!(a, b);
    assert_eq!(bits(&whole), bits(&resumed));
}

#[test]
fn the_shuffled_order_is_a_seeded_permutation_and_its_quality_is_as_reported() {
    let kept = [30, 30, 30, 30, 30, 30, 30, 30, 30, 30];
    let order = |seed, buffer| StreamOrder {
        batch: 8,
        shuffle: Some(seed),
        buffer,
    };
    let mut e0 = order(1, 20).epoch_positions(0, &kept);
    assert_eq!(
        e0,
        order(1, 20).epoch_positions(0, &kept),
        "a pure function of the seed"
    );
    assert_ne!(
        e0,
        order(1, 20).epoch_positions(1, &kept),
        "a new order each epoch"
    );
    assert_ne!(e0, order(2, 20).epoch_positions(0, &kept));
    e0.sort_unstable();
    assert_eq!(e0, (0..300).collect::<Vec<u64>>(), "every row once");
    // A buffer as large as the data is a full shuffle: the mean displacement is n/3.
    let (got, full) = shuffle_quality(&order(3, 300), &kept);
    assert!((full - 100.0).abs() < 0.01, "{full}");
    assert!((got / full - 1.0).abs() < 0.1, "{got} vs {full}");
    // No shuffle: nothing moves. A buffer of one row keeps the rows of a group together.
    let none = StreamOrder {
        batch: 8,
        shuffle: None,
        buffer: 20,
    };
    assert_eq!(shuffle_quality(&none, &kept).0, 0.0);
    let (one, _) = shuffle_quality(&order(3, 1), &[300]);
    assert_eq!(one, 0.0);
}
