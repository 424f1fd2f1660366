//! Abbreviations as Python-Markdown's `abbr` extension writes them:
//!
//! ```text
//! The HTML specification is maintained by the W3C.
//!
//! *[HTML]: Hyper Text Markup Language
//! *[W3C]:  World Wide Web Consortium
//! ```
//!
//! [`extract`] takes the definition lines out of the page (anywhere outside
//! fenced code, included files too) before the one pass; the last definition
//! of a word wins, and an empty one (`*[HTML]: ""`) takes it back. In the
//! pass, [`Abbreviations::mark`] turns every whole-word occurrence in the
//! page's text into `<abbr title="…">HTML</abbr>`. Only text is touched:
//! inline code, code blocks, raw HTML, link targets, autolinks and image
//! descriptions (an `alt` takes no markup) are left alone. The word stays
//! a text event of its own, so a heading's id and its entry in the contents
//! are made from the same text as without the abbreviation.
use aho_corasick::{AhoCorasick, Input, MatchKind};
use pulldown_cmark::{CowStr, Event, LinkType, Tag, TagEnd};

use super::line_map::Rewritten;
use crate::content::fence::FenceTracker;
use crate::util::escape_html;

/// A page's abbreviations, and where the pass is (text inside an image or
/// an autolink is not marked).
#[derive(Default)]
pub struct Abbreviations {
    /// Finds the words, longest first; `None` when the page defines none.
    matcher: Option<AhoCorasick>,
    /// The `title` attribute of each word, escaped, by pattern index.
    titles: Vec<String>,
    /// Open images and autolinks around the current event.
    verbatim: usize,
    /// For each open link, whether it is an autolink.
    links: Vec<bool>,
}

/// Takes the abbreviation definitions out of `markdown`: the markdown
/// without them (each replaced by an empty line, so lines keep their
/// places), or `None` when there are none, and the abbreviations.
pub fn extract(markdown: &str) -> (Option<Rewritten>, Abbreviations) {
    if !markdown.contains("*[") {
        return (None, Abbreviations::default());
    }
    let mut fences = FenceTracker::default();
    let mut definitions: Vec<(String, String)> = Vec::new();
    let mut lines = Vec::new();
    let mut found_any = false;
    for (index, line) in markdown.lines().enumerate() {
        let in_code = fences.in_code(line);
        match definition(line).filter(|_| !in_code) {
            Some((word, title)) => {
                definitions.retain(|(known, _)| known != word);
                if !title.is_empty() {
                    definitions.push((word.to_string(), title.to_string()));
                }
                lines.push((index, String::new()));
                found_any = true;
            }
            None => lines.push((index, line.to_string())),
        }
    }
    if !found_any {
        return (None, Abbreviations::default());
    }
    (
        Some(Rewritten::from_lines(lines)),
        Abbreviations::new(definitions),
    )
}

/// `*[WORD]: title` (up to three spaces before it): the word and the
/// title, unquoted (`""` and `''` are empty).
fn definition(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let (word, rest) = trimmed.strip_prefix("*[")?.split_once(']')?;
    if word.trim().is_empty() || word.contains('\\') || word.contains('[') {
        return None;
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest).strip_prefix(':')?;
    let title = rest.trim();
    let title = match title {
        "\"\"" | "''" => "",
        other => other,
    };
    Some((word.trim(), title))
}

/// Whether `c` makes up words (an abbreviation must not touch one).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Abbreviations {
    fn new(definitions: Vec<(String, String)>) -> Abbreviations {
        let matcher = (!definitions.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(definitions.iter().map(|(word, _)| word))
                    .ok()
            })
            .flatten();
        Abbreviations {
            matcher,
            titles: definitions
                .iter()
                .map(|(_, title)| escape_html(title))
                .collect(),
            ..Abbreviations::default()
        }
    }

    /// Passes `event` on to `emit`, as several events when it is text with
    /// abbreviations in it. `in_code`: the event is inside a code block.
    pub fn mark<'e, E>(
        &mut self,
        event: Event<'e>,
        in_code: bool,
        mut emit: impl FnMut(Event<'e>) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(matcher) = &self.matcher else {
            return emit(event);
        };
        match &event {
            Event::Start(Tag::Image { .. }) => self.verbatim += 1,
            Event::End(TagEnd::Image) => self.verbatim = self.verbatim.saturating_sub(1),
            Event::Start(Tag::Link { link_type, .. }) => {
                let auto = matches!(link_type, LinkType::Autolink | LinkType::Email);
                self.verbatim += usize::from(auto);
                self.links.push(auto);
            }
            Event::End(TagEnd::Link) => {
                let auto = self.links.pop() == Some(true);
                self.verbatim = self.verbatim.saturating_sub(usize::from(auto));
            }
            Event::Text(text) if !in_code && self.verbatim == 0 => {
                let found = occurrences(matcher, text);
                if !found.is_empty() {
                    let mut at = 0;
                    for (start, end, pattern) in found {
                        if start > at {
                            emit(Event::Text(CowStr::from(text[at..start].to_string())))?;
                        }
                        emit(Event::InlineHtml(CowStr::from(format!(
                            "<abbr title=\"{}\">",
                            self.titles[pattern]
                        ))))?;
                        emit(Event::Text(CowStr::from(text[start..end].to_string())))?;
                        emit(Event::InlineHtml(CowStr::Borrowed("</abbr>")))?;
                        at = end;
                    }
                    if at < text.len() {
                        emit(Event::Text(CowStr::from(text[at..].to_string())))?;
                    }
                    return Ok(());
                }
            }
            _ => {}
        }
        emit(event)
    }
}

/// `(start, end, pattern)` of each whole-word occurrence in `text`.
fn occurrences(matcher: &AhoCorasick, text: &str) -> Vec<(usize, usize, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(m) = matcher.find(Input::new(text).span(from..text.len())) {
        let (start, end) = (m.start(), m.end());
        let word = &text[start..end];
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let starts_clean = !word.starts_with(is_word) || !before.is_some_and(is_word);
        let ends_clean = !word.ends_with(is_word) || !after.is_some_and(is_word);
        if starts_clean && ends_clean {
            found.push((start, end, m.pattern().as_usize()));
            from = end;
        } else {
            from = start + word.chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(abbreviations: &mut Abbreviations, text: &str) -> String {
        let mut html = String::new();
        let mut events = Vec::new();
        abbreviations
            .mark::<()>(Event::Text(CowStr::from(text.to_string())), false, |e| {
                events.push(e);
                Ok(())
            })
            .unwrap();
        pulldown_cmark::html::push_html(&mut html, events.into_iter());
        html
    }

    #[test]
    fn definitions_leave_the_page_and_code_keeps_its_lines() {
        let (rewritten, _) =
            extract("Text\n*[HTML]: Hyper Text\n```\n*[CODE]: stays\n```\n   *[W3C]:  Web\n");
        let rewritten = rewritten.unwrap();
        assert_eq!(rewritten.text, "Text\n\n```\n*[CODE]: stays\n```\n\n");
        assert_eq!(rewritten.origin, [0, 1, 2, 3, 4, 5]);
        assert!(extract("A *[note] in a line.\n").0.is_none());
    }

    #[test]
    fn whole_words_get_their_title_escaped() {
        let (_, mut abbreviations) = extract(
            "*[HTML]: Hyper <Text> \"Markup\"\n*[HTML5]: The fifth\n*[C++]: A language\n*[GONE]: x\n*[GONE]: ''\n",
        );
        assert_eq!(
            marked(
                &mut abbreviations,
                "HTML, HTML5 and XHTML or HTMLs; C++ GONE"
            ),
            "<abbr title=\"Hyper &lt;Text&gt; &quot;Markup&quot;\">HTML</abbr>, \
             <abbr title=\"The fifth\">HTML5</abbr> and XHTML or HTMLs; \
             <abbr title=\"A language\">C++</abbr> GONE"
        );
        assert_eq!(marked(&mut abbreviations, "no words here"), "no words here");
    }

    #[test]
    fn code_images_and_autolinks_are_left_alone() {
        let (_, mut abbreviations) = extract("*[HTML]: Hyper Text\n");
        let mut seen = Vec::new();
        let mut feed = |event: Event<'static>, in_code: bool| {
            abbreviations
                .mark::<()>(event, in_code, |e| {
                    seen.push(e);
                    Ok(())
                })
                .unwrap();
        };
        feed(Event::Text("HTML".into()), true);
        feed(
            Event::Start(Tag::Image {
                link_type: LinkType::Inline,
                dest_url: "x.png".into(),
                title: "".into(),
                id: "".into(),
            }),
            false,
        );
        feed(Event::Text("HTML".into()), false);
        feed(Event::End(TagEnd::Image), false);
        feed(
            Event::Start(Tag::Link {
                link_type: LinkType::Autolink,
                dest_url: "https://x/HTML".into(),
                title: "".into(),
                id: "".into(),
            }),
            false,
        );
        feed(Event::Text("https://x/HTML".into()), false);
        feed(Event::End(TagEnd::Link), false);
        feed(Event::Text("HTML".into()), false);
        assert_eq!(seen.len(), 10, "{seen:?}");
        assert!(
            matches!(&seen[7], Event::InlineHtml(h) if h.starts_with("<abbr")),
            "only the last text is marked: {seen:?}"
        );
    }
}
