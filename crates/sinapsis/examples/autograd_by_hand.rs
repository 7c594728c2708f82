//! The README's first example: a 2-layer MLP's forward and backward pass by hand.

use sinapsis::{DType, Tensor};

fn main() -> sinapsis::Result<()> {
    sinapsis::manual_seed(0);
    // A 2-layer MLP's forward and backward pass, by hand.
    let x = Tensor::randn((64, 2), DType::F32)?;
    let y = x
        .square()?
        .sum([1], true)?
        .gt_scalar(1.0)?
        .to_dtype(DType::F32)?;
    let w1 = Tensor::randn((10, 2), DType::F32)?.requires_grad_(true)?;
    let b1 = Tensor::zeros(10, DType::F32)?.requires_grad_(true)?;
    let w2 = Tensor::randn((1, 10), DType::F32)?.requires_grad_(true)?;

    let h = x.linear(&w1, Some(&b1))?.relu()?;
    let p = h.linear(&w2, None)?.sigmoid()?;
    let loss = p.sub(&y)?.square()?.mean_all()?;
    loss.backward()?;

    println!("loss = {}", loss.item::<f32>()?);
    println!("dL/dW1 = {}", w1.grad().unwrap());
    Ok(())
}
