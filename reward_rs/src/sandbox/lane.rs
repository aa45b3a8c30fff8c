//! A lane: one Rust thread owning a zygote and a harness process, running one job at a time.
//!
//! Per job the lane sends the job to the harness and "go" to the zygote; the zygote hands its
//! pre-forked, hardened child's socket to the harness and a pidfd of the child to the lane; the
//! harness loads the code into the child, runs the tests and sends the verdict. The lane enforces
//! the wall deadline and the output cap, kills the child (pid 1 of its PID namespace, so every
//! descendant dies with it) and collects its exit status and rusage from the zygote.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use super::cgroup::LaneCgroup;
use super::error::{Error, Result};
use super::frame;
use super::harden::ZygoteConfig;
use super::limits::Limits;
use super::outcome::{status, ExitReport, Failure, Outcome, Verdict};
use super::output::TailBuffer;
use super::probe::Protections;
use super::procs::{drain, kill_pidfd, pfd, poll, ready, Procs};

/// How long a freshly spawned zygote may take to import, set up and run its trial child.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Grace for the zygote's replies and for the harness to notice a killed child.
const GRACE: Duration = Duration::from_secs(3);

/// A job as the lane needs it: its id and its JSON text (which the harness parses).
#[derive(Clone, Debug)]
pub struct JobSpec {
    pub id: String,
    pub raw: String,
}

#[derive(Clone, Debug)]
pub struct LaneSpec {
    pub index: usize,
    pub python: PathBuf,
    pub package_root: PathBuf,
    pub limits: Limits,
    pub scratch_root: PathBuf,
    pub uid: u32,
    pub tail_bytes: usize,
    /// Name of the lane's cgroup (created once, under this process's own cgroups).
    pub cgroup_name: String,
}

pub struct Lane {
    spec: LaneSpec,
    procs: Option<Procs>,
    pub protections: Protections,
    /// CPU seconds of each hardening step in the zygote's trial child, for profiling.
    pub hardening_s: Vec<(String, f64)>,
    /// The pids of the zygote and the harness (for per-process CPU accounting).
    pub pids: (u32, u32),
    pub isolation: String,
    seq: u64,
    out: TailBuffer,
    err: TailBuffer,
    cgroup: Option<LaneCgroup>,
}

fn signal_name(sig: i32) -> String {
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

enum Cut {
    Timeout,
    OutputLimit,
}

impl Lane {
    pub fn new(spec: LaneSpec) -> Self {
        Lane {
            out: TailBuffer::new(spec.tail_bytes),
            err: TailBuffer::new(spec.tail_bytes),
            spec,
            procs: None,
            protections: Protections::default(),
            isolation: "none".into(),
            seq: 0,
            cgroup: None,
            hardening_s: Vec::new(),
            pids: (0, 0),
        }
    }

    /// Spawn the zygote and the harness (exec'd, empty environment, own session, killed if this
    /// thread dies) and wait for both to say they are ready.
    pub fn start(&mut self) -> Result<()> {
        self.procs = None;
        let mut procs = Procs::spawn(&self.spec.python, &self.spec.package_root)?;
        // The whole lane (zygote, pre-forked child, the job's process tree) shares one memory
        // and process budget: room for two children at the cap plus the zygote.
        if self.cgroup.is_none() {
            let l = &self.spec.limits;
            self.cgroup = LaneCgroup::create(
                &self.spec.cgroup_name,
                (2 * l.memory_mb + 128) << 20,
                2 * l.nproc + 8,
            );
        }
        let in_cgroup = self
            .cgroup
            .as_ref()
            .is_some_and(|cg| cg.add(procs.zygote.id()).is_ok());
        let cfg = ZygoteConfig {
            lane: self.spec.index,
            scratch_root: self.spec.scratch_root.clone(),
            limits: self.spec.limits.clone(),
            uid: self.spec.uid,
            read_paths: Vec::new(),
            write_files: Vec::new(),
        };
        let cfg = serde_json::to_vec(&cfg).map_err(|e| Error::Spawn(e.to_string()))?;
        frame::send_packet(&procs.z, &cfg).map_err(|e| Error::io("configuring zygote", e))?;
        let deadline = Instant::now() + START_TIMEOUT;
        let hello = self.recv_z(&mut procs, deadline)?;
        if hello.0.get("ok") != Some(&serde_json::Value::Bool(true)) {
            self.out.clear();
            self.err.clear();
            drain(&mut procs.err, &mut self.err);
            let why = hello
                .0
                .get("error")
                .and_then(|v| v.as_str())
                .unwrap_or("no reason given");
            return Err(Error::Spawn(format!(
                "zygote failed: {why} {}",
                self.err.text()
            )));
        }
        self.protections = serde_json::from_value(hello.0["protections"].clone())
            .map_err(|e| Error::Spawn(format!("zygote hello: {e}")))?;
        self.protections.cgroup = in_cgroup;
        self.hardening_s =
            serde_json::from_value(hello.0["trial"]["harden_s"].clone()).unwrap_or_default();
        self.pids = (procs.zygote.id(), procs.harness.id());
        self.isolation = self.protections.level().to_string();
        let hh = self.recv_h(&mut procs, deadline)?;
        if hh.get("ok") != Some(&serde_json::Value::Bool(true)) {
            return Err(Error::Spawn(format!("harness failed to start: {hh}")));
        }
        self.out.clear();
        self.err.clear();
        drain(&mut procs.out, &mut self.out);
        drain(&mut procs.err, &mut self.err);
        self.procs = Some(procs);
        Ok(())
    }

    /// Protections reported by the zygote, plus the timings of its trial child's hardening.
    pub fn hello_details(&self) -> &Protections {
        &self.protections
    }

    fn recv_z(
        &mut self,
        procs: &mut Procs,
        deadline: Instant,
    ) -> Result<(serde_json::Value, Vec<OwnedFd>)> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Spawn("zygote did not answer in time".into()));
            }
            let mut fds = [
                pfd(procs.z.as_raw_fd()),
                pfd(procs.out.as_raw_fd()),
                pfd(procs.err.as_raw_fd()),
            ];
            poll(&mut fds, left)?;
            if ready(&fds[1]) {
                drain(&mut procs.out, &mut self.out);
            }
            if ready(&fds[2]) {
                drain(&mut procs.err, &mut self.err);
            }
            if ready(&fds[0]) {
                let (data, passed) = frame::recv_with_fds(procs.z.as_raw_fd(), 1 << 16)
                    .map_err(|e| Error::io("reading from zygote", e))?;
                if data.is_empty() {
                    return Err(Error::Spawn(format!("zygote exited: {}", self.err.text())));
                }
                let v = serde_json::from_slice(&data)
                    .map_err(|e| Error::Spawn(format!("zygote sent bad JSON: {e}")))?;
                return Ok((v, passed));
            }
        }
    }

    fn recv_h(&mut self, procs: &mut Procs, deadline: Instant) -> Result<serde_json::Value> {
        loop {
            if let Some(f) = procs
                .hreader
                .take()
                .map_err(|e| Error::io("harness frame", e))?
            {
                return serde_json::from_slice(&f)
                    .map_err(|e| Error::Spawn(format!("harness sent bad JSON: {e}")));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Spawn("harness did not answer in time".into()));
            }
            let mut fds = [pfd(procs.h.as_raw_fd())];
            poll(&mut fds, left)?;
            if ready(&fds[0]) {
                let mut chunk = [0u8; 65536];
                let n = procs
                    .h
                    .read(&mut chunk)
                    .map_err(|e| Error::io("reading from harness", e))?;
                if n == 0 {
                    return Err(Error::Spawn("harness exited".into()));
                }
                procs.hreader.feed(&chunk[..n]);
            }
        }
    }

    /// Run one job. Never fails: a broken lane gives a `sandbox_error` outcome and restarts.
    pub fn run(&mut self, job: &JobSpec) -> Outcome {
        let t0 = Instant::now();
        if self.procs.is_none() {
            if let Err(e) = self.start() {
                return Outcome::new(
                    &job.id,
                    status::SANDBOX_ERROR,
                    e.to_string(),
                    &self.isolation,
                );
            }
        }
        let mut procs = self.procs.take().expect("lane started");
        match self.run_in(&mut procs, job, t0) {
            Ok((outcome, healthy)) => {
                if healthy {
                    self.procs = Some(procs);
                }
                outcome
            }
            Err(e) => {
                let mut o = Outcome::new(
                    &job.id,
                    status::SANDBOX_ERROR,
                    e.to_string(),
                    &self.isolation,
                );
                o.duration_s = t0.elapsed().as_secs_f64();
                o
            }
        }
    }

    fn run_in(&mut self, procs: &mut Procs, job: &JobSpec, t0: Instant) -> Result<(Outcome, bool)> {
        self.seq += 1;
        let seq = self.seq;
        let limits = &self.spec.limits;
        self.out.clear();
        self.err.clear();
        let head = format!(
            "{{\"seq\":{seq},\"timeout\":{},\"output_bytes\":{},\"job\":",
            limits.timeout_s, limits.output_bytes
        );
        let mut msg = Vec::with_capacity(head.len() + job.raw.len() + 1);
        msg.extend_from_slice(head.as_bytes());
        msg.extend_from_slice(job.raw.as_bytes());
        msg.push(b'}');
        frame::write_frame(&mut procs.h, &msg)
            .map_err(|e| Error::io("sending job to harness", e))?;
        frame::send_packet(&procs.z, json!({ "go": seq }).to_string().as_bytes())
            .map_err(|e| Error::io("signalling zygote", e))?;

        let deadline = t0 + Duration::from_secs_f64(limits.timeout_s);
        let oom_before = self.cgroup.as_ref().map_or(0, |cg| cg.oom_kills());
        let mut pidfd: Option<OwnedFd> = None;
        let mut verdict: Option<Verdict> = None;
        let mut exit: Option<ExitReport> = None;
        let mut cut: Option<Cut> = None;
        let mut killed = false;
        let mut hard_deadline = deadline + GRACE;
        let mut healthy = true;
        let mut harness_gone = false;
        let mut problem: Option<String> = None;
        loop {
            if exit.is_some() && (verdict.is_some() || harness_gone) {
                break;
            }
            let now = Instant::now();
            if now >= hard_deadline {
                // Either the zygote did not report the child, or the harness is stuck (e.g. a
                // dataset test looping outside the candidate): restart both.
                healthy = false;
                if exit.is_none() {
                    problem.get_or_insert_with(|| "the zygote did not report the child".into());
                }
                break;
            }
            if cut.is_none() && verdict.is_none() && now >= deadline {
                cut = Some(Cut::Timeout);
            }
            if let (Some(fd), false, true) = (&pidfd, killed, verdict.is_some() || cut.is_some()) {
                kill_pidfd(fd);
                killed = true;
                hard_deadline = Instant::now() + GRACE;
            }
            // A frame already buffered from the harness needs no poll.
            if let Some(f) = procs
                .hreader
                .take()
                .map_err(|e| Error::io("harness frame", e))?
            {
                self.accept_verdict(&f, seq, &mut verdict, &mut problem, &mut healthy);
                continue;
            }
            let wait_until = if cut.is_none() && verdict.is_none() {
                deadline
            } else {
                hard_deadline
            };
            let h_fd = if harness_gone {
                -1
            } else {
                procs.h.as_raw_fd()
            };
            let mut fds = [
                pfd(procs.z.as_raw_fd()),
                pfd(h_fd),
                pfd(procs.out.as_raw_fd()),
                pfd(procs.err.as_raw_fd()),
            ];
            poll(&mut fds, wait_until.saturating_duration_since(now))?;
            if ready(&fds[2]) {
                drain(&mut procs.out, &mut self.out);
            }
            if ready(&fds[3]) {
                drain(&mut procs.err, &mut self.err);
            }
            if cut.is_none()
                && verdict.is_none()
                && self.out.total() + self.err.total() > limits.output_bytes
            {
                cut = Some(Cut::OutputLimit);
            }
            if ready(&fds[0]) {
                let (data, mut passed) = frame::recv_with_fds(procs.z.as_raw_fd(), 1 << 16)
                    .map_err(|e| Error::io("reading from zygote", e))?;
                if data.is_empty() {
                    problem = Some(format!("the zygote exited: {}", self.err.text()));
                    healthy = false;
                    break;
                }
                let v: serde_json::Value = serde_json::from_slice(&data)
                    .map_err(|e| Error::Spawn(format!("zygote sent bad JSON: {e}")))?;
                if v["seq"].as_u64() != Some(seq) {
                    continue;
                }
                if let Some(err) = v.get("error").and_then(|e| e.as_str()) {
                    problem = Some(format!("zygote: {err}"));
                    healthy = false;
                    break;
                }
                if v.get("pid").is_some() {
                    pidfd = passed.pop();
                    if pidfd.is_none() {
                        problem = Some("the zygote sent no pidfd".into());
                        healthy = false;
                        break;
                    }
                } else if v.get("exit").is_some() {
                    exit = serde_json::from_value(v).ok();
                }
            }
            if ready(&fds[1]) {
                let mut chunk = [0u8; 65536];
                match procs.h.read(&mut chunk) {
                    Ok(0) | Err(_) => {
                        // Keep collecting the child's exit so nothing is left running, then
                        // restart both processes.
                        problem.get_or_insert_with(|| "the harness exited".into());
                        healthy = false;
                        harness_gone = true;
                        cut.get_or_insert(Cut::Timeout);
                    }
                    Ok(n) => procs.hreader.feed(&chunk[..n]),
                }
            }
        }
        if let Some(fd) = &pidfd {
            if !killed {
                kill_pidfd(fd);
            }
        }
        // Every process of the job is dead once the zygote reaped pid 1: take what is left.
        drain(&mut procs.out, &mut self.out);
        drain(&mut procs.err, &mut self.err);

        let mut o = Outcome::new(&job.id, status::SANDBOX_ERROR, "", &self.isolation);
        o.duration_s = t0.elapsed().as_secs_f64();
        o.stdout_tail = self.out.text();
        o.stderr_tail = self.err.text();
        if let Some(x) = &exit {
            o.cpu_s = x.utime + x.stime;
            o.peak_memory_mb = x.maxrss_kb as f64 / 1024.0;
        }
        let (signal, code) = match &exit {
            Some(x) if libc::WIFSIGNALED(x.exit) => (Some(libc::WTERMSIG(x.exit)), None),
            Some(x) if libc::WIFEXITED(x.exit) => (None, Some(libc::WEXITSTATUS(x.exit))),
            _ => (None, None),
        };
        match (&cut, &verdict) {
            (Some(Cut::OutputLimit), v) => {
                if let Some(v) = v {
                    self.fill_from_verdict(&mut o, v);
                }
                o.set_status(status::OUTPUT_LIMIT);
                o.message = format!("wrote more than {} bytes of output", limits.output_bytes);
            }
            (Some(Cut::Timeout), v) if problem.is_none() => {
                if let Some(v) = v {
                    self.fill_from_verdict(&mut o, v);
                }
                o.set_status(status::TIMEOUT);
                o.message = format!("exceeded the time limit of {} s", limits.timeout_s);
            }
            (_, Some(v)) if v.child_died && signal == Some(libc::SIGXCPU) => {
                o.set_status(status::TIMEOUT);
                o.message = format!("exceeded the CPU limit of {} s", limits.cpu_seconds());
            }
            (_, Some(v)) if v.child_died => {
                self.fill_from_verdict(&mut o, v);
                let oom = self.cgroup.as_ref().map_or(0, |cg| cg.oom_kills()) > oom_before;
                match (signal, code) {
                    (Some(libc::SIGKILL), _) if oom => {
                        o.set_status(status::MEMORY);
                        o.message =
                            "the job's processes together exceeded the lane's memory".into();
                    }
                    (Some(sig), _) => {
                        o.set_status(status::KILLED);
                        o.message = format!("the program was killed by {}", signal_name(sig));
                    }
                    (None, Some(c)) => {
                        o.set_status(status::ERROR);
                        o.flags.push("exit_before_tests".into());
                        o.message =
                            format!("the program exited with status {c} before its tests finished");
                    }
                    _ => {
                        o.set_status(status::ERROR);
                        o.message = "the program's process ended before its tests finished".into();
                    }
                }
            }
            (_, Some(v)) => {
                self.fill_from_verdict(&mut o, v);
                o.set_status(&v.status);
            }
            (_, None) => {
                o.message = problem
                    .clone()
                    .unwrap_or_else(|| "no verdict from the harness".into());
            }
        }
        if let Some(p) = problem {
            if o.status != status::SANDBOX_ERROR && o.message.is_empty() {
                o.message = p;
            }
        }
        Ok((o, healthy))
    }

    fn fill_from_verdict(&self, o: &mut Outcome, v: &Verdict) {
        o.tests_passed = v.tests_passed;
        o.tests_total = v.tests_total;
        o.message = v.message.clone();
        o.failure = v.failure.clone().map(|f| Failure {
            message: truncate(&f.message, 2000),
            ..f
        });
        o.flags.extend(v.flags.iter().cloned());
    }

    fn accept_verdict(
        &self,
        frame: &[u8],
        seq: u64,
        verdict: &mut Option<Verdict>,
        problem: &mut Option<String>,
        healthy: &mut bool,
    ) {
        match serde_json::from_slice::<Verdict>(frame) {
            Ok(v) if v.seq == seq => *verdict = Some(v),
            Ok(_) => {} // a late answer for a job already settled
            Err(e) => {
                *problem = Some(format!("harness sent a bad verdict: {e}"));
                *healthy = false;
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}
