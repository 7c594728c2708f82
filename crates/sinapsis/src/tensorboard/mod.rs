//! TensorBoard event files (`torch.utils.tensorboard.SummaryWriter`): scalars and text that
//! `tensorboard --logdir runs` plots live during training.
//!
//! An event file is a sequence of TFRecord records (`record.rs`), each holding one protobuf
//! `Event` (`protobuf.rs`). Only the few messages needed for scalars and text are encoded, by
//! hand, so no protobuf dependency is needed:
//!
//! ```text
//! Event   { double wall_time = 1; int64 step = 2;
//!           oneof what { string file_version = 3; Summary summary = 5; } }
//! Summary { repeated Value value = 1; }
//! Value   { string tag = 1; float simple_value = 2;
//!           SummaryMetadata metadata = 9; TensorProto tensor = 8; }
//! ```

mod protobuf;
mod record;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use record::masked_crc32c;

use crate::{Error, Result};
use protobuf::Message;

/// Distinguishes writers created by one process in the same second, like PyTorch's
/// `global_uid` suffix.
static WRITER_COUNT: AtomicU64 = AtomicU64::new(0);

/// TensorFlow's `DT_STRING` in `TensorProto.dtype`.
const DT_STRING: i64 = 7;

/// Writes TensorBoard event files, as PyTorch's `SummaryWriter`.
///
/// ```
/// use sinapsis::tensorboard::SummaryWriter;
/// # fn main() -> sinapsis::Result<()> {
/// let dir = std::env::temp_dir().join(format!("sinapsis-doc-tb-{}", std::process::id()));
/// let mut writer = SummaryWriter::new(&dir)?;
/// for step in 0..3 {
///     writer.add_scalar("loss/train", 1.0 / (step + 1) as f64, step)?;
/// }
/// writer.add_scalars("loss", &[("train", 0.3), ("val", 0.4)], 3)?;
/// writer.flush()?;
/// assert!(writer.path().file_name().unwrap().to_str().unwrap().starts_with("events.out.tfevents."));
/// # drop(writer);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok(()) }
/// ```
pub struct SummaryWriter {
    log_dir: PathBuf,
    path: PathBuf,
    out: BufWriter<File>,
}

impl std::fmt::Debug for SummaryWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SummaryWriter")
            .field("path", &self.path)
            .finish()
    }
}

/// Seconds since the Unix epoch, with a fractional part.
fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The machine's name for the file name (PyTorch uses `socket.gethostname()`), keeping only
/// characters that are safe in a file name; `"sinapsis"` when it cannot be read.
fn hostname() -> String {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if name.is_empty() {
        "sinapsis".into()
    } else {
        name
    }
}

impl SummaryWriter {
    /// Creates `log_dir` (and its parents) and a new event file in it named
    /// `events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n>` (`n` counts the writers this
    /// process has opened), starting with the `brain.Event:2` version record.
    ///
    /// # Errors
    /// [`Error::Data`] naming the folder or file when it cannot be created or written.
    pub fn new(log_dir: impl AsRef<Path>) -> Result<SummaryWriter> {
        let log_dir = log_dir.as_ref().to_path_buf();
        fs::create_dir_all(&log_dir).map_err(|e| Error::Data {
            path: log_dir.display().to_string(),
            msg: format!("cannot create the log folder: {e}"),
        })?;
        let now = wall_time();
        let name = format!(
            "events.out.tfevents.{}.{}.{}.{}",
            now as u64,
            hostname(),
            std::process::id(),
            WRITER_COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let path = log_dir.join(name);
        let file = File::create(&path).map_err(|e| Error::Data {
            path: path.display().to_string(),
            msg: format!("cannot create the event file: {e}"),
        })?;
        let mut writer = SummaryWriter {
            log_dir,
            path,
            out: BufWriter::new(file),
        };
        let mut event = Message::new();
        event.double(1, now).string(3, "brain.Event:2");
        writer.write_event(event)?;
        writer.flush()?;
        Ok(writer)
    }

    /// The folder given to [`SummaryWriter::new`].
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// The event file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(&self, action: &str, e: std::io::Error) -> Error {
        Error::Data {
            path: self.path.display().to_string(),
            msg: format!("cannot {action} the event file: {e}"),
        }
    }

    fn write_event(&mut self, event: Message) -> Result<()> {
        let bytes = event.into_bytes();
        record::write_record(&mut self.out, &bytes).map_err(|e| self.io_error("write", e))
    }

    /// Writes one `Event` at `step` whose summary holds `values`.
    fn write_summary(&mut self, step: u64, values: Vec<Message>) -> Result<()> {
        let mut summary = Message::new();
        for v in values {
            summary.message(1, v);
        }
        let mut event = Message::new();
        // NOTE: steps beyond i64::MAX cannot be represented in the int64 field; saturate.
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        event
            .double(1, wall_time())
            .int64(2, step)
            .message(5, summary);
        self.write_event(event)
    }

    fn scalar_value(tag: &str, value: f64) -> Message {
        let mut v = Message::new();
        // NOTE: TensorBoard's `simple_value` is a float32, as in PyTorch.
        v.string(1, tag).float(2, value as f32);
        v
    }

    /// Records `value` under `tag` at `step` (`writer.add_scalar(tag, value, step)`); group
    /// curves with slashes (`"loss/train"`). The value is stored as f32.
    ///
    /// # Errors
    /// [`Error::Data`] when the file cannot be written.
    pub fn add_scalar(&mut self, tag: &str, value: f64, step: u64) -> Result<()> {
        self.write_summary(step, vec![Self::scalar_value(tag, value)])
    }

    /// Records several related scalars at `step`, each under the tag `main_tag/name`, so
    /// TensorBoard shows them in one section (`add_scalars("loss", &[("train", a), ("val",
    /// b)], step)`).
    ///
    /// NOTE: PyTorch's `add_scalars` writes each curve to its own sub-folder
    /// (`log_dir/loss_train/`) under the single tag `main_tag`, which draws them on one chart
    /// but multiplies event files; here they share this writer's file, one tag per curve.
    ///
    /// # Errors
    /// [`Error::Data`] when the file cannot be written.
    pub fn add_scalars(&mut self, main_tag: &str, values: &[(&str, f64)], step: u64) -> Result<()> {
        let values = values
            .iter()
            .map(|(name, v)| Self::scalar_value(&format!("{main_tag}/{name}"), *v))
            .collect();
        self.write_summary(step, values)
    }

    /// Records a text (Markdown) note at `step`, shown in TensorBoard's Text tab under
    /// `tag/text_summary`, as PyTorch's `add_text` writes it.
    ///
    /// # Errors
    /// [`Error::Data`] when the file cannot be written.
    pub fn add_text(&mut self, tag: &str, text: &str, step: u64) -> Result<()> {
        let mut plugin = Message::new();
        plugin.string(1, "text"); // PluginData.plugin_name
        let mut metadata = Message::new();
        metadata.message(1, plugin); // SummaryMetadata.plugin_data
        let mut dim = Message::new();
        dim.int64(1, 1); // TensorShapeProto.Dim.size
        let mut shape = Message::new();
        shape.message(2, dim); // TensorShapeProto.dim
        let mut tensor = Message::new();
        tensor
            .int64(1, DT_STRING) // TensorProto.dtype
            .message(2, shape) // TensorProto.tensor_shape
            .bytes(8, text.as_bytes()); // TensorProto.string_val
        let mut value = Message::new();
        value
            .string(1, &format!("{tag}/text_summary"))
            .message(9, metadata)
            .message(8, tensor);
        self.write_summary(step, vec![value])
    }

    /// Hands buffered events to the operating system, so a running TensorBoard sees them.
    ///
    /// # Errors
    /// [`Error::Data`] when the file cannot be written.
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| self.io_error("flush", e))
    }
}

impl Drop for SummaryWriter {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; call `flush` to see them.
        let _ = self.out.flush();
    }
}
