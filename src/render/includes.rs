//! Snippets included as pymdownx.snippets writes them, read from the
//! content folder before anything else looks at the page:
//!
//! ```text
//! --8<-- "includes/setup.md"        the whole file, in place of the line
//!     --8<-- 'src/app.py:3:5'       lines 3 to 5, indented as the line is
//! --8<-- "src/app.py:main"          the lines between `--8<-- [start:main]`
//!                                   and `--8<-- [end:main]` in the file
//! --8<--                            a block: one file per line
//! includes/a.md
//! includes/b.md
//! --8<--
//! ;--8<-- "shown.md"                escaped: shown as `--8<-- "shown.md"`
//! ```
//!
//! Lines are replaced everywhere, fenced code included (a block of a
//! Python file's lines is runnable like any other). Paths are relative to
//! the content folder and must stay in it: an absolute path, `..`, a URL, a
//! hidden file, `rundocs.toml` (the site's settings) or a symbolic link
//! that leads out is refused, and nothing outside is read. Included files
//! include others up to [`MAX_DEPTH`] deep; a file that includes itself is
//! stopped. Every refusal, missing file or unreadable range is a warning at
//! the including line, and the line is left out. Included lines count as
//! the page line that included them, so errors in them point there.
use std::path::{Component, Path, PathBuf};

use super::line_map::Rewritten;

/// How deep included files may include others.
pub const MAX_DEPTH: usize = 8;

/// The largest file included.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Where a page's includes are read from.
#[derive(Debug, Clone, Copy)]
pub struct IncludeRoot<'a> {
    /// The content folder.
    pub dir: &'a Path,
    /// The page's own file, relative to it (a page that includes itself is stopped).
    pub page_file: &'a str,
}

/// A problem with an include, at a 0-based line of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeWarning {
    pub line: usize,
    pub message: String,
}

/// `markdown` with its includes expanded, or `None` when it has none.
/// Without a `root` (the bundled write-ups), include lines are left out
/// with a warning.
pub fn expand(
    markdown: &str,
    root: Option<IncludeRoot<'_>>,
    warnings: &mut Vec<IncludeWarning>,
) -> Option<Rewritten> {
    if !markdown.contains("8<") {
        return None;
    }
    let dir = root.map(|r| r.dir.canonicalize().unwrap_or_else(|_| r.dir.to_path_buf()));
    let mut expander = Expander {
        page: root.and_then(|r| r.dir.join(r.page_file).canonicalize().ok()),
        dir,
        out: Vec::new(),
        warnings,
        changed: false,
    };
    expander.text(markdown, None, "", &mut Vec::new());
    expander
        .changed
        .then(|| Rewritten::from_lines(expander.out))
}

/// What one line says, as far as includes go.
#[derive(Debug, PartialEq, Eq)]
enum SnippetLine<'a> {
    /// `--8<-- "path"`: include `path` here, with this indentation.
    One {
        indent: &'a str,
        path: &'a str,
    },
    /// `--8<--` alone: opens or closes a block of paths.
    Block,
    /// `;--8<-- …`: the line with one `;` less.
    Escaped(String),
    /// `--8<-- [start:name]` or `[end:name]`: a section's edge in an included file.
    Section {
        start: bool,
        name: &'a str,
    },
    Other,
}

/// `-+8<-+`: the scissors; the rest of the line after them.
fn after_scissors(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('-')?.trim_start_matches('-');
    let rest = rest.strip_prefix("8<-")?;
    Some(rest.trim_start_matches('-'))
}

fn snippet_line(line: &str) -> SnippetLine<'_> {
    let body = line.trim_start_matches([' ', '\t']);
    let indent = &line[..line.len() - body.len()];
    let unescaped = body.trim_start_matches(';');
    let Some(rest) = after_scissors(unescaped) else {
        return section_marker(line);
    };
    let rest = rest.trim_end();
    let quoted = rest.starts_with([' ', '\t']) && quoted_path(rest.trim_start()).is_some();
    if !rest.is_empty() && !quoted {
        return section_marker(line);
    }
    if unescaped.len() < body.len() {
        return SnippetLine::Escaped(format!("{indent}{}", &body[1..]));
    }
    match quoted_path(rest.trim_start()) {
        Some(path) => SnippetLine::One { indent, path },
        None => SnippetLine::Block,
    }
}

/// `"path"` or `'path'` → `path`.
fn quoted_path(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = text[1..].strip_suffix(quote)?;
    (!inner.is_empty() && !inner.contains(quote)).then_some(inner)
}

/// `… --8<-- [start:name] …` anywhere in a line (a comment, in code).
fn section_marker(line: &str) -> SnippetLine<'_> {
    let Some(at) = line.find("8<-") else {
        return SnippetLine::Other;
    };
    let dashes = line[..at].len() - line[..at].trim_end_matches('-').len();
    if dashes == 0 || line[..at - dashes].ends_with(';') {
        return SnippetLine::Other;
    }
    let rest = line[at + 3..].trim_start_matches('-').trim_start();
    let Some(inner) = rest
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(inner, _)| inner)
    else {
        return SnippetLine::Other;
    };
    let Some((kind, name)) = inner.split_once(':') else {
        return SnippetLine::Other;
    };
    let name = name.trim();
    let name_ok = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match kind.trim().to_ascii_lowercase().as_str() {
        "start" if name_ok => SnippetLine::Section { start: true, name },
        "end" if name_ok => SnippetLine::Section { start: false, name },
        _ => SnippetLine::Other,
    }
}

/// An open `--8<--` block of files.
struct FileBlock<'t> {
    /// The page line of its first `--8<--`.
    opened: usize,
    indent: &'t str,
    /// The files named so far, with the page line of each.
    paths: Vec<(usize, &'t str)>,
}

struct Expander<'w> {
    /// The content folder, resolved; `None` for the bundled write-ups.
    dir: Option<PathBuf>,
    /// The page's own file, resolved.
    page: Option<PathBuf>,
    out: Vec<(usize, String)>,
    warnings: &'w mut Vec<IncludeWarning>,
    changed: bool,
}

impl Expander<'_> {
    /// Expands `text` into `out`. `at` is the page line every line stands
    /// for when `text` is an included file (`None`: the page itself), and
    /// `indent` is put before each of its lines. `stack` holds the included
    /// files being expanded, outermost first.
    fn text(&mut self, text: &str, at: Option<usize>, indent: &str, stack: &mut Vec<PathBuf>) {
        let mut block: Option<FileBlock<'_>> = None;
        for (index, line) in text.lines().enumerate() {
            let origin = at.unwrap_or(index);
            let found = snippet_line(line);
            if let Some(open) = &mut block {
                if found == SnippetLine::Block {
                    let indent = format!("{indent}{}", open.indent);
                    for (origin, path) in std::mem::take(&mut open.paths) {
                        self.include(path, &indent, origin, stack);
                    }
                    block = None;
                } else {
                    let path = line.trim();
                    if !path.is_empty() && !path.starts_with(';') {
                        open.paths.push((origin, quoted_path(path).unwrap_or(path)));
                    }
                }
                continue;
            }
            match found {
                SnippetLine::One { indent: own, path } => {
                    self.changed = true;
                    self.include(path, &format!("{indent}{own}"), origin, stack);
                }
                SnippetLine::Block => {
                    self.changed = true;
                    let own = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
                    block = Some(FileBlock {
                        opened: origin,
                        indent: own,
                        paths: Vec::new(),
                    });
                }
                SnippetLine::Escaped(shown) => {
                    self.changed = true;
                    self.out.push((origin, format!("{indent}{shown}")));
                }
                SnippetLine::Section { .. } | SnippetLine::Other => {
                    let line = if line.is_empty() {
                        String::new()
                    } else {
                        format!("{indent}{line}")
                    };
                    self.out.push((origin, line));
                }
            }
        }
        if let Some(open) = block {
            self.warn(
                open.opened,
                stack,
                "a `--8<--` block of files is never closed (end it with another `--8<--` line); left out"
                    .to_string(),
            );
        }
    }

    /// Includes `spec` (a path, maybe with `:lines` or `:section`) at page line `origin`.
    fn include(&mut self, spec: &str, indent: &str, origin: usize, stack: &mut Vec<PathBuf>) {
        let Some(dir) = &self.dir else {
            return self.warn(
                origin,
                stack,
                format!("`--8<-- \"{spec}\"`: the bundled write-ups include no files; left out"),
            );
        };
        if spec.contains("://") {
            return self.warn(
                origin,
                stack,
                format!("`--8<-- \"{spec}\"` is a URL; only files of the content folder are included; left out"),
            );
        }
        let (path, selection) = split_spec(spec);
        let read = read_inside(dir, path).and_then(|(file, text)| {
            if stack.contains(&file) || self.page.as_ref() == Some(&file) {
                return Err(
                    "includes itself (through the files that include it); stopped there"
                        .to_string(),
                );
            }
            if stack.len() >= MAX_DEPTH {
                return Err(format!(
                    "is included more than {MAX_DEPTH} levels deep; stopped there"
                ));
            }
            let text = select(&text, selection)?;
            Ok((file, text))
        });
        match read {
            Ok((file, text)) => {
                stack.push(file);
                self.text(&text, Some(origin), indent, stack);
                stack.pop();
            }
            Err(reason) => self.warn(origin, stack, format!("`--8<-- \"{spec}\"` {reason}")),
        }
    }

    /// A warning at page line `line`, naming the included file it is in.
    fn warn(&mut self, line: usize, stack: &[PathBuf], message: String) {
        let within = match (&self.dir, stack.last()) {
            (Some(dir), Some(file)) => format!(
                "in the included {}: ",
                file.strip_prefix(dir).unwrap_or(file).display()
            ),
            _ => String::new(),
        };
        self.warnings.push(IncludeWarning {
            line,
            message: format!("{within}{message}"),
        });
    }
}

/// Which lines of a file to include.
#[derive(Debug, PartialEq, Eq)]
enum Selection<'a> {
    All,
    /// 1-based inclusive ranges; `None` as the end is the last line.
    Lines(&'a str),
    Section(&'a str),
}

/// `a.py:3:5` → (`a.py`, lines `3:5`); `a.py:main` → a section.
fn split_spec(spec: &str) -> (&str, Selection<'_>) {
    match spec.split_once(':') {
        Some((path, rest)) if rest.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            (path, Selection::Section(rest))
        }
        Some((path, rest)) => (path, Selection::Lines(rest)),
        None => (spec, Selection::All),
    }
}

/// The lines of `text` that `selection` names, section markers left out.
fn select(text: &str, selection: Selection<'_>) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let kept: Vec<&str> = match selection {
        Selection::All => lines,
        Selection::Lines(ranges) => {
            let mut kept = Vec::new();
            for range in ranges.split(',') {
                let (first, last) = line_range(range, lines.len()).ok_or_else(|| {
                    format!("asks for lines `{range}`, which is not a range such as `3:5`, `3` or `:5`; left out")
                })?;
                kept.extend_from_slice(lines.get(first - 1..last).unwrap_or_default());
            }
            kept
        }
        Selection::Section(name) => {
            let is = |line: &str, start: bool| {
                section_marker(line) == SnippetLine::Section { start, name }
            };
            let begin = lines
                .iter()
                .position(|l| is(l, true))
                .ok_or_else(|| format!("names the section `{name}`, which the file does not mark with `--8<-- [start:{name}]`; left out"))?;
            let end = lines[begin..]
                .iter()
                .position(|l| is(l, false))
                .map_or(lines.len(), |i| begin + i);
            lines[begin + 1..end].to_vec()
        }
    };
    let mut out = String::new();
    for line in kept {
        if !matches!(section_marker(line), SnippetLine::Section { .. }) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// `3:5`, `3` (to the end) or `:5` (from the start), 1-based, clamped to
/// `count` lines; `None` when it is not such a range.
fn line_range(range: &str, count: usize) -> Option<(usize, usize)> {
    let number = |s: &str, default: usize| -> Option<usize> {
        if s.is_empty() {
            Some(default)
        } else {
            s.parse().ok()
        }
    };
    let (first, last) = match range.split_once(':') {
        Some((first, last)) => (number(first, 1)?, number(last, count)?),
        None => (number(range, 1)?, count),
    };
    let first = first.max(1);
    let last = last.min(count);
    Some((first, last.max(first - 1)))
}

/// Reads `path` (relative to `root`, a resolved folder) if it is a file
/// inside `root`; returns its resolved path and text, or why not.
fn read_inside(root: &Path, path: &str) -> Result<(PathBuf, String), String> {
    let relative = Path::new(path);
    if relative.has_root() || path.starts_with('\\') {
        return Err(
            "is an absolute path; name the file relative to the content folder; left out".into(),
        );
    }
    if relative.components().any(|c| c == Component::ParentDir) {
        return Err(
            "goes up with `..`; included files must be inside the content folder; left out".into(),
        );
    }
    let file = root
        .join(relative)
        .canonicalize()
        .map_err(|_| "names no file of the content folder; left out".to_string())?;
    let inside = file.strip_prefix(root).map_err(|_| {
        "leads outside the content folder (through a symbolic link); left out".to_string()
    })?;
    if inside
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
    {
        return Err(
            "is a hidden file or in a hidden folder; those are never included; left out".into(),
        );
    }
    if inside
        .file_name()
        .is_some_and(|name| name == "rundocs.toml")
    {
        return Err("is the site's settings file, which is never included; left out".into());
    }
    let metadata =
        std::fs::metadata(&file).map_err(|e| format!("cannot be read ({e}); left out"))?;
    if !metadata.is_file() {
        return Err("is not a file; left out".into());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "is larger than {} KiB; left out",
            MAX_FILE_BYTES / 1024
        ));
    }
    let bytes = std::fs::read(&file).map_err(|e| format!("cannot be read ({e}); left out"))?;
    let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text; left out".to_string())?;
    Ok((file, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A content folder with `files`.
    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn expanded(dir: &Path, page: &str) -> (String, Vec<usize>, Vec<IncludeWarning>) {
        let mut warnings = Vec::new();
        let root = IncludeRoot {
            dir,
            page_file: "page.md",
        };
        match expand(page, Some(root), &mut warnings) {
            Some(r) => (r.text, r.origin, warnings),
            None => (
                page.to_string(),
                (0..page.lines().count()).collect(),
                warnings,
            ),
        }
    }

    #[test]
    fn lines_name_files_relative_to_the_content_folder() {
        let dir = folder(&[("inc/a.md", "A one\nA two\n"), ("b.md", "B\n")]);
        let (text, origin, warnings) = expanded(
            dir.path(),
            "Top\n--8<-- \"inc/a.md\"\n  --8<-- 'b.md'\nEnd\n",
        );
        assert_eq!(text, "Top\nA one\nA two\n  B\nEnd\n");
        assert_eq!(
            origin,
            [0, 1, 1, 2, 3],
            "included lines count as the including line"
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn blocks_of_files_ranges_and_sections() {
        let dir = folder(&[
            ("a.md", "a\n"),
            ("b.md", "b\n"),
            (
                "code.py",
                "import os\n# --8<-- [start:main]\ndef main():\n    pass\n# --8<-- [end:main]\nmain()\n",
            ),
        ]);
        let (text, origin, warnings) = expanded(
            dir.path(),
            "--8<--\na.md\n;skipped.md\n\nb.md\n--8<--\nafter\n",
        );
        assert_eq!(text, "a\nb\nafter\n");
        assert_eq!(origin, [1, 4, 6], "each file counts as the line naming it");
        assert!(warnings.is_empty(), "{warnings:?}");
        let (text, _, _) = expanded(dir.path(), "--8<-- \"code.py:3:4\"\n");
        assert_eq!(text, "def main():\n    pass\n");
        let (text, _, _) = expanded(dir.path(), "--8<-- \"code.py:main\"\n");
        assert_eq!(text, "def main():\n    pass\n");
        let (text, _, _) = expanded(dir.path(), "--8<-- \"code.py:6,1:1\"\n");
        assert_eq!(text, "main()\nimport os\n");
        let (text, _, _) = expanded(dir.path(), "--8<-- \"code.py\"\n");
        assert_eq!(
            text, "import os\ndef main():\n    pass\nmain()\n",
            "markers left out"
        );
        let (_, _, warnings) = expanded(
            dir.path(),
            "--8<-- \"code.py:x-y\"\n--8<-- \"code.py:nope\"\n",
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[1].message.contains("section `nope`"),
            "{warnings:?}"
        );
    }

    #[test]
    fn escaped_lines_show_and_nothing_else_is_touched() {
        let dir = folder(&[]);
        let (text, _, warnings) = expanded(
            dir.path(),
            "```\n;--8<-- \"a.md\"\n```\nscissors -8<- here\n--8<-- a.md\n",
        );
        assert_eq!(
            text,
            "```\n--8<-- \"a.md\"\n```\nscissors -8<- here\n--8<-- a.md\n"
        );
        assert!(warnings.is_empty());
        let mut warnings = Vec::new();
        assert!(expand("no scissors\n", None, &mut warnings).is_none());
    }

    #[test]
    fn nothing_outside_the_folder_is_read() {
        let outside = folder(&[("secret.md", "SECRET\n")]);
        let dir = folder(&[
            (".hidden/x.md", "HIDDEN\n"),
            ("rundocs.toml", "SETTINGS\n"),
            ("ok.md", "fine\n"),
        ]);
        std::os::unix::fs::symlink(outside.path().join("secret.md"), dir.path().join("link.md"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked-dir")).unwrap();
        let secret = outside.path().join("secret.md");
        let page = format!(
            "--8<-- \"../{name}\"\n--8<-- \"{abs}\"\n--8<-- \"link.md\"\n--8<-- \"linked-dir/secret.md\"\n\
             --8<-- \".hidden/x.md\"\n--8<-- \"rundocs.toml\"\n--8<-- \"missing.md\"\n--8<-- \"https://example.com/x.md\"\n\
             --8<-- \"inc\"\n--8<-- \"ok.md\"\n",
            name = outside.path().file_name().unwrap().to_string_lossy(),
            abs = secret.display()
        );
        std::fs::create_dir(dir.path().join("inc")).unwrap();
        let (text, _, warnings) = expanded(dir.path(), &page);
        assert_eq!(text, "fine\n");
        let lines: Vec<usize> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [0, 1, 2, 3, 4, 5, 6, 7, 8], "{warnings:#?}");
        for (warning, needle) in warnings.iter().zip([
            "`..`",
            "absolute",
            "outside the content folder",
            "outside the content folder",
            "hidden",
            "settings",
            "names no file",
            "URL",
            "not a file",
        ]) {
            assert!(
                warning.message.contains(needle),
                "{needle}: {}",
                warning.message
            );
        }
    }

    #[test]
    fn nesting_is_followed_and_loops_are_stopped() {
        let dir = folder(&[
            ("a.md", "A\n--8<-- \"b.md\"\n"),
            ("b.md", "B\n--8<-- \"a.md\"\n"),
            ("page.md", "--8<-- \"page.md\"\n"),
        ]);
        let (text, origin, warnings) = expanded(dir.path(), "x\n--8<-- \"a.md\"\n");
        assert_eq!(text, "x\nA\nB\n");
        assert_eq!(origin, [0, 1, 1]);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, 1);
        assert!(
            warnings[0].message.contains("in the included b.md"),
            "{warnings:?}"
        );
        assert!(
            warnings[0].message.contains("includes itself"),
            "{warnings:?}"
        );
        let (text, _, warnings) = expanded(dir.path(), "--8<-- \"page.md\"\n");
        assert_eq!(text, "");
        assert!(
            warnings[0].message.contains("includes itself"),
            "{warnings:?}"
        );
    }

    #[test]
    fn nesting_stops_at_the_deepest_level() {
        let files: Vec<(String, String)> = (0..10)
            .map(|i| {
                (
                    format!("f{i}.md"),
                    format!("level {i}\n--8<-- \"f{}.md\"\n", i + 1),
                )
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let dir = folder(&borrowed);
        let (text, _, warnings) = expanded(dir.path(), "--8<-- \"f0.md\"\n");
        let levels: Vec<&str> = text.lines().collect();
        assert_eq!(levels.len(), MAX_DEPTH, "{text}");
        assert_eq!(levels.last(), Some(&"level 7"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].message.contains("in the included f7.md")
                && warnings[0].message.contains("more than 8 levels deep"),
            "{warnings:?}"
        );
    }

    #[test]
    fn without_a_folder_includes_are_left_out_with_a_warning() {
        let mut warnings = Vec::new();
        let rewritten = expand("a\n--8<-- \"x.md\"\n", None, &mut warnings).unwrap();
        assert_eq!(rewritten.text, "a\n");
        assert!(warnings[0].message.contains("bundled"), "{warnings:?}");
    }

    #[test]
    fn recognises_pymdown_lines() {
        assert_eq!(
            snippet_line("  ---8<--- \"a b.md\""),
            SnippetLine::One {
                indent: "  ",
                path: "a b.md"
            }
        );
        assert_eq!(snippet_line("-8<-"), SnippetLine::Block);
        assert_eq!(
            snippet_line(";;--8<-- 'x'"),
            SnippetLine::Escaped(";--8<-- 'x'".into())
        );
        assert_eq!(snippet_line("--8<-- \"x\" trailing"), SnippetLine::Other);
        assert_eq!(
            snippet_line("# --8<-- [start:main]"),
            SnippetLine::Section {
                start: true,
                name: "main"
            }
        );
        assert_eq!(snippet_line("8<"), SnippetLine::Other);
    }
}
