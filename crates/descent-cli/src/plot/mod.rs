//! Figures (plotters, with the DejaVu Sans font carried in the repository so that text renders
//! on a machine with no fonts installed). The format follows the file extension: `.svg` or
//! `.png`; [`save_gif`] writes an animation.
//!
//! One file per kind of figure: [`line`] charts, [`contour`] plots and heat maps, [`scatter`]
//! with a fitted curve, and [`gif`] animations. Every figure colours an optimizer the same way
//! ([`colour_for`]), so that `adam` is purple in the loss plot, the contour and the GIF alike.

mod colour_bar;
mod contour;
mod gif;
mod legend;
mod line;
mod scatter;
mod text;

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

pub use contour::{field_around, ContourChart, Field, Path2d, Regions};
pub use gif::save_gif;
pub use line::{LineChart, Marker, Series, VLine};
pub use scatter::ScatterFit;
pub use text::Glyphs;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in and known to be valid; a failure here is a build defect.
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| ())
            .expect("bundled DejaVu Sans registers");
    });
}

/// Colours used for series that are not optimizers (Tableau 10, whose colours stay apart
/// for the common colour-vision deficiencies; markers and line widths tell them apart too).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The fixed optimizer-name → colour mapping shared by every figure.
const OPTIMIZER_COLOURS: [(&str, RGBColor); 15] = [
    ("sgd", RGBColor(31, 119, 180)),
    ("momentum", RGBColor(255, 127, 14)),
    ("adagrad", RGBColor(44, 160, 44)),
    ("rmsprop", RGBColor(214, 39, 40)),
    ("adam", RGBColor(148, 103, 189)),
    ("adamw", RGBColor(140, 86, 75)),
    ("nadam", RGBColor(227, 119, 194)),
    ("adamax", RGBColor(127, 127, 127)),
    ("radam", RGBColor(188, 189, 34)),
    ("adadelta", RGBColor(23, 190, 207)),
    ("nesterov", RGBColor(174, 98, 0)),
    ("momentum-ema", RGBColor(255, 187, 120)),
    ("asgd", RGBColor(57, 59, 121)),
    ("rprop", RGBColor(99, 121, 57)),
    ("sign", RGBColor(132, 60, 57)),
];

/// The colour of a series: fixed for an optimizer (the name's first word, e.g. `adam` in
/// `adam lr=0.1`), otherwise the `index`-th palette colour.
pub fn colour_for(name: &str, index: usize) -> RGBColor {
    let key = name
        .split(|c: char| c.is_whitespace() || c == '(' || c == '=' || c == ',')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    OPTIMIZER_COLOURS
        .iter()
        .find(|(n, _)| *n == key)
        .map_or(PALETTE[index % PALETTE.len()], |(_, c)| *c)
}

/// The marker of the `k`-th series at `at` (drawn every few points, so that lines that
/// overlap, or that print in grey, stay told apart): circle, triangle, square, cross, diamond.
pub fn marker<C>(k: usize, at: C, colour: RGBColor) -> Mark<C> {
    Mark {
        at,
        k,
        colour,
        ring: false,
    }
}

/// The same marker with a thin black ring around it, so that an end point shows over its
/// own line.
pub fn ringed_marker<C>(k: usize, at: C, colour: RGBColor) -> Mark<C> {
    Mark {
        ring: true,
        ..marker(k, at, colour)
    }
}

/// No marker (where a legend entry has a line only).
pub fn no_marker<C>(at: C) -> Mark<C> {
    marker(usize::MAX, at, BLACK)
}

/// A marker shape at a point (see [`marker`]).
pub struct Mark<C> {
    at: C,
    k: usize,
    colour: RGBColor,
    ring: bool,
}

impl<'a, C> PointCollection<'a, C> for &'a Mark<C> {
    type Point = &'a C;
    type IntoIter = std::iter::Once<&'a C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for Mark<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = pos.next() else {
            return Ok(());
        };
        let fill = self.colour.filled();
        match if self.k == usize::MAX { 5 } else { self.k % 5 } {
            5 => {}
            0 => backend.draw_circle((x, y), 5, &fill, true)?,
            1 => backend.fill_polygon(vec![(x, y - 7), (x + 6, y + 4), (x - 6, y + 4)], &fill)?,
            2 => backend.draw_rect((x - 4, y - 4), (x + 4, y + 4), &fill, true)?,
            3 => {
                let s = self.colour.stroke_width(3);
                backend.draw_line((x - 5, y - 5), (x + 5, y + 5), &s)?;
                backend.draw_line((x - 5, y + 5), (x + 5, y - 5), &s)?;
            }
            _ => {
                backend.fill_polygon(vec![(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)], &fill)?
            }
        }
        if self.ring {
            backend.draw_circle((x, y), 9, &BLACK.stroke_width(1), false)?;
        }
        Ok(())
    }
}

/// Figure size in pixels.
pub const SIZE: (u32, u32) = (900, 600);

/// Something that draws itself onto any plotters backend.
pub trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Draws `figure` into `path` (`.svg` or `.png`).
pub fn save(figure: &impl Figure, path: &Path) -> Result<()> {
    register_font();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let result = match ext {
        "svg" => render(figure, SVGBackend::new(path, SIZE).into_drawing_area()),
        "png" => render(
            figure,
            Glyphs(BitMapBackend::new(path, SIZE)).into_drawing_area(),
        ),
        _ => bail!(
            "cannot plot to {}: use a .svg or .png file name",
            path.display()
        ),
    };
    result.with_context(|| format!("cannot draw {}", path.display()))
}

/// Draws `figure` as `DIR/STEM.svg` and `DIR/STEM.png`; returns the two file names.
pub fn save_both(figure: &impl Figure, dir: &Path, stem: &str) -> Result<[String; 2]> {
    let names = [format!("{stem}.svg"), format!("{stem}.png")];
    for n in &names {
        save(figure, &dir.join(n))?;
    }
    Ok(names)
}

fn render<DB: DrawingBackend>(figure: &impl Figure, root: DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    figure.draw(&root)?;
    root.present().map_err(err)
}

/// plotters' drawing errors as anyhow errors.
fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("{e}")
}

/// `points` cut into pieces at every turn sharper than about 110° (measured after dividing x
/// and y by the axis spans), each piece drawn as its own line: plotters joins thick lines with
/// unlimited miters, and a zigzag path would otherwise grow spikes across the figure.
fn pieces(points: &[(f64, f64)], span: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let (sx, sy) = (
        1.0 / span.0.max(f64::MIN_POSITIVE),
        1.0 / span.1.max(f64::MIN_POSITIVE),
    );
    let mut out = vec![Vec::new()];
    for (k, &p) in points.iter().enumerate() {
        if k >= 2 {
            let (a, b) = (points[k - 2], points[k - 1]);
            let (ux, uy) = ((b.0 - a.0) * sx, (b.1 - a.1) * sy);
            let (vx, vy) = ((p.0 - b.0) * sx, (p.1 - b.1) * sy);
            let cos = (ux * vx + uy * vy) / ((ux.hypot(uy) * vx.hypot(vy)).max(1e-300));
            if cos < -0.35 {
                out.push(vec![b]);
            }
        }
        out.last_mut().expect("never empty").push(p);
    }
    out
}

/// An axis tick: short decimals (`0.5`, `2`, `30000`), powers of ten in scientific form.
pub fn tick(v: &f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A tick on a linear axis spanning `span`: like [`tick`], with rounding noise around zero
/// (e.g. `-1.1e-16` on an axis from -0.8 to 0.2) shown as `0`.
pub fn tick_in(v: f64, span: f64) -> String {
    if v.abs() <= 1e-9 * span.abs() {
        "0".into()
    } else {
        tick(&v)
    }
}

/// The labelled (`.0`) and unlabelled grid (`.1`) ticks of a log axis from `lo` to `hi`:
/// powers of ten when the range spans enough of them, else 1-2-5 steps, else every
/// 1..9 × 10^k, else evenly spaced round values, so that any range gets at least three labels.
pub fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if !(lo > 0.0 && hi.is_finite()) {
        return (Vec::new(), Vec::new());
    }
    let inside = |mults: &[f64]| -> Vec<f64> {
        let (k0, k1) = (lo.log10().floor() as i32 - 1, hi.log10().ceil() as i32 + 1);
        let mut v = Vec::new();
        for k in k0..=k1 {
            for m in mults {
                // Round so that 0.1 is 0.1 and not 0.30000000000000004 (3e-1 is exact text).
                let t: f64 = format!("{m}e{k}").parse().unwrap_or(f64::NAN);
                if t >= lo * (1.0 - 1e-12) && t <= hi * (1.0 + 1e-12) {
                    v.push(t);
                }
            }
        }
        v
    };
    let nine: Vec<f64> = (1..=9).map(f64::from).collect();
    let decades = inside(&[1.0]);
    if decades.len() >= 3 {
        // At most about eight labels: every second (third, ...) power of ten.
        let every = decades.len().div_ceil(8);
        let labels = decades.iter().copied().step_by(every).collect();
        let light = if every == 1 { inside(&nine) } else { decades };
        return (labels, light);
    }
    let minor = inside(&nine);
    for candidate in [inside(&[1.0, 2.0, 5.0]), minor.clone()] {
        if candidate.len() >= 3 {
            return (candidate, minor);
        }
    }
    // Under a factor of about 1.5: round values evenly spaced on the plain scale.
    let span = hi - lo;
    let step = nice_step(span / 4.0);
    let mut v = Vec::new();
    let mut t = (lo / step).ceil() * step;
    while t <= hi * (1.0 + 1e-12) {
        v.push(t);
        t += step;
    }
    (v.clone(), v)
}

/// The round step (1, 2 or 5 × 10^k) nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

/// The legend corner that covers the fewest of `points` (in data coordinates of the box
/// `x` × `y`): the legend takes about the outer 40% × 30% of the plot at a corner.
pub fn legend_corner(
    points: impl Iterator<Item = (f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
) -> SeriesLabelPosition {
    let mut counts = [0usize; 4];
    for (px, py) in points {
        let (u, v) = ((px - x.0) / (x.1 - x.0), (py - y.0) / (y.1 - y.0));
        let (left, right, top, bottom) = (u < 0.4, u > 0.6, v > 0.7, v < 0.3);
        for (k, inside) in [right && top, left && top, right && bottom, left && bottom]
            .into_iter()
            .enumerate()
        {
            counts[k] += usize::from(inside);
        }
    }
    // Ties keep the conventional upper right.
    let best = (0..4).min_by_key(|&k| (counts[k], k)).unwrap_or(0);
    [
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ][best]
        .clone()
}

/// The finite bounds of `values`, widened when empty or degenerate and padded by 5%.
fn bounds(values: impl Iterator<Item = f64>, pad: bool) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi <= lo {
        let w = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - w, hi + w);
    }
    let p = if pad { (hi - lo) * 0.05 } else { 0.0 };
    (lo - p, hi + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimizers_keep_their_colour_whatever_their_position() {
        assert_eq!(colour_for("adam", 0), colour_for("adam lr=0.1", 5));
        assert_ne!(colour_for("adam", 0), colour_for("sgd", 0));
        assert_eq!(colour_for("loss", 2), PALETTE[2]);
    }

    #[test]
    fn zigzags_are_cut_at_their_turns() {
        let zig = [(0.0, 0.0), (1.0, 0.0), (0.0, 0.1), (1.0, 0.2)];
        assert_eq!(pieces(&zig, (1.0, 1.0)).len(), 3);
        let smooth = [(0.0, 0.0), (1.0, 0.1), (2.0, 0.3)];
        assert_eq!(pieces(&smooth, (1.0, 1.0)).len(), 1);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(&9.999999999999999e-6), "1e-5");
        assert_eq!(tick(&30000.0), "30000");
        assert_eq!(tick(&0.5), "0.5");
        assert_eq!(tick(&2.0), "2");
        assert_eq!(tick(&2.5e-4), "2.5e-4");
        assert_eq!(tick_in(-1.1e-16, 1.0), "0");
        assert_eq!(tick_in(0.25, 1.0), "0.25");
    }

    #[test]
    fn every_log_axis_gets_at_least_three_labels() {
        for (lo, hi) in [
            (0.28, 0.69),
            (0.215, 0.9),
            (1e-7, 10.0),
            (1e-30, 1e3),
            (0.5, 0.6),
            (1000.0, 30000.0),
            (2.0, 3.0),
            (1e-16, 1.0),
        ] {
            let (labels, _) = log_ticks(lo, hi);
            assert!(labels.len() >= 3, "{lo}..{hi}: {labels:?}");
            assert!(labels.len() <= 12, "{lo}..{hi}: {labels:?}");
            // Within the range up to the rounding of the tick arithmetic (0.6000000000000001).
            let inside = |t: &f64| *t >= lo * (1.0 - 1e-12) && *t <= hi * (1.0 + 1e-12);
            assert!(labels.iter().all(inside), "{labels:?}");
        }
        assert_eq!(
            log_ticks(0.215, 0.9).0,
            vec![0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        );
        assert_eq!(log_ticks(0.05, 3.0).0, vec![0.05, 0.1, 0.2, 0.5, 1.0, 2.0]);
        assert_eq!(log_ticks(1e-3, 10.0).0, vec![1e-3, 1e-2, 0.1, 1.0, 10.0]);
    }

    #[test]
    fn the_legend_avoids_the_points() {
        let upper_right = [(0.9, 0.9), (0.95, 0.8)];
        let pos = legend_corner(upper_right.into_iter(), (0.0, 1.0), (0.0, 1.0));
        assert!(matches!(pos, SeriesLabelPosition::UpperLeft));
        let none = legend_corner(std::iter::empty(), (0.0, 1.0), (0.0, 1.0));
        assert!(matches!(none, SeriesLabelPosition::UpperRight));
    }
}
