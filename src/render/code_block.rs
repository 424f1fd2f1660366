//! The `<pre>` of a fenced block: its code highlighted ([`code_html`]) and,
//! when the fence asks for line numbers or highlighted lines
//! ([`LineOptions`]: `linenums`, `hl_lines`), shown line by line.
//!
//! Line by line, the highlighted HTML is cut into one
//! `<span class="code-line">` per line (a token span that crosses a line end
//! is closed and opened again), the structure `static/run.js` makes itself
//! when it marks the line an error was raised on, and reuses when the page
//! has it already. A highlighted line adds `code-line-hl`; a numbered line
//! carries its number in `data-line`, which the stylesheet draws before it.
//! The numbers are never text of the `<code>`: copying, the editor and runs
//! see the code alone.
use super::highlight::code_html;
use crate::content::fence::lines::LineOptions;
use crate::util::escape_html;

/// `<pre class="code"><code …>…</code></pre>` for `code` in `language`
/// (empty when the fence names none).
pub fn code_block_html(language: &str, code: &str, lines: &LineOptions) -> String {
    code_block_from_html(language, code_html(code, language), lines)
}

/// The same block from code already highlighted (a session's, whose output
/// lines are not Python).
pub fn code_block_from_html(language: &str, highlighted: String, lines: &LineOptions) -> String {
    let mut classes = Vec::new();
    if !language.is_empty() {
        classes.push(format!("language-{} hl-code", escape_html(language)));
    }
    let (inner, digits) = if lines.is_plain() {
        (highlighted, None)
    } else {
        classes.push("code-lines".to_string());
        if lines.first_number.is_some() {
            classes.push("linenums".to_string());
        }
        by_line(&highlighted, lines)
    };
    let class = if classes.is_empty() {
        String::new()
    } else {
        format!(" class=\"{}\"", classes.join(" "))
    };
    let digits = digits.map_or_else(String::new, |d| format!(" data-digits=\"{d}\""));
    format!("<pre class=\"code\"><code{class}{digits}>{inner}</code></pre>\n")
}

/// The lines of `html`, each in its own span; with the number of digits of
/// the last line's number when they are numbered.
fn by_line(html: &str, options: &LineOptions) -> (String, Option<usize>) {
    let lines = split_lines(html);
    let mut out = String::with_capacity(html.len() + lines.len() * 48);
    for (index, line) in lines.iter().enumerate() {
        out.push_str("<span class=\"code-line");
        if options.is_highlighted(index + 1) {
            out.push_str(" code-line-hl");
        }
        out.push('"');
        if let Some(first) = options.first_number {
            out.push_str(&format!(" data-line=\"{}\"", first + index));
        }
        out.push('>');
        out.push_str(line);
        out.push_str("\n</span>");
    }
    let digits = options
        .first_number
        .map(|first| (first + lines.len().saturating_sub(1)).to_string().len());
    (out, digits)
}

/// Highlighted HTML (escaped text and `<span>`s) cut at its line ends; a
/// span open at a line end is closed there and opened again where the next
/// line has text in it. A last line without text (after the final newline)
/// is left out.
fn split_lines(html: &str) -> Vec<String> {
    let mut lines = Vec::new();
    // The tags open at this point, and how many of them the line has opened.
    let mut open: Vec<&str> = Vec::new();
    let mut written = 0;
    let mut line = String::new();
    let mut has_text = false;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let taken = match c {
            '<' => {
                let end = rest.find('>').map_or(rest.len(), |i| i + 1);
                let tag = &rest[..end];
                if tag.starts_with("</") {
                    if written == open.len() {
                        line.push_str(tag);
                        written -= 1;
                    }
                    open.pop();
                } else {
                    reopen(&mut line, &open, &mut written);
                    line.push_str(tag);
                    open.push(tag);
                    written += 1;
                }
                end
            }
            '\n' => {
                for tag in open[..written].iter().rev() {
                    line.push_str(&closing(tag));
                }
                written = 0;
                lines.push(std::mem::take(&mut line));
                has_text = false;
                1
            }
            _ => {
                let end = rest.find(['<', '\n']).unwrap_or(rest.len());
                reopen(&mut line, &open, &mut written);
                line.push_str(&rest[..end]);
                has_text = true;
                end
            }
        };
        rest = &rest[taken..];
    }
    if has_text {
        for tag in open[..written].iter().rev() {
            line.push_str(&closing(tag));
        }
        lines.push(line);
    }
    lines
}

/// Opens again on `line` the tags of `open` it has not opened yet.
fn reopen(line: &mut String, open: &[&str], written: &mut usize) {
    for tag in &open[*written..] {
        line.push_str(tag);
    }
    *written = open.len();
}

/// `<span class="x">` → `</span>`.
fn closing(tag: &str) -> String {
    let name = tag[1..]
        .split(|c: char| c.is_whitespace() || c == '>')
        .next()
        .unwrap_or_default();
    format!("</{name}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(first_number: Option<usize>, highlighted: &[(usize, usize)]) -> LineOptions {
        LineOptions {
            first_number,
            highlighted: highlighted.to_vec(),
        }
    }

    /// The text of `html`, as a browser's `textContent` gives it.
    fn text(html: &str) -> String {
        scraper::Html::parse_fragment(html)
            .root_element()
            .text()
            .collect()
    }

    #[test]
    fn plain_blocks_are_not_cut_into_lines() {
        let html = code_block_html("python", "x = 1\n", &LineOptions::default());
        assert!(html.starts_with("<pre class=\"code\"><code class=\"language-python hl-code\">"));
        assert!(!html.contains("code-line"), "{html}");
        assert_eq!(
            code_block_html("", "a < b\n", &LineOptions::default()),
            "<pre class=\"code\"><code>a &lt; b\n</code></pre>\n"
        );
    }

    #[test]
    fn numbered_lines_carry_their_number_and_the_code_keeps_its_text() {
        let code = "s = \"\"\"one\ntwo\"\"\"\nprint(s)\n";
        let html = code_block_html("python", code, &options(Some(9), &[(2, 3)]));
        assert_eq!(text(&html), format!("{code}\n"), "{html}");
        let fragment = scraper::Html::parse_fragment(&html);
        let lines = scraper::Selector::parse("code.code-lines.linenums > span.code-line").unwrap();
        let found: Vec<(String, String, bool)> = fragment
            .select(&lines)
            .map(|line| {
                let value = line.value();
                (
                    value.attr("data-line").unwrap_or_default().to_string(),
                    line.text().collect(),
                    value.classes().any(|c| c == "code-line-hl"),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("9".into(), "s = \"\"\"one\n".into(), false),
                ("10".into(), "two\"\"\"\n".into(), true),
                ("11".into(), "print(s)\n".into(), true),
            ]
        );
        assert!(html.contains("data-digits=\"2\""), "{html}");
        // The string's span is closed at the line end and opened again.
        let string = scraper::Selector::parse(".code-line .hl-s").unwrap();
        assert_eq!(fragment.select(&string).count(), 2, "{html}");
    }

    #[test]
    fn highlighted_lines_alone_are_not_numbered() {
        let html = code_block_html("text", "a\nb\n", &options(None, &[(1, 1)]));
        assert!(
            html.contains("class=\"language-text hl-code code-lines\""),
            "{html}"
        );
        assert!(!html.contains("data-line") && !html.contains("data-digits"));
        assert!(html.contains("<span class=\"code-line code-line-hl\">a\n</span><span class=\"code-line\">b\n</span>"), "{html}");
    }

    #[test]
    fn split_lines_closes_and_reopens_spans() {
        assert_eq!(
            split_lines("<span class=\"hl-s\">a\nb</span>c\n<span class=\"hl-c\">d\n</span>e\n"),
            [
                "<span class=\"hl-s\">a</span>",
                "<span class=\"hl-s\">b</span>c",
                "<span class=\"hl-c\">d</span>",
                "e"
            ]
        );
        assert_eq!(split_lines("last\nline"), ["last", "line"]);
        assert!(split_lines("").is_empty());
    }
}
