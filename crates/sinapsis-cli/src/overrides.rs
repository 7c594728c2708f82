//! `--set key=value`: dotted paths into the TOML table, applied before the config is read.

use sinapsis::{Error, Result};
use toml::{Table, Value};

fn bad(msg: String) -> Error {
    Error::InvalidArgument { op: "--set", msg }
}

/// Parses the value as TOML (`0.01`, `[64, 32]`, `true`, `"adam"`); a bare word that is not
/// valid TOML is taken as a string (`--set data.source=moons`).
pub fn parse_value(raw: &str) -> Value {
    let doc = format!("v = {raw}");
    match doc.parse::<Table>() {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| Value::String(raw.into())),
        Err(_) => Value::String(raw.to_string()),
    }
}

/// Applies one `key.path=value` to `table`. Missing intermediate tables are created (the
/// config reader then rejects keys that do not exist, naming them); a path through a
/// value that is not a table is an error.
///
/// ```
/// let mut t: toml::Table = "[optimizer]\ntype = \"sgd\"\nlr = 0.1".parse().unwrap();
/// sinapsis_cli::overrides::apply(&mut t, "optimizer.lr=0.01")?;
/// assert_eq!(t["optimizer"]["lr"].as_float(), Some(0.01));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn apply(table: &mut Table, set: &str) -> Result<()> {
    let (path, raw) = set
        .split_once('=')
        .ok_or_else(|| bad(format!("expected key=value, got \"{set}\"")))?;
    let path = path.trim();
    let keys: Vec<&str> = path.split('.').collect();
    if keys.iter().any(|k| k.is_empty()) {
        return Err(bad(format!("bad key path \"{path}\"")));
    }
    let (last, parents) = keys.split_last().expect("split yields one key");
    let mut cur = table;
    let mut walked = String::new();
    for k in parents {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(k);
        let entry = cur
            .entry(k.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        cur = match entry {
            Value::Table(t) => t,
            other => {
                return Err(bad(format!(
                    "{path}: '{walked}' is {}, not a table",
                    crate::config::de::describe(other)
                )))
            }
        };
    }
    cur.insert(last.to_string(), parse_value(raw.trim()));
    Ok(())
}
