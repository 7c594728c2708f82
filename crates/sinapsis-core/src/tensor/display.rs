//! The printed form of a tensor, following PyTorch's `torch/_tensor_str.py`:
//!
//! ```text
//! tensor([[ 1.5000, -2.0000,  3.0000],
//!         [ 4.0000,  5.0000,  6.0000]], shape=[2, 3], dtype=f32)
//! ```
//!
//! - Floats print with 4 decimals (`format!("{:.2}", t)` picks another precision), in one
//!   column width for the whole tensor. Scientific notation (`1.0000e+05`) is used, as in
//!   PyTorch, when the largest and smallest nonzero finite magnitudes differ by more than
//!   1000x, the largest exceeds 1e8 or the smallest is below 1e-4.
//! - i64 prints as plain integers, bool as `true`/`false`, both right-aligned.
//! - Tensors with more than 1000 elements are summarised: every dim longer than 6 shows its
//!   first and last 3 entries around a `...`.
//! - Rows wrap at 80 columns; `shape=`, `dtype=` (always) and `requires_grad=true` (when
//!   gradients are tracked) follow the data.
//!
//! Differences from PyTorch, on purpose: integral floats print as `1.0000` rather than `1.`
//! (the dtype is always shown, and columns line up with non-integral values), and `nan`/`inf`
//! take part in the column width. Elements are read through the layout's strides, so views
//! print in logical order without being copied.

use crate::layout::Layout;
use crate::storage::CpuStorage;
use crate::Tensor;
use std::fmt;

/// Element count above which a tensor is summarised (PyTorch's `threshold`).
const THRESHOLD: usize = 1000;
/// Entries kept at each end of a summarised dim (PyTorch's `edgeitems`).
const EDGE_ITEMS: usize = 3;
/// Characters per line before wrapping (PyTorch's `linewidth`).
const LINE_WIDTH: usize = 80;
/// Decimals for floats unless the formatter asks for a precision (PyTorch's `precision`).
const DEFAULT_PRECISION: usize = 4;
const PREFIX: &str = "tensor(";

/// PyTorch's printed form, with the shape and dtype always shown (see the rules in
/// `tensor/display.rs`). A precision (`{:.2}`) sets the number of decimals for floats.
///
/// ```
/// use sinapsis_core::{DType, Generator, Tensor};
/// let t = Tensor::new(&[[1.5f32, -2.0], [3.0, 4.0]])?;
/// assert_eq!(
///     t.to_string(),
///     "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.0000]], shape=[2, 2], dtype=f32)"
/// );
/// assert_eq!(format!("{:.1}", Tensor::scalar(0.25f64)), "tensor(0.2, shape=[], dtype=f64)");
/// let big = Generator::new(0).randint(0, 10, [50, 50])?; // > 1000 elements: summarised
/// assert!(big.to_string().contains("..."));
/// assert_eq!(Tensor::arange(0.0, 3.0, 1.0, DType::I64)?.to_string(), "tensor([0, 1, 2], shape=[3], dtype=i64)");
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = f.precision().unwrap_or(DEFAULT_PRECISION);
        let body = match render_body(self, precision) {
            Some(body) => body,
            // Only reachable with a corrupt layout; printing must still not panic.
            None => "<layout outside its storage>".to_string(),
        };
        let mut suffixes = vec![
            format!("shape={:?}", self.dims()),
            format!("dtype={}", self.dtype()),
        ];
        if self.requires_grad() {
            suffixes.push("requires_grad=true".to_string());
        }
        f.write_str(&add_suffixes(format!("{PREFIX}{body}"), &suffixes))
    }
}

/// The indices shown along one dim, and whether a `...` sits after the first `EDGE_ITEMS`.
struct Kept {
    idx: Vec<usize>,
    elided: bool,
}

fn kept_indices(dims: &[usize], summarize: bool) -> Vec<Kept> {
    dims.iter()
        .map(|&d| {
            if summarize && d > 2 * EDGE_ITEMS {
                Kept {
                    idx: (0..EDGE_ITEMS).chain(d - EDGE_ITEMS..d).collect(),
                    elided: true,
                }
            } else {
                Kept {
                    idx: (0..d).collect(),
                    elided: false,
                }
            }
        })
        .collect()
}

/// The shown elements, in row-major order over the kept indices; `None` when the layout
/// points outside the buffer.
fn gather<T: Copy>(data: &[T], layout: &Layout, kept: &[Kept]) -> Option<Vec<T>> {
    let total: usize = kept.iter().map(|k| k.idx.len()).product();
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return Some(out);
    }
    let strides = layout.strides();
    let mut pos = vec![0usize; kept.len()];
    loop {
        let mut off = layout.offset();
        for ((k, &p), &s) in kept.iter().zip(&pos).zip(strides) {
            off = off.checked_add(k.idx[p].checked_mul(s)?)?;
        }
        out.push(*data.get(off)?);
        // Advance the odometer; done when the outermost dim wraps.
        let mut d = kept.len();
        loop {
            if d == 0 {
                return Some(out);
            }
            d -= 1;
            pos[d] += 1;
            if pos[d] < kept[d].idx.len() {
                break;
            }
            pos[d] = 0;
        }
    }
}

/// `tensor(` is not included: the nested `[...]` (or the scalar) only.
fn render_body(t: &Tensor, precision: usize) -> Option<String> {
    let dims = t.dims();
    if t.numel() == 0 {
        return Some("[]".to_string());
    }
    let kept = kept_indices(dims, t.numel() > THRESHOLD);
    let cells = t.with_cpu(|storage, layout| -> Option<Vec<String>> {
        Some(match storage {
            CpuStorage::F32(v) => {
                let vals: Vec<f64> = gather(v, layout, &kept)?
                    .into_iter()
                    .map(f64::from)
                    .collect();
                format_floats(&vals, precision)
            }
            CpuStorage::F64(v) => format_floats(&gather(v, layout, &kept)?, precision),
            CpuStorage::I64(v) => gather(v, layout, &kept)?
                .iter()
                .map(|x| x.to_string())
                .collect(),
            CpuStorage::Bool(v) => gather(v, layout, &kept)?
                .iter()
                .map(|x| x.to_string())
                .collect(),
        })
    })?;
    let width = cells.iter().map(|c| c.chars().count()).max().unwrap_or(1);
    let cells: Vec<String> = cells.into_iter().map(|c| format!("{c:>width$}")).collect();
    if dims.is_empty() {
        return cells.into_iter().next();
    }
    Some(nested(&cells, &kept, 0, 0, PREFIX.len(), width))
}

/// Floats as PyTorch's `_Formatter` writes them (fixed or scientific for the whole tensor).
fn format_floats(vals: &[f64], precision: usize) -> Vec<String> {
    let mut finite_nonzero = vals
        .iter()
        .filter(|v| v.is_finite() && **v != 0.0)
        .map(|v| v.abs());
    let sci = match finite_nonzero.next() {
        None => false,
        Some(first) => {
            let (min, max) =
                finite_nonzero.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)));
            max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4
        }
    };
    vals.iter()
        .map(|&v| {
            if v.is_nan() {
                "nan".to_string()
            } else if v.is_infinite() {
                if v > 0.0 { "inf" } else { "-inf" }.to_string()
            } else if sci {
                sci_string(v, precision)
            } else {
                format!("{v:.precision$}")
            }
        })
        .collect()
}

/// Python's `{:.Ne}`: `1.2346e-05`, `-3.0000e+10` (signed exponent of at least two digits).
fn sci_string(v: f64, precision: usize) -> String {
    let s = format!("{v:.precision$e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// `[...]` for dim `d` of the shown block starting at flat cell `start`; `indent` is the
/// column of this bracket's parent (PyTorch's `_tensor_str_with_formatter`).
fn nested(
    cells: &[String],
    kept: &[Kept],
    d: usize,
    start: usize,
    indent: usize,
    width: usize,
) -> String {
    let rank = kept.len();
    let here = &kept[d];
    if d + 1 == rank {
        let mut items: Vec<&str> = cells[start..start + here.idx.len()]
            .iter()
            .map(String::as_str)
            .collect();
        if here.elided {
            items.insert(EDGE_ITEMS, " ...");
        }
        // NOTE: `+ 2` is the ", " between entries, as in PyTorch's `_vector_str`.
        let per_line = (LINE_WIDTH.saturating_sub(indent) / (width + 2)).max(1);
        let lines: Vec<String> = items.chunks(per_line).map(|c| c.join(", ")).collect();
        return format!(
            "[{}]",
            lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
        );
    }
    let block: usize = kept[d + 1..].iter().map(|k| k.idx.len()).product();
    let mut slices: Vec<String> = (0..here.idx.len())
        .map(|k| nested(cells, kept, d + 1, start + k * block, indent + 1, width))
        .collect();
    if here.elided {
        slices.insert(EDGE_ITEMS, "...".to_string());
    }
    let sep = format!(",{}{}", "\n".repeat(rank - d - 1), " ".repeat(indent + 1));
    format!("[{}]", slices.join(&sep))
}

/// Appends `, suffix` for each suffix, moving one to its own line when the line would pass
/// 80 columns (PyTorch's `_add_suffixes`; PyTorch counts two columns more than the line
/// holds, here the count is exact).
fn add_suffixes(mut s: String, suffixes: &[String]) -> String {
    let mut line_len = s.rsplit('\n').next().map_or(0, |l| l.chars().count());
    for suffix in suffixes {
        let n = suffix.chars().count();
        if line_len + n + 2 > LINE_WIDTH {
            s.push_str(",\n");
            s.push_str(&" ".repeat(PREFIX.len()));
            line_len = PREFIX.len() + n;
        } else {
            s.push_str(", ");
            line_len += n + 2;
        }
        s.push_str(suffix);
    }
    s.push(')');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sci_matches_python() {
        assert_eq!(sci_string(1.0e5, 4), "1.0000e+05");
        assert_eq!(sci_string(-1.23456e-5, 4), "-1.2346e-05");
        assert_eq!(sci_string(0.0, 4), "0.0000e+00");
        assert_eq!(sci_string(1.0e300, 2), "1.00e+300");
        assert_eq!(sci_string(9.99996e-5, 4), "1.0000e-04");
    }

    #[test]
    fn suffix_wraps_past_80_columns() {
        let s = add_suffixes("x".repeat(70), &["shape=[1]".to_string()]);
        assert_eq!(s, format!("{},\n       shape=[1])", "x".repeat(70)));
    }
}
