//! The embedded font every plot uses for its text.
//!
//! plotters' `ab_glyph` text backend knows no system fonts: a family must be registered
//! before any text is laid out, or drawing fails with "font unavailable". We register
//! DejaVu Sans (from the `dejavu` crate; the fonts carry the permissive Bitstream Vera
//! licence, the crate is MIT/Apache-2.0) under the generic family names plotters uses by
//! default, so chart captions, axis labels and legends all find it.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

/// The family name plots ask for (also what plotters' defaults use).
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded font once per process; later calls return the first outcome.
pub(crate) fn ensure_registered() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let regular = dejavu::sans::regular();
            let bold = dejavu::sans::bold();
            // "serif" and "monospace" map to the same face so that any plotters default
            // that asks for them still renders text instead of failing.
            for family in [FAMILY, "serif", "monospace"] {
                register_font(family, FontStyle::Normal, regular)
                    .map_err(|_| format!("the embedded font for {family} is not a valid TTF"))?;
                register_font(family, FontStyle::Bold, bold).map_err(|_| {
                    format!("the embedded bold font for {family} is not a valid TTF")
                })?;
            }
            Ok(())
        })
        .clone()
}
