//! rundocs: a self-hosted docs site whose Python examples run in-process.
//!
//! Data moves one way through the crate:
//!
//! - [`config`]: what the operator asked for (defaults → `rundocs.toml` →
//!   `RUNDOCS_*` environment → flags), validated once into a [`config::Config`].
//! - [`content`]: reads the markdown files into [`content::SourcePage`]s (front
//!   matter split and parsed, code-fence attributes understood).
//! - [`render`]: turns the loaded pages into an immutable [`render::Snapshot`]:
//!   every page's HTML, its table of contents, the site navigation and the
//!   list of code snippets, all from one markdown pass per page.
//! - [`search`]: the full-text index of a snapshot (tantivy, in memory).
//! - [`access`]: who may read and who may run (basic auth, tokens, a
//!   trusted proxy's header).
//! - [`web`]: the HTTP routes. A page request is a lookup in the current
//!   snapshot; nothing on a request path renders markdown or touches Python.
//! - [`watch`]: with `--watch`, rebuilds the snapshot when content changes and
//!   tells open pages to reload.
//! - [`runtime`]: the embedded CPython interpreter.
//! - [`app`]: wires all of it into a bound, running server.
//! - [`check`]: `rundocs check`, which runs every example and compares its output.
//!
//! - [`util`]: the few helpers everything may use (HTML escaping, hex
//!   digests, returning freed memory); it uses nothing of the crate.
//!
//! `main.rs` only parses the command line ([`cli`]) and calls into [`app`].

pub mod access;
pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod content;
pub mod init;
pub mod render;
pub mod runtime;
pub mod sandbox;
pub mod search;
pub mod util;
pub mod watch;
pub mod web;
pub mod wiki;
