//! Landlock rules of a sandbox child: read the Python standard library and system libraries,
//! read and write the job's scratch directory, nothing else. TCP bind/connect, signals and
//! abstract unix sockets are scoped to the child's own domain where the ABI allows.

use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

use super::error::{Error, Result};

/// What one child may touch.
#[derive(Clone, Debug, Default)]
pub struct FsRules {
    /// Read-only trees (directories or single files).
    pub read: Vec<PathBuf>,
    /// Read-write single files such as `/dev/null`.
    pub write_files: Vec<PathBuf>,
    /// The job's scratch directory (read, write, create, remove; no execute); `None` (the
    /// harness): no writes beyond `write_files`.
    pub scratch: Option<PathBuf>,
}

fn abi_of(version: u32) -> ABI {
    match version {
        0 => ABI::Unsupported,
        1 => ABI::V1,
        2 => ABI::V2,
        3 => ABI::V3,
        4 => ABI::V4,
        5 => ABI::V5,
        _ => ABI::V6,
    }
}

fn ll_err(e: impl std::fmt::Display) -> Error {
    Error::Harden {
        step: "landlock",
        source: std::io::Error::other(e.to_string()),
    }
}

/// Build the ruleset for `kernel_abi` (as probed) and restrict the calling thread. Every feature
/// of that ABI (capped at 6, the newest this code was vetted against) is a hard requirement, so
/// the result is exactly what the probe promised or an error.
pub fn restrict(rules: &FsRules, kernel_abi: u32) -> Result<()> {
    let abi = abi_of(kernel_abi);
    if abi == ABI::Unsupported {
        return Err(ll_err("Landlock is not available"));
    }
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let all_fs = AccessFs::from_all(abi);
    let scratch_access = all_fs & !AccessFs::Execute;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all_fs)
        .map_err(ll_err)?;
    if kernel_abi >= 4 {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(ll_err)?;
    }
    if kernel_abi >= 6 {
        ruleset = ruleset.scope(Scope::from_all(abi)).map_err(ll_err)?;
    }
    let mut created = ruleset.create().map_err(ll_err)?;
    for p in &rules.read {
        let fd = PathFd::new(p).map_err(ll_err)?;
        let access = if p.is_dir() {
            read
        } else {
            AccessFs::ReadFile.into()
        };
        created = created
            .add_rule(PathBeneath::new(fd, access))
            .map_err(ll_err)?;
    }
    for p in &rules.write_files {
        let fd = PathFd::new(p).map_err(ll_err)?;
        let access = AccessFs::ReadFile | AccessFs::WriteFile;
        created = created
            .add_rule(PathBeneath::new(fd, access))
            .map_err(ll_err)?;
    }
    if let Some(scratch) = &rules.scratch {
        let fd = PathFd::new(scratch).map_err(ll_err)?;
        created = created
            .add_rule(PathBeneath::new(fd, scratch_access))
            .map_err(ll_err)?;
    }
    let status = created.restrict_self().map_err(ll_err)?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        return Err(ll_err(format!("ruleset only {:?}", status.ruleset)));
    }
    Ok(())
}

/// Keep only the paths that exist (a missing `/lib64` is normal on some distributions).
pub fn existing(paths: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    paths
        .into_iter()
        .filter(|p| Path::new(p).exists())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn restricted_child_reads_allowed_writes_scratch_and_nothing_else() {
        let abi = crate::sandbox::probe::landlock_abi();
        if abi == 0 {
            eprintln!("skipped: no Landlock on this kernel");
            return;
        }
        let base = std::env::temp_dir().join(format!("rr-landlock-{}", std::process::id()));
        let allowed = base.join("allowed");
        let denied = base.join("denied");
        let scratch = base.join("scratch");
        for d in [&allowed, &denied, &scratch] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::File::create(allowed.join("a"))
            .unwrap()
            .write_all(b"a")
            .unwrap();
        std::fs::File::create(denied.join("secret"))
            .unwrap()
            .write_all(b"s")
            .unwrap();
        let rules = FsRules {
            read: vec![allowed.clone()],
            write_files: vec![],
            scratch: Some(scratch.clone()),
        };
        // SAFETY: the forked child uses only std file calls and _exit; tests do not hold locks
        // the child needs.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = (|| {
                if restrict(&rules, abi).is_err() {
                    return 10;
                }
                if std::fs::read(allowed.join("a")).is_err() {
                    return 11;
                }
                if std::fs::read(denied.join("secret")).is_ok() {
                    return 12;
                }
                if std::fs::write(scratch.join("out"), b"x").is_err() {
                    return 13;
                }
                if std::fs::write(allowed.join("b"), b"x").is_ok() {
                    return 14;
                }
                0
            })();
            // SAFETY: leaving the forked child without running the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        std::fs::remove_dir_all(&base).unwrap();
        assert!(libc::WIFEXITED(status));
        assert_eq!(libc::WEXITSTATUS(status), 0);
    }
}
