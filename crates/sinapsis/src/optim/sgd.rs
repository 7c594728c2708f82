//! Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay
//! (`torch.optim.SGD`).

use super::config::{check_non_negative, config_fields, invalid, Kernel};
use super::generic::Optim;
use super::state::{Float, HyperParam, ParamState};
use crate::Result;

/// Stochastic gradient descent (`torch.optim.SGD`), optionally with momentum.
///
/// For each parameter `p` with gradient `g`, every step (PyTorch's formulation, where the
/// learning rate multiplies the velocity rather than the gradient inside it):
///
/// ```text
/// g = g + weight_decay * p                       (if weight_decay != 0)
/// if momentum != 0:
///     b = g                                      (first step)
///     b = momentum * b + (1 - dampening) * g     (later steps)
///     g = g + momentum * b   if nesterov,   else   g = b
/// p = p - lr * g
/// ```
///
/// With `maximize`, `g` starts as `-g`. State per parameter: `momentum_buffer` (only with
/// momentum).
///
/// ```
/// use sinapsis::optim::{Optimizer, SgdConfig, SGD};
/// use sinapsis::Tensor;
/// # fn main() -> sinapsis::Result<()> {
/// let w = Tensor::from_vec(vec![1.0f64, -2.0], 2)?.requires_grad_(true)?;
/// let mut opt = SGD::new(
///     vec![("w".to_string(), w.clone())],
///     SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() },
/// )?;
/// for _ in 0..2 {
///     opt.zero_grad();
///     let loss = w.mul(&w)?.sum_all()?.mul_scalar(0.5)?; // gradient = w
///     loss.backward()?;
///     opt.step()?;
/// }
/// // step 1: b = 1, w = 0.9;  step 2: b = 0.9 * 1 + 0.9 = 1.8, w = 0.9 - 0.18 = 0.72
/// assert!((w.to_vec::<f64>()?[0] - 0.72).abs() < 1e-12);
/// # Ok(()) }
/// ```
pub type SGD = Optim<SgdConfig>;

/// Hyperparameters of [`SGD`]. `Default` gives PyTorch's defaults: `lr` 1e-3 (the default
/// since PyTorch 2.2; set it, it is the one that matters), no momentum, dampening,
/// weight decay or Nesterov.
///
/// ```
/// use sinapsis::optim::SgdConfig;
/// let c = SgdConfig::new(0.1).momentum(0.9).nesterov(true);
/// assert_eq!(c, SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..Default::default() });
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor (0 = plain SGD).
    pub momentum: f64,
    /// Dampening of the gradient's contribution to the momentum buffer.
    pub dampening: f64,
    /// L2 penalty, added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum (needs `momentum > 0` and `dampening == 0`).
    pub nesterov: bool,
    /// Maximise the objective instead of minimising it.
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

impl SgdConfig {
    /// PyTorch's defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        SgdConfig {
            lr,
            ..Default::default()
        }
    }
}

config_fields!(SgdConfig {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    maximize: bool,
});

impl Kernel for SgdConfig {
    const NAME: &'static str = "SGD";
    const SLOTS: &'static [&'static str] = &["momentum_buffer"];
    const COUNTS_STEPS: bool = false;

    fn validate(&self) -> Result<()> {
        check_non_negative("SGD", "learning rate", self.lr)?;
        check_non_negative("SGD", "momentum value", self.momentum)?;
        check_non_negative("SGD", "weight_decay value", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(invalid(
                "SGD",
                format!(
                    "Nesterov momentum requires a momentum and zero dampening (got momentum \
                     {:?}, dampening {:?})",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn set_weight_decay(&mut self, weight_decay: f64) {
        self.weight_decay = weight_decay;
    }
    fn momentum(&self) -> Option<f64> {
        Some(self.momentum)
    }
    fn set_momentum(&mut self, momentum: f64) {
        self.momentum = momentum;
    }
    fn hyperparameters(&self) -> Vec<(&'static str, HyperParam)> {
        self.field_list()
    }
    fn set_hyperparameter(
        &mut self,
        key: &str,
        value: HyperParam,
    ) -> std::result::Result<(), String> {
        self.set_field(key, value)
    }
    fn slot_in_use(&self, _slot: usize) -> bool {
        self.momentum != 0.0
    }

    fn update<T: Float>(&self, p: &mut [T], g: &[T], state: &mut ParamState<T>) {
        let n = p.len();
        let g = &g[..n];
        let neg_lr = T::from_f64(-self.lr);
        let wd = T::from_f64(self.weight_decay);
        let decay = self.weight_decay != 0.0;
        let maximize = self.maximize;
        let grad = |i: usize, p: T| {
            let d = if maximize { -g[i] } else { g[i] };
            if decay {
                d + wd * p
            } else {
                d
            }
        };
        if self.momentum == 0.0 {
            for (i, p) in p.iter_mut().enumerate() {
                *p += neg_lr * grad(i, *p);
            }
            return;
        }
        let momentum = T::from_f64(self.momentum);
        let keep = T::from_f64(1.0 - self.dampening);
        let buf = &mut state.slots[0];
        // NOTE: PyTorch starts the buffer at the first gradient (no dampening on step 1).
        let first = buf.len() != n;
        if first {
            buf.clear();
            buf.resize(n, T::zero());
        }
        let buf = &mut buf[..n];
        for (i, p) in p.iter_mut().enumerate() {
            let d = grad(i, *p);
            let b = if first {
                d
            } else {
                buf[i] * momentum + keep * d
            };
            buf[i] = b;
            let d = if self.nesterov { d + momentum * b } else { b };
            *p += neg_lr * d;
        }
    }
}
