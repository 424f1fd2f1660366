//! An index built on a thread of its own, so a site serves its pages while
//! its search index is still being built; searches wait for it.
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::sync::watch;

use super::{SearchIndex, SearchSection};

/// A [`SearchIndex`] that is being built, or is ready.
#[derive(Debug)]
pub struct PendingIndex {
    index: OnceLock<SearchIndex>,
    /// Becomes `true` when `index` is set; closed without that if the build failed.
    built: watch::Receiver<bool>,
}

impl PendingIndex {
    /// Starts indexing `sections` on a new thread.
    pub fn start(sections: Vec<SearchSection>) -> Arc<PendingIndex> {
        let (done, built) = watch::channel(false);
        let pending = Arc::new(PendingIndex {
            index: OnceLock::new(),
            built,
        });
        let filling = pending.clone();
        let spawned = std::thread::Builder::new()
            .name("rundocs-index".into())
            .spawn(move || {
                let started = Instant::now();
                match SearchIndex::build(sections) {
                    Ok(index) => {
                        tracing::debug!(
                            sections = index.len(),
                            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                            "search index built"
                        );
                        let _ = filling.index.set(index);
                        done.send_replace(true);
                    }
                    Err(error) => tracing::error!(%error, "cannot build the search index"),
                }
                crate::util::return_free_memory_to_the_system();
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the thread that builds the search index");
        }
        pending
    }

    /// The index, once built; `None` if it could not be.
    pub async fn ready(&self) -> Option<&SearchIndex> {
        let mut built = self.built.clone();
        built.wait_for(|built| *built).await.ok()?;
        self.index.get()
    }
}
