//! Turning a TOML value into a config struct with messages that name the key path and say
//! what was expected (`optimizer.lr: expected a float, got string "fast"`).

use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// Validation problems collected across the whole file, reported together.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<String>);

impl Problems {
    /// Records one problem.
    pub fn push(&mut self, msg: impl Into<String>) {
        self.0.push(msg.into());
    }

    /// Runs `r`, keeping its value or recording its problems.
    pub fn take<T>(&mut self, r: Result<T, Problems>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(p) => {
                self.0.extend(p.0);
                None
            }
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Problems {
    fn from(s: String) -> Self {
        Problems(vec![s])
    }
}

/// Joins a parent path and a key (`"optimizer"` + `"lr"` -> `"optimizer.lr"`).
pub fn join(path: &str, key: &str) -> String {
    match (path.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (_, true) => path.to_string(),
        _ if key.starts_with('[') => format!("{path}{key}"),
        _ => format!("{path}.{key}"),
    }
}

/// Deserialises `value` (found at `path`) into `T`, rewording serde's message.
pub fn de<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, Problems> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let inner: String = e.path().iter().map(segment).collect();
        let full = join(path, inner.trim_start_matches('.'));
        Problems::from(reword(&full, &e.inner().to_string(), &[]))
    })
}

/// Deserialises a table whose `type` key picks the variant of `T`, an externally tagged
/// enum whose variants are named like the `type` values: `{ type = "sgd", lr = 0.1 }` is
/// read as `{ sgd = { lr = 0.1 } }`, so serde checks the variant's own keys.
pub fn de_tagged<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, Problems> {
    let mut table = as_table(value, path)?;
    let ty = match table.remove("type") {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(format!(
                "{}: expected a string, got {}",
                join(path, "type"),
                describe(&other)
            )
            .into())
        }
        None => {
            return Err(format!(
                "{}: missing key 'type'",
                if path.is_empty() { "<root>" } else { path }
            )
            .into())
        }
    };
    let mut outer = Table::new();
    outer.insert(ty, Value::Table(table));
    serde_path_to_error::deserialize::<_, T>(Value::Table(outer)).map_err(|e| {
        // The first segment is the variant (our `type`): drop it.
        let inner: String = e.path().iter().skip(1).map(segment).collect();
        let msg = e.inner().to_string();
        if msg.starts_with("unknown variant") {
            return Problems::from(reword(&join(path, "type"), &msg, &[]));
        }
        let full = format!("{path}{inner}");
        Problems::from(reword(&full, &msg, &["type"]))
    })
}

fn segment(s: &serde_path_to_error::Segment) -> String {
    use serde_path_to_error::Segment;
    match s {
        Segment::Seq { index } => format!("[{index}]"),
        Segment::Map { key } => format!(".{key}"),
        Segment::Enum { variant } => format!(".{variant}"),
        Segment::Unknown => ".?".into(),
    }
}

/// Turns an externally tagged value (`{ sgd = { lr = 0.1 } }`), as serde writes enums,
/// back into the config's form (`{ type = "sgd", lr = 0.1 }`).
pub fn internally_tagged(v: Value) -> Value {
    match v {
        Value::Table(t) if t.len() == 1 => {
            let (k, inner) = t.into_iter().next().expect("one entry");
            let mut out = Table::new();
            out.insert("type".into(), Value::String(k));
            if let Value::Table(fields) = inner {
                out.extend(fields);
            }
            Value::Table(out)
        }
        Value::String(s) => {
            let mut out = Table::new();
            out.insert("type".into(), Value::String(s));
            Value::Table(out)
        }
        other => other,
    }
}

/// The value as a table, or a message naming the path.
pub fn as_table(value: Value, path: &str) -> Result<Table, Problems> {
    match value {
        Value::Table(t) => Ok(t),
        other => Err(format!("{path}: expected a table, got {}", describe(&other)).into()),
    }
}

/// A short description of a TOML value for messages (`string "fast"`, `integer 3`).
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string {s:?}"),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("float {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}

/// Rewrites serde's messages into the CLI's wording, prefixed by the key path.
pub fn reword(path: &str, msg: &str, extra_expected: &[&str]) -> String {
    let msg = msg.lines().next().unwrap_or(msg).trim();
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (field, tail) = rest.split_once('`').unwrap_or((rest, ""));
        // The path serde_path_to_error gives already ends with the unknown key.
        let key_path = if path.ends_with(field) {
            path.to_string()
        } else {
            join(path, field)
        };
        let mut expected: Vec<String> = extra_expected.iter().map(|s| s.to_string()).collect();
        expected.extend(
            tail.split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s.to_string()),
        );
        return if expected.is_empty() {
            format!("unknown key '{key_path}' (this table takes no keys)")
        } else {
            format!(
                "unknown key '{key_path}' (expected one of: {})",
                expected.join(", ")
            )
        };
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        if let Some((got, expected)) = rest.split_once(", expected ") {
            return format!("{path}: expected {}, got {got}", expected_name(expected));
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let (got, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let names: Vec<&str> = tail
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s)
            .collect();
        return format!(
            "{path}: unknown value \"{got}\" (expected one of: {})",
            names.join(", ")
        );
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!(
            "{}: missing key '{field}'",
            if path.is_empty() { "<root>" } else { path }
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        if let Some((got, expected)) = rest.split_once(", expected ") {
            return format!("{path}: expected {}, got {got}", expected_name(expected));
        }
    }
    format!("{path}: {msg}")
}

/// serde's Rust-flavoured type names in plain words.
fn expected_name(expected: &str) -> String {
    match expected {
        "f64" | "f32" => "a float".into(),
        "usize" | "u64" | "u32" | "u8" => "a non-negative integer".into(),
        "i64" | "i32" => "an integer".into(),
        "a boolean" | "bool" => "a boolean (true or false)".into(),
        "a string" => "a string".into(),
        other => other.to_string(),
    }
}
