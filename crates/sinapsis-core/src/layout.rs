//! A strided view over storage: shape, strides (in elements) and a start offset.
//! Views (reshape, transpose, narrow, expand) build a new `Layout` and share the storage.

use crate::shape::{DimVec, Shape};
use crate::{Error, Result};

/// How a tensor's elements sit in its storage: shape, strides (in elements) and the offset
/// of the first element. Element `[i, j, ..]` lives at `offset + i * strides[0] + j *
/// strides[1] + ..`.
///
/// Views change only the layout: a transpose swaps strides, a narrow moves the offset, an
/// expand sets a stride to 0. Read a tensor's layout with
/// [`Tensor::layout`](crate::Tensor::layout).
///
/// ```
/// use sinapsis_core::{Tensor, DType, Layout, Shape};
/// let x = Tensor::zeros((2, 3), DType::F32)?;
/// let l = x.t()?.layout().clone();
/// assert_eq!((l.dims(), l.strides(), l.offset()), (&[3usize, 2][..], &[1usize, 3][..], 0));
/// assert!(!l.is_contiguous());
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    shape: Shape,
    /// Stride 0 marks a broadcast (expanded) dimension.
    strides: DimVec,
    offset: usize,
}

impl Layout {
    /// The row-major layout of `shape`, starting at offset 0.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// let l = Layout::contiguous(Shape::from((2, 3)));
    /// assert_eq!(l.strides(), &[3, 1]);
    /// assert!(l.is_contiguous());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn contiguous(shape: Shape) -> Layout {
        let strides = shape.contiguous_strides();
        Layout {
            shape,
            strides,
            offset: 0,
        }
    }

    pub(crate) fn new(shape: Shape, strides: DimVec, offset: usize) -> Layout {
        debug_assert_eq!(shape.rank(), strides.len());
        Layout {
            shape,
            strides,
            offset,
        }
    }

    /// The shape.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// let x = Tensor::zeros((2, 3), DType::F32)?;
    /// assert_eq!(x.layout().shape(), &Shape::from((2, 3)));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The sizes of the dims.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// assert_eq!(Layout::contiguous(Shape::from((2, 3))).dims(), &[2, 3]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The step, in elements, between neighbours along each dim; 0 for a broadcast dim.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// let x = Tensor::zeros(3, DType::F32)?.expand((2, 3))?;
    /// assert_eq!(x.layout().strides(), &[0, 1]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// The storage index of the first element.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// let x = Tensor::zeros((4, 3), DType::F32)?;
    /// assert_eq!(x.narrow(0, 2, 1)?.layout().offset(), 6);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The number of elements the layout addresses.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// assert_eq!(Layout::contiguous(Shape::from((2, 3))).numel(), 6);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Whether the elements are row-major with no gaps (size-1 dims may have any stride); the
    /// offset may be nonzero.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// let x = Tensor::zeros((4, 3), DType::F32)?;
    /// assert!(x.narrow(0, 1, 2)?.layout().is_contiguous()); // a block of rows
    /// assert!(!x.narrow(1, 0, 2)?.layout().is_contiguous()); // gaps between rows
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn is_contiguous(&self) -> bool {
        let mut acc = 1;
        for (&d, &s) in self.shape.dims().iter().zip(self.strides.iter()).rev() {
            if d != 1 && s != acc {
                return false;
            }
            acc *= d;
        }
        true
    }

    /// The range of storage indices holding the elements, in order, when the layout is
    /// contiguous; `None` otherwise.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// let x = Tensor::zeros((4, 3), DType::F32)?;
    /// assert_eq!(x.narrow(0, 1, 2)?.layout().contiguous_range(), Some(3..9));
    /// assert_eq!(x.t()?.layout().contiguous_range(), None);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn contiguous_range(&self) -> Option<std::ops::Range<usize>> {
        self.is_contiguous()
            .then(|| self.offset..self.offset + self.numel())
    }

    /// One past the largest storage index the layout touches (0 when it has no elements): the
    /// storage length a view needs.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType, Layout, Shape};
    /// let x = Tensor::zeros((4, 3), DType::F32)?;
    /// assert_eq!(x.layout().storage_extent(), 12);
    /// assert_eq!(x.narrow(0, 0, 2)?.layout().storage_extent(), 6);
    /// assert_eq!(x.narrow(1, 0, 2)?.layout().storage_extent(), 11);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn storage_extent(&self) -> usize {
        if self.numel() == 0 {
            return 0;
        }
        self.offset
            + self
                .shape
                .dims()
                .iter()
                .zip(self.strides.iter())
                .map(|(&d, &s)| (d - 1) * s)
                .sum::<usize>()
            + 1
    }

    pub(crate) fn permute(&self, perm: &[usize]) -> Layout {
        let shape = Shape(perm.iter().map(|&p| self.shape.0[p]).collect());
        let strides = perm.iter().map(|&p| self.strides[p]).collect();
        Layout::new(shape, strides, self.offset)
    }

    pub(crate) fn narrow(&self, dim: usize, start: usize, len: usize) -> Layout {
        let mut shape = self.shape.clone();
        shape.0[dim] = len;
        Layout::new(
            shape,
            self.strides.clone(),
            self.offset + start * self.strides[dim],
        )
    }

    /// Broadcast to `target` (same rank or more), giving stride 0 to new and size-1 dims.
    pub(crate) fn broadcast_to(&self, op: &'static str, target: &Shape) -> Result<Layout> {
        let rank = target.rank();
        if rank < self.shape.rank() {
            return Err(Error::shape(
                op,
                format!("cannot expand {} to {}: fewer dims", self.shape, target),
            ));
        }
        let lead = rank - self.shape.rank();
        let mut strides = DimVec::from_elem(0, rank);
        for i in 0..rank {
            let t = target.0[i];
            if i < lead {
                continue;
            }
            let d = self.shape.0[i - lead];
            if d == t {
                strides[i] = self.strides[i - lead];
            } else if d != 1 {
                return Err(Error::shape(
                    op,
                    format!(
                        "cannot expand {} to {}: dim {} has size {d}, expected 1 or {t}",
                        self.shape,
                        target,
                        i - lead
                    ),
                ));
            }
        }
        Ok(Layout::new(target.clone(), strides, self.offset))
    }

    /// A view with a new shape over the same elements, without copying, when the strides
    /// allow it (PyTorch's `view` rule); `None` when a copy is needed.
    pub(crate) fn reshape(&self, target: &Shape) -> Option<Layout> {
        if self.is_contiguous() {
            return Some(Layout::new(
                target.clone(),
                target.contiguous_strides(),
                self.offset,
            ));
        }
        // Group the old dims into contiguous chunks; each chunk can be re-split freely.
        let old: Vec<(usize, usize)> = self
            .shape
            .dims()
            .iter()
            .zip(self.strides.iter())
            .filter(|(&d, _)| d != 1)
            .map(|(&d, &s)| (d, s))
            .collect();
        let mut new_strides = DimVec::from_elem(0, target.rank());
        let mut oi = 0;
        let mut ti = 0;
        let tdims = target.dims();
        while ti < tdims.len() {
            if tdims[ti] == 1 {
                new_strides[ti] = 1;
                ti += 1;
                continue;
            }
            if oi >= old.len() {
                return None;
            }
            // Collect one chunk of old dims that are mutually contiguous.
            let mut chunk_end = oi;
            let mut chunk_numel = old[oi].0;
            while chunk_end + 1 < old.len()
                && old[chunk_end].1 == old[chunk_end + 1].1 * old[chunk_end + 1].0
            {
                chunk_end += 1;
                chunk_numel *= old[chunk_end].0;
            }
            let inner_stride = old[chunk_end].1;
            // Target dims must tile the chunk exactly.
            let mut acc = 1;
            let start_ti = ti;
            while ti < tdims.len() && acc < chunk_numel {
                acc *= tdims[ti];
                ti += 1;
            }
            if acc != chunk_numel {
                return None;
            }
            let mut s = inner_stride;
            for k in (start_ti..ti).rev() {
                new_strides[k] = s;
                s *= tdims[k];
            }
            oi = chunk_end + 1;
        }
        if oi != old.len() {
            return None;
        }
        Some(Layout::new(target.clone(), new_strides, self.offset))
    }
}
