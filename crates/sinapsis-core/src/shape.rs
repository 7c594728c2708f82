//! Shapes, dimension arguments (negative dims count from the end) and broadcasting.

use crate::{Error, Result};
use smallvec::SmallVec;
use std::fmt;

/// Up to 6 dims stay inline: no heap allocation for shapes in the hot loop.
pub(crate) type DimVec = SmallVec<[usize; 6]>;

/// The size of each dimension of a tensor (PyTorch's `torch.Size`).
///
/// Every op taking `impl Into<Shape>` accepts a tuple `(2, 3)`, an array `[2, 3]` (or a
/// reference to one), a `Vec<usize>` or slice, a single `usize` for 1-d, or `()` for a 0-d
/// scalar. It prints as `(2x3)` (`"scalar"` inside the parentheses for 0-d) and debugs as
/// `[2, 3]`.
///
/// ```
/// use sinapsis_core::Shape;
/// let s = Shape::from((2, 3, 4));
/// assert_eq!(s, Shape::from([2, 3, 4]));
/// assert_eq!(s, Shape::from(vec![2, 3, 4]));
/// assert_eq!((s.rank(), s.numel()), (3, 24));
/// assert_eq!(s.to_string(), "(2x3x4)");
/// assert_eq!(Shape::from(()), Shape::scalar());
/// assert_eq!(Shape::from(5).dims(), &[5]);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub(crate) DimVec);

impl Shape {
    /// A shape from a slice of sizes.
    ///
    /// ```
    /// use sinapsis_core::Shape;
    /// assert_eq!(Shape::new(&[2, 3]).dims(), &[2, 3]);
    /// ```
    pub fn new(dims: &[usize]) -> Shape {
        Shape(DimVec::from_slice(dims))
    }

    /// The shape of a 0-d (scalar) tensor: no dims, one element.
    ///
    /// ```
    /// use sinapsis_core::Shape;
    /// let s = Shape::scalar();
    /// assert_eq!((s.rank(), s.numel()), (0, 1));
    /// ```
    pub fn scalar() -> Shape {
        Shape(DimVec::new())
    }

    /// The sizes, outermost first.
    ///
    /// ```
    /// use sinapsis_core::Shape;
    /// assert_eq!(Shape::from((2, 3)).dims(), &[2, 3]);
    /// ```
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// The number of dims (0 for a scalar).
    ///
    /// ```
    /// use sinapsis_core::Shape;
    /// assert_eq!(Shape::from((2, 3)).rank(), 2);
    /// ```
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The number of elements: the product of the sizes (1 for a scalar, 0 if any size is 0).
    ///
    /// ```
    /// use sinapsis_core::Shape;
    /// assert_eq!(Shape::from((2, 3)).numel(), 6);
    /// assert_eq!(Shape::from((2, 0)).numel(), 0);
    /// ```
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Row-major (C-order) strides for this shape, in elements: the last dim has stride 1.
    ///
    /// ```
    /// use sinapsis_core::Shape;
    /// assert_eq!(Shape::from((2, 3, 4)).contiguous_strides().as_slice(), &[12, 4, 1]);
    /// ```
    pub fn contiguous_strides(&self) -> DimVec {
        let mut strides = DimVec::from_elem(0, self.rank());
        let mut acc = 1;
        for (s, &d) in strides.iter_mut().zip(self.0.iter()).rev() {
            *s = acc;
            acc *= d;
        }
        strides
    }

    /// The common shape of `a` and `b` under NumPy/PyTorch broadcasting; `op` names the
    /// operation in the error message.
    ///
    /// # Shapes
    /// Shapes are aligned from the right, missing leading dims count as 1, and each pair of
    /// sizes must be equal or contain a 1; the result takes the larger of each pair:
    /// `(4, 1, 3)` and `(5, 1)` -> `(4, 5, 3)`.
    ///
    /// # Errors
    /// [`Error::Broadcast`](crate::Error::Broadcast) if some pair of sizes differs with neither
    /// being 1.
    ///
    /// ```
    /// use sinapsis_core::Shape;
    /// let s = Shape::broadcast("add", &Shape::from((4, 1, 3)), &Shape::from((5, 1)))?;
    /// assert_eq!(s.dims(), &[4, 5, 3]);
    /// let e = Shape::broadcast("add", &Shape::from((2, 3)), &Shape::from(4)).unwrap_err();
    /// assert_eq!(e.to_string(), "add: shapes (2x3) and (4) cannot be broadcast together");
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn broadcast(op: &'static str, a: &Shape, b: &Shape) -> Result<Shape> {
        let rank = a.rank().max(b.rank());
        let mut out = DimVec::from_elem(0, rank);
        for i in 0..rank {
            let da = if i < rank - a.rank() {
                1
            } else {
                a.0[i - (rank - a.rank())]
            };
            let db = if i < rank - b.rank() {
                1
            } else {
                b.0[i - (rank - b.rank())]
            };
            out[i] = match (da, db) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => {
                    return Err(Error::Broadcast {
                        op,
                        lhs: Box::new(a.clone()),
                        rhs: Box::new(b.clone()),
                    })
                }
            };
        }
        Ok(Shape(out))
    }

    /// The `2x3x4` form used inside error messages (`scalar` for 0-d).
    ///
    /// ```
    /// use sinapsis_core::Shape;
    /// assert_eq!(Shape::from((2, 3, 4)).compact(), "2x3x4");
    /// assert_eq!(Shape::scalar().compact(), "scalar");
    /// ```
    pub fn compact(&self) -> String {
        if self.0.is_empty() {
            return "scalar".to_string();
        }
        let parts: Vec<String> = self.0.iter().map(|d| d.to_string()).collect();
        parts.join("x")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.dims())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({})", self.compact())
    }
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Shape {
        Shape::new(d)
    }
}
impl From<Vec<usize>> for Shape {
    fn from(d: Vec<usize>) -> Shape {
        Shape(DimVec::from_vec(d))
    }
}
impl From<&Vec<usize>> for Shape {
    fn from(d: &Vec<usize>) -> Shape {
        Shape::new(d)
    }
}
impl<const N: usize> From<[usize; N]> for Shape {
    fn from(d: [usize; N]) -> Shape {
        Shape::new(&d)
    }
}
impl<const N: usize> From<&[usize; N]> for Shape {
    fn from(d: &[usize; N]) -> Shape {
        Shape::new(d)
    }
}
impl From<()> for Shape {
    fn from(_: ()) -> Shape {
        Shape::scalar()
    }
}
impl From<usize> for Shape {
    fn from(d: usize) -> Shape {
        Shape::new(&[d])
    }
}
impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Shape {
        s.clone()
    }
}
macro_rules! shape_from_tuple {
    ($($name:ident),+) => {
        impl From<($(shape_from_tuple!(@usize $name),)+)> for Shape {
            #[allow(non_snake_case)]
            fn from(($($name,)+): ($(shape_from_tuple!(@usize $name),)+)) -> Shape {
                Shape::new(&[$($name),+])
            }
        }
    };
    (@usize $name:ident) => { usize };
}
shape_from_tuple!(A);
shape_from_tuple!(A, B);
shape_from_tuple!(A, B, C);
shape_from_tuple!(A, B, C, D);
shape_from_tuple!(A, B, C, D, E);

/// A dimension argument: non-negative counts from the front, negative from the back (`-1` is
/// the last dim), as in PyTorch. Implemented for `usize`, `i32`, `i64` and `isize`, so
/// plain literals work: `x.sum(&[-1], false)`, `x.softmax(1)`.
///
/// ```
///
/// use sinapsis_core::{Dim, Shape};
/// let s = Shape::from((2, 3, 4));
/// assert_eq!(1usize.resolve("op", &s)?, 1);
/// assert_eq!((-1i64).resolve("op", &s)?, 2);
/// assert!(3i32.resolve("op", &s).is_err());
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
pub trait Dim: Copy {
    /// The dim as an index in `0..rank`; [`Error::DimOutOfRange`](crate::Error::DimOutOfRange)
    /// (naming `op`) outside `-rank..rank`.
    fn resolve(self, op: &'static str, shape: &Shape) -> Result<usize>;
}

fn resolve_signed(op: &'static str, d: i64, shape: &Shape, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if d < -r || d >= r {
        return Err(Error::DimOutOfRange {
            op,
            dim: d,
            shape: shape.clone(),
        });
    }
    Ok(if d < 0 { (d + r) as usize } else { d as usize })
}

macro_rules! dim_signed {
    ($($t:ty),*) => {$(
        impl Dim for $t {
            fn resolve(self, op: &'static str, shape: &Shape) -> Result<usize> {
                resolve_signed(op, self as i64, shape, shape.rank())
            }
        }
    )*};
}
dim_signed!(i32, i64, isize);

impl Dim for usize {
    fn resolve(self, op: &'static str, shape: &Shape) -> Result<usize> {
        resolve_signed(op, self as i64, shape, shape.rank())
    }
}

/// Resolve a dim for an op that inserts a dimension (`unsqueeze`, `stack`): valid range is
/// `-(rank+1)..=rank`.
pub(crate) fn resolve_insert_dim<D: Dim>(op: &'static str, d: D, shape: &Shape) -> Result<usize> {
    let mut bigger = shape.0.clone();
    bigger.push(1);
    d.resolve(op, &Shape(bigger))
}

/// A list of dimension arguments (`&[0, 2]`, `[-1]`, `vec![1]`) for reductions. Each entry
/// follows [`Dim`]; reductions treat an empty list as "every dim", as PyTorch does.
///
/// ```
///
/// use sinapsis_core::{Dims, Shape};
/// let s = Shape::from((2, 3, 4));
/// assert_eq!([-1, 0].resolve("sum", &s)?.as_slice(), &[0, 2]); // sorted
/// assert!([1, -2].resolve("sum", &s).is_err()); // the same dim twice
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
pub trait Dims {
    /// The dims as sorted indices in `0..rank`; an error (naming `op`) if one is out of range
    /// or appears twice.
    fn resolve(&self, op: &'static str, shape: &Shape) -> Result<DimVec>;
}

fn resolve_list<D: Dim>(op: &'static str, ds: &[D], shape: &Shape) -> Result<DimVec> {
    let mut out = DimVec::new();
    for &d in ds {
        let r = d.resolve(op, shape)?;
        if out.contains(&r) {
            return Err(Error::invalid(
                op,
                format!("dimension {r} appears more than once"),
            ));
        }
        out.push(r);
    }
    out.sort_unstable();
    Ok(out)
}

impl<D: Dim> Dims for [D] {
    fn resolve(&self, op: &'static str, shape: &Shape) -> Result<DimVec> {
        resolve_list(op, self, shape)
    }
}
impl<D: Dim, const N: usize> Dims for [D; N] {
    fn resolve(&self, op: &'static str, shape: &Shape) -> Result<DimVec> {
        resolve_list(op, self, shape)
    }
}
impl<D: Dim> Dims for Vec<D> {
    fn resolve(&self, op: &'static str, shape: &Shape) -> Result<DimVec> {
        resolve_list(op, self, shape)
    }
}
impl<D: Dims + ?Sized> Dims for &D {
    fn resolve(&self, op: &'static str, shape: &Shape) -> Result<DimVec> {
        (**self).resolve(op, shape)
    }
}
