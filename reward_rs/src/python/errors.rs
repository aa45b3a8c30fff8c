//! The exception classes of the reward core, and the mapping from its errors.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError};
use pyo3::prelude::*;

use crate::error::Error;

create_exception!(
    rlaif_tui._reward,
    RewardError,
    PyException,
    "Base class of the errors raised by the reward core."
);
create_exception!(
    rlaif_tui._reward,
    InvalidInput,
    RewardError,
    "An argument the caller can fix: NaN input, disagreeing shapes, an unknown option."
);
create_exception!(
    rlaif_tui._reward,
    CorruptFile,
    RewardError,
    "A persisted file that exists but cannot be trusted (bad magic, truncated, checksum)."
);

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let message = err.to_string();
        match err {
            Error::InvalidInput(_) => InvalidInput::new_err(message),
            Error::CorruptFile { .. } => CorruptFile::new_err(message),
            // OSError(errno, strerror, filename) picks the subclass, e.g. FileNotFoundError.
            Error::Io { path, source } => match source.raw_os_error() {
                Some(errno) => {
                    let text = source.to_string();
                    let text = text.trim_end_matches(&format!(" (os error {errno})"));
                    let path = path.display().to_string();
                    PyOSError::new_err((errno, text.to_string(), path))
                }
                None => PyOSError::new_err(message),
            },
        }
    }
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("RewardError", py.get_type::<RewardError>())?;
    m.add("InvalidInput", py.get_type::<InvalidInput>())?;
    m.add("CorruptFile", py.get_type::<CorruptFile>())?;
    Ok(())
}

pub(super) fn invalid(message: String) -> PyErr {
    InvalidInput::new_err(message)
}
