//! Convolution and pooling: `conv2d`, `conv1d`, `max_pool2d`, `avg_pool2d`,
//! `adaptive_avg_pool2d`, with PyTorch's semantics and argument conventions.
//!
//! Each records a single op (`Conv2d`, `MaxPool2d`, `AvgPool2d`); the kernels live in
//! `cpu/conv.rs` and the backward helpers at the end of this file, called from the one
//! `match` in `autograd/backward.rs`.

use super::Tensor;
use crate::autograd::Op;
use crate::cpu::conv::{self as k, ConvGeom, Window};
use crate::cpu::matmul::GemmElem;
use crate::layout::Layout;
use crate::storage::{CpuStorage, StorageElem};
use crate::{DType, Error, Result, Shape};
use smallvec::{smallvec, SmallVec};
use std::borrow::Cow;

/// A 2-D size given as one number for both dims or as an `(h, w)` pair, like the int-or-tuple
/// arguments of PyTorch (`stride=2` or `stride=(2, 1)`).
pub trait IntoPair {
    /// The `(h, w)` pair.
    fn into_pair(self) -> (usize, usize);
}

impl IntoPair for usize {
    fn into_pair(self) -> (usize, usize) {
        (self, self)
    }
}

impl IntoPair for (usize, usize) {
    fn into_pair(self) -> (usize, usize) {
        self
    }
}

impl IntoPair for [usize; 2] {
    fn into_pair(self) -> (usize, usize) {
        (self[0], self[1])
    }
}

/// Options of [`Tensor::conv2d`], with PyTorch's defaults (stride 1, padding 0, dilation 1,
/// groups 1). Build with struct syntax or with the chained setters, which take one number
/// or an `(h, w)` pair.
///
/// ```
/// use sinapsis_core::Conv2dOptions;
/// let o = Conv2dOptions::default().padding(1).stride((2, 1));
/// assert_eq!((o.padding, o.stride, o.dilation, o.groups), ((1, 1), (2, 1), (1, 1), 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dOptions {
    pub stride: (usize, usize),
    /// Zeros added on both sides of each spatial dim.
    pub padding: (usize, usize),
    /// Spacing between kernel taps (1 = a dense kernel).
    pub dilation: (usize, usize),
    /// Channel groups: input and output channels split into `groups` independent blocks.
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
            groups: 1,
        }
    }
}

impl Conv2dOptions {
    /// PyTorch's defaults (same as `Default`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the stride (one number or an `(h, w)` pair).
    pub fn stride(mut self, s: impl IntoPair) -> Self {
        self.stride = s.into_pair();
        self
    }
    /// Sets the zero padding (one number or an `(h, w)` pair).
    pub fn padding(mut self, p: impl IntoPair) -> Self {
        self.padding = p.into_pair();
        self
    }
    /// Sets the dilation (one number or an `(h, w)` pair).
    pub fn dilation(mut self, d: impl IntoPair) -> Self {
        self.dilation = d.into_pair();
        self
    }
    /// Sets the number of channel groups.
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}

/// Options of [`Tensor::conv1d`], with PyTorch's defaults (stride 1, padding 0, dilation 1,
/// groups 1).
///
/// ```
/// use sinapsis_core::Conv1dOptions;
/// let o = Conv1dOptions::default().padding(2).dilation(2);
/// assert_eq!((o.stride, o.padding, o.dilation, o.groups), (1, 2, 2, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv1dOptions {
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub groups: usize,
}

impl Default for Conv1dOptions {
    fn default() -> Self {
        Conv1dOptions {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

impl Conv1dOptions {
    /// PyTorch's defaults (same as `Default`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the stride.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }
    /// Sets the zero padding on both ends.
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = p;
        self
    }
    /// Sets the dilation.
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = d;
        self
    }
    /// Sets the number of channel groups.
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}

/// The windows an average pool reduces over, kept in the graph for the backward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AvgPool {
    /// `avg_pool2d` (ceil_mode = False, count_include_pad = True).
    Sliding {
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        out: (usize, usize),
    },
    /// `adaptive_avg_pool2d` to an `out` grid.
    Adaptive { out: (usize, usize) },
}

impl AvgPool {
    fn windows(&self, (h, w): (usize, usize)) -> (Vec<Window>, Vec<Window>) {
        match *self {
            AvgPool::Sliding {
                kernel,
                stride,
                padding,
                out,
            } => (
                k::sliding_windows(h, out.0, kernel.0, stride.0, padding.0),
                k::sliding_windows(w, out.1, kernel.1, stride.1, padding.1),
            ),
            AvgPool::Adaptive { out } => {
                (k::adaptive_windows(h, out.0), k::adaptive_windows(w, out.1))
            }
        }
    }
}

/// `data` under `layout` as a row-major slice: borrowed when already contiguous.
fn row_major<'a, T: StorageElem>(s: &'a CpuStorage, l: &Layout) -> Cow<'a, [T]> {
    let data = T::slice(s).expect("dtype checked by the caller");
    match l.contiguous_range() {
        Some(r) => Cow::Borrowed(&data[r]),
        None => Cow::Owned(crate::cpu::strided::to_contiguous(data, l)),
    }
}

/// The last two dims of a pooling input, checking its rank and dtype.
fn pool_input(op: &'static str, x: &Tensor) -> Result<(usize, usize)> {
    x.check_float(op)?;
    if x.rank() != 3 && x.rank() != 4 {
        return Err(Error::shape(
            op,
            format!(
                "expected a 3-d (C x H x W) or 4-d (N x C x H x W) input, got {}",
                x.shape()
            ),
        ));
    }
    let d = x.dims();
    Ok((d[d.len() - 2], d[d.len() - 1]))
}

/// Output size of a sliding pool along one axis, with PyTorch's checks.
fn pool_out(
    op: &'static str,
    x: &Shape,
    size: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
) -> Result<usize> {
    if kernel == 0 || stride == 0 {
        return Err(Error::invalid(
            op,
            format!("kernel size ({kernel}) and stride ({stride}) must be positive"),
        ));
    }
    if pad > kernel / 2 {
        return Err(Error::invalid(
            op,
            format!("padding {pad} should be at most half of the kernel size {kernel}"),
        ));
    }
    if size + 2 * pad < kernel {
        return Err(Error::shape(
            op,
            format!(
                "input {x}: a spatial size of {size} padded by {pad} on each side is smaller \
                 than the kernel size {kernel}"
            ),
        ));
    }
    Ok((size + 2 * pad - kernel) / stride + 1)
}

/// Validates a convolution's operands and resolves its geometry.
fn conv_geom(x: &Tensor, w: &Tensor, b: Option<&Tensor>, o: &Conv2dOptions) -> Result<ConvGeom> {
    const OP: &str = "conv2d";
    x.check_float(OP)?;
    x.check_same_dtype(OP, w)?;
    if let Some(b) = b {
        x.check_same_dtype(OP, b)?;
    }
    if x.rank() != 4 {
        return Err(Error::shape(
            OP,
            format!("expected a 4-d input (N x C x H x W), got {}", x.shape()),
        ));
    }
    if w.rank() != 4 {
        return Err(Error::shape(
            OP,
            format!(
                "expected a 4-d weight (C_out x C_in/groups x kH x kW), got {}",
                w.shape()
            ),
        ));
    }
    let pair = format!("input {} and weight {}", x.shape(), w.shape());
    let (groups, (sh, sw), (dh, dw)) = (o.groups, o.stride, o.dilation);
    if groups == 0 || sh == 0 || sw == 0 || dh == 0 || dw == 0 {
        return Err(Error::invalid(
            OP,
            format!(
                "groups ({groups}), stride ({sh}, {sw}) and dilation ({dh}, {dw}) must be positive"
            ),
        ));
    }
    let [n, c, h, wd] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let [oc, wc, kh, kw] = [w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]];
    if c % groups != 0 {
        return Err(Error::shape(
            OP,
            format!("{pair}: {c} input channels are not divisible by groups = {groups}"),
        ));
    }
    if oc % groups != 0 {
        return Err(Error::shape(
            OP,
            format!("{pair}: {oc} output channels are not divisible by groups = {groups}"),
        ));
    }
    if wc != c / groups {
        return Err(Error::shape(
            OP,
            format!(
                "{pair}: expected {c}/groups = {} input channels per group, weight has {wc}",
                c / groups
            ),
        ));
    }
    if kh == 0 || kw == 0 {
        return Err(Error::shape(
            OP,
            format!("{pair}: the kernel has a zero size"),
        ));
    }
    if let Some(b) = b {
        if b.dims() != [oc] {
            return Err(Error::shape(
                OP,
                format!(
                    "{pair}: bias {} must have shape ({oc}), one per output channel",
                    b.shape()
                ),
            ));
        }
    }
    let (ph, pw) = o.padding;
    let (ekh, ekw) = (dh * (kh - 1) + 1, dw * (kw - 1) + 1);
    let (hp, wp) = (h + 2 * ph, wd + 2 * pw);
    if hp < ekh || wp < ekw {
        return Err(Error::shape(
            OP,
            format!(
                "{pair}: the padded input ({hp}x{wp}) is smaller than the dilated kernel \
                 ({ekh}x{ekw})"
            ),
        ));
    }
    Ok(ConvGeom {
        n,
        c,
        h,
        w: wd,
        o: oc,
        kh,
        kw,
        oh: (hp - ekh) / sh + 1,
        ow: (wp - ekw) / sw + 1,
        stride: o.stride,
        padding: o.padding,
        dilation: o.dilation,
        groups,
    })
}

fn conv_forward<T: GemmElem + StorageElem>(
    ts: &[&Tensor],
    s: &[&CpuStorage],
    g: &ConvGeom,
) -> CpuStorage {
    let x = row_major::<T>(s[0], ts[0].layout());
    let w = row_major::<T>(s[1], ts[1].layout());
    let b = (ts.len() > 2).then(|| row_major::<T>(s[2], ts[2].layout()));
    T::into_storage(k::conv2d(&x, &w, b.as_deref(), g))
}

type Grads = SmallVec<[Option<Tensor>; 3]>;

fn conv_grads<T: GemmElem + StorageElem>(
    ts: &[&Tensor; 3],
    s: &[&CpuStorage],
    g: &ConvGeom,
    need: (bool, bool, bool),
) -> [Option<CpuStorage>; 3] {
    let x = row_major::<T>(s[0], ts[0].layout());
    let w = row_major::<T>(s[1], ts[1].layout());
    let gy = row_major::<T>(s[2], ts[2].layout());
    let (dx, dw, db) = k::conv2d_backward(&x, &w, &gy, g, need);
    [dx, dw, db].map(|v| v.map(T::into_storage))
}

impl Tensor {
    /// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`), computed with
    /// im2col and GEMM.
    ///
    /// # Shapes
    /// `self: (N, C_in, H, W)` (or unbatched `(C_in, H, W)`),
    /// `weight: (C_out, C_in / groups, kH, kW)`, `bias: (C_out)`;
    /// result `(N, C_out, H_out, W_out)` with
    /// `H_out = (H + 2 * padding.0 - dilation.0 * (kH - 1) - 1) / stride.0 + 1` (same for W).
    ///
    /// ```
    /// # use sinapsis_core::{Conv2dOptions, DType, Tensor};
    /// let x = Tensor::ones((1, 1, 3, 3), DType::F32)?;
    /// let w = Tensor::ones((1, 1, 2, 2), DType::F32)?;
    /// let y = x.conv2d(&w, None, Conv2dOptions::default().padding(1))?;
    /// assert_eq!(y.dims(), &[1, 1, 4, 4]);
    /// assert_eq!(y.to_vec::<f32>()?[..4], [1.0, 2.0, 2.0, 1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv2dOptions,
    ) -> Result<Tensor> {
        if self.rank() == 3 {
            return self.unsqueeze(0)?.conv2d(weight, bias, opts)?.squeeze(0);
        }
        let g = conv_geom(self, weight, bias, &opts)?;
        let mut ts: SmallVec<[&Tensor; 3]> = smallvec![self, weight];
        ts.extend(bias);
        let storage = Tensor::with_cpus(&ts, |s| match self.dtype() {
            DType::F32 => conv_forward::<f32>(&ts, s, &g),
            DType::F64 => conv_forward::<f64>(&ts, s, &g),
            _ => unreachable!("checked float"),
        });
        let shape = Shape::from([g.n, g.o, g.oh, g.ow]);
        Ok(Tensor::from_op(storage, shape, &ts, || Op::Conv2d {
            x: self.clone(),
            w: weight.clone(),
            b: bias.cloned(),
            args: opts,
        }))
    }

    /// 1-D convolution (`torch.nn.functional.conv1d`), run as a 2-D convolution of height 1.
    ///
    /// # Shapes
    /// `self: (N, C_in, L)` (or unbatched `(C_in, L)`), `weight: (C_out, C_in / groups, k)`,
    /// `bias: (C_out)`; result `(N, C_out, L_out)` with
    /// `L_out = (L + 2 * padding - dilation * (k - 1) - 1) / stride + 1`.
    ///
    /// ```
    /// # use sinapsis_core::{Conv1dOptions, Tensor};
    /// let x = Tensor::new(&[[[1.0f64, 2.0, 3.0, 4.0]]])?;
    /// let w = Tensor::new(&[[[1.0f64, -1.0]]])?;
    /// let y = x.conv1d(&w, None, Conv1dOptions::default())?;
    /// assert_eq!(y.to_vec::<f64>()?, vec![-1.0, -1.0, -1.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv1dOptions,
    ) -> Result<Tensor> {
        if self.rank() == 2 {
            return self.unsqueeze(0)?.conv1d(weight, bias, opts)?.squeeze(0);
        }
        if self.rank() != 3 || weight.rank() != 3 {
            return Err(Error::shape(
                "conv1d",
                format!(
                    "expected a 3-d input (N x C x L) and a 3-d weight (C_out x C_in/groups x k), \
                     got input {} and weight {}",
                    self.shape(),
                    weight.shape()
                ),
            ));
        }
        let o2 = Conv2dOptions {
            stride: (1, opts.stride),
            padding: (0, opts.padding),
            dilation: (1, opts.dilation),
            groups: opts.groups,
        };
        self.unsqueeze(2)?
            .conv2d(&weight.unsqueeze(2)?, bias, o2)?
            .squeeze(2)
    }

    /// Max pooling over `kernel` windows (`torch.nn.functional.max_pool2d` with dilation 1
    /// and `ceil_mode=False`); padding counts as `-inf`. PyTorch's default stride is the
    /// kernel size: pass `stride = kernel` for it. The gradient goes to each window's maximum.
    ///
    /// # Shapes
    /// `self: (N, C, H, W)` or `(C, H, W)`; result `(.., H_out, W_out)` with
    /// `H_out = (H + 2 * padding.0 - kernel.0) / stride.0 + 1` (same for W);
    /// `padding <= kernel / 2`.
    ///
    /// ```
    /// # use sinapsis_core::Tensor;
    /// let x = Tensor::new(&[[[1.0f32, 2.0], [4.0, 3.0]]])?;
    /// assert_eq!(x.max_pool2d(2, 2, 0)?.to_vec::<f32>()?, vec![4.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn max_pool2d(
        &self,
        kernel: impl IntoPair,
        stride: impl IntoPair,
        padding: impl IntoPair,
    ) -> Result<Tensor> {
        Ok(self.max_pool2d_with_indices(kernel, stride, padding)?.0)
    }

    /// [`Tensor::max_pool2d`] that also returns, for every output, the flat index `y * W + x`
    /// of its maximum within its `H x W` plane (`return_indices=True`).
    ///
    /// # Shapes
    /// As [`Tensor::max_pool2d`]; the i64 indices have the output's shape.
    ///
    /// ```
    /// # use sinapsis_core::Tensor;
    /// let x = Tensor::new(&[[[1.0f64, 2.0], [4.0, 3.0]]])?;
    /// let (v, i) = x.max_pool2d_with_indices(2, 1, 0)?;
    /// assert_eq!((v.to_vec::<f64>()?, i.to_vec::<i64>()?), (vec![4.0], vec![2]));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn max_pool2d_with_indices(
        &self,
        kernel: impl IntoPair,
        stride: impl IntoPair,
        padding: impl IntoPair,
    ) -> Result<(Tensor, Tensor)> {
        const OP: &str = "max_pool2d";
        let (h, w) = pool_input(OP, self)?;
        let (kn, st, pd) = (kernel.into_pair(), stride.into_pair(), padding.into_pair());
        let oh = pool_out(OP, self.shape(), h, kn.0, st.0, pd.0)?;
        let ow = pool_out(OP, self.shape(), w, kn.1, st.1, pd.1)?;
        let hwin = k::sliding_windows(h, oh, kn.0, st.0, pd.0);
        let wwin = k::sliding_windows(w, ow, kn.1, st.1, pd.1);
        fn go<T: crate::FloatElem + StorageElem>(
            s: &CpuStorage,
            l: &Layout,
            hw: (usize, usize),
            hwin: &[Window],
            wwin: &[Window],
        ) -> (CpuStorage, Vec<i64>) {
            let (v, i) = k::max_pool2d(&row_major::<T>(s, l), hw, hwin, wwin);
            (T::into_storage(v), i)
        }
        let (storage, idx) = self.with_cpu(|s, l| match s {
            CpuStorage::F32(_) => go::<f32>(s, l, (h, w), &hwin, &wwin),
            _ => go::<f64>(s, l, (h, w), &hwin, &wwin),
        });
        let mut dims = self.dims().to_vec();
        let r = dims.len();
        dims[r - 2] = oh;
        dims[r - 1] = ow;
        let indices = Tensor::from_vec(idx, dims.clone())?;
        let out = Tensor::from_op(storage, Shape::from(dims), &[self], || Op::MaxPool2d {
            x: self.clone(),
            indices: indices.clone(),
        });
        Ok((out, indices))
    }

    /// Average pooling over `kernel` windows (`torch.nn.functional.avg_pool2d` with
    /// `ceil_mode=False`, `count_include_pad=True`: padded zeros count in the divisor).
    /// PyTorch's default stride is the kernel size: pass `stride = kernel` for it.
    ///
    /// # Shapes
    /// `self: (N, C, H, W)` or `(C, H, W)`; result `(.., H_out, W_out)` with
    /// `H_out = (H + 2 * padding.0 - kernel.0) / stride.0 + 1` (same for W);
    /// `padding <= kernel / 2`.
    ///
    /// ```
    /// # use sinapsis_core::Tensor;
    /// let x = Tensor::new(&[[[1.0f32, 2.0], [4.0, 3.0]]])?;
    /// assert_eq!(x.avg_pool2d(2, 2, 0)?.to_vec::<f32>()?, vec![2.5]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn avg_pool2d(
        &self,
        kernel: impl IntoPair,
        stride: impl IntoPair,
        padding: impl IntoPair,
    ) -> Result<Tensor> {
        const OP: &str = "avg_pool2d";
        let (h, w) = pool_input(OP, self)?;
        let (kernel, stride, padding) =
            (kernel.into_pair(), stride.into_pair(), padding.into_pair());
        let oh = pool_out(OP, self.shape(), h, kernel.0, stride.0, padding.0)?;
        let ow = pool_out(OP, self.shape(), w, kernel.1, stride.1, padding.1)?;
        self.avg_pool(AvgPool::Sliding {
            kernel,
            stride,
            padding,
            out: (oh, ow),
        })
    }

    /// Adaptive average pooling to an `output_size` grid
    /// (`torch.nn.functional.adaptive_avg_pool2d`): output `i` averages input rows
    /// `floor(i * H / H_out) .. ceil((i + 1) * H / H_out)` (same for columns).
    ///
    /// # Shapes
    /// `self: (N, C, H, W)` or `(C, H, W)` with `H, W > 0`; result `(.., H_out, W_out)`.
    ///
    /// ```
    /// # use sinapsis_core::Tensor;
    /// let x = Tensor::new(&[[[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]]])?;
    /// assert_eq!(x.adaptive_avg_pool2d(1)?.to_vec::<f64>()?, vec![3.5]);
    /// assert_eq!(x.adaptive_avg_pool2d((1, 2))?.to_vec::<f64>()?, vec![3.0, 4.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn adaptive_avg_pool2d(&self, output_size: impl IntoPair) -> Result<Tensor> {
        const OP: &str = "adaptive_avg_pool2d";
        let (h, w) = pool_input(OP, self)?;
        let out = output_size.into_pair();
        if h == 0 || w == 0 || out.0 == 0 || out.1 == 0 {
            return Err(Error::shape(
                OP,
                format!(
                    "input {} to output size ({}x{}): spatial sizes must be positive",
                    self.shape(),
                    out.0,
                    out.1
                ),
            ));
        }
        self.avg_pool(AvgPool::Adaptive { out })
    }

    fn avg_pool(&self, pool: AvgPool) -> Result<Tensor> {
        let r = self.rank();
        let hw = (self.dims()[r - 2], self.dims()[r - 1]);
        let (hwin, wwin) = pool.windows(hw);
        let storage = self.with_cpu(|s, l| match s {
            CpuStorage::F32(_) => {
                CpuStorage::F32(k::avg_pool2d(&row_major::<f32>(s, l), hw, &hwin, &wwin))
            }
            _ => CpuStorage::F64(k::avg_pool2d(&row_major::<f64>(s, l), hw, &hwin, &wwin)),
        });
        let mut dims = self.dims().to_vec();
        dims[r - 2] = hwin.len();
        dims[r - 1] = wwin.len();
        Ok(Tensor::from_op(storage, Shape::from(dims), &[self], || {
            Op::AvgPool2d {
                x: self.clone(),
                pool,
            }
        }))
    }

    // ---- backward helpers (called from autograd/backward.rs) ------------------------------

    /// Gradients of `conv2d` for `[x, w, b?]` (the order of `Op::inputs`).
    pub(crate) fn conv2d_backward(
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
        opts: &Conv2dOptions,
        g: &Tensor,
    ) -> Result<Grads> {
        let geom = conv_geom(x, w, b, opts)?;
        let need = (
            x.requires_grad(),
            w.requires_grad(),
            b.is_some_and(Tensor::requires_grad),
        );
        let ts = [x, w, g];
        let [dx, dw, db] = Tensor::with_cpus(&ts, |s| match x.dtype() {
            DType::F32 => conv_grads::<f32>(&ts, s, &geom, need),
            _ => conv_grads::<f64>(&ts, s, &geom, need),
        });
        let wrap = |s: Option<CpuStorage>, shape: &Shape| {
            s.map(|s| Tensor::from_storage(s, shape.clone()))
        };
        let mut grads: Grads = smallvec![wrap(dx, x.shape()), wrap(dw, w.shape())];
        if let Some(b) = b {
            grads.push(wrap(db, b.shape()));
        }
        Ok(grads)
    }

    /// Gradient of `max_pool2d`: `g` scattered to the recorded argmax positions.
    pub(crate) fn max_pool2d_backward(x: &Tensor, indices: &Tensor, g: &Tensor) -> Result<Tensor> {
        let r = x.rank();
        let hw = (x.dims()[r - 2], x.dims()[r - 1]);
        let out_len = g.dims()[r - 2] * g.dims()[r - 1];
        // The indices are borrowed where they lie (they are contiguous as max_pool2d made
        // them): copying them out cost as much as the scatter itself.
        let ts = [g, indices];
        let storage = Tensor::with_cpus(&ts, |s| {
            let idx = row_major::<i64>(s[1], indices.layout());
            match s[0] {
                CpuStorage::F32(_) => CpuStorage::F32(k::max_pool2d_backward(
                    &row_major::<f32>(s[0], g.layout()),
                    &idx,
                    hw,
                    out_len,
                )),
                _ => CpuStorage::F64(k::max_pool2d_backward(
                    &row_major::<f64>(s[0], g.layout()),
                    &idx,
                    hw,
                    out_len,
                )),
            }
        });
        Ok(Tensor::from_storage(storage, x.shape().clone()))
    }

    /// Gradient of an average pool: `g / divisor` spread over each window.
    pub(crate) fn avg_pool2d_backward(x: &Tensor, pool: &AvgPool, g: &Tensor) -> Result<Tensor> {
        let r = x.rank();
        let hw = (x.dims()[r - 2], x.dims()[r - 1]);
        let (hwin, wwin) = pool.windows(hw);
        let storage = g.with_cpu(|s, l| match s {
            CpuStorage::F32(_) => CpuStorage::F32(k::avg_pool2d_backward(
                &row_major::<f32>(s, l),
                hw,
                &hwin,
                &wwin,
            )),
            _ => CpuStorage::F64(k::avg_pool2d_backward(
                &row_major::<f64>(s, l),
                hw,
                &hwin,
                &wwin,
            )),
        });
        Ok(Tensor::from_storage(storage, x.shape().clone()))
    }
}
