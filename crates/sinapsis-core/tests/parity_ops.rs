//! Parity with PyTorch on every case of `fixtures/ops.json`: outputs, indices, and the
//! gradients of `sum(out * upstream)` for each input.

mod common;

use common::{assert_close, tolerances, Fixtures, CONV_CASES};
use serde_json::Value;
use sinapsis_core::{Result, Tensor};

fn unary(name: &str, x: &Tensor) -> Result<Tensor> {
    match name {
        "neg" => x.neg(),
        "exp" => x.exp(),
        "log" => x.log(),
        "sqrt" => x.sqrt(),
        "abs" => x.abs(),
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tanh" => x.tanh(),
        "sigmoid" => x.sigmoid(),
        "relu" => x.relu(),
        "leaky_relu_0.01" => x.leaky_relu(0.01),
        "gelu_erf" => x.gelu(),
        "gelu_tanh" => x.gelu_tanh(),
        "silu" => x.silu(),
        "softplus" => x.softplus(),
        "elu" => x.elu(1.0),
        "square" => x.square(),
        "reciprocal" => x.reciprocal(),
        "pow_3" => x.powf(3.0),
        "pow_0.5" => x.powf(0.5),
        "clamp_-0.5_0.5" => x.clamp(-0.5, 0.5),
        "log_sigmoid" => x.log_sigmoid(),
        "erf" => x.erf(),
        other => panic!("unknown unary case {other}"),
    }
}

fn dims_arg(args: &Value) -> Vec<i64> {
    args["dims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_i64().unwrap())
        .collect()
}

/// Computes a case; `Some(indices)` alongside for max/min along a dim.
fn run(name: &str, args: &Value, x: &[Tensor]) -> Result<(Tensor, Option<Tensor>)> {
    let parts: Vec<&str> = name.split('/').collect();
    let keep = args
        .get("keepdim")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let dim = args.get("dim").and_then(Value::as_i64).unwrap_or(0);
    let out = match parts.as_slice() {
        ["unary", f] => unary(f, &x[0])?,
        ["kink", "relu"] => x[0].relu()?,
        ["kink", "abs"] => x[0].abs()?,
        ["kink", "clamp"] => x[0].clamp(-1.0, 1.0)?,
        ["kink", "maximum_tie"] => x[0].maximum(&x[1])?,
        ["kink", "max_all_tie"] => x[0].max_all()?,
        ["binary", "pow_tensor"] => x[0].pow(&x[1])?,
        ["binary", op, _] => match *op {
            "add" => &x[0] + &x[1],
            "sub" => &x[0] - &x[1],
            "mul" => &x[0] * &x[1],
            "div" => &x[0] / &x[1],
            "maximum" => x[0].maximum(&x[1]),
            "minimum" => x[0].minimum(&x[1]),
            other => panic!("unknown binary case {other}"),
        }?,
        ["reduce", "sum", ..] => x[0].sum(dims_arg(args), keep)?,
        ["reduce", "mean", ..] => x[0].mean(dims_arg(args), keep)?,
        ["reduce", "amax", ..] => x[0].amax(dims_arg(args), keep)?,
        ["reduce", "max_dim", ..] => {
            let (v, i) = x[0].max_dim(dim, keep)?;
            return Ok((v, Some(i)));
        }
        ["reduce", "min_dim", ..] => {
            let (v, i) = x[0].min_dim(dim, keep)?;
            return Ok((v, Some(i)));
        }
        ["reduce", "logsumexp", ..] => x[0].logsumexp([dim], keep)?,
        ["reduce", "var", ..] => {
            let c = args["correction"].as_u64().unwrap() as usize;
            x[0].var([dim], c, keep)?
        }
        ["reduce", "sum_all"] => x[0].sum_all()?,
        ["reduce", "mean_all"] => x[0].mean_all()?,
        ["reduce", "argmax_dim1"] => x[0].argmax(1, false)?.to_dtype(x[0].dtype())?,
        ["matmul", "transposed_lhs"] => x[0].t()?.matmul(&x[1])?,
        ["matmul", _] => x[0].matmul(&x[1])?,
        ["shape", "reshape"] => x[0].reshape((6, 4))?,
        ["shape", "transpose_0_1"] => x[0].transpose(0, 1)?,
        ["shape", "permute_2_0_1"] => x[0].permute(&[2, 0, 1])?,
        ["shape", "narrow_dim2_1_2"] => x[0].narrow(2, 1, 2)?,
        ["shape", "expand"] => x[0].expand((3, 4))?,
        ["shape", "unsqueeze_1"] => x[0].unsqueeze(1)?,
        ["shape", "squeeze_1"] => x[0].squeeze(1)?,
        ["shape", "flatten_1"] => x[0].flatten(1, -1)?,
        ["shape", "cat_dim0"] => Tensor::cat(&x[..2], 0)?,
        ["shape", "cat_dim1"] => Tensor::cat(&x[..2], 1)?,
        ["shape", "stack_dim1"] => Tensor::stack(&x[..2], 1)?,
        ["shape", "contiguous_after_transpose"] => (x[0].t()?.contiguous()? * 2.0)?,
        ["index", "gather_dim1"] => x[0].gather(1, &x[1])?,
        ["index", "index_select_dim0"] => x[0].index_select(0, &x[1])?,
        ["index", "where"] => Tensor::where_cond(&x[0], &x[1], &x[2])?,
        ["index", "masked_fill"] => x[0].masked_fill(&x[1], 0.0)?,
        ["nn", "softmax_last"] => x[0].softmax(-1)?,
        ["nn", "softmax_dim0"] => x[0].softmax(0)?,
        ["nn", "log_softmax_last" | "log_softmax_large"] | ["f32", "log_softmax"] => {
            x[0].log_softmax(-1)?
        }
        ["nn" | "f32", "linear"] => x[0].linear(&x[1], Some(&x[2]))?,
        ["nn", "linear_nobias"] => x[0].linear(&x[1], None)?,
        _ => panic!("no implementation for fixture case {name}"),
    };
    Ok((out, None))
}

#[test]
fn every_ops_fixture_case_matches_pytorch() {
    let fx = Fixtures::load("ops");
    let mut checked = 0;
    for case in fx.cases() {
        let name = case["name"].as_str().unwrap();
        if CONV_CASES.contains(&name) {
            continue;
        }
        let grads: Vec<Option<&str>> = case
            .get("grads")
            .and_then(Value::as_array)
            .map(|g| g.iter().map(Value::as_str).collect())
            .unwrap_or_default();
        let inputs: Vec<Tensor> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let t = fx.tensor(k.as_str().unwrap());
                if grads.get(i).copied().flatten().is_some() {
                    t.requires_grad_(true).unwrap()
                } else {
                    t
                }
            })
            .collect();
        let (out, indices) =
            run(name, &case["args"], &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = fx.tensor(case["output"].as_str().unwrap());
        let (fwd_tol, grad_tol) = tolerances(want.dtype());
        assert_close(&format!("{name} output"), &out, &want, fwd_tol);
        if let Some(key) = case.get("indices").and_then(Value::as_str) {
            let want_idx = fx.tensor(key);
            assert_eq!(
                indices.expect("indices").to_vec::<i64>().unwrap(),
                want_idx.to_vec::<i64>().unwrap(),
                "{name}: indices"
            );
        }
        if let Some(up) = case.get("upstream").and_then(Value::as_str) {
            out.backward_with_grad(&fx.tensor(up))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            for (i, g) in grads.iter().enumerate() {
                let Some(key) = g else { continue };
                let got = inputs[i]
                    .grad()
                    .unwrap_or_else(|| panic!("{name}: no grad for input {i}"));
                assert_close(&format!("{name} grad{i}"), &got, &fx.tensor(key), grad_tol);
            }
        }
        checked += 1;
    }
    assert_eq!(checked + CONV_CASES.len(), fx.cases().len());
    assert!(checked >= 140, "only {checked} cases checked");
}
