//! Convolution, pooling and normalisation: parity with PyTorch (fixtures), float64 gradient
//! checks (strides, padding, dilation, groups, non-contiguous inputs), and the fast kernels
//! against the plain loops of `cpu::reference` on odd sizes.

mod common;

use common::{assert_close, tolerances, Fixtures};
use serde_json::Value;
use sinapsis_core::cpu::reference;
use sinapsis_core::{
    gradcheck, no_grad, Conv1dOptions, Conv2dOptions, DType, Error, Generator, Result, Tensor,
};

fn randn(seed: u64, dims: &[usize], dtype: DType) -> Tensor {
    Generator::new(seed).randn(dims, dtype).unwrap()
}

fn leaf(t: Tensor) -> Tensor {
    t.requires_grad_(true).unwrap()
}

/// Values that are pairwise distinct and well separated (no ties for max pooling).
fn distinct(seed: u64, dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    let perm = Generator::new(seed)
        .randperm(n)
        .unwrap()
        .to_vec::<i64>()
        .unwrap();
    let v: Vec<f64> = perm
        .iter()
        .map(|&p| p as f64 * 0.1 - n as f64 * 0.05)
        .collect();
    Tensor::from_vec(v, dims).unwrap()
}

fn arg_usize(args: &Value, key: &str, default: usize) -> usize {
    args.get(key)
        .and_then(Value::as_u64)
        .map_or(default, |v| v as usize)
}

fn run_case(name: &str, args: &Value, x: &[Tensor]) -> Result<Tensor> {
    match name {
        n if n.starts_with("nn/conv2d/") || n == "f32/conv2d" => {
            let opts = Conv2dOptions::default()
                .stride(arg_usize(args, "stride", 1))
                .padding(arg_usize(
                    args,
                    "padding",
                    if n == "f32/conv2d" { 1 } else { 0 },
                ))
                .dilation(arg_usize(args, "dilation", 1))
                .groups(arg_usize(args, "groups", 1));
            x[0].conv2d(&x[1], Some(&x[2]), opts)
        }
        "nn/max_pool2d_k2s2" => x[0].max_pool2d(2, 2, 0),
        "nn/max_pool2d_k3s2p1" => x[0].max_pool2d(3, 2, 1),
        "nn/avg_pool2d_k2s2" => x[0].avg_pool2d(2, 2, 0),
        "nn/adaptive_avg_pool2d_1" => x[0].adaptive_avg_pool2d(1),
        "nn/batch_norm1d_train" | "nn/batch_norm2d_train" => {
            x[0].batch_norm(None, None, Some(&x[1]), Some(&x[2]), true, 0.1, 1e-5)
        }
        "nn/layer_norm" => x[0].layer_norm(&[6], Some(&x[1]), Some(&x[2]), 1e-5),
        other => panic!("no implementation for fixture case {other}"),
    }
}

#[test]
fn conv_pool_norm_fixtures_match_pytorch() {
    const CASES: &[&str] = common::CONV_CASES;
    let fx = Fixtures::load("ops");
    let mut seen = 0;
    for case in fx.cases() {
        let name = case["name"].as_str().unwrap();
        if !CASES.contains(&name) {
            continue;
        }
        seen += 1;
        let inputs: Vec<Tensor> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| leaf(fx.tensor(k.as_str().unwrap())))
            .collect();
        let out = run_case(name, &case["args"], &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = fx.tensor(case["output"].as_str().unwrap());
        let (fwd_tol, grad_tol) = tolerances(want.dtype());
        assert_close(&format!("{name} output"), &out, &want, fwd_tol);
        out.backward_with_grad(&fx.tensor(case["upstream"].as_str().unwrap()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, g) in case["grads"].as_array().unwrap().iter().enumerate() {
            let got = inputs[i]
                .grad()
                .unwrap_or_else(|| panic!("{name}: no grad for input {i}"));
            assert_close(
                &format!("{name} grad{i}"),
                &got,
                &fx.tensor(g.as_str().unwrap()),
                grad_tol,
            );
        }
    }
    assert_eq!(seen, CASES.len(), "some fixture cases are missing");
}

// ---- gradient checks (float64, finite differences) ------------------------------------------

fn check_conv(seed: u64, x_dims: &[usize], w_dims: &[usize], bias: bool, opts: Conv2dOptions) {
    let x = leaf(randn(seed, x_dims, DType::F64));
    let w = leaf(randn(seed + 1, w_dims, DType::F64));
    let mut inputs = vec![x, w];
    if bias {
        inputs.push(leaf(randn(seed + 2, &[w_dims[0]], DType::F64)));
    }
    gradcheck(|t| t[0].conv2d(&t[1], t.get(2), opts), &inputs)
        .unwrap_or_else(|e| panic!("conv2d {x_dims:?} * {w_dims:?} {opts:?}: {e}"));
}

#[test]
fn conv2d_gradcheck_variants() {
    let d = Conv2dOptions::default();
    check_conv(1, &[2, 3, 5, 4], &[4, 3, 3, 3], true, d.padding(1));
    check_conv(
        2,
        &[1, 2, 7, 6],
        &[3, 2, 3, 2],
        true,
        d.stride((2, 1)).padding((1, 0)),
    );
    check_conv(
        3,
        &[2, 2, 7, 7],
        &[2, 2, 3, 3],
        false,
        d.dilation(2).padding(2),
    );
    check_conv(
        4,
        &[2, 4, 5, 5],
        &[6, 2, 3, 3],
        true,
        d.groups(2).stride(2).padding(1),
    );
    check_conv(
        5,
        &[1, 3, 5, 5],
        &[3, 1, 3, 3],
        true,
        d.groups(3).padding(1),
    ); // depthwise
    check_conv(6, &[2, 3, 4, 5], &[2, 3, 1, 1], true, d); // pointwise: no im2col
    check_conv(7, &[1, 1, 1, 1], &[1, 1, 1, 1], true, d.padding(1)); // all padding but one
}

#[test]
fn conv2d_gradcheck_non_contiguous_operands() {
    // Input stored as (N, C, W, H) and transposed; weight narrowed along its channels.
    let xt = leaf(randn(10, &[2, 3, 6, 5], DType::F64));
    let wb = leaf(randn(11, &[4, 5, 3, 3], DType::F64));
    let b = leaf(randn(12, &[4], DType::F64));
    let opts = Conv2dOptions::default().padding((1, 2)).stride((1, 2));
    gradcheck(
        |t| {
            let (x, w) = (t[0].transpose(2, 3)?, t[1].narrow(1, 1, 3)?);
            assert!(!x.is_contiguous() && !w.is_contiguous());
            x.conv2d(&w, Some(&t[2]), opts)
        },
        &[xt, wb, b],
    )
    .unwrap();
}

#[test]
fn conv1d_gradcheck_and_unbatched_inputs() {
    let x = leaf(randn(20, &[2, 4, 9], DType::F64));
    let w = leaf(randn(21, &[6, 2, 3], DType::F64));
    let b = leaf(randn(22, &[6], DType::F64));
    let opts = Conv1dOptions::default()
        .stride(2)
        .padding(2)
        .dilation(2)
        .groups(2);
    gradcheck(
        |t| t[0].conv1d(&t[1], Some(&t[2]), opts),
        &[x.clone(), w.clone(), b.clone()],
    )
    .unwrap();
    assert_eq!(x.conv1d(&w, Some(&b), opts).unwrap().dims(), &[2, 6, 5]);
    // Unbatched inputs give the batched result without the batch dim.
    let y1 = x.select(0, 1).unwrap().conv1d(&w, Some(&b), opts).unwrap();
    let y2 = x.conv1d(&w, Some(&b), opts).unwrap().select(0, 1).unwrap();
    assert_close("unbatched conv1d", &y1, &y2, 0.0);
    let x4 = randn(23, &[2, 4, 5, 5], DType::F64);
    let w4 = randn(24, &[3, 4, 3, 3], DType::F64);
    let o = Conv2dOptions::default().padding(1);
    let u = x4.select(0, 0).unwrap().conv2d(&w4, None, o).unwrap();
    assert_close(
        "unbatched conv2d",
        &u,
        &x4.conv2d(&w4, None, o).unwrap().select(0, 0).unwrap(),
        0.0,
    );
}

#[test]
fn pooling_gradcheck() {
    let x = leaf(distinct(30, &[2, 2, 7, 6]));
    gradcheck(|t| t[0].max_pool2d(3, 2, 1), std::slice::from_ref(&x)).unwrap();
    gradcheck(
        |t| t[0].max_pool2d((2, 3), (1, 2), (1, 0)),
        std::slice::from_ref(&x),
    )
    .unwrap();
    gradcheck(
        |t| t[0].transpose(2, 3)?.max_pool2d(2, 2, 0),
        std::slice::from_ref(&x),
    )
    .unwrap();
    gradcheck(|t| t[0].avg_pool2d(3, 2, 1), std::slice::from_ref(&x)).unwrap();
    gradcheck(
        |t| t[0].avg_pool2d((3, 2), (1, 2), (1, 1)),
        std::slice::from_ref(&x),
    )
    .unwrap();
    gradcheck(
        |t| t[0].adaptive_avg_pool2d((3, 4)),
        std::slice::from_ref(&x),
    )
    .unwrap();
    gradcheck(
        |t| t[0].transpose(2, 3)?.adaptive_avg_pool2d((4, 5)),
        std::slice::from_ref(&x),
    )
    .unwrap();
    let x3 = leaf(distinct(31, &[3, 5, 5])); // unbatched
    gradcheck(|t| t[0].max_pool2d(2, 1, 1), std::slice::from_ref(&x3)).unwrap();
    gradcheck(|t| t[0].adaptive_avg_pool2d(2), &[x3]).unwrap();
}

#[test]
fn max_pool_overlapping_windows_accumulate_at_a_shared_maximum() {
    // The centre is the maximum of all four 2x2 windows of stride 1: it gets 4x the gradient.
    let x = leaf(Tensor::new(&[[[0.0f64, 1.0, 0.0], [2.0, 9.0, 3.0], [0.0, 4.0, 0.0]]]).unwrap());
    let (y, idx) = x.max_pool2d_with_indices(2, 1, 0).unwrap();
    assert_eq!(y.to_vec::<f64>().unwrap(), vec![9.0; 4]);
    assert_eq!(idx.to_vec::<i64>().unwrap(), vec![4; 4]);
    y.sum_all().unwrap().backward().unwrap();
    let g = x.grad().unwrap().to_vec::<f64>().unwrap();
    assert_eq!(g, vec![0.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn norm_gradcheck() {
    let x = leaf(randn(40, &[4, 3, 2, 3], DType::F64));
    let w = leaf(randn(41, &[3], DType::F64));
    let b = leaf(randn(42, &[3], DType::F64));
    gradcheck(
        |t| t[0].batch_norm(None, None, Some(&t[1]), Some(&t[2]), true, 0.1, 1e-5),
        &[x.clone(), w.clone(), b.clone()],
    )
    .unwrap();
    let x2 = leaf(randn(43, &[5, 3], DType::F64));
    gradcheck(
        |t| t[0].batch_norm(None, None, None, None, true, 0.1, 1e-5),
        &[x2],
    )
    .unwrap();
    // Evaluation mode: running statistics are constants.
    let rm = randn(44, &[3], DType::F64);
    let rv = randn(45, &[3], DType::F64)
        .abs()
        .unwrap()
        .add_scalar(0.5)
        .unwrap();
    gradcheck(
        |t| {
            t[0].batch_norm(
                Some(&rm),
                Some(&rv),
                Some(&t[1]),
                Some(&t[2]),
                false,
                0.1,
                1e-5,
            )
        },
        &[x.clone(), w, b],
    )
    .unwrap();
    // Layer norm over two trailing dims, with a non-contiguous input.
    let lw = leaf(randn(46, &[2, 3], DType::F64));
    let lb = leaf(randn(47, &[2, 3], DType::F64));
    let xl = leaf(randn(48, &[4, 3, 2], DType::F64));
    gradcheck(
        |t| {
            t[0].transpose(1, 2)?
                .layer_norm(&[2, 3], Some(&t[1]), Some(&t[2]), 1e-5)
        },
        &[xl, lw, lb],
    )
    .unwrap();
}

#[test]
fn batch_norm_updates_running_stats_with_the_unbiased_variance() {
    let x = randn(50, &[3, 2, 2, 2], DType::F64);
    let rm = Tensor::new(&[0.5f64, -1.0]).unwrap();
    let rv = Tensor::new(&[2.0f64, 0.25]).unwrap();
    let (m, eps) = (0.3, 1e-5);
    let y = x
        .batch_norm(Some(&rm), Some(&rv), None, None, true, m, eps)
        .unwrap();
    let v = x.to_vec::<f64>().unwrap();
    let (mut want_m, mut want_v) = (vec![], vec![]);
    for c in 0..2 {
        let vals: Vec<f64> = (0..3)
            .flat_map(|n| (0..4).map(move |s| (n, s)))
            .map(|(n, s)| v[n * 8 + c * 4 + s])
            .collect();
        let k = vals.len() as f64;
        let mean = vals.iter().sum::<f64>() / k;
        let ss: f64 = vals.iter().map(|a| (a - mean) * (a - mean)).sum();
        want_m.push(mean);
        want_v.push(ss / (k - 1.0));
        // Normalisation itself uses the biased variance.
        let got = y.to_vec::<f64>().unwrap()[c * 4];
        let expect = (v[c * 4] - mean) / (ss / k + eps).sqrt();
        assert!((got - expect).abs() < 1e-12, "{got} vs {expect}");
    }
    let rm_want: Vec<f64> = [0.5, -1.0]
        .iter()
        .zip(&want_m)
        .map(|(r, b)| (1.0 - m) * r + m * b)
        .collect();
    let rv_want: Vec<f64> = [2.0, 0.25]
        .iter()
        .zip(&want_v)
        .map(|(r, b)| (1.0 - m) * r + m * b)
        .collect();
    assert_close(
        "running_mean",
        &rm,
        &Tensor::new(&rm_want[..]).unwrap(),
        1e-12,
    );
    assert_close(
        "running_var",
        &rv,
        &Tensor::new(&rv_want[..]).unwrap(),
        1e-12,
    );
    // Evaluation uses the (updated) running statistics.
    let e = x
        .batch_norm(Some(&rm), Some(&rv), None, None, false, m, eps)
        .unwrap();
    let want0 = (v[0] - rm_want[0]) / (rv_want[0] + eps).sqrt();
    assert!((e.to_vec::<f64>().unwrap()[0] - want0).abs() < 1e-12);
}

// ---- fast kernels against the reference loops -------------------------------------------------

fn dims4(t: &Tensor) -> [usize; 4] {
    t.dims().try_into().unwrap()
}

/// Fast conv2d forward and backward against `reference::conv2d(_backward)`.
fn compare_conv(
    dtype: DType,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    opts: Conv2dOptions,
    tol: f64,
) {
    let (x, w) = (leaf(x.clone()), leaf(w.clone()));
    let b = b.map(|b| leaf(b.clone()));
    let y = x.conv2d(&w, b.as_ref(), opts).unwrap();
    let gy = randn(99, y.dims(), dtype);
    y.backward_with_grad(&gy).unwrap();
    let f = |t: &Tensor| t.to_f64_vec().unwrap();
    let (yr, yd) = reference::conv2d(
        &f(&x),
        dims4(&x),
        &f(&w),
        dims4(&w),
        b.as_ref().map(f).as_deref(),
        &opts,
    );
    let what = format!("{dtype} conv2d {:?} * {:?} {opts:?}", x.dims(), w.dims());
    assert_close(
        &format!("{what} output"),
        &y,
        &Tensor::from_vec(yr, yd).unwrap(),
        tol,
    );
    let (gx, gw, gb) =
        reference::conv2d_backward(&f(&x), dims4(&x), &f(&w), dims4(&w), &f(&gy), &opts);
    assert_close(
        &format!("{what} dx"),
        &x.grad().unwrap(),
        &Tensor::from_vec(gx, x.dims()).unwrap(),
        tol,
    );
    assert_close(
        &format!("{what} dw"),
        &w.grad().unwrap(),
        &Tensor::from_vec(gw, w.dims()).unwrap(),
        tol,
    );
    if let Some(b) = &b {
        assert_close(
            &format!("{what} db"),
            &b.grad().unwrap(),
            &Tensor::from_vec(gb, b.dims()).unwrap(),
            tol,
        );
    }
}

#[test]
fn conv2d_matches_reference_on_odd_sizes() {
    let d = Conv2dOptions::default();
    let cases: &[(&[usize], &[usize], Conv2dOptions)] = &[
        (&[1, 1, 1, 1], &[1, 1, 1, 1], d),
        (&[1, 1, 7, 7], &[1, 1, 7, 7], d),
        (&[1, 1, 7, 7], &[1, 1, 7, 7], d.padding(3)),
        (&[3, 7, 17, 7], &[5, 7, 3, 3], d.padding(1)),
        (
            &[2, 6, 17, 17],
            &[9, 2, 3, 5],
            d.groups(3).stride((2, 3)).padding((1, 2)).dilation((2, 1)),
        ),
        (&[1, 17, 7, 1], &[7, 17, 1, 1], d),
        (&[2, 4, 7, 9], &[4, 1, 3, 3], d.groups(4).padding(1)),
        (
            &[1, 3, 17, 17],
            &[7, 3, 3, 3],
            d.stride(3).dilation(3).padding(4),
        ),
        (&[2, 3, 7, 7], &[2, 3, 1, 1], d.stride(2)),
        // Large enough to take the rayon path over the batch.
        (&[17, 8, 17, 17], &[16, 8, 3, 3], d.padding(1)),
    ];
    for (i, &(xd, wd, opts)) in cases.iter().enumerate() {
        let s = 100 + 10 * i as u64;
        for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-4)] {
            let x = randn(s, xd, dtype);
            let w = randn(s + 1, wd, dtype);
            let b = randn(s + 2, &[wd[0]], dtype);
            compare_conv(dtype, &x, &w, Some(&b), opts, tol);
        }
    }
    // Without a bias, and with non-contiguous operands (transposed input, narrowed weight).
    let xt = randn(200, &[2, 5, 9, 7], DType::F64)
        .transpose(2, 3)
        .unwrap();
    let wn = randn(201, &[3, 7, 3, 3], DType::F64)
        .narrow(1, 2, 5)
        .unwrap();
    assert!(!xt.is_contiguous() && !wn.is_contiguous());
    compare_conv(DType::F64, &xt, &wn, None, d.padding(1).stride(2), 1e-12);
}

#[test]
fn pooling_matches_reference_on_odd_sizes() {
    let shapes: &[[usize; 4]] = &[[1, 1, 1, 1], [2, 3, 7, 7], [1, 2, 17, 7], [3, 1, 17, 17]];
    for (i, &xd) in shapes.iter().enumerate() {
        for dtype in [DType::F32, DType::F64] {
            let base = randn(300 + i as u64, &[xd[0], xd[1], xd[3], xd[2]], dtype);
            let x = base.transpose(2, 3).unwrap(); // non-contiguous unless trivially so
            let v = x.to_f64_vec().unwrap();
            for (k, s, p) in [
                ((1, 1), (1, 1), (0, 0)),
                ((2, 2), (2, 2), (1, 0)),
                ((3, 3), (2, 1), (1, 1)),
            ] {
                if xd[2] + 2 * p.0 < k.0 || xd[3] + 2 * p.1 < k.1 {
                    continue;
                }
                let what = format!("{dtype} {xd:?} k{k:?} s{s:?} p{p:?}");
                let (y, idx) = x.max_pool2d_with_indices(k, s, p).unwrap();
                let (yr, ir, d) = reference::max_pool2d(&v, xd, k, s, p);
                assert_close(
                    &format!("max_pool2d {what}"),
                    &y,
                    &Tensor::from_vec(yr, d).unwrap(),
                    0.0,
                );
                assert_eq!(
                    idx.to_vec::<i64>().unwrap(),
                    ir,
                    "max_pool2d indices {what}"
                );
                let (yr, d) = reference::avg_pool2d(&v, xd, k, s, p);
                let ya = x.avg_pool2d(k, s, p).unwrap();
                assert_close(
                    &format!("avg_pool2d {what}"),
                    &ya,
                    &Tensor::from_vec(yr, d).unwrap(),
                    1e-6,
                );
            }
            for out in [(1, 1), (1, 3), (3, 2), (7, 5)] {
                let (yr, d) = reference::adaptive_avg_pool2d(&v, xd, out);
                let y = x.adaptive_avg_pool2d(out).unwrap();
                let what = format!("adaptive_avg_pool2d {dtype} {xd:?} -> {out:?}");
                assert_close(&what, &y, &Tensor::from_vec(yr, d).unwrap(), 1e-6);
            }
        }
    }
}

#[test]
fn adaptive_avg_pool_to_one_is_the_spatial_mean() {
    let x = randn(60, &[2, 3, 5, 7], DType::F64);
    let y = x.adaptive_avg_pool2d(1).unwrap();
    let m = x.mean(&[2, 3][..], true).unwrap();
    assert_close("adaptive (1,1)", &y, &m, 1e-12);
}

#[test]
fn inference_records_no_graph() {
    let x = leaf(randn(70, &[1, 2, 5, 5], DType::F32));
    let w = leaf(randn(71, &[3, 2, 3, 3], DType::F32));
    let _g = no_grad();
    let y = x.conv2d(&w, None, Conv2dOptions::default()).unwrap();
    assert!(!y.requires_grad());
    assert!(!y.max_pool2d(2, 2, 0).unwrap().requires_grad());
}

#[test]
fn conv2d_results_do_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let x = leaf(randn(80, &[19, 8, 17, 17], DType::F32));
            let w = leaf(randn(81, &[16, 8, 3, 3], DType::F32));
            let y = x
                .conv2d(&w, None, Conv2dOptions::default().padding(1))
                .unwrap();
            y.backward_with_grad(&randn(82, y.dims(), DType::F32))
                .unwrap();
            let v = |t: &Tensor| t.to_vec::<f32>().unwrap();
            (v(&y), v(&x.grad().unwrap()), v(&w.grad().unwrap()))
        })
    };
    assert!(
        run(1) == run(3),
        "conv2d results changed with the thread count"
    );
}

#[test]
fn empty_batches_give_empty_results() {
    let x = leaf(Tensor::zeros((0, 3, 5, 5), DType::F64).unwrap());
    let w = leaf(randn(90, &[4, 3, 3, 3], DType::F64));
    let b = leaf(randn(91, &[4], DType::F64));
    let y = x.conv2d(&w, Some(&b), Conv2dOptions::default()).unwrap();
    assert_eq!(y.dims(), &[0, 4, 3, 3]);
    y.sum_all().unwrap().backward().unwrap();
    assert_eq!(w.grad().unwrap().to_vec::<f64>().unwrap(), vec![0.0; 108]);
    assert_eq!(b.grad().unwrap().to_vec::<f64>().unwrap(), vec![0.0; 4]);
    assert_eq!(x.max_pool2d(2, 2, 0).unwrap().dims(), &[0, 3, 2, 2]);
    assert_eq!(x.adaptive_avg_pool2d(2).unwrap().dims(), &[0, 3, 2, 2]);
}

// ---- errors -----------------------------------------------------------------------------------

fn err_msg(r: Result<Tensor>) -> String {
    match r {
        Ok(t) => panic!("expected an error, got a tensor of shape {:?}", t.dims()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_arguments_are_errors_that_name_the_op_and_shapes() {
    let x = Tensor::zeros((2, 3, 7, 6), DType::F64).unwrap();
    let d = Conv2dOptions::default();
    let w = Tensor::zeros((4, 2, 3, 3), DType::F64).unwrap();
    assert_eq!(
        err_msg(x.conv2d(&w, None, d)),
        "conv2d: input (2x3x7x6) and weight (4x2x3x3): expected 3/groups = 3 input channels per \
         group, weight has 2"
    );
    let w3 = Tensor::zeros((4, 1, 3, 3), DType::F64).unwrap();
    assert!(err_msg(x.conv2d(&w3, None, d.groups(2))).contains("not divisible by groups = 2"));
    let w6 = Tensor::zeros((3, 3, 3, 3), DType::F64).unwrap();
    let x6 = Tensor::zeros((1, 6, 4, 4), DType::F64).unwrap();
    assert!(
        err_msg(x6.conv2d(&w6, None, d.groups(2))).contains("3 output channels are not divisible")
    );
    let big = Tensor::zeros((4, 3, 9, 3), DType::F64).unwrap();
    assert!(err_msg(x.conv2d(&big, None, d)).contains("smaller than the dilated kernel (9x3)"));
    let wk = Tensor::zeros((4, 3, 3, 3), DType::F64).unwrap();
    assert!(err_msg(x.conv2d(&wk, None, d.dilation(4))).contains("(9x9)"));
    assert!(err_msg(x.conv2d(&wk, None, d.stride(0))).starts_with("conv2d:"));
    let b = Tensor::zeros(3, DType::F64).unwrap();
    assert!(err_msg(x.conv2d(&wk, Some(&b), d)).contains("bias (3) must have shape (4)"));
    assert!(err_msg(
        x.flatten(0, 1)
            .unwrap()
            .flatten(0, 1)
            .unwrap()
            .conv2d(&wk, None, d)
    )
    .contains("4-d input"));
    let wf = Tensor::zeros((4, 3, 3, 3), DType::F32).unwrap();
    assert!(matches!(
        x.conv2d(&wf, None, d),
        Err(Error::DTypeMismatch { .. })
    ));
    let xi = Tensor::zeros((1, 3, 4, 4), DType::I64).unwrap();
    assert!(xi.conv2d(&wk, None, d).is_err());
    assert!(
        err_msg(Tensor::zeros((2, 3, 4, 4), DType::F64).unwrap().conv1d(
            &wk,
            None,
            Conv1dOptions::default()
        ))
        .starts_with("conv1d:")
    );

    assert!(err_msg(x.max_pool2d(3, 1, 2)).contains("at most half"));
    assert!(err_msg(x.max_pool2d(8, 1, 0)).contains("smaller than the kernel size 8"));
    assert!(err_msg(x.avg_pool2d(2, 0, 0)).starts_with("avg_pool2d:"));
    assert!(err_msg(
        x.flatten(0, 1)
            .unwrap()
            .flatten(0, 1)
            .unwrap()
            .max_pool2d(2, 2, 0)
    )
    .contains("3-d"));
    assert!(err_msg(x.adaptive_avg_pool2d((0, 2))).starts_with("adaptive_avg_pool2d:"));

    let rm = Tensor::zeros(4, DType::F64).unwrap();
    assert!(
        err_msg(x.batch_norm(Some(&rm), None, None, None, true, 0.1, 1e-5))
            .contains("running_mean has shape (4)")
    );
    assert!(
        err_msg(x.batch_norm(None, None, None, None, false, 0.1, 1e-5)).contains("evaluation mode")
    );
    let one = Tensor::zeros((1, 3), DType::F64).unwrap();
    assert!(
        err_msg(one.batch_norm(None, None, None, None, true, 0.1, 1e-5))
            .contains("more than 1 value per channel")
    );
    assert!(err_msg(x.layer_norm(&[5, 6], None, None, 1e-5)).contains("normalized_shape (5x6)"));
    let lw = Tensor::zeros(5, DType::F64).unwrap();
    assert!(err_msg(x.layer_norm(&[6], Some(&lw), None, 1e-5)).starts_with("layer_norm: weight"));
}

#[test]
fn conv2d_matches_reference_across_gemm_blocks_and_batch_sizes() {
    // The fast path puts several samples side by side in one GEMM block (2048 columns) per
    // chunk of a 16-way batch split: cover one sample, a block per chunk, several blocks per
    // chunk with a short last one, and the single-channel first layer of the MNIST CNN.
    let d = Conv2dOptions::default();
    let cases: &[(&[usize], &[usize], Conv2dOptions)] = &[
        (&[1, 32, 14, 14], &[64, 32, 3, 3], d.padding(1)),
        (&[3, 1, 28, 28], &[32, 1, 3, 3], d.padding(1)),
        (&[128, 2, 5, 5], &[4, 2, 3, 3], d.padding(1)),
        // chunks of 63 samples of 10x10: blocks of 20, 20, 20, 3 (and 20, 20, 15 at the end)
        (&[1000, 2, 10, 10], &[3, 2, 3, 3], d.padding(1)),
        (
            &[37, 4, 9, 9],
            &[6, 2, 3, 3],
            d.groups(2).stride(2).dilation(2).padding(2),
        ),
        (&[19, 3, 6, 5], &[5, 3, 1, 1], d),
    ];
    for (i, &(xd, wd, opts)) in cases.iter().enumerate() {
        let s = 400 + 10 * i as u64;
        for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-4)] {
            let x = randn(s, xd, dtype);
            let w = randn(s + 1, wd, dtype);
            let b = randn(s + 2, &[wd[0]], dtype);
            compare_conv(dtype, &x, &w, Some(&b), opts, tol);
        }
    }
}

#[test]
fn conv2d_weight_and_bias_gradients_without_an_input_gradient() {
    // The first layer of a network: the input needs no gradient, only dW and db are built.
    let opts = Conv2dOptions::default().padding(1);
    let x = randn(500, &[9, 1, 12, 12], DType::F64);
    let w = leaf(randn(501, &[8, 1, 3, 3], DType::F64));
    let b = leaf(randn(502, &[8], DType::F64));
    let y = x.conv2d(&w, Some(&b), opts).unwrap();
    let gy = randn(503, y.dims(), DType::F64);
    y.backward_with_grad(&gy).unwrap();
    assert!(x.grad().is_none());
    let f = |t: &Tensor| t.to_f64_vec().unwrap();
    let (_, gw, gb) =
        reference::conv2d_backward(&f(&x), dims4(&x), &f(&w), dims4(&w), &f(&gy), &opts);
    let gw = Tensor::from_vec(gw, w.dims()).unwrap();
    assert_close("dw", &w.grad().unwrap(), &gw, 1e-12);
    let gb = Tensor::from_vec(gb, b.dims()).unwrap();
    assert_close("db", &b.grad().unwrap(), &gb, 1e-12);
}

#[test]
fn max_pool_2x2_path_matches_reference_with_ties_and_nan() {
    // Stride-2 2x2 windows take their own path: check values, indices and the backward
    // scatter on inputs full of ties (few distinct values), NaNs and -inf, on even and odd
    // sizes, large enough (> 2^18 elements) for the parallel split too.
    for (i, xd) in [[2usize, 3, 8, 7], [1, 1, 2, 2], [128, 32, 12, 12]]
        .into_iter()
        .enumerate()
    {
        let n: usize = xd.iter().product();
        let v: Vec<f64> = (0..n)
            .map(|j| match (j * 7 + i) % 23 {
                0 => f64::NAN,
                1 => f64::NEG_INFINITY,
                r => (r % 4) as f64,
            })
            .collect();
        for dtype in [DType::F64, DType::F32] {
            let x = leaf(
                Tensor::from_vec(v.clone(), &xd[..])
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            );
            let (y, idx) = x.max_pool2d_with_indices(2, 2, 0).unwrap();
            let (yr, ir, _) = reference::max_pool2d(&v, xd, (2, 2), (2, 2), (0, 0));
            let got = y.to_f64_vec().unwrap();
            let same = got
                .iter()
                .zip(&yr)
                .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
            assert!(same && got.len() == yr.len(), "{dtype} {xd:?} values");
            assert_eq!(idx.to_vec::<i64>().unwrap(), ir, "{dtype} {xd:?} indices");
            let gy = randn(600 + i as u64, y.dims(), dtype);
            y.backward_with_grad(&gy).unwrap();
            let (h, w) = (xd[2], xd[3]);
            let plane_out = y.dims()[2] * y.dims()[3];
            let mut want = vec![0.0; n];
            for (k, (&g, &j)) in gy.to_f64_vec().unwrap().iter().zip(&ir).enumerate() {
                want[(k / plane_out) * h * w + j as usize] += g;
            }
            let want = Tensor::from_vec(want, &xd[..]).unwrap();
            assert_close(
                &format!("{dtype} {xd:?} dx"),
                &x.grad().unwrap(),
                &want,
                1e-6,
            );
        }
    }
}
