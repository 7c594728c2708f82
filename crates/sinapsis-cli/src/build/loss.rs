//! The loss as a callable, plus what the model's output means (for metrics).

use crate::config::LossConfig;
use sinapsis::nn::loss::*;
use sinapsis::{Result, Tensor};

/// What the model's output holds, so metrics know how to turn it into predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// One probability per sample (bce): class 1 when >= 0.5.
    BinaryProbability,
    /// One raw score per sample (bce_with_logits): class 1 when >= 0.
    BinaryLogit,
    /// One score per class (cross_entropy logits, nll log-probabilities): argmax.
    ClassScores,
    /// Regression values.
    Regression,
}

/// A loss built from `[loss]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    /// The configuration it was built from.
    pub config: LossConfig,
}

impl Loss {
    /// Wraps the configuration.
    pub fn new(config: &LossConfig) -> Loss {
        Loss {
            config: config.clone(),
        }
    }

    /// The mean loss of a batch.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        match &self.config {
            LossConfig::Bce {} => BCELoss::new().forward(input, target),
            LossConfig::BceWithLogits {} => BCEWithLogitsLoss::new().forward(input, target),
            LossConfig::CrossEntropy { label_smoothing } => CrossEntropyLoss::new()
                .label_smoothing(*label_smoothing)
                .forward(input, target),
            LossConfig::Nll {} => NLLLoss::new().forward(input, target),
            LossConfig::Mse {} => MSELoss::new().forward(input, target),
            LossConfig::L1 {} => L1Loss::new().forward(input, target),
            LossConfig::Huber { delta } => HuberLoss::new().delta(*delta).forward(input, target),
            LossConfig::SmoothL1 { beta } => SmoothL1Loss::new().beta(*beta).forward(input, target),
        }
    }

    /// What the model's output holds.
    pub fn output_kind(&self) -> OutputKind {
        match self.config {
            LossConfig::Bce {} => OutputKind::BinaryProbability,
            LossConfig::BceWithLogits {} => OutputKind::BinaryLogit,
            LossConfig::CrossEntropy { .. } | LossConfig::Nll {} => OutputKind::ClassScores,
            _ => OutputKind::Regression,
        }
    }
}
