//! A minimal protocol-buffers encoder: just the wire types TensorBoard's `Event` needs.
//!
//! Every field is a key (`field_number << 3 | wire_type`, as a varint) followed by its value:
//! wire type 0 = varint (int64, enums), 1 = 8 little-endian bytes (double), 2 = a varint
//! length then that many bytes (strings, bytes, nested messages), 5 = 4 little-endian bytes
//! (float). See <https://protobuf.dev/programming-guides/encoding/>.

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LENGTH_DELIMITED: u32 = 2;
const FIXED32: u32 = 5;

/// A message being encoded: fields are appended in the order written.
#[derive(Default)]
pub(crate) struct Message {
    buf: Vec<u8>,
}

impl Message {
    pub(crate) fn new() -> Message {
        Message::default()
    }

    /// The encoded bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn varint(&mut self, mut v: u64) {
        // Seven bits per byte, low bits first; the high bit says "more bytes follow".
        while v >= 0x80 {
            self.buf.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire_type: u32) {
        self.varint(u64::from(field << 3 | wire_type));
    }

    /// An `int64` field (negative numbers take ten bytes, as protobuf specifies).
    pub(crate) fn int64(&mut self, field: u32, v: i64) -> &mut Self {
        self.key(field, VARINT);
        self.varint(v as u64);
        self
    }

    /// A `double` field.
    pub(crate) fn double(&mut self, field: u32, v: f64) -> &mut Self {
        self.key(field, FIXED64);
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A `float` field.
    pub(crate) fn float(&mut self, field: u32, v: f32) -> &mut Self {
        self.key(field, FIXED32);
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A `bytes` field, or a nested message's encoding.
    pub(crate) fn bytes(&mut self, field: u32, v: &[u8]) -> &mut Self {
        self.key(field, LENGTH_DELIMITED);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
        self
    }

    /// A `string` field.
    pub(crate) fn string(&mut self, field: u32, v: &str) -> &mut Self {
        self.bytes(field, v.as_bytes())
    }

    /// A nested message field.
    pub(crate) fn message(&mut self, field: u32, m: Message) -> &mut Self {
        self.bytes(field, &m.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::Message;

    #[test]
    fn matches_the_protobuf_spec_examples() {
        // From the encoding guide: field 1 = 150 is 08 96 01; field 2 = "testing".
        let mut m = Message::new();
        m.int64(1, 150).string(2, "testing");
        assert_eq!(
            m.into_bytes(),
            [0x08, 0x96, 0x01, 0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']
        );
        let mut m = Message::new();
        m.int64(1, -1);
        assert_eq!(m.into_bytes().len(), 1 + 10);
        let mut m = Message::new();
        m.float(2, 1.0).double(1, 1.0);
        assert_eq!(
            m.into_bytes(),
            [0x15, 0, 0, 0x80, 0x3f, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]
        );
    }
}
