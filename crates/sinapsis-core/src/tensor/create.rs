//! Creating tensors from data and by formula, and reading them back.

use super::Tensor;
use crate::cpu::pool::take_filled;
use crate::storage::{CpuStorage, StorageElem};
use crate::{DType, Element, Error, Result, Shape};

/// Nested Rust arrays, slices and vectors of `f32`, `f64`, `i64` or `bool` that can become a
/// tensor (`Tensor::new(&[[1.0, 2.0]])`); the nesting depth is the rank.
///
/// ```
/// use sinapsis_core::{Tensor, DType};
/// use sinapsis_core::NdArray;
/// let rows = vec![vec![1i64, 2, 3], vec![4, 5, 6]];
/// assert_eq!(rows.shape()?.dims(), &[2, 3]);
/// assert_eq!(Tensor::new(&rows)?.dims(), &[2, 3]);
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
pub trait NdArray {
    /// The scalar type at the bottom of the nesting.
    type Elem: StorageElem;
    /// The shape the nesting describes; an error if rows have different lengths.
    fn shape(&self) -> Result<Shape>;
    /// Appends the elements in row-major order.
    fn flatten_into(&self, out: &mut Vec<Self::Elem>);
}

macro_rules! nd_scalar {
    ($($t:ty),*) => {$(
        impl NdArray for $t {
            type Elem = $t;
            fn shape(&self) -> Result<Shape> {
                Ok(Shape::scalar())
            }
            fn flatten_into(&self, out: &mut Vec<$t>) {
                out.push(*self);
            }
        }
    )*};
}
nd_scalar!(f32, f64, i64, bool);

fn nested_shape<A: NdArray>(items: &[A]) -> Result<Shape> {
    let inner = match items.first() {
        Some(first) => first.shape()?,
        None => Shape::scalar(),
    };
    if items
        .iter()
        .any(|x| x.shape().ok().as_ref() != Some(&inner))
    {
        return Err(Error::shape(
            "Tensor::new",
            "nested arrays have rows of different lengths",
        ));
    }
    let mut dims = vec![items.len()];
    dims.extend_from_slice(inner.dims());
    Ok(Shape::from(dims))
}

impl<A: NdArray, const N: usize> NdArray for [A; N] {
    type Elem = A::Elem;
    fn shape(&self) -> Result<Shape> {
        nested_shape(self)
    }
    fn flatten_into(&self, out: &mut Vec<A::Elem>) {
        self.iter().for_each(|x| x.flatten_into(out));
    }
}
impl<A: NdArray> NdArray for [A] {
    type Elem = A::Elem;
    fn shape(&self) -> Result<Shape> {
        nested_shape(self)
    }
    fn flatten_into(&self, out: &mut Vec<A::Elem>) {
        self.iter().for_each(|x| x.flatten_into(out));
    }
}
impl<A: NdArray> NdArray for Vec<A> {
    type Elem = A::Elem;
    fn shape(&self) -> Result<Shape> {
        nested_shape(self)
    }
    fn flatten_into(&self, out: &mut Vec<A::Elem>) {
        self.iter().for_each(|x| x.flatten_into(out));
    }
}
impl<A: NdArray + ?Sized> NdArray for &A {
    type Elem = A::Elem;
    fn shape(&self) -> Result<Shape> {
        (**self).shape()
    }
    fn flatten_into(&self, out: &mut Vec<A::Elem>) {
        (**self).flatten_into(out)
    }
}

fn filled(shape: Shape, dtype: DType, value: f64) -> Tensor {
    let n = shape.numel();
    let storage = match dtype {
        DType::F32 => CpuStorage::F32(take_filled(n, value as f32)),
        DType::F64 => CpuStorage::F64(take_filled(n, value)),
        DType::I64 => CpuStorage::I64(take_filled(n, value as i64)),
        DType::Bool => CpuStorage::Bool(take_filled(n, value != 0.0)),
    };
    Tensor::from_storage(storage, shape)
}

impl Tensor {
    /// A tensor from nested arrays, slices or vectors (`torch.tensor(data)`); the shape is read
    /// from the nesting and the dtype from the element type.
    ///
    /// # Shapes
    /// Each nesting level is one dim: `&[[f32; 3]; 2]` -> `(2, 3)`; a bare scalar -> `()`.
    ///
    /// # Errors
    /// If nested vectors (or slices) in one level have different lengths.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let t = Tensor::new(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// assert_eq!(t.dims(), &[2, 3]);
    /// assert_eq!(t.dtype(), DType::F32);
    /// assert_eq!(Tensor::new(&[true, false])?.dtype(), DType::Bool);
    /// assert!(Tensor::new(&vec![vec![1i64, 2], vec![3]]).is_err()); // ragged
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn new<A: NdArray + ?Sized>(data: &A) -> Result<Tensor> {
        let shape = data.shape()?;
        let mut v = Vec::with_capacity(shape.numel());
        data.flatten_into(&mut v);
        Ok(Tensor::from_vec_shape(v, shape))
    }

    /// A tensor that takes ownership of `data` (no copy), laid out row-major in `shape`.
    ///
    /// # Shapes
    /// `data.len()` must equal the product of `shape` (1 for `()`).
    ///
    /// # Errors
    /// If the lengths differ.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let t = Tensor::from_vec(vec![1i64, 2, 3, 4, 5, 6], (2, 3))?;
    /// assert_eq!(t.to_vec2::<i64>()?, vec![vec![1, 2, 3], vec![4, 5, 6]]);
    /// assert!(Tensor::from_vec(vec![1.0f32, 2.0], 3).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn from_vec<T: StorageElem>(data: Vec<T>, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if data.len() != shape.numel() {
            return Err(Error::shape(
                "from_vec",
                format!(
                    "{} values cannot fill shape {} ({} elements)",
                    data.len(),
                    shape,
                    shape.numel()
                ),
            ));
        }
        Ok(Tensor::from_vec_shape(data, shape))
    }

    /// A tensor copied from a slice, laid out row-major in `shape`.
    ///
    /// # Shapes
    /// `data.len()` must equal the product of `shape`.
    ///
    /// # Errors
    /// If the lengths differ.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let data = [1.0f64, 2.0, 3.0, 4.0];
    /// let t = Tensor::from_slice(&data, (2, 2))?;
    /// assert_eq!(t.dims(), &[2, 2]);
    /// assert_eq!(t.dtype(), DType::F64);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn from_slice<T: StorageElem>(data: &[T], shape: impl Into<Shape>) -> Result<Tensor> {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A 0-d tensor holding one value (`torch.tensor(3.0)`).
    ///
    /// # Shapes
    /// Always `()`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let s = Tensor::scalar(3.5f32);
    /// assert_eq!(s.rank(), 0);
    /// assert_eq!(s.item::<f32>()?, 3.5);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn scalar<T: StorageElem>(value: T) -> Tensor {
        Tensor::from_vec_shape(vec![value], Shape::scalar())
    }

    /// A tensor of zeros (`torch.zeros`; `false` for bool).
    ///
    /// # Shapes
    /// `shape` is anything that converts into a [`Shape`](crate::Shape): `(2, 3)`, `[2, 3]`,
    /// `vec![2, 3]`, `5` or `()`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let z = Tensor::zeros((2, 3), DType::F64)?;
    /// assert_eq!(z.dims(), &[2, 3]);
    /// assert!(z.to_vec::<f64>()?.iter().all(|&v| v == 0.0));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn zeros(shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        Ok(filled(shape.into(), dtype, 0.0))
    }

    /// A tensor of ones (`torch.ones`; `true` for bool).
    ///
    /// # Shapes
    /// As [`Tensor::zeros`].
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let o = Tensor::ones(3, DType::I64)?;
    /// assert_eq!(o.to_vec::<i64>()?, vec![1, 1, 1]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn ones(shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        Ok(filled(shape.into(), dtype, 1.0))
    }

    /// A tensor with every element equal to `value` (`torch.full`).
    ///
    /// `value` is converted to `dtype`: truncated toward zero for i64, `value != 0` for bool.
    ///
    /// # Shapes
    /// As [`Tensor::zeros`].
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let t = Tensor::full((2, 2), 0.5, DType::F32)?;
    /// assert_eq!(t.to_vec::<f32>()?, vec![0.5; 4]);
    /// assert_eq!(Tensor::full(2, 2.9, DType::I64)?.to_vec::<i64>()?, vec![2, 2]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn full(shape: impl Into<Shape>, value: f64, dtype: DType) -> Result<Tensor> {
        Ok(filled(shape.into(), dtype, value))
    }

    /// Zeros with this tensor's shape and dtype (`torch.zeros_like`); not part of any graph.
    ///
    /// # Shapes
    /// Same as `self`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1i64, 2], [3, 4]])?;
    /// let z = x.zeros_like()?;
    /// assert_eq!((z.dims(), z.dtype()), (x.dims(), DType::I64));
    /// assert_eq!(z.to_vec::<i64>()?, vec![0; 4]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::zeros(self.shape().clone(), self.dtype())
    }

    /// Ones with this tensor's shape and dtype (`torch.ones_like`).
    ///
    /// # Shapes
    /// Same as `self`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros((2, 2), DType::F32)?;
    /// assert_eq!(x.ones_like()?.to_vec::<f32>()?, vec![1.0; 4]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn ones_like(&self) -> Result<Tensor> {
        Tensor::ones(self.shape().clone(), self.dtype())
    }

    /// `value` everywhere, with this tensor's shape and dtype (`torch.full_like`).
    ///
    /// # Shapes
    /// Same as `self`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::zeros(3, DType::F64)?;
    /// assert_eq!(x.full_like(-1.0)?.to_vec::<f64>()?, vec![-1.0; 3]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn full_like(&self, value: f64) -> Result<Tensor> {
        Tensor::full(self.shape().clone(), value, self.dtype())
    }

    /// The values `start, start + step, ...` strictly before `end` (`torch.arange`), converted
    /// to `dtype`.
    ///
    /// # Shapes
    /// 1-d with `ceil((end - start) / step)` elements (0 when `start == end`).
    ///
    /// # Errors
    /// If `step` is 0, any argument is not finite, or `step` points away from `end`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let t = Tensor::arange(0.0, 5.0, 2.0, DType::I64)?;
    /// assert_eq!(t.to_vec::<i64>()?, vec![0, 2, 4]);
    /// let down = Tensor::arange(1.0, 0.0, -0.25, DType::F32)?;
    /// assert_eq!(down.to_vec::<f32>()?, vec![1.0, 0.75, 0.5, 0.25]);
    /// assert!(Tensor::arange(0.0, 5.0, -1.0, DType::F32).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::invalid(
                "arange",
                format!("start={start}, end={end}, step={step}: step must be finite and nonzero"),
            ));
        }
        if (end - start) * step < 0.0 {
            return Err(Error::invalid(
                "arange",
                format!("step {step} moves away from end {end} (start {start})"),
            ));
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        let values: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
        Tensor::from_f64s(values, Shape::from(n), dtype)
    }

    /// `steps` values evenly spaced from `start` to `end`, both included (`torch.linspace`).
    ///
    /// NOTE: as in PyTorch, the first half is filled from `start` and the second half from
    /// `end`, so the last value is exactly `end`.
    ///
    /// # Shapes
    /// 1-d with `steps` elements (`steps = 1` gives `[start]`, `0` an empty tensor).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let t = Tensor::linspace(0.0, 1.0, 5, DType::F64)?;
    /// assert_eq!(t.to_vec::<f64>()?, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    /// assert_eq!(Tensor::linspace(3.0, 7.0, 1, DType::F32)?.to_vec::<f32>()?, vec![3.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Result<Tensor> {
        let values: Vec<f64> = match steps {
            0 => vec![],
            1 => vec![start],
            _ => {
                let step = (end - start) / (steps - 1) as f64;
                // NOTE: fill from both ends, as PyTorch does, so the last value is exactly `end`.
                (0..steps)
                    .map(|i| {
                        if i < steps / 2 {
                            start + i as f64 * step
                        } else {
                            end - (steps - 1 - i) as f64 * step
                        }
                    })
                    .collect()
            }
        };
        Tensor::from_f64s(values, Shape::from(steps), dtype)
    }

    /// The `n x n` identity matrix (`torch.eye`).
    ///
    /// # Shapes
    /// `(n, n)`.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let i = Tensor::eye(2, DType::F32)?;
    /// assert_eq!(i.to_vec2::<f32>()?, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn eye(n: usize, dtype: DType) -> Result<Tensor> {
        let mut v = vec![0.0; n * n];
        for i in 0..n {
            v[i * n + i] = 1.0;
        }
        Tensor::from_f64s(v, Shape::from((n, n)), dtype)
    }

    pub(crate) fn from_f64s(values: Vec<f64>, shape: Shape, dtype: DType) -> Result<Tensor> {
        let storage = match dtype {
            DType::F32 => CpuStorage::F32(values.iter().map(|&v| v as f32).collect()),
            DType::F64 => CpuStorage::F64(values),
            DType::I64 => CpuStorage::I64(values.iter().map(|&v| v as i64).collect()),
            DType::Bool => CpuStorage::Bool(values.iter().map(|&v| v != 0.0).collect()),
        };
        Ok(Tensor::from_storage(storage, shape))
    }

    // ---- reading values back ------------------------------------------------------------

    /// All elements in row-major order, whatever the layout (`x.flatten().tolist()`).
    ///
    /// `T` must match the dtype exactly (`f32`, `f64`, `i64` or `bool`): there is no silent
    /// conversion; use [`Tensor::to_f64_vec`] to read any dtype.
    ///
    /// # Shapes
    /// Any shape; the vector has `numel()` elements.
    ///
    /// # Errors
    /// If `T` does not match the dtype.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?;
    /// assert_eq!(x.t()?.to_vec::<f32>()?, vec![1.0, 3.0, 2.0, 4.0]);
    /// assert!(x.to_vec::<f64>().is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn to_vec<T: StorageElem>(&self) -> Result<Vec<T>> {
        self.with_cpu(|s, l| {
            let data = s.as_slice::<T>("to_vec")?;
            Ok(crate::cpu::strided::to_contiguous(data, l))
        })
    }

    /// A 2-d tensor as a vector of rows (`x.tolist()` for a matrix).
    ///
    /// # Shapes
    /// `(rows, cols)` -> `rows` vectors of `cols` elements.
    ///
    /// # Errors
    /// If the tensor is not 2-d or `T` does not match the dtype.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[[1i64, 2], [3, 4]])?;
    /// assert_eq!(x.to_vec2::<i64>()?, vec![vec![1, 2], vec![3, 4]]);
    /// assert!(Tensor::zeros(3, DType::I64)?.to_vec2::<i64>().is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn to_vec2<T: StorageElem>(&self) -> Result<Vec<Vec<T>>> {
        if self.rank() != 2 {
            return Err(Error::shape(
                "to_vec2",
                format!("expected a 2-d tensor, got shape {}", self.shape()),
            ));
        }
        let cols = self.dims()[1];
        let flat = self.to_vec::<T>()?;
        Ok(if cols == 0 {
            vec![Vec::new(); self.dims()[0]]
        } else {
            flat.chunks(cols).map(|c| c.to_vec()).collect()
        })
    }

    /// The value of a one-element tensor (`Tensor.item()`), e.g. a loss.
    ///
    /// # Shapes
    /// Any shape with exactly one element (`()`, `(1)`, `(1, 1)`, ...).
    ///
    /// # Errors
    /// If the tensor has more or fewer than one element, or `T` does not match the dtype.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let loss = Tensor::new(&[1.0f32, 2.0, 3.0])?.mean_all()?;
    /// assert_eq!(loss.item::<f32>()?, 2.0);
    /// assert!(Tensor::zeros(2, DType::F32)?.item::<f32>().is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn item<T: StorageElem>(&self) -> Result<T> {
        if self.numel() != 1 {
            return Err(Error::shape(
                "item",
                format!(
                    "only one-element tensors can be converted to a scalar, got shape {}",
                    self.shape()
                ),
            ));
        }
        Ok(self.to_vec::<T>()?[0])
    }

    /// All elements converted to f64 in row-major order, whatever the dtype (bool as 0 or 1):
    /// for printing, metrics and tests.
    ///
    /// # Shapes
    /// Any shape; the vector has `numel()` elements.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[true, false])?;
    /// assert_eq!(x.to_f64_vec()?, vec![1.0, 0.0]);
    /// assert_eq!(Tensor::new(&[7i64])?.to_f64_vec()?, vec![7.0]);
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn to_f64_vec(&self) -> Result<Vec<f64>> {
        Ok(match self.contiguous_storage() {
            CpuStorage::F32(v) => v.into_iter().map(|x| x as f64).collect(),
            CpuStorage::F64(v) => v,
            CpuStorage::I64(v) => v.into_iter().map(|x| x as f64).collect(),
            CpuStorage::Bool(v) => v.into_iter().map(Element::to_f64).collect(),
        })
    }
}
