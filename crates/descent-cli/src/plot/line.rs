//! Line charts: loss per epoch, learning rate per step, loss over one parameter; optional
//! logarithmic axes, point markers and labelled vertical lines.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::{self, Glyph};
use super::{
    bounds, colour_for, err, legend_corner, log_ticks, marker, pieces, tick, tick_in, Figure,
};

/// One named line of a chart.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Named points drawn as circles (e.g. the best grid point, gradient descent's iterates).
#[derive(Clone, Debug, Default)]
pub struct Marker {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A labelled vertical line across the chart (e.g. the stable learning-rate bound).
#[derive(Clone, Debug, Default)]
pub struct VLine {
    pub name: String,
    pub x: f64,
}

/// A line chart: title, axis labels, one or more series, optional log-scale axes.
#[derive(Clone, Debug, Default)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: Vec<Series>,
    pub log_y: bool,
    pub log_x: bool,
    pub markers: Vec<Marker>,
    pub vlines: Vec<VLine>,
    /// Extend the y axis upwards so that the legend sits above the lines.
    pub legend_room: bool,
    /// The legend in a column of its own right of the plot, for curves that leave no corner
    /// free (many decades of a log axis filled from corner to corner).
    pub legend_beside: bool,
    /// Draw the first series thin and light, under the others (a noisy raw series under its
    /// averages).
    pub thin_first: bool,
    /// A horizontal reference line (e.g. the minimum a parameter should reach).
    pub hline: Option<f64>,
}

impl LineChart<'_> {
    /// Draws the chart into `path` (`.svg` or `.png`).
    pub fn save(&self, path: &Path) -> Result<()> {
        super::save(self, path)
    }

    /// Whether series `k` has marker shapes on it (several series, and not the thin one).
    fn marked(&self, k: usize) -> bool {
        self.series.len() > 1 && !(self.thin_first && k == 0)
    }

    /// The colour and width series `k` is drawn with.
    fn pen(&self, k: usize) -> (RGBColor, u32) {
        let s = &self.series[k];
        if self.thin_first && k == 0 {
            return (RGBColor(150, 150, 150), 1);
        }
        // Earlier series drawn wider, so one drawn over another still shows its edges;
        // markers (one shape per series) tell them apart where they meet. A long series
        // (every update of a run) is drawn thin, or it turns solid.
        let width = if s.points.len() > 400 {
            1
        } else {
            2 + 2 * (self.series.len() - 1 - k).min(2) as u32
        };
        (colour_for(&s.name, k), width)
    }

    /// The legend's lines in the order drawn: series, vertical lines, markers.
    fn legend_entries(&self) -> Vec<(String, Glyph)> {
        let mut entries: Vec<(String, Glyph)> = (0..self.series.len())
            .map(|k| {
                let shape = self.marked(k).then_some(k);
                let colour = self.pen(k).0;
                (self.series[k].name.clone(), Glyph::Line { colour, shape })
            })
            .collect();
        for (k, v) in self.vlines.iter().enumerate() {
            entries.push((v.name.clone(), Glyph::Rule(VLINE_COLOURS[k % 2])));
        }
        for (i, m) in self.markers.iter().enumerate() {
            let colour = colour_for(&m.name, self.series.len() + i);
            entries.push((m.name.clone(), Glyph::Dot(colour)));
        }
        entries
    }

    fn keep(&self, p: &(f64, f64)) -> bool {
        p.0.is_finite()
            && p.1.is_finite()
            && (!self.log_y || p.1 > 0.0)
            && (!self.log_x || p.0 > 0.0)
    }

    /// The line cut at its sharp turns, judged on the axes as drawn (log or linear).
    fn pieces(&self, points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
        if points.is_empty() {
            return vec![Vec::new()];
        }
        let ((x0, x1), (y0, y1)) = self.ranges();
        let fx = |v: f64| if self.log_x { v.ln() } else { v };
        let fy = |v: f64| if self.log_y { v.ln() } else { v };
        let drawn: Vec<(f64, f64)> = points.iter().map(|p| (fx(p.0), fy(p.1))).collect();
        let span = ((fx(x1) - fx(x0)).abs(), (fy(y1) - fy(y0)).abs());
        // Cut the original points where the drawn ones turn.
        let mut out = Vec::new();
        let mut at = 0;
        for piece in pieces(&drawn, span) {
            let n = piece.len();
            out.push(points[at..at + n].to_vec());
            at += n - 1;
        }
        out
    }

    /// The corner for the legend that hides the fewest points (judged on the axes as drawn).
    fn legend_position(
        &self,
        ((x0, x1), (y0, y1)): ((f64, f64), (f64, f64)),
    ) -> SeriesLabelPosition {
        let fx = |v: f64| if self.log_x { v.ln() } else { v };
        let fy = |v: f64| if self.log_y { v.ln() } else { v };
        let points = self
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .chain(self.markers.iter().flat_map(|m| m.points.iter()))
            .filter(|p| self.keep(p))
            .map(|p| (fx(p.0), fy(p.1)));
        legend_corner(points, (fx(x0), fx(x1)), (fy(y0), fy(y1)))
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let pts: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .chain(self.markers.iter().flat_map(|m| m.points.iter()))
            .copied()
            .filter(|p| self.keep(p))
            .collect();
        let xs = pts
            .iter()
            .map(|p| p.0)
            .chain(self.vlines.iter().map(|v| v.x))
            .filter(|x| !self.log_x || *x > 0.0);
        let (mut x0, mut x1) = bounds(xs, false);
        let (mut y0, mut y1) = bounds(pts.iter().map(|p| p.1), !self.log_y);
        if self.log_x && x0 <= 0.0 {
            (x0, x1) = (1e-3, 1.0);
        }
        if self.log_y {
            if y0 <= 0.0 {
                (y0, y1) = (1e-3, 1.0);
            }
            (y0, y1) = (y0 / 1.3, y1 * 1.3);
            if self.legend_room {
                y1 *= (y1 / y0).powf(0.4);
            }
        } else if self.legend_room {
            y1 += 0.4 * (y1 - y0);
        }
        ((x0, x1), (y0, y1))
    }
}

/// The colours of vertical lines, in turn.
const VLINE_COLOURS: [RGBColor; 2] = [RGBColor(40, 40, 40), RGBColor(180, 30, 30)];

/// An axis label that says "(log scale)" when the axis is logarithmic.
fn axis_label(label: &str, log: bool) -> String {
    if log && !label.contains("log scale") {
        format!("{label} (log scale)")
    } else {
        label.to_string()
    }
}

/// Indices of about eight evenly spread points of a series of `n`, shifted by the series'
/// index so that the markers of overlapping series do not sit on each other.
fn marker_indices(n: usize, k: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let every = (n / 8).max(1);
    let offset = (k * every / 5).min(n - 1);
    (offset..n).step_by(every).collect()
}

impl Figure for LineChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let ((x0, x1), (y0, y1)) = self.ranges();
        let (x_desc, y_desc) = (
            axis_label(self.x_label, self.log_x),
            axis_label(self.y_label, self.log_y),
        );
        let (x_major, x_minor) = log_ticks(x0, x1);
        let (y_major, y_minor) = log_ticks(y0, y1);
        let entries = self.legend_entries();
        // With the legend beside the plot, the title spans both.
        let (root, side) = if self.legend_beside {
            let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
            let titled = root
                .margin(8, 0, 0, 0)
                .titled(self.title, ("sans-serif", 26))
                .map_err(err)?;
            let side_width = legend::width(&titled, &names);
            let (plot, side) = titled.split_horizontally(titled.dim_in_pixel().0 - side_width);
            (plot, Some(side))
        } else {
            (root.clone(), None)
        };
        let mut builder = ChartBuilder::on(&root);
        if side.is_none() {
            builder.caption(self.title, ("sans-serif", 26));
        }
        builder
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(90);
        // One body for the four axis combinations: each has its own coordinate type.
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(x_desc.as_str())
                    .x_label_formatter(&|v| {
                        if self.log_x {
                            tick(v)
                        } else {
                            tick_in(*v, x1 - x0)
                        }
                    })
                    .y_label_formatter(&|v| {
                        if self.log_y {
                            tick(v)
                        } else {
                            tick_in(*v, y1 - y0)
                        }
                    })
                    .x_labels(10)
                    .y_labels(10)
                    .y_desc(y_desc.as_str())
                    .label_style(("sans-serif", 15))
                    .axis_desc_style(("sans-serif", 18))
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()
                    .map_err(err)?;
                let mut glyphs = entries.iter().map(|(_, g)| *g);
                for (k, s) in self.series.iter().enumerate() {
                    let (colour, width) = self.pen(k);
                    let glyph = glyphs.next().unwrap_or(Glyph::Dot(colour));
                    let points: Vec<(f64, f64)> =
                        s.points.iter().copied().filter(|p| self.keep(p)).collect();
                    let marks = self.marked(k);
                    let mut parts = self.pieces(&points).into_iter();
                    chart
                        .draw_series(LineSeries::new(
                            parts.next().unwrap_or_default(),
                            colour.stroke_width(width),
                        ))
                        .map_err(err)?
                        .label(s.name.clone())
                        .legend(move |at| glyph.at(at));
                    for part in parts {
                        chart
                            .draw_series(LineSeries::new(part, colour.stroke_width(width)))
                            .map_err(err)?;
                    }
                    if marks {
                        chart
                            .draw_series(
                                marker_indices(points.len(), k)
                                    .into_iter()
                                    .map(|i| marker(k, points[i], colour)),
                            )
                            .map_err(err)?;
                    }
                }
                if let Some(h) = self.hline {
                    chart
                        .draw_series(DashedLineSeries::new(
                            vec![(x0, h), (x1, h)],
                            8,
                            5,
                            BLACK.stroke_width(1),
                        ))
                        .map_err(err)?;
                }
                for (k, v) in self.vlines.iter().enumerate() {
                    let colour = VLINE_COLOURS[k % 2];
                    let glyph = glyphs.next().unwrap_or(Glyph::Rule(colour));
                    chart
                        .draw_series(DashedLineSeries::new(
                            vec![(v.x, y0), (v.x, y1)],
                            8,
                            5,
                            colour.stroke_width(2),
                        ))
                        .map_err(err)?
                        .label(v.name.clone())
                        .legend(move |at| glyph.at(at));
                }
                for (i, m) in self.markers.iter().enumerate() {
                    let colour = colour_for(&m.name, self.series.len() + i);
                    let glyph = glyphs.next().unwrap_or(Glyph::Dot(colour));
                    let points: Vec<(f64, f64)> =
                        m.points.iter().copied().filter(|p| self.keep(p)).collect();
                    // A single point (a best value) stands out; many (iterates) stay small.
                    let radius = if points.len() == 1 { 8 } else { 4 };
                    chart
                        .draw_series(
                            points
                                .into_iter()
                                .map(|p| Circle::new(p, radius, colour.filled())),
                        )
                        .map_err(err)?
                        .label(m.name.clone())
                        .legend(move |at| glyph.at(at));
                }
                let named = self
                    .series
                    .iter()
                    .map(|s| &s.name)
                    .chain(self.markers.iter().map(|m| &m.name))
                    .chain(self.vlines.iter().map(|v| &v.name));
                if let Some(side) = &side {
                    let top = chart.plotting_area().get_base_pixel().1 - side.get_base_pixel().1;
                    legend::beside(side, &entries, top.max(0) as u32)?;
                } else if named.clone().count() > 1 || named.into_iter().any(|n| !n.is_empty()) {
                    legend::styled(&mut chart)
                        .position(self.legend_position(((x0, x1), (y0, y1))))
                        .draw()
                        .map_err(err)?;
                }
            }};
        }
        match (self.log_x, self.log_y) {
            (false, false) => finish!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?),
            (false, true) => finish!(builder
                .build_cartesian_2d(
                    x0..x1,
                    (y0..y1)
                        .log_scale()
                        .with_key_points(y_major)
                        .with_light_points(y_minor)
                )
                .map_err(err)?),
            (true, false) => finish!(builder
                .build_cartesian_2d(
                    (x0..x1)
                        .log_scale()
                        .with_key_points(x_major)
                        .with_light_points(x_minor),
                    y0..y1
                )
                .map_err(err)?),
            (true, true) => finish!(builder
                .build_cartesian_2d(
                    (x0..x1)
                        .log_scale()
                        .with_key_points(x_major)
                        .with_light_points(x_minor),
                    (y0..y1)
                        .log_scale()
                        .with_key_points(y_major)
                        .with_light_points(y_minor)
                )
                .map_err(err)?),
        }
        Ok(())
    }
}
