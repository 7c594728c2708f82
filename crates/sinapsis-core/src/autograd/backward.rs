//! Every backward rule, in one exhaustive `match` (`rule`): a new `Op` variant without a rule
//! does not compile. Each rule receives the op's output and its upstream gradient `g` (same
//! shape as the output) and returns one gradient per input (`None` where none is needed).
//! `apply` runs them, and is where the gradient hints act: a linear layer reading a ReLU's
//! output masks its input gradient itself and may sum it for the layer before (see
//! `GradHint`), so that ReLU skips its mask and that layer its bias sums.
//!
//! Conventions follow PyTorch: relu'(0) = 0, abs'(0) = 0, clamp's gradient is 0 at its
//! bounds, maximum/minimum split ties in half, amax/amin/max() spread it evenly over ties,
//! max(dim) sends it to the returned index.

use super::{BinaryOp, GradHint, Op, UnaryOp};
use crate::cpu::strided::zip3_map;
use crate::layout::Layout;
use crate::tensor::{
    cross_entropy_rows_backward, linear_backward, sigmoid, Map3, FRAC_1_SQRT_2, GELU_TANH_COEF,
    SQRT_2_OVER_PI,
};
use crate::{FloatElem, Result, Tensor};
use smallvec::{smallvec, SmallVec};

pub(super) type Grads = SmallVec<[Option<Tensor>; 3]>;

/// Gradient of a unary op: a function of the input `x`, the output `y` and upstream `g`.
struct UnaryGrad(UnaryOp);

impl Map3 for UnaryGrad {
    fn f<T: FloatElem>(
        &self,
        x: (&[T], &Layout),
        y: (&[T], &Layout),
        g: (&[T], &Layout),
    ) -> Vec<T> {
        let c = T::from_f64;
        let (zero, one, two, half) = (T::zero(), T::one(), c(2.0), c(0.5));
        match self.0 {
            UnaryOp::Neg => zip3_map(x, y, g, move |_, _, g| -g),
            UnaryOp::Exp => zip3_map(x, y, g, move |_, y, g| g * y),
            UnaryOp::Log => zip3_map(x, y, g, move |x, _, g| g / x),
            UnaryOp::Log1p => zip3_map(x, y, g, move |x, _, g| g / (one + x)),
            UnaryOp::Sqrt => zip3_map(x, y, g, move |_, y, g| g / (two * y)),
            UnaryOp::Abs => zip3_map(x, y, g, move |x, _, g| g * x.signum()),
            UnaryOp::Sin => zip3_map(x, y, g, move |x, _, g| g * x.cos()),
            UnaryOp::Cos => zip3_map(x, y, g, move |x, _, g| -g * x.sin()),
            UnaryOp::Tanh => zip3_map(x, y, g, move |_, y, g| g * (one - y * y)),
            UnaryOp::Sigmoid => zip3_map(x, y, g, move |_, y, g| g * y * (one - y)),
            UnaryOp::LogSigmoid => zip3_map(x, y, g, move |x, _, g| g * sigmoid(-x)),
            UnaryOp::Relu => zip3_map(x, y, g, move |x, _, g| if x > zero { g } else { zero }),
            UnaryOp::LeakyRelu(s) => {
                let s = c(s);
                zip3_map(x, y, g, move |x, _, g| if x > zero { g } else { g * s })
            }
            UnaryOp::GeluErf => {
                let (k, norm) = (
                    c(FRAC_1_SQRT_2),
                    c(0.5 * std::f64::consts::FRAC_2_SQRT_PI * FRAC_1_SQRT_2),
                );
                zip3_map(x, y, g, move |x, _, g| {
                    let cdf = half * (one + (x * k).erf());
                    let pdf = norm * (-half * x * x).exp();
                    g * (cdf + x * pdf)
                })
            }
            UnaryOp::GeluTanh => {
                let (k, a) = (c(SQRT_2_OVER_PI), c(GELU_TANH_COEF));
                let three_a = c(3.0 * GELU_TANH_COEF);
                zip3_map(x, y, g, move |x, _, g| {
                    let x2 = x * x;
                    let t = (k * (x + a * x2 * x)).tanh();
                    let dinner = k * (one + three_a * x2);
                    g * (half * (one + t) + half * x * (one - t * t) * dinner)
                })
            }
            UnaryOp::Silu => zip3_map(x, y, g, move |x, _, g| {
                let s = sigmoid(x);
                g * s * (one + x * (one - s))
            }),
            UnaryOp::Softplus { beta, threshold } => {
                let (b, t) = (c(beta), c(threshold));
                zip3_map(
                    x,
                    y,
                    g,
                    move |x, _, g| if x * b > t { g } else { g * sigmoid(x * b) },
                )
            }
            UnaryOp::Elu(alpha) => {
                let a = c(alpha);
                zip3_map(
                    x,
                    y,
                    g,
                    move |x, _, g| if x > zero { g } else { g * a * x.exp() },
                )
            }
            UnaryOp::Erf => {
                let k = c(std::f64::consts::FRAC_2_SQRT_PI);
                zip3_map(x, y, g, move |x, _, g| g * k * (-x * x).exp())
            }
            UnaryOp::Square => zip3_map(x, y, g, move |x, _, g| g * two * x),
            UnaryOp::Reciprocal => zip3_map(x, y, g, move |_, y, g| -g * y * y),
            UnaryOp::PowScalar(p) => {
                if p == 0.0 {
                    return zip3_map(x, y, g, move |_, _, _| zero);
                }
                let (pt, pm1) = (c(p), c(p - 1.0));
                zip3_map(x, y, g, move |x, _, g| g * pt * x.powf(pm1))
            }
            UnaryOp::Clamp(lo, hi) => {
                let (lo, hi) = (c(lo), c(hi));
                // NOTE: strictly inside only: PyTorch gives 0 exactly at a bound (see kink/clamp).
                zip3_map(
                    x,
                    y,
                    g,
                    move |x, _, g| if x > lo && x < hi { g } else { zero },
                )
            }
            UnaryOp::AddScalar(_) => zip3_map(x, y, g, move |_, _, g| g),
            UnaryOp::DivScalar(s) => {
                let s = c(s);
                zip3_map(x, y, g, move |_, _, g| g / s)
            }
            UnaryOp::MulScalar(s) => {
                let s = c(s);
                zip3_map(x, y, g, move |_, _, g| g * s)
            }
        }
    }
}

/// Gradient of a binary op with respect to one side: `Lhs` or `Rhs`.
struct BinaryGrad {
    op: BinaryOp,
    lhs: bool,
}

impl BinaryGrad {
    /// Inputs are (a, b, g) and the output of the forward is not needed.
    fn run(&self, a: &Tensor, b: &Tensor, g: &Tensor) -> Result<Tensor> {
        let storage = Tensor::float_map3("backward", a, b, g, self)?;
        Ok(Tensor::from_storage(storage, g.shape().clone()))
    }
}

impl Map3 for BinaryGrad {
    fn f<T: FloatElem>(
        &self,
        a: (&[T], &Layout),
        b: (&[T], &Layout),
        g: (&[T], &Layout),
    ) -> Vec<T> {
        let (zero, half) = (T::zero(), T::from_f64(0.5));
        match (self.op, self.lhs) {
            (BinaryOp::Div, true) => zip3_map(a, b, g, move |_, b, g| g / b),
            (BinaryOp::Div, false) => zip3_map(a, b, g, move |a, b, g| -g * a / (b * b)),
            (BinaryOp::Pow, true) => zip3_map(a, b, g, move |a, b, g| {
                if b == zero {
                    zero
                } else {
                    g * b * a.powf(b - T::one())
                }
            }),
            // NOTE: at a = 0 with b >= 0 PyTorch defines the exponent's gradient as 0 (the
            // limit of a^b ln a), instead of 0 * -inf = NaN.
            (BinaryOp::Pow, false) => zip3_map(a, b, g, move |a, b, g| {
                if a == zero && b >= zero {
                    zero
                } else {
                    g * a.powf(b) * a.ln()
                }
            }),
            (BinaryOp::Maximum, true) | (BinaryOp::Minimum, false) => {
                zip3_map(a, b, g, move |a, b, g| {
                    if a > b {
                        g
                    } else if a == b {
                        g * half
                    } else {
                        zero
                    }
                })
            }
            (BinaryOp::Maximum, false) | (BinaryOp::Minimum, true) => {
                zip3_map(a, b, g, move |a, b, g| {
                    if a < b {
                        g
                    } else if a == b {
                        g * half
                    } else {
                        zero
                    }
                })
            }
            // PyTorch's rules, which are not the derivatives of the clamped forward:
            // (p - y) / max(p (1 - p), 1e-12) for p, -logit(p) for y (infinite at 0 and 1).
            (BinaryOp::BinaryCrossEntropy, true) => {
                // NOTE: PyTorch's EPSILON is the float 1e-12 (9.99999996e-13 once widened),
                // also in float64; the widened value reproduces its numbers at a saturated p.
                let (one, eps) = (T::one(), T::from_f64(1e-12_f32 as f64));
                zip3_map(a, b, g, move |p, y, g| {
                    g * ((p - y) / ((one - p) * p).max(eps))
                })
            }
            (BinaryOp::BinaryCrossEntropy, false) => {
                let one = T::one();
                zip3_map(a, b, g, move |p, _, g| g * -(p / (one - p)).ln())
            }
            (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, _) => {
                unreachable!("linear ops use tensor rules")
            }
        }
    }
}

/// What [`apply`] gives back: one gradient per input, and for one input (its position)
/// what is known about its gradient beyond the values.
pub(super) struct Applied {
    pub grads: Grads,
    pub input_hint: Option<(usize, GradHint)>,
}

/// The gradient for each input of `op`, given its output and upstream gradient `g`.
/// `hint` says what the ops that read this output knew about `g`: masked already for a
/// ReLU (see `Op::ends_in_relu`), so a ReLU need not mask it again; its column sums, so a
/// linear layer need not sum them for its bias.
pub(super) fn apply(op: &Op, out: &Tensor, g: &Tensor, hint: GradHint) -> Result<Applied> {
    let need = |t: &Tensor| t.requires_grad();
    let plain = |grads| Applied {
        grads,
        input_hint: None,
    };
    Ok(match op {
        Op::Linear { x, w, b, relu } => {
            // 2-D operands (`linear` fuses only those); see tensor/linear.rs.
            let r = linear_backward((x, w, b.as_ref()), *relu, out, (g, hint), need)?;
            Applied {
                grads: smallvec![r.gx, r.gw, r.gb],
                input_hint: Some((0, r.gx_hint)),
            }
        }
        Op::Unary(_, UnaryOp::Relu) if hint.relu_masked => plain(smallvec![Some(g.clone())]),
        _ => plain(rule(op, out, g)?),
    })
}

/// The gradient for each input of `op` (other than a linear layer, which [`apply`]
/// handles), given its output and upstream gradient `g`.
fn rule(op: &Op, out: &Tensor, g: &Tensor) -> Result<Grads> {
    let need = |t: &Tensor| t.requires_grad();
    Ok(match op {
        Op::Unary(x, u) => {
            let storage = Tensor::float_map3("backward", x, out, g, &UnaryGrad(*u))?;
            smallvec![Some(Tensor::from_storage(storage, x.shape().clone()))]
        }
        Op::Binary(a, b, bop) => {
            let side = |t: &Tensor, lhs: bool| -> Result<Option<Tensor>> {
                if !need(t) {
                    return Ok(None);
                }
                Ok(Some(match (bop, lhs) {
                    (BinaryOp::Add, _) | (BinaryOp::Sub, true) => g.clone(),
                    (BinaryOp::Sub, false) => g.neg()?,
                    (BinaryOp::Mul, true) => g.mul(b)?,
                    (BinaryOp::Mul, false) => g.mul(a)?,
                    _ => BinaryGrad { op: *bop, lhs }.run(a, b, g)?,
                }))
            };
            smallvec![side(a, true)?, side(b, false)?]
        }
        Op::Sum(x) => smallvec![Some(g.expand(x.shape())?)],
        Op::Extremum(x) => {
            // Ties share the gradient: mask of the maxima, divided by how many there are.
            let mask = x.eq(&out.expand(x.shape())?)?.to_dtype(x.dtype())?;
            let count = mask.sum_to_shape(out.shape())?;
            smallvec![Some(mask.mul(&g.div(&count)?)?)]
        }
        Op::Matmul(a, b) => {
            let ga = if need(a) {
                Some(g.matmul(&b.transpose(-1, -2)?)?.sum_to_shape(a.shape())?)
            } else {
                None
            };
            let gb = if need(b) {
                Some(a.transpose(-1, -2)?.matmul(g)?.sum_to_shape(b.shape())?)
            } else {
                None
            };
            smallvec![ga, gb]
        }
        Op::Linear { .. } => unreachable!("apply runs linear's backward"),
        Op::Reshape(x) => smallvec![Some(g.reshape(x.shape().clone())?)],
        Op::Permute(_, perm) => {
            let mut inverse = vec![0usize; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            smallvec![Some(g.permute(&inverse)?)]
        }
        Op::Narrow { x, dim, start } => {
            // Zeros around the slice: cat(zeros before, g, zeros after).
            let (d, s) = (*dim, *start);
            let total = x.dims()[d];
            let len = g.dims()[d];
            let mut parts = Vec::with_capacity(3);
            let zeros = |n: usize| -> Result<Tensor> {
                let mut dims = x.dims().to_vec();
                dims[d] = n;
                Tensor::zeros(dims, g.dtype())
            };
            if s > 0 {
                parts.push(zeros(s)?);
            }
            parts.push(g.clone());
            if s + len < total {
                parts.push(zeros(total - s - len)?);
            }
            smallvec![Some(Tensor::cat(&parts, d)?)]
        }
        Op::Expand(x) => smallvec![Some(g.sum_to_shape(x.shape())?)],
        Op::Cat { xs, dim } => {
            let mut start = 0;
            let mut grads = Grads::new();
            for x in xs {
                let len = x.dims()[*dim];
                grads.push(need(x).then(|| g.narrow(*dim, start, len)).transpose()?);
                start += len;
            }
            grads
        }
        Op::Copy(_) => smallvec![Some(g.clone())],
        Op::Cast(x) => smallvec![Some(g.to_dtype(x.dtype())?)],
        Op::Gather { x, dim, index } => {
            smallvec![Some(Tensor::scatter_add_into(x.shape(), *dim, index, g)?)]
        }
        Op::IndexSelect { x, dim, index } => {
            smallvec![Some(Tensor::index_add_into(x.shape(), *dim, index, g)?)]
        }
        Op::Where { cond, a, b } => {
            let zeros = g.zeros_like()?;
            let ga = need(a)
                .then(|| Tensor::where_cond(cond, g, &zeros))
                .transpose()?;
            let gb = need(b)
                .then(|| Tensor::where_cond(cond, &zeros, g))
                .transpose()?;
            smallvec![ga, gb]
        }
        Op::Norm { x, p } => {
            // d||x||_p / dx = sign(x) |x|^(p-1) / ||x||^(p-1) = x |x|^(p-2) / ||x||^(p-1),
            // and 0 where the norm is 0 (PyTorch's convention; the formula gives NaN there).
            let n = out.expand(x.shape())?;
            let ratio = if *p == 2.0 {
                x.div(&n)?
            } else {
                let scale = x.abs()?.powf(p - 2.0)?.div(&n.powf(p - 1.0)?)?;
                let zero_x = x.eq_scalar(0.0)?;
                Tensor::where_cond(&zero_x, &x.zeros_like()?, &x.mul(&scale)?)?
            };
            let zero_n = n.eq_scalar(0.0)?;
            let ratio = Tensor::where_cond(&zero_n, &x.zeros_like()?, &ratio)?;
            smallvec![Some(ratio.mul(&g.expand(x.shape())?)?)]
        }
        Op::Softmax { dim, .. } => {
            // dx = y * (g - sum(g * y))
            let gy = g.mul(out)?;
            let s = gy.sum([*dim], true)?;
            smallvec![Some(gy.sub(&out.mul(&s)?)?)]
        }
        Op::LogSoftmax { dim, .. } => {
            // dx = g - softmax(x) * sum(g)
            let s = g.sum([*dim], true)?;
            smallvec![Some(g.sub(&out.exp()?.mul(&s)?)?)]
        }
        // dx = g (softmax(x) - onehot(target)), row by row (see tensor/cross_entropy.rs).
        Op::CrossEntropyRows { x, target, lse } => {
            smallvec![Some(cross_entropy_rows_backward(x, target, lse, g)?)]
        }
        // dx = col2im(W^T @ g), dW = g @ cols^T, db = sum of g (see tensor/conv.rs).
        Op::Conv2d { x, w, b, args } => Tensor::conv2d_backward(x, w, b.as_ref(), args, g)?,
        // g flows to each window's argmax; overlapping windows accumulate.
        Op::MaxPool2d { x, indices } => {
            smallvec![Some(Tensor::max_pool2d_backward(x, indices, g)?)]
        }
        // g / (window size) spread over each window.
        Op::AvgPool2d { x, pool } => smallvec![Some(Tensor::avg_pool2d_backward(x, pool, g)?)],
    })
}
