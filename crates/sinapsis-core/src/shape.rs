//! Shapes, dimension arguments (negative dims count from the end) and broadcasting.

use crate::{Error, Result};
use smallvec::SmallVec;
use std::fmt;

/// Up to 6 dims stay inline: no heap allocation for shapes in the hot loop.
pub(crate) type DimVec = SmallVec<[usize; 6]>;

/// The size of each dimension of a tensor.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub(crate) DimVec);

impl Shape {
    pub fn new(dims: &[usize]) -> Shape {
        Shape(DimVec::from_slice(dims))
    }

    /// The shape of a 0-d (scalar) tensor.
    pub fn scalar() -> Shape {
        Shape(DimVec::new())
    }

    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Row-major strides for this shape.
    pub fn contiguous_strides(&self) -> DimVec {
        let mut strides = DimVec::from_elem(0, self.rank());
        let mut acc = 1;
        for (s, &d) in strides.iter_mut().zip(self.0.iter()).rev() {
            *s = acc;
            acc *= d;
        }
        strides
    }

    /// NumPy/PyTorch broadcasting: align from the right; sizes must match or be 1.
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

    /// `2x3x4`-style compact form used inside error messages.
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

/// A dimension argument: non-negative counts from the front, negative from the back
/// (`-1` is the last dim), as in PyTorch.
pub trait Dim: Copy {
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

/// A list of dimension arguments (`&[0, 2]`, `[-1]`, `vec![1]`).
pub trait Dims {
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
