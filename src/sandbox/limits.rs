//! Process-wide limits of a sandboxed child: its session, the pids cgroup,
//! rlimits, no-new-privileges and capabilities.
use std::path::Path;

use nix::sys::resource::{setrlimit, Resource};

use super::SandboxSettings;

/// Open files a run may hold.
const OPEN_FILES: u64 = 256;

/// A new session and process group led by the child (so the server can kill
/// the run and everything it started at once), and death when the warm
/// interpreter that forked it dies.
pub fn new_session_bound_to_parent() -> Result<(), String> {
    nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("PR_SET_PDEATHSIG: {e}"))?;
    // The parent may have died before the line above took effect.
    if nix::unistd::getppid().as_raw() == 1 {
        return Err("the warm interpreter is gone".into());
    }
    Ok(())
}

/// Makes the run's own pids cgroup in `parent` (the server's group for all
/// runs), with room for `max_processes`, and moves the calling process into
/// it. The zygote removes it once the run has ended.
pub fn join_cgroup(parent: &Path, max_processes: u32) -> Result<(), String> {
    let group = parent.join(format!("run-{}", std::process::id()));
    let failed = |e: std::io::Error| format!("pids cgroup {}: {e}", group.display());
    std::fs::create_dir(&group).map_err(failed)?;
    std::fs::write(group.join("pids.max"), max_processes.to_string()).map_err(failed)?;
    std::fs::write(group.join("cgroup.procs"), "0").map_err(failed)
}

/// CPU, memory, files, processes and core dumps.
pub fn apply(settings: &SandboxSettings) -> Result<(), String> {
    let set = |resource: Resource, value: u64| {
        setrlimit(resource, value, value).map_err(|e| format!("setrlimit {resource:?}: {e}"))
    };
    set(Resource::RLIMIT_CORE, 0)?;
    // SIGXCPU at the soft limit; the hard limit one second later kills.
    setrlimit(
        Resource::RLIMIT_CPU,
        settings.cpu_seconds,
        settings.cpu_seconds + 1,
    )
    .map_err(|e| format!("setrlimit RLIMIT_CPU: {e}"))?;
    if settings.memory_bytes > 0 {
        set(Resource::RLIMIT_DATA, settings.memory_bytes as u64)?;
    }
    set(Resource::RLIMIT_NOFILE, OPEN_FILES)?;
    set(Resource::RLIMIT_FSIZE, settings.tmp_size_bytes as u64)?;
    // Counted per user in the child's user namespace (root is exempt; the
    // pids cgroup covers that case).
    set(Resource::RLIMIT_NPROC, u64::from(settings.max_processes))?;
    Ok(())
}

/// Nothing the run executes can gain privileges (set-uid bits, file
/// capabilities). Landlock and seccomp require it.
pub fn no_new_privileges() -> Result<(), String> {
    nix::sys::prctl::set_no_new_privs().map_err(|e| format!("PR_SET_NO_NEW_PRIVS: {e}"))
}

/// Drops every capability the child holds (in its own user namespace it holds
/// all of them until here).
pub fn drop_capabilities() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [
        Data {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
        Data {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
    ];
    // SAFETY: capset reads a version-3 header and two data structs, which
    // outlive the call.
    unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) };
}
