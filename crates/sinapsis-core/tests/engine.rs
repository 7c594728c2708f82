//! Behaviour of the engine beyond numbers: errors that name the op and operands, autograd
//! semantics (no_grad, detach, accumulation, leaves), dtypes and devices.

use sinapsis_core::{no_grad, DType, Device, Error, Tensor};

fn t(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

#[test]
fn matmul_error_names_op_and_shapes() {
    let a = Tensor::zeros((64, 3), DType::F32).unwrap();
    let b = Tensor::zeros((2, 10), DType::F32).unwrap();
    let e = a.matmul(&b).unwrap_err().to_string();
    assert_eq!(
        e,
        "matmul: (64x3) @ (2x10): inner dimensions 3 and 2 differ"
    );
}

#[test]
fn shape_and_dtype_errors_are_errors_not_panics() {
    let a = Tensor::zeros((2, 3), DType::F32).unwrap();
    let b = Tensor::zeros((4, 3), DType::F32).unwrap();
    let e = a.add(&b).unwrap_err();
    assert!(matches!(e, Error::Broadcast { op: "add", .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "add: shapes (2x3) and (4x3) cannot be broadcast together"
    );

    let c = Tensor::zeros((2, 3), DType::F64).unwrap();
    let e = a.mul(&c).unwrap_err().to_string();
    assert!(
        e.contains("mul") && e.contains("f32") && e.contains("f64"),
        "{e}"
    );

    let e = a.sum([5], false).unwrap_err().to_string();
    assert!(e.contains("sum") && e.contains("dimension 5"), "{e}");
    assert!(a.reshape((4, 2)).is_err());
    assert!(a.narrow(1, 2, 2).is_err());
    assert!(a.t().unwrap().view(6).is_err());
    assert!(Tensor::from_vec(vec![1.0f32; 5], (2, 3)).is_err());
    assert!(Tensor::cat(&[a.clone(), Tensor::zeros((2, 4), DType::F32).unwrap()], 0).is_err());
    assert!(Tensor::cat(&[], 0).is_err());
    assert!(a.permute(&[0, 0]).is_err());
    assert!(a.exp().is_ok());
    let labels = Tensor::new(&[1i64, 2]).unwrap();
    assert!(labels.exp().is_err());
    assert!(labels.one_hot(2).is_err());
    assert!(a.gather(1, &Tensor::new(&[[3i64], [0]]).unwrap()).is_err());
    assert!(a.to_vec::<f64>().is_err());
    assert!(a.item::<f32>().is_err());
    assert!(Tensor::arange(0.0, 1.0, 0.0, DType::F32).is_err());
}

#[test]
fn integer_and_bool_dtypes() {
    let x = Tensor::new(&[3i64, 1, 2]).unwrap();
    assert_eq!(
        x.add(&Tensor::scalar(1i64))
            .unwrap()
            .to_vec::<i64>()
            .unwrap(),
        vec![4, 2, 3]
    );
    assert_eq!(
        x.one_hot(4).unwrap().to_vec2::<i64>().unwrap()[0],
        vec![0, 0, 0, 1]
    );
    let m = x.gt_scalar(1.0).unwrap();
    assert_eq!(m.dtype(), DType::Bool);
    assert_eq!(m.to_vec::<bool>().unwrap(), vec![true, false, true]);
    assert_eq!(
        m.to_dtype(DType::F32).unwrap().to_vec::<f32>().unwrap(),
        vec![1.0, 0.0, 1.0]
    );
    assert_eq!(x.to_dtype(DType::F64).unwrap().dtype(), DType::F64);
    assert_eq!(x.argmax(0, false).unwrap().item::<i64>().unwrap(), 0);
    assert_eq!(x.sum_all().unwrap().item::<i64>().unwrap(), 6);
    assert!(x.requires_grad_(true).is_err());
}

#[test]
fn creation_functions() {
    assert_eq!(
        Tensor::arange(0.0, 1.0, 0.25, DType::F64)
            .unwrap()
            .to_vec::<f64>()
            .unwrap(),
        vec![0.0, 0.25, 0.5, 0.75]
    );
    let l = Tensor::linspace(-1.0, 1.0, 5, DType::F32)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(l, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
    let e = Tensor::eye(3, DType::I64).unwrap();
    assert_eq!(
        e.to_vec2::<i64>().unwrap(),
        vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 0, 1]]
    );
    let n = Tensor::new(&[[[1.0f64], [2.0]], [[3.0], [4.0]]]).unwrap();
    assert_eq!(n.dims(), &[2, 2, 1]);
    assert!(Tensor::new(&vec![vec![1.0f32], vec![2.0, 3.0]]).is_err());
    assert_eq!(
        Tensor::full((2, 2), 7.0, DType::F32)
            .unwrap()
            .sum_all()
            .unwrap()
            .item::<f32>()
            .unwrap(),
        28.0
    );
}

#[test]
fn views_share_storage_without_copying() {
    let x = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    for v in [
        x.t().unwrap(),
        x.reshape((3, 2)).unwrap(),
        x.narrow(1, 1, 2).unwrap(),
        x.unsqueeze(0).unwrap(),
        x.select(0, 1).unwrap(),
        x.unsqueeze(0).unwrap().expand((4, 2, 3)).unwrap(),
    ] {
        assert!(v.shares_storage(&x));
    }
    assert_eq!(
        x.unsqueeze(0).unwrap().expand((4, 2, 3)).unwrap().stride(),
        &[0, 3, 1]
    );
    assert!(!x.t().unwrap().contiguous().unwrap().shares_storage(&x));
    assert_eq!(
        x.t().unwrap().to_vec::<f32>().unwrap(),
        vec![1., 4., 2., 5., 3., 6.]
    );
}

#[test]
fn backward_accumulates_and_respects_no_grad_and_detach() {
    let w = t(&[1., -2., 3.], &[3]).requires_grad_(true).unwrap();
    for _ in 0..2 {
        w.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
    }
    // Two backward calls accumulate, as in PyTorch: 2 * (2w).
    assert_eq!(
        w.grad().unwrap().to_vec::<f32>().unwrap(),
        vec![4., -8., 12.]
    );
    w.zero_grad();
    assert!(w.grad().is_none());

    {
        let _g = no_grad();
        let y = w.mul_scalar(2.0).unwrap();
        assert!(!y.requires_grad());
        assert!(y.backward().is_err());
    }
    assert!(w.mul_scalar(2.0).unwrap().requires_grad());
    let d = w.detach();
    assert!(!d.requires_grad() && d.shares_storage(&w));
    // A detached branch contributes nothing.
    w.mul(&d).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(
        w.grad().unwrap().to_vec::<f32>().unwrap(),
        vec![1., -2., 3.]
    );

    // Only leaves get .grad; non-scalar backward needs an explicit gradient.
    let y = w.exp().unwrap();
    assert!(y.backward().is_err());
    assert!(!y.is_leaf());
    assert!(y.set_requires_grad(false).is_err());
}

#[test]
fn frozen_leaves_get_no_gradient() {
    let a = t(&[1., 2.], &[2]).requires_grad_(true).unwrap();
    let b = t(&[3., 4.], &[2]).requires_grad_(true).unwrap();
    b.set_requires_grad(false).unwrap();
    a.mul(&b).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(a.grad().unwrap().to_vec::<f32>().unwrap(), vec![3., 4.]);
    assert!(b.grad().is_none());
}

#[test]
fn in_place_updates_are_seen_by_views() {
    let p = t(&[1., 2., 3., 4.], &[2, 2]);
    let view = p.t().unwrap();
    p.update_(|d: &mut [f32]| d.iter_mut().for_each(|x| *x *= 10.0))
        .unwrap();
    assert_eq!(view.to_vec::<f32>().unwrap(), vec![10., 30., 20., 40.]);
    p.copy_(&t(&[0., 0., 0., 1.], &[2, 2])).unwrap();
    assert_eq!(view.to_vec::<f32>().unwrap(), vec![0., 0., 0., 1.]);
    assert!(p.update_(|_: &mut [f64]| {}).is_err());
    assert!(view.update_(|_: &mut [f32]| {}).is_err());
}

#[test]
fn devices() {
    assert_eq!(Device::parse("cpu").unwrap(), Device::Cpu);
    let e = Device::cuda(0).unwrap_err().to_string();
    assert!(e.contains("cuda:0") && e.contains("no CUDA backend"), "{e}");
    assert!(Device::parse("cuda:1").is_err());
    assert!(Device::parse("tpu").is_err());
    assert_eq!(Device::cuda_if_available(), Device::Cpu);
    assert_eq!(Tensor::zeros(2, DType::F32).unwrap().device(), Device::Cpu);
}

#[test]
fn operators() {
    let a = t(&[1., 2.], &[2]);
    let b = t(&[3., 4.], &[2]);
    assert_eq!((&a + &b).unwrap().to_vec::<f32>().unwrap(), vec![4., 6.]);
    assert_eq!((&a - &b).unwrap().to_vec::<f32>().unwrap(), vec![-2., -2.]);
    assert_eq!((&a * 2.0).unwrap().to_vec::<f32>().unwrap(), vec![2., 4.]);
    assert_eq!((&b / &a).unwrap().to_vec::<f32>().unwrap(), vec![3., 2.]);
    assert_eq!((-&a).unwrap().to_vec::<f32>().unwrap(), vec![-1., -2.]);
    assert_eq!(
        (a.clone() + 1.0).unwrap().to_vec::<f32>().unwrap(),
        vec![2., 3.]
    );
}

#[test]
fn numerically_stable_functions() {
    let x = Tensor::new(&[-1000.0f64, 0.0, 1000.0]).unwrap();
    assert_eq!(
        x.sigmoid().unwrap().to_vec::<f64>().unwrap(),
        vec![0.0, 0.5, 1.0]
    );
    let ls = x.log_sigmoid().unwrap().to_vec::<f64>().unwrap();
    assert_eq!(ls[0], -1000.0);
    assert_eq!(ls[2], 0.0);
    let sp = x.softplus().unwrap().to_vec::<f64>().unwrap();
    assert_eq!(sp[2], 1000.0);
    let lsm = x.log_softmax(0).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(lsm[2], 0.0);
    assert!(lsm.iter().all(|v| v.is_finite() || *v == f64::NEG_INFINITY));
    assert!((x.logsumexp([0], false).unwrap().item::<f64>().unwrap() - 1000.0).abs() < 1e-12);
}

#[test]
fn pytorch_conventions_for_scalars_bools_and_norms() {
    // True division: the mean of 49 ones is exactly 1.
    let ones = Tensor::ones(49, DType::F64).unwrap();
    assert_eq!(ones.mean_all().unwrap().item::<f64>().unwrap(), 1.0);
    assert_eq!(
        Tensor::scalar(0.3f32)
            .div_scalar(3.0)
            .unwrap()
            .item::<f32>()
            .unwrap(),
        0.3f32 / 3.0
    );
    // i64 meets a fractional scalar in f64; integral scalars keep i64 arithmetic.
    let i = Tensor::new(&[0i64, 1]).unwrap();
    assert_eq!(
        i.lt_scalar(0.5).unwrap().to_vec::<bool>().unwrap(),
        vec![true, false]
    );
    assert_eq!((&i + 2.0).unwrap().to_vec::<i64>().unwrap(), vec![2, 3]);
    assert_eq!(
        i.mul_scalar(3.0).unwrap().to_vec::<i64>().unwrap(),
        vec![0, 3]
    );
    assert!(i.add_scalar(0.5).is_err());
    assert!(i.div_scalar(2.0).is_err());
    // A bool sum counts the true entries.
    let m = Tensor::new(&[[true, false], [true, true]]).unwrap();
    assert_eq!(m.sum_all().unwrap().item::<i64>().unwrap(), 3);
    assert_eq!(
        m.sum([0], false).unwrap().to_vec::<i64>().unwrap(),
        vec![2, 1]
    );
    // The norm's gradient is 0 where the norm is 0 (not NaN), for p = 2 and other p.
    for p in [2.0, 3.0, 1.5] {
        let z = Tensor::zeros((2, 3), DType::F64)
            .unwrap()
            .requires_grad_(true)
            .unwrap();
        z.norm(p, [1], false)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert_eq!(
            z.grad().unwrap().to_vec::<f64>().unwrap(),
            vec![0.0; 6],
            "p = {p}"
        );
    }
}
