//! Reductions over any dims, with keepdim on or off, and full reductions.

use super::Tensor;
use crate::autograd::Op;
use crate::cpu::reduce as k;
use crate::shape::DimVec;
use crate::storage::CpuStorage;
use crate::{DType, Dim, Dims, Error, FloatElem, Result, Shape};

impl Tensor {
    /// Resolves `dims`; an empty list means every dim, as in PyTorch.
    fn reduce_dims(&self, op: &'static str, dims: &impl Dims) -> Result<DimVec> {
        let d = dims.resolve(op, self.shape())?;
        Ok(if d.is_empty() {
            (0..self.rank()).collect()
        } else {
            d
        })
    }

    fn keepdim_shape(&self, dims: &[usize]) -> Shape {
        Shape(
            self.dims()
                .iter()
                .enumerate()
                .map(|(i, &d)| if dims.contains(&i) { 1 } else { d })
                .collect(),
        )
    }

    fn drop_dims(&self, t: Tensor, dims: &[usize], keepdim: bool) -> Result<Tensor> {
        if keepdim {
            return Ok(t);
        }
        let shape: Vec<usize> = self
            .dims()
            .iter()
            .enumerate()
            .filter(|(i, _)| !dims.contains(i))
            .map(|(_, &d)| d)
            .collect();
        t.reshape(shape)
    }

    /// Sum over `dims`, keeping them as size-1 dims.
    pub(crate) fn sum_keepdim(&self, dims: &[usize]) -> Result<Tensor> {
        let shape = self.keepdim_shape(dims);
        let storage = self.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => Ok(CpuStorage::F32(k::sum(v, l, dims))),
            CpuStorage::F64(v) => Ok(CpuStorage::F64(k::sum(v, l, dims))),
            CpuStorage::I64(v) => Ok(CpuStorage::I64(k::sum(v, l, dims))),
            // Counting the true entries, as PyTorch's bool sum does (result i64).
            CpuStorage::Bool(v) => Ok(CpuStorage::I64(k::sum(
                &crate::cpu::strided::map(v, l, i64::from),
                &crate::Layout::contiguous(self.shape().clone()),
                dims,
            ))),
        })?;
        Ok(Tensor::from_op(storage, shape, &[self], || {
            Op::Sum(self.clone())
        }))
    }

    /// Sum over `dims` (`torch.sum(x, dims, keepdim)`).
    ///
    /// Works on f32, f64 and i64. Gradient: `g` broadcast back over the reduced dims.
    ///
    /// # Shapes
    /// `dims` is a list such as `&[0]`, `[-1]` or `vec![1, 2]` (negative counts from the end); an
    /// empty list reduces every dim. With `keepdim` the reduced dims stay as size 1 (so the
    /// result broadcasts against the input); without it they are removed: `(2, 3, 4)` over
    /// `&[1]` -> `(2, 1, 4)` or `(2, 4)`.
    ///
    /// # Errors
    /// If a dim is out of range or repeated. A bool tensor sums to an i64 count of its true
    /// entries, as in PyTorch.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// assert_eq!(x.sum(&[0], false)?.to_vec::<f32>()?, vec![4.0, 6.0]);
    /// assert_eq!(x.sum(&[-1], false)?.to_vec::<f32>()?, vec![3.0, 7.0]);
    /// assert_eq!(x.sum(&[1], true)?.dims(), &[2, 1]);
    /// let all = x.sum(Vec::<i64>::new(), false)?; // empty list: every dim
    /// assert_eq!((all.dims().len(), all.to_vec::<f32>()?), (0, vec![10.0]));
    /// let counts = Tensor::new(&[true, false, true])?.to_dtype(DType::I64)?;
    /// assert_eq!(counts.sum(&[0], false)?.item::<i64>()?, 2);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn sum(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        let d = self.reduce_dims("sum", &dims)?;
        let s = self.sum_keepdim(&d)?;
        self.drop_dims(s, &d, keepdim)
    }

    /// Sum of every element, as a 0-d tensor (`x.sum()`).
    ///
    /// # Shapes
    /// Any shape -> `()`.
    ///
    /// A bool tensor gives the i64 count of its true entries.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// let s = x.sum_all()?;
    /// assert_eq!(s.dims(), &[] as &[usize]);
    /// assert_eq!(s.item::<f32>()?, 10.0);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn sum_all(&self) -> Result<Tensor> {
        let d: DimVec = (0..self.rank()).collect();
        self.sum_keepdim(&d)?.reshape(())
    }

    /// Mean over `dims` (`torch.mean(x, dims, keepdim)`): the sum divided by the number of
    /// elements reduced. The mean of an empty group is NaN.
    ///
    /// NOTE: the division is a multiplication by `1 / n` (see [`Tensor::div_scalar`]).
    ///
    /// # Shapes
    /// `dims` is a list such as `&[0]`, `[-1]` or `vec![1, 2]` (negative counts from the end); an
    /// empty list reduces every dim. With `keepdim` the reduced dims stay as size 1 (so the
    /// result broadcasts against the input); without it they are removed: `(2, 3, 4)` over
    /// `&[1]` -> `(2, 1, 4)` or `(2, 4)`.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64, or a dim is out of range or repeated.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// assert_eq!(x.mean(&[0], false)?.to_vec::<f32>()?, vec![2.0, 3.0]);
    /// assert_eq!(x.mean(&[0, 1], true)?.dims(), &[1, 1]);
    /// assert!(Tensor::new(&[1i64, 2])?.mean(&[0], false).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn mean(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.check_float("mean")?;
        let d = self.reduce_dims("mean", &dims)?;
        let n = k::group_len(self.layout(), &d);
        self.sum(&d[..], keepdim)?.div_scalar(n as f64)
    }

    /// Mean of every element, as a 0-d tensor (`x.mean()`); NaN for an empty tensor.
    ///
    /// # Shapes
    /// Any shape -> `()`.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// assert_eq!(x.mean_all()?.item::<f32>()?, 2.5);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn mean_all(&self) -> Result<Tensor> {
        self.check_float("mean")?;
        self.sum_all()?.div_scalar(self.numel() as f64)
    }

    fn extremum(
        &self,
        op: &'static str,
        dims: &impl Dims,
        keepdim: bool,
        max: bool,
    ) -> Result<Tensor> {
        let d = self.reduce_dims(op, dims)?;
        if d.iter().any(|&i| self.dims()[i] == 0) {
            return Err(Error::shape(
                op,
                format!("cannot reduce over a dim of size 0 in {}", self.shape()),
            ));
        }
        let shape = self.keepdim_shape(&d);
        fn go<T: FloatElem>(v: &[T], l: &crate::Layout, d: &[usize], max: bool) -> Vec<T> {
            if max {
                k::fold(v, l, d, T::NEG_INFINITY, T::max)
            } else {
                k::fold(v, l, d, T::INFINITY, T::min)
            }
        }
        let storage = self.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => Ok(CpuStorage::F32(go(v, l, &d, max))),
            CpuStorage::F64(v) => Ok(CpuStorage::F64(go(v, l, &d, max))),
            CpuStorage::I64(v) => Ok(CpuStorage::I64(if max {
                k::fold(v, l, &d, i64::MIN, i64::max)
            } else {
                k::fold(v, l, &d, i64::MAX, i64::min)
            })),
            CpuStorage::Bool(_) => Err(Error::dtype(op, "a numeric tensor", DType::Bool)),
        })?;
        let t = Tensor::from_op(storage, shape, &[self], || Op::Extremum(self.clone()));
        self.drop_dims(t, &d, keepdim)
    }

    /// Maximum over `dims` (`torch.amax`); NaN propagates.
    ///
    /// Gradient: split evenly among the elements that tie for the maximum (PyTorch's `amax`
    /// convention; see [`Tensor::max_dim`] for the index-based one).
    ///
    /// # Shapes
    /// `dims` is a list such as `&[0]`, `[-1]` or `vec![1, 2]` (negative counts from the end); an
    /// empty list reduces every dim. With `keepdim` the reduced dims stay as size 1 (so the
    /// result broadcasts against the input); without it they are removed: `(2, 3, 4)` over
    /// `&[1]` -> `(2, 1, 4)` or `(2, 4)`.
    ///
    /// # Errors
    /// If a reduced dim has size 0, a dim is out of range or repeated, or the tensor is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f64, 5.0], [5.0, 2.0]])?;
    /// assert_eq!(x.amax(&[1], false)?.to_vec::<f64>()?, vec![5.0, 5.0]);
    /// assert_eq!(x.amax(&[0], true)?.dims(), &[1, 2]);
    /// // Ties share the gradient.
    /// let t = Tensor::new(&[3.0f64, 1.0, 3.0])?.requires_grad_(true)?;
    /// t.amax(&[0], false)?.backward()?;
    /// assert_eq!(t.grad().unwrap().to_vec::<f64>()?, vec![0.5, 0.0, 0.5]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn amax(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.extremum("amax", &dims, keepdim, true)
    }

    /// Minimum over `dims` (`torch.amin`); NaN propagates.
    ///
    /// Gradient: split evenly among the elements that tie for the minimum.
    ///
    /// # Shapes
    /// `dims` is a list such as `&[0]`, `[-1]` or `vec![1, 2]` (negative counts from the end); an
    /// empty list reduces every dim. With `keepdim` the reduced dims stay as size 1 (so the
    /// result broadcasts against the input); without it they are removed: `(2, 3, 4)` over
    /// `&[1]` -> `(2, 1, 4)` or `(2, 4)`.
    ///
    /// # Errors
    /// If a reduced dim has size 0, a dim is out of range or repeated, or the tensor is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f64, 5.0], [5.0, 2.0]])?;
    /// assert_eq!(x.amin(&[1], false)?.to_vec::<f64>()?, vec![1.0, 2.0]);
    /// assert_eq!(x.amin(&[0], false)?.to_vec::<f64>()?, vec![1.0, 2.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn amin(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.extremum("amin", &dims, keepdim, false)
    }

    /// Largest element, as a 0-d tensor (`x.max()` with no dim); NaN propagates.
    ///
    /// Gradient: split evenly among the elements that tie for the maximum, as in PyTorch.
    ///
    /// # Shapes
    /// Any shape -> `()`.
    ///
    /// # Errors
    /// If the tensor is empty or bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[2.0f64, 7.0, 7.0, 1.0])?.requires_grad_(true)?;
    /// let m = x.max_all()?;
    /// assert_eq!(m.item::<f64>()?, 7.0);
    /// m.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>()?, vec![0.0, 0.5, 0.5, 0.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn max_all(&self) -> Result<Tensor> {
        self.extremum("max", &Vec::<usize>::new(), false, true)
    }

    /// Smallest element, as a 0-d tensor (`x.min()` with no dim); NaN propagates.
    ///
    /// Gradient: split evenly among the elements that tie for the minimum.
    ///
    /// # Shapes
    /// Any shape -> `()`.
    ///
    /// # Errors
    /// If the tensor is empty or bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[2i64, -3], [4, 0]])?;
    /// assert_eq!(x.min_all()?.item::<i64>()?, -3);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn min_all(&self) -> Result<Tensor> {
        self.extremum("min", &Vec::<usize>::new(), false, false)
    }

    fn arg_extreme(
        &self,
        op: &'static str,
        dim: usize,
        keepdim: bool,
        max: bool,
    ) -> Result<Tensor> {
        if self.dims()[dim] == 0 {
            return Err(Error::shape(
                op,
                format!("cannot reduce over dim {dim} of size 0 in {}", self.shape()),
            ));
        }
        fn go<T: Copy + PartialOrd>(v: &[T], l: &crate::Layout, d: usize, max: bool) -> Vec<i64> {
            if max {
                k::arg_extreme(v, l, d, |a, b| a > b)
            } else {
                k::arg_extreme(v, l, d, |a, b| a < b)
            }
        }
        let idx = self.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => Ok(go(v, l, dim, max)),
            CpuStorage::F64(v) => Ok(go(v, l, dim, max)),
            CpuStorage::I64(v) => Ok(go(v, l, dim, max)),
            CpuStorage::Bool(_) => Err(Error::dtype(op, "a numeric tensor", DType::Bool)),
        })?;
        let t = Tensor::from_vec_shape(idx, self.keepdim_shape(&[dim]));
        self.drop_dims(t, &[dim], keepdim)
    }

    /// Index of the maximum along `dim`, as i64 (`torch.argmax`); the first one wins on ties,
    /// and NaN counts as the maximum, as in PyTorch. Not differentiable.
    ///
    /// # Shapes
    /// `dim` is removed, or kept as size 1 with `keepdim`: `(2, 3)` along `1` -> `(2)`.
    ///
    /// # Errors
    /// If `dim` is out of range or has size 0, or the tensor is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 3.0, 3.0], [4.0, 0.0, 2.0]])?;
    /// let i = x.argmax(1, false)?;
    /// assert_eq!(i.dtype(), DType::I64);
    /// assert_eq!(i.to_vec::<i64>()?, vec![1, 0]);
    /// assert_eq!(x.argmax(-1, true)?.dims(), &[2, 1]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn argmax<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.resolve("argmax", self.shape())?;
        self.arg_extreme("argmax", d, keepdim, true)
    }

    /// Index of the minimum along `dim`, as i64 (`torch.argmin`); the first one wins on ties,
    /// and NaN counts as the minimum, as in PyTorch. Not differentiable.
    ///
    /// # Shapes
    /// As [`Tensor::argmax`].
    ///
    /// # Errors
    /// If `dim` is out of range or has size 0, or the tensor is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 3.0, 3.0], [4.0, 0.0, 2.0]])?;
    /// assert_eq!(x.argmin(1, false)?.to_vec::<i64>()?, vec![0, 1]);
    /// assert_eq!(x.argmin(0, false)?.to_vec::<i64>()?, vec![0, 1, 1]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn argmin<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.resolve("argmin", self.shape())?;
        self.arg_extreme("argmin", d, keepdim, false)
    }

    /// Maximum values along `dim` and their i64 indices (`torch.max(x, dim, keepdim)`).
    ///
    /// Indices follow [`Tensor::argmax`] (first of ties). Gradient: all of it goes to the
    /// returned index, not split among ties (unlike [`Tensor::amax`]), as in PyTorch.
    ///
    /// # Shapes
    /// Both outputs drop `dim`, or keep it as size 1 with `keepdim`.
    ///
    /// # Errors
    /// If `dim` is out of range or has size 0, or the tensor is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f64, 3.0, 3.0], [4.0, 0.0, 2.0]])?.requires_grad_(true)?;
    /// let (values, indices) = x.max_dim(1, false)?;
    /// assert_eq!(values.to_vec::<f64>()?, vec![3.0, 4.0]);
    /// assert_eq!(indices.to_vec::<i64>()?, vec![1, 0]);
    /// values.sum_all()?.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>()?, vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn max_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let d = dim.resolve("max", self.shape())?;
        let idx = self.arg_extreme("max", d, true, true)?;
        let values = self.gather(d, &idx)?;
        Ok((
            self.drop_dims(values, &[d], keepdim)?,
            self.drop_dims(idx, &[d], keepdim)?,
        ))
    }

    /// Minimum values along `dim` and their i64 indices (`torch.min(x, dim, keepdim)`).
    ///
    /// Indices follow [`Tensor::argmin`] (first of ties); the gradient goes to the returned index.
    ///
    /// # Shapes
    /// As [`Tensor::max_dim`].
    ///
    /// # Errors
    /// If `dim` is out of range or has size 0, or the tensor is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 3.0, 0.0], [4.0, 0.0, 2.0]])?;
    /// let (values, indices) = x.min_dim(1, true)?;
    /// assert_eq!(values.dims(), &[2, 1]);
    /// assert_eq!(values.to_vec::<f32>()?, vec![0.0, 0.0]);
    /// assert_eq!(indices.to_vec::<i64>()?, vec![2, 1]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn min_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let d = dim.resolve("min", self.shape())?;
        let idx = self.arg_extreme("min", d, true, false)?;
        let values = self.gather(d, &idx)?;
        Ok((
            self.drop_dims(values, &[d], keepdim)?,
            self.drop_dims(idx, &[d], keepdim)?,
        ))
    }

    /// `log(sum(exp(x)))` over `dims` (`torch.logsumexp`), stable for large `|x|`.
    ///
    /// NOTE: the maximum is subtracted before `exp` and added back after `log`; it is treated
    /// as a constant for autograd, so the gradient is exactly `softmax(x) * g`. An all `-inf`
    /// group gives `-inf`.
    ///
    /// # Shapes
    /// `dims` is a list such as `&[0]`, `[-1]` or `vec![1, 2]` (negative counts from the end); an
    /// empty list reduces every dim. With `keepdim` the reduced dims stay as size 1 (so the
    /// result broadcasts against the input); without it they are removed: `(2, 3, 4)` over
    /// `&[1]` -> `(2, 1, 4)` or `(2, 4)`.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64, or a dim is out of range or repeated.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[0.0f64, 0.0], [1000.0, 1000.0]])?;
    /// let y = x.logsumexp(&[1], false)?.to_vec::<f64>()?;
    /// let ln2 = std::f64::consts::LN_2;
    /// assert!((y[0] - ln2).abs() < 1e-12);
    /// assert!((y[1] - (1000.0 + ln2)).abs() < 1e-9); // exp(1000) alone would overflow
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn logsumexp(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.check_float("logsumexp")?;
        let d = self.reduce_dims("logsumexp", &dims)?;
        // NOTE: the shift is a constant for autograd; an infinite max (all -inf, or +inf) is
        // replaced by 0 so the shift itself cannot produce NaN.
        let m = self.amax(&d[..], true)?.detach();
        let finite = m.abs()?.lt_scalar(f64::INFINITY)?;
        let m = Tensor::where_cond(&finite, &m, &m.zeros_like()?)?;
        let s = self.sub(&m)?.exp()?.sum(&d[..], true)?.log()?.add(&m)?;
        self.drop_dims(s, &d, keepdim)
    }

    /// Variance over `dims` (`torch.var(x, dims, correction=correction, keepdim)`): the sum of
    /// squared deviations from the mean divided by `n - correction`.
    ///
    /// `correction = 1` is Bessel's unbiased estimate (PyTorch's default), `0` the population
    /// variance. When `n <= correction` the divisor is 0 and the result is `inf` or NaN, as in
    /// PyTorch.
    ///
    /// # Shapes
    /// `dims` is a list such as `&[0]`, `[-1]` or `vec![1, 2]` (negative counts from the end); an
    /// empty list reduces every dim. With `keepdim` the reduced dims stay as size 1 (so the
    /// result broadcasts against the input); without it they are removed: `(2, 3, 4)` over
    /// `&[1]` -> `(2, 1, 4)` or `(2, 4)`.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64, or a dim is out of range or repeated.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f64, 2.0, 3.0, 4.0])?;
    /// assert_eq!(x.var(&[0], 0, false)?.item::<f64>()?, 1.25);
    /// let unbiased = x.var(&[0], 1, false)?.item::<f64>()?;
    /// assert!((unbiased - 5.0 / 3.0).abs() < 1e-12);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn var(&self, dims: impl Dims, correction: usize, keepdim: bool) -> Result<Tensor> {
        self.check_float("var")?;
        let d = self.reduce_dims("var", &dims)?;
        let n = k::group_len(self.layout(), &d);
        let centered = self.sub(&self.mean(&d[..], true)?)?;
        let dof = n as f64 - correction as f64;
        let ss = centered.square()?.sum(&d[..], keepdim)?;
        ss.div_scalar(dof.max(0.0))
    }

    /// Standard deviation over `dims`: the square root of [`Tensor::var`] with the same
    /// `correction` (`torch.std`).
    ///
    /// The gradient is NaN where the deviation is 0 (a constant group), as in PyTorch.
    ///
    /// # Shapes
    /// `dims` is a list such as `&[0]`, `[-1]` or `vec![1, 2]` (negative counts from the end); an
    /// empty list reduces every dim. With `keepdim` the reduced dims stay as size 1 (so the
    /// result broadcasts against the input); without it they are removed: `(2, 3, 4)` over
    /// `&[1]` -> `(2, 1, 4)` or `(2, 4)`.
    ///
    /// # Errors
    /// As [`Tensor::var`].
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f64, 3.0], [2.0, 2.0]])?;
    /// let s = x.std(&[1], 0, false)?.to_vec::<f64>()?;
    /// assert_eq!(s, vec![1.0, 0.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn std(&self, dims: impl Dims, correction: usize, keepdim: bool) -> Result<Tensor> {
        self.var(dims, correction, keepdim)?.sqrt()
    }

    /// Vector p-norm over `dims`, `(sum |x|^p)^(1/p)` (`torch.linalg.vector_norm`).
    ///
    /// `p = 2` is the Euclidean norm, `p = 1` the sum of magnitudes, `p = f64::INFINITY` the
    /// largest magnitude (gradient split among ties, as [`Tensor::amax`]); any other positive
    /// `p` uses the general formula. NOTE: unlike PyTorch, the gradient at an all-zero input is
    /// NaN for `p = 2` (PyTorch defines it as 0).
    ///
    /// # Shapes
    /// `dims` is a list such as `&[0]`, `[-1]` or `vec![1, 2]` (negative counts from the end); an
    /// empty list reduces every dim. With `keepdim` the reduced dims stay as size 1 (so the
    /// result broadcasts against the input); without it they are removed: `(2, 3, 4)` over
    /// `&[1]` -> `(2, 1, 4)` or `(2, 4)`.
    ///
    /// # Errors
    /// If `p` is NaN, zero or negative (PyTorch's `p = 0` and `-inf` are not supported), the
    /// tensor is not f32 or f64, or a dim is out of range or repeated.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[3.0f32, -4.0], [0.0, 1.0]])?;
    /// assert_eq!(x.norm(2.0, &[1], false)?.to_vec::<f32>()?, vec![5.0, 1.0]);
    /// assert_eq!(x.norm(1.0, &[1], false)?.to_vec::<f32>()?, vec![7.0, 1.0]);
    /// assert_eq!(x.norm(f64::INFINITY, &[1], true)?.to_vec::<f32>()?, vec![4.0, 1.0]);
    /// assert!(x.norm(0.0, &[1], false).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn norm(&self, p: f64, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.check_float("norm")?;
        let d = self.reduce_dims("norm", &dims)?;
        if p == f64::INFINITY {
            return self.abs()?.amax(&d[..], keepdim);
        }
        if p == 1.0 {
            return self.abs()?.sum(&d[..], keepdim);
        }
        if p.is_nan() || p <= 0.0 {
            return Err(Error::invalid(
                "norm",
                format!("p must be positive, got {p}"),
            ));
        }
        // The value by composition; the gradient by one rule (Op::Norm) that is 0 where the
        // norm is 0, instead of the NaN the composition's chain rule would give.
        let value = {
            let _g = crate::no_grad();
            let x = self.detach();
            if p == 2.0 {
                x.square()?.sum(&d[..], true)?.sqrt()?
            } else {
                x.abs()?.powf(p)?.sum(&d[..], true)?.powf(1.0 / p)?
            }
        };
        let n = Tensor::from_op(
            value.contiguous_storage(),
            value.shape().clone(),
            &[self],
            || Op::Norm { x: self.clone(), p },
        );
        self.drop_dims(n, &d, keepdim)
    }

    /// p-norm of all elements, as a 0-d tensor (`torch.linalg.vector_norm(x, p)`); see
    /// [`Tensor::norm`].
    ///
    /// # Shapes
    /// Any shape -> `()`.
    ///
    /// # Errors
    /// As [`Tensor::norm`].
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[3.0f32, 0.0], [0.0, 4.0]])?;
    /// assert_eq!(x.norm_all(2.0)?.item::<f32>()?, 5.0);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn norm_all(&self, p: f64) -> Result<Tensor> {
        self.norm(p, Vec::<usize>::new(), false)
    }
}
