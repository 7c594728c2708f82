//! A checkpoint folder: `model.safetensors`, `optimizer.safetensors` (when there is an
//! optimizer) and `checkpoint.json`, replaced as a whole so a crash never destroys the
//! previous checkpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use serde::Deserialize;

use super::atomic::{
    io_error, remove_stale_temporaries, replace_dir, sync_dir, temporary_for, with_suffix,
    write_synced,
};
use super::meta::{CheckpointMeta, OptimizerMeta, FORMAT_VERSION};
use super::safetensors_file::{load_safetensors, safetensors_bytes};
use crate::nn::ModuleExt;
use crate::optim::{Optimizer, OptimizerState};
use crate::{Error, Result, Tensor};

/// The model's tensors inside a checkpoint folder.
pub const MODEL_FILE: &str = "model.safetensors";
/// The optimizer's tensors inside a checkpoint folder.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// Everything else, as JSON ([`CheckpointMeta`]).
pub const META_FILE: &str = "checkpoint.json";

/// A training checkpoint: model tensors, optimizer state and metadata, saved as a folder.
///
/// ```
/// use sinapsis::checkpoint::Checkpoint;
/// use sinapsis::nn::{Linear, ReLU, Sequential};
/// use sinapsis::optim::{Optimizer, SGD, SgdConfig};
/// use sinapsis::nn::ModuleExt;
/// # fn main() -> sinapsis::Result<()> {
/// let model = Sequential::new().add(Linear::new(2, 4)?).add(ReLU).add(Linear::new(4, 1)?);
/// let mut opt = SGD::new(model.named_parameters(), SgdConfig::new(0.1))?;
/// let dir = std::env::temp_dir().join(format!("sinapsis-doc-ckpt-{}", std::process::id()));
///
/// let mut ckpt = Checkpoint::capture(&model, Some(&opt))?;
/// ckpt.meta.epoch = 1;
/// ckpt.save(&dir)?;
///
/// let back = Checkpoint::load(&dir)?;
/// assert_eq!(back.meta.epoch, 1);
/// back.restore(&model, Some(&mut opt))?;
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    /// The model's `state_dict()`, by PyTorch names.
    pub model: Vec<(String, Tensor)>,
    /// The optimizer's state, if one was captured.
    pub optimizer: Option<OptimizerState>,
    /// Everything else ([`CheckpointMeta::optimizer`] is derived from `optimizer` on save).
    pub meta: CheckpointMeta,
}

/// Copies of `tensors` in fresh storage, so later in-place updates do not change them.
fn snapshot(tensors: Vec<(String, Tensor)>) -> Result<Vec<(String, Tensor)>> {
    let _guard = crate::no_grad();
    tensors
        .into_iter()
        .map(|(n, t)| Ok((n, t.detach().copy()?)))
        .collect()
}

fn data_error(path: &Path, msg: impl Into<String>) -> Error {
    Error::Data {
        path: path.display().to_string(),
        msg: msg.into(),
    }
}

impl Checkpoint {
    /// Snapshots `model`'s `state_dict()` and, if given, `optimizer`'s `state_dict()` (copies:
    /// training on does not change the checkpoint). `meta` starts at its default; set
    /// `epoch`, `step`, scheduler and RNG states before saving.
    ///
    /// # Errors
    /// If the optimizer cannot produce a state.
    pub fn capture<M: ModuleExt + ?Sized>(
        model: &M,
        optimizer: Option<&dyn Optimizer>,
    ) -> Result<Checkpoint> {
        let optimizer = match optimizer {
            Some(opt) => {
                let mut state = opt.state_dict()?;
                state.tensors = snapshot(state.tensors)?;
                Some(state)
            }
            None => None,
        };
        Ok(Checkpoint {
            model: snapshot(model.state_dict())?,
            optimizer,
            meta: CheckpointMeta::default(),
        })
    }

    /// Loads the tensors into `model` (strictly: every key must match) and the optimizer
    /// state into `optimizer` (hyperparameters included, as PyTorch's `load_state_dict`).
    /// The scheduler, RNG and sampler states in [`Checkpoint::meta`] are the caller's to apply.
    ///
    /// # Errors
    /// Missing or unexpected keys and shape mismatches (all listed in one error); an
    /// optimizer given when the checkpoint has no optimizer state, or a state that does not
    /// fit it.
    pub fn restore<M: ModuleExt + ?Sized>(
        &self,
        model: &M,
        optimizer: Option<&mut dyn Optimizer>,
    ) -> Result<()> {
        model.load_state_dict(&self.model, true)?;
        if let Some(opt) = optimizer {
            let state = self
                .optimizer
                .as_ref()
                .ok_or_else(|| Error::InvalidArgument {
                    op: "Checkpoint::restore",
                    msg: "an optimizer was given but the checkpoint holds no optimizer state"
                        .into(),
                })?;
            opt.load_state_dict(state)?;
        }
        Ok(())
    }

    /// Writes the checkpoint as the folder `dir` (`model.safetensors`, `optimizer.safetensors`
    /// if there is an optimizer state, `checkpoint.json`), replacing any previous one
    /// atomically: everything is written and synced in `dir.tmp-<pid>/`, the old folder moves
    /// to `dir.old`, the new one takes its name, then `dir.old` is removed. At every moment
    /// either `dir` or `dir.old` holds a complete checkpoint, which [`Checkpoint::load`]
    /// finds. After a successful save, `dir.tmp-<pid>` folders left by saves killed
    /// mid-write are removed (those of processes no longer running, on Linux).
    ///
    /// # Errors
    /// [`Error::Data`] naming the file or folder that could not be written or renamed.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let staged = temporary_for(dir);
        let result = self
            .write_into(&staged)
            .and_then(|()| replace_dir(&staged, dir));
        if result.is_err() && staged.exists() {
            let _ = fs::remove_dir_all(&staged);
        }
        if result.is_ok() {
            remove_stale_temporaries(dir);
        }
        result
    }

    fn write_into(&self, staged: &Path) -> Result<()> {
        if staged.exists() {
            // A leftover from an earlier crash of a process with our pid.
            fs::remove_dir_all(staged)
                .map_err(|e| io_error(staged, "remove the stale temporary folder", e))?;
        }
        fs::create_dir_all(staged).map_err(|e| io_error(staged, "create the folder", e))?;
        let mut meta = self.meta.clone();
        meta.format_version = FORMAT_VERSION;
        meta.optimizer = self.optimizer.as_ref().map(OptimizerMeta::of);
        let empty = BTreeMap::new();
        let model = safetensors_bytes(&self.model, &model_file_metadata())?;
        write_synced(&staged.join(MODEL_FILE), &model)?;
        if let Some(opt) = &self.optimizer {
            let bytes = safetensors_bytes(&opt.tensors, &empty)?;
            write_synced(&staged.join(OPTIMIZER_FILE), &bytes)?;
        }
        let json = serde_json::to_vec_pretty(&meta).map_err(|e| Error::InvalidArgument {
            op: "Checkpoint::save",
            msg: format!("cannot serialise the metadata: {e}"),
        })?;
        write_synced(&staged.join(META_FILE), &json)?;
        sync_dir(staged)
    }

    /// Reads a checkpoint folder written by [`Checkpoint::save`]. If `dir` is missing but
    /// `dir.old` exists (a save was interrupted between its two renames), that one is read.
    /// Temporary `dir.tmp-*` folders are never read.
    ///
    /// # Errors
    /// [`Error::Data`] naming the file: a missing file, JSON that does not parse (with line
    /// and column), a `format_version` newer than [`FORMAT_VERSION`], a corrupt safetensors
    /// file, optimizer tensors that differ from the names listed in the JSON.
    pub fn load(dir: &Path) -> Result<Checkpoint> {
        let old = with_suffix(dir, ".old");
        let dir = if !dir.exists() && old.is_dir() {
            old.as_path()
        } else {
            dir
        };
        if !dir.is_dir() {
            return Err(data_error(dir, "no checkpoint folder here"));
        }
        let meta = read_meta(&dir.join(META_FILE))?;
        let model = load_safetensors(&dir.join(MODEL_FILE))?;
        let optimizer = match &meta.optimizer {
            Some(om) => Some(read_optimizer(&dir.join(OPTIMIZER_FILE), om)?),
            None => None,
        };
        Ok(Checkpoint {
            model,
            optimizer,
            meta,
        })
    }
}

/// Written into `model.safetensors` like PyTorch's `save_file(..., metadata={"format": "pt"})`
/// (the `transformers` convention), so tools that check it accept the file.
fn model_file_metadata() -> BTreeMap<String, String> {
    [("format".to_string(), "pt".to_string())].into()
}

fn read_meta(path: &Path) -> Result<CheckpointMeta> {
    let text = fs::read_to_string(path).map_err(|e| io_error(path, "read the file", e))?;
    // Check the version first: a newer layout may not parse as this one, and "written by a
    // newer version" is the useful message then.
    #[derive(Deserialize)]
    struct Version {
        format_version: u32,
    }
    let bad_json = |e: serde_json::Error| {
        data_error(
            path,
            // serde_json's message ends with "at line L column C".
            format!("invalid checkpoint metadata: {e}"),
        )
    };
    let version: Version = serde_json::from_str(&text).map_err(bad_json)?;
    if version.format_version > FORMAT_VERSION {
        return Err(data_error(
            path,
            format!(
                "format_version {} is newer than this build supports ({FORMAT_VERSION}); \
                 upgrade sinapsis to read it",
                version.format_version
            ),
        ));
    }
    serde_json::from_str(&text).map_err(bad_json)
}

fn read_optimizer(path: &Path, meta: &OptimizerMeta) -> Result<OptimizerState> {
    let mut by_name: BTreeMap<String, Tensor> = load_safetensors(path)?.into_iter().collect();
    let listed: BTreeSet<&str> = meta.tensors.iter().map(String::as_str).collect();
    let missing: Vec<&str> = meta
        .tensors
        .iter()
        .map(String::as_str)
        .filter(|n| !by_name.contains_key(*n))
        .collect();
    let unexpected: Vec<&str> = by_name
        .keys()
        .map(String::as_str)
        .filter(|n| !listed.contains(n))
        .collect();
    if !missing.is_empty() || !unexpected.is_empty() || listed.len() != meta.tensors.len() {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing tensors: {}", missing.join(", ")));
        }
        if !unexpected.is_empty() {
            problems.push(format!(
                "tensors not listed in {META_FILE}: {}",
                unexpected.join(", ")
            ));
        }
        if listed.len() != meta.tensors.len() {
            problems.push(format!("{META_FILE} lists a tensor name twice"));
        }
        return Err(data_error(
            path,
            format!("does not match {META_FILE}: {}", problems.join("; ")),
        ));
    }
    let tensors = meta
        .tensors
        .iter()
        .map(|n| (n.clone(), by_name.remove(n).expect("checked above")))
        .collect();
    Ok(OptimizerState {
        optimizer: meta.name.clone(),
        tensors,
        scalars: meta.scalars.clone(),
        groups: meta.groups.clone(),
    })
}

/// Saves `model.state_dict()` as a safetensors file PyTorch loads with
/// `model.load_state_dict(safetensors.torch.load_file(path))` (atomic write).
///
/// # Errors
/// [`Error::Data`] when the file cannot be written.
pub fn save_model<M: ModuleExt + ?Sized>(model: &M, path: &Path) -> Result<()> {
    super::save_safetensors(path, &model.state_dict(), &model_file_metadata())
}

/// Loads a safetensors file into `model`'s parameters and buffers (dtypes are cast to the
/// model's). With `strict`, missing and unexpected keys are errors (all listed at once).
///
/// # Errors
/// [`Error::Data`] for a missing or corrupt file; [`Error::InvalidArgument`] for key or shape
/// mismatches (nothing is changed then).
pub fn load_model<M: ModuleExt + ?Sized>(model: &M, path: &Path, strict: bool) -> Result<()> {
    let state = load_safetensors(path)?;
    model.load_state_dict(&state, strict)
}
