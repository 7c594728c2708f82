//! Tensors to and from safetensors files, byte for byte what PyTorch's
//! `safetensors.torch.save_file` / `load_file` write and read.
//!
//! The format: an 8-byte little-endian header length, a JSON header mapping each tensor name
//! to `{dtype, shape, data_offsets}` (plus an optional `__metadata__` map of strings), then
//! the raw little-endian row-major bytes. Parsing and validation of the header (offsets in
//! range, no overlaps, sizes matching shapes) is the `safetensors` crate's.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::{Dtype, SafeTensorError, SafeTensors, View};

use super::atomic::{io_error, write_atomic};
use crate::{DType, Error, Result, Tensor};

/// A tensor flattened to the bytes safetensors stores.
struct Bytes {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Bytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// Row-major little-endian bytes of `t`, whatever its layout.
fn to_bytes(t: &Tensor) -> Result<Bytes> {
    let (dtype, data) = match t.dtype() {
        DType::F32 => (Dtype::F32, le_bytes(t.to_vec::<f32>()?, f32::to_le_bytes)),
        DType::F64 => (Dtype::F64, le_bytes(t.to_vec::<f64>()?, f64::to_le_bytes)),
        DType::I64 => (Dtype::I64, le_bytes(t.to_vec::<i64>()?, i64::to_le_bytes)),
        DType::Bool => (
            Dtype::BOOL,
            t.to_vec::<bool>()?.into_iter().map(u8::from).collect(),
        ),
    };
    Ok(Bytes {
        dtype,
        shape: t.dims().to_vec(),
        data,
    })
}

fn le_bytes<T, const N: usize>(v: Vec<T>, f: fn(T) -> [u8; N]) -> Vec<u8> {
    v.into_iter().flat_map(f).collect()
}

fn from_le<T, const N: usize>(data: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|c| f(c.try_into().expect("chunks_exact gives N bytes")))
        .collect()
}

fn data_error(path: &Path, msg: impl Into<String>) -> Error {
    Error::Data {
        path: path.display().to_string(),
        msg: msg.into(),
    }
}

fn format_error(path: &Path, e: SafeTensorError) -> Error {
    data_error(path, format!("not a valid safetensors file: {e}"))
}

/// Writes `tensors` (any dtype, any layout) and string `metadata` to a safetensors file at
/// `path`, atomically (see [`write_atomic`]). Tensors are stored contiguous, row-major,
/// little-endian: f32/f64/i64/bool as `F32`/`F64`/`I64`/`BOOL`. PyTorch reads the file with
/// `safetensors.torch.load_file(path)`; a model's `state_dict()` saved this way loads with
/// `model.load_state_dict(...)`.
///
/// ```
/// use std::collections::BTreeMap;
/// use sinapsis::checkpoint::{load_safetensors, save_safetensors};
/// use sinapsis::Tensor;
/// # fn main() -> sinapsis::Result<()> {
/// let path = std::env::temp_dir().join(format!("sinapsis-doc-st-{}.safetensors", std::process::id()));
/// let w = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
/// save_safetensors(&path, &[("w".into(), w.t()?)], &BTreeMap::new())?;
/// let back = load_safetensors(&path)?;
/// assert_eq!(back[0].0, "w");
/// assert_eq!(back[0].1.to_vec::<f32>()?, vec![1.0, 3.0, 2.0, 4.0]);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for duplicate names, [`Error::Data`] when the file cannot be
/// written.
pub fn save_safetensors(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let bytes = safetensors_bytes(tensors, metadata)?;
    write_atomic(path, &bytes)
}

/// The bytes of a safetensors file holding `tensors` and `metadata`.
pub(crate) fn safetensors_bytes(
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let mut flat = Vec::with_capacity(tensors.len());
    let mut seen = std::collections::HashSet::new();
    for (name, t) in tensors {
        if !seen.insert(name.as_str()) {
            return Err(Error::InvalidArgument {
                op: "save_safetensors",
                msg: format!("tensor name `{name}` appears twice"),
            });
        }
        flat.push((name.as_str(), to_bytes(t)?));
    }
    // NOTE: like PyTorch's `save_file(metadata=None)`, no `__metadata__` entry when empty.
    let info: Option<HashMap<String, String>> = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    safetensors::serialize(flat.iter().map(|(n, b)| (*n, b)), info).map_err(|e| {
        Error::InvalidArgument {
            op: "save_safetensors",
            msg: e.to_string(),
        }
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io_error(path, "read the file", e))
}

/// Reads every tensor of a safetensors file, sorted by name. `F32`, `F64`, `I64` and `BOOL`
/// tensors are supported (PyTorch's float32, float64, int64, bool).
///
/// # Errors
/// [`Error::Data`] naming the file when it is missing, truncated or has a bad header, and
/// naming the tensor when its dtype is unsupported (F16, BF16, ...) or its bytes are invalid.
pub fn load_safetensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let bytes = read(path)?;
    parse_safetensors(path, &bytes)
}

/// Parses the bytes of a safetensors file; `path` is only used in errors.
pub(crate) fn parse_safetensors(path: &Path, bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| format_error(path, e))?;
    let mut out = st
        .iter()
        .map(|(name, view)| {
            let shape = view.shape().to_vec();
            let data = view.data();
            let t = match view.dtype() {
                Dtype::F32 => Tensor::from_vec(from_le(data, f32::from_le_bytes), shape),
                Dtype::F64 => Tensor::from_vec(from_le(data, f64::from_le_bytes), shape),
                Dtype::I64 => Tensor::from_vec(from_le(data, i64::from_le_bytes), shape),
                Dtype::BOOL => {
                    if let Some(b) = data.iter().find(|&&b| b > 1) {
                        return Err(data_error(
                            path,
                            format!("tensor `{name}`: BOOL byte {b} is neither 0 nor 1"),
                        ));
                    }
                    Tensor::from_vec(data.iter().map(|&b| b == 1).collect::<Vec<_>>(), shape)
                }
                other => {
                    return Err(data_error(
                        path,
                        format!(
                            "tensor `{name}` has dtype {other:?}, which is unsupported \
                             (supported: F32, F64, I64, BOOL); convert it in PyTorch first, \
                             e.g. `t.float()`"
                        ),
                    ))
                }
            };
            t.map(|t| (name.to_string(), t))
                .map_err(|e| data_error(path, format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The `__metadata__` string map of a safetensors file (empty when it has none), read from
/// the header alone.
///
/// # Errors
/// [`Error::Data`] naming the file when it is missing or its header is invalid.
pub fn load_safetensors_metadata(path: &Path) -> Result<BTreeMap<String, String>> {
    let bytes = read(path)?;
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| format_error(path, e))?;
    Ok(meta
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}
