//! Losses against PyTorch: every case of `fixtures/losses.json` (values and the gradients of
//! `sum(out * upstream)` for each float input), finite-difference gradient checks of every
//! loss away from its kinks, a slow reference for the cross-entropy options combined, and
//! the errors bad input gets.

// The fixture reader is shared with sinapsis-core's tests.
#[path = "../../sinapsis-core/tests/common/mod.rs"]
mod common;

use common::{assert_close, Fixtures};
use serde_json::Value;
use sinapsis::nn::loss::*;
use sinapsis::{gradcheck, no_grad, DType, Error, Result, Tensor};

// ---- PyTorch parity ---------------------------------------------------------------------

fn f64_list(v: &Value) -> Tensor {
    let xs: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let n = xs.len();
    Tensor::from_vec(xs, n).unwrap()
}

/// Computes fixture case `name` on inputs `x` (the losses' PyTorch arguments live in the
/// name and in `args`).
fn run(name: &str, args: &Value, x: &[Tensor]) -> Result<Tensor> {
    let (input, target) = (&x[0], &x[1]);
    match name {
        "mse/mean" => mse_loss(input, target, Reduction::Mean),
        "mse/sum" => MSELoss::new()
            .reduction(Reduction::Sum)
            .forward(input, target),
        "mse/none" => mse_loss(input, target, Reduction::None),
        "l1/mean" => L1Loss::new().forward(input, target),
        "huber/mean_d1" => HuberLoss::new().delta(1.0).forward(input, target),
        "smooth_l1/mean_b1" => smooth_l1_loss(input, target, 1.0, Reduction::Mean),
        "bce/mean" | "bce/saturated" => BCELoss::new().forward(input, target),
        "bce/sum" => binary_cross_entropy(input, target, None, Reduction::Sum),
        "bce_logits/mean" | "bce_logits/extreme" => BCEWithLogitsLoss::new().forward(input, target),
        "bce_logits/pos_weight" => {
            let pw = f64_list(&args["pos_weight"]);
            binary_cross_entropy_with_logits(input, target, None, Some(&pw), Reduction::Mean)
        }
        "ce/mean" | "ce/large_logits" | "ce/probs_target" => {
            CrossEntropyLoss::new().forward(input, target)
        }
        "ce/sum" => cross_entropy(input, target, None, -100, Reduction::Sum, 0.0),
        "ce/none" => CrossEntropyLoss::new()
            .reduction(Reduction::None)
            .forward(input, target),
        "ce/weight" => CrossEntropyLoss::new()
            .weight(f64_list(&args["weight"]))
            .forward(input, target),
        "ce/label_smoothing_0.1" => {
            let e = args["label_smoothing"].as_f64().unwrap();
            CrossEntropyLoss::new()
                .label_smoothing(e)
                .forward(input, target)
        }
        "ce/ignore_index" => {
            let ignore = args["ignore_index"].as_i64().unwrap();
            cross_entropy(input, target, None, ignore, Reduction::Mean, 0.0)
        }
        "nll/mean" => NLLLoss::new().forward(input, target),
        "kl_div/batchmean" => KLDivLoss::new()
            .reduction(Reduction::BatchMean)
            .forward(input, target),
        other => panic!("unknown loss case {other}: add it to this test"),
    }
}

#[test]
fn every_fixture_case_matches_pytorch() {
    let fx = Fixtures::load("losses");
    let cases = fx.cases();
    let tol = 1e-10; // float64 cases: |a - b| <= 1e-10 max(1, |b|)
    let mut checked = Vec::new();
    let mut grads_checked = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        assert_eq!(case["dtype"], "float64", "{name}");
        let grads: Vec<Option<&str>> = case["grads"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_str)
            .collect();
        let inputs: Vec<Tensor> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&grads)
            .map(|(key, grad)| {
                let t = fx.tensor(key.as_str().unwrap());
                if grad.is_some() {
                    t.requires_grad_(true).unwrap()
                } else {
                    t
                }
            })
            .collect();
        let out = run(name, &case["args"], &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want_shape: Vec<usize> = case["output_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(out.dims(), want_shape, "{name}: output shape");
        assert_close(
            &format!("{name}: output"),
            &out,
            &fx.tensor(case["output"].as_str().unwrap()),
            tol,
        );

        let upstream = fx.tensor(case["upstream"].as_str().unwrap());
        out.mul(&upstream)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (i, (x, grad)) in inputs.iter().zip(&grads).enumerate() {
            if let Some(key) = grad {
                let got = x
                    .grad()
                    .unwrap_or_else(|| panic!("{name}: input {i} got no gradient"));
                assert_close(&format!("{name}: grad {i}"), &got, &fx.tensor(key), tol);
                grads_checked += 1;
            }
        }
        checked.push(name.to_string());
    }
    assert_eq!(checked.len(), cases.len());
    assert_eq!(checked.len(), 22, "losses.json has 22 cases: {checked:?}");
    assert_eq!(
        grads_checked, 36,
        "14 cases with two float inputs, 8 with an i64 target"
    );
}

#[test]
fn fixture_edge_cases_stay_finite_and_keep_pytorch_conventions() {
    let fx = Fixtures::load("losses");
    // BCE at p = 1 with y = 0: the log is clamped (loss 100), the input's gradient is
    // (p - y) / 1e-12 and the target's is -logit(1) = -inf, as in PyTorch.
    let p = fx.tensor("bce/saturated/in0").requires_grad_(true).unwrap();
    let y = fx.tensor("bce/saturated/in1").requires_grad_(true).unwrap();
    let l = binary_cross_entropy(&p, &y, None, Reduction::Sum).unwrap();
    assert!(l.item::<f64>().unwrap().is_finite());
    l.backward().unwrap();
    let gp = p.grad().unwrap().to_vec::<f64>().unwrap();
    let eps = 1e-12_f32 as f64; // PyTorch's EPSILON is a float
    assert_eq!(gp[..2], [1.0 / eps, -1.0 / eps]);
    assert_eq!(
        y.grad().unwrap().to_vec::<f64>().unwrap()[..2],
        [f64::NEG_INFINITY, f64::INFINITY]
    );
    // Logits of magnitude ~1e3 in f32 as well.
    let x = fx
        .tensor("ce/large_logits/in0")
        .to_dtype(DType::F32)
        .unwrap();
    let t = fx.tensor("ce/large_logits/in1");
    let l = cross_entropy(&x, &t, None, -100, Reduction::Mean, 0.0).unwrap();
    assert!(l.item::<f32>().unwrap().is_finite());
    let x = Tensor::new(&[[100.0f32], [-100.0]]).unwrap();
    let y = Tensor::new(&[[0.0f32], [1.0]]).unwrap();
    let l = binary_cross_entropy_with_logits(&x, &y, None, None, Reduction::Mean).unwrap();
    assert_eq!(l.item::<f32>().unwrap(), 100.0);
}

// ---- finite-difference gradient checks (float64, away from kinks) -----------------------

fn t64(v: &[f64], dims: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), dims.to_vec()).unwrap()
}

fn var(v: &[f64], dims: &[usize]) -> Tensor {
    t64(v, dims).requires_grad_(true).unwrap()
}

/// Deterministic values in (-2, 2), pairwise different.
fn values(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            (((i as u64 * 7919 + seed * 104729) % 1000) as f64 / 250.0) - 2.0 + 1e-3 * i as f64
        })
        .collect()
}

const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Mean, Reduction::Sum];

#[test]
fn gradcheck_regression_losses() {
    let x = values(12, 1);
    // Targets kept 0.3 away from each input: no |diff| near 0 (l1) or near delta/beta.
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v + [0.3, -0.6, 2.5, -1.7][i % 4])
        .collect();
    let (x, y) = (var(&x, &[3, 4]), var(&y, &[3, 4]));
    for r in REDUCTIONS {
        gradcheck(|v| mse_loss(&v[0], &v[1], r), &[x.clone(), y.clone()]).unwrap();
        gradcheck(|v| l1_loss(&v[0], &v[1], r), &[x.clone(), y.clone()]).unwrap();
        gradcheck(
            |v| huber_loss(&v[0], &v[1], 1.0, r),
            &[x.clone(), y.clone()],
        )
        .unwrap();
        gradcheck(
            |v| huber_loss(&v[0], &v[1], 0.45, r),
            &[x.clone(), y.clone()],
        )
        .unwrap();
        gradcheck(
            |v| smooth_l1_loss(&v[0], &v[1], 1.0, r),
            &[x.clone(), y.clone()],
        )
        .unwrap();
        gradcheck(
            |v| smooth_l1_loss(&v[0], &v[1], 2.0, r),
            &[x.clone(), y.clone()],
        )
        .unwrap();
        gradcheck(
            |v| smooth_l1_loss(&v[0], &v[1], 0.0, r),
            &[x.clone(), y.clone()],
        )
        .unwrap();
    }
}

#[test]
fn gradcheck_binary_losses() {
    let p: Vec<f64> = values(8, 2)
        .iter()
        .map(|v| 0.1 + 0.8 * (v + 2.0) / 4.0)
        .collect();
    let y: Vec<f64> = values(8, 3).iter().map(|v| (v + 2.0) / 4.0).collect();
    let (p, y) = (var(&p, &[4, 2]), var(&y, &[4, 2]));
    let logits = var(
        &values(8, 4).iter().map(|v| 3.0 * v).collect::<Vec<_>>(),
        &[4, 2],
    );
    let w = t64(&[0.5, 2.0, 1.5, 1.0], &[4, 1]);
    let pw = t64(&[3.0, 0.5], &[2]);
    for r in REDUCTIONS {
        gradcheck(
            |v| binary_cross_entropy(&v[0], &v[1], None, r),
            &[p.clone(), y.clone()],
        )
        .unwrap();
        gradcheck(
            |v| binary_cross_entropy(&v[0], &v[1], Some(&w), r),
            &[p.clone(), y.clone()],
        )
        .unwrap();
        let bce_logits = |v: &[Tensor], w: Option<&Tensor>, pw: Option<&Tensor>| {
            binary_cross_entropy_with_logits(&v[0], &v[1], w, pw, r)
        };
        gradcheck(|v| bce_logits(v, None, None), &[logits.clone(), y.clone()]).unwrap();
        gradcheck(
            |v| bce_logits(v, Some(&w), Some(&pw)),
            &[logits.clone(), y.clone()],
        )
        .unwrap();
    }
    // Smooth at a logit of exactly 0 (a zero-initialised last layer): d/dx = sigmoid(0) - y.
    let x0 = var(&[0.0, 0.0], &[2]);
    let l =
        binary_cross_entropy_with_logits(&x0, &t64(&[1.0, 0.0], &[2]), None, None, Reduction::Sum)
            .unwrap();
    l.backward().unwrap();
    assert_eq!(x0.grad().unwrap().to_vec::<f64>().unwrap(), vec![-0.5, 0.5]);
}

#[test]
fn gradcheck_classification_losses() {
    let (n, c) = (5, 4);
    let logits = var(&values(n * c, 5), &[n, c]);
    let classes = Tensor::new(&[3i64, 0, 2, 2, 1]).unwrap();
    let with_ignored = Tensor::new(&[3i64, 7, 2, 7, 1]).unwrap(); // ignore_index 7
    let w = t64(&[0.5, 2.0, 1.5, 1.0], &[c]);
    for r in REDUCTIONS {
        for e in [0.0, 0.2] {
            gradcheck(
                |v| cross_entropy(&v[0], &classes, None, -100, r, e),
                std::slice::from_ref(&logits),
            )
            .unwrap();
            gradcheck(
                |v| cross_entropy(&v[0], &classes, Some(&w), -100, r, e),
                std::slice::from_ref(&logits),
            )
            .unwrap();
            gradcheck(
                |v| cross_entropy(&v[0], &with_ignored, Some(&w), 7, r, e),
                std::slice::from_ref(&logits),
            )
            .unwrap();
        }
        let logp = logits
            .log_softmax(1)
            .unwrap()
            .detach()
            .requires_grad_(true)
            .unwrap();
        gradcheck(
            |v| nll_loss(&v[0], &classes, Some(&w), -100, r),
            std::slice::from_ref(&logp),
        )
        .unwrap();
        gradcheck(|v| nll_loss(&v[0], &with_ignored, None, 7, r), &[logp]).unwrap();
    }
    // Class probabilities: gradients for both the logits and the target.
    let probs = var(&values(n * c, 6), &[n, c])
        .detach()
        .softmax(1)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    for r in REDUCTIONS {
        for e in [0.0, 0.2] {
            gradcheck(
                |v| cross_entropy(&v[0], &v[1], Some(&w), -100, r, e),
                &[logits.clone(), probs.clone()],
            )
            .unwrap();
        }
    }
    // Spatial: (N, C, d1, d2) with (N, d1, d2) targets.
    let image = var(&values(2 * 3 * 2 * 2, 7), &[2, 3, 2, 2]);
    let pixels = Tensor::from_vec(vec![0i64, 2, 1, 1, 2, 0, -100, 1], (2, 2, 2)).unwrap();
    let w3 = t64(&[1.0, 0.5, 2.0], &[3]);
    for r in REDUCTIONS {
        gradcheck(
            |v| cross_entropy(&v[0], &pixels, Some(&w3), -100, r, 0.1),
            std::slice::from_ref(&image),
        )
        .unwrap();
    }
}

#[test]
fn gradcheck_kl_div() {
    let logq = var(&values(12, 8), &[3, 4])
        .detach()
        .log_softmax(1)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let p = var(&values(12, 9), &[3, 4])
        .detach()
        .softmax(1)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let logp = p.detach().log().unwrap().requires_grad_(true).unwrap();
    for r in [
        Reduction::None,
        Reduction::Mean,
        Reduction::Sum,
        Reduction::BatchMean,
    ] {
        gradcheck(
            |v| kl_div(&v[0], &v[1], r, false),
            &[logq.clone(), p.clone()],
        )
        .unwrap();
        gradcheck(
            |v| kl_div(&v[0], &v[1], r, true),
            &[logq.clone(), logp.clone()],
        )
        .unwrap();
    }
}

// ---- semantics beyond the fixtures ------------------------------------------------------

/// An obviously-correct cross entropy for class indices, straight from PyTorch's definition:
/// (1 - e) nll + e / C * smooth, with weights, ignore_index and the weighted mean.
fn reference_ce(
    logits: &[Vec<f64>],
    t: &[i64],
    w: &[f64],
    ignore: i64,
    e: f64,
    r: Reduction,
) -> Vec<f64> {
    let c = logits[0].len();
    let (mut per, mut total_w) = (Vec::new(), 0.0);
    for (row, &ti) in logits.iter().zip(t) {
        if ti == ignore {
            per.push(0.0);
            continue;
        }
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let logp: Vec<f64> = row.iter().map(|v| v - lse).collect();
        let nll = -w[ti as usize] * logp[ti as usize];
        let smooth: f64 = -(0..c).map(|k| w[k] * logp[k]).sum::<f64>();
        per.push((1.0 - e) * nll + e / c as f64 * smooth);
        total_w += w[ti as usize];
    }
    match r {
        Reduction::None => per,
        Reduction::Sum => vec![per.iter().sum()],
        _ => vec![per.iter().sum::<f64>() / total_w],
    }
}

#[test]
fn cross_entropy_options_combined_match_a_reference() {
    let (n, c) = (6, 5);
    let flat = values(n * c, 10);
    let rows: Vec<Vec<f64>> = flat
        .chunks(c)
        .map(|r| r.iter().map(|v| 3.0 * v).collect())
        .collect();
    let logits =
        Tensor::from_vec(flat.iter().map(|v| 3.0 * v).collect::<Vec<_>>(), (n, c)).unwrap();
    let t = [4i64, 2, 2, 0, 3, 1];
    let targets = Tensor::new(&t).unwrap();
    let w = [0.3, 1.7, 1.0, 2.5, 0.9];
    for (weight, ignore) in [(None, -100), (Some(&w), -100), (Some(&w), 2), (None, 0)] {
        let wt = weight.map(|w| t64(w, &[c]));
        let wv = weight.copied().unwrap_or([1.0; 5]);
        for e in [0.0, 0.1, 1.0] {
            for r in REDUCTIONS {
                let got = cross_entropy(&logits, &targets, wt.as_ref(), ignore, r, e).unwrap();
                let want = reference_ce(&rows, &t, &wv, ignore, e, r);
                let got = got.to_f64_vec().unwrap();
                for (a, b) in got.iter().zip(&want) {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                        "{weight:?} {ignore} {e} {r}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

#[test]
fn cross_entropy_shapes_unbatched_and_spatial() {
    let x = Tensor::new(&[[1.0f64, -0.5, 2.0], [0.3, 0.1, -1.0]]).unwrap();
    let t = Tensor::new(&[2i64, 0]).unwrap();
    let none = cross_entropy(&x, &t, None, -100, Reduction::None, 0.0).unwrap();
    assert_eq!(none.dims(), &[2]);
    // Unbatched (C) with a 0-d target: the first sample alone.
    let x0 = x.select(0, 0).unwrap();
    let t0 = Tensor::scalar(2i64);
    let single = cross_entropy(&x0, &t0, None, -100, Reduction::None, 0.0).unwrap();
    assert_eq!(single.dims(), &[] as &[usize]);
    assert_eq!(
        single.item::<f64>().unwrap(),
        none.to_vec::<f64>().unwrap()[0]
    );
    let probs = Tensor::new(&[0.0f64, 0.0, 1.0]).unwrap();
    let soft = CrossEntropyLoss::new().forward(&x0, &probs).unwrap();
    assert!((soft.item::<f64>().unwrap() - single.item::<f64>().unwrap()).abs() < 1e-15);
    // (N, C, d) equals (N * d, C) rows: class dim 1, as in PyTorch.
    let img = Tensor::from_vec(values(2 * 3 * 4, 11), (2, 3, 4)).unwrap();
    let tgt = Tensor::from_vec(vec![0i64, 1, 2, 1, 2, 2, 0, 1], (2, 4)).unwrap();
    let spatial = cross_entropy(&img, &tgt, None, -100, Reduction::None, 0.0).unwrap();
    assert_eq!(spatial.dims(), &[2, 4]);
    let rows = img.transpose(1, 2).unwrap().reshape((8, 3)).unwrap();
    let flat = cross_entropy(
        &rows,
        &tgt.reshape(8).unwrap(),
        None,
        -100,
        Reduction::None,
        0.0,
    )
    .unwrap();
    let (a, b) = (
        spatial.to_vec::<f64>().unwrap(),
        flat.to_vec::<f64>().unwrap(),
    );
    for (a, b) in a.iter().zip(&b) {
        assert!((a - b).abs() < 1e-14);
    }
    // f32 end to end.
    let xf = x
        .to_dtype(DType::F32)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let l = CrossEntropyLoss::new().forward(&xf, &t).unwrap();
    assert_eq!(l.dtype(), DType::F32);
    l.backward().unwrap();
    assert_eq!(xf.grad().unwrap().dims(), &[2, 3]);
}

#[test]
fn ignore_index_semantics() {
    let x = Tensor::new(&[[1.0f64, 2.0], [3.0, -1.0]])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    // Every target ignored: the mean is 0 / 0 = NaN (PyTorch), the sum 0.
    let all = Tensor::new(&[-100i64, -100]).unwrap();
    let mean = cross_entropy(&x, &all, None, -100, Reduction::Mean, 0.0).unwrap();
    assert!(mean.item::<f64>().unwrap().is_nan());
    assert_eq!(
        cross_entropy(&x, &all, None, -100, Reduction::Sum, 0.0)
            .unwrap()
            .item::<f64>()
            .unwrap(),
        0.0
    );
    // An ignored row gets no gradient, even with a -inf log-probability in it.
    let t = Tensor::new(&[1i64, -100]).unwrap();
    let l = cross_entropy(&x, &t, None, -100, Reduction::Sum, 0.2).unwrap();
    l.backward().unwrap();
    assert_eq!(
        x.grad().unwrap().to_vec2::<f64>().unwrap()[1],
        vec![0.0, 0.0]
    );
    let logp = Tensor::new(&[[f64::NEG_INFINITY, 0.0], [-1.0, -2.0]]).unwrap();
    let t = Tensor::new(&[0i64, 1]).unwrap();
    let l = nll_loss(&logp, &t, None, 0, Reduction::Mean).unwrap();
    assert_eq!(l.item::<f64>().unwrap(), 2.0);
}

#[test]
fn structs_have_pytorch_defaults() {
    let ce = CrossEntropyLoss::new();
    assert!(ce.weight.is_none());
    assert_eq!(
        (ce.ignore_index, ce.reduction, ce.label_smoothing),
        (-100, Reduction::Mean, 0.0)
    );
    let nll = NLLLoss::new();
    assert_eq!((nll.ignore_index, nll.reduction), (-100, Reduction::Mean));
    assert_eq!(HuberLoss::new().delta, 1.0);
    assert_eq!(SmoothL1Loss::new().beta, 1.0);
    assert_eq!(
        KLDivLoss::new(),
        KLDivLoss {
            reduction: Reduction::Mean,
            log_target: false
        }
    );
    let bce = BCEWithLogitsLoss::new();
    assert!(bce.weight.is_none() && bce.pos_weight.is_none() && bce.reduction == Reduction::Mean);
    assert_eq!(MSELoss::new().reduction, Reduction::Mean);
    assert_eq!(L1Loss::new().reduction, Reduction::Mean);
    assert_eq!(BCELoss::new().reduction, Reduction::Mean);
    for r in [
        Reduction::None,
        Reduction::Mean,
        Reduction::Sum,
        Reduction::BatchMean,
    ] {
        assert_eq!(r.to_string().parse::<Reduction>().unwrap(), r);
    }
    assert!("average".parse::<Reduction>().is_err());
}

#[test]
fn no_grad_builds_no_graph() {
    let p = Tensor::new(&[0.3f64, 0.9])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let y = Tensor::new(&[0.0f64, 1.0])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let with_graph = binary_cross_entropy(&p, &y, None, Reduction::Mean).unwrap();
    let _guard = no_grad();
    let l = binary_cross_entropy(&p, &y, None, Reduction::Mean).unwrap();
    assert!(!l.requires_grad());
    assert_eq!(l.item::<f64>().unwrap(), with_graph.item::<f64>().unwrap());
}

// ---- errors: clear messages, never a panic ----------------------------------------------

fn message(r: Result<Tensor>) -> String {
    match r {
        Ok(t) => panic!("expected an error, got a tensor of shape {:?}", t.dims()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn cross_entropy_errors_name_the_loss_and_the_shapes() {
    let x = Tensor::zeros((64, 10), DType::F32).unwrap();
    let ce = CrossEntropyLoss::new();
    let e = message(ce.forward(&x, &Tensor::zeros(32, DType::I64).unwrap()));
    assert_eq!(
        e,
        "cross_entropy: input (64x10) and target (32): batch sizes differ"
    );

    let mut t = vec![0i64; 64];
    t[5] = 10;
    let e = message(ce.forward(&x, &Tensor::from_vec(t, 64).unwrap()));
    assert!(
        e.starts_with(
            "cross_entropy: target 10 (at flat position 5) is out of range for 10 classes"
        ),
        "{e}"
    );
    let e = message(ce.forward(&x, &Tensor::full(64, -1.0, DType::I64).unwrap()));
    assert!(e.contains("target -1") && e.contains("10 classes"), "{e}");

    // Float class labels: a dtype error that says how to fix it.
    let r = ce.forward(&x, &Tensor::zeros(64, DType::F32).unwrap());
    assert!(matches!(
        r,
        Err(Error::DType {
            op: "cross_entropy",
            got: DType::F32,
            ..
        })
    ));
    assert!(message(r).contains("to_dtype(DType::I64)"));
    // A target with the input's shape is read as probabilities, which must be float.
    let r = ce.forward(&x, &Tensor::zeros((64, 10), DType::I64).unwrap());
    assert!(matches!(
        r,
        Err(Error::DType {
            op: "cross_entropy",
            got: DType::I64,
            ..
        })
    ));
    let r = ce.forward(&x, &Tensor::zeros((64, 10), DType::F64).unwrap());
    assert!(matches!(
        r,
        Err(Error::DTypeMismatch {
            op: "cross_entropy",
            ..
        })
    ));
    let e = message(
        ce.clone()
            .ignore_index(0)
            .forward(&x, &Tensor::zeros((64, 10), DType::F32).unwrap()),
    );
    assert!(
        e.contains("ignore_index (0) is not supported for probability targets"),
        "{e}"
    );

    let img = Tensor::zeros((2, 3, 4, 4), DType::F32).unwrap();
    let e = message(ce.forward(&img, &Tensor::zeros((2, 4, 5), DType::I64).unwrap()));
    assert!(
        e.contains("(2x3x4x4)") && e.contains("(2x4x5)") && e.contains("(2x4x4)"),
        "{e}"
    );
    let e = message(ce.forward(
        &Tensor::zeros(5, DType::F32).unwrap(),
        &Tensor::zeros(2, DType::I64).unwrap(),
    ));
    assert!(
        e.contains("unbatched") && e.contains("(5)") && e.contains("(2)"),
        "{e}"
    );
    let e = message(ce.forward(&Tensor::scalar(1.0f32), &Tensor::scalar(0i64)));
    assert!(e.contains("no class dim"), "{e}");
    let r = ce.forward(
        &Tensor::zeros((4, 3), DType::I64).unwrap(),
        &Tensor::zeros(4, DType::I64).unwrap(),
    );
    assert!(matches!(
        r,
        Err(Error::DType {
            op: "cross_entropy",
            ..
        })
    ));

    let y = Tensor::zeros(64, DType::I64).unwrap();
    let e = message(
        ce.clone()
            .weight(Tensor::ones(9, DType::F32).unwrap())
            .forward(&x, &y),
    );
    assert!(e.contains("weight (9)") && e.contains("10 classes"), "{e}");
    let e = message(ce.clone().label_smoothing(1.5).forward(&x, &y));
    assert!(
        e.contains("label_smoothing must be in [0, 1], got 1.5"),
        "{e}"
    );
    let e = message(ce.clone().reduction(Reduction::BatchMean).forward(&x, &y));
    assert!(
        e.contains("batchmean") && e.starts_with("cross_entropy"),
        "{e}"
    );
    let e = message(NLLLoss::new().forward(&x, &Tensor::zeros(63, DType::I64).unwrap()));
    assert_eq!(
        e,
        "nll_loss: input (64x10) and target (63): batch sizes differ"
    );
}

#[test]
fn elementwise_loss_errors() {
    let a = Tensor::zeros((6, 3), DType::F64).unwrap();
    let b = Tensor::zeros((6, 1), DType::F64).unwrap();
    for (name, r) in [
        ("mse_loss", mse_loss(&a, &b, Reduction::Mean)),
        ("l1_loss", l1_loss(&a, &b, Reduction::Mean)),
        ("huber_loss", huber_loss(&a, &b, 1.0, Reduction::Mean)),
        (
            "smooth_l1_loss",
            smooth_l1_loss(&a, &b, 1.0, Reduction::Mean),
        ),
        (
            "binary_cross_entropy",
            binary_cross_entropy(&a, &b, None, Reduction::Mean),
        ),
        (
            "binary_cross_entropy_with_logits",
            binary_cross_entropy_with_logits(&a, &b, None, None, Reduction::Mean),
        ),
        ("kl_div", kl_div(&a, &b, Reduction::BatchMean, false)),
    ] {
        let e = message(r);
        assert!(
            e.starts_with(&format!(
                "{name}: input (6x3) and target (6x1): shapes differ"
            )),
            "{e}"
        );
    }
    let f32s = Tensor::zeros((6, 3), DType::F32).unwrap();
    assert!(matches!(
        mse_loss(&a, &f32s, Reduction::Mean),
        Err(Error::DTypeMismatch { op: "mse_loss", .. })
    ));
    let ints = Tensor::zeros((6, 3), DType::I64).unwrap();
    assert!(matches!(
        l1_loss(&ints, &ints, Reduction::Mean),
        Err(Error::DType { op: "l1_loss", .. })
    ));
    assert!(
        message(huber_loss(&a, &a, 0.0, Reduction::Mean)).contains("delta must be positive, got 0")
    );
    assert!(
        message(huber_loss(&a, &a, f64::NAN, Reduction::Mean)).contains("delta must be positive")
    );
    assert!(message(smooth_l1_loss(&a, &a, -1.0, Reduction::Mean))
        .contains("beta must be non-negative, got -1"));
    assert!(message(mse_loss(&a, &a, Reduction::BatchMean)).contains("only defined for kl_div"));

    let p = Tensor::new(&[0.5f64, 1.5]).unwrap();
    let y = Tensor::new(&[1.0f64, 0.0]).unwrap();
    let e = message(binary_cross_entropy(&p, &y, None, Reduction::Mean));
    assert!(
        e.contains("input holds 1.5") && e.contains("[0, 1]") && e.contains("with_logits"),
        "{e}"
    );
    let nan = Tensor::new(&[0.5f64, f64::NAN]).unwrap();
    assert!(binary_cross_entropy(&nan, &y, None, Reduction::Mean).is_err());
    let e = message(
        BCELoss::new()
            .weight(t64(&[1.0, 2.0, 3.0], &[3]))
            .forward(&y, &y),
    );
    assert!(
        e.contains("weight (3) does not broadcast to the input's shape (2)"),
        "{e}"
    );
    let x = Tensor::zeros((4, 2), DType::F64).unwrap();
    let e = message(
        BCEWithLogitsLoss::new()
            .pos_weight(t64(&[1.0, 2.0, 3.0], &[3]))
            .forward(&x, &x),
    );
    assert!(
        e.contains("pos_weight (3) does not broadcast to the input's shape (4x2)"),
        "{e}"
    );
    let e = message(
        BCEWithLogitsLoss::new()
            .weight(Tensor::ones(2, DType::F32).unwrap())
            .forward(&x, &x),
    );
    assert!(
        e.starts_with("binary_cross_entropy_with_logits: dtypes differ"),
        "{e}"
    );
}
