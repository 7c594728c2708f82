//! Plots written as PNG or SVG (chosen by the file extension): training curves, confusion
//! matrices, decision boundaries, scatter plots, activation functions and image grids.
//!
//! Every function takes plain data (vectors, slices, a prediction closure), so it works with
//! any training loop. Text is drawn with an embedded font (DejaVu Sans), so no system fonts
//! or libraries are needed. Files are written atomically: a plot is rendered to a temporary
//! file in the same folder and renamed over the target, so a crash never leaves half a plot.
//!
//! ```
//! use sinapsis::plot::{line_chart, Series};
//! # fn main() -> sinapsis::Result<()> {
//! let dir = std::env::temp_dir().join(format!("sinapsis-plot-doc-{}", std::process::id()));
//! let loss = Series { name: "train".into(), x: vec![1.0, 2.0, 3.0], y: vec![0.9, 0.5, 0.3] };
//! line_chart(&dir.join("loss.svg"), "Loss", "epoch", "loss", &[loss])?;
//! assert!(dir.join("loss.svg").exists());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```

mod activations;
mod boundary;
mod confusion;
mod curves;
mod font;
mod images;
mod scatter;
mod style;

pub use activations::{activation_curves, activation_names};
pub use boundary::decision_boundary;
pub use confusion::confusion_matrix;
pub use curves::{line_chart, Series};
pub use images::{image_grid, ImageTile};
pub use scatter::{scatter, Marker, ScatterGroup};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend};

use crate::{Error, Result};

/// The image formats a plot can be written in, chosen by the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Raster image (`.png`), RGB.
    Png,
    /// Vector image (`.svg`).
    Svg,
}

impl Format {
    /// The format named by `path`'s extension (`.png` or `.svg`, any case).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the path when the extension is neither.
    ///
    /// ```
    /// use sinapsis::plot::Format;
    /// use std::path::Path;
    /// assert_eq!(Format::from_path(Path::new("runs/loss.PNG"))?, Format::Png);
    /// assert!(Format::from_path(Path::new("loss.jpg")).is_err());
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(Error::InvalidArgument {
                op: "plot",
                msg: format!(
                    "{}: unknown plot format; use a .png or .svg extension",
                    path.display()
                ),
            }),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// What a drawing step returns: any backend error, boxed (mapped to [`Error`] by [`save`]).
pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A plot whose data has been checked and prepared, ready to be drawn on any backend.
///
/// Drawing is generic over the backend so one `draw` serves PNG, SVG and in-memory buffers.
pub(crate) trait Figure {
    /// Canvas size in pixels (width, height).
    fn size(&self) -> (u32, u32);

    /// Draws the whole figure on `root` (which covers the canvas).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Renders `figure` to `path` atomically: into a temporary sibling first, renamed on success.
/// Creates missing parent folders. `op` names the public function in error messages.
pub(crate) fn save(op: &'static str, path: &Path, figure: &impl Figure) -> Result<()> {
    let format = Format::from_path(path)?;
    let data_error = |msg: String| Error::Data {
        path: path.display().to_string(),
        msg: format!("{op}: {msg}"),
    };
    font::ensure_registered().map_err(data_error)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| data_error(format!("cannot create the folder: {e}")))?;
    }
    let tmp = temp_sibling(path, format);
    let drawn = draw_to_file(format, &tmp, figure);
    // The backend has been dropped by now, so nothing writes `tmp` after this point.
    let outcome = drawn
        .map_err(|e| data_error(format!("drawing failed: {e}")))
        .and_then(|()| {
            std::fs::rename(&tmp, path)
                .map_err(|e| data_error(format!("cannot move the finished plot in place: {e}")))
        });
    if outcome.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    outcome
}

fn draw_to_file(format: Format, tmp: &Path, figure: &impl Figure) -> DrawResult {
    let size = figure.size();
    match format {
        Format::Png => {
            let root = BitMapBackend::new(tmp, size).into_drawing_area();
            figure.draw(&root)?;
            root.present()?;
        }
        Format::Svg => {
            let root = SVGBackend::new(tmp, size).into_drawing_area();
            figure.draw(&root)?;
            root.present()?;
        }
    }
    Ok(())
}

/// A hidden temporary path next to `path`, unique within this process, keeping the extension
/// (the PNG encoder picks its format from it).
fn temp_sibling(path: &Path, format: Format) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp_name = format!(
        ".{name}.{}.{n}.tmp.{}",
        std::process::id(),
        format.extension()
    );
    path.with_file_name(tmp_name)
}

/// Renders `figure` into an in-memory RGB buffer (row-major, 3 bytes a pixel); for tests
/// that look at pixels without decoding a PNG.
#[cfg(test)]
pub(crate) fn render_rgb(figure: &impl Figure) -> Result<(Vec<u8>, (u32, u32))> {
    font::ensure_registered().map_err(|msg| Error::InvalidArgument { op: "plot", msg })?;
    let (w, h) = figure.size();
    let mut buffer = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        let drawn = figure.draw(&root).and_then(|()| Ok(root.present()?));
        drawn.map_err(|e| Error::InvalidArgument {
            op: "plot",
            msg: e.to_string(),
        })?;
    }
    Ok((buffer, (w, h)))
}

/// Rejects an argument: `Error::InvalidArgument` for public function `op`.
pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}
