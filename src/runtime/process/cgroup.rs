//! A pids cgroup for all sandboxed children, when the host lets the server
//! make one: `pids.max` caps the processes every run together may have, which
//! contains fork bombs even where `RLIMIT_NPROC` does not apply (root).
//!
//! It is made beside the server's own cgroup: under the cgroup v2 tree when
//! the server's group has the `pids` controller delegated, else under the
//! cgroup v1 `pids` hierarchy.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct PidsCgroup {
    path: PathBuf,
}

impl PidsCgroup {
    /// Makes the group with room for `max` processes, or says why not.
    pub fn create(max: u64) -> Result<PidsCgroup, String> {
        let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| e.to_string())?;
        let mut tried = Vec::new();
        for line in own.lines() {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next(), fields.next(), fields.next());
            let (Some(controllers), Some(path)) = (controllers, path) else {
                continue;
            };
            let root = match controllers {
                "" => Path::new("/sys/fs/cgroup").to_path_buf(),
                c if c.split(',').any(|c| c == "pids") => {
                    Path::new("/sys/fs/cgroup/pids").to_path_buf()
                }
                _ => continue,
            };
            let root = if controllers.is_empty() && !root.join("cgroup.controllers").exists() {
                root.join("unified")
            } else {
                root
            };
            let parent = root.join(path.trim_start_matches('/'));
            match Self::make(&parent, max) {
                Ok(group) => return Ok(group),
                Err(error) => tried.push(error),
            }
        }
        Err(if tried.is_empty() {
            "the server is in no pids cgroup".into()
        } else {
            tried.join("; ")
        })
    }

    fn make(parent: &Path, max: u64) -> Result<PidsCgroup, String> {
        remove_abandoned(parent);
        let path = parent.join(format!("rundocs-{}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Err(e) = std::fs::write(path.join("pids.max"), max.to_string()) {
            let _ = std::fs::remove_dir(&path);
            return Err(format!("{}: no pids controller ({e})", path.display()));
        }
        Ok(PidsCgroup { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the group and the runs' groups in it, waiting at most
    /// `within` for the last processes to go (a group with processes stays).
    pub fn remove(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while remove_group(&self.path).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Removes `group` and its run groups (which must be empty).
fn remove_group(group: &Path) -> std::io::Result<()> {
    if let Ok(entries) = std::fs::read_dir(group) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("run-") {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }
    std::fs::remove_dir(group)
}

/// Groups of servers that are gone (killed, so they could not clean up).
fn remove_abandoned(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("rundocs-") else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = remove_group(&entry.path());
        }
    }
}
