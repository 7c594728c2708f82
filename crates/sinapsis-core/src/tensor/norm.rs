//! Functional normalisations (`batch_norm`, `layer_norm`) as compositions of existing ops, so
//! their gradients come from the rules already in `autograd/backward.rs`.

use super::Tensor;
use crate::{no_grad, Error, Result, Shape};

/// `x` as a tensor broadcastable against a `(N, C, *)` input of rank `rank`: `(1, C, 1..)`.
fn per_channel(t: &Tensor, rank: usize) -> Result<Tensor> {
    let mut dims = vec![1usize; rank];
    dims[1] = t.numel();
    t.reshape(dims)
}

/// Checks that an optional per-channel tensor has shape `(c)` and `x`'s dtype.
fn check_param(
    what: &str,
    t: Option<&Tensor>,
    x: &Tensor,
    want: &[usize],
    op: &'static str,
) -> Result<()> {
    let Some(t) = t else { return Ok(()) };
    x.check_same_dtype(op, t)?;
    if t.dims() != want {
        return Err(Error::shape(
            op,
            format!(
                "{what} has shape {} but input {} needs {}",
                t.shape(),
                x.shape(),
                Shape::from(want)
            ),
        ));
    }
    Ok(())
}

impl Tensor {
    /// Batch normalisation over the channel dim 1 (`torch.nn.functional.batch_norm`).
    ///
    /// In training mode each channel is normalised with the batch mean and the biased
    /// variance, and `running_mean` / `running_var`, when given, are updated in place (under
    /// `no_grad`) to `(1 - momentum) * running + momentum * batch`, the variance unbiased.
    /// In evaluation mode the running statistics are used instead (and are required).
    /// `weight` (gamma) and `bias` (beta) then scale and shift each channel.
    ///
    /// # Shapes
    /// `self: (N, C)` or `(N, C, *)`; `running_mean`, `running_var`, `weight`, `bias: (C)`;
    /// result as `self`.
    ///
    /// ```
    /// # use sinapsis_core::{DType, Tensor};
    /// let x = Tensor::new(&[[1.0f64, 10.0], [3.0, 30.0]])?;
    /// let (rm, rv) = (Tensor::zeros(2, DType::F64)?, Tensor::ones(2, DType::F64)?);
    /// let y = x.batch_norm(Some(&rm), Some(&rv), None, None, true, 0.1, 0.0)?;
    /// assert_eq!(y.to_vec::<f64>()?, vec![-1.0, -1.0, 1.0, 1.0]);
    /// assert_eq!(rm.to_vec::<f64>()?, vec![0.2, 2.0]); // 0.9 * 0 + 0.1 * mean
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm(
        &self,
        running_mean: Option<&Tensor>,
        running_var: Option<&Tensor>,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        training: bool,
        momentum: f64,
        eps: f64,
    ) -> Result<Tensor> {
        const OP: &str = "batch_norm";
        self.check_float(OP)?;
        if self.rank() < 2 {
            return Err(Error::shape(
                OP,
                format!(
                    "expected an input of shape (N, C) or (N, C, *), got {}",
                    self.shape()
                ),
            ));
        }
        let (r, c) = (self.rank(), self.dims()[1]);
        check_param("running_mean", running_mean, self, &[c], OP)?;
        check_param("running_var", running_var, self, &[c], OP)?;
        check_param("weight", weight, self, &[c], OP)?;
        check_param("bias", bias, self, &[c], OP)?;
        let dims: Vec<usize> = std::iter::once(0).chain(2..r).collect();
        let (xc, inv_std) = if training {
            let count = self.numel() / c.max(1);
            if count <= 1 {
                return Err(Error::shape(
                    OP,
                    format!(
                        "expected more than 1 value per channel when training, got input {}",
                        self.shape()
                    ),
                ));
            }
            let mean = self.mean(&dims[..], true)?;
            let xc = self.sub(&mean)?;
            let var = xc.square()?.mean(&dims[..], true)?;
            if running_mean.is_some() || running_var.is_some() {
                let _guard = no_grad();
                let m = momentum;
                if let Some(rm) = running_mean {
                    let new = rm
                        .mul_scalar(1.0 - m)?
                        .add(&mean.detach().reshape(c)?.mul_scalar(m)?)?;
                    rm.copy_(&new)?;
                }
                if let Some(rv) = running_var {
                    let unbiased = var
                        .detach()
                        .reshape(c)?
                        .mul_scalar(count as f64 / (count - 1) as f64)?;
                    let new = rv.mul_scalar(1.0 - m)?.add(&unbiased.mul_scalar(m)?)?;
                    rv.copy_(&new)?;
                }
            }
            (xc, var.add_scalar(eps)?.sqrt()?.reciprocal()?)
        } else {
            let (Some(rm), Some(rv)) = (running_mean, running_var) else {
                return Err(Error::invalid(
                    OP,
                    "running_mean and running_var must be given in evaluation mode",
                ));
            };
            let xc = self.sub(&per_channel(rm, r)?)?;
            (
                xc,
                per_channel(rv, r)?.add_scalar(eps)?.sqrt()?.reciprocal()?,
            )
        };
        let mut y = xc.mul(&inv_std)?;
        if let Some(w) = weight {
            y = y.mul(&per_channel(w, r)?)?;
        }
        if let Some(b) = bias {
            y = y.add(&per_channel(b, r)?)?;
        }
        Ok(y)
    }

    /// Layer normalisation over the trailing `normalized_shape` dims
    /// (`torch.nn.functional.layer_norm`): mean and biased variance per sample, then an
    /// optional elementwise `weight` and `bias`.
    ///
    /// # Shapes
    /// `self: (*, normalized_shape)`; `weight`, `bias: normalized_shape`; result as `self`.
    ///
    /// ```
    /// # use sinapsis_core::Tensor;
    /// let x = Tensor::new(&[[1.0f64, 3.0], [10.0, 30.0]])?;
    /// let y = x.layer_norm(&[2], None, None, 0.0)?;
    /// assert_eq!(y.to_vec::<f64>()?, vec![-1.0, 1.0, -1.0, 1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn layer_norm(
        &self,
        normalized_shape: &[usize],
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f64,
    ) -> Result<Tensor> {
        const OP: &str = "layer_norm";
        self.check_float(OP)?;
        let k = normalized_shape.len();
        let r = self.rank();
        if k == 0 || k > r || self.dims()[r - k..] != *normalized_shape {
            return Err(Error::shape(
                OP,
                format!(
                    "normalized_shape {} must be non-empty and match the trailing dims of input {}",
                    Shape::from(normalized_shape),
                    self.shape()
                ),
            ));
        }
        check_param("weight", weight, self, normalized_shape, OP)?;
        check_param("bias", bias, self, normalized_shape, OP)?;
        let dims: Vec<usize> = (r - k..r).collect();
        let xc = self.sub(&self.mean(&dims[..], true)?)?;
        let var = xc.square()?.mean(&dims[..], true)?;
        let mut y = xc.mul(&var.add_scalar(eps)?.sqrt()?.reciprocal()?)?;
        if let Some(w) = weight {
            y = y.mul(w)?;
        }
        if let Some(b) = bias {
            y = y.add(b)?;
        }
        Ok(y)
    }
}
