//! Interpreter sessions: blocks written as `>>>` examples, read as doctest
//! reads them.
//!
//! ```text
//! >>> total = 0
//! >>> for n in range(3):
//! ...     total += n
//! ...
//! >>> total
//! 3
//! ```
//!
//! A block is a session when its language is a console one (`pycon`) or
//! when it is a Python block whose first non-blank line starts with `>>> `.
//! [`parse`] cuts it into [`Example`]s exactly as `doctest.DocTestParser`
//! does: a `>>>` line and the `...` lines after it are one statement, and
//! the non-blank lines after them, up to a blank line or the next `>>>`, are
//! its expected output. Every part of rundocs that deals with a session uses
//! this one reading: the page shows prompts and outputs apart, the runner
//! runs each statement as the interactive interpreter would, `rundocs check`
//! compares each example's output, and `--record` rewrites it.
use std::ops::Range;

/// Fence languages that make a block a session.
pub const CONSOLE_LANGUAGES: [&str; 3] = ["pycon", "python-console", "python-repl"];

/// The prompt of a statement's first line.
pub const PS1: &str = ">>>";
/// The prompt of a statement's continuation lines.
pub const PS2: &str = "...";

/// Whether a Python block's `code` is written as a session: its first
/// non-blank line starts with `>>> ` (or is a bare `>>>`).
pub fn starts_with_prompt(code: &str) -> bool {
    code.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .is_some_and(|line| line == PS1 || line.starts_with(">>> "))
}

/// One statement of a session and the output written after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Index of its first line in the block, from 0.
    pub line: usize,
    /// Columns before its prompts.
    pub indent: usize,
    /// The statement without indentation and prompts, as doctest has it (a
    /// last line that is only a prompt adds no line).
    pub source: String,
    /// The statement as the interactive interpreter shows it typed: each
    /// line of the block after its prompt (`>>> ` first, `... ` after).
    pub echo: String,
    /// Lines of the block holding its expected output (empty, at the line
    /// after the statement, when it has none).
    pub want_lines: Range<usize>,
    /// The expected output without its indentation, each line ending in
    /// `\n` (`<BLANKLINE>` as written).
    pub want: String,
}

impl Example {
    /// A lone comment or nothing: not run and not compared, as doctest
    /// skips it (the interpreter shows it and prints nothing).
    pub fn is_comment_only(&self) -> bool {
        let source = self.source.strip_suffix('\n').unwrap_or(&self.source);
        let rest = source.trim_start_matches(' ');
        !source.contains('\n') && (rest.is_empty() || rest.starts_with('#'))
    }

    /// Lines of the block holding the statement.
    pub fn source_lines(&self) -> Range<usize> {
        self.line..self.want_lines.start
    }
}

/// A session as read: its examples, and the first line doctest would
/// refuse, if any (the examples are still read as well as they can be).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    pub examples: Vec<Example>,
    /// Index of the line in the block, and what is wrong with it.
    pub problem: Option<(usize, String)>,
}

/// What the runner needs of one statement: its 1-based line in the block,
/// its echo, and its source (empty for a lone comment, which is not run).
pub type Statement = (usize, String, String);

impl Session {
    /// The statements to run, in order.
    pub fn statements(&self) -> Vec<Statement> {
        self.examples
            .iter()
            .map(|example| {
                let source = if example.is_comment_only() {
                    String::new()
                } else {
                    example.source.clone()
                };
                (example.line + 1, example.echo.clone(), source)
            })
            .collect()
    }
}

/// The lines of a block as [`parse`] reads them, tabs expanded (the line
/// indices of [`Example`] count these).
pub fn lines(code: &str) -> Vec<String> {
    code.split('\n').map(expand_tabs).collect()
}

/// Reads `code` (a block's text) as doctest reads a docstring.
pub fn parse(code: &str) -> Session {
    let lines = lines(code);
    let mut session = Session::default();
    let mut problem = |line: usize, message: String| {
        session.problem.get_or_insert((line, message));
    };
    let mut examples = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let Some(indent) = prompt_indent(&lines[at], PS1) else {
            at += 1;
            continue;
        };
        let first = at;
        at += 1;
        while at < lines.len() && prompt_indent(&lines[at], PS2).is_some() {
            at += 1;
        }
        let want_start = at;
        while at < lines.len()
            && !lines[at].trim_start_matches(' ').is_empty()
            && prompt_indent(&lines[at], PS1).is_none()
        {
            at += 1;
        }
        let mut source_lines = Vec::new();
        let mut echo = String::new();
        for (i, line) in lines[first..want_start].iter().enumerate() {
            let prompt = if i == 0 { PS1 } else { PS2 };
            if !line.starts_with(&format!("{}{prompt}", " ".repeat(indent))) {
                problem(
                    first + i,
                    format!("`{PS2}` is not indented as the `{PS1}` line above it"),
                );
            } else if line.len() > indent + 3 && line.as_bytes()[indent + 3] != b' ' {
                problem(first + i, format!("`{prompt}` must be followed by a space"));
            }
            let statement = skip_chars(line, indent + 4);
            echo.push_str(if i == 0 { ">>> " } else { "... " });
            echo.push_str(statement);
            echo.push('\n');
            source_lines.push(statement);
        }
        let mut source = source_lines.join("\n");
        if !source.ends_with('\n') {
            source.push('\n');
        }
        let mut want = String::new();
        for (i, line) in lines[want_start..at].iter().enumerate() {
            if line.len() - line.trim_start_matches(' ').len() < indent {
                problem(
                    want_start + i,
                    format!("the output is indented less than the `{PS1}` line above it"),
                );
            }
            want.push_str(skip_chars(line, indent));
            want.push('\n');
        }
        examples.push(Example {
            line: first,
            indent,
            source,
            echo,
            want_lines: want_start..at,
            want,
        });
    }
    session.examples = examples;
    session
}

/// The columns before `prompt` when `line` starts with it after spaces.
fn prompt_indent(line: &str, prompt: &str) -> Option<usize> {
    let rest = line.trim_start_matches(' ');
    rest.starts_with(prompt).then(|| line.len() - rest.len())
}

/// `line` without its first `n` characters (nothing when shorter).
fn skip_chars(line: &str, n: usize) -> &str {
    split_chars(line, n).1
}

/// `line` cut after its first `n` characters.
pub fn split_chars(line: &str, n: usize) -> (&str, &str) {
    line.split_at(line.char_indices().nth(n).map_or(line.len(), |(at, _)| at))
}

/// Tabs expanded to the next multiple of 8 columns, as `str.expandtabs`.
fn expand_tabs(line: &str) -> String {
    if !line.contains('\t') {
        return line.to_string();
    }
    let mut expanded = String::with_capacity(line.len() + 8);
    let mut column = 0;
    for c in line.chars() {
        if c == '\t' {
            let spaces = 8 - column % 8;
            expanded.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
        } else {
            expanded.push(c);
            column += 1;
        }
    }
    expanded
}

#[cfg(test)]
mod tests;
