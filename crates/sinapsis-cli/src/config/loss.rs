//! `[loss]`: the training objective.

use serde::{Deserialize, Serialize};

fn one() -> f64 {
    1.0
}

/// The loss, written `{ type = "cross_entropy", label_smoothing = 0.1 }`; PyTorch's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LossConfig {
    /// `nn.BCELoss`: probabilities (after a sigmoid) against 0/1 targets.
    Bce {},
    /// `nn.BCEWithLogitsLoss`: raw scores; the sigmoid is inside the loss.
    BceWithLogits {},
    /// `nn.CrossEntropyLoss`: class logits against class indices.
    CrossEntropy {
        /// Label smoothing in [0, 1] (0).
        #[serde(default)]
        label_smoothing: f64,
    },
    /// `nn.NLLLoss`: log-probabilities (after log_softmax) against class indices.
    Nll {},
    /// `nn.MSELoss`.
    Mse {},
    /// `nn.L1Loss`.
    L1 {},
    /// `nn.HuberLoss(delta)`.
    Huber {
        /// Threshold between the quadratic and linear parts (1).
        #[serde(default = "one")]
        delta: f64,
    },
    /// `nn.SmoothL1Loss(beta)`.
    SmoothL1 {
        /// Threshold between the quadratic and linear parts (1).
        #[serde(default = "one")]
        beta: f64,
    },
}

impl LossConfig {
    /// Whether targets are class indices or 0/1 labels (not regression values).
    pub fn is_classification(&self) -> bool {
        matches!(
            self,
            LossConfig::Bce {}
                | LossConfig::BceWithLogits {}
                | LossConfig::CrossEntropy { .. }
                | LossConfig::Nll {}
        )
    }

    /// Whether the model has one output: the probability (or logit) of class 1.
    pub fn is_binary(&self) -> bool {
        matches!(self, LossConfig::Bce {} | LossConfig::BceWithLogits {})
    }
}
