//! `Tensor`: a cheap handle (`Arc`) over shared storage plus a strided layout. Views share
//! storage; every op returns a new tensor and, when gradients are needed, records how it was
//! made (`Op`) so `backward` can walk the graph.
//!
//! The `impl Tensor` blocks are split by concern across this folder.

mod conv;
mod create;
mod display;
mod elementwise;
mod index;
mod matmul;
mod nn;
mod norm;
mod ops;
mod reduce;
mod view;

pub(crate) use conv::AvgPool;
pub use conv::{Conv1dOptions, Conv2dOptions, IntoPair};
pub use create::NdArray;
pub(crate) use elementwise::{sigmoid, Map3, FRAC_1_SQRT_2, GELU_TANH_COEF, SQRT_2_OVER_PI};

use crate::autograd::{self, Op};
use crate::layout::Layout;
use crate::storage::{CpuStorage, Storage, StorageElem};
use crate::{DType, Device, Error, Result, Shape};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

/// An n-dimensional array of f32, f64, i64 or bool on a device, with optional gradient
/// tracking. Cloning is cheap (it clones a handle, not the data).
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    storage: Arc<RwLock<Storage>>,
    layout: Layout,
    dtype: DType,
    device: Device,
    /// How this tensor was computed; `None` for leaves (user-created tensors, parameters).
    op: Option<Op>,
    /// For leaves: whether gradients accumulate into `grad`. Non-leaves with an `op` always
    /// need a gradient.
    requires_grad: AtomicBool,
    grad: Mutex<Option<Tensor>>,
}

/// Identity of a tensor node (stable while the tensor is alive).
pub(crate) type NodeId = usize;

impl Tensor {
    // ---- construction -------------------------------------------------------------------

    pub(crate) fn from_storage(storage: CpuStorage, shape: Shape) -> Tensor {
        debug_assert_eq!(storage.len(), shape.numel());
        let dtype = storage.dtype();
        Tensor(Arc::new(Inner {
            storage: Arc::new(RwLock::new(Storage::Cpu(storage))),
            layout: Layout::contiguous(shape),
            dtype,
            device: Device::Cpu,
            op: None,
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
        }))
    }

    pub(crate) fn from_vec_shape<T: StorageElem>(data: Vec<T>, shape: Shape) -> Tensor {
        Tensor::from_storage(T::into_storage(data), shape)
    }

    /// A new result tensor. `op` is recorded only when grad mode is on and some input needs a
    /// gradient, so inference pays nothing for autograd.
    pub(crate) fn from_op(
        storage: CpuStorage,
        shape: Shape,
        inputs: &[&Tensor],
        op: impl FnOnce() -> Op,
    ) -> Tensor {
        let mut t = Tensor::from_storage(storage, shape);
        if autograd::should_record(inputs) {
            Arc::get_mut(&mut t.0).expect("fresh tensor").op = Some(op());
        }
        t
    }

    /// A view sharing `self`'s storage with a new layout.
    pub(crate) fn view_op(&self, layout: Layout, op: impl FnOnce() -> Op) -> Tensor {
        let record = autograd::should_record(&[self]);
        Tensor(Arc::new(Inner {
            storage: self.0.storage.clone(),
            layout,
            dtype: self.0.dtype,
            device: self.0.device,
            op: record.then(op),
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
        }))
    }

    // ---- accessors ----------------------------------------------------------------------

    pub fn shape(&self) -> &Shape {
        self.0.layout.shape()
    }

    /// Sizes of the dimensions (`x.dims()[0]` is the batch size of a batch).
    pub fn dims(&self) -> &[usize] {
        self.0.layout.dims()
    }

    /// Size of one dimension (negative counts from the end).
    pub fn size<D: crate::Dim>(&self, dim: D) -> Result<usize> {
        Ok(self.dims()[dim.resolve("size", self.shape())?])
    }

    pub fn rank(&self) -> usize {
        self.shape().rank()
    }

    pub fn numel(&self) -> usize {
        self.shape().numel()
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub fn device(&self) -> Device {
        self.0.device
    }

    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    /// Strides in elements (0 for broadcast dims).
    pub fn stride(&self) -> &[usize] {
        self.0.layout.strides()
    }

    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    pub(crate) fn op(&self) -> Option<&Op> {
        self.0.op.as_ref()
    }

    pub(crate) fn id(&self) -> NodeId {
        Arc::as_ptr(&self.0) as NodeId
    }

    /// Whether two tensors share the same storage buffer (views of one another).
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    // ---- autograd flags -----------------------------------------------------------------

    /// Whether gradients flow to this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.op.is_some() || self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Leaves only: turn gradient tracking on or off (PyTorch's `requires_grad_`). Returns
    /// the same tensor, so `Tensor::randn(..).requires_grad_(true)` reads naturally.
    pub fn requires_grad_(self, on: bool) -> Result<Tensor> {
        self.set_requires_grad(on)?;
        Ok(self)
    }

    /// Leaves only: turn gradient tracking on or off in place (freezing a parameter).
    pub fn set_requires_grad(&self, on: bool) -> Result<()> {
        if self.0.op.is_some() {
            return Err(Error::Autograd(
                "requires_grad can only be changed on leaf tensors; use detach() for a \
                 non-leaf"
                    .into(),
            ));
        }
        if on && !self.dtype().is_float() {
            return Err(Error::Autograd(format!(
                "only floating-point tensors can require gradients, this one is {}",
                self.dtype()
            )));
        }
        self.0.requires_grad.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// True for tensors not produced by a recorded op.
    pub fn is_leaf(&self) -> bool {
        self.0.op.is_none()
    }

    /// The accumulated gradient of a leaf, after `backward`.
    pub fn grad(&self) -> Option<Tensor> {
        self.0
            .grad
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replace (or clear, with `None`) the stored gradient.
    pub fn set_grad(&self, grad: Option<Tensor>) {
        *self.0.grad.lock().unwrap_or_else(|e| e.into_inner()) = grad;
    }

    /// Clear the stored gradient (`zero_grad(set_to_none=True)`, PyTorch's default).
    pub fn zero_grad(&self) {
        self.set_grad(None);
    }

    pub(crate) fn accumulate_grad(&self, g: Tensor) -> Result<()> {
        let mut slot = self.0.grad.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(match slot.take() {
            None => g,
            Some(prev) => prev.add(&g)?,
        });
        Ok(())
    }

    /// A tensor sharing this one's data, cut off from the graph.
    pub fn detach(&self) -> Tensor {
        if self.is_leaf() && !self.requires_grad() {
            return self.clone();
        }
        Tensor(Arc::new(Inner {
            storage: self.0.storage.clone(),
            layout: self.0.layout.clone(),
            dtype: self.0.dtype,
            device: self.0.device,
            op: None,
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
        }))
    }

    // ---- storage access -----------------------------------------------------------------

    fn read_guard(&self) -> RwLockReadGuard<'_, Storage> {
        self.0.storage.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on this tensor's CPU buffer and layout.
    pub(crate) fn with_cpu<R>(&self, f: impl FnOnce(&CpuStorage, &Layout) -> R) -> R {
        let g = self.read_guard();
        f(g.cpu(), &self.0.layout)
    }

    /// Runs `f` on the buffers of several tensors. Each distinct buffer is locked once, so
    /// `x.mul(&x)` never takes the same lock twice.
    pub(crate) fn with_cpus<R>(ts: &[&Tensor], f: impl FnOnce(&[&CpuStorage]) -> R) -> R {
        let mut guards: SmallVec<[RwLockReadGuard<'_, Storage>; 4]> = SmallVec::new();
        let mut which: SmallVec<[usize; 4]> = SmallVec::new();
        for (i, t) in ts.iter().enumerate() {
            match ts[..i].iter().position(|u| u.shares_storage(t)) {
                Some(j) => which.push(which[j]),
                None => {
                    guards.push(t.read_guard());
                    which.push(guards.len() - 1);
                }
            }
        }
        let refs: SmallVec<[&CpuStorage; 4]> = which.iter().map(|&j| guards[j].cpu()).collect();
        f(&refs)
    }

    /// Mutates the buffer in place: for optimizers and initialisers updating parameters.
    /// The tensor must be contiguous; `f` receives exactly its elements. This bypasses
    /// autograd, like PyTorch's in-place updates under `no_grad`.
    pub fn update_<T: StorageElem>(&self, f: impl FnOnce(&mut [T])) -> Result<()> {
        let range = self.0.layout.contiguous_range().ok_or_else(|| {
            Error::invalid(
                "update_",
                "the tensor must be contiguous to be updated in place",
            )
        })?;
        let mut g = self.0.storage.write().unwrap_or_else(|e| e.into_inner());
        let data = g.cpu_mut().as_mut_slice::<T>("update_")?;
        f(&mut data[range]);
        Ok(())
    }

    /// Overwrites this tensor's elements with `src`'s (same shape and dtype), in place.
    pub fn copy_(&self, src: &Tensor) -> Result<()> {
        if src.shape() != self.shape() {
            return Err(Error::shape(
                "copy_",
                format!(
                    "source {} and destination {} differ",
                    src.shape(),
                    self.shape()
                ),
            ));
        }
        if src.dtype() != self.dtype() {
            return Err(Error::DTypeMismatch {
                op: "copy_",
                lhs: self.dtype(),
                rhs: src.dtype(),
            });
        }
        let values = src.contiguous_storage();
        match values {
            CpuStorage::F32(v) => self.update_(|d: &mut [f32]| d.copy_from_slice(&v)),
            CpuStorage::F64(v) => self.update_(|d: &mut [f64]| d.copy_from_slice(&v)),
            CpuStorage::I64(v) => self.update_(|d: &mut [i64]| d.copy_from_slice(&v)),
            CpuStorage::Bool(v) => self.update_(|d: &mut [bool]| d.copy_from_slice(&v)),
        }
    }

    /// The elements in row-major order as a fresh buffer.
    pub(crate) fn contiguous_storage(&self) -> CpuStorage {
        use crate::cpu::strided::to_contiguous;
        self.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => CpuStorage::F32(to_contiguous(v, l)),
            CpuStorage::F64(v) => CpuStorage::F64(to_contiguous(v, l)),
            CpuStorage::I64(v) => CpuStorage::I64(to_contiguous(v, l)),
            CpuStorage::Bool(v) => CpuStorage::Bool(to_contiguous(v, l)),
        })
    }

    pub(crate) fn check_same_device(&self, op: &'static str, other: &Tensor) -> Result<()> {
        if self.device() != other.device() {
            return Err(Error::Device {
                op,
                msg: format!(
                    "operands are on different devices ({} and {})",
                    self.device(),
                    other.device()
                ),
            });
        }
        Ok(())
    }

    pub(crate) fn check_same_dtype(&self, op: &'static str, other: &Tensor) -> Result<()> {
        self.check_same_device(op, other)?;
        if self.dtype() != other.dtype() {
            return Err(Error::DTypeMismatch {
                op,
                lhs: self.dtype(),
                rhs: other.dtype(),
            });
        }
        Ok(())
    }

    pub(crate) fn check_float(&self, op: &'static str) -> Result<()> {
        if !self.dtype().is_float() {
            return Err(Error::dtype(
                op,
                "a floating-point tensor (f32 or f64)",
                self.dtype(),
            ));
        }
        Ok(())
    }
}

impl Drop for Inner {
    /// Tears the graph behind this tensor down iteratively: the default recursive drop would
    /// overflow the stack on a long chain of ops (a deep network or a long unrolled loop).
    fn drop(&mut self) {
        let Some(op) = self.op.take() else { return };
        let mut pending = vec![op];
        while let Some(op) = pending.pop() {
            for input in op.into_inputs() {
                // Only a node this graph owns alone is taken apart here; shared nodes stay.
                if let Ok(mut inner) = Arc::try_unwrap(input.0) {
                    if let Some(op) = inner.op.take() {
                        pending.push(op);
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
