//! The classic lesson: learn `w` in `y = w·x` from three points (x = 1, 2, 3; y = 2, 4, 6)
//! by batch gradient descent from `w = 1`, printing `w` every 10 epochs through a closure
//! observer, then predicting `y` for `x = 4` (about 8).
//!
//! Run it with `cargo run -p descent --release --example classic`.

use descent::nn::ModelKind;
use descent::params::Init;
use descent::train::{Event, Signal};
use descent::{Run, RunSpec};

fn main() -> descent::Result<()> {
    let spec = RunSpec::builtin("classic")
        .model(ModelKind::LinearNobias)
        .init(Init::Constant(1.0))
        .optimizer("sgd", 0.01)
        .batch_full()
        .epochs(100);

    // A closure is an observer of epochs; the parameters are the flat buffer, here just [w].
    let mut print_w = |event: &Event<'_, f64>| {
        if let Event::Epoch(record, params) = event {
            if record.epoch % 10 == 0 {
                println!(
                    "epoch {:>3}  loss {:.3e}  w {:.6}",
                    record.epoch, record.loss, params[0]
                );
            }
        }
        Ok(Signal::Continue)
    };
    let mut run = Run::<f64>::new(spec)?;
    run.train(&mut [&mut print_w])?;

    let model = run.model();
    let prediction = model.predict_row(&[4.0])?;
    let y = prediction
        .values()
        .expect("a regression model predicts values");
    println!(
        "w = {}, prediction for x = 4: {:.6}",
        model.params[0],
        y[[0, 0]]
    );
    assert!((y[[0, 0]] - 8.0).abs() < 1e-3, "w·4 should be close to 8");
    Ok(())
}
