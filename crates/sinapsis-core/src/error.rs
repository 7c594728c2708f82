//! One error type for the whole engine. Every variant names the op that failed and the
//! operands involved, so a message alone tells the user what to fix.

use crate::{DType, Shape};

/// Errors returned by tensor operations. Nothing in the engine panics on bad user input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Shapes that do not fit together (`matmul: (64x3) @ (2x10): inner dimensions 3 and 2 differ`).
    #[error("{op}: {msg}")]
    Shape { op: &'static str, msg: String },

    /// Two shapes that cannot be broadcast to a common shape.
    #[error("{op}: shapes {lhs} and {rhs} cannot be broadcast together")]
    Broadcast {
        op: &'static str,
        // Boxed: keeps `Error` (and so every `Result`) small.
        lhs: Box<Shape>,
        rhs: Box<Shape>,
    },

    /// A dimension index outside `-rank..rank`.
    #[error("{op}: dimension {dim} is out of range for a tensor of shape {shape}")]
    DimOutOfRange {
        op: &'static str,
        dim: i64,
        shape: Shape,
    },

    /// An operand of the wrong dtype (no silent promotion: cast with `to_dtype`).
    #[error("{op}: expected {expected}, got {got}")]
    DType {
        op: &'static str,
        expected: &'static str,
        got: DType,
    },

    /// Two operands whose dtypes differ.
    #[error("{op}: dtypes differ ({lhs} and {rhs}); cast one with to_dtype")]
    DTypeMismatch {
        op: &'static str,
        lhs: DType,
        rhs: DType,
    },

    /// Two operands on different devices, or a device this build cannot use.
    #[error("{op}: {msg}")]
    Device { op: &'static str, msg: String },

    /// An argument with a bad value (negative length, step of zero, empty list...).
    #[error("{op}: {msg}")]
    InvalidArgument { op: &'static str, msg: String },

    /// Autograd misuse: backward from a non-scalar, from a tensor that needs no gradient...
    #[error("backward: {0}")]
    Autograd(String),

    /// A gradient check whose analytic and numeric gradients disagree.
    #[error("gradcheck: {0}")]
    GradCheck(String),

    /// A data file that is missing, unreadable or malformed; `path` names the file (or URL)
    /// and `msg` says where in it (line, offset) and what was expected.
    #[error("{path}: {msg}")]
    Data { path: String, msg: String },
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape {
            op,
            msg: msg.into(),
        }
    }

    pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            msg: msg.into(),
        }
    }

    pub(crate) fn dtype(op: &'static str, expected: &'static str, got: DType) -> Self {
        Error::DType { op, expected, got }
    }
}
