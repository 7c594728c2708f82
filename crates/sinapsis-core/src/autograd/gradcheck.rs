//! Finite-difference gradient checking, usable on any composition of ops.

use crate::{no_grad, DType, Error, Result, Tensor};
use rand::{Rng, SeedableRng};

/// Settings for [`gradcheck`]; the defaults are PyTorch's (`eps = 1e-6`, `atol = 1e-5`,
/// `rtol = 1e-3`).
#[derive(Clone, Debug)]
pub struct GradCheck {
    /// Half-width of the central difference.
    pub eps: f64,
    pub atol: f64,
    pub rtol: f64,
    /// Seed of the random upstream gradient the output is contracted with.
    pub seed: u64,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            seed: 0,
        }
    }
}

/// Checks the analytic gradients of `f` against central differences in float64.
///
/// Every input that requires grad (float64) is checked; other inputs (indices, masks,
/// constants) are passed through. The output is contracted with a fixed random tensor, so
/// every output element is exercised, not only their sum.
///
/// ```
/// use sinapsis_core::{gradcheck, Tensor};
/// # fn main() -> sinapsis_core::Result<()> {
/// let x = Tensor::new(&[[0.3f64, -1.2], [2.0, 0.7]])?.requires_grad_(true)?;
/// gradcheck(|xs| xs[0].tanh()?.mul(&xs[0].t()?), &[x])?;
/// # Ok(()) }
/// ```
pub fn gradcheck(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) -> Result<()> {
    GradCheck::default().run(f, inputs)
}

impl GradCheck {
    /// Runs the check with these settings (see [`gradcheck`]).
    pub fn run(&self, f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) -> Result<()> {
        let checked: Vec<usize> = (0..inputs.len())
            .filter(|&i| inputs[i].requires_grad())
            .collect();
        if checked.is_empty() {
            return Err(Error::GradCheck("no input requires grad".into()));
        }
        for &i in &checked {
            if inputs[i].dtype() != DType::F64 {
                return Err(Error::GradCheck(format!(
                    "input {i} is {}; finite differences need f64 inputs",
                    inputs[i].dtype()
                )));
            }
        }
        // Fresh leaves, so earlier gradients on the caller's tensors do not interfere.
        let leaves: Vec<Tensor> = inputs
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if checked.contains(&i) {
                    t.detach().copy()?.requires_grad_(true)
                } else {
                    Ok(t.clone())
                }
            })
            .collect::<Result<_>>()?;
        let out = f(&leaves)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
        let upstream: Vec<f64> = (0..out.numel())
            .map(|_| rng.random_range(0.5..1.5) * if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let upstream = Tensor::from_vec(upstream, out.shape().clone())?.to_dtype(out.dtype())?;
        out.mul(&upstream)?.sum_all()?.backward()?;

        let objective = |xs: &[Tensor]| -> Result<f64> {
            let _g = no_grad();
            let y = f(xs)?.to_dtype(DType::F64)?;
            y.mul(&upstream.to_dtype(DType::F64)?)?
                .sum_all()?
                .item::<f64>()
        };
        for &i in &checked {
            let analytic = match leaves[i].grad() {
                Some(g) => g.to_vec::<f64>()?,
                None => vec![0.0; leaves[i].numel()],
            };
            let base = leaves[i].to_vec::<f64>()?;
            let mut probe: Vec<Tensor> = leaves.iter().map(Tensor::detach).collect();
            for j in 0..base.len() {
                let mut at = |delta: f64| -> Result<f64> {
                    let mut v = base.clone();
                    v[j] += delta;
                    probe[i] = Tensor::from_vec(v, leaves[i].shape().clone())?;
                    objective(&probe)
                };
                let numeric = (at(self.eps)? - at(-self.eps)?) / (2.0 * self.eps);
                let a = analytic[j];
                // Written so that a NaN on either side fails the check.
                let within = (a - numeric).abs() <= self.atol + self.rtol * numeric.abs();
                if !within {
                    return Err(Error::GradCheck(format!(
                        "input {i} {}, element {j}: analytic gradient {a:.10e} but numeric \
                         {numeric:.10e} (atol {}, rtol {})",
                        leaves[i].shape(),
                        self.atol,
                        self.rtol
                    )));
                }
            }
        }
        Ok(())
    }
}
