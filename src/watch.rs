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
use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};

use crate::render::publisher::Publisher;

/// How long the content must be quiet before a rebuild.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Keeps the watcher alive; dropping it stops watching.
pub struct ContentWatcher {
    _debouncer: notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
}

/// Starts watching `dir`. Each burst of changes rebuilds through `publisher`.
pub fn start(dir: &Path, publisher: Arc<Publisher>) -> anyhow::Result<ContentWatcher> {
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
        publisher.rebuild();
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
