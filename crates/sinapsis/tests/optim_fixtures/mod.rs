//! Reading the PyTorch optimizer fixtures (`tests/fixtures/optim.json` + `.safetensors`)
//! and comparing with the fixtures' tolerance. Adapted from sinapsis-core's test helpers.
#![allow(dead_code)]

use safetensors::{Dtype, SafeTensors};
use serde_json::Value;
use sinapsis::Tensor;
use std::path::PathBuf;

/// One fixture file pair: `NAME.json` (case list) and `NAME.safetensors` (values).
pub struct Fixtures {
    pub json: Value,
    bytes: Vec<u8>,
}

impl Fixtures {
    pub fn load(name: &str) -> Fixtures {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
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

    /// The stored f64 tensor `key`, as a fresh tensor.
    pub fn tensor(&self, key: &str) -> Tensor {
        let st = SafeTensors::deserialize(&self.bytes).expect("safetensors");
        let view = st
            .tensor(key)
            .unwrap_or_else(|_| panic!("missing fixture key {key}"));
        assert_eq!(
            view.dtype(),
            Dtype::F64,
            "{key}: the optimizer fixtures are f64"
        );
        let data: Vec<f64> = view
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        Tensor::from_vec(data, view.shape().to_vec()).expect("fixture tensor")
    }
}

/// Asserts `got` matches `want` elementwise: |a - b| <= tol * max(1, |b|).
pub fn assert_close(what: &str, got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let g = got.to_f64_vec().unwrap();
    let w = want.to_f64_vec().unwrap();
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let ok = (a - b).abs() <= tol * b.abs().max(1.0) || a == b;
        assert!(
            ok,
            "{what}: element {i}: got {a:e}, want {b:e} (tol {tol:e})"
        );
    }
}
