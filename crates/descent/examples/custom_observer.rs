//! A custom observer: a struct implementing `Observer<f64>` that prints the loss every
//! `every` epochs and stops the run (`Signal::Stop`) once the loss is below a target. The
//! run's `Outcome` then says who stopped it and why.
//!
//! Run it with `cargo run -p descent --release --example custom_observer`.

use descent::nn::ModelKind;
use descent::train::{Event, Observer, Signal, Stop};
use descent::{Run, RunSpec};

/// Prints the loss every `every` epochs; asks to stop when it falls below `target`.
struct StopBelow {
    every: usize,
    target: f64,
}

impl Observer<f64> for StopBelow {
    fn on_event(&mut self, event: &Event<'_, f64>) -> descent::Result<Signal> {
        match event {
            Event::Start(start) => println!(
                "training {} parameters for up to {} epochs ({} engine)",
                start.n_params, start.epochs, start.engine
            ),
            Event::Epoch(record, _) if record.loss < self.target => {
                return Ok(Signal::Stop(format!(
                    "loss {:.6} < {} at epoch {}",
                    record.loss, self.target, record.epoch
                )));
            }
            Event::Epoch(record, _) if record.epoch % self.every == 0 => {
                println!("epoch {:>4}  loss {:.6}", record.epoch, record.loss);
            }
            _ => {}
        }
        Ok(Signal::Continue)
    }
}

fn main() -> descent::Result<()> {
    // toxicity = 1.2 size + uniform noise of width 0.1: the best mean squared error is
    // about 0.1² / 12 ≈ 0.00083 (0.00085 for these 100 beans), so 0.0009 is reachable.
    let epochs = 1000;
    let spec = RunSpec::builtin("beans")
        .model(ModelKind::Linear)
        .optimizer("sgd", 0.5)
        .batch_full()
        .epochs(epochs);
    let mut stop_below = StopBelow {
        every: 10,
        target: 0.0009,
    };
    let mut run = Run::<f64>::new(spec)?;
    let outcome = run.train(&mut [&mut stop_below])?;

    println!(
        "stop: {:?} after {} of {epochs} epochs",
        outcome.stop, outcome.epochs
    );
    assert!(
        matches!(outcome.stop, Stop::Stopped { .. }),
        "the observer, not the epoch count, should end the run"
    );
    assert!(outcome.last.is_some_and(|r| r.loss < 0.0009));
    Ok(())
}
