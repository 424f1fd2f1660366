//! `rundocs init DIR`: a new site, ready to serve and check.
//!
//! Writes a config file and two pages (a home page, and one with runnable
//! examples and their output blocks) from `src/init/scaffold/`. It never
//! overwrites: if any of those files already exists, nothing is written and
//! the error names the file. A folder that is not in a git repository
//! becomes one, with the new files as its first commit, so the site can be
//! edited in the browser (`access.edit`) from the start.
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

/// Makes `dir` a git repository whose first commit holds `files`, unless it
/// is in one already. Returns whether it made one.
pub fn make_repository(dir: &Path, files: &[PathBuf]) -> anyhow::Result<bool> {
    if git2::Repository::discover(dir).is_ok() {
        return Ok(false);
    }
    let repo = git2::Repository::init(dir)
        .with_context(|| format!("cannot make {} a git repository", dir.display()))?;
    let mut index = repo.index()?;
    for file in files {
        index.add_path(file.strip_prefix(dir).unwrap_or(file))?;
    }
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let signature = git2::Signature::now("rundocs", "rundocs@rundocs.invalid")?;
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "Start the site",
        &tree,
        &[],
    )?;
    Ok(true)
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

    #[test]
    fn a_new_site_is_a_repository_with_its_files_committed() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("wiki");
        let written = run(&site).unwrap();
        assert!(make_repository(&site, &written).unwrap());
        let repo = git2::Repository::open(&site).unwrap();
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        assert_eq!(head.tree().unwrap().len(), SCAFFOLD.len());
        assert!(
            repo.statuses(None).unwrap().is_empty(),
            "nothing left uncommitted"
        );
        assert!(!make_repository(&site, &written).unwrap(), "once only");
    }
}
