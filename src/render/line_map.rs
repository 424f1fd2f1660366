//! Markdown rewritten line by line before the one pass, with the line of
//! the page each of its lines stands for.
//!
//! The line-based steps ([`super::includes`], [`super::admonitions`],
//! [`super::abbreviations`]) each turn markdown into [`Rewritten`] markdown,
//! or leave it alone (`None`, no copy). [`Prepared`] chains them and keeps
//! one map from the final text's lines to the page's, so errors and
//! snippets keep the line numbers of the file.
use std::borrow::Cow;

/// Markdown and, for each of its lines, the 0-based line of the markdown
/// it was rewritten from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub text: String,
    pub origin: Vec<usize>,
}

impl Rewritten {
    /// Joins `(origin, line)` pairs into text, one line each.
    pub fn from_lines(lines: Vec<(usize, String)>) -> Rewritten {
        let mut text = String::with_capacity(lines.iter().map(|(_, l)| l.len() + 1).sum());
        let mut origin = Vec::with_capacity(lines.len());
        for (line, content) in lines {
            text.push_str(&content);
            text.push('\n');
            origin.push(line);
        }
        Rewritten { text, origin }
    }
}

/// A page's markdown after the steps so far.
pub struct Prepared<'a> {
    pub text: Cow<'a, str>,
    /// For each line of `text`, the 0-based line of the page; `None` while
    /// no step has changed anything (each line is its own).
    pub origin: Option<Vec<usize>>,
}

impl<'a> Prepared<'a> {
    pub fn new(markdown: &'a str) -> Prepared<'a> {
        Prepared {
            text: Cow::Borrowed(markdown),
            origin: None,
        }
    }

    /// Applies one step; its origins count this text's lines.
    pub fn then(self, step: impl FnOnce(&str) -> Option<Rewritten>) -> Prepared<'a> {
        let Some(next) = step(&self.text) else {
            return self;
        };
        let origin = match self.origin {
            None => next.origin,
            Some(before) => next
                .origin
                .into_iter()
                .map(|line| before.get(line).copied().unwrap_or(line))
                .collect(),
        };
        Prepared {
            text: Cow::Owned(next.text),
            origin: Some(origin),
        }
    }

    /// The page line (0-based) of line `line` of the text.
    pub fn page_line(&self, line: usize) -> usize {
        match &self.origin {
            Some(origin) if !origin.is_empty() => origin[line.min(origin.len() - 1)],
            _ => line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_chain_their_origins() {
        let page = "a\nb\nc\n";
        // Drops line 0, then doubles what is left.
        let prepared = Prepared::new(page)
            .then(|_| None)
            .then(|_| {
                Some(Rewritten::from_lines(vec![
                    (1, "b".into()),
                    (2, "c".into()),
                ]))
            })
            .then(|text| {
                let lines = text
                    .lines()
                    .enumerate()
                    .flat_map(|(i, l)| [(i, l.to_string()), (i, l.to_string())])
                    .collect();
                Some(Rewritten::from_lines(lines))
            });
        assert_eq!(prepared.text, "b\nb\nc\nc\n");
        assert_eq!(prepared.origin.as_deref(), Some(&[1, 1, 2, 2][..]));
        assert_eq!(prepared.page_line(3), 2);
        assert_eq!(Prepared::new(page).page_line(2), 2);
    }
}
