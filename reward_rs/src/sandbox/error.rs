//! Errors for broken set-up. A program that fails, crashes or times out is an `Outcome`, never
//! one of these.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid limits: {0}")]
    InvalidLimits(String),
    #[error("isolation {actual} is below the configured floor {floor}: {missing}")]
    BelowFloor {
        actual: String,
        floor: String,
        missing: String,
    },
    #[error("cannot start sandbox lane: {0}")]
    Spawn(String),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("sandbox hardening failed at {step}: {source}")]
    Harden {
        step: &'static str,
        source: io::Error,
    },
    #[error("invalid job: {0}")]
    InvalidJob(String),
    #[error("the executor is closed")]
    Closed,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wrap the current `errno` with what we were doing.
    pub fn last_os(context: impl Into<String>) -> Self {
        Error::Io {
            context: context.into(),
            source: io::Error::last_os_error(),
        }
    }

    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
