//! Bindings of the advantage math: arrays are copied out of NumPy while the GIL is held (Python
//! threads may mutate an array the moment the GIL is released), the math runs detached, and
//! results go back as new arrays without another copy.

use numpy::ndarray::{Array, Array1, ArrayD, ArrayView1, Dimension, Ix1, Ix2};
use numpy::{
    IntoPyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use super::errors::invalid;
use crate::advantage::{self, fmt_shape, Groups, GrpoOptions, WhitenOptions};
use crate::error;

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

/// How rewards are grouped: in runs of `group_size`, or by an id per reward.
enum GroupSpec {
    Size(usize),
    Ids(Vec<i64>),
}

impl GroupSpec {
    fn new(group_size: Option<i64>, ids: Option<&Bound<'_, PyAny>>) -> PyResult<GroupSpec> {
        match (group_size, ids) {
            (Some(_), Some(_)) => Err(invalid("give group_size or group_ids, not both".into())),
            (None, None) => Err(invalid("give group_size or group_ids".into())),
            (Some(g), None) if g < 1 => {
                Err(invalid(format!("group_size must be at least 1, got {g}")))
            }
            (Some(g), None) => Ok(GroupSpec::Size(g as usize)),
            (None, Some(ids)) => Ok(GroupSpec::Ids(group_ids(ids)?)),
        }
    }

    fn groups(&self) -> Groups<'_> {
        match self {
            GroupSpec::Size(g) => Groups::Size(*g),
            GroupSpec::Ids(ids) => Groups::Ids(ids),
        }
    }
}

/// What the group estimators share: rewards and grouping checked while the GIL is held,
/// `estimate` run detached, the result returned in the rewards' float width.
fn by_group<'py>(
    py: Python<'py>,
    rewards: &Bound<'py, PyAny>,
    group_size: Option<i64>,
    group_ids: Option<&Bound<'py, PyAny>>,
    estimate: impl FnOnce(ArrayView1<'_, f64>, Groups<'_>) -> error::Result<Array1<f64>> + Send,
) -> PyResult<Bound<'py, PyAny>> {
    let r = floats("rewards", rewards)?;
    let spec = GroupSpec::new(group_size, group_ids)?;
    let a = ndim::<Ix1, _>("rewards", "1-D (one reward per completion)", r.array)?;
    let out = py.detach(|| estimate(a.view(), spec.groups()))?;
    Ok(to_python(py, out, r.f32))
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
    by_group(py, rewards, group_size, group_ids, |r, g| {
        advantage::grpo(r, g, &opts)
    })
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
    by_group(py, rewards, group_size, group_ids, advantage::dr_grpo)
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
    by_group(py, rewards, group_size, group_ids, advantage::rloo)
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

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(grpo_advantages, m)?)?;
    m.add_function(wrap_pyfunction!(dr_grpo_advantages, m)?)?;
    m.add_function(wrap_pyfunction!(rloo_advantages, m)?)?;
    m.add_function(wrap_pyfunction!(masked_whiten, m)?)?;
    m.add_function(wrap_pyfunction!(gae, m)?)?;
    Ok(())
}
