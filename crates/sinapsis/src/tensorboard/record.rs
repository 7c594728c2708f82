//! TFRecord framing, the container of TensorBoard event files: each record is
//!
//! ```text
//! u64 length (little-endian) | u32 masked_crc32c(length bytes) | data | u32 masked_crc32c(data)
//! ```
//!
//! The CRC is masked so that a CRC computed over data that itself holds CRCs stays well
//! distributed (TensorFlow's `tensorflow/core/lib/hash/crc32c.h`).

use std::io::{self, Write};

/// The masking constant from TensorFlow's `crc32c::Mask`.
const MASK_DELTA: u32 = 0xa282_ead8;

/// TensorFlow's masked CRC32C: `((crc >> 15) | (crc << 17)) + 0xa282ead8` (wrapping).
///
/// ```
/// // The CRC32C of "123456789" is 0xe3069283 (RFC 3720's check value).
/// assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
/// assert_eq!(sinapsis::tensorboard::masked_crc32c(b"123456789"), 0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8));
/// ```
pub fn masked_crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
        .rotate_right(15)
        .wrapping_add(MASK_DELTA)
}

/// Writes one record holding `data`.
pub(crate) fn write_record(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    out.write_all(&len)?;
    out.write_all(&masked_crc32c(&len).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc32c(data).to_le_bytes())
}
