//! The seccomp filter of every sandbox child: allow by default, refuse what a test program never
//! needs and what would reach other processes, the network or the kernel's riskier corners.
//!
//! Built with `seccompiler` (pure Rust, used by Firecracker) once per zygote, applied in each
//! child as its last hardening step.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::error::{Error, Result};

/// Refused unconditionally with EPERM.
const DENIED: &[(&str, libc::c_long)] = &[
    // Reaching into other processes.
    ("ptrace", libc::SYS_ptrace),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("kcmp", libc::SYS_kcmp),
    ("pidfd_getfd", libc::SYS_pidfd_getfd),
    ("pidfd_open", libc::SYS_pidfd_open),
    // Namespaces and mounts.
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("chroot", libc::SYS_chroot),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("move_mount", libc::SYS_move_mount),
    ("open_tree", libc::SYS_open_tree),
    ("mount_setattr", libc::SYS_mount_setattr),
    // Kernel attack surface a test never needs.
    ("bpf", libc::SYS_bpf),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("fanotify_init", libc::SYS_fanotify_init),
    ("personality", libc::SYS_personality),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("reboot", libc::SYS_reboot),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("acct", libc::SYS_acct),
    ("quotactl", libc::SYS_quotactl),
    ("syslog", libc::SYS_syslog),
    ("vhangup", libc::SYS_vhangup),
    ("settimeofday", libc::SYS_settimeofday),
    ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime),
    ("adjtimex", libc::SYS_adjtimex),
    ("sethostname", libc::SYS_sethostname),
    ("setdomainname", libc::SYS_setdomainname),
    ("move_pages", libc::SYS_move_pages),
    ("migrate_pages", libc::SYS_migrate_pages),
    // System V IPC outlives the process that made it; nothing in a test needs it.
    ("shmget", libc::SYS_shmget),
    ("shmat", libc::SYS_shmat),
    ("shmctl", libc::SYS_shmctl),
    ("msgget", libc::SYS_msgget),
    ("msgsnd", libc::SYS_msgsnd),
    ("msgrcv", libc::SYS_msgrcv),
    ("msgctl", libc::SYS_msgctl),
    ("semget", libc::SYS_semget),
    ("semop", libc::SYS_semop),
    ("semctl", libc::SYS_semctl),
    ("semtimedop", libc::SYS_semtimedop),
];

/// The namespace flags that `clone` must not carry.
const CLONE_NS_FLAGS: [libc::c_int; 7] = [
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

fn arch() -> Result<TargetArch> {
    TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| Error::Spawn(format!("seccomp: unsupported architecture: {e}")))
}

fn filter_err(e: impl std::fmt::Display) -> Error {
    Error::Spawn(format!("seccomp filter: {e}"))
}

/// Calls the zygote itself still makes per job (to fork into a fresh PID namespace and hand a
/// pidfd to its lane); only its children are refused them, by the small [`build_child`] filter.
const ZYGOTE_NEEDS: [libc::c_long; 3] = [libc::SYS_unshare, libc::SYS_setns, libc::SYS_pidfd_open];

/// The zygote's filter, inherited by every child: refusals with EPERM, and `clone3` answered
/// with ENOSYS (its flags live in memory seccomp cannot read, and glibc falls back to `clone`,
/// whose flags the first program checks). Installed once in the zygote, so the per-child cost
/// is only the small [`build_child`] program (compiling a large filter in every child took
/// ~250 us).
pub fn build() -> Result<Vec<BpfProgram>> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for (_, nr) in DENIED {
        if !ZYGOTE_NEEDS.contains(nr) {
            rules.insert(*nr, vec![]);
        }
    }
    // socket(domain, ...): only AF_UNIX (same-process socketpairs, multiprocessing).
    let not_unix = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Ne,
        libc::AF_UNIX as u64,
    )
    .map_err(filter_err)?;
    rules.insert(
        libc::SYS_socket,
        vec![SeccompRule::new(vec![not_unix]).map_err(filter_err)?],
    );
    // clone(flags, ...) carrying any namespace flag: one rule per flag (rules are OR-ed).
    let mut clone_rules = Vec::new();
    for flag in CLONE_NS_FLAGS {
        let c = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(flag as u64),
            flag as u64,
        )
        .map_err(filter_err)?;
        clone_rules.push(SeccompRule::new(vec![c]).map_err(filter_err)?);
    }
    rules.insert(libc::SYS_clone, clone_rules);
    let arch = arch()?;
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(filter_err)?;
    let mut clone3 = BTreeMap::new();
    clone3.insert(libc::SYS_clone3, vec![]);
    let clone3 = SeccompFilter::new(
        clone3,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(filter_err)?;
    Ok(vec![
        BpfProgram::try_from(deny).map_err(filter_err)?,
        BpfProgram::try_from(clone3).map_err(filter_err)?,
    ])
}

/// The child's own addition: the namespace and pidfd calls the zygote kept for itself, and
/// every way to reach a socket by name. `socket`, `connect` and `bind` are refused outright
/// (Landlock does not cover connecting to a pathname unix socket, and an unconnected datagram
/// socket could `sendto` one); `socketpair` stays for in-process pipes (multiprocessing), for
/// `SOCK_STREAM` only (a datagram pair could be re-`connect`ed or `sendto` a path).
pub fn build_child() -> Result<Vec<BpfProgram>> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for nr in ZYGOTE_NEEDS.into_iter().chain(NAMED_SOCKETS) {
        rules.insert(nr, vec![]);
    }
    // socketpair(domain, type, ...): refused unless the type's low 4 bits (above them sit
    // SOCK_CLOEXEC and SOCK_NONBLOCK) say SOCK_STREAM; one rule per other type (rules OR).
    let mut pair_rules = Vec::new();
    for kind in (0..16u64).filter(|k| *k != libc::SOCK_STREAM as u64) {
        let c = SeccompCondition::new(
            1,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(0xf),
            kind,
        )
        .map_err(filter_err)?;
        pair_rules.push(SeccompRule::new(vec![c]).map_err(filter_err)?);
    }
    rules.insert(libc::SYS_socketpair, pair_rules);
    let f = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch()?,
    )
    .map_err(filter_err)?;
    Ok(vec![BpfProgram::try_from(f).map_err(filter_err)?])
}

/// Calls that name a socket (or make one that could): refused in children and the harness.
const NAMED_SOCKETS: [libc::c_long; 3] = [libc::SYS_socket, libc::SYS_connect, libc::SYS_bind];

/// Install the programs on the calling thread (sets no_new_privs first).
pub fn apply(programs: &[BpfProgram]) -> Result<()> {
    for p in programs {
        seccompiler::apply_filter(p).map_err(|e| Error::Harden {
            step: "seccomp",
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    Ok(())
}

/// Names of the refused system calls, for `rlaif sandbox doctor`.
pub fn denied_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = DENIED.iter().map(|(n, _)| *n).collect();
    v.extend([
        "socket(non-AF_UNIX)",
        "clone(CLONE_NEW*)",
        "clone3",
        "child: socket, connect, bind",
        "child: socketpair(non-SOCK_STREAM)",
    ]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_compiles() {
        let progs = build().unwrap();
        assert_eq!(progs.len(), 2);
        assert!(progs.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn filtered_child_cannot_name_sockets_or_ptrace_but_can_use_stream_pairs() {
        let mut progs = build().unwrap();
        progs.extend(build_child().unwrap());
        // SAFETY: the child runs only raw syscalls before _exit.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                if apply(&progs).is_err() {
                    libc::_exit(10);
                }
                let inet = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
                if inet >= 0 || *libc::__errno_location() != libc::EPERM {
                    libc::_exit(11);
                }
                // A pathname unix socket is reached only through socket/connect/bind/sendto on
                // an unconnected socket: the first three are refused, and only connected
                // stream pairs can be made.
                if libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0) >= 0 {
                    libc::_exit(12);
                }
                let mut pair = [0; 2];
                let stream = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
                if libc::socketpair(libc::AF_UNIX, stream, 0, pair.as_mut_ptr()) < 0 {
                    libc::_exit(15);
                }
                let dgram = libc::SOCK_DGRAM | libc::SOCK_CLOEXEC;
                if libc::socketpair(libc::AF_UNIX, dgram, 0, pair.as_mut_ptr()) >= 0 {
                    libc::_exit(16);
                }
                let addr: libc::sockaddr_un = std::mem::zeroed();
                let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
                if libc::connect(pair[0], (&addr as *const libc::sockaddr_un).cast(), len) != -1
                    || *libc::__errno_location() != libc::EPERM
                {
                    libc::_exit(17);
                }
                if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != -1 {
                    libc::_exit(13);
                }
                if libc::unshare(libc::CLONE_NEWNET) != -1 {
                    libc::_exit(14);
                }
                libc::_exit(0);
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert!(libc::WIFEXITED(status), "child died: {status}");
            assert_eq!(libc::WEXITSTATUS(status), 0);
        }
    }
}
