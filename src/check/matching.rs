//! Comparing a run's output with the expected `output` block, and a
//! session example's output with the lines written after it.
//!
//! Output blocks: lines are compared without trailing whitespace, and
//! trailing empty lines are ignored. Like doctest's ELLIPSIS: `...` inside
//! an expected line matches any text within that line, and a line that is
//! only `...` matches any number of lines (none included).
//!
//! Session examples ([`example_matches`]): as doctest compares them with
//! ELLIPSIS and NORMALIZE_WHITESPACE, tracebacks by their message.

/// Whether `actual` matches `expected`.
pub fn output_matches(expected: &str, actual: &str) -> bool {
    let expected = normalized_lines(expected);
    let actual = normalized_lines(actual);
    lines_match(&expected, &actual)
}

fn normalized_lines(text: &str) -> Vec<&str> {
    // Images `--record` saved are not compared (nor are images displayed).
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|line| crate::render::markdown::recorded_image(line).is_none())
        .collect();
    while lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

/// Wildcard matching over lines, where an expected `...` line is the wildcard.
fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    // Classic two-pointer glob matching with one backtrack point.
    let (mut e, mut a) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while a < actual.len() {
        if e < expected.len() && expected[e] == "..." {
            star = Some((e, a));
            e += 1;
        } else if e < expected.len() && line_matches(expected[e], actual[a]) {
            e += 1;
            a += 1;
        } else if let Some((star_e, star_a)) = star {
            e = star_e + 1;
            a = star_a + 1;
            star = Some((star_e, star_a + 1));
        } else {
            return false;
        }
    }
    expected[e..].iter().all(|line| *line == "...")
}

/// One line, where `...` matches any text within the line.
pub fn line_matches(expected: &str, actual: &str) -> bool {
    if !expected.contains("...") {
        return expected == actual;
    }
    let parts: Vec<&str> = expected.split("...").collect();
    let (first, rest) = parts.split_first().expect("split yields at least one part");
    let (last, middle) = rest.split_last().expect("the line contains `...`");
    let Some(mut remaining) = actual.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Whether an example's output `got` matches the lines `want` written
/// after it, as doctest compares them with ELLIPSIS and NORMALIZE_WHITESPACE:
/// any run of whitespace, line breaks included, is one space, `...` matches
/// any text, and a `<BLANKLINE>` line is an empty one. An exception is
/// compared by its message (the stack above it may differ), and the text
/// printed before it only when the expected lines show some. An exception
/// that was not expected, or one expected that did not happen, fails.
pub fn example_matches(want: &str, got: &str) -> bool {
    let want = without_blank_line_markers(want);
    match (exception(&want), exception(got)) {
        (None, None) => loosely_matches(&want, got),
        (Some(expected), Some(raised)) => {
            (expected.before.trim().is_empty() || loosely_matches(expected.before, raised.before))
                && loosely_matches(expected.message, raised.message)
        }
        _ => false,
    }
}

/// `want` with its `<BLANKLINE>` markers (doctest's blank line) emptied.
fn without_blank_line_markers(want: &str) -> String {
    want.lines()
        .map(|line| {
            if line.trim_end() == BLANK_LINE {
                ""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How doctest writes an empty line of expected output.
pub const BLANK_LINE: &str = "<BLANKLINE>";

/// ELLIPSIS and NORMALIZE_WHITESPACE over the whole text.
fn loosely_matches(want: &str, got: &str) -> bool {
    let squeeze = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    line_matches(&squeeze(want), &squeeze(got))
}

/// An exception as the interpreter prints it, within some output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exception<'a> {
    /// The text before it.
    pub before: &'a str,
    /// `Traceback (most recent call last):`, or `None` when it starts with
    /// the `  File ...` line of a syntax error, as the interpreter prints one.
    pub header: Option<&'a str>,
    /// From its first line that starts with a letter, digit or `_` (the
    /// exception's name, `ZeroDivisionError: ...`) to the end.
    pub message: &'a str,
}

/// The first exception printed in `text`, found as doctest finds one in
/// expected output: a traceback header (or a syntax error's `  File "` line),
/// then the message at the first line that does not start with whitespace.
pub fn exception(text: &str) -> Option<Exception<'_>> {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        match start {
            None => {
                let header = matches!(
                    line.trim_end(),
                    "Traceback (most recent call last):" | "Traceback (innermost last):"
                );
                if header || line.starts_with("  File \"") {
                    start = Some((at, header.then(|| line.trim_end())));
                }
            }
            Some((begin, header)) => {
                if line.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                    return Some(Exception {
                        before: &text[..begin],
                        header,
                        message: &text[at..],
                    });
                }
            }
        }
    }
    start.map(|(begin, header)| Exception {
        before: &text[..begin],
        header,
        message: "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_output_matches_ignoring_trailing_space_and_blank_lines() {
        assert!(output_matches("a\nb\n", "a  \nb\n\n"));
        assert!(!output_matches("a\nb\n", "a\nc\n"));
        assert!(!output_matches("a\n", "a\nb\n"));
        assert!(!output_matches("a\nb\n", "a\n"));
        assert!(output_matches("", ""));
    }

    #[test]
    fn ellipsis_inside_a_line_matches_text_within_that_line() {
        assert!(line_matches("took ... ms", "took 12.5 ms"));
        assert!(line_matches("took ... ms", "took  ms"));
        assert!(line_matches("...", "anything"));
        assert!(line_matches("a...b...c", "a-x-b-y-c"));
        assert!(!line_matches("a...b...c", "a-x-c-y-b"));
        assert!(!line_matches("took ... ms", "took 12.5 s"));
        assert!(
            !line_matches("ab...ba", "aba"),
            "prefix and suffix may not overlap"
        );
        assert!(
            !output_matches("took ... ms\n", "took 1\nms\n"),
            "never across lines"
        );
    }

    #[test]
    fn ellipsis_line_matches_any_number_of_lines() {
        assert!(output_matches("start\n...\nend\n", "start\nend\n"));
        assert!(output_matches("start\n...\nend\n", "start\n1\n2\n3\nend\n"));
        assert!(output_matches("...\nend\n", "x\nend\n"));
        assert!(output_matches("start\n...\n", "start\nx\ny\n"));
        assert!(!output_matches("start\n...\nend\n", "start\n1\n2\n"));
        assert!(output_matches("a\n...\nb\n...\nc\n", "a\nb\nx\nb\nc\n"));
    }

    #[test]
    fn examples_match_with_ellipsis_and_whitespace_normalised() {
        assert!(example_matches(
            "[0, 1, ..., 9]\n",
            "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
        ));
        assert!(example_matches("a b c\n", "a   b\n  c\n\n"));
        assert!(example_matches("", ""));
        assert!(example_matches("a\n<BLANKLINE>\nb\n", "a\n\nb\n"));
        assert!(!example_matches("", "1\n"));
        assert!(!example_matches("1\n", ""));
        assert!(!example_matches("ab\n", "a b\n"));
    }

    const RAISED: &str = "Traceback (most recent call last):\n  File \"/p, block 1\", line 1, in <module>\n    1/0\n    ~^~\nZeroDivisionError: division by zero\n";

    #[test]
    fn tracebacks_match_by_their_message() {
        let written =
            "Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero\n";
        assert!(example_matches(written, RAISED));
        assert!(example_matches(
            "Traceback (most recent call last):\nZeroDivisionError: ...\n",
            RAISED
        ));
        assert!(!example_matches(
            "Traceback (most recent call last):\nZeroDivisionError: no\n",
            RAISED
        ));
        assert!(
            !example_matches("...\n", RAISED),
            "an exception not expected"
        );
        assert!(!example_matches(
            written,
            "ZeroDivisionError: division by zero\n"
        ));
        let printed = format!("printed first\n{RAISED}");
        assert!(
            example_matches(written, &printed),
            "as doctest, printed text is not compared"
        );
        assert!(example_matches(
            &format!("printed first\n{written}"),
            &printed
        ));
        assert!(!example_matches(&format!("other\n{written}"), &printed));
    }

    #[test]
    fn a_syntax_error_matches_with_or_without_a_header() {
        let raised =
            "  File \"/p, block 1\", line 3\n    1 +\n       ^\nSyntaxError: invalid syntax\n";
        let found = exception(raised).unwrap();
        assert_eq!(found.header, None);
        assert_eq!(found.message, "SyntaxError: invalid syntax\n");
        assert!(example_matches(
            "Traceback (most recent call last):\nSyntaxError: invalid syntax\n",
            raised
        ));
        assert!(example_matches(raised, raised));
    }

    #[test]
    fn ellipsis_lines_and_inline_ellipsis_combine() {
        let expected = "thread ... started\n...\nall ... threads done\n";
        let actual = "thread 1 started\nthread 2 started\nnoise\nall 2 threads done\n";
        assert!(output_matches(expected, actual));
    }
}
