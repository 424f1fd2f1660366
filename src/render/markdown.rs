//! Markdown → HTML in one pulldown-cmark pass.
//!
//! The same pass that writes the HTML also collects what the rest of rundocs
//! needs from a page: the headings (with unique ids) for the table of
//! contents, the first `#` heading (a title when front matter gives none),
//! and every code block as a [`Snippet`] with its attributes and its expected
//! output. Text outside code gets the page's abbreviations on its way through.
//! [`parser_options`] is the one set of options the whole program uses.
use std::collections::HashMap;

use pulldown_cmark::utils::TextMergeWithOffset;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::abbreviations::{self, Abbreviations};
use super::admonitions;
use super::code_block::{code_block_from_html, code_block_html};
use super::highlight::code_html;
use super::includes::{self, IncludeRoot};
use super::line_map::Prepared;
use super::session::{read_session, session_html};
use crate::content::fence::lines::LineOptions;
use crate::content::fence::{self, Fence};
use crate::content::session;
use crate::content::snippet::snippet_id;
use crate::content::Snippet;
use crate::util::escape_html;

/// The markdown dialect of every page: GitHub-flavoured tables, footnotes,
/// strikethrough and task lists, heading attributes as attr_list writes
/// them (`{#id}`, `{ #id .class key=value }`, `{: #id }`), definition lists,
/// and smart punctuation (which pulldown-cmark never applies inside code).
pub fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM
        | Options::ENABLE_DEFINITION_LIST
}

/// One entry of a page's table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    /// 2 or 3.
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// Everything one pass produces.
#[derive(Debug, Clone, Default)]
pub struct RenderedMarkdown {
    pub html: String,
    pub toc: Vec<TocEntry>,
    /// Text of the first `#` heading anywhere in the page.
    pub first_h1: Option<String>,
    /// The page opens with a `#` heading (so the layout adds no title heading).
    pub starts_with_h1: bool,
    /// Every code block except `output` blocks, in page order.
    pub snippets: Vec<Snippet>,
    /// The page's text cut at its headings, for search.
    pub sections: Vec<Section>,
    /// What rendering ignored and the author may want to know (other
    /// tools' block attributes), at lines of the file.
    pub warnings: Vec<MarkdownError>,
}

/// The text of a page from one heading to the next (the first section,
/// before any heading, has an empty heading and anchor).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    /// The heading's id, for a link to it.
    pub anchor: String,
    /// Prose, inline code included.
    pub text: String,
    /// Code blocks and their recorded output.
    pub code: String,
}

/// What the pass needs to know about the page.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    /// URL path of the page, used in snippet ids.
    pub url_path: &'a str,
    /// 1-based line in the file where the markdown starts (after front matter).
    pub body_first_line: usize,
    pub default_timeout_s: f64,
    pub max_timeout_s: f64,
    /// Path the site is served under (`""` or e.g. `/docs`), put before
    /// links that start with `/`.
    pub base_path: &'a str,
    /// The folder of the page's file, relative to the content root (`""` at
    /// the root): where recorded output images are.
    pub file_dir: &'a str,
    /// Where `--8<--` includes are read from (`None`: the bundled write-ups).
    pub includes: Option<IncludeRoot<'a>>,
}

/// A mistake in the markdown, at a 1-based line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownError {
    pub line: usize,
    pub message: String,
}

/// Renders `markdown` and collects its headings and code blocks.
pub fn render(markdown: &str, context: PageContext<'_>) -> Result<RenderedMarkdown, MarkdownError> {
    // Python-Markdown's line-based syntax, rewritten to plain markdown
    // (lines still counted as in the file): included files, admonitions
    // and tabs, abbreviation definitions.
    let mut include_warnings = Vec::new();
    let mut abbreviations = Abbreviations::default();
    let prepared = Prepared::new(markdown)
        .then(|text| includes::expand(text, context.includes, &mut include_warnings))
        .then(admonitions::rewrite)
        .then(|text| {
            let (rewritten, found) = abbreviations::extract(text);
            abbreviations = found;
            rewritten
        });
    let lines = LineIndex::new(&prepared, context.body_first_line);
    let mut pass = Pass::new(context);
    pass.out
        .warnings
        .extend(include_warnings.into_iter().map(|warning| MarkdownError {
            line: context.body_first_line + warning.line,
            message: warning.message,
        }));
    let mut events = Vec::new();
    let parser = Parser::new_ext(&prepared.text, parser_options()).into_offset_iter();
    for (event, range) in TextMergeWithOffset::new(parser) {
        let line = lines.line_of(range.start);
        let in_code = pass.code.is_some();
        abbreviations.mark(event, in_code, |event| {
            pass.handle(event, line, &mut events)
        })?;
    }
    pass.close_snippet(&mut events);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    check_requires(&pass.out.snippets)?;
    pass.out.html = html;
    Ok(pass.out)
}

/// A code block being read.
struct OpenCode {
    info: String,
    line: usize,
    text: String,
}

/// A heading being read: its inner events wait until its id is known.
struct OpenHeading {
    level: HeadingLevel,
    id: Option<String>,
    classes: Vec<String>,
    inner: Vec<Event<'static>>,
}

struct Pass<'a> {
    context: PageContext<'a>,
    out: RenderedMarkdown,
    code: Option<OpenCode>,
    heading: Option<OpenHeading>,
    /// The wrapper of the last runnable block is still open, waiting for an `output` block.
    snippet_open: Option<usize>,
    used_ids: HashMap<String, usize>,
    same_code: HashMap<String, usize>,
    seen_any_block: bool,
}

impl<'a> Pass<'a> {
    fn new(context: PageContext<'a>) -> Self {
        Pass {
            context,
            out: RenderedMarkdown {
                sections: vec![Section::default()],
                ..RenderedMarkdown::default()
            },
            code: None,
            heading: None,
            snippet_open: None,
            used_ids: HashMap::new(),
            same_code: HashMap::new(),
            seen_any_block: false,
        }
    }

    fn handle(
        &mut self,
        event: Event<'_>,
        line: usize,
        events: &mut Vec<Event<'static>>,
    ) -> Result<(), MarkdownError> {
        if let Some(code) = &mut self.code {
            match event {
                Event::Text(text) => code.text.push_str(&text),
                Event::End(TagEnd::CodeBlock) => {
                    let code = self.code.take().expect("a code block is open");
                    self.finish_code(code, events)?;
                }
                _ => {}
            }
            return Ok(());
        }
        if let Some(heading) = &mut self.heading {
            if let Event::End(TagEnd::Heading(_)) = event {
                let heading = self.heading.take().expect("a heading is open");
                self.finish_heading(heading, events);
            } else {
                heading
                    .inner
                    .push(under_base_path(self.context.base_path, event));
            }
            return Ok(());
        }
        let starts_output = matches!(
            &event,
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                if fence::parse(info, f64::MAX) == Ok(Fence::Output)
        );
        if !starts_output {
            self.close_snippet(events);
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                self.seen_any_block = true;
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.into_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some(OpenCode {
                    info,
                    line,
                    text: String::new(),
                });
            }
            // `{ #id .class key=value }` after a heading, as attr_list
            // writes it (`{: …}` too): the id and classes are kept, other
            // attributes dropped.
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs: _,
            }) => {
                if !self.seen_any_block && level == HeadingLevel::H1 {
                    self.out.starts_with_h1 = true;
                }
                self.seen_any_block = true;
                self.heading = Some(OpenHeading {
                    level,
                    id: id.filter(|id| whole_attribute(id)).map(CowStr::into_string),
                    classes: classes
                        .into_iter()
                        .filter(|class| whole_attribute(class))
                        .map(CowStr::into_string)
                        .collect(),
                    inner: Vec::new(),
                });
            }
            other => {
                if matches!(other, Event::Start(_) | Event::Rule | Event::Html(_)) {
                    self.seen_any_block = true;
                }
                match &other {
                    Event::Text(text) | Event::Code(text) => self.section().text.push_str(text),
                    Event::SoftBreak | Event::HardBreak | Event::End(_) => {
                        self.section().text.push(' ')
                    }
                    _ => {}
                }
                events.push(under_base_path(self.context.base_path, other));
            }
        }
        Ok(())
    }

    /// The URL of the page file's folder, ending in `/`.
    fn images_url(&self) -> String {
        let dir = self.context.file_dir;
        if dir.is_empty() {
            format!("{}/", self.context.base_path)
        } else {
            format!("{}/{dir}/", self.context.base_path)
        }
    }

    /// The section being read.
    fn section(&mut self) -> &mut Section {
        self.out
            .sections
            .last_mut()
            .expect("there is always a first section")
    }

    /// Ends the wrapper of a runnable block that got no `output` block.
    fn close_snippet(&mut self, events: &mut Vec<Event<'static>>) {
        if self.snippet_open.take().is_some() {
            events.push(Event::Html(CowStr::Borrowed("</div>\n")));
        }
    }

    fn finish_code(
        &mut self,
        code: OpenCode,
        events: &mut Vec<Event<'static>>,
    ) -> Result<(), MarkdownError> {
        let fence = fence::parse(&code.info, self.context.max_timeout_s).map_err(|message| {
            MarkdownError {
                line: code.line,
                message,
            }
        })?;
        let section = self.section();
        section.code.push_str(&code.text);
        section.code.push('\n');
        let html = match fence {
            Fence::Output => match self.snippet_open.take() {
                Some(index) => {
                    self.out.snippets[index].expected_output = Some(code.text.clone());
                    let id = &self.out.snippets[index].id;
                    format!(
                        "<div class=\"recorded-output\" data-output-for=\"{id}\">\
                         <p class=\"recorded-output-label\">Output</p>\
                         {}</div>\n</div>\n",
                        recorded_output_html(&code.text, &self.images_url())
                    )
                }
                None => format!(
                    "<pre class=\"output\"><code>{}</code></pre>\n",
                    escape_html(&code.text)
                ),
            },
            Fence::Python(attributes) => {
                if !attributes.ignored.is_empty() {
                    self.out.warnings.push(MarkdownError {
                        line: code.line,
                        message: format!(
                            "attributes rundocs does not use, ignored: {}",
                            attributes.ignored.join(" ")
                        ),
                    });
                }
                let title = title_html(attributes.title.as_deref());
                let session = (attributes.console || session::starts_with_prompt(&code.text))
                    .then(|| read_session(&code.text, code.line, &attributes))
                    .transpose()?;
                let language = if session.is_some() { "pycon" } else { "python" };
                let highlighted = match &session {
                    Some(session) => session_html(&code.text, session),
                    None => code_html(&code.text, "python"),
                };
                let block = code_block_from_html(language, highlighted, &self.line_options(&code));
                let snippet = self.push_snippet(&code, language, !attributes.norun);
                let snippet = &mut self.out.snippets[snippet];
                snippet.timeout_s = attributes
                    .timeout_s
                    .unwrap_or(self.context.default_timeout_s);
                snippet.name = attributes.name;
                snippet.requires = attributes.requires;
                snippet.expect_error = attributes.expect_error;
                snippet.echo = attributes.echo;
                snippet.session = session.is_some();
                if snippet.runnable {
                    // A session's expected output is inside it: no `output`
                    // block belongs to it.
                    let close = if snippet.session { "</div>\n" } else { "" };
                    if !snippet.session {
                        self.snippet_open = Some(snippet.index);
                    }
                    format!(
                        "<div class=\"snippet\" data-snippet-id=\"{}\" data-timeout-s=\"{}\">\n{title}{block}{close}",
                        snippet.id, snippet.timeout_s
                    )
                } else {
                    format!("{title}{block}")
                }
            }
            Fence::Other { language, title } => {
                let block = code_block_html(&language, &code.text, &self.line_options(&code));
                self.push_snippet(&code, &language, false);
                format!("{}{block}", title_html(title.as_deref()))
            }
        };
        events.push(Event::Html(CowStr::from(html)));
        Ok(())
    }

    /// The block's `linenums` and `hl_lines`; what cannot be read is a warning.
    fn line_options(&mut self, code: &OpenCode) -> LineOptions {
        let (options, problems) = fence::lines::parse(&code.info, code.text.lines().count());
        self.out
            .warnings
            .extend(problems.into_iter().map(|message| MarkdownError {
                line: code.line,
                message,
            }));
        options
    }

    /// Records a code block and returns its index in `out.snippets`.
    fn push_snippet(&mut self, code: &OpenCode, language: &str, runnable: bool) -> usize {
        let occurrence = self.same_code.entry(code.text.clone()).or_insert(0);
        let id = snippet_id(self.context.url_path, &code.text, *occurrence);
        *occurrence += 1;
        let index = self.out.snippets.len();
        self.out.snippets.push(Snippet {
            id,
            page: self.context.url_path.to_string(),
            index,
            language: language.to_string(),
            runnable,
            code: code.text.clone(),
            timeout_s: self.context.default_timeout_s,
            name: None,
            requires: Vec::new(),
            expect_error: false,
            echo: false,
            session: false,
            expected_output: None,
            line: code.line,
        });
        index
    }

    fn finish_heading(&mut self, heading: OpenHeading, events: &mut Vec<Event<'static>>) {
        let text = plain_text(&heading.inner);
        let level = heading.level as u8;
        if level == 1 && self.out.first_h1.is_none() {
            self.out.first_h1 = Some(text.clone());
        }
        let id = self.unique_id(heading.id.unwrap_or_else(|| slugify(&text)));
        self.out.sections.push(Section {
            heading: text.clone(),
            anchor: id.clone(),
            ..Section::default()
        });
        if level == 2 || level == 3 {
            self.out.toc.push(TocEntry {
                level,
                id: id.clone(),
                text,
            });
        }
        let class = if heading.classes.is_empty() {
            String::new()
        } else {
            format!(" class=\"{}\"", escape_html(&heading.classes.join(" ")))
        };
        let id = escape_html(&id);
        events.push(Event::Html(CowStr::from(format!(
            "<h{level} id=\"{id}\"{class}>"
        ))));
        events.extend(heading.inner);
        events.push(Event::Html(CowStr::from(format!(
            "<a class=\"heading-anchor\" href=\"#{id}\" aria-label=\"Link to this section\">#</a></h{level}>\n"
        ))));
    }

    fn unique_id(&mut self, base: String) -> String {
        let count = self.used_ids.entry(base.clone()).or_insert(0);
        *count += 1;
        if *count == 1 {
            base
        } else {
            format!("{base}-{}", *count - 1)
        }
    }
}

/// `event`, with the base path put in front of a link or image to a path of
/// this site (`/page`, not `//host/page`).
/// `![alt](path)` alone on a line of an `output` block: an image that
/// `rundocs check --record` saved, with a path relative to the page's file.
pub fn recorded_image(line: &str) -> Option<(&str, &str)> {
    let inner = line.trim().strip_prefix("![")?.strip_suffix(')')?;
    let (alt, path) = inner.split_once("](")?;
    let safe = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains("://")
        && !path.contains(':')
        && path.split('/').all(|part| part != ".." && !part.is_empty());
    safe.then_some((alt, path))
}

/// A recorded output: its text in `<pre>`s, its image lines as images.
fn recorded_output_html(text: &str, images_url: &str) -> String {
    let mut html = String::new();
    let mut pending = String::new();
    let flush = |pending: &mut String, html: &mut String| {
        if !pending.is_empty() {
            html.push_str(&format!("<pre><code>{}</code></pre>", escape_html(pending)));
            pending.clear();
        }
    };
    for line in text.split_inclusive('\n') {
        match recorded_image(line) {
            Some((alt, path)) => {
                flush(&mut pending, &mut html);
                html.push_str(&format!(
                    "<img class=\"recorded-image\" src=\"{}{}\" alt=\"{}\" loading=\"lazy\">",
                    escape_html(images_url),
                    escape_html(path),
                    escape_html(alt)
                ));
            }
            None => pending.push_str(line),
        }
    }
    flush(&mut pending, &mut html);
    if html.is_empty() {
        html.push_str("<pre><code></code></pre>");
    }
    html
}

fn under_base_path(base_path: &str, event: Event<'_>) -> Event<'static> {
    let rebase = |url: CowStr<'_>| -> CowStr<'static> {
        if !base_path.is_empty() && url.starts_with('/') && !url.starts_with("//") {
            CowStr::from(format!("{base_path}{url}"))
        } else {
            url.into_static()
        }
    };
    match event {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: rebase(dest_url),
            title: title.into_static(),
            id: id.into_static(),
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: rebase(dest_url),
            title: title.into_static(),
            id: id.into_static(),
        }),
        other => other.into_static(),
    }
}

/// A block's `title=` (a file name, usually), shown above it.
fn title_html(title: Option<&str>) -> String {
    title.map_or_else(String::new, |title| {
        format!("<p class=\"code-title\">{}</p>", escape_html(title))
    })
}

/// Whether a heading's `#id` or `.class` is one: pulldown-cmark cuts the
/// attributes at spaces, so a quoted value with a space in it
/// (`title="a .b"`) leaves pieces with quotes in them, which are dropped.
fn whole_attribute(value: &str) -> bool {
    !value.is_empty() && !value.contains(['"', '\''])
}

/// The visible text of inline events (for heading ids and the TOC).
fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text.trim().to_string()
}

/// `What the GIL is (really)` → `what-the-gil-is-really`.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' {
            slug.push(c);
        } else if (c.is_whitespace() || c == '-') && !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "section".to_string()
    } else {
        slug.to_string()
    }
}

/// Every `requires=` names a block of the page, and no chain loops.
fn check_requires(snippets: &[Snippet]) -> Result<(), MarkdownError> {
    let mut by_name: HashMap<&str, &Snippet> = HashMap::new();
    for snippet in snippets {
        if let Some(name) = &snippet.name {
            if let Some(first) = by_name.insert(name, snippet) {
                return Err(MarkdownError {
                    line: snippet.line,
                    message: format!("`name={name}` is already used by the block on line {}; names must be unique within a page", first.line),
                });
            }
        }
    }
    for snippet in snippets {
        for name in &snippet.requires {
            if !by_name.contains_key(name.as_str()) {
                return Err(MarkdownError {
                    line: snippet.line,
                    message: format!("`requires={name}` names no block of this page; give the block to run first `name={name}`"),
                });
            }
        }
    }
    if let Some((line, cycle)) = find_cycle(snippets, &by_name) {
        return Err(MarkdownError {
            line,
            message: format!("`requires=` goes round in a circle: {cycle}"),
        });
    }
    Ok(())
}

/// A `requires=` loop, as the line of its first block and its names, found
/// by one depth-first walk that visits each block and each `requires=` once
/// (linear in the page, with no recursion: a page of thousands of chained
/// blocks, or of blocks that each require several before them, loads at once).
fn find_cycle(snippets: &[Snippet], by_name: &HashMap<&str, &Snippet>) -> Option<(usize, String)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let index: HashMap<*const Snippet, usize> = snippets
        .iter()
        .enumerate()
        .map(|(i, s)| (s as *const Snippet, i))
        .collect();
    let position = |name: &str| index[&(by_name[name] as *const Snippet)];
    let label = |s: &Snippet| {
        s.name
            .clone()
            .unwrap_or_else(|| format!("block on line {}", s.line))
    };
    let mut marks = vec![Mark::New; snippets.len()];
    for start in 0..snippets.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // (block, how many of its `requires=` are walked)
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::OnPath;
        while let Some((block, walked)) = path.last_mut() {
            let requires = &snippets[*block].requires;
            let Some(name) = requires.get(*walked) else {
                marks[*block] = Mark::Done;
                path.pop();
                continue;
            };
            *walked += 1;
            let next = position(name);
            match marks[next] {
                Mark::Done => {}
                Mark::New => {
                    marks[next] = Mark::OnPath;
                    path.push((next, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|(b, _)| *b == next)?;
                    let mut names: Vec<String> = path[from..]
                        .iter()
                        .map(|(b, _)| label(&snippets[*b]))
                        .chain([name.clone()])
                        .collect();
                    // A long loop is named by its ends.
                    if names.len() > 9 {
                        let left_out = names.len() - 8;
                        names.splice(4..names.len() - 4, [format!("… ({left_out} more)")]);
                    }
                    return Some((snippets[next].line, names.join(" → ")));
                }
            }
        }
    }
    None
}

/// Byte offset → 1-based line of the file.
struct LineIndex<'a> {
    starts: Vec<usize>,
    first_line: usize,
    /// The rewritten text and the page line of each of its lines.
    prepared: &'a Prepared<'a>,
}

impl<'a> LineIndex<'a> {
    fn new(prepared: &'a Prepared<'a>, first_line: usize) -> Self {
        let starts = std::iter::once(0)
            .chain(prepared.text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex {
            starts,
            first_line,
            prepared,
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        let line_in_text = self.starts.partition_point(|&start| start <= offset) - 1;
        self.first_line + self.prepared.page_line(line_in_text)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod extension_tests;
