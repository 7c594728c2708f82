//! The "from scratch" tutorial: a 2-16-1 MLP whose forward and backward passes are written
//! by hand (each layer caches its input, computes its own gradients), trained with plain SGD
//! and a numerically stable BCE-with-logits on the toy-circle data (2-D normal points
//! labelled by x0^2 + x1^2 > 1). Autograd is off throughout: every gradient below is the
//! chain rule written out. `cargo test --example from_scratch` checks the hand-written
//! gradients against autograd's.
//!
//! `cargo run --release -p sinapsis --example from_scratch`

use sinapsis::data::synthetic::toy_circle;
use sinapsis::{no_grad, DType, Generator, Result, Tensor};

/// `y = x W^T + b`, caching `x` for the backward pass.
struct Dense {
    w: Tensor,
    b: Tensor,
    input: Option<Tensor>,
    grad_w: Option<Tensor>,
    grad_b: Option<Tensor>,
}

impl Dense {
    /// He-uniform weights (ReLU layers), zero bias.
    fn new(inputs: usize, outputs: usize, g: &mut Generator) -> Result<Dense> {
        let bound = (6.0 / inputs as f64).sqrt();
        Ok(Dense {
            w: g.uniform((outputs, inputs), -bound, bound, DType::F64)?,
            b: Tensor::zeros(outputs, DType::F64)?,
            input: None,
            grad_w: None,
            grad_b: None,
        })
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        self.input = Some(x.clone());
        x.matmul(&self.w.t()?)?.add(&self.b)
    }

    /// Given dL/dy `(B, out)`: stores dL/dW = dy^T x and dL/db = sum of dy over the batch,
    /// returns dL/dx = dy W.
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        let x = self.input.as_ref().expect("forward before backward");
        self.grad_w = Some(dy.t()?.matmul(x)?);
        self.grad_b = Some(dy.sum([0], false)?);
        dy.matmul(&self.w)
    }

    /// Plain SGD: `p -= lr * grad`.
    fn sgd_step(&mut self, lr: f64) -> Result<()> {
        let (gw, gb) = (self.grad_w.take(), self.grad_b.take());
        if let (Some(gw), Some(gb)) = (gw, gb) {
            self.w = self.w.sub(&gw.mul_scalar(lr)?)?;
            self.b = self.b.sub(&gb.mul_scalar(lr)?)?;
        }
        Ok(())
    }
}

/// `max(x, 0)`, caching which inputs were positive.
struct Relu {
    positive: Option<Tensor>,
}

impl Relu {
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        self.positive = Some(x.gt_scalar(0.0)?.to_dtype(DType::F64)?);
        x.relu()
    }

    /// dL/dx = dL/dy where the input was positive, else 0.
    fn backward(&self, dy: &Tensor) -> Result<Tensor> {
        dy.mul(self.positive.as_ref().expect("forward before backward"))
    }
}

/// Mean binary cross-entropy on logits `z` with targets `y` in {0, 1}, in the stable form
/// `max(z, 0) - z y + log(1 + exp(-|z|))` (never exponentiates a large positive number), and
/// its gradient `(sigmoid(z) - y) / B`.
fn bce_with_logits(z: &Tensor, y: &Tensor) -> Result<(f64, Tensor)> {
    let loss = z
        .clamp_min(0.0)?
        .sub(&z.mul(y)?)?
        .add(&z.abs()?.neg()?.exp()?.log1p()?)?
        .mean_all()?
        .item::<f64>()?;
    let batch = z.dims()[0] as f64;
    let grad = z.sigmoid()?.sub(y)?.div_scalar(batch)?;
    Ok((loss, grad))
}

/// The network: Dense(2, 16) - ReLU - Dense(16, 1), output a logit.
struct Mlp {
    fc1: Dense,
    act: Relu,
    fc2: Dense,
}

impl Mlp {
    fn new(seed: u64) -> Result<Mlp> {
        let mut g = Generator::new(seed);
        Ok(Mlp {
            fc1: Dense::new(2, 16, &mut g)?,
            act: Relu { positive: None },
            fc2: Dense::new(16, 1, &mut g)?,
        })
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let h = self.act.forward(&self.fc1.forward(x)?)?;
        self.fc2.forward(&h)
    }

    /// Backpropagates dL/dlogits through the layers, last to first.
    fn backward(&mut self, dz: &Tensor) -> Result<()> {
        let dh = self.fc2.backward(dz)?;
        let da = self.act.backward(&dh)?;
        self.fc1.backward(&da)?;
        Ok(())
    }

    fn sgd_step(&mut self, lr: f64) -> Result<()> {
        self.fc1.sgd_step(lr)?;
        self.fc2.sgd_step(lr)
    }
}

/// Toy-circle data as f64: `(x (n, 2), y (n, 1) in {0, 1})`.
fn data(n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let (x, y) = toy_circle(n, seed)?;
    Ok((
        x.to_dtype(DType::F64)?,
        y.to_dtype(DType::F64)?.reshape((n, 1))?,
    ))
}

fn accuracy(model: &mut Mlp, x: &Tensor, y: &Tensor) -> Result<f64> {
    let pred = model.forward(x)?.gt_scalar(0.0)?.to_dtype(DType::F64)?;
    pred.eq(y)?.to_dtype(DType::F64)?.mean_all()?.item::<f64>()
}

fn main() -> Result<()> {
    let _no_autograd = no_grad();
    let (x_train, y_train) = data(2000, 1)?;
    let (x_test, y_test) = data(1000, 2)?;
    let mut model = Mlp::new(0)?;
    let (lr, batch) = (0.5, 50);
    for epoch in 1..=60 {
        let mut total = 0.0;
        for start in (0..2000).step_by(batch) {
            let xb = x_train.narrow(0, start, batch)?;
            let yb = y_train.narrow(0, start, batch)?;
            let (loss, dz) = bce_with_logits(&model.forward(&xb)?, &yb)?;
            model.backward(&dz)?;
            model.sgd_step(lr)?;
            total += loss * batch as f64;
        }
        if epoch % 10 == 0 {
            println!(
                "epoch {epoch:>2}: loss {:.4}  train acc {:.1}%",
                total / 2000.0,
                100.0 * accuracy(&mut model, &x_train, &y_train)?
            );
        }
    }
    let test_acc = accuracy(&mut model, &x_test, &y_test)?;
    println!("test accuracy: {:.1}%", 100.0 * test_acc);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written gradients equal autograd's on the same network and batch.
    #[test]
    fn hand_written_gradients_equal_autograd() -> Result<()> {
        let (x, y) = data(64, 3)?;
        let mut model = Mlp::new(4)?;
        let (_, dz) = bce_with_logits(&model.forward(&x)?, &y)?;
        model.backward(&dz)?;

        let w1 = model.fc1.w.detach().requires_grad_(true)?;
        let b1 = model.fc1.b.detach().requires_grad_(true)?;
        let w2 = model.fc2.w.detach().requires_grad_(true)?;
        let b2 = model.fc2.b.detach().requires_grad_(true)?;
        let z = x.linear(&w1, Some(&b1))?.relu()?.linear(&w2, Some(&b2))?;
        let loss = sinapsis::nn::loss::binary_cross_entropy_with_logits(
            &z,
            &y,
            None,
            None,
            sinapsis::nn::loss::Reduction::Mean,
        )?;
        loss.backward()?;
        let pairs = [
            (&model.fc1.grad_w, &w1),
            (&model.fc1.grad_b, &b1),
            (&model.fc2.grad_w, &w2),
            (&model.fc2.grad_b, &b2),
        ];
        for (mine, param) in pairs {
            let mine = mine.as_ref().unwrap().to_vec::<f64>()?;
            let auto = param.grad().unwrap().to_vec::<f64>()?;
            assert_eq!(mine.len(), auto.len());
            for (a, b) in mine.iter().zip(&auto) {
                assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
        Ok(())
    }

    /// The stable loss equals the naive formula where that one is finite, and stays finite
    /// for large logits.
    #[test]
    fn stable_bce_matches_the_naive_formula() -> Result<()> {
        let z = Tensor::new(&[[-3.0f64], [0.5], [2.0]])?;
        let y = Tensor::new(&[[0.0f64], [1.0], [1.0]])?;
        let (loss, _) = bce_with_logits(&z, &y)?;
        let naive: f64 = [(-3.0f64, 0.0f64), (0.5, 1.0), (2.0, 1.0)]
            .iter()
            .map(|&(z, y)| {
                let p = 1.0 / (1.0 + (-z).exp());
                -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
            })
            .sum::<f64>()
            / 3.0;
        assert!((loss - naive).abs() < 1e-12);
        let (big, _) = bce_with_logits(&Tensor::new(&[[1000.0f64]])?, &Tensor::new(&[[0.0f64]])?)?;
        assert_eq!(big, 1000.0);
        Ok(())
    }
}
