//! What isolation this kernel and this user can give, and the level that adds up to.
//!
//! Kernel facts (Landlock ABI, seccomp, root) are read directly; namespace support is found by
//! trying. The zygote runs its real set-up and a trial child at start and reports which steps
//! took effect, so the level an outcome names is the one measured, not the one hoped for.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Protections in force for a lane's children (one field per row of `rlaif sandbox doctor`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protections {
    /// Each child is pid 1 of a fresh PID namespace: its death kills every descendant.
    pub pid_namespace: bool,
    /// The lane's processes share an empty network namespace (no interface up).
    pub net_namespace: bool,
    /// Private mount, IPC and UTS namespaces for the lane (scratch tmpfs invisible outside).
    pub mount_ipc_uts_namespaces: bool,
    /// Running unprivileged: the lane lives in its own user namespace.
    pub user_namespace: bool,
    /// Running as root: children drop to a per-lane unprivileged uid/gid, no capabilities
    /// beyond read-only search (kept only while Landlock confines reads).
    pub uid_drop: bool,
    pub no_new_privs: bool,
    /// Landlock ABI the kernel offers (0 = none).
    pub landlock_abi: u32,
    /// Landlock filesystem rules: read the stdlib and system libraries, write scratch only.
    pub landlock_fs: bool,
    /// Landlock TCP bind/connect denial (ABI >= 4).
    pub landlock_net: bool,
    /// Landlock signal and abstract-unix-socket scoping (ABI >= 6).
    pub landlock_scope: bool,
    /// seccomp filter refusing ptrace, mount, bpf, network sockets, ...
    pub seccomp: bool,
    /// rlimits: address space, CPU, processes, file size, open files, no core dumps.
    pub rlimits: bool,
    /// Scratch directory on a size-capped tmpfs removed after each job.
    pub tmpfs_scratch: bool,
    /// cgroup v1 memory and pids limits on the lane (both children and zygote).
    pub cgroup: bool,
    /// The lane's mount namespace hides `/proc`, site-packages and closed host directories
    /// (the stdlib bind-mounted back), so children keep no capability at all.
    #[serde(default)]
    pub host_view: bool,
}

/// Isolation levels, ordered: an executor refuses to start below its floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// No protection beyond a separate process.
    None,
    /// rlimits only.
    Minimal,
    /// rlimits plus some but not all kernel protections.
    Partial,
    /// PID and network namespaces, privilege drop, no_new_privs, Landlock filesystem rules,
    /// seccomp and rlimits all in force.
    Full,
}

impl Isolation {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Isolation::None),
            "minimal" => Some(Isolation::Minimal),
            "partial" => Some(Isolation::Partial),
            "full" => Some(Isolation::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::None => "none",
            Isolation::Minimal => "minimal",
            Isolation::Partial => "partial",
            Isolation::Full => "full",
        }
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Protections {
    /// The protections "full" requires, by name, with whether each is in force.
    fn required_for_full(&self) -> [(&'static str, bool); 7] {
        [
            ("pid_namespace", self.pid_namespace),
            ("net_namespace", self.net_namespace),
            (
                "uid_drop_or_user_namespace",
                self.uid_drop || self.user_namespace,
            ),
            ("no_new_privs", self.no_new_privs),
            ("landlock_fs", self.landlock_fs),
            ("seccomp", self.seccomp),
            ("rlimits", self.rlimits),
        ]
    }

    pub fn level(&self) -> Isolation {
        if self.required_for_full().iter().all(|(_, ok)| *ok) {
            Isolation::Full
        } else if self.rlimits && (self.seccomp || self.landlock_fs || self.pid_namespace) {
            Isolation::Partial
        } else if self.rlimits {
            Isolation::Minimal
        } else {
            Isolation::None
        }
    }

    /// Names of the protections that "full" needs and this machine lacks.
    pub fn missing(&self) -> Vec<&'static str> {
        self.required_for_full()
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// Landlock ABI version offered by the running kernel (0 when absent or disabled).
pub fn landlock_abi() -> u32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attr and size 0 this call only queries the ABI version.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v < 0 {
        0
    } else {
        v as u32
    }
}

/// Whether seccomp filters can be installed (the kernel was built with them).
pub fn seccomp_available() -> bool {
    // SAFETY: PR_GET_SECCOMP takes no pointer arguments.
    let r = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    r >= 0 && std::path::Path::new("/proc/sys/kernel/seccomp/actions_avail").exists()
}

pub fn is_root() -> bool {
    // SAFETY: geteuid never fails.
    unsafe { libc::geteuid() == 0 }
}

/// Fork a throwaway child that tries `unshare(flags)`; true if it succeeded. Only for probing
/// from a process that may fork (tests, the zygote) - never the trainer.
pub fn try_unshare_in_child(flags: libc::c_int) -> bool {
    // SAFETY: the child only calls async-signal-safe functions (unshare, _exit).
    unsafe {
        let pid = libc::fork();
        if pid < 0 {
            return false;
        }
        if pid == 0 {
            let ok = libc::unshare(flags) == 0;
            libc::_exit(if ok { 0 } else { 1 });
        }
        let mut status = 0;
        if libc::waitpid(pid, &mut status, 0) != pid {
            return false;
        }
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Protections {
        Protections {
            pid_namespace: true,
            net_namespace: true,
            mount_ipc_uts_namespaces: true,
            user_namespace: false,
            uid_drop: true,
            no_new_privs: true,
            landlock_abi: 6,
            landlock_fs: true,
            landlock_net: true,
            landlock_scope: true,
            seccomp: true,
            rlimits: true,
            tmpfs_scratch: true,
            cgroup: false,
            host_view: true,
        }
    }

    #[test]
    fn levels_follow_what_is_in_force() {
        assert_eq!(all().level(), Isolation::Full);
        assert!(all().missing().is_empty());
        let p = Protections {
            landlock_fs: false,
            ..all()
        };
        assert_eq!(p.level(), Isolation::Partial);
        assert_eq!(p.missing(), vec!["landlock_fs"]);
        let p = Protections {
            rlimits: true,
            ..Protections::default()
        };
        assert_eq!(p.level(), Isolation::Minimal);
        assert_eq!(Protections::default().level(), Isolation::None);
        assert!(Isolation::Full > Isolation::Partial && Isolation::Partial > Isolation::Minimal);
        assert_eq!(Isolation::parse("partial"), Some(Isolation::Partial));
        assert_eq!(Isolation::parse("bogus"), None);
    }

    #[test]
    fn probes_answer_without_crashing() {
        // Facts of the machine: only check they are self-consistent.
        let abi = landlock_abi();
        assert!(abi < 100);
        let _ = seccomp_available();
        if is_root() {
            assert!(
                try_unshare_in_child(libc::CLONE_NEWNET)
                    || !std::path::Path::new("/proc/self/ns/net").exists()
            );
        }
    }
}
