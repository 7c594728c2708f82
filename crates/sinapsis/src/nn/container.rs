//! Containers: `Sequential` (runs its children in order) and `ModuleList` (holds them).
//! Children are shared handles (`Arc`), so a slice of a `Sequential` reuses the same layers,
//! as `nn.Sequential(*list(model.children())[:-1])` does in PyTorch.

use super::Module;
use crate::{Error, Result, Tensor};
use std::ops::Range;
use std::sync::Arc;

/// Modules applied one after another (`nn.Sequential`); children are named `"0"`, `"1"`...
///
/// ```
/// use sinapsis::nn::{Linear, ModuleExt, ReLU, Sequential};
/// let model = Sequential::new()
///     .add(Linear::new(784, 100)?)
///     .add(ReLU)
///     .add(Linear::new(100, 10)?);
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(model.num_parameters(), 79510);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Sequential {
    layers: Vec<Arc<dyn Module>>,
}

impl Sequential {
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a module (builder style).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, m: impl Module + 'static) -> Sequential {
        self.layers.push(Arc::new(m));
        self
    }

    /// Appends a module.
    pub fn push(&mut self, m: impl Module + 'static) {
        self.layers.push(Arc::new(m));
    }

    /// Appends an already shared module.
    pub fn push_shared(&mut self, m: Arc<dyn Module>) {
        self.layers.push(m);
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The `i`-th child.
    pub fn get(&self, i: usize) -> Option<&Arc<dyn Module>> {
        self.layers.get(i)
    }

    /// Replaces the `i`-th child (as `model[2] = nn.Linear(100, 1)`).
    pub fn set(&mut self, i: usize, m: impl Module + 'static) -> Result<()> {
        let n = self.layers.len();
        let slot = self
            .layers
            .get_mut(i)
            .ok_or_else(|| Error::InvalidArgument {
                op: "Sequential::set",
                msg: format!("index {i} is out of range for {n} modules"),
            })?;
        *slot = Arc::new(m);
        Ok(())
    }

    /// A new `Sequential` of children `range`, sharing them (`model[:-1]`).
    pub fn slice(&self, range: Range<usize>) -> Result<Sequential> {
        let n = self.layers.len();
        let layers = self
            .layers
            .get(range.clone())
            .ok_or_else(|| Error::InvalidArgument {
                op: "Sequential::slice",
                msg: format!("range {range:?} is out of bounds for {n} modules"),
            })?;
        Ok(Sequential {
            layers: layers.to_vec(),
        })
    }

    /// The children in order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Module>> {
        self.layers.iter()
    }
}

impl Module for Sequential {
    /// Runs the layers in order. A layer followed by a `ReLU` runs as one fused op where it
    /// has one ([`Module::forward_relu`]: `Linear`), with the same values and gradients.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        let mut i = 0;
        while let Some(layer) = self.layers.get(i) {
            let fused = match self.layers.get(i + 1) {
                Some(next) if next.is_relu() => layer.forward_relu(&y),
                _ => None,
            };
            (y, i) = match fused {
                Some(out) => (out?, i + 2),
                None => (layer.forward(&y)?, i + 1),
            };
        }
        Ok(y)
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), &**m))
            .collect()
    }
    fn type_name(&self) -> String {
        "Sequential".into()
    }
}

/// A list of modules, registered so their parameters are found (`nn.ModuleList`); it has
/// no forward of its own.
#[derive(Clone, Default)]
pub struct ModuleList {
    modules: Vec<Arc<dyn Module>>,
}

impl ModuleList {
    pub fn new() -> ModuleList {
        ModuleList::default()
    }

    pub fn push(&mut self, m: impl Module + 'static) {
        self.modules.push(Arc::new(m));
    }

    pub fn len(&self) -> usize {
        self.modules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Arc<dyn Module>> {
        self.modules.get(i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Module>> {
        self.modules.iter()
    }
}

impl Module for ModuleList {
    fn forward(&self, _x: &Tensor) -> Result<Tensor> {
        Err(Error::InvalidArgument {
            op: "ModuleList",
            msg: "a ModuleList has no forward; iterate over its modules instead".into(),
        })
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.modules
            .iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), &**m))
            .collect()
    }
    fn type_name(&self) -> String {
        "ModuleList".into()
    }
}
