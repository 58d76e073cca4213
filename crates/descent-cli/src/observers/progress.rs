//! A progress bar on stderr (hidden with `--quiet` or when stderr is not a terminal).

use descent::train::{Event, Observer, Signal};
use descent::{Float, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let bar = ProgressBar::hidden();
        if !quiet {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} epoch {pos}/{len} {msg} [{elapsed_precise}<{eta_precise}]",
            )
            .expect("valid template"),
        );
        Progress { bar }
    }
}

impl<F: Float> Observer<F> for Progress {
    // Per epoch only.
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        match event {
            Event::Start(start) => {
                self.bar.set_length(start.epochs as u64);
                self.bar.set_position(start.from_epoch as u64);
            }
            Event::Epoch(r, _) => {
                self.bar.set_position(r.epoch as u64);
                self.bar.set_message(format!("loss {:.6e}", r.loss));
            }
            Event::End(..) => self.bar.finish_and_clear(),
            Event::Step(..) => {}
        }
        Ok(Signal::Continue)
    }
}
