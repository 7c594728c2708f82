//! Gradient clipping (`torch.nn.utils.clip_grad_norm_`, `clip_grad_value_`): call between
//! `backward` and `optimizer.step()`.
//!
//! NOTE: the clipped gradient replaces the old one (`set_grad`) rather than being scaled in
//! place: a gradient tensor may be shared (the same tensor can be the gradient of two
//! parameters, or a broadcast view), and scaling it in place would scale it twice.

use crate::{DType, Error, Result, Tensor};

/// Rescales the gradients of `params` so that their combined norm is at most `max_norm`,
/// and returns the combined norm from before clipping (PyTorch's `clip_grad_norm_`).
///
/// The combined norm is the `norm_type`-norm of the vector of per-parameter gradient norms
/// (the same as the norm of all gradients concatenated): `2.0` for the Euclidean norm,
/// `f64::INFINITY` for the largest absolute value, any `p > 0` for a p-norm. Then
///
/// ```text
/// clip_coef = max_norm / (total_norm + 1e-6)
/// g = g * clip_coef        for every gradient, when clip_coef < 1
/// ```
///
/// Parameters without a gradient are skipped; with none at all the norm is 0. A non-finite
/// norm is returned as is (the gradients then become NaN, as in PyTorch).
///
/// ```
/// use sinapsis::optim::clip_grad_norm_;
/// use sinapsis::Tensor;
/// # fn main() -> sinapsis::Result<()> {
/// let w = Tensor::zeros(2, sinapsis::DType::F64)?;
/// w.set_grad(Some(Tensor::from_vec(vec![3.0f64, 4.0], 2)?));
/// let norm = clip_grad_norm_(&[w.clone()], 1.0, 2.0)?;
/// assert_eq!(norm, 5.0);
/// let g = w.grad().unwrap().to_vec::<f64>()?;
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// # Ok(()) }
/// ```
pub fn clip_grad_norm_(params: &[Tensor], max_norm: f64, norm_type: f64) -> Result<f64> {
    const OP: &str = "clip_grad_norm_";
    if max_norm.is_nan() || max_norm < 0.0 {
        return Err(Error::InvalidArgument {
            op: OP,
            msg: format!("max_norm must be >= 0, got {max_norm:?}"),
        });
    }
    if norm_type.is_nan() || norm_type <= 0.0 {
        return Err(Error::InvalidArgument {
            op: OP,
            msg: format!("norm_type must be > 0 (a p-norm) or infinity, got {norm_type:?}"),
        });
    }
    let _guard = crate::no_grad();
    let grads: Vec<(&Tensor, Tensor)> = params
        .iter()
        .filter_map(|p| p.grad().map(|g| (p, g)))
        .collect();
    if grads.is_empty() {
        return Ok(0.0);
    }
    let mut norms = Vec::with_capacity(grads.len());
    for (_, g) in &grads {
        norms.push(grad_norm(g, norm_type)?);
    }
    let total = vector_norm(norms.into_iter(), norm_type);
    let clip_coef = max_norm / (total + 1e-6);
    // NOTE: PyTorch multiplies by min(clip_coef, 1) always; a factor of 1 changes nothing,
    // so the gradients are left alone then. A NaN coefficient does scale (to NaN).
    if clip_coef.is_nan() || clip_coef < 1.0 {
        for (p, g) in &grads {
            p.set_grad(Some(g.mul_scalar(clip_coef)?));
        }
    }
    Ok(total)
}

/// Clamps every gradient of `params` to `[-clip_value, clip_value]` (PyTorch's
/// `clip_grad_value_`). Parameters without a gradient are skipped.
///
/// ```
/// use sinapsis::optim::clip_grad_value_;
/// use sinapsis::Tensor;
/// # fn main() -> sinapsis::Result<()> {
/// let w = Tensor::zeros(3, sinapsis::DType::F32)?;
/// w.set_grad(Some(Tensor::from_vec(vec![-2.0f32, 0.25, 7.0], 3)?));
/// clip_grad_value_(&[w.clone()], 0.5)?;
/// assert_eq!(w.grad().unwrap().to_vec::<f32>()?, [-0.5, 0.25, 0.5]);
/// # Ok(()) }
/// ```
pub fn clip_grad_value_(params: &[Tensor], clip_value: f64) -> Result<()> {
    if clip_value.is_nan() || clip_value < 0.0 {
        return Err(Error::InvalidArgument {
            op: "clip_grad_value_",
            msg: format!("clip_value must be >= 0, got {clip_value:?}"),
        });
    }
    let _guard = crate::no_grad();
    for p in params {
        if let Some(g) = p.grad() {
            p.set_grad(Some(g.clamp(-clip_value, clip_value)?));
        }
    }
    Ok(())
}

/// The `ord`-norm of one gradient, accumulated in f64 whatever its dtype (read in place
/// when contiguous).
fn grad_norm(g: &Tensor, ord: f64) -> Result<f64> {
    match g.dtype() {
        DType::F64 if g.is_contiguous() => {
            g.with_slice(|x: &[f64]| vector_norm(x.iter().copied(), ord))
        }
        DType::F32 if g.is_contiguous() => {
            g.with_slice(|x: &[f32]| vector_norm(x.iter().map(|&v| f64::from(v)), ord))
        }
        DType::F32 | DType::F64 => Ok(vector_norm(g.to_f64_vec()?.into_iter(), ord)),
        dt => Err(Error::DType {
            op: "clip_grad_norm_",
            expected: "a floating-point gradient",
            got: dt,
        }),
    }
}

/// `torch.linalg.vector_norm(x, ord)` for `ord > 0` or infinity.
fn vector_norm(x: impl Iterator<Item = f64>, ord: f64) -> f64 {
    if ord == f64::INFINITY {
        // NaN-propagating max, like torch.
        x.fold(0.0f64, |m, v| {
            if m.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                m.max(v.abs())
            }
        })
    } else if ord == 1.0 {
        x.map(f64::abs).sum()
    } else if ord == 2.0 {
        x.map(|v| v * v).sum::<f64>().sqrt()
    } else {
        x.map(|v| v.abs().powf(ord)).sum::<f64>().powf(1.0 / ord)
    }
}
