//! Contour plots and heat maps of a function of two variables, with optimizer paths on top.
//!
//! The function is sampled on a grid ([`Field`]); the shading is banded on a logarithmic scale
//! of `f - min f` (light = low), so that a valley a thousand times shallower than the rim
//! still shows (linear for a function with negative values, such as a saddle), and iso-lines
//! are drawn between the bands by marching squares.

use anyhow::Result;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour_bar::{draw_colour_bar, BAR_WIDTH};
use super::legend::{self, Glyph};
use super::{colour_for, err, legend_corner, pieces, ringed_marker, tick_in, Figure, Marker};

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

    /// How values map to shades: a log scale of the distance above the minimum (the top 1%
    /// clipped, so that one far corner does not flatten the rest); `None` without values.
    fn scale(&self) -> Option<LevelScale> {
        let mut finite: Vec<f64> = self
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if finite.is_empty() {
            return None;
        }
        finite.sort_by(f64::total_cmp);
        let lo = finite[0];
        let hi = finite[(finite.len() - 1) * 99 / 100];
        Some(LevelScale {
            lo,
            hi,
            // A function unbounded below (a saddle) has no floor to measure from: linear.
            log: lo >= 0.0,
            delta: ((hi - lo) * 1e-4).max(1e-300),
        })
    }

    /// Each value mapped to [0, 1] by [`Field::scale`]; NaN stays NaN.
    fn levels(&self) -> Vec<f64> {
        match self.scale() {
            None => vec![f64::NAN; self.values.len()],
            Some(s) => self
                .values
                .iter()
                .map(|&v| if v.is_nan() { f64::NAN } else { s.level(v) })
                .collect(),
        }
    }
}

/// The map from a value to its shade level in [0, 1] (and back, for the colour bar).
#[derive(Clone, Copy, Debug)]
struct LevelScale {
    lo: f64,
    hi: f64,
    log: bool,
    delta: f64,
}

impl LevelScale {
    fn ends(&self) -> (f64, f64) {
        (self.delta.ln(), (self.hi - self.lo + self.delta).ln())
    }

    fn level(&self, v: f64) -> f64 {
        let (a, b) = self.ends();
        if self.log {
            (((v - self.lo).max(0.0) + self.delta).ln() - a) / (b - a).max(1e-12)
        } else {
            (v - self.lo) / (self.hi - self.lo).max(1e-300)
        }
        .min(1.0)
    }

    /// Colour-bar ticks: round values of `f − min f` (log) or `f` (linear), at most six.
    fn ticks(&self) -> Vec<(f64, String)> {
        let mut out = Vec::new();
        if self.log {
            let (top, bottom) = (self.hi - self.lo, self.delta);
            let (labels, _) = super::log_ticks(bottom * 10.0, top);
            let every = labels.len().div_ceil(6).max(1);
            out.push((0.0, "0".to_string()));
            for v in labels.into_iter().rev().step_by(every) {
                out.push((self.level(self.lo + v), super::tick(&v)));
            }
        } else {
            let step = super::nice_step((self.hi - self.lo) / 5.0);
            let mut v = (self.lo / step).ceil() * step;
            while v <= self.hi {
                out.push((self.level(v), super::tick_in(v, self.hi - self.lo)));
                v += step;
            }
        }
        out
    }
}

/// Decision regions of a classifier over the field's grid: each cell shaded in the colour of
/// its predicted class, paler where the model is less sure, and the boundaries drawn where
/// two classes' scores are equal.
#[derive(Clone, Debug)]
pub struct Regions {
    /// One colour per class, the colour of that class's points.
    pub colours: Vec<RGBColor>,
    /// Per cell (as `Field::values`): the predicted class and its probability.
    pub class: Vec<usize>,
    pub probability: Vec<f64>,
    /// Per pair of classes that meet: `score_a − score_b` per cell where one of the two is
    /// the prediction (NaN elsewhere); the boundary is its zero line.
    pub edges: Vec<Vec<f64>>,
}

impl Regions {
    /// A class colour faded towards white as the probability falls to chance (`1/K`).
    fn shade(&self, class: usize, p: f64) -> RGBColor {
        let k = self.colours.len().max(2) as f64;
        let t = ((p - 1.0 / k) / (1.0 - 1.0 / k)).clamp(0.0, 1.0);
        fade(
            self.colours[class.min(self.colours.len() - 1)],
            0.12 + 0.5 * t,
        )
    }
}

/// `c` mixed with white: `amount` 0 is white, 1 is `c`.
fn fade(c: RGBColor, amount: f64) -> RGBColor {
    let m = |u: u8| (255.0 - amount * (255.0 - f64::from(u))).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// One optimizer's (or method's) path through the plane.
#[derive(Clone, Debug, Default)]
pub struct Path2d {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A contour plot of `field` with `paths` (start: open black circle, end: a filled marker, one
/// shape per path), `markers` (black crosses, e.g. the minimum or the best grid point), `dots`
/// (data points) and `boundaries` (iso-lines of the raw values), and a colour bar.
#[derive(Clone, Debug)]
pub struct ContourChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub field: &'a Field,
    /// Drawn in order: the first widest (under), the last on top.
    pub paths: Vec<Path2d>,
    pub markers: Vec<Marker>,
    /// Data points, one colour per group (e.g. per class).
    pub dots: Vec<Marker>,
    /// Values of the function drawn as thick black iso-lines (e.g. a decision boundary).
    pub boundaries: Vec<f64>,
    /// One unit of x as long as one unit of y on the page (where the lesson is the shape).
    pub equal_aspect: bool,
    /// Text in the top left corner of the plot (an animation's step counter).
    pub note: Option<String>,
    /// Decision regions instead of the banded shading of `field`.
    pub regions: Option<Regions>,
}

impl<'a> ContourChart<'a> {
    /// The legend's lines in the order drawn: data groups, paths, the start, markers.
    fn legend_entries(&self) -> Vec<(String, Glyph)> {
        let mut entries = Vec::new();
        for (index, d) in self.dots.iter().enumerate() {
            let colour = match &self.regions {
                Some(r) if index < r.colours.len() => r.colours[index],
                _ => colour_for(&d.name, index),
            };
            entries.push((d.name.clone(), Glyph::Dot(colour)));
        }
        for (index, p) in self.paths.iter().enumerate() {
            let colour = colour_for(&p.name, index);
            let glyph = Glyph::Line {
                colour,
                shape: Some(index),
            };
            entries.push((p.name.clone(), glyph));
        }
        let finite = |q: &(f64, f64)| q.0.is_finite() && q.1.is_finite();
        if self.paths.iter().any(|p| p.points.iter().any(finite)) {
            entries.push(("start".to_string(), Glyph::Ring));
        }
        for m in &self.markers {
            entries.push((m.name.clone(), Glyph::Cross));
        }
        entries
    }

    fn legend_names(&self) -> Vec<&str> {
        let has_legend =
            !self.paths.is_empty() || !self.markers.is_empty() || !self.dots.is_empty();
        if !has_legend {
            return Vec::new();
        }
        let mut names: Vec<&str> = self.dots.iter().map(|d| d.name.as_str()).collect();
        names.extend(self.paths.iter().map(|p| p.name.as_str()));
        names.push("start");
        names.extend(self.markers.iter().map(|m| m.name.as_str()));
        names
    }

    /// The same chart with every path cut after its first `n` points (a frame of a GIF),
    /// its step written in the corner.
    pub fn truncated(&self, n: usize) -> ContourChart<'a> {
        let mut c = self.clone();
        for p in &mut c.paths {
            p.points.truncate(n.max(1));
        }
        c.note = Some(format!("step {}", n.max(1) - 1));
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

/// The shade of a band (the colour bar shows the same bands).
fn band_shade(t: f64) -> RGBColor {
    let b = ((t * BANDS as f64) as usize).min(BANDS - 1);
    shade((b as f64 + 0.5) / BANDS as f64)
}

const MARGIN: u32 = 16;
const X_AREA: u32 = 52;
const Y_AREA: u32 = 80;

impl Figure for ContourChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let f = self.field;
        let titled = root
            .margin(8, 0, 0, 0)
            .titled(self.title, ("sans-serif", 24))
            .map_err(err)?;
        let (w, h) = titled.dim_in_pixel();
        let (body, bar) = titled.split_horizontally(w.saturating_sub(BAR_WIDTH));
        // The plot's pixel size, then margins that give it the data's aspect if asked.
        let (pw, ph) = (
            f64::from(w.saturating_sub(BAR_WIDTH + 2 * MARGIN + Y_AREA).max(1)),
            f64::from(h.saturating_sub(2 * MARGIN + X_AREA).max(1)),
        );
        let (mut extra_x, mut extra_y) = (0u32, 0u32);
        if self.equal_aspect {
            let want = (f.x.1 - f.x.0) / (f.y.1 - f.y.0);
            if want > pw / ph {
                extra_y = (ph - pw / want).max(0.0) as u32;
            } else {
                extra_x = (pw - ph * want).max(0.0) as u32;
            }
        }
        // A plot narrowed to its aspect gets its legend beside it, in the room it left,
        // rather than over it.
        let names = self.legend_names();
        let side_width = legend::width(&body, &names);
        let beside = !names.is_empty() && extra_x >= side_width + MARGIN;
        let (body, side) = if beside {
            let (plot, side) = body.split_horizontally(body.dim_in_pixel().0 - extra_x);
            (
                plot.margin(extra_y / 2, extra_y - extra_y / 2, 0, 0),
                Some(side),
            )
        } else {
            let margins = (extra_x / 2, extra_x - extra_x / 2);
            let plot = body.margin(extra_y / 2, extra_y - extra_y / 2, margins.0, margins.1);
            (plot, None)
        };
        let mut chart = ChartBuilder::on(&body)
            .margin(MARGIN)
            .x_label_area_size(X_AREA)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(f.x.0..f.x.1, f.y.0..f.y.1)
            .map_err(err)?;
        let (dx, dy) = ((f.x.1 - f.x.0) / f.nx as f64, (f.y.1 - f.y.0) / f.ny as f64);
        let levels = f.levels();
        // The colour of each cell: its class's (regions) or its band's; runs of equal colour
        // in a row become one rectangle.
        let cell = |idx: usize| -> RGBColor {
            match &self.regions {
                Some(r) => r.shade(r.class[idx], r.probability[idx]),
                None if levels[idx].is_nan() => RGBColor(230, 230, 230),
                None => band_shade(levels[idx]),
            }
        };
        let mut rects = Vec::new();
        for j in 0..f.ny {
            let mut i = 0;
            while i < f.nx {
                let c = cell(j * f.nx + i);
                let mut k = i + 1;
                while k < f.nx && cell(j * f.nx + k) == c {
                    k += 1;
                }
                let (xa, xb) = (f.x.0 + i as f64 * dx, f.x.0 + k as f64 * dx);
                let (ya, yb) = (f.y.0 + j as f64 * dy, f.y.0 + (j + 1) as f64 * dy);
                rects.push(Rectangle::new([(xa, ya), (xb, yb)], c.filled()));
                i = k;
            }
        }
        chart.draw_series(rects).map_err(err)?;
        if self.regions.is_none() {
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
        }
        let room = chart.plotting_area().dim_in_pixel().0;
        let x_labels = labels_that_fit(&body, f.x, room);
        chart
            .configure_mesh()
            .disable_mesh()
            // One tick label per 70 px at most, so that a narrow plot's labels do not collide.
            .x_labels(x_labels)
            .x_desc(self.x_label)
            .x_label_formatter(&|v| tick_in(*v, f.x.1 - f.x.0))
            .y_label_formatter(&|v| tick_in(*v, f.y.1 - f.y.0))
            .y_desc(self.y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(err)?;
        let edge = BLACK.stroke_width(3);
        let mut lines = iso_segments(f, &f.values, &self.boundaries);
        if let Some(r) = &self.regions {
            for e in &r.edges {
                lines.extend(iso_segments(f, e, &[0.0]));
            }
        }
        chart
            .draw_series(
                lines
                    .into_iter()
                    .map(|(a, b)| PathElement::new(vec![a, b], edge)),
            )
            .map_err(err)?;
        for (index, d) in self.dots.iter().enumerate() {
            let colour = match &self.regions {
                Some(r) if index < r.colours.len() => r.colours[index],
                _ => colour_for(&d.name, index),
            };
            chart
                .draw_series(d.points.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                .map_err(err)?
                .label(d.name.clone())
                .legend(move |at| Glyph::Dot(colour).at(at));
        }
        let n_paths = self.paths.len();
        let mut starts: Vec<(f64, f64)> = Vec::new();
        for (index, p) in self.paths.iter().enumerate() {
            let colour = colour_for(&p.name, index);
            // Earlier paths wider, so that a later one drawn over them leaves their edges.
            let width = 2 + 2 * (n_paths - 1 - index).min(2) as u32;
            let pts: Vec<(f64, f64)> = p
                .points
                .iter()
                .copied()
                .filter(|q| q.0.is_finite() && q.1.is_finite())
                .collect();
            let mut parts = pieces(&pts, (f.x.1 - f.x.0, f.y.1 - f.y.0)).into_iter();
            let shape = index;
            chart
                .draw_series(LineSeries::new(
                    parts.next().unwrap_or_default(),
                    colour.stroke_width(width),
                ))
                .map_err(err)?
                .label(p.name.clone())
                .legend(move |at| {
                    Glyph::Line {
                        colour,
                        shape: Some(shape),
                    }
                    .at(at)
                });
            for part in parts {
                chart
                    .draw_series(LineSeries::new(part, colour.stroke_width(width)))
                    .map_err(err)?;
            }
            if let Some(&first) = pts.first() {
                if !starts.contains(&first) {
                    starts.push(first);
                }
            }
        }
        // End markers on top of every line, then the starts (one ring per distinct start).
        for (index, p) in self.paths.iter().enumerate() {
            let colour = colour_for(&p.name, index);
            if let Some(&last) = p
                .points
                .iter()
                .rev()
                .find(|q| q.0.is_finite() && q.1.is_finite())
            {
                chart
                    .draw_series([ringed_marker(index, last, colour)])
                    .map_err(err)?;
            }
        }
        if !starts.is_empty() {
            chart
                .draw_series(
                    starts
                        .iter()
                        .map(|&s| Circle::new(s, 7, BLACK.stroke_width(2))),
                )
                .map_err(err)?
                .label("start")
                .legend(|at| Glyph::Ring.at(at));
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
                .legend(|at| Glyph::Cross.at(at));
        }
        if let Some(side) = &side {
            let top = extra_y / 2 + MARGIN;
            legend::beside(side, &self.legend_entries(), top)?;
        } else if !names.is_empty() {
            legend::styled(&mut chart)
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
        if let Some(note) = &self.note {
            let at = chart.backend_coord(&(f.x.0, f.y.1));
            body.draw(&Text::new(
                note.clone(),
                (at.0 + 8, at.1 + 8),
                ("sans-serif", 18).into_font().color(&BLACK),
            ))
            .map_err(err)?;
        }
        // The colour bar spans the plot's height.
        let (top, bottom) = {
            let a = chart.backend_coord(&(f.x.0, f.y.1));
            let b = chart.backend_coord(&(f.x.0, f.y.0));
            let off = bar.get_base_pixel().1 - body.get_base_pixel().1;
            (a.1 - off, b.1 - off)
        };
        match &self.regions {
            Some(r) => {
                let k = r.colours.len().max(2) as f64;
                let ticks: Vec<(f64, String)> = [1.0 / k, 0.5f64.max(1.0 / k), 0.75, 1.0]
                    .into_iter()
                    .filter(|p| *p >= 1.0 / k)
                    .map(|p| ((p - 1.0 / k) / (1.0 - 1.0 / k), tick_in(p, 1.0)))
                    .collect();
                draw_colour_bar(
                    &bar,
                    |t| fade(RGBColor(60, 60, 60), 0.12 + 0.5 * t),
                    &ticks,
                    "probability of the predicted class",
                    top,
                    bottom,
                )?;
            }
            None => {
                if let Some(scale) = f.scale() {
                    let title = if scale.log {
                        "f − min f (log scale)"
                    } else {
                        "f"
                    };
                    draw_colour_bar(&bar, band_shade, &scale.ticks(), title, top, bottom)?;
                }
            }
        }
        Ok(())
    }
}

/// The most tick labels (plotters' default, 11, at most) that plotters' choice of round
/// values on `range` lays side by side in `room` pixels without two labels touching, so
/// that a narrow plot's labels stay readable.
fn labels_that_fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    range: (f64, f64),
    room: u32,
) -> usize {
    let font = TextStyle::from(("sans-serif", 15).into_font());
    let span = range.1 - range.0;
    let fits = |n: usize| {
        let values = RangedCoordf64::from(range.0..range.1).key_points(n);
        let widest = values
            .iter()
            .filter_map(|v| area.estimate_text_size(&tick_in(*v, span), &font).ok())
            .map(|(w, _)| w)
            .max()
            .unwrap_or(0);
        // Evenly spaced labels: each gets room / count pixels, and needs its width and a gap.
        values.len() <= 1 || room / values.len() as u32 >= widest + 8
    };
    (2..=11).rev().find(|&n| fits(n)).unwrap_or(2)
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

    /// Every text of an SVG: (x, y, content).
    fn texts(svg: &str) -> Vec<(f64, f64, String)> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let attr = |name: &str| -> Option<f64> {
                    let at = t.find(&format!(" {name}=\""))? + name.len() + 3;
                    t[at..].split('"').next()?.parse().ok()
                };
                let body = t
                    .split_once('>')?
                    .1
                    .split("</text>")
                    .next()?
                    .trim()
                    .to_string();
                Some((attr("x")?, attr("y")?, body))
            })
            .collect()
    }

    #[test]
    fn a_narrow_equal_aspect_plot_has_its_legend_beside_it_and_ticks_that_do_not_touch() {
        // Lesson 9's raw feature: a valley 14 wide and 180 tall, drawn to scale.
        let field = Field::sample((-2.0, 12.0), (-150.0, 30.0), 40, 40, |x, y| {
            (x - 10.0).powi(2) * 900.0 + (y + 120.0).powi(2)
        });
        let chart = ContourChart {
            title: "narrow",
            x_label: "w",
            y_label: "b",
            field: &field,
            paths: vec![Path2d {
                name: "sgd (lr 6.982e-4)".into(),
                points: vec![(0.0, 0.0), (5.0, -60.0), (10.0, -119.0)],
            }],
            markers: vec![Marker {
                name: "least-squares optimum".into(),
                points: vec![(10.0, -120.0)],
            }],
            dots: Vec::new(),
            boundaries: Vec::new(),
            equal_aspect: true,
            note: None,
            regions: None,
        };
        let mut svg = String::new();
        {
            crate::plot::register_font();
            let root = SVGBackend::with_string(&mut svg, crate::plot::SIZE).into_drawing_area();
            chart.draw(&root).unwrap();
        }
        let all = texts(&svg);
        // The x tick labels: the numbers on the lowest row of numbers left of the colour bar.
        let numbers: Vec<&(f64, f64, String)> = all
            .iter()
            .filter(|t| t.2.parse::<f64>().is_ok() && t.0 < 700.0)
            .collect();
        let row = numbers
            .iter()
            .map(|t| t.1)
            .fold(f64::NEG_INFINITY, f64::max);
        let mut ticks: Vec<&(f64, f64, String)> =
            numbers.into_iter().filter(|t| t.1 == row).collect();
        ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(ticks.len() >= 2, "{ticks:?}");
        for pair in ticks.windows(2) {
            // Centred labels: half of each at 15 px text is at most about 4.5 px a character.
            let need = 4.5 * (pair[0].2.len() + pair[1].2.len()) as f64;
            assert!(pair[1].0 - pair[0].0 > need, "tick labels touch: {pair:?}");
        }
        let right_edge = ticks.last().unwrap().0;
        for name in ["sgd (lr 6.982e-4)", "start", "least-squares optimum"] {
            let label = all.iter().find(|t| t.2 == name).expect(name);
            assert!(
                label.0 > right_edge + 10.0,
                "{name} at {label:?} is over the plot (right edge {right_edge})"
            );
        }
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
