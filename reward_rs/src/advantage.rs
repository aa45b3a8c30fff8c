//! Advantage estimators: group baselines over a flat reward vector (GRPO, Dr. GRPO, RLOO),
//! masked whitening, and GAE(γ, λ) over (B, T) token arrays.
//!
//! Conventions shared by every function here (docs/architecture.md repeats them for Python):
//! - Input must be finite. A NaN or ±inf anywhere is `Error::InvalidInput` naming the position,
//!   masked-out positions included: a NaN in padding is a bug upstream, not a value to skip.
//! - Means are taken around a reference value of the data (the group's first reward), so a group
//!   whose rewards are all equal gets advantages that are exactly `0.0`, not `±1e-17`.
//! - `ddof` is 1 (sample std, Bessel-corrected: torch's default and so TRL's) or 0 (population).
//!   A group with no more than `ddof` values has no spread: its std is 0.
//! - Masks are `bool` (true = a real token). Masked-out positions come back as exactly 0.
//!
//! Everything is computed in f64; `python.rs` converts float32 in and out.

mod groups;
mod tokens;

pub use groups::{dr_grpo, grpo, rloo, Groups, GrpoOptions, Scale};
pub use tokens::{gae, mask_from_numbers, masked_whiten, Gae, WhitenOptions};

use std::borrow::Cow;

use ndarray::{Array, ArrayView, ArrayView1, Dimension};

use crate::error::{Error, Result};

/// Mean and std of some values, taken around the first value so that equal values have
/// deviations of exactly 0 (a plain `x - mean` leaves rounding residue such as 1e-17).
struct Moments {
    first: f64,
    shifted_mean: f64,
    std: f64,
}

impl Moments {
    /// Two passes over `xs`; the std divides by `n - ddof` and is 0 when that is not positive.
    fn of(xs: impl Iterator<Item = f64> + Clone, ddof: u8) -> Moments {
        let mut it = xs.clone();
        let Some(first) = it.next() else {
            return Moments {
                first: 0.0,
                shifted_mean: 0.0,
                std: 0.0,
            };
        };
        let (mut n, mut sum) = (1usize, 0.0);
        for x in it {
            n += 1;
            sum += x - first;
        }
        let mut m = Moments {
            first,
            shifted_mean: sum / n as f64,
            std: 0.0,
        };
        let squares: f64 = xs.map(|x| m.dev(x) * m.dev(x)).sum();
        let dof = n.saturating_sub(ddof as usize);
        if dof > 0 {
            m.std = (squares / dof as f64).sqrt();
        }
        m
    }

    fn dev(&self, x: f64) -> f64 {
        (x - self.first) - self.shifted_mean
    }

    fn mean(&self) -> f64 {
        self.first + self.shifted_mean
    }
}

fn check_eps(eps: f64) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "eps must be finite and >= 0, got {eps}"
        )))
    }
}

fn check_ddof(ddof: u8) -> Result<()> {
    if ddof <= 1 {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "ddof must be 0 (population std) or 1 (sample std), got {ddof}"
        )))
    }
}

/// `[("rewards", shape), ("values", shape), ...]` must all be equal.
fn same_shape(shapes: &[(&str, &[usize])]) -> Result<()> {
    let (first, want) = shapes[0];
    for &(name, got) in &shapes[1..] {
        if got != want {
            return Err(Error::invalid(format!(
                "{first} has shape {} but {name} has shape {}",
                fmt_shape(want),
                fmt_shape(got)
            )));
        }
    }
    Ok(())
}

pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `[i, j]` for the flat (row-major) position `at` in an array of `shape`.
fn position(shape: &[usize], mut at: usize) -> String {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        *slot = at % dim.max(1);
        at /= dim.max(1);
    }
    let parts: Vec<String> = index.iter().map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

fn check_finite<D: Dimension>(name: &str, a: &ArrayView<f64, D>) -> Result<()> {
    match a.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(at) => {
            let bad = a.iter().nth(at).copied().unwrap_or(f64::NAN);
            Err(Error::invalid(format!(
                "{name}{} is {bad}; advantages need finite inputs",
                position(a.shape(), at)
            )))
        }
    }
}

/// The values of a 1-D view as a slice (copied only if the view is strided), all finite.
fn finite_slice<'a>(name: &str, a: &'a ArrayView1<f64>) -> Result<Cow<'a, [f64]>> {
    check_finite(name, a)?;
    Ok(match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.to_vec()),
    })
}

/// Finite inputs can still overflow (e.g. rewards near f64::MAX); say so instead of returning inf.
fn finish<D: Dimension>(out: Array<f64, D>) -> Result<Array<f64, D>> {
    if out.iter().all(|v| v.is_finite()) {
        Ok(out)
    } else {
        Err(Error::invalid(
            "the result overflowed f64 (inputs too large in magnitude)",
        ))
    }
}
#[cfg(test)]
mod tests;
