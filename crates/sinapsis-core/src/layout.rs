//! A strided view over storage: shape, strides (in elements) and a start offset.
//! Views (reshape, transpose, narrow, expand) build a new `Layout` and share the storage.

use crate::shape::{DimVec, Shape};
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    shape: Shape,
    /// Stride 0 marks a broadcast (expanded) dimension.
    strides: DimVec,
    offset: usize,
}

impl Layout {
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

    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Row-major with no gaps (size-1 dims may have any stride).
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

    /// The contiguous range of storage this layout covers, when it is contiguous.
    pub fn contiguous_range(&self) -> Option<std::ops::Range<usize>> {
        self.is_contiguous()
            .then(|| self.offset..self.offset + self.numel())
    }

    /// One past the largest storage index this layout touches (0 when empty).
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
