//! The `Module` abstraction: a forward pass plus named parameters, buffers and children, from
//! which everything PyTorch derives (parameter names, `state_dict`, train/eval, printing) is
//! built once in [`ModuleExt`].
//!
//! A custom model is a plain struct that implements `forward` and lists its children:
//!
//! ```
//! use sinapsis::nn::{Linear, Module, ModuleExt};
//! use sinapsis::{Result, Tensor, DType};
//!
//! struct Residual { fc1: Linear, fc2: Linear }
//!
//! impl Module for Residual {
//!     fn forward(&self, x: &Tensor) -> Result<Tensor> {
//!         // fc2(x + fc1(x))
//!         self.fc2.forward(&x.add(&self.fc1.forward(x)?)?)
//!     }
//!     fn children(&self) -> Vec<(String, &dyn Module)> {
//!         vec![("fc1".into(), &self.fc1), ("fc2".into(), &self.fc2)]
//!     }
//! }
//!
//! # fn main() -> Result<()> {
//! let m = Residual { fc1: Linear::new(4, 4)?, fc2: Linear::new(4, 2)? };
//! let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
//! assert_eq!(m.forward(&Tensor::ones((3, 4), DType::F32)?)?.dims(), &[3, 2]);
//! # Ok(()) }
//! ```

use crate::{Error, Result, Tensor};
use std::collections::HashMap;

/// A layer or model: PyTorch's `nn.Module`.
///
/// Implement `forward`, and `children` (for models made of other modules) or
/// `own_parameters`/`own_buffers` (for layers holding tensors). Everything else comes from
/// [`ModuleExt`]. All methods take `&self`: parameters are shared tensor handles updated in
/// place, and layers whose behaviour depends on the mode keep it in an atomic flag.
pub trait Module: Send + Sync {
    /// The forward pass.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// `relu(self.forward(x))` as one fused op, for modules that have one (`Linear`: the
    /// bias and the ReLU in one pass over the product, and a backward that masks the
    /// gradient with the output); `None`, the default, for the rest. `Sequential` calls it
    /// for a layer followed by a module whose [`Module::is_relu`] holds. Values and
    /// gradients must equal those of the two steps.
    fn forward_relu(&self, _x: &Tensor) -> Option<Result<Tensor>> {
        None
    }

    /// Whether this module computes exactly `max(x, 0)` and nothing else (`ReLU`), so that
    /// a container may fold it into the layer before it ([`Module::forward_relu`]).
    fn is_relu(&self) -> bool {
        false
    }

    /// Parameters held directly by this module (not by its children), with their local
    /// names, in registration order (`[("weight", w), ("bias", b)]` for `Linear`).
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Buffers held directly: state that is saved but not trained (running statistics).
    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Direct submodules with their names: field names, or `"0"`, `"1"`... in containers.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// Switches this module's own behaviour between training and evaluation. Only layers
    /// that behave differently (dropout, batch norm) override it; `ModuleExt::train` and
    /// `eval` call it on every module of the tree.
    fn set_training(&self, _training: bool) {}

    /// Whether this module is in training mode (true unless it tracks a mode and was put in
    /// evaluation mode).
    fn is_training(&self) -> bool {
        true
    }

    /// The name printed for this module (`"Linear"`); defaults to the Rust type's name.
    fn type_name(&self) -> String {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base).to_string()
    }

    /// The arguments shown inside the parentheses when printed
    /// (`"in_features=784, out_features=100, bias=True"`).
    fn extra_repr(&self) -> String {
        String::new()
    }
}

/// Parameter and buffer values by their PyTorch names (`"0.weight"`, `"fc1.bias"`), in the
/// order PyTorch's `state_dict()` lists them.
pub type StateDict = Vec<(String, Tensor)>;

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Everything PyTorch's `nn.Module` offers on top of the few methods a module implements.
/// Blanket-implemented for every [`Module`].
pub trait ModuleExt: Module {
    /// `(name, module)` for this module (name `""`) and every descendant, depth first.
    fn named_modules(&self) -> Vec<(String, &dyn Module)>;

    /// Every parameter with its full dotted name (`"encoder.0.weight"`), depth first.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (prefix, m) in self.named_modules() {
            for (n, p) in m.own_parameters() {
                out.push((join(&prefix, &n), p));
            }
        }
        out
    }

    /// Every parameter, in the order of [`named_parameters`](ModuleExt::named_parameters).
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// Every buffer with its full dotted name.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (prefix, m) in self.named_modules() {
            for (n, b) in m.own_buffers() {
                out.push((join(&prefix, &n), b));
            }
        }
        out
    }

    /// Parameters and buffers by name, in PyTorch's `state_dict()` order (each module's
    /// parameters, then its buffers, then its children). The tensors are the live ones:
    /// detach or copy them to snapshot.
    fn state_dict(&self) -> StateDict {
        let mut out = Vec::new();
        for (prefix, m) in self.named_modules() {
            for (n, t) in m.own_parameters().into_iter().chain(m.own_buffers()) {
                out.push((join(&prefix, &n), t.detach()));
            }
        }
        out
    }

    /// Copies values from `state` into this module's parameters and buffers (casting the
    /// dtype if needed). With `strict`, every missing key, unexpected key and shape mismatch
    /// is reported together in one error and nothing is changed; without it, matching keys
    /// are loaded and the rest ignored (shape mismatches are still an error).
    fn load_state_dict(&self, state: &[(String, Tensor)], strict: bool) -> Result<()> {
        let own = self.state_dict();
        let given: HashMap<&str, &Tensor> = state.iter().map(|(k, t)| (k.as_str(), t)).collect();
        let mine: HashMap<&str, &Tensor> = own.iter().map(|(k, t)| (k.as_str(), t)).collect();
        let missing: Vec<&str> = own
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !given.contains_key(k))
            .collect();
        let unexpected: Vec<&str> = state
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !mine.contains_key(k))
            .collect();
        let mismatched: Vec<String> = own
            .iter()
            .filter_map(|(k, t)| {
                let g = given.get(k.as_str())?;
                (g.dims() != t.dims()).then(|| {
                    format!(
                        "{k}: checkpoint has shape {}, the model has {}",
                        g.shape(),
                        t.shape()
                    )
                })
            })
            .collect();
        let mut problems = Vec::new();
        if strict && !missing.is_empty() {
            problems.push(format!("missing keys: {}", missing.join(", ")));
        }
        if strict && !unexpected.is_empty() {
            problems.push(format!("unexpected keys: {}", unexpected.join(", ")));
        }
        if !mismatched.is_empty() {
            problems.push(format!("size mismatch: {}", mismatched.join("; ")));
        }
        if !problems.is_empty() {
            return Err(Error::InvalidArgument {
                op: "load_state_dict",
                msg: problems.join("\n"),
            });
        }
        let _guard = crate::no_grad();
        for (k, t) in &own {
            if let Some(src) = given.get(k.as_str()) {
                t.copy_(&src.to_dtype(t.dtype())?)?;
            }
        }
        Ok(())
    }

    /// Training mode for this module and every descendant (`model.train()`).
    fn train(&self) {
        self.named_modules()
            .iter()
            .for_each(|(_, m)| m.set_training(true));
    }

    /// Evaluation mode for this module and every descendant (`model.eval()`): dropout off,
    /// batch norm uses its running statistics.
    fn eval(&self) {
        self.named_modules()
            .iter()
            .for_each(|(_, m)| m.set_training(false));
    }

    /// Total number of parameter elements.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(Tensor::numel).sum()
    }

    /// Number of parameter elements that currently require gradients.
    fn num_trainable_parameters(&self) -> usize {
        self.parameters()
            .iter()
            .filter(|p| p.requires_grad())
            .map(Tensor::numel)
            .sum()
    }

    /// Turns gradient tracking on or off for every parameter (`requires_grad_(False)` to
    /// freeze a pretrained part for transfer learning).
    fn requires_grad_(&self, on: bool) -> Result<()> {
        self.parameters()
            .iter()
            .try_for_each(|p| p.set_requires_grad(on))
    }

    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        self.parameters().iter().for_each(Tensor::zero_grad);
    }

    /// The printed form, as PyTorch's `repr(model)`:
    /// `Sequential(\n  (0): Linear(in_features=784, out_features=100, bias=True)\n)`.
    fn repr(&self) -> String {
        repr(self.as_dyn())
    }

    #[doc(hidden)]
    fn as_dyn(&self) -> &dyn Module;
}

impl<M: Module> ModuleExt for M {
    fn named_modules(&self) -> Vec<(String, &dyn Module)> {
        named_modules(self)
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

impl ModuleExt for dyn Module + '_ {
    fn named_modules(&self) -> Vec<(String, &dyn Module)> {
        named_modules(self)
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// Depth-first listing with an explicit stack (no recursion), children in order.
fn named_modules(root: &dyn Module) -> Vec<(String, &dyn Module)> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, &dyn Module)> = vec![(String::new(), root)];
    while let Some((name, m)) = stack.pop() {
        let children = m.children();
        for (child, c) in children.into_iter().rev() {
            stack.push((join(&name, &child), c));
        }
        out.push((name, m));
    }
    out
}

fn repr(m: &dyn Module) -> String {
    let children = m.children();
    let extra = m.extra_repr();
    if children.is_empty() {
        return format!("{}({extra})", m.type_name());
    }
    let mut s = format!("{}(", m.type_name());
    if !extra.is_empty() {
        s.push_str(&format!("\n  {extra}"));
    }
    for (name, c) in children {
        let body = repr(c).replace('\n', "\n  ");
        s.push_str(&format!("\n  ({name}): {body}"));
    }
    s.push_str("\n)");
    s
}
