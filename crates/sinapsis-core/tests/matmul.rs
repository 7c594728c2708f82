//! The fast matmul (gemm with strides passed straight through, split across threads above a
//! size threshold) against a plain triple loop: odd sizes, transposed / narrowed / expanded
//! (stride-0) operands, every `torch.matmul` rank combination, batch broadcasting, f32 and
//! f64, and the error messages.

use sinapsis_core::{DType, Error, Tensor};

// ---- oracle -------------------------------------------------------------------------------

/// Deterministic values in [-1, 1) (a 64-bit LCG): no dependency on the engine's RNG.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next()).collect()
    }
}

/// Row-major `(m x k) @ (k x n)` by the textbook loop, in f64.
fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    c
}

/// `torch.matmul` on row-major values, written out loop by loop: vector promotion, batch
/// broadcasting, vector dims removed again. Returns the values and the result dims.
fn reference(a: &[f64], da: &[usize], b: &[f64], db: &[usize]) -> (Vec<f64>, Vec<usize>) {
    let (mut da, mut db) = (da.to_vec(), db.to_vec());
    let (vec_a, vec_b) = (da.len() == 1, db.len() == 1);
    if vec_a {
        da.insert(0, 1);
    }
    if vec_b {
        db.push(1);
    }
    let (ra, rb) = (da.len(), db.len());
    let (m, k, n) = (da[ra - 2], da[ra - 1], db[rb - 1]);
    assert_eq!(k, db[rb - 2]);
    let rank = (ra - 2).max(rb - 2);
    let pad = |d: &[usize]| {
        let mut v = vec![1; rank - d.len()];
        v.extend_from_slice(d);
        v
    };
    let (ba, bb) = (pad(&da[..ra - 2]), pad(&db[..rb - 2]));
    let batch: Vec<usize> = ba.iter().zip(&bb).map(|(&x, &y)| x.max(y)).collect();
    let total: usize = batch.iter().product();
    let mut out = Vec::with_capacity(total * m * n);
    for flat in 0..total {
        // Unravel the output batch index, then clamp broadcast dims to 0 for each operand.
        let mut rem = flat;
        let mut idx = vec![0; rank];
        for d in (0..rank).rev() {
            idx[d] = rem % batch[d];
            rem /= batch[d];
        }
        let ravel = |dims: &[usize]| {
            idx.iter()
                .zip(dims)
                .fold(0, |acc, (&i, &d)| acc * d + if d == 1 { 0 } else { i })
        };
        let (ia, ib) = (ravel(&ba), ravel(&bb));
        out.extend(naive(
            &a[ia * m * k..(ia + 1) * m * k],
            &b[ib * k * n..(ib + 1) * k * n],
            m,
            k,
            n,
        ));
    }
    let mut dims = batch;
    if !vec_a {
        dims.push(m);
    }
    if !vec_b {
        dims.push(n);
    }
    (out, dims)
}

/// Checks `got` against `want` within the worst-case rounding bound of a k-term dot
/// product, `|err| <= 2 k eps (|a| @ |b|)` (gemm blocks and fuses its sums differently from
/// the loop). `mag` is `|a| @ |b|` per output element.
fn assert_close(got: &[f64], want: &[f64], mag: &[f64], k: usize, eps: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, ((&g, &w), &s)) in got.iter().zip(want).zip(mag).enumerate() {
        let tol = 2.0 * (k.max(1) as f64) * eps * s + 1e-300;
        assert!(
            (g - w).abs() <= tol,
            "{what}: element {i}: got {g}, want {w} (tolerance {tol:e})"
        );
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_f64_vec().unwrap()
}

/// Runs `a.matmul(b)` and compares values and dims with the reference.
fn check(a: &Tensor, b: &Tensor, what: &str) {
    let got = a
        .matmul(b)
        .unwrap_or_else(|e| panic!("{what}: {a:?} @ {b:?}: {e}"));
    let (va, vb) = (values(a), values(b));
    let (want, dims) = reference(&va, a.dims(), &vb, b.dims());
    assert_eq!(got.dims(), dims.as_slice(), "{what}: result dims");
    assert_eq!(got.dtype(), a.dtype(), "{what}: dtype");
    assert!(got.is_contiguous(), "{what}: result must be contiguous");
    let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
    let (mag, _) = reference(&abs(&va), a.dims(), &abs(&vb), b.dims());
    let k = *a.dims().last().unwrap();
    let eps = match a.dtype() {
        DType::F32 => f32::EPSILON as f64,
        _ => f64::EPSILON,
    };
    assert_close(&values(&got), &want, &mag, k, eps, what);
}

// ---- operands in every layout -------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Row-major.
    Contiguous,
    /// The transpose of a row-major `(c, r)` tensor: strides `(1, r)`.
    Transposed,
    /// A window of a larger tensor: row stride > cols, non-zero offset.
    Narrowed,
    /// One row repeated (row stride 0).
    RowBroadcast,
    /// One column repeated (column stride 0).
    ColBroadcast,
    /// A window of a larger tensor, then transposed.
    NarrowedTransposed,
}

const KINDS: [Kind; 6] = [
    Kind::Contiguous,
    Kind::Transposed,
    Kind::Narrowed,
    Kind::RowBroadcast,
    Kind::ColBroadcast,
    Kind::NarrowedTransposed,
];

fn tensor(v: Vec<f64>, dims: &[usize], dtype: DType) -> Tensor {
    let t = Tensor::from_vec(v, dims.to_vec()).unwrap();
    if dtype == DType::F64 {
        t
    } else {
        t.to_dtype(dtype).unwrap()
    }
}

/// An `r x c` matrix with the given layout; the views share storage, nothing is copied.
fn matrix(r: usize, c: usize, kind: Kind, dtype: DType, rng: &mut Lcg) -> Tensor {
    let t = match kind {
        Kind::Contiguous => tensor(rng.vec(r * c), &[r, c], dtype),
        Kind::Transposed => tensor(rng.vec(r * c), &[c, r], dtype).t().unwrap(),
        Kind::Narrowed => tensor(rng.vec((r + 3) * (c + 5)), &[r + 3, c + 5], dtype)
            .narrow(0, 1, r)
            .and_then(|t| t.narrow(1, 2, c))
            .unwrap(),
        Kind::RowBroadcast => tensor(rng.vec(c), &[1, c], dtype).expand((r, c)).unwrap(),
        Kind::ColBroadcast => tensor(rng.vec(r), &[r, 1], dtype).expand((r, c)).unwrap(),
        Kind::NarrowedTransposed => tensor(rng.vec((c + 2) * (r + 4)), &[c + 2, r + 4], dtype)
            .narrow(0, 1, c)
            .and_then(|t| t.narrow(1, 3, r))
            .and_then(|t| t.t())
            .unwrap(),
    };
    assert_eq!(t.dims(), &[r, c]);
    t
}

// ---- the kernel on odd sizes and layouts --------------------------------------------------

#[test]
fn reference_kernel_is_the_textbook_product() {
    use sinapsis_core::cpu::reference::matmul;
    let a = [1.0f64, 2., 3., 4., 5., 6.]; // 2x3
    let b = [7.0f64, 8., 9., 10., 11., 12.]; // 3x2
    assert_eq!(matmul(&a, &b, 2, 3, 2), vec![58.0, 64., 139., 154.]);
    assert_eq!(matmul::<f64>(&[], &[], 2, 0, 3), vec![0.0; 6]);
    let mut rng = Lcg(7);
    let (a, b) = (rng.vec(7 * 17), rng.vec(17 * 5));
    assert_eq!(matmul(&a, &b, 7, 17, 5), naive(&a, &b, 7, 17, 5));
}

#[test]
fn odd_sizes_in_every_layout_f64_and_f32() {
    let sizes = [1, 7, 17, 63, 65];
    let mut rng = Lcg(1);
    for dtype in [DType::F64, DType::F32] {
        for &m in &sizes {
            for &k in &sizes {
                for &n in &sizes {
                    // Every layout pair on the small shapes; a rotating sample on larger ones
                    // keeps the naive loop cheap.
                    for (i, &ka) in KINDS.iter().enumerate() {
                        for (j, &kb) in KINDS.iter().enumerate() {
                            if m * k * n > 20_000 && (i + j + m + n) % 5 != 0 {
                                continue;
                            }
                            let a = matrix(m, k, ka, dtype, &mut rng);
                            let b = matrix(k, n, kb, dtype, &mut rng);
                            check(&a, &b, &format!("{dtype} {m}x{k}x{n} {ka:?} @ {kb:?}"));
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn large_odd_sizes_take_the_threaded_path() {
    // 257^3 and 33x2000x257 are above the threading threshold (16M multiply-adds): the
    // first is split by rows, the second by columns; pieces do not divide the sizes evenly.
    // 65x4099x71 has an inner dim > 8x its outer ones: split along k into unequal halves.
    let mut rng = Lcg(2);
    let shapes = [
        (65, 4099, 71),
        (257, 257, 257),
        (33, 2000, 257),
        (257, 2000, 33),
        (257, 65, 7),
        (7, 257, 65),
        (65, 7, 257),
        (1, 257, 1),
    ];
    for dtype in [DType::F32, DType::F64] {
        for (s, &(m, k, n)) in shapes.iter().enumerate() {
            for (ka, kb) in [
                (Kind::Contiguous, Kind::Contiguous),
                (KINDS[s % 6], KINDS[(s + 1) % 6]),
                (Kind::NarrowedTransposed, Kind::RowBroadcast),
                (Kind::ColBroadcast, Kind::Transposed),
            ] {
                let a = matrix(m, k, ka, dtype, &mut rng);
                let b = matrix(k, n, kb, dtype, &mut rng);
                check(&a, &b, &format!("{dtype} {m}x{k}x{n} {ka:?} @ {kb:?}"));
            }
        }
    }
}

#[test]
fn empty_dims() {
    // k == 0: an empty sum, all zeros. m or n == 0: an empty result of the right shape.
    for dtype in [DType::F32, DType::F64] {
        let a = Tensor::zeros((3, 0), dtype).unwrap();
        let b = Tensor::zeros((0, 4), dtype).unwrap();
        let c = a.matmul(&b).unwrap();
        assert_eq!(c.dims(), &[3, 4]);
        assert_eq!(values(&c), vec![0.0; 12]);
        let c = Tensor::zeros((0, 5), dtype)
            .unwrap()
            .matmul(&Tensor::ones((5, 2), dtype).unwrap())
            .unwrap();
        assert_eq!(c.dims(), &[0, 2]);
        let c = Tensor::ones((2, 5), dtype)
            .unwrap()
            .matmul(&Tensor::ones((5, 0), dtype).unwrap())
            .unwrap();
        assert_eq!(c.dims(), &[2, 0]);
        let v = Tensor::zeros(0, dtype).unwrap();
        let dot = v.matmul(&v).unwrap();
        assert_eq!(dot.dims(), &[] as &[usize]);
        assert_eq!(values(&dot), vec![0.0]);
        let c = Tensor::zeros((4, 0, 3), dtype)
            .unwrap()
            .matmul(&Tensor::zeros((3, 2), dtype).unwrap())
            .unwrap();
        assert_eq!(c.dims(), &[4, 0, 2]);
        let c = Tensor::zeros((0, 2, 3), dtype)
            .unwrap()
            .matmul(&Tensor::zeros((1, 3, 2), dtype).unwrap())
            .unwrap();
        assert_eq!(c.dims(), &[0, 2, 2]);
    }
}

// ---- torch.matmul semantics ---------------------------------------------------------------

#[test]
fn every_rank_combination() {
    let mut rng = Lcg(3);
    let cases: &[(&[usize], &[usize], &[usize])] = &[
        (&[4], &[4], &[]),
        (&[4], &[4, 3], &[3]),
        (&[2, 4], &[4], &[2]),
        (&[2, 4], &[4, 3], &[2, 3]),
        (&[4], &[5, 4, 3], &[5, 3]),
        (&[5, 2, 4], &[4], &[5, 2]),
        (&[2, 4], &[5, 4, 3], &[5, 2, 3]),
        (&[5, 2, 4], &[4, 3], &[5, 2, 3]),
        (&[5, 2, 4], &[5, 4, 3], &[5, 2, 3]),
        (&[5, 1, 3, 4], &[2, 4, 3], &[5, 2, 3, 3]),
        (&[2, 1, 3, 4], &[1, 6, 4, 2], &[2, 6, 3, 2]),
        (&[1, 3, 4], &[4, 2], &[1, 3, 2]),
        (&[4], &[2, 3, 4, 5], &[2, 3, 5]),
        (&[2, 3, 5, 4], &[4], &[2, 3, 5]),
        (&[1], &[1], &[]),
        (&[1, 1], &[1, 1], &[1, 1]),
    ];
    for dtype in [DType::F64, DType::F32] {
        for &(da, db, want) in cases {
            let a = tensor(rng.vec(da.iter().product()), da, dtype);
            let b = tensor(rng.vec(db.iter().product()), db, dtype);
            let c = a.matmul(&b).unwrap();
            assert_eq!(c.dims(), want, "{da:?} @ {db:?}");
            check(&a, &b, &format!("{dtype} {da:?} @ {db:?}"));
        }
    }
}

#[test]
fn dot_product_is_zero_dimensional() {
    let a = Tensor::from_vec(vec![1.0f32, 2., 3.], 3).unwrap();
    let b = Tensor::from_vec(vec![4.0f32, 5., 6.], 3).unwrap();
    let c = a.matmul(&b).unwrap();
    assert_eq!(c.rank(), 0);
    assert_eq!(c.item::<f32>().unwrap(), 32.0);
}

#[test]
fn batched_layouts_and_broadcast_batches() {
    let mut rng = Lcg(4);
    for dtype in [DType::F64, DType::F32] {
        let t = |rng: &mut Lcg, d: &[usize]| tensor(rng.vec(d.iter().product()), d, dtype);
        // Transposed matrices inside a batch (lhs cannot fold into one big product).
        let a = t(&mut rng, &[3, 7, 5]).transpose(-1, -2).unwrap();
        let b = t(&mut rng, &[3, 7, 4]);
        check(&a, &b, "batch of transposed lhs");
        // Batch dim made by permuting: batch stride smaller than the row stride.
        let a = t(&mut rng, &[5, 3, 7]).permute(&[1, 0, 2]).unwrap();
        let b = t(&mut rng, &[7, 2]);
        check(&a, &b, "permuted batch, 2-D rhs");
        // Narrowed along the batch and the rows.
        let a = t(&mut rng, &[6, 9, 5])
            .narrow(0, 1, 4)
            .and_then(|x| x.narrow(1, 2, 6))
            .unwrap();
        let b = t(&mut rng, &[4, 5, 3]);
        check(&a, &b, "narrowed batch and rows");
        // A weight expanded over the batch (stride-0 batch dim on the rhs).
        let a = t(&mut rng, &[4, 6, 5]);
        let b = t(&mut rng, &[5, 3]).expand((4, 5, 3)).unwrap();
        check(&a, &b, "expanded rhs batch");
        // An lhs expanded over the batch, several rows: cannot fold, reuses one matrix.
        let a = t(&mut rng, &[1, 6, 5]).expand((4, 6, 5)).unwrap();
        let b = t(&mut rng, &[4, 5, 3]);
        check(&a, &b, "expanded lhs batch");
        // An lhs expanded over the batch with one row: folds with a zero row stride.
        let a = t(&mut rng, &[1, 1, 5]).expand((4, 1, 5)).unwrap();
        let b = t(&mut rng, &[5, 3]);
        check(&a, &b, "expanded single-row lhs");
        // Both operands broadcast in different batch dims, rhs transposed.
        let a = t(&mut rng, &[3, 1, 4, 5]);
        let b = t(&mut rng, &[2, 6, 5]).transpose(1, 2).unwrap();
        check(&a, &b, "broadcast batches, transposed rhs");
        // Many small products: the batch is spread across threads.
        let a = t(&mut rng, &[256, 17, 63]);
        let b = t(&mut rng, &[1, 63, 65]).expand((256, 63, 65)).unwrap();
        check(&a, &b, "many small products");
        let a = t(&mut rng, &[256, 1, 17, 63]);
        let b = t(&mut rng, &[256, 65, 63]).transpose(-1, -2).unwrap();
        check(&a, &b, "many small products, broadcast and transposed");
        // Big products inside a batch: each one split across threads.
        let a = t(&mut rng, &[2, 257, 513]);
        let b = t(&mut rng, &[2, 513, 129]);
        check(&a, &b, "batch of large products");
        // 3-D @ 2-D with large folded rows (one big product).
        let a = t(&mut rng, &[16, 65, 257]);
        let b = t(&mut rng, &[257, 63]).t().unwrap().t().unwrap();
        check(&a, &b, "folded rows");
    }
}

#[test]
fn same_storage_on_both_sides() {
    // x @ x^T reads one buffer through two layouts.
    let mut rng = Lcg(5);
    let x = tensor(rng.vec(7 * 17), &[7, 17], DType::F32);
    check(&x, &x.t().unwrap(), "x @ x^T");
    check(&x.t().unwrap(), &x, "x^T @ x");
}

#[test]
fn mm_is_2d_only() {
    let a = Tensor::from_vec(vec![1.0f64, 2., 3., 4.], (2, 2)).unwrap();
    let c = a.mm(&a).unwrap();
    assert_eq!(values(&c), vec![7.0, 10., 15., 22.]);
    let v = Tensor::ones(2, DType::F64).unwrap();
    let e = a.mm(&v).unwrap_err();
    assert!(matches!(e, Error::Shape { op: "mm", .. }), "{e}");
    assert!(e.to_string().starts_with("mm: (2x2) @ (2): "), "{e}");
    let b = Tensor::ones((1, 2, 2), DType::F64).unwrap();
    assert!(b.mm(&a).is_err());
}

#[test]
fn gradients_flow_through_vector_cases() {
    // The vector cases are views around the core op, so autograd sees them.
    let a = Tensor::from_vec(vec![1.0f64, 2., 3.], 3)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let b = Tensor::from_vec(vec![4.0f64, 5., 6.], 3)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    a.matmul(&b).unwrap().backward().unwrap();
    assert_eq!(values(&a.grad().unwrap()), vec![4.0, 5., 6.]);
    assert_eq!(values(&b.grad().unwrap()), vec![1.0, 2., 3.]);

    let m = Tensor::from_vec(vec![1.0f64, 2., 3., 4., 5., 6.], (2, 3))
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    m.matmul(&b).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(values(&m.grad().unwrap()), vec![4.0, 5., 6., 4., 5., 6.]);
    let g = sinapsis_core::gradcheck(
        |xs| xs[0].matmul(&xs[1]),
        &[
            Tensor::from_vec(vec![0.5f64, -1., 2.], 3)
                .unwrap()
                .requires_grad_(true)
                .unwrap(),
            Tensor::from_vec(
                vec![0.1f64, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                (3, 1, 3),
            )
            .unwrap()
            .expand((3, 2, 3))
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .contiguous()
            .unwrap()
            .requires_grad_(true)
            .unwrap(),
        ],
    );
    g.unwrap();
}

#[test]
fn no_graph_under_no_grad() {
    let a = Tensor::ones((2, 3), DType::F32)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let b = Tensor::ones((3, 2), DType::F32).unwrap();
    assert!(a.matmul(&b).unwrap().requires_grad());
    let _guard = sinapsis_core::no_grad();
    assert!(!a.matmul(&b).unwrap().requires_grad());
}

// ---- errors -------------------------------------------------------------------------------

fn err(a: &Tensor, b: &Tensor) -> Error {
    a.matmul(b).unwrap_err()
}

#[test]
fn error_messages() {
    let z = |d: &[usize]| Tensor::zeros(d.to_vec(), DType::F32).unwrap();
    assert_eq!(
        err(&z(&[64, 3]), &z(&[2, 10])).to_string(),
        "matmul: (64x3) @ (2x10): inner dimensions 3 and 2 differ"
    );
    assert_eq!(
        err(&z(&[3]), &z(&[4])).to_string(),
        "matmul: (3) @ (4): inner dimensions 3 and 4 differ"
    );
    assert_eq!(
        err(&z(&[3]), &z(&[2, 4])).to_string(),
        "matmul: (3) @ (2x4): inner dimensions 3 and 2 differ"
    );
    assert_eq!(
        err(&z(&[2, 3]), &z(&[4])).to_string(),
        "matmul: (2x3) @ (4): inner dimensions 3 and 4 differ"
    );
    assert_eq!(
        err(&z(&[2, 3, 4]), &z(&[3, 4, 5])).to_string(),
        "matmul: (2x3x4) @ (3x4x5): batch dimensions (2) and (3) cannot be broadcast together"
    );
    let scalar = Tensor::scalar(1.0f32);
    let e = err(&scalar, &z(&[3]));
    assert!(matches!(e, Error::Shape { op: "matmul", .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "matmul: (scalar) @ (3): both arguments need at least 1 dimension"
    );
    assert!(err(&z(&[3]), &scalar)
        .to_string()
        .contains("at least 1 dimension"));

    let f64s = Tensor::zeros((3, 2), DType::F64).unwrap();
    let e = err(&z(&[2, 3]), &f64s);
    assert!(
        matches!(
            e,
            Error::DTypeMismatch {
                op: "matmul",
                lhs: DType::F32,
                rhs: DType::F64
            }
        ),
        "{e}"
    );
    let ints = Tensor::from_vec(vec![1i64, 2, 3, 4], (2, 2)).unwrap();
    let e = err(&ints, &ints);
    assert!(
        matches!(
            e,
            Error::DType {
                op: "matmul",
                got: DType::I64,
                ..
            }
        ),
        "{e}"
    );
    let bools = Tensor::from_vec(vec![true, false], 2).unwrap();
    assert!(matches!(err(&bools, &bools), Error::DType { .. }));
}

#[test]
fn threaded_splits_give_the_same_bits_on_one_thread() {
    // Rows, columns and k halves are summed the same way whatever the thread count.
    let mut rng = Lcg(9);
    for (m, k, n) in [(65, 4099, 71), (257, 257, 257), (33, 2000, 257)] {
        let a = matrix(m, k, Kind::Transposed, DType::F32, &mut rng);
        let b = matrix(k, n, Kind::Contiguous, DType::F32, &mut rng);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| a.matmul(&b).unwrap().to_vec::<f32>().unwrap())
        };
        assert!(run(1) == run(2), "{m}x{k}x{n}: 1 and 2 threads differ");
    }
}
