//! reward_rs: the hot, dangerous part of rlaif-tui.
//!
//! Pure Rust modules hold the logic; `python.rs` is the only file that knows
//! about pyo3, so `cargo test --no-default-features` exercises everything
//! without linking a Python interpreter.

pub mod advantage;
pub mod cache;
pub mod error;
pub mod sandbox;

#[cfg(feature = "python")]
mod python;

/// Version of the reward core, reported by `rlaif sandbox doctor`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
