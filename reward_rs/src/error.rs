//! The crate's one error type. Pure Rust: `python.rs` maps each variant to a
//! `RewardError` subclass in a single `match`, so the message written here is
//! the message a Python user sees.

use std::path::PathBuf;

/// Broken set-up or bad input. A failing *program* is never an `Error`; it is an outcome.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument the caller can fix: a NaN reward, disagreeing shapes, an unknown option.
    #[error("{0}")]
    InvalidInput(String),
    /// A persisted file that exists but cannot be trusted (bad magic, truncated, checksum).
    #[error("{}: {message}", path.display())]
    CorruptFile { path: PathBuf, message: String },
    /// The operating system refused a file operation.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
