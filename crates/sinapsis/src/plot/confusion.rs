//! Confusion-matrix heatmaps, laid out by hand (cells, tick labels, colour bar) so that up to
//! about twenty classes stay legible.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{anchored, blend, draw_note, text, text_size, title_text};
use super::{invalid, save, DrawResult, Figure};
use crate::Result;

const OP: &str = "plot::confusion_matrix";
const TICK_FONT: f64 = 14.0;
const AXIS_FONT: f64 = 17.0;
const TITLE_HEIGHT: i32 = 56;
const COLOUR_BAR_WIDTH: i32 = 18;

/// Draws a confusion matrix as a heatmap and writes it to `path` (`.png` or `.svg`).
///
/// `counts[t][p]` counts the samples of true class `t` predicted as `p`: rows are true labels
/// (top to bottom), columns predicted labels (left to right). Each cell shows its count in
/// black or white, whichever contrasts with the cell (as scikit-learn's
/// `ConfusionMatrixDisplay`). `class_names` label the ticks; an empty slice numbers them.
///
/// # Errors
/// A matrix that is not square, names that do not match the number of classes, an unknown
/// extension, or a file that cannot be written.
///
/// ```
/// use sinapsis::plot::confusion_matrix;
/// # fn main() -> sinapsis::Result<()> {
/// let path = std::env::temp_dir().join(format!("sinapsis-doc-cm-{}.svg", std::process::id()));
/// let counts = vec![vec![50, 2], vec![5, 43]];
/// confusion_matrix(&path, &counts, &["cat".into(), "dog".into()], "Validation")?;
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn confusion_matrix(
    path: &Path,
    counts: &[Vec<u64>],
    class_names: &[String],
    title: &str,
) -> Result<()> {
    let n = counts.len();
    if let Some((row, r)) = counts.iter().enumerate().find(|(_, r)| r.len() != n) {
        return Err(invalid(
            OP,
            format!(
                "a {n}-class matrix must be square; row {row} has {} columns",
                r.len()
            ),
        ));
    }
    let names: Vec<String> = if class_names.is_empty() {
        (0..n).map(|i| i.to_string()).collect()
    } else if class_names.len() == n {
        class_names.to_vec()
    } else {
        return Err(invalid(
            OP,
            format!("{} class names for a {n}-class matrix", class_names.len()),
        ));
    };
    save(OP, path, &Heatmap::new(counts, names, title))
}

/// The matrix with its pixel layout worked out.
struct Heatmap<'a> {
    counts: &'a [Vec<u64>],
    names: Vec<String>,
    title: &'a str,
    /// Side of one cell in pixels.
    cell: i32,
    /// Top-left corner of the grid.
    origin: (i32, i32),
    /// Column names are written vertically when they are wider than a cell.
    rotate_columns: bool,
    /// Largest count and its label width (for the colour bar).
    max: u64,
    size: (u32, u32),
}

impl<'a> Heatmap<'a> {
    fn new(counts: &'a [Vec<u64>], names: Vec<String>, title: &'a str) -> Self {
        let n = names.len().max(1) as i32;
        let cell = (640 / n).clamp(36, 110);
        let widest = names
            .iter()
            .map(|s| text_size(s, TICK_FONT).0 as i32)
            .max()
            .unwrap_or(0);
        let rotate_columns = widest > cell - 6;
        let left = 16 + AXIS_FONT as i32 + 14 + widest + 10;
        let below = if rotate_columns {
            widest + 10
        } else {
            TICK_FONT as i32 + 10
        };
        let max = counts.iter().flatten().copied().max().unwrap_or(0);
        let bar_labels = text_size(&max.to_string(), TICK_FONT).0 as i32;
        let grid = n * cell;
        let width = left + grid + 28 + COLOUR_BAR_WIDTH + 8 + bar_labels + 20;
        let height = TITLE_HEIGHT + grid + below + AXIS_FONT as i32 + 30;
        Heatmap {
            counts,
            names,
            title,
            cell,
            origin: (left, TITLE_HEIGHT),
            rotate_columns,
            max,
            size: (width.max(360) as u32, height.max(300) as u32),
        }
    }

    /// Cell fill for `count`: scikit-learn's "Blues", from near-white to dark blue.
    fn colour(&self, count: u64) -> RGBColor {
        let t = if self.max == 0 {
            0.0
        } else {
            count as f64 / self.max as f64
        };
        let (pale, mid, dark) = (
            RGBColor(247, 251, 255),
            RGBColor(107, 174, 214),
            RGBColor(8, 48, 107),
        );
        if t < 0.5 {
            blend(pale, mid, t * 2.0)
        } else {
            blend(mid, dark, t * 2.0 - 1.0)
        }
    }

    /// Largest font (at most 16 px) that fits `max`'s digits inside a cell.
    fn count_font(&self) -> f64 {
        let digits = self.max.to_string();
        let mut size = (self.cell as f64 * 0.36).min(16.0);
        while size > 7.0 && text_size(&digits, size).0 as i32 > self.cell - 4 {
            size -= 1.0;
        }
        size
    }

    fn draw_cells<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (x0, y0) = self.origin;
        let font = self.count_font();
        // Text flips to white above the midpoint of the colour scale, where cells turn dark.
        let threshold = self.max as f64 / 2.0;
        for (t, row) in self.counts.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                let (x, y) = (x0 + p as i32 * self.cell, y0 + t as i32 * self.cell);
                let corner = (x + self.cell, y + self.cell);
                root.draw(&Rectangle::new(
                    [(x, y), corner],
                    self.colour(count).filled(),
                ))?;
                let ink = if count as f64 > threshold {
                    WHITE
                } else {
                    BLACK
                };
                let style = anchored(text(font).color(&ink), HPos::Center, VPos::Center);
                let centre = (x + self.cell / 2, y + self.cell / 2);
                root.draw_text(&count.to_string(), &style, centre)?;
            }
        }
        let grid = self.cell * self.names.len() as i32;
        let frame = [(x0, y0), (x0 + grid, y0 + grid)];
        root.draw(&Rectangle::new(frame, RGBColor(90, 90, 90).stroke_width(1)))?;
        Ok(())
    }

    fn draw_labels<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (x0, y0) = self.origin;
        let grid = self.cell * self.names.len() as i32;
        let tick = text(TICK_FONT);
        for (i, name) in self.names.iter().enumerate() {
            let mid = i as i32 * self.cell + self.cell / 2;
            let row_style = anchored(tick.clone(), HPos::Right, VPos::Center);
            root.draw_text(name, &row_style, (x0 - 8, y0 + mid))?;
            let column_pos = (x0 + mid, y0 + grid + 6);
            let column_style = if self.rotate_columns {
                // Rotated a quarter turn anticlockwise: the name reads upwards and ends at
                // the grid.
                anchored(tick.clone(), HPos::Right, VPos::Center)
                    .transform(FontTransform::Rotate270)
            } else {
                anchored(tick.clone(), HPos::Center, VPos::Top)
            };
            root.draw_text(name, &column_style, column_pos)?;
        }
        let (_, height) = root.dim_in_pixel();
        let axis = text(AXIS_FONT);
        let x_desc = anchored(axis.clone(), HPos::Center, VPos::Bottom);
        root.draw_text(
            "Predicted label",
            &x_desc,
            (x0 + grid / 2, height as i32 - 12),
        )?;
        let y_desc = anchored(axis, HPos::Center, VPos::Top).transform(FontTransform::Rotate270);
        root.draw_text("True label", &y_desc, (16, y0 + grid / 2))?;
        Ok(())
    }

    /// A vertical gradient from 0 (bottom) to the largest count (top), labelled at both ends.
    fn draw_colour_bar<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let grid = self.cell * self.names.len() as i32;
        let x = self.origin.0 + grid + 28;
        let (top, steps) = (self.origin.1, 64);
        for s in 0..steps {
            let y_hi = top + grid * s / steps;
            let y_lo = top + grid * (s + 1) / steps;
            let value = self.max as f64 * (1.0 - (s as f64 + 0.5) / steps as f64);
            let colour = self.colour(value.round() as u64);
            root.draw(&Rectangle::new(
                [(x, y_hi), (x + COLOUR_BAR_WIDTH, y_lo)],
                colour.filled(),
            ))?;
        }
        let frame = [(x, top), (x + COLOUR_BAR_WIDTH, top + grid)];
        root.draw(&Rectangle::new(frame, RGBColor(90, 90, 90).stroke_width(1)))?;
        let label = |v: VPos| anchored(text(TICK_FONT), HPos::Left, v);
        let lx = x + COLOUR_BAR_WIDTH + 6;
        root.draw_text(&self.max.to_string(), &label(VPos::Top), (lx, top))?;
        root.draw_text("0", &label(VPos::Bottom), (lx, top + grid))?;
        Ok(())
    }
}

impl Figure for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (width, _) = root.dim_in_pixel();
        let title = anchored(title_text(22.0), HPos::Center, VPos::Center);
        root.draw_text(self.title, &title, (width as i32 / 2, TITLE_HEIGHT / 2))?;
        if self.names.is_empty() {
            return draw_note(root, "no classes");
        }
        self.draw_cells(root)?;
        self.draw_labels(root)?;
        self.draw_colour_bar(root)
    }
}
