//! Which lines of a code block are numbered and which are highlighted, as
//! pymdownx.highlight reads them from the fence, for a block of any language:
//!
//! ```text
//! ```python hl_lines="2 3 5-7" linenums="10"
//! ```
//!
//! `hl_lines` counts the block's own lines from 1, whatever number the first
//! line is shown with. `linenums="N"` numbers the lines from N; what may
//! follow the start (`linenums="1 2"`, a step) is accepted and left alone.
//! A value that cannot be read, or a line the block does not have, is a
//! problem to warn about and never an error: the block is shown without it.
use super::words;

/// How one block shows its lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineOptions {
    /// `linenums`: the number of the first line, when lines are numbered.
    pub first_number: Option<usize>,
    /// `hl_lines`: 1-based, inclusive ranges of the block's lines.
    pub highlighted: Vec<(usize, usize)>,
}

impl LineOptions {
    /// Neither numbered nor highlighted: the block is shown as it always was.
    pub fn is_plain(&self) -> bool {
        self.first_number.is_none() && self.highlighted.is_empty()
    }

    /// Whether the block's line `line` (1-based) is highlighted.
    pub fn is_highlighted(&self, line: usize) -> bool {
        self.highlighted
            .iter()
            .any(|&(first, last)| (first..=last).contains(&line))
    }
}

/// Reads `hl_lines` and `linenums` from the info string of a block of
/// `line_count` lines. Returns the options and, as sentences for a warning,
/// what was left out.
pub fn parse(info: &str, line_count: usize) -> (LineOptions, Vec<String>) {
    let mut options = LineOptions::default();
    let mut problems = Vec::new();
    for word in words(info) {
        let (key, value) = word.split_once('=').unwrap_or((word.as_str(), ""));
        match key {
            "hl_lines" => {
                for part in value.split([' ', ',']).filter(|p| !p.is_empty()) {
                    match range(part) {
                        Some((first, _)) if first > line_count => problems.push(format!(
                            "`hl_lines=\"{value}\"` names line {first}, but the block has {line_count}; left out"
                        )),
                        Some((first, last)) => {
                            options.highlighted.push((first, last.min(line_count)))
                        }
                        None => problems.push(format!(
                            "`hl_lines=\"{value}\"`: `{part}` is not a line or a range of lines \
                             (write e.g. `hl_lines=\"2 3 5-7\"`, counting from 1); left out"
                        )),
                    }
                }
            }
            "linenums" => {
                let start = value.split_whitespace().next().unwrap_or("1");
                match start.parse::<usize>() {
                    Ok(start) => options.first_number = Some(start),
                    Err(_) => problems.push(format!(
                        "`linenums=\"{value}\"` does not start with the number of the first line \
                         (write e.g. `linenums=\"1\"`); the lines are not numbered"
                    )),
                }
            }
            _ => {}
        }
    }
    (options, problems)
}

/// `3` or `5-7`, 1-based, first no later than last.
fn range(part: &str) -> Option<(usize, usize)> {
    let (first, last) = match part.split_once('-') {
        Some((first, last)) => (first.parse().ok()?, last.parse().ok()?),
        None => {
            let line = part.parse().ok()?;
            (line, line)
        }
    };
    (first >= 1 && first <= last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlighted_lines_and_ranges_count_the_blocks_lines_from_one() {
        let (options, problems) = parse(r#"python hl_lines="2 3 5-7" linenums="10""#, 8);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(options.first_number, Some(10));
        let lit: Vec<usize> = (1..=8).filter(|&l| options.is_highlighted(l)).collect();
        assert_eq!(lit, [2, 3, 5, 6, 7]);
    }

    #[test]
    fn braces_single_quotes_and_other_languages_alike() {
        let (options, _) = parse("{ .rust hl_lines='1' linenums='3 2' }", 2);
        assert_eq!(
            options,
            LineOptions {
                first_number: Some(3),
                highlighted: vec![(1, 1)]
            }
        );
        assert!(parse("rust,ignore", 4).0.is_plain());
    }

    #[test]
    fn what_cannot_be_read_is_left_out_with_a_reason() {
        let (options, problems) = parse(r#"python hl_lines="x 2 4-3 0 9" linenums="one""#, 3);
        assert_eq!(options.highlighted, [(2, 2)]);
        assert_eq!(options.first_number, None);
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].contains("`x` is not a line"), "{}", problems[0]);
        assert!(problems[3].contains("names line 9, but the block has 3"));
        assert!(problems[4].contains("linenums=\"one\""), "{}", problems[4]);
    }

    #[test]
    fn a_range_past_the_end_stops_at_the_last_line() {
        let (options, problems) = parse(r#"py hl_lines="2-99""#, 3);
        assert!(problems.is_empty());
        assert_eq!(options.highlighted, [(2, 3)]);
    }
}
