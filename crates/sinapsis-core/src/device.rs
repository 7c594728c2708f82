//! Where a tensor's storage lives. Only `storage.rs` matches on the device; nn, optim and data
//! only carry a `Device` around.

use crate::{Error, Result};
use std::fmt;

#[cfg(feature = "cuda")]
compile_error!(
    "the `cuda` feature is reserved for the CUDA backend, which this version does not \
     implement yet; build without `--features cuda`"
);

/// A CUDA device handle. Uninhabited until the CUDA backend lands, so a `Device::Cuda` value
/// cannot exist and no code path needs a run-time "not supported" branch.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum CudaDevice {}

/// A compute device.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
pub enum Device {
    #[default]
    Cpu,
    Cuda(CudaDevice),
}

impl Device {
    /// The CUDA device `ordinal`. This build has no CUDA backend, so this returns an error
    /// that says so.
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
    /// torch.cuda.is_available() else "cpu"`).
    pub fn cuda_if_available() -> Device {
        Device::cuda(0).unwrap_or(Device::Cpu)
    }

    /// Parse `"cpu"`, `"cuda"` or `"cuda:N"`, as in a config file.
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
