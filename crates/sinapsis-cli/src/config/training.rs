//! `[training]` and `[output]`.

use serde::{Deserialize, Serialize};

fn epochs() -> usize {
    100
}
fn batch() -> usize {
    64
}
fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}
fn cpu() -> String {
    "cpu".into()
}
fn val_loss() -> String {
    "val_loss".into()
}
fn patience() -> usize {
    10
}
fn min() -> String {
    "min".into()
}
fn runs() -> String {
    "runs".into()
}

/// Stop when the monitored metric stops improving (Keras' `EarlyStopping`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    /// The metric watched ("val_loss").
    #[serde(default = "val_loss")]
    pub monitor: String,
    /// Epochs without improvement before stopping (10).
    #[serde(default = "patience")]
    pub patience: usize,
    /// Smallest change that counts as an improvement (0).
    #[serde(default)]
    pub min_delta: f64,
    /// `"min"` or `"max"`.
    #[serde(default = "min")]
    pub mode: String,
    /// Put back the best weights when stopping (true).
    #[serde(default = "yes")]
    pub restore_best: bool,
}

/// The `[training]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Passes over the training set (100).
    #[serde(default = "epochs")]
    pub epochs: usize,
    /// Samples per batch (64).
    #[serde(default = "batch")]
    pub batch_size: usize,
    /// Reshuffle the training set every epoch (true).
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// Background batch-loading threads (0 = in the training thread).
    #[serde(default)]
    pub num_workers: usize,
    /// Clip the global gradient norm to this (0 = off).
    #[serde(default)]
    pub clip_grad_norm: f64,
    /// Clip every gradient element to [-v, v] (0 = off).
    #[serde(default)]
    pub clip_grad_value: f64,
    /// Batches whose gradients are summed before each optimizer step (1).
    #[serde(default = "one")]
    pub grad_accum_steps: usize,
    /// `"cpu"` (the only backend of this build).
    #[serde(default = "cpu")]
    pub device: String,
    /// Early stopping (off unless given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
    /// Save a checkpoint every this many epochs (0 = only best and last).
    #[serde(default)]
    pub checkpoint_every: usize,
    /// The metric that picks the best model ("val_loss"; "loss" without validation data).
    #[serde(default = "val_loss")]
    pub monitor: String,
    /// Write one row per optimizer step to steps.csv (false).
    #[serde(default)]
    pub log_steps: bool,
    /// Write TensorBoard event files (false).
    #[serde(default)]
    pub tensorboard: bool,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        crate::config::de::de(toml::Value::Table(toml::Table::new()), "training")
            .expect("every training key has a default")
    }
}

impl TrainingConfig {
    /// Checks the values.
    pub fn check(&self, p: &mut super::de::Problems) {
        if self.epochs == 0 {
            p.push("training.epochs: expected at least 1, got 0");
        }
        if self.batch_size == 0 {
            p.push("training.batch_size: expected at least 1, got 0");
        }
        if self.grad_accum_steps == 0 {
            p.push("training.grad_accum_steps: expected at least 1, got 0");
        }
        for (k, v) in [
            ("clip_grad_norm", self.clip_grad_norm),
            ("clip_grad_value", self.clip_grad_value),
        ] {
            if !(v >= 0.0) {
                p.push(format!("training.{k}: expected >= 0 (0 = off), got {v}"));
            }
        }
        match self.device.as_str() {
            "cpu" => {}
            d if d.starts_with("cuda") || d == "gpu" || d == "mps" => p.push(format!(
                "training.device: \"{d}\" is not available: this build has no GPU backend; use \"cpu\""
            )),
            d => p.push(format!("training.device: unknown device \"{d}\" (expected \"cpu\")")),
        }
        if let Some(es) = &self.early_stopping {
            if !matches!(es.mode.as_str(), "min" | "max") {
                p.push(format!(
                    "training.early_stopping.mode: expected \"min\" or \"max\", got \"{}\"",
                    es.mode
                ));
            }
        }
    }
}

/// The `[output]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Parent folder of run folders ("runs"); a run goes to `dir/name` (`name-2`, ... if
    /// it exists).
    #[serde(default = "runs")]
    pub dir: String,
    /// Plots written at the end (default: by task: loss and accuracy, plus
    /// confusion_matrix for classification, decision_boundary and data for 2-d inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plots: Option<Vec<String>>,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            dir: runs(),
            plots: None,
        }
    }
}

/// The plots `[output].plots` accepts; each is drawn when it fits the run, else skipped with
/// a note (see `run::plots::make_plots`).
pub const PLOTS: &[&str] = &[
    "loss",
    "accuracy",
    "lr",
    "confusion_matrix",
    "decision_boundary",
    "data",
    "roc",
    "predictions",
    "activations",
    "misclassified",
];
