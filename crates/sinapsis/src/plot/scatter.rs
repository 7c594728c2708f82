//! Scatter plots of 2-D points, coloured by label, one marker shape per group.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{draw_note, padded_range, palette, text, title_text};
use super::{invalid, save, DrawResult, Figure};
use crate::Result;

const OP: &str = "plot::scatter";
const MARKER_SIZE: i32 = 5;

/// The shape a group's points are drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Marker {
    /// A filled disc.
    #[default]
    Circle,
    /// An "x".
    Cross,
    /// A filled triangle.
    Triangle,
}

/// A named set of labelled points sharing a marker (for example the training or test split).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScatterGroup {
    /// Group name, shown in the legend before the class (`"train / class 1"`).
    pub name: String,
    /// The points; NaN or infinite ones are skipped.
    pub points: Vec<[f64; 2]>,
    /// The class of each point (decides its colour), as many as `points`.
    pub labels: Vec<usize>,
    /// The shape of every point in the group.
    pub marker: Marker,
}

/// Draws the groups' points on one chart, coloured by label with each group's marker, and a
/// legend with one entry per group and class; writes it to `path` (`.png` or `.svg`).
///
/// # Errors
/// A group whose `labels` and `points` lengths differ, an unknown extension, or a file that
/// cannot be written.
///
/// ```
/// use sinapsis::plot::{scatter, Marker, ScatterGroup};
/// # fn main() -> sinapsis::Result<()> {
/// let path = std::env::temp_dir().join(format!("sinapsis-doc-sc-{}.svg", std::process::id()));
/// let train = ScatterGroup {
///     name: "train".into(),
///     points: vec![[0.0, 0.0], [1.0, 1.0]],
///     labels: vec![0, 1],
///     marker: Marker::Circle,
/// };
/// let test = ScatterGroup { name: "test".into(), points: vec![[0.5, 0.4]], labels: vec![1], marker: Marker::Cross };
/// scatter(&path, "Moons", &[train, test])?;
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn scatter(path: &Path, title: &str, groups: &[ScatterGroup]) -> Result<()> {
    if let Some(g) = groups.iter().find(|g| g.points.len() != g.labels.len()) {
        return Err(invalid(
            OP,
            format!(
                "group {:?} has {} points but {} labels",
                g.name,
                g.points.len(),
                g.labels.len()
            ),
        ));
    }
    save(OP, path, &Scatter { title, groups })
}

struct Scatter<'a> {
    title: &'a str,
    groups: &'a [ScatterGroup],
}

impl Scatter<'_> {
    fn finite_points(&self) -> impl Iterator<Item = [f64; 2]> + '_ {
        self.groups
            .iter()
            .flat_map(|g| g.points.iter().copied())
            .filter(|p| p[0].is_finite() && p[1].is_finite())
    }
}

impl Figure for Scatter<'_> {
    fn size(&self) -> (u32, u32) {
        (800, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let x = padded_range(self.finite_points().map(|p| p[0]), 0.05);
        let y = padded_range(self.finite_points().map(|p| p[1]), 0.05);
        let has_data = x.is_some();
        let (x, y) = (x.unwrap_or((0.0, 1.0)), y.unwrap_or((0.0, 1.0)));
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, title_text(24.0))
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(64)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
        chart
            .configure_mesh()
            .x_desc("x1")
            .y_desc("x2")
            .axis_desc_style(text(17.0))
            .label_style(text(14.0))
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()?;

        let mut entries = 0;
        for group in self.groups {
            let classes = group.labels.iter().max().map_or(0, |&m| m + 1);
            for class in 0..classes {
                let members: Vec<(f64, f64)> = group
                    .points
                    .iter()
                    .zip(&group.labels)
                    .filter(|(p, &l)| l == class && p[0].is_finite() && p[1].is_finite())
                    .map(|(p, _)| (p[0], p[1]))
                    .collect();
                if members.is_empty() {
                    continue;
                }
                let colour = palette(class);
                let s = MARKER_SIZE;
                // Each shape is its own element type, hence one arm per marker.
                let drawn = match group.marker {
                    Marker::Circle => chart
                        .draw_series(
                            members
                                .into_iter()
                                .map(|p| Circle::new(p, s, colour.filled())),
                        )?
                        .legend(move |(lx, ly)| Circle::new((lx + 8, ly), s, colour.filled())),
                    Marker::Cross => chart
                        .draw_series(
                            members
                                .into_iter()
                                .map(|p| Cross::new(p, s, colour.stroke_width(2))),
                        )?
                        .legend(move |(lx, ly)| {
                            Cross::new((lx + 8, ly), s, colour.stroke_width(2))
                        }),
                    Marker::Triangle => chart
                        .draw_series(
                            members
                                .into_iter()
                                .map(|p| TriangleMarker::new(p, s + 1, colour.filled())),
                        )?
                        .legend(move |(lx, ly)| {
                            TriangleMarker::new((lx + 8, ly), s + 1, colour.filled())
                        }),
                };
                let label = if group.name.is_empty() {
                    format!("class {class}")
                } else {
                    format!("{} / class {class}", group.name)
                };
                drawn.label(label);
                entries += 1;
            }
        }
        if entries > 0 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .margin(10)
                .label_font(text(14.0))
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
