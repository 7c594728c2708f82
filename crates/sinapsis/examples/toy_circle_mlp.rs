//! The README's training example: an MLP learns the toy circle (points with x0^2 + x1^2 > 1).

use sinapsis::nn::{loss::CrossEntropyLoss, Linear, Module, ModuleExt, ReLU, Sequential};
use sinapsis::optim::{Adam, AdamConfig, Optimizer};
use sinapsis::{DType, Tensor};

fn main() -> sinapsis::Result<()> {
    sinapsis::manual_seed(0);
    let x = Tensor::randn((256, 2), DType::F32)?;
    let y = x
        .square()?
        .sum([1], false)?
        .gt_scalar(1.0)?
        .to_dtype(DType::I64)?;
    let model = Sequential::new()
        .add(Linear::new(2, 64)?)
        .add(ReLU)
        .add(Linear::new(64, 2)?);
    println!("{}", model.repr());
    let mut opt = Adam::new(
        model.named_parameters(),
        AdamConfig {
            lr: 1e-2,
            ..Default::default()
        },
    )?;
    let loss_fn = CrossEntropyLoss::new();
    for epoch in 0..100 {
        opt.zero_grad();
        let loss = loss_fn.forward(&model.forward(&x)?, &y)?;
        loss.backward()?;
        opt.step()?;
        if epoch % 20 == 0 {
            println!("epoch {epoch}: loss {:.4}", loss.item::<f32>()?);
        }
    }
    Ok(())
}
