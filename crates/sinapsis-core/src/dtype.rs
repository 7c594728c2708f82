//! Element types. `DType` is the runtime tag; `Element` and `FloatElem` are the compile-time
//! side that kernels are generic over.

use std::fmt;

/// The element type of a tensor (`torch.dtype`). Conversions are explicit
/// ([`Tensor::to_dtype`](crate::Tensor::to_dtype)): ops never promote silently, so `f32 + f64`
/// is an error rather than a hidden cast.
///
/// ```
/// use sinapsis_core::DType;
/// assert_eq!(DType::F32.to_string(), "f32");
/// assert!(DType::F64.is_float() && !DType::I64.is_float());
/// assert_eq!(DType::Bool.size_in_bytes(), 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DType {
    /// 32-bit float (`torch.float32`), the default for parameters and data.
    F32,
    /// 64-bit float (`torch.float64`), used for gradient checks.
    F64,
    /// Integer labels and indices (PyTorch's `torch.long`).
    I64,
    /// Masks and comparison results.
    Bool,
}

impl DType {
    /// Short name as printed (`f32`, `f64`, `i64`, `bool`); also the `Display` form.
    ///
    /// ```
    /// use sinapsis_core::DType;
    /// assert_eq!(DType::I64.as_str(), "i64");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I64 => "i64",
            DType::Bool => "bool",
        }
    }

    /// Whether this is a floating-point type (f32 or f64): the only dtypes that can require a
    /// gradient.
    ///
    /// ```
    /// use sinapsis_core::DType;
    /// assert!(DType::F32.is_float());
    /// assert!(!DType::Bool.is_float());
    /// ```
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Bytes per element (`torch.dtype.itemsize`).
    ///
    /// ```
    /// use sinapsis_core::DType;
    /// assert_eq!(DType::F32.size_in_bytes(), 4);
    /// assert_eq!(DType::I64.size_in_bytes(), 8);
    /// ```
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Rust type that can be stored in a tensor: `f32`, `f64`, `i64` or `bool`. The
/// compile-time side of [`DType`].
///
/// ```
///
/// use sinapsis_core::{DType, Element};
/// assert_eq!(<i64 as Element>::DTYPE, DType::I64);
/// assert_eq!(i64::from_f64(2.9), 2); // truncates toward zero
/// assert!(bool::from_f64(0.5));
/// assert_eq!(true.to_f64(), 1.0);
/// ```
pub trait Element: Copy + Send + Sync + PartialOrd + fmt::Debug + 'static {
    /// The runtime tag of this type.
    const DTYPE: DType;
    /// The value as f64 (`bool` as 0 or 1).
    fn to_f64(self) -> f64;
    /// The value converted from f64: truncated toward zero (saturating) for `i64`, `v != 0`
    /// for `bool`.
    fn from_f64(v: f64) -> Self;
    /// The additive identity (`false` for bool).
    fn zero() -> Self;
    /// The multiplicative identity (`true` for bool).
    fn one() -> Self;
}

/// Floating-point elements (`f32`, `f64`): what every differentiable kernel is generic over.
///
/// The methods mirror the inherent float methods, except where noted: `max`/`min`
/// propagate NaN (as `torch.maximum` does, unlike `f32::max`), `signum(0) = 0` (so that
/// `abs'(0) = 0`) and `erf` comes from `libm`.
///
/// ```
///
/// use sinapsis_core::FloatElem;
/// assert!(FloatElem::max(1.0f32, f32::NAN).is_nan()); // f32::max would return 1.0
/// assert_eq!(FloatElem::signum(0.0f64), 0.0); // f64::signum(0.0) is 1.0
/// ```
pub trait FloatElem:
    Element
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::iter::Sum
{
    /// Positive infinity.
    const INFINITY: Self;
    /// Negative infinity.
    const NEG_INFINITY: Self;
    /// Not a number.
    const NAN: Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn ln_1p(self) -> Self;
    fn exp_m1(self) -> Self;
    fn sqrt(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tanh(self) -> Self;
    fn abs(self) -> Self;
    fn powf(self, e: Self) -> Self;
    fn powi(self, e: i32) -> Self;
    fn erf(self) -> Self;
    /// The larger value; NaN if either is NaN.
    fn max(self, o: Self) -> Self;
    /// The smaller value; NaN if either is NaN.
    fn min(self, o: Self) -> Self;
    fn is_nan(self) -> bool;
    /// 1, -1, or the input itself for 0 (and NaN), unlike `f32::signum`.
    fn signum(self) -> Self;
}

macro_rules! float_elem {
    ($t:ty, $dt:expr, $erf:path) => {
        impl Element for $t {
            const DTYPE: DType = $dt;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn zero() -> Self {
                0.0
            }
            #[inline(always)]
            fn one() -> Self {
                1.0
            }
        }
        impl FloatElem for $t {
            const INFINITY: Self = <$t>::INFINITY;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const NAN: Self = <$t>::NAN;
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                <$t>::exp_m1(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
            #[inline(always)]
            fn powi(self, e: i32) -> Self {
                <$t>::powi(self, e)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                $erf(self)
            }
            // NOTE: NaN-propagating, as torch.maximum / torch.minimum are.
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                if self.is_nan() || o.is_nan() {
                    <$t>::NAN
                } else if self >= o {
                    self
                } else {
                    o
                }
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                if self.is_nan() || o.is_nan() {
                    <$t>::NAN
                } else if self <= o {
                    self
                } else {
                    o
                }
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn signum(self) -> Self {
                // NOTE: sign(0) = 0, which gives abs'(0) = 0 as in PyTorch.
                if self > 0.0 {
                    1.0
                } else if self < 0.0 {
                    -1.0
                } else {
                    self
                }
            }
        }
    };
}

float_elem!(f32, DType::F32, libm::erff);
float_elem!(f64, DType::F64, libm::erf);

impl Element for i64 {
    const DTYPE: DType = DType::I64;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as i64
    }
    fn zero() -> Self {
        0
    }
    fn one() -> Self {
        1
    }
}

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn to_f64(self) -> f64 {
        if self {
            1.0
        } else {
            0.0
        }
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn zero() -> Self {
        false
    }
    fn one() -> Self {
        true
    }
}
