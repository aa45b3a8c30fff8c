//! The processes of a lane and the plumbing between them: spawning the zygote and the harness
//! (exec'd, empty environment, own session, killed if the lane's thread dies), and the small
//! fd helpers the lane's poll loop uses.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::error::{Error, Result};
use super::frame::FrameReader;
use super::output::TailBuffer;

/// Longest a write to the harness may block (it always reads its next job promptly).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

const ZYGOTE_BOOT: &str = "import sys; sys.path.insert(0, sys.argv[1]); \
from rlaif_tui.sandbox.zygote import main; main()";
const HARNESS_BOOT: &str = "import sys; sys.path.insert(0, sys.argv[1]); \
from rlaif_tui.sandbox.harness import main; main()";

pub struct Procs {
    pub zygote: Child,
    pub harness: Child,
    pub z: OwnedFd,
    pub h: UnixStream,
    pub hreader: FrameReader,
    pub out: File,
    pub err: File,
}

impl Drop for Procs {
    fn drop(&mut self) {
        let _ = self.zygote.kill();
        let _ = self.harness.kill();
        let _ = self.zygote.wait();
        let _ = self.harness.wait();
    }
}

impl Procs {
    /// Start a zygote (stdin: its control socket; stdout/stderr: the pipes every job's output
    /// goes to; fd 3: its link to the harness) and a harness (stdin: its socket to the lane;
    /// fd 3: the link).
    pub fn spawn(python: &Path, package_root: &Path) -> Result<Procs> {
        let (z_lane, z_far) = socketpair(libc::SOCK_SEQPACKET)?;
        let (link_z, link_h) = socketpair(libc::SOCK_SEQPACKET)?;
        let (h_lane, h_far) = socketpair(libc::SOCK_STREAM)?;
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        let spawn = |boot: &str, stdin: OwnedFd, stdout: Stdio, stderr: Stdio, link: RawFd| {
            let mut cmd = Command::new(python);
            cmd.args(["-I", "-u", "-B", "-c", boot])
                .arg(package_root)
                .env_clear()
                .stdin(Stdio::from(stdin))
                .stdout(stdout)
                .stderr(stderr);
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::dup2(link, 3) < 0 || libc::setsid() < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // Whatever else the trainer left inheritable stays behind.
                    libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32);
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                    // The sandbox's own files (scratch, the stdlib view) have the modes it sets
                    // up for the lane's uids, whatever umask the trainer runs under (the
                    // daemon's is 077).
                    libc::umask(0o022);
                    Ok(())
                });
            }
            cmd.spawn()
                .map_err(|e| Error::Spawn(format!("{}: {e}", python.display())))
        };
        let zygote = spawn(
            ZYGOTE_BOOT,
            z_far,
            Stdio::from(out_w),
            Stdio::from(err_w),
            link_z.as_raw_fd(),
        )?;
        let harness = match spawn(
            HARNESS_BOOT,
            h_far,
            Stdio::null(),
            Stdio::null(),
            link_h.as_raw_fd(),
        ) {
            Ok(h) => h,
            Err(e) => {
                let mut z = zygote;
                let _ = z.kill();
                let _ = z.wait();
                return Err(e);
            }
        };
        drop((link_z, link_h));
        let h_lane = UnixStream::from(h_lane);
        h_lane
            .set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(|e| Error::io("socket timeout", e))?;
        Ok(Procs {
            zygote,
            harness,
            z: z_lane,
            h: h_lane,
            hreader: FrameReader::default(),
            out: out_r,
            err: err_r,
        })
    }
}

fn socketpair(kind: libc::c_int) -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid 2-element array.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            kind | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc < 0 {
        return Err(Error::last_os("socketpair"));
    }
    // SAFETY: both fds were just created and are owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn pipe() -> Result<(File, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid 2-element array.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc < 0 {
        return Err(Error::last_os("pipe2"));
    }
    // SAFETY: both fds were just created and are owned here.
    unsafe {
        let flags = libc::fcntl(fds[0], libc::F_GETFL);
        libc::fcntl(fds[0], libc::F_SETFL, flags | libc::O_NONBLOCK);
        Ok((File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// Wait until one of `fds` is readable (or hung up) or `timeout` passes.
pub fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> Result<()> {
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: fds is a valid slice of pollfd.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if rc < 0 && std::io::Error::last_os_error().kind() != ErrorKind::Interrupted {
        return Err(Error::last_os("poll"));
    }
    Ok(())
}

pub fn pfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

pub fn ready(p: &libc::pollfd) -> bool {
    p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
}

pub fn kill_pidfd(fd: &OwnedFd) {
    // SAFETY: pidfd_send_signal on a pidfd we own; a dead process gives ESRCH, which is fine.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<u8>(),
            0,
        );
    }
}

/// Drain a non-blocking pipe into `buf`; returns false once the writer side is closed.
pub fn drain(f: &mut File, buf: &mut TailBuffer) -> bool {
    let mut chunk = [0u8; 65536];
    loop {
        match f.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => buf.push(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

/// Make a descriptor received from the zygote non-blocking (its file description is the job's
/// own, so this changes nothing any other job sees).
pub fn set_nonblocking(fd: &impl AsRawFd) -> Result<()> {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(Error::last_os("fcntl O_NONBLOCK"));
        }
    }
    Ok(())
}
