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
            CpuStorage::Bool(_) => Err(Error::dtype(
                "sum",
                "a numeric tensor (cast bool masks with to_dtype)",
                DType::Bool,
            )),
        })?;
        Ok(Tensor::from_op(storage, shape, &[self], || {
            Op::Sum(self.clone())
        }))
    }

    /// Sum over `dims` (`x.sum(dim, keepdim)`).
    ///
    /// # Shapes
    /// Reduced dims become size 1 with `keepdim`, and disappear without it.
    ///
    /// ```
    /// # use sinapsis_core::Tensor;
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// assert_eq!(x.sum(&[0], false)?.to_vec::<f32>()?, vec![4.0, 6.0]);
    /// assert_eq!(x.sum(&[1], true)?.dims(), &[2, 1]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn sum(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        let d = self.reduce_dims("sum", &dims)?;
        let s = self.sum_keepdim(&d)?;
        self.drop_dims(s, &d, keepdim)
    }

    /// Sum of every element, as a 0-d tensor.
    pub fn sum_all(&self) -> Result<Tensor> {
        let d: DimVec = (0..self.rank()).collect();
        self.sum_keepdim(&d)?.reshape(())
    }

    /// Mean over `dims`.
    pub fn mean(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.check_float("mean")?;
        let d = self.reduce_dims("mean", &dims)?;
        let n = k::group_len(self.layout(), &d);
        self.sum(&d[..], keepdim)?.div_scalar(n as f64)
    }

    /// Mean of every element, as a 0-d tensor.
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

    /// Maximum over `dims`; the gradient is split evenly among ties (`torch.amax`).
    pub fn amax(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.extremum("amax", &dims, keepdim, true)
    }

    /// Minimum over `dims`; the gradient is split evenly among ties (`torch.amin`).
    pub fn amin(&self, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.extremum("amin", &dims, keepdim, false)
    }

    /// Largest element, as a 0-d tensor (`x.max()`); ties share the gradient evenly.
    pub fn max_all(&self) -> Result<Tensor> {
        self.extremum("max", &Vec::<usize>::new(), false, true)
    }

    /// Smallest element, as a 0-d tensor (`x.min()`).
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

    /// Index of the (first) maximum along `dim`, as i64.
    pub fn argmax<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.resolve("argmax", self.shape())?;
        self.arg_extreme("argmax", d, keepdim, true)
    }

    /// Index of the (first) minimum along `dim`, as i64.
    pub fn argmin<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.resolve("argmin", self.shape())?;
        self.arg_extreme("argmin", d, keepdim, false)
    }

    /// Maximum values along `dim` and their indices (`torch.max(x, dim)`). The gradient goes
    /// to the selected index only.
    pub fn max_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let d = dim.resolve("max", self.shape())?;
        let idx = self.arg_extreme("max", d, true, true)?;
        let values = self.gather(d, &idx)?;
        Ok((
            self.drop_dims(values, &[d], keepdim)?,
            self.drop_dims(idx, &[d], keepdim)?,
        ))
    }

    /// Minimum values along `dim` and their indices (`torch.min(x, dim)`).
    pub fn min_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let d = dim.resolve("min", self.shape())?;
        let idx = self.arg_extreme("min", d, true, false)?;
        let values = self.gather(d, &idx)?;
        Ok((
            self.drop_dims(values, &[d], keepdim)?,
            self.drop_dims(idx, &[d], keepdim)?,
        ))
    }

    /// `log(sum(exp(x)))` over `dims`, computed stably (the max is subtracted first).
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

    /// Variance over `dims` with Bessel's `correction` (1 = unbiased, PyTorch's default;
    /// 0 = population variance).
    pub fn var(&self, dims: impl Dims, correction: usize, keepdim: bool) -> Result<Tensor> {
        self.check_float("var")?;
        let d = self.reduce_dims("var", &dims)?;
        let n = k::group_len(self.layout(), &d);
        let centered = self.sub(&self.mean(&d[..], true)?)?;
        let dof = n as f64 - correction as f64;
        let ss = centered.square()?.sum(&d[..], keepdim)?;
        ss.div_scalar(dof.max(0.0))
    }

    /// Standard deviation over `dims` (see [`Tensor::var`]).
    pub fn std(&self, dims: impl Dims, correction: usize, keepdim: bool) -> Result<Tensor> {
        self.var(dims, correction, keepdim)?.sqrt()
    }

    /// Vector p-norm over `dims` (`p` = 2 for Euclidean, 1, or `f64::INFINITY`).
    pub fn norm(&self, p: f64, dims: impl Dims, keepdim: bool) -> Result<Tensor> {
        self.check_float("norm")?;
        let d = self.reduce_dims("norm", &dims)?;
        if p == f64::INFINITY {
            return self.abs()?.amax(&d[..], keepdim);
        }
        if p == 1.0 {
            return self.abs()?.sum(&d[..], keepdim);
        }
        if p == 2.0 {
            return self.square()?.sum(&d[..], keepdim)?.sqrt();
        }
        if p.is_nan() || p <= 0.0 {
            return Err(Error::invalid(
                "norm",
                format!("p must be positive, got {p}"),
            ));
        }
        self.abs()?.powf(p)?.sum(&d[..], keepdim)?.powf(1.0 / p)
    }

    /// p-norm of all elements, as a 0-d tensor.
    pub fn norm_all(&self, p: f64) -> Result<Tensor> {
        self.norm(p, Vec::<usize>::new(), false)
    }
}
