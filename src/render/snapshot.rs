//! The immutable snapshot of the whole site that requests read from.
//!
//! [`Snapshot::build`] loads the content, renders every page once, and keeps
//! the results: page HTML (cut around the shared sidebar), ETags, the
//! snippets, and the problems found. Serving a page is a map lookup plus
//! splicing the sidebar. A page whose file breaks during `--watch` keeps its
//! last good version (from the previous snapshot) with a banner naming the
//! error; a page that never loaded shows an error page instead.
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::web::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use sha2::{Digest, Sha256};

use super::assets::AssetUrls;
use super::highlight;
use super::includes::IncludeRoot;
use super::markdown::{self, PageContext, RenderedMarkdown};
use super::nav::{NavPage, Navigation, CURRENT_MARK};
pub use super::page_body::PageBody;
use super::render_cache::{Key, RenderCache};
use super::templates::{
    render_split, Chrome, ContentErrorTemplate, IndexEntry, IndexGroupView, IndexTemplate, Link,
    NotFoundTemplate, PageTemplate, SplitPage, WikiLinks,
};
use crate::config::{Config, ContentSource, MAX_TIMEOUT_S};
use crate::content::{self, ContentImage, ContentProblem, Snippet, SourcePage};
use crate::search::{PendingIndex, SearchSection};
use crate::util::{hex_prefix, return_free_memory_to_the_system};

/// A page ready to serve.
#[derive(Debug, Clone)]
pub struct ServedPage {
    /// The HTML before and after the sidebar.
    before_sidebar: Bytes,
    after_sidebar: Bytes,
    /// Offset in the sidebar of this page's link, if it has one.
    current_mark: Option<usize>,
    /// 200, or 500 for a page whose file could not be built.
    pub status: u16,
    /// Quoted strong ETag of the assembled page.
    pub etag: String,
}

/// Everything requests need, built once per content change.
#[derive(Debug)]
pub struct Snapshot {
    /// Counts rebuilds from 1; pages carry it so live reload can tell old pages.
    pub generation: u64,
    pages: HashMap<String, ServedPage>,
    not_found: ServedPage,
    sidebar: Bytes,
    snippets: Vec<Snippet>,
    snippet_index: HashMap<String, usize>,
    problems: Vec<ContentProblem>,
    /// The last source of each file that rendered, by file path.
    good_sources: HashMap<String, SourcePage>,
    /// Built on a thread of its own after the pages: pages serve at once.
    search: Arc<PendingIndex>,
    /// Images of the content folder, by relative path.
    images: HashMap<String, ContentImage>,
    /// Top-level folders that hold pages or images (`api` for `api/x.md`).
    top_folders: std::collections::HashSet<String>,
    /// This build's renderings, for the next build to reuse.
    render_cache: RenderCache,
    /// Addresses of moved pages: old → new.
    redirects: HashMap<String, String>,
}

/// Time spent in each stage of a build, logged at `debug`.
struct Stages(std::time::Instant);

impl Stages {
    fn start() -> Stages {
        Stages(std::time::Instant::now())
    }

    fn done(&mut self, stage: &str) {
        let now = std::time::Instant::now();
        tracing::debug!(
            stage,
            elapsed_ms = (now - self.0).as_secs_f64() * 1e3,
            "built"
        );
        self.0 = now;
    }
}

/// The address `path` is another spelling of: `a/`, `a.md` and
/// `a/index.md` are `a`.
pub fn canonical_page_path(path: &str) -> &str {
    let canonical = path.trim_end_matches('/');
    let canonical = canonical.strip_suffix(".md").unwrap_or(canonical);
    canonical.strip_suffix("/index").unwrap_or(canonical)
}

/// A page rendered from markdown, before it goes into a template.
struct BuiltPage {
    source: SourcePage,
    /// Shared with the render cache: a page unchanged since the last build
    /// is not copied.
    markdown: Arc<RenderedMarkdown>,
    title: String,
    /// The file is broken now; this is its last good version.
    problem: Option<ContentProblem>,
}

impl Snapshot {
    /// Loads and renders the whole site. `previous` supplies last good versions.
    pub fn build(
        config: &Config,
        assets: &AssetUrls,
        previous: Option<&Snapshot>,
    ) -> anyhow::Result<Snapshot> {
        let mut stage = Stages::start();
        let loaded =
            content::load(&config.content, config.drafts).context("cannot load the content")?;
        stage.done("load");
        let mut problems = loaded.problems;
        let images: HashMap<String, ContentImage> = loaded.images.into_iter().collect();
        let redirects = loaded.redirects;
        let cache = previous.map(|p| &p.render_cache);
        let mut built = render_pages(loaded.pages, config, cache, &mut problems);
        stage.done("markdown");
        let broken = restore_last_good_versions(&problems, previous, config, &mut built);

        let generation = previous.map_or(1, |p| p.generation + 1);
        let chrome = Chrome::new(config, assets, generation);
        let nav = navigation(&built, config);
        let sidebar_digest = Sha256::digest(nav.sidebar_html.as_bytes());
        stage.done("navigation");
        let pages = serve_pages(config, &chrome, &built, &broken, &nav, &sidebar_digest)?;
        stage.done("templates");
        let not_found = ServedPage::new(
            render_split(&NotFoundTemplate { chrome: &chrome })?,
            None,
            404,
            &sidebar_digest,
        );

        let snippets = snippets_in_reading_order(&built, &nav);
        let snippet_index = snippets
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let render_cache = RenderCache::keep(
            built
                .iter()
                .filter(|page| page.problem.is_none())
                .map(|page| {
                    (
                        page.source.file.clone(),
                        Key::of(&page.source),
                        page.markdown.clone(),
                    )
                })
                .collect(),
            built.iter().map(|page| page.source.body.len()).sum(),
            config.watch
                || config.access.edit != crate::config::EditAccess::Off
                || config.wiki.remote.is_some(),
        );
        let search = PendingIndex::start(search_sections(&mut built));
        stage.done("snippets and search sections");
        let good_sources = built
            .into_iter()
            .map(|page| (page.source.file.clone(), page.source))
            .collect();
        problems.sort_by(|a, b| a.file.cmp(&b.file));
        let top_folders = pages
            .keys()
            .chain(images.keys())
            .filter_map(|path| Some(path.split_once('/')?.0.to_string()))
            .collect();
        let snapshot = Snapshot {
            generation,
            pages,
            not_found,
            sidebar: Bytes::from(nav.sidebar_html),
            snippets,
            snippet_index,
            problems,
            good_sources,
            search,
            images,
            top_folders,
            render_cache,
            redirects,
        };
        highlight::release_grammars();
        return_free_memory_to_the_system();
        Ok(snapshot)
    }

    /// The page at URL path `path` (no leading or trailing `/`).
    pub fn page(&self, path: &str) -> Option<&ServedPage> {
        self.pages.get(path)
    }

    /// The file (relative to the content root) of the page at `url_path`.
    pub fn source_file(&self, url_path: &str) -> Option<&str> {
        self.good_sources
            .values()
            .find(|source| source.url_path == url_path)
            .map(|source| source.file.as_str())
    }

    /// The image of the content folder at `path` (relative, `/`-separated).
    pub fn image(&self, path: &str) -> Option<&ContentImage> {
        self.images.get(path)
    }

    /// Where the page once at `path` (no leading `/`) moved to, if it moved.
    pub fn moved_to(&self, path: &str) -> Option<&str> {
        self.redirects.get(path).map(String::as_str)
    }

    /// Whether the content has a page or image in the top-level `folder`.
    pub fn has_folder(&self, folder: &str) -> bool {
        self.top_folders.contains(folder)
    }

    /// Whether `path` (decoded, no leading `/`) is a page or image, or
    /// another spelling of a page's address (`a/`, `a.md`, `a/index`).
    pub fn claims(&self, path: &str) -> bool {
        self.page(path).is_some()
            || self.image(path).is_some()
            || self.page(canonical_page_path(path)).is_some()
    }

    /// The 404 page.
    pub fn not_found(&self) -> &ServedPage {
        &self.not_found
    }

    /// The full HTML of `page`, with the sidebar spliced in: shared pieces
    /// of the snapshot, not a copy.
    pub fn html(&self, page: &ServedPage) -> PageBody {
        let (sidebar_start, mark, sidebar_rest) = match page.current_mark {
            Some(offset) => (
                self.sidebar.slice(..offset),
                Bytes::from_static(CURRENT_MARK.as_bytes()),
                self.sidebar.slice(offset..),
            ),
            None => (self.sidebar.clone(), Bytes::new(), Bytes::new()),
        };
        PageBody::new([
            page.before_sidebar.clone(),
            sidebar_start,
            mark,
            sidebar_rest,
            page.after_sidebar.clone(),
        ])
    }

    /// A page rendered on request (search results), with the sidebar.
    pub fn with_sidebar(&self, parts: SplitPage) -> PageBody {
        PageBody::new([
            Bytes::from(parts.before_sidebar),
            self.sidebar.clone(),
            Bytes::new(),
            Bytes::new(),
            Bytes::from(parts.after_sidebar),
        ])
    }

    /// The full-text index of this snapshot's pages (maybe still being built).
    pub fn search(&self) -> &PendingIndex {
        &self.search
    }

    /// Every code block of the site, home page first, then in reading order.
    pub fn snippets(&self) -> &[Snippet] {
        &self.snippets
    }

    pub fn snippet(&self, id: &str) -> Option<&Snippet> {
        self.snippet_index.get(id).map(|&i| &self.snippets[i])
    }

    /// The blocks a run of `snippet` executes, in order: the blocks it
    /// `requires=` (transitively, each once, depth first), then itself.
    pub fn run_chain<'a>(&'a self, snippet: &'a Snippet) -> Vec<&'a Snippet> {
        crate::content::snippet::run_chain(&self.snippets, snippet)
    }

    /// Content files that are broken right now, sorted by file.
    pub fn problems(&self) -> &[ContentProblem] {
        &self.problems
    }

    /// Logs each content problem that `previous` did not have.
    pub fn log_new_problems(&self, previous: Option<&Snapshot>) {
        for problem in &self.problems {
            let known = previous.is_some_and(|p| p.problems.contains(problem));
            if !known {
                tracing::error!("content error: {problem}");
            }
        }
    }

    /// Number of pages served (including the home page and broken pages).
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }
}

impl BuiltPage {
    fn new(
        source: SourcePage,
        markdown: Arc<RenderedMarkdown>,
        problem: Option<ContentProblem>,
    ) -> Self {
        let title = page_title(&source, &markdown);
        BuiltPage {
            source,
            markdown,
            title,
            problem,
        }
    }

    fn url(&self, base_path: &str) -> String {
        crate::util::page_url(base_path, &self.source.url_path)
    }
}

/// A page's title: its front matter's, else its first `#` heading, else
/// made from its file name.
pub(super) fn page_title(source: &SourcePage, markdown: &RenderedMarkdown) -> String {
    source
        .front
        .title
        .clone()
        .or_else(|| markdown.first_h1.clone())
        .unwrap_or_else(|| source.fallback_title())
}

impl ServedPage {
    fn new(
        parts: SplitPage,
        current_mark: Option<usize>,
        status: u16,
        sidebar_digest: &[u8],
    ) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(parts.before_sidebar.as_bytes());
        hasher.update(sidebar_digest);
        hasher.update(current_mark.unwrap_or(usize::MAX).to_le_bytes());
        hasher.update(parts.after_sidebar.as_bytes());
        let etag = format!("\"{}\"", hex_prefix(&hasher.finalize(), 20));
        ServedPage {
            before_sidebar: Bytes::from(parts.before_sidebar),
            after_sidebar: Bytes::from(parts.after_sidebar),
            current_mark,
            status,
            etag,
        }
    }
}

/// Renders every loaded page; a page that fails becomes a problem in
/// `problems` instead.
fn render_pages(
    sources: Vec<SourcePage>,
    config: &Config,
    cache: Option<&RenderCache>,
    problems: &mut Vec<ContentProblem>,
) -> Vec<BuiltPage> {
    // Pages the last build rendered from the same markdown are reused.
    let kept: Vec<Option<Arc<RenderedMarkdown>>> = sources
        .iter()
        .map(|source| cache.and_then(|cache| cache.get(source, Key::of(source))))
        .collect();
    let (to_render, positions): (Vec<SourcePage>, Vec<usize>) = sources
        .iter()
        .zip(&kept)
        .enumerate()
        .filter(|(_, (_, kept))| kept.is_none())
        .map(|(index, (source, _))| (source.clone(), index))
        .unzip();
    let mut rendered: Vec<Option<Result<Arc<RenderedMarkdown>, ContentProblem>>> =
        kept.into_iter().map(|kept| kept.map(Ok)).collect();
    for (position, result) in positions.into_iter().zip(render_all(&to_render, config)) {
        rendered[position] = Some(result.map(Arc::new));
    }
    let mut built = Vec::with_capacity(sources.len());
    for (source, result) in sources.into_iter().zip(rendered) {
        match result.expect("every page is kept or rendered") {
            Ok(markdown) => built.push(BuiltPage::new(source, markdown, None)),
            Err(problem) => problems.push(problem),
        }
    }
    built
}

/// For each problem, the file's last good version from `previous` joins
/// `built` (with the problem as its banner). Returns the problems with no
/// good version to fall back on: their pages are error pages.
fn restore_last_good_versions(
    problems: &[ContentProblem],
    previous: Option<&Snapshot>,
    config: &Config,
    built: &mut Vec<BuiltPage>,
) -> Vec<ContentProblem> {
    let mut broken = Vec::new();
    for problem in problems {
        let last_good = previous
            .and_then(|p| p.good_sources.get(&problem.file))
            .and_then(|source| Some((source.clone(), render_markdown(source, config).ok()?)));
        match last_good {
            Some((source, markdown)) => built.push(BuiltPage::new(
                source,
                Arc::new(markdown),
                Some(problem.clone()),
            )),
            None => broken.push(problem.clone()),
        }
    }
    broken
}

/// The site navigation (sidebar, reading order, index groups) of `built`.
fn navigation(built: &[BuiltPage], config: &Config) -> Navigation {
    let nav_pages: Vec<NavPage<'_>> = built
        .iter()
        .map(|page| NavPage {
            url_path: &page.source.url_path,
            file: &page.source.file,
            title: &page.title,
            weight: page.source.front.weight,
            is_section_index: page.source.is_section_index,
            draft: page.source.front.draft,
        })
        .collect();
    let mkdocs_nav = config.mkdocs.as_ref().and_then(|p| p.nav.as_deref());
    match mkdocs_nav {
        Some(entries) => Navigation::build_from_mkdocs(entries, &nav_pages, &config.base_path),
        None => Navigation::build(&nav_pages, &config.base_path),
    }
}

/// Every page ready to serve, by URL path: the built pages, the home page
/// (an index, unless the content has one), and an error page per broken file.
fn serve_pages(
    config: &Config,
    chrome: &Chrome<'_>,
    built: &[BuiltPage],
    broken: &[ContentProblem],
    nav: &Navigation,
    sidebar_digest: &[u8],
) -> anyhow::Result<HashMap<String, ServedPage>> {
    let mut pages = HashMap::with_capacity(built.len() + broken.len());
    for (index, page) in built.iter().enumerate() {
        let parts = if page.source.url_path.is_empty() {
            render_index(chrome, config, built, nav, Some(page))?
        } else {
            render_page(config, chrome, built, nav, index)?
        };
        let current_mark = nav.current_marks[index];
        pages.insert(
            page.source.url_path.clone(),
            ServedPage::new(parts, current_mark, 200, sidebar_digest),
        );
    }
    if !pages.contains_key("") {
        let parts = render_index(chrome, config, built, nav, None)?;
        pages.insert(
            String::new(),
            ServedPage::new(parts, None, 200, sidebar_digest),
        );
    }
    for problem in broken {
        let parts = render_split(&ContentErrorTemplate {
            chrome,
            problem,
            wiki: WikiLinks::of(chrome, &problem.file),
        })?;
        pages.insert(
            problem.url_path.clone(),
            ServedPage::new(parts, None, 500, sidebar_digest),
        );
    }
    Ok(pages)
}

/// Every code block of the site: the home page's first, then the other
/// pages' in reading order, then those of pages the navigation leaves out.
fn snippets_in_reading_order(built: &[BuiltPage], nav: &Navigation) -> Vec<Snippet> {
    let mut listed = vec![false; built.len()];
    let home = built.iter().position(|p| p.source.url_path.is_empty());
    let reading_order = home
        .into_iter()
        .chain(nav.order.iter().copied())
        .chain(0..built.len())
        .filter(|&index| !std::mem::replace(&mut listed[index], true));
    reading_order
        .flat_map(|index| built[index].markdown.snippets.iter().cloned())
        .collect()
}

/// Every section of every page, for the search index: taken from the
/// pages (nothing else needs them), not copied.
fn search_sections(built: &mut [BuiltPage]) -> Vec<SearchSection> {
    built
        .iter_mut()
        .flat_map(|page| {
            let sections = page.markdown.sections.clone();
            let (url_path, title) = (&page.source.url_path, &page.title);
            sections.into_iter().map(move |section| SearchSection {
                page: url_path.clone(),
                title: title.clone(),
                heading: section.heading,
                anchor: section.anchor,
                text: section.text,
                code: section.code,
            })
        })
        .collect()
}

/// Renders the markdown of every page, on as many threads as there are cores
/// (highlighting code is most of a site's build time). Results keep the
/// order of `sources`.
fn render_all(
    sources: &[SourcePage],
    config: &Config,
) -> Vec<Result<RenderedMarkdown, ContentProblem>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(sources.len().div_ceil(PAGES_PER_THREAD_AT_LEAST))
        .max(1);
    if threads == 1 {
        return sources.iter().map(|s| render_markdown(s, config)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Result<RenderedMarkdown, ContentProblem>)> =
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            let Some(source) = sources.get(index) else {
                                return done;
                            };
                            done.push((index, render_markdown(source, config)));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().expect("rendering a page does not panic"))
                .collect()
        });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Below this many pages per core, one thread renders everything.
const PAGES_PER_THREAD_AT_LEAST: usize = 8;

pub(crate) fn render_markdown(
    source: &SourcePage,
    config: &Config,
) -> Result<RenderedMarkdown, ContentProblem> {
    let context = PageContext {
        url_path: &source.url_path,
        body_first_line: source.body_first_line,
        default_timeout_s: config.run.timeout_s,
        max_timeout_s: MAX_TIMEOUT_S,
        base_path: &config.base_path,
        file_dir: source.file.rsplit_once('/').map_or("", |(dir, _)| dir),
        includes: match &config.content {
            ContentSource::Dir(dir) => Some(IncludeRoot {
                dir,
                page_file: &source.file,
            }),
            ContentSource::Bundled => None,
        },
    };
    if !source.front.ignored.is_empty() {
        tracing::info!(
            file = %source.file,
            keys = source.front.ignored.join(", "),
            "front matter keys of other tools, left alone"
        );
    }
    let rendered = markdown::render(&source.body, context);
    if let Ok(rendered) = &rendered {
        for warning in &rendered.warnings {
            tracing::warn!(
                file = %source.file,
                line = warning.line,
                "{}",
                warning.message
            );
        }
    }
    rendered.map_err(|error| ContentProblem {
        url_path: source.url_path.clone(),
        file: source.file.clone(),
        line: Some(error.line),
        message: error.message,
    })
}

/// Where to edit `file`, from the site's `edit_url_template`.
fn edit_url(config: &Config, file: &str) -> Option<String> {
    config
        .edit_url_template
        .as_ref()
        .map(|template| template.replace("{path}", &crate::util::encode_path(file)))
}

fn render_page(
    config: &Config,
    chrome: &Chrome<'_>,
    built: &[BuiltPage],
    nav: &Navigation,
    index: usize,
) -> anyhow::Result<SplitPage> {
    let page = &built[index];
    let (prev, next) = nav.neighbours(index);
    let link = |i: usize| Link {
        url: built[i].url(&config.base_path),
        title: &built[i].title,
    };
    let template = PageTemplate {
        chrome,
        title: &page.title,
        description: page.source.front.description.as_deref(),
        body_html: &page.markdown.html,
        show_title: !page.markdown.starts_with_h1,
        draft: page.source.front.draft,
        toc: &page.markdown.toc,
        prev: prev.map(link),
        next: next.map(link),
        problem: page.problem.as_ref().map(ToString::to_string),
        edit_url: edit_url(config, &page.source.file),
        wiki: WikiLinks::of(chrome, &page.source.file),
    };
    render_split(&template)
        .with_context(|| format!("cannot render the page of {}", page.source.file))
}

fn render_index(
    chrome: &Chrome<'_>,
    config: &Config,
    built: &[BuiltPage],
    nav: &Navigation,
    home: Option<&BuiltPage>,
) -> anyhow::Result<SplitPage> {
    let groups = nav
        .index_groups
        .iter()
        .map(|group| IndexGroupView {
            title: group.title.as_deref(),
            entries: group
                .pages
                .iter()
                .map(|&(index, depth)| IndexEntry {
                    url: built[index].url(&config.base_path),
                    title: &built[index].title,
                    description: built[index].source.front.description.as_deref(),
                    depth,
                })
                .collect(),
        })
        .collect();
    let description = home
        .and_then(|h| h.source.front.description.as_deref())
        .or(Some(config.description.as_str()).filter(|d| !d.is_empty()));
    let template = IndexTemplate {
        chrome,
        intro_html: home.map(|h| h.markdown.html.as_str()),
        description,
        groups,
        wiki: home.and_then(|h| WikiLinks::of(chrome, &h.source.file)),
    };
    render_split(&template).context("cannot render the index page")
}
