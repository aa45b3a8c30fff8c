//! Sandboxed, parallel execution of untrusted generated programs.
//!
//! # What this guards against
//!
//! A model writes the programs, and a reward model trained against a sandbox learns its holes, so
//! the program is treated as hostile:
//!
//! - **Forged verdicts.** The verdict is decided in a trusted *harness* process that runs the
//!   tests; the candidate runs in a separate *child* and is reached only through proxies whose
//!   arguments and results cross a strict builtin-types-only codec. Expected values never enter
//!   the child, so `sys.exit(0)`, `os._exit(0)`, printed success markers, patched builtins,
//!   `sys.settrace`, frame walking, `gc` hunting and objects with an always-true `__eq__` act where
//!   they cannot touch the verdict (a result of a non-builtin type reaches the tests only as an
//!   opaque handle that keeps its truth value and equals nothing but itself).
//! - **Runaway processes.** Each child is pid 1 of a fresh PID namespace, so killing it kills
//!   every descendant (forks, threads, `setsid` daemons, SIGTERM-ignoring processes). Wall-clock
//!   deadlines are enforced by the lane, CPU time by `RLIMIT_CPU`.
//! - **Resource exhaustion.** Address space, CPU seconds, process count (for root too: each lane
//!   drops to its own unprivileged uid, where `RLIMIT_NPROC` applies), file size, open files and
//!   output are capped; scratch space is a size-capped tmpfs; stdout/stderr are drained into
//!   bounded tail buffers, so a flood cannot grow the supervisor. Where cgroup v1 is writable,
//!   each lane's processes together live under one memory and one pids limit, so many
//!   processes each under `RLIMIT_AS` cannot add up to the machine's memory.
//! - **Network and sockets.** Each lane's processes live in an empty network namespace (no
//!   interface up); seccomp refuses `socket`, `connect` and `bind` in children (only connected
//!   `SOCK_STREAM` socketpairs remain), so no socket is reachable by address or path, unix
//!   sockets in host directories included; Landlock also handles TCP bind/connect.
//! - **Files.** Landlock allows reading the Python standard library and system libraries only, and
//!   writing only the per-job scratch directory; the project tree, home directories, run dirs
//!   and tokens are denied. The lane's mount namespace ([`view`]) covers `/proc` (no host pids),
//!   `site-packages`, and any closed (0700) directory above the stdlib, which is bind-mounted
//!   back, so children keep no capability at all. The environment is empty.
//! - **The trusted harness.** It imports only modules the test source names, never because of
//!   the candidate's answers, and runs confined ([`confine`]): its own uid, no network, no
//!   sockets, Landlock reads of the stdlib and the package, no writes, its own address-space
//!   limit and a per-job alarm, so a returned value that explodes in a test is the
//!   candidate's `memory`/`timeout`.
//! - **Verdict dodges.** Whatever a candidate does to its channel (garbage, foreign frames, an
//!   early exit) is one of its failing statuses, never `sandbox_error`.
//! - **State between jobs.** Each job gets a fresh socket and fresh stdout/stderr pipes.
//! - **Other processes.** A child cannot signal or trace its supervisor, the trainer or other jobs:
//!   it runs under another uid, in its own PID namespace and session, with Landlock signal and
//!   abstract-socket scoping, and seccomp refuses `ptrace`, `process_vm_*`, `kcmp`, `pidfd_getfd`.
//! - **Kernel attack surface.** seccomp refuses `mount`, `bpf`, `keyctl`, `kexec`, `io_uring`,
//!   `userfaultfd`, `perf_event_open`, module loading, namespace creation and other calls a test
//!   program never needs.
//!
//! # What this does not guard against
//!
//! - Kernel exploits through the syscalls that remain allowed; this is not a VM.
//! - Side channels (timing, cache) between jobs and with the host.
//! - CPU contention: a job can use its CPU budget and slow its neighbours down.
//! - Test code from a dataset that is itself malicious: tests run in the harness, confined (no
//!   network, no writes, reads of the stdlib and the package) but not sandboxed like a child:
//!   they are trusted input.
//! - Test code stuck inside a single C call on a value the candidate returned (a huge `sum`,
//!   hash-colliding set inserts): no signal interrupts it, so the lane's grace ends it with a
//!   restart of the lane's processes (the job is the candidate's `timeout`, never cached).
//! - A job reading what the previous job of its lane left in kernel state it shares with it
//!   (the lane's network, IPC and UTS namespaces are per lane, not per job; SysV IPC is
//!   refused and scratch directories are removed, but this is not a per-job VM).
//! - Third-party packages: the child can import the standard library only (site-packages are off
//!   its path, covered in its view, and the virtualenv lives in the project tree, which
//!   Landlock denies).
//! - `stat` of host paths outside the covered directories: Landlock does not govern it (names
//!   of files in world-traversable directories can be probed; contents cannot be read).
//! - Where the kernel lacks a feature (no Landlock, no user namespaces, ...) the protection it
//!   gives is missing; [`probe`] finds out at start, every outcome names the isolation level in
//!   force, and executors refuse to start below their configured floor.

pub mod cgroup;
pub mod confine;
pub mod error;
pub mod executor;
pub mod frame;
pub mod harden;
pub mod lane;
pub mod limits;
pub mod outcome;
pub mod output;
mod privileges;
pub mod probe;
pub mod procs;
pub mod rules;
pub mod seccomp;
pub mod view;
pub mod zygote;

pub use error::{Error, Result};
pub use executor::{Executor, ExecutorConfig};
pub use limits::Limits;
pub use outcome::Outcome;
pub use probe::Isolation;
