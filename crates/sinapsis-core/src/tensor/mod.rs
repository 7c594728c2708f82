//! `Tensor`: a cheap handle (`Arc`) over shared storage plus a strided layout. Views share
//! storage; every op returns a new tensor and, when gradients are needed, records how it was
//! made (`Op`) so `backward` can walk the graph.
//!
//! The `impl Tensor` blocks are split by concern across this folder.

mod conv;
mod create;
mod cross_entropy;
mod display;
mod elementwise;
mod index;
mod linear;
mod matmul;
mod nn;
mod norm;
mod ops;
mod reduce;
mod view;

pub(crate) use conv::AvgPool;
pub use conv::{Conv1dOptions, Conv2dOptions, IntoPair};
pub use create::NdArray;
pub(crate) use cross_entropy::cross_entropy_rows_backward;
pub(crate) use elementwise::{sigmoid, Map3, FRAC_1_SQRT_2, GELU_TANH_COEF, SQRT_2_OVER_PI};
pub(crate) use linear::linear_backward;

use crate::autograd::{self, Op};
use crate::layout::Layout;
use crate::storage::{CpuStorage, Storage, StorageElem};
use crate::{DType, Device, Error, Result, Shape};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

/// An n-dimensional array of f32, f64, i64 or bool on a device, with optional gradient
/// tracking (PyTorch's `torch.Tensor`).
///
/// Cloning is cheap: it clones a handle, not the data (PyTorch's `clone` is
/// [`Tensor::copy`]). Tensors are immutable apart from the explicit in-place updates
/// [`Tensor::update_`] and [`Tensor::copy_`]; views ([`Tensor::reshape`],
/// [`Tensor::transpose`], [`Tensor::narrow`], [`Tensor::expand`], ...) share storage with
/// their source. Every op returns a `Result`, since shapes, dtypes and dims can be wrong.
///
/// ```
/// use sinapsis_core::{Tensor, DType};
/// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
/// let w = Tensor::ones((2, 2), DType::F32)?.requires_grad_(true)?;
/// let y = (&x * &w)?.sum_all()?; // operators return Result too
/// y.backward()?;
/// assert_eq!(y.item::<f32>()?, 10.0);
/// assert_eq!(w.grad().unwrap().to_vec::<f32>()?, vec![1.0, 2.0, 3.0, 4.0]);
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
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

    /// The shape (`Tensor.shape`).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// assert_eq!(x.shape().dims(), &[2, 3]);
    /// assert_eq!(x.shape().to_string(), "(2x3)");
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn shape(&self) -> &Shape {
        self.0.layout.shape()
    }

    /// The sizes of the dimensions as a slice (`x.dims()[0]` is the batch size of a batch).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((4, 3), DType::F32)?;
    /// assert_eq!(x.dims(), &[4, 3]);
    /// assert_eq!(Tensor::scalar(1.0f32).dims(), &[] as &[usize]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn dims(&self) -> &[usize] {
        self.0.layout.dims()
    }

    /// The size of one dimension (`Tensor.size(dim)`); negative counts from the end.
    ///
    /// # Errors
    /// If `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((4, 3), DType::F32)?;
    /// assert_eq!(x.size(0)?, 4);
    /// assert_eq!(x.size(-1)?, 3);
    /// assert!(x.size(2).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn size<D: crate::Dim>(&self, dim: D) -> Result<usize> {
        Ok(self.dims()[dim.resolve("size", self.shape())?])
    }

    /// The number of dimensions (`Tensor.dim()` / `ndim`); 0 for a scalar.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// assert_eq!(Tensor::zeros((4, 3), DType::F32)?.rank(), 2);
    /// assert_eq!(Tensor::scalar(1i64).rank(), 0);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn rank(&self) -> usize {
        self.shape().rank()
    }

    /// The number of elements (`Tensor.numel()`): the product of the dims, 1 for a scalar.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// assert_eq!(Tensor::zeros((4, 3), DType::F32)?.numel(), 12);
    /// assert_eq!(Tensor::zeros((4, 0), DType::F32)?.numel(), 0);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn numel(&self) -> usize {
        self.shape().numel()
    }

    /// The element type (`Tensor.dtype`).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// assert_eq!(Tensor::new(&[1i64])?.dtype(), DType::I64);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// The device holding the data (`Tensor.device`); always the CPU in this build.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// use sinapsis_core::Device;
    /// assert_eq!(Tensor::zeros(2, DType::F32)?.device(), Device::Cpu);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn device(&self) -> Device {
        self.0.device
    }

    /// The strided layout over the storage: shape, strides and offset.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// let row = x.narrow(0, 1, 1)?;
    /// assert_eq!(row.layout().offset(), 3);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    /// The strides, in elements (`Tensor.stride()`); 0 for broadcast (expanded) dims.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// assert_eq!(x.stride(), &[3, 1]);
    /// assert_eq!(x.t()?.stride(), &[1, 3]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn stride(&self) -> &[usize] {
        self.0.layout.strides()
    }

    /// Whether the elements are laid out row-major without gaps (`Tensor.is_contiguous()`);
    /// size-1 dims may have any stride.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// assert!(x.is_contiguous());
    /// assert!(!x.t()?.is_contiguous());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    pub(crate) fn op(&self) -> Option<&Op> {
        self.0.op.as_ref()
    }

    pub(crate) fn id(&self) -> NodeId {
        Arc::as_ptr(&self.0) as NodeId
    }

    /// Whether two tensors share one storage buffer, i.e. one is a view of the other (or both
    /// are views of a third).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// assert!(x.reshape(6)?.shares_storage(&x));
    /// assert!(!x.copy()?.shares_storage(&x));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    // ---- autograd flags -----------------------------------------------------------------

    /// Whether gradients flow to this tensor (`Tensor.requires_grad`): true for leaves marked
    /// with [`Tensor::requires_grad_`] and for every result recorded from them.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::ones(2, DType::F32)?.requires_grad_(true)?;
    /// let y = w.mul_scalar(2.0)?;
    /// assert!(w.requires_grad() && y.requires_grad());
    /// {
    ///     let _guard = sinapsis_core::no_grad();
    ///     assert!(!w.mul_scalar(2.0)?.requires_grad()); // nothing recorded under no_grad
    /// }
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn requires_grad(&self) -> bool {
        self.0.op.is_some() || self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Turns gradient tracking on or off for a leaf (`Tensor.requires_grad_`) and returns the
    /// same tensor, so `Tensor::randn(..)?.requires_grad_(true)?` reads naturally.
    ///
    /// # Errors
    /// If the tensor is not a leaf (use [`Tensor::detach`] first), or tracking is turned on for
    /// an i64 or bool tensor.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::zeros(3, DType::F32)?.requires_grad_(true)?;
    /// assert!(w.requires_grad() && w.is_leaf());
    /// assert!(w.mul_scalar(2.0)?.requires_grad_(false).is_err()); // not a leaf
    /// assert!(Tensor::zeros(3, DType::I64)?.requires_grad_(true).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn requires_grad_(self, on: bool) -> Result<Tensor> {
        self.set_requires_grad(on)?;
        Ok(self)
    }

    /// Turns gradient tracking on or off for a leaf, in place, e.g. to freeze a parameter.
    ///
    /// # Errors
    /// As [`Tensor::requires_grad_`].
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::zeros(3, DType::F32)?.requires_grad_(true)?;
    /// w.set_requires_grad(false)?; // frozen
    /// assert!(!w.requires_grad());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Whether this tensor was not produced by a recorded op (`Tensor.is_leaf`): user-created
    /// tensors, parameters, detached tensors and anything computed under `no_grad`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::zeros(2, DType::F32)?.requires_grad_(true)?;
    /// assert!(w.is_leaf());
    /// assert!(!w.exp()?.is_leaf());
    /// assert!(w.exp()?.detach().is_leaf());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn is_leaf(&self) -> bool {
        self.0.op.is_none()
    }

    /// The gradient accumulated by [`Tensor::backward`] (`Tensor.grad`), if any.
    ///
    /// Only leaves that require a gradient receive one; intermediate results' gradients are
    /// freed during the backward pass (there is no `retain_grad`). The gradient has the
    /// tensor's shape and dtype and is contiguous.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::new(&[1.0f32, 2.0])?.requires_grad_(true)?;
    /// assert!(w.grad().is_none());
    /// w.square()?.sum_all()?.backward()?;
    /// assert_eq!(w.grad().unwrap().to_vec::<f32>()?, vec![2.0, 4.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn grad(&self) -> Option<Tensor> {
        self.0
            .grad
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the stored gradient, or clears it with `None` (assigning `Tensor.grad`).
    ///
    /// No check is made that the gradient's shape or dtype match: optimizers and clipping
    /// utilities that call this are trusted to keep them.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::zeros(2, DType::F32)?.requires_grad_(true)?;
    /// w.set_grad(Some(Tensor::ones(2, DType::F32)?));
    /// assert_eq!(w.grad().unwrap().to_vec::<f32>()?, vec![1.0, 1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn set_grad(&self, grad: Option<Tensor>) {
        *self.0.grad.lock().unwrap_or_else(|e| e.into_inner()) = grad;
    }

    /// Clears the stored gradient, like `zero_grad(set_to_none=True)` (PyTorch's default);
    /// call it between steps, since backward adds into the existing gradient.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::ones(2, DType::F32)?.requires_grad_(true)?;
    /// w.sum_all()?.backward()?;
    /// w.sum_all()?.backward()?;
    /// assert_eq!(w.grad().unwrap().to_vec::<f32>()?, vec![2.0, 2.0]); // accumulated
    /// w.zero_grad();
    /// assert!(w.grad().is_none());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// A tensor sharing this one's data but cut off from the graph (`Tensor.detach`): a leaf
    /// that does not require a gradient. No copy is made.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::ones(2, DType::F32)?.requires_grad_(true)?;
    /// let y = w.exp()?;
    /// let d = y.detach();
    /// assert!(!d.requires_grad() && d.is_leaf());
    /// assert!(d.shares_storage(&y));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Mutates the elements in place through a closure: for optimizers and initialisers
    /// updating parameters. Bypasses autograd, like PyTorch's in-place updates under `no_grad`.
    ///
    /// `f` receives exactly this tensor's elements in row-major order. The change is visible
    /// through every view sharing the storage, and, as there is no version counter, also to any
    /// recorded graph that saved the tensor: update only after `backward`.
    /// NOTE: `f` runs with the storage locked for writing, so it must not read this tensor or
    /// any view of it (that would deadlock).
    ///
    /// # Errors
    /// If the tensor is not contiguous (e.g. transposed or expanded; a narrowed block of rows
    /// is fine), or `T` does not match the dtype.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let w = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// w.update_(|v: &mut [f32]| v.iter_mut().for_each(|x| *x *= 10.0))?;
    /// assert_eq!(w.to_vec::<f32>()?, vec![10.0, 20.0, 30.0, 40.0]);
    /// // A view of the second row writes into the same storage.
    /// w.narrow(0, 1, 1)?.update_(|v: &mut [f32]| v.fill(0.0))?;
    /// assert_eq!(w.to_vec::<f32>()?, vec![10.0, 20.0, 0.0, 0.0]);
    /// assert!(w.t()?.update_(|_: &mut [f32]| {}).is_err()); // not contiguous
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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

    /// Runs `f` on this tensor's elements (row-major) without copying them: for optimizers
    /// reading a gradient while they update a parameter. The tensor must be contiguous and
    /// of element type `T`.
    ///
    /// NOTE: this takes a read lock on the storage; calling it inside [`Tensor::update_`] on
    /// a tensor that shares the storage being updated would deadlock. Check
    /// [`Tensor::shares_storage`] first (or copy).
    ///
    /// # Errors
    /// If the tensor is not contiguous, or `T` does not match the dtype.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let g = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// let total: f32 = g.with_slice(|v: &[f32]| v.iter().sum())?;
    /// assert_eq!(total, 10.0);
    /// assert!(g.t()?.with_slice(|_: &[f32]| ()).is_err()); // not contiguous
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn with_slice<T: StorageElem, R>(&self, f: impl FnOnce(&[T]) -> R) -> Result<R> {
        let range = self.0.layout.contiguous_range().ok_or_else(|| {
            Error::invalid(
                "with_slice",
                "the tensor must be contiguous to be read as a slice",
            )
        })?;
        let g = self.read_guard();
        let data = g.cpu().as_slice::<T>("with_slice")?;
        Ok(f(&data[range]))
    }

    /// Overwrites this tensor's elements with `src`'s, in place (`Tensor.copy_`, without
    /// autograd); `src` may have any layout.
    ///
    /// Unlike PyTorch, `src` is not broadcast and not converted: its shape and dtype must match.
    ///
    /// # Errors
    /// If the shapes or dtypes differ, or `self` is not contiguous.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let dst = Tensor::zeros((2, 2), DType::F32)?;
    /// let src = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// dst.copy_(&src.t()?)?;
    /// assert_eq!(dst.to_vec::<f32>()?, vec![1.0, 3.0, 2.0, 4.0]);
    /// assert!(dst.copy_(&Tensor::zeros(4, DType::F32)?).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
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
        let mut values = src.contiguous_storage();
        let done = match &values {
            CpuStorage::F32(v) => self.update_(|d: &mut [f32]| d.copy_from_slice(v)),
            CpuStorage::F64(v) => self.update_(|d: &mut [f64]| d.copy_from_slice(v)),
            CpuStorage::I64(v) => self.update_(|d: &mut [i64]| d.copy_from_slice(v)),
            CpuStorage::Bool(v) => self.update_(|d: &mut [bool]| d.copy_from_slice(v)),
        };
        values.recycle(); // the temporary copy goes back to the buffer cache
        done
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
