//! Decision boundaries of 2-D classifiers: the plane shaded by the model's prediction, with the
//! data points on top.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{blend, lighten, padded_range, palette, text, title_text};
use super::{invalid, save, DrawResult, Figure, Format};
use crate::Result;

const OP: &str = "plot::decision_boundary";
/// Grid cells per side: fine enough for smooth regions, one batched `predict` call.
const GRID: usize = 200;
/// Probability levels used for shading, so equal neighbours merge into one rectangle.
const LEVELS: f64 = 40.0;
const NO_PREDICTION: RGBColor = RGBColor(200, 200, 200);
const BORDER: RGBColor = RGBColor(40, 40, 40);

/// Shades the plane by a classifier's predictions and draws the labelled points on top,
/// writing the plot to `path` (`.png` or `.svg`).
///
/// `predict` is called once with a `200 x 200` grid covering the points plus a margin and
/// returns one value per grid point: the probability of class 1 for binary problems (at most
/// two labels; shaded from class 0's colour through white at 0.5 to class 1's), or the class
/// index as `f64` for more classes (one flat colour per class). The border between classes
/// (the 0.5 contour for probabilities) is drawn as a thin dark line.
///
/// # Errors
/// `labels` and `points` of different lengths, `predict` failing or returning the wrong number
/// of values, an unknown extension, or a file that cannot be written.
///
/// ```
/// use sinapsis::plot::decision_boundary;
/// # fn main() -> sinapsis::Result<()> {
/// let path = std::env::temp_dir().join(format!("sinapsis-doc-db-{}.png", std::process::id()));
/// // A "model" that says class 1 above the diagonal.
/// let predict = |grid: &[[f64; 2]]| -> sinapsis::Result<Vec<f64>> {
///     Ok(grid.iter().map(|p| if p[1] > p[0] { 1.0 } else { 0.0 }).collect())
/// };
/// let points = [[0.0, 1.0], [1.0, 0.0]];
/// decision_boundary(&path, "Diagonal", &predict, &points, &[1, 0])?;
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
// The closure type is spelled out so callers see exactly what `predict` receives and returns.
#[allow(clippy::type_complexity)]
pub fn decision_boundary(
    path: &Path,
    title: &str,
    predict: &dyn Fn(&[[f64; 2]]) -> Result<Vec<f64>>,
    points: &[[f64; 2]],
    labels: &[usize],
) -> Result<()> {
    if points.len() != labels.len() {
        return Err(invalid(
            OP,
            format!("{} points but {} labels", points.len(), labels.len()),
        ));
    }
    // Fail on a bad extension before the (possibly expensive) predictions.
    Format::from_path(path)?;
    let x = padded_range(points.iter().map(|p| p[0]), 0.1).unwrap_or((-1.0, 1.0));
    let y = padded_range(points.iter().map(|p| p[1]), 0.1).unwrap_or((-1.0, 1.0));
    let (dx, dy) = ((x.1 - x.0) / GRID as f64, (y.1 - y.0) / GRID as f64);
    let grid: Vec<[f64; 2]> = (0..GRID)
        .flat_map(|row| {
            (0..GRID).map(move |col| [x.0 + (col as f64 + 0.5) * dx, y.0 + (row as f64 + 0.5) * dy])
        })
        .collect();
    let values = predict(&grid)?;
    if values.len() != grid.len() {
        return Err(invalid(
            OP,
            format!(
                "predict returned {} values for {} grid points",
                values.len(),
                grid.len()
            ),
        ));
    }
    let classes = labels.iter().max().map_or(2, |&m| (m + 1).max(2));
    let binary = classes == 2
        && values
            .iter()
            .all(|v| !v.is_finite() || (0.0..=1.0).contains(v));
    let plot = Boundary {
        title,
        x,
        y,
        values,
        binary,
        points,
        labels,
    };
    save(OP, path, &plot)
}

struct Boundary<'a> {
    title: &'a str,
    x: (f64, f64),
    y: (f64, f64),
    /// Row-major predictions, row 0 at the bottom (lowest y).
    values: Vec<f64>,
    binary: bool,
    points: &'a [[f64; 2]],
    labels: &'a [usize],
}

impl Boundary<'_> {
    /// The region a prediction falls in: the class (or `None` without a usable prediction).
    fn region(&self, v: f64) -> Option<usize> {
        if !v.is_finite() || v < -0.5 {
            None
        } else if self.binary {
            Some(usize::from(v >= 0.5))
        } else {
            Some(v.round() as usize)
        }
    }

    /// Shading level of a prediction: quantised probability, or the class.
    fn level(&self, v: f64) -> Option<i64> {
        if self.binary && v.is_finite() {
            Some((v.clamp(0.0, 1.0) * LEVELS).round() as i64)
        } else {
            self.region(v).map(|c| c as i64)
        }
    }

    fn colour(&self, level: Option<i64>) -> RGBColor {
        match level {
            None => NO_PREDICTION,
            Some(l) if self.binary => {
                // Diverging: class 0's colour at 0, white at 0.5, class 1's at 1.
                let p = l as f64 / LEVELS;
                let (c0, c1) = (lighten(palette(0), 0.45), lighten(palette(1), 0.45));
                if p < 0.5 {
                    blend(c0, WHITE, p * 2.0)
                } else {
                    blend(WHITE, c1, p * 2.0 - 1.0)
                }
            }
            Some(class) => lighten(palette(class as usize), 0.6),
        }
    }

    fn cell_x(&self, col: usize) -> f64 {
        self.x.0 + (self.x.1 - self.x.0) * col as f64 / GRID as f64
    }

    fn cell_y(&self, row: usize) -> f64 {
        self.y.0 + (self.y.1 - self.y.0) * row as f64 / GRID as f64
    }

    /// Horizontal runs of equal shading as rectangles (far fewer elements than cells).
    fn fill_rectangles(&self) -> Vec<Rectangle<(f64, f64)>> {
        let mut rects = vec![];
        for row in 0..GRID {
            let line = &self.values[row * GRID..(row + 1) * GRID];
            let mut start = 0;
            for col in 1..=GRID {
                let level = self.level(line[start]);
                if col == GRID || self.level(line[col]) != level {
                    let corners = [
                        (self.cell_x(start), self.cell_y(row)),
                        (self.cell_x(col), self.cell_y(row + 1)),
                    ];
                    rects.push(Rectangle::new(corners, self.colour(level).filled()));
                    start = col;
                }
            }
        }
        rects
    }

    /// Segments along cell edges where the region changes: the class borders.
    fn border_segments(&self) -> Vec<PathElement<(f64, f64)>> {
        let region = |row: usize, col: usize| self.region(self.values[row * GRID + col]);
        let style = BORDER.stroke_width(1);
        let mut segments = vec![];
        for row in 0..GRID {
            for col in 0..GRID {
                let here = region(row, col);
                if col + 1 < GRID && region(row, col + 1) != here {
                    let x = self.cell_x(col + 1);
                    let ends = vec![(x, self.cell_y(row)), (x, self.cell_y(row + 1))];
                    segments.push(PathElement::new(ends, style));
                }
                if row + 1 < GRID && region(row + 1, col) != here {
                    let y = self.cell_y(row + 1);
                    let ends = vec![(self.cell_x(col), y), (self.cell_x(col + 1), y)];
                    segments.push(PathElement::new(ends, style));
                }
            }
        }
        segments
    }
}

impl Figure for Boundary<'_> {
    fn size(&self) -> (u32, u32) {
        (760, 700)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, title_text(24.0))
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(64)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)?;
        chart.draw_series(self.fill_rectangles())?;
        chart.draw_series(self.border_segments())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x1")
            .y_desc("x2")
            .axis_desc_style(text(17.0))
            .label_style(text(14.0))
            .draw()?;

        let classes = self.labels.iter().max().map_or(0, |&m| m + 1);
        for class in 0..classes {
            let colour = palette(class);
            let members = self
                .points
                .iter()
                .zip(self.labels)
                .filter(|(p, &l)| l == class && p[0].is_finite() && p[1].is_finite())
                .map(|(p, _)| (p[0], p[1]))
                .collect::<Vec<_>>();
            if members.is_empty() {
                continue;
            }
            chart
                .draw_series(members.into_iter().map(|p| {
                    EmptyElement::at(p)
                        + Circle::new((0, 0), 4, colour.filled())
                        + Circle::new((0, 0), 4, BLACK.stroke_width(1))
                }))?
                .label(format!("class {class}"))
                .legend(move |(lx, ly)| Circle::new((lx + 8, ly), 5, colour.filled()));
        }
        if classes > 0 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .margin(10)
                .label_font(text(14.0))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(160, 160, 160))
                .draw()?;
        }
        Ok(())
    }
}
