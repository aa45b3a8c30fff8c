//! Confinement of the trusted harness.
//!
//! The harness runs the dataset's tests and holds the expected values, so it is trusted with the
//! verdict; but the values it decodes and the names it resolves come from the candidate. It is
//! therefore confined almost like a child, with what test code needs added: its own
//! unprivileged uid, an empty network namespace, no new sockets, Landlock reads of the standard
//! library and the package only, no writes at all (beyond `/dev/null`), and an address-space
//! limit of its own (set by the harness itself, see `rlaif_tui/sandbox/harness.py`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::privileges::{self, check, CAP_DAC_READ_SEARCH};
use super::probe;
use super::rules::{self, FsRules};
use super::seccomp;

/// What the harness asks for (it knows its own read paths; the lane gives the uid).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HarnessConfig {
    /// uid = gid the harness runs as when the lane is root.
    pub uid: u32,
    /// Trees test code may import from: the stdlib, lib-dynload, the package, system libraries
    /// (the harness fills them in).
    #[serde(default)]
    pub read_paths: Vec<PathBuf>,
    /// The harness's own memory budget for values it decodes (the harness sets the limit).
    pub memory_mb: u64,
}

/// What held, for `rlaif sandbox doctor` and the harness's hello.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HarnessProtections {
    pub uid_drop: bool,
    pub net_namespace: bool,
    pub landlock_fs: bool,
    pub seccomp: bool,
}

/// Confine the calling (single-threaded) harness process for the rest of its life.
pub fn confine_harness(cfg: &HarnessConfig) -> Result<HarnessProtections> {
    let root = probe::is_root();
    let mut p = HarnessProtections::default();
    let cap_last = privileges::cap_last();
    // SAFETY: plain syscalls on the calling process with valid arguments.
    unsafe {
        if root {
            p.net_namespace = libc::unshare(libc::CLONE_NEWNET) == 0;
        } else {
            let (uid, gid) = (libc::getuid(), libc::getgid());
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) == 0 {
                // The same ids inside as outside: the harness wants the namespace, not root.
                privileges::map_ids((uid, gid), (uid, gid))
                    .map_err(|e| Error::io("writing the harness's user namespace maps", e))?;
                p.net_namespace = true;
            }
        }
        privileges::set_rlimits(
            [(libc::RLIMIT_FSIZE, 0), (libc::RLIMIT_CORE, 0)],
            "harness setrlimit",
        )?;
        if root {
            // Test code may import stdlib modules lazily and the stdlib may sit under a 0700
            // home (pyenv in /root): keep only CAP_DAC_READ_SEARCH, with Landlock below
            // confining every read to the allowed trees.
            let keep = 1 << CAP_DAC_READ_SEARCH;
            privileges::drop_bounding_caps(keep, cap_last, "harness drop bounding caps")?;
            let id = cfg.uid;
            privileges::switch_uid(id)?;
            privileges::set_caps(keep)?;
            p.uid_drop = libc::getuid() == id && libc::geteuid() == id;
        }
        check(
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
            "no_new_privs",
        )?;
        check(libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable")?;
    }
    let abi = probe::landlock_abi();
    if abi >= 1 {
        let fs = FsRules {
            read: rules::existing(cfg.read_paths.iter().cloned()),
            write_files: rules::existing([PathBuf::from("/dev/null")]),
            scratch: None,
        };
        rules::restrict(&fs, abi)?;
        p.landlock_fs = true;
    }
    if probe::seccomp_available() {
        let mut progs = seccomp::build()?;
        progs.extend(seccomp::build_child()?);
        seccomp::apply(&progs)?;
        p.seccomp = true;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// The harness confinement, applied for real in a forked process: no network socket, no
    /// unix socket, no write anywhere, no read outside its trees; as root, its own uid. Runs
    /// as root and unprivileged alike (without a user namespace it still checks Landlock and
    /// seccomp), and fails naming what is missing where neither can run.
    #[test]
    fn confined_harness_cannot_reach_out() {
        assert!(
            probe::landlock_abi() > 0 && probe::seccomp_available(),
            "needs Landlock and seccomp"
        );
        let root = probe::is_root();
        let uid = 61_997;
        let cfg = HarnessConfig {
            uid,
            read_paths: vec!["/usr/lib".into(), "/lib".into()],
            memory_mb: 64,
        };
        let target = std::env::temp_dir().join(format!("rr-confine-{}", std::process::id()));
        let target_c = CString::new(target.to_str().unwrap()).unwrap();
        let passwd = CString::new("/etc/passwd").unwrap();
        // SAFETY: the forked child makes syscalls and allocates only, then _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = (|| -> i32 {
                let Ok(p) = confine_harness(&cfg) else {
                    return 10;
                };
                if !(p.landlock_fs && p.seccomp) || (root && !(p.uid_drop && p.net_namespace)) {
                    return 11;
                }
                // SAFETY: plain syscalls with valid arguments.
                unsafe {
                    if libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) >= 0 {
                        return 12;
                    }
                    if libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) >= 0 {
                        return 13;
                    }
                    let flags = libc::O_CREAT | libc::O_WRONLY;
                    if libc::open(target_c.as_ptr(), flags, 0o600) >= 0 {
                        return 14;
                    }
                    if libc::open(passwd.as_ptr(), libc::O_RDONLY) >= 0 {
                        return 15;
                    }
                    if root && (libc::getuid() != uid || libc::geteuid() != uid) {
                        return 16;
                    }
                }
                0
            })();
            // SAFETY: leave the forked child without unwinding into the test.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(!target.exists(), "the confined harness created a file");
        assert!(libc::WIFEXITED(status), "confined child died: {status}");
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "check failed (see the numbered checks)"
        );
    }
}
