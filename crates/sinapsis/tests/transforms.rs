//! Transforms: scalers against hand computations, serde round trips, augmentation identities
//! and determinism.

use sinapsis::data::transforms::{
    hflip, rotate, shift, AnyTransform, Compose, MinMaxScaler, Normalize, OneHot, RandomCrop,
    RandomHorizontalFlip, RandomRotation, StandardScaler, Transform,
};
use sinapsis::{DType, Generator, Tensor};

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
    }
}

#[test]
fn standard_scaler_matches_hand_computation_and_round_trips() {
    let x = Tensor::new(&[[1.0f32, 10.0, 3.0], [2.0, 20.0, 3.0], [6.0, 60.0, 3.0]]).unwrap();
    let s = StandardScaler::fit(&x).unwrap();
    // Column 0: mean 3, population var ((4 + 1 + 9) / 3), std sqrt(14/3).
    let sd0 = (14.0f64 / 3.0).sqrt();
    assert_eq!(s.mean, vec![3.0, 30.0, 3.0]);
    assert!((s.scale[0] - sd0).abs() < 1e-12);
    assert!((s.scale[1] - 10.0 * sd0).abs() < 1e-9);
    assert_eq!(s.scale[2], 1.0); // zero std -> 1
    let y = s.transform(&x).unwrap();
    let want: Vec<f32> = [1.0, 2.0, 6.0]
        .iter()
        .flat_map(|v: &f64| {
            let z = ((v - 3.0) / sd0) as f32;
            [z, z, 0.0]
        })
        .collect();
    close(&y.to_vec::<f32>().unwrap(), &want, 1e-6);
    let back = s.inverse_transform(&y).unwrap();
    close(
        &back.to_vec::<f32>().unwrap(),
        &x.to_vec::<f32>().unwrap(),
        1e-5,
    );
    // Wrong feature count.
    assert!(s
        .transform(&Tensor::new(&[[1.0f32, 2.0]]).unwrap())
        .is_err());
}

#[test]
fn min_max_scaler_matches_hand_computation_and_round_trips() {
    let x = Tensor::new(&[[1.0f64, 5.0], [3.0, 5.0], [5.0, 5.0]]).unwrap();
    let s = MinMaxScaler::fit(&x, (0.0, 2.0)).unwrap();
    let y = s.transform(&x).unwrap();
    assert_eq!(
        y.to_vec::<f64>().unwrap(),
        vec![0.0, 0.0, 1.0, 0.0, 2.0, 0.0]
    );
    assert_eq!(
        s.inverse_transform(&y).unwrap().to_vec::<f64>().unwrap(),
        x.to_vec::<f64>().unwrap()
    );
    // Applied to new data with the training statistics.
    let t = Tensor::new(&[[7.0f64, 6.0]]).unwrap();
    assert_eq!(
        s.transform(&t).unwrap().to_vec::<f64>().unwrap(),
        vec![3.0, 2.0] // constant feature: scale (2 - 0) / 1, as in scikit-learn
    );
}

#[test]
fn normalize_and_one_hot() {
    let n = Normalize::new(vec![0.5], vec![0.5]).unwrap();
    let x = Tensor::new(&[[[[0.0f32, 0.5, 1.0]]]]).unwrap();
    assert_eq!(
        n.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        vec![-1.0, 0.0, 1.0]
    );
    let n3 = Normalize::new(vec![0.0, 1.0], vec![1.0, 2.0]).unwrap();
    assert!(n3
        .forward(&Tensor::zeros((1, 3, 2, 2), DType::F32).unwrap())
        .is_err());
    let h = OneHot { num_classes: 4 }
        .forward(&Tensor::new(&[3i64, 1]).unwrap())
        .unwrap();
    assert_eq!(h.dtype(), DType::F32);
    assert_eq!(
        h.to_vec2::<f32>().unwrap(),
        vec![vec![0.0, 0.0, 0.0, 1.0], vec![0.0, 1.0, 0.0, 0.0]]
    );
}

fn pipeline() -> Compose {
    Compose::new()
        .then(RandomCrop::new(2))
        .then(RandomRotation::new(-15.0, 15.0))
        .then(RandomHorizontalFlip::new(0.5))
        .then(Normalize::new(vec![0.1307], vec![0.3081]).unwrap())
        .then(Compose::new().then(Normalize::new(vec![0.0], vec![2.0]).unwrap()))
}

#[test]
fn transforms_serialise_and_give_identical_output() {
    let c = pipeline();
    let json = serde_json::to_string(&c).unwrap();
    let back: Compose = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    let x = Generator::new(5).rand([4, 1, 12, 12], DType::F32).unwrap();
    let a = c.apply(&x, &mut Generator::new(9)).unwrap();
    let b = back.apply(&x, &mut Generator::new(9)).unwrap();
    assert_eq!(a.dims(), &[4, 1, 12, 12]);
    assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());

    let feats = Tensor::new(&[[1.0f32, 2.0], [3.0, 8.0]]).unwrap();
    for t in [
        AnyTransform::from(StandardScaler::fit(&feats).unwrap()),
        AnyTransform::from(MinMaxScaler::fit(&feats, (-1.0, 1.0)).unwrap()),
    ] {
        let json = serde_json::to_string(&t).unwrap();
        let back: AnyTransform = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let g = &mut Generator::new(0);
        assert_eq!(
            t.apply(&feats, g).unwrap().to_vec::<f32>().unwrap(),
            back.apply(&feats, g).unwrap().to_vec::<f32>().unwrap()
        );
    }
}

#[test]
fn augmentation_identities_and_shapes() {
    let mut g = Generator::new(3);
    let x = g.rand([3, 2, 7, 9], DType::F32).unwrap();
    let xv = x.to_vec::<f32>().unwrap();
    assert_eq!(
        hflip(&hflip(&x).unwrap()).unwrap().to_vec::<f32>().unwrap(),
        xv
    );
    assert_eq!(shift(&x, 0, 0).unwrap().to_vec::<f32>().unwrap(), xv);
    assert_eq!(rotate(&x, 0.0).unwrap().to_vec::<f32>().unwrap(), xv);
    assert_eq!(
        RandomCrop::new(0)
            .forward(&x, &mut g)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        xv
    );
    assert_eq!(
        RandomRotation::new(0.0, 0.0)
            .forward(&x, &mut g)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        xv
    );
    assert_eq!(
        RandomHorizontalFlip::new(0.0)
            .forward(&x, &mut g)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        xv
    );
    // Shapes preserved, also for a single (C, H, W) image.
    let single = g.rand([1, 28, 28], DType::F32).unwrap();
    for t in [
        AnyTransform::from(RandomCrop::new(4)),
        RandomRotation::new(-30.0, 30.0).into(),
        RandomHorizontalFlip::default().into(),
    ] {
        assert_eq!(t.apply(&x, &mut g).unwrap().dims(), x.dims());
        assert_eq!(t.apply(&single, &mut g).unwrap().dims(), single.dims());
    }
    // 360 degrees is (nearly) the identity; 4 x 90 on a square image too.
    let sq = g.rand([1, 1, 5, 5], DType::F32).unwrap();
    let mut r = sq.clone();
    for _ in 0..4 {
        r = rotate(&r, 90.0).unwrap();
    }
    close(
        &r.to_vec::<f32>().unwrap(),
        &sq.to_vec::<f32>().unwrap(),
        1e-5,
    );
    // Shift moves content and fills with zeros.
    let row = Tensor::new(&[[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]]).unwrap();
    assert_eq!(
        shift(&row, 1, -1).unwrap().to_vec::<f32>().unwrap(),
        vec![0.0, 4.0, 5.0, 0.0, 0.0, 0.0]
    );
    // Integer tensors are rejected.
    assert!(hflip(&Tensor::zeros((1, 2, 2), DType::I64).unwrap()).is_err());
}

#[test]
fn same_seed_same_output_and_large_batches() {
    let x = Generator::new(1).rand([64, 1, 28, 28], DType::F32).unwrap(); // parallel path
    let c = Compose::new()
        .then(RandomCrop::new(3))
        .then(RandomRotation::new(-20.0, 20.0))
        .then(RandomHorizontalFlip::new(0.5));
    let a = c
        .apply(&x, &mut Generator::new(42))
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let b = c
        .apply(&x, &mut Generator::new(42))
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let d = c
        .apply(&x, &mut Generator::new(43))
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, d);
    // The batch path agrees with transforming the images one at a time with the same stream
    // (one parameter draw per image, in order) for a single transform.
    let flip = RandomHorizontalFlip::new(0.5);
    let batch = flip
        .forward(&x, &mut Generator::new(7))
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let mut g = Generator::new(7);
    let mut one_by_one = Vec::new();
    for i in 0..64 {
        let xi = x.narrow(0, i, 1).unwrap();
        one_by_one.extend(flip.forward(&xi, &mut g).unwrap().to_vec::<f32>().unwrap());
    }
    assert_eq!(batch, one_by_one);
}
