//! Contour plots and heat maps of a function of two variables, with optimizer paths on top.
//!
//! The function is sampled on a grid ([`Field`]); the shading is banded on a logarithmic scale
//! of `f - min f` (light = low), so that a valley a thousand times shallower than the rim
//! still shows (linear for a function with negative values, such as a saddle), and iso-lines
//! are drawn between the bands by marching squares.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{colour_for, err, legend_corner, pieces, tick_in, Figure, Marker};

/// Number of shading bands (and so of iso-lines, less one).
const BANDS: usize = 16;

/// A function sampled at the centres of an `nx` × `ny` grid over a box.
#[derive(Clone, Debug)]
pub struct Field {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub nx: usize,
    pub ny: usize,
    /// `values[j * nx + i]` is the value at `(x_i, y_j)`.
    pub values: Vec<f64>,
}

impl Field {
    pub fn sample(
        x: (f64, f64),
        y: (f64, f64),
        nx: usize,
        ny: usize,
        f: impl Fn(f64, f64) -> f64,
    ) -> Field {
        let mut field = Field {
            x,
            y,
            nx,
            ny,
            values: Vec::with_capacity(nx * ny),
        };
        for j in 0..ny {
            for i in 0..nx {
                let v = f(field.xi(i), field.yj(j));
                field.values.push(v);
            }
        }
        field
    }

    fn xi(&self, i: usize) -> f64 {
        self.x.0 + (i as f64 + 0.5) * (self.x.1 - self.x.0) / self.nx as f64
    }

    fn yj(&self, j: usize) -> f64 {
        self.y.0 + (j as f64 + 0.5) * (self.y.1 - self.y.0) / self.ny as f64
    }

    /// Each value mapped to [0, 1] on a log scale of its distance above the minimum (the top
    /// 1% clipped, so that one far corner does not flatten the rest); NaN stays NaN.
    fn levels(&self) -> Vec<f64> {
        let mut finite: Vec<f64> = self
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if finite.is_empty() {
            return vec![f64::NAN; self.values.len()];
        }
        finite.sort_by(f64::total_cmp);
        let lo = finite[0];
        let hi = finite[(finite.len() - 1) * 99 / 100];
        // A function unbounded below (a saddle) has no floor to measure from: shade linearly.
        let log = lo >= 0.0;
        let delta = ((hi - lo) * 1e-4).max(1e-300);
        let (a, b) = (delta.ln(), (hi - lo + delta).ln());
        self.values
            .iter()
            .map(|&v| {
                if v.is_nan() {
                    f64::NAN
                } else if log {
                    (((v - lo).max(0.0) + delta).ln() - a) / (b - a).max(1e-12)
                } else {
                    (v - lo) / (hi - lo).max(1e-300)
                }
                .min(1.0)
            })
            .collect()
    }
}

/// One optimizer's (or method's) path through the plane.
#[derive(Clone, Debug, Default)]
pub struct Path2d {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A contour plot of `field` with `paths` (start: open circle, end: filled circle),
/// `markers` (black crosses, e.g. the minimum or the best grid point), `dots` (data points)
/// and `boundaries` (iso-lines of the raw values).
#[derive(Clone, Debug)]
pub struct ContourChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub field: &'a Field,
    pub paths: Vec<Path2d>,
    pub markers: Vec<Marker>,
    /// Data points, one colour per group (e.g. per class).
    pub dots: Vec<Marker>,
    /// Values of the function drawn as thick black iso-lines (e.g. a decision boundary).
    pub boundaries: Vec<f64>,
}

impl<'a> ContourChart<'a> {
    /// The same chart with every path cut after its first `n` points (a frame of a GIF).
    pub fn truncated(&self, n: usize) -> ContourChart<'a> {
        let mut c = self.clone();
        for p in &mut c.paths {
            p.points.truncate(n.max(1));
        }
        c
    }
}

/// Light yellow → green → blue, mixed with white so that paths stand out.
fn shade(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 6] = [
        (255.0, 255.0, 217.0),
        (199.0, 233.0, 180.0),
        (127.0, 205.0, 187.0),
        (65.0, 182.0, 196.0),
        (44.0, 127.0, 184.0),
        (37.0, 52.0, 148.0),
    ];
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let mix = |u: f64, v: f64| (0.45 * (u + f * (v - u)) + 0.55 * 255.0) as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Figure for ContourChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let f = self.field;
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(80)
            .build_cartesian_2d(f.x.0..f.x.1, f.y.0..f.y.1)
            .map_err(err)?;
        let levels = f.levels();
        let (dx, dy) = ((f.x.1 - f.x.0) / f.nx as f64, (f.y.1 - f.y.0) / f.ny as f64);
        let band = |t: f64| {
            if t.is_nan() {
                None
            } else {
                Some(((t * BANDS as f64) as usize).min(BANDS - 1))
            }
        };
        // Shading: one rectangle per run of equal band in a row.
        let mut rects = Vec::new();
        for j in 0..f.ny {
            let mut i = 0;
            while i < f.nx {
                let b = band(levels[j * f.nx + i]);
                let mut k = i + 1;
                while k < f.nx && band(levels[j * f.nx + k]) == b {
                    k += 1;
                }
                let colour = match b {
                    Some(b) => shade((b as f64 + 0.5) / BANDS as f64),
                    None => RGBColor(230, 230, 230),
                };
                let (xa, xb) = (f.x.0 + i as f64 * dx, f.x.0 + k as f64 * dx);
                let (ya, yb) = (f.y.0 + j as f64 * dy, f.y.0 + (j + 1) as f64 * dy);
                rects.push(Rectangle::new([(xa, ya), (xb, yb)], colour.filled()));
                i = k;
            }
        }
        chart.draw_series(rects).map_err(err)?;
        let iso = RGBColor(70, 70, 90).mix(0.45).stroke_width(1);
        let bands: Vec<f64> = (1..BANDS).map(|b| b as f64 / BANDS as f64).collect();
        let segments = iso_segments(f, &levels, &bands);
        chart
            .draw_series(
                segments
                    .into_iter()
                    .map(|(a, b)| PathElement::new(vec![a, b], iso)),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label)
            .x_label_formatter(&|v| tick_in(*v, f.x.1 - f.x.0))
            .y_label_formatter(&|v| tick_in(*v, f.y.1 - f.y.0))
            .y_desc(self.y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(err)?;
        let edge = BLACK.stroke_width(3);
        chart
            .draw_series(
                iso_segments(f, &f.values, &self.boundaries)
                    .into_iter()
                    .map(|(a, b)| PathElement::new(vec![a, b], edge)),
            )
            .map_err(err)?;
        for (index, d) in self.dots.iter().enumerate() {
            let colour = colour_for(&d.name, index);
            chart
                .draw_series(
                    d.points
                        .iter()
                        .map(|&p| Circle::new(p, 4, colour.mix(0.85).filled())),
                )
                .map_err(err)?
                .label(d.name.clone())
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        }
        for (index, p) in self.paths.iter().enumerate() {
            let colour = colour_for(&p.name, index);
            let pts: Vec<(f64, f64)> = p
                .points
                .iter()
                .copied()
                .filter(|q| q.0.is_finite() && q.1.is_finite())
                .collect();
            let mut parts = pieces(&pts, (f.x.1 - f.x.0, f.y.1 - f.y.0)).into_iter();
            chart
                .draw_series(LineSeries::new(
                    parts.next().unwrap_or_default(),
                    colour.stroke_width(3),
                ))
                .map_err(err)?
                .label(p.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                });
            for part in parts {
                chart
                    .draw_series(LineSeries::new(part, colour.stroke_width(3)))
                    .map_err(err)?;
            }
            if let (Some(&first), Some(&last)) = (pts.first(), pts.last()) {
                chart
                    .draw_series([
                        Circle::new(first, 6, colour.stroke_width(2)),
                        Circle::new(last, 6, colour.filled()),
                    ])
                    .map_err(err)?;
            }
        }
        for m in &self.markers {
            chart
                .draw_series(
                    m.points
                        .iter()
                        .map(|&p| Cross::new(p, 7, BLACK.stroke_width(3))),
                )
                .map_err(err)?
                .label(m.name.clone())
                .legend(|(x, y)| Cross::new((x + 10, y), 6, BLACK.stroke_width(3)));
        }
        if !self.paths.is_empty() || !self.markers.is_empty() || !self.dots.is_empty() {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font(("sans-serif", 15))
                .position(legend_corner(
                    self.paths
                        .iter()
                        .flat_map(|p| p.points.iter().copied())
                        .chain(self.markers.iter().flat_map(|m| m.points.iter().copied()))
                        .chain(self.dots.iter().flat_map(|d| d.points.iter().copied())),
                    f.x,
                    f.y,
                ))
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

type Point = (f64, f64);

/// Marching squares over the cell centres: the segments where `values` cross a threshold.
fn iso_segments(f: &Field, values: &[f64], thresholds: &[f64]) -> Vec<(Point, Point)> {
    let mut out = Vec::new();
    let at = |i: usize, j: usize| values[j * f.nx + i];
    for j in 0..f.ny.saturating_sub(1) {
        for i in 0..f.nx.saturating_sub(1) {
            // Corners counter-clockwise from bottom-left.
            let c = [
                (f.xi(i), f.yj(j), at(i, j)),
                (f.xi(i + 1), f.yj(j), at(i + 1, j)),
                (f.xi(i + 1), f.yj(j + 1), at(i + 1, j + 1)),
                (f.xi(i), f.yj(j + 1), at(i, j + 1)),
            ];
            if c.iter().any(|p| p.2.is_nan()) {
                continue;
            }
            let lo = c.iter().map(|p| p.2).fold(f64::INFINITY, f64::min);
            let hi = c.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
            for &t in thresholds {
                if t <= lo || t > hi {
                    continue;
                }
                let mut cross = Vec::with_capacity(4);
                for e in 0..4 {
                    let (p, q) = (c[e], c[(e + 1) % 4]);
                    if (p.2 < t) != (q.2 < t) {
                        let s = (t - p.2) / (q.2 - p.2);
                        cross.push((p.0 + s * (q.0 - p.0), p.1 + s * (q.1 - p.1)));
                    }
                }
                if cross.len() >= 2 {
                    out.push((cross[0], cross[1]));
                }
                if cross.len() == 4 {
                    out.push((cross[2], cross[3]));
                }
            }
        }
    }
    out
}

/// `f` sampled on a box around `points` (padded by a quarter of its size on every side).
pub fn field_around<'a>(
    points: impl Iterator<Item = &'a Vec<f64>>,
    f: impl Fn(f64, f64) -> f64,
) -> Field {
    let (mut x, mut y) = (
        (f64::INFINITY, f64::NEG_INFINITY),
        (f64::INFINITY, f64::NEG_INFINITY),
    );
    for p in points {
        x = (x.0.min(p[0]), x.1.max(p[0]));
        y = (y.0.min(p[1]), y.1.max(p[1]));
    }
    let widen = |(a, b): (f64, f64)| {
        if !a.is_finite() {
            return (-1.0, 1.0);
        }
        let w = (b - a).max(1e-3 * (1.0 + a.abs().max(b.abs())));
        (a - 0.25 * w, b + 0.25 * w)
    };
    Field::sample(widen(x), widen(y), 180, 120, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_run_from_zero_at_the_minimum_to_one() {
        let f = Field::sample((-1.0, 1.0), (-1.0, 1.0), 21, 21, |x, y| x * x + y * y);
        let l = f.levels();
        let min = l.iter().copied().fold(f64::INFINITY, f64::min);
        let max = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((min, max), (0.0, 1.0));
        assert_eq!(l[10 * 21 + 10], 0.0, "the centre is the minimum");
    }

    #[test]
    fn a_boundary_of_a_plane_is_a_straight_line_through_its_zero() {
        let f = Field::sample((-1.0, 1.0), (-1.0, 1.0), 10, 10, |x, y| x + 2.0 * y - 0.3);
        let segments = iso_segments(&f, &f.values, &[0.0]);
        assert!(!segments.is_empty());
        for (a, b) in segments {
            for p in [a, b] {
                assert!((p.0 + 2.0 * p.1 - 0.3).abs() < 1e-12, "{p:?}");
            }
        }
    }
}
