//! Saving and restoring an optimizer's state (`state_dict` / `load_state_dict`).
//!
//! Loading is all or nothing: every name, shape, dtype and hyperparameter is checked first,
//! every problem is reported in one error, and only a state without problems replaces the
//! optimizer's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::config::{invalid, OptimizerConfig};
use super::generic::Optim;
use super::param_group::Param;
use super::state::{AnyState, Float, GroupState, OptimizerState, ParamState};
use crate::{DType, Result, Tensor};

pub(crate) fn state_dict<C: OptimizerConfig>(opt: &Optim<C>) -> Result<OptimizerState> {
    let mut tensors = Vec::new();
    let mut scalars = Vec::new();
    let mut groups = Vec::new();
    for g in &opt.groups {
        for p in &g.params {
            match &p.state {
                None => {}
                Some(AnyState::F32(s)) => export(&g.config, p, s, &mut tensors)?,
                Some(AnyState::F64(s)) => export(&g.config, p, s, &mut tensors)?,
            }
            if let (true, Some(s)) = (C::COUNTS_STEPS, &p.state) {
                scalars.push((format!("{}.step", p.name), s.step() as f64));
            }
        }
        groups.push(GroupState {
            params: g.params.iter().map(|p| p.name.clone()).collect(),
            hyperparameters: g
                .config
                .hyperparameters()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        });
    }
    Ok(OptimizerState {
        optimizer: C::NAME.to_string(),
        tensors,
        scalars,
        groups,
    })
}

/// Appends the allocated buffers of `p` (for an empty parameter, the ones in use).
fn export<T: Float, C: OptimizerConfig>(
    config: &C,
    p: &Param,
    s: &ParamState<T>,
    out: &mut Vec<(String, Tensor)>,
) -> Result<()> {
    for (i, (buf, slot)) in s.slots.iter().zip(C::SLOTS).enumerate() {
        if !buf.is_empty() || (p.tensor.numel() == 0 && config.slot_in_use(i)) {
            let t = Tensor::from_vec(buf.clone(), p.tensor.dims())?;
            out.push((format!("{}.{slot}", p.name), t));
        }
    }
    Ok(())
}

/// The state being rebuilt for one parameter while loading.
#[derive(Default)]
struct Pending {
    slots: BTreeMap<usize, Tensor>,
    step: Option<u64>,
    /// Buffers and step named in the state, valid or not: a rejected entry is reported
    /// once, not again as missing.
    named_slots: BTreeSet<usize>,
    named_step: bool,
}

pub(crate) fn load_state_dict<C: OptimizerConfig>(
    opt: &mut Optim<C>,
    state: &OptimizerState,
) -> Result<()> {
    if state.optimizer != C::NAME {
        return Err(invalid(
            C::NAME,
            format!(
                "load_state_dict: the state was saved by {}, not {}",
                state.optimizer,
                C::NAME
            ),
        ));
    }
    let mut problems = Vec::new();

    // Groups: the same parameter names, and a complete, valid set of hyperparameters.
    if state.groups.len() != opt.groups.len() {
        problems.push(format!(
            "the state has {} parameter groups, the optimizer {}",
            state.groups.len(),
            opt.groups.len()
        ));
    }
    let mut configs = Vec::new();
    for (i, (saved, ours)) in state.groups.iter().zip(&opt.groups).enumerate() {
        let names: Vec<&str> = ours.params.iter().map(|p| p.name.as_str()).collect();
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !saved.params.iter().any(|s| s == *n))
            .copied()
            .collect();
        let unexpected: Vec<&str> = saved
            .params
            .iter()
            .filter(|s| !names.contains(&s.as_str()))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "group {i}: parameters missing from the state: {missing:?}"
            ));
        }
        if !unexpected.is_empty() {
            problems.push(format!(
                "group {i}: unexpected parameters in the state: {unexpected:?}"
            ));
        }
        let mut config = ours.config.clone();
        for (key, value) in &saved.hyperparameters {
            if let Err(e) = config.set_hyperparameter(key, *value) {
                problems.push(format!("group {i}: {e}"));
            }
        }
        for (key, _) in config.hyperparameters() {
            if !saved.hyperparameters.contains_key(key) {
                problems.push(format!("group {i}: hyperparameter `{key}` is missing"));
            }
        }
        if let Err(e) = config.validate() {
            problems.push(format!("group {i}: {e}"));
        }
        configs.push(config);
    }

    // Per-parameter entries: known parameter, known buffer, matching shape and dtype.
    let index: HashMap<&str, (usize, usize)> = opt
        .groups
        .iter()
        .enumerate()
        .flat_map(|(gi, g)| {
            g.params
                .iter()
                .enumerate()
                .map(move |(pi, p)| (p.name.as_str(), (gi, pi)))
        })
        .collect();
    let mut pending: HashMap<(usize, usize), Pending> = HashMap::new();
    for (key, t) in &state.tensors {
        let Some((name, slot)) = key.rsplit_once('.') else {
            problems.push(format!(
                "tensor `{key}` is not named `<parameter>.<buffer>`"
            ));
            continue;
        };
        let Some(&(gi, pi)) = index.get(name) else {
            problems.push(format!("tensor `{key}`: no parameter `{name}`"));
            continue;
        };
        let Some(si) = C::SLOTS.iter().position(|s| *s == slot) else {
            problems.push(format!(
                "tensor `{key}`: {} keeps no buffer `{slot}` (it keeps {:?})",
                C::NAME,
                C::SLOTS
            ));
            continue;
        };
        let entry = pending.entry((gi, pi)).or_default();
        if !entry.named_slots.insert(si) {
            problems.push(format!("tensor `{key}` appears more than once"));
            continue;
        }
        let p = &opt.groups[gi].params[pi].tensor;
        if t.dims() != p.dims() || t.dtype() != p.dtype() {
            problems.push(format!(
                "tensor `{key}` has shape {} and dtype {}, the parameter shape {} and dtype {}",
                t.shape(),
                t.dtype(),
                p.shape(),
                p.dtype()
            ));
            continue;
        }
        entry.slots.insert(si, t.clone());
    }
    for (key, v) in &state.scalars {
        let v = *v;
        let target = key
            .strip_suffix(".step")
            .filter(|_| C::COUNTS_STEPS)
            .and_then(|name| index.get(name));
        let Some(&at) = target else {
            problems.push(format!("unexpected scalar `{key}`"));
            continue;
        };
        let entry = pending.entry(at).or_default();
        if std::mem::replace(&mut entry.named_step, true) {
            problems.push(format!("scalar `{key}` appears more than once"));
        } else if !(v >= 0.0 && v.fract() == 0.0 && v <= 2f64.powi(53)) {
            problems.push(format!(
                "scalar `{key}` must be a whole number >= 0, got {v:?}"
            ));
        } else {
            entry.step = Some(v as u64);
        }
    }

    // Completeness: a parameter with any state has all the state its settings need.
    for (&(gi, pi), entry) in &pending {
        let name = &opt.groups[gi].params[pi].name;
        let config = configs.get(gi).unwrap_or(&opt.groups[gi].config);
        if C::COUNTS_STEPS && !entry.named_step {
            problems.push(format!("`{name}` has buffers but no `{name}.step`"));
        }
        for (si, slot) in C::SLOTS.iter().enumerate() {
            if config.slot_in_use(si) && !entry.named_slots.contains(&si) {
                problems.push(format!("`{name}.{slot}` is missing"));
            }
        }
    }

    if !problems.is_empty() {
        problems.sort();
        return Err(invalid(
            C::NAME,
            format!(
                "load_state_dict: {} problem(s): {}",
                problems.len(),
                problems.join("; ")
            ),
        ));
    }

    // Commit.
    for (g, config) in opt.groups.iter_mut().zip(configs) {
        g.config = config;
        for p in &mut g.params {
            p.state = None;
        }
    }
    for ((gi, pi), entry) in pending {
        let p = &mut opt.groups[gi].params[pi];
        p.state = Some(match p.tensor.dtype() {
            DType::F32 => import::<f32>(entry, C::SLOTS.len())?,
            _ => import::<f64>(entry, C::SLOTS.len())?,
        });
    }
    Ok(())
}

fn import<T: Float>(entry: Pending, n_slots: usize) -> Result<AnyState> {
    let mut s = ParamState::<T>::new(n_slots);
    s.step = entry.step.unwrap_or(0);
    for (si, t) in entry.slots {
        s.slots[si] = t.to_vec::<T>()?;
    }
    Ok(T::wrap(s))
}
