//! Namespaces of a sandboxed child: its own user (mapped to the server's
//! user, so files keep their owners), mounts, IPC, host name and network
//! (loopback only, down), and a private size-limited tmpfs on `/tmp` (and
//! `/dev/shm`) that is its working directory and vanishes with it.
use std::path::PathBuf;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

/// The namespaces entered and the working directory made there.
pub struct Entered {
    pub names: Vec<String>,
    pub workdir: PathBuf,
}

/// Enters new user, mount, IPC, UTS and network namespaces (without the user
/// namespace when the host refuses it but the process is privileged) and
/// mounts the private tmp.
pub fn enter(tmp_size_bytes: usize) -> Result<Entered, String> {
    let uid = nix::unistd::geteuid();
    let gid = nix::unistd::getegid();
    let others = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWNET;
    let mut names = Vec::new();
    match unshare(CloneFlags::CLONE_NEWUSER | others) {
        Ok(()) => {
            map_to_outer_ids(uid.as_raw(), gid.as_raw())?;
            names.push("user".to_string());
        }
        Err(user_error) => unshare(others).map_err(|e| {
            format!("no namespaces: a user namespace was refused ({user_error}), and without one so were the others ({e})")
        })?,
    }
    names.extend(["mount", "ipc", "uts", "net"].map(String::from));
    // Mounts made here never reach the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("cannot make mounts private: {e}"))?;
    let options = format!("size={tmp_size_bytes},mode=1777");
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    mount(
        Some("tmpfs"),
        "/tmp",
        Some("tmpfs"),
        flags,
        Some(options.as_str()),
    )
    .map_err(|e| format!("cannot mount a private /tmp: {e}"))?;
    if std::path::Path::new("/dev/shm").is_dir() {
        mount(
            Some("tmpfs"),
            "/dev/shm",
            Some("tmpfs"),
            flags,
            Some(options.as_str()),
        )
        .map_err(|e| format!("cannot mount a private /dev/shm: {e}"))?;
    }
    let _ = nix::unistd::sethostname("rundocs");
    Ok(Entered {
        names,
        workdir: PathBuf::from("/tmp"),
    })
}

/// Inside the new user namespace the child keeps the server's user and group
/// ids (so the files it may read stay readable).
fn map_to_outer_ids(uid: u32, gid: u32) -> Result<(), String> {
    let write = |file: &str, text: String| {
        std::fs::write(format!("/proc/self/{file}"), text).map_err(|e| format!("{file}: {e}"))
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("{uid} {uid} 1\n"))?;
    write("gid_map", format!("{gid} {gid} 1\n"))
}

/// Without a mount namespace: a fresh folder of its own under the system's
/// temporary folder (Landlock then confines writes to it).
pub fn private_workdir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    let dir = base.join(format!("rundocs-run-{}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    Ok(dir)
}
