//! Legends: the glyph drawn beside each name, and a legend in a box of its own beside the
//! plot, for a plot that has no free corner (a narrow equal-aspect contour, a loss chart
//! whose curves fill every corner of a many-decade log axis).

use std::borrow::Borrow;

use anyhow::Result;
use plotters::chart::SeriesLabelStyle;
use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

use super::{err, marker, no_marker};

/// What a legend draws beside a name: the same shape as on the plot.
#[derive(Clone, Copy, Debug)]
pub enum Glyph {
    /// A line 28 px long with a series' marker shape on it (`None`: a plain line).
    Line {
        colour: RGBColor,
        shape: Option<usize>,
    },
    /// A reference line 20 px long (a vertical line's entry).
    Rule(RGBColor),
    /// A filled dot (data points, a marked value).
    Dot(RGBColor),
    /// The open black ring of a start point.
    Ring,
    /// The black cross of a marked point (a minimum, an optimum).
    Cross,
}

impl Glyph {
    /// The glyph with its left end at `(x, y)`, for plotters' `legend` closures.
    pub fn at(self, at: BackendCoord) -> GlyphAt {
        GlyphAt { glyph: self, at }
    }
}

/// A [`Glyph`] placed in pixels: an element of its own, so that one `legend` closure type
/// serves every glyph.
pub struct GlyphAt {
    glyph: Glyph,
    at: BackendCoord,
}

impl<'a> PointCollection<'a, BackendCoord> for &'a GlyphAt {
    type Point = &'a BackendCoord;
    type IntoIter = std::iter::Once<&'a BackendCoord>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

/// Draws an element given in pixels.
fn put<DB, E>(
    element: &E,
    backend: &mut DB,
    dim: (u32, u32),
) -> Result<(), DrawingErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    E: Drawable<DB>,
    for<'b> &'b E: PointCollection<'b, BackendCoord>,
{
    let points = element.point_iter().into_iter().map(|p| *p.borrow());
    element.draw(points, backend, dim)
}

impl<DB: DrawingBackend> Drawable<DB> for GlyphAt {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        dim: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = pos.next() else {
            return Ok(());
        };
        match self.glyph {
            Glyph::Line { colour, shape } => {
                let line = vec![(x - 4, y), (x + 24, y)];
                put(
                    &PathElement::new(line, colour.stroke_width(3)),
                    backend,
                    dim,
                )?;
                let mark = match shape {
                    Some(k) => marker(k, (x + 10, y), colour),
                    None => no_marker((x + 10, y)),
                };
                put(&mark, backend, dim)
            }
            Glyph::Rule(colour) => {
                let line = vec![(x, y), (x + 20, y)];
                put(
                    &PathElement::new(line, colour.stroke_width(2)),
                    backend,
                    dim,
                )
            }
            Glyph::Dot(colour) => put(&Circle::new((x + 10, y), 5, colour.filled()), backend, dim),
            Glyph::Ring => put(
                &Circle::new((x + 10, y), 6, BLACK.stroke_width(2)),
                backend,
                dim,
            ),
            Glyph::Cross => put(
                &Cross::new((x + 10, y), 6, BLACK.stroke_width(3)),
                backend,
                dim,
            ),
        }
    }
}

/// The style every legend shares: a light box, 15 px text.
pub fn styled<'a, 'b, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &'b mut ChartContext<'a, DB, CT>,
) -> SeriesLabelStyle<'a, 'b, DB, CT> {
    let mut style = chart.configure_series_labels();
    style
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 15));
    style
}

/// The pixel width a legend of `names` needs: the longest name, the glyph and the padding.
pub fn width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, names: &[&str]) -> u32 {
    let font = TextStyle::from(("sans-serif", 15).into_font());
    let widest = names
        .iter()
        .filter_map(|n| area.estimate_text_size(n, &font).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    widest + 60
}

/// Draws `entries` as a legend in the upper left corner of `area`, `top` pixels down: a
/// legend beside the plot instead of over it.
pub fn beside<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Glyph)],
    top: u32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(top)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(err)?;
    for (name, glyph) in entries {
        let glyph = *glyph;
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(err)?
            .label(name.clone())
            .legend(move |at| glyph.at(at));
    }
    styled(&mut chart)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    Ok(())
}
