//! Data sets: the [`Dataset`] trait (`torch.utils.data.Dataset`), [`TensorDataset`] and
//! [`Subset`].
//!
//! A sample and a batch are both a `Vec<Tensor>` (one tensor per field: inputs, targets,
//! ...). Per-item data sets implement [`Dataset::get`] and inherit a [`Dataset::get_batch`]
//! that stacks items ([`default_collate`]); tensor-backed data sets override `get_batch` to
//! gather a whole batch in one pass (one `index_select` per field), never item by item.

use std::sync::Arc;

use crate::{Error, Result, Tensor};

/// One sample or one batch: one tensor per field, e.g. `[inputs, targets]`.
///
/// ```
/// use sinapsis::{data::dataset::Batch, Tensor};
/// let b: Batch = vec![Tensor::new(&[1.0f32, 2.0])?];
/// assert_eq!(b.len(), 1);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub type Batch = Vec<Tensor>;

/// A collate function: turns the samples of one batch into a batch.
///
/// ```
/// use std::sync::Arc;
/// use sinapsis::data::dataset::{default_collate, CollateFn};
/// let f: Arc<CollateFn> = Arc::new(default_collate);
/// # let _ = f;
/// ```
pub type CollateFn = dyn Fn(Vec<Batch>) -> Result<Batch> + Send + Sync;

/// A map-style data set: a length and random access to samples (`torch.utils.data.Dataset`).
///
/// `Send + Sync` so that [`DataLoader`](super::loader::DataLoader) workers can share it.
///
/// ```
/// use sinapsis::data::dataset::{Batch, Dataset};
/// use sinapsis::{Result, Tensor};
/// struct Squares(usize);
/// impl Dataset for Squares {
///     fn len(&self) -> usize { self.0 }
///     fn get(&self, i: usize) -> Result<Batch> {
///         Ok(vec![Tensor::new(&[i as f32])?, Tensor::new(&[(i * i) as f32])?])
///     }
/// }
/// let b = Squares(5).get_batch(&[1, 3])?;
/// assert_eq!(b[1].to_vec::<f32>()?, vec![1.0, 9.0]);
/// assert_eq!(b[1].dims(), &[2, 1]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub trait Dataset: Send + Sync {
    /// Number of samples.
    fn len(&self) -> usize;

    /// Whether the data set has no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `index` (one tensor per field).
    ///
    /// # Errors
    /// If `index >= len()` or reading the sample fails.
    fn get(&self, index: usize) -> Result<Batch>;

    /// The samples at `indices`, batched along a new dim 0. The default reads each item
    /// with [`Dataset::get`] and stacks them ([`default_collate`]); tensor-backed data sets
    /// override it to gather in one pass.
    ///
    /// # Errors
    /// If an index is out of range, `indices` is empty, or samples do not stack.
    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        let items = indices
            .iter()
            .map(|&i| self.get(i))
            .collect::<Result<Vec<_>>>()?;
        default_collate(items)
    }
}

impl<D: Dataset + ?Sized> Dataset for Arc<D> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, index: usize) -> Result<Batch> {
        (**self).get(index)
    }
    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        (**self).get_batch(indices)
    }
}

impl<D: Dataset + ?Sized> Dataset for Box<D> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, index: usize) -> Result<Batch> {
        (**self).get(index)
    }
    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        (**self).get_batch(indices)
    }
}

fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}

pub(crate) fn check_index(op: &'static str, index: usize, len: usize) -> Result<()> {
    if index >= len {
        return Err(invalid(
            op,
            format!("index {index} is out of range for a data set of length {len}"),
        ));
    }
    Ok(())
}

/// Stacks samples field by field along a new dim 0 (PyTorch's `default_collate`).
///
/// # Errors
/// If `samples` is empty, samples have different numbers of fields, or a field's tensors
/// differ in shape or dtype.
///
/// ```
/// use sinapsis::{data::dataset::default_collate, Tensor};
/// let s0 = vec![Tensor::new(&[1.0f32, 2.0])?, Tensor::new(&0i64)?];
/// let s1 = vec![Tensor::new(&[3.0f32, 4.0])?, Tensor::new(&1i64)?];
/// let b = default_collate(vec![s0, s1])?;
/// assert_eq!((b[0].dims(), b[1].dims()), (&[2, 2][..], &[2][..]));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn default_collate(samples: Vec<Batch>) -> Result<Batch> {
    let Some(first) = samples.first() else {
        return Err(invalid("default_collate", "no samples to collate"));
    };
    let fields = first.len();
    if let Some((i, s)) = samples.iter().enumerate().find(|(_, s)| s.len() != fields) {
        return Err(invalid(
            "default_collate",
            format!(
                "sample 0 has {fields} fields but sample {i} has {}",
                s.len()
            ),
        ));
    }
    let mut columns: Vec<Vec<Tensor>> = vec![Vec::with_capacity(samples.len()); fields];
    for s in samples {
        for (col, t) in columns.iter_mut().zip(s) {
            col.push(t);
        }
    }
    columns.iter().map(|c| Tensor::stack(c, 0)).collect()
}

/// Tensors that share their dim-0 size, indexed along dim 0 (`torch.utils.data.TensorDataset`).
///
/// [`Dataset::get_batch`] gathers a batch with one `index_select` per tensor: one pass over
/// the rows, no per-item copies.
///
/// ```
/// use sinapsis::data::dataset::{Dataset, TensorDataset};
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[[0.0f32, 0.0], [1.0, 1.0], [2.0, 2.0]])?;
/// let y = Tensor::new(&[0i64, 1, 0])?;
/// let ds = TensorDataset::new(vec![x, y])?;
/// let b = ds.get_batch(&[2, 0])?;
/// assert_eq!(b[0].to_vec::<f32>()?, vec![2.0, 2.0, 0.0, 0.0]);
/// assert_eq!(b[1].to_vec::<i64>()?, vec![0, 0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TensorDataset {
    tensors: Vec<Tensor>,
    len: usize,
}

impl TensorDataset {
    /// A data set over `tensors`, which must all have at least one dim and the same size
    /// in dim 0.
    ///
    /// # Errors
    /// If `tensors` is empty, a tensor is a scalar, or the dim-0 sizes differ.
    ///
    /// ```
    /// use sinapsis::{data::dataset::TensorDataset, Tensor};
    /// let bad = TensorDataset::new(vec![Tensor::zeros((3, 2), sinapsis::DType::F32)?,
    ///                                   Tensor::zeros([4], sinapsis::DType::I64)?]);
    /// assert!(bad.is_err());
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn new(tensors: Vec<Tensor>) -> Result<TensorDataset> {
        let Some(first) = tensors.first() else {
            return Err(invalid("TensorDataset", "needs at least one tensor"));
        };
        if let Some((i, t)) = tensors.iter().enumerate().find(|(_, t)| t.rank() == 0) {
            return Err(invalid(
                "TensorDataset",
                format!(
                    "tensor {i} is a scalar (shape {}); it needs a dim 0",
                    t.shape()
                ),
            ));
        }
        let len = first.dims()[0];
        if let Some((i, t)) = tensors.iter().enumerate().find(|(_, t)| t.dims()[0] != len) {
            return Err(invalid(
                "TensorDataset",
                format!(
                    "size mismatch between tensors: tensor 0 has shape {} but tensor {i} has shape {}",
                    first.shape(),
                    t.shape()
                ),
            ));
        }
        Ok(TensorDataset { tensors, len })
    }

    /// The tensors, in the order given.
    ///
    /// ```
    /// use sinapsis::{data::dataset::TensorDataset, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::new(&[1i64, 2])?])?;
    /// assert_eq!(ds.tensors().len(), 1);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> Result<Batch> {
        check_index("TensorDataset::get", index, self.len)?;
        self.tensors.iter().map(|t| t.select(0, index)).collect()
    }

    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len) {
            check_index("TensorDataset::get_batch", bad, self.len)?;
        }
        self.tensors.iter().map(|t| t.take_rows(indices)).collect()
    }
}

/// The samples of another data set at the given indices (`torch.utils.data.Subset`).
///
/// ```
/// use std::sync::Arc;
/// use sinapsis::data::dataset::{Dataset, Subset, TensorDataset};
/// use sinapsis::Tensor;
/// let ds = Arc::new(TensorDataset::new(vec![Tensor::new(&[10i64, 11, 12, 13])?])?);
/// let sub = Subset::new(ds, vec![3, 1])?;
/// assert_eq!(sub.len(), 2);
/// assert_eq!(sub.get_batch(&[0, 1])?[0].to_vec::<i64>()?, vec![13, 11]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone)]
pub struct Subset<D: Dataset + ?Sized> {
    dataset: Arc<D>,
    indices: Vec<usize>,
}

impl<D: Dataset + ?Sized> Subset<D> {
    /// The samples of `dataset` at `indices`.
    ///
    /// # Errors
    /// If an index is out of range for `dataset`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sinapsis::{data::dataset::{Subset, TensorDataset}, Tensor};
    /// let ds = Arc::new(TensorDataset::new(vec![Tensor::new(&[1i64, 2])?])?);
    /// assert!(Subset::new(ds, vec![2]).is_err());
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn new(dataset: Arc<D>, indices: Vec<usize>) -> Result<Subset<D>> {
        let n = dataset.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            check_index("Subset", bad, n)?;
        }
        Ok(Subset { dataset, indices })
    }

    /// The indices into the underlying data set.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sinapsis::{data::dataset::{Subset, TensorDataset}, Tensor};
    /// let ds = Arc::new(TensorDataset::new(vec![Tensor::new(&[1i64, 2])?])?);
    /// assert_eq!(Subset::new(ds, vec![1])?.indices(), &[1]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl<D: Dataset + ?Sized> Dataset for Subset<D> {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn get(&self, index: usize) -> Result<Batch> {
        check_index("Subset::get", index, self.indices.len())?;
        self.dataset.get(self.indices[index])
    }

    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        let mapped = indices
            .iter()
            .map(|&i| {
                check_index("Subset::get_batch", i, self.indices.len())?;
                Ok(self.indices[i])
            })
            .collect::<Result<Vec<_>>>()?;
        self.dataset.get_batch(&mapped)
    }
}
