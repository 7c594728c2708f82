//! Matrix products with `torch.matmul` semantics.
//!
//! The 1-D cases are views (`unsqueeze` before, `squeeze` after) around one core op on
//! rank >= 2 operands, so autograd sees only `Op::Matmul` plus reshapes. The core op
//! broadcasts batch dims and hands every operand to gemm with its strides: transposed,
//! narrowed and expanded (stride-0) operands are never copied.

use super::Tensor;
use crate::autograd::Op;
use crate::cpu::matmul::{gemm, gemm_batched, GemmElem, MatRef};
use crate::layout::Layout;
use crate::shape::DimVec;
use crate::storage::CpuStorage;
use crate::{Error, Result, Shape};

impl Tensor {
    /// Matrix product of two tensors, exactly as `torch.matmul` (the `@` operator).
    ///
    /// # Shapes
    /// - `(k) @ (k)` -> `()`: dot product (a 0-d tensor).
    /// - `(m, k) @ (k, n)` -> `(m, n)`.
    /// - `(k) @ (*, k, n)` -> `(*, n)`: a 1 is prepended to the vector, then removed.
    /// - `(*, m, k) @ (k)` -> `(*, m)`: a 1 is appended to the vector, then removed.
    /// - `(*a, m, k) @ (*b, k, n)` -> `(*c, m, n)` where the batch dims `*a` and `*b`
    ///   broadcast to `*c` (e.g. `(5, 1, 3, 4) @ (2, 4, 3)` -> `(5, 2, 3, 3)`).
    ///
    /// Both operands must have at least one dim, the same float dtype (f32 or f64) and
    /// matching inner dimensions.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::from_vec(vec![1.0f32, 2., 3., 4.], (2, 2))?;
    /// let b = Tensor::from_vec(vec![5.0f32, 6., 7., 8.], (2, 2))?;
    /// assert_eq!(a.matmul(&b)?.to_vec::<f32>()?, vec![19.0, 22., 43., 50.]);
    ///
    /// // Vector cases and broadcast batch dims follow torch.matmul.
    /// let v = Tensor::from_vec(vec![1.0f32, 1.], 2)?;
    /// assert_eq!(a.matmul(&v)?.to_vec::<f32>()?, vec![3.0, 7.]);
    /// assert_eq!(v.matmul(&v)?.dims(), &[] as &[usize]);
    /// let x = Tensor::zeros((5, 1, 3, 4), DType::F32)?;
    /// let y = Tensor::zeros((2, 4, 3), DType::F32)?;
    /// assert_eq!(x.matmul(&y)?.dims(), &[5, 2, 3, 3]);
    ///
    /// // Mismatched shapes are an error that names both operands.
    /// let e = Tensor::zeros((64, 3), DType::F32)?.matmul(&Tensor::zeros((2, 10), DType::F32)?);
    /// assert_eq!(
    ///     e.unwrap_err().to_string(),
    ///     "matmul: (64x3) @ (2x10): inner dimensions 3 and 2 differ"
    /// );
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let (ra, rb) = (self.rank(), rhs.rank());
        if ra == 0 || rb == 0 {
            return Err(Error::shape(
                "matmul",
                format!(
                    "({}) @ ({}): both arguments need at least 1 dimension",
                    self.shape().compact(),
                    rhs.shape().compact()
                ),
            ));
        }
        self.check_same_dtype("matmul", rhs)?;
        self.check_float("matmul")?;
        let inner_a = self.dims()[ra - 1];
        let inner_b = rhs.dims()[if rb == 1 { 0 } else { rb - 2 }];
        if inner_a != inner_b {
            return Err(Error::shape(
                "matmul",
                format!(
                    "({}) @ ({}): inner dimensions {inner_a} and {inner_b} differ",
                    self.shape().compact(),
                    rhs.shape().compact()
                ),
            ));
        }
        // NOTE: the vector cases go through views so that the graph records them: the
        // backward of `Op::Matmul` then only ever sees rank >= 2 operands.
        match (ra, rb) {
            (1, 1) => self
                .unsqueeze(0)?
                .matmul_nd(&rhs.unsqueeze(1)?, self, rhs)?
                .reshape(()),
            (1, _) => self.unsqueeze(0)?.matmul_nd(rhs, self, rhs)?.squeeze(-2),
            (_, 1) => self.matmul_nd(&rhs.unsqueeze(1)?, self, rhs)?.squeeze(-1),
            _ => self.matmul_nd(rhs, self, rhs),
        }
    }

    /// Product of two 2-D matrices (`torch.mm`): no broadcasting, no vector cases.
    ///
    /// # Shapes
    /// `(m, k) @ (k, n)` -> `(m, n)`; any other rank is an error.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let a = Tensor::from_vec(vec![1.0f64, 2., 3., 4., 5., 6.], (2, 3))?;
    /// let b = Tensor::ones((3, 1), DType::F64)?;
    /// assert_eq!(a.mm(&b)?.to_vec::<f64>()?, vec![6.0, 15.]);
    /// assert!(a.mm(&Tensor::ones(3, DType::F64)?).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn mm(&self, rhs: &Tensor) -> Result<Tensor> {
        if self.rank() != 2 || rhs.rank() != 2 {
            return Err(Error::shape(
                "mm",
                format!(
                    "({}) @ ({}): both arguments must be 2-D matrices; use matmul for \
                     vectors and batches",
                    self.shape().compact(),
                    rhs.shape().compact()
                ),
            ));
        }
        self.matmul(rhs)
    }

    /// The core op: rank >= 2 operands with equal dtypes and inner dims (checked by
    /// `matmul`), batch dims broadcast. `orig_*` are the user's operands, for messages.
    fn matmul_nd(&self, rhs: &Tensor, orig_a: &Tensor, orig_b: &Tensor) -> Result<Tensor> {
        let (storage, shape) = self.matmul_storage(rhs, orig_a, orig_b)?;
        Ok(Tensor::from_op(storage, shape, &[self, rhs], || {
            Op::Matmul(self.clone(), rhs.clone())
        }))
    }

    /// The product's buffer and shape, unrecorded: `matmul_nd` without the graph node, for
    /// fused ops that record their own (`linear`).
    pub(super) fn matmul_storage(
        &self,
        rhs: &Tensor,
        orig_a: &Tensor,
        orig_b: &Tensor,
    ) -> Result<(CpuStorage, Shape)> {
        let (ra, rb) = (self.rank(), rhs.rank());
        let (m, k, n) = (self.dims()[ra - 2], self.dims()[ra - 1], rhs.dims()[rb - 1]);
        let batch_a = Shape::new(&self.dims()[..ra - 2]);
        let batch_b = Shape::new(&rhs.dims()[..rb - 2]);
        let batch = Shape::broadcast("matmul", &batch_a, &batch_b).map_err(|_| {
            Error::shape(
                "matmul",
                format!(
                    "({}) @ ({}): batch dimensions ({}) and ({}) cannot be broadcast together",
                    orig_a.shape().compact(),
                    orig_b.shape().compact(),
                    batch_a.compact(),
                    batch_b.compact()
                ),
            )
        })?;
        let plan = Plan::new(self.layout(), rhs.layout(), &batch, (m, k, n))?;
        let storage = Tensor::with_cpus(&[self, rhs], |ss| match (ss[0], ss[1]) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => CpuStorage::F32(plan.run(a, b)),
            (CpuStorage::F64(a), CpuStorage::F64(b)) => CpuStorage::F64(plan.run(a, b)),
            _ => unreachable!("matmul checked that both dtypes are the same float type"),
        });
        let mut out = batch.0;
        out.extend_from_slice(&[m, n]);
        Ok((storage, Shape(out)))
    }
}

/// `op(a) @ op(b)` for 2-D float operands of one dtype, where `op` transposes when its flag
/// is set, unrecorded: the products of `linear` and of its gradients (`x W^T`, `g W`,
/// `g^T x`). A transpose only swaps the strides handed to the kernel, so no view tensor is
/// made, and no batch plan: on a 2-10-1 network these were a tenth of each step.
pub(crate) fn mm_2d(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Result<Tensor> {
    let (storage, shape) = mm_2d_storage(a, ta, b, tb)?;
    Ok(Tensor::from_storage(storage, shape))
}

/// [`mm_2d`]'s buffer and shape, for `linear`, which adds its bias before recording.
pub(crate) fn mm_2d_storage(
    a: &Tensor,
    ta: bool,
    b: &Tensor,
    tb: bool,
) -> Result<(CpuStorage, Shape)> {
    debug_assert!(a.rank() == 2 && b.rank() == 2, "mm_2d: 2-D operands");
    a.check_same_dtype("matmul", b)?;
    a.check_float("matmul")?;
    // (rows, cols, row stride, col stride) of op(t).
    let view = |t: &Tensor, transposed: bool| {
        let (d, s) = (t.dims(), t.stride());
        if transposed {
            (d[1], d[0], s[1], s[0])
        } else {
            (d[0], d[1], s[0], s[1])
        }
    };
    let (m, k, ars, acs) = view(a, ta);
    let (kb, n, brs, bcs) = view(b, tb);
    if k != kb {
        return Err(Error::shape(
            "matmul",
            format!("({m}x{k}) @ ({kb}x{n}): inner dimensions {k} and {kb} differ"),
        ));
    }
    let (oa, ob) = (a.layout().offset(), b.layout().offset());
    let storage = Tensor::with_cpus(&[a, b], |ss| {
        fn run<T: GemmElem>(
            (m, k, n): (usize, usize, usize),
            (a, oa, ars, acs): (&[T], usize, usize, usize),
            (b, ob, brs, bcs): (&[T], usize, usize, usize),
        ) -> Vec<T> {
            let mat = |data, offset, row_stride, col_stride| MatRef {
                data,
                offset,
                row_stride,
                col_stride,
            };
            gemm(m, k, n, mat(a, oa, ars, acs), mat(b, ob, brs, bcs))
        }
        match (ss[0], ss[1]) {
            (CpuStorage::F32(x), CpuStorage::F32(y)) => {
                CpuStorage::F32(run((m, k, n), (x, oa, ars, acs), (y, ob, brs, bcs)))
            }
            (CpuStorage::F64(x), CpuStorage::F64(y)) => {
                CpuStorage::F64(run((m, k, n), (x, oa, ars, acs), (y, ob, brs, bcs)))
            }
            _ => unreachable!("checked: one float dtype"),
        }
    });
    Ok((storage, Shape::new(&[m, n])))
}

/// Where each operand's matrices live in storage: one strided matrix per operand, plus a
/// `(lhs, rhs)` offset pair per batch element when there is a batch.
struct Plan {
    /// Rows of the product; `m * batch` when the batch folds into the rows (see `new`).
    m: usize,
    k: usize,
    n: usize,
    lhs: (usize, usize, usize),
    rhs: (usize, usize, usize),
    /// `None`: a single product. Otherwise one offset pair (relative to the operands'
    /// layout offsets) per batch element, in row-major order of the batch shape.
    batch: Option<Vec<(usize, usize)>>,
}

impl Plan {
    fn new(
        la: &Layout,
        lb: &Layout,
        batch: &Shape,
        (m, k, n): (usize, usize, usize),
    ) -> Result<Plan> {
        let (sa, sb) = (la.strides(), lb.strides());
        let (ra, rb) = (sa.len(), sb.len());
        let lhs = (la.offset(), sa[ra - 2], sa[ra - 1]);
        let rhs = (lb.offset(), sb[rb - 2], sb[rb - 1]);
        let single = |m| Plan {
            m,
            k,
            n,
            lhs,
            rhs,
            batch: None,
        };
        if batch.numel() == 1 {
            return Ok(single(m));
        }
        // The batch part of each operand, broadcast to the common batch shape: stride 0
        // along broadcast dims, so a broadcast batch element reuses the same matrix.
        let batch_layout = |l: &Layout, r: usize| -> Result<Layout> {
            Layout::new(
                Shape::new(&l.dims()[..r - 2]),
                DimVec::from_slice(&l.strides()[..r - 2]),
                0,
            )
            .broadcast_to("matmul", batch)
        };
        let (ba, bb) = (batch_layout(la, ra)?, batch_layout(lb, rb)?);
        // NOTE: like torch, `(B.., m, k) @ (k, n)` with a rhs that does not vary over the
        // batch is one `(B*m, k) @ (k, n)` product when the lhs rows form one stride
        // progression (e.g. a contiguous lhs): one big gemm instead of B small ones.
        if bb.strides().iter().all(|&s| s == 0) {
            let mut dims: DimVec = ba.dims().into();
            let mut strides: DimVec = ba.strides().into();
            dims.push(m);
            strides.push(lhs.1);
            if let Some(row_stride) = merged_stride(&dims, &strides) {
                let mut plan = single(batch.numel() * m);
                plan.lhs.1 = row_stride;
                return Ok(plan);
            }
        }
        let offsets = batch_offsets(batch.dims(), ba.strides(), bb.strides());
        Ok(Plan {
            batch: Some(offsets),
            ..single(m)
        })
    }

    /// Runs the products on the operands' buffers, into a fresh row-major buffer.
    fn run<T: GemmElem>(&self, a: &[T], b: &[T]) -> Vec<T> {
        let mat = |data, (offset, row_stride, col_stride)| MatRef {
            data,
            offset,
            row_stride,
            col_stride,
        };
        let (lhs, rhs) = (mat(a, self.lhs), mat(b, self.rhs));
        match &self.batch {
            None => gemm(self.m, self.k, self.n, lhs, rhs),
            Some(offsets) => gemm_batched(self.m, self.k, self.n, lhs, rhs, offsets),
        }
    }
}

/// The stride of the single dim that `dims` (with `strides`) merge into, when the index
/// `sum_i idx_i * strides_i` is `row * stride` for the row-major flat index `row`; `None`
/// when the dims do not form one progression. Size-1 dims never matter.
fn merged_stride(dims: &[usize], strides: &[usize]) -> Option<usize> {
    let mut it = dims.iter().zip(strides).filter(|(&d, _)| d != 1).rev();
    let Some((&d0, &s0)) = it.next() else {
        return Some(0); // a single row: its stride is never used
    };
    let mut span = d0 * s0;
    for (&d, &s) in it {
        if s != span {
            return None;
        }
        span = d * s;
    }
    Some(s0)
}

/// The `(lhs, rhs)` storage offsets of every batch element, in row-major order of `batch`;
/// `sa` and `sb` are the operands' batch strides (0 along broadcast dims).
fn batch_offsets(batch: &[usize], sa: &[usize], sb: &[usize]) -> Vec<(usize, usize)> {
    let total: usize = batch.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut idx = DimVec::from_elem(0, batch.len());
    let (mut oa, mut ob) = (0, 0);
    for _ in 0..total {
        out.push((oa, ob));
        // Odometer step: bump the last dim, carrying into earlier ones.
        for d in (0..batch.len()).rev() {
            idx[d] += 1;
            oa += sa[d];
            ob += sb[d];
            if idx[d] < batch[d] {
                break;
            }
            oa -= sa[d] * batch[d];
            ob -= sb[d] * batch[d];
            idx[d] = 0;
        }
    }
    out
}
