//! Comparing a run's output with the expected `output` block.
//!
//! Lines are compared without trailing whitespace, and trailing empty lines
//! are ignored. Like doctest's ELLIPSIS: `...` inside an expected line
//! matches any text within that line, and a line that is only `...` matches
//! any number of lines (none included).

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
    fn ellipsis_lines_and_inline_ellipsis_combine() {
        let expected = "thread ... started\n...\nall ... threads done\n";
        let actual = "thread 1 started\nthread 2 started\nnoise\nall 2 threads done\n";
        assert!(output_matches(expected, actual));
    }
}
