//! The privilege steps a hardened child ([`super::harden`]) and the confined harness
//! ([`super::confine`]) both take on themselves: their own user namespace's id maps, rlimits,
//! the capability bounding set, the switch to an unprivileged uid and the capability sets.
//! Each is a plain syscall on the calling process; a failing one is `Error::Harden` naming
//! the step.

use super::error::{Error, Result};

/// The one capability a process may keep: reading a stdlib that sits under a 0700 home.
pub(crate) const CAP_DAC_READ_SEARCH: u32 = 2;

/// `rc` as a result: negative is the current `errno`, named by `step`.
pub(crate) fn check(rc: libc::c_int, step: &'static str) -> Result<()> {
    if rc < 0 {
        Err(Error::Harden {
            step,
            source: std::io::Error::last_os_error(),
        })
    } else {
        Ok(())
    }
}

/// The highest capability number this kernel knows (40 where /proc does not say).
pub(crate) fn cap_last() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Right after `unshare(CLONE_NEWUSER)`: map the one uid and gid the process had outside
/// (read before the unshare) to `inside` in the new namespace.
pub(crate) fn map_ids(outside: (u32, u32), inside: (u32, u32)) -> std::io::Result<()> {
    let ((uid, gid), (in_uid, in_gid)) = (outside, inside);
    std::fs::write("/proc/self/setgroups", "deny")?;
    std::fs::write("/proc/self/uid_map", format!("{in_uid} {uid} 1"))?;
    std::fs::write("/proc/self/gid_map", format!("{in_gid} {gid} 1"))
}

/// Set each `(resource, value)` as both the soft and the hard limit.
pub(crate) fn set_rlimits(
    limits: impl IntoIterator<Item = (libc::__rlimit_resource_t, u64)>,
    step: &'static str,
) -> Result<()> {
    for (res, v) in limits {
        let lim = libc::rlimit {
            rlim_cur: v,
            rlim_max: v,
        };
        // SAFETY: setrlimit on the calling process with a valid rlimit.
        check(unsafe { libc::setrlimit(res, &lim) }, step)?;
    }
    Ok(())
}

/// Drop every capability up to `cap_last` from the bounding set but those in the mask `keep`.
pub(crate) fn drop_bounding_caps(keep: u64, cap_last: u32, step: &'static str) -> Result<()> {
    for cap in 0..=cap_last {
        if keep & (1u64 << cap) == 0 {
            // SAFETY: prctl on the calling process with valid arguments.
            let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            check(rc, step)?;
        }
    }
    Ok(())
}

/// Become uid = gid `id` with no supplementary groups, keeping the permitted capabilities
/// across the change (callers then narrow them with [`set_caps`]). Callers check the result.
pub(crate) fn switch_uid(id: u32) -> Result<()> {
    // SAFETY: plain syscalls on the calling process with valid arguments.
    unsafe {
        check(libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0), "keepcaps")?;
        check(libc::setgroups(0, std::ptr::null()), "setgroups")?;
        check(libc::setresgid(id, id, id), "setresgid")?;
        check(libc::setresuid(id, id, id), "setresuid")
    }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Effective and permitted capabilities = the mask `keep`; none inheritable.
pub(crate) fn set_caps(keep: u64) -> Result<()> {
    let hdr = CapHeader {
        version: 0x2008_0522,
        pid: 0,
    };
    let lo = CapData {
        effective: keep as u32,
        permitted: keep as u32,
        inheritable: 0,
    };
    let hi = CapData {
        effective: (keep >> 32) as u32,
        permitted: (keep >> 32) as u32,
        inheritable: 0,
    };
    let data = [lo, hi];
    // SAFETY: capset with a v3 header and two data words, as the ABI requires.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &hdr, data.as_ptr()) };
    check(rc as libc::c_int, "capset")
}

/// Every capability the calling process holds, effective or permitted, as one mask.
#[cfg(test)]
pub(crate) fn held_caps() -> Result<u64> {
    let hdr = CapHeader {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget with a v3 header and room for two data words, as the ABI requires.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &hdr, data.as_mut_ptr()) };
    check(rc as libc::c_int, "capget")?;
    let [lo, hi] = data.map(|d| u64::from(d.effective | d.permitted));
    Ok(lo | hi << 32)
}
