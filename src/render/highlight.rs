//! Server-side syntax highlighting: syntect parses, we emit one class per token.
//!
//! syntect's own HTML generator writes a `<span>` for every scope on the
//! stack, with the whole scope name as classes: highlighted code came out 26
//! times the size of the source. Here each token is reduced to one of a dozen
//! [`TokenKind`]s (keyword, string, comment, ...) and runs of the same kind
//! share one `<span class="hl-k">`; `static/highlight.css` colours the kinds
//! for the light and the dark theme.
//!
//! [`code_html`] is bounded and never fails a page: code that is too large,
//! a language syntect does not know, or any error inside the highlighter
//! gives escaped plain text instead.
//!
//! The grammars compile their regexes on first use and keep them, several
//! MiB per language. [`release_grammars`] drops them once a snapshot is
//! built; the next build loads them again.
use std::sync::{Arc, Mutex, OnceLock};

use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxSet};
use syntect::util::LinesWithEndings;

/// Larger blocks are shown as plain text.
const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;
/// A single line longer than this (minified code, data) is shown as plain text.
const MAX_LINE_BYTES: usize = 16 * 1024;

/// What a token is, as far as colour goes. The class is `hl-` plus the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Comment,
    String,
    Escape,
    Constant,
    Keyword,
    /// The text colour: ends the search for a kind.
    Plain,
    Function,
    Decorator,
    Type,
    SelfVariable,
    Tag,
    Attribute,
    Inserted,
    Deleted,
}

impl TokenKind {
    fn class(self) -> &'static str {
        match self {
            TokenKind::Comment => "hl-c",
            TokenKind::String => "hl-s",
            TokenKind::Escape => "hl-e",
            TokenKind::Constant => "hl-n",
            TokenKind::Keyword => "hl-k",
            TokenKind::Plain => "",
            TokenKind::Function => "hl-f",
            TokenKind::Decorator => "hl-d",
            TokenKind::Type => "hl-t",
            TokenKind::SelfVariable => "hl-v",
            TokenKind::Tag => "hl-g",
            TokenKind::Attribute => "hl-a",
            TokenKind::Inserted => "hl-i",
            TokenKind::Deleted => "hl-r",
        }
    }
}

/// Scope prefixes and the kind they mean, most specific first. A token's
/// kind comes from the innermost scope of its stack that one of these
/// matches, so the quote marks of a string (`punctuation.definition.string`
/// inside `string`) are string too.
const SCOPE_KINDS: &[(&str, TokenKind)] = &[
    ("comment", TokenKind::Comment),
    ("constant.character.escape", TokenKind::Escape),
    ("string", TokenKind::String),
    ("constant", TokenKind::Constant),
    ("support.constant", TokenKind::Constant),
    ("keyword.operator.word", TokenKind::Keyword),
    ("keyword.operator.logical.python", TokenKind::Keyword),
    // Symbols (`=`, `+`, `*`) stay in the text colour: fewer spans, calmer code.
    ("keyword.operator", TokenKind::Plain),
    ("keyword", TokenKind::Keyword),
    ("storage.type.string", TokenKind::String),
    ("storage.type.function", TokenKind::Keyword),
    ("storage.type.class", TokenKind::Keyword),
    ("storage.modifier", TokenKind::Keyword),
    ("storage.type", TokenKind::Type),
    ("storage", TokenKind::Keyword),
    ("entity.name.function.decorator", TokenKind::Decorator),
    ("meta.annotation", TokenKind::Decorator),
    ("entity.name.function", TokenKind::Function),
    ("support.function", TokenKind::Function),
    ("variable.function", TokenKind::Function),
    ("entity.name.class", TokenKind::Type),
    ("entity.name.type", TokenKind::Type),
    ("entity.name.struct", TokenKind::Type),
    ("entity.name.enum", TokenKind::Type),
    ("entity.other.inherited-class", TokenKind::Type),
    ("support.type", TokenKind::Type),
    ("support.class", TokenKind::Type),
    ("variable.language", TokenKind::SelfVariable),
    ("entity.name.tag", TokenKind::Tag),
    ("entity.other.attribute-name", TokenKind::Attribute),
    ("markup.heading", TokenKind::Keyword),
    ("markup.inserted", TokenKind::Inserted),
    ("markup.deleted", TokenKind::Deleted),
];

/// [`SCOPE_KINDS`] as parsed scopes.
fn scope_kinds() -> &'static [(Scope, TokenKind)] {
    static PARSED: OnceLock<Vec<(Scope, TokenKind)>> = OnceLock::new();
    PARSED.get_or_init(|| {
        SCOPE_KINDS
            .iter()
            .map(|&(name, kind)| (Scope::new(name).expect("valid scope name"), kind))
            .collect()
    })
}

fn token_kind(stack: &ScopeStack) -> Option<TokenKind> {
    let table = scope_kinds();
    stack
        .as_slice()
        .iter()
        .rev()
        .find_map(|&scope| {
            table
                .iter()
                .find(|(prefix, _)| prefix.is_prefix_of(scope))
                .map(|&(_, kind)| kind)
        })
        .filter(|&kind| kind != TokenKind::Plain)
}

/// The grammars, loaded on first use and kept until [`release_grammars`].
static GRAMMARS: Mutex<Option<Arc<SyntaxSet>>> = Mutex::new(None);

fn grammars() -> Arc<SyntaxSet> {
    let mut slot = GRAMMARS.lock().unwrap_or_else(|e| e.into_inner());
    slot.get_or_insert_with(|| Arc::new(SyntaxSet::load_defaults_newlines()))
        .clone()
}

/// Drops the grammars and the regexes they compiled. Renderings still in
/// progress keep their own reference.
pub fn release_grammars() {
    GRAMMARS.lock().unwrap_or_else(|e| e.into_inner()).take();
}

/// Escapes `text` for element content only (quotes stay as they are).
fn push_escaped(out: &mut String, text: &str) {
    pulldown_cmark_escape::escape_html_body_text(out, text)
        .expect("writing to a String cannot fail");
}

/// The inner HTML of a `<code>` element showing `code` in `language`.
pub fn code_html(code: &str, language: &str) -> String {
    std::panic::catch_unwind(|| highlighted(code, language))
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            let mut html = String::with_capacity(code.len() + code.len() / 8);
            push_escaped(&mut html, code);
            html
        })
}

fn highlighted(code: &str, language: &str) -> Option<String> {
    if language.is_empty() || code.len() > MAX_HIGHLIGHT_BYTES {
        return None;
    }
    let token = match language {
        "python3" | "py3" => "python",
        other => other,
    };
    let syntaxes = grammars();
    let syntax = syntaxes.find_syntax_by_token(token)?;
    let mut parser = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut html = SpanWriter::with_capacity(code.len() * 2);
    for line in LinesWithEndings::from(code) {
        if line.len() > MAX_LINE_BYTES {
            return None;
        }
        let mut at = 0;
        for (offset, op) in parser.parse_line(line, &syntaxes).ok()? {
            html.push(&line[at..offset], token_kind(&stack));
            at = offset;
            stack.apply(&op).ok()?;
        }
        html.push(&line[at..], token_kind(&stack));
    }
    Some(html.finish())
}

/// Writes escaped text in `<span>`s, one per run of tokens of one kind.
struct SpanWriter {
    html: String,
    open: Option<TokenKind>,
}

impl SpanWriter {
    fn with_capacity(bytes: usize) -> SpanWriter {
        SpanWriter {
            html: String::with_capacity(bytes),
            open: None,
        }
    }

    fn push(&mut self, text: &str, kind: Option<TokenKind>) {
        if text.is_empty() {
            return;
        }
        // Whitespace takes the colour of whatever surrounds it, so it never
        // splits a run (a comment's words stay in one span).
        let kind = if text.trim().is_empty() && self.open.is_some() {
            self.open
        } else {
            kind
        };
        if kind != self.open {
            if self.open.is_some() {
                self.html.push_str("</span>");
            }
            if let Some(kind) = kind {
                self.html.push_str("<span class=\"");
                self.html.push_str(kind.class());
                self.html.push_str("\">");
            }
            self.open = kind;
        }
        push_escaped(&mut self.html, text);
    }

    fn finish(mut self) -> String {
        if self.open.is_some() {
            self.html.push_str("</span>");
        }
        self.html
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (class, text without surrounding whitespace) of each span.
    fn spans(html: &str) -> Vec<(String, String)> {
        let fragment = scraper::Html::parse_fragment(html);
        let selector = scraper::Selector::parse("span").unwrap();
        fragment
            .select(&selector)
            .map(|span| {
                let class = span.value().attr("class").unwrap_or_default().to_string();
                (class, span.text().collect::<String>().trim().to_string())
            })
            .collect()
    }

    #[test]
    fn python_tokens_get_one_class_each() {
        let html = code_html(
            "def f(x):\n    # half\n    return x / 2, \"s\\n\", self\n",
            "python",
        );
        let spans = spans(&html);
        for (class, text) in [
            ("hl-k", "def"),
            ("hl-f", "f"),
            ("hl-c", "# half"),
            ("hl-k", "return"),
            ("hl-n", "2"),
            ("hl-s", "\"s"),
            ("hl-e", "\\n"),
            ("hl-v", "self"),
        ] {
            assert!(
                spans.contains(&(class.to_string(), text.to_string())),
                "{class} {text}: {html}"
            );
        }
        assert!(spans.iter().all(|(_, text)| !text.is_empty()), "{html}");
    }

    #[test]
    fn markup_is_a_small_multiple_of_the_code() {
        let code = "import threading, time\n\ndef work(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n    print(f\"done {n}: {total}\")\n";
        let html = code_html(code, "python");
        assert!(
            html.len() < code.len() * 4,
            "{} for {}: {html}",
            html.len(),
            code.len()
        );
    }

    #[test]
    fn text_is_kept_exactly() {
        let code = "x = 1  # a < b & c\n\ty = 'é'\nlast line without newline";
        let html = code_html(code, "python");
        let text = scraper::Html::parse_fragment(&html)
            .root_element()
            .text()
            .collect::<String>();
        assert_eq!(text, code);
    }

    #[test]
    fn unknown_language_is_escaped_text() {
        assert_eq!(
            code_html("<b>&</b>", "no-such-language"),
            "&lt;b&gt;&amp;&lt;/b&gt;"
        );
        assert_eq!(code_html("a < b", ""), "a &lt; b");
    }

    #[test]
    fn oversized_code_is_escaped_text() {
        let code = "x = '<'\n".repeat(MAX_HIGHLIGHT_BYTES / 4);
        let html = code_html(&code, "python");
        assert!(!html.contains("hl-"));
        assert!(
            html.starts_with("x = ") && html.contains("&lt;"),
            "{}",
            &html[..40]
        );
    }

    #[test]
    fn highlighted_code_is_escaped_too() {
        let html = code_html("print('<script>')\n", "python");
        assert!(!html.contains("<script>"), "{html}");
    }

    #[test]
    fn grammars_load_again_after_release() {
        assert!(code_html("int main() {}\n", "cpp").contains("hl-"));
        release_grammars();
        assert!(code_html("int main() {}\n", "cpp").contains("hl-"));
    }

    #[test]
    fn every_kind_has_a_colour_in_the_stylesheet() {
        let css = include_str!("../../static/highlight.css");
        for &(_, kind) in SCOPE_KINDS.iter().filter(|(_, k)| *k != TokenKind::Plain) {
            assert!(css.contains(&format!(".{}", kind.class())), "{kind:?}");
        }
    }
}
