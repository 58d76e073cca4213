//! Animated GIFs: every frame drawn into a bitmap, then all frames written with one palette
//! taken from the colours the frames use, so that each optimizer keeps its plot colour in
//! every frame (a per-frame quantiser turns RMSprop's red towards momentum's orange).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;

use super::{err, register_font, Figure, Glyphs, OPTIMIZER_COLOURS, PALETTE};

/// GIF frames are smaller than still figures: they are many.
pub const GIF_SIZE: (u32, u32) = (720, 480);

type Rgb = [u8; 3];

/// Writes `frames` to `path` as a looping GIF, `delay_ms` per frame (the last one held longer).
pub fn save_gif(path: &Path, frames: &[impl Figure], delay_ms: u32) -> Result<()> {
    register_font();
    let write = || -> Result<()> {
        let (w, h) = GIF_SIZE;
        let mut bitmaps = Vec::with_capacity(frames.len());
        for frame in frames {
            let mut buf = vec![0u8; (w * h * 3) as usize];
            {
                let root =
                    Glyphs(BitMapBackend::with_buffer(&mut buf, GIF_SIZE)).into_drawing_area();
                root.fill(&WHITE).map_err(err)?;
                frame.draw(&root)?;
                root.present().map_err(err)?;
            }
            bitmaps.push(buf);
        }
        let palette = palette(&bitmaps);
        let flat: Vec<u8> = palette.iter().flatten().copied().collect();
        let file = BufWriter::new(File::create(path)?);
        let mut encoder = gif::Encoder::new(file, w as u16, h as u16, &flat)?;
        encoder.set_repeat(gif::Repeat::Infinite)?;
        let mut nearest: HashMap<Rgb, u8> = HashMap::new();
        let delay = (delay_ms / 10).max(1) as u16;
        for (k, bitmap) in bitmaps.iter().enumerate() {
            let indices: Vec<u8> = bitmap
                .chunks_exact(3)
                .map(|p| {
                    let c = [p[0], p[1], p[2]];
                    *nearest.entry(c).or_insert_with(|| closest(&palette, c))
                })
                .collect();
            let mut frame = gif::Frame {
                width: w as u16,
                height: h as u16,
                buffer: indices.into(),
                // The final state held for about 1.5 s.
                delay: if k + 1 == bitmaps.len() {
                    delay.max(150)
                } else {
                    delay
                },
                ..gif::Frame::default()
            };
            frame.dispose = gif::DisposalMethod::Keep;
            encoder.write_frame(&frame)?;
        }
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

/// At most 256 colours: first every series colour the frames use (exactly), then the most
/// frequent of the rest.
fn palette(bitmaps: &[Vec<u8>]) -> Vec<Rgb> {
    let mut counts: HashMap<Rgb, u64> = HashMap::new();
    for b in bitmaps {
        for p in b.chunks_exact(3) {
            *counts.entry([p[0], p[1], p[2]]).or_insert(0) += 1;
        }
    }
    let series = OPTIMIZER_COLOURS
        .iter()
        .map(|(_, c)| c)
        .chain(PALETTE.iter())
        .map(|c| [c.0, c.1, c.2]);
    let mut out: Vec<Rgb> = Vec::with_capacity(256);
    for c in series.chain([[0, 0, 0], [255, 255, 255]]) {
        if counts.contains_key(&c) && !out.contains(&c) {
            out.push(c);
        }
    }
    let mut rest: Vec<(Rgb, u64)> = counts
        .into_iter()
        .filter(|(c, _)| !out.contains(c))
        .collect();
    rest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let room = 256 - out.len();
    out.extend(rest.into_iter().take(room).map(|(c, _)| c));
    if out.is_empty() {
        out.push([255, 255, 255]);
    }
    out
}

fn closest(palette: &[Rgb], c: Rgb) -> u8 {
    let d = |p: &Rgb| -> i32 {
        (0..3)
            .map(|i| (i32::from(p[i]) - i32::from(c[i])).pow(2))
            .sum()
    };
    (0..palette.len())
        .min_by_key(|&i| d(&palette[i]))
        .unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_colours_are_in_the_palette_exactly() {
        let rmsprop = [214, 39, 40];
        let mut frame = vec![255u8; 3 * 300];
        frame[..3].copy_from_slice(&rmsprop);
        // 300 shades of a blend, more frequent than the series colour.
        for (i, p) in frame.chunks_exact_mut(3).enumerate().skip(1) {
            p.copy_from_slice(&[(i % 256) as u8, 100, 100]);
        }
        let p = palette(&[frame]);
        assert_eq!(p[0], rmsprop);
        assert!(p.len() <= 256);
        assert_eq!(closest(&p, rmsprop), 0);
    }
}
