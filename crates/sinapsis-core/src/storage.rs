//! Typed buffers. `Storage` is the one place that matches on the device.

use crate::{DType, Element, Error, Result};

/// Host memory of one dtype.
#[derive(Clone, Debug)]
pub enum CpuStorage {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

/// Device memory for the CUDA backend; uninhabited until that backend exists.
#[derive(Debug)]
pub enum CudaStorage {}

/// A tensor's buffer, on some device.
#[derive(Debug)]
pub(crate) enum Storage {
    Cpu(CpuStorage),
    #[allow(dead_code)] // constructed by the CUDA backend once it exists
    Cuda(CudaStorage),
}

impl Storage {
    pub(crate) fn cpu(&self) -> &CpuStorage {
        match self {
            Storage::Cpu(s) => s,
            Storage::Cuda(c) => match *c {},
        }
    }

    pub(crate) fn cpu_mut(&mut self) -> &mut CpuStorage {
        match self {
            Storage::Cpu(s) => s,
            Storage::Cuda(c) => match *c {},
        }
    }
}

/// NOTE: a tensor's buffer goes back to the buffer cache (`cpu::pool`) when the last tensor
/// using it drops, so the next tensor of that size reuses memory already mapped instead of
/// faulting in fresh pages. `Storage` is never moved out of (it lives behind the tensor's
/// `Arc<RwLock<_>>`), so this `Drop` takes nothing away from the code that matches on it.
impl Drop for Storage {
    fn drop(&mut self) {
        match self {
            Storage::Cpu(s) => s.recycle(),
            Storage::Cuda(c) => match *c {},
        }
    }
}

impl CpuStorage {
    /// Hands the buffer to the buffer cache, leaving `self` empty.
    pub(crate) fn recycle(&mut self) {
        use crate::cpu::pool::recycle;
        match self {
            CpuStorage::F32(v) => recycle(std::mem::take(v)),
            CpuStorage::F64(v) => recycle(std::mem::take(v)),
            CpuStorage::I64(v) => recycle(std::mem::take(v)),
            CpuStorage::Bool(v) => recycle(std::mem::take(v)),
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            CpuStorage::F32(_) => DType::F32,
            CpuStorage::F64(_) => DType::F64,
            CpuStorage::I64(_) => DType::I64,
            CpuStorage::Bool(_) => DType::Bool,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            CpuStorage::F32(v) => v.len(),
            CpuStorage::F64(v) => v.len(),
            CpuStorage::I64(v) => v.len(),
            CpuStorage::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer as a slice of `T`, or a dtype error naming `op`.
    pub fn as_slice<T: StorageElem>(&self, op: &'static str) -> Result<&[T]> {
        T::slice(self).ok_or(Error::dtype(op, T::DTYPE.as_str(), self.dtype()))
    }

    pub fn as_mut_slice<T: StorageElem>(&mut self, op: &'static str) -> Result<&mut [T]> {
        let dt = self.dtype();
        T::slice_mut(self).ok_or(Error::dtype(op, T::DTYPE.as_str(), dt))
    }
}

/// Moving between typed `Vec`s and `CpuStorage`.
pub trait StorageElem: Element {
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
    fn into_storage(v: Vec<Self>) -> CpuStorage;
}

macro_rules! storage_elem {
    ($t:ty, $variant:ident) => {
        impl StorageElem for $t {
            #[inline]
            fn slice(s: &CpuStorage) -> Option<&[Self]> {
                match s {
                    CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            #[inline]
            fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]> {
                match s {
                    CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            #[inline]
            fn into_storage(v: Vec<Self>) -> CpuStorage {
                CpuStorage::$variant(v)
            }
        }
    };
}
storage_elem!(f32, F32);
storage_elem!(f64, F64);
storage_elem!(i64, I64);
storage_elem!(bool, Bool);
