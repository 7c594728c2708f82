//! Preprocessing and augmentation (`torchvision.transforms` and scikit-learn's scalers).
//!
//! Fitted transforms ([`StandardScaler`], [`MinMaxScaler`]) are fitted on the training split
//! only; every transform is `serde`-serialisable, so the exact same preprocessing can be
//! saved with a model and applied at prediction time. Random augmentations
//! ([`RandomCrop`], [`RandomRotation`], [`RandomHorizontalFlip`]) take an explicit
//! `&mut Generator`, draw one set of parameters per image, and work on f32 tensors of shape
//! `(N, C, H, W)` or `(C, H, W)`.
//!
//! ```
//! use sinapsis::data::transforms::{Compose, Normalize, RandomCrop, RandomRotation, Transform};
//! use sinapsis::{DType, Generator, Tensor};
//! # fn main() -> sinapsis::Result<()> {
//! // MNIST-style pipeline: pixels already divided by 255, then small shifts and rotations,
//! // then Normalize((0.5,), (0.5,)). No horizontal flip for digits (a flipped 2 is not a 2).
//! let train = Compose::new()
//!     .then(RandomCrop::new(2))
//!     .then(RandomRotation::new(-10.0, 10.0))
//!     .then(Normalize::new(vec![0.5], vec![0.5])?);
//! let mut g = Generator::new(0);
//! let x = g.rand([8, 1, 28, 28], DType::F32)?;
//! assert_eq!(train.apply(&x, &mut g)?.dims(), &[8, 1, 28, 28]);
//! # Ok(()) }
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{DType, Error, Generator, Result, Tensor};

/// A tensor-to-tensor transform; random ones draw from `g`, deterministic ones ignore it.
///
/// ```
/// use sinapsis::data::transforms::{Normalize, Transform};
/// use sinapsis::{Generator, Tensor};
/// let t: &dyn Transform = &Normalize::new(vec![0.5], vec![0.5])?;
/// let y = t.apply(&Tensor::new(&[[[1.0f32]]])?, &mut Generator::new(0))?;
/// assert_eq!(y.to_vec::<f32>()?, vec![1.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub trait Transform {
    /// Applies the transform.
    ///
    /// # Errors
    /// If the input shape or dtype does not suit the transform.
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor>;
}

fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}

/// A uniform sample in `[0, 1)` from the generator's raw stream.
fn unif(g: &mut Generator) -> f64 {
    (g.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `(N, C, H, W)` of an image tensor (`(C, H, W)` counts as `N = 1`), checking f32.
fn image_dims(op: &'static str, x: &Tensor) -> Result<(usize, usize, usize, usize)> {
    if x.dtype() != DType::F32 {
        return Err(Error::DType {
            op,
            expected: "f32",
            got: x.dtype(),
        });
    }
    match *x.dims() {
        [n, c, h, w] => Ok((n, c, h, w)),
        [c, h, w] => Ok((1, c, h, w)),
        _ => Err(invalid(
            op,
            format!(
                "expected an image tensor (N, C, H, W) or (C, H, W), got shape {}",
                x.shape()
            ),
        )),
    }
}

/// Runs `f(src_image, dst_image, param)` per image (in parallel for large batches) and
/// returns a tensor of `x`'s shape.
fn map_images<P: Sync>(
    op: &'static str,
    x: &Tensor,
    params: &[P],
    f: impl Fn(&[f32], &mut [f32], usize, usize, usize, &P) + Sync,
) -> Result<Tensor> {
    let (n, c, h, w) = image_dims(op, x)?;
    let src = x.to_vec::<f32>()?;
    let mut dst = vec![0f32; src.len()];
    let per = c * h * w;
    if per > 0 {
        if src.len() >= 1 << 16 && n > 1 {
            dst.par_chunks_mut(per)
                .zip(src.par_chunks(per))
                .zip(params.par_iter())
                .for_each(|((d, s), p)| f(s, d, c, h, w, p));
        } else {
            for ((d, s), p) in dst.chunks_mut(per).zip(src.chunks(per)).zip(params) {
                f(s, d, c, h, w, p);
            }
        }
    }
    debug_assert_eq!(params.len(), n);
    Tensor::from_vec(dst, x.shape().clone())
}

fn flip_image(s: &[f32], d: &mut [f32], c: usize, h: usize, w: usize, on: &bool) {
    if !*on {
        d.copy_from_slice(s);
        return;
    }
    for (sr, dr) in s.chunks(w).zip(d.chunks_mut(w)).take(c * h) {
        for (x, v) in dr.iter_mut().enumerate() {
            *v = sr[w - 1 - x];
        }
    }
}

fn shift_image(s: &[f32], d: &mut [f32], c: usize, h: usize, w: usize, off: &(isize, isize)) {
    let (dy, dx) = *off;
    // out[y][x] = in[y + dy][x + dx], 0 outside.
    for ch in 0..c {
        let (sp, dp) = (
            &s[ch * h * w..(ch + 1) * h * w],
            &mut d[ch * h * w..(ch + 1) * h * w],
        );
        for y in 0..h {
            let sy = y as isize + dy;
            let drow = &mut dp[y * w..(y + 1) * w];
            if sy < 0 || sy >= h as isize {
                drow.fill(0.0);
                continue;
            }
            let srow = &sp[sy as usize * w..(sy as usize + 1) * w];
            for (x, v) in drow.iter_mut().enumerate() {
                let sx = x as isize + dx;
                *v = if sx >= 0 && sx < w as isize {
                    srow[sx as usize]
                } else {
                    0.0
                };
            }
        }
    }
}

fn rotate_image(s: &[f32], d: &mut [f32], c: usize, h: usize, w: usize, deg: &f32) {
    if *deg == 0.0 {
        d.copy_from_slice(s);
        return;
    }
    let th = (*deg as f64).to_radians();
    let (sin, cos) = th.sin_cos();
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    for y in 0..h {
        for x in 0..w {
            let (u, v) = (x as f64 - cx, y as f64 - cy);
            // Inverse map of a counter-clockwise rotation (y axis pointing down).
            let sx = cos * u - sin * v + cx;
            let sy = sin * u + cos * v + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = ((sx - x0) as f32, (sy - y0) as f32);
            let (x0, y0) = (x0 as isize, y0 as isize);
            let taps = [
                (y0, x0, (1.0 - fy) * (1.0 - fx)),
                (y0, x0 + 1, (1.0 - fy) * fx),
                (y0 + 1, x0, fy * (1.0 - fx)),
                (y0 + 1, x0 + 1, fy * fx),
            ];
            for ch in 0..c {
                let plane = &s[ch * h * w..(ch + 1) * h * w];
                let mut acc = 0f32;
                for &(ty, tx, wt) in &taps {
                    if wt != 0.0 && ty >= 0 && tx >= 0 && (ty as usize) < h && (tx as usize) < w {
                        acc += wt * plane[ty as usize * w + tx as usize];
                    }
                }
                d[ch * h * w + y * w + x] = acc;
            }
        }
    }
}

/// Flips images left-right (`torchvision.transforms.functional.hflip`).
///
/// # Shapes
/// `(N, C, H, W)` or `(C, H, W)` f32, unchanged.
///
/// ```
/// use sinapsis::{data::transforms::hflip, Tensor};
/// let x = Tensor::new(&[[[1.0f32, 2.0, 3.0]]])?;
/// assert_eq!(hflip(&x)?.to_vec::<f32>()?, vec![3.0, 2.0, 1.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn hflip(x: &Tensor) -> Result<Tensor> {
    let (n, ..) = image_dims("hflip", x)?;
    map_images("hflip", x, &vec![true; n], flip_image)
}

/// Shifts images by `(dy, dx)` pixels, filling with 0: `out[y][x] = in[y + dy][x + dx]`.
///
/// # Shapes
/// `(N, C, H, W)` or `(C, H, W)` f32, unchanged.
///
/// ```
/// use sinapsis::{data::transforms::shift, Tensor};
/// let x = Tensor::new(&[[[1.0f32, 2.0, 3.0]]])?;
/// assert_eq!(shift(&x, 0, 1)?.to_vec::<f32>()?, vec![2.0, 3.0, 0.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn shift(x: &Tensor, dy: isize, dx: isize) -> Result<Tensor> {
    let (n, ..) = image_dims("shift", x)?;
    map_images("shift", x, &vec![(dy, dx); n], shift_image)
}

/// Rotates images counter-clockwise by `degrees` about their centre, bilinear, fill 0
/// (`torchvision.transforms.functional.rotate` with bilinear interpolation).
///
/// # Shapes
/// `(N, C, H, W)` or `(C, H, W)` f32, unchanged.
///
/// ```
/// use sinapsis::{data::transforms::rotate, Tensor};
/// let x = Tensor::new(&[[[0.0f32, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]])?;
/// let r = rotate(&x, 90.0)?.to_vec::<f32>()?;
/// assert!((r[4] - 1.0).abs() < 1e-6 && (r[3] - 1.0).abs() < 1e-6 && r[1].abs() < 1e-6);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn rotate(x: &Tensor, degrees: f32) -> Result<Tensor> {
    let (n, ..) = image_dims("rotate", x)?;
    map_images("rotate", x, &vec![degrees; n], rotate_image)
}

/// Per-channel normalisation `(x - mean[c]) / std[c]` (`transforms.Normalize`); a single
/// mean/std applies to every channel.
///
/// # Shapes
/// `(N, C, H, W)` or `(C, H, W)` f32, unchanged.
///
/// ```
/// use sinapsis::{data::transforms::Normalize, Tensor};
/// let n = Normalize::new(vec![0.5], vec![0.5])?;
/// let x = Tensor::new(&[[[0.0f32, 1.0]]])?;
/// assert_eq!(n.forward(&x)?.to_vec::<f32>()?, vec![-1.0, 1.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalize {
    /// Per-channel means (or one for all channels).
    pub mean: Vec<f32>,
    /// Per-channel standard deviations (or one for all channels).
    pub std: Vec<f32>,
}

impl Normalize {
    /// A normaliser with these means and standard deviations.
    ///
    /// # Errors
    /// If the lengths differ, are zero, or a std is not positive.
    ///
    /// ```
    /// use sinapsis::data::transforms::Normalize;
    /// assert!(Normalize::new(vec![0.5], vec![0.0]).is_err());
    /// ```
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Result<Normalize> {
        if mean.len() != std.len() || mean.is_empty() {
            return Err(invalid(
                "Normalize",
                format!(
                    "mean ({}) and std ({}) must have the same non-zero length",
                    mean.len(),
                    std.len()
                ),
            ));
        }
        if std.iter().any(|s| s.is_nan() || *s <= 0.0) {
            return Err(invalid(
                "Normalize",
                format!("std must be positive, got {std:?}"),
            ));
        }
        Ok(Normalize { mean, std })
    }

    /// Applies the normalisation.
    ///
    /// # Errors
    /// If `x` is not an f32 image tensor or the channel count does not match.
    ///
    /// ```
    /// use sinapsis::{data::transforms::Normalize, Tensor};
    /// let n = Normalize::new(vec![1.0, 2.0], vec![1.0, 2.0])?;
    /// let x = Tensor::new(&[[[1.0f32]], [[4.0]]])?;
    /// assert_eq!(n.forward(&x)?.to_vec::<f32>()?, vec![0.0, 1.0]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (n, c, ..) = image_dims("Normalize", x)?;
        if self.mean.len() != 1 && self.mean.len() != c {
            return Err(invalid(
                "Normalize",
                format!(
                    "{} channel statistics for an input with {c} channels",
                    self.mean.len()
                ),
            ));
        }
        let stats: Vec<(f32, f32)> = (0..c)
            .map(|ch| {
                let i = if self.mean.len() == 1 { 0 } else { ch };
                (self.mean[i], self.std[i])
            })
            .collect();
        map_images("Normalize", x, &vec![(); n], |s, d, c, h, w, _| {
            for (ch, &(m, sd)) in stats.iter().enumerate().take(c) {
                let r = ch * h * w..(ch + 1) * h * w;
                for (o, i) in d[r.clone()].iter_mut().zip(&s[r]) {
                    *o = (*i - m) / sd;
                }
            }
        })
    }
}

impl Transform for Normalize {
    fn apply(&self, x: &Tensor, _g: &mut Generator) -> Result<Tensor> {
        self.forward(x)
    }
}

/// Applies `f(feature, value)` to an `(N, F)` float tensor, keeping its dtype.
fn per_feature(
    op: &'static str,
    x: &Tensor,
    nf: usize,
    f: impl Fn(usize, f64) -> f64,
) -> Result<Tensor> {
    let f_in = match *x.dims() {
        [_, f] => f,
        _ => {
            return Err(invalid(
                op,
                format!("expected (N, F) features, got shape {}", x.shape()),
            ))
        }
    };
    if f_in != nf {
        return Err(invalid(op, format!("fitted on {nf} features, got {f_in}")));
    }
    let v = x.to_f64_vec()?;
    let out: Vec<f64> = v.iter().enumerate().map(|(i, &a)| f(i % nf, a)).collect();
    match x.dtype() {
        DType::F32 => Tensor::from_vec(
            out.into_iter().map(|a| a as f32).collect::<Vec<_>>(),
            x.shape().clone(),
        ),
        DType::F64 => Tensor::from_vec(out, x.shape().clone()),
        d => Err(Error::DType {
            op,
            expected: "f32 or f64",
            got: d,
        }),
    }
}

/// `(F, min, max, mean, population variance)` per feature.
type ColumnStats = (usize, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

/// Per-feature min and max, and mean and population variance, of `(N, F)` data.
fn column_stats(op: &'static str, x: &Tensor) -> Result<ColumnStats> {
    let (n, nf) = match *x.dims() {
        [n, f] => (n, f),
        _ => {
            return Err(invalid(
                op,
                format!("expected (N, F) features, got shape {}", x.shape()),
            ))
        }
    };
    if n == 0 {
        return Err(invalid(op, "cannot fit on zero rows"));
    }
    if !matches!(x.dtype(), DType::F32 | DType::F64) {
        return Err(Error::DType {
            op,
            expected: "f32 or f64",
            got: x.dtype(),
        });
    }
    let v = x.to_f64_vec()?;
    let (mut mn, mut mx, mut mean) = (
        vec![f64::INFINITY; nf],
        vec![f64::NEG_INFINITY; nf],
        vec![0.0; nf],
    );
    for row in v.chunks(nf) {
        for j in 0..nf {
            mn[j] = mn[j].min(row[j]);
            mx[j] = mx[j].max(row[j]);
            mean[j] += row[j];
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0; nf];
    for row in v.chunks(nf) {
        for j in 0..nf {
            var[j] += (row[j] - mean[j]).powi(2);
        }
    }
    var.iter_mut().for_each(|s| *s /= n as f64);
    Ok((nf, mn, mx, mean, var))
}

/// Standardises features to zero mean and unit variance (`sklearn.preprocessing.StandardScaler`):
/// population std (`ddof = 0`), a zero std becomes 1.
///
/// # Shapes
/// `(N, F)` f32 or f64, unchanged.
///
/// ```
/// use sinapsis::{data::transforms::StandardScaler, Tensor};
/// let x = Tensor::new(&[[1.0f32, 5.0], [3.0, 5.0]])?;
/// let s = StandardScaler::fit(&x)?;
/// assert_eq!((s.mean.clone(), s.scale.clone()), (vec![2.0, 5.0], vec![1.0, 1.0]));
/// assert_eq!(s.transform(&x)?.to_vec::<f32>()?, vec![-1.0, 0.0, 1.0, 0.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// Per-feature means.
    pub mean: Vec<f64>,
    /// Per-feature population standard deviations (1 where the std is 0).
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Fits the per-feature mean and std on (training) data.
    ///
    /// # Errors
    /// If `x` is not `(N, F)` float with `N > 0`.
    ///
    /// ```
    /// use sinapsis::{data::transforms::StandardScaler, Tensor};
    /// assert!(StandardScaler::fit(&Tensor::new(&[1.0f32])?).is_err());
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn fit(x: &Tensor) -> Result<StandardScaler> {
        let (_, _, _, mean, var) = column_stats("StandardScaler::fit", x)?;
        let scale = var
            .iter()
            .map(|v| if *v == 0.0 { 1.0 } else { v.sqrt() })
            .collect();
        Ok(StandardScaler { mean, scale })
    }

    /// `(x - mean) / scale`.
    ///
    /// # Errors
    /// If the feature count differs from the fitted one.
    ///
    /// ```
    /// use sinapsis::{data::transforms::StandardScaler, Tensor};
    /// let s = StandardScaler { mean: vec![1.0], scale: vec![2.0] };
    /// assert_eq!(s.transform(&Tensor::new(&[[5.0f64]])?)?.to_vec::<f64>()?, vec![2.0]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        per_feature("StandardScaler::transform", x, self.mean.len(), |j, v| {
            (v - self.mean[j]) / self.scale[j]
        })
    }

    /// `x * scale + mean`, undoing [`StandardScaler::transform`].
    ///
    /// # Errors
    /// If the feature count differs from the fitted one.
    ///
    /// ```
    /// use sinapsis::{data::transforms::StandardScaler, Tensor};
    /// let s = StandardScaler { mean: vec![1.0], scale: vec![2.0] };
    /// assert_eq!(s.inverse_transform(&Tensor::new(&[[2.0f64]])?)?.to_vec::<f64>()?, vec![5.0]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn inverse_transform(&self, x: &Tensor) -> Result<Tensor> {
        per_feature(
            "StandardScaler::inverse_transform",
            x,
            self.mean.len(),
            |j, v| v * self.scale[j] + self.mean[j],
        )
    }
}

impl Transform for StandardScaler {
    fn apply(&self, x: &Tensor, _g: &mut Generator) -> Result<Tensor> {
        self.transform(x)
    }
}

/// Scales each feature to `feature_range` (`sklearn.preprocessing.MinMaxScaler`); a
/// constant feature maps to the range's lower end.
///
/// # Shapes
/// `(N, F)` f32 or f64, unchanged.
///
/// ```
/// use sinapsis::{data::transforms::MinMaxScaler, Tensor};
/// let x = Tensor::new(&[[0.0f64], [10.0], [5.0]])?;
/// let s = MinMaxScaler::fit(&x, (-1.0, 1.0))?;
/// assert_eq!(s.transform(&x)?.to_vec::<f64>()?, vec![-1.0, 1.0, 0.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    /// The target range `(low, high)`.
    pub feature_range: (f64, f64),
    /// Per-feature minimum of the fitted data.
    pub data_min: Vec<f64>,
    /// Per-feature maximum of the fitted data.
    pub data_max: Vec<f64>,
    /// Per-feature multiplier (`x * scale + min`).
    pub scale: Vec<f64>,
    /// Per-feature offset.
    pub min: Vec<f64>,
}

impl MinMaxScaler {
    /// Fits per-feature minima and maxima on (training) data.
    ///
    /// # Errors
    /// If `x` is not `(N, F)` float with `N > 0`, or `low >= high`.
    ///
    /// ```
    /// use sinapsis::{data::transforms::MinMaxScaler, Tensor};
    /// assert!(MinMaxScaler::fit(&Tensor::new(&[[1.0f32]])?, (1.0, 0.0)).is_err());
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn fit(x: &Tensor, feature_range: (f64, f64)) -> Result<MinMaxScaler> {
        let (lo, hi) = feature_range;
        if lo.is_nan() || hi.is_nan() || lo >= hi {
            return Err(invalid(
                "MinMaxScaler::fit",
                format!("feature_range {feature_range:?} must have low < high"),
            ));
        }
        let (_, data_min, data_max, _, _) = column_stats("MinMaxScaler::fit", x)?;
        let scale: Vec<f64> = data_min
            .iter()
            .zip(&data_max)
            .map(|(a, b)| (hi - lo) / if b - a == 0.0 { 1.0 } else { b - a })
            .collect();
        let min = data_min
            .iter()
            .zip(&scale)
            .map(|(a, s)| lo - a * s)
            .collect();
        Ok(MinMaxScaler {
            feature_range,
            data_min,
            data_max,
            scale,
            min,
        })
    }

    /// `x * scale + min`.
    ///
    /// # Errors
    /// If the feature count differs from the fitted one.
    ///
    /// ```
    /// use sinapsis::{data::transforms::MinMaxScaler, Tensor};
    /// let s = MinMaxScaler::fit(&Tensor::new(&[[2.0f32], [4.0]])?, (0.0, 1.0))?;
    /// assert_eq!(s.transform(&Tensor::new(&[[3.0f32]])?)?.to_vec::<f32>()?, vec![0.5]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        per_feature("MinMaxScaler::transform", x, self.scale.len(), |j, v| {
            v * self.scale[j] + self.min[j]
        })
    }

    /// `(x - min) / scale`, undoing [`MinMaxScaler::transform`].
    ///
    /// # Errors
    /// If the feature count differs from the fitted one.
    ///
    /// ```
    /// use sinapsis::{data::transforms::MinMaxScaler, Tensor};
    /// let s = MinMaxScaler::fit(&Tensor::new(&[[2.0f32], [4.0]])?, (0.0, 1.0))?;
    /// assert_eq!(s.inverse_transform(&Tensor::new(&[[0.5f32]])?)?.to_vec::<f32>()?, vec![3.0]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn inverse_transform(&self, x: &Tensor) -> Result<Tensor> {
        per_feature(
            "MinMaxScaler::inverse_transform",
            x,
            self.scale.len(),
            |j, v| (v - self.min[j]) / self.scale[j],
        )
    }
}

impl Transform for MinMaxScaler {
    fn apply(&self, x: &Tensor, _g: &mut Generator) -> Result<Tensor> {
        self.transform(x)
    }
}

/// One-hot encodes i64 labels as f32 (`F.one_hot(y, k).float()`).
///
/// # Shapes
/// `s` -> `(*s, num_classes)`.
///
/// ```
/// use sinapsis::{data::transforms::OneHot, Tensor};
/// let y = OneHot { num_classes: 3 }.forward(&Tensor::new(&[2i64, 0])?)?;
/// assert_eq!(y.to_vec::<f32>()?, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneHot {
    /// The number of classes.
    pub num_classes: usize,
}

impl OneHot {
    /// Encodes the labels.
    ///
    /// # Errors
    /// If the labels are not i64 or fall outside `0..num_classes`.
    ///
    /// ```
    /// use sinapsis::{data::transforms::OneHot, Tensor};
    /// assert!(OneHot { num_classes: 2 }.forward(&Tensor::new(&[2i64])?).is_err());
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn forward(&self, y: &Tensor) -> Result<Tensor> {
        y.one_hot(self.num_classes)?.to_dtype(DType::F32)
    }
}

impl Transform for OneHot {
    fn apply(&self, x: &Tensor, _g: &mut Generator) -> Result<Tensor> {
        self.forward(x)
    }
}

/// Random shift: pads each image by `padding` zeros on every side, then crops a random
/// window of the original size (`transforms.RandomCrop(size, padding=padding)`).
///
/// # Shapes
/// `(N, C, H, W)` or `(C, H, W)` f32, unchanged; one offset per image.
///
/// ```
/// use sinapsis::{data::transforms::RandomCrop, DType, Generator};
/// let mut g = Generator::new(0);
/// let x = g.rand([2, 1, 8, 8], DType::F32)?;
/// assert_eq!(RandomCrop::new(2).forward(&x, &mut g)?.dims(), &[2, 1, 8, 8]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomCrop {
    /// Zero padding on each side, i.e. the largest shift in pixels.
    pub padding: usize,
}

impl RandomCrop {
    /// A random crop with this padding.
    ///
    /// ```
    /// assert_eq!(sinapsis::data::transforms::RandomCrop::new(4).padding, 4);
    /// ```
    pub fn new(padding: usize) -> RandomCrop {
        RandomCrop { padding }
    }

    /// Shifts every image by an offset drawn uniformly in `-padding..=padding` per axis.
    ///
    /// # Errors
    /// If `x` is not an f32 image tensor.
    ///
    /// ```
    /// use sinapsis::{data::transforms::RandomCrop, Generator, Tensor};
    /// let x = Tensor::new(&[[[1.0f32, 2.0]]])?;
    /// let y = RandomCrop::new(0).forward(&x, &mut Generator::new(1))?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![1.0, 2.0]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn forward(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        let (n, ..) = image_dims("RandomCrop", x)?;
        let span = 2 * self.padding as u64 + 1;
        let p = self.padding as isize;
        let offs: Vec<(isize, isize)> = (0..n)
            .map(|_| {
                let dy = (g.next_u64() % span) as isize - p;
                let dx = (g.next_u64() % span) as isize - p;
                (dy, dx)
            })
            .collect();
        map_images("RandomCrop", x, &offs, shift_image)
    }
}

impl Transform for RandomCrop {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        self.forward(x, g)
    }
}

/// Random rotation by an angle drawn uniformly from `[min_deg, max_deg]` per image,
/// bilinear, fill 0 (`transforms.RandomRotation(degrees, interpolation=BILINEAR)`).
///
/// # Shapes
/// `(N, C, H, W)` or `(C, H, W)` f32, unchanged.
///
/// ```
/// use sinapsis::{data::transforms::RandomRotation, DType, Generator};
/// let mut g = Generator::new(0);
/// let x = g.rand([1, 6, 6], DType::F32)?;
/// assert_eq!(RandomRotation::new(-15.0, 15.0).forward(&x, &mut g)?.dims(), &[1, 6, 6]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomRotation {
    /// Smallest angle, degrees (counter-clockwise positive).
    pub min_deg: f32,
    /// Largest angle, degrees.
    pub max_deg: f32,
}

impl RandomRotation {
    /// A rotation with angles in `[min_deg, max_deg]`.
    ///
    /// ```
    /// let r = sinapsis::data::transforms::RandomRotation::new(-10.0, 10.0);
    /// assert_eq!(r.max_deg, 10.0);
    /// ```
    pub fn new(min_deg: f32, max_deg: f32) -> RandomRotation {
        RandomRotation { min_deg, max_deg }
    }

    /// Rotates every image by its own random angle.
    ///
    /// # Errors
    /// If `x` is not an f32 image tensor, or `min_deg > max_deg`.
    ///
    /// ```
    /// use sinapsis::{data::transforms::RandomRotation, Generator, Tensor};
    /// let x = Tensor::new(&[[[1.0f32, 2.0], [3.0, 4.0]]])?;
    /// let y = RandomRotation::new(0.0, 0.0).forward(&x, &mut Generator::new(1))?;
    /// assert_eq!(y.to_vec::<f32>()?, x.to_vec::<f32>()?);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn forward(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        if self.min_deg.is_nan() || self.max_deg.is_nan() || self.min_deg > self.max_deg {
            return Err(invalid(
                "RandomRotation",
                format!(
                    "min_deg {} must not exceed max_deg {}",
                    self.min_deg, self.max_deg
                ),
            ));
        }
        let (n, ..) = image_dims("RandomRotation", x)?;
        let span = (self.max_deg - self.min_deg) as f64;
        let angles: Vec<f32> = (0..n)
            .map(|_| (self.min_deg as f64 + span * unif(g)) as f32)
            .collect();
        map_images("RandomRotation", x, &angles, rotate_image)
    }
}

impl Transform for RandomRotation {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        self.forward(x, g)
    }
}

/// Flips each image left-right with probability `p` (`transforms.RandomHorizontalFlip`).
///
/// Leave it out for digits and text (a mirrored 3 is not a 3); the default `p` is 0.5 as in
/// torchvision, meant for natural images.
///
/// # Shapes
/// `(N, C, H, W)` or `(C, H, W)` f32, unchanged.
///
/// ```
/// use sinapsis::{data::transforms::RandomHorizontalFlip, Generator, Tensor};
/// let x = Tensor::new(&[[[1.0f32, 2.0]]])?;
/// let y = RandomHorizontalFlip::new(1.0).forward(&x, &mut Generator::new(0))?;
/// assert_eq!(y.to_vec::<f32>()?, vec![2.0, 1.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomHorizontalFlip {
    /// Probability of flipping each image.
    pub p: f64,
}

impl Default for RandomHorizontalFlip {
    fn default() -> Self {
        RandomHorizontalFlip { p: 0.5 }
    }
}

impl RandomHorizontalFlip {
    /// A flip with probability `p`.
    ///
    /// ```
    /// assert_eq!(sinapsis::data::transforms::RandomHorizontalFlip::new(0.3).p, 0.3);
    /// ```
    pub fn new(p: f64) -> RandomHorizontalFlip {
        RandomHorizontalFlip { p }
    }

    /// Flips each image independently with probability `p`.
    ///
    /// # Errors
    /// If `x` is not an f32 image tensor.
    ///
    /// ```
    /// use sinapsis::{data::transforms::RandomHorizontalFlip, Generator, Tensor};
    /// let x = Tensor::new(&[[[1.0f32, 2.0]]])?;
    /// let y = RandomHorizontalFlip::new(0.0).forward(&x, &mut Generator::new(0))?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![1.0, 2.0]);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn forward(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        let (n, ..) = image_dims("RandomHorizontalFlip", x)?;
        let flips: Vec<bool> = (0..n).map(|_| unif(g) < self.p).collect();
        map_images("RandomHorizontalFlip", x, &flips, flip_image)
    }
}

impl Transform for RandomHorizontalFlip {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        self.forward(x, g)
    }
}

/// Any of this module's transforms, as one serialisable value (for [`Compose`]).
///
/// ```
/// use sinapsis::data::transforms::{AnyTransform, RandomCrop};
/// let t: AnyTransform = RandomCrop::new(2).into();
/// let json = serde_json::to_string(&t).unwrap();
/// assert_eq!(serde_json::from_str::<AnyTransform>(&json).unwrap(), t);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AnyTransform {
    /// [`Normalize`].
    Normalize(Normalize),
    /// [`StandardScaler`].
    StandardScaler(StandardScaler),
    /// [`MinMaxScaler`].
    MinMaxScaler(MinMaxScaler),
    /// [`OneHot`].
    OneHot(OneHot),
    /// [`RandomCrop`].
    RandomCrop(RandomCrop),
    /// [`RandomRotation`].
    RandomRotation(RandomRotation),
    /// [`RandomHorizontalFlip`].
    RandomHorizontalFlip(RandomHorizontalFlip),
    /// A nested [`Compose`].
    Compose(Compose),
}

macro_rules! any_from {
    ($($t:ident),*) => {$(
        impl From<$t> for AnyTransform {
            fn from(t: $t) -> Self {
                AnyTransform::$t(t)
            }
        }
    )*};
}
any_from!(
    Normalize,
    StandardScaler,
    MinMaxScaler,
    OneHot,
    RandomCrop,
    RandomRotation,
    RandomHorizontalFlip,
    Compose
);

impl Transform for AnyTransform {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        match self {
            AnyTransform::Normalize(t) => t.apply(x, g),
            AnyTransform::StandardScaler(t) => t.apply(x, g),
            AnyTransform::MinMaxScaler(t) => t.apply(x, g),
            AnyTransform::OneHot(t) => t.apply(x, g),
            AnyTransform::RandomCrop(t) => t.apply(x, g),
            AnyTransform::RandomRotation(t) => t.apply(x, g),
            AnyTransform::RandomHorizontalFlip(t) => t.apply(x, g),
            AnyTransform::Compose(t) => t.apply(x, g),
        }
    }
}

/// Applies transforms in order (`transforms.Compose`); serialisable as a whole.
///
/// ```
/// use sinapsis::data::transforms::{Compose, Normalize, Transform};
/// use sinapsis::{Generator, Tensor};
/// let c = Compose::new().then(Normalize::new(vec![0.5], vec![0.5])?);
/// let y = c.apply(&Tensor::new(&[[[1.0f32]]])?, &mut Generator::new(0))?;
/// assert_eq!(y.to_vec::<f32>()?, vec![1.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Compose {
    /// The transforms, applied first to last.
    pub steps: Vec<AnyTransform>,
}

impl Compose {
    /// An empty pipeline (the identity).
    ///
    /// ```
    /// assert!(sinapsis::data::transforms::Compose::new().steps.is_empty());
    /// ```
    pub fn new() -> Compose {
        Compose { steps: Vec::new() }
    }

    /// Appends a transform.
    ///
    /// ```
    /// use sinapsis::data::transforms::{Compose, RandomCrop};
    /// assert_eq!(Compose::new().then(RandomCrop::new(1)).steps.len(), 1);
    /// ```
    pub fn then(mut self, t: impl Into<AnyTransform>) -> Compose {
        self.steps.push(t.into());
        self
    }
}

impl Transform for Compose {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        let mut y = x.clone();
        for t in &self.steps {
            y = t.apply(&y, g)?;
        }
        Ok(y)
    }
}
