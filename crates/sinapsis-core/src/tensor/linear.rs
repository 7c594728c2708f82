//! Linear layers: `x W^T + b` as one fused op, optionally followed by ReLU, and its
//! backward.

use super::matmul::{mm_2d, mm_2d_storage};
use super::Tensor;
use crate::autograd::{GradHint, Op};
use crate::cpu::linear_grad::{
    relu_input_grads as relu_input_grads_kernel, ReluInputGrads, ReluInputLinear, ReluInputWants,
};
use crate::cpu::matmul::{GemmElem, MatRef};
use crate::cpu::rows::{bias_relu, column_sums, relu_mask};
use crate::storage::CpuStorage;
use crate::Result;

impl Tensor {
    /// Affine map `x W^T + b` with `W` of shape `(out, in)`
    /// (`torch.nn.functional.linear`).
    ///
    /// One fused op for a batch of rows and a 1-D bias: the product with the transposed
    /// weight (a stride swap, no copy) with the bias added into its output, recorded as one
    /// graph node whose backward gives `g W`, `g^T x` and the column sums of `g`. Other
    /// shapes (leading batch dims, a bias that only broadcasts) go through
    /// [`Tensor::matmul`] and a broadcast [`Tensor::add`], with the same values.
    ///
    /// # Shapes
    /// `x: (*, in)`, `weight: (out, in)`, `bias: (out)`; result `(*, out)`, where `*` is any
    /// number of leading batch dims (including none).
    ///
    /// # Errors
    /// If `weight` has more than 2 dims, the `in` sizes differ, the dtypes differ or are not
    /// float, or the bias does not broadcast to `(*, out)`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0, 3.0]])?; // (1, 3)
    /// let w = Tensor::new(&[[1.0f32, 0.0, 0.0], [0.0, 1.0, 1.0]])?; // (2, 3)
    /// let b = Tensor::new(&[0.5f32, -0.5])?;
    /// let y = x.linear(&w, Some(&b))?;
    /// assert_eq!(y.dims(), &[1, 2]);
    /// assert_eq!(y.to_vec::<f32>()?, vec![1.5, 4.5]);
    /// let batch = Tensor::zeros((4, 5, 3), DType::F32)?;
    /// assert_eq!(batch.linear(&w, None)?.dims(), &[4, 5, 2]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        if !self.fuses_linear(weight, bias) {
            let y = self.matmul(&weight.t()?)?;
            return match bias {
                Some(b) => y.add(b),
                None => Ok(y),
            };
        }
        self.fused_linear(weight, bias, false)
    }

    /// `relu(x W^T + b)` (`F.relu(F.linear(x, w, b))`), with the same values and gradients
    /// as the two ops one after the other.
    ///
    /// For a batch of rows and a 1-D bias it is one op: the bias and the ReLU are applied in
    /// one pass over the product's output, and the backward masks the upstream gradient
    /// with the output (`g` where `y > 0`, as ReLU's own backward) in the same pass that sums
    /// the bias gradient, so no pre-activation tensor is kept. `nn::Sequential` calls this
    /// for a `Linear` followed by a `ReLU`. Other shapes run [`Tensor::linear`] then
    /// [`Tensor::relu`].
    ///
    /// # Shapes
    /// As [`Tensor::linear`].
    ///
    /// # Errors
    /// As [`Tensor::linear`].
    ///
    /// ```
    /// use sinapsis_core::Tensor;
    /// let x = Tensor::new(&[[1.0f32, -2.0]])?;
    /// let w = Tensor::new(&[[1.0f32, 0.0], [0.0, 1.0]])?;
    /// let b = Tensor::new(&[0.5f32, 0.5])?;
    /// assert_eq!(x.linear_relu(&w, Some(&b))?.to_vec::<f32>()?, vec![1.5, 0.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn linear_relu(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        if !self.fuses_linear(weight, bias) {
            return self.linear(weight, bias)?.relu();
        }
        self.fused_linear(weight, bias, true)
    }

    /// The one-op path of `linear` and `linear_relu` (`fuses_linear` holds).
    fn fused_linear(&self, weight: &Tensor, bias: Option<&Tensor>, relu: bool) -> Result<Tensor> {
        let (mut storage, shape) = mm_2d_storage(self, false, weight, true)?;
        let cols = weight.dims()[0];
        let bias = bias.map(Tensor::contiguous).transpose()?;
        let mut epilogue = |bs: Option<&CpuStorage>| match (&mut storage, bs) {
            (CpuStorage::F32(y), Some(CpuStorage::F32(b))) => bias_relu(y, cols, Some(b), relu),
            (CpuStorage::F64(y), Some(CpuStorage::F64(b))) => bias_relu(y, cols, Some(b), relu),
            (CpuStorage::F32(y), None) => bias_relu(y, cols, None, relu),
            (CpuStorage::F64(y), None) => bias_relu(y, cols, None, relu),
            _ => unreachable!("fuses_linear checked the dtypes"),
        };
        match &bias {
            Some(b) => b.with_cpu(|bs, _| epilogue(Some(bs))),
            None => epilogue(None),
        }
        let inputs: &[&Tensor] = match &bias {
            Some(b) => &[self, weight, b],
            None => &[self, weight],
        };
        Ok(Tensor::from_op(storage, shape, inputs, || Op::Linear {
            x: self.clone(),
            w: weight.clone(),
            b: bias.clone(),
            relu,
        }))
    }

    /// Whether `linear` can run as one fused op: `(n, in) @ (out, in)^T` plus an `(out)`
    /// bias, all of one float dtype. Anything else takes the general path, which also
    /// reports the errors.
    fn fuses_linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> bool {
        let float = |t: &Tensor| t.check_float("linear").is_ok() && t.dtype() == self.dtype();
        self.rank() == 2
            && weight.rank() == 2
            && self.dims()[1] == weight.dims()[1]
            && float(self)
            && float(weight)
            && bias.is_none_or(|b| b.rank() == 1 && b.dims()[0] == weight.dims()[0] && float(b))
    }
}

/// The elements of the contiguous tensor `t` within its storage slice `s`.
fn dense<'a, T>(s: &'a [T], t: &Tensor) -> &'a [T] {
    &s[t.layout()
        .contiguous_range()
        .expect("made contiguous by the caller")]
}

/// The gradients of the fused op (`Op::Linear`) for its inputs, and what is known about
/// `gx` (see [`linear_backward`]).
pub(crate) struct LinearGrads {
    pub gx: Option<Tensor>,
    pub gw: Option<Tensor>,
    pub gb: Option<Tensor>,
    pub gx_hint: GradHint,
}

/// The gradients of the fused op (`Op::Linear`) for its inputs `x`, `w`, `b`, given its
/// output `y` and upstream gradient `g` with what the ops that read `y` knew about it
/// (`hint`); `need` says which inputs want one.
///
/// With `relu`, `g` is first masked with the output (`g` where `y > 0`), the bias gradient
/// summed in the same pass, unless the hint says a reader of `y` did that already; the
/// hint's column sums, when it has them, are the bias gradient. The products run on swapped
/// strides: `g W`, `g^T x`. When `x` is itself a ReLU's output, `g W` is masked where `x`
/// is 0 in the same blocked pass as `g^T x` (`cpu::linear_grad`), with the column sums of
/// the result when the layer before wants them for its bias, and `gx_hint` says so.
pub(crate) fn linear_backward(
    (x, w, b): (&Tensor, &Tensor, Option<&Tensor>),
    relu: bool,
    y: &Tensor,
    (g, hint): (&Tensor, GradHint),
    need: impl Fn(&Tensor) -> bool,
) -> Result<LinearGrads> {
    let need_b = b.is_some_and(&need);
    let cols = w.dims()[0];
    let g = g.contiguous()?;
    let (g, gb) = if relu && !hint.relu_masked {
        let y = y.contiguous()?;
        let (masked, sums) = Tensor::with_cpus(&[&g, &y], |s| match (s[0], s[1]) {
            (CpuStorage::F32(gs), CpuStorage::F32(ys)) => {
                let (m, s) = relu_mask(dense(gs, &g), dense(ys, &y), cols, need_b);
                (CpuStorage::F32(m), s.map(CpuStorage::F32))
            }
            (CpuStorage::F64(gs), CpuStorage::F64(ys)) => {
                let (m, s) = relu_mask(dense(gs, &g), dense(ys, &y), cols, need_b);
                (CpuStorage::F64(m), s.map(CpuStorage::F64))
            }
            _ => unreachable!("linear's output and gradient share its float dtype"),
        });
        let masked = Tensor::from_storage(masked, g.shape().clone());
        (masked, sums.map(|s| Tensor::from_storage(s, [cols].into())))
    } else {
        let sums = match hint.column_sums {
            Some(sums) if need_b => Some(sums),
            _ => need_b
                .then(|| {
                    g.with_cpu(|s, _| match s {
                        CpuStorage::F32(s) => CpuStorage::F32(column_sums(dense(s, &g), cols)),
                        CpuStorage::F64(s) => CpuStorage::F64(column_sums(dense(s, &g), cols)),
                        _ => unreachable!("linear's gradient is float"),
                    })
                })
                .map(|s| Tensor::from_storage(s, [cols].into())),
        };
        (g, sums)
    };
    if let Some(producer) = x.op().filter(|op| need(x) && op.ends_in_relu()) {
        // The layer before (a linear layer fused with its ReLU) needs these sums for its
        // bias: summed here while each block is in cache.
        let sums = matches!(producer, Op::Linear { b: Some(b), .. } if b.requires_grad());
        let (gx, gw, column_sums) = relu_input_grads(x, w, &g, need(w), sums)?;
        return Ok(LinearGrads {
            gx: Some(gx),
            gw,
            gb,
            gx_hint: GradHint {
                relu_masked: true,
                column_sums,
            },
        });
    }
    let gx = need(x).then(|| mm_2d(&g, false, w, false)).transpose()?;
    let gw = need(w).then(|| mm_2d(&g, true, x, false)).transpose()?;
    Ok(LinearGrads {
        gx,
        gw,
        gb,
        gx_hint: GradHint::default(),
    })
}

/// `(g W) * (x > 0)`, with `weight` `g^T x`, and with `sums` the column sums of the first,
/// for a linear layer whose input `x` is a ReLU's output; `g` is contiguous.
fn relu_input_grads(
    x: &Tensor,
    w: &Tensor,
    g: &Tensor,
    weight: bool,
    sums: bool,
) -> Result<(Tensor, Option<Tensor>, Option<Tensor>)> {
    let x = x.contiguous()?;
    let (rows, inp, out) = (x.dims()[0], x.dims()[1], w.dims()[0]);
    let (ws, wo) = (w.stride(), w.layout().offset());
    let wanted = ReluInputWants { weight, sums };
    let grads = Tensor::with_cpus(&[g, &x, w], |s| {
        fn run<T: GemmElem>(
            (g, h, w): (&[T], &[T], &[T]),
            (rows, out, inp): (usize, usize, usize),
            (ws, wo): (&[usize], usize),
            wanted: ReluInputWants,
        ) -> ReluInputGrads<T> {
            let w = MatRef {
                data: w,
                offset: wo,
                row_stride: ws[0],
                col_stride: ws[1],
            };
            let layer = ReluInputLinear {
                g,
                w,
                h,
                rows,
                out,
                inp,
            };
            relu_input_grads_kernel(&layer, wanted)
        }
        let dims = (rows, out, inp);
        type Storages = (CpuStorage, Option<CpuStorage>, Option<CpuStorage>);
        fn as_storage<T>(r: ReluInputGrads<T>, wrap: fn(Vec<T>) -> CpuStorage) -> Storages {
            (wrap(r.gx), r.gw.map(wrap), r.column_sums.map(wrap))
        }
        match (s[0], s[1], s[2]) {
            (CpuStorage::F32(gs), CpuStorage::F32(xs), CpuStorage::F32(w)) => {
                let r = run((dense(gs, g), dense(xs, &x), w), dims, (ws, wo), wanted);
                as_storage(r, CpuStorage::F32)
            }
            (CpuStorage::F64(gs), CpuStorage::F64(xs), CpuStorage::F64(w)) => {
                let r = run((dense(gs, g), dense(xs, &x), w), dims, (ws, wo), wanted);
                as_storage(r, CpuStorage::F64)
            }
            _ => unreachable!("linear's operands share its float dtype"),
        }
    });
    let (gx, gw, column_sums) = grads;
    let gx = Tensor::from_storage(gx, x.shape().clone());
    let gw = gw.map(|s| Tensor::from_storage(s, w.shape().clone()));
    let column_sums = column_sums.map(|s| Tensor::from_storage(s, [inp].into()));
    Ok((gx, gw, column_sums))
}
