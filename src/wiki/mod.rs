//! The team wiki: pages edited in the browser, each change a git commit.
//!
//! The content folder is (inside) a git work tree. [`Wiki`] serializes the
//! writes: each save, new page, delete and revert is one commit authored by
//! the signed-in user ([`store`]), after which the site is rebuilt and, with
//! `wiki.remote`, the commit is pushed ([`sync`]). History, recent changes
//! and diffs between any two revisions come from the repository
//! ([`history`]). Paths are checked before anything is read or written
//! ([`paths`]).
pub mod history;
pub mod paths;
pub mod redirects;
pub mod store;
pub mod sync;

use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};

use crate::config::{Config, ContentSource, EditAccess};
use crate::render::publisher::Publisher;
pub use paths::{BadPath, ImagePath, PagePath};
pub use store::{Author, Committed, PageText, Store, StoreError};

/// The wiki of one content folder.
pub struct Wiki {
    store: Mutex<Store>,
    publisher: Arc<Publisher>,
    /// Following `wiki.remote`, when set.
    pub syncer: Option<sync::Syncer>,
    /// This instance commits edits (`wiki.writer`).
    pub writer: bool,
}

impl Wiki {
    /// The wiki of the served folder, when editing is on.
    pub fn start(config: &Config, publisher: Arc<Publisher>) -> anyhow::Result<Option<Arc<Wiki>>> {
        if config.access.edit == EditAccess::Off && config.wiki.remote.is_none() {
            return Ok(None);
        }
        let ContentSource::Dir(root) = &config.content else {
            bail!(
                "`access.edit` needs a content folder in a git repository; the bundled write-ups \
                 cannot be edited. Make one with `rundocs init DIR` and serve it with --content DIR"
            );
        };
        let store = Store::open(root).map_err(|error| {
            anyhow::anyhow!(
                "`access.edit` keeps every edit as a git commit, but {} is not in a git \
                 repository ({error}); make it one with `git init {0}` (or start a new site \
                 with `rundocs init DIR`, which does)",
                root.display()
            )
        })?;
        if config.access.edit != EditAccess::Off {
            tracing::info!(folder = %root.display(), "pages are edited in the browser; each save is a commit");
        }
        let (syncer, thread) = match &config.wiki.remote {
            Some(remote) => {
                let workdir = store
                    .repo()
                    .workdir()
                    .expect("Store::open refuses bare repositories")
                    .to_path_buf();
                tracing::info!(
                    remote,
                    branch = config.wiki.branch,
                    "the wiki follows a git remote"
                );
                let (syncer, thread) = sync::Syncer::start(&config.wiki, workdir);
                (Some(syncer), Some(thread))
            }
            None => (None, None),
        };
        let wiki = Arc::new(Wiki {
            store: Mutex::new(store),
            publisher,
            syncer,
            writer: config.wiki.writer,
        });
        if let Some(thread) = thread {
            let weak = Arc::downgrade(&wiki);
            std::thread::Builder::new()
                .name("rundocs-wiki-sync".into())
                .spawn(move || thread.run(weak))
                .context("cannot start the wiki's sync thread")?;
        }
        Ok(Some(wiki))
    }

    /// Runs `f` with the repository, one caller at a time.
    pub fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        let store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        f(&store)
    }

    /// Runs a change `f` with the repository, then serves what it committed.
    pub fn change(
        &self,
        f: impl FnOnce(&Store) -> Result<Committed, StoreError>,
    ) -> Result<Committed, StoreError> {
        let committed = self.with_store(f)?;
        self.publisher.rebuild();
        if let Some(syncer) = &self.syncer {
            syncer.push_soon();
        }
        Ok(committed)
    }
}
