//! `sinapsis eval RUN_DIR [--data PATH]`: the run's best model on its test set, or on other
//! labelled data:
//!
//! - image runs (MNIST, Fashion-MNIST): `PATH` is a folder holding
//!   `t10k-images-idx3-ubyte[.gz]` and `t10k-labels-idx1-ubyte[.gz]`, or an IDX images file
//!   whose labels file lies beside it (`...-images-idx3-ubyte...` ↔ `...-labels-idx1-ubyte...`);
//!   every image is evaluated;
//! - generated data (circles, moons, blobs, ...): `PATH` is a numeric CSV file, the features
//!   in the model's order then the label (a non-numeric first line is a header); every row is
//!   evaluated;
//! - CSV runs: `PATH` replaces `data.path` (same columns as the training file) and the test
//!   split of that file is evaluated.
//!
//! The run's preprocessing (scaling fitted on its training data, image normalisation) is
//! applied to the new data in the first two cases.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sinapsis::checkpoint::load_model;
use sinapsis::data::dataset::{Dataset, TensorDataset};
use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::{read_idx, DatasetKind, Mnist, Split};
use sinapsis::data::transforms::{Compose, Transform};
use sinapsis::train::Evaluation;
use sinapsis::{DType, Error, Generator, Result, Tensor};

use super::folder;
use super::predict::{read_csv_table, read_images};
use super::report::{evaluate_test, print_evaluation};
use super::session::Session;
use crate::config::{DataSource, Experiment};

fn bad(path: &Path, msg: impl Into<String>) -> Error {
    Error::Data {
        path: path.display().to_string(),
        msg: msg.into(),
    }
}

/// Rebuilds the run's session from its `config.toml` (same seed: same split and fitted
/// transforms) with the best weights loaded. `data` replaces `data.path`.
///
/// # Errors
/// Not a run folder, missing weights, or data that does not fit.
pub fn load_session(run_dir: &Path, data: Option<&Path>) -> Result<Session> {
    folder::check_run_dir(run_dir)?;
    let overrides: Vec<String> = data
        .map(|p| vec![format!("data.path={:?}", p.display().to_string())])
        .unwrap_or_default();
    let exp = Experiment::load(run_dir.join(folder::CONFIG), &overrides)?;
    let session = Session::build_for_restore(&exp)?;
    load_model(&session.model, &run_dir.join(folder::MODEL), true)?;
    Ok(session)
}

/// The labels file that goes with an IDX images file: the same name with `images-idx3`
/// replaced by `labels-idx1`.
fn labels_beside(images: &Path) -> Result<PathBuf> {
    let name = images
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains("images-idx3") {
        return Err(bad(
            images,
            "cannot find the labels: name the images file `...images-idx3-ubyte[.gz]` with \
             `...labels-idx1-ubyte[.gz]` beside it, or pass the folder holding \
             t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte",
        ));
    }
    let labels = images.with_file_name(name.replace("images-idx3", "labels-idx1"));
    if !labels.is_file() {
        return Err(bad(
            &labels,
            format!(
                "labels file for {} not found (expected beside it)",
                images.display()
            ),
        ));
    }
    Ok(labels)
}

/// Images `(N, 1, 28, 28)` in `[0, 1]` and labels `(N,)` from a folder or an images file.
fn read_labelled_images(session: &Session, path: &Path) -> Result<(Tensor, Tensor)> {
    if path.is_dir() {
        let kind = if session.exp.data.source == DataSource::FashionMnist {
            DatasetKind::FashionMnist
        } else {
            DatasetKind::Mnist
        };
        let test = Mnist::load_kind(path, Split::Test, kind)?;
        return Ok((test.images().clone(), test.labels().clone()));
    }
    if !path.is_file() {
        return Err(bad(path, "cannot read: no such file or folder"));
    }
    let images = read_images(path)?;
    let labels_path = labels_beside(path)?;
    let labels = read_idx(&labels_path)?;
    let n = images.dims()[0];
    if labels.dims != [n] {
        return Err(bad(
            &labels_path,
            format!(
                "expected {n} labels (one per image of {}), got an IDX array of dims {:?}",
                path.display(),
                labels.dims
            ),
        ));
    }
    let y: Vec<i64> = labels.data.iter().map(|&l| i64::from(l)).collect();
    Ok((images, Tensor::from_vec(y, n)?))
}

/// Checks class labels against the model's classes and shapes them for the loss.
fn targets_for(session: &Session, path: &Path, y: &Tensor) -> Result<Tensor> {
    let n = y.dims()[0];
    let loss = &session.exp.loss;
    if !loss.is_classification() {
        let w = y.numel() / n.max(1);
        return y.to_dtype(DType::F32)?.reshape((n, w));
    }
    let k = session.data.spec.num_classes.max(2);
    let labels = y.to_dtype(DType::F64)?.to_vec::<f64>()?;
    let not_a_class = |l: f64| l.fract() != 0.0 || l < 0.0 || l >= k as f64;
    if let Some((i, l)) = labels
        .iter()
        .copied()
        .enumerate()
        .find(|p| not_a_class(p.1))
    {
        return Err(bad(
            path,
            format!("sample {i}: label {l} is not a class of the model (0..{k})"),
        ));
    }
    if loss.is_binary() {
        y.to_dtype(DType::F32)?.reshape((n, 1))
    } else {
        y.to_dtype(DType::I64)
    }
}

/// The samples of `path` (see the module docs), preprocessed as in training.
fn external_test_set(session: &Session, path: &Path) -> Result<Arc<dyn Dataset>> {
    let spec = &session.data.spec;
    let transforms: Compose = serde_json::from_value(session.data.transforms.clone())
        .map_err(|e| bad(path, format!("the run's transforms cannot be read: {e}")))?;
    let mut g = Generator::new(0);
    let (x, y) = if session.exp.data.source.is_image() {
        let (images, labels) = read_labelled_images(session, path)?;
        if images.dims()[2..] != [28, 28] {
            return Err(bad(
                path,
                format!(
                    "images are {:?}, the model takes 28 x 28",
                    &images.dims()[2..]
                ),
            ));
        }
        let x = transforms.apply(&images, &mut g)?;
        let x = if spec.input_shape.len() == 1 {
            x.flatten(1, -1)?
        } else {
            x
        };
        (x, labels)
    } else {
        let width: usize = spec.input_shape.iter().product();
        let targets = spec.target_width.max(1);
        let what = format!("{width} features then {targets} target column(s)");
        let table = read_csv_table(path, width + targets, &what)?;
        let x = table.narrow(1, 0, width)?.contiguous()?;
        let y = table.narrow(1, width, targets)?.contiguous()?;
        let y = if targets == 1 { y.flatten(0, -1)? } else { y };
        (transforms.apply(&x, &mut g)?, y)
    };
    let y = targets_for(session, path, &y)?;
    Ok(Arc::new(TensorDataset::new(vec![x, y])?))
}

/// The run's model evaluated on its test set, or on `data` (see the module docs).
/// `keep_predictions` keeps every sample's predicted class in the result.
///
/// # Errors
/// As [`load_session`], or data that does not fit the model (wrong column count, image size
/// or labels), naming the file.
pub fn evaluate_run(
    run_dir: &Path,
    data: Option<&Path>,
    keep_predictions: bool,
) -> Result<Evaluation> {
    folder::check_run_dir(run_dir)?;
    let source = Experiment::load(run_dir.join(folder::CONFIG), &[])?
        .data
        .source;
    let session = match data {
        Some(path) if source != DataSource::Csv => {
            let mut session = load_session(run_dir, None)?;
            let ds = external_test_set(&session, path)?;
            let batch = session.exp.training.batch_size.max(1000);
            session.test = DataLoader::from_arc(ds, batch)?;
            session
        }
        _ => load_session(run_dir, data)?,
    };
    evaluate_test(&session, keep_predictions)
}

/// Evaluates (see [`evaluate_run`]) and prints; returns the metrics.
///
/// # Errors
/// As [`evaluate_run`].
pub fn eval(run_dir: &Path, data: Option<&Path>) -> Result<Evaluation> {
    let eval = evaluate_run(run_dir, data, false)?;
    print_evaluation(&eval);
    Ok(eval)
}
