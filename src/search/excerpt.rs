//! The words of a query, and the excerpt of a hit with those words marked.
use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, StopWordFilter, TextAnalyzer};

use super::{SearchSection, MAX_QUERY_BYTES};
use crate::util::escape_html;

/// One word of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    /// Lowercased and stemmed, as prose is indexed.
    pub stem: String,
    /// Lowercased only, as code is indexed.
    pub lower: String,
    /// The reader may still be typing it: it also matches words it begins.
    pub is_prefix: bool,
}

/// The ways text is split into words: as prose is indexed (stemmed), as
/// code is (lowercased), and one that drops English stop words.
#[derive(Clone)]
pub struct Analyzers {
    pub stemmed: TextAnalyzer,
    pub plain: TextAnalyzer,
    stop: TextAnalyzer,
}

impl Analyzers {
    pub fn new(stemmed: TextAnalyzer, plain: TextAnalyzer) -> Analyzers {
        let stop_words =
            StopWordFilter::new(Language::English).expect("tantivy has English stop words");
        Analyzers {
            stemmed,
            plain,
            stop: TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(stop_words)
                .build(),
        }
    }

    fn is_stop_word(&mut self, word: &str) -> bool {
        tokens(&mut self.stop, word).is_empty()
    }
}

/// The words of a query, as searched for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryWords {
    pub words: Vec<QueryWord>,
}

/// Most words of a query that count.
const MAX_WORDS: usize = 12;
/// A last word shorter than this is not taken as a prefix (it would match
/// nearly everything).
const MIN_PREFIX_CHARS: usize = 2;
/// Length of an excerpt, in bytes of source text (about two lines).
const EXCERPT_BYTES: usize = 200;
/// Context kept before the first match of an excerpt.
const LEAD_BYTES: usize = 50;

impl QueryWords {
    /// Splits `query` the way the index splits text. Stop words (`the`,
    /// `of`, ...) are left out when the query has other words, unless still
    /// being typed (`th` may become `thread`).
    pub fn parse(query: &str, analyzers: &mut Analyzers) -> QueryWords {
        let query = truncate(query, MAX_QUERY_BYTES);
        let stems = tokens(&mut analyzers.stemmed, query);
        let lowers = tokens(&mut analyzers.plain, query);
        let still_typing = !query.ends_with(|c: char| c.is_whitespace());
        let count = stems.len().min(lowers.len());
        let mut words: Vec<QueryWord> = Vec::new();
        for (i, (stem, lower)) in stems.into_iter().zip(lowers).enumerate() {
            let is_prefix =
                still_typing && i + 1 == count && lower.chars().count() >= MIN_PREFIX_CHARS;
            if let Some(same) = words.iter_mut().find(|w| w.stem == stem) {
                same.is_prefix |= is_prefix;
                continue;
            }
            words.push(QueryWord {
                stem,
                lower,
                is_prefix,
            });
        }
        let stop: Vec<bool> = words
            .iter()
            .map(|w| !w.is_prefix && analyzers.is_stop_word(&w.lower))
            .collect();
        if stop.contains(&false) {
            let mut keep = stop.iter().map(|s| !s);
            words.retain(|_| keep.next().unwrap_or(true));
        }
        words.truncate(MAX_WORDS);
        QueryWords { words }
    }

    /// Which word `token` (original text, and its stem) matches, if any.
    fn matching(&self, original: &str, stem: &str) -> Option<usize> {
        self.words.iter().position(|word| {
            word.stem == stem
                || (word.is_prefix && original.to_lowercase().starts_with(&word.lower))
        })
    }
}

fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// A match in a text: byte range and which query word.
struct Match {
    from: usize,
    to: usize,
    word: usize,
}

fn matches(text: &str, words: &QueryWords, stemmed: &mut TextAnalyzer) -> Vec<Match> {
    let mut stream = stemmed.token_stream(text);
    let mut found = Vec::new();
    while stream.advance() {
        let token = stream.token();
        let original = &text[token.offset_from..token.offset_to];
        if let Some(word) = words.matching(original, &token.text) {
            found.push(Match {
                from: token.offset_from,
                to: token.offset_to,
                word,
            });
        }
    }
    found
}

/// About two lines of `section` around its best run of matches, escaped,
/// with each match in `<mark>`. From the prose, unless the code matches
/// more of the query's words.
pub fn excerpt_html(
    section: &SearchSection,
    words: &QueryWords,
    stemmed: &mut TextAnalyzer,
) -> String {
    let in_text = matches(&section.text, words, stemmed);
    let in_code = matches(&section.code, words, stemmed);
    let (source, found) =
        if distinct_words(&in_code) > distinct_words(&in_text) || section.text.trim().is_empty() {
            (section.code.as_str(), in_code)
        } else {
            (section.text.as_str(), in_text)
        };
    let start = best_window_start(&found);
    let (from, to) = window(source, start);
    let mut html = String::with_capacity(EXCERPT_BYTES * 2);
    if from > 0 {
        html.push('…');
    }
    let mut at = from;
    for m in found.iter().filter(|m| m.from >= from && m.to <= to) {
        html.push_str(&escape_html(&collapse(&source[at..m.from])));
        html.push_str("<mark>");
        html.push_str(&escape_html(&source[m.from..m.to]));
        html.push_str("</mark>");
        at = m.to;
    }
    html.push_str(&escape_html(&collapse(&source[at..to])));
    if to < source.len() {
        html.push('…');
    }
    html.trim().to_string()
}

fn distinct_words(found: &[Match]) -> usize {
    let mut words: Vec<usize> = found.iter().map(|m| m.word).collect();
    words.sort_unstable();
    words.dedup();
    words.len()
}

/// Where the window with the most different matched words begins.
fn best_window_start(found: &[Match]) -> usize {
    let mut best = (0, usize::MAX);
    for (i, first) in found.iter().enumerate() {
        let mut seen = Vec::new();
        for m in found[i..]
            .iter()
            .take_while(|m| m.to <= first.from + EXCERPT_BYTES - LEAD_BYTES)
        {
            if !seen.contains(&m.word) {
                seen.push(m.word);
            }
        }
        if seen.len() > best.0 {
            best = (seen.len(), first.from);
        }
    }
    if best.1 == usize::MAX {
        0
    } else {
        best.1.saturating_sub(LEAD_BYTES)
    }
}

/// The byte range of the excerpt starting near `start`, cut at spaces.
fn window(text: &str, start: usize) -> (usize, usize) {
    let mut from = floor_char_boundary(text, start.min(text.len()));
    if from > 0 {
        let space = text[from..].char_indices().find(|(_, c)| c.is_whitespace());
        if let Some((space, c)) = space {
            if space < LEAD_BYTES {
                from += space + c.len_utf8();
            }
        }
    }
    let mut to = floor_char_boundary(text, (from + EXCERPT_BYTES).min(text.len()));
    if to < text.len() {
        if let Some(space) = text[from..to].rfind(char::is_whitespace) {
            to = from + space;
        }
    }
    (from, to)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn truncate(text: &str, max: usize) -> &str {
    &text[..floor_char_boundary(text, max.min(text.len()))]
}

/// Runs of whitespace (newlines of code, indentation) as one space.
fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}
