//! Splitting and parsing a page's front matter.
//!
//! A page may open with TOML between `+++` lines or YAML between `---` lines.
//! [`split`] finds the block and the line where the markdown body starts;
//! [`parse`] turns the block into [`FrontMatter`]. Errors carry the line in
//! the file so the author knows where to look.
use serde::Deserialize;

/// The keys a page may set. Anything else belongs under `extra`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
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
    fn unknown_keys_are_rejected_with_the_accepted_ones() {
        let (format, block) = split("+++\nweigth = 2\n+++\n")
            .unwrap()
            .front_matter
            .unwrap();
        let error = parse(format, block).unwrap_err();
        assert!(error.message.contains("weigth"), "{error}");
        assert!(error.message.contains("weight"), "{error}");
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
