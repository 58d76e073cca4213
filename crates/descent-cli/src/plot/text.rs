//! Text in bitmap figures, drawn glyph by glyph at the font's own positions.
//!
//! plotters 0.3.7 rasterises `ab_glyph` text without each glyph's left side bearing and with
//! its vertical offset truncated towards zero, so a PNG shows a raised decimal point ("0·1")
//! and uneven letter spacing ("momen tum") that its SVG twin does not. [`Glyphs`] wraps a
//! bitmap backend and draws text itself: every glyph is placed at its sub-pixel pen position
//! (advances and kerning from the font) on a common baseline, with its outline's own bounds,
//! and blended by coverage. Everything else goes to the wrapped backend unchanged.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

use super::FONT;

fn font() -> &'static FontRef<'static> {
    static PARSED: OnceLock<FontRef<'static>> = OnceLock::new();
    // The font is compiled in and known to be valid; a failure here is a build defect.
    PARSED.get_or_init(|| FontRef::try_from_slice(FONT).expect("bundled DejaVu Sans parses"))
}

/// Whether the bundled font has a glyph for `c` (so that a label using it renders).
#[cfg(test)]
fn has_glyph(c: char) -> bool {
    font().glyph_id(c).0 != 0
}

/// A bitmap backend whose text is drawn by [`draw_glyphs`].
pub struct Glyphs<B>(pub B);

/// One glyph's coverage at a pixel of the text box (box-relative, before rotation).
type Coverage = (i32, i32, f32);

/// The pixels of `text` at `size` (plotters' size: the font's ascent-to-descent height in
/// pixels) relative to the top left of a box `height` pixels tall, the baseline placed so that
/// capitals and digits sit centred in that box.
pub fn draw_glyphs(text: &str, size: f64, height: f64) -> Vec<Coverage> {
    let font = font();
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let cap = font
        .outline(font.glyph_id('H'))
        .map_or(0.7 * size as f32, |o| {
            o.bounds.max.y * scaled.scale_factor().vertical
        });
    let baseline = (height as f32 + cap) / 2.0;
    let mut out = Vec::new();
    let mut caret = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scaled.scale(), point(caret, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|x, y, cov| {
                if cov > 0.0 {
                    out.push((b.min.x as i32 + x as i32, b.min.y as i32 + y as i32, cov));
                }
            });
        }
        caret += scaled.h_advance(id);
        prev = Some(id);
    }
    out
}

impl<B: DrawingBackend> DrawingBackend for Glyphs<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.blit_bitmap(pos, (iw, ih), src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        // The box plotters laid the text out with (so that text and layout agree).
        let ((x0, y0), (x1, y1)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (x1 - x0, y1 - y0);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        for (x, y, cov) in draw_glyphs(text, style.size(), f64::from(height)) {
            let (x, y) = trans.transform(x + dx, y + dy);
            self.0.draw_pixel(
                (pos.0 + x, pos.1 + y),
                BackendColor {
                    alpha: colour.alpha * f64::from(cov.min(1.0)),
                    rgb: colour.rgb,
                },
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows a glyph's pixels cover.
    fn rows(text: &str) -> (i32, i32) {
        let px = draw_glyphs(text, 30.0, 24.0);
        let lo = px.iter().map(|p| p.1).min().unwrap();
        let hi = px.iter().map(|p| p.1).max().unwrap();
        (lo, hi)
    }

    #[test]
    fn a_decimal_point_sits_on_the_baseline_of_its_digits() {
        // The bottom row of "." is the bottom row of "0" (the baseline), not above it: within
        // the one pixel by which a round glyph's overshoot dips below the baseline (plotters'
        // own placement raised the point by several pixels).
        assert!(
            (rows(".").1 - rows("0").1).abs() <= 1,
            "{:?} {:?}",
            rows("."),
            rows("0")
        );
        assert_eq!(rows("0.1").1, rows("0").1);
    }

    #[test]
    fn letters_keep_their_side_bearings() {
        // "m" then "t": the gap between them is the font's, not one bearing short.
        let mt = draw_glyphs("mt", 30.0, 24.0);
        let m = draw_glyphs("m", 30.0, 24.0);
        let m_right = m.iter().map(|p| p.0).max().unwrap();
        let t_left = mt
            .iter()
            .filter(|p| p.0 > m_right)
            .map(|p| p.0)
            .min()
            .unwrap();
        assert!(t_left - m_right >= 1, "a gap between m and t");
        // The first glyph starts at its left bearing, not at x = 0.
        let left = m.iter().map(|p| p.0).min().unwrap();
        assert!(left >= 1, "{left}");
    }

    #[test]
    fn the_font_has_the_greek_and_subscripts_the_labels_use() {
        for c in [
            'λ', 'β', 'η', '√', '₁', '₂', '²', '−', '×', '·', '→', 'ₘ', 'ₐ', 'ₓ',
        ] {
            assert!(has_glyph(c), "{c}");
        }
    }
}
