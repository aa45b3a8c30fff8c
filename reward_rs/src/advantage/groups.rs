//! Group baselines over a flat reward vector: GRPO, Dr. GRPO and RLOO.

use std::str::FromStr;

use ndarray::{Array1, ArrayView1};
use rustc_hash::FxHashMap;

use super::{check_ddof, check_eps, finish, finite_slice, Moments};
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
        // Rank groups by first appearance, looking ids up only where a run of equal ids starts
        // (the usual layout, np.repeat(...), has one run per group and needs no reordering).
        let mut rank: FxHashMap<i64, usize> = FxHashMap::default();
        let (mut first_ids, mut lens) = (Vec::new(), Vec::<usize>::new());
        // Each element's rank, kept only once some group turns out not to be one run.
        let mut ranks: Option<Vec<usize>> = None;
        let mut prev = None;
        for &id in ids {
            let r = match prev {
                Some((prev_id, r)) if prev_id == id => r,
                _ => match rank.get(&id) {
                    Some(&r) => {
                        if ranks.is_none() {
                            // Everything so far was runs in rank order: rebuild their ranks.
                            let mut v = Vec::with_capacity(n);
                            for (k, &len) in lens.iter().enumerate() {
                                v.extend(std::iter::repeat_n(k, len));
                            }
                            ranks = Some(v);
                        }
                        r
                    }
                    None => {
                        rank.insert(id, lens.len());
                        first_ids.push(id);
                        lens.push(0);
                        lens.len() - 1
                    }
                },
            };
            lens[r] += 1;
            if let Some(v) = ranks.as_mut() {
                v.push(r);
            }
            prev = Some((id, r));
        }
        let Some(ranks) = ranks else {
            return Ok(Layout {
                lens,
                ids: Some(first_ids),
                order: None,
            });
        };
        // Otherwise a counting sort by rank: O(n), stable inside each group.
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
