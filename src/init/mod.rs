//! `rundocs init DIR`: a new site, ready to serve and check.
//!
//! Writes a config file and two pages (a home page, and one with runnable
//! examples and their output blocks) from `src/init/scaffold/`. It never
//! overwrites: if any of those files already exists, nothing is written and
//! the error names the file.
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// The files of a new site: (name, contents).
const SCAFFOLD: &[(&str, &str)] = &[
    ("rundocs.toml", include_str!("scaffold/rundocs.toml")),
    ("index.md", include_str!("scaffold/index.md")),
    (
        "first-example.md",
        include_str!("scaffold/first-example.md"),
    ),
];

/// Creates the site in `dir` (made if missing); returns the files written.
pub fn run(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{} exists and is not a folder; give a new or existing folder",
            dir.display()
        );
    }
    let targets: Vec<(PathBuf, &str)> = SCAFFOLD
        .iter()
        .map(|(name, contents)| (dir.join(name), *contents))
        .collect();
    if let Some((existing, _)) = targets.iter().find(|(path, _)| path.exists()) {
        bail!(
            "{} already exists; rundocs init never overwrites a file, so nothing was written. \
             Pick a new folder, or move the file away",
            existing.display()
        );
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (path, contents) in targets {
        fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_site_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("docs");
        let written = run(&site).unwrap();
        assert_eq!(written.len(), SCAFFOLD.len());
        assert!(site.join("first-example.md").is_file());
        fs::write(site.join("index.md"), "mine").unwrap();
        fs::remove_file(site.join("rundocs.toml")).unwrap();
        let error = run(&site).unwrap_err().to_string();
        assert!(error.contains("index.md already exists"), "{error}");
        assert!(!site.join("rundocs.toml").exists(), "nothing was written");
        assert_eq!(fs::read_to_string(site.join("index.md")).unwrap(), "mine");
    }
}
