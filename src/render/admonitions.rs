//! Admonitions as Python-Markdown and mkdocs pages write them, turned into
//! markdown that the one CommonMark pass renders:
//!
//! ```text
//! !!! note "A title"            <div class="admonition note">
//!     Text, lists and code.     <p class="admonition-title">A title</p>
//!                        →
//! ??? tip                       Text, lists and code.
//!     Collapsed until opened.
//!                               </div>
//! ```
//!
//! `???` makes a `<details>` (closed), `???+` one that starts open, and
//! `""` as the title leaves the title out. Content tabs (`=== "Label"`,
//! consecutive ones a set, `===+` the one selected, `===!` a new set)
//! become radio buttons, labels and panels that switch without JavaScript.
//! A `[TOC]` line (Python-Markdown's contents marker) is dropped: the page
//! shows its contents beside the text already. The body is the following lines
//! indented by four more spaces; it is taken out of its indentation, so code
//! in it is a normal block (runnable too), and admonitions nest. Lines in
//! fenced code are left alone. The rewrite keeps, for each of its lines, the
//! line it came from, so errors and blocks keep the line numbers of the file.
use super::line_map::Rewritten;
use crate::content::fence::FenceTracker;
use crate::util::escape_html;

/// `None` when `markdown` has no admonition (the common case: no copy).
pub fn rewrite(markdown: &str) -> Option<Rewritten> {
    if !["!!!", "???", "===", "[TOC]"]
        .iter()
        .any(|m| markdown.contains(m))
    {
        return None;
    }
    let lines: Vec<(usize, &str)> = markdown.lines().enumerate().collect();
    let mut out = Vec::new();
    let changed = process(&lines, &mut out, &mut 0);
    changed.then(|| Rewritten::from_lines(out))
}

/// What opens an admonition: `(indent, collapsible, open, kind, title)`.
fn opener(line: &str) -> Option<(usize, bool, bool, &str, Option<String>)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let (collapsible, open, rest) = if let Some(rest) = rest.strip_prefix("???+") {
        (true, true, rest)
    } else if let Some(rest) = rest.strip_prefix("???") {
        (true, false, rest)
    } else {
        (false, false, rest.strip_prefix("!!!")?)
    };
    let rest = rest.strip_prefix(' ')?.trim();
    let (kind, title) = match rest.split_once(' ') {
        Some((kind, title)) => (kind, Some(title.trim())),
        None => (rest, None),
    };
    let kind_ok = !kind.is_empty()
        && kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !kind_ok {
        return None;
    }
    let title = match title {
        None => Some(capitalized(kind)),
        Some(quoted) => {
            let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
            (!inner.is_empty()).then(|| inner.to_string())
        }
    };
    Some((indent, collapsible, open, kind, title))
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>()
    })
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A content tab's opener: `(indent, label, selected, starts a new set)`.
fn tab(line: &str) -> Option<(usize, String, bool, bool)> {
    let indent = indent_of(line);
    let rest = line[indent..].strip_prefix("===")?;
    let (selected, new_set, rest) = match rest.chars().next() {
        Some('+') => (true, false, &rest[1..]),
        Some('!') => (false, true, &rest[1..]),
        _ => (false, false, rest),
    };
    let label = rest
        .strip_prefix(' ')?
        .trim()
        .strip_prefix('"')?
        .strip_suffix('"')?;
    Some((indent, label.to_string(), selected, new_set))
}

/// The body after an opener at `i` indented `indent`: the following lines
/// indented four more (and the blank lines between them), taken out of
/// that indentation. Returns it and the index of the line after it.
fn body_of(lines: &[(usize, &str)], i: usize, indent: usize) -> (Vec<(usize, String)>, usize) {
    let pad = " ".repeat(indent);
    let body_indent = indent + 4;
    let mut body = Vec::new();
    let mut j = i + 1;
    while j < lines.len() {
        let (line_origin, text) = lines[j];
        if text.trim().is_empty() {
            let more = lines[j..]
                .iter()
                .find(|(_, t)| !t.trim().is_empty())
                .is_some_and(|(_, t)| indent_of(t) >= body_indent);
            if !more {
                break;
            }
            body.push((line_origin, String::new()));
        } else if indent_of(text) >= body_indent {
            body.push((line_origin, format!("{pad}{}", &text[body_indent..])));
        } else {
            break;
        }
        j += 1;
    }
    (body, j)
}

/// One tab of a set: its opener's line, label, whether selected, and body.
type Tab = (usize, String, bool, Vec<(usize, String)>);

/// Rewrites a set of content tabs starting at `i`; returns the next index.
/// Radio buttons and labels make the tabs switch without JavaScript; each
/// tab's line starts with a `<div>` so that CommonMark takes it as an HTML
/// block (the stylesheet lays its children out as the set's).
fn tab_set(
    lines: &[(usize, &str)],
    mut i: usize,
    out: &mut Vec<(usize, String)>,
    sets: &mut usize,
) -> usize {
    *sets += 1;
    let set = *sets;
    let (origin, first) = lines[i];
    let indent = indent_of(first);
    let pad = " ".repeat(indent);
    out.push((origin, format!("{pad}<div class=\"tabbed-set\">")));
    out.push((origin, String::new()));
    let mut tabs: Vec<Tab> = Vec::new();
    loop {
        let (origin, line) = lines[i];
        let Some((_, label, selected, _)) = tab(line) else {
            break;
        };
        let (body, next) = body_of(lines, i, indent);
        tabs.push((origin, label, selected, body));
        i = next;
        // The set goes on past blank lines to a tab at the same indent.
        let mut k = i;
        while lines.get(k).is_some_and(|(_, t)| t.trim().is_empty()) {
            k += 1;
        }
        match lines.get(k).and_then(|(_, t)| tab(t)) {
            Some((at, _, _, false)) if at == indent => i = k,
            _ => break,
        }
    }
    let chosen = tabs.iter().position(|t| t.2).unwrap_or(0);
    for (n, (origin, label, _, body)) in tabs.iter().enumerate() {
        let id = format!("tabs-{set}-{}", n + 1);
        let checked = if n == chosen { " checked" } else { "" };
        out.push((
            *origin,
            format!(
                "{pad}<div class=\"tabbed-tab\"><input type=\"radio\" class=\"tabbed-input\" name=\"tabs-{set}\" id=\"{id}\"{checked}>\
                 <label class=\"tabbed-label\" for=\"{id}\">{}</label><div class=\"tabbed-content\">",
                escape_html(label)
            ),
        ));
        out.push((*origin, String::new()));
        let borrowed: Vec<(usize, &str)> = body.iter().map(|(o, t)| (*o, t.as_str())).collect();
        process(&borrowed, out, sets);
        let last = body.last().map_or(*origin, |(o, _)| *o);
        out.push((last, String::new()));
        out.push((last, format!("{pad}</div></div>")));
        out.push((last, String::new()));
    }
    let last = out.last().map_or(origin, |(o, _)| *o);
    out.push((last, format!("{pad}</div>")));
    out.push((last, String::new()));
    i
}

/// Rewrites `lines` into `out`; returns whether anything was rewritten.
/// `sets` counts the page's tab sets (their radio buttons need names).
fn process(lines: &[(usize, &str)], out: &mut Vec<(usize, String)>, sets: &mut usize) -> bool {
    let mut changed = false;
    let mut fences = FenceTracker::default();
    let mut i = 0;
    while i < lines.len() {
        let (origin, line) = lines[i];
        let in_code = fences.in_code(line);
        if !in_code && line.trim() == "[TOC]" {
            // Python-Markdown's table of contents marker: rundocs shows
            // the page's contents beside it already.
            changed = true;
            out.push((origin, String::new()));
            i += 1;
            continue;
        }
        if !in_code && tab(line).is_some() {
            changed = true;
            i = tab_set(lines, i, out, sets);
            continue;
        }
        let Some((indent, collapsible, open, kind, title)) = opener(line).filter(|_| !in_code)
        else {
            out.push((origin, line.to_string()));
            i += 1;
            continue;
        };
        changed = true;
        let pad = " ".repeat(indent);
        let kind = escape_html(kind);
        let (start, end) = if collapsible {
            let open = if open { " open" } else { "" };
            let summary = title
                .as_deref()
                .map(escape_html)
                .unwrap_or_else(|| capitalized(&kind));
            (
                format!(
                    "{pad}<details class=\"admonition {kind}\"{open}><summary>{summary}</summary>"
                ),
                format!("{pad}</details>"),
            )
        } else {
            let title = title
                .map(|t| format!("<p class=\"admonition-title\">{}</p>", escape_html(&t)))
                .unwrap_or_default();
            (
                format!("{pad}<div class=\"admonition {kind}\">{title}"),
                format!("{pad}</div>"),
            )
        };
        out.push((origin, start));
        out.push((origin, String::new()));
        let (body, j) = body_of(lines, i, indent);
        let borrowed: Vec<(usize, &str)> = body.iter().map(|(o, t)| (*o, t.as_str())).collect();
        process(&borrowed, out, sets);
        let last = body.last().map_or(origin, |(o, _)| *o);
        out.push((last, String::new()));
        out.push((last, end));
        out.push((last, String::new()));
        i = j;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(markdown: &str) -> String {
        rewrite(markdown).map(|r| r.text).unwrap_or_default()
    }

    #[test]
    fn an_admonition_becomes_a_div_around_its_unindented_body() {
        let text = rewritten("Intro\n\n!!! note \"Careful\"\n    Body *text*.\n\n    ```python\n    print(1)\n    ```\n\nAfter.\n");
        assert_eq!(
            text,
            "Intro\n\n<div class=\"admonition note\"><p class=\"admonition-title\">Careful</p>\n\nBody *text*.\n\n```python\nprint(1)\n```\n\n</div>\n\n\nAfter.\n"
        );
    }

    #[test]
    fn collapsible_ones_are_details_and_titles_default_to_the_kind() {
        let text = rewritten("??? tip\n    Hidden.\n\n???+ warning \"\"\n    Shown.\n");
        assert!(
            text.contains("<details class=\"admonition tip\"><summary>Tip</summary>"),
            "{text}"
        );
        assert!(
            text.contains("<details class=\"admonition warning\" open><summary>Warning</summary>"),
            "{text}"
        );
        assert_eq!(text.matches("</details>").count(), 2);
    }

    #[test]
    fn nested_and_fenced_and_line_origins() {
        let markdown = "!!! note\n    Outer.\n\n    !!! danger \"Inner <b>\"\n        Deep.\n\n```text\n!!! note\n```\n";
        let rewritten = rewrite(markdown).unwrap();
        assert!(rewritten
            .text
            .contains("<p class=\"admonition-title\">Inner &lt;b&gt;</p>"));
        assert!(
            rewritten.text.contains("```text\n!!! note\n```"),
            "{}",
            rewritten.text
        );
        let deep = rewritten.text.lines().position(|l| l == "Deep.").unwrap();
        assert_eq!(rewritten.origin[deep], 4, "Deep. is line 5 of the file");
    }

    #[test]
    fn content_tabs_become_radio_buttons_labels_and_panels() {
        let text = rewritten("=== \"pip\"\n    pip install x\n\n===+ \"uv\"\n    uv add x\n\n===! \"A\"\n    a\n\nAfter.\n");
        assert_eq!(
            text.matches("<div class=\"tabbed-set\">").count(),
            2,
            "{text}"
        );
        assert!(text.contains("name=\"tabs-1\" id=\"tabs-1-1\"><label class=\"tabbed-label\" for=\"tabs-1-1\">pip</label>"), "{text}");
        assert!(
            text.contains("id=\"tabs-1-2\" checked>"),
            "the selected tab: {text}"
        );
        assert!(
            text.contains("id=\"tabs-2-1\" checked>"),
            "a new set: {text}"
        );
        assert!(
            text.contains("\npip install x\n") && text.ends_with("After.\n"),
            "{text}"
        );
    }

    #[test]
    fn toc_markers_are_dropped_outside_code() {
        let text = rewritten("[TOC]\n\nText.\n\n```text\n[TOC]\n```\n");
        assert_eq!(text, "\n\nText.\n\n```text\n[TOC]\n```\n");
    }

    #[test]
    fn text_without_admonitions_is_not_copied() {
        assert!(rewrite("Plain text, a question??? and !!! shouting.\n").is_none());
    }
}
