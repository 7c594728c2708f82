//! TensorBoard event files: read back with a small TFRecord + protobuf reader, checking
//! both CRCs of every record and the decoded events.

use std::fs;
use std::path::PathBuf;

use sinapsis::tensorboard::{masked_crc32c, SummaryWriter};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sinapsis-tb-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// Splits a TFRecord file into its records, checking the framing and both masked CRCs.
fn records(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len_bytes = &bytes[at..at + 8];
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
        let len_crc = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap());
        assert_eq!(len_crc, masked_crc32c(len_bytes), "length CRC at byte {at}");
        let data = &bytes[at + 12..at + 12 + len];
        let data_crc = u32::from_le_bytes(bytes[at + 12 + len..at + 16 + len].try_into().unwrap());
        assert_eq!(data_crc, masked_crc32c(data), "data CRC at byte {at}");
        out.push(data);
        at += 16 + len;
    }
    assert_eq!(at, bytes.len(), "no trailing bytes");
    out
}

/// One decoded protobuf field value.
#[derive(Debug, Clone)]
enum Field<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Bytes(&'a [u8]),
    Fixed32([u8; 4]),
}

/// A decoded message's fields.
type Fields = Vec<(u64, Field<'static>)>;

fn varint(buf: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = buf[*at];
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
    }
    panic!("varint too long");
}

/// Every `(field number, value)` of a message, in order.
fn fields(buf: &[u8]) -> Vec<(u64, Field<'_>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let key = varint(buf, &mut at);
        let value = match key & 7 {
            0 => Field::Varint(varint(buf, &mut at)),
            1 => {
                at += 8;
                Field::Fixed64(buf[at - 8..at].try_into().unwrap())
            }
            2 => {
                let len = varint(buf, &mut at) as usize;
                at += len;
                Field::Bytes(&buf[at - len..at])
            }
            5 => {
                at += 4;
                Field::Fixed32(buf[at - 4..at].try_into().unwrap())
            }
            w => panic!("unexpected wire type {w}"),
        };
        out.push((key >> 3, value));
    }
    out
}

fn get<'a>(fs: &[(u64, Field<'a>)], n: u64) -> Option<Field<'a>> {
    fs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone())
}

fn bytes_of<'a>(fs: &[(u64, Field<'a>)], n: u64) -> &'a [u8] {
    match get(fs, n) {
        Some(Field::Bytes(b)) => b,
        other => panic!("field {n}: expected bytes, got {other:?}"),
    }
}

/// A decoded `Event`.
#[derive(Debug)]
struct Event {
    wall_time: f64,
    step: i64,
    file_version: Option<String>,
    /// `(tag, simple_value, all fields)` per summary value; text values have no simple value.
    values: Vec<(String, Option<f32>, Fields)>,
}

fn decode(data: &'static [u8]) -> Event {
    let f = fields(data);
    let wall_time = match get(&f, 1) {
        Some(Field::Fixed64(b)) => f64::from_le_bytes(b),
        other => panic!("wall_time: {other:?}"),
    };
    let step = match get(&f, 2) {
        Some(Field::Varint(v)) => v as i64,
        None => 0,
        other => panic!("step: {other:?}"),
    };
    let file_version = get(&f, 3).map(|_| String::from_utf8(bytes_of(&f, 3).to_vec()).unwrap());
    let mut values = Vec::new();
    if get(&f, 5).is_some() {
        for (n, v) in fields(bytes_of(&f, 5)) {
            assert_eq!(n, 1, "Summary has only `value` fields");
            let Field::Bytes(v) = v else { panic!("value") };
            let vf = fields(v);
            let tag = String::from_utf8(bytes_of(&vf, 1).to_vec()).unwrap();
            let simple = match get(&vf, 2) {
                Some(Field::Fixed32(b)) => Some(f32::from_le_bytes(b)),
                None => None,
                other => panic!("simple_value: {other:?}"),
            };
            values.push((tag, simple, vf));
        }
    }
    Event {
        wall_time,
        step,
        file_version,
        values,
    }
}

fn read_events(path: &std::path::Path) -> Vec<Event> {
    let bytes: &'static [u8] = Box::leak(fs::read(path).unwrap().into_boxed_slice());
    records(bytes).into_iter().map(decode).collect()
}

#[test]
fn masked_crc_matches_tensorflow() {
    // RFC 3720 check values: CRC32C("123456789") = 0xe3069283, of 32 zero bytes 0x8a9136aa.
    // Masked by hand: ((crc >> 15) | (crc << 17)) + 0xa282ead8, modulo 2^32.
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    assert_eq!(masked_crc32c(b"123456789"), 0xc78a_b0e5);
    assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8a91_36aa);
    assert_eq!(masked_crc32c(&[0u8; 32]), 0x0fd7_fffa);
}

#[test]
fn scalars_read_back_with_their_tags_steps_and_values() {
    let dir = scratch("scalars");
    let path = {
        let mut w = SummaryWriter::new(&dir).unwrap();
        for step in 0..5u64 {
            w.add_scalar("loss/train", 1.0 / (step as f64 + 1.0), step)
                .unwrap();
        }
        w.add_scalars("accuracy", &[("train", 0.9), ("val", 0.85)], 7)
            .unwrap();
        w.add_text("notes", "**hello**", 8).unwrap();
        w.add_scalar("big", 1e10, u64::MAX).unwrap();
        w.path().to_path_buf()
        // Dropped here: the buffered events are flushed.
    };
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let parts: Vec<&str> = name.split('.').collect();
    assert!(name.starts_with("events.out.tfevents."), "{name}");
    assert!(
        parts[3].parse::<u64>().unwrap() > 1_600_000_000,
        "{name}: unix seconds"
    );
    assert_eq!(
        parts[parts.len() - 2],
        std::process::id().to_string(),
        "{name}: pid"
    );
    assert!(parts[parts.len() - 1].parse::<u64>().is_ok(), "{name}");

    let events = read_events(&path);
    assert_eq!(events.len(), 1 + 5 + 1 + 1 + 1);
    assert_eq!(events[0].file_version.as_deref(), Some("brain.Event:2"));
    assert!(events[0].values.is_empty());
    for e in &events {
        assert!(e.wall_time > 1.6e9, "wall_time {}", e.wall_time);
    }
    for (i, e) in events[1..6].iter().enumerate() {
        assert_eq!(e.step, i as i64);
        assert_eq!(e.values.len(), 1);
        assert_eq!(e.values[0].0, "loss/train");
        assert_eq!(e.values[0].1, Some((1.0 / (i as f64 + 1.0)) as f32));
    }
    let scalars = &events[6];
    assert_eq!(scalars.step, 7);
    let tags: Vec<(&str, Option<f32>)> = scalars
        .values
        .iter()
        .map(|(t, v, _)| (t.as_str(), *v))
        .collect();
    assert_eq!(
        tags,
        [
            ("accuracy/train", Some(0.9f32)),
            ("accuracy/val", Some(0.85f32))
        ]
    );

    // Text: a string tensor with the text plugin's metadata, as PyTorch writes it.
    let text = &events[7];
    assert_eq!(text.step, 8);
    let (tag, simple, vf) = &text.values[0];
    assert_eq!(tag, "notes/text_summary");
    assert_eq!(*simple, None);
    let plugin = fields(bytes_of(&fields(bytes_of(vf, 9)), 1));
    assert_eq!(bytes_of(&plugin, 1), b"text");
    let tensor = fields(bytes_of(vf, 8));
    assert!(
        matches!(get(&tensor, 1), Some(Field::Varint(7))),
        "DT_STRING"
    );
    assert_eq!(bytes_of(&tensor, 8), b"**hello**");

    // Steps beyond int64 saturate rather than wrap negative.
    assert_eq!(events[8].step, i64::MAX);
    assert_eq!(events[8].values[0].1, Some(1e10f32));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_writers_in_one_folder_get_distinct_files_and_flush_is_visible() {
    let dir = scratch("two");
    let mut a = SummaryWriter::new(dir.join("nested/run")).unwrap();
    let b = SummaryWriter::new(dir.join("nested/run")).unwrap();
    assert_ne!(a.path(), b.path());
    assert_eq!(a.log_dir(), dir.join("nested/run"));
    a.add_scalar("x", 2.0, 3).unwrap();
    a.flush().unwrap();
    let events = read_events(a.path());
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].values[0].0, "x");
    assert_eq!(events[1].values[0].1, Some(2.0));
    assert_eq!(read_events(b.path()).len(), 1);
    drop((a, b));

    // A folder that cannot be created is a data error naming it.
    let file = dir.join("a-file");
    fs::write(&file, b"x").unwrap();
    match SummaryWriter::new(file.join("sub")) {
        Err(sinapsis::Error::Data { path, .. }) => assert!(path.contains("a-file")),
        other => panic!("expected a data error, got {other:?}"),
    }
    fs::remove_dir_all(&dir).unwrap();
}
