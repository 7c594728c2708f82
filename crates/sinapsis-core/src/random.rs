//! Seedable random numbers: a [`Generator`] (ChaCha8, like the streams JAX and NumPy's newer
//! generators use), a process-wide default generator ([`manual_seed`],
//! [`with_default_generator`]) and the tensor constructors built on it (`Tensor::rand`,
//! `Tensor::randn`, ...).
//!
//! # Draw order (the reproducibility contract)
//!
//! Every function here draws its numbers **sequentially from one ChaCha8 stream**, element by
//! element in row-major (C) order of the output (for `bernoulli`, of the probability tensor's
//! logical order, whatever its strides). No call ever splits work across threads, so one seed
//! gives the same tensors on every machine and under any rayon thread count. Arguments are
//! validated *before* the first draw: a call that returns `Err` leaves the generator
//! untouched.
//!
//! What one element consumes (a "word" is one `u32` of the ChaCha8 stream; a `u64` is two
//! words, as `rand_core`'s `next_u64`):
//!
//! | function | f32 element | f64 element |
//! |---|---|---|
//! | `rand` | `u = (next_u32 >> 8) * 2^-24` | `u = (next_u64 >> 11) * 2^-53` |
//! | `uniform(low, high)` | `x = low + (high - low) * u` in f32; drawn again if rounding gives `x >= high` | same, in f64 |
//! | `randn` | `rand_distr::StandardNormal` (ziggurat) through its `Distribution<f32>` impl | `StandardNormal` as f64 |
//! | `normal(mean, std)` | `mean + std * z`, with `z` as `randn`, in f32 | same, in f64 |
//! | `bernoulli` / `bernoulli_p` | `u` as `rand` (f32), result `1` if `u < p` | `u` as `rand` (f64) |
//!
//! f32 tensors never sample an f64 and round it for uniform draws (rounding could turn a value
//! just below 1 into 1). `randn` in f32 goes through `StandardNormal`'s f32 impl, which in
//! `rand_distr` 0.5 evaluates the f64 ziggurat and rounds; a ziggurat step takes one `u64`,
//! and a rejected step (about 1.2% of draws) takes more.
//!
//! Integers: `randint(low, high)` maps one `u64` `w` to `low + ((w * r) >> 64)` with
//! `r = high - low` (Lemire's multiply-shift), drawing `w` again while the low 64 bits of
//! `w * r` are below `2^64 mod r`, so the result is exactly uniform. `randperm(n)` starts from
//! `[0, 1, ..., n-1]` and, for `i` from `n-1` down to `1`, swaps entry `i` with entry `j`, `j`
//! drawn as `randint(0, i + 1)` (Fisher-Yates/Durstenfeld).
//!
//! The uniform and integer maps are written out here rather than borrowed from `rand`, so they
//! cannot change under a `rand` upgrade; only `randn` depends on `rand_distr`'s algorithm.

use crate::dtype::FloatElem;
use crate::storage::{CpuStorage, StorageElem};
use crate::{DType, Error, Result, Shape, Tensor};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::sync::{LazyLock, Mutex};

/// Seed of the default generator until [`manual_seed`] is called: PyTorch's own default
/// (`default_rng_seed_val` in c10). The numbers differ from PyTorch's (different algorithm);
/// only the idea of a fixed start is shared.
pub const DEFAULT_SEED: u64 = 67_280_421_310_721;

/// A seedable random number generator producing tensors.
///
/// Wraps a ChaCha8 stream seeded from a `u64` (via `rand_core`'s `seed_from_u64`). Its
/// position can be saved with [`Generator::state`] and restored with
/// [`Generator::from_state`], so a checkpointed run resumes with exactly the numbers it would
/// have drawn. See the [module docs](crate::random) for the draw order of every method.
///
/// ```
/// use sinapsis_core::{DType, Generator, Tensor};
/// let mut a = Generator::new(42);
/// let mut b = Generator::new(42);
/// let x: Tensor = a.randn([2, 3], DType::F32)?;
/// let y: Tensor = b.randn([2, 3], DType::F32)?;
/// assert_eq!(x.to_string(), y.to_string());
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Generator {
    rng: ChaCha8Rng,
    seed: u64,
}

/// A snapshot of a [`Generator`]: its seed and its position in the stream.
///
/// `word_pos` counts 32-bit words consumed since the seed (ChaCha's `get_word_pos`; below
/// 2^68). Store both fields in a checkpoint and rebuild with [`Generator::from_state`].
///
/// ```
/// use sinapsis_core::{DType, Generator};
/// let mut g = Generator::new(7);
/// g.rand([4], DType::F64)?;
/// let s = g.state();
/// assert_eq!(s.seed, 7);
/// assert_eq!(s.word_pos, 8); // four f64 draws of two words each
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GeneratorState {
    /// The seed given to [`Generator::new`].
    pub seed: u64,
    /// Position in the stream, in 32-bit words since the seed.
    pub word_pos: u128,
}

impl Default for Generator {
    /// A generator seeded with [`DEFAULT_SEED`].
    fn default() -> Self {
        Generator::new(DEFAULT_SEED)
    }
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("seed", &self.seed)
            .field("word_pos", &self.rng.get_word_pos())
            .finish()
    }
}

/// Floats the generator can sample; the per-element draws of the module docs.
trait SampleFloat: FloatElem + StorageElem {
    /// U[0, 1) from the top mantissa-many bits of one stream value.
    fn unit(rng: &mut ChaCha8Rng) -> Self;
    /// One N(0, 1) value.
    fn std_normal(rng: &mut ChaCha8Rng) -> Self;
    /// `v` in this type, or `None` when it does not fit (overflows to infinity).
    fn narrow(v: f64) -> Option<Self>;
}

impl SampleFloat for f32 {
    #[inline]
    fn unit(rng: &mut ChaCha8Rng) -> f32 {
        const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
        (rng.next_u32() >> 8) as f32 * SCALE
    }
    #[inline]
    fn std_normal(rng: &mut ChaCha8Rng) -> f32 {
        rng.sample::<f32, _>(StandardNormal)
    }
    fn narrow(v: f64) -> Option<f32> {
        let x = v as f32;
        (x.is_finite() || !v.is_finite()).then_some(x)
    }
}

impl SampleFloat for f64 {
    #[inline]
    fn unit(rng: &mut ChaCha8Rng) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (rng.next_u64() >> 11) as f64 * SCALE
    }
    #[inline]
    fn std_normal(rng: &mut ChaCha8Rng) -> f64 {
        rng.sample::<f64, _>(StandardNormal)
    }
    fn narrow(v: f64) -> Option<f64> {
        Some(v)
    }
}

/// An integer in `[0, range)` (`range >= 1`), exactly uniform: Lemire's multiply-shift with
/// rejection (<https://arxiv.org/abs/1805.10941>).
#[inline]
fn bounded_u64(rng: &mut ChaCha8Rng, range: u64) -> u64 {
    debug_assert!(range >= 1);
    let mut m = u128::from(rng.next_u64()) * u128::from(range);
    if (m as u64) < range {
        let threshold = range.wrapping_neg() % range;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(range);
        }
    }
    (m >> 64) as u64
}

/// The element count of `shape`, or an error when the buffer could not exist at all.
fn checked_numel(op: &'static str, shape: &Shape, elem_bytes: usize) -> Result<usize> {
    shape
        .dims()
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| {
            n.checked_mul(elem_bytes)
                .is_some_and(|b| b <= isize::MAX as usize)
        })
        .ok_or_else(|| {
            Error::invalid(
                op,
                format!("shape {:?} has too many elements to allocate", shape.dims()),
            )
        })
}

fn float_dtype(op: &'static str, dtype: DType) -> Result<()> {
    if dtype.is_float() {
        Ok(())
    } else {
        Err(Error::dtype(
            op,
            "a floating-point dtype (f32 or f64)",
            dtype,
        ))
    }
}

/// `v` converted to the float type `T`, or an error naming `what` when it overflows.
fn to_float<T: SampleFloat>(op: &'static str, what: &str, v: f64) -> Result<T> {
    T::narrow(v).ok_or_else(|| {
        Error::invalid(
            op,
            format!("{what} = {v} does not fit in {}", T::DTYPE.as_str()),
        )
    })
}

impl Generator {
    /// A generator whose stream is determined by `seed`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let mut g = Generator::new(0);
    /// assert_eq!(g.rand([3], DType::F32)?.dims(), &[3]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
        }
    }

    /// The seed this generator was created with (PyTorch's `initial_seed`).
    ///
    /// ```
    /// use sinapsis_core::Generator;
    /// assert_eq!(Generator::new(3).seed(), 3);
    /// ```
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A snapshot of the seed and stream position, for checkpoints.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let mut g = Generator::new(1);
    /// g.randn([10], DType::F32)?;
    /// let mut resumed = Generator::from_state(&g.state());
    /// assert_eq!(g.rand([5], DType::F32)?.to_string(), resumed.rand([5], DType::F32)?.to_string());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn state(&self) -> GeneratorState {
        GeneratorState {
            seed: self.seed,
            word_pos: self.rng.get_word_pos(),
        }
    }

    /// A generator at exactly the position recorded in `state`.
    ///
    /// Any `word_pos` is accepted: the stream has period 2^68 words, and positions are taken
    /// modulo that.
    ///
    /// ```
    /// use sinapsis_core::{random::GeneratorState, Generator};
    /// let g = Generator::from_state(&GeneratorState { seed: 5, word_pos: 100 });
    /// assert_eq!(g.state(), GeneratorState { seed: 5, word_pos: 100 });
    /// ```
    pub fn from_state(state: &GeneratorState) -> Generator {
        let mut g = Generator::new(state.seed);
        g.rng.set_word_pos(state.word_pos);
        g
    }

    /// Moves this generator to the position recorded in `state` (in place
    /// [`Generator::from_state`]).
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let mut g = Generator::new(9);
    /// let start = g.state();
    /// let a = g.rand([3], DType::F64)?;
    /// g.set_state(&start);
    /// assert_eq!(a.to_string(), g.rand([3], DType::F64)?.to_string());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn set_state(&mut self, state: &GeneratorState) {
        *self = Generator::from_state(state);
    }

    /// The next 64 raw bits of the stream (two words), e.g. to derive seeds for workers.
    ///
    /// ```
    /// use sinapsis_core::Generator;
    /// assert_eq!(Generator::new(4).next_u64(), Generator::new(4).next_u64());
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn float_tensor(
        &mut self,
        op: &'static str,
        shape: Shape,
        dtype: DType,
        f32s: impl FnOnce(&mut ChaCha8Rng, usize) -> Vec<f32>,
        f64s: impl FnOnce(&mut ChaCha8Rng, usize) -> Vec<f64>,
    ) -> Result<Tensor> {
        float_dtype(op, dtype)?;
        let n = checked_numel(op, &shape, dtype.size_in_bytes())?;
        Ok(match dtype {
            DType::F32 => Tensor::from_vec_shape(f32s(&mut self.rng, n), shape),
            _ => Tensor::from_vec_shape(f64s(&mut self.rng, n), shape),
        })
    }

    /// Samples from U[0, 1) (PyTorch's `torch.rand`). `dtype` must be F32 or F64.
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let x = Generator::new(0).rand([2, 2], DType::F32)?;
    /// assert_eq!((x.dims(), x.dtype()), (&[2, 2][..], DType::F32));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn rand(&mut self, shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        self.float_tensor(
            "rand",
            shape.into(),
            dtype,
            |rng, n| (0..n).map(|_| f32::unit(rng)).collect(),
            |rng, n| (0..n).map(|_| f64::unit(rng)).collect(),
        )
    }

    /// Samples from N(0, 1) (PyTorch's `torch.randn`). `dtype` must be F32 or F64.
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let x = Generator::new(0).randn([3, 4], DType::F64)?;
    /// assert_eq!(x.dims(), &[3, 4]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn randn(&mut self, shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        self.float_tensor(
            "randn",
            shape.into(),
            dtype,
            |rng, n| (0..n).map(|_| f32::std_normal(rng)).collect(),
            |rng, n| (0..n).map(|_| f64::std_normal(rng)).collect(),
        )
    }

    /// Samples from U[`low`, `high`) (PyTorch's `tensor.uniform_(low, high)`).
    ///
    /// Errors when `low >= high`, when either bound is NaN or infinite, or when `high - low`
    /// overflows in `dtype`. Results are strictly below `high` even where rounding
    /// `low + (high - low) * u` would reach it (such draws are repeated).
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let mut g = Generator::new(0);
    /// let w = g.uniform([4, 3], -0.5, 0.5, DType::F32)?;
    /// assert_eq!(w.dims(), &[4, 3]);
    /// assert!(g.uniform([1], 1.0, 1.0, DType::F32).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn uniform(
        &mut self,
        shape: impl Into<Shape>,
        low: f64,
        high: f64,
        dtype: DType,
    ) -> Result<Tensor> {
        const OP: &str = "uniform";
        float_dtype(OP, dtype)?;
        if !low.is_finite() || !high.is_finite() {
            return Err(Error::invalid(
                OP,
                format!("bounds must be finite, got low = {low}, high = {high}"),
            ));
        }
        if low >= high {
            return Err(Error::invalid(
                OP,
                format!("low ({low}) must be less than high ({high})"),
            ));
        }
        fn check<T: SampleFloat>(low: f64, high: f64) -> Result<(T, T)> {
            let (l, h) = (
                to_float::<T>(OP, "low", low)?,
                to_float::<T>(OP, "high", high)?,
            );
            let span = h - l;
            if l >= h || !span.to_f64().is_finite() {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "[{low}, {high}) is not a usable range in {}",
                        T::DTYPE.as_str()
                    ),
                ));
            }
            Ok((l, h))
        }
        fn draw<T: SampleFloat>(rng: &mut ChaCha8Rng, n: usize, (l, h): (T, T)) -> Vec<T> {
            let span = h - l;
            (0..n)
                .map(|_| loop {
                    let x = l + span * T::unit(rng);
                    if x < h {
                        break x;
                    }
                })
                .collect()
        }
        let shape = shape.into();
        match dtype {
            DType::F32 => {
                let b = check::<f32>(low, high)?;
                self.float_tensor(OP, shape, dtype, |r, n| draw(r, n, b), |_, _| Vec::new())
            }
            _ => {
                let b = check::<f64>(low, high)?;
                self.float_tensor(OP, shape, dtype, |_, _| Vec::new(), |r, n| draw(r, n, b))
            }
        }
    }

    /// Samples from N(`mean`, `std`²) (PyTorch's `torch.normal(mean, std, size)`).
    ///
    /// Errors when `mean` or `std` is NaN or infinite, or `std < 0`. `std = 0` gives `mean`.
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let mut g = Generator::new(0);
    /// let w = g.normal([128, 64], 0.0, 0.02, DType::F32)?;
    /// assert_eq!(w.dims(), &[128, 64]);
    /// assert!(g.normal([1], 0.0, -1.0, DType::F32).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn normal(
        &mut self,
        shape: impl Into<Shape>,
        mean: f64,
        std: f64,
        dtype: DType,
    ) -> Result<Tensor> {
        const OP: &str = "normal";
        float_dtype(OP, dtype)?;
        if !mean.is_finite() {
            return Err(Error::invalid(
                OP,
                format!("mean must be finite, got {mean}"),
            ));
        }
        if !std.is_finite() || std < 0.0 {
            return Err(Error::invalid(
                OP,
                format!("std must be finite and >= 0, got {std}"),
            ));
        }
        fn draw<T: SampleFloat>(rng: &mut ChaCha8Rng, n: usize, mean: T, std: T) -> Vec<T> {
            (0..n).map(|_| mean + std * T::std_normal(rng)).collect()
        }
        let shape = shape.into();
        match dtype {
            DType::F32 => {
                let (m, s) = (
                    to_float::<f32>(OP, "mean", mean)?,
                    to_float::<f32>(OP, "std", std)?,
                );
                self.float_tensor(OP, shape, dtype, |r, n| draw(r, n, m, s), |_, _| Vec::new())
            }
            _ => self.float_tensor(
                OP,
                shape,
                dtype,
                |_, _| Vec::new(),
                |r, n| draw(r, n, mean, std),
            ),
        }
    }

    /// Draws 0 or 1 for each element of `probs`, 1 with that element's probability
    /// (PyTorch's `torch.bernoulli(probs)`).
    ///
    /// `probs` must be F32 or F64 with every value in `[0, 1]`; the result has its shape and
    /// dtype. Elements are drawn in `probs`' logical (row-major) order, whatever its strides.
    ///
    /// # Shapes
    /// `probs`: any shape; output: the same shape.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let mut g = Generator::new(0);
    /// let p = g.rand([5], DType::F32)?;
    /// let mask = g.bernoulli(&p)?;
    /// assert_eq!((mask.dims(), mask.dtype()), (&[5][..], DType::F32));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn bernoulli(&mut self, probs: &Tensor) -> Result<Tensor> {
        const OP: &str = "bernoulli";
        float_dtype(OP, probs.dtype())?;
        fn draw<T: SampleFloat>(rng: &mut ChaCha8Rng, p: &[T]) -> Result<Vec<T>> {
            let (zero, one) = (T::zero(), T::one());
            if let Some((i, &bad)) = p
                .iter()
                .enumerate()
                .find(|(_, &v)| v.is_nan() || v < zero || v > one)
            {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "probabilities must lie in [0, 1], got {:?} at flat index {i}",
                        bad
                    ),
                ));
            }
            Ok(p.iter()
                .map(|&pi| if T::unit(rng) < pi { one } else { zero })
                .collect())
        }
        let shape = probs.shape().clone();
        Ok(match probs.contiguous_storage() {
            CpuStorage::F32(p) => Tensor::from_vec_shape(draw(&mut self.rng, &p)?, shape),
            CpuStorage::F64(p) => Tensor::from_vec_shape(draw(&mut self.rng, &p)?, shape),
            other => return Err(Error::dtype(OP, "f32 or f64", other.dtype())),
        })
    }

    /// Draws 0 or 1 for each element, 1 with probability `p` (PyTorch's
    /// `torch.empty(shape).bernoulli_(p)`; dropout masks).
    ///
    /// Errors when `p` is outside `[0, 1]` or NaN, or `dtype` is not F32/F64.
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let mut g = Generator::new(0);
    /// let keep = g.bernoulli_p([2, 8], 0.9, DType::F32)?;
    /// assert_eq!(keep.dims(), &[2, 8]);
    /// assert!(g.bernoulli_p([1], 1.5, DType::F32).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn bernoulli_p(&mut self, shape: impl Into<Shape>, p: f64, dtype: DType) -> Result<Tensor> {
        const OP: &str = "bernoulli_p";
        float_dtype(OP, dtype)?;
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(OP, format!("p must lie in [0, 1], got {p}")));
        }
        // NOTE: u < p compared in f64 for both dtypes: exact, since every f32 `u` is an f64.
        self.float_tensor(
            OP,
            shape.into(),
            dtype,
            |rng, n| {
                (0..n)
                    .map(|_| {
                        if f64::from(f32::unit(rng)) < p {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect()
            },
            |rng, n| {
                (0..n)
                    .map(|_| if f64::unit(rng) < p { 1.0 } else { 0.0 })
                    .collect()
            },
        )
    }

    /// Uniform integers in `[low, high)` as an I64 tensor (PyTorch's `torch.randint`).
    ///
    /// Errors when `low >= high`.
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let mut g = Generator::new(0);
    /// let labels = g.randint(0, 10, [32])?;
    /// assert_eq!((labels.dims(), labels.dtype()), (&[32][..], DType::I64));
    /// assert!(g.randint(3, 3, [1]).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn randint(&mut self, low: i64, high: i64, shape: impl Into<Shape>) -> Result<Tensor> {
        const OP: &str = "randint";
        if low >= high {
            return Err(Error::invalid(
                OP,
                format!("low ({low}) must be less than high ({high})"),
            ));
        }
        let shape = shape.into();
        let n = checked_numel(OP, &shape, 8)?;
        // NOTE: high - low can exceed i64::MAX but always fits in u64; wrapping arithmetic is
        // exact here.
        let range = high.wrapping_sub(low) as u64;
        let v: Vec<i64> = (0..n)
            .map(|_| low.wrapping_add(bounded_u64(&mut self.rng, range) as i64))
            .collect();
        Ok(Tensor::from_vec_shape(v, shape))
    }

    /// A random permutation of `0..n` as an I64 tensor (PyTorch's `torch.randperm`).
    ///
    /// # Shapes
    /// Output: `(n,)`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Generator};
    /// let order = Generator::new(0).randperm(10)?;
    /// assert_eq!((order.dims(), order.dtype()), (&[10][..], DType::I64));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn randperm(&mut self, n: usize) -> Result<Tensor> {
        let shape = Shape::new(&[n]);
        checked_numel("randperm", &shape, 8)?;
        let mut v: Vec<i64> = (0..n as i64).collect();
        for i in (1..n).rev() {
            let j = bounded_u64(&mut self.rng, i as u64 + 1) as usize;
            v.swap(i, j);
        }
        Ok(Tensor::from_vec_shape(v, shape))
    }
}

// ---- the process-wide default generator -------------------------------------------------

static DEFAULT: LazyLock<Mutex<Generator>> =
    LazyLock::new(|| Mutex::new(Generator::new(DEFAULT_SEED)));

/// Re-seeds the process-wide default generator (PyTorch's `torch.manual_seed`).
///
/// Until this is called the default generator starts from [`DEFAULT_SEED`]. The default
/// generator is shared by all threads: for reproducible runs with concurrent users (tests,
/// data-loader workers), give each its own [`Generator`].
///
/// ```
/// use sinapsis_core::{random::manual_seed, DType, Tensor};
/// manual_seed(42);
/// let a = Tensor::rand([3], DType::F32)?;
/// manual_seed(42);
/// let b = Tensor::rand([3], DType::F32)?;
/// assert_eq!(a.to_string(), b.to_string());
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
pub fn manual_seed(seed: u64) {
    with_default_generator(|g| *g = Generator::new(seed));
}

/// Runs `f` with exclusive access to the process-wide default generator (to read or restore
/// its state for a checkpoint, or to draw several tensors with no other thread interleaving).
///
/// `f` must not call the `Tensor::rand`-style constructors or [`manual_seed`], which take
/// the same lock (that would deadlock); call the methods of the `&mut Generator` it is given.
///
/// ```
/// use sinapsis_core::{random::with_default_generator, DType, Generator};
/// let saved = with_default_generator(|g| g.state());
/// let a = with_default_generator(|g| g.rand([2], DType::F64))?;
/// with_default_generator(|g| g.set_state(&saved));
/// let b = with_default_generator(|g| g.rand([2], DType::F64))?;
/// assert_eq!(a.to_string(), b.to_string());
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
pub fn with_default_generator<R>(f: impl FnOnce(&mut Generator) -> R) -> R {
    // NOTE: a panic inside `f` poisons the lock but cannot leave the generator in a broken
    // state (it is always a valid position in the stream), so keep using it.
    let mut g = DEFAULT.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

/// Random constructors drawing from the default generator (see [`manual_seed`]).
impl Tensor {
    /// Samples from U[0, 1) with the default generator (`torch.rand`); see
    /// [`Generator::rand`].
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Tensor};
    /// let x = Tensor::rand([2, 3], DType::F32)?;
    /// assert_eq!(x.dims(), &[2, 3]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn rand(shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        let shape = shape.into();
        with_default_generator(|g| g.rand(shape, dtype))
    }

    /// Samples from N(0, 1) with the default generator (`torch.randn`); see
    /// [`Generator::randn`].
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Tensor};
    /// let x = Tensor::randn([4], DType::F64)?;
    /// assert_eq!(x.dtype(), DType::F64);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn randn(shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        let shape = shape.into();
        with_default_generator(|g| g.randn(shape, dtype))
    }

    /// Samples from U[`low`, `high`) with the default generator; see [`Generator::uniform`].
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Tensor};
    /// let w = Tensor::uniform([3, 2], -1.0, 1.0, DType::F32)?;
    /// assert_eq!(w.dims(), &[3, 2]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn uniform(shape: impl Into<Shape>, low: f64, high: f64, dtype: DType) -> Result<Tensor> {
        let shape = shape.into();
        with_default_generator(|g| g.uniform(shape, low, high, dtype))
    }

    /// Samples from N(`mean`, `std`²) with the default generator; see
    /// [`Generator::normal`].
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Tensor};
    /// let w = Tensor::normal([3, 2], 0.0, 0.01, DType::F32)?;
    /// assert_eq!(w.dims(), &[3, 2]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn normal(shape: impl Into<Shape>, mean: f64, std: f64, dtype: DType) -> Result<Tensor> {
        let shape = shape.into();
        with_default_generator(|g| g.normal(shape, mean, std, dtype))
    }

    /// Uniform integers in `[low, high)` (I64) with the default generator
    /// (`torch.randint`); see [`Generator::randint`].
    ///
    /// # Shapes
    /// Output: `shape`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Tensor};
    /// let y = Tensor::randint(0, 3, [8])?;
    /// assert_eq!(y.dtype(), DType::I64);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn randint(low: i64, high: i64, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        with_default_generator(|g| g.randint(low, high, shape))
    }

    /// A random permutation of `0..n` (I64) with the default generator (`torch.randperm`);
    /// see [`Generator::randperm`].
    ///
    /// # Shapes
    /// Output: `(n,)`.
    ///
    /// ```
    /// use sinapsis_core::{DType, Tensor};
    /// let p = Tensor::randperm(5)?;
    /// assert_eq!((p.dims(), p.dtype()), (&[5][..], DType::I64));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn randperm(n: usize) -> Result<Tensor> {
        with_default_generator(|g| g.randperm(n))
    }

    /// 0/1 draws with this tensor's elements as probabilities, using the default generator
    /// (`torch.bernoulli(self)`); see [`Generator::bernoulli`]. The result is a new leaf
    /// (sampling has no gradient).
    ///
    /// # Shapes
    /// `self`: any shape; output: the same shape and dtype.
    ///
    /// ```
    /// use sinapsis_core::{DType, Tensor};
    /// let p = Tensor::rand([4], DType::F64)?;
    /// let b = p.bernoulli()?;
    /// assert_eq!((b.dims(), b.dtype()), (&[4][..], DType::F64));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn bernoulli(&self) -> Result<Tensor> {
        with_default_generator(|g| g.bernoulli(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_is_in_range_and_hits_every_value() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = bounded_u64(&mut rng, 7);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        // Full range: no rejection, value is the raw draw.
        let mut a = ChaCha8Rng::seed_from_u64(1);
        let mut b = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(bounded_u64(&mut a, u64::MAX), {
            let w = b.next_u64();
            ((u128::from(w) * u128::from(u64::MAX)) >> 64) as u64
        });
    }

    #[test]
    fn unit_draws_one_word_for_f32_two_for_f64() {
        let mut g = Generator::new(3);
        f32::unit(&mut g.rng);
        assert_eq!(g.state().word_pos, 1);
        f64::unit(&mut g.rng);
        assert_eq!(g.state().word_pos, 3);
    }

    #[test]
    fn unit_matches_rands_standard_uniform() {
        // Same formula as rand 0.9's `StandardUniform` for floats; written out here so that a
        // rand upgrade cannot change our stream.
        let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(5), ChaCha8Rng::seed_from_u64(5));
        for _ in 0..1000 {
            assert_eq!(f32::unit(&mut a), b.random::<f32>());
            assert_eq!(f64::unit(&mut a), b.random::<f64>());
        }
    }

    #[test]
    fn unit_f32_stays_below_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!((0..100_000).all(|_| {
            let u = f32::unit(&mut rng);
            (0.0..1.0).contains(&u)
        }));
        // The largest possible value is 1 - 2^-24, still below 1.
        assert!(((u32::MAX >> 8) as f32) * (1.0 / (1u32 << 24) as f32) < 1.0);
    }
}
