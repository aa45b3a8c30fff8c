//! Per-lane cgroup v1 `memory` and `pids` limits, nested under this process's own cgroups.
//!
//! rlimits bound each process; a fork bomb of processes that each stay under `RLIMIT_AS` can
//! still add up to many GiB. The lane's zygote is placed in a cgroup whose memory and process
//! limits bound the whole lane (zygote, pre-forked child and every process of the running job),
//! and children inherit it at fork for free. Where the hierarchy is not writable (no root, or
//! cgroup v2 only) the lane runs without and says so (`Protections::cgroup`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const CONTROLLERS: [&str; 2] = ["memory", "pids"];

#[derive(Debug)]
pub struct LaneCgroup {
    dirs: Vec<PathBuf>,
}

/// This process's path in the v1 hierarchy of `controller` (from /proc/self/cgroup).
fn own_path(controller: &str) -> Option<String> {
    let text = fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        ctrls
            .split(',')
            .any(|c| c == controller)
            .then(|| path.to_string())
    })
}

fn write(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    fs::write(dir.join(file), value)
}

impl LaneCgroup {
    /// Create `<own cgroup>/<name>` under both controllers with the given limits; None if the
    /// hierarchy is missing or not writable.
    pub fn create(name: &str, memory_bytes: u64, max_pids: u64) -> Option<LaneCgroup> {
        let mut dirs = Vec::new();
        for c in CONTROLLERS {
            let root = Path::new("/sys/fs/cgroup").join(c);
            let own = own_path(c)?;
            let dir = root.join(own.trim_start_matches('/')).join(name);
            if fs::create_dir(&dir).is_err() && !dir.is_dir() {
                LaneCgroup { dirs }.remove();
                return None;
            }
            dirs.push(dir);
        }
        let cg = LaneCgroup { dirs };
        let ok = write(
            &cg.dirs[0],
            "memory.limit_in_bytes",
            &memory_bytes.to_string(),
        )
        .is_ok()
            && write(&cg.dirs[1], "pids.max", &max_pids.to_string()).is_ok();
        if ok {
            Some(cg)
        } else {
            cg.remove();
            None
        }
    }

    /// Move a process (the zygote) into the lane's cgroups; its children follow at fork.
    pub fn add(&self, pid: u32) -> io::Result<()> {
        for d in &self.dirs {
            write(d, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// How many times the kernel's OOM killer acted inside the lane's memory cgroup.
    pub fn oom_kills(&self) -> u64 {
        fs::read_to_string(self.dirs[0].join("memory.oom_control"))
            .ok()
            .and_then(|t| {
                t.lines().find_map(|l| {
                    l.strip_prefix("oom_kill ")
                        .and_then(|n| n.trim().parse().ok())
                })
            })
            .unwrap_or(0)
    }

    /// Peak memory of the lane, bytes.
    pub fn max_usage(&self) -> u64 {
        fs::read_to_string(self.dirs[0].join("memory.max_usage_in_bytes"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    }

    fn remove(&self) {
        for d in &self.dirs {
            // The processes were killed and reaped by now; an emptying cgroup may lag a moment.
            for _ in 0..50 {
                if fs::remove_dir(d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

impl Drop for LaneCgroup {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_path_is_read_from_proc() {
        // Every Linux process is in some memory cgroup when the v1 hierarchy is mounted.
        if Path::new("/sys/fs/cgroup/memory").is_dir() {
            assert!(own_path("memory").is_some());
        }
        assert!(own_path("no-such-controller").is_none());
    }

    #[test]
    fn a_lane_cgroup_limits_and_cleans_up() {
        let name = format!("rr-cgroup-test-{}", std::process::id());
        let Some(cg) = LaneCgroup::create(&name, 64 << 20, 16) else {
            eprintln!("skipped: cgroup v1 memory/pids not writable here");
            return;
        };
        let limit = fs::read_to_string(cg.dirs[0].join("memory.limit_in_bytes")).unwrap();
        assert_eq!(limit.trim().parse::<u64>().unwrap(), 64 << 20);
        let dirs = cg.dirs.clone();
        drop(cg);
        assert!(dirs.iter().all(|d| !d.exists()));
    }

    #[test]
    fn processes_in_a_lane_cgroup_share_its_memory_limit() {
        let name = format!("rr-cgroup-oom-{}", std::process::id());
        let Some(cg) = LaneCgroup::create(&name, 64 << 20, 64) else {
            eprintln!("skipped: cgroup v1 memory/pids not writable here");
            return;
        };
        // Four children of 32 MiB each: each fine alone, together over the 64 MiB limit.
        let mut pids = Vec::new();
        for _ in 0..4 {
            let mut go = [0 as libc::c_int; 2];
            // SAFETY: go is a valid 2-element array.
            assert_eq!(unsafe { libc::pipe(go.as_mut_ptr()) }, 0);
            // SAFETY: the child only waits, allocates, touches memory and sleeps, then _exits.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // Allocate only once the parent has moved us into the cgroup.
                let mut byte = 0u8;
                // SAFETY: reading one byte into a valid buffer.
                unsafe { libc::read(go[0], (&mut byte as *mut u8).cast(), 1) };
                let mut v = vec![0u8; 32 << 20];
                for i in (0..v.len()).step_by(4096) {
                    v[i] = 1;
                }
                std::thread::sleep(std::time::Duration::from_millis(500));
                // SAFETY: leave the child without running the test harness's destructors.
                unsafe { libc::_exit(i32::from(v[4096])) };
            }
            cg.add(pid as u32).unwrap();
            // SAFETY: writing one byte to our pipe, then closing both ends we own.
            unsafe {
                libc::write(go[1], b"g".as_ptr().cast(), 1);
                libc::close(go[0]);
                libc::close(go[1]);
            }
            pids.push(pid);
        }
        let mut killed = 0;
        for pid in pids {
            let mut status = 0;
            // SAFETY: waiting for our own children.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            if libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL {
                killed += 1;
            }
        }
        assert!(killed >= 1, "no child was killed");
        assert!(cg.oom_kills() >= 1);
        assert!(cg.max_usage() <= 64 << 20);
    }
}
