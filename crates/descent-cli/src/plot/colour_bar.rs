//! A vertical colour bar beside a shaded plot: what a shade means, read off labelled ticks.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::err;

/// Width in pixels that a colour bar takes at the right of a figure.
pub const BAR_WIDTH: u32 = 120;

/// Draws a bar of `shade(t)` for t from 0 (bottom) to 1 (top) into `area`, with `ticks`
/// (position t, label) and `title` written vertically beside it.
pub fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    shade: impl Fn(f64) -> RGBColor,
    ticks: &[(f64, String)],
    title: &str,
    top: i32,
    bottom: i32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = (10, 32);
    let height = (bottom - top).max(1);
    for row in 0..height {
        let t = 1.0 - (f64::from(row) + 0.5) / f64::from(height);
        area.draw(&Rectangle::new(
            [(x0, top + row), (x1, top + row + 1)],
            shade(t).filled(),
        ))
        .map_err(err)?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        RGBColor(90, 90, 90).stroke_width(1),
    ))
    .map_err(err)?;
    let style = TextStyle::from(("sans-serif", 14).into_font())
        .color(&BLACK)
        .pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
    for (t, label) in ticks {
        let y = bottom - (t.clamp(0.0, 1.0) * f64::from(height)).round() as i32;
        area.draw(&PathElement::new(vec![(x1, y), (x1 + 5, y)], BLACK))
            .map_err(err)?;
        area.draw(&Text::new(label.clone(), (x1 + 8, y), style.clone()))
            .map_err(err)?;
    }
    let title_style = TextStyle::from(("sans-serif", 15).into_font())
        .color(&BLACK)
        .transform(FontTransform::Rotate270)
        .pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Bottom,
        ));
    let (w, _) = area.dim_in_pixel();
    area.draw(&Text::new(
        title.to_string(),
        (w as i32 - 4, (top + bottom) / 2),
        title_style,
    ))
    .map_err(err)?;
    Ok(())
}
