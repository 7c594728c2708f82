//! Every fast elementwise, reduction, softmax and indexing kernel against the plain reference
//! kernels in `cpu::reference`, on odd sizes (1, 7, 17, 63, 65, 257; 257x257 crosses the
//! threading threshold) and on contiguous, transposed, narrowed, strided and broadcast views.

use sinapsis_core::cpu::reference;
use sinapsis_core::{DType, Generator, Tensor};

const SHAPES: &[(usize, usize)] = &[(1, 7), (7, 1), (17, 63), (63, 65), (65, 17), (257, 257)];

/// A view of logical shape (a, b) in one of several layouts, with the base buffer it reads
/// so the reference can walk it by the definition of strides.
struct View {
    name: &'static str,
    base: Vec<f64>,
    t: Tensor,
}

impl View {
    fn oracle(&self) -> Vec<f64> {
        reference::strided_to_vec(
            &self.base,
            self.t.dims(),
            self.t.stride(),
            self.t.layout().offset(),
        )
    }
}

fn views(gen: &mut Generator, a: usize, b: usize) -> Vec<View> {
    let mut make = |name, dims: Vec<usize>, f: &dyn Fn(&Tensor) -> Tensor| {
        let base = gen
            .randn(dims.clone(), DType::F64)
            .unwrap()
            .to_vec::<f64>()
            .unwrap();
        let t = f(&Tensor::from_vec(base.clone(), dims).unwrap());
        assert_eq!(t.dims(), &[a, b]);
        View { name, base, t }
    };
    vec![
        make("contiguous", vec![a, b], &|t| t.clone()),
        make("transposed", vec![b, a], &|t| t.t().unwrap()),
        make("narrowed", vec![a, b + 5], &|t| t.narrow(1, 2, b).unwrap()),
        make("stepped", vec![a, b, 2], &|t| t.select(2, 1).unwrap()),
        make("broadcast_col", vec![a, 1], &|t| t.expand((a, b)).unwrap()),
        make("broadcast_row", vec![1, b], &|t| t.expand((a, b)).unwrap()),
    ]
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

#[test]
fn strided_walks_and_elementwise_kernels() {
    let mut gen = Generator::new(11);
    for &(a, b) in SHAPES {
        let vs = views(&mut gen, a, b);
        for v in &vs {
            let what = format!("{} {a}x{b}", v.name);
            let x = v.oracle();
            assert_eq!(v.t.to_vec::<f64>().unwrap(), x, "{what}: walk");
            let exp: Vec<f64> = x.iter().map(|v| v.exp()).collect();
            assert_eq!(
                v.t.exp().unwrap().to_vec::<f64>().unwrap(),
                exp,
                "{what}: exp"
            );
            let relu: Vec<f64> = x.iter().map(|v| v.max(0.0)).collect();
            assert_eq!(
                v.t.relu().unwrap().to_vec::<f64>().unwrap(),
                relu,
                "{what}: relu"
            );
            for w in &vs {
                let y = w.oracle();
                let sum: Vec<f64> = x.iter().zip(&y).map(|(p, q)| p + q).collect();
                let prod: Vec<f64> = x.iter().zip(&y).map(|(p, q)| p * q).collect();
                assert_eq!(
                    v.t.add(&w.t).unwrap().to_vec::<f64>().unwrap(),
                    sum,
                    "{what} + {}",
                    w.name
                );
                assert_eq!(
                    v.t.mul(&w.t).unwrap().to_vec::<f64>().unwrap(),
                    prod,
                    "{what} * {}",
                    w.name
                );
                let mask = v.t.gt(&w.t).unwrap();
                let pick: Vec<f64> = x
                    .iter()
                    .zip(&y)
                    .map(|(&p, &q)| if p > q { p } else { q })
                    .collect();
                let got = Tensor::where_cond(&mask, &v.t, &w.t).unwrap();
                assert_eq!(
                    got.to_vec::<f64>().unwrap(),
                    pick,
                    "{what} where {}",
                    w.name
                );
            }
            // f32 and casts take the same walks.
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            assert_eq!(
                v.t.to_dtype(DType::F32).unwrap().to_vec::<f32>().unwrap(),
                x32,
                "{what}: cast"
            );
        }
    }
}

#[test]
fn reductions() {
    let mut gen = Generator::new(12);
    for &(a, b) in SHAPES {
        for v in views(&mut gen, a, b) {
            let what = format!("{} {a}x{b}", v.name);
            let x = v.oracle();
            let dims = [a, b];
            for rd in [vec![0usize], vec![1], vec![0, 1]] {
                let want = reference::reduce(&x, &dims, &rd, 0.0, |p, q| p + q);
                let got = v.t.sum(&rd, true).unwrap().to_vec::<f64>().unwrap();
                close(&format!("{what}: sum {rd:?}"), &got, &want, 1e-12);
                let want = reference::reduce(&x, &dims, &rd, f64::NEG_INFINITY, f64::max);
                assert_eq!(
                    v.t.amax(&rd, true).unwrap().to_vec::<f64>().unwrap(),
                    want,
                    "{what}: amax {rd:?}"
                );
                // f32 sums stay within f32 rounding of the f64 reference.
                let got32 = v.t.to_dtype(DType::F32).unwrap().sum(&rd, true).unwrap();
                let want = reference::reduce(&x, &dims, &rd, 0.0, |p, q| p + q);
                close(
                    &format!("{what}: f32 sum {rd:?}"),
                    &got32.to_f64_vec().unwrap(),
                    &want,
                    1e-4,
                );
            }
            for d in [0usize, 1] {
                let want = reference::argmax(&x, &dims, d);
                assert_eq!(
                    v.t.argmax(d, true).unwrap().to_vec::<i64>().unwrap(),
                    want,
                    "{what}: argmax {d}"
                );
            }
        }
    }
}

#[test]
fn softmax_and_log_softmax() {
    let mut gen = Generator::new(13);
    for &(a, b) in SHAPES {
        for v in views(&mut gen, a, b) {
            let what = format!("{} {a}x{b}", v.name);
            let x = v.oracle();
            close(
                &format!("{what}: softmax"),
                &v.t.softmax(1).unwrap().to_vec::<f64>().unwrap(),
                &reference::softmax(&x, a, b),
                1e-12,
            );
            close(
                &format!("{what}: log_softmax"),
                &v.t.log_softmax(1).unwrap().to_vec::<f64>().unwrap(),
                &reference::log_softmax(&x, a, b),
                1e-12,
            );
            // Along dim 0: the reference works on the transposed buffer.
            let xt = reference::strided_to_vec(&x, &[b, a], &[1, b], 0);
            let want =
                reference::strided_to_vec(&reference::softmax(&xt, b, a), &[a, b], &[1, a], 0);
            close(
                &format!("{what}: softmax dim 0"),
                &v.t.softmax(0).unwrap().to_vec::<f64>().unwrap(),
                &want,
                1e-12,
            );
        }
    }
}

#[test]
fn gather_index_select_and_cat() {
    let mut gen = Generator::new(14);
    for &(a, b) in SHAPES {
        for v in views(&mut gen, a, b) {
            let what = format!("{} {a}x{b}", v.name);
            let x = v.oracle();
            let idx = gen.randint(0, b as i64, (a, 3)).unwrap();
            let iv = idx.to_vec::<i64>().unwrap();
            let want: Vec<f64> = (0..a * 3)
                .map(|p| x[(p / 3) * b + iv[p] as usize])
                .collect();
            assert_eq!(
                v.t.gather(1, &idx).unwrap().to_vec::<f64>().unwrap(),
                want,
                "{what}: gather"
            );
            let rows = gen.randint(0, a as i64, 5).unwrap();
            let rv = rows.to_vec::<i64>().unwrap();
            let want: Vec<f64> = rv
                .iter()
                .flat_map(|&r| x[r as usize * b..(r as usize + 1) * b].to_vec())
                .collect();
            assert_eq!(
                v.t.index_select(0, &rows).unwrap().to_vec::<f64>().unwrap(),
                want,
                "{what}: index_select"
            );
            let both = Tensor::cat(&[v.t.clone(), v.t.clone()], 1)
                .unwrap()
                .to_vec::<f64>()
                .unwrap();
            let want: Vec<f64> = (0..a)
                .flat_map(|r| [&x[r * b..(r + 1) * b], &x[r * b..(r + 1) * b]].concat())
                .collect();
            assert_eq!(both, want, "{what}: cat");
        }
    }
}

#[test]
fn binary_cross_entropy_against_its_formula() {
    // Hard targets (0 and 1) take a one-log shortcut; soft ones the general formula. Both
    // must give `(y - 1) max(ln(1 - p), -100) - y max(ln p, -100)`, saturated p included.
    let p = [1e-9, 0.01, 0.3, 0.5, 0.7, 0.99, 1.0 - 1e-9, 0.0, 1.0];
    for y in [0.0, 1.0, 0.3, 0.75] {
        let want: Vec<f64> = p
            .iter()
            .map(|&p: &f64| (y - 1.0) * (-p).ln_1p().max(-100.0) - y * p.ln().max(-100.0))
            .collect();
        let pt = Tensor::new(&p).unwrap();
        let yt = Tensor::full(p.len(), y, DType::F64).unwrap();
        let got = pt
            .binary_cross_entropy(&yt)
            .unwrap()
            .to_vec::<f64>()
            .unwrap();
        close(&format!("bce y={y}"), &got, &want, 1e-12);
    }
    // A probability outside [0, 1] is an error whatever the target, even when the log the
    // shortcut skips is the only one that would have gone NaN.
    for (p, y) in [(-0.5, 0.0), (1.5, 1.0), (1.5, 0.0), (-0.5, 1.0), (1.5, 0.3)] {
        let pt = Tensor::new(&[p]).unwrap();
        let yt = Tensor::new(&[y]).unwrap();
        assert!(pt.binary_cross_entropy(&yt).is_err(), "p={p} y={y}");
    }
}

#[test]
fn take_rows_matches_index_select() {
    let mut gen = Generator::new(5);
    let rows = [4usize, 0, 4, 2];
    let idx = Tensor::new(&[4i64, 0, 4, 2]).unwrap();
    let shapes = [
        vec![5],
        vec![5, 1],
        vec![5, 2],
        vec![5, 3],
        vec![5, 4],
        vec![5, 3, 7],
        vec![5, 0],
    ];
    for dims in shapes {
        let x = gen.randn(dims.clone(), DType::F32).unwrap();
        for (name, t) in [
            ("contiguous", x.clone()),
            ("narrowed", x.narrow(0, 0, 5).unwrap()),
            (
                "needs grad",
                x.copy().unwrap().requires_grad_(true).unwrap(),
            ),
        ] {
            let got = t.take_rows(&rows).unwrap();
            let want = t.index_select(0, &idx).unwrap();
            assert_eq!(got.dims(), want.dims(), "{name} {dims:?}");
            assert_eq!(
                got.to_vec::<f32>().unwrap(),
                want.to_vec::<f32>().unwrap(),
                "{name} {dims:?}"
            );
            assert_eq!(got.requires_grad(), t.requires_grad(), "{name} {dims:?}");
        }
    }
    // A transposed source (not contiguous) and integer data take the same rows.
    let m = Tensor::new(&[[1i64, 2, 3], [4, 5, 6]])
        .unwrap()
        .t()
        .unwrap();
    let got = m.take_rows(&[2, 0]).unwrap().to_vec::<i64>().unwrap();
    assert_eq!(got, vec![3, 6, 1, 4]);
    let e = Tensor::new(&[1.0f32, 2.0])
        .unwrap()
        .take_rows(&[2])
        .unwrap_err();
    assert!(e.to_string().contains("row 2 is out of bounds"), "{e}");
    assert!(Tensor::scalar(1.0f32).take_rows(&[0]).is_err());
}

/// Values and gradients of `x`, `w`, `b` for `f(x, w, b)` under a non-uniform upstream
/// gradient (a weighted sum of the output).
fn linear_grads(
    f: impl Fn(&Tensor, &Tensor, Option<&Tensor>) -> sinapsis_core::Result<Tensor>,
    (x, w, b): (&Tensor, &Tensor, Option<&Tensor>),
    weights: &Tensor,
) -> Vec<Vec<f64>> {
    let leaves: Vec<&Tensor> = [Some(x), Some(w), b].into_iter().flatten().collect();
    grads_of(|xs| f(&xs[0], &xs[1], xs.get(2)), &leaves, weights)
}

#[test]
fn linear_relu_matches_linear_then_relu() {
    let mut gen = Generator::new(21);
    // The last shape's output (280k elements) crosses the threading threshold, and every
    // shape but the first spans several blocks of the column sums.
    for (n, k, m) in [(3, 5, 4), (300, 17, 129), (700, 33, 400)] {
        for dtype in [DType::F32, DType::F64] {
            let x = gen.randn(vec![n, k], dtype).unwrap();
            let w = gen.randn(vec![m, k], dtype).unwrap();
            let b = gen.randn(vec![m], dtype).unwrap();
            let weights = gen.randn(vec![n, m], dtype).unwrap();
            for bias in [Some(&b), None] {
                let what = format!("{n}x{k} -> {m} {dtype:?} bias {}", bias.is_some());
                let fused = linear_grads(|x, w, b| x.linear_relu(w, b), (&x, &w, bias), &weights);
                let two_ops =
                    linear_grads(|x, w, b| x.linear(w, b)?.relu(), (&x, &w, bias), &weights);
                // Same arithmetic in the same order: the same bits.
                for (i, (f, t)) in fused.iter().zip(&two_ops).enumerate() {
                    assert_eq!(f, t, "{what}: output/gradient {i}");
                }
                assert!(fused[0].contains(&0.0), "{what}: nothing clipped");
            }
        }
    }
    // NaN passes through ReLU (fused or not), as in PyTorch.
    let x = Tensor::new(&[[f32::NAN], [1.0]]).unwrap();
    let w = Tensor::new(&[[-1.0f32]]).unwrap();
    let y = x.linear_relu(&w, None).unwrap().to_vec::<f32>().unwrap();
    assert!(y[0].is_nan() && y[1] == 0.0, "{y:?}");
    assert!(Tensor::new(&[f32::NAN])
        .unwrap()
        .relu()
        .unwrap()
        .to_vec::<f32>()
        .unwrap()[0]
        .is_nan());
}

/// Values and gradients of every leaf for `f(leaves)` under a non-uniform upstream
/// gradient (a weighted sum of the output).
fn grads_of(
    f: impl Fn(&[Tensor]) -> sinapsis_core::Result<Tensor>,
    leaves: &[&Tensor],
    weights: &Tensor,
) -> Vec<Vec<f64>> {
    let leaves: Vec<Tensor> = leaves
        .iter()
        .map(|t| t.detach().requires_grad_(true).unwrap())
        .collect();
    let y = f(&leaves).unwrap();
    y.mul(weights)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let mut out = vec![y.to_f64_vec().unwrap()];
    out.extend(
        leaves
            .iter()
            .map(|t| t.grad().unwrap().to_f64_vec().unwrap()),
    );
    out
}

#[test]
fn linear_after_relu_masks_its_input_gradient_in_one_pass() {
    // A linear layer reading a ReLU's output masks its input gradient itself, in one
    // blocked pass with its weight gradient (`cpu::linear_grad`) that also sums it for the
    // bias of the layer before, and the ReLU skips its own mask. The oracle is the same network from unfused ops (matmul, add, relu), whose
    // backward takes none of those paths. Shapes: one block; several blocks in one chunk;
    // several chunks shared across threads (5000 x 100 hidden); and a layer too wide for
    // the register kernel (40 outputs, through gemm).
    let mut gen = Generator::new(24);
    let shapes = [
        (3, 4, 5, 2),
        (700, 13, 37, 10),
        (5000, 20, 100, 10),
        (600, 8, 29, 40),
    ];
    for (n, k, hidden, m) in shapes {
        for dtype in [DType::F32, DType::F64] {
            let x = gen.randn(vec![n, k], dtype).unwrap();
            let w1 = gen.randn(vec![hidden, k], dtype).unwrap();
            let b1 = gen.randn(vec![hidden], dtype).unwrap();
            // The second weight stored transposed: the kernel reads it through its strides.
            let w2 = gen.randn(vec![hidden, m], dtype).unwrap().t().unwrap();
            let b2 = gen.randn(vec![m], dtype).unwrap();
            let weights = gen.randn(vec![n, m], dtype).unwrap();
            let leaves = [&x, &w1, &b1, &w2, &b2];
            let tol = if dtype == DType::F32 { 1e-4 } else { 1e-11 };
            let plain = |xs: &[Tensor]| {
                let h = xs[0].matmul(&xs[1].t()?)?.add(&xs[2])?.relu()?;
                h.matmul(&xs[3].t()?)?.add(&xs[4])
            };
            let want = grads_of(plain, &leaves, &weights);
            // Fan-out: the hidden layer also feeds a plain op, whose unmasked share makes
            // the ReLU mask the sum itself.
            let plain_fan_out = |xs: &[Tensor]| {
                let h = xs[0].matmul(&xs[1].t()?)?.add(&xs[2])?.relu()?;
                let side = h.sum([1], true)?.mul_scalar(0.5)?;
                h.matmul(&xs[3].t()?)?.add(&xs[4])?.add(&side)
            };
            let want_fan_out = grads_of(plain_fan_out, &leaves, &weights);
            // Two linear readers: both mask and sum their share, and the shares add up.
            let plain_two_readers = |xs: &[Tensor]| {
                let h = xs[0].matmul(&xs[1].t()?)?.add(&xs[2])?.relu()?;
                let second = h.matmul(&xs[3].t()?)?.mul_scalar(-0.5)?;
                h.matmul(&xs[3].t()?)?.add(&xs[4])?.add(&second)
            };
            let want_two_readers = grads_of(plain_two_readers, &leaves, &weights);
            type Hidden = fn(&[Tensor]) -> sinapsis_core::Result<Tensor>;
            let hidden_layers: [(&str, Hidden); 2] = [
                ("linear_relu", |xs| xs[0].linear_relu(&xs[1], Some(&xs[2]))),
                ("linear then relu", |xs| {
                    xs[0].linear(&xs[1], Some(&xs[2]))?.relu()
                }),
            ];
            for (name, hidden_layer) in hidden_layers {
                let what = format!("{n}x{k}-{hidden}-{m} {dtype:?} {name}");
                let net = |xs: &[Tensor]| hidden_layer(xs)?.linear(&xs[3], Some(&xs[4]));
                let got = grads_of(net, &leaves, &weights);
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    close(&format!("{what}: output/gradient {i}"), g, w, tol);
                }
                let fan_out = |xs: &[Tensor]| {
                    let h = hidden_layer(xs)?;
                    let side = h.sum([1], true)?.mul_scalar(0.5)?;
                    h.linear(&xs[3], Some(&xs[4]))?.add(&side)
                };
                let got = grads_of(fan_out, &leaves, &weights);
                for (i, (g, w)) in got.iter().zip(&want_fan_out).enumerate() {
                    close(&format!("{what} fan-out: output/gradient {i}"), g, w, tol);
                }
                let two_readers = |xs: &[Tensor]| {
                    let h = hidden_layer(xs)?;
                    let second = h.linear(&xs[3], None)?.mul_scalar(-0.5)?;
                    h.linear(&xs[3], Some(&xs[4]))?.add(&second)
                };
                let got = grads_of(two_readers, &leaves, &weights);
                for (i, (g, w)) in got.iter().zip(&want_two_readers).enumerate() {
                    close(
                        &format!("{what} two readers: output/gradient {i}"),
                        g,
                        w,
                        tol,
                    );
                }
            }
            // The weight gradient's partial sums are added in a fixed order: the same bits
            // on one thread.
            let net = |xs: &[Tensor]| {
                xs[0]
                    .linear_relu(&xs[1], Some(&xs[2]))?
                    .linear(&xs[3], None)
            };
            let many = grads_of(net, &leaves[..4], &weights);
            let one = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap()
                .install(|| grads_of(net, &leaves[..4], &weights));
            assert_eq!(
                many, one,
                "{n}x{k}-{hidden}-{m} {dtype:?}: thread count changed bits"
            );
        }
    }
}

#[test]
fn column_sums_of_large_matrices() {
    // Above the threading threshold, in several blocks whose partials are added in order:
    // the same value on any number of threads, within rounding of the reference.
    let mut gen = Generator::new(22);
    for (a, b) in [(3000, 100), (40000, 10), (70000, 1)] {
        let x = gen.randn(vec![a, b], DType::F64).unwrap();
        let want = reference::reduce(&x.to_vec::<f64>().unwrap(), &[a, b], &[0], 0.0, |p, q| {
            p + q
        });
        let got = x.sum([0], false).unwrap().to_vec::<f64>().unwrap();
        close(&format!("{a}x{b}: sum 0"), &got, &want, 1e-12);
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| x.sum([0], false).unwrap().to_vec::<f64>().unwrap());
        assert_eq!(got, one_thread, "{a}x{b}: thread count changed the sum");
    }
}

#[test]
fn cross_entropy_rows_matches_log_softmax_and_gather() {
    let mut gen = Generator::new(23);
    // Small, one block, several blocks, and past the threading threshold.
    for (n, c) in [(1, 1), (3, 7), (1500, 10), (30000, 10)] {
        let x64 = gen
            .randn(vec![n, c], DType::F64)
            .unwrap()
            .mul_scalar(4.0)
            .unwrap();
        let t: Vec<i64> = (0..n).map(|i| ((i * 7 + 3) % c) as i64).collect();
        let t = Tensor::new(t.as_slice()).unwrap();
        let weights = gen.randn(vec![n], DType::F64).unwrap();
        for dtype in [DType::F64, DType::F32] {
            let what = format!("{n}x{c} {dtype:?}");
            let tol = if dtype == DType::F64 { 1e-12 } else { 1e-5 };
            let x = x64.to_dtype(dtype).unwrap();
            let w = weights.to_dtype(dtype).unwrap();
            let run = |fused: bool| -> (Vec<f64>, Vec<f64>) {
                let x = x.detach().requires_grad_(true).unwrap();
                let rows = if fused {
                    x.cross_entropy_rows(&t).unwrap()
                } else {
                    let logp = x.log_softmax(1).unwrap();
                    let idx = t.unsqueeze(1).unwrap();
                    logp.gather(1, &idx)
                        .unwrap()
                        .squeeze(1)
                        .unwrap()
                        .neg()
                        .unwrap()
                };
                rows.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
                (
                    rows.to_f64_vec().unwrap(),
                    x.grad().unwrap().to_f64_vec().unwrap(),
                )
            };
            let (fused, reference) = (run(true), run(false));
            close(&format!("{what}: losses"), &fused.0, &reference.0, tol);
            close(&format!("{what}: gradient"), &fused.1, &reference.1, tol);
        }
    }
    // Infinite and huge logits give what -log_softmax gives.
    let x = Tensor::new(&[
        [f32::NEG_INFINITY, 0.0],
        [1000.0, 0.0],
        [f32::INFINITY, 0.0],
    ])
    .unwrap();
    let l = x
        .cross_entropy_rows(&Tensor::new(&[1i64, 1, 1]).unwrap())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(l[0], 0.0);
    assert_eq!(l[1], 1000.0);
    assert_eq!(l[2], f32::INFINITY, "as -log_softmax gives: {l:?}");
    // Errors name the op and what is wrong.
    let x = Tensor::zeros([2, 3], DType::F32).unwrap();
    for (t, needle) in [
        (
            Tensor::new(&[0i64, 3]).unwrap(),
            "target 3 (row 1) is out of range for 3 classes",
        ),
        (Tensor::new(&[0i64, -1]).unwrap(), "target -1 (row 1)"),
        (Tensor::new(&[0i64]).unwrap(), "must be (2)"),
        (Tensor::new(&[0.0f32, 1.0]).unwrap(), "i64 class indices"),
    ] {
        let e = x.cross_entropy_rows(&t).unwrap_err().to_string();
        assert!(
            e.contains("cross_entropy_rows") && e.contains(needle),
            "{e}"
        );
    }
}
