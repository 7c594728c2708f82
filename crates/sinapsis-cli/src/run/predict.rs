//! `sinapsis predict RUN_DIR INPUT [--out FILE]`: class and probabilities for each row of a
//! CSV file (numeric features), or each image of an IDX file or a PNG, with the run's
//! preprocessing applied.

use std::fmt::Write as _;
use std::path::Path;

use sinapsis::checkpoint::write_atomic;
use sinapsis::data::mnist::read_idx;
use sinapsis::data::transforms::{Compose, Transform};
use sinapsis::nn::{Module, ModuleExt};
use sinapsis::train::OutputKind;
use sinapsis::{no_grad, DType, Error, Generator, Result, Tensor};

use super::eval::load_session;
use super::session::Session;

fn bad(path: &Path, msg: impl Into<String>) -> Error {
    Error::Data {
        path: path.display().to_string(),
        msg: msg.into(),
    }
}

/// Numeric rows of `width` fields from a CSV file (a first line that is not numeric is a
/// header and skipped). `what` names the expected fields in errors.
pub(crate) fn read_csv_table(path: &Path, width: usize, what: &str) -> Result<Tensor> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let mut values = Vec::new();
    let mut rows = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed: std::result::Result<Vec<f32>, _> =
            fields.iter().map(|f| f.parse::<f32>()).collect();
        let Ok(row) = parsed else {
            if i == 0 {
                continue; // header
            }
            return Err(bad(
                path,
                format!(
                    "line {}: expected {width} numbers ({what}), got '{line}'",
                    i + 1
                ),
            ));
        };
        if row.len() != width {
            return Err(bad(
                path,
                format!(
                    "line {}: {} fields, expected {width} ({what})",
                    i + 1,
                    row.len()
                ),
            ));
        }
        values.extend(row);
        rows += 1;
    }
    if rows == 0 {
        return Err(bad(path, "no data rows"));
    }
    Tensor::from_vec(values, (rows, width))
}

/// Feature rows for a model taking `width` features.
fn read_csv_rows(path: &Path, width: usize) -> Result<Tensor> {
    read_csv_table(path, width, &format!("the model takes {width} features"))
}

/// Whether `path` names a PNG file (by its extension, any case).
fn is_png(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

/// Images `(N, 1, H, W)` in `[0, 1]` from an IDX images file (gzip or raw) or a PNG. A PNG
/// in colour is converted to luminance (`0.299 R + 0.587 G + 0.114 B`, as PIL's `convert("L")`);
/// an alpha channel is ignored; 16-bit samples are reduced to 8 bits.
pub(crate) fn read_images(path: &Path) -> Result<Tensor> {
    if is_png(path) {
        let file = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|e| bad(path, e.to_string()))?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader
            .next_frame(&mut buf)
            .map_err(|e| bad(path, e.to_string()))?;
        let channels = info.color_type.samples();
        let (h, w) = (info.height as usize, info.width as usize);
        // Luminance from the colour channels; alpha ignored.
        let px: Vec<f32> = buf[..info.buffer_size()]
            .chunks(channels)
            .map(|c| {
                let v = if channels >= 3 {
                    0.299 * f32::from(c[0]) + 0.587 * f32::from(c[1]) + 0.114 * f32::from(c[2])
                } else {
                    f32::from(c[0])
                };
                v / 255.0
            })
            .collect();
        return Tensor::from_vec(px, (1, 1, h, w));
    }
    let idx = read_idx(path)?;
    if idx.dims.len() != 3 {
        return Err(bad(
            path,
            format!(
                "expected an IDX images file (N x H x W), got dims {:?}",
                idx.dims
            ),
        ));
    }
    let px: Vec<f32> = idx.data.iter().map(|&p| f32::from(p) / 255.0).collect();
    Tensor::from_vec(px, (idx.dims[0], 1, idx.dims[1], idx.dims[2]))
}

/// The model's inputs for `input`, preprocessed as in training.
fn inputs(session: &Session, input: &Path) -> Result<Tensor> {
    let spec = &session.data.spec;
    let transforms: Compose = serde_json::from_value(session.data.transforms.clone())
        .map_err(|e| bad(input, format!("the run's transforms cannot be read: {e}")))?;
    let mut g = Generator::new(0);
    if session.exp.data.source.is_image() {
        let images = read_images(input)?;
        let want = [28usize, 28];
        if images.dims()[2..] != want {
            return Err(bad(
                input,
                format!(
                    "images are {:?}, the model takes 28 x 28",
                    &images.dims()[2..]
                ),
            ));
        }
        let x = transforms.apply(&images, &mut g)?;
        return if spec.input_shape.len() == 1 {
            x.flatten(1, -1)
        } else {
            Ok(x)
        };
    }
    let width = spec.input_shape.iter().product();
    transforms.apply(&read_csv_rows(input, width)?, &mut g)
}

/// The predictions for `input` as CSV text: `index,class,name,p_0,...,p_{K-1}` for a
/// classifier (one column per class, rounded to 6 decimals; a single-output binary model
/// gets `p_0 = 1 - p_1`), `index,prediction` for regression (several targets joined by `;`).
///
/// # Errors
/// Unreadable input, wrong feature count or image size, or a failing model; file problems
/// name the file.
pub fn predict_csv(run_dir: &Path, input: &Path) -> Result<String> {
    if !input.is_file() {
        return Err(bad(input, "cannot read: no such file"));
    }
    let session = load_session(run_dir, None)?;
    let x = inputs(&session, input)?;
    let _guard = no_grad();
    session.model.eval();
    let y = session.model.forward(&x)?.to_dtype(DType::F64)?;
    let n = y.dims()[0];
    let cols = if y.rank() == 2 { y.dims()[1] } else { 1 };
    let kind = session.output_kind();
    let names = &session.data.spec.class_names;
    let mut csv = String::new();
    if kind == OutputKind::Regression {
        csv.push_str("index,prediction\n");
        for (i, row) in y.to_vec::<f64>()?.chunks(cols).enumerate() {
            let vals: Vec<String> = row.iter().map(f64::to_string).collect();
            let _ = writeln!(csv, "{i},{}", vals.join(";"));
        }
    } else {
        let probs = if cols == 1 {
            let p1 = if kind == OutputKind::Logits {
                y.sigmoid()?
            } else {
                y.clone()
            };
            let p1 = p1.reshape((n, 1))?;
            Tensor::cat(&[p1.neg()?.add_scalar(1.0)?, p1], 1)?
        } else if kind == OutputKind::Logits {
            y.softmax(1)?
        } else {
            y.clone()
        };
        let k = probs.dims()[1];
        let header: Vec<String> = (0..k).map(|c| format!("p_{c}")).collect();
        let _ = writeln!(csv, "index,class,name,{}", header.join(","));
        for (i, row) in probs.to_vec::<f64>()?.chunks(k).enumerate() {
            let class = row
                .iter()
                .enumerate()
                .fold(0, |b, (j, p)| if *p > row[b] { j } else { b });
            let name = names
                .get(class)
                .cloned()
                .unwrap_or_else(|| class.to_string());
            let ps: Vec<String> = row.iter().map(|p| format!("{p:.6}")).collect();
            let _ = writeln!(csv, "{i},{class},{name},{}", ps.join(","));
        }
    }
    Ok(csv)
}

/// Predicts and prints the CSV of [`predict_csv`] (or writes it to `out`).
///
/// # Errors
/// As [`predict_csv`], or `out` cannot be written.
pub fn predict(run_dir: &Path, input: &Path, out: Option<&Path>) -> Result<()> {
    let csv = predict_csv(run_dir, input)?;
    let n = csv.lines().count().saturating_sub(1);
    match out {
        Some(path) => {
            write_atomic(path, csv.as_bytes())?;
            println!("{n} predictions written to {}", path.display());
        }
        None => print!("{csv}"),
    }
    Ok(())
}
