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

use std::borrow::Cow;
use std::str::FromStr;

use ndarray::{
    Array, Array1, Array2, ArrayD, ArrayView, ArrayView1, ArrayView2, ArrayViewD, Dimension, Zip,
};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{Error, Result};

/// How rewards are split into groups (completions of the same prompt).
#[derive(Debug, Clone, Copy)]
pub enum Groups<'a> {
    /// Consecutive runs of this many rewards: `[g0 g0 g0 g1 g1 g1 ...]`.
    Size(usize),
    /// One id per reward; equal ids form a group, wherever they sit in the batch.
    Ids(&'a [i64]),
}

/// What GRPO divides the centred rewards by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The group's own std (GRPO as in DeepSeekMath, Shao et al. 2024, eq. 3).
    Group,
    /// The std of all rewards in the batch (TRL's `scale_rewards="batch"`).
    Batch,
    /// No division: Dr. GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training").
    None,
}

impl FromStr for Scale {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "group" => Ok(Scale::Group),
            "batch" => Ok(Scale::Batch),
            "none" => Ok(Scale::None),
            _ => Err(Error::invalid(format!(
                "scale must be one of 'group', 'batch', 'none'; got {s:?}"
            ))),
        }
    }
}

/// GRPO options. The default is TRL's: `(r - mean) / (std + 1e-4)` with the sample std.
#[derive(Debug, Clone, Copy)]
pub struct GrpoOptions {
    pub scale: Scale,
    /// Added to the std before dividing (outside the square root, as TRL does).
    pub eps: f64,
    pub ddof: u8,
}

impl Default for GrpoOptions {
    fn default() -> Self {
        GrpoOptions {
            scale: Scale::Group,
            eps: 1e-4,
            ddof: 1,
        }
    }
}

/// Group-relative advantages: each reward minus its group's mean, divided by a std chosen by
/// `opts.scale`. A group of one reward has advantage 0.
pub fn grpo(rewards: ArrayView1<f64>, groups: Groups, opts: &GrpoOptions) -> Result<Array1<f64>> {
    check_eps(opts.eps)?;
    check_ddof(opts.ddof)?;
    let rewards = finite_slice("rewards", &rewards)?;
    let layout = Layout::new(rewards.len(), groups)?;
    let batch_std = match opts.scale {
        Scale::Batch => Moments::of(rewards.iter().copied(), opts.ddof).std,
        _ => 0.0,
    };
    let out = layout.map(&rewards, |r, out| {
        let m = Moments::of(r.iter().copied(), opts.ddof);
        let denom = match opts.scale {
            Scale::Group => m.std + opts.eps,
            Scale::Batch => batch_std + opts.eps,
            Scale::None => 1.0,
        };
        // denom is 0 only with eps = 0 and no spread, where every deviation is exactly 0.
        let inv = if denom == 0.0 { 0.0 } else { 1.0 / denom };
        for (a, &x) in out.iter_mut().zip(r) {
            *a = m.dev(x) * inv;
        }
    });
    finish(Array1::from(out))
}

/// Dr. GRPO: each reward minus its group's mean, no std scaling.
pub fn dr_grpo(rewards: ArrayView1<f64>, groups: Groups) -> Result<Array1<f64>> {
    let opts = GrpoOptions {
        scale: Scale::None,
        ..GrpoOptions::default()
    };
    grpo(rewards, groups, &opts)
}

/// RLOO (Ahmadian et al. 2024, eq. 6): `r_i - mean of the other rewards in the group`, which is
/// `k/(k-1) * (r_i - mean)`. A group of one has no "others", so it is an error, not a silent 0.
pub fn rloo(rewards: ArrayView1<f64>, groups: Groups) -> Result<Array1<f64>> {
    let rewards = finite_slice("rewards", &rewards)?;
    let layout = Layout::new(rewards.len(), groups)?;
    if let Some((index, len, id)) = layout.smallest() {
        if len < 2 {
            let which = match id {
                Some(id) => format!("group id {id}"),
                None => format!("group {index}"),
            };
            return Err(Error::invalid(format!(
                "RLOO needs at least 2 rewards per group (its baseline is the mean of the \
                 others); {which} has {len}"
            )));
        }
    }
    let out = layout.map(&rewards, |r, out| {
        let m = Moments::of(r.iter().copied(), 0);
        let k = r.len() as f64;
        for (a, &x) in out.iter_mut().zip(r) {
            *a = m.dev(x) * (k / (k - 1.0));
        }
    });
    finish(Array1::from(out))
}

/// Whitening options. The default is TRL's `masked_whiten`: unbiased variance, `1e-8` added
/// inside the square root, the mean shifted off.
#[derive(Debug, Clone, Copy)]
pub struct WhitenOptions {
    /// false adds the mean back after scaling (TRL's `shift_mean=False`).
    pub shift_mean: bool,
    pub eps: f64,
    pub ddof: u8,
}

impl Default for WhitenOptions {
    fn default() -> Self {
        WhitenOptions {
            shift_mean: true,
            eps: 1e-8,
            ddof: 1,
        }
    }
}

/// `(x - mean) / sqrt(var + eps)` with mean and variance over the valid entries of the whole
/// array (any shape; usually (B, T)). Masked-out entries come back as 0. With no valid entry
/// the result is all zeros; with too few for `ddof` the variance is 0.
pub fn masked_whiten(
    values: ArrayViewD<f64>,
    mask: ArrayViewD<bool>,
    opts: &WhitenOptions,
) -> Result<ArrayD<f64>> {
    check_eps(opts.eps)?;
    check_ddof(opts.ddof)?;
    same_shape(&[("values", values.shape()), ("mask", mask.shape())])?;
    check_finite("values", &values)?;
    let valid = values
        .iter()
        .zip(mask.iter())
        .filter(|(_, &m)| m)
        .map(|(&v, _)| v);
    let m = Moments::of(valid, opts.ddof);
    let scale = (m.std * m.std + opts.eps).sqrt();
    let inv = if scale == 0.0 { 0.0 } else { 1.0 / scale };
    let out = Zip::from(&values).and(&mask).map_collect(|&v, &valid| {
        if !valid {
            return 0.0;
        }
        let w = m.dev(v) * inv;
        if opts.shift_mean {
            w
        } else {
            w + m.mean()
        }
    });
    finish(out)
}

/// Advantages and returns of GAE(γ, λ) (Schulman et al. 2016, eq. 16), per row of (B, T).
pub struct Gae {
    pub advantages: Array2<f64>,
    /// `advantages + values`: the value head's regression target.
    pub returns: Array2<f64>,
}

/// GAE over (B, T) rewards and values. Only valid tokens take part: the value after the last
/// valid token of a row is 0 (the episode ends there), a masked-out token is skipped (the next
/// valid token follows directly), and masked-out positions get advantage and return 0.
/// With a right-padded mask this is TRL's PPO loop over rewards and values zeroed at padding.
pub fn gae(
    rewards: ArrayView2<f64>,
    values: ArrayView2<f64>,
    mask: ArrayView2<bool>,
    gamma: f64,
    lam: f64,
) -> Result<Gae> {
    for (name, x) in [("gamma", gamma), ("lam", lam)] {
        if !(0.0..=1.0).contains(&x) {
            return Err(Error::invalid(format!("{name} must be in [0, 1], got {x}")));
        }
    }
    same_shape(&[
        ("rewards", rewards.shape()),
        ("values", values.shape()),
        ("mask", mask.shape()),
    ])?;
    check_finite("rewards", &rewards)?;
    check_finite("values", &values)?;
    let mut advantages = Array2::zeros(rewards.raw_dim());
    let mut returns = Array2::zeros(rewards.raw_dim());
    for (b, row_mask) in mask.outer_iter().enumerate() {
        let (mut next_value, mut running) = (0.0, 0.0);
        for t in (0..row_mask.len()).rev() {
            if !row_mask[t] {
                continue;
            }
            let value = values[[b, t]];
            let delta = rewards[[b, t]] + gamma * next_value - value;
            running = delta + gamma * lam * running;
            advantages[[b, t]] = running;
            returns[[b, t]] = running + value;
            next_value = value;
        }
    }
    Ok(Gae {
        advantages: finish(advantages)?,
        returns: finish(returns)?,
    })
}

/// A 0/1 mask given as numbers (float or int arrays) as bools; anything else is an error.
pub fn mask_from_numbers(mask: ArrayViewD<f64>) -> Result<ArrayD<bool>> {
    if let Some(at) = mask.iter().position(|&m| m != 0.0 && m != 1.0) {
        let bad = mask.iter().nth(at).copied().unwrap_or(f64::NAN);
        return Err(Error::invalid(format!(
            "mask must hold only 0 and 1 (or bools); mask{} is {bad}",
            position(mask.shape(), at)
        )));
    }
    Ok(mask.mapv(|m| m == 1.0))
}

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

/// Where each group's rewards sit in the flat batch.
struct Layout {
    /// Group lengths, groups in order of first appearance.
    lens: Vec<usize>,
    /// Each group's id, when ids were given.
    ids: Option<Vec<i64>>,
    /// Batch positions sorted by group (stable), when some group is not one contiguous run.
    order: Option<Vec<usize>>,
}

impl Layout {
    fn new(n: usize, groups: Groups) -> Result<Layout> {
        let ids = match groups {
            Groups::Size(0) => return Err(Error::invalid("group_size must be at least 1, got 0")),
            Groups::Size(g) if n % g != 0 => {
                return Err(Error::invalid(format!(
                    "rewards has shape ({n},), which does not split into groups of {g} \
                     ({n} is not a multiple of {g})"
                )))
            }
            Groups::Size(g) => {
                return Ok(Layout {
                    lens: vec![g; n / g],
                    ids: None,
                    order: None,
                })
            }
            Groups::Ids(ids) if ids.len() != n => {
                return Err(Error::invalid(format!(
                    "rewards has shape ({n},) but group_ids has shape ({},)",
                    ids.len()
                )))
            }
            Groups::Ids(ids) => ids,
        };
        // The usual case: each group is one run of equal ids (np.repeat(...)); no reordering.
        let (mut run_ids, mut lens) = (Vec::new(), Vec::new());
        for run in ids.chunk_by(|a, b| a == b) {
            run_ids.push(run[0]);
            lens.push(run.len());
        }
        let distinct: FxHashSet<i64> = run_ids.iter().copied().collect();
        if distinct.len() == run_ids.len() {
            return Ok(Layout {
                lens,
                ids: Some(run_ids),
                order: None,
            });
        }
        // Otherwise a counting sort by rank of first appearance: O(n), stable inside a group.
        let mut rank: FxHashMap<i64, usize> = FxHashMap::default();
        let (mut first_ids, mut lens) = (Vec::new(), Vec::new());
        let ranks: Vec<usize> = ids
            .iter()
            .map(|&id| {
                let r = *rank.entry(id).or_insert_with(|| {
                    first_ids.push(id);
                    lens.push(0);
                    lens.len() - 1
                });
                lens[r] += 1;
                r
            })
            .collect();
        let mut next: Vec<usize> = lens
            .iter()
            .scan(0, |acc, &len| {
                let start = *acc;
                *acc += len;
                Some(start)
            })
            .collect();
        let mut order = vec![0; n];
        for (i, &r) in ranks.iter().enumerate() {
            order[next[r]] = i;
            next[r] += 1;
        }
        Ok(Layout {
            lens,
            ids: Some(first_ids),
            order: Some(order),
        })
    }

    /// The smallest group: (index, length, id if ids were given).
    fn smallest(&self) -> Option<(usize, usize, Option<i64>)> {
        let (index, &len) = self.lens.iter().enumerate().min_by_key(|(_, &len)| len)?;
        let id = self.ids.as_ref().map(|ids| ids[index]);
        Some((index, len, id))
    }

    /// Runs `f(group rewards, group advantages)` on every group; returns advantages in batch order.
    fn map(&self, rewards: &[f64], mut f: impl FnMut(&[f64], &mut [f64])) -> Vec<f64> {
        let run = |r: &[f64], out: &mut [f64], f: &mut dyn FnMut(&[f64], &mut [f64])| {
            let mut at = 0;
            for &len in &self.lens {
                f(&r[at..at + len], &mut out[at..at + len]);
                at += len;
            }
        };
        let mut out = vec![0.0; rewards.len()];
        match &self.order {
            None => run(rewards, &mut out, &mut f),
            Some(order) => {
                let gathered: Vec<f64> = order.iter().map(|&i| rewards[i]).collect();
                let mut grouped = vec![0.0; rewards.len()];
                run(&gathered, &mut grouped, &mut f);
                for (&i, a) in order.iter().zip(grouped) {
                    out[i] = a;
                }
            }
        }
        out
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
