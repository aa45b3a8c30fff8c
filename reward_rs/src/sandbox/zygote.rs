//! The zygote's per-job loop, in Rust: the zygote process then touches almost none of its own
//! Python objects between forks, so it pays few copy-on-write faults of its own, and each job
//! costs it little more than the fork itself.
//!
//! Protocol on `ctl` (`SOCK_SEQPACKET` to the lane), typed as [`ToZygote`] and [`FromZygote`]:
//! `go` in; `started` out with three fds (a pidfd of the child and the read ends of its own
//! stdout and stderr pipes); once the child is reaped, `exited` out. The child's end of its
//! socket goes to the harness on `link` with the sequence number as the message.
//!
//! Everything a job can change about its descriptors is its own: each child gets a fresh
//! socket and fresh stdout/stderr pipes, so flags or pipe sizes one job sets never reach the
//! next job of the lane.

use std::os::fd::RawFd;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::frame;
use super::harden;

/// Lane -> zygote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToZygote {
    /// Hand the ready child to the harness as job `seq`.
    Go(u64),
}

/// Zygote -> lane, per job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromZygote {
    /// The child runs job `seq` (sent with its pidfd, stdout and stderr read ends).
    Started { seq: u64, pid: i32 },
    /// The child was reaped.
    Exited(ExitReport),
}

/// The zygote's report on a finished child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExitReport {
    pub seq: u64,
    /// The wait status.
    pub exit: i32,
    pub utime: f64,
    pub stime: f64,
    pub maxrss_kb: u64,
}

/// A hardened child waiting for its job.
struct Ready {
    pid: libc::pid_t,
    /// Our end of the child's socket (goes to the harness).
    sock: RawFd,
    /// Read ends of the child's own stdout and stderr pipes (go to the lane).
    out: RawFd,
    err: RawFd,
    dir: PathBuf,
}

/// The hardening step timings a forked child returns with.
pub type Timings = Vec<(&'static str, f64)>;

fn os_err(context: &str) -> Error {
    Error::last_os(context.to_string())
}

fn prefork(
    n: &mut u64,
    root: &std::path::Path,
    fork: &mut dyn FnMut() -> libc::pid_t,
) -> Result<std::result::Result<Ready, Timings>> {
    *n += 1;
    let dir = root.join(format!("j{n}"));
    harden::make_job_dir(&dir)?;
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid 2-element array.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } < 0
    {
        return Err(os_err("socketpair"));
    }
    let (ours, theirs) = (fds[0], fds[1]);
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    if harden::protections().is_some_and(|p| p.pid_namespace) {
        harden::new_pid_namespace()?;
    }
    let pid = fork();
    if pid < 0 {
        return Err(os_err("fork"));
    }
    if pid == 0 {
        // Only raw fds here: nothing may close a descriptor number twice once close_range ran.
        // SAFETY: dup2 of descriptors this process owns onto its stdout and stderr.
        if unsafe { libc::dup2(out_w, 1) < 0 || libc::dup2(err_w, 2) < 0 } {
            // SAFETY: leaving the forked child without running anything else.
            unsafe { libc::_exit(71) };
        }
        match harden::harden_child(&dir, theirs) {
            Ok(timings) => return Ok(Err(timings)),
            Err(e) => {
                let msg = format!("sandbox hardening failed: {e}\n");
                // SAFETY: writing to stderr and leaving without running anything else.
                unsafe {
                    libc::write(2, msg.as_ptr().cast(), msg.len());
                    libc::_exit(71);
                }
            }
        }
    }
    // SAFETY: closing the child's ends, which we own.
    unsafe {
        libc::close(theirs);
        libc::close(out_w);
        libc::close(err_w);
    }
    Ok(Ok(Ready {
        pid,
        sock: ours,
        out: out_r,
        err: err_r,
        dir,
    }))
}

/// A fresh pipe, both ends close-on-exec: (read, write).
fn pipe() -> Result<(RawFd, RawFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid 2-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(os_err("pipe2"));
    }
    Ok((fds[0], fds[1]))
}

fn reap(ready: &Ready) -> Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: rusage is plain data filled by wait4.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child with valid out-pointers.
        let r = unsafe { libc::wait4(ready.pid, &mut status, 0, &mut ru) };
        if r == ready.pid {
            break;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return Err(os_err("wait4"));
        }
    }
    if std::fs::remove_dir(&ready.dir).is_err() {
        let _ = std::fs::remove_dir_all(&ready.dir);
    }
    Ok((status, ru))
}

fn secs(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 * 1e-6
}

/// Serve the lane until it hangs up (then exit the process). Returns only in a forked child,
/// hardened, with its job socket on fd 3. `fork` must fork the calling process the way its
/// language runtime requires (CPython: `PyOS_BeforeFork` and friends).
pub fn serve(ctl: RawFd, link: RawFd, fork: &mut dyn FnMut() -> libc::pid_t) -> Result<Timings> {
    let root =
        harden::scratch_root().ok_or_else(|| Error::Spawn("zygote_setup was not called".into()))?;
    let mut n = 0u64;
    let mut next = match prefork(&mut n, &root, fork)? {
        Ok(r) => r,
        Err(t) => return Ok(t),
    };
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: reading one message into a valid buffer.
        let got = unsafe { libc::recv(ctl, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if got <= 0 {
            if got < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
            {
                continue;
            }
            // The lane hung up: leave at once (the ready child dies with us, PDEATHSIG).
            // SAFETY: ending the zygote process.
            unsafe { libc::_exit(0) };
        }
        let ToZygote::Go(seq) = serde_json::from_slice(&buf[..got as usize])
            .map_err(|e| Error::Spawn(format!("bad message from the lane: {e}")))?;
        let current = next;
        // SAFETY: a pidfd for our own (not yet reaped) child.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, current.pid, 0) } as RawFd;
        if pidfd < 0 {
            return Err(os_err("pidfd_open"));
        }
        frame::send_with_fds(link, seq.to_string().as_bytes(), &[current.sock])
            .map_err(|e| Error::io("passing the child to the harness", e))?;
        let started = to_json(&FromZygote::Started {
            seq,
            pid: current.pid,
        })?;
        frame::send_with_fds(ctl, &started, &[pidfd, current.out, current.err])
            .map_err(|e| Error::io("passing the pidfd to the lane", e))?;
        // SAFETY: all were passed on; our copies are no longer needed.
        unsafe {
            libc::close(current.sock);
            libc::close(current.out);
            libc::close(current.err);
            libc::close(pidfd);
        }
        // Fork and harden the next child while this one runs.
        next = match prefork(&mut n, &root, fork)? {
            Ok(r) => r,
            Err(t) => return Ok(t),
        };
        let (status, ru) = reap(&current)?;
        let report = to_json(&FromZygote::Exited(ExitReport {
            seq,
            exit: status,
            utime: secs(ru.ru_utime),
            stime: secs(ru.ru_stime),
            maxrss_kb: ru.ru_maxrss.max(0) as u64,
        }))?;
        frame::send_packet(&FdRef(ctl), &report)
            .map_err(|e| Error::io("reporting to the lane", e))?;
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Spawn(format!("encoding a zygote message: {e}")))
}

/// A borrowed raw fd for `frame::send_packet`.
struct FdRef(RawFd);

impl std::os::fd::AsRawFd for FdRef {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_their_wire_shape() {
        assert_eq!(
            serde_json::to_string(&ToZygote::Go(7)).unwrap(),
            r#"{"go":7}"#
        );
        let started: FromZygote = serde_json::from_str(r#"{"started":{"seq":7,"pid":9}}"#).unwrap();
        assert_eq!(started, FromZygote::Started { seq: 7, pid: 9 });
        let exited = FromZygote::Exited(ExitReport {
            seq: 7,
            exit: 0,
            utime: 0.5,
            stime: 0.25,
            maxrss_kb: 1024,
        });
        let back: FromZygote = serde_json::from_slice(&to_json(&exited).unwrap()).unwrap();
        assert_eq!(back, exited);
        assert!(serde_json::from_str::<ToZygote>(r#"{"go":"7"}"#).is_err());
        assert!(serde_json::from_str::<FromZygote>(r#"{"seq":7,"pid":9}"#).is_err());
    }
}
