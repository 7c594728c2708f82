//! Float64 finite-difference checks of every differentiable op, on contiguous, transposed,
//! narrowed and broadcast (stride-0) inputs, and every reduce dim with keepdim on and off.

use sinapsis_core::{gradcheck, DType, Generator, Result, Tensor};

/// Random f64 leaf of `shape`, values kept at least 0.1 away from 0 (the kinks of relu, abs,
/// leaky_relu and elu, and the pole of 1/x).
fn leaf(gen: &mut Generator, shape: &[usize]) -> Tensor {
    let x = gen.randn(shape.to_vec(), DType::F64).unwrap();
    let v: Vec<f64> = x
        .to_vec::<f64>()
        .unwrap()
        .into_iter()
        .map(|a| if a >= 0.0 { a + 0.1 } else { a - 0.1 })
        .collect();
    Tensor::from_vec(v, shape.to_vec())
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

/// Positive leaf (for log, sqrt, pow's base).
fn positive(gen: &mut Generator, shape: &[usize]) -> Tensor {
    let x = gen.uniform(shape.to_vec(), 0.5, 2.0, DType::F64).unwrap();
    x.requires_grad_(true).unwrap()
}

type Unary = fn(&Tensor) -> Result<Tensor>;

fn unary_ops() -> Vec<(&'static str, Unary, bool)> {
    // (name, op, needs positive input)
    vec![
        ("neg", |x| x.neg(), false),
        ("exp", |x| x.exp(), false),
        ("log", |x| x.log(), true),
        ("log1p", |x| x.log1p(), true),
        ("sqrt", |x| x.sqrt(), true),
        ("abs", |x| x.abs(), false),
        ("sin", |x| x.sin(), false),
        ("cos", |x| x.cos(), false),
        ("tanh", |x| x.tanh(), false),
        ("sigmoid", |x| x.sigmoid(), false),
        ("log_sigmoid", |x| x.log_sigmoid(), false),
        ("relu", |x| x.relu(), false),
        ("leaky_relu", |x| x.leaky_relu(0.2), false),
        ("gelu", |x| x.gelu(), false),
        ("gelu_tanh", |x| x.gelu_tanh(), false),
        ("silu", |x| x.silu(), false),
        ("softplus", |x| x.softplus(), false),
        ("softplus_beta", |x| x.softplus_with(2.0, 1.0), false),
        ("elu", |x| x.elu(0.7), false),
        ("erf", |x| x.erf(), false),
        ("square", |x| x.square(), false),
        ("reciprocal", |x| x.reciprocal(), false),
        ("powf_3", |x| x.powf(3.0), false),
        ("powf_-1.5", |x| x.powf(-1.5), true),
        ("clamp", |x| x.clamp(-0.5, 0.7), false),
        ("clamp_min", |x| x.clamp_min(0.05), false),
        ("add_scalar", |x| x.add_scalar(1.5), false),
        ("mul_scalar", |x| x.mul_scalar(-2.5), false),
        ("div_scalar", |x| x / 4.0, false),
        ("softmax", |x| x.softmax(-1), false),
        ("softmax_0", |x| x.softmax(0), false),
        ("log_softmax", |x| x.log_softmax(1), false),
        ("log_softmax_0", |x| x.log_softmax(0), false),
        ("cast_f32_roundtrip", |x| x.mul_scalar(1.0), false),
    ]
}

/// Input layouts: a contiguous (3, 4), a transposed (4, 3)^T, a narrowed (3, 6)[:, 1:5], and a
/// broadcast (3, 1) expanded to (3, 4).
type LayoutFn = Box<dyn Fn(&Tensor) -> Result<Tensor>>;

fn layouts() -> Vec<(&'static str, LayoutFn)> {
    vec![
        ("contiguous", Box::new(|x: &Tensor| Ok(x.clone()))),
        ("transposed", Box::new(|x: &Tensor| x.t())),
        ("narrowed", Box::new(|x: &Tensor| x.narrow(1, 1, 4))),
        ("broadcast", Box::new(|x: &Tensor| x.expand((3, 4)))),
    ]
}

fn leaf_for(gen: &mut Generator, layout: &str, pos: bool) -> Tensor {
    let shape: &[usize] = match layout {
        "contiguous" => &[3, 4],
        "transposed" => &[4, 3],
        "narrowed" => &[3, 6],
        _ => &[3, 1],
    };
    if pos {
        positive(gen, shape)
    } else {
        leaf(gen, shape)
    }
}

#[test]
fn unary_ops_on_every_layout() {
    let mut gen = Generator::new(1);
    for (name, op, pos) in unary_ops() {
        for (lname, view) in layouts() {
            let x = leaf_for(&mut gen, lname, pos);
            gradcheck(|xs| op(&view(&xs[0])?), &[x])
                .unwrap_or_else(|e| panic!("{name} on {lname} input: {e}"));
        }
    }
}

type Binary = fn(&Tensor, &Tensor) -> Result<Tensor>;

#[test]
fn binary_ops_with_broadcasting_and_strides() {
    let ops: Vec<(&str, Binary, bool)> = vec![
        ("add", |a, b| a + b, false),
        ("sub", |a, b| a - b, false),
        ("mul", |a, b| a * b, false),
        ("div", |a, b| a / b, false),
        ("pow", |a, b| a.pow(b), true),
        ("maximum", |a, b| a.maximum(b), false),
        ("minimum", |a, b| a.minimum(b), false),
    ];
    let shapes: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[3, 4]),
        (&[3, 4], &[4]),
        (&[2, 3, 4], &[3, 1]),
        (&[3, 1], &[1, 4]),
        (&[1], &[3, 4]),
        (&[], &[2, 3]),
    ];
    let mut gen = Generator::new(2);
    for (name, op, pos) in &ops {
        for (sa, sb) in shapes {
            let a = if *pos {
                positive(&mut gen, sa)
            } else {
                leaf(&mut gen, sa)
            };
            let b = leaf(&mut gen, sb);
            gradcheck(|xs| op(&xs[0], &xs[1]), &[a, b])
                .unwrap_or_else(|e| panic!("{name} {sa:?} {sb:?}: {e}"));
        }
        // Transposed and narrowed operands.
        let a = if *pos {
            positive(&mut gen, &[4, 3])
        } else {
            leaf(&mut gen, &[4, 3])
        };
        let b = leaf(&mut gen, &[3, 6]);
        gradcheck(|xs| op(&xs[0].t()?, &xs[1].narrow(1, 2, 4)?), &[a, b])
            .unwrap_or_else(|e| panic!("{name} strided: {e}"));
    }
}

#[test]
fn reductions_over_every_dim_set_with_and_without_keepdim() {
    let dim_sets: Vec<Vec<i64>> = vec![
        vec![0],
        vec![1],
        vec![2],
        vec![-1],
        vec![0, 2],
        vec![1, 2],
        vec![0, 1, 2],
    ];
    let mut gen = Generator::new(3);
    for keep in [false, true] {
        for dims in &dim_sets {
            let d = dims.clone();
            let check = |name: &str, f: &dyn Fn(&Tensor) -> Result<Tensor>, gen: &mut Generator| {
                for transposed in [false, true] {
                    let x = if transposed {
                        leaf(gen, &[4, 3, 2])
                    } else {
                        leaf(gen, &[2, 3, 4])
                    };
                    gradcheck(
                        |xs| {
                            let v = if transposed {
                                xs[0].permute(&[2, 1, 0])?
                            } else {
                                xs[0].clone()
                            };
                            f(&v)
                        },
                        &[x],
                    )
                    .unwrap_or_else(|e| {
                        panic!("{name} dims {d:?} keep {keep} transposed {transposed}: {e}")
                    });
                }
            };
            check("sum", &|x| x.sum(&d, keep), &mut gen);
            check("mean", &|x| x.mean(&d, keep), &mut gen);
            check("amax", &|x| x.amax(&d, keep), &mut gen);
            check("amin", &|x| x.amin(&d, keep), &mut gen);
            check("logsumexp", &|x| x.logsumexp(&d, keep), &mut gen);
            check("var_c1", &|x| x.var(&d, 1, keep), &mut gen);
            check("var_c0", &|x| x.var(&d, 0, keep), &mut gen);
            check("std", &|x| x.std(&d, 1, keep), &mut gen);
            check("norm2", &|x| x.norm(2.0, &d, keep), &mut gen);
            check("norm1", &|x| x.norm(1.0, &d, keep), &mut gen);
            check("norm3", &|x| x.norm(3.0, &d, keep), &mut gen);
            check("norm_inf", &|x| x.norm(f64::INFINITY, &d, keep), &mut gen);
        }
        for dim in [0i64, 1, 2, -1] {
            let x = leaf(&mut gen, &[2, 3, 4]);
            gradcheck(
                |xs| Ok(xs[0].max_dim(dim, keep)?.0),
                std::slice::from_ref(&x),
            )
            .unwrap();
            gradcheck(|xs| Ok(xs[0].min_dim(dim, keep)?.0), &[x]).unwrap();
        }
    }
    for f in [
        |x: &Tensor| x.sum_all(),
        |x: &Tensor| x.mean_all(),
        |x: &Tensor| x.max_all(),
        |x: &Tensor| x.min_all(),
        |x: &Tensor| x.norm_all(2.0),
    ] {
        let x = leaf(&mut gen, &[3, 5]);
        gradcheck(|xs| f(&xs[0].t()?), &[x]).unwrap();
    }
}

#[test]
fn matmul_in_every_rank_combination() {
    let mut gen = Generator::new(4);
    let cases: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[4, 5]),
        (&[4], &[4, 5]),
        (&[3, 4], &[4]),
        (&[4], &[4]),
        (&[2, 3, 4], &[2, 4, 5]),
        (&[2, 3, 4], &[4, 5]),
        (&[3, 4], &[2, 4, 5]),
        (&[5, 1, 3, 4], &[2, 4, 3]),
    ];
    for (sa, sb) in cases {
        let (a, b) = (leaf(&mut gen, sa), leaf(&mut gen, sb));
        gradcheck(|xs| xs[0].matmul(&xs[1]), &[a, b])
            .unwrap_or_else(|e| panic!("{sa:?}@{sb:?}: {e}"));
    }
    // Transposed, narrowed and broadcast operands.
    let (a, b) = (leaf(&mut gen, &[4, 3]), leaf(&mut gen, &[5, 6]));
    gradcheck(|xs| xs[0].t()?.matmul(&xs[1].narrow(0, 1, 4)?), &[a, b]).unwrap();
    let (a, b) = (leaf(&mut gen, &[3, 1]), leaf(&mut gen, &[4, 2]));
    gradcheck(|xs| xs[0].expand((3, 4))?.matmul(&xs[1]), &[a, b]).unwrap();
    let (x, w, bias) = (
        leaf(&mut gen, &[5, 4]),
        leaf(&mut gen, &[3, 4]),
        leaf(&mut gen, &[3]),
    );
    gradcheck(|xs| xs[0].linear(&xs[1], Some(&xs[2])), &[x, w, bias]).unwrap();
    // The fused op without a bias and on a transposed input; leading batch dims and a
    // broadcasting 2-D bias take the general path.
    let (x, w) = (leaf(&mut gen, &[4, 5]), leaf(&mut gen, &[3, 4]));
    gradcheck(|xs| xs[0].t()?.linear(&xs[1], None), &[x, w]).unwrap();
    let (x, w, bias) = (
        leaf(&mut gen, &[2, 5, 4]),
        leaf(&mut gen, &[3, 4]),
        leaf(&mut gen, &[1, 3]),
    );
    gradcheck(|xs| xs[0].linear(&xs[1], Some(&xs[2])), &[x, w, bias]).unwrap();
}

#[test]
fn cross_entropy_rows() {
    let mut gen = Generator::new(10);
    let x = leaf(&mut gen, &[5, 4]);
    let t = Tensor::new(&[3i64, 0, 1, 3, 2]).unwrap();
    gradcheck(|xs| xs[0].cross_entropy_rows(&t), std::slice::from_ref(&x)).unwrap();
    // Through a transposed view and a weighted reduction (non-uniform upstream gradient).
    let w = Tensor::new(&[1.0f64, -2.0, 0.5, 3.0, 1.5]).unwrap();
    gradcheck(
        |xs| xs[0].t()?.t()?.cross_entropy_rows(&t)?.mul(&w)?.sum_all(),
        &[x],
    )
    .unwrap();
    let xt = leaf(&mut gen, &[4, 5]);
    gradcheck(|xs| xs[0].t()?.cross_entropy_rows(&t), &[xt]).unwrap();
}

#[test]
fn linear_relu_fused_and_general() {
    let mut gen = Generator::new(9);
    // The fused op (about half the outputs clipped), without a bias, on a transposed input,
    // and through the general path (leading batch dims).
    let (x, w, bias) = (
        leaf(&mut gen, &[6, 4]),
        leaf(&mut gen, &[5, 4]),
        leaf(&mut gen, &[5]),
    );
    gradcheck(|xs| xs[0].linear_relu(&xs[1], Some(&xs[2])), &[x, w, bias]).unwrap();
    let (x, w) = (leaf(&mut gen, &[4, 6]), leaf(&mut gen, &[3, 4]));
    gradcheck(|xs| xs[0].t()?.linear_relu(&xs[1], None), &[x, w]).unwrap();
    let (x, w, bias) = (
        leaf(&mut gen, &[2, 5, 4]),
        leaf(&mut gen, &[3, 4]),
        leaf(&mut gen, &[3]),
    );
    gradcheck(|xs| xs[0].linear_relu(&xs[1], Some(&xs[2])), &[x, w, bias]).unwrap();
}

#[test]
fn linear_after_relu() {
    // The second layer masks its input gradient for the ReLU (fused or not) before it.
    let mut gen = Generator::new(10);
    let leaves = [
        leaf(&mut gen, &[7, 4]),
        leaf(&mut gen, &[5, 4]),
        leaf(&mut gen, &[5]),
        leaf(&mut gen, &[3, 5]),
        leaf(&mut gen, &[3]),
    ];
    gradcheck(
        |xs| {
            xs[0]
                .linear_relu(&xs[1], Some(&xs[2]))?
                .linear(&xs[3], Some(&xs[4]))
        },
        &leaves,
    )
    .unwrap();
    gradcheck(
        |xs| {
            let h = xs[0].linear(&xs[1], Some(&xs[2]))?.relu()?;
            h.linear_relu(&xs[3], Some(&xs[4]))?.add(&h.sum([1], true)?)
        },
        &leaves,
    )
    .unwrap();
}

#[test]
fn binary_cross_entropy_both_inputs() {
    let mut gen = Generator::new(11);
    // Probabilities away from 0 and 1, where the clamped logs are smooth.
    let p = gen.uniform(vec![3, 4], 0.1, 0.9, DType::F64).unwrap();
    let y = gen.uniform(vec![3, 4], 0.0, 1.0, DType::F64).unwrap();
    let (p, y) = (
        p.requires_grad_(true).unwrap(),
        y.requires_grad_(true).unwrap(),
    );
    gradcheck(|xs| xs[0].binary_cross_entropy(&xs[1]), &[p, y]).unwrap();
}

#[test]
fn views_and_joins() {
    let mut gen = Generator::new(5);
    type F = fn(&Tensor) -> Result<Tensor>;
    let views: Vec<(&str, F)> = vec![
        ("reshape", |x| x.reshape((4, 6))),
        ("reshape_of_transpose", |x| {
            x.transpose(0, 2)?.reshape((4, 6))
        }),
        ("reshape_infer", |x| x.reshape_infer(&[-1, 3])),
        ("view", |x| x.view((6, 4))),
        ("flatten", |x| x.flatten(0, 1)),
        ("squeeze_unsqueeze", |x| {
            x.unsqueeze(1)?.unsqueeze(-1)?.squeeze(1)
        }),
        ("permute", |x| x.permute(&[1, 2, 0])),
        ("transpose", |x| x.transpose(-1, 0)),
        ("narrow", |x| x.narrow(2, 1, 2)),
        ("slice", |x| x.slice(1, 1, 3)),
        ("select", |x| x.select(0, 1)),
        ("expand", |x| x.unsqueeze(0)?.expand((3, 2, 3, 4))),
        ("contiguous", |x| x.transpose(0, 1)?.contiguous()),
        ("copy", |x| x.copy()),
        ("chunk", |x| {
            let c = x.chunk(2, 2)?;
            c[0].mul(&c[1])
        }),
        ("split", |x| {
            let c = x.split(1, 1)?;
            Tensor::cat(&[c[2].clone(), c[0].clone()], 1)
        }),
        ("cast", |x| x.to_dtype(DType::F64)?.square()),
    ];
    for (name, f) in views {
        let x = leaf(&mut gen, &[2, 3, 4]);
        gradcheck(|xs| f(&xs[0]), &[x]).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let (a, b) = (leaf(&mut gen, &[2, 3]), leaf(&mut gen, &[4, 3]));
    gradcheck(
        |xs| Tensor::cat(&[xs[0].clone(), xs[1].clone(), xs[0].clone()], 0),
        &[a, b],
    )
    .unwrap();
    let (a, b) = (leaf(&mut gen, &[2, 3]), leaf(&mut gen, &[3, 2]));
    gradcheck(|xs| Tensor::stack(&[xs[0].clone(), xs[1].t()?], 2), &[a, b]).unwrap();
}

#[test]
fn indexing_and_selection() {
    let mut gen = Generator::new(6);
    let idx = Tensor::new(&[[0i64, 2, 2], [1, 1, 0], [3, 0, 1]]).unwrap();
    let x = leaf(&mut gen, &[3, 4]);
    gradcheck(|xs| xs[0].gather(1, &idx), std::slice::from_ref(&x)).unwrap();
    let rows = Tensor::new(&[2i64, 0, 2, 1]).unwrap();
    gradcheck(|xs| xs[0].index_select(0, &rows), std::slice::from_ref(&x)).unwrap();
    gradcheck(
        |xs| xs[0].t()?.index_select(1, &rows),
        std::slice::from_ref(&x),
    )
    .unwrap();
    let mask = x.detach().gt_scalar(0.0).unwrap();
    let y = leaf(&mut gen, &[4]);
    gradcheck(
        |xs| Tensor::where_cond(&mask, &xs[0], &xs[1]),
        &[x.clone(), y],
    )
    .unwrap();
    gradcheck(|xs| xs[0].masked_fill(&mask, 3.0), &[x]).unwrap();
}

#[test]
fn fan_out_and_deep_graphs() {
    let mut gen = Generator::new(7);
    // A tensor used many times: gradients accumulate.
    let x = leaf(&mut gen, &[3, 3]);
    gradcheck(
        |xs| xs[0].mul(&xs[0])?.add(&xs[0].exp()?)?.matmul(&xs[0]),
        &[x],
    )
    .unwrap();
    // A chain far deeper than any recursion could take.
    let x = Tensor::from_vec(vec![0.5f64], 1)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = y.mul_scalar(1.0).unwrap();
    }
    y.sum_all().unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f64>().unwrap(), vec![1.0]);
}
