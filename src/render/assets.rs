//! The site's CSS and JavaScript, embedded in the binary.
//!
//! Every file of `static/` is served
//! under a content-hashed name such as `style.3f9a0c1b2d.css`, which can be
//! cached for a year: a changed file gets a new name. The plain name still
//! answers, with revalidation, for hand-written links.
use std::borrow::Cow;
use std::collections::HashMap;

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::config::INTERNAL_PREFIX;
use crate::util::hex_prefix;

#[derive(RustEmbed)]
#[folder = "static/"]
struct StaticFiles;

/// Name of the syntax-highlighting stylesheet.
pub const HIGHLIGHT_CSS: &str = "highlight.css";

/// One servable file.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Cow<'static, [u8]>,
    pub content_type: String,
    /// Quoted strong ETag.
    pub etag: String,
    /// Served under its hashed name: cache forever.
    pub immutable: bool,
}

/// URLs of the assets the layout links, by purpose.
#[derive(Debug, Clone)]
pub struct AssetUrls {
    pub style: String,
    pub highlight: String,
    pub print: String,
    pub theme_js: String,
    pub site_js: String,
    pub run_js: String,
    /// The code editor (CodeMirror, built from `editor/`): not linked by
    /// pages, which load it only when a reader edits an example.
    pub editor_js: String,
    /// The wiki's editor and history pages (static/wiki.js): linked only by them.
    pub wiki_js: String,
}

/// All assets by the names they are served under.
#[derive(Debug)]
pub struct AssetTable {
    files: HashMap<String, Asset>,
    hashed_names: HashMap<String, String>,
    pub urls: AssetUrls,
}

impl AssetTable {
    /// Hashes and indexes the embedded files. Done once at start-up.
    /// `base_path` goes before the URLs in [`AssetUrls`] (`""` at the root).
    pub fn build(base_path: &str) -> AssetTable {
        let sources: Vec<(String, Cow<'static, [u8]>)> = StaticFiles::iter()
            .filter_map(|name| Some((name.to_string(), StaticFiles::get(&name)?.data)))
            .collect();

        let mut files = HashMap::new();
        let mut hashed_names = HashMap::new();
        for (name, bytes) in sources {
            let digest = hex_prefix(&Sha256::digest(&bytes), 10);
            let content_type = mime_guess::from_path(&name)
                .first_or_octet_stream()
                .essence_str()
                .to_string();
            let content_type =
                if content_type.starts_with("text/") || content_type.ends_with("javascript") {
                    format!("{content_type}; charset=utf-8")
                } else {
                    content_type
                };
            let hashed = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{digest}.{ext}"),
                None => format!("{name}.{digest}"),
            };
            let asset = Asset {
                bytes,
                content_type,
                etag: format!("\"{digest}\""),
                immutable: false,
            };
            files.insert(
                hashed.clone(),
                Asset {
                    immutable: true,
                    ..asset.clone()
                },
            );
            files.insert(name.clone(), asset);
            hashed_names.insert(name, hashed);
        }
        let url = |name: &str| {
            let hashed = hashed_names
                .get(name)
                .unwrap_or_else(|| panic!("static/{name} is embedded"));
            format!("{base_path}{INTERNAL_PREFIX}/static/{hashed}")
        };
        let urls = AssetUrls {
            style: url("style.css"),
            highlight: url(HIGHLIGHT_CSS),
            print: url("print.css"),
            theme_js: url("theme.js"),
            site_js: url("site.js"),
            run_js: url("run.js"),
            editor_js: url("editor.js"),
            wiki_js: url("wiki.js"),
        };
        AssetTable {
            files,
            hashed_names,
            urls,
        }
    }

    /// The file served as `/static/{name}`.
    pub fn get(&self, name: &str) -> Option<&Asset> {
        self.files.get(name)
    }

    /// Every plain name with its hashed name.
    pub fn hashed_names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.hashed_names
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
    }
}
