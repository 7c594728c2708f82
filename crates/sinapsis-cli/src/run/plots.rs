//! The run's plots (`plots/*.png`): loss and accuracy curves, per-step loss, confusion
//! matrix, decision boundary and data scatter for 2-D inputs, misclassified images; when
//! named in `output.plots`, the learning rate per epoch, the ROC curve (binary classifiers),
//! predicted against true values (regression) and the model's activation functions; and
//! `sinapsis plot activations` ([`plot_activations`]).

use std::path::{Path, PathBuf};

use sinapsis::data::dataset::Dataset;
use sinapsis::nn::{Module, ModuleExt};
use sinapsis::plot::{self, ImageTile, Marker, ScatterGroup, Series};
use sinapsis::train::{Evaluation, History, OutputKind};
use sinapsis::{no_grad, DType, Error, Result, Tensor};

use super::folder;
use super::session::Session;
use crate::config::LayerSpec;

/// A plot written into the run folder.
pub struct PlotFile {
    /// What it shows.
    pub title: String,
    /// Path relative to the run folder (for report.md).
    pub relative_path: String,
}

/// The plots made when `output.plots` is not set (each only when it applies to the run);
/// the other names of [`PLOTS`](crate::config::training::PLOTS) are drawn when named.
pub const DEFAULT_PLOTS: &[&str] = &[
    "loss",
    "accuracy",
    "confusion_matrix",
    "decision_boundary",
    "data",
    "misclassified",
];

/// Which plots to make: `output.plots` if set, else [`DEFAULT_PLOTS`].
fn wanted(session: &Session, name: &str) -> bool {
    match &session.exp.output.plots {
        Some(list) => list.iter().any(|p| p == name),
        None => DEFAULT_PLOTS.contains(&name),
    }
}

/// A plot `output.plots` names that does not fit the run is skipped with a note (a default
/// plot that does not apply is left out silently).
fn skip(session: &Session, name: &str, why: &str) {
    if matches!(&session.exp.output.plots, Some(list) if list.iter().any(|p| p == name)) {
        println!("note: plot \"{name}\" skipped: {why}");
    }
}

/// The model's outputs on the whole test set, `(rows, columns)` row-major, and the targets
/// the same way.
fn test_outputs(session: &Session) -> Result<(Vec<f64>, usize, Vec<f64>, usize)> {
    let _guard = no_grad();
    session.model.eval();
    let (mut out, mut out_cols) = (Vec::new(), 1);
    let (mut tgt, mut tgt_cols) = (Vec::new(), 1);
    for batch in &session.test {
        let batch = batch?;
        let o = session.model.forward(&batch[0])?;
        let y = &batch[batch.len() - 1];
        let rows = o.dims().first().copied().unwrap_or(1).max(1);
        let o = o.to_f64_vec()?;
        out_cols = o.len() / rows;
        out.extend(o);
        let t = y.to_f64_vec()?;
        tgt_cols = t.len() / rows;
        tgt.extend(t);
    }
    Ok((out, out_cols.max(1), tgt, tgt_cols.max(1)))
}

/// Class-1 scores of a binary classifier (one column: the probability or logit; two: the
/// class-1 probability, or the logit difference, which orders samples the same way).
fn binary_scores(out: &[f64], cols: usize, kind: OutputKind) -> Vec<f64> {
    match cols {
        1 => out.to_vec(),
        _ => out
            .chunks(cols)
            .map(|r| match kind {
                OutputKind::Logits => r[1] - r[0],
                _ => r[1],
            })
            .collect(),
    }
}

/// The curve name ([`plot::activation_names`]) of an activation layer.
fn curve_name(spec: &LayerSpec) -> Option<&'static str> {
    Some(match spec {
        LayerSpec::Relu {} => "relu",
        LayerSpec::LeakyRelu { .. } => "leaky_relu",
        LayerSpec::Sigmoid {} => "sigmoid",
        LayerSpec::Tanh {} => "tanh",
        LayerSpec::Gelu { approximate } if approximate == "tanh" => "gelu_tanh",
        LayerSpec::Gelu { .. } => "gelu",
        LayerSpec::Silu {} => "silu",
        LayerSpec::Elu { .. } => "elu",
        LayerSpec::Softplus { .. } => "softplus",
        _ => return None,
    })
}

/// The curve names of the activations the model uses, in order of first use: activation
/// layers, `model.activation` of an `arch`, and the `activation` key of layers that hold
/// one inside (residual blocks), read from the layer's config so that any such layer counts.
fn model_activations(session: &Session) -> Vec<&'static str> {
    let model = &session.exp.model;
    let mut specs: Vec<LayerSpec> = Vec::new();
    match &model.layers {
        Some(layers) => {
            for layer in layers {
                specs.push(layer.clone());
                let inner = serde_json::to_value(layer).ok().and_then(|v| {
                    let fields = v.as_object()?.values().next()?.as_object()?.clone();
                    fields.get("activation")?.as_str().map(str::to_string)
                });
                specs.extend(inner.as_deref().and_then(LayerSpec::activation));
            }
        }
        None => specs.extend(LayerSpec::activation(
            model.activation.as_deref().unwrap_or("relu"),
        )),
    }
    let mut names = Vec::new();
    for name in specs.iter().filter_map(curve_name) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn series(name: &str, history: &History, metric: &str, scale: f64) -> Option<Series> {
    let (x, y): (Vec<f64>, Vec<f64>) = history
        .epochs
        .iter()
        .filter_map(|e| e.metric(metric).map(|v| (e.epoch as f64, v * scale)))
        .unzip();
    (!y.is_empty()).then(|| Series {
        name: name.to_string(),
        x,
        y,
    })
}

/// Every sample of a data set as one batch.
fn all_samples(ds: &dyn Dataset) -> Result<Vec<Tensor>> {
    let idx: Vec<usize> = (0..ds.len()).collect();
    ds.get_batch(&idx)
}

fn points_and_labels(ds: &dyn Dataset) -> Result<(Vec<[f64; 2]>, Vec<usize>)> {
    let b = all_samples(ds)?;
    let x = b[0].to_dtype(DType::F64)?.to_vec::<f64>()?;
    let y = b[b.len() - 1].to_dtype(DType::F64)?.to_vec::<f64>()?;
    let points = x.chunks(2).map(|p| [p[0], p[1]]).collect();
    let cols = y.len() / b[0].dims()[0].max(1);
    let labels = y
        .chunks(cols.max(1))
        .map(|r| r[0].max(0.0) as usize)
        .collect();
    Ok((points, labels))
}

/// Class-1 probability (binary) or the predicted class (multiclass) at each point.
fn boundary_values(model: &dyn Module, kind: OutputKind, pts: &[[f64; 2]]) -> Result<Vec<f64>> {
    let _guard = no_grad();
    model.eval();
    let flat: Vec<f32> = pts
        .iter()
        .flat_map(|p| [p[0] as f32, p[1] as f32])
        .collect();
    let out = model.forward(&Tensor::from_vec(flat, (pts.len(), 2))?)?;
    let cols = if out.rank() == 2 { out.dims()[1] } else { 1 };
    if cols == 1 {
        let out = match kind {
            OutputKind::Logits => out.sigmoid()?,
            _ => out,
        };
        return out.to_dtype(DType::F64)?.to_vec::<f64>();
    }
    let classes = sinapsis::metrics::predicted_classes(&out, 0.5)?;
    Ok(classes.into_iter().map(|c| c as f64).collect())
}

/// Writes the plots that apply to this run; returns what was written.
///
/// # Errors
/// A plot that cannot be rendered or written.
pub fn make_plots(
    session: &Session,
    run_dir: &Path,
    history: &History,
    eval: &Evaluation,
) -> Result<Vec<PlotFile>> {
    let dir = run_dir.join(folder::PLOTS);
    std::fs::create_dir_all(&dir).map_err(|e| folder::io_err(&dir, e))?;
    let mut made = Vec::new();
    let mut add = |file: &str, title: &str| {
        made.push(PlotFile {
            title: title.to_string(),
            relative_path: format!("{}/{file}", folder::PLOTS),
        });
        dir.join(file)
    };
    if wanted(session, "loss") {
        let s: Vec<Series> = [
            series("train", history, "train_loss", 1.0),
            series("validation", history, "val_loss", 1.0),
        ]
        .into_iter()
        .flatten()
        .collect();
        plot::line_chart(
            &add("loss.png", "Loss per epoch"),
            "Loss per epoch",
            "epoch",
            "loss",
            &s,
        )?;
    }
    let steps = run_dir.join(folder::STEPS);
    if wanted(session, "loss") && steps.is_file() {
        let text = std::fs::read_to_string(&steps).map_err(|e| folder::io_err(&steps, e))?;
        let (x, y): (Vec<f64>, Vec<f64>) = text
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split(',');
                let step: f64 = f.next()?.parse().ok()?;
                let loss: f64 = f.nth(1)?.parse().ok()?;
                Some((step, loss))
            })
            .unzip();
        let s = [Series {
            name: "train (per step)".into(),
            x,
            y,
        }];
        plot::line_chart(
            &add("loss_steps.png", "Loss per step"),
            "Loss per step",
            "step",
            "loss",
            &s,
        )?;
    }
    if !session.output_kind().is_classification() {
        skip(session, "accuracy", "a regression run has no accuracy");
    }
    if wanted(session, "lr") {
        let s: Vec<Series> = series("learning rate", history, "lr", 1.0)
            .into_iter()
            .collect();
        plot::line_chart(
            &add("lr.png", "Learning rate per epoch"),
            "Learning rate per epoch",
            "epoch",
            "learning rate",
            &s,
        )?;
    }
    if session.output_kind().is_classification() && wanted(session, "accuracy") {
        let s: Vec<Series> = [
            series("train", history, "train_acc", 100.0),
            series("validation", history, "val_acc", 100.0),
        ]
        .into_iter()
        .flatten()
        .collect();
        plot::line_chart(
            &add("accuracy.png", "Accuracy per epoch"),
            "Accuracy per epoch",
            "epoch",
            "accuracy (%)",
            &s,
        )?;
    }
    if let (Some(cm), true) = (&eval.confusion_matrix, wanted(session, "confusion_matrix")) {
        let names = &session.data.spec.class_names;
        let names: Vec<String> = if names.len() == cm.num_classes() {
            names.clone()
        } else {
            (0..cm.num_classes()).map(|i| i.to_string()).collect()
        };
        plot::confusion_matrix(
            &add("confusion_matrix.png", "Confusion matrix (test)"),
            &cm.counts(),
            &names,
            "Confusion matrix (test)",
        )?;
    }
    if eval.confusion_matrix.is_none() {
        skip(
            session,
            "confusion_matrix",
            "only classification runs have one",
        );
    }
    let two_d = session.data.spec.input_shape == [2];
    let classification = session.output_kind().is_classification();
    if !(two_d && classification) {
        let why = "it needs a classification run with 2 input features";
        skip(session, "data", why);
        skip(session, "decision_boundary", why);
    }
    if two_d && classification && wanted(session, "data") {
        let (train_pts, train_lbl) = points_and_labels(&*session.data.train)?;
        let (test_pts, test_lbl) = points_and_labels(&*session.data.test)?;
        let groups = [
            ScatterGroup {
                name: "train".into(),
                points: train_pts,
                labels: train_lbl,
                marker: Marker::Circle,
            },
            ScatterGroup {
                name: "test".into(),
                points: test_pts,
                labels: test_lbl,
                marker: Marker::Cross,
            },
        ];
        plot::scatter(
            &add("data.png", "Data (train and test)"),
            "Data (train and test)",
            &groups,
        )?;
    }
    if two_d && classification && wanted(session, "decision_boundary") {
        let (pts, lbl) = points_and_labels(&*session.data.test)?;
        let kind = session.output_kind();
        let model: &dyn Module = &session.model;
        let predict = |p: &[[f64; 2]]| boundary_values(model, kind, p);
        plot::decision_boundary(
            &add("decision_boundary.png", "Decision boundary (test data)"),
            "Decision boundary (test data)",
            &predict,
            &pts,
            &lbl,
        )?;
    }
    let kind = session.output_kind();
    let classes = session.data.spec.num_classes.max(2);
    let need_outputs = (wanted(session, "roc") && classification && classes == 2)
        || (wanted(session, "predictions") && !classification);
    let outputs = if need_outputs {
        Some(test_outputs(session)?)
    } else {
        None
    };
    if wanted(session, "roc") {
        match (&outputs, classification && classes == 2) {
            (Some((out, cols, tgt, tgt_cols)), true) => {
                let scores = binary_scores(out, *cols, kind);
                let targets: Vec<usize> = tgt
                    .chunks(*tgt_cols)
                    .map(|r| r[0].max(0.0) as usize)
                    .collect();
                match sinapsis::metrics::roc_curve(&targets, &scores) {
                    Ok(curve) => {
                        let s = [
                            Series {
                                name: format!("model (AUC = {:.4})", curve.auc()),
                                x: curve.fpr.clone(),
                                y: curve.tpr.clone(),
                            },
                            Series {
                                name: "chance".into(),
                                x: vec![0.0, 1.0],
                                y: vec![0.0, 1.0],
                            },
                        ];
                        plot::line_chart(
                            &add("roc.png", "ROC curve (test)"),
                            "ROC curve (test)",
                            "false positive rate",
                            "true positive rate",
                            &s,
                        )?;
                    }
                    Err(e) => skip(session, "roc", &e.to_string()),
                }
            }
            _ if classification => skip(
                session,
                "roc",
                &format!("it needs a binary classifier; this run has {classes} classes"),
            ),
            _ => skip(
                session,
                "roc",
                "it needs a binary classifier, not a regression run",
            ),
        }
    }
    if wanted(session, "predictions") {
        match &outputs {
            Some((out, cols, tgt, tgt_cols)) if !classification && cols == tgt_cols => {
                let mut points = Vec::with_capacity(out.len());
                let mut labels = Vec::with_capacity(out.len());
                for (i, (o, t)) in out.iter().zip(tgt).enumerate() {
                    points.push([*t, *o]);
                    labels.push(i % cols);
                }
                let title = "Predicted (vertical) against true (horizontal) values, test";
                plot::scatter(
                    &add("predictions.png", "Predicted against true values (test)"),
                    title,
                    &[ScatterGroup {
                        name: "test".into(),
                        points,
                        labels,
                        marker: Marker::Circle,
                    }],
                )?;
            }
            Some(_) => skip(
                session,
                "predictions",
                "the model's outputs and the targets have different widths",
            ),
            None => skip(
                session,
                "predictions",
                "it is drawn for regression runs (classifiers: see confusion_matrix)",
            ),
        }
    }
    if wanted(session, "activations") {
        let names = model_activations(session);
        if names.is_empty() {
            skip(session, "activations", "the model has no activation layers");
        } else {
            plot::activation_curves(
                &add("activations.png", "Activation functions of the model"),
                &names,
            )?;
        }
    }
    let images = session.exp.data.source.is_image();
    if !images {
        skip(session, "misclassified", "it is drawn for image data");
    }
    if images && !eval.predictions.is_empty() && wanted(session, "misclassified") {
        let wrong: Vec<usize> = (0..eval.predictions.len())
            .filter(|&i| eval.predictions[i] != eval.targets[i])
            .take(36)
            .collect();
        if !wrong.is_empty() {
            let batch = session.data.test.get_batch(&wrong)?;
            let px = batch[0]
                .to_dtype(DType::F32)?
                .contiguous()?
                .to_vec::<f32>()?;
            let size = px.len() / wrong.len();
            let side = (size as f64).sqrt() as usize;
            let names = &session.data.spec.class_names;
            let name = |c: usize| names.get(c).cloned().unwrap_or_else(|| c.to_string());
            let tiles: Vec<ImageTile> = wrong
                .iter()
                .zip(px.chunks(size))
                .map(|(&i, p)| ImageTile {
                    pixels: p.to_vec(),
                    height: side,
                    width: size / side.max(1),
                    caption: format!(
                        "true {} / pred {}",
                        name(eval.targets[i]),
                        name(eval.predictions[i])
                    ),
                })
                .collect();
            plot::image_grid(
                &add("misclassified.png", "Misclassified test images"),
                "Misclassified test images",
                &tiles,
            )?;
        }
    }
    Ok(made)
}

/// `sinapsis plot activations [--out PATH] [NAMES...]`: activation functions over
/// `[-5, 5]`. `out` is a `.png` or `.svg` file (written as such), or a folder (an existing
/// one, or a path without extension, created), which gets both `activations.png` and
/// `activations.svg`; without it,
/// `activations.png` in the current folder. Empty `names` plots every known activation.
/// Returns the files written.
///
/// # Errors
/// An unknown name (the message lists the known ones; nothing is written), or a file that
/// cannot be written.
pub fn plot_activations(out: Option<&Path>, names: &[String]) -> Result<Vec<PathBuf>> {
    let known = plot::activation_names();
    if let Some(unknown) = names.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(Error::InvalidArgument {
            op: "plot activations",
            msg: format!(
                "unknown activation {unknown:?}; known: {}",
                known.join(", ")
            ),
        });
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let files = match out {
        None => vec![PathBuf::from("activations.png")],
        Some(dir) if dir.is_dir() || dir.extension().is_none() => {
            std::fs::create_dir_all(dir).map_err(|e| folder::io_err(dir, e))?;
            vec![dir.join("activations.png"), dir.join("activations.svg")]
        }
        // The extension picks the format (anything but .png/.svg is an error naming it).
        Some(file) => vec![file.to_path_buf()],
    };
    for f in &files {
        plot::activation_curves(f, &names)?;
    }
    Ok(files)
}
