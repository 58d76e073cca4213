//! Data points with fitted curves over them (the line settling onto the points).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{bounds, colour_for, err, tick_in, Figure, Series};

/// A scatter of `points` with `fits` drawn as lines; points of a fit outside the y range are
/// left out, so a line that starts far off does not stretch the axes.
#[derive(Clone, Debug, Default)]
pub struct ScatterFit<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub points: Vec<(f64, f64)>,
    pub fits: Vec<Series>,
    /// Fixed axes (every frame of an animation shares them) [default: the points, padded].
    pub range: Option<((f64, f64), (f64, f64))>,
}

impl ScatterFit<'_> {
    /// The axes that fit the points with a margin.
    pub fn data_range(points: &[(f64, f64)]) -> ((f64, f64), (f64, f64)) {
        let pad = |(a, b): (f64, f64)| {
            let w = (b - a) * 0.1;
            (a - w, b + w)
        };
        (
            pad(bounds(points.iter().map(|p| p.0), false)),
            pad(bounds(points.iter().map(|p| p.1), false)),
        )
    }
}

impl Figure for ScatterFit<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let ((x0, x1), (y0, y1)) = self.range.unwrap_or_else(|| Self::data_range(&self.points));
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .x_label_formatter(&|v| tick_in(*v, x1 - x0))
            .y_label_formatter(&|v| tick_in(*v, y1 - y0))
            .y_desc(self.y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(err)?;
        let dot = RGBColor(60, 60, 60);
        chart
            .draw_series(
                self.points
                    .iter()
                    .map(|&p| Circle::new(p, 4, dot.mix(0.7).filled())),
            )
            .map_err(err)?
            .label("data")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, dot.filled()));
        for (i, s) in self.fits.iter().enumerate() {
            let colour = colour_for(&s.name, i);
            let inside: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite() && p.1 >= y0 && p.1 <= y1)
                .collect();
            chart
                .draw_series(LineSeries::new(inside, colour.stroke_width(3)))
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        Ok(())
    }
}
