//! The pyo3 bindings: the only file in the crate that touches Python.

use pyo3::prelude::*;

#[pymodule]
fn _reward(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    Ok(())
}
