//! Resource limits of one job, validated once when an executor is created.

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock seconds for loading the program and running all of its tests.
    pub timeout_s: f64,
    /// Address-space cap of each sandbox process (`RLIMIT_AS`), MiB.
    pub memory_mb: u64,
    /// Bytes of stdout + stderr a job may write before it is killed (`output_limit`).
    pub output_bytes: u64,
    /// Processes and threads of one job (`RLIMIT_NPROC`, per-lane uid).
    pub nproc: u64,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub nofile: u64,
    /// Largest file a job may write (`RLIMIT_FSIZE`), MiB.
    pub fsize_mb: u64,
    /// Size of the scratch tmpfs, MiB.
    pub disk_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout_s: 5.0,
            memory_mb: 256,
            output_bytes: 1 << 20,
            nproc: 64,
            nofile: 64,
            fsize_mb: 16,
            disk_mb: 64,
        }
    }
}

impl Limits {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::InvalidLimits(m.to_string()));
        if !(self.timeout_s.is_finite() && self.timeout_s > 0.0 && self.timeout_s <= 3600.0) {
            return bad("timeout_s must be in (0, 3600]");
        }
        if !(32..=1 << 20).contains(&self.memory_mb) {
            return bad("memory_mb must be between 32 and 1048576 (a Python child needs ~32 MiB)");
        }
        if self.output_bytes < 1024 {
            return bad("output_bytes must be at least 1024");
        }
        if !(4..=4096).contains(&self.nproc) {
            return bad("nproc must be between 4 and 4096");
        }
        if !(16..=65536).contains(&self.nofile) {
            return bad("nofile must be between 16 and 65536");
        }
        if self.fsize_mb == 0 || self.disk_mb == 0 {
            return bad("fsize_mb and disk_mb must be positive");
        }
        Ok(())
    }

    /// `RLIMIT_CPU` seconds: the wall deadline rounded up plus one, so a busy loop dies by
    /// SIGXCPU even if the lane's wall clock were late.
    pub fn cpu_seconds(&self) -> u64 {
        self.timeout_s.ceil() as u64 + 1
    }

    /// The rlimits applied to every sandbox child, as (resource, soft = hard) pairs.
    pub fn rlimits(&self) -> Vec<(libc::__rlimit_resource_t, u64)> {
        const MIB: u64 = 1 << 20;
        vec![
            (libc::RLIMIT_AS, self.memory_mb * MIB),
            (libc::RLIMIT_CPU, self.cpu_seconds()),
            (libc::RLIMIT_NPROC, self.nproc),
            (libc::RLIMIT_NOFILE, self.nofile),
            (libc::RLIMIT_FSIZE, self.fsize_mb * MIB),
            (libc::RLIMIT_CORE, 0),
            (libc::RLIMIT_MEMLOCK, 0),
            (libc::RLIMIT_MSGQUEUE, 0),
        ]
    }

    /// A stable text form, part of the reward-cache key: the same program under other limits
    /// may have another outcome.
    pub fn key(&self) -> String {
        format!(
            "t={};m={};o={};p={};f={};s={};d={}",
            self.timeout_s,
            self.memory_mb,
            self.output_bytes,
            self.nproc,
            self.nofile,
            self.fsize_mb,
            self.disk_mb
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_valid() {
        Limits::default().validate().unwrap();
    }

    #[test]
    fn bad_limits_name_the_field() {
        let l = Limits {
            timeout_s: 0.0,
            ..Limits::default()
        };
        assert!(l.validate().unwrap_err().to_string().contains("timeout_s"));
        let l = Limits {
            memory_mb: 4,
            ..Limits::default()
        };
        assert!(l.validate().unwrap_err().to_string().contains("memory_mb"));
        let l = Limits {
            timeout_s: f64::NAN,
            ..Limits::default()
        };
        assert!(l.validate().is_err());
    }

    #[test]
    fn cpu_limit_exceeds_the_wall_deadline() {
        let l = Limits {
            timeout_s: 2.5,
            ..Limits::default()
        };
        assert_eq!(l.cpu_seconds(), 4);
    }
}
