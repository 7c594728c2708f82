//! Serde for maps of floats that may hold NaN or infinities (JSON has no such numbers):
//! non-finite values are written as the strings `"nan"`, `"inf"`, `"-inf"` and read back.
//! Used by scheduler states and checkpoint metrics (`#[serde(with = "crate::float_map")]`).
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Value {
    Number(f64),
    Text(String),
}

pub fn serialize<S: Serializer>(map: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
    let out: BTreeMap<&str, Value> = map
        .iter()
        .map(|(k, &v)| {
            let v = if v.is_finite() {
                Value::Number(v)
            } else if v.is_nan() {
                Value::Text("nan".into())
            } else if v > 0.0 {
                Value::Text("inf".into())
            } else {
                Value::Text("-inf".into())
            };
            (k.as_str(), v)
        })
        .collect();
    out.serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let raw = BTreeMap::<String, Value>::deserialize(d)?;
    raw.into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Number(x) => x,
                Value::Text(t) => match t.as_str() {
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    "nan" => f64::NAN,
                    other => {
                        return Err(serde::de::Error::custom(format!(
                        "`{k}`: expected a number, \"inf\", \"-inf\" or \"nan\", got \"{other}\""
                    )))
                    }
                },
            };
            Ok((k, v))
        })
        .collect()
}
