//! Views and shape changes. Views share storage and cost no copy; each records an op so
//! gradients flow back through it.

use super::Tensor;
use crate::autograd::Op;
use crate::shape::{resolve_insert_dim, DimVec};
use crate::storage::CpuStorage;
use crate::{Dim, Error, Result, Shape};

impl Tensor {
    /// Resolves a target shape for reshape/view, where one dim may be -1 ("infer").
    fn infer_shape(&self, op: &'static str, dims: &[i64]) -> Result<Shape> {
        let numel = self.numel();
        let mut out = DimVec::new();
        let mut infer = None;
        for (i, &d) in dims.iter().enumerate() {
            match d {
                -1 if infer.is_none() => {
                    infer = Some(i);
                    out.push(1);
                }
                d if d >= 0 => out.push(d as usize),
                _ => {
                    return Err(Error::shape(
                        op,
                        format!("invalid size {d} in target shape {dims:?}"),
                    ))
                }
            }
        }
        let known: usize = out.iter().product();
        if let Some(i) = infer {
            if known == 0 || numel % known != 0 {
                return Err(Error::shape(
                    op,
                    format!("shape {dims:?} is invalid for input of size {numel}"),
                ));
            }
            out[i] = numel / known;
        }
        let shape = Shape(out);
        if shape.numel() != numel {
            return Err(Error::shape(
                op,
                format!(
                    "shape {shape} is invalid for input {} of size {numel}",
                    self.shape()
                ),
            ));
        }
        Ok(shape)
    }

    /// The same elements in a new shape: a view when the strides allow it, a copy otherwise
    /// (`torch.reshape`).
    ///
    /// # Shapes
    /// The new shape must have as many elements as the old one.
    pub fn reshape(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape.numel() != self.numel() {
            return Err(Error::shape(
                "reshape",
                format!(
                    "shape {shape} is invalid for input {} of size {}",
                    self.shape(),
                    self.numel()
                ),
            ));
        }
        if shape == *self.shape() {
            return Ok(self.clone());
        }
        match self.layout().reshape(&shape) {
            Some(layout) => Ok(self.view_op(layout, || Op::Reshape(self.clone()))),
            None => self.contiguous()?.reshape(shape),
        }
    }

    /// Reshape with one dim that may be -1 (inferred), as in `x.reshape(-1, 784)`.
    pub fn reshape_infer(&self, dims: &[i64]) -> Result<Tensor> {
        let shape = self.infer_shape("reshape", dims)?;
        self.reshape(shape)
    }

    /// A view with a new shape; an error when the strides do not allow one (`torch.view`).
    pub fn view(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape.numel() != self.numel() {
            return Err(Error::shape(
                "view",
                format!(
                    "shape {shape} is invalid for input {} of size {}",
                    self.shape(),
                    self.numel()
                ),
            ));
        }
        let layout = self.layout().reshape(&shape).ok_or_else(|| {
            Error::shape(
                "view",
                format!(
                    "view size {shape} is not compatible with input {} and strides {:?}; use \
                     reshape",
                    self.shape(),
                    self.stride()
                ),
            )
        })?;
        Ok(self.view_op(layout, || Op::Reshape(self.clone())))
    }

    /// Merges dims `start..=end` into one (`torch.flatten`).
    pub fn flatten<D: Dim>(&self, start: D, end: D) -> Result<Tensor> {
        if self.rank() == 0 {
            return self.reshape(1);
        }
        let s = start.resolve("flatten", self.shape())?;
        let e = end.resolve("flatten", self.shape())?;
        if s > e {
            return Err(Error::invalid(
                "flatten",
                format!("start dim {s} comes after end dim {e}"),
            ));
        }
        let d = self.dims();
        let mut out: Vec<usize> = d[..s].to_vec();
        out.push(d[s..=e].iter().product());
        out.extend_from_slice(&d[e + 1..]);
        self.reshape(out)
    }

    /// All dims merged into one.
    pub fn flatten_all(&self) -> Result<Tensor> {
        self.reshape(self.numel())
    }

    /// Removes `dim` if its size is 1 (otherwise returns the tensor unchanged, as PyTorch).
    pub fn squeeze<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.resolve("squeeze", self.shape())?;
        if self.dims()[d] != 1 {
            return Ok(self.clone());
        }
        let mut dims = self.dims().to_vec();
        dims.remove(d);
        self.reshape(dims)
    }

    /// Removes every size-1 dim.
    pub fn squeeze_all(&self) -> Result<Tensor> {
        let dims: Vec<usize> = self.dims().iter().copied().filter(|&d| d != 1).collect();
        self.reshape(dims)
    }

    /// Inserts a size-1 dim at `dim` (`-1` appends).
    pub fn unsqueeze<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = resolve_insert_dim("unsqueeze", dim, self.shape())?;
        let mut dims = self.dims().to_vec();
        dims.insert(d, 1);
        self.reshape(dims)
    }

    /// Reorders dims: output dim `i` is input dim `perm[i]` (a view).
    pub fn permute<D: Dim>(&self, perm: &[D]) -> Result<Tensor> {
        if perm.len() != self.rank() {
            return Err(Error::shape(
                "permute",
                format!(
                    "got {} dims for a tensor of shape {}",
                    perm.len(),
                    self.shape()
                ),
            ));
        }
        let mut p = DimVec::new();
        for &d in perm {
            let r = d.resolve("permute", self.shape())?;
            if p.contains(&r) {
                return Err(Error::invalid(
                    "permute",
                    format!("dim {r} appears more than once"),
                ));
            }
            p.push(r);
        }
        if p.iter().enumerate().all(|(i, &d)| i == d) {
            return Ok(self.clone());
        }
        let layout = self.layout().permute(&p);
        Ok(self.view_op(layout, || Op::Permute(self.clone(), p)))
    }

    /// Swaps two dims (a view).
    pub fn transpose<D: Dim>(&self, d0: D, d1: D) -> Result<Tensor> {
        let a = d0.resolve("transpose", self.shape())?;
        let b = d1.resolve("transpose", self.shape())?;
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Transpose of a matrix (rank <= 2), as `torch.t`.
    pub fn t(&self) -> Result<Tensor> {
        match self.rank() {
            0 | 1 => Ok(self.clone()),
            2 => self.transpose(0, 1),
            r => Err(Error::shape(
                "t",
                format!(
                    "expects a tensor with <= 2 dims, got {r} ({})",
                    self.shape()
                ),
            )),
        }
    }

    /// `len` entries of `dim` starting at `start` (a view).
    pub fn narrow<D: Dim>(&self, dim: D, start: usize, len: usize) -> Result<Tensor> {
        let d = dim.resolve("narrow", self.shape())?;
        let size = self.dims()[d];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::shape(
                "narrow",
                format!(
                    "start {start} + length {len} exceeds size {size} of dim {d} in {}",
                    self.shape()
                ),
            ));
        }
        if start == 0 && len == size {
            return Ok(self.clone());
        }
        let layout = self.layout().narrow(d, start, len);
        Ok(self.view_op(layout, || Op::Narrow {
            x: self.clone(),
            dim: d,
            start,
        }))
    }

    /// Entries `start..end` of `dim` (Python's `x[:, start:end]`).
    pub fn slice<D: Dim>(&self, dim: D, start: usize, end: usize) -> Result<Tensor> {
        let d = dim.resolve("slice", self.shape())?;
        let end = end.min(self.dims()[d]);
        self.narrow(d, start.min(end), end.saturating_sub(start))
    }

    /// Entry `index` of `dim`, removing that dim (Python's `x[i]` along dim 0).
    pub fn select<D: Dim>(&self, dim: D, index: usize) -> Result<Tensor> {
        let d = dim.resolve("select", self.shape())?;
        self.narrow(d, index, 1)?.squeeze(d)
    }

    /// A view with size-1 dims repeated to `shape` (stride 0), as `torch.expand`.
    pub fn expand(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape == *self.shape() {
            return Ok(self.clone());
        }
        let layout = self.layout().broadcast_to("expand", &shape)?;
        Ok(self.view_op(layout, || Op::Expand(self.clone())))
    }

    /// Same as [`Tensor::expand`]; reads better where broadcasting is meant.
    pub fn broadcast_as(&self, shape: &Shape) -> Result<Tensor> {
        self.expand(shape)
    }

    /// The data in fresh row-major storage, or `self` if it already is.
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() && self.layout().offset() == 0 {
            return Ok(self.clone());
        }
        self.copy()
    }

    /// A copy in fresh storage (PyTorch's `clone`).
    pub fn copy(&self) -> Result<Tensor> {
        let storage = self.contiguous_storage();
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            &[self],
            || Op::Copy(self.clone()),
        ))
    }

    /// Joins tensors along an existing dim (`torch.cat`).
    ///
    /// # Shapes
    /// All tensors must have the same shape except along `dim`.
    pub fn cat<D: Dim>(tensors: &[Tensor], dim: D) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("cat", "expected a non-empty list of tensors"))?;
        let d = dim.resolve("cat", first.shape())?;
        let mut out_dims = first.dims().to_vec();
        out_dims[d] = 0;
        for (i, t) in tensors.iter().enumerate() {
            first.check_same_dtype("cat", t)?;
            let ok = t.rank() == first.rank()
                && t.dims()
                    .iter()
                    .zip(first.dims())
                    .enumerate()
                    .all(|(k, (a, b))| k == d || a == b);
            if !ok {
                return Err(Error::shape(
                    "cat",
                    format!(
                        "tensor {i} has shape {} but tensor 0 has {}: sizes must match except \
                         in dim {d}",
                        t.shape(),
                        first.shape()
                    ),
                ));
            }
            out_dims[d] += t.dims()[d];
        }
        let shape = Shape::from(out_dims);
        let outer: usize = first.dims()[..d].iter().product();
        let refs: Vec<&Tensor> = tensors.iter().collect();
        let storage = Tensor::with_cpus(&refs, |ss| {
            macro_rules! join {
                ($variant:ident, $t:ty) => {{
                    let parts: Vec<Vec<$t>> = ss
                        .iter()
                        .zip(tensors)
                        .map(|(s, t)| match s {
                            CpuStorage::$variant(v) => {
                                crate::cpu::strided::to_contiguous(v, t.layout())
                            }
                            _ => unreachable!("dtypes checked above"),
                        })
                        .collect();
                    let mut out = Vec::with_capacity(shape.numel());
                    let blocks: Vec<usize> = tensors
                        .iter()
                        .map(|t| t.dims()[d..].iter().product())
                        .collect();
                    for o in 0..outer {
                        for (p, &b) in parts.iter().zip(&blocks) {
                            out.extend_from_slice(&p[o * b..(o + 1) * b]);
                        }
                    }
                    CpuStorage::$variant(out)
                }};
            }
            match ss[0] {
                CpuStorage::F32(_) => join!(F32, f32),
                CpuStorage::F64(_) => join!(F64, f64),
                CpuStorage::I64(_) => join!(I64, i64),
                CpuStorage::Bool(_) => join!(Bool, bool),
            }
        });
        Ok(Tensor::from_op(storage, shape, &refs, || Op::Cat {
            xs: tensors.to_vec(),
            dim: d,
        }))
    }

    /// Joins tensors along a new dim (`torch.stack`).
    pub fn stack<D: Dim>(tensors: &[Tensor], dim: D) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("stack", "expected a non-empty list of tensors"))?;
        let d = resolve_insert_dim("stack", dim, first.shape())?;
        for (i, t) in tensors.iter().enumerate() {
            if t.shape() != first.shape() {
                return Err(Error::shape(
                    "stack",
                    format!(
                        "tensor {i} has shape {} but tensor 0 has {}: all must be equal",
                        t.shape(),
                        first.shape()
                    ),
                ));
            }
        }
        let parts = tensors
            .iter()
            .map(|t| t.unsqueeze(d))
            .collect::<Result<Vec<_>>>()?;
        Tensor::cat(&parts, d)
    }

    /// Splits into pieces of `size` along `dim` (the last may be smaller); views.
    pub fn split<D: Dim>(&self, size: usize, dim: D) -> Result<Vec<Tensor>> {
        let d = dim.resolve("split", self.shape())?;
        if size == 0 {
            return Err(Error::invalid("split", "split size must be positive"));
        }
        let n = self.dims()[d];
        (0..n)
            .step_by(size)
            .map(|s| self.narrow(d, s, size.min(n - s)))
            .collect()
    }

    /// Splits into `chunks` nearly equal pieces along `dim` (`torch.chunk`); views.
    pub fn chunk<D: Dim>(&self, chunks: usize, dim: D) -> Result<Vec<Tensor>> {
        let d = dim.resolve("chunk", self.shape())?;
        if chunks == 0 {
            return Err(Error::invalid("chunk", "number of chunks must be positive"));
        }
        let n = self.dims()[d];
        self.split(n.div_ceil(chunks).max(1), d)
    }

    /// Reverses a broadcast: sums `self` down to `shape` (leading dims removed, size-1 dims
    /// summed). This is the gradient of `expand`.
    pub fn sum_to_shape(&self, shape: &Shape) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let lead = self.rank().checked_sub(shape.rank()).ok_or_else(|| {
            Error::shape(
                "sum_to_shape",
                format!("cannot sum {} down to {}", self.shape(), shape),
            )
        })?;
        let mut dims: Vec<usize> = (0..lead).collect();
        for (i, &t) in shape.dims().iter().enumerate() {
            let s = self.dims()[lead + i];
            if t == 1 && s != 1 {
                dims.push(lead + i);
            } else if t != s {
                return Err(Error::shape(
                    "sum_to_shape",
                    format!("cannot sum {} down to {}", self.shape(), shape),
                ));
            }
        }
        let summed = if dims.is_empty() {
            self.clone()
        } else {
            self.sum_keepdim(&dims)?
        };
        summed.reshape(shape.clone())
    }
}
