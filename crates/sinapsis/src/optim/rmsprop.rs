//! RMSprop (`torch.optim.RMSprop`).

use super::config::{check_non_negative, config_fields, Kernel};
use super::generic::Optim;
use super::state::{Float, HyperParam, Lerp, ParamState};
use crate::Result;

/// RMSprop (`torch.optim.RMSprop`): divides the gradient by a running root mean square of
/// recent gradients (Hinton's lecture 6e), optionally centred and with momentum.
///
/// For each parameter `p` with gradient `g`:
///
/// ```text
/// g = g + weight_decay * p                        (if weight_decay != 0)
/// s = alpha * s + (1 - alpha) * g * g             (square_avg)
/// if centered:
///     a = alpha * a + (1 - alpha) * g             (grad_avg)
///     avg = sqrt(s - a * a) + eps                 (a running standard deviation)
/// else:
///     avg = sqrt(s) + eps
/// if momentum > 0:
///     b = momentum * b + g / avg                  (momentum_buffer)
///     p = p - lr * b
/// else:
///     p = p - lr * g / avg
/// ```
///
/// All buffers start at zero. With `maximize`, `g` starts as `-g`. State per parameter:
/// `step`, `square_avg`, `momentum_buffer` (with momentum), `grad_avg` (centred).
///
/// ```
/// use sinapsis::optim::{Optimizer, RMSprop, RmspropConfig};
/// use sinapsis::Tensor;
/// # fn main() -> sinapsis::Result<()> {
/// let w = Tensor::from_vec(vec![0.0f64], 1)?.requires_grad_(true)?;
/// let mut opt = RMSprop::new(vec![("w".to_string(), w.clone())], RmspropConfig::default())?;
/// w.set_grad(Some(Tensor::from_vec(vec![2.0f64], 1)?));
/// opt.step()?;
/// // s = 0.01 * 4 = 0.04, so the step is lr * 2 / (0.2 + eps): 10 lr, about 0.1.
/// assert!((w.to_vec::<f64>()?[0] + 0.1).abs() < 1e-6);
/// # Ok(()) }
/// ```
pub type RMSprop = Optim<RmspropConfig>;

/// Hyperparameters of [`RMSprop`]; `Default` gives PyTorch's: `lr` 1e-2, `alpha` 0.99,
/// `eps` 1e-8, no weight decay or momentum, not centred.
#[derive(Clone, Debug, PartialEq)]
pub struct RmspropConfig {
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant of the running averages.
    pub alpha: f64,
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// L2 penalty, added to the gradient.
    pub weight_decay: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Normalise by an estimate of the gradient's variance instead of its second moment.
    pub centered: bool,
    /// Maximise the objective instead of minimising it.
    pub maximize: bool,
}

impl Default for RmspropConfig {
    fn default() -> Self {
        RmspropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

config_fields!(RmspropConfig {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    maximize: bool,
});

impl Kernel for RmspropConfig {
    const NAME: &'static str = "RMSprop";
    const SLOTS: &'static [&'static str] = &["square_avg", "momentum_buffer", "grad_avg"];
    const COUNTS_STEPS: bool = true;

    fn validate(&self) -> Result<()> {
        check_non_negative("RMSprop", "learning rate", self.lr)?;
        check_non_negative("RMSprop", "epsilon value", self.eps)?;
        check_non_negative("RMSprop", "momentum value", self.momentum)?;
        check_non_negative("RMSprop", "weight_decay value", self.weight_decay)?;
        check_non_negative("RMSprop", "alpha value", self.alpha)
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
    fn slot_in_use(&self, slot: usize) -> bool {
        match slot {
            1 => self.momentum > 0.0,
            2 => self.centered,
            _ => true,
        }
    }

    /// PyTorch's `_single_tensor_rmsprop`, fused into one pass over the elements.
    fn update<T: Float>(&self, p: &mut [T], g: &[T], state: &mut ParamState<T>) {
        let n = p.len();
        let with_momentum = self.momentum > 0.0;
        for (i, buf) in state.slots.iter_mut().enumerate() {
            if buf.len() != n && self.slot_in_use(i) {
                buf.clear();
                buf.resize(n, T::zero());
            }
        }
        let c = Coefs {
            neg_lr: T::from_f64(-self.lr),
            alpha: T::from_f64(self.alpha),
            one_minus_alpha: T::from_f64(1.0 - self.alpha),
            avg_lerp: Lerp::new(1.0 - self.alpha),
            eps: T::from_f64(self.eps),
            momentum: T::from_f64(self.momentum),
            weight_decay: T::from_f64(self.weight_decay),
            decay: self.weight_decay != 0.0,
            maximize: self.maximize,
        };
        let [sq, buf, grad_avg] = &mut state.slots[..] else {
            unreachable!("RMSprop keeps three buffers")
        };
        // One instance per combination of options, each free of code for the others.
        match (self.centered, with_momentum) {
            (false, false) => rmsprop_loop::<T, false, false>(&c, p, g, sq, grad_avg, buf),
            (true, false) => rmsprop_loop::<T, true, false>(&c, p, g, sq, grad_avg, buf),
            (false, true) => rmsprop_loop::<T, false, true>(&c, p, g, sq, grad_avg, buf),
            (true, true) => rmsprop_loop::<T, true, true>(&c, p, g, sq, grad_avg, buf),
        }
    }
}

struct Coefs<T> {
    neg_lr: T,
    alpha: T,
    one_minus_alpha: T,
    avg_lerp: Lerp<T>,
    eps: T,
    momentum: T,
    weight_decay: T,
    decay: bool,
    maximize: bool,
}

#[inline(always)]
fn rmsprop_loop<T: Float, const CENTERED: bool, const MOMENTUM: bool>(
    c: &Coefs<T>,
    p: &mut [T],
    g: &[T],
    sq: &mut [T],
    grad_avg: &mut [T],
    buf: &mut [T],
) {
    let n = p.len();
    let (g, sq) = (&g[..n], &mut sq[..n]);
    let grad_avg = if CENTERED {
        &mut grad_avg[..n]
    } else {
        grad_avg
    };
    let buf = if MOMENTUM { &mut buf[..n] } else { buf };
    for i in 0..n {
        let mut d = if c.maximize { -g[i] } else { g[i] };
        if c.decay {
            d += c.weight_decay * p[i];
        }
        sq[i] = sq[i] * c.alpha + c.one_minus_alpha * d * d;
        let avg = if CENTERED {
            grad_avg[i] = c.avg_lerp.apply(grad_avg[i], d);
            (sq[i] - grad_avg[i] * grad_avg[i]).sqrt()
        } else {
            sq[i].sqrt()
        } + c.eps;
        if MOMENTUM {
            buf[i] = buf[i] * c.momentum + d / avg;
            p[i] += c.neg_lr * buf[i];
        } else {
            p[i] += c.neg_lr * d / avg;
        }
    }
}
