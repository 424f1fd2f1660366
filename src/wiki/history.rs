//! A page's history, the site's recent changes, and diffs between any two
//! revisions of a page.
use serde::Serialize;

use super::paths::PagePath;
use super::store::{blob_in, Store, StoreError};

/// One change to one page, newest first in a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The page's revision after the commit (`None`: the commit deleted it).
    pub revision: Option<String>,
    pub commit: String,
    pub author: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    pub message: String,
    /// The page's file below the content folder.
    pub path: String,
}

fn change(commit: &git2::Commit<'_>, path: String, revision: Option<git2::Oid>) -> Change {
    Change {
        revision: revision.map(|r| r.to_string()),
        commit: commit.id().to_string(),
        author: commit.author().name().unwrap_or("?").to_string(),
        time: commit.time().seconds(),
        message: commit.message().unwrap_or("").trim_end().to_string(),
        path,
    }
}

/// The commits that changed `page`, newest first, at most `limit`.
pub fn page_history(
    store: &Store,
    page: &PagePath,
    limit: usize,
) -> Result<Vec<Change>, StoreError> {
    let repo = store.repo();
    let git_path = format!("{}{}", store.prefix(), page.as_str());
    let mut changes = Vec::new();
    for commit in first_parent_walk(repo)? {
        if changes.len() >= limit {
            break;
        }
        let commit = commit?;
        let now = blob_in(&commit.tree()?, &git_path)?;
        let before = match commit.parents().next() {
            Some(parent) => blob_in(&parent.tree()?, &git_path)?,
            None => None,
        };
        if now != before {
            changes.push(change(&commit, page.to_string(), now));
        }
    }
    Ok(changes)
}

/// The site's changes, newest first: one entry per page a commit changed,
/// at most `limit`.
pub fn recent_changes(store: &Store, limit: usize) -> Result<Vec<Change>, StoreError> {
    let repo = store.repo();
    let prefix = store.prefix();
    let mut changes = Vec::new();
    for commit in first_parent_walk(repo)? {
        if changes.len() >= limit {
            break;
        }
        let commit = commit?;
        let tree = commit.tree()?;
        let parent_tree = match commit.parents().next() {
            Some(parent) => Some(parent.tree()?),
            None => None,
        };
        let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)?;
        for delta in diff.deltas() {
            let Some(path) = delta.new_file().path().or(delta.old_file().path()) else {
                continue;
            };
            let path = path.to_string_lossy();
            let Some(page) = path.strip_prefix(prefix).filter(|p| p.ends_with(".md")) else {
                continue;
            };
            let revision = (delta.status() != git2::Delta::Deleted).then(|| delta.new_file().id());
            changes.push(change(&commit, page.to_string(), revision));
            if changes.len() >= limit {
                break;
            }
        }
    }
    Ok(changes)
}

/// A unified diff of `page` from revision `from` to revision `to`.
pub fn diff(store: &Store, page: &PagePath, from: &str, to: &str) -> Result<String, StoreError> {
    let old = store.read(page, Some(from))?.source;
    let new = store.read(page, Some(to))?.source;
    Ok(unified_diff(
        &old,
        &new,
        &format!("{page}@{}", short(from)),
        &format!("{page}@{}", short(to)),
    ))
}

/// `old` → `new` as a unified diff with three lines of context.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

fn short(revision: &str) -> &str {
    revision.get(..10).unwrap_or(revision)
}

/// The commits from HEAD back along first parents (the line of saves).
fn first_parent_walk(
    repo: &git2::Repository,
) -> Result<impl Iterator<Item = Result<git2::Commit<'_>, StoreError>>, StoreError> {
    let mut walk = repo.revwalk()?;
    match walk.push_head() {
        Ok(()) => {}
        // No commit yet: no history.
        Err(error)
            if matches!(
                error.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) => {}
        Err(error) => return Err(error.into()),
    }
    walk.simplify_first_parent()?;
    Ok(walk.map(move |oid| Ok(repo.find_commit(oid?)?)))
}
