//! Shared test helpers: reading the PyTorch fixtures (JSON + safetensors) into tensors and
//! comparing with tolerances.
#![allow(dead_code)]

use safetensors::{Dtype, SafeTensors};
use serde_json::Value;
use sinapsis_core::{DType, Tensor};
use std::path::PathBuf;

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One fixture file pair: `NAME.json` (case list) and `NAME.safetensors` (values).
pub struct Fixtures {
    pub json: Value,
    bytes: Vec<u8>,
}

impl Fixtures {
    pub fn load(name: &str) -> Fixtures {
        let dir = fixture_dir();
        let json = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture json");
        let bytes = std::fs::read(dir.join(format!("{name}.safetensors"))).expect("fixture values");
        Fixtures {
            json: serde_json::from_str(&json).expect("valid json"),
            bytes,
        }
    }

    pub fn cases(&self) -> &Vec<Value> {
        self.json["cases"].as_array().expect("cases")
    }

    /// The stored tensor `key`, in its stored dtype.
    pub fn tensor(&self, key: &str) -> Tensor {
        let st = SafeTensors::deserialize(&self.bytes).expect("safetensors");
        let view = st
            .tensor(key)
            .unwrap_or_else(|_| panic!("missing fixture key {key}"));
        let shape: Vec<usize> = view.shape().to_vec();
        let data = view.data();
        match view.dtype() {
            Dtype::F64 => Tensor::from_vec(
                data.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect::<Vec<_>>(),
                shape,
            ),
            Dtype::F32 => Tensor::from_vec(
                data.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect::<Vec<_>>(),
                shape,
            ),
            Dtype::I64 => Tensor::from_vec(
                data.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect::<Vec<_>>(),
                shape,
            ),
            Dtype::BOOL => {
                Tensor::from_vec(data.iter().map(|&b| b != 0).collect::<Vec<_>>(), shape)
            }
            other => panic!("unsupported fixture dtype {other:?} for {key}"),
        }
        .expect("fixture tensor")
    }
}

/// Asserts `got` matches `want` elementwise: |a - b| <= tol * max(1, |b|).
pub fn assert_close(what: &str, got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let g = got.to_f64_vec().unwrap();
    let w = want.to_f64_vec().unwrap();
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let ok = (a - b).abs() <= tol * b.abs().max(1.0) || (a.is_nan() && b.is_nan()) || a == b;
        assert!(
            ok,
            "{what}: element {i}: got {a:e}, want {b:e} (tol {tol:e})"
        );
    }
}

/// Tolerances of the fixtures README: float64 1e-10; float32 1e-5 forward, 1e-4 gradients.
pub fn tolerances(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F64 => (1e-10, 1e-10),
        _ => (1e-5, 1e-4),
    }
}

/// The `ops.json` cases for convolution, pooling and normalisation, checked by
/// `tests/conv.rs`; `tests/parity_ops.rs` checks every other case.
pub const CONV_CASES: &[&str] = &[
    "nn/conv2d/0",
    "nn/conv2d/1",
    "nn/conv2d/2",
    "nn/max_pool2d_k2s2",
    "nn/max_pool2d_k3s2p1",
    "nn/avg_pool2d_k2s2",
    "nn/adaptive_avg_pool2d_1",
    "nn/batch_norm1d_train",
    "nn/batch_norm2d_train",
    "nn/layer_norm",
    "f32/conv2d",
];
