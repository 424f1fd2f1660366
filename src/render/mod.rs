//! From loaded content to servable HTML.
//!
//! - [`markdown`]: the one pulldown-cmark pass per page (HTML, headings, snippets),
//!   after line-based rewrites of Python-Markdown syntax that keep the file's
//!   line numbers (`line_map`): included files ([`includes`]), admonitions and
//!   tabs (`admonitions`), abbreviations (`abbreviations`).
//! - [`highlight`]: bounded server-side syntax highlighting.
//! - [`session`]: interpreter sessions shown with prompts and output apart.
//! - [`code_block`]: a block's `<pre>`, line by line for `linenums` and `hl_lines`.
//! - [`nav`]: section tree, reading order and the shared sidebar.
//! - [`templates`]: askama templates and their data.
//! - [`assets`]: the embedded CSS/JS under content-hashed names.
//! - [`snapshot`]: all of the above, built once per content change.
//! - [`preview`]: one page's text rendered the same way outside the
//!   snapshot (the wiki editor's preview, old revisions).
mod abbreviations;
mod admonitions;
pub mod assets;
pub mod code_block;
pub mod highlight;
pub mod includes;
mod line_map;
pub mod markdown;
pub mod nav;
pub mod page_body;
pub mod preview;
pub mod publisher;
pub mod render_cache;
mod session;
pub mod snapshot;
pub mod templates;

pub use assets::AssetTable;
pub use snapshot::{ServedPage, Snapshot};
