//! `rundocs check` for a session: each statement's output, cut from the
//! run's standard output at the statements' echoes, is compared with the
//! lines written after it ([`matching::example_matches`]); `--record`
//! rewrites those lines instead ([`recorded`]).
//!
//! The transcript is the run's standard output: the session writes each
//! statement's echo there before running it, and its traceback after, so an
//! example's output is what lies between its echo and the next one. (Output
//! that itself contains the next statement's echo, prompt included, would be
//! cut there.)
use super::matching::{self, BLANK_LINE};
use super::record::LineEdit;
use crate::content::session::{self, Example};
use crate::content::Snippet;

/// Each example's output in `stdout`, in order; `None` for the examples
/// the run did not reach. Text before the first echo (from the blocks the
/// session `requires=`) belongs to none.
pub fn outputs<'a>(examples: &[Example], stdout: &'a str) -> Vec<Option<&'a str>> {
    let mut outputs = vec![None; examples.len()];
    let mut from = 0;
    let mut current: Option<usize> = None;
    for (index, example) in examples.iter().enumerate() {
        let echo = &example.echo;
        let Some(at) = stdout[from..].find(echo.as_str()).map(|at| from + at) else {
            break;
        };
        if let Some(previous) = current {
            outputs[previous] = Some(&stdout[from..at]);
        }
        from = at + echo.len();
        current = Some(index);
    }
    if let Some(last) = current {
        outputs[last] = Some(&stdout[from..]);
    }
    outputs
}

/// What differs between `snippet`'s session and what its run printed: one
/// text per example that does not match (its line in the file, its
/// statement, and a diff), and one for the first example not reached.
pub fn mismatches(snippet: &Snippet, stdout: &str) -> Vec<String> {
    let examples = session::parse(&snippet.code).examples;
    let outputs = outputs(&examples, stdout);
    let mut problems = Vec::new();
    for (example, got) in examples.iter().zip(&outputs) {
        if example.is_comment_only() {
            continue;
        }
        let line = snippet.line + 1 + example.line;
        let statement = example.echo.lines().next().unwrap_or_default().to_string();
        match got {
            None => {
                problems.push(format!(
                    "line {line}: `{statement}` did not run: the session ended before it"
                ));
                break;
            }
            Some(got) if !matching::example_matches(&example.want, got) => {
                let diff = similar::TextDiff::from_lines(example.want.as_str(), *got)
                    .unified_diff()
                    .header("expected", "actual")
                    .to_string();
                problems.push(format!(
                    "line {line}: `{statement}` printed other output:\n{}",
                    diff.trim_end()
                ));
            }
            Some(_) => {}
        }
    }
    problems
}

/// The lines to write after the statements of `snippet`'s session whose
/// output differs from what its run printed, as edits of the block (the
/// others keep their lines, `...` and all); or why they cannot be written
/// (output that would read as a statement, an example not reached).
pub fn recorded(snippet: &Snippet, stdout: &str) -> Result<Vec<LineEdit>, String> {
    let examples = session::parse(&snippet.code).examples;
    let mut edits = Vec::new();
    for (index, (example, got)) in examples.iter().zip(outputs(&examples, stdout)).enumerate() {
        if example.is_comment_only() {
            continue;
        }
        let got = got.ok_or("the session ended before its last statement")?;
        if matching::example_matches(&example.want, got) {
            continue;
        }
        let pad = " ".repeat(example.indent);
        let text: Vec<String> = want_text(got)
            .lines()
            .map(|line| match line.trim_end() {
                "" => format!("{pad}{BLANK_LINE}"),
                line => format!("{pad}{line}"),
            })
            .collect();
        let edit = LineEdit {
            lines: example.want_lines.clone(),
            text,
        };
        edits.push((index, edit));
    }
    check_reads_back(&snippet.code, &examples, &edits)?;
    Ok(edits.into_iter().map(|(_, edit)| edit).collect())
}

/// What to write for an example's output: as printed, with a traceback's
/// stack shortened to `...`, as doctest examples write it.
fn want_text(got: &str) -> String {
    match matching::exception(got) {
        Some(exception) if exception.header.is_some() => format!(
            "{}{}\n  ...\n{}",
            exception.before,
            exception.header.unwrap_or_default(),
            exception.message
        ),
        _ => got.to_string(),
    }
}

/// The block with `edits` (of the examples at their index) made must read
/// as the same statements, each edited one with the new lines as its output.
fn check_reads_back(
    code: &str,
    examples: &[Example],
    edits: &[(usize, LineEdit)],
) -> Result<(), String> {
    let mut lines: Vec<String> = code.split('\n').map(str::to_string).collect();
    for (_, edit) in edits.iter().rev() {
        lines.splice(edit.lines.clone(), edit.text.iter().cloned());
    }
    let reread = session::parse(&lines.join("\n")).examples;
    for (index, example) in examples.iter().enumerate() {
        let again = reread
            .get(index)
            .filter(|again| again.source == example.source);
        let edit = edits.iter().find(|(edited, _)| *edited == index);
        let reads_back = again.is_some_and(|again| match edit {
            Some((_, edit)) => again.want.lines().eq(edit
                .text
                .iter()
                .map(|line| line.get(example.indent..).unwrap_or_default())),
            None => again.want == example.want,
        });
        if !reads_back {
            return Err(format!(
                "the output of `{}` would read as another statement",
                example.echo.lines().next().unwrap_or_default()
            ));
        }
    }
    if reread.len() != examples.len() {
        return Err("its output would read as more statements".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet(code: &str) -> Snippet {
        Snippet {
            id: "id".into(),
            page: "p".into(),
            index: 0,
            language: "pycon".into(),
            runnable: true,
            code: code.into(),
            timeout_s: 5.0,
            name: None,
            requires: Vec::new(),
            expect_error: false,
            echo: false,
            session: true,
            expected_output: None,
            line: 10,
        }
    }

    #[test]
    fn outputs_lie_between_the_echoes() {
        let examples = session::parse(">>> print('a', end='')\n>>> 1\n1\n>>> # c\n").examples;
        let outputs = outputs(
            &examples,
            "setup\n>>> print('a', end='')\na>>> 1\n1\n>>> # c\n",
        );
        assert_eq!(outputs, [Some("a"), Some("1\n"), Some("")]);
        let outputs = super::outputs(&examples, ">>> print('a', end='')\na");
        assert_eq!(outputs, [Some("a"), None, None]);
    }

    #[test]
    fn a_mismatch_names_its_line_and_statement_with_a_diff() {
        let snippet = snippet(">>> 1 + 1\n3\n>>> 2\n2\n>>> 3\n3\n");
        let problems = mismatches(&snippet, ">>> 1 + 1\n2\n>>> 2\n2\n");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "line 11: `>>> 1 + 1` printed other output:\n--- expected\n+++ actual\n"
            ),
            "{}",
            problems[0]
        );
        assert!(problems[0].contains("-3\n+2"), "{}", problems[0]);
        assert_eq!(
            problems[1],
            "line 15: `>>> 3` did not run: the session ended before it"
        );
    }

    #[test]
    fn recorded_lines_replace_the_old_ones_and_read_back() {
        let code = "  >>> print('a\\n\\nb')\n  old\n  >>> 1/0\n  >>> x = 1\n  stale\n";
        let stdout = ">>> print('a\\n\\nb')\na\n\nb\n>>> 1/0\nTraceback (most recent call last):\n  \
                      File \"p\", line 3, in <module>\nZeroDivisionError: division by zero\n>>> x = 1\n";
        let edits = recorded(&snippet(code), stdout).unwrap();
        assert_eq!(
            edits,
            [
                LineEdit {
                    lines: 1..2,
                    text: vec!["  a".into(), "  <BLANKLINE>".into(), "  b".into()],
                },
                LineEdit {
                    lines: 3..3,
                    text: vec![
                        "  Traceback (most recent call last):".into(),
                        "    ...".into(),
                        "  ZeroDivisionError: division by zero".into()
                    ],
                },
                LineEdit {
                    lines: 4..5,
                    text: vec![],
                },
            ]
        );
    }

    #[test]
    fn output_that_would_read_as_a_statement_is_not_recorded() {
        let code = ">>> print('>>> x')\n";
        let error = recorded(&snippet(code), ">>> print('>>> x')\n>>> x\n").unwrap_err();
        assert!(error.contains("would read as"), "{error}");
        let code = ">>> print('... x')\n";
        let error = recorded(&snippet(code), ">>> print('... x')\n... x\n").unwrap_err();
        assert!(error.contains("would read as"), "{error}");
    }
}
