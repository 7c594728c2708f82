//! Operator overloading: `&a + &b`, `&a * 2.0`, `-&a`. Each returns `Result<Tensor>`
//! because shapes may not broadcast.
//!
//! `+ - * /` between tensors (owned or borrowed, in any mix) call [`Tensor::add`],
//! [`Tensor::sub`], [`Tensor::mul`] and [`Tensor::div`], with broadcasting; with an `f64` on
//! the right they call [`Tensor::add_scalar`] and friends (a scalar on the
//! left, `2.0 * &a`, is not provided). Unary `-` is [`Tensor::neg`]. Borrow (`&a + &b`) to
//! keep using the operands: the owned forms consume them.
//!
//! ```
//! use sinapsis_core::{Tensor, DType};
//! let a = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
//! let b = Tensor::new(&[10.0f32, 20.0])?;
//! assert_eq!((&a + &b)?.to_vec::<f32>()?, vec![11.0, 22.0, 13.0, 24.0]);
//! assert_eq!((&a * 2.0)?.to_vec::<f32>()?, vec![2.0, 4.0, 6.0, 8.0]);
//! assert_eq!((-&a)?.to_vec::<f32>()?, vec![-1.0, -2.0, -3.0, -4.0]);
//! // Results are `Result`s, so chained expressions need `?` at each step.
//! let y = ((&a - 1.0)? / &b)?;
//! assert_eq!(y.to_vec::<f32>()?, vec![0.0, 0.05, 0.2, 0.15]);
//! assert!((&a + &Tensor::zeros(3, DType::F32)?).is_err()); // (2, 2) + (3)
//! # Ok::<(), sinapsis_core::Error>(())
//! ```

use super::Tensor;
use crate::Result;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! bin_op {
    ($trait:ident, $method:ident, $tensor_fn:ident, $scalar_fn:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                self.$tensor_fn(rhs)
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                (&self).$tensor_fn(&rhs)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                (&self).$tensor_fn(rhs)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                self.$tensor_fn(&rhs)
            }
        }
        impl $trait<f64> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: f64) -> Result<Tensor> {
                self.$scalar_fn(rhs)
            }
        }
        impl $trait<f64> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: f64) -> Result<Tensor> {
                (&self).$scalar_fn(rhs)
            }
        }
    };
}

bin_op!(Add, add, add, add_scalar);
bin_op!(Sub, sub, sub, sub_scalar);
bin_op!(Mul, mul, mul, mul_scalar);
bin_op!(Div, div, div, div_scalar);

impl Neg for &Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(&self)
    }
}
