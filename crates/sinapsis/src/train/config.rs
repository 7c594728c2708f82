//! The settings of a [`Trainer`](super::Trainer) run.

use serde::{Deserialize, Serialize};

/// When a learning-rate scheduler steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// Once per epoch, after validation (PyTorch's usual `scheduler.step()` placement).
    #[default]
    Epoch,
    /// After every optimizer step (OneCycleLR, warm-up schedules).
    Step,
}

/// How to read the model's output when counting correct predictions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// Class scores `(B, C)` (argmax), or one logit per sample `(B,)`/`(B, 1)` read as class
    /// 1 when `>= 0` (models trained with `cross_entropy` or `bce_with_logits`).
    #[default]
    Logits,
    /// Probabilities: `(B, C)` (argmax) or `(B,)`/`(B, 1)` read as class 1 when `>= 0.5`
    /// (a final sigmoid with `bce`).
    Probabilities,
    /// Real-valued outputs: no accuracy is computed.
    Regression,
}

impl OutputKind {
    /// The decision threshold for a single-column binary output.
    ///
    /// ```
    /// use sinapsis::train::OutputKind;
    /// assert_eq!(OutputKind::Probabilities.threshold(), 0.5);
    /// assert_eq!(OutputKind::Logits.threshold(), 0.0);
    /// ```
    pub fn threshold(self) -> f64 {
        match self {
            OutputKind::Probabilities => 0.5,
            OutputKind::Logits | OutputKind::Regression => 0.0,
        }
    }

    /// Whether accuracy and classification metrics apply.
    pub fn is_classification(self) -> bool {
        self != OutputKind::Regression
    }
}

/// Settings of a training run (Keras' `fit` arguments, PyTorch Lightning's `Trainer` flags).
///
/// ```
/// use sinapsis::train::TrainConfig;
/// let c = TrainConfig { epochs: 5, clip_grad_norm: Some(1.0), ..Default::default() };
/// assert_eq!(c.grad_accum_steps, 1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Total number of epochs (a resumed run continues up to this number).
    pub epochs: u64,
    /// How outputs are turned into class predictions for accuracy.
    pub output: OutputKind,
    /// Clip the total gradient norm (L2) to this value before each step.
    pub clip_grad_norm: Option<f64>,
    /// Clip every gradient element to `[-v, v]` before each step.
    pub clip_grad_value: Option<f64>,
    /// Optimizer step every this many batches, with each batch's loss divided by it (so the
    /// accumulated gradient is the mean over the micro-batches). An epoch's leftover batches
    /// still make a step.
    pub grad_accum_steps: usize,
    /// When the scheduler steps.
    pub scheduler_interval: Interval,
    /// The metric handed to schedulers that need one (ReduceLROnPlateau): `val_loss` falls
    /// back to `train_loss` when there is no validation set.
    pub scheduler_monitor: String,
    /// Stop cleanly on Ctrl-C after the current step (callbacks then save a checkpoint); a
    /// second Ctrl-C exits at once.
    pub handle_ctrl_c: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 1,
            output: OutputKind::Logits,
            clip_grad_norm: None,
            clip_grad_value: None,
            grad_accum_steps: 1,
            scheduler_interval: Interval::Epoch,
            scheduler_monitor: "val_loss".to_string(),
            handle_ctrl_c: false,
        }
    }
}
