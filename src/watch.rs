//! `--watch`: rebuild the snapshot when content changes, and tell open pages.
//!
//! notify's debouncer collects bursts of file events (an editor saving writes
//! several); one rebuild follows each burst, on the debouncer's own thread.
//! The new snapshot replaces the old one atomically, and the generation
//! channel wakes every live-reload stream.
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use tokio::sync::watch;

use crate::config::Config;
use crate::render::{AssetTable, Snapshot};

/// How long the content must be quiet before a rebuild.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Keeps the watcher alive; dropping it stops watching.
pub struct ContentWatcher {
    _debouncer: notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
}

/// Starts watching `dir`. Each change rebuilds into `snapshot` and sends the
/// new generation on `generations`.
pub fn start(
    dir: &Path,
    config: Arc<Config>,
    assets: Arc<AssetTable>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    generations: watch::Sender<u64>,
) -> anyhow::Result<ContentWatcher> {
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        match result {
            Ok(events) if events.iter().all(|e| e.kind.is_access()) => return,
            Ok(_) => {}
            Err(errors) => {
                for error in errors {
                    tracing::warn!(%error, "watching content");
                }
            }
        }
        rebuild(&config, &assets, &snapshot, &generations);
    })
    .context("cannot start the content watcher")?;
    debouncer
        .watch(dir, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", dir.display()))?;
    tracing::info!(dir = %dir.display(), "watching content for changes");
    Ok(ContentWatcher {
        _debouncer: debouncer,
    })
}

fn rebuild(
    config: &Config,
    assets: &AssetTable,
    snapshot: &ArcSwap<Snapshot>,
    generations: &watch::Sender<u64>,
) {
    let started = std::time::Instant::now();
    let previous = snapshot.load_full();
    match Snapshot::build(config, &assets.urls, Some(&previous)) {
        Ok(next) => {
            next.log_new_problems(Some(&previous));
            let generation = next.generation;
            tracing::info!(
                generation,
                pages = next.page_count(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "content rebuilt"
            );
            snapshot.store(Arc::new(next));
            generations.send_replace(generation);
        }
        Err(error) => {
            tracing::error!("content rebuild failed, still serving the previous version: {error:#}")
        }
    }
}
