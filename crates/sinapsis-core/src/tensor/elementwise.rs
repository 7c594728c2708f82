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
    // NOTE: exp's argument stays <= 0, so neither side overflows: `1 / (1 + e^-x)` for
    // x >= 0, `e^x / (1 + e^x)` below. The one `exp(-|x|)` is shared by both branches,
    // since with an exp in each branch the compiler computed both (it may: exp has no
    // side effects) and then picked one.
    let e = (-x.abs()).exp();
    if x >= T::zero() {
        T::one() / (T::one() + e)
    } else {
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
            UnaryOp::Neg => map(x, l, move |v| -v),
            UnaryOp::Exp => map(x, l, move |v| v.exp()),
            UnaryOp::Log => map(x, l, move |v| v.ln()),
            UnaryOp::Log1p => map(x, l, move |v| v.ln_1p()),
            UnaryOp::Sqrt => map(x, l, move |v| v.sqrt()),
            UnaryOp::Abs => map(x, l, move |v| v.abs()),
            UnaryOp::Sin => map(x, l, move |v| v.sin()),
            UnaryOp::Cos => map(x, l, move |v| v.cos()),
            UnaryOp::Tanh => map(x, l, move |v| v.tanh()),
            UnaryOp::Sigmoid => map(x, l, sigmoid),
            // log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for any x.
            UnaryOp::LogSigmoid => map(x, l, move |v| {
                let m = if v < zero { v } else { zero };
                m - (-v.abs()).exp().ln_1p()
            }),
            // `<=`, not `>`: NaN stays NaN, as in PyTorch.
            UnaryOp::Relu => map(x, l, move |v| if v <= zero { zero } else { v }),
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
            UnaryOp::Silu => map(x, l, move |v| v * sigmoid(v)),
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
            UnaryOp::Erf => map(x, l, move |v| v.erf()),
            UnaryOp::Square => map(x, l, move |v| v * v),
            UnaryOp::Reciprocal => map(x, l, move |v| one / v),
            UnaryOp::PowScalar(p) => {
                if p == p.trunc() && p.abs() <= 64.0 {
                    let p = p as i32;
                    map(x, l, move |v| v.powi(p))
                } else if p == 0.5 {
                    map(x, l, move |v| v.sqrt())
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
            UnaryOp::DivScalar(s) => {
                let s = c(s);
                map(x, l, move |v| v / s)
            }
        }
    }
}

impl Map2 for BinaryOp {
    fn f<T: FloatElem>(&self, (a, la): (&[T], &Layout), (b, lb): (&[T], &Layout)) -> Vec<T> {
        match self {
            BinaryOp::Add => zip_map(a, la, b, lb, move |x, y| x + y),
            BinaryOp::Sub => zip_map(a, la, b, lb, move |x, y| x - y),
            BinaryOp::Mul => zip_map(a, la, b, lb, move |x, y| x * y),
            BinaryOp::Div => zip_map(a, la, b, lb, move |x, y| x / y),
            BinaryOp::Pow => zip_map(a, la, b, lb, move |x, y| x.powf(y)),
            BinaryOp::Maximum => zip_map(a, la, b, lb, move |x, y| x.max(y)),
            BinaryOp::Minimum => zip_map(a, la, b, lb, move |x, y| x.min(y)),
            BinaryOp::BinaryCrossEntropy => {
                let (zero, one, floor) = (T::zero(), T::one(), T::from_f64(-100.0));
                // NOTE: class targets are exactly 0 or 1, and then one of the two logs is
                // multiplied by zero: skipping it halves the cost (the logs are most of this
                // op) and gives the same value. A probability outside [0, 1] stays NaN, as
                // the general formula makes it, so the caller's range check still fires.
                zip_map(a, la, b, lb, move |p, y| {
                    if !(p >= zero && p <= one) {
                        T::NAN
                    } else if y == zero {
                        -(-p).ln_1p().max(floor)
                    } else if y == one {
                        -p.ln().max(floor)
                    } else {
                        (y - one) * (-p).ln_1p().max(floor) - y * p.ln().max(floor)
                    }
                })
            }
        }
    }
}

fn int_binary(op: BinaryOp, a: &[i64], la: &Layout, b: &[i64], lb: &Layout) -> Result<Vec<i64>> {
    Ok(match op {
        BinaryOp::Add => zip_map(a, la, b, lb, i64::wrapping_add),
        BinaryOp::Sub => zip_map(a, la, b, lb, i64::wrapping_sub),
        BinaryOp::Mul => zip_map(a, la, b, lb, i64::wrapping_mul),
        BinaryOp::Maximum => zip_map(a, la, b, lb, move |x: i64, y| x.max(y)),
        BinaryOp::Minimum => zip_map(a, la, b, lb, move |x: i64, y| x.min(y)),
        BinaryOp::Div | BinaryOp::Pow | BinaryOp::BinaryCrossEntropy => {
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
        BinaryOp::BinaryCrossEntropy => "binary_cross_entropy",
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
        Cmp::Eq => zip_map(a, la, b, lb, move |x, y| x == y),
        Cmp::Ne => zip_map(a, la, b, lb, move |x, y| x != y),
        Cmp::Lt => zip_map(a, la, b, lb, move |x, y| x < y),
        Cmp::Le => zip_map(a, la, b, lb, move |x, y| x <= y),
        Cmp::Gt => zip_map(a, la, b, lb, move |x, y| x > y),
        Cmp::Ge => zip_map(a, la, b, lb, move |x, y| x >= y),
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

    /// Elementwise negation `-x` (`torch.neg`); also available as the `-` operator.
    ///
    /// Gradient: `-g`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, -2.0])?;
    /// assert_eq!(x.neg()?.to_vec::<f32>()?, vec![-1.0, 2.0]);
    /// // i64 works too (wrapping, like PyTorch's integer arithmetic).
    /// assert_eq!(Tensor::new(&[3i64])?.neg()?.to_vec::<i64>()?, vec![-3]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn neg(&self) -> Result<Tensor> {
        if self.dtype() == DType::I64 {
            return Tensor::scalar(0i64).sub(self);
        }
        self.unary(UnaryOp::Neg, "neg")
    }
    /// Elementwise exponential `e^x` (`torch.exp`).
    ///
    /// Gradient: `g * e^x` (reuses the output).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, 1.0])?.exp()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 1.0);
    /// assert!((y[1] - std::f64::consts::E).abs() < 1e-12);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn exp(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Exp, "exp")
    }
    /// Elementwise natural logarithm (`torch.log`).
    ///
    /// `log(0) = -inf` and negative inputs give NaN, as in PyTorch; no error is raised.
    /// Gradient: `g / x`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[1.0f64, std::f64::consts::E, 0.0])?.log()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 1.0).abs() < 1e-12);
    /// assert_eq!(y[2], f64::NEG_INFINITY);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn log(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log, "log")
    }
    /// Elementwise `log(1 + x)`, accurate for small `x` (`torch.log1p`).
    ///
    /// Gradient: `g / (1 + x)`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, 1e-12])?.log1p()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 1e-12).abs() < 1e-24); // log(1 + 1e-12) would lose most digits
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn log1p(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log1p, "log1p")
    }
    /// Elementwise square root (`torch.sqrt`).
    ///
    /// Negative inputs give NaN. Gradient: `g / (2 sqrt(x))`, which is infinite at 0.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[4.0f32, 9.0])?;
    /// assert_eq!(x.sqrt()?.to_vec::<f32>()?, vec![2.0, 3.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sqrt, "sqrt")
    }
    /// Elementwise absolute value `|x|` (`torch.abs`).
    ///
    /// Gradient: `g * sign(x)`, so 0 at `x = 0`, as in PyTorch.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[-2.0f64, 0.0, 3.0])?.requires_grad_(true)?;
    /// let y = x.abs()?;
    /// assert_eq!(y.to_vec::<f64>()?, vec![2.0, 0.0, 3.0]);
    /// y.sum_all()?.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>()?, vec![-1.0, 0.0, 1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn abs(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Abs, "abs")
    }
    /// Elementwise sine, in radians (`torch.sin`).
    ///
    /// Gradient: `g * cos(x)`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, std::f64::consts::FRAC_PI_2])?.sin()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 1.0).abs() < 1e-12);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn sin(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sin, "sin")
    }
    /// Elementwise cosine, in radians (`torch.cos`).
    ///
    /// Gradient: `-g * sin(x)`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, std::f64::consts::PI])?.cos()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 1.0);
    /// assert!((y[1] + 1.0).abs() < 1e-12);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn cos(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Cos, "cos")
    }
    /// Elementwise hyperbolic tangent (`torch.tanh`).
    ///
    /// Gradient: `g * (1 - tanh(x)^2)` (reuses the output).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f32, 20.0, -20.0])?.tanh()?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![0.0, 1.0, -1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Tanh, "tanh")
    }
    /// Elementwise logistic function `1 / (1 + e^-x)` (`torch.sigmoid`), stable for any `x`.
    ///
    /// NOTE: `exp` is only ever called on a non-positive argument, so large `|x|` cannot
    /// overflow. Gradient: `g * y * (1 - y)` with `y` the output.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f32, 1000.0, -1000.0])?.sigmoid()?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![0.5, 1.0, 0.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sigmoid, "sigmoid")
    }
    /// Elementwise `log(sigmoid(x))` (`torch.nn.functional.logsigmoid`), stable for any `x`.
    ///
    /// Computed as `min(x, 0) - log1p(e^-|x|)`, so it never takes the log of 0.
    /// Gradient: `g * sigmoid(-x)`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[-1000.0f64, 0.0])?.log_sigmoid()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], -1000.0); // naive log(sigmoid(-1000)) would be -inf
    /// assert!((y[1] + std::f64::consts::LN_2).abs() < 1e-12);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn log_sigmoid(&self) -> Result<Tensor> {
        self.unary(UnaryOp::LogSigmoid, "log_sigmoid")
    }
    /// Elementwise rectified linear unit `max(x, 0)` (`torch.relu`).
    ///
    /// Gradient: `g` where `x > 0`, else 0; relu'(0) = 0, as in PyTorch.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[-1.0f32, 0.0, 2.0])?.requires_grad_(true)?;
    /// let y = x.relu()?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![0.0, 0.0, 2.0]);
    /// y.sum_all()?.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>()?, vec![0.0, 0.0, 1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn relu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Relu, "relu")
    }
    /// Elementwise leaky ReLU: `x` where `x > 0`, `negative_slope * x` otherwise
    /// (`torch.nn.functional.leaky_relu`; PyTorch's default slope is 0.01).
    ///
    /// Gradient: `g` where `x > 0`, `negative_slope * g` otherwise (including at 0, as in
    /// PyTorch).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[-2.0f32, 3.0])?.leaky_relu(0.5)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![-1.0, 3.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn leaky_relu(&self, negative_slope: f64) -> Result<Tensor> {
        self.unary(UnaryOp::LeakyRelu(negative_slope), "leaky_relu")
    }
    /// Elementwise GELU in its exact form `x * Phi(x) = x/2 (1 + erf(x / sqrt 2))`
    /// (`torch.nn.functional.gelu`, default `approximate='none'`).
    ///
    /// See [`Tensor::gelu_tanh`] for the tanh approximation.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, 1.0])?.gelu()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_344_746_068_542_9).abs() < 1e-9);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn gelu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::GeluErf, "gelu")
    }
    /// Elementwise GELU with the tanh approximation
    /// `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (`gelu(x, approximate='tanh')`).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, 1.0])?.gelu_tanh()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_191_990_607_477_5).abs() < 1e-9);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn gelu_tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::GeluTanh, "gelu_tanh")
    }
    /// Elementwise SiLU (swish) `x * sigmoid(x)` (`torch.nn.functional.silu`).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, 1.0])?.silu()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.731_058_578_630_004_9).abs() < 1e-12);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn silu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Silu, "silu")
    }
    /// Elementwise softplus `log(1 + e^x)` (`torch.nn.functional.softplus`) with PyTorch's
    /// defaults `beta = 1`, `threshold = 20`.
    ///
    /// See [`Tensor::softplus_with`].
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, 30.0])?.softplus()?.to_vec::<f64>()?;
    /// assert!((y[0] - std::f64::consts::LN_2).abs() < 1e-12);
    /// assert_eq!(y[1], 30.0); // above the threshold the input passes through
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn softplus(&self) -> Result<Tensor> {
        self.softplus_with(1.0, 20.0)
    }
    /// Elementwise softplus `log(1 + e^(beta x)) / beta`, and `x` itself where
    /// `beta x > threshold` (`softplus(x, beta, threshold)`).
    ///
    /// Gradient: `g * sigmoid(beta x)`, and `g` in the linear region.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If `beta` is 0, or the tensor is not f32 or f64.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, 5.0])?.softplus_with(2.0, 4.0)?.to_vec::<f64>()?;
    /// assert!((y[0] - std::f64::consts::LN_2 / 2.0).abs() < 1e-12);
    /// assert_eq!(y[1], 5.0); // 2 * 5 > 4: linear
    /// assert!(Tensor::new(&[1.0f64])?.softplus_with(0.0, 20.0).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn softplus_with(&self, beta: f64, threshold: f64) -> Result<Tensor> {
        if beta == 0.0 {
            return Err(Error::invalid("softplus", "beta must be nonzero"));
        }
        self.unary(UnaryOp::Softplus { beta, threshold }, "softplus")
    }
    /// Elementwise ELU: `x` where `x > 0`, `alpha (e^x - 1)` otherwise
    /// (`torch.nn.functional.elu`; PyTorch's default alpha is 1).
    ///
    /// Gradient: `g` where `x > 0`, `g * alpha * e^x` otherwise.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[-1.0f64, 2.0])?.elu(1.0)?.to_vec::<f64>()?;
    /// assert!((y[0] - (f64::exp(-1.0) - 1.0)).abs() < 1e-12);
    /// assert_eq!(y[1], 2.0);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn elu(&self, alpha: f64) -> Result<Tensor> {
        self.unary(UnaryOp::Elu(alpha), "elu")
    }
    /// Elementwise Gauss error function (`torch.erf`).
    ///
    /// Gradient: `g * 2/sqrt(pi) * e^(-x^2)`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[0.0f64, 1.0])?.erf()?.to_vec::<f64>()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.842_700_792_949_714_9).abs() < 1e-12);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn erf(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Erf, "erf")
    }
    /// Elementwise `x * x` (`torch.square`).
    ///
    /// Gradient: `2 x g`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[3.0f32, -2.0])?.square()?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![9.0, 4.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn square(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Square, "square")
    }
    /// Elementwise `1 / x` (`torch.reciprocal`); `1 / 0 = inf`.
    ///
    /// Gradient: `-g / x^2`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[2.0f32, 4.0, 0.0])?.reciprocal()?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![0.5, 0.25, f32::INFINITY]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn reciprocal(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Reciprocal, "reciprocal")
    }
    /// Elementwise `x^exponent` for a scalar exponent (`torch.pow(x, 2.0)`).
    ///
    /// Integer exponents (up to 64 in magnitude) use repeated multiplication, so negative bases
    /// work; a fractional exponent of a negative base gives NaN. Gradient:
    /// `g * exponent * x^(exponent - 1)`, and 0 everywhere for `exponent = 0`.
    /// See [`Tensor::pow`] for a tensor exponent.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64 (cast i64 or bool with [`Tensor::to_dtype`]).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[-2.0f32, 3.0])?;
    /// assert_eq!(x.powf(2.0)?.to_vec::<f32>()?, vec![4.0, 9.0]);
    /// assert_eq!(Tensor::new(&[4.0f32])?.powf(0.5)?.to_vec::<f32>()?, vec![2.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn powf(&self, exponent: f64) -> Result<Tensor> {
        self.unary(UnaryOp::PowScalar(exponent), "pow")
    }
    /// Limits each value to `[min, max]` (`torch.clamp`); either bound may be infinite.
    ///
    /// NaN passes through. If `min > max` every element becomes `max`, as in PyTorch.
    /// Gradient: `g` strictly inside `(min, max)`, 0 outside *and exactly at the bounds*
    /// (PyTorch's convention).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If a bound is NaN, or the tensor is not f32 or f64.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[-2.0f64, 0.0, 0.5, 1.0, 3.0])?.requires_grad_(true)?;
    /// let y = x.clamp(0.0, 1.0)?;
    /// assert_eq!(y.to_vec::<f64>()?, vec![0.0, 0.0, 0.5, 1.0, 1.0]);
    /// y.sum_all()?.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>()?, vec![0.0, 0.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        if min.is_nan() || max.is_nan() {
            return Err(Error::invalid("clamp", "bounds must not be NaN"));
        }
        self.unary(UnaryOp::Clamp(min, max), "clamp")
    }
    /// Elementwise `max(x, min)` (`torch.clamp(x, min=min)`); the gradient is 0 at and below
    /// `min`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If `min` is NaN, or the tensor is not f32 or f64.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[-1.0f32, 2.0])?.clamp_min(0.0)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![0.0, 2.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn clamp_min(&self, min: f64) -> Result<Tensor> {
        self.clamp(min, f64::INFINITY)
    }
    /// Elementwise `min(x, max)` (`torch.clamp(x, max=max)`); the gradient is 0 at and above
    /// `max`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If `max` is NaN, or the tensor is not f32 or f64.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[-1.0f32, 2.0])?.clamp_max(1.0)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![-1.0, 1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn clamp_max(&self, max: f64) -> Result<Tensor> {
        self.clamp(f64::NEG_INFINITY, max)
    }
    /// Adds a scalar to every element (`x + s`); also the `+ f64` operator.
    ///
    /// The scalar is cast to the tensor's dtype. Gradient: `g`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is bool, or i64 with a fractional `s` (cast it to a float dtype).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0])?;
    /// assert_eq!(x.add_scalar(0.5)?.to_vec::<f32>()?, vec![1.5, 2.5]);
    /// assert_eq!((&x + 0.5)?.to_vec::<f32>()?, vec![1.5, 2.5]);
    /// // On i64 the scalar must be a whole number.
    /// let i = Tensor::new(&[1i64, 2])?;
    /// assert_eq!(i.add_scalar(1.0)?.to_vec::<i64>()?, vec![2, 3]);
    /// assert!(i.add_scalar(0.5).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn add_scalar(&self, s: f64) -> Result<Tensor> {
        if self.dtype() == DType::I64 {
            return self.add(&self.int_scalar("add", s)?);
        }
        self.unary(UnaryOp::AddScalar(s), "add")
    }
    /// Subtracts a scalar from every element (`x - s`); also the `- f64` operator.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is bool, or i64 with a fractional `s` (cast it to a float dtype).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0])?;
    /// assert_eq!(x.sub_scalar(0.5)?.to_vec::<f32>()?, vec![0.5, 1.5]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn sub_scalar(&self, s: f64) -> Result<Tensor> {
        if self.dtype() == DType::I64 {
            return self.sub(&self.int_scalar("sub", s)?);
        }
        self.unary(UnaryOp::AddScalar(-s), "sub")
    }
    /// Multiplies every element by a scalar (`x * s`); also the `* f64` operator.
    ///
    /// Gradient: `s * g`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is bool, or i64 with a fractional `s` (cast it to a float dtype).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, -2.0])?;
    /// assert_eq!(x.mul_scalar(3.0)?.to_vec::<f32>()?, vec![3.0, -6.0]);
    /// assert_eq!((&x * 3.0)?.to_vec::<f32>()?, vec![3.0, -6.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn mul_scalar(&self, s: f64) -> Result<Tensor> {
        if self.dtype() == DType::I64 {
            return self.mul(&self.int_scalar("mul", s)?);
        }
        self.unary(UnaryOp::MulScalar(s), "mul")
    }
    /// Divides every element by a scalar (`x / s`); also the `/ f64` operator.
    ///
    /// A true division, as PyTorch's (`49.0 / 49.0` is exactly 1). Dividing by 0 gives
    /// `+-inf`, or NaN for `0 / 0`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 3.0])?;
    /// assert_eq!(x.div_scalar(2.0)?.to_vec::<f32>()?, vec![0.5, 1.5]);
    /// assert_eq!((&x / 2.0)?.to_vec::<f32>()?, vec![0.5, 1.5]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn div_scalar(&self, s: f64) -> Result<Tensor> {
        if self.dtype() == DType::I64 {
            return Err(Error::dtype(
                "div",
                "a floating-point tensor (true division; cast i64 with to_dtype first)",
                DType::I64,
            ));
        }
        self.unary(UnaryOp::DivScalar(s), "div")
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

    pub(super) fn binary(&self, rhs: &Tensor, op: BinaryOp) -> Result<Tensor> {
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

    /// Elementwise `self + rhs` with broadcasting (`torch.add`); also the `+` operator.
    ///
    /// # Shapes
    /// NumPy/PyTorch broadcasting: shapes are aligned from the right and each pair of sizes must
    /// be equal or 1; the output takes the larger size, e.g. `(2, 3) + (3)` -> `(2, 3)` and
    /// `(4, 1) + (1, 5)` -> `(4, 5)`. A broadcast operand is recorded as an `expand` in the graph,
    /// so its gradient is summed back to its own shape.
    ///
    /// # Errors
    /// If the shapes do not broadcast, the dtypes differ (no implicit promotion) or the dtype is
    /// bool. i64 is supported (wrapping on overflow).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// let b = Tensor::new(&[10.0f32, 20.0, 30.0])?.requires_grad_(true)?;
    /// let y = x.add(&b)?; // (2, 3) + (3) -> (2, 3)
    /// assert_eq!(y.to_vec::<f32>()?, vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    /// assert_eq!((&x + &b)?.dims(), &[2, 3]);
    /// // The broadcast bias receives the sum over the rows it was repeated into.
    /// y.sum_all()?.backward()?;
    /// assert_eq!(b.grad().unwrap().to_vec::<f32>()?, vec![2.0, 2.0, 2.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Add)
    }
    /// Elementwise `self - rhs` with broadcasting (`torch.sub`); also the `-` operator.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`].
    ///
    /// # Errors
    /// If the shapes do not broadcast, the dtypes differ or the dtype is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[5.0f32], [7.0]])?; // (2, 1)
    /// let y = Tensor::new(&[1.0f32, 2.0])?;     // (2)
    /// let d = x.sub(&y)?;                        // (2, 2)
    /// assert_eq!(d.dims(), &[2, 2]);
    /// assert_eq!(d.to_vec::<f32>()?, vec![4.0, 3.0, 6.0, 5.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Sub)
    }
    /// Elementwise `self * rhs` with broadcasting (`torch.mul`); also the `*` operator.
    ///
    /// Gradient: `g * rhs` for `self` and `g * self` for `rhs`.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`].
    ///
    /// # Errors
    /// If the shapes do not broadcast, the dtypes differ or the dtype is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[2.0f64, 3.0])?.requires_grad_(true)?;
    /// let b = Tensor::new(&[4.0f64, 5.0])?;
    /// let y = a.mul(&b)?;
    /// assert_eq!(y.to_vec::<f64>()?, vec![8.0, 15.0]);
    /// y.sum_all()?.backward()?;
    /// assert_eq!(a.grad().unwrap().to_vec::<f64>()?, vec![4.0, 5.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Mul)
    }
    /// Elementwise true division `self / rhs` with broadcasting (`torch.div`); also the `/`
    /// operator.
    ///
    /// Float dtypes only: PyTorch would promote integers to float here, Sinapsis asks for an
    /// explicit [`Tensor::to_dtype`]. Gradient: `g / rhs` and `-g * self / rhs^2`.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`].
    ///
    /// # Errors
    /// If the shapes do not broadcast, the dtypes differ, or the dtype is i64 or bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f32, 3.0])?;
    /// let b = Tensor::new(&[2.0f32])?;
    /// assert_eq!(a.div(&b)?.to_vec::<f32>()?, vec![0.5, 1.5]);
    /// assert!(Tensor::new(&[1i64])?.div(&Tensor::new(&[2i64])?).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Div)
    }
    /// Elementwise `self ^ rhs` with a tensor exponent and broadcasting (`torch.pow`).
    ///
    /// Gradient: `g * rhs * self^(rhs - 1)` for the base (0 where `rhs = 0`) and
    /// `g * self^rhs * ln(self)` for the exponent (0 where `self = 0` and `rhs >= 0`, PyTorch's
    /// convention instead of NaN). See [`Tensor::powf`] for a scalar exponent.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`].
    ///
    /// # Errors
    /// If the shapes do not broadcast, the dtypes differ, or the dtype is i64 or bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let base = Tensor::new(&[2.0f32, 3.0])?;
    /// let e = Tensor::new(&[3.0f32, 2.0])?;
    /// assert_eq!(base.pow(&e)?.to_vec::<f32>()?, vec![8.0, 9.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn pow(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Pow)
    }
    /// Elementwise maximum of two tensors with broadcasting (`torch.maximum`); NaN propagates.
    ///
    /// Gradient: to the larger operand; on a tie each side gets half (PyTorch's convention).
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`].
    ///
    /// # Errors
    /// If the shapes do not broadcast, the dtypes differ or the dtype is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f64, 5.0, 2.0])?.requires_grad_(true)?;
    /// let b = Tensor::new(&[3.0f64, 4.0, 2.0])?;
    /// let m = a.maximum(&b)?;
    /// assert_eq!(m.to_vec::<f64>()?, vec![3.0, 5.0, 2.0]);
    /// m.sum_all()?.backward()?;
    /// assert_eq!(a.grad().unwrap().to_vec::<f64>()?, vec![0.0, 1.0, 0.5]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Maximum)
    }
    /// Elementwise minimum of two tensors with broadcasting (`torch.minimum`); NaN propagates.
    ///
    /// Gradient: to the smaller operand; on a tie each side gets half.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`].
    ///
    /// # Errors
    /// If the shapes do not broadcast, the dtypes differ or the dtype is bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f64, 5.0, 2.0])?.requires_grad_(true)?;
    /// let b = Tensor::new(&[3.0f64, 4.0, 2.0])?;
    /// let m = a.minimum(&b)?;
    /// assert_eq!(m.to_vec::<f64>()?, vec![1.0, 4.0, 2.0]);
    /// m.sum_all()?.backward()?;
    /// assert_eq!(a.grad().unwrap().to_vec::<f64>()?, vec![1.0, 0.0, 0.5]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Elementwise `==` as a bool mask (`torch.eq`); no gradient flows through it.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`]; the result is a bool tensor of the broadcast shape.
    ///
    /// # Errors
    /// If the shapes do not broadcast or the dtypes differ. Any dtype works, bool included.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// let b = Tensor::new(&[1.0f32, 0.0, 3.0])?;
    /// assert_eq!(a.eq(&b)?.to_vec::<bool>()?, vec![true, false, true]);
    ///
    /// // The right side broadcasts; the result is always bool, never differentiable.
    /// let m = Tensor::new(&[[1i64, 2], [2, 1]])?.eq(&Tensor::new(&[2i64])?)?;
    /// assert_eq!(m.dtype(), DType::Bool);
    /// assert_eq!(m.to_vec::<bool>()?, vec![false, true, true, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Eq, "eq")
    }
    /// Elementwise `!=` as a bool mask (`torch.ne`); no gradient flows through it.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`]; the result is a bool tensor of the broadcast shape.
    ///
    /// # Errors
    /// If the shapes do not broadcast or the dtypes differ. Any dtype works, bool included.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// let b = Tensor::new(&[1.0f32, 0.0, 3.0])?;
    /// assert_eq!(a.ne(&b)?.to_vec::<bool>()?, vec![false, true, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn ne(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Ne, "ne")
    }
    /// Elementwise `<` as a bool mask (`torch.lt`); no gradient flows through it.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`]; the result is a bool tensor of the broadcast shape.
    ///
    /// # Errors
    /// If the shapes do not broadcast or the dtypes differ. Any dtype works, bool included.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// let b = Tensor::new(&[2.0f32, 2.0, 2.0])?;
    /// assert_eq!(a.lt(&b)?.to_vec::<bool>()?, vec![true, false, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn lt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Lt, "lt")
    }
    /// Elementwise `<=` as a bool mask (`torch.le`); no gradient flows through it.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`]; the result is a bool tensor of the broadcast shape.
    ///
    /// # Errors
    /// If the shapes do not broadcast or the dtypes differ. Any dtype works, bool included.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// let b = Tensor::new(&[2.0f32, 2.0, 2.0])?;
    /// assert_eq!(a.le(&b)?.to_vec::<bool>()?, vec![true, true, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn le(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Le, "le")
    }
    /// Elementwise `>` as a bool mask (`torch.gt`); no gradient flows through it.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`]; the result is a bool tensor of the broadcast shape.
    ///
    /// # Errors
    /// If the shapes do not broadcast or the dtypes differ. Any dtype works, bool included.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// let b = Tensor::new(&[2.0f32, 2.0, 2.0])?;
    /// assert_eq!(a.gt(&b)?.to_vec::<bool>()?, vec![false, false, true]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn gt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Gt, "gt")
    }
    /// Elementwise `>=` as a bool mask (`torch.ge`); no gradient flows through it.
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`]; the result is a bool tensor of the broadcast shape.
    ///
    /// # Errors
    /// If the shapes do not broadcast or the dtypes differ. Any dtype works, bool included.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// let b = Tensor::new(&[2.0f32, 2.0, 2.0])?;
    /// assert_eq!(a.ge(&b)?.to_vec::<bool>()?, vec![false, true, true]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn ge(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, Cmp::Ge, "ge")
    }

    fn scalar_like(&self, value: f64) -> Tensor {
        Tensor::full((), value, self.dtype()).expect("scalar creation cannot fail")
    }

    /// An i64 scalar operand for integer arithmetic; a fractional value is an error rather
    /// than a silent truncation (cast to a float dtype for that).
    fn int_scalar(&self, op: &'static str, value: f64) -> Result<Tensor> {
        if value.fract() != 0.0 || !value.is_finite() {
            return Err(Error::invalid(
                op,
                format!("{value} is not an integer; cast the i64 tensor with to_dtype first"),
            ));
        }
        Ok(Tensor::scalar(value as i64))
    }

    /// The pair compared by `*_scalar` comparisons: an i64 tensor meets a fractional value
    /// in f64 (as PyTorch promotes), so `[0, 1] < 0.5` is `[true, false]`.
    fn compare_operands(&self, value: f64) -> Result<(Tensor, Tensor)> {
        if self.dtype() == DType::I64 && value.fract() != 0.0 {
            let x = self.to_dtype(DType::F64)?;
            let v = x.scalar_like(value);
            return Ok((x, v));
        }
        Ok((self.clone(), self.scalar_like(value)))
    }

    /// Elementwise `== value` as a bool mask of the input's shape (`x == value`).
    ///
    /// `value` is first converted to the tensor's dtype, so for i64 it is truncated toward zero
    /// (`lt_scalar(0.5)` compares with 0, unlike PyTorch) and for bool it becomes `value != 0`.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape (dtype bool).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// assert_eq!(x.eq_scalar(2.0)?.to_vec::<bool>()?, vec![false, true, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn eq_scalar(&self, value: f64) -> Result<Tensor> {
        let (x, v) = self.compare_operands(value)?;
        x.eq(&v)
    }
    /// Elementwise `!= value` as a bool mask of the input's shape (`x != value`).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape (dtype bool).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// assert_eq!(x.ne_scalar(2.0)?.to_vec::<bool>()?, vec![true, false, true]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn ne_scalar(&self, value: f64) -> Result<Tensor> {
        let (x, v) = self.compare_operands(value)?;
        x.ne(&v)
    }
    /// Elementwise `< value` as a bool mask of the input's shape (`x < value`).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape (dtype bool).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// assert_eq!(x.lt_scalar(2.0)?.to_vec::<bool>()?, vec![true, false, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn lt_scalar(&self, value: f64) -> Result<Tensor> {
        let (x, v) = self.compare_operands(value)?;
        x.lt(&v)
    }
    /// Elementwise `<= value` as a bool mask of the input's shape (`x <= value`).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape (dtype bool).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// assert_eq!(x.le_scalar(2.0)?.to_vec::<bool>()?, vec![true, true, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn le_scalar(&self, value: f64) -> Result<Tensor> {
        let (x, v) = self.compare_operands(value)?;
        x.le(&v)
    }
    /// Elementwise `> value` as a bool mask of the input's shape (`x > value`).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape (dtype bool).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// assert_eq!(x.gt_scalar(2.0)?.to_vec::<bool>()?, vec![false, false, true]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn gt_scalar(&self, value: f64) -> Result<Tensor> {
        let (x, v) = self.compare_operands(value)?;
        x.gt(&v)
    }
    /// Elementwise `>= value` as a bool mask of the input's shape (`x >= value`).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape (dtype bool).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f32, 2.0, 3.0])?;
    /// assert_eq!(x.ge_scalar(2.0)?.to_vec::<bool>()?, vec![false, true, true]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn ge_scalar(&self, value: f64) -> Result<Tensor> {
        let (x, v) = self.compare_operands(value)?;
        x.ge(&v)
    }

    /// Elementwise logical not of a bool mask (`torch.logical_not`).
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// # Errors
    /// If the tensor is not bool.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let m = Tensor::new(&[true, false])?;
    /// assert_eq!(m.logical_not()?.to_vec::<bool>()?, vec![false, true]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn logical_not(&self) -> Result<Tensor> {
        let out = self.with_cpu(|s, l| match s {
            CpuStorage::Bool(v) => Ok(map(v, l, move |x: bool| !x)),
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

    /// Elementwise logical and of two bool masks (`torch.logical_and`).
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`].
    ///
    /// # Errors
    /// If either tensor is not bool, or the shapes do not broadcast.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[true, true, false])?;
    /// let b = Tensor::new(&[true, false, false])?;
    /// assert_eq!(a.logical_and(&b)?.to_vec::<bool>()?, vec![true, false, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn logical_and(&self, rhs: &Tensor) -> Result<Tensor> {
        self.logical(rhs, "logical_and", |x, y| x && y)
    }
    /// Elementwise logical or of two bool masks (`torch.logical_or`).
    ///
    /// # Shapes
    /// Broadcasting as in [`Tensor::add`].
    ///
    /// # Errors
    /// If either tensor is not bool, or the shapes do not broadcast.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::new(&[true, true, false])?;
    /// let b = Tensor::new(&[true, false, false])?;
    /// assert_eq!(a.logical_or(&b)?.to_vec::<bool>()?, vec![true, true, false]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn logical_or(&self, rhs: &Tensor) -> Result<Tensor> {
        self.logical(rhs, "logical_or", |x, y| x || y)
    }

    // ---- selection ------------------------------------------------------------------------

    /// Elementwise `if cond { a } else { b }` (`torch.where(cond, a, b)`).
    ///
    /// Gradient: `g` flows to `a` where `cond` is true and to `b` where it is false (summed back
    /// over broadcast dims); `cond` gets none.
    ///
    /// # Shapes
    /// `cond`, `a` and `b` broadcast together (as in [`Tensor::add`]); the output has the
    /// broadcast shape and `a`'s dtype.
    ///
    /// # Errors
    /// If `cond` is not bool, `a` and `b` have different dtypes, or the shapes do not broadcast.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let cond = Tensor::new(&[true, false, true])?;
    /// let a = Tensor::new(&[1.0f32, 2.0, 3.0])?.requires_grad_(true)?;
    /// let b = Tensor::new(&[0.0f32])?; // broadcasts
    /// let y = Tensor::where_cond(&cond, &a, &b)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![1.0, 0.0, 3.0]);
    /// y.sum_all()?.backward()?;
    /// assert_eq!(a.grad().unwrap().to_vec::<f32>()?, vec![1.0, 0.0, 1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// `value` where `mask` is true, `self` elsewhere (`Tensor.masked_fill`, not in place).
    ///
    /// `value` is cast to `self`'s dtype. Gradient: `g` flows to `self` where the mask is false.
    ///
    /// # Shapes
    /// `mask` broadcasts against `self` (as in [`Tensor::where_cond`]); the output has the
    /// broadcast shape.
    ///
    /// # Errors
    /// If `mask` is not bool or the shapes do not broadcast.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// let mask = Tensor::new(&[true, false])?; // one entry per column
    /// let y = x.masked_fill(&mask, f64::NEG_INFINITY)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![f32::NEG_INFINITY, 2.0, f32::NEG_INFINITY, 4.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
        let fill = self.scalar_like(value);
        Tensor::where_cond(mask, &fill, self)
    }

    // ---- casts ----------------------------------------------------------------------------

    /// Converts to `dtype` (`Tensor.to(dtype)`); ops never convert silently, so mixed dtypes
    /// need this first.
    ///
    /// Float to integer truncates toward zero (saturating; NaN becomes 0); anything to bool is
    /// `x != 0`; bool to numbers is 0 or 1. Converting to the same dtype returns `self` (sharing
    /// storage). Float-to-float casts stay in the graph (the gradient is cast back); casts to or
    /// from i64 and bool cut it, as integer tensors carry no gradient.
    ///
    /// # Shapes
    /// Any shape; the output has the input's shape.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[-1.7f32, 0.0, 2.9])?;
    /// assert_eq!(x.to_dtype(DType::I64)?.to_vec::<i64>()?, vec![-1, 0, 2]);
    /// assert_eq!(x.to_dtype(DType::Bool)?.to_vec::<bool>()?, vec![true, false, true]);
    /// let y = x.to_dtype(DType::F64)?;
    /// assert_eq!(y.dtype(), DType::F64);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        fn cast<T: Copy + Send + Sync, U: Copy + Send + 'static>(
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
