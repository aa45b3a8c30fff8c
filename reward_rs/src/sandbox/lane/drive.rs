//! Driving one job through the lane's processes and collecting what happened ([`Facts`]).
//!
//! Sends the job to the harness and `go` to the zygote, then polls: the zygote's `started`
//! (with the child's pidfd and its own stdout/stderr pipes) and `exited` messages, the
//! harness's verdict, and the job's output. Enforces the wall deadline and the output cap by
//! killing the child (pid 1 of its PID namespace, so every descendant dies with it).

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::super::error::{Error, Result};
use super::super::frame;
use super::super::limits::Limits;
use super::super::outcome::Verdict;
use super::super::output::TailBuffer;
use super::super::procs::{drain, kill_pidfd, pfd, poll, ready, set_nonblocking, Procs};
use super::super::zygote::{ExitReport, FromZygote, ToZygote};
use super::classify::{Cut, Facts};

/// Grace for the zygote's replies and for the harness to notice a killed child.
pub const GRACE: Duration = Duration::from_secs(3);

/// The job's own stdout and stderr (fresh pipes from the zygote) and the lane's tails of them.
pub struct Output<'a> {
    pub out: &'a mut TailBuffer,
    pub err: &'a mut TailBuffer,
    /// The zygote's own stderr (for messages about its failures), not the job's.
    pub zygote: &'a mut TailBuffer,
}

/// The job's running child, once the zygote said so. A pipe is dropped at its end of file, so
/// a hung-up pipe never wakes the poll again (it would spin until the zygote's report).
struct Child {
    pidfd: OwnedFd,
    out: Option<File>,
    err: Option<File>,
}

impl Child {
    fn drain(&mut self, o: &mut Output<'_>) {
        for (pipe, buf) in [(&mut self.out, &mut *o.out), (&mut self.err, &mut *o.err)] {
            if let Some(f) = pipe {
                if !drain(f, buf) {
                    *pipe = None;
                }
            }
        }
    }

    fn fd(pipe: &Option<File>) -> i32 {
        pipe.as_ref().map_or(-1, |f| f.as_raw_fd())
    }
}

/// What driving one job gave.
pub struct Driven {
    pub facts: Facts,
    /// The zygote's report on the reaped child (CPU time, peak memory).
    pub report: Option<ExitReport>,
    /// False when the lane's processes must be restarted.
    pub healthy: bool,
}

/// Run job `seq`; `Err` only when talking to the lane's own processes failed outright.
pub fn drive(
    procs: &mut Procs,
    seq: u64,
    raw_job: &str,
    limits: &Limits,
    t0: Instant,
    o: &mut Output<'_>,
) -> Result<Driven> {
    let head = format!(
        "{{\"seq\":{seq},\"timeout\":{},\"output_bytes\":{},\"job\":",
        limits.timeout_s, limits.output_bytes
    );
    let mut msg = Vec::with_capacity(head.len() + raw_job.len() + 1);
    msg.extend_from_slice(head.as_bytes());
    msg.extend_from_slice(raw_job.as_bytes());
    msg.push(b'}');
    frame::write_frame(&mut procs.h, &msg).map_err(|e| Error::io("sending job to harness", e))?;
    let go = serde_json::to_vec(&ToZygote::Go(seq)).map_err(|e| Error::Spawn(e.to_string()))?;
    frame::send_packet(&procs.z, &go).map_err(|e| Error::io("signalling zygote", e))?;

    let deadline = t0 + Duration::from_secs_f64(limits.timeout_s);
    let mut f = Facts::default();
    let mut report = None;
    let mut child: Option<Child> = None;
    let mut killed = false;
    let mut hard_deadline = deadline + GRACE;
    let mut healthy = true;
    let mut harness_gone = false;
    loop {
        if f.exit.is_some() && (f.verdict.is_some() || harness_gone) {
            break;
        }
        let now = Instant::now();
        if now >= hard_deadline {
            // Either the zygote did not report the child, or the harness is stuck on test code
            // (e.g. expanding a value the candidate returned): restart both.
            healthy = false;
            if f.exit.is_none() {
                f.problem
                    .get_or_insert_with(|| "the zygote did not report the child".into());
            } else if f.verdict.is_none() && !harness_gone {
                f.harness_stuck = true;
            }
            break;
        }
        if f.cut.is_none() && f.verdict.is_none() && now >= deadline {
            f.cut = Some(Cut::Timeout);
        }
        if let (Some(c), false, true) = (&child, killed, f.verdict.is_some() || f.cut.is_some()) {
            kill_pidfd(&c.pidfd);
            killed = true;
            hard_deadline = Instant::now() + GRACE;
        }
        // A frame already buffered from the harness needs no poll.
        if let Some(frame) = procs
            .hreader
            .take()
            .map_err(|e| Error::io("harness frame", e))?
        {
            match serde_json::from_slice::<Verdict>(&frame) {
                Ok(v) if v.seq == seq => f.verdict = Some(v),
                Ok(_) => {} // a late answer for a job already settled
                Err(e) => {
                    f.problem = Some(format!("harness sent a bad verdict: {e}"));
                    healthy = false;
                }
            }
            continue;
        }
        let wait_until = if f.cut.is_none() && f.verdict.is_none() {
            deadline
        } else {
            hard_deadline
        };
        let h_fd = if harness_gone {
            -1
        } else {
            procs.h.as_raw_fd()
        };
        let (c_out, c_err) = child
            .as_ref()
            .map_or((-1, -1), |c| (Child::fd(&c.out), Child::fd(&c.err)));
        let mut fds = [
            pfd(procs.z.as_raw_fd()),
            pfd(h_fd),
            pfd(procs.out.as_raw_fd()),
            pfd(procs.err.as_raw_fd()),
            pfd(c_out),
            pfd(c_err),
        ];
        poll(&mut fds, wait_until.saturating_duration_since(now))?;
        if ready(&fds[2]) || ready(&fds[3]) {
            drain(&mut procs.out, o.zygote);
            drain(&mut procs.err, o.zygote);
        }
        if let Some(c) = &mut child {
            if ready(&fds[4]) || ready(&fds[5]) {
                c.drain(o);
            }
        }
        if f.cut.is_none()
            && f.verdict.is_none()
            && o.out.total() + o.err.total() > limits.output_bytes
        {
            f.cut = Some(Cut::OutputLimit);
        }
        if ready(&fds[0]) {
            let (data, passed) = frame::recv_with_fds(procs.z.as_raw_fd(), 1 << 16)
                .map_err(|e| Error::io("reading from zygote", e))?;
            if data.is_empty() {
                f.problem = Some(format!("the zygote exited: {}", o.zygote.text()));
                healthy = false;
                break;
            }
            match serde_json::from_slice::<FromZygote>(&data) {
                Ok(FromZygote::Started { seq: s, .. }) if s == seq => {
                    let mut fds = passed.into_iter();
                    match (fds.next(), fds.next(), fds.next()) {
                        (Some(pidfd), Some(out), Some(err)) => {
                            set_nonblocking(&out)?;
                            set_nonblocking(&err)?;
                            child = Some(Child {
                                pidfd,
                                out: Some(File::from(out)),
                                err: Some(File::from(err)),
                            });
                        }
                        _ => {
                            f.problem = Some("the zygote sent no pidfd and pipes".into());
                            healthy = false;
                            break;
                        }
                    }
                }
                Ok(FromZygote::Exited(x)) if x.seq == seq => {
                    f.exit = Some(x.exit);
                    report = Some(x);
                }
                Ok(_) => {} // about an earlier job
                Err(e) => {
                    f.problem = Some(format!("zygote sent a bad message: {e}"));
                    healthy = false;
                    break;
                }
            }
        }
        if ready(&fds[1]) {
            let mut chunk = [0u8; 65536];
            match procs.h.read(&mut chunk) {
                Ok(0) | Err(_) => {
                    // Keep collecting the child's exit so nothing is left running, then
                    // restart both processes.
                    f.problem.get_or_insert_with(|| "the harness exited".into());
                    healthy = false;
                    harness_gone = true;
                    f.cut.get_or_insert(Cut::Timeout);
                }
                Ok(n) => procs.hreader.feed(&chunk[..n]),
            }
        }
    }
    if let Some(c) = &mut child {
        if !killed {
            kill_pidfd(&c.pidfd);
        }
        // Every process of the job is dead once the zygote reaped pid 1: take what is left.
        c.drain(o);
    }
    Ok(Driven {
        facts: f,
        report,
        healthy,
    })
}
