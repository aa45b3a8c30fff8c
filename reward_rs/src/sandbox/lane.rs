//! A lane: one Rust thread owning a zygote and a harness process, running one job at a time.
//!
//! Per job the lane sends the job to the harness and `go` to the zygote; the zygote hands its
//! pre-forked, hardened child's socket to the harness and a pidfd of the child (with the child's
//! own stdout/stderr pipes) to the lane; the harness loads the code into the child, runs the
//! tests and sends the verdict. [`drive`] runs that exchange and collects what happened,
//! [`classify`] turns it into a status (a pure function).

mod classify;
mod drive;

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::cgroup::LaneCgroup;
use super::confine::{HarnessConfig, HarnessProtections};
use super::error::{Error, Result};
use super::frame;
use super::harden::ZygoteConfig;
use super::limits::Limits;
use super::outcome::{Failure, Outcome, Status, LANE_RESTARTED};
use super::output::TailBuffer;
use super::probe::Protections;
use super::procs::{drain, pfd, poll, ready, Procs};
pub use classify::{classify, Cut, Decision, Facts};
use drive::Output;

/// How long a freshly spawned zygote may take to import, set up and run its trial child.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The harness runs as the lane's uid plus this (children use the lane's uid itself), so no
/// child shares a uid with the process holding the tests.
pub const HARNESS_UID_OFFSET: u32 = 1 << 20;

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

/// The zygote's first answer.
#[derive(Deserialize)]
struct ZygoteHello {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    protections: Option<Protections>,
    #[serde(default)]
    trial: Option<Trial>,
}

#[derive(Deserialize)]
struct Trial {
    #[serde(default)]
    harden_s: Vec<(String, f64)>,
}

/// The harness's first answer, once it confined itself.
#[derive(Deserialize)]
struct HarnessHello {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    confined: Option<HarnessProtections>,
}

pub struct Lane {
    spec: LaneSpec,
    procs: Option<Procs>,
    pub protections: Protections,
    /// What confines the harness (see `confine`).
    pub harness: HarnessProtections,
    /// CPU seconds of each hardening step in the zygote's trial child, for profiling.
    pub hardening_s: Vec<(String, f64)>,
    /// The pids of the zygote and the harness (for per-process CPU accounting).
    pub pids: (u32, u32),
    pub isolation: String,
    seq: u64,
    out: TailBuffer,
    err: TailBuffer,
    zygote_err: TailBuffer,
    cgroup: Option<LaneCgroup>,
    oom_seen: u64,
}

impl Lane {
    pub fn new(spec: LaneSpec) -> Self {
        Lane {
            out: TailBuffer::new(spec.tail_bytes),
            err: TailBuffer::new(spec.tail_bytes),
            zygote_err: TailBuffer::new(spec.tail_bytes),
            spec,
            procs: None,
            protections: Protections::default(),
            harness: HarnessProtections::default(),
            isolation: "none".into(),
            seq: 0,
            cgroup: None,
            oom_seen: 0,
            hardening_s: Vec::new(),
            pids: (0, 0),
        }
    }

    /// Spawn the zygote and the harness (exec'd, empty environment, own session, killed if this
    /// thread dies), configure both and wait for both to say they are ready.
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
        self.oom_seen = self.cgroup.as_ref().map_or(0, |cg| cg.oom_kills());
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
        let hcfg = HarnessConfig {
            uid: self.spec.uid + HARNESS_UID_OFFSET,
            read_paths: Vec::new(),
            memory_mb: self.spec.limits.memory_mb,
        };
        let hcfg = serde_json::to_vec(&hcfg).map_err(|e| Error::Spawn(e.to_string()))?;
        frame::write_frame(&mut procs.h, &hcfg).map_err(|e| Error::io("configuring harness", e))?;
        let deadline = Instant::now() + START_TIMEOUT;
        let (hello, _) = self.recv_z(&mut procs, deadline)?;
        let hello: ZygoteHello = serde_json::from_slice(&hello)
            .map_err(|e| Error::Spawn(format!("zygote hello: {e}")))?;
        if !hello.ok {
            self.zygote_err.clear();
            drain(&mut procs.err, &mut self.zygote_err);
            let why = hello.error.as_deref().unwrap_or("no reason given");
            return Err(Error::Spawn(format!(
                "zygote failed: {why} {}",
                self.zygote_err.text()
            )));
        }
        self.protections = hello
            .protections
            .ok_or_else(|| Error::Spawn("zygote hello without protections".into()))?;
        self.protections.cgroup = in_cgroup;
        self.hardening_s = hello.trial.map(|t| t.harden_s).unwrap_or_default();
        self.pids = (procs.zygote.id(), procs.harness.id());
        self.isolation = self.protections.level().to_string();
        let hh: HarnessHello = serde_json::from_slice(&self.recv_h(&mut procs, deadline)?)
            .map_err(|e| Error::Spawn(format!("harness hello: {e}")))?;
        if !hh.ok {
            let why = hh.error.as_deref().unwrap_or("no reason given");
            return Err(Error::Spawn(format!("harness failed to start: {why}")));
        }
        self.harness = hh.confined.unwrap_or_default();
        self.zygote_err.clear();
        drain(&mut procs.out, &mut self.zygote_err);
        drain(&mut procs.err, &mut self.zygote_err);
        self.zygote_err.clear();
        self.procs = Some(procs);
        Ok(())
    }

    /// Protections reported by the zygote, plus the timings of its trial child's hardening.
    pub fn hello_details(&self) -> &Protections {
        &self.protections
    }

    fn recv_z(&mut self, procs: &mut Procs, deadline: Instant) -> Result<(Vec<u8>, Vec<OwnedFd>)> {
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
            if ready(&fds[1]) || ready(&fds[2]) {
                drain(&mut procs.out, &mut self.zygote_err);
                drain(&mut procs.err, &mut self.zygote_err);
            }
            if ready(&fds[0]) {
                let (data, passed) = frame::recv_with_fds(procs.z.as_raw_fd(), 1 << 16)
                    .map_err(|e| Error::io("reading from zygote", e))?;
                if data.is_empty() {
                    return Err(Error::Spawn(format!(
                        "zygote exited: {}",
                        self.zygote_err.text()
                    )));
                }
                return Ok((data, passed));
            }
        }
    }

    fn recv_h(&mut self, procs: &mut Procs, deadline: Instant) -> Result<Vec<u8>> {
        loop {
            if let Some(f) = procs
                .hreader
                .take()
                .map_err(|e| Error::io("harness frame", e))?
            {
                return Ok(f);
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
                return self.sandbox_error(job, e.to_string(), t0);
            }
        }
        let mut procs = self.procs.take().expect("lane started");
        self.seq += 1;
        self.out.clear();
        self.err.clear();
        self.zygote_err.clear();
        let mut sink = Output {
            out: &mut self.out,
            err: &mut self.err,
            zygote: &mut self.zygote_err,
        };
        let driven = drive::drive(
            &mut procs,
            self.seq,
            &job.raw,
            &self.spec.limits,
            t0,
            &mut sink,
        );
        let driven = match driven {
            Ok(d) => d,
            Err(e) => return self.sandbox_error(job, e.to_string(), t0),
        };
        let mut facts = driven.facts;
        facts.oom = self
            .cgroup
            .as_ref()
            .is_some_and(|cg| cg.oom_kills() > self.oom_seen);
        self.oom_seen = self.cgroup.as_ref().map_or(0, |cg| cg.oom_kills());
        let decision = classify(&facts, &self.spec.limits);
        let mut o = Outcome::new(&job.id, decision.status, decision.message, &self.isolation);
        o.duration_s = t0.elapsed().as_secs_f64();
        o.stdout_tail = self.out.text();
        o.stderr_tail = self.err.text();
        if let Some(x) = &driven.report {
            o.cpu_s = x.utime + x.stime;
            o.peak_memory_mb = x.maxrss_kb as f64 / 1024.0;
        }
        if let (true, Some(v)) = (decision.use_verdict, &facts.verdict) {
            o.tests_passed = v.tests_passed;
            o.tests_total = v.tests_total;
            o.failure = v.failure.clone().map(|f| Failure {
                message: truncate(&f.message, 2000),
                ..f
            });
            o.flags.extend(v.flags.iter().cloned());
        }
        o.flags.extend(decision.flags.iter().map(|f| f.to_string()));
        if driven.healthy {
            self.procs = Some(procs);
        } else {
            o.flags.push(LANE_RESTARTED.into());
        }
        if o.status == Status::SandboxError {
            eprintln!(
                "rlaif sandbox: lane {}: sandbox_error on job {}: {}",
                self.spec.index, job.id, o.message
            );
        }
        o
    }

    fn sandbox_error(&self, job: &JobSpec, why: String, t0: Instant) -> Outcome {
        eprintln!(
            "rlaif sandbox: lane {}: sandbox_error on job {}: {why}",
            self.spec.index, job.id
        );
        let mut o = Outcome::new(&job.id, Status::SandboxError, why, &self.isolation);
        o.duration_s = t0.elapsed().as_secs_f64();
        o.flags.push(LANE_RESTARTED.into());
        o
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
