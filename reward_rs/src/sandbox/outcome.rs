//! Outcomes: what the lane reports for one job, and the verdict the harness sends it.

use serde::{Deserialize, Serialize};

/// Outcome statuses (the contract in docs/architecture.md).
pub mod status {
    pub const PASSED: &str = "passed";
    pub const FAILED: &str = "failed";
    pub const ERROR: &str = "error";
    pub const TIMEOUT: &str = "timeout";
    pub const MEMORY: &str = "memory";
    pub const OUTPUT_LIMIT: &str = "output_limit";
    pub const KILLED: &str = "killed";
    pub const SANDBOX_ERROR: &str = "sandbox_error";
}

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
    pub status: String,
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
    pub fn new(id: &str, status: &str, message: impl Into<String>, isolation: &str) -> Self {
        Outcome {
            id: id.to_string(),
            status: status.to_string(),
            passed: status == status::PASSED,
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

    /// Whether a later identical job may reuse this outcome. Not: set-up failures, kills from
    /// outside, and anything that ran close to its time limit (on a busier machine it might
    /// have timed out, or on a quieter one passed).
    pub fn cacheable(&self, timeout_s: f64) -> bool {
        let settled = !matches!(
            self.status.as_str(),
            status::TIMEOUT | status::SANDBOX_ERROR | status::KILLED | "invalid"
        );
        settled && self.duration_s < 0.5 * timeout_s
    }

    pub fn set_status(&mut self, status: &str) {
        self.status = status.to_string();
        self.passed = status == status::PASSED;
    }
}

/// What the trusted harness decided (it never sees the child's exit status; the lane does).
#[derive(Clone, Debug, Deserialize)]
pub struct Verdict {
    pub seq: u64,
    pub status: String,
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

/// The zygote's report on a finished child.
#[derive(Clone, Debug, Deserialize)]
pub struct ExitReport {
    pub seq: u64,
    pub exit: i32,
    pub utime: f64,
    pub stime: f64,
    pub maxrss_kb: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_serialises_with_contract_keys() {
        let o = Outcome::new("a", status::PASSED, "", "full");
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
        let mut o = Outcome::new("a", status::FAILED, "", "full");
        o.duration_s = 0.1;
        assert!(o.cacheable(5.0));
        o.duration_s = 3.0;
        assert!(!o.cacheable(5.0), "near the time limit");
        for s in [status::TIMEOUT, status::SANDBOX_ERROR, status::KILLED] {
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
        assert!(!v.child_died);
        assert!(v.flags.is_empty());
    }
}
