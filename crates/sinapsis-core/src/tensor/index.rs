//! Indexing: gather, index_select, one_hot, and the scatter kernels their gradients use.

use super::Tensor;
use crate::autograd::{self, Op};
use crate::cpu::pool::{recycle, take_empty, take_zeroed};
use crate::cpu::strided::{for_each_run, to_contiguous};
use crate::layout::Layout;
use crate::shape::DimVec;
use crate::storage::CpuStorage;
use crate::{DType, Dim, Error, Result, Shape};

/// Reads an index tensor as i64 values, checking each against `bound`.
fn checked_indices(op: &'static str, index: &Tensor, bound: usize) -> Result<Vec<i64>> {
    if index.dtype() != DType::I64 {
        return Err(Error::dtype(op, "an i64 index tensor", index.dtype()));
    }
    let idx = index.to_vec::<i64>()?;
    if let Some(&bad) = idx.iter().find(|&&i| i < 0 || i as usize >= bound) {
        return Err(Error::invalid(
            op,
            format!("index {bad} is out of bounds for a dim of size {bound}"),
        ));
    }
    Ok(idx)
}

/// Writes rows `rows` of `x` (rows of `W` elements) one after another into `dst`.
fn copy_rows<T: Copy, const W: usize>(
    dst: &mut [std::mem::MaybeUninit<T>],
    x: &[T],
    rows: &[usize],
) {
    for (d, &r) in dst.chunks_exact_mut(W).zip(rows) {
        let src: &[T; W] = x[r * W..(r + 1) * W].try_into().expect("a whole row");
        for (d, &v) in d.iter_mut().zip(src) {
            d.write(v);
        }
    }
}

/// The elements of `v` at `offs`, in a buffer from the cache.
fn pick<T: Copy + Send + 'static>(v: &[T], offs: &[usize]) -> Vec<T> {
    let mut out = take_empty(offs.len());
    out.extend(offs.iter().map(|&o| v[o]));
    out
}

/// For `gather`/`scatter_add`: storage offsets in `target` (a layout with `index`'s shape
/// except along `dim`) for every position of `index`, in row-major order, with the index
/// value applied along `dim`.
fn gather_offsets(target: &Layout, index_shape: &Shape, dim: usize, idx: &[i64]) -> Vec<usize> {
    let mut strides: DimVec = target.strides().into();
    let dim_stride = strides[dim];
    strides[dim] = 0;
    let mut out = Vec::with_capacity(idx.len());
    for_each_run(
        index_shape.dims(),
        [&strides],
        [target.offset()],
        |[o], len, [s]| out.extend((0..len).map(|i| o + i * s)),
    );
    for (o, &i) in out.iter_mut().zip(idx) {
        *o += i as usize * dim_stride;
    }
    out
}

fn check_gather_shapes(op: &'static str, x: &Shape, index: &Shape, dim: usize) -> Result<()> {
    let ok = x.rank() == index.rank()
        && x.dims()
            .iter()
            .zip(index.dims())
            .enumerate()
            .all(|(d, (&a, &b))| d == dim || b <= a);
    if !ok {
        return Err(Error::shape(
            op,
            format!(
                "index {index} does not fit input {x} (same rank; sizes no larger except in \
                 dim {dim})"
            ),
        ));
    }
    Ok(())
}

impl Tensor {
    /// Picks values along `dim` by `index` (`torch.gather`): for `dim = 1`,
    /// `out[i][j] = x[i][index[i][j]]`.
    ///
    /// The typical use is picking each row's target-class score. Gradient: scatter-added back
    /// to the picked positions (an index that repeats accumulates).
    ///
    /// # Shapes
    /// `index` has the input's rank and, in every dim other than `dim`, a size no larger than
    /// the input's; the output has `index`'s shape and the input's dtype.
    ///
    /// # Errors
    /// If `index` is not i64, holds a value outside `0..size(dim)`, does not fit the shape
    /// rule above, or `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?.requires_grad_(true)?;
    /// let i = Tensor::new(&[[1i64, 1], [0, 1]])?;
    /// let y = x.gather(1, &i)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![2.0, 2.0, 3.0, 4.0]);
    /// y.sum_all()?.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>()?, vec![0.0, 2.0, 1.0, 1.0]);
    /// assert!(x.gather(1, &Tensor::new(&[[2i64], [0]])?).is_err()); // out of bounds
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn gather<D: Dim>(&self, dim: D, index: &Tensor) -> Result<Tensor> {
        let d = dim.resolve("gather", self.shape())?;
        check_gather_shapes("gather", self.shape(), index.shape(), d)?;
        let idx = checked_indices("gather", index, self.dims()[d])?;
        let offs = gather_offsets(self.layout(), index.shape(), d, &idx);
        let storage = self.with_cpu(|s, _| match s {
            CpuStorage::F32(v) => CpuStorage::F32(pick(v, &offs)),
            CpuStorage::F64(v) => CpuStorage::F64(pick(v, &offs)),
            CpuStorage::I64(v) => CpuStorage::I64(pick(v, &offs)),
            CpuStorage::Bool(v) => CpuStorage::Bool(pick(v, &offs)),
        });
        Ok(Tensor::from_op(
            storage,
            index.shape().clone(),
            &[self],
            || Op::Gather {
                x: self.clone(),
                dim: d,
                index: index.clone(),
            },
        ))
    }

    /// Zeros of `shape` with `src` added at the positions `index` names along `dim`
    /// (`zeros.scatter_add_(dim, index, src)`): the gradient of `gather`.
    pub(crate) fn scatter_add_into(
        shape: &Shape,
        dim: usize,
        index: &Tensor,
        src: &Tensor,
    ) -> Result<Tensor> {
        let idx = checked_indices("scatter_add", index, shape.dims()[dim])?;
        let target = Layout::contiguous(shape.clone());
        let offs = gather_offsets(&target, index.shape(), dim, &idx);
        fn go<T: crate::FloatElem>(src: &[T], l: &Layout, offs: &[usize], n: usize) -> Vec<T> {
            let mut out = take_zeroed(n, T::zero());
            let g = to_contiguous(src, l);
            for (&o, &v) in offs.iter().zip(&g) {
                out[o] += v;
            }
            recycle(g);
            out
        }
        let n = shape.numel();
        let storage = src.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => Ok(CpuStorage::F32(go(v, l, &offs, n))),
            CpuStorage::F64(v) => Ok(CpuStorage::F64(go(v, l, &offs, n))),
            other => Err(Error::dtype("scatter_add", "a float tensor", other.dtype())),
        })?;
        Ok(Tensor::from_storage(storage, shape.clone()))
    }

    /// The entries of `dim` listed in `index`, in that order (`torch.index_select`); an index
    /// may repeat. Copies.
    ///
    /// Gradient: index-added back (repeated indices accumulate), e.g. for an embedding lookup.
    ///
    /// # Shapes
    /// `index` is 1-d (or 0-d) with `k` entries; the output is the input with the size of
    /// `dim` replaced by `k`: `(n, d)` along 0 with `k` indices -> `(k, d)`.
    ///
    /// # Errors
    /// If `index` is not i64 or has more than one dim, holds a value outside `0..size(dim)`,
    /// or `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let table = Tensor::new(&[[0.0f32, 0.5], [1.0, 1.5], [2.0, 2.5]])?;
    /// let rows = table.index_select(0, &Tensor::new(&[2i64, 0, 2])?)?;
    /// assert_eq!(rows.dims(), &[3, 2]);
    /// assert_eq!(rows.to_vec::<f32>()?, vec![2.0, 2.5, 0.0, 0.5, 2.0, 2.5]);
    /// let cols = table.index_select(1, &Tensor::new(&[1i64])?)?;
    /// assert_eq!(cols.to_vec::<f32>()?, vec![0.5, 1.5, 2.5]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn index_select<D: Dim>(&self, dim: D, index: &Tensor) -> Result<Tensor> {
        let d = dim.resolve("index_select", self.shape())?;
        if index.rank() > 1 {
            return Err(Error::shape(
                "index_select",
                format!("index must be 1-d, got shape {}", index.shape()),
            ));
        }
        let idx = checked_indices("index_select", index, self.dims()[d])?;
        let outer: usize = self.dims()[..d].iter().product();
        let inner: usize = self.dims()[d + 1..].iter().product();
        let size = self.dims()[d];
        let mut out_dims = self.dims().to_vec();
        out_dims[d] = idx.len();
        fn go<T: Copy + Send + Sync + 'static>(
            v: &[T],
            l: &Layout,
            idx: &[i64],
            outer: usize,
            size: usize,
            inner: usize,
        ) -> Vec<T> {
            // NOTE: a contiguous source is read in place; copying it whole first would cost a
            // full pass over, say, all of MNIST for every batch a data loader gathers.
            let copied;
            let x: &[T] = match l.contiguous_range() {
                Some(r) => &v[r],
                None => {
                    copied = to_contiguous(v, l);
                    &copied
                }
            };
            // NOTE: rows are copied element by element into the spare capacity rather than
            // with `extend_from_slice`: a data loader gathers short rows (2 features of the
            // circles data), where one `memcpy` call per row cost ~30 instructions for 8
            // bytes; long rows still compile to a vectorised copy.
            let total = outer * idx.len() * inner;
            let mut out = take_empty(total);
            if total == 0 {
                return out;
            }
            let spare = &mut out.spare_capacity_mut()[..total];
            let mut rows = spare.chunks_exact_mut(inner);
            for o in 0..outer {
                for &i in idx {
                    let start = (o * size + i as usize) * inner;
                    let row = rows.next().expect("one output row per index");
                    for (d, &v) in row.iter_mut().zip(&x[start..start + inner]) {
                        d.write(v);
                    }
                }
            }
            // SAFETY: the loops wrote each of the `total` elements (one row of `inner` per
            // (outer, index) pair, in order).
            unsafe { out.set_len(total) };
            out
        }
        let storage = self.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => CpuStorage::F32(go(v, l, &idx, outer, size, inner)),
            CpuStorage::F64(v) => CpuStorage::F64(go(v, l, &idx, outer, size, inner)),
            CpuStorage::I64(v) => CpuStorage::I64(go(v, l, &idx, outer, size, inner)),
            CpuStorage::Bool(v) => CpuStorage::Bool(go(v, l, &idx, outer, size, inner)),
        });
        Ok(Tensor::from_op(
            storage,
            Shape::from(out_dims),
            &[self],
            || Op::IndexSelect {
                x: self.clone(),
                dim: d,
                index: index.clone(),
            },
        ))
    }

    /// The rows (entries of dim 0) at `rows`, in that order: `index_select(0, rows)` with the
    /// indices given as a slice, so a data loader gathering a batch builds no index tensor.
    /// Copies; an index may repeat.
    ///
    /// Gradient: as `index_select`'s (the index tensor is only built when a graph is
    /// recorded).
    ///
    /// # Shapes
    /// `(n, ...)` with `k` indices -> `(k, ...)`; the input must have at least one dim.
    ///
    /// # Errors
    /// If the tensor is 0-d or an index is `>= n`.
    ///
    /// ```
    /// use sinapsis_core::Tensor;
    /// let table = Tensor::new(&[[0.0f32, 0.5], [1.0, 1.5], [2.0, 2.5]])?;
    /// let batch = table.take_rows(&[2, 0, 2])?;
    /// assert_eq!(batch.to_vec::<f32>()?, vec![2.0, 2.5, 0.0, 0.5, 2.0, 2.5]);
    /// assert!(table.take_rows(&[3]).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn take_rows(&self, rows: &[usize]) -> Result<Tensor> {
        const OP: &str = "take_rows";
        let Some(&n) = self.dims().first() else {
            return Err(Error::shape(OP, "a 0-d tensor has no rows"));
        };
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            return Err(Error::invalid(
                OP,
                format!("row {bad} is out of bounds for a tensor of {n} rows"),
            ));
        }
        if autograd::should_record(&[self]) || !self.is_contiguous() {
            let index: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
            return self.index_select(0, &Tensor::from_vec(index, rows.len())?);
        }
        let inner: usize = self.dims()[1..].iter().product();
        fn go<T: Copy + Send + Sync + 'static>(x: &[T], rows: &[usize], inner: usize) -> Vec<T> {
            let total = rows.len() * inner;
            let mut out = take_empty(total);
            if total == 0 {
                return out;
            }
            // Element copies into the spare capacity, as in `index_select`: a `memcpy` call
            // per row costs more than the copy for rows of a few features, and rows of 1-4
            // (a label, the 2 features of the circles data) copy as fixed-size arrays.
            let spare = &mut out.spare_capacity_mut()[..total];
            match inner {
                1 => copy_rows::<T, 1>(spare, x, rows),
                2 => copy_rows::<T, 2>(spare, x, rows),
                3 => copy_rows::<T, 3>(spare, x, rows),
                4 => copy_rows::<T, 4>(spare, x, rows),
                _ => {
                    for (dst, &r) in spare.chunks_exact_mut(inner).zip(rows) {
                        for (d, &v) in dst.iter_mut().zip(&x[r * inner..(r + 1) * inner]) {
                            d.write(v);
                        }
                    }
                }
            }
            // SAFETY: one row of `inner` elements was written per index, `total` in all.
            unsafe { out.set_len(total) };
            out
        }
        let range = self
            .layout()
            .contiguous_range()
            .expect("checked contiguous");
        let storage = self.with_cpu(|s, _| match s {
            CpuStorage::F32(v) => CpuStorage::F32(go(&v[range], rows, inner)),
            CpuStorage::F64(v) => CpuStorage::F64(go(&v[range], rows, inner)),
            CpuStorage::I64(v) => CpuStorage::I64(go(&v[range], rows, inner)),
            CpuStorage::Bool(v) => CpuStorage::Bool(go(&v[range], rows, inner)),
        });
        let mut dims = DimVec::from_slice(self.dims());
        dims[0] = rows.len();
        Ok(Tensor::from_storage(storage, Shape(dims)))
    }

    /// Zeros of `shape` with the slices of `src` added at the positions `index` names along
    /// `dim`: the gradient of `index_select` (repeated indices accumulate).
    pub(crate) fn index_add_into(
        shape: &Shape,
        dim: usize,
        index: &Tensor,
        src: &Tensor,
    ) -> Result<Tensor> {
        let idx = checked_indices("index_add", index, shape.dims()[dim])?;
        let outer: usize = shape.dims()[..dim].iter().product();
        let inner: usize = shape.dims()[dim + 1..].iter().product();
        let size = shape.dims()[dim];
        fn go<T: crate::FloatElem>(
            v: &[T],
            l: &Layout,
            idx: &[i64],
            outer: usize,
            size: usize,
            inner: usize,
        ) -> Vec<T> {
            let g = to_contiguous(v, l);
            let mut out = take_zeroed(outer * size * inner, T::zero());
            for o in 0..outer {
                for (j, &i) in idx.iter().enumerate() {
                    let dst = (o * size + i as usize) * inner;
                    let src = (o * idx.len() + j) * inner;
                    for k in 0..inner {
                        out[dst + k] += g[src + k];
                    }
                }
            }
            recycle(g);
            out
        }
        let storage = src.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => Ok(CpuStorage::F32(go(v, l, &idx, outer, size, inner))),
            CpuStorage::F64(v) => Ok(CpuStorage::F64(go(v, l, &idx, outer, size, inner))),
            other => Err(Error::dtype("index_add", "a float tensor", other.dtype())),
        })?;
        Ok(Tensor::from_storage(storage, shape.clone()))
    }

    /// One-hot encoding of i64 class labels (`torch.nn.functional.one_hot`), as i64.
    ///
    /// `num_classes` must be given (PyTorch's `-1`, "infer from the largest label", is not
    /// supported); cast the result with [`Tensor::to_dtype`] for float targets. Not
    /// differentiable.
    ///
    /// # Shapes
    /// Any shape `s` -> `(*s, num_classes)`.
    ///
    /// # Errors
    /// If the tensor is not i64 or a label is outside `0..num_classes`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let labels = Tensor::new(&[2i64, 0])?;
    /// let h = labels.one_hot(3)?;
    /// assert_eq!(h.dims(), &[2, 3]);
    /// assert_eq!(h.to_vec::<i64>()?, vec![0, 0, 1, 1, 0, 0]);
    /// assert!(labels.one_hot(2).is_err()); // label 2 does not fit 2 classes
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn one_hot(&self, num_classes: usize) -> Result<Tensor> {
        let idx = checked_indices("one_hot", self, num_classes)?;
        let mut out = vec![0i64; idx.len() * num_classes];
        for (row, &i) in idx.iter().enumerate() {
            out[row * num_classes + i as usize] = 1;
        }
        let mut dims = self.dims().to_vec();
        dims.push(num_classes);
        Tensor::from_vec(out, dims)
    }
}
