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

    /// The same elements in a new shape (`torch.reshape`): a view sharing storage when the
    /// strides allow it (always for contiguous tensors), otherwise a contiguous copy.
    ///
    /// Gradient: reshaped back to the input's shape.
    ///
    /// # Shapes
    /// `shape` must have as many elements as the input; elements keep their row-major order.
    /// For a `-1` ("infer this dim") use [`Tensor::reshape_infer`].
    ///
    /// # Errors
    /// If the element counts differ.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F32)?;
    /// let y = x.reshape((2, 3))?;
    /// assert_eq!(y.dims(), &[2, 3]);
    /// assert!(y.shares_storage(&x)); // contiguous input: a view, no copy
    /// assert_eq!(y.to_vec2::<f32>()?, vec![vec![0.0, 1.0, 2.0], vec![3.0, 4.0, 5.0]]);
    /// // A transposed tensor cannot be flattened without a copy; reshape makes one.
    /// let t = y.t()?.reshape(6)?;
    /// assert_eq!(t.to_vec::<f32>()?, vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// assert!(x.reshape((3, 2)).is_ok() && x.reshape((4, 4)).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Reshape where one entry of `dims` may be `-1`, inferred from the element count
    /// (`x.reshape(-1, 784)`).
    ///
    /// # Shapes
    /// The product of the known sizes must divide the element count; the `-1` takes the
    /// quotient. Otherwise as [`Tensor::reshape`].
    ///
    /// # Errors
    /// If a size is negative other than a single `-1`, the `-1` cannot be inferred (the known
    /// sizes do not divide the count, or one of them is 0), or the counts differ.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((4, 2, 3), DType::F32)?;
    /// assert_eq!(x.reshape_infer(&[-1, 6])?.dims(), &[4, 6]);
    /// assert_eq!(x.reshape_infer(&[2, -1, 3])?.dims(), &[2, 4, 3]);
    /// assert!(x.reshape_infer(&[-1, 5]).is_err());
    /// assert!(x.reshape_infer(&[-1, -1]).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn reshape_infer(&self, dims: &[i64]) -> Result<Tensor> {
        let shape = self.infer_shape("reshape", dims)?;
        self.reshape(shape)
    }

    /// A view with a new shape that always shares storage (`Tensor.view`); an error when the
    /// strides do not allow one, where [`Tensor::reshape`] would copy instead.
    ///
    /// # Shapes
    /// As [`Tensor::reshape`]: the element counts must match.
    ///
    /// # Errors
    /// If the element counts differ, or the layout cannot be viewed in `shape` without a copy
    /// (e.g. flattening a transposed matrix).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// let v = x.view((3, 2))?;
    /// assert!(v.shares_storage(&x));
    /// assert!(x.t()?.view(6).is_err()); // needs a copy: use reshape
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Merges dims `start..=end` (inclusive, negative counts from the end) into one
    /// (`torch.flatten(x, start, end)`). A view when possible, like [`Tensor::reshape`].
    ///
    /// # Shapes
    /// `(d0, .., d_start, .., d_end, ..)` -> `(d0, .., d_start * .. * d_end, ..)`. A 0-d
    /// tensor becomes shape `(1)`.
    ///
    /// # Errors
    /// If a dim is out of range or `start` comes after `end`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3, 4, 5), DType::F32)?;
    /// assert_eq!(x.flatten(1, -1)?.dims(), &[2, 60]);
    /// assert_eq!(x.flatten(1, 2)?.dims(), &[2, 12, 5]);
    /// assert!(x.flatten(2, 1).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// All dims merged into one (`torch.flatten(x)` / `x.reshape(-1)`).
    ///
    /// # Shapes
    /// Any shape -> `(numel)`; a 0-d tensor becomes `(1)`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3, 4), DType::F32)?;
    /// assert_eq!(x.flatten_all()?.dims(), &[24]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn flatten_all(&self) -> Result<Tensor> {
        self.reshape(self.numel())
    }

    /// Removes `dim` if its size is 1, and otherwise returns the tensor unchanged, as
    /// `torch.squeeze(x, dim)` does. A view.
    ///
    /// # Shapes
    /// `(a, 1, b)` with `dim = 1` -> `(a, b)`.
    ///
    /// # Errors
    /// If `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 1, 3), DType::F32)?;
    /// assert_eq!(x.squeeze(1)?.dims(), &[2, 3]);
    /// assert_eq!(x.squeeze(0)?.dims(), &[2, 1, 3]); // size 2: unchanged
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn squeeze<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.resolve("squeeze", self.shape())?;
        if self.dims()[d] != 1 {
            return Ok(self.clone());
        }
        let mut dims = self.dims().to_vec();
        dims.remove(d);
        self.reshape(dims)
    }

    /// Removes every size-1 dim (`torch.squeeze(x)`). A view.
    ///
    /// # Shapes
    /// `(1, a, 1, b)` -> `(a, b)`; all ones -> a 0-d tensor.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((1, 2, 1, 3), DType::F32)?;
    /// assert_eq!(x.squeeze_all()?.dims(), &[2, 3]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn squeeze_all(&self) -> Result<Tensor> {
        let dims: Vec<usize> = self.dims().iter().copied().filter(|&d| d != 1).collect();
        self.reshape(dims)
    }

    /// Inserts a size-1 dim at position `dim` (`torch.unsqueeze`). A view.
    ///
    /// # Shapes
    /// `dim` ranges over `-(rank + 1)..=rank`; `-1` appends. `(a, b)` with `dim = 0` ->
    /// `(1, a, b)`, with `dim = -1` -> `(a, b, 1)`.
    ///
    /// # Errors
    /// If `dim` is out of that range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// assert_eq!(x.unsqueeze(0)?.dims(), &[1, 2, 3]);
    /// assert_eq!(x.unsqueeze(-1)?.dims(), &[2, 3, 1]);
    /// assert!(x.unsqueeze(3).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn unsqueeze<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = resolve_insert_dim("unsqueeze", dim, self.shape())?;
        let mut dims = self.dims().to_vec();
        dims.insert(d, 1);
        self.reshape(dims)
    }

    /// Reorders the dims: output dim `i` is input dim `perm[i]` (`torch.permute`). A view:
    /// only the strides change, so the result is usually not contiguous.
    ///
    /// Gradient: permuted back with the inverse permutation.
    ///
    /// # Shapes
    /// `perm` lists every dim exactly once; `(a, b, c)` with `perm = [2, 0, 1]` -> `(c, a, b)`.
    ///
    /// # Errors
    /// If `perm` has the wrong length, a dim out of range, or a repeated dim.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3, 4), DType::F32)?;
    /// let y = x.permute(&[2, 0, 1])?;
    /// assert_eq!(y.dims(), &[4, 2, 3]);
    /// assert!(y.shares_storage(&x) && !y.is_contiguous());
    /// assert!(x.permute(&[0, 0, 1]).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Swaps dims `d0` and `d1` (`torch.transpose`). A view.
    ///
    /// # Shapes
    /// `(a, b, c)` with `(0, 2)` -> `(c, b, a)`.
    ///
    /// # Errors
    /// If a dim is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// let y = x.transpose(0, 1)?;
    /// assert_eq!(y.dims(), &[3, 2]);
    /// assert_eq!(y.to_vec::<f32>()?, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// assert_eq!(x.transpose(-1, -2)?.dims(), &[3, 2]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn transpose<D: Dim>(&self, d0: D, d1: D) -> Result<Tensor> {
        let a = d0.resolve("transpose", self.shape())?;
        let b = d1.resolve("transpose", self.shape())?;
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Transpose of a matrix (`torch.t`); 0-d and 1-d tensors are returned unchanged. A view.
    ///
    /// # Shapes
    /// `(m, n)` -> `(n, m)`.
    ///
    /// # Errors
    /// If the tensor has more than 2 dims (use [`Tensor::transpose`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// assert_eq!(x.t()?.dims(), &[3, 2]);
    /// assert!(Tensor::zeros((2, 3, 4), DType::F32)?.t().is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// `len` entries of `dim` starting at `start` (`torch.narrow`). A view.
    ///
    /// Gradient: `g` placed back in that window, zeros elsewhere.
    ///
    /// # Shapes
    /// The size of `dim` becomes `len`; the other dims are unchanged.
    ///
    /// # Errors
    /// If `dim` is out of range or `start + len` exceeds the size of `dim`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// let y = x.narrow(1, 1, 2)?;
    /// assert_eq!(y.dims(), &[2, 2]);
    /// assert_eq!(y.to_vec::<f32>()?, vec![2.0, 3.0, 5.0, 6.0]);
    /// assert!(y.shares_storage(&x));
    /// assert!(x.narrow(1, 2, 2).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Entries `start..end` of `dim`, like Python's `x[:, start:end]`. A view.
    ///
    /// Like Python slicing, out-of-range bounds are clamped to the size of `dim` (and
    /// `start > end` gives an empty slice) instead of failing.
    ///
    /// # Shapes
    /// The size of `dim` becomes `min(end, size) - start`, or 0 when that is negative.
    ///
    /// # Errors
    /// If `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::arange(0.0, 5.0, 1.0, DType::F32)?;
    /// assert_eq!(x.slice(0, 1, 3)?.to_vec::<f32>()?, vec![1.0, 2.0]);
    /// assert_eq!(x.slice(0, 3, 100)?.to_vec::<f32>()?, vec![3.0, 4.0]);
    /// assert_eq!(x.slice(0, 4, 2)?.numel(), 0);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn slice<D: Dim>(&self, dim: D, start: usize, end: usize) -> Result<Tensor> {
        let d = dim.resolve("slice", self.shape())?;
        let end = end.min(self.dims()[d]);
        self.narrow(d, start.min(end), end.saturating_sub(start))
    }

    /// Entry `index` of `dim`, with that dim removed (`torch.select`; Python's `x[i]` for
    /// `dim = 0`). A view.
    ///
    /// # Shapes
    /// `(a, b, c)` with `dim = 1` -> `(a, c)`.
    ///
    /// # Errors
    /// If `dim` is out of range or `index >= size` of `dim` (negative indices are not
    /// supported).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// assert_eq!(x.select(0, 1)?.to_vec::<f32>()?, vec![3.0, 4.0]);
    /// assert_eq!(x.select(1, 0)?.to_vec::<f32>()?, vec![1.0, 3.0]);
    /// assert!(x.select(0, 2).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn select<D: Dim>(&self, dim: D, index: usize) -> Result<Tensor> {
        let d = dim.resolve("select", self.shape())?;
        self.narrow(d, index, 1)?.squeeze(d)
    }

    /// A view repeating size-1 dims to `shape` without copying (stride 0), as
    /// `Tensor.expand`; new leading dims may be added.
    ///
    /// Gradient: summed over the repeated dims back to the input's shape. NOTE: every entry of an
    /// expanded dim aliases the same element, so the result is not contiguous and cannot be
    /// updated in place.
    ///
    /// # Shapes
    /// `shape` has at least the input's rank; aligned from the right, each input size must
    /// equal the target size or be 1. Unlike PyTorch, `-1` ("keep") is not accepted: give the
    /// size.
    ///
    /// # Errors
    /// If the input has more dims than `shape`, or a size is neither 1 nor the target.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32], [2.0]])?; // (2, 1)
    /// let y = x.expand((3, 2, 4))?;
    /// assert_eq!(y.dims(), &[3, 2, 4]);
    /// assert_eq!(y.stride(), &[0, 1, 0]);
    /// assert_eq!(y.sum_all()?.to_vec::<f32>()?, vec![36.0]);
    /// assert!(x.expand((3, 4)).is_err()); // size 2 cannot become 3
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn expand(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape == *self.shape() {
            return Ok(self.clone());
        }
        let layout = self.layout().broadcast_to("expand", &shape)?;
        Ok(self.view_op(layout, || Op::Expand(self.clone())))
    }

    /// Same as [`Tensor::expand`]; reads better where broadcasting to another tensor's shape
    /// is meant.
    ///
    /// # Shapes
    /// As [`Tensor::expand`].
    ///
    /// # Errors
    /// As [`Tensor::expand`].
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let bias = Tensor::new(&[1.0f32, 2.0])?;
    /// let x = Tensor::zeros((3, 2), DType::F32)?;
    /// assert_eq!(bias.broadcast_as(x.shape())?.dims(), &[3, 2]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn broadcast_as(&self, shape: &Shape) -> Result<Tensor> {
        self.expand(shape)
    }

    /// The elements in fresh row-major storage (`Tensor.contiguous`), or `self` (no copy) when
    /// it is already contiguous and starts at offset 0.
    ///
    /// A view that is contiguous but starts later in its storage (e.g. a `narrow` of rows) is
    /// copied too. Gradient: passes through unchanged.
    ///
    /// # Shapes
    /// Same shape as the input.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// assert!(x.contiguous()?.shares_storage(&x));
    /// let t = x.t()?;
    /// assert!(!t.is_contiguous());
    /// let c = t.contiguous()?;
    /// assert!(c.is_contiguous() && !c.shares_storage(&x));
    /// assert_eq!(c.dims(), &[3, 2]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() && self.layout().offset() == 0 {
            return Ok(self.clone());
        }
        self.copy()
    }

    /// A copy in fresh contiguous storage (PyTorch's `Tensor.clone`; `Tensor::clone` in Rust only
    /// clones the handle).
    ///
    /// The copy stays in the graph: gradients flow through it to `self`.
    ///
    /// # Shapes
    /// Same shape as the input.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0])?;
    /// let y = x.copy()?;
    /// assert!(!y.shares_storage(&x));
    /// assert_eq!(y.to_vec::<f32>()?, vec![1.0, 2.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn copy(&self) -> Result<Tensor> {
        let storage = self.contiguous_storage();
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            &[self],
            || Op::Copy(self.clone()),
        ))
    }

    /// Joins tensors along an existing dim (`torch.cat`). Always copies.
    ///
    /// Gradient: each input receives its slice of `g` along `dim`.
    ///
    /// # Shapes
    /// All tensors have the same rank and dtype, and the same sizes except along `dim`, which
    /// is resolved against the first tensor; the output's `dim` is the sum of theirs.
    /// `(2, 3)` and `(4, 3)` on dim 0 -> `(6, 3)`.
    ///
    /// # Errors
    /// If the list is empty, the dtypes differ, the shapes do not match outside `dim`, or `dim`
    /// is out of range (0-d tensors cannot be concatenated).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[[1.0f32, 2.0]])?;
    /// let b = Tensor::new(&[[3.0f32, 4.0], [5.0, 6.0]])?;
    /// let c = Tensor::cat(&[a.clone(), b], 0)?;
    /// assert_eq!(c.dims(), &[3, 2]);
    /// assert_eq!(c.to_vec::<f32>()?, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// let d = Tensor::cat(&[a.clone(), a.clone()], 1)?;
    /// assert_eq!(d.to_vec::<f32>()?, vec![1.0, 2.0, 1.0, 2.0]);
    /// assert!(Tensor::cat(&[a, Tensor::zeros((1, 3), DType::F32)?], 0).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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
                    let mut out = crate::cpu::pool::take_empty(shape.numel());
                    let blocks: Vec<usize> = tensors
                        .iter()
                        .map(|t| t.dims()[d..].iter().product())
                        .collect();
                    for o in 0..outer {
                        for (p, &b) in parts.iter().zip(&blocks) {
                            out.extend_from_slice(&p[o * b..(o + 1) * b]);
                        }
                    }
                    parts.into_iter().for_each(crate::cpu::pool::recycle);
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

    /// Joins equal-shaped tensors along a new dim (`torch.stack`). Always copies.
    ///
    /// # Shapes
    /// `n` tensors of shape `s` give `s` with `n` inserted at `dim`, which ranges over
    /// `-(rank + 1)..=rank`: three `(2, 4)` tensors on dim 0 -> `(3, 2, 4)`, on dim -1 ->
    /// `(2, 4, 3)`.
    ///
    /// # Errors
    /// If the list is empty, the shapes or dtypes differ, or `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f32, 2.0])?;
    /// let b = Tensor::new(&[3.0f32, 4.0])?;
    /// let s = Tensor::stack(&[a.clone(), b.clone()], 0)?;
    /// assert_eq!(s.dims(), &[2, 2]);
    /// assert_eq!(s.to_vec::<f32>()?, vec![1.0, 2.0, 3.0, 4.0]);
    /// let s = Tensor::stack(&[a, b], -1)?;
    /// assert_eq!(s.to_vec::<f32>()?, vec![1.0, 3.0, 2.0, 4.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Splits into pieces of `size` entries along `dim`, the last possibly smaller
    /// (`torch.split` with an int). The pieces are views.
    ///
    /// # Shapes
    /// A dim of size `n` gives `ceil(n / size)` pieces. NOTE: a dim of size 0 gives no pieces,
    /// where PyTorch returns one empty tensor.
    ///
    /// # Errors
    /// If `size` is 0 or `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::arange(0.0, 5.0, 1.0, DType::F32)?;
    /// let parts = x.split(2, 0)?;
    /// let sizes: Vec<usize> = parts.iter().map(|p| p.dims()[0]).collect();
    /// assert_eq!(sizes, vec![2, 2, 1]);
    /// assert_eq!(parts[2].to_vec::<f32>()?, vec![4.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Splits into at most `chunks` nearly equal pieces along `dim` (`torch.chunk`). The pieces
    /// are views.
    ///
    /// # Shapes
    /// Each piece has `ceil(n / chunks)` entries, the last possibly fewer, so fewer than
    /// `chunks` pieces may come back (5 entries in 4 chunks gives sizes 2, 2, 1, as in PyTorch).
    ///
    /// # Errors
    /// If `chunks` is 0 or `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((6, 2), DType::F32)?;
    /// let parts = x.chunk(3, 0)?;
    /// assert_eq!(parts.len(), 3);
    /// assert!(parts.iter().all(|p| p.dims() == &[2, 2]));
    /// let five = Tensor::zeros(5, DType::F32)?;
    /// let sizes: Vec<usize> = five.chunk(4, 0)?.iter().map(|p| p.numel()).collect();
    /// assert_eq!(sizes, vec![2, 2, 1]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn chunk<D: Dim>(&self, chunks: usize, dim: D) -> Result<Vec<Tensor>> {
        let d = dim.resolve("chunk", self.shape())?;
        if chunks == 0 {
            return Err(Error::invalid("chunk", "number of chunks must be positive"));
        }
        let n = self.dims()[d];
        self.split(n.div_ceil(chunks).max(1), d)
    }

    /// Reverses a broadcast: sums `self` down to `shape` by summing away extra leading dims and
    /// the dims where `shape` has size 1. This is the gradient of [`Tensor::expand`].
    ///
    /// # Shapes
    /// `shape` must broadcast to `self`'s shape: `(4, 2, 3)` -> `(2, 1)` sums dim 0 and dim 2.
    ///
    /// # Errors
    /// If `shape` does not broadcast to `self`'s shape.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let g = Tensor::ones((4, 2, 3), DType::F32)?;
    /// let s = g.sum_to_shape(&[2usize, 1].into())?;
    /// assert_eq!(s.dims(), &[2, 1]);
    /// assert_eq!(s.to_vec::<f32>()?, vec![12.0, 12.0]);
    /// assert!(g.sum_to_shape(&[5usize].into()).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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
