//! A pids cgroup for all sandboxed children, when the host lets the server
//! make one: `pids.max` caps the processes every run together may have, which
//! contains fork bombs even where `RLIMIT_NPROC` does not apply (root).
//!
//! It is made beside the server's own cgroup: under the cgroup v2 tree when
//! the server's group has the `pids` controller delegated, else under the
//! cgroup v1 `pids` hierarchy.
use std::path::{Path, PathBuf};

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

    /// Removes the group (it must be empty by then; if not, it stays).
    pub fn remove(&self) {
        let _ = std::fs::remove_dir(&self.path);
    }
}
