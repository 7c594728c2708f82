//! What `checkpoint.json` holds: everything but the tensors (progress counters, optimizer
//! hyperparameters, scheduler, RNG and sampler positions, metrics), as serde types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::optim::lr_scheduler::SchedulerState;
use crate::optim::{GroupState, OptimizerState};
use crate::GeneratorState;

/// The version of the checkpoint layout written by this build. Loading a checkpoint with a
/// larger `format_version` fails rather than guessing.
pub const FORMAT_VERSION: u32 = 1;

/// The contents of `checkpoint.json`. Every field but `format_version` is optional in the
/// file (missing fields take their `Default`), and unknown fields are ignored, so checkpoints
/// stay readable as fields are added.
///
/// ```
/// use sinapsis::checkpoint::{CheckpointMeta, FORMAT_VERSION};
/// let meta = CheckpointMeta { epoch: 3, step: 300, ..Default::default() };
/// assert_eq!(meta.format_version, FORMAT_VERSION);
/// let json = serde_json::to_string(&meta).unwrap();
/// assert_eq!(serde_json::from_str::<CheckpointMeta>(&json).unwrap(), meta);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// The layout version ([`FORMAT_VERSION`] when written by this build).
    pub format_version: u32,
    /// Epochs completed.
    #[serde(default)]
    pub epoch: u64,
    /// Optimizer steps taken.
    #[serde(default)]
    pub step: u64,
    /// The optimizer's name, counters and hyperparameters (its tensors are in
    /// `optimizer.safetensors`). Filled in by [`Checkpoint::save`](super::Checkpoint::save)
    /// from [`Checkpoint::optimizer`](super::Checkpoint::optimizer).
    #[serde(default)]
    pub optimizer: Option<OptimizerMeta>,
    /// The learning-rate scheduler's state.
    #[serde(default)]
    pub scheduler: Option<SchedulerState>,
    /// The random generator's position.
    #[serde(default)]
    pub rng: Option<RngState>,
    /// The data sampler's seed and epoch (its permutation derives from them).
    #[serde(default)]
    pub sampler: Option<SamplerState>,
    /// Fitted transforms (normalisation statistics, encoders), as their own JSON.
    #[serde(default)]
    pub transforms: Option<serde_json::Value>,
    /// How to rebuild the model (layer sizes...), as JSON.
    #[serde(default)]
    pub model_config: Option<serde_json::Value>,
    /// Metrics at save time (`val_loss`, `accuracy`); NaN and infinities are written as the
    /// strings `"nan"`, `"inf"`, `"-inf"`.
    #[serde(default, with = "crate::float_map")]
    pub metrics: BTreeMap<String, f64>,
    /// Anything else the caller wants to keep.
    #[serde(default)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for CheckpointMeta {
    fn default() -> Self {
        CheckpointMeta {
            format_version: FORMAT_VERSION,
            epoch: 0,
            step: 0,
            optimizer: None,
            scheduler: None,
            rng: None,
            sampler: None,
            transforms: None,
            model_config: None,
            metrics: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// The JSON half of an [`OptimizerState`]: everything but the tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerMeta {
    /// PyTorch's class name (`"Adam"`).
    pub name: String,
    /// The names of the tensors in `optimizer.safetensors`, in the optimizer's order
    /// (`"0.weight.exp_avg"`); loading checks the file holds exactly these.
    pub tensors: Vec<String>,
    /// Per-parameter counters (`"0.weight.step"`), in the optimizer's order (written as a
    /// JSON object whose key order is kept).
    #[serde(with = "ordered_map")]
    pub scalars: Vec<(String, f64)>,
    /// Parameter groups: parameter names and hyperparameters.
    pub groups: Vec<GroupState>,
}

impl OptimizerMeta {
    /// The JSON half of `state`.
    pub fn of(state: &OptimizerState) -> OptimizerMeta {
        OptimizerMeta {
            name: state.optimizer.clone(),
            tensors: state.tensors.iter().map(|(n, _)| n.clone()).collect(),
            scalars: state.scalars.clone(),
            groups: state.groups.clone(),
        }
    }
}

/// A serialisable [`GeneratorState`]: `word_pos` (a `u128`) is written as a decimal string,
/// since JSON numbers lose precision beyond 2^53.
///
/// ```
/// use sinapsis::checkpoint::RngState;
/// use sinapsis::GeneratorState;
/// let g = GeneratorState { seed: 7, word_pos: u128::MAX };
/// let json = serde_json::to_string(&RngState::from(g)).unwrap();
/// assert_eq!(json, r#"{"seed":7,"word_pos":"340282366920938463463374607431768211455"}"#);
/// let back: RngState = serde_json::from_str(&json).unwrap();
/// assert_eq!(GeneratorState::from(back), g);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The generator's seed.
    pub seed: u64,
    /// Position in the stream, in 32-bit words since the seed.
    #[serde(with = "u128_string")]
    pub word_pos: u128,
}

impl From<GeneratorState> for RngState {
    fn from(s: GeneratorState) -> Self {
        RngState {
            seed: s.seed,
            word_pos: s.word_pos,
        }
    }
}

impl From<RngState> for GeneratorState {
    fn from(s: RngState) -> Self {
        GeneratorState {
            seed: s.seed,
            word_pos: s.word_pos,
        }
    }
}

/// Where the data sampler stands: each epoch's permutation derives from `(seed, epoch)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplerState {
    /// The sampler's seed.
    pub seed: u64,
    /// The epoch whose permutation comes next.
    pub epoch: u64,
}

/// A list of `(name, number)` pairs as a JSON object, keeping the list's order both ways.
mod ordered_map {
    use std::fmt;

    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pairs: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(pairs.len()))?;
        for (k, v) in pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    struct Pairs;

    impl<'de> Visitor<'de> for Pairs {
        type Value = Vec<(String, f64)>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of numbers")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
        d.deserialize_map(Pairs)
    }
}

mod u128_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "word_pos must be a decimal integer string, got \"{text}\""
            ))
        })
    }
}
