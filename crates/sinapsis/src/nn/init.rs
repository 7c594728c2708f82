//! Parameter initialisation, as `torch.nn.init`: every function fills a tensor in place,
//! drawing from the default generator (seed it with `sinapsis::manual_seed`).

use crate::{no_grad, DType, Error, Result, Tensor};

/// Fan-in or fan-out, for the Kaiming initialisers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    FanIn,
    FanOut,
}

/// The recommended gain for a nonlinearity (`torch.nn.init.calculate_gain`): 1 for linear,
/// conv and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu
/// (slope defaults to 0.01), 3/4 for selu.
///
/// ```
/// use sinapsis::nn::init::calculate_gain;
/// assert_eq!(calculate_gain("relu", None)?, 2f64.sqrt());
/// assert_eq!(calculate_gain("tanh", None)?, 5.0 / 3.0);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn calculate_gain(nonlinearity: &str, param: Option<f64>) -> Result<f64> {
    Ok(match nonlinearity {
        "linear" | "conv1d" | "conv2d" | "conv3d" | "conv_transpose1d" | "conv_transpose2d"
        | "conv_transpose3d" | "sigmoid" => 1.0,
        "tanh" => 5.0 / 3.0,
        "relu" => 2f64.sqrt(),
        "leaky_relu" => {
            let slope = param.unwrap_or(0.01);
            (2.0 / (1.0 + slope * slope)).sqrt()
        }
        "selu" => 0.75,
        other => {
            return Err(Error::InvalidArgument {
                op: "calculate_gain",
                msg: format!("unsupported nonlinearity {other:?}"),
            })
        }
    })
}

/// `(fan_in, fan_out)` of a weight: `dims[1] * receptive field` and `dims[0] * receptive
/// field`, as PyTorch computes them.
///
/// # Shapes
/// The tensor needs at least 2 dims (`(out, in)` or `(out, in, kh, kw)`).
pub fn fans(t: &Tensor) -> Result<(usize, usize)> {
    if t.rank() < 2 {
        return Err(Error::InvalidArgument {
            op: "init",
            msg: format!(
                "fan in and fan out can not be computed for a tensor with fewer than 2 dims ({})",
                t.shape()
            ),
        });
    }
    let receptive: usize = t.dims()[2..].iter().product();
    Ok((t.dims()[1] * receptive, t.dims()[0] * receptive))
}

fn fill(t: &Tensor, values: Tensor) -> Result<()> {
    let _g = no_grad();
    t.copy_(&values.to_dtype(t.dtype())?)
}

fn float_dtype(t: &Tensor) -> Result<DType> {
    if !t.dtype().is_float() {
        return Err(Error::DType {
            op: "init",
            expected: "a floating-point tensor",
            got: t.dtype(),
        });
    }
    Ok(t.dtype())
}

/// Fills with U(a, b).
pub fn uniform_(t: &Tensor, a: f64, b: f64) -> Result<()> {
    fill(
        t,
        Tensor::uniform(t.shape().clone(), a, b, float_dtype(t)?)?,
    )
}

/// Fills with N(mean, std^2).
pub fn normal_(t: &Tensor, mean: f64, std: f64) -> Result<()> {
    fill(
        t,
        Tensor::normal(t.shape().clone(), mean, std, float_dtype(t)?)?,
    )
}

/// Fills with `value`.
pub fn constant_(t: &Tensor, value: f64) -> Result<()> {
    fill(t, Tensor::full(t.shape().clone(), value, t.dtype())?)
}

/// Fills with 0.
pub fn zeros_(t: &Tensor) -> Result<()> {
    constant_(t, 0.0)
}

/// Fills with 1.
pub fn ones_(t: &Tensor) -> Result<()> {
    constant_(t, 1.0)
}

/// Glorot uniform: U(-b, b) with `b = gain * sqrt(6 / (fan_in + fan_out))`.
pub fn xavier_uniform_(t: &Tensor, gain: f64) -> Result<()> {
    let (fi, fo) = fans(t)?;
    let bound = gain * (6.0 / (fi + fo) as f64).sqrt();
    uniform_(t, -bound, bound)
}

/// Glorot normal: N(0, std^2) with `std = gain * sqrt(2 / (fan_in + fan_out))`.
pub fn xavier_normal_(t: &Tensor, gain: f64) -> Result<()> {
    let (fi, fo) = fans(t)?;
    normal_(t, 0.0, gain * (2.0 / (fi + fo) as f64).sqrt())
}

fn kaiming_std(t: &Tensor, a: f64, mode: FanMode, nonlinearity: &str) -> Result<f64> {
    let (fi, fo) = fans(t)?;
    let fan = match mode {
        FanMode::FanIn => fi,
        FanMode::FanOut => fo,
    };
    if fan == 0 {
        return Err(Error::InvalidArgument {
            op: "kaiming init",
            msg: format!("cannot initialise an empty tensor {}", t.shape()),
        });
    }
    Ok(calculate_gain(nonlinearity, Some(a))? / (fan as f64).sqrt())
}

/// He uniform: U(-b, b) with `b = gain * sqrt(3 / fan)`; `a` is the leaky_relu slope.
/// PyTorch's `Linear`/`Conv` default is `kaiming_uniform_(w, a = sqrt(5))`, i.e.
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
pub fn kaiming_uniform_(t: &Tensor, a: f64, mode: FanMode, nonlinearity: &str) -> Result<()> {
    let bound = 3f64.sqrt() * kaiming_std(t, a, mode, nonlinearity)?;
    uniform_(t, -bound, bound)
}

/// He normal: N(0, std^2) with `std = gain / sqrt(fan)`.
pub fn kaiming_normal_(t: &Tensor, a: f64, mode: FanMode, nonlinearity: &str) -> Result<()> {
    normal_(t, 0.0, kaiming_std(t, a, mode, nonlinearity)?)
}

/// A (semi-)orthogonal matrix scaled by `gain` (`torch.nn.init.orthogonal_`): the Q factor
/// of a Gaussian matrix, with the sign convention that makes it uniformly distributed.
///
/// # Shapes
/// At least 2 dims; trailing dims are flattened into columns.
pub fn orthogonal_(t: &Tensor, gain: f64) -> Result<()> {
    if t.rank() < 2 {
        return Err(Error::InvalidArgument {
            op: "orthogonal_",
            msg: format!(
                "only tensors with 2 or more dimensions are supported, got {}",
                t.shape()
            ),
        });
    }
    let rows = t.dims()[0];
    let cols = t.numel() / rows.max(1);
    let (m, n) = (rows.max(cols), rows.min(cols));
    // Gaussian m x n (m >= n), orthonormalised column by column (modified Gram-Schmidt).
    // Positive diagonal of R is the same as PyTorch's `q *= sign(diag(r))`.
    let g = Tensor::randn((m, n), DType::F64)?.to_vec::<f64>()?;
    let mut q = vec![0.0; m * n];
    for j in 0..n {
        let mut v: Vec<f64> = (0..m).map(|i| g[i * n + j]).collect();
        for k in 0..j {
            let dot: f64 = (0..m).map(|i| q[i * n + k] * v[i]).sum();
            (0..m).for_each(|i| v[i] -= dot * q[i * n + k]);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        (0..m).for_each(|i| q[i * n + j] = v[i] / norm);
    }
    let q = Tensor::from_vec(q, (m, n))?;
    let q = if rows < cols { q.t()? } else { q };
    fill(t, q.mul_scalar(gain)?.reshape(t.shape().clone())?)
}
