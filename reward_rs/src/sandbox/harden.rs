//! Hardening steps run by the zygote (once) and by each forked child (before any candidate code).
//!
//! The zygote is a Python process that never holds job data; it calls [`zygote_setup`] once,
//! then per job [`new_pid_namespace`] and `os.fork()`, and the child calls [`harden_child`].
//! Forking through `os.fork()` keeps CPython's own before/after-fork handling correct.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::limits::Limits;
use super::privileges::{self, check, CAP_DAC_READ_SEARCH};
use super::probe::{self, Protections};
use super::rules::{self, FsRules};
use super::seccomp;
use super::view;

/// Sent by the lane (plus paths the zygote adds) before the zygote forks anything.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZygoteConfig {
    pub lane: usize,
    /// Directory holding the per-job scratch directories (a tmpfs is mounted on it).
    pub scratch_root: PathBuf,
    pub limits: Limits,
    /// uid = gid the children run as when the zygote is root.
    pub uid: u32,
    /// Trees a child may read: the stdlib, lib-dynload, system libraries.
    pub read_paths: Vec<PathBuf>,
    /// Files a child may read and write (`/dev/null`).
    pub write_files: Vec<PathBuf>,
}

struct ZygoteState {
    cfg: ZygoteConfig,
    prot: Protections,
    /// The child's small addition to the filter the zygote installed on itself.
    seccomp_child: Vec<seccompiler::BpfProgram>,
    /// Keep CAP_DAC_READ_SEARCH after dropping root: the stdlib may sit under a 0700 home
    /// (pyenv in /root). Only where the host view could not be narrowed (see `view`), and only
    /// while Landlock confines every read to the allowed trees.
    keep_dac_search: bool,
    cap_last: u32,
}

static STATE: OnceLock<ZygoteState> = OnceLock::new();
/// The zygote's own PID namespace, to reset `pid_for_children` before each new namespace.
static OWN_PIDNS: OnceLock<OwnedFd> = OnceLock::new();
/// The host's `/proc`, opened before the lane's view covers it (the unprivileged zygote adopts
/// its PID namespace through it after set-up).
static PROC_DIR: OnceLock<OwnedFd> = OnceLock::new();

fn cstr(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::Spawn(format!("path contains NUL: {}", p.display())))
}

/// Namespaces, a private mount tree and the scratch tmpfs for the whole lane; compiles the
/// seccomp filter. Returns the protections its children will get.
pub fn zygote_setup(cfg: ZygoteConfig) -> Result<Protections> {
    cfg.limits.validate()?;
    let root = probe::is_root();
    let mut p = Protections {
        rlimits: true,
        no_new_privs: true,
        ..Protections::default()
    };
    // SAFETY: plain syscalls on the calling process.
    unsafe {
        if root {
            p.net_namespace = libc::unshare(libc::CLONE_NEWNET) == 0;
            p.mount_ipc_uts_namespaces =
                libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS) == 0;
        } else {
            // SAFETY: getuid/getgid never fail.
            let (uid, gid) = (libc::getuid(), libc::getgid());
            let all = libc::CLONE_NEWUSER
                | libc::CLONE_NEWNET
                | libc::CLONE_NEWNS
                | libc::CLONE_NEWIPC
                | libc::CLONE_NEWUTS;
            if libc::unshare(all) == 0 {
                // uid 0 inside: the zygote is root of the namespaces it sets up.
                privileges::map_ids((uid, gid), (0, 0))
                    .map_err(|e| Error::io("writing user namespace maps", e))?;
                p.user_namespace = true;
                p.net_namespace = true;
                p.mount_ipc_uts_namespaces = true;
            }
        }
        if p.mount_ipc_uts_namespaces {
            let slash = CString::new("/").unwrap();
            check(
                libc::mount(
                    std::ptr::null(),
                    slash.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ),
                "make mounts private",
            )?;
            let target = cstr(&cfg.scratch_root)?;
            let fstype = CString::new("tmpfs").unwrap();
            let opts = CString::new(format!(
                "size={}m,nr_inodes=16384,mode=0711",
                cfg.limits.disk_mb
            ))
            .unwrap();
            p.tmpfs_scratch = libc::mount(
                fstype.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                opts.as_ptr().cast(),
            ) == 0;
        }
    }
    if root || p.user_namespace {
        if root {
            let fd = open_own_pidns()?;
            let _ = OWN_PIDNS.set(fd);
        }
        // Creating a namespace sets only `pid_for_children`; check that we may, then reset.
        // Unprivileged: the zygote's next fork becomes pid 1 of this namespace and adopts it
        // (see `adopt_pid_namespace`), so per-job namespaces nest under one it owns.
        p.pid_namespace = if root {
            new_pid_namespace().is_ok()
        } else {
            // SAFETY: unshare on the calling process.
            unsafe { libc::unshare(libc::CLONE_NEWPID) == 0 }
        };
    }
    p.uid_drop = root;
    p.landlock_abi = probe::landlock_abi();
    p.landlock_fs = p.landlock_abi >= 1;
    p.landlock_net = p.landlock_abi >= 4;
    p.landlock_scope = p.landlock_abi >= 6;
    // The zygote is expendable (its lane restarts it): the OOM killer should pick it and its
    // children before anything else; children inherit the score, so none pays for the write.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    let cap_last = privileges::cap_last();
    let seccomp_ok = probe::seccomp_available();
    if p.mount_ipc_uts_namespaces {
        let proc_c = CString::new("/proc").unwrap();
        // SAFETY: opening a directory as a path-only descriptor.
        let fd = unsafe {
            libc::open(
                proc_c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        check(fd, "open /proc")?;
        // SAFETY: fd was just opened and is owned here.
        let _ = PROC_DIR.set(unsafe { OwnedFd::from_raw_fd(fd) });
        view::hide_host(&cfg.read_paths)?;
        p.host_view = true;
    }
    // Last: the filter refuses `mount`, which the set-up above needed.
    let child_programs = if seccomp_ok {
        match (seccomp::build(), seccomp::build_child()) {
            (Ok(zygote), Ok(child)) => {
                seccomp::apply(&zygote)?;
                Some(child)
            }
            _ => None,
        }
    } else {
        None
    };
    p.seccomp = child_programs.is_some();
    let state = ZygoteState {
        keep_dac_search: root && p.landlock_fs && !p.host_view,
        cfg,
        prot: p.clone(),
        seccomp_child: child_programs.unwrap_or_default(),
        cap_last,
    };
    STATE
        .set(state)
        .map_err(|_| Error::Spawn("zygote_setup called twice".into()))?;
    Ok(p)
}

fn open_own_pidns() -> Result<OwnedFd> {
    let path = CString::new("self/ns/pid").unwrap();
    let dir = PROC_DIR.get().map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    let path = if dir == libc::AT_FDCWD {
        CString::new("/proc/self/ns/pid").unwrap()
    } else {
        path
    };
    // SAFETY: opening a namespace file read-only (relative to the held /proc, if any).
    let fd = unsafe { libc::openat(dir, path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    check(fd, "open /proc/self/ns/pid")?;
    // SAFETY: fd was just opened and is owned here.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Unprivileged zygotes: after `unshare(CLONE_NEWPID)` and one fork, the new pid 1 adopts its
/// namespace so later per-job namespaces nest inside one its user namespace owns.
pub fn adopt_pid_namespace() -> Result<()> {
    let fd = open_own_pidns()?;
    OWN_PIDNS
        .set(fd)
        .map_err(|_| Error::Spawn("PID namespace adopted twice".into()))
}

/// Make the next fork of the calling process pid 1 of a fresh PID namespace.
pub fn new_pid_namespace() -> Result<()> {
    // SAFETY: setns/unshare on the calling process; fd is a live namespace descriptor.
    unsafe {
        if let Some(fd) = OWN_PIDNS.get() {
            check(
                libc::setns(fd.as_raw_fd(), libc::CLONE_NEWPID),
                "setns(own pid namespace)",
            )?;
        }
        check(libc::unshare(libc::CLONE_NEWPID), "unshare(CLONE_NEWPID)")
    }
}

/// The scratch root `zygote_setup` was given.
pub fn scratch_root() -> Option<PathBuf> {
    STATE.get().map(|s| s.cfg.scratch_root.clone())
}

/// The protections `zygote_setup` found, if it ran.
pub fn protections() -> Option<Protections> {
    STATE.get().map(|s| s.prot.clone())
}

/// Run in the freshly forked child, before it receives any code. Applies every protection the
/// zygote promised or fails (the child then exits without running anything). Returns how long
/// each step took, in CPU seconds, for profiling.
pub fn harden_child(job_dir: &Path, job_fd: RawFd) -> Result<Vec<(&'static str, f64)>> {
    let st = STATE
        .get()
        .ok_or_else(|| Error::Spawn("zygote_setup was not called".into()))?;
    let mut times = Vec::with_capacity(8);
    let mut t = thread_cpu_seconds();
    let mut lap = |name: &'static str, times: &mut Vec<(&'static str, f64)>| {
        let now = thread_cpu_seconds();
        times.push((name, now - t));
        t = now;
    };
    let job_dir_c = cstr(job_dir)?;
    // SAFETY: syscalls on the calling (single-threaded, just forked) process with valid
    // arguments; fds named here are owned by this process.
    unsafe {
        // Own session and process group: kill(0, ...) reaches nobody outside.
        check(libc::setsid(), "setsid")?;
        let devnull = CString::new("/dev/null").unwrap();
        let nfd = libc::open(devnull.as_ptr(), libc::O_RDWR);
        check(nfd, "open /dev/null")?;
        check(libc::dup2(nfd, 0), "dup2 stdin")?;
        if job_fd != 3 {
            check(libc::dup2(job_fd, 3), "dup2 job socket")?;
        }
        check(
            libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) as libc::c_int,
            "close_range",
        )?;
        lap("fds", &mut times);
        check(libc::chdir(job_dir_c.as_ptr()), "chdir scratch")?;
        privileges::set_rlimits(st.cfg.limits.rlimits(), "setrlimit")?;
        lap("rlimits", &mut times);
        let keep: u64 = if st.keep_dac_search {
            1 << CAP_DAC_READ_SEARCH
        } else {
            0
        };
        if st.prot.uid_drop || st.prot.user_namespace {
            privileges::drop_bounding_caps(keep, st.cap_last, "drop bounding caps")?;
        }
        if st.prot.uid_drop {
            let id = st.cfg.uid;
            privileges::switch_uid(id)?;
            if libc::getuid() != id || libc::geteuid() != id {
                return Err(Error::Harden {
                    step: "setresuid",
                    source: std::io::Error::other("uid unchanged"),
                });
            }
        }
        if st.prot.uid_drop || st.prot.user_namespace {
            privileges::set_caps(keep)?;
            check(
                libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
                    0,
                    0,
                    0,
                ),
                "clear ambient caps",
            )?;
        }
        // After the uid change (which clears it): the job dies with its zygote, whatever it
        // is doing, so no job outlives a lane that is restarted or shut down.
        check(
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ),
            "pdeathsig",
        )?;
        check(
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
            "no_new_privs",
        )?;
        check(libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable")?;
        lap("privileges", &mut times);
    }
    if st.prot.landlock_fs {
        let fs = FsRules {
            read: rules::existing(st.cfg.read_paths.iter().cloned()),
            write_files: rules::existing(st.cfg.write_files.iter().cloned()),
            scratch: Some(job_dir.to_path_buf()),
        };
        rules::restrict(&fs, st.prot.landlock_abi)?;
        lap("landlock", &mut times);
    }
    if st.prot.seccomp {
        seccomp::apply(&st.seccomp_child)?;
        lap("seccomp", &mut times);
    }
    Ok(times)
}

/// CPU time of the calling thread: what a hardening step costs, whatever the machine's load.
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Create a job's scratch directory, owned by the lane's uid, mode 0700.
pub fn make_job_dir(path: &Path) -> Result<()> {
    let st = STATE
        .get()
        .ok_or_else(|| Error::Spawn("zygote_setup was not called".into()))?;
    std::fs::create_dir(path).map_err(|e| Error::io(format!("create {}", path.display()), e))?;
    let c = cstr(path)?;
    // SAFETY: chown/chmod on a path we just created.
    unsafe {
        if st.prot.uid_drop {
            check(
                libc::chown(c.as_ptr(), st.cfg.uid, st.cfg.uid),
                "chown scratch",
            )?;
        }
        check(libc::chmod(c.as_ptr(), 0o700), "chmod scratch")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
