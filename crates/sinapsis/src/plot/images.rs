//! Grids of small grayscale images with captions (for example misclassified digits).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{anchored, draw_note, text, title_text};
use super::{invalid, save, DrawResult, Figure};
use crate::Result;

const OP: &str = "plot::image_grid";
/// Each image is scaled up by a whole factor to about this many pixels on its longer side.
const TILE_TARGET: usize = 96;
const CAPTION_HEIGHT: i32 = 20;
const GAP: i32 = 12;
const TITLE_HEIGHT: i32 = 50;

/// One grayscale image and its caption.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageTile {
    /// Row-major intensities, `height * width` of them; scaled per tile so its minimum is
    /// black and its maximum white (NaN or infinite pixels are drawn black).
    pub pixels: Vec<f32>,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Text under the image, such as `"true 3 / pred 5"`.
    pub caption: String,
}

/// Draws `images` in a near-square grid, each with its caption under it, and writes the plot
/// to `path` (`.png` or `.svg`). No images give an empty figure with a note.
///
/// # Errors
/// A tile whose pixel count is not `height * width` (or is zero), an unknown extension, or a
/// file that cannot be written.
///
/// ```
/// use sinapsis::plot::{image_grid, ImageTile};
/// # fn main() -> sinapsis::Result<()> {
/// let path = std::env::temp_dir().join(format!("sinapsis-doc-img-{}.png", std::process::id()));
/// let tile = ImageTile {
///     pixels: (0..64).map(|i| i as f32).collect(),
///     height: 8,
///     width: 8,
///     caption: "true 3 / pred 5".into(),
/// };
/// image_grid(&path, "Misclassified", &[tile])?;
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn image_grid(path: &Path, title: &str, images: &[ImageTile]) -> Result<()> {
    for (i, tile) in images.iter().enumerate() {
        if tile.height == 0 || tile.width == 0 || tile.pixels.len() != tile.height * tile.width {
            return Err(invalid(
                OP,
                format!(
                    "image {i} is {}x{} but has {} pixels",
                    tile.height,
                    tile.width,
                    tile.pixels.len()
                ),
            ));
        }
    }
    save(OP, path, &Grid::new(title, images))
}

struct Grid<'a> {
    title: &'a str,
    images: &'a [ImageTile],
    /// Screen pixels per image pixel.
    scale: usize,
    /// Cell size: the largest image scaled, plus its caption.
    cell: (i32, i32),
    columns: usize,
    rows: usize,
}

impl<'a> Grid<'a> {
    fn new(title: &'a str, images: &'a [ImageTile]) -> Self {
        let longest = images
            .iter()
            .map(|t| t.height.max(t.width))
            .max()
            .unwrap_or(1);
        let scale = (TILE_TARGET / longest).max(1);
        let tallest = images.iter().map(|t| t.height).max().unwrap_or(0);
        let widest = images.iter().map(|t| t.width).max().unwrap_or(0);
        let n = images.len().max(1);
        let columns = (n as f64).sqrt().ceil() as usize;
        Grid {
            title,
            images,
            scale,
            // Captions are allowed a little more room than the narrowest images.
            cell: (
                ((widest * scale) as i32).max(110),
                (tallest * scale) as i32 + CAPTION_HEIGHT,
            ),
            columns,
            rows: n.div_ceil(columns),
        }
    }

    fn draw_tile<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        tile: &ImageTile,
        corner: (i32, i32),
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (lo, hi) = tile
            .pixels
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let s = self.scale as i32;
        // Centred horizontally in the cell.
        let left = corner.0 + (self.cell.0 - tile.width as i32 * s) / 2;
        for (r, row) in tile.pixels.chunks(tile.width).enumerate() {
            for (c, &v) in row.iter().enumerate() {
                let level = if v.is_finite() && hi >= lo {
                    (((v - lo) / span).clamp(0.0, 1.0) * 255.0).round() as u8
                } else {
                    0
                };
                let x = left + c as i32 * s;
                let y = corner.1 + r as i32 * s;
                let grey = RGBColor(level, level, level).filled();
                root.draw(&Rectangle::new([(x, y), (x + s, y + s)], grey))?;
            }
        }
        let caption = anchored(text(13.0), HPos::Center, VPos::Top);
        let below = (
            corner.0 + self.cell.0 / 2,
            corner.1 + tile.height as i32 * s + 4,
        );
        root.draw_text(&tile.caption, &caption, below)?;
        Ok(())
    }
}

impl Figure for Grid<'_> {
    fn size(&self) -> (u32, u32) {
        let width = self.columns as i32 * (self.cell.0 + GAP) + GAP;
        let height = TITLE_HEIGHT + self.rows as i32 * (self.cell.1 + GAP) + GAP;
        (width.max(320) as u32, height.max(200) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (width, _) = root.dim_in_pixel();
        let title = anchored(title_text(22.0), HPos::Center, VPos::Center);
        root.draw_text(self.title, &title, (width as i32 / 2, TITLE_HEIGHT / 2))?;
        if self.images.is_empty() {
            return draw_note(root, "no images");
        }
        let grid_width = self.columns as i32 * (self.cell.0 + GAP) - GAP;
        let left = (width as i32 - grid_width) / 2;
        for (i, tile) in self.images.iter().enumerate() {
            let (row, col) = ((i / self.columns) as i32, (i % self.columns) as i32);
            let corner = (
                left + col * (self.cell.0 + GAP),
                TITLE_HEIGHT + row * (self.cell.1 + GAP),
            );
            self.draw_tile(root, tile, corner)?;
        }
        Ok(())
    }
}
