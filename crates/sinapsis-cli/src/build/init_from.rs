//! `[init] init_from`: loading a safetensors file (PyTorch names) into a freshly built and
//! initialised model, strictly, before training starts.

use std::path::{Path, PathBuf};

use sinapsis::checkpoint::load_safetensors;
use sinapsis::nn::ModuleExt;
use sinapsis::{Error, Result};

use crate::config::InitConfig;

/// The file `init.init_from` names, as a path. Like `data.path`, a relative path is taken
/// from the working directory (the experiment does not know where its TOML file lies, and
/// the resolved `config.toml` of a run must mean the same file when read back).
pub fn init_from_path(init: &InitConfig) -> Option<PathBuf> {
    init.init_from.as_deref().map(PathBuf::from)
}

/// Loads `init.init_from` (if set) into `model`, strictly: every missing and unexpected
/// key and every shape mismatch is reported in one error, and nothing is changed then.
/// Dtypes are cast to the model's. Returns the file loaded, if any.
///
/// # Errors
/// [`Error::Data`] naming the file, its message starting with `init.init_from:`, when the
/// file is missing or corrupt, or when its names or shapes do not fit the model.
///
/// ```
/// use sinapsis::nn::{Linear, ModuleExt};
/// use sinapsis_cli::build::init_from::apply_init_from;
/// use sinapsis_cli::config::InitConfig;
/// let model = Linear::new(2, 1)?;
/// let file = std::env::temp_dir().join(format!("init-from-doc-{}.safetensors", std::process::id()));
/// sinapsis::checkpoint::save_model(&model, &file)?;
/// let other = Linear::new(2, 1)?;
/// let init = InitConfig { init_from: Some(file.display().to_string()), ..Default::default() };
/// assert_eq!(apply_init_from(&other, &init)?, Some(file.clone()));
/// assert_eq!(other.state_dict()[0].1.to_vec::<f32>()?, model.state_dict()[0].1.to_vec::<f32>()?);
/// # std::fs::remove_file(&file).ok();
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn apply_init_from<M: ModuleExt + ?Sized>(
    model: &M,
    init: &InitConfig,
) -> Result<Option<PathBuf>> {
    let Some(path) = init_from_path(init) else {
        return Ok(None);
    };
    load_strict(model, &path)?;
    Ok(Some(path))
}

fn load_strict<M: ModuleExt + ?Sized>(model: &M, path: &Path) -> Result<()> {
    let err = |msg: String| Error::Data {
        path: path.display().to_string(),
        msg: format!("init.init_from: {msg}"),
    };
    if !path.is_file() {
        let what = if path.exists() {
            "is not a file"
        } else {
            "no such file"
        };
        return Err(err(format!(
            "{what} (a relative path is taken from the working directory)"
        )));
    }
    let state = load_safetensors(path).map_err(|e| match e {
        Error::Data { msg, .. } => err(msg),
        other => err(other.to_string()),
    })?;
    model.load_state_dict(&state, true).map_err(|e| match e {
        Error::InvalidArgument { msg, .. } => err(format!(
            "the file does not fit the model (strict load, PyTorch names such as `0.weight`):\n{msg}"
        )),
        other => err(other.to_string()),
    })
}
