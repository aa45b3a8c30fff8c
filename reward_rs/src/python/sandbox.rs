//! The sandbox bindings: the `Executor` class, the zygote's and the harness's set-up calls.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::create_exception;
use pyo3::prelude::*;

use super::cache::RewardCache;
use super::errors::RewardError;
use crate::sandbox::{
    self, harden, Error as SandboxError, Executor, ExecutorConfig, Isolation, Limits,
};

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

    /// The protections in force, as JSON (one key per protection of the children, and
    /// `harness`: what confines the harness).
    #[getter]
    fn protections(&self) -> PyResult<String> {
        let ex = self.inner.as_ref().ok_or(SandboxError::Closed)?;
        let mut v = serde_json::to_value(ex.protections()).expect("protections serialise");
        if let Some(lane) = ex.lanes().first() {
            v["harness"] = serde_json::to_value(&lane.harness).expect("protections serialise");
        }
        Ok(v.to_string())
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

/// Harness only: confine this process for good (uid, network, Landlock, seccomp); returns what
/// held, as JSON.
#[pyfunction]
fn _harness_confine(config_json: &str) -> PyResult<String> {
    let cfg: sandbox::confine::HarnessConfig = serde_json::from_str(config_json)
        .map_err(|e| SandboxSetupError::new_err(format!("harness config: {e}")))?;
    let p = sandbox::confine::confine_harness(&cfg)?;
    Ok(serde_json::to_string(&p).expect("protections serialise"))
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

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
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
    m.add_function(wrap_pyfunction!(_harness_confine, m)?)?;
    m.add_function(wrap_pyfunction!(_zygote_serve, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_denied, m)?)?;
    m.add_function(wrap_pyfunction!(landlock_abi, m)?)?;
    Ok(())
}
