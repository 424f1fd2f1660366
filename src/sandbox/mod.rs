//! The sandbox a process-mode child enters before it receives code.
//!
//! [`enter`] runs in the child the warm interpreter has just forked (one
//! thread, nothing secret in memory) and applies, strongest first, what the
//! host allows:
//!
//! | step | what it stops |
//! |---|---|
//! | new session, death with the parent | a run outliving its supervisor |
//! | a pids cgroup of its own (when the server has a group for runs) | fork bombs, even as root |
//! | user, mount, IPC, UTS, network namespaces ([`namespaces`]) | the network, the host's `/tmp`, SysV IPC |
//! | a private size-limited `/tmp` as working directory | files carried between runs, filling the disk |
//! | rlimits ([`limits`]) | CPU, memory, open files, processes, core dumps |
//! | no-new-privileges | set-uid programs |
//! | Landlock ([`landlock_rules`]) | files outside Python and system paths, TCP, signals and abstract sockets outside the run |
//! | seccomp ([`seccomp`]) | ptrace, mount, namespaces, BPF, keyrings, `io_uring`, non-Unix sockets, leaving the process group |
//!
//! What was reached is returned as a [`Reached`], whose [`SandboxLevel`]
//! the server logs, shows in `/metrics` and `/healthz`, and compares with
//! the configured minimum.
pub mod landlock_rules;
pub mod limits;
pub mod namespaces;
pub mod seccomp;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::config::SandboxLevel;

/// What the server asks of every child (no secrets: paths and numbers).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxSettings {
    pub tmp_size_bytes: usize,
    pub max_processes: u32,
    /// Bytes of data segment and mappings a process may have; 0 for no limit.
    pub memory_bytes: usize,
    /// CPU seconds a child may use in all (a backstop to the run's timeout).
    pub cpu_seconds: u64,
    /// The server's pids cgroup for runs: each child makes its own in it.
    pub pids_cgroup: Option<PathBuf>,
    /// Folders (and files) the run may read and execute: the interpreter's
    /// and the virtualenv's.
    pub read_paths: Vec<PathBuf>,
}

/// What a child reached.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Reached {
    pub level: SandboxLevel,
    /// The namespaces entered, e.g. `["user", "mount", "ipc", "uts", "net"]`.
    pub namespaces: Vec<String>,
    /// The Landlock ABI enforced (0: none).
    pub landlock_abi: u32,
    pub seccomp: bool,
    pub pids_cgroup: bool,
    /// The child's working directory (its private tmp).
    pub workdir: PathBuf,
    /// Why a step was skipped, for the log (one line each).
    pub notes: Vec<String>,
}

impl Reached {
    /// One line for the log and `/healthz`.
    pub fn summary(&self) -> String {
        let namespaces = if self.namespaces.is_empty() {
            "none".to_string()
        } else {
            self.namespaces.join(",")
        };
        format!(
            "{} (namespaces: {namespaces}; landlock: {}; seccomp: {}; pids cgroup: {})",
            self.level.name(),
            if self.landlock_abi > 0 {
                format!("ABI {}", self.landlock_abi)
            } else {
                "off".into()
            },
            if self.seccomp { "on" } else { "off" },
            if self.pids_cgroup { "on" } else { "off" },
        )
    }
}

/// Applies the sandbox to the calling process. Call it in a freshly forked,
/// single-threaded child, before it reads any code. A step the host does
/// not support is skipped (and noted); a step that fails half-way is an error,
/// and the child must exit.
pub fn enter(settings: &SandboxSettings) -> Result<Reached, String> {
    let mut reached = Reached::default();
    limits::new_session_bound_to_parent()?;
    if let Some(cgroup) = &settings.pids_cgroup {
        match limits::join_cgroup(cgroup, settings.max_processes) {
            Ok(()) => reached.pids_cgroup = true,
            Err(note) => reached.notes.push(note),
        }
    }
    reached.workdir = match namespaces::enter(settings.tmp_size_bytes) {
        Ok(entered) => {
            reached.namespaces = entered.names;
            entered.workdir
        }
        Err(note) => {
            reached.notes.push(note);
            namespaces::private_workdir()?
        }
    };
    std::env::set_current_dir(&reached.workdir)
        .map_err(|e| format!("cannot enter {}: {e}", reached.workdir.display()))?;
    limits::apply(settings)?;
    limits::no_new_privileges()?;
    match landlock_rules::restrict(&settings.read_paths, &reached.workdir) {
        Ok(abi) => reached.landlock_abi = abi,
        Err(note) => reached.notes.push(note),
    }
    seccomp::apply()?;
    reached.seccomp = true;
    limits::drop_capabilities();
    reached.level = level_of(&reached);
    Ok(reached)
}

fn level_of(reached: &Reached) -> SandboxLevel {
    let all_namespaces = ["user", "mount", "ipc", "uts", "net"]
        .iter()
        .all(|name| reached.namespaces.iter().any(|n| n == name));
    match (reached.seccomp, reached.landlock_abi > 0, all_namespaces) {
        (true, true, true) => SandboxLevel::Full,
        (true, true, false) => SandboxLevel::Landlock,
        (true, false, _) => SandboxLevel::Basic,
        (false, _, _) => SandboxLevel::None,
    }
}

/// What the host lacks for `wanted`, and how to give it, from what a probe
/// child reached.
pub fn shortfall(reached: &Reached, wanted: SandboxLevel) -> Option<String> {
    if reached.level >= wanted {
        return None;
    }
    let mut missing = Vec::new();
    if wanted >= SandboxLevel::Full && reached.namespaces.len() < 5 {
        missing.push(
            "user namespaces (enable them: `sysctl kernel.unprivileged_userns_clone=1` on Debian, \
             `sysctl user.max_user_namespaces=15000`, or in a container allow `unshare`/`clone` \
             in its seccomp profile)",
        );
    }
    if wanted >= SandboxLevel::Landlock && reached.landlock_abi == 0 {
        missing.push(
            "Landlock (Linux 5.13 or later with `lsm=landlock,...` on the kernel command line)",
        );
    }
    if !reached.seccomp {
        missing.push("seccomp (a kernel built with CONFIG_SECCOMP_FILTER)");
    }
    let notes = if reached.notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", reached.notes.join("; "))
    };
    Some(format!(
        "the sandbox reached `{}` but `run.process.minimum_sandbox` is `{}`: this host lacks {}{notes}; \
         fix the host, or lower `run.process.minimum_sandbox` knowing what each level stops (docs/operations.md)",
        reached.level.name(),
        wanted.name(),
        missing.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reached(namespaces: &[&str], landlock_abi: u32) -> Reached {
        let mut reached = Reached {
            namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
            landlock_abi,
            seccomp: true,
            ..Reached::default()
        };
        reached.level = level_of(&reached);
        reached
    }

    #[test]
    fn the_level_is_the_weakest_step_reached() {
        let all = ["user", "mount", "ipc", "uts", "net"];
        assert_eq!(reached(&all, 7).level, SandboxLevel::Full);
        assert_eq!(reached(&all[1..], 7).level, SandboxLevel::Landlock);
        assert_eq!(reached(&all, 0).level, SandboxLevel::Basic);
    }

    #[test]
    fn a_host_without_user_namespaces_is_told_how_to_enable_them() {
        let problem = shortfall(&reached(&[], 7), SandboxLevel::Full).expect("short of full");
        assert!(problem.contains("user namespaces"), "{problem}");
        assert!(problem.contains("sysctl"), "{problem}");
        assert!(problem.contains("minimum_sandbox"), "{problem}");
        assert!(
            !problem.contains("Landlock ("),
            "Landlock was there: {problem}"
        );
        assert_eq!(shortfall(&reached(&[], 7), SandboxLevel::Landlock), None);
    }
}
