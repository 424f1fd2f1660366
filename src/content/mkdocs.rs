//! An mkdocs project served as it is: what rundocs takes from `mkdocs.yml`.
//!
//! When the content folder holds `mkdocs.yml` (or `mkdocs.yaml`), its pages
//! are in `docs_dir` (`docs` unless set), `site_name` is the site's title,
//! `nav` orders the sidebar (titles, sections, external links), and
//! `repo_url` with `edit_uri` makes the "Edit this page" link. Pages missing
//! from `nav` still serve, as with mkdocs. The other keys (theme, plugins,
//! markdown_extensions, …) are for mkdocs' build and are ignored, named in one
//! line of the log. Tags such as `!!python/name:` and `!ENV` are read as the
//! values they tag, never run.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_yaml_ng::Value;

/// The file names mkdocs looks for, in its order.
pub const FILE_NAMES: [&str; 2] = ["mkdocs.yml", "mkdocs.yaml"];

/// The keys rundocs uses.
const USED_KEYS: [&str; 5] = ["docs_dir", "site_name", "nav", "repo_url", "edit_uri"];

/// What rundocs takes from an mkdocs project.
#[derive(Debug, Clone, PartialEq)]
pub struct MkdocsProject {
    /// The config file, for messages.
    pub file: PathBuf,
    /// Where the pages are: the project folder joined with `docs_dir`.
    pub docs_dir: PathBuf,
    pub site_name: Option<String>,
    /// `nav`, when the project orders its pages itself.
    pub nav: Option<Vec<NavEntry>>,
    /// "Edit this page", with `{path}` for the page's file below `docs_dir`.
    pub edit_url_template: Option<String>,
    /// Top-level keys rundocs does not use, in the file's order.
    pub ignored_keys: Vec<String>,
}

/// One entry of `nav`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NavEntry {
    /// A page: its file below `docs_dir`, and the title `nav` gives it (the
    /// page's own title when `None`).
    Page { title: Option<String>, file: String },
    /// A titled group of entries.
    Section {
        title: String,
        children: Vec<NavEntry>,
    },
    /// A link out of the site.
    Link { title: String, url: String },
}

/// The project in `folder`, if it is one.
pub fn find(folder: &Path) -> anyhow::Result<Option<MkdocsProject>> {
    let Some(file) = FILE_NAMES
        .iter()
        .map(|name| folder.join(name))
        .find(|file| file.is_file())
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    parse(folder, &file, &text).map(Some)
}

/// Reads the text of `file`, the config of the project in `folder`.
pub fn parse(folder: &Path, file: &Path, text: &str) -> anyhow::Result<MkdocsProject> {
    let fix = || {
        format!(
            "{} is not an mkdocs config rundocs can read; fix it, or serve its docs folder \
             itself with --content",
            file.display()
        )
    };
    let value: Value = serde_yaml_ng::from_str(text).with_context(fix)?;
    let value = untagged(&value);
    let Value::Mapping(map) = value else {
        return Err(anyhow::anyhow!("the file is not a mapping of keys")).with_context(fix);
    };
    let text_of = |key: &str| -> anyhow::Result<Option<String>> {
        let value = map.get(key).map(from_environment);
        match value.as_ref().map(untagged) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(anyhow::anyhow!(
                "`{key}` should be text, not {}",
                kind(other)
            ))
            .with_context(fix),
        }
    };
    let docs_dir_name = text_of("docs_dir")?.unwrap_or_else(|| "docs".into());
    let docs_dir = folder.join(&docs_dir_name);
    if !docs_dir.is_dir() {
        bail!(
            "{}: docs_dir {docs_dir_name:?} is not a folder next to it; set docs_dir to the \
             folder holding the project's .md files",
            file.display()
        );
    }
    let nav = match map.get("nav").map(untagged) {
        None | Some(Value::Null) => None,
        Some(nav) => Some(nav_entries(nav, "nav").with_context(fix)?),
    };
    let repo_url = text_of("repo_url")?;
    let edit_uri = text_of("edit_uri")?;
    let ignored_keys = map
        .keys()
        .filter_map(Value::as_str)
        .filter(|key| !USED_KEYS.contains(key))
        .map(str::to_string)
        .collect();
    Ok(MkdocsProject {
        file: file.to_path_buf(),
        docs_dir,
        site_name: text_of("site_name")?.filter(|name| !name.trim().is_empty()),
        nav,
        edit_url_template: edit_url_template(repo_url.as_deref(), edit_uri.as_deref()),
        ignored_keys,
    })
}

/// mkdocs' `!ENV NAME` and `!ENV [NAME, OTHER, default]`: the first
/// variable set, else the default (the last item of a list), else empty.
fn from_environment(value: &Value) -> Value {
    let Value::Tagged(tagged) = value else {
        return value.clone();
    };
    if tagged.tag.to_string().trim_start_matches('!') != "ENV" {
        return value.clone();
    }
    let (names, default) = match &tagged.value {
        Value::String(_) => (std::slice::from_ref(&tagged.value), None),
        Value::Sequence(items) if !items.is_empty() => {
            let (default, names) = items.split_last().expect("not empty");
            (names, Some(default))
        }
        _ => return Value::Null,
    };
    names
        .iter()
        .filter_map(Value::as_str)
        .find_map(|name| std::env::var(name).ok())
        .map(Value::String)
        .or_else(|| default.cloned())
        .unwrap_or(Value::Null)
}

/// The value a tag (`!ENV`, `!!python/name:…`) is put on.
fn untagged(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => untagged(&tagged.value),
        other => other,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// The entries of a `nav` list (or of a section's list); `at` names it.
fn nav_entries(value: &Value, at: &str) -> anyhow::Result<Vec<NavEntry>> {
    let Value::Sequence(items) = value else {
        bail!("`{at}` should be a list, not {}", kind(value));
    };
    items
        .iter()
        .map(|item| nav_entry(untagged(item), at))
        .collect()
}

fn nav_entry(item: &Value, at: &str) -> anyhow::Result<NavEntry> {
    match item {
        Value::String(target) => Ok(target_entry(None, target)),
        Value::Mapping(map) if map.len() == 1 => {
            let (key, value) = map.iter().next().expect("one entry");
            let Some(title) = untagged(key).as_str() else {
                bail!("an entry of `{at}` has a title that is not text");
            };
            match untagged(value) {
                Value::String(target) => Ok(target_entry(Some(title.to_string()), target)),
                Value::Sequence(_) => Ok(NavEntry::Section {
                    title: title.to_string(),
                    children: nav_entries(untagged(value), &format!("{at} > {title}"))?,
                }),
                other => bail!(
                    "`{at} > {title}` should name a page, a link or a list, not {}",
                    kind(other)
                ),
            }
        }
        other => bail!(
            "an entry of `{at}` should be `file.md` or `Title: file.md`, not {}",
            kind(other)
        ),
    }
}

/// A page (a path in the docs folder) or a link (a URL, or an absolute path
/// of the web site mkdocs' own build would not check either).
fn target_entry(title: Option<String>, target: &str) -> NavEntry {
    let is_link =
        target.contains("://") || target.starts_with("mailto:") || target.starts_with('/');
    if is_link {
        return NavEntry::Link {
            title: title.unwrap_or_else(|| target.to_string()),
            url: target.to_string(),
        };
    }
    let file = target.trim_start_matches("./").to_string();
    NavEntry::Page { title, file }
}

/// mkdocs' "Edit this page": `edit_uri` below `repo_url` (or an absolute
/// `edit_uri`); with no `edit_uri`, GitHub and GitLab repositories get
/// mkdocs' own default, `edit/master/docs/`.
fn edit_url_template(repo_url: Option<&str>, edit_uri: Option<&str>) -> Option<String> {
    let edit_uri = match edit_uri {
        Some("") => return None,
        Some(uri) => uri.to_string(),
        None => {
            let host = repo_url?;
            if host.contains("github.com") || host.contains("gitlab.com") {
                "edit/master/docs/".to_string()
            } else {
                return None;
            }
        }
    };
    let base = if edit_uri.contains("://") {
        edit_uri
    } else {
        let repo = repo_url?.trim_end_matches('/');
        format!("{repo}/{}", edit_uri.trim_start_matches('/'))
    };
    let separator = if base.ends_with('/') || base.ends_with('=') || base.ends_with('?') {
        ""
    } else {
        "/"
    };
    Some(format!("{base}{separator}{{path}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> anyhow::Result<MkdocsProject> {
        let folder = tempfile::tempdir().unwrap();
        std::fs::create_dir(folder.path().join("docs")).unwrap();
        std::fs::create_dir(folder.path().join("site-src")).unwrap();
        let file = folder.path().join("mkdocs.yml");
        parse(folder.path(), &file, text)
    }

    #[test]
    fn nav_pages_sections_and_links_in_order() {
        let project = parsed(
            "site_name: My Lib\n\
             nav:\n\
             \x20 - Home: index.md\n\
             \x20 - install.md\n\
             \x20 - 'User guide':\n\
             \x20     - Basics: guide/basics.md\n\
             \x20     - ./guide/advanced.md\n\
             \x20 - Issues: https://github.com/me/lib/issues\n",
        )
        .unwrap();
        assert_eq!(project.site_name.as_deref(), Some("My Lib"));
        let page = |title: Option<&str>, file: &str| NavEntry::Page {
            title: title.map(str::to_string),
            file: file.to_string(),
        };
        assert_eq!(
            project.nav.unwrap(),
            [
                page(Some("Home"), "index.md"),
                page(None, "install.md"),
                NavEntry::Section {
                    title: "User guide".into(),
                    children: vec![
                        page(Some("Basics"), "guide/basics.md"),
                        page(None, "guide/advanced.md")
                    ],
                },
                NavEntry::Link {
                    title: "Issues".into(),
                    url: "https://github.com/me/lib/issues".into()
                },
            ]
        );
    }

    #[test]
    fn python_tags_and_unknown_keys_are_read_not_run() {
        let project = parsed(
            "site_name: !ENV [RUNDOCS_TEST_UNSET_NAME, 'Fallback']\n\
             theme:\n  name: material\n\
             markdown_extensions:\n\
             \x20 - pymdownx.emoji:\n\
             \x20     emoji_index: !!python/name:material.extensions.emoji.twemoji\n\
             plugins: [search]\n",
        )
        .unwrap();
        assert_eq!(
            project.ignored_keys,
            ["theme", "markdown_extensions", "plugins"]
        );
        assert_eq!(project.site_name.as_deref(), Some("Fallback"));
        assert_eq!(project.docs_dir.file_name().unwrap(), "docs");
    }

    #[test]
    fn docs_dir_that_is_missing_says_what_to_set() {
        let error = parsed("docs_dir: nowhere\n").unwrap_err().to_string();
        assert!(
            error.contains("docs_dir \"nowhere\" is not a folder"),
            "{error}"
        );
        let project = parsed("docs_dir: site-src\n").unwrap();
        assert_eq!(project.docs_dir.file_name().unwrap(), "site-src");
    }

    #[test]
    fn bad_nav_names_the_entry() {
        let error = format!("{:#}", parsed("nav:\n  - Guide:\n      - 3\n").unwrap_err());
        assert!(
            error.contains("an entry of `nav > Guide` should be `file.md` or `Title: file.md`"),
            "{error}"
        );
        let error = format!("{:#}", parsed("nav: [\n").unwrap_err());
        assert!(
            error.contains("mkdocs.yml is not an mkdocs config"),
            "{error}"
        );
    }

    #[test]
    fn edit_links_follow_repo_url_and_edit_uri() {
        let template = |repo, uri| edit_url_template(repo, uri);
        assert_eq!(
            template(Some("https://github.com/me/lib"), None).as_deref(),
            Some("https://github.com/me/lib/edit/master/docs/{path}")
        );
        assert_eq!(
            template(Some("https://git.example.com/lib/"), Some("src/docs")).as_deref(),
            Some("https://git.example.com/lib/src/docs/{path}")
        );
        assert_eq!(
            template(None, Some("https://example.com/edit?file=")).as_deref(),
            Some("https://example.com/edit?file={path}")
        );
        assert_eq!(template(Some("https://github.com/me/lib"), Some("")), None);
        assert_eq!(template(Some("https://git.example.com/lib"), None), None);
    }
}
