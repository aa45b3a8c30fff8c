//! The whole child hardening, applied for real in forked processes.

use super::*;
use std::os::fd::AsRawFd;

fn wait_code(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    }
}

/// The whole child hardening, applied for real: a throwaway process plays the zygote (its
/// namespaces, tmpfs and seccomp filter die with it) and forks a hardened child that checks
/// from inside what it can no longer do. As root it takes the root path (uid drop); without
/// root, the unprivileged path (user namespace) the zygote takes there, with the same checks
/// but the uid. It fails, naming what is missing, where neither path can run: it never
/// passes without having checked.
#[test]
fn hardened_child_is_confined() {
    let root = probe::is_root();
    assert!(
        probe::landlock_abi() > 0,
        "needs Landlock (kernel >= 5.13 with landlock in the active LSMs)"
    );
    assert!(
        root || probe::try_unshare_in_child(libc::CLONE_NEWUSER),
        "needs root, or unprivileged user namespaces (kernel.unprivileged_userns_clone=1)"
    );
    let base = std::env::temp_dir().join(format!("rr-harden-{}", std::process::id()));
    let lane = base.join("lane");
    std::fs::create_dir_all(&lane).unwrap();
    let outside = base.join("outside.txt");
    std::fs::write(&outside, b"original").unwrap();
    let uid = 61_999;
    let cfg = ZygoteConfig {
        lane: 0,
        scratch_root: lane.clone(),
        limits: Limits::default(),
        uid,
        read_paths: vec!["/usr/lib".into(), "/lib".into()],
        write_files: vec!["/dev/null".into()],
    };
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).unwrap();
    let (outside_c, passwd_c) = (c(&outside), c(Path::new("/etc/passwd")));
    // SAFETY: the forked processes only make syscalls and allocate (glibc resets its malloc
    // locks in a fork child); neither prints nor returns into the test harness.
    let zygote = unsafe { libc::fork() };
    if zygote == 0 {
        let code = (|| -> i32 {
            let Ok(p) = zygote_setup(cfg) else { return 10 };
            let privileges = if root { p.uid_drop } else { p.user_namespace };
            if !(p.pid_namespace && privileges && p.seccomp && p.landlock_fs && p.host_view) {
                return 11;
            }
            if !root {
                // As the real unprivileged zygote does: go on as pid 1 of the namespace
                // `zygote_setup` created, and adopt it.
                // SAFETY: as above.
                let pid1 = unsafe { libc::fork() };
                if pid1 != 0 {
                    return wait_code(pid1);
                }
                if adopt_pid_namespace().is_err() {
                    // SAFETY: leave the forked process without unwinding into the test.
                    unsafe { libc::_exit(13) };
                }
            }
            let job = lane.join("job-1");
            if make_job_dir(&job).is_err() || new_pid_namespace().is_err() {
                return 12;
            }
            let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            // SAFETY: as above.
            let child = unsafe { libc::fork() };
            if child == 0 {
                drop(a);
                let code = (|| -> i32 {
                    if harden_child(&job, b.as_raw_fd()).is_err() {
                        return 20;
                    }
                    // SAFETY: plain syscalls on our own process and on paths we own.
                    unsafe {
                        if libc::getpid() != 1 {
                            return 21;
                        }
                        if root && (libc::getuid() != uid || libc::geteuid() != uid) {
                            return 22;
                        }
                        // No capability at all, not even the directory-traversing ones.
                        if privileges::held_caps().map_or(true, |caps| caps != 0) {
                            return 30;
                        }
                        // The lane's /proc is empty: no host process is there.
                        let proc1 = CString::new("/proc/1").unwrap();
                        let mut st: libc::stat = std::mem::zeroed();
                        if libc::stat(proc1.as_ptr(), &mut st) == 0 {
                            return 31;
                        }
                        if libc::open(outside_c.as_ptr(), libc::O_WRONLY) >= 0 {
                            return 23;
                        }
                        if libc::open(passwd_c.as_ptr(), libc::O_RDONLY) >= 0 {
                            return 24;
                        }
                        if libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) >= 0 {
                            return 25;
                        }
                        if libc::fcntl(3, libc::F_GETFD) < 0 || libc::fcntl(5, libc::F_GETFD) >= 0 {
                            return 26;
                        }
                        let mut lim = libc::rlimit {
                            rlim_cur: 0,
                            rlim_max: 0,
                        };
                        libc::getrlimit(libc::RLIMIT_NPROC, &mut lim);
                        if lim.rlim_max != Limits::default().nproc {
                            return 27;
                        }
                        if libc::unshare(libc::CLONE_NEWUSER) == 0 {
                            return 28;
                        }
                    }
                    if std::fs::write("inside.txt", b"ok").is_err() {
                        return 29;
                    }
                    0
                })();
                // SAFETY: leave the forked child without unwinding into the test.
                unsafe { libc::_exit(code) };
            }
            drop(b);
            wait_code(child)
        })();
        // SAFETY: as above.
        unsafe { libc::_exit(code) };
    }
    let code = wait_code(zygote);
    assert_eq!(std::fs::read(&outside).unwrap(), b"original");
    std::fs::remove_dir_all(&base).unwrap();
    assert_eq!(
        code, 0,
        "hardening check {code} failed (see the numbered checks)"
    );
}
