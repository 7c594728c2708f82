//! Property tests of the shape algebra: views, joins and broadcasting keep elements where
//! they belong, whatever the shape.

use proptest::prelude::*;
use sinapsis_core::{Shape, Tensor};

fn arange(dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    Tensor::from_vec((0..n).map(|i| i as f64).collect::<Vec<_>>(), dims.to_vec()).unwrap()
}

fn dims_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..5, 1..5)
}

/// Row-major index -> multi-index.
fn unravel(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        idx[d] = i % dims[d];
        i /= dims[d];
    }
    idx
}

fn ravel(idx: &[usize], dims: &[usize]) -> usize {
    idx.iter().zip(dims).fold(0, |acc, (&i, &d)| acc * d + i)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn permute_moves_elements_and_inverts(dims in dims_strategy(), seed in any::<u64>()) {
        let x = arange(&dims);
        let mut perm: Vec<usize> = (0..dims.len()).collect();
        // A seeded shuffle of the dims.
        let mut s = seed;
        for i in (1..perm.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let y = x.permute(&perm).unwrap();
        let yd = y.dims().to_vec();
        let yv = y.to_vec::<f64>().unwrap();
        for (i, &v) in yv.iter().enumerate() {
            let out_idx = unravel(i, &yd);
            let mut in_idx = vec![0; dims.len()];
            for (k, &p) in perm.iter().enumerate() {
                in_idx[p] = out_idx[k];
            }
            prop_assert_eq!(v, ravel(&in_idx, &dims) as f64);
        }
        let mut inv = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() { inv[p] = i; }
        prop_assert_eq!(y.permute(&inv).unwrap().to_vec::<f64>().unwrap(), x.to_vec::<f64>().unwrap());
    }

    #[test]
    fn reshape_keeps_row_major_order_even_from_strided_views(dims in dims_strategy()) {
        let x = arange(&dims).t_all();
        let flat = x.to_vec::<f64>().unwrap();
        let n = flat.len();
        let r = x.reshape(n).unwrap();
        prop_assert_eq!(r.to_vec::<f64>().unwrap(), flat.clone());
        // view succeeds exactly when no copy is needed, and then agrees with reshape.
        if let Ok(v) = x.view(n) {
            prop_assert!(v.shares_storage(&x));
            prop_assert_eq!(v.to_vec::<f64>().unwrap(), flat);
        } else {
            prop_assert!(!x.is_contiguous());
        }
    }

    #[test]
    fn narrow_pieces_cat_back_to_the_whole(dims in dims_strategy(), cut in 0usize..5, d in 0usize..4) {
        let x = arange(&dims);
        let d = d % dims.len();
        let cut = cut.min(dims[d]);
        let a = x.narrow(d, 0, cut).unwrap();
        let b = x.narrow(d, cut, dims[d] - cut).unwrap();
        prop_assert!(a.shares_storage(&x));
        let parts: Vec<Tensor> = [a, b].into_iter().filter(|t| t.numel() > 0).collect();
        let whole = Tensor::cat(&parts, d).unwrap();
        prop_assert_eq!(whole.to_vec::<f64>().unwrap(), x.to_vec::<f64>().unwrap());
    }

    #[test]
    fn split_and_chunk_cover_the_dim(dims in dims_strategy(), size in 1usize..4, d in 0usize..4) {
        let x = arange(&dims);
        let d = d % dims.len();
        let pieces = x.split(size, d).unwrap();
        prop_assert_eq!(pieces.iter().map(|p| p.dims()[d]).sum::<usize>(), dims[d]);
        prop_assert_eq!(Tensor::cat(&pieces, d).unwrap().to_vec::<f64>().unwrap(), x.to_vec::<f64>().unwrap());
        let chunks = x.chunk(size, d).unwrap();
        prop_assert!(chunks.len() <= size);
        prop_assert_eq!(Tensor::cat(&chunks, d).unwrap().to_vec::<f64>().unwrap(), x.to_vec::<f64>().unwrap());
    }

    #[test]
    fn broadcasting_is_symmetric_and_matches_expand(a in dims_strategy(), b in dims_strategy()) {
        let sa = Shape::new(&a);
        let sb = Shape::new(&b);
        let ab = Shape::broadcast("test", &sa, &sb);
        let ba = Shape::broadcast("test", &sb, &sa);
        prop_assert_eq!(ab.is_ok(), ba.is_ok());
        if let (Ok(ab), Ok(ba)) = (ab, ba) {
            prop_assert_eq!(&ab, &ba);
            let x = arange(&a);
            let y = arange(&b);
            let sum = x.add(&y).unwrap();
            let explicit = x.expand(&ab).unwrap().add(&y.expand(&ab).unwrap()).unwrap();
            prop_assert_eq!(sum.to_vec::<f64>().unwrap(), explicit.to_vec::<f64>().unwrap());
            // Broadcast dims have stride 0 and share storage.
            let e = x.expand(&ab).unwrap();
            prop_assert!(e.shares_storage(&x));
            // Summing back down inverts the broadcast up to the repeat count.
            let back = e.sum_to_shape(&sa).unwrap();
            let reps = (ab.numel() / sa.numel()) as f64;
            let want: Vec<f64> = x.to_vec::<f64>().unwrap().iter().map(|v| v * reps).collect();
            prop_assert_eq!(back.to_vec::<f64>().unwrap(), want);
        }
    }

    #[test]
    fn sum_over_any_dims_matches_a_plain_loop(dims in dims_strategy(), mask in 1u8..16, keep in any::<bool>()) {
        let x = arange(&dims);
        let rdims: Vec<usize> = (0..dims.len()).filter(|d| mask & (1 << d) != 0).collect();
        prop_assume!(!rdims.is_empty());
        let got = x.sum(&rdims, keep).unwrap();
        let kept: Vec<usize> = dims.iter().enumerate().map(|(i, &d)| if rdims.contains(&i) { 1 } else { d }).collect();
        let mut want = vec![0.0; kept.iter().product()];
        for i in 0..x.numel() {
            let mut idx = unravel(i, &dims);
            for &r in &rdims { idx[r] = 0; }
            want[ravel(&idx, &kept)] += i as f64;
        }
        prop_assert_eq!(got.to_vec::<f64>().unwrap(), want);
        let expected_rank = if keep { dims.len() } else { dims.len() - rdims.len() };
        prop_assert_eq!(got.rank(), expected_rank);
    }
}

/// Reverses all dims (a fully transposed view) — a strided layout for the tests above.
trait TAll {
    fn t_all(&self) -> Tensor;
}
impl TAll for Tensor {
    fn t_all(&self) -> Tensor {
        let perm: Vec<usize> = (0..self.rank()).rev().collect();
        self.permute(&perm).unwrap()
    }
}
