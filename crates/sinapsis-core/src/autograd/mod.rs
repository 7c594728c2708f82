//! Reverse-mode automatic differentiation, define-by-run.
//!
//! Each op output records an `Op` naming its inputs. `Tensor::backward` orders the graph
//! with an iterative depth-first walk (deep graphs cannot overflow the stack), visits nodes
//! from the output back, applies each op's rule (all rules live in `backward.rs`, one
//! exhaustive `match`), accumulates gradients on fan-out, frees each intermediate gradient as
//! soon as it has been passed on, and adds the result into the leaves' `.grad()`.

mod backward;
mod gradcheck;

pub use gradcheck::{gradcheck, GradCheck};

use crate::shape::DimVec;
use crate::tensor::NodeId;
use crate::{Error, Result, Tensor};
use smallvec::SmallVec;
use std::cell::Cell;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a [`NodeId`] (an address) by one multiply: node ids are unique and the maps are
/// private to one backward pass, so SipHash's flood resistance would only cost time.
#[derive(Default)]
struct NodeIdHasher(u64);

impl Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, id: usize) {
        // Addresses are 16-byte aligned: the multiply spreads the high bits down.
        self.0 = (id as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(32);
    }
}

type NodeMap<V> = HashMap<NodeId, V, BuildHasherDefault<NodeIdHasher>>;
type NodeSet = HashSet<NodeId, BuildHasherDefault<NodeIdHasher>>;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Disables graph recording on this thread until dropped (PyTorch's `with torch.no_grad():`);
/// created by [`no_grad`]. Guards nest: dropping one restores the state it found.
///
/// ```
/// use sinapsis_core::{Tensor, DType};
/// use sinapsis_core::{is_grad_enabled, no_grad};
/// let w = Tensor::ones(2, DType::F32)?.requires_grad_(true)?;
/// {
///     let _outer = no_grad();
///     {
///         let _inner = no_grad();
///     }
///     assert!(!is_grad_enabled()); // still off: the outer guard is alive
///     assert!(!w.mul_scalar(2.0)?.requires_grad());
/// }
/// assert!(is_grad_enabled());
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
#[must_use = "gradient recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    prev: bool,
}

/// Turns graph recording off for the current thread until the returned guard is dropped
/// (`torch.no_grad()`): for inference, evaluation and optimizer updates.
///
/// Results computed meanwhile are leaves that need no gradient, so no graph is kept alive.
/// NOTE: the flag is per thread, like PyTorch's; worker threads start with recording on.
/// Bind the guard to a name (`let _guard = no_grad();`): `let _ = no_grad();` drops it at
/// once.
///
/// ```
/// use sinapsis_core::{Tensor, DType};
/// use sinapsis_core::no_grad;
/// let w = Tensor::ones(2, DType::F32)?.requires_grad_(true)?;
/// let y = {
///     let _guard = no_grad();
///     w.exp()?
/// };
/// assert!(!y.requires_grad() && y.is_leaf());
/// assert!(w.exp()?.requires_grad()); // recording is back on
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
pub fn no_grad() -> NoGradGuard {
    NoGradGuard {
        prev: GRAD_ENABLED.with(|g| g.replace(false)),
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.prev));
    }
}

/// Whether ops on this thread currently record the graph (`torch.is_grad_enabled()`).
///
/// ```
/// use sinapsis_core::{Tensor, DType};
/// use sinapsis_core::{is_grad_enabled, no_grad};
/// assert!(is_grad_enabled());
/// let guard = no_grad();
/// assert!(!is_grad_enabled());
/// drop(guard);
/// assert!(is_grad_enabled());
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

pub(crate) fn should_record(inputs: &[&Tensor]) -> bool {
    is_grad_enabled() && inputs.iter().any(|t| t.requires_grad())
}

/// Elementwise functions of one tensor. Parameters are stored as f64 and cast per dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum UnaryOp {
    Neg,
    Exp,
    Log,
    Log1p,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    LogSigmoid,
    Relu,
    LeakyRelu(f64),
    GeluErf,
    GeluTanh,
    Silu,
    Softplus {
        beta: f64,
        threshold: f64,
    },
    Elu(f64),
    Erf,
    Square,
    Reciprocal,
    PowScalar(f64),
    /// Bounds may be +-inf for a one-sided clamp.
    Clamp(f64, f64),
    AddScalar(f64),
    MulScalar(f64),
    /// A true division (`x / s`), so `49.0 / 49.0` is exactly 1 as in PyTorch.
    DivScalar(f64),
}

/// Elementwise functions of two same-shape tensors (broadcasting happens before, as an
/// explicit `Expand` in the graph).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
    /// Binary cross entropy of probabilities `p` (lhs) against targets `y` (rhs):
    /// `(y - 1) max(ln(1 - p), -100) - y max(ln p, -100)`, PyTorch's clamped form.
    BinaryCrossEntropy,
}

/// How a tensor was computed: the op and what its backward rule needs.
pub(crate) enum Op {
    Unary(Tensor, UnaryOp),
    Binary(Tensor, Tensor, BinaryOp),
    /// Sum over some dims, in keepdim form (dropping dims is a `Reshape` on top).
    Sum(Tensor),
    /// amax/amin over some dims, keepdim form; the gradient is split evenly among ties.
    Extremum(Tensor),
    /// Batched matmul of rank >= 2 operands; batch dims broadcast.
    Matmul(Tensor, Tensor),
    /// `x W^T + b` for a 2-D `x`, a 2-D `w` `(out, in)` and an optional 1-D `b`, followed
    /// by ReLU when `relu` is set.
    Linear {
        x: Tensor,
        w: Tensor,
        b: Option<Tensor>,
        relu: bool,
    },
    Reshape(Tensor),
    Permute(Tensor, DimVec),
    Narrow {
        x: Tensor,
        dim: usize,
        start: usize,
    },
    Expand(Tensor),
    Cat {
        xs: Vec<Tensor>,
        dim: usize,
    },
    /// A copy into fresh contiguous storage (`contiguous`, `clone`).
    Copy(Tensor),
    /// A float-to-float dtype conversion.
    Cast(Tensor),
    Gather {
        x: Tensor,
        dim: usize,
        index: Tensor,
    },
    IndexSelect {
        x: Tensor,
        dim: usize,
        index: Tensor,
    },
    Where {
        cond: Tensor,
        a: Tensor,
        b: Tensor,
    },
    /// A p-norm over some dims (keepdim form), for finite `p` other than 1.
    Norm {
        x: Tensor,
        p: f64,
    },
    Softmax {
        x: Tensor,
        dim: usize,
    },
    LogSoftmax {
        x: Tensor,
        dim: usize,
    },
    /// Per-row cross entropy of `(N, C)` logits against class indices (`target`, checked
    /// to lie in `0..C` by the forward); `lse` holds each row's log-sum-exp for the
    /// backward.
    CrossEntropyRows {
        x: Tensor,
        target: Vec<usize>,
        lse: Tensor,
    },
    /// 2-D convolution; inputs `x`, `w` and the optional bias `b`, in that order.
    Conv2d {
        x: Tensor,
        w: Tensor,
        b: Option<Tensor>,
        args: crate::Conv2dOptions,
    },
    /// Max pooling; `indices` (i64, the output's shape) hold each window's argmax, as a flat
    /// index into its `H x W` plane.
    MaxPool2d {
        x: Tensor,
        indices: Tensor,
    },
    /// Average pooling over sliding or adaptive windows.
    AvgPool2d {
        x: Tensor,
        pool: crate::tensor::AvgPool,
    },
}

impl Op {
    /// Whether this op's output is a ReLU's (`relu`, or a linear layer fused with one).
    ///
    /// The gradient for such an output reaches nothing but the op's own backward, which
    /// zeroes it wherever the output is 0 (no retained gradients or hooks on intermediate
    /// tensors). So an op that reads this output may zero its contribution there early, in
    /// a pass it makes anyway, and say so in the gradient's [`GradHint`].
    pub(crate) fn ends_in_relu(&self) -> bool {
        matches!(
            self,
            Op::Linear { relu: true, .. } | Op::Unary(_, UnaryOp::Relu)
        )
    }

    /// The tensors this op read; a gradient may flow to each.
    pub(crate) fn inputs(&self) -> SmallVec<[&Tensor; 3]> {
        let mut v = SmallVec::new();
        match self {
            Op::Unary(x, _)
            | Op::Sum(x)
            | Op::Extremum(x)
            | Op::Reshape(x)
            | Op::Permute(x, _)
            | Op::Narrow { x, .. }
            | Op::Expand(x)
            | Op::Copy(x)
            | Op::Cast(x)
            | Op::Gather { x, .. }
            | Op::IndexSelect { x, .. }
            | Op::Norm { x, .. }
            | Op::Softmax { x, .. }
            | Op::LogSoftmax { x, .. }
            | Op::CrossEntropyRows { x, .. }
            | Op::MaxPool2d { x, .. }
            | Op::AvgPool2d { x, .. } => v.push(x),
            Op::Conv2d { x, w, b, .. } | Op::Linear { x, w, b, .. } => {
                v.push(x);
                v.push(w);
                v.extend(b.as_ref());
            }
            Op::Binary(a, b, _) | Op::Matmul(a, b) => {
                v.push(a);
                v.push(b);
            }
            Op::Where { a, b, .. } => {
                v.push(a);
                v.push(b);
            }
            Op::Cat { xs, .. } => v.extend(xs.iter()),
        }
        v
    }
}

impl Op {
    /// The input tensors, by value (for tearing a graph down without recursion).
    pub(crate) fn into_inputs(self) -> SmallVec<[Tensor; 3]> {
        match self {
            Op::Unary(x, _)
            | Op::Sum(x)
            | Op::Extremum(x)
            | Op::Reshape(x)
            | Op::Permute(x, _)
            | Op::Narrow { x, .. }
            | Op::Expand(x)
            | Op::Copy(x)
            | Op::Cast(x)
            | Op::Gather { x, .. }
            | Op::IndexSelect { x, .. }
            | Op::Norm { x, .. }
            | Op::Softmax { x, .. }
            | Op::LogSoftmax { x, .. }
            | Op::CrossEntropyRows { x, .. }
            | Op::MaxPool2d { x, .. }
            | Op::AvgPool2d { x, .. } => smallvec::smallvec![x],
            Op::Conv2d { x, w, b, .. } | Op::Linear { x, w, b, .. } => {
                std::iter::once(x).chain(Some(w)).chain(b).collect()
            }
            Op::Binary(a, b, _) | Op::Matmul(a, b) | Op::Where { a, b, .. } => {
                smallvec::smallvec![a, b]
            }
            Op::Cat { xs, .. } => xs.into_iter().collect(),
        }
    }
}

/// Post-order (inputs before the ops that read them) of the nodes that need a gradient.
fn topo_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut visited = NodeSet::with_capacity_and_hasher(64, Default::default());
    let mut stack = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !visited.insert(t.id()) {
            continue;
        }
        stack.push((t.clone(), true));
        if let Some(op) = t.op() {
            for input in op.inputs() {
                if input.requires_grad() && !visited.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        }
    }
    order
}

/// What the backward walk knows about a pending gradient beyond its values, from the ops
/// that produced it; each field holds for the sum of all contributions so far.
#[derive(Default)]
pub(crate) struct GradHint {
    /// Zero wherever the tensor, a ReLU's output, is 0: masking is linear and idempotent,
    /// so a sum of masked parts is masked, and one unmasked part makes the sum unmasked
    /// (see `Op::ends_in_relu`).
    pub relu_masked: bool,
    /// The gradient's sums over its rows (`sum(0)` of a 2-D gradient: the bias gradient of
    /// the linear layer that produced the tensor), where the producer had them for free.
    pub column_sums: Option<Tensor>,
}

impl GradHint {
    /// The hint for the sum of two contributions.
    fn merge(self, other: GradHint) -> Result<GradHint> {
        let column_sums = match (self.column_sums, other.column_sums) {
            (Some(a), Some(b)) => Some(a.add(&b)?),
            _ => None,
        };
        Ok(GradHint {
            relu_masked: self.relu_masked && other.relu_masked,
            column_sums,
        })
    }
}

pub(crate) fn run_backward(root: &Tensor, seed: Tensor) -> Result<()> {
    if !root.requires_grad() {
        return Err(Error::Autograd(
            "this tensor does not require grad and has no grad_fn: no input it depends on \
             has requires_grad set (or it was computed under no_grad)"
                .into(),
        ));
    }
    let _guard = no_grad();
    let mut order = topo_order(root);
    // Each pending gradient, with what is known about it (see `GradHint`).
    // Sized once: growing the map step by step rehashed it several times per backward.
    let mut grads: NodeMap<(Tensor, GradHint)> =
        NodeMap::with_capacity_and_hasher(order.len(), Default::default());
    grads.insert(root.id(), (seed, GradHint::default()));
    // Popping drops each node as soon as it is done, so saved tensors go early too.
    while let Some(node) = order.pop() {
        let Some((grad, hint)) = grads.remove(&node.id()) else {
            continue;
        };
        let Some(op) = node.op() else {
            node.accumulate_grad(grad.contiguous()?)?;
            continue;
        };
        let mut applied = backward::apply(op, &node, &grad, hint)?;
        drop(grad);
        for (i, (input, g)) in op.inputs().into_iter().zip(applied.grads).enumerate() {
            let Some(g) = g else { continue };
            if !input.requires_grad() {
                continue;
            }
            debug_assert_eq!(g.dims(), input.dims(), "gradient shape for {op:?}");
            let hint = match &mut applied.input_hint {
                Some((at, hint)) if *at == i => std::mem::take(hint),
                _ => GradHint::default(),
            };
            match grads.entry(input.id()) {
                Entry::Occupied(mut e) => {
                    let (sum, sum_hint) = e.get_mut();
                    let merged = std::mem::take(sum_hint).merge(hint)?;
                    let entry = (sum.add(&g)?, merged);
                    e.insert(entry);
                }
                Entry::Vacant(e) => {
                    e.insert((g, hint));
                }
            }
        }
    }
    Ok(())
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Op::Unary(_, u) => return write!(f, "Unary({u:?})"),
            Op::Binary(_, _, b) => return write!(f, "Binary({b:?})"),
            Op::Sum(_) => "Sum",
            Op::Extremum(_) => "Extremum",
            Op::Matmul(..) => "Matmul",
            Op::Linear { .. } => "Linear",
            Op::Reshape(_) => "Reshape",
            Op::Permute(..) => "Permute",
            Op::Narrow { .. } => "Narrow",
            Op::Expand(_) => "Expand",
            Op::Cat { .. } => "Cat",
            Op::Copy(_) => "Copy",
            Op::Cast(_) => "Cast",
            Op::Gather { .. } => "Gather",
            Op::IndexSelect { .. } => "IndexSelect",
            Op::Where { .. } => "Where",
            Op::Norm { .. } => "Norm",
            Op::Softmax { .. } => "Softmax",
            Op::LogSoftmax { .. } => "LogSoftmax",
            Op::CrossEntropyRows { .. } => "CrossEntropyRows",
            Op::Conv2d { .. } => "Conv2d",
            Op::MaxPool2d { .. } => "MaxPool2d",
            Op::AvgPool2d { .. } => "AvgPool2d",
        };
        f.write_str(name)
    }
}

impl Tensor {
    /// Computes the gradient of this one-element tensor (a loss) with respect to every leaf
    /// that requires one, and adds it into each leaf's [`Tensor::grad`] (`loss.backward()`).
    ///
    /// Gradients accumulate across calls, as in PyTorch: clear them with [`Tensor::zero_grad`]
    /// between steps. NOTE: the graph is kept as long as the output is alive, so calling
    /// `backward` twice is allowed (like `retain_graph=True`) and adds the gradient twice.
    /// The walk is iterative, so very deep graphs cannot overflow the stack.
    ///
    /// # Shapes
    /// `self` must have exactly one element (any rank); use [`Tensor::backward_with_grad`] for
    /// other outputs.
    ///
    /// # Errors
    /// If `self` has more than one element, or nothing it depends on requires a gradient (or it
    /// was computed under [`no_grad`](crate::no_grad)).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f64, 2.0, 3.0])?.requires_grad_(true)?;
    /// let loss = x.square()?.sum_all()?; // sum(x^2)
    /// loss.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>()?, vec![2.0, 4.0, 6.0]);
    /// assert!(x.square()?.backward().is_err()); // 3 elements: not a scalar
    /// assert!(Tensor::scalar(1.0f64).backward().is_err()); // nothing requires grad
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn backward(&self) -> Result<()> {
        if self.numel() != 1 {
            return Err(Error::Autograd(format!(
                "grad can be implicitly created only for scalar outputs, this tensor has shape \
                 {}; use backward_with_grad",
                self.shape()
            )));
        }
        let seed = Tensor::ones(self.shape().clone(), self.dtype())?;
        run_backward(self, seed)
    }

    /// Backward from an output of any shape, given the upstream gradient `grad` of that shape
    /// (`y.backward(gradient=grad)`); equivalent to `(y * grad).sum().backward()`.
    ///
    /// `grad` is detached first, so it is treated as a constant.
    ///
    /// # Shapes
    /// `grad` has exactly `self`'s shape and dtype.
    ///
    /// # Errors
    /// If the shape or dtype of `grad` differs, or nothing `self` depends on requires a
    /// gradient.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let x = Tensor::new(&[1.0f64, 2.0])?.requires_grad_(true)?;
    /// let y = x.mul_scalar(3.0)?;
    /// y.backward_with_grad(&Tensor::new(&[1.0f64, 0.5])?)?;
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>()?, vec![3.0, 1.5]);
    /// assert!(y.backward_with_grad(&Tensor::ones(3, DType::F64)?).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn backward_with_grad(&self, grad: &Tensor) -> Result<()> {
        if grad.dims() != self.dims() || grad.dtype() != self.dtype() {
            return Err(Error::Autograd(format!(
                "upstream gradient {} {} does not match the output {} {}",
                grad.shape(),
                grad.dtype(),
                self.shape(),
                self.dtype()
            )));
        }
        run_backward(self, grad.detach())
    }
}
