//! Elementwise math with NumPy/PyTorch broadcasting. Broadcasting is explicit in the graph:
//! operands are `expand`ed (stride 0) to the common shape, so kernels and backward rules
//! only ever see equal shapes.

use super::Tensor;
use crate::autograd::{BinaryOp, Op, UnaryOp};
use crate::cpu::strided::{map, zip3_map, zip_map};
use crate::layout::Layout;
use crate::storage::CpuStorage;
use crate::{DType, Element, Error, FloatElem, Result, Shape};
use std::borrow::Cow;

/// A float kernel of one operand, generic over f32/f64.
pub(crate) trait Map1 {
    fn f<T: FloatElem>(&self, x: &[T], l: &Layout) -> Vec<T>;
}

/// A float kernel of two same-shape operands.
pub(crate) trait Map2 {
    fn f<T: FloatElem>(&self, a: (&[T], &Layout), b: (&[T], &Layout)) -> Vec<T>;
}

/// A float kernel of three same-shape operands.
pub(crate) trait Map3 {
    fn f<T: FloatElem>(&self, a: (&[T], &Layout), b: (&[T], &Layout), c: (&[T], &Layout))
        -> Vec<T>;
}

#[inline(always)]
pub(crate) fn sigmoid<T: FloatElem>(x: T) -> T {
    // NOTE: two branches keep exp's argument <= 0, so neither side overflows.
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

pub(crate) const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
pub(crate) const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
pub(crate) const GELU_TANH_COEF: f64 = 0.044715;

impl Map1 for UnaryOp {
    fn f<T: FloatElem>(&self, x: &[T], l: &Layout) -> Vec<T> {
        let c = T::from_f64;
        let (zero, one, half) = (T::zero(), T::one(), c(0.5));
        match *self {
            UnaryOp::Neg => map(x, l, |v| -v),
            UnaryOp::Exp => map(x, l, |v| v.exp()),
            UnaryOp::Log => map(x, l, |v| v.ln()),
            UnaryOp::Log1p => map(x, l, |v| v.ln_1p()),
            UnaryOp::Sqrt => map(x, l, |v| v.sqrt()),
            UnaryOp::Abs => map(x, l, |v| v.abs()),
            UnaryOp::Sin => map(x, l, |v| v.sin()),
            UnaryOp::Cos => map(x, l, |v| v.cos()),
            UnaryOp::Tanh => map(x, l, |v| v.tanh()),
            UnaryOp::Sigmoid => map(x, l, sigmoid),
            // log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for any x.
            UnaryOp::LogSigmoid => map(x, l, |v| {
                let m = if v < zero { v } else { zero };
                m - (-v.abs()).exp().ln_1p()
            }),
            UnaryOp::Relu => map(x, l, |v| if v > zero { v } else { zero }),
            UnaryOp::LeakyRelu(s) => {
                let s = c(s);
                map(x, l, move |v| if v > zero { v } else { v * s })
            }
            UnaryOp::GeluErf => {
                let k = c(FRAC_1_SQRT_2);
                map(x, l, move |v| half * v * (one + (v * k).erf()))
            }
            UnaryOp::GeluTanh => {
                let (k, a) = (c(SQRT_2_OVER_PI), c(GELU_TANH_COEF));
                map(x, l, move |v| {
                    half * v * (one + (k * (v + a * v * v * v)).tanh())
                })
            }
            UnaryOp::Silu => map(x, l, |v| v * sigmoid(v)),
            UnaryOp::Softplus { beta, threshold } => {
                let (b, t) = (c(beta), c(threshold));
                map(x, l, move |v| {
                    if v * b > t {
                        v
                    } else {
                        (v * b).exp().ln_1p() / b
                    }
                })
            }
            UnaryOp::Elu(alpha) => {
                let a = c(alpha);
                map(x, l, move |v| if v > zero { v } else { a * v.exp_m1() })
            }
            UnaryOp::Erf => map(x, l, |v| v.erf()),
            UnaryOp::Square => map(x, l, |v| v * v),
            UnaryOp::Reciprocal => map(x, l, |v| one / v),
            UnaryOp::PowScalar(p) => {
                if p == p.trunc() && p.abs() <= 64.0 {
                    let p = p as i32;
                    map(x, l, move |v| v.powi(p))
                } else if p == 0.5 {
                    map(x, l, |v| v.sqrt())
                } else {
                    let e = c(p);
                    map(x, l, move |v| v.powf(e))
                }
            }
            UnaryOp::Clamp(lo, hi) => {
                let (lo, hi) = (c(lo), c(hi));
                map(x, l, move |v| {
                    if v.is_nan() {
                        v
                    } else if v < lo {
                        if lo > hi {
                            hi
                        } else {
                            lo
                        }
                    } else if v > hi {
                        hi
                    } else {
                        v
                    }
                })
            }
            UnaryOp::AddScalar(s) => {
                let s = c(s);
                map(x, l, move |v| v + s)
            }
            UnaryOp::MulScalar(s) => {
                let s = c(s);
                map(x, l, move |v| v * s)
            }
        }
    }
}

impl Map2 for BinaryOp {
    fn f<T: FloatElem>(&self, (a, la): (&[T], &Layout), (b, lb): (&[T], &Layout)) -> Vec<T> {
        match self {
            BinaryOp::Add => zip_map(a, la, b, lb, |x, y| x + y),
            BinaryOp::Sub => zip_map(a, la, b, lb, |x, y| x - y),
            BinaryOp::Mul => zip_map(a, la, b, lb, |x, y| x * y),
            BinaryOp::Div => zip_map(a, la, b, lb, |x, y| x / y),
            BinaryOp::Pow => zip_map(a, la, b, lb, |x, y| x.powf(y)),
            BinaryOp::Maximum => zip_map(a, la, b, lb, |x, y| x.max(y)),
            BinaryOp::Minimum => zip_map(a, la, b, lb, |x, y| x.min(y)),
        }
    }
}

fn int_binary(op: BinaryOp, a: &[i64], la: &Layout, b: &[i64], lb: &Layout) -> Result<Vec<i64>> {
    Ok(match op {
        BinaryOp::Add => zip_map(a, la, b, lb, i64::wrapping_add),
        BinaryOp::Sub => zip_map(a, la, b, lb, i64::wrapping_sub),
        BinaryOp::Mul => zip_map(a, la, b, lb, i64::wrapping_mul),
        BinaryOp::Maximum => zip_map(a, la, b, lb, |x: i64, y| x.max(y)),
        BinaryOp::Minimum => zip_map(a, la, b, lb, |x: i64, y| x.min(y)),
        BinaryOp::Div | BinaryOp::Pow => {
            return Err(Error::dtype(
                binary_name(op),
                "a floating-point tensor (cast i64 with to_dtype first)",
                DType::I64,
            ))
        }
    })
}

fn binary_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "add",
        BinaryOp::Sub => "sub",
        BinaryOp::Mul => "mul",
        BinaryOp::Div => "div",
        BinaryOp::Pow => "pow",
        BinaryOp::Maximum => "maximum",
        BinaryOp::Minimum => "minimum",
    }
}

/// Comparison operators producing bool masks.
#[derive(Clone, Copy, Debug)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn compare<T: Element>(cmp: Cmp, a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Vec<bool> {
    match cmp {
        Cmp::Eq => zip_map(a, la, b, lb, |x, y| x == y),
        Cmp::Ne => zip_map(a, la, b, lb, |x, y| x != y),
        Cmp::Lt => zip_map(a, la, b, lb, |x, y| x < y),
        Cmp::Le => zip_map(a, la, b, lb, |x, y| x <= y),
        Cmp::Gt => zip_map(a, la, b, lb, |x, y| x > y),
        Cmp::Ge => zip_map(a, la, b, lb, |x, y| x >= y),
    }
}

impl Tensor {
    // ---- dtype dispatch for float kernels (used by forward and backward) ---------------

    pub(crate) fn float_map1(&self, op: &'static str, k: &impl Map1) -> Result<CpuStorage> {
        self.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => Ok(CpuStorage::F32(k.f(v, l))),
            CpuStorage::F64(v) => Ok(CpuStorage::F64(k.f(v, l))),
            other => Err(Error::dtype(
                op,
                "a floating-point tensor (f32 or f64)",
                other.dtype(),
            )),
        })
    }

    pub(crate) fn float_map2(
        op: &'static str,
        a: &Tensor,
        b: &Tensor,
        k: &impl Map2,
    ) -> Result<CpuStorage> {
        a.check_same_dtype(op, b)?;
        Tensor::with_cpus(&[a, b], |s| match (s[0], s[1]) {
            (CpuStorage::F32(x), CpuStorage::F32(y)) => {
                Ok(CpuStorage::F32(k.f((x, a.layout()), (y, b.layout()))))
            }
            (CpuStorage::F64(x), CpuStorage::F64(y)) => {
                Ok(CpuStorage::F64(k.f((x, a.layout()), (y, b.layout()))))
            }
            (other, _) => Err(Error::dtype(
                op,
                "a floating-point tensor (f32 or f64)",
                other.dtype(),
            )),
        })
    }

    pub(crate) fn float_map3(
        op: &'static str,
        a: &Tensor,
        b: &Tensor,
        c: &Tensor,
        k: &impl Map3,
    ) -> Result<CpuStorage> {
        a.check_same_dtype(op, b)?;
        a.check_same_dtype(op, c)?;
        let (la, lb, lc) = (a.layout(), b.layout(), c.layout());
        Tensor::with_cpus(&[a, b, c], |s| match (s[0], s[1], s[2]) {
            (CpuStorage::F32(x), CpuStorage::F32(y), CpuStorage::F32(z)) => {
                Ok(CpuStorage::F32(k.f((x, la), (y, lb), (z, lc))))
            }
            (CpuStorage::F64(x), CpuStorage::F64(y), CpuStorage::F64(z)) => {
                Ok(CpuStorage::F64(k.f((x, la), (y, lb), (z, lc))))
            }
            (other, _, _) => Err(Error::dtype(
                op,
                "a floating-point tensor (f32 or f64)",
                other.dtype(),
            )),
        })
    }

    // ---- unary ----------------------------------------------------------------------------

    pub(crate) fn unary(&self, op: UnaryOp, name: &'static str) -> Result<Tensor> {
        let storage = self.float_map1(name, &op)?;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            &[self],
            || Op::Unary(self.clone(), op),
        ))
    }

    /// `-x`.
    pub fn neg(&self) -> Result<Tensor> {
        if self.dtype() == DType::I64 {
            return Tensor::scalar(0i64).sub(self);
        }
        self.unary(UnaryOp::Neg, "neg")
    }
    /// `e^x`.
    pub fn exp(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Exp, "exp")
    }
    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log, "log")
    }
    /// `log(1 + x)`, accurate near 0.
    pub fn log1p(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log1p, "log1p")
    }
    /// Square root.
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sqrt, "sqrt")
    }
    /// `|x|` (gradient 0 at 0, as in PyTorch).
    pub fn abs(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Abs, "abs")
    }
    pub fn sin(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sin, "sin")
    }
    pub fn cos(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Cos, "cos")
    }
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Tanh, "tanh")
    }
    /// `1 / (1 + e^-x)`, stable for any x.
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sigmoid, "sigmoid")
    }
    /// `log(sigmoid(x))`, stable for any x.
    pub fn log_sigmoid(&self) -> Result<Tensor> {
        self.unary(UnaryOp::LogSigmoid, "log_sigmoid")
    }
    /// `max(x, 0)`; gradient 0 at 0, as in PyTorch.
    pub fn relu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Relu, "relu")
    }
    /// `x` for `x > 0`, `slope * x` otherwise (PyTorch's default slope is 0.01).
    pub fn leaky_relu(&self, negative_slope: f64) -> Result<Tensor> {
        self.unary(UnaryOp::LeakyRelu(negative_slope), "leaky_relu")
    }
    /// GELU with the exact erf form, `x * Phi(x)` (PyTorch's default `approximate='none'`).
    pub fn gelu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::GeluErf, "gelu")
    }
    /// GELU with the tanh approximation (`approximate='tanh'`).
    pub fn gelu_tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::GeluTanh, "gelu_tanh")
    }
    /// `x * sigmoid(x)` (a.k.a. swish).
    pub fn silu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Silu, "silu")
    }
    /// `log(1 + e^x)` with PyTorch's defaults beta = 1, threshold = 20.
    pub fn softplus(&self) -> Result<Tensor> {
        self.softplus_with(1.0, 20.0)
    }
    /// `log(1 + e^(beta x)) / beta`, linear where `beta x > threshold`.
    pub fn softplus_with(&self, beta: f64, threshold: f64) -> Result<Tensor> {
        if beta == 0.0 {
            return Err(Error::invalid("softplus", "beta must be nonzero"));
        }
        self.unary(UnaryOp::Softplus { beta, threshold }, "softplus")
    }
    /// `x` for `x > 0`, `alpha (e^x - 1)` otherwise (PyTorch's default alpha is 1).
    pub fn elu(&self, alpha: f64) -> Result<Tensor> {
        self.unary(UnaryOp::Elu(alpha), "elu")
    }
    /// The Gauss error function.
    pub fn erf(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Erf, "erf")
    }
    /// `x * x`.
    pub fn square(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Square, "square")
    }
    /// `1 / x`.
    pub fn reciprocal(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Reciprocal, "reciprocal")
    }
    /// `x^e` for a scalar exponent.
    pub fn powf(&self, exponent: f64) -> Result<Tensor> {
        self.unary(UnaryOp::PowScalar(exponent), "pow")
    }
    /// Limits values to `[min, max]`; gradient 1 strictly inside, 0 at the bounds and outside
    /// (PyTorch's convention).
    pub fn clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        if min.is_nan() || max.is_nan() {
            return Err(Error::invalid("clamp", "bounds must not be NaN"));
        }
        self.unary(UnaryOp::Clamp(min, max), "clamp")
    }
    /// `max(x, min)`.
    pub fn clamp_min(&self, min: f64) -> Result<Tensor> {
        self.clamp(min, f64::INFINITY)
    }
    /// `min(x, max)`.
    pub fn clamp_max(&self, max: f64) -> Result<Tensor> {
        self.clamp(f64::NEG_INFINITY, max)
    }
    /// `x + s` for a scalar.
    pub fn add_scalar(&self, s: f64) -> Result<Tensor> {
        self.unary(UnaryOp::AddScalar(s), "add")
    }
    /// `x - s` for a scalar.
    pub fn sub_scalar(&self, s: f64) -> Result<Tensor> {
        self.unary(UnaryOp::AddScalar(-s), "sub")
    }
    /// `x * s` for a scalar.
    pub fn mul_scalar(&self, s: f64) -> Result<Tensor> {
        self.unary(UnaryOp::MulScalar(s), "mul")
    }
    /// `x / s` for a scalar.
    pub fn div_scalar(&self, s: f64) -> Result<Tensor> {
        self.unary(UnaryOp::MulScalar(1.0 / s), "div")
    }

    // ---- binary ---------------------------------------------------------------------------

    /// Broadcasts both operands to their common shape (recording `Expand` where needed).
    /// Equal shapes, the common case, are borrowed as they are: no handle is cloned.
    pub(crate) fn broadcast_pair<'a>(
        op: &'static str,
        a: &'a Tensor,
        b: &'a Tensor,
    ) -> Result<(Cow<'a, Tensor>, Cow<'a, Tensor>, Shape)> {
        if a.shape() == b.shape() {
            return Ok((Cow::Borrowed(a), Cow::Borrowed(b), a.shape().clone()));
        }
        let shape = Shape::broadcast(op, a.shape(), b.shape())?;
        Ok((
            Cow::Owned(a.expand(&shape)?),
            Cow::Owned(b.expand(&shape)?),
            shape,
        ))
    }

    fn binary(&self, rhs: &Tensor, op: BinaryOp) -> Result<Tensor> {
        let name = binary_name(op);
        self.check_same_dtype(name, rhs)?;
        let (a, b, shape) = Tensor::broadcast_pair(name, self, rhs)?;
        let storage = if a.dtype() == DType::I64 {
            Tensor::with_cpus(&[&a, &b], |s| match (s[0], s[1]) {
                (CpuStorage::I64(x), CpuStorage::I64(y)) => Ok(CpuStorage::I64(int_binary(
                    op,
                    x,
                    a.layout(),
                    y,
                    b.layout(),
                )?)),
                _ => unreachable!("dtypes checked"),
            })?
        } else {
            Tensor::float_map2(name, &a, &b, &op)?
        };
        Ok(Tensor::from_op(storage, shape, &[&a, &b], || {
            Op::Binary(Tensor::clone(&a), Tensor::clone(&b), op)
        }))
    }

    /// `self + rhs`, broadcasting.
    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Add)
    }
    /// `self - rhs`, broadcasting.
    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Sub)
    }
    /// `self * rhs`, broadcasting.
    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Mul)
    }
    /// `self / rhs`, broadcasting (float dtypes).
    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Div)
    }
    /// `self ^ rhs` elementwise, broadcasting.
    pub fn pow(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Pow)
    }
    /// Elementwise maximum; ties split the gradient in half (PyTorch's convention).
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Maximum)
    }
    /// Elementwise minimum; ties split the gradient in half.
    pub fn minimum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Minimum)
    }

    // ---- comparisons ----------------------------------------------------------------------

    fn compare(&self, rhs: &Tensor, cmp: Cmp, name: &'static str) -> Result<Tensor> {
        self.check_same_dtype(name, rhs)?;
        let (a, b, shape) = Tensor::broadcast_pair(name, self, rhs)?;
        let out = Tensor::with_cpus(&[&a, &b], |s| {
            let (la, lb) = (a.layout(), b.layout());
            match (s[0], s[1]) {
                (CpuStorage::F32(x), CpuStorage::F32(y)) => compare(cmp, x, la, y, lb),
                (CpuStorage::F64(x), CpuStorage::F64(y)) => compare(cmp, x, la, y, lb),
                (CpuStorage::I64(x), CpuStorage::I64(y)) => compare(cmp, x, la, y, lb),
                (CpuStorage::Bool(x), CpuStorage::Bool(y)) => compare(cmp, x, la, y, lb),
                _ => unreachable!("dtypes checked"),
            }
        });
        Ok(Tensor::from_vec_shape(out, shape))
    }

    /// Elementwise `==`, as a bool mask.
    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Eq, "eq")
    }
    /// Elementwise `!=`.
    pub fn ne(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Ne, "ne")
    }
    /// Elementwise `<`.
    pub fn lt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Lt, "lt")
    }
    /// Elementwise `<=`.
    pub fn le(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Le, "le")
    }
    /// Elementwise `>`.
    pub fn gt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Gt, "gt")
    }
    /// Elementwise `>=`.
    pub fn ge(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Ge, "ge")
    }

    fn scalar_like(&self, value: f64) -> Tensor {
        Tensor::full((), value, self.dtype()).expect("scalar creation cannot fail")
    }

    /// Elementwise `== value`.
    pub fn eq_scalar(&self, value: f64) -> Result<Tensor> {
        self.eq(&self.scalar_like(value))
    }
    /// Elementwise `!= value`.
    pub fn ne_scalar(&self, value: f64) -> Result<Tensor> {
        self.ne(&self.scalar_like(value))
    }
    /// Elementwise `< value`.
    pub fn lt_scalar(&self, value: f64) -> Result<Tensor> {
        self.lt(&self.scalar_like(value))
    }
    /// Elementwise `<= value`.
    pub fn le_scalar(&self, value: f64) -> Result<Tensor> {
        self.le(&self.scalar_like(value))
    }
    /// Elementwise `> value`.
    pub fn gt_scalar(&self, value: f64) -> Result<Tensor> {
        self.gt(&self.scalar_like(value))
    }
    /// Elementwise `>= value`.
    pub fn ge_scalar(&self, value: f64) -> Result<Tensor> {
        self.ge(&self.scalar_like(value))
    }

    /// Logical not of a bool mask.
    pub fn logical_not(&self) -> Result<Tensor> {
        let out = self.with_cpu(|s, l| match s {
            CpuStorage::Bool(v) => Ok(map(v, l, |x: bool| !x)),
            other => Err(Error::dtype("logical_not", "a bool tensor", other.dtype())),
        })?;
        Ok(Tensor::from_vec_shape(out, self.shape().clone()))
    }

    fn logical(
        &self,
        rhs: &Tensor,
        name: &'static str,
        f: fn(bool, bool) -> bool,
    ) -> Result<Tensor> {
        let (a, b, shape) = Tensor::broadcast_pair(name, self, rhs)?;
        let out = Tensor::with_cpus(&[&a, &b], |s| match (s[0], s[1]) {
            (CpuStorage::Bool(x), CpuStorage::Bool(y)) => {
                Ok(zip_map(x, a.layout(), y, b.layout(), f))
            }
            (CpuStorage::Bool(_), other) | (other, _) => {
                Err(Error::dtype(name, "bool tensors", other.dtype()))
            }
        })?;
        Ok(Tensor::from_vec_shape(out, shape))
    }

    /// Logical and of two bool masks.
    pub fn logical_and(&self, rhs: &Tensor) -> Result<Tensor> {
        self.logical(rhs, "logical_and", |x, y| x && y)
    }
    /// Logical or of two bool masks.
    pub fn logical_or(&self, rhs: &Tensor) -> Result<Tensor> {
        self.logical(rhs, "logical_or", |x, y| x || y)
    }

    // ---- selection ------------------------------------------------------------------------

    /// `cond ? a : b` elementwise, broadcasting all three (`torch.where`).
    pub fn where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        if cond.dtype() != DType::Bool {
            return Err(Error::dtype("where", "a bool condition", cond.dtype()));
        }
        a.check_same_dtype("where", b)?;
        let shape = Shape::broadcast("where", cond.shape(), a.shape())?;
        let shape = Shape::broadcast("where", &shape, b.shape())?;
        let (c, a, b) = (cond.expand(&shape)?, a.expand(&shape)?, b.expand(&shape)?);
        let (lc, la, lb) = (c.layout(), a.layout(), b.layout());
        let storage = Tensor::with_cpus(&[&c, &a, &b], |s| {
            let CpuStorage::Bool(m) = s[0] else {
                unreachable!("checked bool")
            };
            macro_rules! pick {
                ($v:ident, $x:ident, $y:ident) => {
                    CpuStorage::$v(zip3_map(
                        (m, lc),
                        ($x, la),
                        ($y, lb),
                        |m, x, y| {
                            if m {
                                x
                            } else {
                                y
                            }
                        },
                    ))
                };
            }
            match (s[1], s[2]) {
                (CpuStorage::F32(x), CpuStorage::F32(y)) => pick!(F32, x, y),
                (CpuStorage::F64(x), CpuStorage::F64(y)) => pick!(F64, x, y),
                (CpuStorage::I64(x), CpuStorage::I64(y)) => pick!(I64, x, y),
                (CpuStorage::Bool(x), CpuStorage::Bool(y)) => pick!(Bool, x, y),
                _ => unreachable!("dtypes checked"),
            }
        });
        Ok(Tensor::from_op(storage, shape, &[&a, &b], || Op::Where {
            cond: c.clone(),
            a: a.clone(),
            b: b.clone(),
        }))
    }

    /// `value` where `mask` is true, `self` elsewhere (`masked_fill`); the mask broadcasts.
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
        let fill = self.scalar_like(value);
        Tensor::where_cond(mask, &fill, self)
    }

    // ---- casts ----------------------------------------------------------------------------

    /// Converts to `dtype` (explicit; ops never convert silently). Float-to-float casts keep
    /// the graph; casts to or from integers and bools cut it.
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        fn cast<T: Copy + Send + Sync, U: Copy + Send>(
            v: &[T],
            l: &Layout,
            f: impl Fn(T) -> U + Sync,
        ) -> Vec<U> {
            map(v, l, f)
        }
        let storage = self.with_cpu(|s, l| match (s, dtype) {
            (CpuStorage::F32(v), DType::F64) => CpuStorage::F64(cast(v, l, |x| x as f64)),
            (CpuStorage::F32(v), DType::I64) => CpuStorage::I64(cast(v, l, |x| x as i64)),
            (CpuStorage::F32(v), DType::Bool) => CpuStorage::Bool(cast(v, l, |x| x != 0.0)),
            (CpuStorage::F64(v), DType::F32) => CpuStorage::F32(cast(v, l, |x| x as f32)),
            (CpuStorage::F64(v), DType::I64) => CpuStorage::I64(cast(v, l, |x| x as i64)),
            (CpuStorage::F64(v), DType::Bool) => CpuStorage::Bool(cast(v, l, |x| x != 0.0)),
            (CpuStorage::I64(v), DType::F32) => CpuStorage::F32(cast(v, l, |x| x as f32)),
            (CpuStorage::I64(v), DType::F64) => CpuStorage::F64(cast(v, l, |x| x as f64)),
            (CpuStorage::I64(v), DType::Bool) => CpuStorage::Bool(cast(v, l, |x| x != 0)),
            (CpuStorage::Bool(v), DType::F32) => CpuStorage::F32(cast(v, l, |x| x as u8 as f32)),
            (CpuStorage::Bool(v), DType::F64) => CpuStorage::F64(cast(v, l, |x| x as u8 as f64)),
            (CpuStorage::Bool(v), DType::I64) => CpuStorage::I64(cast(v, l, |x| x as i64)),
            _ => unreachable!("same dtype returned early"),
        });
        let shape = self.shape().clone();
        if self.dtype().is_float() && dtype.is_float() {
            Ok(Tensor::from_op(storage, shape, &[self], || {
                Op::Cast(self.clone())
            }))
        } else {
            Ok(Tensor::from_storage(storage, shape))
        }
    }
}
