//! Landlock rules of a sandboxed child: read and execute Python's, the
//! virtualenv's and the system's files; write only in its working directory;
//! no TCP; no signals to, or abstract sockets of, processes outside the run.
use std::path::{Path, PathBuf};

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

/// The newest Landlock ABI these rules know; older kernels enforce what they can.
const ABI_USED: ABI = ABI::V6;

/// System folders programs and shared libraries come from.
const SYSTEM_PATHS: [&str; 5] = ["/usr", "/lib", "/lib64", "/bin", "/sbin"];

/// Files under `/etc` that ordinary programs read (nothing that holds a secret).
const ETC_FILES: [&str; 11] = [
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/mime.types",
    "/etc/os-release",
    "/etc/ssl",
    "/etc/alternatives",
    "/etc/python3",
];

/// Devices a program may open.
const DEVICES: [&str; 4] = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"];

/// Restricts the calling process; returns the ABI enforced. An error means
/// the kernel has no Landlock (nothing was restricted).
pub fn restrict(read_paths: &[PathBuf], workdir: &Path) -> Result<u32, String> {
    let existing = |paths: Vec<PathBuf>| -> Vec<PathBuf> {
        paths.into_iter().filter(|p| p.exists()).collect()
    };
    let readable = existing(
        read_paths
            .iter()
            .cloned()
            .chain(SYSTEM_PATHS.iter().chain(&ETC_FILES).map(PathBuf::from))
            // The child's own /proc entries (resolved now, to its own pid).
            .chain(std::fs::canonicalize("/proc/self"))
            .collect(),
    );
    let writable = existing(
        std::iter::once(workdir.to_path_buf())
            .chain(DEVICES.iter().map(PathBuf::from))
            .chain(std::iter::once(PathBuf::from("/dev/shm")))
            .collect(),
    );
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(ABI_USED))
        .and_then(|r| r.handle_access(AccessNet::from_all(ABI_USED)))
        .and_then(|r| r.scope(Scope::from_all(ABI_USED)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(&readable, AccessFs::from_read(ABI_USED))))
        .and_then(|r| r.add_rules(path_beneath_rules(&writable, AccessFs::from_all(ABI_USED))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("Landlock: {e}"))?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("Landlock is not enabled in this kernel".into());
    }
    Ok(kernel_abi())
}

/// The Landlock ABI the kernel offers (0 for none).
pub fn kernel_abi() -> u32 {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION asks for the ABI version only;
    // no pointer is read.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    u32::try_from(version).unwrap_or(0)
}
