//! Pages rendered by the last build, reused by the next when their markdown
//! did not change: a save or an edit on disk re-renders one page, not the
//! site.
//!
//! An entry is keyed by the page's file and a digest of everything its
//! rendering reads (body, address, first line). Pages that include other
//! files (`--8<--`) are not kept: what they include may change alone. The
//! cache keeps a site's rendered markdown a second time, so it is kept only
//! where the site is rebuilt while it serves (`--watch`, the wiki), and not
//! for a site larger than [`MAX_CACHED_BYTES`] of markdown (every build
//! renders it whole, as before). Entries share their rendering with the pages of
//! the snapshot that built them.
use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::markdown::RenderedMarkdown;
use crate::content::SourcePage;

/// Most markdown, in bytes, whose renderings are kept.
pub const MAX_CACHED_BYTES: usize = 128 << 20;

/// Renderings by file.
#[derive(Debug, Default)]
pub struct RenderCache {
    entries: HashMap<String, (Key, Arc<RenderedMarkdown>)>,
}

/// A digest of what rendering a page reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl Key {
    /// The key of `source`, or `None` when it must always be rendered.
    pub fn of(source: &SourcePage) -> Option<Key> {
        if source.body.contains("--8<--") {
            return None;
        }
        let mut hasher = Sha256::new();
        for part in [source.file.as_str(), source.url_path.as_str(), &source.body] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.update((source.body_first_line as u64).to_le_bytes());
        Some(Key(hasher.finalize().into()))
    }
}

impl RenderCache {
    /// The rendering of `source` kept from before, if it still holds.
    pub fn get(&self, source: &SourcePage, key: Option<Key>) -> Option<Arc<RenderedMarkdown>> {
        let (kept, rendered) = self.entries.get(&source.file)?;
        (Some(*kept) == key).then(|| rendered.clone())
    }

    /// A cache of `renderings` (file, key, rendering), when the site
    /// `rebuilds` while it serves and is not too large to keep twice.
    pub fn keep(
        renderings: Vec<(String, Option<Key>, Arc<RenderedMarkdown>)>,
        markdown_bytes: usize,
        rebuilds: bool,
    ) -> RenderCache {
        if !rebuilds || markdown_bytes > MAX_CACHED_BYTES {
            return RenderCache::default();
        }
        let entries = renderings
            .into_iter()
            .filter_map(|(file, key, rendered)| Some((file, (key?, rendered))))
            .collect();
        RenderCache { entries }
    }
}
