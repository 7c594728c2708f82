//! [`Residual`]: a skip connection around a block, `y = x + block(x)` (ResNet's identity
//! shortcut), so deep MLPs and CNNs train as easily as shallow ones.

use std::sync::Arc;

use super::module::Module;
use crate::{Error, Result, Tensor};

/// `y = x + block(x)`; the block must keep the input's shape. Its parameters are named
/// `block.*` (`0.block.0.weight` inside a `Sequential`).
///
/// ```
/// use sinapsis::nn::{Linear, Module, ModuleExt, ReLU, Residual, Sequential};
/// use sinapsis::{DType, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// let block = Residual::new(Sequential::new().add(Linear::new(8, 8)?).add(ReLU).add(Linear::new(8, 8)?));
/// let x = Tensor::randn((4, 8), DType::F32)?;
/// assert_eq!(block.forward(&x)?.dims(), &[4, 8]);
/// assert_eq!(block.named_parameters()[0].0, "block.0.weight");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Residual {
    block: Arc<dyn Module>,
}

impl Residual {
    /// Wraps `block` in a skip connection.
    pub fn new(block: impl Module + 'static) -> Residual {
        Residual {
            block: Arc::new(block),
        }
    }

    /// The wrapped block.
    pub fn block(&self) -> &Arc<dyn Module> {
        &self.block
    }
}

impl Module for Residual {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.block.forward(x)?;
        if y.dims() != x.dims() {
            return Err(Error::Shape {
                op: "Residual",
                msg: format!(
                    "the block maps {} to {}: a skip connection needs the same shape",
                    x.shape(),
                    y.shape()
                ),
            });
        }
        x.add(&y)
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("block".to_string(), &*self.block)]
    }
}
