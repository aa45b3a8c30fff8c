//! The `RewardCache` class.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use super::errors::invalid;
use crate::cache::{Cache, CacheLimits};
use crate::error::Error;

/// Bounded, content-addressed store of serialized outcomes, shared with the executor's threads.
#[pyclass(name = "RewardCache", module = "rlaif_tui._reward", frozen)]
pub(crate) struct RewardCache {
    /// The executor binds to the same `Cache` (`Arc::clone`) and calls it without Python.
    pub(crate) inner: Arc<Cache>,
}

#[pymethods]
impl RewardCache {
    #[new]
    #[pyo3(signature = (max_entries=100_000, max_bytes=Some(256 * 1024 * 1024)),
           text_signature = "(max_entries=100000, max_bytes=268435456)")]
    fn new(max_entries: i64, max_bytes: Option<i64>) -> PyResult<Self> {
        let positive = |name: &str, n: i64| {
            usize::try_from(n)
                .ok()
                .and_then(std::num::NonZeroUsize::new)
                .ok_or_else(|| invalid(format!("{name} must be at least 1, got {n}")))
        };
        let limits = CacheLimits {
            max_entries: positive("max_entries", max_entries)?,
            max_bytes: max_bytes.map(|n| positive("max_bytes", n)).transpose()?,
        };
        Ok(RewardCache {
            inner: Arc::new(Cache::new(limits)),
        })
    }

    /// Hex BLAKE3 of the parts (str parts as UTF-8), each length-prefixed.
    #[staticmethod]
    fn key(parts: Vec<Bound<'_, PyAny>>) -> PyResult<String> {
        let mut bytes: Vec<&[u8]> = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            if let Ok(b) = part.cast::<PyBytes>() {
                bytes.push(b.as_bytes());
            } else if let Ok(s) = part.cast::<PyString>() {
                bytes.push(s.to_str()?.as_bytes());
            } else {
                let kind = part.get_type().name()?;
                return Err(PyTypeError::new_err(format!(
                    "RewardCache.key: parts[{i}] must be bytes or str, got {kind}"
                )));
            }
        }
        Ok(Cache::key(bytes))
    }

    /// The value under `key` (marks it most recently used), or None; counts a hit or miss.
    fn get(&self, key: &str) -> Option<String> {
        self.inner.get(key).map(|v| v.to_string())
    }

    /// Stores `value` under `key`; False if the entry alone exceeds `max_bytes`.
    fn put(&self, key: &str, value: &str) -> bool {
        self.inner.put(key, value)
    }

    fn __contains__(&self, key: &str) -> bool {
        self.inner.contains(key)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Counters since creation and the current size, as a dict of ints.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("inserts", s.inserts)?;
        d.set_item("evictions", s.evictions)?;
        d.set_item("rejected", s.rejected)?;
        d.set_item("loaded", s.loaded)?;
        d.set_item("entries", s.entries)?;
        d.set_item("bytes", s.bytes)?;
        Ok(d)
    }

    #[getter]
    fn max_entries(&self) -> usize {
        self.inner.limits().max_entries.get()
    }

    #[getter]
    fn max_bytes(&self) -> Option<usize> {
        self.inner.limits().max_bytes.map(|n| n.get())
    }

    /// Writes all entries to `path` atomically; returns how many.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<usize> {
        Ok(py.detach(|| self.inner.save(&path))?)
    }

    /// Adds the entries of a file written by `save`; returns how many it held. A missing file
    /// is FileNotFoundError unless `missing_ok` (then 0).
    #[pyo3(signature = (path, *, missing_ok=false))]
    fn load(&self, py: Python<'_>, path: PathBuf, missing_ok: bool) -> PyResult<usize> {
        match py.detach(|| self.inner.load(&path)) {
            Err(Error::Io { source, .. })
                if missing_ok && source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(0)
            }
            other => Ok(other?),
        }
    }

    fn __repr__(&self) -> String {
        let s = self.inner.stats();
        let max_bytes = self.max_bytes().map_or("None".into(), |n| n.to_string());
        format!(
            "RewardCache(entries={}, bytes={}, max_entries={}, max_bytes={max_bytes})",
            s.entries,
            s.bytes,
            self.max_entries(),
        )
    }
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RewardCache>()?;
    Ok(())
}
