//! The info string of a fenced code block: its language and attributes.
//!
//! ```text
//! ```python timeout=5, name=setup
//! ```py requires=setup,helpers expect=error
//! ```output
//! ```
//!
//! A console block (`pycon`) is a Python block too: an interpreter session
//! ([`super::session`]).
//!
//! Attributes are separated by spaces or commas. A bare word right after
//! `requires=` that is not itself an attribute continues the list of names.
//! Values may be quoted (`title="a b.py"`), and the attributes may sit in
//! braces as Python-Markdown writes them (`{ .python title="x.py" }`, the
//! language then being the first `.class`). `title=` is shown above any
//! block, and [`lines`] reads `hl_lines` and `linenums` for a block of any
//! language. On a Python block, other tools' attributes (`test`, ...) are
//! kept and ignored, with a warning at load; only rundocs' own attributes
//! with a bad value, or a near-miss of one (`tiemout=5`), are errors. Other
//! languages keep whatever their info string says (`rust,ignore` from other
//! tools is fine).
pub mod lines;

use super::session::CONSOLE_LANGUAGES;

/// Languages whose blocks are runnable (besides the console ones).
pub const PYTHON_LANGUAGES: [&str; 4] = ["python", "py", "python3", "py3"];

/// The language that marks a block as the expected output of the block before it.
pub const OUTPUT_LANGUAGE: &str = "output";

/// The attributes rundocs understands, for error messages.
pub const ACCEPTED_ATTRIBUTES: &str =
    "norun, timeout=SECONDS, name=NAME, requires=NAME[,NAME], expect=error, echo";

/// What a fenced block is.
#[derive(Debug, Clone, PartialEq)]
pub enum Fence {
    /// A Python block or a console one (runnable unless `norun`).
    Python(PythonAttributes),
    /// The expected output of the runnable block just before it.
    Output,
    /// Any other block; `language` is empty when the fence names none.
    Other {
        language: String,
        title: Option<String>,
    },
}

/// A line that opens or closes a fenced code block, as line-based passes
/// over the markdown (admonitions, `check --record`) find them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FenceLine<'a> {
    /// Spaces before the fence.
    pub indent: usize,
    /// `` ` `` or `~`.
    pub marker: char,
    /// How many of them (3 or more).
    pub length: usize,
    /// The info string after them, trimmed.
    pub info: &'a str,
}

impl FenceLine<'_> {
    /// Whether this line closes a block `open` opened.
    pub fn closes(&self, open: &FenceLine<'_>) -> bool {
        self.marker == open.marker && self.length >= open.length && self.info.is_empty()
    }
}

/// `line` as a code fence, if it is one.
pub fn fence_line(line: &str) -> Option<FenceLine<'_>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let marker = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let length = rest.len() - rest.trim_start_matches(marker).len();
    (length >= 3).then(|| FenceLine {
        indent,
        marker,
        length,
        info: rest[length..].trim(),
    })
}

/// Follows markdown line by line and tells which lines belong to fenced
/// code, for the line-based passes that leave code alone.
#[derive(Debug, Default)]
pub struct FenceTracker {
    /// The marker and length of the fence of the open block, if any.
    open: Option<(char, usize)>,
}

impl FenceTracker {
    /// Takes the next line; whether it is part of a fenced block (its
    /// opening and closing fences included).
    pub fn in_code(&mut self, line: &str) -> bool {
        let found = fence_line(line);
        match (self.open, found) {
            (None, None) => false,
            (None, Some(opening)) => {
                self.open = Some((opening.marker, opening.length));
                true
            }
            (Some((marker, length)), Some(found)) => {
                let open = FenceLine {
                    indent: 0,
                    marker,
                    length,
                    info: "",
                };
                if found.closes(&open) {
                    self.open = None;
                }
                true
            }
            (Some(_), None) => true,
        }
    }
}

/// Attributes of a Python block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PythonAttributes {
    pub norun: bool,
    pub timeout_s: Option<f64>,
    pub name: Option<String>,
    pub requires: Vec<String>,
    /// `expect=error`: the example is meant to raise.
    pub expect_error: bool,
    /// `echo`: the value of a last bare expression is shown, as in a notebook.
    pub echo: bool,
    /// `title=`: shown above the block (a file name, usually).
    pub title: Option<String>,
    /// The language is a console one (`pycon`): the block is a session.
    pub console: bool,
    /// Attributes of other tools, kept and ignored (warned about at load).
    pub ignored: Vec<String>,
}

/// Attributes of mkdocs and its extensions that need no warning (`hl_lines`
/// and `linenums` are read by [`lines`]).
const FOREIGN_KNOWN: [&str; 4] = ["hl_lines", "linenums", "anchor_linenums", "lang"];

/// The info string's words: spaces and commas separate, quotes keep a
/// value whole (and are dropped), braces are dropped.
pub(crate) fn words(info: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in info.chars() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() || matches!(c, ',' | '{' | '}') => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The language (lowercased) and the other words: the first word, or with
/// attributes first, the first `.class`.
fn language_and_rest(mut words: Vec<String>) -> (String, Vec<String>) {
    let plain = |w: &String| !w.contains('=') && !w.starts_with('#');
    let at = match words.first() {
        Some(first) if plain(first) => Some(0),
        _ => words.iter().position(|w| w.starts_with('.')),
    };
    let language = at
        .map(|i| words.remove(i))
        .map(|w| w.trim_start_matches('.').to_ascii_lowercase())
        .unwrap_or_default();
    (language, words)
}

/// Whether `word` looks like a misspelling of one of rundocs' attributes.
fn near_miss(word: &str) -> Option<&'static str> {
    let key = word.split('=').next().unwrap_or(word).to_ascii_lowercase();
    ["norun", "timeout", "name", "requires", "expect", "echo"]
        .into_iter()
        .find(|known| key.len() >= 3 && edit_distance(&key, known) <= 2)
}

/// Levenshtein distance (the words are short).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Parses an info string. `max_timeout_s` bounds `timeout=`.
pub fn parse(info: &str, max_timeout_s: f64) -> Result<Fence, String> {
    let (language, words) = language_and_rest(words(info));
    let title = words
        .iter()
        .find_map(|w| w.strip_prefix("title="))
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    if language == OUTPUT_LANGUAGE {
        return Ok(Fence::Output);
    }
    let console = CONSOLE_LANGUAGES.contains(&language.as_str());
    if !console && !PYTHON_LANGUAGES.contains(&language.as_str()) {
        return Ok(Fence::Other { language, title });
    }
    let mut attributes = PythonAttributes {
        title,
        console,
        ..PythonAttributes::default()
    };
    let mut in_requires = false;
    for word in words.iter().map(String::as_str) {
        let (key, value) = match word.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (word, None),
        };
        match (key, value) {
            ("norun", None) => attributes.norun = true,
            ("echo", None) => attributes.echo = true,
            ("timeout", Some(value)) => {
                attributes.timeout_s = Some(parse_timeout(value, max_timeout_s)?)
            }
            ("name", Some(value)) => attributes.name = Some(parse_name(value, "name")?),
            ("requires", Some(value)) => {
                attributes.requires.push(parse_name(value, "requires")?);
                in_requires = true;
                continue;
            }
            ("expect", Some("error")) => attributes.expect_error = true,
            ("expect", Some(other)) => {
                return Err(format!(
                    "`expect={other}` is not understood; the only value is `expect=error`"
                ))
            }
            (name, None) if in_requires && !is_attribute_key(name) => {
                attributes.requires.push(parse_name(name, "requires")?);
                continue;
            }
            (key, _) if is_attribute_key(key) => {
                return Err(format!(
                    "attribute `{word}` is malformed; accepted: {ACCEPTED_ATTRIBUTES}"
                ))
            }
            ("title", Some(_)) => {}
            (key, _) if key.starts_with('.') || key.starts_with('#') => {}
            (key, _) if FOREIGN_KNOWN.contains(&key) => {}
            _ => {
                if let Some(known) = near_miss(word) {
                    return Err(format!(
                        "unknown attribute `{word}` on a Python block (did you mean `{known}`?); \
                         accepted: {ACCEPTED_ATTRIBUTES}"
                    ));
                }
                attributes.ignored.push(word.to_string());
            }
        }
        in_requires = false;
    }
    Ok(Fence::Python(attributes))
}

fn is_attribute_key(key: &str) -> bool {
    matches!(
        key,
        "norun" | "timeout" | "name" | "requires" | "expect" | "echo"
    )
}

fn parse_timeout(value: &str, max_timeout_s: f64) -> Result<f64, String> {
    let seconds: f64 = value.trim_end_matches('s').parse().map_err(|_| {
        format!(
            "`timeout={value}` is not a number of seconds; write e.g. `timeout=5` or `timeout=0.5`"
        )
    })?;
    if !(seconds > 0.0 && seconds <= max_timeout_s) {
        return Err(format!(
            "`timeout={value}` is out of range; use seconds greater than 0 and at most {max_timeout_s}"
        ));
    }
    Ok(seconds)
}

fn parse_name(value: &str, key: &str) -> Result<String, String> {
    let valid = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if valid {
        Ok(value.to_string())
    } else {
        Err(format!(
            "`{key}={value}` is not a valid name; use letters, digits, `_`, `-` or `.`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(info: &str) -> PythonAttributes {
        match parse(info, 3600.0) {
            Ok(Fence::Python(attributes)) => attributes,
            other => panic!("{info:?} gave {other:?}"),
        }
    }

    #[test]
    fn python_languages_are_recognised() {
        for info in ["python", "py", "Python3", "py3", "  python  "] {
            assert_eq!(python(info), PythonAttributes::default(), "{info}");
        }
    }

    #[test]
    fn other_languages_keep_their_name_and_ignore_attributes() {
        assert_eq!(
            parse("rust,ignore", 10.0).unwrap(),
            Fence::Other {
                language: "rust".into(),
                title: None
            }
        );
        assert_eq!(
            parse("", 10.0).unwrap(),
            Fence::Other {
                language: String::new(),
                title: None
            }
        );
        assert_eq!(parse("output", 10.0).unwrap(), Fence::Output);
    }

    #[test]
    fn console_languages_are_python_blocks_marked_as_sessions() {
        for info in ["pycon", "python-console", "python-repl timeout=2"] {
            let attributes = python(info);
            assert!(attributes.console, "{info}");
        }
        assert!(python("pycon norun").norun);
        assert!(!python("python").console);
    }

    #[test]
    fn attributes_separated_by_spaces_or_commas() {
        let spaced = python("python norun timeout=2.5 name=setup expect=error");
        let commas = python("python,norun,timeout=2.5,name=setup,expect=error");
        assert_eq!(spaced, commas);
        assert!(spaced.norun && spaced.expect_error);
        assert_eq!(spaced.timeout_s, Some(2.5));
        assert_eq!(spaced.name.as_deref(), Some("setup"));
    }

    #[test]
    fn requires_takes_a_comma_list_and_stops_at_the_next_attribute() {
        let attributes = python("python requires=a,b, c norun");
        assert_eq!(attributes.requires, ["a", "b", "c"]);
        assert!(attributes.norun);
        let attributes = python("py requires=a name=b");
        assert_eq!(attributes.requires, ["a"]);
        assert_eq!(attributes.name.as_deref(), Some("b"));
    }

    #[test]
    fn other_tools_attributes_are_kept_and_ignored() {
        let attributes = python(
            r#"python title="src/app main.py" hl_lines="2 3" linenums="1" test="skip" fast"#,
        );
        assert_eq!(attributes.title.as_deref(), Some("src/app main.py"));
        assert_eq!(attributes.ignored, ["test=skip", "fast"]);
        assert!(!attributes.norun);
    }

    #[test]
    fn attributes_in_braces_as_python_markdown_writes_them() {
        let braced = python(r#"python { title="a.py" timeout=2 }"#);
        assert_eq!(braced.title.as_deref(), Some("a.py"));
        assert_eq!(braced.timeout_s, Some(2.0));
        let classed = python(r#"{ .python #example title='b.py' name=setup }"#);
        assert_eq!(classed.title.as_deref(), Some("b.py"));
        assert_eq!(classed.name.as_deref(), Some("setup"));
        assert!(classed.ignored.is_empty());
        assert_eq!(
            parse(r#"toml title="pyproject.toml""#, 10.0).unwrap(),
            Fence::Other {
                language: "toml".into(),
                title: Some("pyproject.toml".into())
            }
        );
    }

    #[test]
    fn bad_attributes_say_what_is_accepted() {
        for (info, needle) in [
            ("python tiemout=5", "unknown attribute `tiemout=5`"),
            ("python timeout=soon", "not a number of seconds"),
            ("python timeout=0", "out of range"),
            ("python timeout=99999", "out of range"),
            ("python expect=ok", "expect=error"),
            ("python norun=yes", "malformed"),
            ("python name=a/b", "not a valid name"),
            ("python nrun", "did you mean `norun`?"),
        ] {
            let error = parse(info, 3600.0).unwrap_err();
            assert!(error.contains(needle), "{info}: {error}");
        }
    }
}
