//! The executor: W lanes fed from one queue; batches come back in input order.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, unbounded, Sender};

use crate::cache::Cache;

use super::confine::HarnessProtections;
use super::error::{Error, Result};
use super::lane::{JobSpec, Lane, LaneSpec};
use super::limits::Limits;
use super::outcome::Outcome;
use super::probe::{Isolation, Protections};

#[derive(Clone)]
pub struct ExecutorConfig {
    pub workers: usize,
    /// The interpreter that runs zygotes and harnesses (the trainer's own `sys.executable`).
    pub python: PathBuf,
    /// Directory that contains the `rlaif_tui` package.
    pub package_root: PathBuf,
    pub limits: Limits,
    pub floor: Isolation,
    /// Lane i's children run as uid = gid = `uid_base + i` when the executor runs as root.
    pub uid_base: u32,
    /// Bytes of stdout/stderr tail kept per job.
    pub tail_bytes: usize,
    /// Reward cache shared with Python (`RewardCache.inner`): identical jobs under identical
    /// limits and interpreter reuse a settled outcome.
    pub cache: Option<Arc<Cache>>,
    /// The interpreter's identity (version and path), part of every cache key.
    pub interpreter: String,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            workers: 2,
            python: PathBuf::from("python3"),
            package_root: PathBuf::from("."),
            limits: Limits::default(),
            floor: Isolation::Full,
            uid_base: 61000,
            tail_bytes: 4096,
            cache: None,
            interpreter: String::new(),
        }
    }
}

/// What a lane reports once started.
#[derive(Clone, Debug)]
pub struct LaneInfo {
    pub protections: Protections,
    /// What confines the lane's harness.
    pub harness: HarnessProtections,
    /// CPU seconds of each hardening step in the lane's trial child.
    pub hardening_s: Vec<(String, f64)>,
    /// Zygote and harness pids at start (a lane restarts them if they misbehave).
    pub pids: (u32, u32),
}

struct Task {
    index: usize,
    job: Arc<JobSpec>,
    reply: Sender<(usize, Outcome)>,
}

pub struct Executor {
    tx: Option<Sender<Task>>,
    cache: Option<Arc<Cache>>,
    /// Everything but the job that decides an outcome: interpreter, limits, code version.
    key_prefix: String,
    timeout_s: f64,
    threads: Vec<JoinHandle<()>>,
    protections: Protections,
    lanes: Vec<LaneInfo>,
    root: PathBuf,
}

static EXECUTORS: AtomicUsize = AtomicUsize::new(0);

/// Parse a job's JSON far enough to route it: its id, and the text that identifies what runs
/// (code and tests, not the id).
pub fn parse_job(raw: &str) -> Result<(JobSpec, String)> {
    let v: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| Error::InvalidJob(format!("not JSON: {e}")))?;
    let id = v
        .get("id")
        .and_then(|x| x.as_str())
        .ok_or_else(|| Error::InvalidJob("missing string field `id`".into()))?;
    let code = v
        .get("code")
        .and_then(|x| x.as_str())
        .ok_or_else(|| Error::InvalidJob(format!("{id}: missing string field `code`")))?;
    let tests = v
        .get("tests")
        .ok_or_else(|| Error::InvalidJob(format!("{id}: missing field `tests`")))?;
    match tests.get("kind").and_then(|k| k.as_str()) {
        Some("asserts" | "check" | "io") => {}
        _ => {
            return Err(Error::InvalidJob(format!(
                "{id}: tests.kind must be asserts, check or io"
            )))
        }
    }
    // serde_json's map is ordered by key, so equal tests give equal text.
    let identity = format!("{}\u{0}{}", code, tests);
    Ok((
        JobSpec {
            id: id.to_string(),
            raw: raw.to_string(),
        },
        identity,
    ))
}

impl Executor {
    pub fn start(cfg: ExecutorConfig) -> Result<Self> {
        cfg.limits.validate()?;
        if !(1000..=(1 << 30)).contains(&cfg.uid_base) {
            // uid 0 would run jobs as root; system uids may own files.
            return Err(Error::InvalidLimits(
                "uid_base must be between 1000 and 2^30 (pick uids no account uses)".into(),
            ));
        }
        if cfg.workers == 0 || cfg.workers > 256 {
            return Err(Error::InvalidLimits(
                "workers must be between 1 and 256".into(),
            ));
        }
        let n = EXECUTORS.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("rlaif-sandbox-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root)
            .map_err(|e| Error::io(format!("create {}", root.display()), e))?;
        world_traversable(&root)?;
        let (tx, rx) = unbounded::<Task>();
        let (ready_tx, ready_rx) = bounded::<Result<LaneInfo>>(cfg.workers);
        let mut threads = Vec::new();
        for i in 0..cfg.workers {
            let scratch = root.join(format!("lane-{i}"));
            std::fs::create_dir_all(&scratch)
                .map_err(|e| Error::io(format!("create {}", scratch.display()), e))?;
            world_traversable(&scratch)?;
            let spec = LaneSpec {
                index: i,
                python: cfg.python.clone(),
                package_root: cfg.package_root.clone(),
                limits: cfg.limits.clone(),
                scratch_root: scratch,
                uid: cfg.uid_base + i as u32,
                tail_bytes: cfg.tail_bytes,
                cgroup_name: format!("rlaif-sandbox-{}-{n}-lane-{i}", std::process::id()),
            };
            let rx = rx.clone();
            let ready_tx = ready_tx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("sandbox-lane-{i}"))
                .spawn(move || {
                    // The lane's processes die with this thread (PR_SET_PDEATHSIG), so the lane
                    // is started here, not by the caller's thread.
                    let mut lane = Lane::new(spec);
                    match lane.start() {
                        Ok(()) => {
                            let _ = ready_tx.send(Ok(LaneInfo {
                                protections: lane.protections.clone(),
                                harness: lane.harness.clone(),
                                hardening_s: lane.hardening_s.clone(),
                                pids: lane.pids,
                            }));
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    }
                    drop(ready_tx);
                    for task in rx.iter() {
                        let outcome = lane.run(&task.job);
                        let _ = task.reply.send((task.index, outcome));
                    }
                })
                .map_err(|e| Error::Spawn(format!("lane thread: {e}")))?;
            threads.push(handle);
        }
        drop(ready_tx);
        let key_prefix = format!(
            "sandbox outcome v1\u{0}{}\u{0}{}\u{0}{}",
            cfg.interpreter,
            cfg.limits.key(),
            crate::VERSION
        );
        let mut ex = Executor {
            tx: Some(tx),
            cache: cfg.cache.clone(),
            key_prefix,
            timeout_s: cfg.limits.timeout_s,
            threads,
            protections: Protections::default(),
            lanes: Vec::new(),
            root,
        };
        for _ in 0..cfg.workers {
            match ready_rx.recv() {
                Ok(Ok(info)) => {
                    if ex.lanes.is_empty() {
                        ex.protections = info.protections.clone();
                    }
                    ex.lanes.push(info);
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(Error::Spawn("a lane thread died while starting".into())),
            }
        }
        let level = ex.protections.level();
        if level < cfg.floor {
            return Err(Error::BelowFloor {
                actual: level.to_string(),
                floor: cfg.floor.to_string(),
                missing: ex.protections.missing().join(", "),
            });
        }
        Ok(ex)
    }

    pub fn protections(&self) -> &Protections {
        &self.protections
    }

    /// What each lane reported when it started.
    pub fn lanes(&self) -> &[LaneInfo] {
        &self.lanes
    }

    pub fn isolation(&self) -> Isolation {
        self.protections.level()
    }

    /// Run a batch of jobs (JSON texts); outcomes in input order. Identical programs with
    /// identical tests run once; with a cache, settled outcomes of earlier batches are reused
    /// (`cached` is then true) and new settled ones stored.
    pub fn run(&self, jobs: &[String]) -> Result<Vec<Outcome>> {
        let tx = self.tx.as_ref().ok_or(Error::Closed)?;
        let mut specs = Vec::with_capacity(jobs.len());
        let mut first_of: HashMap<String, usize> = HashMap::new();
        let mut source: Vec<usize> = Vec::with_capacity(jobs.len());
        let mut keys: Vec<Option<String>> = Vec::with_capacity(jobs.len());
        for (i, raw) in jobs.iter().enumerate() {
            let (spec, identity) = parse_job(raw)?;
            let src = *first_of.entry(identity.clone()).or_insert(i);
            let key = match (&self.cache, src == i) {
                (Some(_), true) => Some(Cache::key([
                    self.key_prefix.as_bytes(),
                    identity.as_bytes(),
                ])),
                _ => None,
            };
            source.push(src);
            keys.push(key);
            specs.push(Arc::new(spec));
        }
        let mut results: Vec<Option<Outcome>> = vec![None; jobs.len()];
        let (reply_tx, reply_rx) = unbounded();
        let mut pending = 0;
        for (i, spec) in specs.iter().enumerate() {
            if source[i] != i {
                continue;
            }
            if let (Some(cache), Some(key)) = (&self.cache, &keys[i]) {
                let hit = cache
                    .get(key)
                    .and_then(|v| serde_json::from_str::<Outcome>(&v).ok());
                if let Some(mut o) = hit {
                    o.cached = true;
                    results[i] = Some(o);
                    continue;
                }
            }
            tx.send(Task {
                index: i,
                job: spec.clone(),
                reply: reply_tx.clone(),
            })
            .map_err(|_| Error::Closed)?;
            pending += 1;
        }
        drop(reply_tx);
        for _ in 0..pending {
            let (i, o) = reply_rx.recv().map_err(|_| Error::Closed)?;
            if let (Some(cache), Some(key)) = (&self.cache, &keys[i]) {
                if o.cacheable(self.timeout_s) {
                    if let Ok(text) = serde_json::to_string(&o) {
                        cache.put(key, text);
                    }
                }
            }
            results[i] = Some(o);
        }
        let mut out = Vec::with_capacity(jobs.len());
        for (i, spec) in specs.iter().enumerate() {
            let mut o = results[source[i]].clone().ok_or(Error::Closed)?;
            o.id = spec.id.clone();
            out.push(o);
        }
        Ok(out)
    }

    /// Stop the lanes (their processes are killed) and remove the scratch root.
    pub fn close(&mut self) {
        self.tx = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.close();
    }
}

/// 0755 on a directory the lane's unprivileged uids must traverse, whatever umask the caller
/// runs under (the daemon's is 077, which would leave it 0700 and the children locked out).
fn world_traversable(dir: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io(format!("chmod {}", dir.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_job_names_what_is_wrong() {
        let e = parse_job("{").unwrap_err().to_string();
        assert!(e.contains("not JSON"), "{e}");
        let e = parse_job(r#"{"id": "a", "code": "x"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tests"), "{e}");
        let e = parse_job(r#"{"id": "a", "code": "", "tests": {"kind": "nope"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("kind"), "{e}");
        let (a, ka) =
            parse_job(r#"{"id": "a", "code": "x", "tests": {"kind": "io", "cases": []}}"#).unwrap();
        let (_, kb) =
            parse_job(r#"{"tests": {"cases": [], "kind": "io"}, "code": "x", "id": "b"}"#).unwrap();
        assert_eq!(a.id, "a");
        assert_eq!(ka, kb, "identity ignores id and key order");
    }
}
