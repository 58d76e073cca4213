//! Ctrl-C (SIGINT) stops the run cleanly at the end of the current step (or, where one-row
//! updates run fused, at the next step the trainer reports, at most
//! `descent::train::STEP_EVENT_INTERVAL` updates later): the command then writes a final
//! checkpoint, the summary and the model.

use std::sync::atomic::{AtomicBool, Ordering};

use descent::train::{Event, Observer, Signal, StepEvents};
use descent::{Float, Result};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process; a second Ctrl-C still stops at the next step).
pub fn install() {
    // An error means a handler is already installed, which is fine.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

pub struct Interrupt;

/// The stop reason used for Ctrl-C.
pub const REASON: &str = "interrupted (Ctrl-C)";

impl<F: Float> Observer<F> for Interrupt {
    /// Polls the flag on some steps (at least every `STEP_EVENT_INTERVAL` updates).
    fn step_events(&self) -> StepEvents {
        StepEvents::Sparse
    }

    /// A step only once Ctrl-C was pressed: the others cost nothing (no gradient norm).
    fn wants_next_step(&self) -> bool {
        interrupted()
    }

    // Any step is a place to stop at.
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        Ok(match event {
            Event::Step(..) if interrupted() => Signal::Stop(REASON.into()),
            _ => Signal::Continue,
        })
    }
}
