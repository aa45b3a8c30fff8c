//! Outcomes: what the lane reports for one job, and the verdict the harness sends it.

use serde::{Deserialize, Serialize};

/// Outcome statuses (the contract in docs/architecture.md; serialised in snake_case).
///
/// Every status a candidate can cause (`failed`, `error`, `timeout`, `memory`, `output_limit`,
/// `killed`) is the program's failure; `sandbox_error` is a fault of the sandbox itself and
/// `invalid` one of the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    Error,
    Timeout,
    Memory,
    OutputLimit,
    Killed,
    SandboxError,
    Invalid,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::Timeout => "timeout",
            Status::Memory => "memory",
            Status::OutputLimit => "output_limit",
            Status::Killed => "killed",
            Status::SandboxError => "sandbox_error",
            Status::Invalid => "invalid",
        }
    }

    /// Caused by the machine, not the program: never reused from the cache.
    pub fn is_infrastructure(self) -> bool {
        matches!(self, Status::SandboxError | Status::Invalid)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Flag of an outcome whose lane had to restart its processes during the job: the outcome may
/// owe something to the broken lane, so it is never cached.
pub const LANE_RESTARTED: &str = "lane_restarted";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub test: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub line: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub id: String,
    pub status: Status,
    pub passed: bool,
    pub tests_passed: u32,
    pub tests_total: u32,
    pub message: String,
    pub failure: Option<Failure>,
    pub duration_s: f64,
    pub cpu_s: f64,
    pub peak_memory_mb: f64,
    pub stdout_tail: String,
    pub stderr_tail: String,
    pub cached: bool,
    pub isolation: String,
    pub flags: Vec<String>,
}

impl Outcome {
    pub fn new(id: &str, status: Status, message: impl Into<String>, isolation: &str) -> Self {
        Outcome {
            id: id.to_string(),
            status,
            passed: status == Status::Passed,
            tests_passed: 0,
            tests_total: 0,
            message: message.into(),
            failure: None,
            duration_s: 0.0,
            cpu_s: 0.0,
            peak_memory_mb: 0.0,
            stdout_tail: String::new(),
            stderr_tail: String::new(),
            cached: false,
            isolation: isolation.to_string(),
            flags: Vec::new(),
        }
    }

    /// Whether a later identical job may reuse this outcome: only outcomes the program caused.
    /// Not: sandbox and job faults, kills from outside, outcomes from a lane that restarted
    /// during the job, and anything that ran close to its time limit (on a busier machine it
    /// might have timed out, or on a quieter one passed).
    pub fn cacheable(&self, timeout_s: f64) -> bool {
        let settled = !(self.status.is_infrastructure()
            || matches!(self.status, Status::Timeout | Status::Killed));
        settled
            && !self.flags.iter().any(|f| f == LANE_RESTARTED)
            && self.duration_s < 0.5 * timeout_s
    }

    pub fn set_status(&mut self, status: Status) {
        self.status = status;
        self.passed = status == Status::Passed;
    }
}

/// What the trusted harness decided (it never sees the child's exit status; the lane does).
#[derive(Clone, Debug, Deserialize)]
pub struct Verdict {
    pub seq: u64,
    pub status: Status,
    #[serde(default)]
    pub tests_passed: u32,
    #[serde(default)]
    pub tests_total: u32,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub failure: Option<Failure>,
    #[serde(default)]
    pub flags: Vec<String>,
    /// The child's socket closed before the tests finished.
    #[serde(default)]
    pub child_died: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_serialises_with_contract_keys() {
        let o = Outcome::new("a", Status::Passed, "", "full");
        let v: serde_json::Value = serde_json::to_value(&o).unwrap();
        for k in [
            "id",
            "status",
            "passed",
            "tests_passed",
            "tests_total",
            "message",
            "failure",
            "duration_s",
            "cpu_s",
            "peak_memory_mb",
            "stdout_tail",
            "stderr_tail",
            "cached",
            "isolation",
            "flags",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert_eq!(v["passed"], true);
    }

    #[test]
    fn only_settled_outcomes_well_inside_the_limit_are_cacheable() {
        let mut o = Outcome::new("a", Status::Failed, "", "full");
        o.duration_s = 0.1;
        assert!(o.cacheable(5.0));
        o.duration_s = 3.0;
        assert!(!o.cacheable(5.0), "near the time limit");
        o.duration_s = 0.1;
        o.flags.push(LANE_RESTARTED.into());
        assert!(!o.cacheable(5.0), "a lane restarted during the job");
        o.flags.clear();
        assert!(o.cacheable(5.0));
        for s in [
            Status::Timeout,
            Status::SandboxError,
            Status::Killed,
            Status::Invalid,
        ] {
            let mut o = Outcome::new("a", s, "", "full");
            o.duration_s = 0.1;
            assert!(!o.cacheable(5.0), "{s}");
        }
        let back: Outcome = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn verdict_parses_with_defaults() {
        let v: Verdict = serde_json::from_str(r#"{"seq": 3, "status": "failed"}"#).unwrap();
        assert_eq!(v.seq, 3);
        assert_eq!(v.status, Status::Failed);
        let bad = serde_json::from_str::<Verdict>(r#"{"seq": 3, "status": "fine"}"#);
        assert!(bad.is_err(), "an unknown status is refused");
        assert!(!v.child_died);
        assert!(v.flags.is_empty());
    }
}
