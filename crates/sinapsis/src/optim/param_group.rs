//! Parameter groups: parameters that share hyperparameters (PyTorch's
//! `[{"params": ..., "weight_decay": 0.0}, ...]`).

use super::config::{invalid, Kernel};
use super::state::AnyState;
use crate::{Result, Tensor};

/// Named parameters with their own hyperparameters. The group's settings are `config` when
/// given (else the optimizer's defaults), then `lr` and `weight_decay` when given.
///
/// ```
/// use sinapsis::optim::{AdamW, AdamWConfig, Optimizer, ParamGroup};
/// use sinapsis::{DType, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// let w = Tensor::randn((2, 3), DType::F32)?.requires_grad_(true)?;
/// let b = Tensor::zeros(2, DType::F32)?.requires_grad_(true)?;
/// // No weight decay on biases; a higher learning rate for them, too.
/// let opt = AdamW::with_groups(
///     vec![
///         ParamGroup::new(vec![("fc.weight".to_string(), w)]),
///         ParamGroup::new(vec![("fc.bias".to_string(), b)]).with_weight_decay(0.0).with_lr(1e-2),
///     ],
///     AdamWConfig::default(),
/// )?;
/// assert_eq!(opt.learning_rates(), [1e-3, 1e-2]);
/// assert_eq!(opt.config(1).unwrap().weight_decay, 0.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ParamGroup<C> {
    /// `(name, parameter)` pairs, as `named_parameters()` returns them.
    pub params: Vec<(String, Tensor)>,
    /// All hyperparameters of this group; `None` takes the optimizer's defaults.
    pub config: Option<C>,
    /// Overrides the learning rate.
    pub lr: Option<f64>,
    /// Overrides the weight decay.
    pub weight_decay: Option<f64>,
}

impl<C> ParamGroup<C> {
    /// A group with the optimizer's default hyperparameters.
    pub fn new(params: Vec<(String, Tensor)>) -> Self {
        ParamGroup {
            params,
            config: None,
            lr: None,
            weight_decay: None,
        }
    }

    /// Gives the group its own full configuration.
    #[must_use]
    pub fn with_config(mut self, config: C) -> Self {
        self.config = Some(config);
        self
    }

    /// Gives the group its own learning rate.
    #[must_use]
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = Some(lr);
        self
    }

    /// Gives the group its own weight decay (`0.0` for biases and norms, typically).
    #[must_use]
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = Some(weight_decay);
        self
    }
}

impl<C> From<Vec<(String, Tensor)>> for ParamGroup<C> {
    fn from(params: Vec<(String, Tensor)>) -> Self {
        ParamGroup::new(params)
    }
}

/// A parameter inside an optimizer, with its state once it has been stepped.
pub(crate) struct Param {
    pub name: String,
    pub tensor: Tensor,
    pub state: Option<AnyState>,
}

/// A parameter group inside an optimizer: resolved hyperparameters and parameters.
pub(crate) struct Group<C> {
    pub config: C,
    pub params: Vec<Param>,
}

impl<C: Kernel + Clone> ParamGroup<C> {
    /// The group's hyperparameters (validated) and its parameters, checked against those
    /// already in the optimizer (`existing`): float, leaf, contiguous, no name or memory
    /// used twice.
    pub(crate) fn resolve(self, defaults: &C, existing: &[Group<C>]) -> Result<Group<C>> {
        let mut config = self.config.unwrap_or_else(|| defaults.clone());
        if let Some(lr) = self.lr {
            config.set_lr(lr);
        }
        if let Some(wd) = self.weight_decay {
            config.set_weight_decay(wd);
        }
        config.validate()?;
        let mut seen: Vec<(&str, &Tensor)> = existing
            .iter()
            .flat_map(|g| g.params.iter().map(|p| (p.name.as_str(), &p.tensor)))
            .collect();
        for (name, t) in &self.params {
            check_param(C::NAME, name, t)?;
            for (other, u) in &seen {
                if *other == name.as_str() {
                    return Err(invalid(
                        C::NAME,
                        format!("parameter name `{name}` appears more than once"),
                    ));
                }
                if overlaps(t, u) {
                    return Err(invalid(
                        C::NAME,
                        format!(
                            "parameters `{other}` and `{name}` share memory (the same \
                             parameter given twice?)"
                        ),
                    ));
                }
            }
            seen.push((name, t));
        }
        let params = self
            .params
            .into_iter()
            .map(|(name, tensor)| Param {
                name,
                tensor,
                state: None,
            })
            .collect();
        Ok(Group { config, params })
    }
}

fn check_param(optim: &'static str, name: &str, t: &Tensor) -> Result<()> {
    let problem = if !t.dtype().is_float() {
        format!(
            "has dtype {}; only f32 and f64 tensors can be optimized",
            t.dtype()
        )
    } else if !t.is_leaf() {
        "is not a leaf tensor (it was computed by an op); optimize the leaf it came from"
            .to_string()
    } else if !t.is_contiguous() {
        "is not contiguous; parameters are updated in place and must be".to_string()
    } else {
        return Ok(());
    };
    Err(invalid(optim, format!("parameter `{name}` {problem}")))
}

/// Whether two tensors cover overlapping parts of the same storage.
fn overlaps(a: &Tensor, b: &Tensor) -> bool {
    if !a.shares_storage(b) {
        return false;
    }
    match (a.layout().contiguous_range(), b.layout().contiguous_range()) {
        (Some(x), Some(y)) => x.start < y.end && y.start < x.end,
        _ => true,
    }
}
