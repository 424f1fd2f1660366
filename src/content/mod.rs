//! Loading the content folder: markdown files → [`SourcePage`]s.
//!
//! Every `.md` file under the root is a page; folders are sections and a
//! folder's `index.md` is the section's own page. `content/a/b.md` is served
//! at `/a/b`, `content/a/index.md` at `/a`, `content/index.md` at `/`.
//! A file that cannot be read or whose front matter is wrong becomes a
//! [`ContentProblem`] (file, line, what to fix); the other files load as usual.
pub mod fence;
pub mod front_matter;
pub mod mkdocs;
pub mod session;
pub mod snippet;

use std::fmt;
use std::path::Path;

use anyhow::Context;
use rust_embed::RustEmbed;

use crate::config::ContentSource;
pub use front_matter::FrontMatter;
pub use snippet::Snippet;

/// The write-ups compiled into the binary, served when no content folder is given.
#[derive(RustEmbed)]
#[folder = "content/"]
struct BundledContent;

/// One markdown file, read and split, not yet rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePage {
    /// URL path without leading or trailing `/` (`""` for the home page).
    pub url_path: String,
    /// Path of the file relative to the content root, `/`-separated.
    pub file: String,
    pub front: FrontMatter,
    /// The markdown after the front matter.
    pub body: String,
    /// 1-based line of the body's first line in the file.
    pub body_first_line: usize,
    /// An `index.md`: the page of its folder's section.
    pub is_section_index: bool,
}

impl SourcePage {
    /// The file name without `.md`, made readable, for pages with no title.
    pub fn fallback_title(&self) -> String {
        let stem = self.url_path.rsplit('/').next().unwrap_or_default();
        humanize(if stem.is_empty() { "home" } else { stem })
    }
}

/// Something wrong with one content file, said so the author can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentProblem {
    /// URL path of the page the file would have been.
    pub url_path: String,
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ContentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The result of reading the content source.
#[derive(Debug, Default)]
pub struct LoadedSite {
    /// Pages in file-path order (navigation order is decided when rendering).
    pub pages: Vec<SourcePage>,
    pub problems: Vec<ContentProblem>,
    /// Images (relative path → bytes) that pages show: served at their path.
    pub images: Vec<(String, ContentImage)>,
    /// Addresses of moved pages: old → new (see `wiki::redirects`).
    pub redirects: std::collections::HashMap<String, String>,
}

/// Where an image of the content is: read when it is asked for, not with
/// every rebuild of the site.
#[derive(Debug, Clone)]
pub enum ContentImage {
    /// A file of the content folder.
    File(std::path::PathBuf),
    /// One of the bundled write-ups' own.
    Bundled(std::borrow::Cow<'static, [u8]>),
}

/// The file types served from the content folder besides pages.
pub const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "gif", "svg", "webp"];

/// The largest image served from the content folder.
pub const MAX_IMAGE_BYTES: u64 = 10 << 20;

/// Whether `file` (a relative path) is an image served with the pages.
pub fn is_image(file: &str) -> bool {
    file.rsplit_once('.').is_some_and(|(_, ext)| {
        IMAGE_EXTENSIONS
            .iter()
            .any(|known| ext.eq_ignore_ascii_case(known))
    })
}

/// Reads every page of `source`. Drafts are left out unless `include_drafts`.
/// Fails only when the source as a whole cannot be read.
pub fn load(source: &ContentSource, include_drafts: bool) -> anyhow::Result<LoadedSite> {
    let mut site = LoadedSite::default();
    let files = match source {
        ContentSource::Dir(root) => {
            let redirects = root.join(crate::wiki::redirects::REDIRECTS_FILE);
            if let Ok(text) = std::fs::read_to_string(redirects) {
                site.redirects = crate::wiki::redirects::parse(&text);
            }
            read_dir(root, &mut site.images)?
        }
        ContentSource::Bundled => read_bundled(&mut site.images),
    };
    for (file, bytes) in files {
        let Some(url_path) = url_path_for(&file) else {
            continue;
        };
        if is_reserved(&file) {
            site.problems.push(ContentProblem {
                url_path,
                file,
                line: None,
                message: RESERVED_MESSAGE.to_string(),
            });
            continue;
        }
        match parse_file(&file, &url_path, bytes) {
            Ok(page) if page.front.draft && !include_drafts => {}
            Ok(page) => site.pages.push(page),
            Err((line, message)) => site.problems.push(ContentProblem {
                url_path,
                file,
                line,
                message,
            }),
        }
    }
    reject_duplicate_urls(&mut site);
    site.images.retain(|(file, _)| {
        let reserved = is_reserved(file);
        if reserved {
            tracing::warn!(file, "{RESERVED_MESSAGE}");
        }
        !reserved
    });
    Ok(site)
}

/// Files under the folder whose URL rundocs' own routes take.
fn is_reserved(file: &str) -> bool {
    let reserved = crate::config::INTERNAL_PREFIX.trim_start_matches('/');
    file.split('/').next() == Some(reserved) && file.contains('/')
}

const RESERVED_MESSAGE: &str = "is in the folder _rundocs, whose URLs are rundocs' own routes \
     (/_rundocs/api/..., /_rundocs/static/...); move it to a folder with another name";

/// `(relative path, bytes or read error)` for every `.md` file under
/// `root`, sorted; its images go to `images`.
type RawFile = (String, Result<Vec<u8>, String>);

fn read_dir(root: &Path, images: &mut Vec<(String, ContentImage)>) -> anyhow::Result<Vec<RawFile>> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) if error.depth() == 0 => {
                return Err(error)
                    .with_context(|| format!("cannot read content folder {}", root.display()))
            }
            Err(error) => {
                let file = error
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map_or_else(|| "?".to_string(), |p| p.to_string_lossy().into_owned());
                files.push((file, Err(error.to_string())));
                continue;
            }
        };
        let path = entry.path();
        if entry.path_is_symlink() {
            // A link could lead out of the folder: nothing is served through one.
            tracing::warn!(
                file = %path.display(),
                "symbolic link skipped: rundocs serves only the files themselves; \
                 copy or move the file into the content folder to serve it"
            );
            continue;
        }
        let image = is_image(&path.to_string_lossy());
        if !entry.file_type().is_file() || !(image || path.extension().is_some_and(|e| e == "md")) {
            continue;
        }
        if image && entry.metadata().is_ok_and(|m| m.len() > MAX_IMAGE_BYTES) {
            tracing::warn!(file = %path.display(), "image over 10 MiB left out");
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .expect("walkdir yields paths under its root");
        let file = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if image {
            images.push((file, ContentImage::File(path.to_path_buf())));
            continue;
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"));
        files.push((file, bytes));
    }
    Ok(files)
}

fn read_bundled(images: &mut Vec<(String, ContentImage)>) -> Vec<RawFile> {
    let mut names: Vec<_> = BundledContent::iter().collect();
    names.sort();
    let mut files = Vec::new();
    for name in names {
        let Some(file) = BundledContent::get(&name) else {
            continue;
        };
        if is_image(&name) {
            images.push((name.into_owned(), ContentImage::Bundled(file.data)));
        } else {
            files.push((name.into_owned(), Ok(file.data.into_owned())));
        }
    }
    files
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// `a/b.md` → `a/b`, `a/index.md` → `a`, `index.md` → `""`.
fn url_path_for(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".md")?;
    let path = match stem.rsplit_once('/') {
        Some((dir, "index")) => dir,
        None if stem == "index" => "",
        _ => stem,
    };
    Some(path.to_string())
}

/// The page `file` (below the content folder) would be with `text`: how a
/// save is looked at before it is written, and an edit previewed.
pub fn page_from_text(file: &str, text: &str) -> Result<SourcePage, ContentProblem> {
    let url_path = url_path_for(file).unwrap_or_default();
    parse_file(file, &url_path, Ok(text.as_bytes().to_vec())).map_err(|(line, message)| {
        ContentProblem {
            url_path,
            file: file.to_string(),
            line,
            message,
        }
    })
}

fn parse_file(
    file: &str,
    url_path: &str,
    bytes: Result<Vec<u8>, String>,
) -> Result<SourcePage, (Option<usize>, String)> {
    let bytes = bytes.map_err(|message| (None, message))?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let line = 1 + error.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        (
            Some(line),
            "the file is not valid UTF-8; save it as UTF-8".to_string(),
        )
    })?;
    let split = front_matter::split(&text).map_err(|e| (Some(e.line), e.message))?;
    let front = match split.front_matter {
        Some((format, block)) => {
            front_matter::parse(format, block).map_err(|e| (Some(e.line), e.message))?
        }
        None => FrontMatter::default(),
    };
    Ok(SourcePage {
        url_path: url_path.to_string(),
        file: file.to_string(),
        front,
        body: split.body.to_string(),
        body_first_line: split.body_first_line,
        is_section_index: file == "index.md" || file.ends_with("/index.md"),
    })
}

/// `a.md` and `a/index.md` would both be `/a`: keep the first, report the second.
fn reject_duplicate_urls(site: &mut LoadedSite) {
    let mut seen = std::collections::HashMap::new();
    let mut kept = Vec::with_capacity(site.pages.len());
    for page in site.pages.drain(..) {
        if let Some(first) = seen.get(&page.url_path) {
            site.problems.push(ContentProblem {
                url_path: page.url_path.clone(),
                file: page.file.clone(),
                line: None,
                message: format!(
                    "has the same URL /{} as {first}; rename one of them",
                    page.url_path
                ),
            });
        } else {
            seen.insert(page.url_path.clone(), page.file.clone());
            kept.push(page);
        }
    }
    site.pages = kept;
}

/// `gil-deadlock_notes` → `Gil deadlock notes`.
pub fn humanize(stem: &str) -> String {
    let words = stem.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_follow_files() {
        assert_eq!(url_path_for("index.md").as_deref(), Some(""));
        assert_eq!(url_path_for("a.md").as_deref(), Some("a"));
        assert_eq!(url_path_for("a/index.md").as_deref(), Some("a"));
        assert_eq!(url_path_for("a/b/c.md").as_deref(), Some("a/b/c"));
        assert_eq!(url_path_for("a/reindex.md").as_deref(), Some("a/reindex"));
        assert_eq!(url_path_for("notes.txt"), None);
    }

    #[test]
    fn humanize_makes_file_names_readable() {
        assert_eq!(humanize("gil-deadlock_notes"), "Gil deadlock notes");
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let error = parse_file("a.md", "a", Ok(b"ok\nok\n\xff\n".to_vec())).unwrap_err();
        assert_eq!(error.0, Some(3));
    }
}
