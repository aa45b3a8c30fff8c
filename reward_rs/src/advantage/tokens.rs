//! Token-level estimators over (B, T) arrays: masked whitening and GAE(γ, λ).

use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewD, Zip};

use super::{check_ddof, check_eps, check_finite, finish, position, same_shape, Moments};
use crate::error::{Error, Result};

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
