//! Where a tensor's storage lives. Only `storage.rs` matches on the device; nn, optim and data
//! only carry a `Device` around.

use crate::{Error, Result};
use std::fmt;

#[cfg(feature = "cuda")]
compile_error!(
    "the `cuda` feature is reserved for the CUDA backend, which this version does not \
     implement yet; build without `--features cuda`"
);

/// A CUDA device handle. Uninhabited until the CUDA backend lands, so a `Device::Cuda`
/// value cannot exist and no code path needs a run-time "not supported" branch.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum CudaDevice {}

/// A compute device (`torch.device`). Only [`Device::Cpu`] is usable in this build; it is
/// the default.
///
/// Prints as `cpu`, as PyTorch does.
///
/// ```
/// use sinapsis_core::Device;
/// assert_eq!(Device::default(), Device::Cpu);
/// assert_eq!(Device::Cpu.to_string(), "cpu");
/// assert!(Device::Cpu.is_cpu());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
pub enum Device {
    /// The host CPU.
    #[default]
    Cpu,
    /// A CUDA GPU; cannot be constructed in this build (see [`CudaDevice`]).
    Cuda(CudaDevice),
}

impl Device {
    /// The CUDA device `ordinal` (`torch.device("cuda:N")`).
    ///
    /// # Errors
    /// Always, in this build: there is no CUDA backend yet, and the error says so.
    ///
    /// ```
    /// use sinapsis_core::Device;
    /// let e = Device::cuda(0).unwrap_err();
    /// assert!(e.to_string().contains("no CUDA backend"));
    /// ```
    pub fn cuda(ordinal: usize) -> Result<Device> {
        Err(Error::Device {
            op: "Device::cuda",
            msg: format!(
                "cannot use cuda:{ordinal}: this build of sinapsis has no CUDA backend \
                 (use Device::Cpu)"
            ),
        })
    }

    /// `cuda:0` when a CUDA device is usable, the CPU otherwise (`"cuda" if
    /// torch.cuda.is_available() else "cpu"`); always the CPU in this build.
    ///
    /// ```
    /// use sinapsis_core::Device;
    /// assert_eq!(Device::cuda_if_available(), Device::Cpu);
    /// ```
    pub fn cuda_if_available() -> Device {
        Device::cuda(0).unwrap_or(Device::Cpu)
    }

    /// Parses `"cpu"`, `"cuda"` or `"cuda:N"`, as written in a config file; surrounding
    /// whitespace is ignored.
    ///
    /// # Errors
    /// If the string names no device, or names a CUDA device (unavailable in this build).
    ///
    /// ```
    /// use sinapsis_core::Device;
    /// assert_eq!(Device::parse(" cpu ")?, Device::Cpu);
    /// assert!(Device::parse("cuda:0").is_err()); // no CUDA backend in this build
    /// assert!(Device::parse("tpu").is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Device> {
        match s.trim() {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Device::cuda(0),
            other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Device::cuda(n),
                _ => Err(Error::Device {
                    op: "Device::parse",
                    msg: format!(
                        "unknown device {other:?} (expected \"cpu\", \"cuda\" or \"cuda:N\")"
                    ),
                }),
            },
        }
    }

    /// Whether this is the CPU.
    ///
    /// ```
    /// use sinapsis_core::Device;
    /// assert!(Device::Cpu.is_cpu());
    /// ```
    pub fn is_cpu(self) -> bool {
        matches!(self, Device::Cpu)
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(d) => match *d {},
        }
    }
}
