//! Putting a new snapshot in place: one rebuild at a time, swapped in
//! atomically, with the new generation announced to live-reload streams.
//!
//! `--watch` rebuilds after file changes, the wiki after each save and each
//! sync; both go through [`Publisher::rebuild`].
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tokio::sync::watch;

use super::{AssetTable, Snapshot};
use crate::config::Config;

/// The current snapshot and what rebuilding it needs.
pub struct Publisher {
    pub config: Arc<Config>,
    pub assets: Arc<AssetTable>,
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    generations: watch::Sender<u64>,
    /// Held while building, so two rebuilds never race to be the newer.
    building: Mutex<()>,
}

impl Publisher {
    pub fn new(
        config: Arc<Config>,
        assets: Arc<AssetTable>,
        first: Snapshot,
    ) -> (Publisher, watch::Receiver<u64>) {
        let (generations, receiver) = watch::channel(first.generation);
        let publisher = Publisher {
            config,
            assets,
            snapshot: Arc::new(ArcSwap::from_pointee(first)),
            generations,
            building: Mutex::new(()),
        };
        (publisher, receiver)
    }

    /// Reads the content again and serves it; on failure the previous
    /// snapshot stays (and the error is logged). Returns the generation served.
    pub fn rebuild(&self) -> u64 {
        let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        let started = std::time::Instant::now();
        let previous = self.snapshot.load_full();
        match Snapshot::build(&self.config, &self.assets.urls, Some(&previous)) {
            Ok(next) => {
                next.log_new_problems(Some(&previous));
                let generation = next.generation;
                tracing::info!(
                    generation,
                    pages = next.page_count(),
                    elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                    "content rebuilt"
                );
                self.snapshot.store(Arc::new(next));
                self.generations.send_replace(generation);
                generation
            }
            Err(error) => {
                tracing::error!(
                    "content rebuild failed, still serving the previous version: {error:#}"
                );
                previous.generation
            }
        }
    }
}
