//! The lane's view of the host file system: what the zygote hides in its private mount
//! namespace before it forks any child (Landlock confines reads and writes, but not `stat`,
//! `readlink` or a `connect` to a socket by path, and not what a kept capability traverses).
//!
//! - `/proc` is covered by an empty read-only tmpfs: no host process ids, no `/proc/<pid>`.
//! - A directory on the way to the standard library that others may not traverse (pyenv's
//!   `/root`) is covered by a read-only tmpfs holding only the stdlib, bind-mounted back
//!   read-only: children then need no capability at all to reach the stdlib, and see nothing
//!   else under that directory.
//! - `site-packages` / `dist-packages` inside the stdlib tree are covered by empty tmpfs.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::{Error, Result};

fn c(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::Spawn(format!("path contains NUL: {}", p.display())))
}

fn mount(
    src: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: &str,
) -> Result<()> {
    let target_c = c(target)?;
    let src_c = src.map(c).transpose()?;
    let fs_c = fstype.map(|f| CString::new(f).expect("no NUL"));
    let data_c = CString::new(data).expect("no NUL");
    // SAFETY: mount(2) with valid NUL-terminated strings (or null pointers where allowed).
    let rc = unsafe {
        libc::mount(
            src_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            target_c.as_ptr(),
            fs_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            if data.is_empty() {
                std::ptr::null()
            } else {
                data_c.as_ptr().cast()
            },
        )
    };
    if rc < 0 {
        return Err(Error::Harden {
            step: "mount (host view)",
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// An empty read-only tmpfs over `target`.
fn cover(target: &Path) -> Result<()> {
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY;
    mount(
        Some(Path::new("tmpfs")),
        target,
        Some("tmpfs"),
        flags,
        "size=4k,nr_inodes=8,mode=0555",
    )
}

/// The topmost ancestor of `p` that others may not traverse (no `o+x`), if any.
fn closed_ancestor(p: &Path) -> Option<PathBuf> {
    p.ancestors()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .skip(1) // `/` itself
        .find(|a| {
            std::fs::metadata(a)
                .map(|m| m.is_dir() && m.permissions().mode() & 0o001 == 0)
                .unwrap_or(false)
        })
        .map(Path::to_path_buf)
}

/// Cover `closed` with a tmpfs that holds only `keep` (each bind-mounted back, read-only).
fn keep_only(closed: &Path, keep: &[PathBuf]) -> Result<()> {
    // Hold each kept tree open before the cover hides it; bind from the open descriptor.
    let mut held = Vec::new();
    for k in keep {
        let kc = c(k)?;
        // SAFETY: open(2) with O_PATH on a valid path.
        let fd = unsafe { libc::open(kc.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(Error::io(
                format!("open {}", k.display()),
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: fd was just opened and is owned here.
        held.push((k, unsafe { OwnedFd::from_raw_fd(fd) }, k.is_dir()));
    }
    mount(
        Some(Path::new("tmpfs")),
        closed,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        "size=64k,nr_inodes=256,mode=0755",
    )?;
    for (k, fd, is_dir) in &held {
        if *is_dir {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(k)
                .map_err(|e| Error::io(format!("mkdir {}", k.display()), e))?;
        } else {
            if let Some(parent) = k.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(parent)
                    .map_err(|e| Error::io(format!("mkdir {}", parent.display()), e))?;
            }
            std::fs::write(k, b"").map_err(|e| Error::io(format!("create {}", k.display()), e))?;
        }
        let src = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        mount(Some(&src), k, None, libc::MS_BIND | libc::MS_REC, "")?;
        mount(
            None,
            k,
            None,
            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
            "",
        )?;
    }
    mount(
        None,
        closed,
        None,
        libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
        "size=64k,nr_inodes=256,mode=0755",
    )
}

/// Hide the host from the lane (see the module docs). `read_paths` are the trees children may
/// read; only those under a closed directory are bind-mounted back. Call in the lane's private
/// mount namespace, with the capabilities to mount, before `/proc` is needed no more.
pub fn hide_host(read_paths: &[PathBuf]) -> Result<()> {
    let mut closed: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    for p in read_paths {
        if let Some(a) = closed_ancestor(p) {
            match closed.iter_mut().find(|(c, _)| *c == a) {
                Some((_, keep)) => keep.push(p.clone()),
                None => closed.push((a, vec![p.clone()])),
            }
        }
    }
    for (a, keep) in &closed {
        // Nested kept trees (lib-dynload inside the stdlib) come with their parent.
        let top: Vec<PathBuf> = keep
            .iter()
            .filter(|k| !keep.iter().any(|o| o != *k && k.starts_with(o)))
            .cloned()
            .collect();
        keep_only(a, &top)?;
    }
    for p in read_paths {
        for name in ["site-packages", "dist-packages"] {
            let sp = p.join(name);
            if sp.is_dir() {
                cover(&sp)?;
            }
        }
    }
    cover(Path::new("/proc"))
}
