//! Random generators (reproducibility, statistics, state save/restore, thread-count
//! independence, argument errors) and the printed form of tensors. Public API only.
//!
//! NOTE: only `default_generator_end_to_end` touches the process-wide default generator:
//! tests run on parallel threads, and sharing it across tests would make them racy.

use sinapsis_core::random::{manual_seed, with_default_generator, GeneratorState};
use sinapsis_core::{DType, Error, Generator, Tensor};

fn f32s(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}
fn f64s(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}
fn i64s(t: &Tensor) -> Vec<i64> {
    t.to_vec::<i64>().unwrap()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// The outputs of `draw_all`, one per generator method.
type Draws = (Vec<f32>, Vec<f64>, Vec<f32>, Vec<f64>, Vec<i64>, Vec<i64>);

/// One of everything, drawn in a fixed order from `g`.
fn draw_all(g: &mut Generator) -> Draws {
    let a = f32s(&g.rand([3, 5], DType::F32).unwrap());
    let b = f64s(&g.randn([7], DType::F64).unwrap());
    let c = f32s(&g.uniform([4], -2.0, 3.0, DType::F32).unwrap());
    let d = f64s(&g.normal([2, 2], 1.0, 0.5, DType::F64).unwrap());
    let e = i64s(&g.randint(-5, 5, [9]).unwrap());
    let f = i64s(&g.randperm(12).unwrap());
    (a, b, c, d, e, f)
}

// ---- reproducibility ----------------------------------------------------------------------

#[test]
fn same_seed_gives_identical_tensors() {
    assert_eq!(
        draw_all(&mut Generator::new(123)),
        draw_all(&mut Generator::new(123))
    );
    let p = Tensor::from_vec(vec![0.1f32, 0.5, 0.9, 0.3], 4).unwrap();
    assert_eq!(
        f32s(&Generator::new(5).bernoulli(&p).unwrap()),
        f32s(&Generator::new(5).bernoulli(&p).unwrap())
    );
}

#[test]
fn different_seeds_differ() {
    let a = f32s(&Generator::new(1).rand([100], DType::F32).unwrap());
    let b = f32s(&Generator::new(2).rand([100], DType::F32).unwrap());
    assert_ne!(a, b);
    let a = i64s(&Generator::new(1).randperm(50).unwrap());
    let b = i64s(&Generator::new(2).randperm(50).unwrap());
    assert_ne!(a, b);
}

#[test]
fn consecutive_draws_continue_the_stream() {
    let mut g = Generator::new(9);
    let first = f64s(&g.rand([4], DType::F64).unwrap());
    let second = f64s(&g.rand([4], DType::F64).unwrap());
    assert_ne!(first, second);
    // Two draws of 4 equal one draw of 8: the stream is consumed element by element.
    let all = f64s(&Generator::new(9).rand([8], DType::F64).unwrap());
    assert_eq!([first, second].concat(), all);
}

/// Pins the numbers of seed 0, so a change of algorithm or of a dependency that alters the
/// stream is caught (old checkpoints and experiments would stop reproducing).
#[test]
fn seed_zero_numbers_are_pinned() {
    let mut g = Generator::new(0);
    let u = f32s(&g.rand([3], DType::F32).unwrap());
    let z = f64s(&g.randn([2], DType::F64).unwrap());
    let k = i64s(&g.randint(0, 100, [4]).unwrap());
    let p = i64s(&g.randperm(6).unwrap());
    let got = format!("{u:?} {z:?} {k:?} {p:?}");
    assert_eq!(got, PINNED_SEED_ZERO, "the random stream of seed 0 changed");
}
const PINNED_SEED_ZERO: &str = "[0.6546971, 0.7090754, 0.72986984] \
     [0.02605525777530897, 0.26419379959166805] [19, 58, 41, 82] [3, 0, 5, 1, 4, 2]";

// ---- statistics ---------------------------------------------------------------------------

#[test]
fn randn_has_zero_mean_and_unit_std() {
    let mut g = Generator::new(2024);
    let v32: Vec<f64> = f32s(&g.randn([100_000], DType::F32).unwrap())
        .into_iter()
        .map(f64::from)
        .collect();
    let v64 = f64s(&g.randn([100_000], DType::F64).unwrap());
    for v in [v32, v64] {
        let (m, s) = mean_std(&v);
        // Standard error of the mean is 1/sqrt(1e5) ~ 0.003; of the std ~ 0.0022.
        assert!(m.abs() < 0.015, "mean {m}");
        assert!((s - 1.0).abs() < 0.015, "std {s}");
        let within_1sd = v.iter().filter(|x| x.abs() < 1.0).count() as f64 / v.len() as f64;
        assert!(
            (within_1sd - 0.6827).abs() < 0.01,
            "P(|z|<1) = {within_1sd}"
        );
    }
}

#[test]
fn rand_lies_in_unit_interval() {
    let mut g = Generator::new(7);
    let v32 = f32s(&g.rand([100_000], DType::F32).unwrap());
    assert!(v32.iter().all(|x| (0.0..1.0).contains(x)));
    let v64 = f64s(&g.rand([100_000], DType::F64).unwrap());
    assert!(v64.iter().all(|x| (0.0..1.0).contains(x)));
    let v32: Vec<f64> = v32.into_iter().map(f64::from).collect();
    for v in [v32, v64] {
        let (m, s) = mean_std(&v);
        assert!((m - 0.5).abs() < 0.005, "mean {m}");
        assert!((s - (1.0f64 / 12.0).sqrt()).abs() < 0.005, "std {s}");
    }
}

#[test]
fn uniform_respects_its_bounds() {
    let mut g = Generator::new(8);
    let v = f32s(&g.uniform([50_000], -3.0, -1.0, DType::F32).unwrap());
    assert!(v.iter().all(|x| (-3.0..-1.0).contains(x)));
    let m = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    assert!((m + 2.0).abs() < 0.01, "mean {m}");
    let v = f64s(&g.uniform([50_000], 10.0, 10.5, DType::F64).unwrap());
    assert!(v.iter().all(|x| (10.0..10.5).contains(x)));
    // A range one f32 ulp wide: every value is `low`, never `high`.
    let low = 1.0f32;
    let high = f32::from_bits(low.to_bits() + 1);
    let v = f32s(
        &g.uniform([1000], f64::from(low), f64::from(high), DType::F32)
            .unwrap(),
    );
    assert!(v.iter().all(|&x| x == low));
}

#[test]
fn normal_has_its_mean_and_std() {
    let mut g = Generator::new(10);
    let v = f64s(&g.normal([100_000], 3.0, 0.5, DType::F64).unwrap());
    let (m, s) = mean_std(&v);
    assert!((m - 3.0).abs() < 0.01, "mean {m}");
    assert!((s - 0.5).abs() < 0.01, "std {s}");
    let v = f32s(&g.normal([10], -1.25, 0.0, DType::F32).unwrap());
    assert!(v.iter().all(|&x| x == -1.25));
}

#[test]
fn bernoulli_matches_its_probabilities() {
    let mut g = Generator::new(11);
    let v = f32s(&g.bernoulli_p([100_000], 0.3, DType::F32).unwrap());
    assert!(v.iter().all(|&x| x == 0.0 || x == 1.0));
    let freq = v.iter().sum::<f32>() / v.len() as f32;
    assert!((freq - 0.3).abs() < 0.01, "frequency {freq}");
    assert!(f64s(&g.bernoulli_p([100], 0.0, DType::F64).unwrap())
        .iter()
        .all(|&x| x == 0.0));
    assert!(f64s(&g.bernoulli_p([100], 1.0, DType::F64).unwrap())
        .iter()
        .all(|&x| x == 1.0));

    // Per-element probabilities: columns with p = 0, 1 and 0.8.
    let rows = 20_000;
    let p: Vec<f64> = (0..rows).flat_map(|_| [0.0, 1.0, 0.8]).collect();
    let probs = Tensor::from_vec(p, (rows, 3)).unwrap();
    let b = g.bernoulli(&probs).unwrap();
    assert_eq!((b.dims(), b.dtype()), (&[rows, 3][..], DType::F64));
    let v = f64s(&b);
    let col = |c: usize| v.iter().skip(c).step_by(3).sum::<f64>() / rows as f64;
    assert_eq!(col(0), 0.0);
    assert_eq!(col(1), 1.0);
    assert!((col(2) - 0.8).abs() < 0.01, "frequency {}", col(2));
}

#[test]
fn bernoulli_draws_in_logical_order_of_a_view() {
    let probs = Generator::new(12).rand([4, 6], DType::F32).unwrap();
    let view = probs.t().unwrap();
    assert!(!view.is_contiguous());
    let from_view = f32s(&Generator::new(13).bernoulli(&view).unwrap());
    let from_copy = f32s(
        &Generator::new(13)
            .bernoulli(&view.contiguous().unwrap())
            .unwrap(),
    );
    assert_eq!(from_view, from_copy);
}

#[test]
fn randint_stays_in_range_and_covers_it() {
    let mut g = Generator::new(14);
    let v = i64s(&g.randint(-3, 4, [10_000]).unwrap());
    assert!(v.iter().all(|x| (-3..4).contains(x)));
    for k in -3..4 {
        let n = v.iter().filter(|&&x| x == k).count();
        // Expected 10000/7 ~ 1429 each.
        assert!((1300..1560).contains(&n), "value {k} drawn {n} times");
    }
    let t = g.randint(0, 1, [2, 3]).unwrap();
    assert_eq!((t.dims(), t.dtype()), (&[2, 3][..], DType::I64));
    assert_eq!(i64s(&t), vec![0; 6]);
    // The widest range does not overflow.
    let wide = i64s(&g.randint(i64::MIN, i64::MAX, [1000]).unwrap());
    assert!(wide.iter().all(|&x| x < i64::MAX));
    assert!(wide.iter().any(|&x| x < 0) && wide.iter().any(|&x| x > 0));
}

#[test]
fn randperm_is_a_permutation() {
    let mut g = Generator::new(15);
    for n in [0usize, 1, 2, 7, 1000] {
        let t = g.randperm(n).unwrap();
        assert_eq!((t.dims(), t.dtype()), (&[n][..], DType::I64));
        let mut v = i64s(&t);
        v.sort_unstable();
        assert_eq!(v, (0..n as i64).collect::<Vec<_>>());
    }
    // Every position sees every value: over many permutations of 4, each value lands in
    // each slot about 1/4 of the time.
    let mut counts = [[0usize; 4]; 4];
    for _ in 0..4000 {
        for (slot, &v) in i64s(&g.randperm(4).unwrap()).iter().enumerate() {
            counts[slot][v as usize] += 1;
        }
    }
    assert!(
        counts.iter().flatten().all(|&c| (880..1120).contains(&c)),
        "{counts:?}"
    );
}

// ---- state ----------------------------------------------------------------------------------

#[test]
fn state_restore_reproduces_the_continuation() {
    let mut g = Generator::new(77);
    // An odd number of 32-bit words, so the saved position is mid-u64.
    g.rand([3], DType::F32).unwrap();
    g.randn([5], DType::F64).unwrap();
    let saved = g.state();
    assert_eq!(saved.seed, 77);
    let expected = draw_all(&mut g);

    let mut resumed = Generator::from_state(&saved);
    assert_eq!(resumed.state(), saved);
    assert_eq!(draw_all(&mut resumed), expected);

    let mut other = Generator::new(1);
    other.set_state(&saved);
    assert_eq!(draw_all(&mut other), expected);

    // The state is plain data: it can be rebuilt from its fields (e.g. read from JSON).
    let rebuilt = GeneratorState {
        seed: saved.seed,
        word_pos: saved.word_pos,
    };
    assert_eq!(draw_all(&mut Generator::from_state(&rebuilt)), expected);
    assert_eq!(
        Generator::new(3).state(),
        GeneratorState {
            seed: 3,
            word_pos: 0
        }
    );
}

#[test]
fn errors_leave_the_generator_untouched() {
    let mut g = Generator::new(16);
    let before = g.state();
    assert!(g.uniform([4], 2.0, 1.0, DType::F32).is_err());
    assert!(g.normal([4], 0.0, -1.0, DType::F32).is_err());
    let bad = Tensor::from_vec(vec![0.5f32, 0.5, 2.0], 3).unwrap();
    assert!(g.bernoulli(&bad).is_err());
    assert_eq!(g.state(), before);
}

// ---- threads ------------------------------------------------------------------------------

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // Sizes above the kernels' parallel threshold (65536 elements).
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let mut g = Generator::new(31);
                let a = f32s(&g.rand([300, 300], DType::F32).unwrap());
                let b = f64s(&g.randn([100_000], DType::F64).unwrap());
                let c = f32s(&g.bernoulli_p([100_000], 0.5, DType::F32).unwrap());
                let probs = g.rand([400, 200], DType::F64).unwrap().t().unwrap();
                let d = f64s(&g.bernoulli(&probs).unwrap());
                let e = i64s(&g.randperm(100_000).unwrap());
                (a, b, c, d, e)
            })
    };
    assert!(run(1) == run(2), "results differ between 1 and 2 threads");
}

// ---- the default generator ----------------------------------------------------------------

#[test]
fn default_generator_end_to_end() {
    manual_seed(42);
    let a = f32s(&Tensor::rand([5], DType::F32).unwrap());
    let b = f64s(&Tensor::randn([5], DType::F64).unwrap());
    let c = f32s(&Tensor::uniform([5], -1.0, 1.0, DType::F32).unwrap());
    let d = f64s(&Tensor::normal([5], 2.0, 3.0, DType::F64).unwrap());
    let e = i64s(&Tensor::randint(0, 10, [5]).unwrap());
    let f = i64s(&Tensor::randperm(5).unwrap());
    let probs = Tensor::from_vec(vec![0.5f32; 5], 5).unwrap();
    let h = f32s(&probs.bernoulli().unwrap());

    // manual_seed(s) makes the default generator behave as Generator::new(s).
    let mut g = Generator::new(42);
    assert_eq!(a, f32s(&g.rand([5], DType::F32).unwrap()));
    assert_eq!(b, f64s(&g.randn([5], DType::F64).unwrap()));
    assert_eq!(c, f32s(&g.uniform([5], -1.0, 1.0, DType::F32).unwrap()));
    assert_eq!(d, f64s(&g.normal([5], 2.0, 3.0, DType::F64).unwrap()));
    assert_eq!(e, i64s(&g.randint(0, 10, [5]).unwrap()));
    assert_eq!(f, i64s(&g.randperm(5).unwrap()));
    assert_eq!(h, f32s(&g.bernoulli(&probs).unwrap()));
    assert_eq!(with_default_generator(|d| d.state()), g.state());

    // Save and restore the default generator's state, as a checkpoint does.
    let saved = with_default_generator(|g| g.state());
    let x = f32s(&Tensor::randn([10], DType::F32).unwrap());
    with_default_generator(|g| g.set_state(&saved));
    assert_eq!(x, f32s(&Tensor::randn([10], DType::F32).unwrap()));

    // Errors through the Tensor constructors too.
    assert!(Tensor::rand([2], DType::I64).is_err());
    assert!(Tensor::randint(5, 5, [2]).is_err());
    assert!(Tensor::from_vec(vec![1i64, 0], 2)
        .unwrap()
        .bernoulli()
        .is_err());
}

// ---- argument errors ----------------------------------------------------------------------

fn invalid_msg(r: sinapsis_core::Result<Tensor>) -> String {
    match r {
        Err(e @ Error::InvalidArgument { .. }) => e.to_string(),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn bad_arguments_are_errors() {
    let mut g = Generator::new(0);
    for dt in [DType::I64, DType::Bool] {
        assert!(matches!(g.rand([2], dt), Err(Error::DType { .. })));
        assert!(matches!(g.randn([2], dt), Err(Error::DType { .. })));
        assert!(matches!(
            g.uniform([2], 0.0, 1.0, dt),
            Err(Error::DType { .. })
        ));
        assert!(matches!(
            g.normal([2], 0.0, 1.0, dt),
            Err(Error::DType { .. })
        ));
        assert!(matches!(
            g.bernoulli_p([2], 0.5, dt),
            Err(Error::DType { .. })
        ));
    }
    let m = invalid_msg(g.uniform([2], 1.0, 1.0, DType::F32));
    assert!(m.contains("uniform") && m.contains("low (1)"), "{m}");
    assert!(invalid_msg(g.uniform([2], 2.0, 1.0, DType::F64)).contains("high (1)"));
    assert!(invalid_msg(g.uniform([2], f64::NAN, 1.0, DType::F64)).contains("NaN"));
    assert!(invalid_msg(g.uniform([2], 0.0, f64::INFINITY, DType::F64)).contains("inf"));
    // Distinct in f64, equal once rounded to f32.
    invalid_msg(g.uniform([2], 1.0, 1.0 + 1e-12, DType::F32));
    // Fits in f64 but not in f32.
    invalid_msg(g.uniform([2], 0.0, 1e300, DType::F32));
    assert!(invalid_msg(g.normal([2], 0.0, -0.5, DType::F32)).contains("-0.5"));
    assert!(invalid_msg(g.normal([2], f64::NAN, 1.0, DType::F32)).contains("NaN"));
    assert!(invalid_msg(g.normal([2], 0.0, f64::NAN, DType::F64)).contains("NaN"));
    assert!(invalid_msg(g.bernoulli_p([2], 1.5, DType::F32)).contains("1.5"));
    assert!(invalid_msg(g.bernoulli_p([2], -0.1, DType::F32)).contains("-0.1"));
    assert!(invalid_msg(g.bernoulli_p([2], f64::NAN, DType::F32)).contains("NaN"));
    let m = invalid_msg(g.randint(3, -3, [2]));
    assert!(
        m.contains("randint") && m.contains("low (3)") && m.contains("high (-3)"),
        "{m}"
    );

    let probs = Tensor::from_vec(vec![0.2f32, f32::NAN], 2).unwrap();
    assert!(invalid_msg(g.bernoulli(&probs)).contains("NaN"));
    let probs = Tensor::from_vec(vec![0.2f64, 0.4, -1.0], 3).unwrap();
    let m = invalid_msg(g.bernoulli(&probs));
    assert!(m.contains("-1") && m.contains("index 2"), "{m}");
    let ints = Tensor::from_vec(vec![0i64, 1], 2).unwrap();
    assert!(matches!(g.bernoulli(&ints), Err(Error::DType { .. })));
    // A shape whose element count overflows is an error, not a panic.
    assert!(g.rand([usize::MAX, 2], DType::F32).is_err());
    assert!(g.randint(0, 2, [usize::MAX / 4]).is_err());
}

// ---- printing -----------------------------------------------------------------------------

#[test]
fn prints_f32_matrix() {
    let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], (2, 3)).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([[1.0000, 2.0000, 3.0000],\n        [4.0000, 5.0000, 6.0000]], shape=[2, 3], dtype=f32)"
    );
    // Debug is the same text.
    assert_eq!(format!("{t:?}"), t.to_string());
    let t = Tensor::from_vec(vec![1.5f32, -2.0, 3.0, 4.25], (2, 2)).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.2500]], shape=[2, 2], dtype=f32)"
    );
}

#[test]
fn prints_i64_bool_and_scalars() {
    let t = Tensor::from_vec(vec![1i64, -20, 300], 3).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([  1, -20, 300], shape=[3], dtype=i64)"
    );
    let t = Tensor::from_vec(vec![true, false, true], 3).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([ true, false,  true], shape=[3], dtype=bool)"
    );
    assert_eq!(
        Tensor::scalar(3.5f32).to_string(),
        "tensor(3.5000, shape=[], dtype=f32)"
    );
    assert_eq!(
        Tensor::scalar(-7i64).to_string(),
        "tensor(-7, shape=[], dtype=i64)"
    );
    assert_eq!(
        Tensor::scalar(true).to_string(),
        "tensor(true, shape=[], dtype=bool)"
    );
    assert_eq!(
        Tensor::zeros([2, 0], DType::F32).unwrap().to_string(),
        "tensor([], shape=[2, 0], dtype=f32)"
    );
}

#[test]
fn prints_scientific_and_non_finite_values() {
    let t = Tensor::from_vec(vec![1e-5f64, 1.0], 2).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([1.0000e-05, 1.0000e+00], shape=[2], dtype=f64)"
    );
    let t = Tensor::from_vec(vec![0.0f64, 2.5e9, -3.0e9], 3).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([ 0.0000e+00,  2.5000e+09, -3.0000e+09], shape=[3], dtype=f64)"
    );
    // Ratio exactly 1000 stays fixed-point.
    let t = Tensor::from_vec(vec![0.5f32, 500.0], 2).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([  0.5000, 500.0000], shape=[2], dtype=f32)"
    );
    let t = Tensor::from_vec(vec![f32::NAN, 1.5, f32::NEG_INFINITY], 3).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([   nan, 1.5000,   -inf], shape=[3], dtype=f32)"
    );
}

#[test]
fn prints_with_precision_and_requires_grad() {
    let t = Tensor::from_vec(vec![1.5f32, 2.0], 2).unwrap();
    assert_eq!(
        format!("{t:.2}"),
        "tensor([1.50, 2.00], shape=[2], dtype=f32)"
    );
    let t = t.requires_grad_(true).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([1.5000, 2.0000], shape=[2], dtype=f32, requires_grad=true)"
    );
}

#[test]
fn prints_views_in_logical_order() {
    let base = Tensor::from_vec((1..=6).collect::<Vec<i64>>(), (2, 3)).unwrap();
    let t = base.t().unwrap();
    assert!(!t.is_contiguous());
    assert_eq!(
        t.to_string(),
        "tensor([[1, 4],\n        [2, 5],\n        [3, 6]], shape=[3, 2], dtype=i64)"
    );
    let col = base.narrow(1, 1, 2).unwrap();
    assert_eq!(
        col.to_string(),
        "tensor([[2, 3],\n        [5, 6]], shape=[2, 2], dtype=i64)"
    );
    let row = Tensor::from_vec(vec![7i64, 8], (1, 2)).unwrap();
    assert_eq!(
        row.expand([3, 2]).unwrap().to_string(),
        "tensor([[7, 8],\n        [7, 8],\n        [7, 8]], shape=[3, 2], dtype=i64)"
    );
}

#[test]
fn prints_3d_with_blank_lines_between_blocks() {
    let t = Tensor::from_vec((0..8).collect::<Vec<i64>>(), (2, 2, 2)).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]], shape=[2, 2, 2], dtype=i64)"
    );
}

#[test]
fn wraps_long_rows_at_80_columns() {
    let t = Tensor::arange(0.0, 20.0, 1.0, DType::F32).unwrap();
    let expected = "tensor([ 0.0000,  1.0000,  2.0000,  3.0000,  4.0000,  5.0000,  6.0000,  7.0000,\n         8.0000,  9.0000, 10.0000, 11.0000, 12.0000, 13.0000, 14.0000, 15.0000,\n        16.0000, 17.0000, 18.0000, 19.0000], shape=[20], dtype=f32)";
    assert_eq!(t.to_string(), expected);
    assert!(t.to_string().lines().all(|l| l.len() <= 80));
}

#[test]
fn elides_large_tensors() {
    let t = Tensor::arange(0.0, 2000.0, 1.0, DType::I64).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([   0,    1,    2,  ..., 1997, 1998, 1999], shape=[2000], dtype=i64)"
    );
    let m = t.reshape([100, 20]).unwrap();
    let expected = "\
tensor([[   0,    1,    2,  ...,   17,   18,   19],
        [  20,   21,   22,  ...,   37,   38,   39],
        [  40,   41,   42,  ...,   57,   58,   59],
        ...,
        [1940, 1941, 1942,  ..., 1957, 1958, 1959],
        [1960, 1961, 1962,  ..., 1977, 1978, 1979],
        [1980, 1981, 1982,  ..., 1997, 1998, 1999]], shape=[100, 20], dtype=i64)";
    assert_eq!(m.to_string(), expected);
    // The transposed view elides the same way, in logical order.
    let mt = m.t().unwrap();
    let s = mt.to_string();
    assert!(
        s.starts_with("tensor([[   0,   20,   40,  ..., 1940, 1960, 1980],\n"),
        "{s}"
    );
    assert!(s.ends_with("[  19,   39,   59,  ..., 1959, 1979, 1999]], shape=[20, 100], dtype=i64)"));
    // Exactly 1000 elements are printed in full.
    let full = Tensor::arange(0.0, 1000.0, 1.0, DType::I64)
        .unwrap()
        .to_string();
    assert!(!full.contains("..."));
}

#[test]
fn suffixes_move_to_a_new_line_past_80_columns() {
    let t = Tensor::from_vec(vec![123456.0f64, 234567.0, 345678.0, 456789.0, 567890.0], 5).unwrap();
    assert_eq!(
        t.to_string(),
        "tensor([123456.0000, 234567.0000, 345678.0000, 456789.0000, 567890.0000],\n       shape=[5], dtype=f64)"
    );
}
