//! `[optimizer]` and `[scheduler]`, with PyTorch's defaults.

use serde::{Deserialize, Serialize};

fn lr_1e3() -> f64 {
    1e-3
}
fn lr_1e2() -> f64 {
    1e-2
}
fn betas() -> [f64; 2] {
    [0.9, 0.999]
}
fn eps8() -> f64 {
    1e-8
}
fn eps10() -> f64 {
    1e-10
}
fn wd_adamw() -> f64 {
    1e-2
}
fn alpha() -> f64 {
    0.99
}

/// The optimizer, written `{ type = "adam", lr = 1e-3 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// `torch.optim.SGD`.
    Sgd {
        /// Learning rate (1e-3).
        #[serde(default = "lr_1e3")]
        lr: f64,
        /// Momentum (0).
        #[serde(default)]
        momentum: f64,
        /// Dampening (0).
        #[serde(default)]
        dampening: f64,
        /// L2 penalty (0).
        #[serde(default)]
        weight_decay: f64,
        /// Nesterov momentum (false).
        #[serde(default)]
        nesterov: bool,
    },
    /// `torch.optim.Adam`.
    Adam {
        /// Learning rate (1e-3).
        #[serde(default = "lr_1e3")]
        lr: f64,
        /// Moment decay rates ([0.9, 0.999]).
        #[serde(default = "betas")]
        betas: [f64; 2],
        /// Denominator term (1e-8).
        #[serde(default = "eps8")]
        eps: f64,
        /// L2 penalty (0).
        #[serde(default)]
        weight_decay: f64,
        /// AMSGrad (false).
        #[serde(default)]
        amsgrad: bool,
    },
    /// `torch.optim.AdamW`.
    Adamw {
        /// Learning rate (1e-3).
        #[serde(default = "lr_1e3")]
        lr: f64,
        /// Moment decay rates ([0.9, 0.999]).
        #[serde(default = "betas")]
        betas: [f64; 2],
        /// Denominator term (1e-8).
        #[serde(default = "eps8")]
        eps: f64,
        /// Decoupled weight decay (1e-2).
        #[serde(default = "wd_adamw")]
        weight_decay: f64,
        /// AMSGrad (false).
        #[serde(default)]
        amsgrad: bool,
    },
    /// `torch.optim.RMSprop`.
    Rmsprop {
        /// Learning rate (1e-2).
        #[serde(default = "lr_1e2")]
        lr: f64,
        /// Smoothing constant (0.99).
        #[serde(default = "alpha")]
        alpha: f64,
        /// Denominator term (1e-8).
        #[serde(default = "eps8")]
        eps: f64,
        /// L2 penalty (0).
        #[serde(default)]
        weight_decay: f64,
        /// Momentum (0).
        #[serde(default)]
        momentum: f64,
        /// Centred variant (false).
        #[serde(default)]
        centered: bool,
    },
    /// `torch.optim.Adagrad`.
    Adagrad {
        /// Learning rate (1e-2).
        #[serde(default = "lr_1e2")]
        lr: f64,
        /// Learning-rate decay (0).
        #[serde(default)]
        lr_decay: f64,
        /// L2 penalty (0).
        #[serde(default)]
        weight_decay: f64,
        /// Starting accumulator (0).
        #[serde(default)]
        initial_accumulator_value: f64,
        /// Denominator term (1e-10).
        #[serde(default = "eps10")]
        eps: f64,
    },
}

impl OptimizerConfig {
    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Adamw { lr, .. }
            | OptimizerConfig::Rmsprop { lr, .. }
            | OptimizerConfig::Adagrad { lr, .. } => *lr,
        }
    }

    /// Checks the values (positive learning rate, non-negative decays, betas in [0, 1)).
    pub fn check(&self, p: &mut super::de::Problems) {
        let lr = self.lr();
        if !(lr > 0.0 && lr.is_finite()) {
            p.push(format!(
                "optimizer.lr: expected a positive number, got {lr}"
            ));
        }
        let non_neg = |p: &mut super::de::Problems, key: &str, v: f64| {
            if !(v >= 0.0) {
                p.push(format!("optimizer.{key}: expected >= 0, got {v}"));
            }
        };
        match self {
            OptimizerConfig::Sgd {
                momentum,
                dampening,
                weight_decay,
                nesterov,
                ..
            } => {
                non_neg(p, "momentum", *momentum);
                non_neg(p, "weight_decay", *weight_decay);
                if *nesterov && (*momentum <= 0.0 || *dampening != 0.0) {
                    p.push("optimizer.nesterov: needs momentum > 0 and dampening = 0");
                }
            }
            OptimizerConfig::Adam {
                betas,
                eps,
                weight_decay,
                ..
            }
            | OptimizerConfig::Adamw {
                betas,
                eps,
                weight_decay,
                ..
            } => {
                for (i, b) in betas.iter().enumerate() {
                    if !(0.0..1.0).contains(b) {
                        p.push(format!(
                            "optimizer.betas[{i}]: expected a value in [0, 1), got {b}"
                        ));
                    }
                }
                non_neg(p, "eps", *eps);
                non_neg(p, "weight_decay", *weight_decay);
            }
            OptimizerConfig::Rmsprop {
                alpha,
                eps,
                weight_decay,
                momentum,
                ..
            } => {
                non_neg(p, "alpha", *alpha);
                non_neg(p, "eps", *eps);
                non_neg(p, "weight_decay", *weight_decay);
                non_neg(p, "momentum", *momentum);
            }
            OptimizerConfig::Adagrad {
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
                ..
            } => {
                non_neg(p, "lr_decay", *lr_decay);
                non_neg(p, "weight_decay", *weight_decay);
                non_neg(p, "initial_accumulator_value", *initial_accumulator_value);
                non_neg(p, "eps", *eps);
            }
        }
    }
}

/// When the scheduler steps: after every epoch or after every optimizer step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// Once per epoch (the default; PyTorch's usual pattern).
    #[default]
    Epoch,
    /// Once per batch (OneCycleLR's).
    Step,
}

fn gamma01() -> f64 {
    0.1
}
fn step_interval() -> Interval {
    Interval::Step
}
fn plateau_mode() -> String {
    "min".into()
}
fn patience() -> usize {
    10
}
fn threshold() -> f64 {
    1e-4
}
fn rel() -> String {
    "rel".into()
}
fn one_third() -> f64 {
    1.0 / 3.0
}
fn one() -> f64 {
    1.0
}
fn five() -> usize {
    5
}
fn pct() -> f64 {
    0.3
}
fn cos() -> String {
    "cos".into()
}
fn div() -> f64 {
    25.0
}
fn final_div() -> f64 {
    1e4
}
fn t_mult() -> usize {
    1
}

/// The learning-rate scheduler, written `{ type = "step", step_size = 30 }`; every variant
/// also takes `interval` (`"epoch"`, or `"step"` for one per batch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SchedulerConfig {
    /// `StepLR(step_size, gamma = 0.1)`.
    Step {
        /// Epochs between decays.
        step_size: usize,
        /// Decay factor (0.1).
        #[serde(default = "gamma01")]
        gamma: f64,
        /// When to step (epoch).
        #[serde(default)]
        interval: Interval,
    },
    /// `MultiStepLR(milestones, gamma = 0.1)`.
    Multistep {
        /// Epochs at which to decay.
        milestones: Vec<usize>,
        /// Decay factor (0.1).
        #[serde(default = "gamma01")]
        gamma: f64,
        /// When to step (epoch).
        #[serde(default)]
        interval: Interval,
    },
    /// `ExponentialLR(gamma)`.
    Exponential {
        /// Decay factor per step.
        gamma: f64,
        /// When to step (epoch).
        #[serde(default)]
        interval: Interval,
    },
    /// `CosineAnnealingLR(T_max, eta_min = 0)`; `t_max` defaults to `training.epochs`.
    Cosine {
        /// Half-period (default: the number of epochs).
        #[serde(default)]
        t_max: Option<usize>,
        /// Minimum learning rate (0).
        #[serde(default)]
        eta_min: f64,
        /// When to step (epoch).
        #[serde(default)]
        interval: Interval,
    },
    /// `CosineAnnealingWarmRestarts(T_0, T_mult = 1, eta_min = 0)`.
    CosineWarmRestarts {
        /// First period.
        t_0: usize,
        /// Period growth factor (1).
        #[serde(default = "t_mult")]
        t_mult: usize,
        /// Minimum learning rate (0).
        #[serde(default)]
        eta_min: f64,
        /// When to step (epoch).
        #[serde(default)]
        interval: Interval,
    },
    /// `LinearLR(start_factor = 1/3, end_factor = 1, total_iters = 5)`.
    Linear {
        /// Starting multiplier (1/3).
        #[serde(default = "one_third")]
        start_factor: f64,
        /// Final multiplier (1).
        #[serde(default = "one")]
        end_factor: f64,
        /// Steps to go from one to the other (5).
        #[serde(default = "five")]
        total_iters: usize,
        /// When to step (epoch).
        #[serde(default)]
        interval: Interval,
    },
    /// `ReduceLROnPlateau`, driven by `training.monitor`.
    ReduceOnPlateau {
        /// `"min"` or `"max"`.
        #[serde(default = "plateau_mode")]
        mode: String,
        /// Multiplier on a plateau (0.1).
        #[serde(default = "gamma01")]
        factor: f64,
        /// Epochs without improvement before reducing (10).
        #[serde(default = "patience")]
        patience: usize,
        /// Improvement threshold (1e-4).
        #[serde(default = "threshold")]
        threshold: f64,
        /// `"rel"` or `"abs"`.
        #[serde(default = "rel")]
        threshold_mode: String,
        /// Epochs to wait after a reduction (0).
        #[serde(default)]
        cooldown: usize,
        /// Lower bound on the learning rate (0).
        #[serde(default)]
        min_lr: f64,
        /// Smallest change applied (1e-8).
        #[serde(default = "super::optim::eps8")]
        eps: f64,
        /// When to step (epoch).
        #[serde(default)]
        interval: Interval,
    },
    /// `OneCycleLR(max_lr, epochs, steps_per_epoch)`; steps every batch.
    Onecycle {
        /// Peak learning rate (default: the optimizer's lr).
        #[serde(default)]
        max_lr: Option<f64>,
        /// Fraction of the cycle spent increasing (0.3).
        #[serde(default = "pct")]
        pct_start: f64,
        /// `"cos"` or `"linear"`.
        #[serde(default = "cos")]
        anneal_strategy: String,
        /// `initial_lr = max_lr / div_factor` (25).
        #[serde(default = "div")]
        div_factor: f64,
        /// `min_lr = initial_lr / final_div_factor` (1e4).
        #[serde(default = "final_div")]
        final_div_factor: f64,
        /// Three phases instead of two (false).
        #[serde(default)]
        three_phase: bool,
        /// Cycle the momentum inversely (true).
        #[serde(default = "super::optim::yes")]
        cycle_momentum: bool,
        /// When to step (step).
        #[serde(default = "step_interval")]
        interval: Interval,
    },
}

fn yes() -> bool {
    true
}

impl SchedulerConfig {
    /// When the scheduler steps.
    pub fn interval(&self) -> Interval {
        match self {
            SchedulerConfig::Step { interval, .. }
            | SchedulerConfig::Multistep { interval, .. }
            | SchedulerConfig::Exponential { interval, .. }
            | SchedulerConfig::Cosine { interval, .. }
            | SchedulerConfig::CosineWarmRestarts { interval, .. }
            | SchedulerConfig::Linear { interval, .. }
            | SchedulerConfig::ReduceOnPlateau { interval, .. }
            | SchedulerConfig::Onecycle { interval, .. } => *interval,
        }
    }
}
