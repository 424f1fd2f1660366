//! Server-side syntax highlighting with syntect, as CSS classes.
//!
//! [`code_html`] is bounded and never fails a page: code that is too large,
//! a language syntect does not know, or any error inside the highlighter
//! gives escaped plain text instead. [`stylesheet`] produces the matching
//! CSS for the light and the dark theme.
use std::sync::OnceLock;

use syntect::highlighting::ThemeSet;
use syntect::html::{css_for_theme_with_class_style, ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// Class names are `hl-` prefixed so they never clash with the site's own CSS.
const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };
/// Larger blocks are shown as plain text.
const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;
/// A single line longer than this (minified code, data) is shown as plain text.
const MAX_LINE_BYTES: usize = 16 * 1024;
const LIGHT_THEME: &str = "InspiredGitHub";
const DARK_THEME: &str = "base16-ocean.dark";

fn syntaxes() -> &'static SyntaxSet {
    static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();
    SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Escapes `text` for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    pulldown_cmark_escape::escape_html(&mut out, text).expect("writing to a String cannot fail");
    out
}

/// The inner HTML of a `<code>` element showing `code` in `language`.
pub fn code_html(code: &str, language: &str) -> String {
    std::panic::catch_unwind(|| highlighted(code, language))
        .ok()
        .flatten()
        .unwrap_or_else(|| escape_html(code))
}

fn highlighted(code: &str, language: &str) -> Option<String> {
    if language.is_empty() || code.len() > MAX_HIGHLIGHT_BYTES {
        return None;
    }
    let token = match language {
        "python3" | "py3" => "python",
        other => other,
    };
    let syntaxes = syntaxes();
    let syntax = syntaxes.find_syntax_by_token(token)?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, syntaxes, CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        if line.len() > MAX_LINE_BYTES {
            return None;
        }
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

/// CSS for the highlight classes: the light theme by default, the dark one
/// when the reader's system prefers dark (unless they picked light) or when
/// they picked dark. Uses CSS nesting; older browsers keep the light colours.
pub fn stylesheet() -> String {
    let themes = ThemeSet::load_defaults();
    let css = |name: &str| {
        css_for_theme_with_class_style(&themes.themes[name], CLASS_STYLE)
            .expect("the bundled syntect themes convert to CSS")
    };
    let light = css(LIGHT_THEME);
    let dark = css(DARK_THEME);
    format!(
        "/* Generated from syntect's {LIGHT_THEME} and {DARK_THEME} themes. */\n{light}\n\
         @media (prefers-color-scheme: dark) {{\n:root:not([data-theme=\"light\"]) {{\n{dark}\n}}\n}}\n\
         :root[data-theme=\"dark\"] {{\n{dark}\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_gets_classes() {
        let html = code_html("def f():\n    return 1\n", "python");
        assert!(html.contains("hl-"), "{html}");
        assert!(html.contains("def"), "{html}");
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
    fn stylesheet_has_both_themes() {
        let css = stylesheet();
        assert!(css.contains(".hl-"));
        assert!(css.contains("prefers-color-scheme: dark"));
        assert!(css.contains("[data-theme=\"dark\"]"));
    }
}
