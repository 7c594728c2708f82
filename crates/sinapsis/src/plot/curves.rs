//! Line charts: loss per step, loss and accuracy per epoch (train against validation).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{draw_note, padded_range, palette, text, title_text};
use super::{invalid, save, DrawResult, Figure};
use crate::Result;

/// Points beyond this many in one unbroken run are thinned (keeping each bucket's extremes),
/// so SVG files stay small and the curve looks the same.
const MAX_POINTS_PER_RUN: usize = 4000;

/// One named curve: `y[i]` plotted at `x[i]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Legend entry (an empty name is left out of the legend).
    pub name: String,
    /// Horizontal coordinates (step, epoch...).
    pub x: Vec<f64>,
    /// Values, as many as `x`.
    pub y: Vec<f64>,
}

/// Draws `series` as lines on one chart with a legend and writes it to `path` (`.png` or
/// `.svg`).
///
/// Axis ranges cover the finite points; NaN or infinite points are skipped and break the line
/// there. Series with no points, or no series at all, give an empty chart with a note.
///
/// # Errors
/// A series whose `x` and `y` lengths differ, an unknown extension, or a file that cannot be
/// written.
///
/// ```
/// use sinapsis::plot::{line_chart, Series};
/// # fn main() -> sinapsis::Result<()> {
/// let path = std::env::temp_dir().join(format!("sinapsis-doc-curves-{}.png", std::process::id()));
/// let train = Series { name: "train".into(), x: vec![1.0, 2.0], y: vec![0.8, 0.4] };
/// let val = Series { name: "validation".into(), x: vec![1.0, 2.0], y: vec![0.9, 0.6] };
/// line_chart(&path, "Loss per epoch", "epoch", "loss", &[train, val])?;
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    for s in series {
        if s.x.len() != s.y.len() {
            return Err(invalid(
                "plot::line_chart",
                format!(
                    "series {:?} has {} x values and {} y values",
                    s.name,
                    s.x.len(),
                    s.y.len()
                ),
            ));
        }
    }
    let chart = LineChart {
        title,
        x_label,
        y_label,
        series,
    };
    save("plot::line_chart", path, &chart)
}

struct LineChart<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [Series],
}

impl LineChart<'_> {
    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.x.iter().copied().zip(s.y.iter().copied()))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }

    /// Puts the legend in the upper or lower right, whichever holds fewer points.
    fn legend_position(&self, x: (f64, f64), y: (f64, f64)) -> SeriesLabelPosition {
        let x_mid = (x.0 + x.1) / 2.0;
        let y_mid = (y.0 + y.1) / 2.0;
        let (upper, lower) =
            self.finite_points()
                .filter(|p| p.0 >= x_mid)
                .fold((0usize, 0usize), |(u, l), p| {
                    if p.1 >= y_mid {
                        (u + 1, l)
                    } else {
                        (u, l + 1)
                    }
                });
        if upper <= lower {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::LowerRight
        }
    }
}

impl Figure for LineChart<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let x_range = padded_range(self.finite_points().map(|p| p.0), 0.0);
        let y_range = padded_range(self.finite_points().map(|p| p.1), 0.05);
        let has_data = x_range.is_some();
        let x = x_range.unwrap_or((0.0, 1.0));
        let y = y_range.unwrap_or((0.0, 1.0));

        let mut chart = ChartBuilder::on(root)
            .caption(self.title, title_text(24.0))
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(76)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .axis_desc_style(text(17.0))
            .label_style(text(14.0))
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()?;

        let mut named = 0;
        for (i, s) in self.series.iter().enumerate() {
            let colour = palette(i);
            let runs = finite_runs(&s.x, &s.y);
            // A run of one point has no line: mark it so it stays visible.
            let singles = runs.iter().filter(|r| r.len() == 1).map(|r| r[0]);
            chart.draw_series(singles.map(|p| Circle::new(p, 3, colour.filled())))?;
            let mut lines = runs.into_iter().filter(|r| r.len() > 1).peekable();
            // The first line carries the legend entry; a series without one still gets it.
            let first = lines.next().unwrap_or_default();
            let annotation =
                chart.draw_series(LineSeries::new(thin(first), colour.stroke_width(2)))?;
            if !s.name.is_empty() {
                named += 1;
                annotation.label(s.name.as_str()).legend(move |(lx, ly)| {
                    PathElement::new(vec![(lx, ly), (lx + 24, ly)], colour.stroke_width(3))
                });
            }
            for run in lines {
                chart.draw_series(LineSeries::new(thin(run), colour.stroke_width(2)))?;
            }
        }
        if named > 0 {
            chart
                .configure_series_labels()
                .position(self.legend_position(x, y))
                .margin(12)
                .label_font(text(15.0))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(160, 160, 160))
                .draw()?;
        }
        if !has_data {
            draw_note(root, "no data")?;
        }
        Ok(())
    }
}

/// The maximal runs of consecutive points whose coordinates are both finite.
fn finite_runs(x: &[f64], y: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![];
    let mut current = vec![];
    for (&px, &py) in x.iter().zip(y) {
        if px.is_finite() && py.is_finite() {
            current.push((px, py));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// Thins a long run to at most about `MAX_POINTS_PER_RUN` points: each bucket keeps its
/// lowest and highest point in order, so spikes (a loss blowing up) stay visible.
fn thin(run: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if run.len() <= MAX_POINTS_PER_RUN {
        return run;
    }
    let bucket = run.len().div_ceil(MAX_POINTS_PER_RUN / 2);
    let mut out = Vec::with_capacity(MAX_POINTS_PER_RUN + 2);
    for chunk in run.chunks(bucket) {
        let lo = (0..chunk.len()).min_by(|&a, &b| chunk[a].1.total_cmp(&chunk[b].1));
        let hi = (0..chunk.len()).max_by(|&a, &b| chunk[a].1.total_cmp(&chunk[b].1));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            out.push(chunk[lo.min(hi)]);
            if lo != hi {
                out.push(chunk[lo.max(hi)]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_break_at_non_finite_points() {
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [1.0, f64::NAN, 2.0, 3.0, f64::INFINITY];
        assert_eq!(
            finite_runs(&x, &y),
            vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]
        );
    }

    #[test]
    fn title_text_is_drawn_in_memory() {
        let series = [Series {
            name: "train".into(),
            x: vec![0.0, 1.0],
            y: vec![1.0, 0.5],
        }];
        let chart = LineChart {
            title: "Loss",
            x_label: "epoch",
            y_label: "loss",
            series: &series,
        };
        let (rgb, (w, _)) = crate::plot::render_rgb(&chart).unwrap();
        // The caption sits in the top 45 rows; the font must have put dark pixels there.
        let title_rows = &rgb[..45 * w as usize * 3];
        let dark = title_rows
            .chunks(3)
            .filter(|p| p.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 30, "{dark} dark pixels in the title area");
    }

    #[test]
    fn thinning_keeps_extremes() {
        let mut run: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, 0.0)).collect();
        run[54_321].1 = 9.0;
        let thinned = thin(run);
        assert!(thinned.len() <= MAX_POINTS_PER_RUN + 2);
        assert!(thinned.iter().any(|p| p.1 == 9.0));
    }
}
