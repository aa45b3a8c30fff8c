//! From what the lane observed during one job to its status: a pure function, unit-tested.
//!
//! The rule that matters for rewards: whatever the candidate can cause (a flood, a hang, an
//! early exit, a killed or crashed child, a corrupted channel, an exploding value in a test) is
//! one of the program's failing statuses; `sandbox_error` only when the sandbox itself failed
//! (its processes died or answered nonsense) with the candidate's side known to be fine.

use super::super::limits::Limits;
use super::super::outcome::{Status, Verdict};

/// Why the lane stopped the job before a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    Timeout,
    OutputLimit,
}

/// Everything the lane saw of one job.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub verdict: Option<Verdict>,
    /// The child's wait status, once the zygote reaped it.
    pub exit: Option<i32>,
    pub cut: Option<Cut>,
    /// A fault of the sandbox's own processes (the zygote or harness died or broke protocol).
    pub problem: Option<String>,
    /// The harness gave no verdict by the hard deadline, though the child had been reaped:
    /// test code stuck on a value the candidate returned.
    pub harness_stuck: bool,
    /// The lane's cgroup counted an OOM kill during the job.
    pub oom: bool,
}

/// The status of the job, its message, and whether the verdict's counts and flags apply.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub status: Status,
    pub message: String,
    pub flags: Vec<&'static str>,
    /// Copy tests_passed/total, failure and flags from the verdict.
    pub use_verdict: bool,
}

pub fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGSYS => "SIGSYS".into(),
        libc::SIGXCPU => "SIGXCPU".into(),
        libc::SIGXFSZ => "SIGXFSZ".into(),
        libc::SIGBUS => "SIGBUS".into(),
        s => format!("signal {s}"),
    }
}

fn decide(status: Status, message: String, use_verdict: bool) -> Decision {
    Decision {
        status,
        message,
        flags: Vec::new(),
        use_verdict,
    }
}

pub fn classify(f: &Facts, limits: &Limits) -> Decision {
    let (signal, code) = match f.exit {
        Some(x) if libc::WIFSIGNALED(x) => (Some(libc::WTERMSIG(x)), None),
        Some(x) if libc::WIFEXITED(x) => (None, Some(libc::WEXITSTATUS(x))),
        _ => (None, None),
    };
    let has_verdict = f.verdict.is_some();
    let mut d = match (f.cut, &f.verdict) {
        (Some(Cut::OutputLimit), _) => decide(
            Status::OutputLimit,
            format!("wrote more than {} bytes of output", limits.output_bytes),
            has_verdict,
        ),
        (Some(Cut::Timeout), _) if f.problem.is_none() => {
            let mut d = decide(
                Status::Timeout,
                format!("exceeded the time limit of {} s", limits.timeout_s),
                has_verdict,
            );
            if f.harness_stuck {
                d.flags.push("harness_timeout");
                d.message += " (a test was still working on the program's result)";
            }
            d
        }
        (_, Some(v)) if v.child_died && signal == Some(libc::SIGXCPU) => decide(
            Status::Timeout,
            format!("exceeded the CPU limit of {} s", limits.cpu_seconds()),
            false,
        ),
        (_, Some(v)) if v.child_died => match (signal, code) {
            (Some(libc::SIGKILL), _) if f.oom => decide(
                Status::Memory,
                "the job's processes together exceeded the lane's memory".into(),
                true,
            ),
            (Some(sig), _) => decide(
                Status::Killed,
                format!("the program was killed by {}", signal_name(sig)),
                true,
            ),
            (None, Some(c)) => {
                let mut d = decide(
                    Status::Error,
                    format!("the program exited with status {c} before its tests finished"),
                    true,
                );
                d.flags.push("exit_before_tests");
                d
            }
            _ => decide(
                Status::Error,
                "the program's process ended before its tests finished".into(),
                true,
            ),
        },
        (_, Some(v)) => decide(v.status, v.message.clone(), true),
        (_, None) => decide(
            Status::SandboxError,
            f.problem
                .clone()
                .unwrap_or_else(|| "no verdict from the harness".into()),
            false,
        ),
    };
    if let Some(p) = &f.problem {
        if d.status != Status::SandboxError && d.message.is_empty() {
            d.message = p.clone();
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(status: Status, child_died: bool) -> Verdict {
        serde_json::from_value(serde_json::json!({
            "seq": 1,
            "status": status,
            "tests_passed": 1,
            "tests_total": 3,
            "message": "1/3 tests passed",
            "child_died": child_died,
        }))
        .unwrap()
    }

    fn exited(code: i32) -> Option<i32> {
        Some(code << 8)
    }

    fn signalled(sig: i32) -> Option<i32> {
        Some(sig)
    }

    #[test]
    fn a_verdict_with_a_healthy_child_is_taken_as_is() {
        let f = Facts {
            verdict: Some(verdict(Status::Failed, false)),
            exit: signalled(libc::SIGKILL),
            ..Facts::default()
        };
        let d = classify(&f, &Limits::default());
        assert_eq!(d.status, Status::Failed);
        assert_eq!(d.message, "1/3 tests passed");
        assert!(d.use_verdict);
    }

    #[test]
    fn cuts_win_over_any_verdict() {
        let l = Limits::default();
        for (cut, status) in [
            (Cut::OutputLimit, Status::OutputLimit),
            (Cut::Timeout, Status::Timeout),
        ] {
            let f = Facts {
                verdict: Some(verdict(Status::Passed, false)),
                cut: Some(cut),
                exit: signalled(libc::SIGKILL),
                ..Facts::default()
            };
            assert_eq!(classify(&f, &l).status, status);
        }
    }

    #[test]
    fn a_child_that_died_is_the_programs_failure() {
        let l = Limits::default();
        let cases = [
            (signalled(libc::SIGXCPU), false, Status::Timeout),
            (signalled(libc::SIGKILL), true, Status::Memory),
            (signalled(libc::SIGSEGV), false, Status::Killed),
            (exited(0), false, Status::Error),
            (None, false, Status::Error),
        ];
        for (exit, oom, want) in cases {
            let f = Facts {
                verdict: Some(verdict(Status::Failed, true)),
                exit,
                oom,
                ..Facts::default()
            };
            assert_eq!(classify(&f, &l).status, want, "{exit:?} oom={oom}");
        }
        let f = Facts {
            verdict: Some(verdict(Status::Failed, true)),
            exit: exited(0),
            ..Facts::default()
        };
        assert_eq!(classify(&f, &l).flags, vec!["exit_before_tests"]);
    }

    #[test]
    fn a_harness_stuck_on_a_returned_value_is_a_flagged_timeout() {
        let f = Facts {
            cut: Some(Cut::Timeout),
            exit: signalled(libc::SIGKILL),
            harness_stuck: true,
            ..Facts::default()
        };
        let d = classify(&f, &Limits::default());
        assert_eq!(d.status, Status::Timeout);
        assert_eq!(d.flags, vec!["harness_timeout"]);
        assert!(!d.use_verdict);
    }

    #[test]
    fn only_a_fault_of_the_sandbox_is_a_sandbox_error() {
        let f = Facts {
            problem: Some("the harness exited".into()),
            cut: Some(Cut::Timeout),
            ..Facts::default()
        };
        let d = classify(&f, &Limits::default());
        assert_eq!(d.status, Status::SandboxError);
        assert_eq!(d.message, "the harness exited");
        let f = Facts::default();
        assert_eq!(
            classify(&f, &Limits::default()).message,
            "no verdict from the harness"
        );
        // A verdict that arrived still decides, with the problem only as a fallback message.
        let mut v = verdict(Status::Failed, false);
        v.message.clear();
        let f = Facts {
            verdict: Some(v),
            problem: Some("the zygote exited".into()),
            ..Facts::default()
        };
        let d = classify(&f, &Limits::default());
        assert_eq!(d.status, Status::Failed);
        assert_eq!(d.message, "the zygote exited");
    }
}
