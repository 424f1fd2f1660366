//! askama templates (files in `templates/`) and the data each one needs.
//!
//! Every template extends `base.html`, which leaves a marker where the shared
//! sidebar goes; [`render_split`] renders a template and cuts it at the marker.
use askama::Template;
use serde::Serialize;

use super::assets::AssetUrls;
use super::markdown::TocEntry;
use crate::config::{AccessLevel, Config, EditAccess};
use crate::content::ContentProblem;

/// Where the layout leaves room for the sidebar.
pub const SIDEBAR_MARKER: &str = "<!--rundocs:sidebar-->";

/// What the layout shows on every page.
#[derive(Debug)]
pub struct Chrome<'a> {
    pub site_title: &'a str,
    pub assets: &'a AssetUrls,
    /// Snapshot generation, so live reload can tell an outdated page.
    pub generation: u64,
    pub live_reload: bool,
    /// Path the site is served under (`""` at the root); URLs start with it.
    pub base: &'a str,
    /// Where rundocs' own routes (search, API) start: `{base}/_rundocs`.
    pub routes: String,
    /// Runs need signing in: pages ask who the reader is before offering Run.
    pub runs_restricted: bool,
    /// `run.edit` when it is not `off` (`"open"` or `"restricted"`): pages
    /// offer Edit, loading the editor bundle when a reader first clicks it.
    pub edit: Option<&'static str>,
    /// `access.edit` when it is not `off` (`"open"` or `"restricted"`): pages
    /// link to the wiki's editor and history (see [`WikiLinks`]).
    pub wiki: Option<&'static str>,
}

impl<'a> Chrome<'a> {
    /// The layout's data for the site `config` describes, at `generation`.
    pub fn new(config: &'a Config, assets: &'a AssetUrls, generation: u64) -> Chrome<'a> {
        Chrome {
            site_title: &config.title,
            assets,
            generation,
            live_reload: config.watch,
            base: &config.base_path,
            routes: config.routes_base(),
            runs_restricted: config.access.run == AccessLevel::Restricted,
            edit: (config.run.edit != EditAccess::Off).then(|| config.run.edit.name()),
            wiki: (config.access.edit != EditAccess::Off).then(|| config.access.edit.name()),
        }
    }

    /// Only some readers may edit pages: what only they may use is
    /// rendered hidden, and the page's script shows it once
    /// `GET /api/session` says `can_edit_pages`.
    pub fn editors_only(&self) -> bool {
        self.wiki == Some(EditAccess::Restricted.name())
    }
}

/// The wiki's links for one page's file: edit it, see its history.
#[derive(Debug, Clone)]
pub struct WikiLinks {
    pub edit: String,
    pub history: String,
    /// The edit link is hidden until the script hears this reader may edit.
    pub editors_only: bool,
}

impl WikiLinks {
    /// The links for `file` (relative to the content folder), when the
    /// site's pages are edited in the browser.
    pub fn of(chrome: &Chrome<'_>, file: &str) -> Option<WikiLinks> {
        chrome.wiki?;
        let file = crate::util::encode_query_value(file);
        Some(WikiLinks {
            edit: format!("{}/edit?path={file}", chrome.routes),
            history: format!("{}/history?path={file}", chrome.routes),
            editors_only: chrome.editors_only(),
        })
    }
}

/// A page's article: the draft badge, the title heading the layout adds
/// when the markdown opens with none, and the body. Pages include it
/// (`partials/article_body.html`), and the wiki's preview and old
/// revisions render it alone, so they look as the page will.
#[derive(Template)]
#[template(path = "partials/article_body.html")]
pub struct ArticleTemplate<'a> {
    pub title: &'a str,
    pub draft: bool,
    pub show_title: bool,
    pub body_html: &'a str,
}

/// A link to another page.
#[derive(Debug, Clone)]
pub struct Link<'a> {
    pub url: String,
    pub title: &'a str,
}

#[derive(Template)]
#[template(path = "page.html")]
pub struct PageTemplate<'a> {
    pub chrome: &'a Chrome<'a>,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub body_html: &'a str,
    /// The body does not open with its own `#` heading.
    pub show_title: bool,
    pub draft: bool,
    pub toc: &'a [TocEntry],
    pub prev: Option<Link<'a>>,
    pub next: Option<Link<'a>>,
    /// Set when the page's current file is broken and this is its last good version.
    pub problem: Option<String>,
    /// "Edit this page" link, when the site has an `edit_url_template`.
    pub edit_url: Option<String>,
    /// The wiki's links, when pages are edited in the browser (these win
    /// over `edit_url`).
    pub wiki: Option<WikiLinks>,
}

/// One entry of the index page's article list.
#[derive(Debug)]
pub struct IndexEntry<'a> {
    pub url: String,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub depth: usize,
}

#[derive(Debug)]
pub struct IndexGroupView<'a> {
    pub title: Option<&'a str>,
    pub entries: Vec<IndexEntry<'a>>,
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexTemplate<'a> {
    pub chrome: &'a Chrome<'a>,
    /// The body of `content/index.md`, if there is one.
    pub intro_html: Option<&'a str>,
    pub description: Option<&'a str>,
    pub groups: Vec<IndexGroupView<'a>>,
    /// The wiki's links for `content/index.md`, when there is one to edit.
    pub wiki: Option<WikiLinks>,
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundTemplate<'a> {
    pub chrome: &'a Chrome<'a>,
}

/// One search hit, as `/api/search` returns it and the search page shows it.
#[derive(Debug, Serialize)]
pub struct SearchHitView<'a> {
    /// URL path of the page, as in `/api/snippets` (no leading `/`).
    pub path: &'a str,
    pub title: &'a str,
    /// The section's heading; empty for the text before the first heading.
    pub heading: &'a str,
    /// HTML-escaped text with the matched words in `<mark>`, from [`crate::search`].
    pub excerpt: &'a str,
    pub score: f32,
    /// Link to the section, base path and anchor included.
    pub url: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchTemplate<'a> {
    pub chrome: &'a Chrome<'a>,
    pub query: &'a str,
    pub hits: Vec<SearchHitView<'a>>,
}

/// The page of a 401 or 403.
#[derive(Template)]
#[template(path = "access_denied.html")]
pub struct AccessDeniedTemplate<'a> {
    pub site_title: &'a str,
    pub stylesheet: &'a str,
    pub heading: &'a str,
    pub message: &'a str,
    pub hint: Option<&'a str>,
    pub login_url: Option<String>,
}

#[derive(Template)]
#[template(path = "content_error.html")]
pub struct ContentErrorTemplate<'a> {
    pub chrome: &'a Chrome<'a>,
    pub problem: &'a ContentProblem,
    /// The wiki's links to the broken file: fix it in the browser.
    pub wiki: Option<WikiLinks>,
}

/// A rendered page cut at the sidebar marker.
#[derive(Debug, Clone)]
pub struct SplitPage {
    pub before_sidebar: String,
    pub after_sidebar: String,
}

/// Renders `template` and splits it where the sidebar goes.
pub fn render_split(template: &impl Template) -> Result<SplitPage, askama::Error> {
    let html = template.render()?;
    let (before, after) = html
        .split_once(SIDEBAR_MARKER)
        .expect("base.html contains the sidebar marker");
    Ok(SplitPage {
        before_sidebar: before.to_string(),
        after_sidebar: after.to_string(),
    })
}
