//! The pyo3 bindings: the only module of the crate that touches Python.
//!
//! One submodule per part (`errors`, `advantage`, `cache`, `sandbox`), each with a `register`
//! function called from the `#[pymodule]` below.

mod advantage;
mod cache;
mod errors;
mod sandbox;

use pyo3::prelude::*;

#[pymodule]
fn _reward(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    errors::register(m)?;
    advantage::register(m)?;
    cache::register(m)?;
    sandbox::register(m)?;
    Ok(())
}
