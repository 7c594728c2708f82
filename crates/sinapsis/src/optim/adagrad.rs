//! Adagrad (`torch.optim.Adagrad`).

use super::config::{check_non_negative, config_fields, Kernel};
use super::generic::Optim;
use super::state::{Float, HyperParam, ParamState};
use crate::Result;

/// Adagrad (`torch.optim.Adagrad`): per-coordinate learning rates that shrink with the
/// sum of all past squared gradients ([Duchi et al., 2011](https://jmlr.org/papers/v12/duchi11a.html)).
///
/// For each parameter `p` with gradient `g`, at step `t = 1, 2, ...`:
///
/// ```text
/// g = g + weight_decay * p                        (if weight_decay != 0)
/// clr = lr / (1 + (t - 1) * lr_decay)
/// s = s + g * g                                   (sum, starts at initial_accumulator_value)
/// p = p - clr * g / (sqrt(s) + eps)
/// ```
///
/// With `maximize`, `g` starts as `-g`. State per parameter: `step`, `sum`.
///
/// ```
/// use sinapsis::optim::{Adagrad, AdagradConfig, Optimizer};
/// use sinapsis::Tensor;
/// # fn main() -> sinapsis::Result<()> {
/// let w = Tensor::from_vec(vec![1.0f64], 1)?.requires_grad_(true)?;
/// let mut opt = Adagrad::new(vec![("w".to_string(), w.clone())], AdagradConfig::new(0.5))?;
/// for _ in 0..2 {
///     w.set_grad(Some(Tensor::from_vec(vec![3.0f64], 1)?));
///     opt.step()?;
/// }
/// // Steps 0.5 * 3 / 3 and 0.5 * 3 / sqrt(18): the second one is smaller.
/// let expected = 1.0 - 0.5 - 1.5 / 18f64.sqrt();
/// assert!((w.to_vec::<f64>()?[0] - expected).abs() < 1e-9);
/// # Ok(()) }
/// ```
pub type Adagrad = Optim<AdagradConfig>;

/// Hyperparameters of [`Adagrad`]; `Default` gives PyTorch's: `lr` 1e-2, no `lr_decay` or
/// weight decay, `initial_accumulator_value` 0, `eps` 1e-10.
#[derive(Clone, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate.
    pub lr: f64,
    /// Learning-rate decay: step `t` uses `lr / (1 + (t - 1) * lr_decay)`.
    pub lr_decay: f64,
    /// L2 penalty, added to the gradient.
    pub weight_decay: f64,
    /// Starting value of the sum of squared gradients.
    pub initial_accumulator_value: f64,
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// Maximise the objective instead of minimising it.
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

impl AdagradConfig {
    /// PyTorch's defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        AdagradConfig {
            lr,
            ..Default::default()
        }
    }
}

config_fields!(AdagradConfig {
    lr: f64,
    lr_decay: f64,
    weight_decay: f64,
    initial_accumulator_value: f64,
    eps: f64,
    maximize: bool,
});

impl Kernel for AdagradConfig {
    const NAME: &'static str = "Adagrad";
    const SLOTS: &'static [&'static str] = &["sum"];
    const COUNTS_STEPS: bool = true;

    fn validate(&self) -> Result<()> {
        check_non_negative("Adagrad", "learning rate", self.lr)?;
        check_non_negative("Adagrad", "lr_decay value", self.lr_decay)?;
        check_non_negative("Adagrad", "weight_decay value", self.weight_decay)?;
        check_non_negative(
            "Adagrad",
            "initial_accumulator_value value",
            self.initial_accumulator_value,
        )?;
        check_non_negative("Adagrad", "epsilon value", self.eps)
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
        true
    }

    /// PyTorch's `_single_tensor_adagrad` (dense gradients), fused into one pass.
    fn update<T: Float>(&self, p: &mut [T], g: &[T], state: &mut ParamState<T>) {
        let n = p.len();
        let sum = &mut state.slots[0];
        if sum.len() != n {
            sum.clear();
            sum.resize(n, T::from_f64(self.initial_accumulator_value));
        }
        let clr = self.lr / (1.0 + (state.step as f64 - 1.0) * self.lr_decay);
        let neg_clr = T::from_f64(-clr);
        let eps = T::from_f64(self.eps);
        let wd = T::from_f64(self.weight_decay);
        let decay = self.weight_decay != 0.0;
        let (g, sum) = (&g[..n], &mut sum[..n]);
        for i in 0..n {
            let mut d = if self.maximize { -g[i] } else { g[i] };
            if decay {
                d += wd * p[i];
            }
            sum[i] += d * d;
            let std = sum[i].sqrt() + eps;
            p[i] += neg_clr * d / std;
        }
    }
}
