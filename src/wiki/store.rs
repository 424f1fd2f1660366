//! The content folder's git repository: reading pages at any revision and
//! writing each change as one commit.
//!
//! A page's revision is the id of its blob: the same text has the same
//! revision, and any revision can be read back, compared or restored. A
//! save names the revision it started from; when the page changed since,
//! the two edits are merged as git merges files, and only edits that touch
//! the same lines are a [`StoreError::Conflict`].
//!
//! A commit is made from the last commit's tree with the one path changed
//! (never from the index, so nothing else that sits in the work tree is
//! swept in); then the file is written to a temporary name and renamed over
//! the page, and the index learns the new entry, so the work tree is never
//! half-written and `git status` stays clean. Images the editor uploads are
//! committed the same way ([`Store::add_image`]).
use std::path::{Path, PathBuf};

use git2::{build::TreeUpdateBuilder, FileMode, IndexEntry, IndexTime, Oid, Repository, Signature};

use super::paths::{ImagePath, PagePath};
use super::redirects::REDIRECTS_FILE;

/// What went wrong, by what the client can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("there is no page {0}")]
    NotFound(String),
    #[error("{0} has no revision {1}")]
    NoSuchRevision(String, String),
    #[error("{0} exists already; open it to edit it, or pick another name")]
    Exists(String),
    /// Edits that touch the same lines: both texts go back to the client.
    #[error("{path} was changed by someone else in the lines you changed")]
    Conflict {
        path: String,
        /// The page as it is now.
        current: String,
        current_revision: String,
    },
    /// The page changed since the client loaded it (a delete or a revert
    /// names the revision it means to replace).
    #[error("{path} changed since revision {base}; reload it and try again")]
    Stale { path: String, base: String },
    #[error("the page is not UTF-8 text")]
    NotText,
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A page's text and its revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageText {
    pub source: String,
    pub revision: String,
}

/// A commit that was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The page's new revision (`None` when the change deleted it).
    pub revision: Option<String>,
    pub commit: String,
    /// The save was merged with changes made since its base.
    pub merged: bool,
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub name: String,
}

impl Author {
    fn signature(&self) -> Result<Signature<'static>, git2::Error> {
        // Names come from sign-in; git needs an address, which rundocs does not know.
        let clean: String = self.name.chars().filter(|c| !"<>\n".contains(*c)).collect();
        let local: String = clean
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '.' })
            .collect();
        Signature::now(&clean, &format!("{local}@rundocs.invalid"))
    }
}

/// The repository the content folder lives in.
pub struct Store {
    repo: Repository,
    /// The content folder.
    root: PathBuf,
    /// The content folder below the work tree's top (`""` or `docs/`).
    prefix: String,
}

impl Store {
    /// Opens the repository holding `content_root`.
    pub fn open(content_root: &Path) -> Result<Store, StoreError> {
        let repo = Repository::discover(content_root)?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| git2::Error::from_str("the repository has no work tree (bare)"))?
            .canonicalize()?;
        let root = content_root.canonicalize()?;
        let relative = root
            .strip_prefix(&workdir)
            .map_err(|_| git2::Error::from_str("the content folder is outside the work tree"))?;
        let prefix = relative
            .components()
            .map(|c| format!("{}/", c.as_os_str().to_string_lossy()))
            .collect();
        Ok(Store { repo, root, prefix })
    }

    fn git_path(&self, page: &PagePath) -> String {
        format!("{}{}", self.prefix, page.as_str())
    }

    /// The last commit, if the repository has one.
    fn head(&self) -> Result<Option<git2::Commit<'_>>, StoreError> {
        match self.repo.head() {
            Ok(head) => Ok(Some(head.peel_to_commit()?)),
            Err(error)
                if error.code() == git2::ErrorCode::UnbornBranch
                    || error.code() == git2::ErrorCode::NotFound =>
            {
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The blob of `page` in the last commit.
    fn current_blob(&self, page: &PagePath) -> Result<Option<Oid>, StoreError> {
        let Some(head) = self.head()? else {
            return Ok(None);
        };
        blob_in(&head.tree()?, &self.git_path(page))
    }

    fn text_of(&self, blob: Oid) -> Result<String, StoreError> {
        let blob = self.repo.find_blob(blob)?;
        String::from_utf8(blob.content().to_vec()).map_err(|_| StoreError::NotText)
    }

    /// The page as last committed, or at `revision`.
    pub fn read(&self, page: &PagePath, revision: Option<&str>) -> Result<PageText, StoreError> {
        let blob = match revision {
            Some(revision) => self.blob_of_revision(page, revision)?,
            None => self
                .current_blob(page)?
                .ok_or_else(|| StoreError::NotFound(page.to_string()))?,
        };
        Ok(PageText {
            source: self.text_of(blob)?,
            revision: blob.to_string(),
        })
    }

    /// The blob a revision names, if it is one of `page`'s.
    fn blob_of_revision(&self, page: &PagePath, revision: &str) -> Result<Oid, StoreError> {
        let missing = || StoreError::NoSuchRevision(page.to_string(), revision.to_string());
        let oid = Oid::from_str(revision).map_err(|_| missing())?;
        if revision.len() != 40 && revision.len() != 64 {
            return Err(missing());
        }
        match self.repo.find_blob(oid) {
            Ok(_) if self.revisions_of(page)?.contains(&oid) => Ok(oid),
            _ => Err(missing()),
        }
    }

    /// Every blob `page` has had, newest first.
    fn revisions_of(&self, page: &PagePath) -> Result<Vec<Oid>, StoreError> {
        Ok(super::history::page_history(self, page, usize::MAX)?
            .into_iter()
            .filter_map(|change| change.revision.and_then(|r| Oid::from_str(&r).ok()))
            .collect())
    }

    pub(super) fn repo(&self) -> &Repository {
        &self.repo
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Saves `source` as `page`. `base` is the revision the edit started
    /// from (`None` for a new page).
    pub fn save(
        &self,
        page: &PagePath,
        source: &str,
        base: Option<&str>,
        message: &str,
        author: &Author,
    ) -> Result<Committed, StoreError> {
        let current = self.current_blob(page)?;
        let (text, merged) = match (base, current) {
            (None, Some(_)) => return Err(StoreError::Exists(page.to_string())),
            (None, None) => (source.to_string(), false),
            (Some(_), None) => return Err(StoreError::NotFound(page.to_string())),
            (Some(base), Some(current)) if base == current.to_string() => {
                (source.to_string(), false)
            }
            (Some(base), Some(current)) => {
                let base = self.blob_of_revision(page, base)?;
                (self.merge(page, base, current, source)?, true)
            }
        };
        let blob = self.repo.blob(text.as_bytes())?;
        if Some(blob) == current {
            // Nothing changed: no empty commit.
            let head = self.head()?.expect("a current blob has a commit");
            return Ok(Committed {
                revision: Some(blob.to_string()),
                commit: head.id().to_string(),
                merged,
            });
        }
        let commit = self.commit_change(page, Some(blob), message, author)?;
        self.write_work_tree(page, Some(text.as_bytes()))?;
        Ok(Committed {
            revision: Some(blob.to_string()),
            commit: commit.to_string(),
            merged,
        })
    }

    /// The blob of `page`, which must still be at revision `base` (a change
    /// that replaces a page names the revision it means to replace).
    fn current_at(&self, page: &PagePath, base: &str) -> Result<Oid, StoreError> {
        let current = self
            .current_blob(page)?
            .ok_or_else(|| StoreError::NotFound(page.to_string()))?;
        if current.to_string() != base {
            return Err(StoreError::Stale {
                path: page.to_string(),
                base: base.to_string(),
            });
        }
        Ok(current)
    }

    /// Removes `page`, which must still be at revision `base`.
    pub fn delete(
        &self,
        page: &PagePath,
        base: &str,
        message: &str,
        author: &Author,
    ) -> Result<Committed, StoreError> {
        self.current_at(page, base)?;
        let commit = self.commit_change(page, None, message, author)?;
        self.write_work_tree(page, None)?;
        Ok(Committed {
            revision: None,
            commit: commit.to_string(),
            merged: false,
        })
    }

    /// Moves `from` (still at revision `base`) to `to`, in one commit that
    /// also records the old address in [`REDIRECTS_FILE`], so links to it
    /// keep working.
    pub fn move_page(
        &self,
        from: &PagePath,
        to: &PagePath,
        base: &str,
        message: &str,
        author: &Author,
    ) -> Result<Committed, StoreError> {
        let current = self.current_at(from, base)?;
        if self.current_blob(to)?.is_some() {
            return Err(StoreError::Exists(to.to_string()));
        }
        let redirects_path = format!("{}{REDIRECTS_FILE}", self.prefix);
        let head = self.head()?.expect("a page has a commit");
        let redirects = match blob_in(&head.tree()?, &redirects_path)? {
            Some(blob) => self.text_of(blob)?,
            None => String::new(),
        };
        let redirects = super::redirects::add(&redirects, &from.url_path(), &to.url_path());
        let redirects_blob = self.repo.blob(redirects.as_bytes())?;
        let commit = self.commit_changes(
            &[
                (self.git_path(from), None),
                (self.git_path(to), Some(current)),
                (redirects_path, Some(redirects_blob)),
            ],
            message,
            author,
        )?;
        let text = self.repo.find_blob(current)?.content().to_vec();
        self.write_work_tree(to, Some(&text))?;
        self.write_work_tree(from, None)?;
        self.write_file(REDIRECTS_FILE, redirects.as_bytes())?;
        Ok(Committed {
            revision: Some(current.to_string()),
            commit: commit.to_string(),
            merged: false,
        })
    }

    /// Adds `image` with `bytes` in one commit. An image already there with
    /// the same bytes is left as it is (no commit); one with other bytes is
    /// [`StoreError::Exists`]: pages may show it, so it is never replaced.
    pub fn add_image(
        &self,
        image: &ImagePath,
        bytes: &[u8],
        message: &str,
        author: &Author,
    ) -> Result<Committed, StoreError> {
        let path = format!("{}{}", self.prefix, image.as_str());
        let blob = self.repo.blob(bytes)?;
        let head = self.head()?;
        let current = match &head {
            Some(head) => blob_in(&head.tree()?, &path)?,
            None => None,
        };
        match (current, head) {
            (Some(current), Some(head)) if current == blob => {
                return Ok(Committed {
                    revision: Some(blob.to_string()),
                    commit: head.id().to_string(),
                    merged: false,
                })
            }
            (Some(_), _) => return Err(StoreError::Exists(image.as_str().to_string())),
            _ => {}
        }
        let commit = self.commit_changes(&[(path, Some(blob))], message, author)?;
        self.write_file(image.as_str(), bytes)?;
        Ok(Committed {
            revision: Some(blob.to_string()),
            commit: commit.to_string(),
            merged: false,
        })
    }

    /// Writes revision `to` of `page` back as a new commit.
    pub fn revert(
        &self,
        page: &PagePath,
        to: &str,
        message: &str,
        author: &Author,
    ) -> Result<Committed, StoreError> {
        let old = self.read(page, Some(to))?;
        match self.current_blob(page)? {
            Some(current) => self.save(
                page,
                &old.source,
                Some(&current.to_string()),
                message,
                author,
            ),
            // Deleted since: bring it back.
            None => self.save(page, &old.source, None, message, author),
        }
    }

    /// Three-way merge of the client's `mine` onto `current`, from `base`.
    fn merge(
        &self,
        page: &PagePath,
        base: Oid,
        current: Oid,
        mine: &str,
    ) -> Result<String, StoreError> {
        let mine_blob = self.repo.blob(mine.as_bytes())?;
        let path = self.git_path(page);
        let entry = |id: Oid| index_entry(&path, id, 0);
        let mut options = git2::MergeFileOptions::new();
        options.our_label("saved meanwhile").their_label("yours");
        let result = self.repo.merge_file_from_index(
            &entry(base),
            &entry(current),
            &entry(mine_blob),
            Some(&mut options),
        )?;
        if !result.is_automergeable() {
            return Err(StoreError::Conflict {
                path: page.to_string(),
                current: self.text_of(current)?,
                current_revision: current.to_string(),
            });
        }
        String::from_utf8(result.content().to_vec()).map_err(|_| StoreError::NotText)
    }

    /// One commit on top of the last: `page` set to `blob`, or removed.
    fn commit_change(
        &self,
        page: &PagePath,
        blob: Option<Oid>,
        message: &str,
        author: &Author,
    ) -> Result<Oid, StoreError> {
        self.commit_changes(&[(self.git_path(page), blob)], message, author)
    }

    /// One commit on top of the last: each path (below the work tree's
    /// top) set to its blob, or removed.
    fn commit_changes(
        &self,
        changes: &[(String, Option<Oid>)],
        message: &str,
        author: &Author,
    ) -> Result<Oid, StoreError> {
        let head = self.head()?;
        let baseline = match &head {
            Some(head) => head.tree()?,
            None => {
                let empty = self.repo.treebuilder(None)?.write()?;
                self.repo.find_tree(empty)?
            }
        };
        let mut update = TreeUpdateBuilder::new();
        for (path, blob) in changes {
            match blob {
                Some(blob) => update.upsert(path.as_str(), *blob, FileMode::Blob),
                None => update.remove(path.as_str()),
            };
        }
        let tree = self
            .repo
            .find_tree(update.create_updated(&self.repo, &baseline)?)?;
        let author = author.signature()?;
        let committer = Signature::now("rundocs", "rundocs@rundocs.invalid")?;
        let parents: Vec<&git2::Commit<'_>> = head.iter().collect();
        // Updating HEAD fails if it moved since `head` was read (another writer).
        let commit =
            self.repo
                .commit(Some("HEAD"), &author, &committer, message, &tree, &parents)?;
        let mut index = self.repo.index()?;
        for (path, blob) in changes {
            match blob {
                Some(blob) => {
                    let size = self.repo.find_blob(*blob)?.size();
                    index.add(&index_entry(path, *blob, size))?;
                }
                None => index.remove_path(Path::new(path))?,
            }
        }
        index.write()?;
        Ok(commit)
    }

    /// Puts `page` in the work tree as committed: a temporary file renamed
    /// over it, or removed (with folders left empty by it).
    fn write_work_tree(&self, page: &PagePath, bytes: Option<&[u8]>) -> Result<(), StoreError> {
        let file = self.root.join(page.as_str());
        match bytes {
            Some(bytes) => self.write_file(page.as_str(), bytes)?,
            None => {
                match std::fs::remove_file(&file) {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                        return Err(error.into())
                    }
                    _ => {}
                }
                let mut folder = file.parent();
                while let Some(dir) = folder.filter(|dir| *dir != self.root) {
                    if std::fs::remove_dir(dir).is_err() {
                        break;
                    }
                    folder = dir.parent();
                }
            }
        }
        Ok(())
    }

    /// Writes `relative` (below the content folder): a temporary file
    /// renamed over it, so it is never half-written.
    fn write_file(&self, relative: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let file = self.root.join(relative);
        let folder = file.parent().expect("a file is in the content folder");
        std::fs::create_dir_all(folder)?;
        let temporary = folder.join(format!(
            ".{}.rundocs-save",
            file.file_name()
                .expect("a file has a name")
                .to_string_lossy()
        ));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, &file)?;
        Ok(())
    }
}

/// The blob at `path` in `tree`, if it is a file there.
pub(super) fn blob_in(tree: &git2::Tree<'_>, path: &str) -> Result<Option<Oid>, StoreError> {
    match tree.get_path(Path::new(path)) {
        Ok(entry) if entry.kind() == Some(git2::ObjectType::Blob) => Ok(Some(entry.id())),
        Ok(_) => Ok(None),
        Err(error) if error.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(error) => Err(error.into()),
    }
}

fn index_entry(path: &str, id: Oid, size: usize) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        file_size: u32::try_from(size).unwrap_or(u32::MAX),
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}
