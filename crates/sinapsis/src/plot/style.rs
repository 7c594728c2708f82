//! Shared look: colours, text styles, axis ranges, the "no data" note.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::FAMILY;
use super::DrawResult;

/// matplotlib's "tab10" palette: ten colours that stay distinct side by side.
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of series or class `i`: tab10 first, then hues spaced by the golden angle.
pub(crate) fn palette(i: usize) -> RGBColor {
    if let Some(c) = TAB10.get(i) {
        return *c;
    }
    let hue = ((i - TAB10.len()) as f64 * 0.618_033_988_75 + 0.1).fract();
    let (r, g, b) = HSLColor(hue, 0.65, 0.45).rgb();
    RGBColor(r, g, b)
}

/// `c` blended towards white by `amount` in `[0, 1]` (0 = unchanged).
pub(crate) fn lighten(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (v as f64 + (255.0 - v as f64) * amount).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Linear interpolation between two colours, `t` in `[0, 1]`.
pub(crate) fn blend(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Text in the embedded font, `size` pixels, black.
pub(crate) fn text(size: f64) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(&BLACK)
}

/// Bold text for titles.
pub(crate) fn title_text(size: f64) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size, FontStyle::Bold).into_font()).color(&BLACK)
}

/// `style` anchored at `h`/`v` of the text.
pub(crate) fn anchored(style: TextStyle<'_>, h: HPos, v: VPos) -> TextStyle<'_> {
    style.pos(Pos::new(h, v))
}

/// Width and height of `s` in `style`, estimated if the font cannot measure it.
pub(crate) fn text_size(s: &str, size: f64) -> (u32, u32) {
    // Layouts are measured before `save` runs, so make sure the font is there.
    let _ = super::font::ensure_registered();
    (FAMILY, size)
        .into_font()
        .box_size(s)
        .unwrap_or(((s.chars().count() as f64 * size * 0.6) as u32, size as u32))
}

/// The range `[lo, hi]` covering the finite `values`, padded by `pad` of its span on both
/// sides; a single value gets a unit-wide window around it. `None` when nothing is finite.
pub(crate) fn padded_range(values: impl Iterator<Item = f64>, pad: f64) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(1.0) {
        let half = (hi.abs() * 0.05).max(0.5);
        return Some((lo - half, hi + half));
    }
    Some((lo - span * pad, hi + span * pad))
}

/// Writes a grey note (such as "no data") centred in `area`.
pub(crate) fn draw_note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, note: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let style = anchored(
        text(20.0).color(&RGBColor(110, 110, 110)),
        HPos::Center,
        VPos::Center,
    );
    area.draw_text(note, &style, (w as i32 / 2, h as i32 / 2))?;
    Ok(())
}
