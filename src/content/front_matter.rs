//! Splitting and parsing a page's front matter.
//!
//! A page may open with TOML between `+++` lines or YAML between `---` lines.
//! [`split`] finds the block and the line where the markdown body starts;
//! [`parse`] turns the block into [`FrontMatter`]. Errors carry the line in
//! the file so the author knows where to look.
//!
//! Keys of other tools (mkdocs-material's `hide`, `tags`, `template`, ...)
//! are kept in [`FrontMatter::ignored`] and logged, never an error; a key
//! that is a near miss of one of rundocs' own (`weigth`) is an error naming
//! the key meant.
use serde::Deserialize;

/// The keys rundocs reads.
const KEYS: [&str; 5] = ["title", "weight", "description", "draft", "extra"];

/// The keys a page may set; free-form keys of the author's own belong under
/// `extra`, and other tools' keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FrontMatter {
    pub title: Option<String>,
    /// Position among its siblings: lower first, then by title. Default 0.
    #[serde(default)]
    pub weight: i64,
    pub description: Option<String>,
    /// Hidden unless the site is served with `--drafts`.
    #[serde(default)]
    pub draft: bool,
    /// Free-form keys for the author's own use; rundocs ignores them.
    #[serde(default)]
    pub extra: Option<serde_json::Value>,
    /// Keys of other tools, in the block's order: left alone, and logged.
    #[serde(skip)]
    pub ignored: Vec<String>,
}

/// The syntax of a front-matter block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

impl Format {
    fn delimiter(self) -> &'static str {
        match self {
            Format::Toml => "+++",
            Format::Yaml => "---",
        }
    }
}

/// A file cut into its front matter and its markdown body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The block between the delimiters, if the file has one.
    pub front_matter: Option<(Format, &'a str)>,
    /// The markdown after the closing delimiter (or the whole file).
    pub body: &'a str,
    /// 1-based line number of the body's first line within the file.
    pub body_first_line: usize,
}

/// An error with the 1-based line of the file it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FrontMatterError {
    pub line: usize,
    pub message: String,
}

/// Finds the front-matter block at the very top of `text`.
pub fn split(text: &str) -> Result<Split<'_>, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line_end = text.find('\n').map_or(text.len(), |i| i + 1);
    let first_line = text[..first_line_end].trim_end();
    let format = match first_line {
        "+++" => Format::Toml,
        "---" => Format::Yaml,
        _ => {
            return Ok(Split {
                front_matter: None,
                body: text,
                body_first_line: 1,
            })
        }
    };
    let mut offset = first_line_end;
    for (line_number, line) in (2..).zip(text[first_line_end..].split_inclusive('\n')) {
        if line.trim_end() == format.delimiter() {
            return Ok(Split {
                front_matter: Some((format, &text[first_line_end..offset])),
                body: &text[offset + line.len()..],
                body_first_line: line_number + 1,
            });
        }
        offset += line.len();
    }
    Err(FrontMatterError {
        line: 1,
        message: format!(
            "front matter opened with `{0}` is never closed; add a line with only `{0}` after it",
            format.delimiter()
        ),
    })
}

/// Parses a front-matter block. Line numbers in errors count from the
/// opening delimiter on line 1.
pub fn parse(format: Format, block: &str) -> Result<FrontMatter, FrontMatterError> {
    let mut front = parse_known(format, block)?;
    for key in keys(format, block) {
        if KEYS.contains(&key.as_str()) {
            continue;
        }
        let meant = KEYS
            .into_iter()
            .find(|known| key.len() >= 3 && super::fence::edit_distance(&key, known) <= 2);
        if let Some(meant) = meant {
            return Err(FrontMatterError {
                line: line_of_key(block, &key),
                message: format!(
                    "unknown key `{key}`: did you mean `{meant}`? The keys rundocs reads are {}; \
                     keys of your own go under `extra`",
                    KEYS.join(", ")
                ),
            });
        }
        front.ignored.push(key);
    }
    Ok(front)
}

/// The top-level keys of a block that parses, in its order.
fn keys(format: Format, block: &str) -> Vec<String> {
    match format {
        Format::Toml => toml::from_str::<toml::Table>(block)
            .map(|table| table.keys().cloned().collect())
            .unwrap_or_default(),
        Format::Yaml => serde_yaml_ng::from_str::<serde_yaml_ng::Mapping>(block)
            .map(|map| {
                map.keys()
                    .filter_map(|key| key.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The file line (the opening delimiter is line 1) where `key` is set.
fn line_of_key(block: &str, key: &str) -> usize {
    block
        .lines()
        .position(|line| {
            line.trim_start_matches(['"', '\'']).starts_with(key) && !line.starts_with([' ', '\t'])
        })
        .map_or(1, |index| index + 2)
}

/// The keys rundocs reads; others are skipped here and looked at by [`parse`].
fn parse_known(format: Format, block: &str) -> Result<FrontMatter, FrontMatterError> {
    match format {
        Format::Toml => toml::from_str(block).map_err(|error| {
            let line = error
                .span()
                .map_or(1, |span| 2 + block[..span.start].matches('\n').count());
            FrontMatterError {
                line,
                message: format!("invalid TOML front matter: {}", error.message()),
            }
        }),
        Format::Yaml => {
            if block.trim().is_empty() {
                return Ok(FrontMatter::default());
            }
            serde_yaml_ng::from_str(block).map_err(|error| FrontMatterError {
                line: error.location().map_or(1, |l| 1 + l.line()),
                message: format!("invalid YAML front matter: {}", strip_yaml_location(&error)),
            })
        }
    }
}

/// serde_yaml appends "at line X column Y" (relative to the block); we give our own line.
fn strip_yaml_location(error: &serde_yaml_ng::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_without_front_matter_is_all_body() {
        let split = split("# Title\n\ntext\n").unwrap();
        assert_eq!(split.front_matter, None);
        assert_eq!(split.body, "# Title\n\ntext\n");
        assert_eq!(split.body_first_line, 1);
    }

    #[test]
    fn toml_block_is_split_and_parsed() {
        let text = "+++\ntitle = \"GIL\"\nweight = 3\n+++\n# Body\n";
        let split = split(text).unwrap();
        assert_eq!(split.body, "# Body\n");
        assert_eq!(split.body_first_line, 5);
        let (format, block) = split.front_matter.unwrap();
        assert_eq!(format, Format::Toml);
        let fm = parse(format, block).unwrap();
        assert_eq!(fm.title.as_deref(), Some("GIL"));
        assert_eq!(fm.weight, 3);
        assert!(!fm.draft);
    }

    #[test]
    fn yaml_block_with_crlf_and_bom_is_split_and_parsed() {
        let text =
            "\u{feff}---\r\ntitle: Threads\r\ndraft: true\r\ndescription: How\r\n---\r\nbody\r\n";
        let split = split(text).unwrap();
        assert_eq!(split.body, "body\r\n");
        assert_eq!(split.body_first_line, 6);
        let (format, block) = split.front_matter.unwrap();
        let fm = parse(format, block).unwrap();
        assert_eq!(fm.title.as_deref(), Some("Threads"));
        assert!(fm.draft);
        assert_eq!(fm.description.as_deref(), Some("How"));
    }

    #[test]
    fn empty_blocks_are_allowed() {
        for text in ["+++\n+++\nbody", "---\n---\nbody"] {
            let split = split(text).unwrap();
            let (format, block) = split.front_matter.unwrap();
            assert_eq!(parse(format, block).unwrap(), FrontMatter::default());
            assert_eq!(split.body, "body");
        }
    }

    #[test]
    fn unclosed_block_is_an_error_on_line_one() {
        let error = split("+++\ntitle = \"x\"\n# heading\n").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("never closed"), "{error}");
    }

    #[test]
    fn a_later_dashes_line_is_not_front_matter() {
        let split = split("intro\n---\nmore\n").unwrap();
        assert_eq!(split.front_matter, None);
    }

    #[test]
    fn toml_error_names_the_file_line() {
        let text = "+++\ntitle = \"ok\"\nweight = \"heavy\"\n+++\n";
        let (format, block) = split(text).unwrap().front_matter.unwrap();
        let error = parse(format, block).unwrap_err();
        assert_eq!(error.line, 3, "{error}");
        assert!(error.message.contains("invalid type"), "{error}");
    }

    #[test]
    fn yaml_error_names_the_file_line() {
        let text = "---\ntitle: ok\nweight: [1\n---\n";
        let (format, block) = split(text).unwrap().front_matter.unwrap();
        let error = parse(format, block).unwrap_err();
        assert!(error.line >= 3, "{error}");
        assert!(!error.message.contains(" at line "), "{error}");
    }

    #[test]
    fn near_misses_of_keys_are_rejected_naming_the_key_meant() {
        let (format, block) = split("+++\ntitle = \"x\"\nweigth = 2\n+++\n")
            .unwrap()
            .front_matter
            .unwrap();
        let error = parse(format, block).unwrap_err();
        assert_eq!(error.line, 3, "{error}");
        assert!(
            error.message.contains("`weigth`: did you mean `weight`?"),
            "{error}"
        );
        let (format, block) = split("---\ndarft: true\n---\n")
            .unwrap()
            .front_matter
            .unwrap();
        let error = parse(format, block).unwrap_err();
        assert!(error.message.contains("did you mean `draft`?"), "{error}");
    }

    #[test]
    fn other_tools_keys_are_ignored_and_listed() {
        let text = "---\ntitle: Home\nhide:\n  - navigation\n  - toc\ntags: [a, b]\n\
                    template: home.html\nsearch:\n  boost: 2\nstatus: new\n---\n";
        let (format, block) = split(text).unwrap().front_matter.unwrap();
        let fm = parse(format, block).unwrap();
        assert_eq!(fm.title.as_deref(), Some("Home"));
        assert_eq!(fm.ignored, ["hide", "tags", "template", "search", "status"]);
    }

    #[test]
    fn extra_takes_free_form_keys() {
        let (format, block) = split("+++\n[extra]\nauthor = \"ana\"\n+++\n")
            .unwrap()
            .front_matter
            .unwrap();
        let fm = parse(format, block).unwrap();
        assert_eq!(fm.extra.unwrap()["author"], "ana");
    }
}
