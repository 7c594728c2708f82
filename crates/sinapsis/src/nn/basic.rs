//! Shape and lookup layers: `Flatten`, `Identity`, `Embedding`.

use super::init::normal_;
use super::Module;
use crate::{DType, Error, Result, Tensor};

/// Merges dims `start_dim..=end_dim` (`nn.Flatten`, default 1..=-1: everything but the batch).
///
/// ```
/// use sinapsis::nn::{Flatten, Module};
/// use sinapsis::{Tensor, DType};
/// let y = Flatten::default().forward(&Tensor::zeros((8, 64, 7, 7), DType::F32)?)?;
/// assert_eq!(y.dims(), &[8, 3136]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Flatten {
    pub start_dim: i64,
    pub end_dim: i64,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }
}

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten(self.start_dim, self.end_dim)
    }
    fn type_name(&self) -> String {
        "Flatten".into()
    }
    fn extra_repr(&self) -> String {
        format!("start_dim={}, end_dim={}", self.start_dim, self.end_dim)
    }
}

/// Returns its input unchanged (`nn.Identity`): a placeholder when swapping layers out.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl Module for Identity {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
    fn type_name(&self) -> String {
        "Identity".into()
    }
}

/// A lookup table of `num_embeddings` vectors of size `embedding_dim`, initialised N(0, 1)
/// (`nn.Embedding`).
///
/// # Shapes
/// i64 indices `(*)` to `(*, embedding_dim)`.
///
/// ```
/// use sinapsis::nn::{Embedding, Module};
/// use sinapsis::Tensor;
/// let emb = Embedding::new(10, 3)?;
/// let y = emb.forward(&Tensor::new(&[[1i64, 2], [9, 1]])?)?;
/// assert_eq!(y.dims(), &[2, 2, 3]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub struct Embedding {
    pub weight: Tensor,
}

impl Embedding {
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Result<Embedding> {
        let weight = Tensor::zeros((num_embeddings, embedding_dim), DType::F32)?;
        normal_(&weight, 0.0, 1.0)?;
        Ok(Embedding {
            weight: weight.requires_grad_(true)?,
        })
    }
}

impl Module for Embedding {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.dtype() != DType::I64 {
            return Err(Error::DType {
                op: "Embedding",
                expected: "i64 indices",
                got: x.dtype(),
            });
        }
        let rows = self.weight.index_select(0, &x.flatten_all()?)?;
        let mut dims = x.dims().to_vec();
        dims.push(self.weight.dims()[1]);
        rows.reshape(dims)
    }
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("weight".into(), self.weight.clone())]
    }
    fn type_name(&self) -> String {
        "Embedding".into()
    }
    fn extra_repr(&self) -> String {
        format!("{}, {}", self.weight.dims()[0], self.weight.dims()[1])
    }
}
