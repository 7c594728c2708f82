//! [`Optim`]: parameter groups, per-parameter state and the step loop shared by every
//! optimizer. What differs between SGD, Adam, ... is the configuration type `C` and its
//! element-wise update.

use super::config::{invalid, Kernel, OptimizerConfig};
use super::param_group::{Group, Param, ParamGroup};
use super::state::{Float, OptimizerState, ParamState};
use super::Optimizer;
use crate::{DType, Result, Tensor};

/// An optimizer driven by its configuration type: [`SGD`](super::SGD) is
/// `Optim<SgdConfig>`, [`Adam`](super::Adam) is `Optim<AdamConfig>`, and so on.
///
/// Parameters come by name (what `model.named_parameters()` returns), and the state
/// (momentum buffers, moment estimates, step counts) is kept per name, so
/// [`Optimizer::state_dict`] and [`Optimizer::load_state_dict`] resume a run exactly.
pub struct Optim<C> {
    defaults: C,
    pub(crate) groups: Vec<Group<C>>,
}

impl<C: OptimizerConfig> Optim<C> {
    /// An optimizer over `params` (one group) with hyperparameters `config`.
    ///
    /// Errors on an invalid hyperparameter (naming it and its value), an empty parameter
    /// list, a parameter that is not a contiguous floating-point leaf, or a name or
    /// parameter given twice.
    pub fn new(params: Vec<(String, Tensor)>, config: C) -> Result<Self> {
        Self::with_groups(vec![ParamGroup::new(params)], config)
    }

    /// An optimizer over several parameter groups, each with its own overrides of
    /// `defaults` (see [`ParamGroup`]).
    pub fn with_groups(groups: Vec<ParamGroup<C>>, defaults: C) -> Result<Self> {
        defaults.validate()?;
        if groups.iter().all(|g| g.params.is_empty()) {
            return Err(invalid(C::NAME, "got an empty parameter list".into()));
        }
        let mut opt = Optim {
            defaults,
            groups: Vec::with_capacity(groups.len()),
        };
        for g in groups {
            opt.add_param_group(g)?;
        }
        Ok(opt)
    }

    /// Adds a parameter group (`optimizer.add_param_group`), e.g. when unfreezing layers
    /// during fine-tuning.
    pub fn add_param_group(&mut self, group: ParamGroup<C>) -> Result<()> {
        let group = group.resolve(&self.defaults, &self.groups)?;
        self.groups.push(group);
        Ok(())
    }

    /// The default hyperparameters (the `config` the optimizer was built with).
    pub fn defaults(&self) -> &C {
        &self.defaults
    }

    /// The number of parameter groups.
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }

    /// The hyperparameters of group `group`.
    pub fn config(&self, group: usize) -> Option<&C> {
        self.groups.get(group).map(|g| &g.config)
    }

    /// Replaces the hyperparameters of group `group` (validated first).
    pub fn set_config(&mut self, group: usize, config: C) -> Result<()> {
        config.validate()?;
        let n = self.groups.len();
        let g = self.groups.get_mut(group).ok_or_else(|| {
            invalid(
                C::NAME,
                format!("no parameter group {group} (there are {n})"),
            )
        })?;
        g.config = config;
        Ok(())
    }

    /// The parameters of group `group`, with their names.
    pub fn params(&self, group: usize) -> Vec<(String, Tensor)> {
        self.groups.get(group).map_or_else(Vec::new, |g| {
            g.params
                .iter()
                .map(|p| (p.name.clone(), p.tensor.clone()))
                .collect()
        })
    }

    /// The number of steps taken for parameter `name` (0 if it never had a gradient at a
    /// step, or for SGD, which does not count steps).
    pub fn step_count(&self, name: &str) -> u64 {
        self.groups
            .iter()
            .flat_map(|g| &g.params)
            .find(|p| p.name == name)
            .and_then(|p| p.state.as_ref())
            .map_or(0, |s| s.step())
    }
}

/// The gradient of `p`, checked and made readable as a slice while `p` is locked for
/// writing: contiguous, and not sharing `p`'s storage (that would lock it twice).
fn prepared_grad(optim: &'static str, p: &Param) -> Result<Option<Tensor>> {
    let Some(g) = p.tensor.grad() else {
        return Ok(None);
    };
    if g.dtype() != p.tensor.dtype() || g.dims() != p.tensor.dims() {
        return Err(invalid(
            optim,
            format!(
                "the gradient of `{}` has shape {} and dtype {}, but the parameter has shape \
                 {} and dtype {}",
                p.name,
                g.shape(),
                g.dtype(),
                p.tensor.shape(),
                p.tensor.dtype()
            ),
        ));
    }
    if !g.is_contiguous() || g.shares_storage(&p.tensor) {
        return Ok(Some(g.copy()?));
    }
    Ok(Some(g))
}

/// Runs the update of one parameter: state created on its first step, `step` counted,
/// then one fused pass over the parameter's elements with the gradient read in place.
fn update_param<T: Float, C: Kernel>(config: &C, p: &mut Param, grad: &Tensor) -> Result<()> {
    let state = p
        .state
        .get_or_insert_with(|| T::wrap(ParamState::new(C::SLOTS.len())));
    let state = T::state(state).ok_or_else(|| {
        invalid(
            C::NAME,
            format!(
                "the state of `{}` does not have the parameter's dtype",
                p.name
            ),
        )
    })?;
    if C::COUNTS_STEPS {
        state.step += 1;
    }
    let mut read = Ok(());
    p.tensor.update_(|values: &mut [T]| {
        read = grad.with_slice(|g: &[T]| config.update(values, g, state));
    })?;
    read
}

impl<C: OptimizerConfig> Optimizer for Optim<C> {
    fn step(&mut self) -> Result<()> {
        let _guard = crate::no_grad();
        // Every gradient is checked before any parameter moves, so an error leaves the
        // model as it was.
        let mut grads = Vec::new();
        for g in &self.groups {
            for p in &g.params {
                grads.push(prepared_grad(C::NAME, p)?);
            }
        }
        let mut grads = grads.into_iter();
        for g in &mut self.groups {
            for p in &mut g.params {
                let Some(grad) = grads.next().flatten() else {
                    continue; // no gradient: skipped, as in PyTorch
                };
                match p.tensor.dtype() {
                    DType::F32 => update_param::<f32, C>(&g.config, p, &grad)?,
                    DType::F64 => update_param::<f64, C>(&g.config, p, &grad)?,
                    dt => {
                        return Err(invalid(
                            C::NAME,
                            format!("parameter `{}` has dtype {dt}", p.name),
                        ))
                    }
                }
            }
        }
        Ok(())
    }

    fn zero_grad(&mut self) {
        for p in self.groups.iter().flat_map(|g| &g.params) {
            p.tensor.zero_grad();
        }
    }

    fn learning_rates(&self) -> Vec<f64> {
        self.groups.iter().map(|g| g.config.lr()).collect()
    }

    fn set_learning_rate(&mut self, group: usize, lr: f64) {
        if let Some(g) = self.groups.get_mut(group) {
            g.config.set_lr(lr);
        }
    }

    fn momenta(&self) -> Vec<Option<f64>> {
        self.groups.iter().map(|g| g.config.momentum()).collect()
    }

    fn set_momentum(&mut self, group: usize, momentum: f64) {
        if let Some(g) = self.groups.get_mut(group) {
            g.config.set_momentum(momentum);
        }
    }

    fn state_dict(&self) -> Result<OptimizerState> {
        super::load::state_dict(self)
    }

    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()> {
        super::load::load_state_dict(self, state)
    }
}
