//! Animated GIFs: one frame per figure, drawn with plotters' GIF backend.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;

use super::{err, register_font, Figure};

/// GIF frames are smaller than still figures: they are many, and quantised one by one.
const GIF_SIZE: (u32, u32) = (720, 480);

/// Writes `frames` to `path` as a looping GIF, `delay_ms` per frame (the last one held longer).
pub fn save_gif(path: &Path, frames: &[impl Figure], delay_ms: u32) -> Result<()> {
    register_font();
    let draw = || -> Result<()> {
        let backend = BitMapBackend::gif(path, GIF_SIZE, delay_ms).map_err(|e| anyhow!("{e}"))?;
        let root = backend.into_drawing_area();
        for (k, frame) in frames.iter().enumerate() {
            root.fill(&WHITE).map_err(err)?;
            frame.draw(&root)?;
            root.present().map_err(err)?;
            if k + 1 == frames.len() {
                // Hold the final state: the same frame again adds to its display time.
                for _ in 0..(1500 / delay_ms.max(1)).min(8) {
                    root.fill(&WHITE).map_err(err)?;
                    frame.draw(&root)?;
                    root.present().map_err(err)?;
                }
            }
        }
        Ok(())
    };
    draw().with_context(|| format!("cannot write {}", path.display()))
}
