//! Synthetic data sets with scikit-learn's parameters and semantics (`sklearn.datasets.make_*`)
//! plus the tutorials' "toy circle" set.
//!
//! Every generator takes a `seed` and draws from its own [`Generator`], so the same seed gives
//! the same data and different seeds give different data. The streams are not numpy's, so the
//! numbers differ from scikit-learn's; the definitions (and so the statistics) are the same.
//!
//! Features come back as an `(n_samples, n_features)` float tensor, classification labels as
//! an `(n_samples,)` I64 tensor, regression targets as a float tensor. Values are computed in
//! f64; [`make_circles`], [`make_moons`] and [`toy_circle`] return F32 (for F64, call
//! `x.to_dtype(DType::F64)`, or use the config structs, whose `dtype` field picks F32 or F64
//! with no intermediate rounding).

use std::collections::HashSet;
use std::f64::consts::PI;

use crate::{DType, Error, Generator, Result, Tensor};

// ---- helpers ------------------------------------------------------------------------------

fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}

fn check_n_samples(op: &'static str, n_samples: usize) -> Result<()> {
    if n_samples == 0 {
        return Err(invalid(op, "n_samples must be >= 1, got 0"));
    }
    Ok(())
}

fn check_noise(op: &'static str, noise: f64) -> Result<()> {
    if !noise.is_finite() || noise < 0.0 {
        return Err(invalid(
            op,
            format!("noise must be finite and >= 0, got {noise}"),
        ));
    }
    Ok(())
}

fn check_float(op: &'static str, dtype: DType) -> Result<()> {
    match dtype {
        DType::F32 | DType::F64 => Ok(()),
        other => Err(Error::DType {
            op,
            expected: "F32 or F64",
            got: other,
        }),
    }
}

/// A float tensor of `shape` from f64 values, rounded once to `dtype`.
fn float_tensor(data: Vec<f64>, shape: Vec<usize>, dtype: DType) -> Result<Tensor> {
    match dtype {
        DType::F32 => Tensor::from_vec(data.into_iter().map(|v| v as f32).collect(), shape),
        _ => Tensor::from_vec(data, shape),
    }
}

fn labels(y: Vec<i64>) -> Result<Tensor> {
    let n = y.len();
    Tensor::from_vec(y, n)
}

/// `n` standard normal draws.
fn normals(g: &mut Generator, n: usize) -> Result<Vec<f64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    g.randn(n, DType::F64)?.to_vec::<f64>()
}

/// `n` draws from U[0, 1).
fn uniforms(g: &mut Generator, n: usize) -> Result<Vec<f64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    g.rand(n, DType::F64)?.to_vec::<f64>()
}

/// A uniform integer in `0..k` (`k >= 1`; bias below 2^-64 * k, negligible).
fn below(g: &mut Generator, k: u64) -> u64 {
    ((g.next_u64() as u128 * k as u128) >> 64) as u64
}

/// A random permutation of `0..n`.
fn permutation(g: &mut Generator, n: usize) -> Result<Vec<usize>> {
    Ok(g.randperm(n)?
        .to_vec::<i64>()?
        .into_iter()
        .map(|i| i as usize)
        .collect())
}

/// Shuffles the rows of a row-major `(n, d)` matrix and the labels together
/// (scikit-learn's `utils.shuffle(X, y)`).
fn shuffle_rows<T: Copy>(
    g: &mut Generator,
    x: &mut Vec<f64>,
    d: usize,
    y: &mut Vec<T>,
) -> Result<()> {
    let n = y.len();
    let perm = permutation(g, n)?;
    let mut nx = Vec::with_capacity(x.len());
    let mut ny = Vec::with_capacity(n);
    for &p in &perm {
        nx.extend_from_slice(&x[p * d..(p + 1) * d]);
        ny.push(y[p]);
    }
    *x = nx;
    *y = ny;
    Ok(())
}

/// Permutes the columns of a row-major `(n, d)` matrix: new column `j` is old column `perm[j]`.
fn permute_columns(x: &mut [f64], d: usize, perm: &[usize]) {
    let mut row = vec![0.0; d];
    for r in x.chunks_mut(d) {
        for (j, &p) in perm.iter().enumerate() {
            row[j] = r[p];
        }
        r.copy_from_slice(&row);
    }
}

/// numpy's `linspace(start, stop, n, endpoint)`.
fn linspace(start: f64, stop: f64, n: usize, endpoint: bool) -> Vec<f64> {
    let div = if endpoint { n.saturating_sub(1) } else { n };
    if div == 0 {
        return vec![start; n];
    }
    let step = (stop - start) / div as f64;
    (0..n).map(|i| start + i as f64 * step).collect()
}

/// Two-class 2-D points with optional shuffling and gaussian noise (circles and moons).
fn two_curves(
    g: &mut Generator,
    mut x: Vec<f64>,
    n_out: usize,
    n_in: usize,
    shuffle: bool,
    noise: f64,
) -> Result<(Tensor, Tensor)> {
    let mut y: Vec<i64> = std::iter::repeat_n(0, n_out)
        .chain(std::iter::repeat_n(1, n_in))
        .collect();
    if shuffle {
        shuffle_rows(g, &mut x, 2, &mut y)?;
    }
    if noise > 0.0 {
        let eps = normals(g, x.len())?;
        for (v, e) in x.iter_mut().zip(eps) {
            *v += noise * e;
        }
    }
    let n = y.len();
    Ok((float_tensor(x, vec![n, 2], DType::F32)?, labels(y)?))
}

// ---- circles, moons, toy circle -------------------------------------------------------------

/// A large circle containing a smaller one: a binary problem that is not linearly separable
/// (scikit-learn's `make_circles`).
///
/// Definition: `n_out = n_samples / 2` (rounded down) points at angles
/// `linspace(0, 2π, n_out, endpoint=False)` on the unit circle, label 0, and
/// `n_in = n_samples - n_out` points at angles `linspace(0, 2π, n_in, endpoint=False)` on the
/// circle of radius `factor`, label 1. With `shuffle` the rows are permuted; then gaussian
/// noise of standard deviation `noise` is added to every coordinate (0 for none).
///
/// # Shapes
/// Returns `X: (n_samples, 2)` F32 and `y: (n_samples,)` I64.
///
/// # Errors
/// If `n_samples` is 0, `noise` is negative or not finite, or `factor` is outside `[0, 1)`.
///
/// ```
/// use sinapsis::data::synthetic::make_circles;
/// use sinapsis::DType;
/// let (x, y) = make_circles(100, true, 0.05, 0.5, 0)?;
/// assert_eq!((x.dims(), y.dims()), (&[100, 2][..], &[100][..]));
/// assert_eq!(x.to_dtype(DType::F64)?.dtype(), DType::F64); // F64 if needed
/// assert!(make_circles(100, true, 0.0, 1.0, 0).is_err());
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn make_circles(
    n_samples: usize,
    shuffle: bool,
    noise: f64,
    factor: f64,
    seed: u64,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "make_circles";
    check_n_samples(OP, n_samples)?;
    check_noise(OP, noise)?;
    if !(0.0..1.0).contains(&factor) {
        return Err(invalid(
            OP,
            format!("factor must be in [0, 1), got {factor}"),
        ));
    }
    let n_out = n_samples / 2;
    let n_in = n_samples - n_out;
    let mut x = Vec::with_capacity(2 * n_samples);
    for t in linspace(0.0, 2.0 * PI, n_out, false) {
        x.extend_from_slice(&[t.cos(), t.sin()]);
    }
    for t in linspace(0.0, 2.0 * PI, n_in, false) {
        x.extend_from_slice(&[factor * t.cos(), factor * t.sin()]);
    }
    two_curves(&mut Generator::new(seed), x, n_out, n_in, shuffle, noise)
}

/// Two interleaving half circles (scikit-learn's `make_moons`).
///
/// Definition: `n_out = n_samples / 2` (rounded down) points `(cos t, sin t)` for
/// `t` in `linspace(0, π, n_out)` (endpoints included), label 0, and `n_in = n_samples - n_out`
/// points `(1 - cos t, 1 - sin t - 0.5)` for `t` in `linspace(0, π, n_in)`, label 1. With
/// `shuffle` the rows are permuted; then gaussian noise of standard deviation `noise` is added
/// to every coordinate (0 for none).
///
/// # Shapes
/// Returns `X: (n_samples, 2)` F32 and `y: (n_samples,)` I64.
///
/// # Errors
/// If `n_samples` is 0 or `noise` is negative or not finite.
///
/// ```
/// use sinapsis::data::synthetic::make_moons;
/// let (x, y) = make_moons(200, true, 0.1, 42)?;
/// assert_eq!(x.dims(), &[200, 2]);
/// assert_eq!(y.to_vec::<i64>()?.iter().sum::<i64>(), 100);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn make_moons(
    n_samples: usize,
    shuffle: bool,
    noise: f64,
    seed: u64,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "make_moons";
    check_n_samples(OP, n_samples)?;
    check_noise(OP, noise)?;
    let n_out = n_samples / 2;
    let n_in = n_samples - n_out;
    let mut x = Vec::with_capacity(2 * n_samples);
    for t in linspace(0.0, PI, n_out, true) {
        x.extend_from_slice(&[t.cos(), t.sin()]);
    }
    for t in linspace(0.0, PI, n_in, true) {
        x.extend_from_slice(&[1.0 - t.cos(), 1.0 - t.sin() - 0.5]);
    }
    two_curves(&mut Generator::new(seed), x, n_out, n_in, shuffle, noise)
}

/// The tutorials' "toy circle" set: 2-D standard normal points labelled by whether they lie
/// outside the unit circle.
///
/// Definition: `x ~ N(0, I₂)`, `y = 1` if `x₀² + x₁² > 1` else 0. Since `x₀² + x₁²` is χ²
/// with 2 degrees of freedom, the expected fraction of positives is `exp(-1/2) ≈ 0.6065`.
///
/// # Shapes
/// Returns `X: (n, 2)` F32 and `y: (n,)` I64.
///
/// # Errors
/// If `n` is 0.
///
/// ```
/// use sinapsis::data::synthetic::toy_circle;
/// let (x, y) = toy_circle(1000, 0)?;
/// assert_eq!((x.dims(), y.dims()), (&[1000, 2][..], &[1000][..]));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn toy_circle(n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    check_n_samples("toy_circle", n)?;
    let x = normals(&mut Generator::new(seed), 2 * n)?;
    // The label is decided on the values as returned (F32), so the rule holds exactly.
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let y: Vec<i64> = x32
        .chunks(2)
        .map(|p| i64::from(p[0] * p[0] + p[1] * p[1] > 1.0))
        .collect();
    Ok((Tensor::from_vec(x32, (n, 2))?, labels(y)?))
}

// ---- blobs ---------------------------------------------------------------------------------

/// The cluster centers of [`make_blobs`].
#[derive(Clone, Debug, PartialEq)]
pub enum Centers {
    /// This many centers drawn uniformly from `center_box` in every feature.
    Count(usize),
    /// These centers (one row each; their length sets `n_features`).
    Points(Vec<Vec<f64>>),
}

/// Parameters of [`make_blobs`] (scikit-learn's names and defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct BlobsConfig {
    /// Total number of points, split as evenly as possible among the centers (the first
    /// `n_samples % n_centers` centers get one more). Default 100.
    pub n_samples: usize,
    /// Number of features when `centers` is a count (ignored for explicit points). Default 2.
    pub n_features: usize,
    /// Number of centers or the centers themselves. Default `Count(3)`.
    pub centers: Centers,
    /// Standard deviation of each cluster: one value for all, or one per center.
    /// Default `[1.0]`.
    pub cluster_std: Vec<f64>,
    /// Bounds `(low, high)` of the random centers. Default `(-10.0, 10.0)`.
    pub center_box: (f64, f64),
    /// Whether to shuffle the points. Default true.
    pub shuffle: bool,
    /// Seed of the generator. Default 0.
    pub seed: u64,
    /// F32 (default) or F64 for `X` and the centers.
    pub dtype: DType,
}

impl Default for BlobsConfig {
    fn default() -> Self {
        BlobsConfig {
            n_samples: 100,
            n_features: 2,
            centers: Centers::Count(3),
            cluster_std: vec![1.0],
            center_box: (-10.0, 10.0),
            shuffle: true,
            seed: 0,
            dtype: DType::F32,
        }
    }
}

/// Isotropic gaussian blobs for clustering and classification (scikit-learn's `make_blobs`).
///
/// Definition: centers are given or drawn from `U[center_box.0, center_box.1)` per feature;
/// center `i` gets `n_samples / n_centers` points (the first `n_samples % n_centers` one more),
/// drawn from `N(center_i, cluster_std_i² I)` and labelled `i`. With `shuffle` the rows are
/// permuted. See [`make_blobs_with_centers`] to get the centers too.
///
/// # Shapes
/// Returns `X: (n_samples, n_features)` and `y: (n_samples,)` I64.
///
/// # Errors
/// If `n_samples` is 0, there are no centers, `n_features` is 0, explicit centers have
/// different lengths, `cluster_std` has a length other than 1 or `n_centers` or a negative
/// value, or `center_box` is not finite with `low <= high`.
///
/// ```
/// use sinapsis::data::synthetic::{make_blobs, BlobsConfig, Centers};
/// let (x, y) = make_blobs(&BlobsConfig {
///     n_samples: 300,
///     centers: Centers::Points(vec![vec![0.0, 0.0], vec![5.0, 5.0]]),
///     cluster_std: vec![0.5],
///     ..Default::default()
/// })?;
/// assert_eq!((x.dims(), y.dims()), (&[300, 2][..], &[300][..]));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn make_blobs(config: &BlobsConfig) -> Result<(Tensor, Tensor)> {
    let (x, y, _) = make_blobs_with_centers(config)?;
    Ok((x, y))
}

/// [`make_blobs`] that also returns the centers (scikit-learn's `return_centers=True`).
///
/// # Shapes
/// Returns `X: (n_samples, n_features)`, `y: (n_samples,)` I64 and
/// `centers: (n_centers, n_features)`.
///
/// # Errors
/// As [`make_blobs`].
///
/// ```
/// use sinapsis::data::synthetic::{make_blobs_with_centers, BlobsConfig, Centers};
/// let cfg = BlobsConfig { centers: Centers::Count(4), n_features: 3, ..Default::default() };
/// let (x, _y, centers) = make_blobs_with_centers(&cfg)?;
/// assert_eq!((x.dims(), centers.dims()), (&[100, 3][..], &[4, 3][..]));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn make_blobs_with_centers(config: &BlobsConfig) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "make_blobs";
    check_n_samples(OP, config.n_samples)?;
    check_float(OP, config.dtype)?;
    let mut g = Generator::new(config.seed);
    let (centers, d): (Vec<f64>, usize) = match &config.centers {
        Centers::Count(0) => return Err(invalid(OP, "centers must be >= 1, got 0")),
        Centers::Count(k) => {
            let d = config.n_features;
            if d == 0 {
                return Err(invalid(OP, "n_features must be >= 1, got 0"));
            }
            let (lo, hi) = config.center_box;
            if !lo.is_finite() || !hi.is_finite() || lo > hi {
                return Err(invalid(
                    OP,
                    format!("center_box must be finite with low <= high, got ({lo}, {hi})"),
                ));
            }
            let u = uniforms(&mut g, k * d)?;
            (u.into_iter().map(|u| lo + (hi - lo) * u).collect(), d)
        }
        Centers::Points(points) => {
            let Some(first) = points.first() else {
                return Err(invalid(OP, "centers must contain at least one point"));
            };
            let d = first.len();
            if d == 0 {
                return Err(invalid(OP, "centers must have at least one feature"));
            }
            if let Some((i, p)) = points.iter().enumerate().find(|(_, p)| p.len() != d) {
                return Err(invalid(
                    OP,
                    format!(
                        "all centers must have the same length: center 0 has {d}, center {i} has {}",
                        p.len()
                    ),
                ));
            }
            (points.iter().flatten().copied().collect(), d)
        }
    };
    let k = centers.len() / d;
    let std = &config.cluster_std;
    if std.len() != 1 && std.len() != k {
        return Err(invalid(
            OP,
            format!(
                "cluster_std must have 1 or n_centers = {k} values, got {}",
                std.len()
            ),
        ));
    }
    if let Some(s) = std.iter().find(|s| !s.is_finite() || **s < 0.0) {
        return Err(invalid(
            OP,
            format!("cluster_std must be finite and >= 0, got {s}"),
        ));
    }
    let n = config.n_samples;
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for i in 0..k {
        let count = n / k + usize::from(i < n % k);
        let s = if std.len() == 1 { std[0] } else { std[i] };
        let c = &centers[i * d..(i + 1) * d];
        let eps = normals(&mut g, count * d)?;
        for row in eps.chunks(d) {
            x.extend(row.iter().zip(c).map(|(e, c)| c + s * e));
            y.push(i as i64);
        }
    }
    if config.shuffle {
        shuffle_rows(&mut g, &mut x, d, &mut y)?;
    }
    Ok((
        float_tensor(x, vec![n, d], config.dtype)?,
        labels(y)?,
        float_tensor(centers, vec![k, d], config.dtype)?,
    ))
}

// ---- classification ------------------------------------------------------------------------

/// Parameters of [`make_classification`] (scikit-learn's names and defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassificationConfig {
    /// Number of samples. Default 100.
    pub n_samples: usize,
    /// Total number of features. Default 20.
    pub n_features: usize,
    /// Informative features (the hypercube's dimensions). Default 2.
    pub n_informative: usize,
    /// Random linear combinations of the informative features. Default 2.
    pub n_redundant: usize,
    /// Copies of informative or redundant features, drawn at random. Default 0.
    pub n_repeated: usize,
    /// Number of classes. Default 2.
    pub n_classes: usize,
    /// Gaussian clusters per class. Default 2.
    pub n_clusters_per_class: usize,
    /// Class proportions (`n_classes` values, or `n_classes - 1` with the last inferred);
    /// `None` (default) for balanced classes.
    pub weights: Option<Vec<f64>>,
    /// Fraction of samples whose label is replaced by a uniformly random class (which may be
    /// the same one). Default 0.01.
    pub flip_y: f64,
    /// Half the side of the hypercube: larger values spread the clusters. Default 1.0.
    pub class_sep: f64,
    /// Clusters on hypercube vertices (default true) or on a random polytope.
    pub hypercube: bool,
    /// Added to every feature after generation. Default 0.0.
    pub shift: f64,
    /// Multiplies every feature after the shift. Default 1.0.
    pub scale: f64,
    /// Shuffle the samples and the features. Default true.
    pub shuffle: bool,
    /// Seed of the generator. Default 0.
    pub seed: u64,
    /// F32 (default) or F64 for `X`.
    pub dtype: DType,
}

impl Default for ClassificationConfig {
    fn default() -> Self {
        ClassificationConfig {
            n_samples: 100,
            n_features: 20,
            n_informative: 2,
            n_redundant: 2,
            n_repeated: 0,
            n_classes: 2,
            n_clusters_per_class: 2,
            weights: None,
            flip_y: 0.01,
            class_sep: 1.0,
            hypercube: true,
            shift: 0.0,
            scale: 1.0,
            shuffle: true,
            seed: 0,
            dtype: DType::F32,
        }
    }
}

/// `count` distinct random vertices of the `dim`-dimensional unit hypercube, as 0/1 rows.
fn hypercube_vertices(g: &mut Generator, count: usize, dim: usize) -> Vec<Vec<f64>> {
    let bits = |v: u64| (0..dim).rev().map(|b| ((v >> b) & 1) as f64).collect();
    if dim < 64 {
        // Floyd's sampling without replacement from 0..2^dim.
        let total = 1u64 << dim;
        let mut chosen = HashSet::with_capacity(count);
        let mut order = Vec::with_capacity(count);
        for j in (total - count as u64)..total {
            let t = below(g, j + 1);
            let v = if chosen.contains(&t) { j } else { t };
            chosen.insert(v);
            order.push(v);
        }
        order.into_iter().map(bits).collect()
    } else {
        let mut seen = HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let words: Vec<u64> = (0..dim.div_ceil(64)).map(|_| g.next_u64()).collect();
            if seen.insert(words.clone()) {
                out.push(
                    (0..dim)
                        .map(|b| ((words[b / 64] >> (b % 64)) & 1) as f64)
                        .collect(),
                );
            }
        }
        out
    }
}

/// A random n-class classification problem (scikit-learn's `make_classification`).
///
/// Definition (scikit-learn's construction): `n_classes * n_clusters_per_class` clusters sit
/// on distinct random vertices of a hypercube of side `2 * class_sep` in the first
/// `n_informative` dimensions (centered at 0); cluster `k` belongs to class
/// `k % n_classes`. Each cluster's informative features are standard normal, multiplied by a
/// random matrix with entries in `[-1, 1)` (introducing covariance) and moved to the vertex.
/// The next `n_redundant` features are `X_inf @ B` with `B` random in `[-1, 1)`, the next
/// `n_repeated` copy random informative/redundant columns, and the remaining features are
/// standard normal noise. Then a fraction `flip_y` of labels are replaced by random classes,
/// `X = (X + shift) * scale`, and with `shuffle` both the samples and the feature columns are
/// permuted (with `shuffle = false` the columns stay in the order informative, redundant,
/// repeated, useless).
///
/// Samples are split among clusters by `weights` as scikit-learn does
/// (`floor(n_samples * w_class / n_clusters_per_class)` each, remainder round-robin).
///
/// # Shapes
/// Returns `X: (n_samples, n_features)` and `y: (n_samples,)` I64.
///
/// # Errors
/// If `n_samples`, `n_features`, `n_informative`, `n_classes` or `n_clusters_per_class` is 0,
/// `n_informative + n_redundant + n_repeated > n_features`,
/// `n_classes * n_clusters_per_class > 2^n_informative`, `flip_y` is outside `[0, 1]`,
/// `class_sep` is negative, `weights` has the wrong length or negative values, or `shift`/
/// `scale` is not finite.
///
/// ```
/// use sinapsis::data::synthetic::{make_classification, ClassificationConfig};
/// let (x, y) = make_classification(&ClassificationConfig {
///     n_samples: 500,
///     n_features: 10,
///     n_informative: 3,
///     n_classes: 3,
///     ..Default::default()
/// })?;
/// assert_eq!((x.dims(), y.dims()), (&[500, 10][..], &[500][..]));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn make_classification(config: &ClassificationConfig) -> Result<(Tensor, Tensor)> {
    const OP: &str = "make_classification";
    let c = config;
    check_n_samples(OP, c.n_samples)?;
    check_float(OP, c.dtype)?;
    for (name, v) in [
        ("n_features", c.n_features),
        ("n_informative", c.n_informative),
        ("n_classes", c.n_classes),
        ("n_clusters_per_class", c.n_clusters_per_class),
    ] {
        if v == 0 {
            return Err(invalid(OP, format!("{name} must be >= 1, got 0")));
        }
    }
    let used = c.n_informative + c.n_redundant + c.n_repeated;
    if used > c.n_features {
        return Err(invalid(
            OP,
            format!(
                "n_informative ({}) + n_redundant ({}) + n_repeated ({}) = {used} must be <= n_features ({})",
                c.n_informative, c.n_redundant, c.n_repeated, c.n_features
            ),
        ));
    }
    let n_clusters = c.n_classes.checked_mul(c.n_clusters_per_class);
    let fits = match (n_clusters, u32::try_from(c.n_informative)) {
        (Some(k), Ok(inf)) if inf < 64 => (k as u64) <= (1u64 << inf),
        (Some(_), _) => true,
        (None, _) => false,
    };
    if !fits {
        return Err(invalid(
            OP,
            format!(
                "n_classes ({}) * n_clusters_per_class ({}) must be <= 2^n_informative (2^{})",
                c.n_classes, c.n_clusters_per_class, c.n_informative
            ),
        ));
    }
    let n_clusters = c.n_classes * c.n_clusters_per_class;
    if !(0.0..=1.0).contains(&c.flip_y) {
        return Err(invalid(
            OP,
            format!("flip_y must be in [0, 1], got {}", c.flip_y),
        ));
    }
    if !c.class_sep.is_finite() || c.class_sep < 0.0 {
        return Err(invalid(
            OP,
            format!("class_sep must be finite and >= 0, got {}", c.class_sep),
        ));
    }
    if !c.shift.is_finite() || !c.scale.is_finite() {
        return Err(invalid(
            OP,
            format!(
                "shift and scale must be finite, got {} and {}",
                c.shift, c.scale
            ),
        ));
    }
    let weights: Vec<f64> = match &c.weights {
        None => vec![1.0 / c.n_classes as f64; c.n_classes],
        Some(w) => {
            if w.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(invalid(
                    OP,
                    format!("weights must be finite and >= 0, got {w:?}"),
                ));
            }
            if w.len() == c.n_classes {
                w.clone()
            } else if w.len() + 1 == c.n_classes {
                let mut w = w.clone();
                w.push(1.0 - w.iter().sum::<f64>());
                w
            } else {
                return Err(invalid(
                    OP,
                    format!(
                        "weights must have n_classes ({}) or n_classes - 1 values, got {}",
                        c.n_classes,
                        w.len()
                    ),
                ));
            }
        }
    };

    let (n, d, ni) = (c.n_samples, c.n_features, c.n_informative);
    let mut per_cluster: Vec<usize> = (0..n_clusters)
        .map(|k| {
            let v = n as f64 * weights[k % c.n_classes] / c.n_clusters_per_class as f64;
            v.max(0.0) as usize
        })
        .collect();
    let assigned: usize = per_cluster.iter().sum();
    for i in 0..n.saturating_sub(assigned) {
        per_cluster[i % n_clusters] += 1;
    }

    let mut g = Generator::new(c.seed);
    let mut centroids = hypercube_vertices(&mut g, n_clusters, ni);
    for row in &mut centroids {
        for v in row.iter_mut() {
            *v = *v * 2.0 * c.class_sep - c.class_sep;
        }
    }
    if !c.hypercube {
        let a = uniforms(&mut g, n_clusters)?;
        let b = uniforms(&mut g, ni)?;
        for (row, a) in centroids.iter_mut().zip(a) {
            for (v, b) in row.iter_mut().zip(&b) {
                *v *= 2.0 * a * b;
            }
        }
    }

    // Informative features, cluster by cluster (rows in cluster order).
    let z = normals(&mut g, n * ni)?;
    let mut x = vec![0.0; n * d];
    let mut y = vec![0i64; n];
    let mut start = 0;
    for (k, centroid) in centroids.iter().enumerate() {
        let stop = start + per_cluster[k];
        let a: Vec<f64> = uniforms(&mut g, ni * ni)?
            .into_iter()
            .map(|u| 2.0 * u - 1.0)
            .collect();
        for r in start..stop {
            y[r] = (k % c.n_classes) as i64;
            let zr = &z[r * ni..(r + 1) * ni];
            for j in 0..ni {
                let dot: f64 = (0..ni).map(|l| zr[l] * a[l * ni + j]).sum();
                x[r * d + j] = dot + centroid[j];
            }
        }
        start = stop;
    }
    // Redundant: X_inf @ B.
    if c.n_redundant > 0 {
        let nr = c.n_redundant;
        let b: Vec<f64> = uniforms(&mut g, ni * nr)?
            .into_iter()
            .map(|u| 2.0 * u - 1.0)
            .collect();
        for r in 0..n {
            for j in 0..nr {
                let dot: f64 = (0..ni).map(|l| x[r * d + l] * b[l * nr + j]).sum();
                x[r * d + ni + j] = dot;
            }
        }
    }
    // Repeated: copies of random informative/redundant columns.
    if c.n_repeated > 0 {
        let m = ni + c.n_redundant;
        let idx: Vec<usize> = uniforms(&mut g, c.n_repeated)?
            .into_iter()
            .map(|u| ((m - 1) as f64 * u + 0.5) as usize)
            .collect();
        for r in 0..n {
            for (j, &src) in idx.iter().enumerate() {
                x[r * d + m + j] = x[r * d + src];
            }
        }
    }
    // Useless: standard normal noise.
    let n_useless = d - used;
    if n_useless > 0 {
        let e = normals(&mut g, n * n_useless)?;
        for r in 0..n {
            x[r * d + used..(r + 1) * d].copy_from_slice(&e[r * n_useless..(r + 1) * n_useless]);
        }
    }
    // Label noise.
    if c.flip_y > 0.0 {
        let u = uniforms(&mut g, n)?;
        for (yr, u) in y.iter_mut().zip(u) {
            if u < c.flip_y {
                *yr = below(&mut g, c.n_classes as u64) as i64;
            }
        }
    }
    for v in &mut x {
        *v = (*v + c.shift) * c.scale;
    }
    if c.shuffle {
        shuffle_rows(&mut g, &mut x, d, &mut y)?;
        let cols = permutation(&mut g, d)?;
        permute_columns(&mut x, d, &cols);
    }
    Ok((float_tensor(x, vec![n, d], c.dtype)?, labels(y)?))
}

// ---- regression ----------------------------------------------------------------------------

/// Parameters of [`make_regression`] (scikit-learn's names and defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionConfig {
    /// Number of samples. Default 100.
    pub n_samples: usize,
    /// Number of features. Default 100.
    pub n_features: usize,
    /// Features with a nonzero coefficient (clipped to `n_features`). Default 10.
    pub n_informative: usize,
    /// Number of regression targets. Default 1.
    pub n_targets: usize,
    /// Added to every target. Default 0.0.
    pub bias: f64,
    /// Standard deviation of the gaussian noise added to the targets. Default 0.0.
    pub noise: f64,
    /// Shuffle the samples and the features. Default true.
    pub shuffle: bool,
    /// Seed of the generator. Default 0.
    pub seed: u64,
    /// F32 (default) or F64 for `X`, `y` and the coefficients.
    pub dtype: DType,
}

impl Default for RegressionConfig {
    fn default() -> Self {
        RegressionConfig {
            n_samples: 100,
            n_features: 100,
            n_informative: 10,
            n_targets: 1,
            bias: 0.0,
            noise: 0.0,
            shuffle: true,
            seed: 0,
            dtype: DType::F32,
        }
    }
}

/// A random linear regression problem (scikit-learn's `make_regression`, without
/// `effective_rank`), returning the true coefficients too.
///
/// Definition: `X` is standard normal `(n_samples, n_features)`; the coefficients of the
/// first `n_informative` features are drawn from `U[0, 100)` and the others are 0;
/// `y = X @ coef + bias + noise * ε` with `ε` standard normal. With `shuffle` the samples and
/// the features are permuted (the coefficients with them, so `y = X @ coef + bias` still
/// holds).
///
/// # Shapes
/// Returns `X: (n_samples, n_features)`, `y: (n_samples,)` and `coef: (n_features,)` when
/// `n_targets == 1`, else `y: (n_samples, n_targets)` and `coef: (n_features, n_targets)`.
///
/// # Errors
/// If `n_samples`, `n_features` or `n_targets` is 0, `noise` is negative or not finite, or
/// `bias` is not finite.
///
/// ```
/// use sinapsis::data::synthetic::{make_regression, RegressionConfig};
/// let (x, y, coef) = make_regression(&RegressionConfig {
///     n_samples: 50,
///     n_features: 5,
///     n_informative: 2,
///     ..Default::default()
/// })?;
/// assert_eq!((x.dims(), y.dims(), coef.dims()), (&[50, 5][..], &[50][..], &[5][..]));
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn make_regression(config: &RegressionConfig) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "make_regression";
    let c = config;
    check_n_samples(OP, c.n_samples)?;
    check_float(OP, c.dtype)?;
    check_noise(OP, c.noise)?;
    if c.n_features == 0 {
        return Err(invalid(OP, "n_features must be >= 1, got 0"));
    }
    if c.n_targets == 0 {
        return Err(invalid(OP, "n_targets must be >= 1, got 0"));
    }
    if !c.bias.is_finite() {
        return Err(invalid(OP, format!("bias must be finite, got {}", c.bias)));
    }
    let (n, d, t) = (c.n_samples, c.n_features, c.n_targets);
    let ni = c.n_informative.min(d);
    let mut g = Generator::new(c.seed);
    let mut x = normals(&mut g, n * d)?;
    let mut coef = vec![0.0; d * t];
    for (v, u) in coef.iter_mut().zip(uniforms(&mut g, ni * t)?) {
        *v = 100.0 * u;
    }
    if c.shuffle {
        // Permute rows of X (y is computed afterwards, so it follows), then features and the
        // coefficients with them.
        let rows = permutation(&mut g, n)?;
        let mut nx = Vec::with_capacity(n * d);
        for &p in &rows {
            nx.extend_from_slice(&x[p * d..(p + 1) * d]);
        }
        x = nx;
        let cols = permutation(&mut g, d)?;
        permute_columns(&mut x, d, &cols);
        let mut nc = Vec::with_capacity(d * t);
        for &p in &cols {
            nc.extend_from_slice(&coef[p * t..(p + 1) * t]);
        }
        coef = nc;
    }
    // Targets from the values as returned, so that y = X @ coef + bias holds to rounding in
    // the output dtype.
    let round = |v: f64| {
        if c.dtype == DType::F32 {
            v as f32 as f64
        } else {
            v
        }
    };
    let xr: Vec<f64> = x.iter().map(|&v| round(v)).collect();
    let cr: Vec<f64> = coef.iter().map(|&v| round(v)).collect();
    let eps = if c.noise > 0.0 {
        normals(&mut g, n * t)?
    } else {
        vec![0.0; n * t]
    };
    let mut y = vec![0.0; n * t];
    for r in 0..n {
        for k in 0..t {
            let dot: f64 = (0..d).map(|j| xr[r * d + j] * cr[j * t + k]).sum();
            y[r * t + k] = dot + c.bias + c.noise * eps[r * t + k];
        }
    }
    let (y_shape, c_shape) = if t == 1 {
        (vec![n], vec![d])
    } else {
        (vec![n, t], vec![d, t])
    };
    Ok((
        float_tensor(x, vec![n, d], c.dtype)?,
        float_tensor(y, y_shape, c.dtype)?,
        float_tensor(coef, c_shape, c.dtype)?,
    ))
}
