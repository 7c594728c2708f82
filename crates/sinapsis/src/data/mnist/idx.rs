//! The IDX file format of MNIST and Fashion-MNIST: a big-endian header (magic, dims) followed
//! by the values, optionally gzip-compressed (detected by the magic bytes `1f 8b`).

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// IDX magic of a rank-1 `u8` file (labels): `00 00 08 01`.
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// IDX magic of a rank-3 `u8` file (images): `00 00 08 03`.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;

/// A decoded IDX array of `u8` values: its dims (from the header) and the values, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dims from the header, e.g. `[60000, 28, 28]` for training images.
    pub dims: Vec<usize>,
    /// The values, row-major; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

fn err(path: &str, msg: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_string(),
        msg: msg.into(),
    }
}

/// Counts the compressed bytes a decoder has consumed, to report offsets in errors.
struct Counting<'a> {
    inner: &'a [u8],
    pos: usize,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.inner.len() - self.pos);
        buf[..n].copy_from_slice(&self.inner[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Decompresses `bytes` if they start with the gzip magic `1f 8b`, else returns them as is.
/// `name` is used in error messages.
///
/// # Errors
/// [`Error::Data`] if the gzip stream is corrupt or truncated, with the offsets reached.
pub fn maybe_gunzip(bytes: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Ok(bytes);
    }
    let mut src = Counting {
        inner: &bytes,
        pos: 0,
    };
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    let res = flate2::read::GzDecoder::new(&mut src).read_to_end(&mut out);
    if let Err(e) = res {
        let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "truncated gzip stream (the file ends early; re-download it)"
        } else {
            "corrupt gzip stream"
        };
        return Err(err(
            name,
            format!(
                "{what}: {e}, after reading {} of {} compressed bytes ({} bytes decompressed)",
                src.pos,
                bytes.len(),
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// Parses an IDX file's bytes (gzip or raw) holding `u8` values. `name` is used in errors.
///
/// Checks the magic (`00 00 08 rank`) and that the header's dims match the data size.
///
/// ```
/// use sinapsis::data::mnist::idx::parse_idx;
/// let bytes = [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]; // 3 labels
/// let a = parse_idx(bytes.to_vec(), "labels")?;
/// assert_eq!((a.dims, a.data), (vec![3], vec![7, 2, 1]));
/// assert!(parse_idx(vec![0, 0, 8, 1, 0, 0, 0, 4, 7], "labels").is_err());
/// # Ok::<(), sinapsis::Error>(())
/// ```
///
/// # Errors
/// [`Error::Data`] for a corrupt/truncated gzip stream, a bad magic, a non-`u8` type, or
/// dims that disagree with the number of bytes.
pub fn parse_idx(bytes: Vec<u8>, name: &str) -> Result<IdxArray> {
    let mut bytes = maybe_gunzip(bytes, name)?;
    if bytes.len() < 4 {
        return Err(err(
            name,
            format!(
                "offset 0: expected a 4-byte IDX magic (00 00 08 rank), the file has only {} bytes",
                bytes.len()
            ),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(err(
            name,
            format!(
                "offset 0: bad IDX magic {:02x} {:02x} {:02x} {:02x}: expected 00 00 08 01 (labels) or 00 00 08 03 (images); not an IDX file?",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(err(
            name,
            format!(
                "offset 2: IDX type code 0x{:02x} is not supported: expected 0x08 (unsigned byte)",
                bytes[2]
            ),
        ));
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    if rank == 0 || bytes.len() < header {
        return Err(err(
            name,
            format!(
                "offset 4: expected a header of {header} bytes for rank {rank}, the file has {} bytes",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let numel = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err(name, format!("offset 4: dims {dims:?} overflow")))?;
    let have = bytes.len() - header;
    if have != numel {
        return Err(err(
            name,
            format!(
                "header dims {dims:?} need {numel} data bytes after the {header}-byte header, found {have} ({})",
                if have < numel {
                    "file truncated"
                } else {
                    "trailing bytes"
                }
            ),
        ));
    }
    bytes.drain(..header);
    Ok(IdxArray { dims, data: bytes })
}

/// Reads an IDX file (gzip or raw) of `u8` values. See [`parse_idx`].
///
/// # Errors
/// [`Error::Data`] if the file cannot be read or is malformed, naming the file.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| err(&name, format!("cannot read: {e}")))?;
    parse_idx(bytes, &name)
}

/// Encodes `data` with `dims` as IDX bytes (uncompressed): the inverse of [`parse_idx`].
/// Handy for tests and for writing subsets.
///
/// # Errors
/// [`Error::Data`] if `dims` do not match `data.len()` or a dim exceeds `u32`.
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Result<Vec<u8>> {
    let numel: usize = dims.iter().product();
    if numel != data.len() || dims.is_empty() || dims.len() > 255 {
        return Err(err(
            "encode_idx",
            format!("dims {dims:?} do not match {} values", data.len()),
        ));
    }
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for &d in dims {
        let d = u32::try_from(d)
            .map_err(|_| err("encode_idx", format!("dim {d} does not fit in u32")))?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    Ok(out)
}
