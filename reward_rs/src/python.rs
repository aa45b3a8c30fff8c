//! The pyo3 bindings: the only file in the crate that touches Python.
//!
//! One `register_*` function per part, called from the `#[pymodule]` at the bottom, so each
//! part's bindings sit in their own block. Arrays are copied out of NumPy while the GIL is held
//! (Python threads may mutate an array the moment the GIL is released), the math runs detached,
//! and results go back as new arrays without another copy.

use std::path::PathBuf;
use std::sync::Arc;

use numpy::ndarray::{Array, ArrayD, Dimension, Ix1, Ix2};
use numpy::{
    IntoPyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::advantage::{self, fmt_shape, Groups, GrpoOptions, WhitenOptions};
use crate::cache::{Cache, CacheLimits};
use crate::error::Error;
use crate::sandbox::{
    self, harden, Error as SandboxError, Executor, ExecutorConfig, Isolation, Limits,
};

// ---------------------------------------------------------------------------------------------
// Errors

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

fn register_errors(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("RewardError", py.get_type::<RewardError>())?;
    m.add("InvalidInput", py.get_type::<InvalidInput>())?;
    m.add("CorruptFile", py.get_type::<CorruptFile>())?;
    Ok(())
}

fn invalid(message: String) -> PyErr {
    InvalidInput::new_err(message)
}

// ---------------------------------------------------------------------------------------------
// Advantage math

/// A numeric array copied out of Python as f64, and whether it arrived as float32 (results
/// then go back as float32 too).
struct Floats {
    array: ArrayD<f64>,
    f32: bool,
}

/// `ob` as an ndarray (anything `numpy.asarray` accepts: lists, arrays, CPU tensors).
fn as_ndarray<'py>(name: &str, ob: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyUntypedArray>> {
    if let Ok(array) = ob.cast::<PyUntypedArray>() {
        return Ok(array.clone());
    }
    let array = PyModule::import(ob.py(), "numpy")?
        .call_method1("asarray", (ob,))
        .map_err(|e| invalid(format!("{name} is not an array of numbers: {e}")))?;
    Ok(array.cast_into::<PyUntypedArray>()?)
}

fn floats(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<Floats> {
    let array = as_ndarray(name, ob)?;
    let dtype = array.dtype();
    if let Ok(a) = array.cast::<PyArrayDyn<f32>>() {
        let array = a.readonly().as_array().mapv(f64::from);
        return Ok(Floats { array, f32: true });
    }
    if !b"biuf".contains(&dtype.kind()) {
        return Err(invalid(format!(
            "{name} must hold numbers, got dtype {dtype}"
        )));
    }
    let a = match array.cast::<PyArrayDyn<f64>>() {
        Ok(a) => a.clone(),
        Err(_) => array
            .call_method1("astype", ("float64",))?
            .cast_into::<PyArrayDyn<f64>>()?,
    };
    let array = a.readonly().as_array().to_owned();
    Ok(Floats { array, f32: false })
}

fn mask(ob: &Bound<'_, PyAny>) -> PyResult<ArrayD<bool>> {
    let array = as_ndarray("mask", ob)?;
    if let Ok(a) = array.cast::<PyArrayDyn<bool>>() {
        return Ok(a.readonly().as_array().to_owned());
    }
    let numbers = floats("mask", ob)?;
    Ok(advantage::mask_from_numbers(numbers.array.view())?)
}

fn group_ids(ob: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    let array = as_ndarray("group_ids", ob)?;
    let dtype = array.dtype();
    if !b"iu".contains(&dtype.kind()) {
        return Err(invalid(format!(
            "group_ids must hold integers, got dtype {dtype}"
        )));
    }
    let a = match array.cast::<PyArrayDyn<i64>>() {
        Ok(a) => a.clone(),
        Err(_) => array
            .call_method1("astype", ("int64",))?
            .cast_into::<PyArrayDyn<i64>>()?,
    };
    if a.ndim() != 1 {
        let shape = fmt_shape(a.shape());
        return Err(invalid(format!(
            "group_ids must be 1-D (one id per reward), got shape {shape}"
        )));
    }
    Ok(a.readonly().as_array().iter().copied().collect())
}

/// `a` with `D` dimensions, or an error naming the argument and its shape.
fn ndim<D: Dimension, T>(name: &str, want: &str, a: ArrayD<T>) -> PyResult<Array<T, D>> {
    let shape = fmt_shape(a.shape());
    a.into_dimensionality::<D>()
        .map_err(|_| invalid(format!("{name} must be {want}, got shape {shape}")))
}

fn to_python<'py, D: Dimension>(py: Python<'py>, a: Array<f64, D>, f32: bool) -> Bound<'py, PyAny> {
    if f32 {
        a.mapv(|x| x as f32).into_pyarray(py).into_any()
    } else {
        a.into_pyarray(py).into_any()
    }
}

fn ddof(ddof: i64) -> PyResult<u8> {
    match ddof {
        0 | 1 => Ok(ddof as u8),
        _ => Err(invalid(format!(
            "ddof must be 0 (population std) or 1 (sample std), got {ddof}"
        ))),
    }
}

/// Rewards as a 1-D f64 array plus how they are grouped.
fn grouped(
    rewards: &Bound<'_, PyAny>,
    group_size: Option<i64>,
    ids: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Floats, GroupSpec)> {
    let r = floats("rewards", rewards)?;
    let spec = match (group_size, ids) {
        (Some(_), Some(_)) => {
            return Err(invalid("give group_size or group_ids, not both".into()));
        }
        (None, None) => return Err(invalid("give group_size or group_ids".into())),
        (Some(g), None) if g < 1 => {
            return Err(invalid(format!("group_size must be at least 1, got {g}")));
        }
        (Some(g), None) => GroupSpec::Size(g as usize),
        (None, Some(ids)) => GroupSpec::Ids(group_ids(ids)?),
    };
    Ok((r, spec))
}

enum GroupSpec {
    Size(usize),
    Ids(Vec<i64>),
}

impl GroupSpec {
    fn groups(&self) -> Groups<'_> {
        match self {
            GroupSpec::Size(g) => Groups::Size(*g),
            GroupSpec::Ids(ids) => Groups::Ids(ids),
        }
    }
}

fn rewards_1d(r: Floats) -> PyResult<(Array<f64, Ix1>, bool)> {
    let f32 = r.f32;
    let a = ndim::<Ix1, _>("rewards", "1-D (one reward per completion)", r.array)?;
    Ok((a, f32))
}

/// GRPO advantages `(r - group mean) / (std + eps)`; see docs/architecture.md.
#[pyfunction]
#[pyo3(signature = (rewards, group_size=None, *, group_ids=None, scale="group", eps=1e-4, ddof=1))]
fn grpo_advantages<'py>(
    py: Python<'py>,
    rewards: &Bound<'py, PyAny>,
    group_size: Option<i64>,
    group_ids: Option<&Bound<'py, PyAny>>,
    scale: &str,
    eps: f64,
    ddof: i64,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = GrpoOptions {
        scale: scale.parse()?,
        eps,
        ddof: self::ddof(ddof)?,
    };
    let (r, spec) = grouped(rewards, group_size, group_ids)?;
    let (r, f32) = rewards_1d(r)?;
    let out = py.detach(|| advantage::grpo(r.view(), spec.groups(), &opts))?;
    Ok(to_python(py, out, f32))
}

/// Dr. GRPO advantages `r - group mean` (no std scaling).
#[pyfunction]
#[pyo3(signature = (rewards, group_size=None, *, group_ids=None))]
fn dr_grpo_advantages<'py>(
    py: Python<'py>,
    rewards: &Bound<'py, PyAny>,
    group_size: Option<i64>,
    group_ids: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (r, spec) = grouped(rewards, group_size, group_ids)?;
    let (r, f32) = rewards_1d(r)?;
    let out = py.detach(|| advantage::dr_grpo(r.view(), spec.groups()))?;
    Ok(to_python(py, out, f32))
}

/// RLOO advantages `r_i - mean of the other rewards in the group`.
#[pyfunction]
#[pyo3(signature = (rewards, group_size=None, *, group_ids=None))]
fn rloo_advantages<'py>(
    py: Python<'py>,
    rewards: &Bound<'py, PyAny>,
    group_size: Option<i64>,
    group_ids: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (r, spec) = grouped(rewards, group_size, group_ids)?;
    let (r, f32) = rewards_1d(r)?;
    let out = py.detach(|| advantage::rloo(r.view(), spec.groups()))?;
    Ok(to_python(py, out, f32))
}

/// Whitening over the valid entries of `values` (TRL's `masked_whiten`).
#[pyfunction]
#[pyo3(signature = (values, mask, *, shift_mean=true, eps=1e-8, ddof=1))]
fn masked_whiten<'py>(
    py: Python<'py>,
    values: &Bound<'py, PyAny>,
    mask: &Bound<'py, PyAny>,
    shift_mean: bool,
    eps: f64,
    ddof: i64,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = WhitenOptions {
        shift_mean,
        eps,
        ddof: self::ddof(ddof)?,
    };
    let v = floats("values", values)?;
    let m = self::mask(mask)?;
    let out = py.detach(|| advantage::masked_whiten(v.array.view(), m.view(), &opts))?;
    Ok(to_python(py, out, v.f32))
}

/// GAE(γ, λ) over (B, T) arrays: returns `(advantages, returns)`.
#[pyfunction]
#[pyo3(signature = (rewards, values, mask, *, gamma=1.0, lam=0.95))]
fn gae<'py>(
    py: Python<'py>,
    rewards: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
    mask: &Bound<'py, PyAny>,
    gamma: f64,
    lam: f64,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let (r, v) = (floats("rewards", rewards)?, floats("values", values)?);
    let f32 = r.f32 && v.f32;
    let r = ndim::<Ix2, _>("rewards", "2-D (B, T)", r.array)?;
    let v = ndim::<Ix2, _>("values", "2-D (B, T)", v.array)?;
    let m = ndim::<Ix2, _>("mask", "2-D (B, T)", self::mask(mask)?)?;
    let out = py.detach(|| advantage::gae(r.view(), v.view(), m.view(), gamma, lam))?;
    Ok((
        to_python(py, out.advantages, f32),
        to_python(py, out.returns, f32),
    ))
}

fn register_advantage(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(grpo_advantages, m)?)?;
    m.add_function(wrap_pyfunction!(dr_grpo_advantages, m)?)?;
    m.add_function(wrap_pyfunction!(rloo_advantages, m)?)?;
    m.add_function(wrap_pyfunction!(masked_whiten, m)?)?;
    m.add_function(wrap_pyfunction!(gae, m)?)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reward cache

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

fn register_cache(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RewardCache>()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Sandbox

create_exception!(
    rlaif_tui._reward,
    SandboxSetupError,
    RewardError,
    "A sandbox lane could not start."
);
create_exception!(
    rlaif_tui._reward,
    IsolationError,
    RewardError,
    "The isolation this machine gives is below the configured floor."
);
create_exception!(
    rlaif_tui._reward,
    InvalidJobError,
    RewardError,
    "A job could not be parsed."
);
create_exception!(
    rlaif_tui._reward,
    LimitsError,
    RewardError,
    "Invalid executor limits."
);
create_exception!(
    rlaif_tui._reward,
    ExecutorClosedError,
    RewardError,
    "The executor was closed."
);

impl From<SandboxError> for PyErr {
    fn from(e: SandboxError) -> PyErr {
        let msg = e.to_string();
        match e {
            SandboxError::InvalidLimits(_) => LimitsError::new_err(msg),
            SandboxError::BelowFloor { .. } => IsolationError::new_err(msg),
            SandboxError::InvalidJob(_) => InvalidJobError::new_err(msg),
            SandboxError::Closed => ExecutorClosedError::new_err(msg),
            SandboxError::Spawn(_) | SandboxError::Io { .. } | SandboxError::Harden { .. } => {
                SandboxSetupError::new_err(msg)
            }
        }
    }
}

/// One lane as `Executor.lanes` reports it: zygote pid, harness pid, hardening step timings.
type LaneRow = (u32, u32, Vec<(String, f64)>);

/// Sandboxed parallel executor: `workers` lanes, each a zygote and a trusted harness.
#[pyclass(name = "Executor", module = "rlaif_tui._reward")]
struct PyExecutor {
    inner: Option<Executor>,
}

#[pymethods]
impl PyExecutor {
    #[new]
    #[pyo3(signature = (*, python, package_root, workers = 2, timeout_s = 5.0, memory_mb = 256,
        output_bytes = 1 << 20, nproc = 64, nofile = 64, fsize_mb = 16, disk_mb = 64,
        isolation_floor = "full", uid_base = 61000, tail_bytes = 4096, cache = None,
        interpreter = String::new()))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        python: PathBuf,
        package_root: PathBuf,
        workers: usize,
        timeout_s: f64,
        memory_mb: u64,
        output_bytes: u64,
        nproc: u64,
        nofile: u64,
        fsize_mb: u64,
        disk_mb: u64,
        isolation_floor: &str,
        uid_base: u32,
        tail_bytes: usize,
        cache: Option<PyRef<'_, RewardCache>>,
        interpreter: String,
    ) -> PyResult<Self> {
        let floor = Isolation::parse(isolation_floor).ok_or_else(|| {
            LimitsError::new_err(format!(
                "isolation_floor {isolation_floor:?}: expected one of none, minimal, partial, full"
            ))
        })?;
        let cfg = ExecutorConfig {
            workers,
            python,
            package_root,
            limits: Limits {
                timeout_s,
                memory_mb,
                output_bytes,
                nproc,
                nofile,
                fsize_mb,
                disk_mb,
            },
            floor,
            uid_base,
            tail_bytes,
            cache: cache.map(|c| Arc::clone(&c.inner)),
            interpreter,
        };
        let ex = py.detach(|| Executor::start(cfg))?;
        Ok(PyExecutor { inner: Some(ex) })
    }

    /// Run jobs (JSON texts); returns outcome JSON texts in input order. The GIL is released.
    fn run(&self, py: Python<'_>, jobs: Vec<String>) -> PyResult<Vec<String>> {
        let ex = self.inner.as_ref().ok_or(SandboxError::Closed)?;
        let outcomes = py.detach(|| ex.run(&jobs))?;
        Ok(outcomes
            .iter()
            .map(|o| serde_json::to_string(o).expect("outcome serialises"))
            .collect())
    }

    /// The isolation level in force: "full", "partial", "minimal" or "none".
    #[getter]
    fn isolation(&self) -> PyResult<String> {
        Ok(self
            .inner
            .as_ref()
            .ok_or(SandboxError::Closed)?
            .isolation()
            .to_string())
    }

    /// The protections in force, as JSON (one key per protection).
    #[getter]
    fn protections(&self) -> PyResult<String> {
        let p = self
            .inner
            .as_ref()
            .ok_or(SandboxError::Closed)?
            .protections();
        Ok(serde_json::to_string(p).expect("protections serialise"))
    }

    /// Per lane at start: (zygote pid, harness pid, [(hardening step, CPU seconds in the trial
    /// child)]), for profiling.
    #[getter]
    fn lanes(&self) -> PyResult<Vec<LaneRow>> {
        let ex = self.inner.as_ref().ok_or(SandboxError::Closed)?;
        Ok(ex
            .lanes()
            .iter()
            .map(|l| (l.pids.0, l.pids.1, l.hardening_s.clone()))
            .collect())
    }

    /// Names of the protections "full" needs and this machine lacks.
    #[getter]
    fn missing(&self) -> PyResult<Vec<String>> {
        let p = self
            .inner
            .as_ref()
            .ok_or(SandboxError::Closed)?
            .protections();
        Ok(p.missing().into_iter().map(String::from).collect())
    }

    /// Stop all lanes; their processes are killed and scratch space removed.
    fn close(&mut self, py: Python<'_>) {
        if let Some(mut ex) = self.inner.take() {
            py.detach(move || ex.close());
        }
    }
}

/// Zygote only: namespaces, scratch tmpfs and seccomp compilation; returns protections JSON.
#[pyfunction]
fn _zygote_setup(config_json: &str) -> PyResult<String> {
    let cfg: harden::ZygoteConfig = serde_json::from_str(config_json)
        .map_err(|e| SandboxSetupError::new_err(format!("zygote config: {e}")))?;
    let p = harden::zygote_setup(cfg)?;
    Ok(serde_json::to_string(&p).expect("protections serialise"))
}

/// Zygote only: the next fork becomes pid 1 of a fresh PID namespace.
#[pyfunction]
fn _zygote_new_pidns() -> PyResult<()> {
    Ok(harden::new_pid_namespace()?)
}

/// Zygote only (unprivileged path): adopt the PID namespace this process is pid 1 of.
#[pyfunction]
fn _zygote_adopt_pidns() -> PyResult<()> {
    Ok(harden::adopt_pid_namespace()?)
}

/// Zygote only: make a job's scratch directory owned by the lane's uid.
#[pyfunction]
fn _make_job_dir(path: PathBuf) -> PyResult<()> {
    Ok(harden::make_job_dir(&path)?)
}

extern "C" {
    // CPython's own fork hooks (what `os.fork` calls): exported by every interpreter.
    fn PyOS_BeforeFork();
    fn PyOS_AfterFork_Parent();
    fn PyOS_AfterFork_Child();
}

/// Zygote only: serve the lane's jobs in Rust; returns only in a forked, hardened child (with
/// its hardening step timings), which then runs the child runtime on fd 3.
#[pyfunction]
fn _zygote_serve(ctl: i32, link: i32) -> PyResult<Vec<(&'static str, f64)>> {
    let mut fork = || {
        // SAFETY: called with the GIL held, exactly as `os.fork` does.
        unsafe {
            PyOS_BeforeFork();
            let pid = libc::fork();
            if pid == 0 {
                PyOS_AfterFork_Child();
            } else {
                PyOS_AfterFork_Parent();
            }
            pid
        }
    };
    Ok(sandbox::zygote::serve(ctl, link, &mut fork)?)
}

/// Forked child only: apply every protection; returns (step, seconds) timings.
#[pyfunction]
fn _child_harden(job_dir: PathBuf, job_fd: i32) -> PyResult<Vec<(&'static str, f64)>> {
    Ok(harden::harden_child(&job_dir, job_fd)?)
}

/// Names of the system calls the child's seccomp filter refuses.
#[pyfunction]
fn seccomp_denied() -> Vec<&'static str> {
    sandbox::seccomp::denied_names()
}

/// Landlock ABI version of the running kernel (0 if none).
#[pyfunction]
fn landlock_abi() -> u32 {
    sandbox::probe::landlock_abi()
}

fn register_sandbox(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyExecutor>()?;
    m.add("SandboxSetupError", py.get_type::<SandboxSetupError>())?;
    m.add("IsolationError", py.get_type::<IsolationError>())?;
    m.add("InvalidJobError", py.get_type::<InvalidJobError>())?;
    m.add("LimitsError", py.get_type::<LimitsError>())?;
    m.add("ExecutorClosedError", py.get_type::<ExecutorClosedError>())?;
    m.add_function(wrap_pyfunction!(_zygote_setup, m)?)?;
    m.add_function(wrap_pyfunction!(_zygote_new_pidns, m)?)?;
    m.add_function(wrap_pyfunction!(_zygote_adopt_pidns, m)?)?;
    m.add_function(wrap_pyfunction!(_make_job_dir, m)?)?;
    m.add_function(wrap_pyfunction!(_child_harden, m)?)?;
    m.add_function(wrap_pyfunction!(_zygote_serve, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_denied, m)?)?;
    m.add_function(wrap_pyfunction!(landlock_abi, m)?)?;
    Ok(())
}

#[pymodule]
fn _reward(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    register_errors(m)?;
    register_advantage(m)?;
    register_cache(m)?;
    register_sandbox(m)?;
    Ok(())
}
