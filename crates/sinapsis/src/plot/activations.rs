//! Activation functions over `[-5, 5]`, computed with the library's own tensor ops (so the
//! plot shows what the layers actually compute), one small chart per function.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{anchored, padded_range, palette, text, title_text};
use super::{invalid, save, DrawResult, Figure, Format};
use crate::{Result, Tensor};

const OP: &str = "plot::activation_curves";
/// Samples over `[-5, 5]`: smooth at the chart's size, and exact at 0 (kinks of ReLU & co).
const SAMPLES: usize = 401;
const RANGE: (f64, f64) = (-5.0, 5.0);
/// The slope used for `leaky_relu` (PyTorch's default 0.01 would look like ReLU).
const LEAKY_SLOPE: f64 = 0.1;
const PANEL: (u32, u32) = (300, 230);
const TITLE_HEIGHT: u32 = 50;

const NAMES: &[&str] = &[
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
    "silu",
    "mish",
    "sigmoid",
    "hardsigmoid",
    "log_sigmoid",
    "tanh",
    "hardtanh",
    "softplus",
    "softsign",
];

/// The names [`activation_curves`] understands.
///
/// ```
/// assert!(sinapsis::plot::activation_names().contains(&"gelu"));
/// ```
pub fn activation_names() -> &'static [&'static str] {
    NAMES
}

/// Applies activation `name` to `x` with tensor ops.
fn apply(name: &str, x: &Tensor) -> Result<Tensor> {
    match name {
        "relu" => x.relu(),
        "relu6" => x.clamp(0.0, 6.0),
        "leaky_relu" => x.leaky_relu(LEAKY_SLOPE),
        "elu" => x.elu(1.0),
        // Klambauer et al. 2017's constants, as torch.nn.SELU.
        "selu" => x
            .elu(1.673_263_242_354_377_3)?
            .mul_scalar(1.050_700_987_355_480_5),
        "gelu" => x.gelu(),
        "gelu_tanh" => x.gelu_tanh(),
        "silu" => x.silu(),
        "mish" => x.mul(&x.softplus()?.tanh()?),
        "sigmoid" => x.sigmoid(),
        "hardsigmoid" => x.div_scalar(6.0)?.add_scalar(0.5)?.clamp(0.0, 1.0),
        "log_sigmoid" => x.log_sigmoid(),
        "tanh" => x.tanh(),
        "hardtanh" => x.clamp(-1.0, 1.0),
        "softplus" => x.softplus(),
        "softsign" => x.div(&x.abs()?.add_scalar(1.0)?),
        _ => Err(unknown(name)),
    }
}

fn unknown(name: &str) -> crate::Error {
    invalid(
        OP,
        format!("unknown activation {name:?}; known: {}", NAMES.join(", ")),
    )
}

/// Plots activation functions over `[-5, 5]`, one small chart per name in a near-square
/// grid, and writes the figure to `path` (`.png` or `.svg`). An empty `names` plots them all
/// ([`activation_names`]). `leaky_relu` is drawn with slope 0.1 so that it is told apart from
/// `relu`.
///
/// # Errors
/// An unknown name (the message lists the known ones), an unknown extension, or a file that
/// cannot be written.
///
/// ```
/// use sinapsis::plot::activation_curves;
/// # fn main() -> sinapsis::Result<()> {
/// let path = std::env::temp_dir().join(format!("sinapsis-doc-act-{}.png", std::process::id()));
/// activation_curves(&path, &["relu", "gelu", "tanh"])?;
/// assert!(activation_curves(&path, &["swishy"]).is_err());
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub fn activation_curves(path: &Path, names: &[&str]) -> Result<()> {
    let names = if names.is_empty() { NAMES } else { names };
    if let Some(bad) = names.iter().find(|n| !NAMES.contains(n)) {
        return Err(unknown(bad));
    }
    Format::from_path(path)?;
    let step = (RANGE.1 - RANGE.0) / (SAMPLES - 1) as f64;
    let xs: Vec<f64> = (0..SAMPLES).map(|i| RANGE.0 + i as f64 * step).collect();
    let input = Tensor::from_vec(xs.clone(), SAMPLES)?;
    let curves = names
        .iter()
        .map(|&name| {
            let ys = apply(name, &input)?.to_vec::<f64>()?;
            Ok(Curve {
                name: describe(name),
                points: xs.iter().copied().zip(ys).collect(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    save(OP, path, &Panels { curves })
}

fn describe(name: &str) -> String {
    if name == "leaky_relu" {
        format!("leaky_relu (slope {LEAKY_SLOPE})")
    } else {
        name.to_string()
    }
}

struct Curve {
    name: String,
    points: Vec<(f64, f64)>,
}

struct Panels {
    curves: Vec<Curve>,
}

impl Panels {
    /// (rows, columns) of a near-square grid holding every curve.
    fn grid(&self) -> (usize, usize) {
        let n = self.curves.len().max(1);
        let cols = (n as f64).sqrt().ceil() as usize;
        (n.div_ceil(cols), cols)
    }
}

impl Figure for Panels {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        (
            PANEL.0 * cols as u32 + 20,
            PANEL.1 * rows as u32 + TITLE_HEIGHT + 10,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (width, _) = root.dim_in_pixel();
        let title = anchored(title_text(24.0), HPos::Center, VPos::Center);
        let centre = (width as i32 / 2, TITLE_HEIGHT as i32 / 2);
        root.draw_text("Activation functions", &title, centre)?;
        let body = root.margin(TITLE_HEIGHT, 10, 10, 10);
        let panels = body.split_evenly(self.grid());
        for (i, (curve, panel)) in self.curves.iter().zip(&panels).enumerate() {
            let y = padded_range(curve.points.iter().map(|p| p.1), 0.08).unwrap_or((-1.0, 1.0));
            let mut chart = ChartBuilder::on(panel)
                .caption(&curve.name, text(16.0))
                .margin(8)
                .x_label_area_size(26)
                .y_label_area_size(40)
                .build_cartesian_2d(RANGE.0..RANGE.1, y.0..y.1)?;
            chart
                .configure_mesh()
                .x_labels(5)
                .y_labels(5)
                .label_style(text(11.0))
                .light_line_style(RGBColor(240, 240, 240))
                .bold_line_style(RGBColor(220, 220, 220))
                .draw()?;
            let axis = RGBColor(150, 150, 150).stroke_width(1);
            if y.0 < 0.0 && y.1 > 0.0 {
                chart.draw_series(LineSeries::new([(RANGE.0, 0.0), (RANGE.1, 0.0)], axis))?;
            }
            chart.draw_series(LineSeries::new([(0.0, y.0), (0.0, y.1)], axis))?;
            let curve_style = palette(i % 10).stroke_width(2);
            chart.draw_series(LineSeries::new(curve.points.iter().copied(), curve_style))?;
        }
        Ok(())
    }
}
