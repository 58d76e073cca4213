//! Figures (plotters, with the DejaVu Sans font carried in the repository so that text renders
//! on a machine with no fonts installed). The format follows the file extension: `.svg` or
//! `.png`.

use std::path::Path;
use std::sync::Once;

use anyhow::{bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

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

/// One named line of a chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart: title, axis labels, one or more series, optional log-scale y axis.
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: Vec<Series>,
    pub log_y: bool,
}

/// Colours used consistently across figures (Tableau 10).
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

const SIZE: (u32, u32) = (900, 560);

impl LineChart<'_> {
    /// Draws the chart into `path` (`.svg` or `.png`).
    pub fn save(&self, path: &Path) -> Result<()> {
        register_font();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let result = match ext {
            "svg" => self.draw(SVGBackend::new(path, SIZE).into_drawing_area()),
            "png" => self.draw(BitMapBackend::new(path, SIZE).into_drawing_area()),
            _ => bail!(
                "cannot plot to {}: use a .svg or .png file name",
                path.display()
            ),
        };
        result.with_context(|| format!("cannot draw {}", path.display()))
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
        let pts = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter())
                .filter(|p| p.0.is_finite() && p.1.is_finite() && (!self.log_y || p.1 > 0.0))
        };
        let (mut x0, mut x1) = pts().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
        let (mut y0, mut y1) = pts().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.1, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        if y1 <= y0 {
            let pad = if y0 == 0.0 { 1.0 } else { y0.abs() * 0.1 };
            (y0, y1) = (y0 - pad, y1 + pad);
        } else if !self.log_y {
            let pad = (y1 - y0) * 0.05;
            (y0, y1) = (y0 - pad, y1 + pad);
        }
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(self.title, ("sans-serif", 26))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(90);
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("{e}");
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(self.x_label)
                    .y_desc(self.y_label)
                    .label_style(("sans-serif", 15))
                    .axis_desc_style(("sans-serif", 18))
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()
                    .map_err(err)?;
                for (i, s) in self.series.iter().enumerate() {
                    let colour = PALETTE[i % PALETTE.len()];
                    let points: Vec<(f64, f64)> = s
                        .points
                        .iter()
                        .copied()
                        .filter(|p| {
                            p.0.is_finite() && p.1.is_finite() && (!self.log_y || p.1 > 0.0)
                        })
                        .collect();
                    chart
                        .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                        .map_err(err)?
                        .label(s.name.clone())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                        });
                }
                if self.series.len() > 1 || !self.series.iter().all(|s| s.name.is_empty()) {
                    chart
                        .configure_series_labels()
                        .background_style(WHITE.mix(0.85))
                        .border_style(RGBColor(200, 200, 200))
                        .label_font(("sans-serif", 15))
                        .position(SeriesLabelPosition::UpperRight)
                        .draw()
                        .map_err(err)?;
                }
            }};
        }
        if self.log_y {
            finish!(builder
                .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                .map_err(err)?);
        } else {
            finish!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?);
        }
        root.present().map_err(err)?;
        Ok(())
    }
}
