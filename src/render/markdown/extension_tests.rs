//! The pass with Python-Markdown's and pymdown's syntax: numbered and
//! highlighted code lines, heading attributes, abbreviations, includes.
use super::tests::{context, render_ok};
use super::*;

#[test]
fn hl_lines_and_linenums_show_on_runnable_blocks_and_the_code_stays_the_code() {
    let out =
        render_ok("```python hl_lines=\"2\" linenums=\"7\" title=\"a.py\"\nx = 1\nprint(x)\n```\n");
    let snippet = &out.snippets[0];
    assert!(snippet.runnable);
    assert_eq!(snippet.code, "x = 1\nprint(x)\n");
    let html = &out.html;
    assert!(
        html.contains(
            "<code class=\"language-python hl-code code-lines linenums\" data-digits=\"1\">"
        ),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"code-line\" data-line=\"7\">"),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"code-line code-line-hl\" data-line=\"8\">"),
        "{html}"
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn bad_line_options_are_warnings_at_the_fence_in_any_language() {
    let mut context = context();
    context.body_first_line = 3;
    let out = render(
        "Text\n\n```python hl_lines=\"x\"\nprint(1)\n```\n\n```rust linenums=\"a\" hl_lines=\"1\"\nfn main() {}\n```\n",
        context,
    )
    .expect("bad values never fail the page");
    let warnings: Vec<(usize, bool)> = out
        .warnings
        .iter()
        .map(|w| {
            (
                w.line,
                w.message.contains("left out") || w.message.contains("not numbered"),
            )
        })
        .collect();
    assert_eq!(warnings, [(5, true), (9, true)], "{:?}", out.warnings);
    assert!(out.snippets[0].runnable);
    assert!(
        out.html.contains(
            "<code class=\"language-rust hl-code code-lines\"><span class=\"code-line code-line-hl\">"
        ),
        "the readable part still applies: {}",
        out.html
    );
}

#[test]
fn heading_attributes_as_attr_list_writes_them() {
    let out = render_ok(
        "## Title { #custom-id .class1 .class2 }\n\n## Other {: #short }\n\n### Kept { #k data-x=\"a .b\" onclick=alert(1) }\n\n## Same {#custom-id}\n",
    );
    let toc: Vec<_> = out
        .toc
        .iter()
        .map(|e| (e.id.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        toc,
        [
            ("custom-id", "Title"),
            ("short", "Other"),
            ("k", "Kept"),
            ("custom-id-1", "Same")
        ]
    );
    let html = &out.html;
    assert!(
        html.contains("<h2 id=\"custom-id\" class=\"class1 class2\">Title<a class=\"heading-anchor\" href=\"#custom-id\""),
        "{html}"
    );
    assert!(
        html.contains("<h3 id=\"k\">Kept<a"),
        "other attributes are dropped: {html}"
    );
    assert!(!html.contains("onclick") && !html.contains('{'), "{html}");
}

#[test]
fn abbreviations_mark_text_and_nothing_else() {
    let out = render_ok(
        "## The HTML spec\n\nHTML and `HTML` and [HTML](https://x.test/HTML) and <https://x.test/HTML>.\n\n![HTML](/h.png)\n\n```text\nHTML\n```\n\n*[HTML]: Hyper Text \"Markup\" Language\n",
    );
    let abbr = "<abbr title=\"Hyper Text &quot;Markup&quot; Language\">HTML</abbr>";
    let html = &out.html;
    assert!(
        html.contains(&format!("<h2 id=\"the-html-spec\">The {abbr} spec")),
        "{html}"
    );
    assert_eq!(out.toc[0].text, "The HTML spec");
    assert!(
        html.contains(&format!(
            "<p>{abbr} and <code>HTML</code> and <a href=\"https://x.test/HTML\">{abbr}</a> and <a href=\"https://x.test/HTML\">https://x.test/HTML</a>.</p>"
        )),
        "{html}"
    );
    assert!(html.contains("alt=\"HTML\""), "{html}");
    assert!(
        html.contains("<code class=\"language-text hl-code\">HTML\n</code>"),
        "{html}"
    );
    assert!(
        !html.contains("*[HTML]"),
        "the definition is not shown: {html}"
    );
    assert_eq!(html.matches("<abbr").count(), 3, "{html}");
    assert!(
        out.sections[1].text.contains("HTML and HTML"),
        "{:?}",
        out.sections
    );
}

#[test]
fn included_files_render_in_place_with_the_including_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("example.py"),
        "import sys\n# --8<-- [start:body]\nprint('included')\n# --8<-- [end:body]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("note.md"),
        "!!! note\n    From a note.\n\n```python hl_lines=\"1\"\nprint(2)\n```\n\n*[API]: Application Programming Interface\n",
    )
    .unwrap();
    let mut context = context();
    context.body_first_line = 4;
    context.includes = Some(IncludeRoot {
        dir: dir.path(),
        page_file: "guide/page.md",
    });
    let out = render(
        "An API.\n\n```python\n--8<-- \"example.py:body\"\n```\n\n--8<-- \"note.md\"\n\n--8<-- \"../escape.md\"\n\n;--8<-- \"shown.md\"\n",
        context,
    )
    .unwrap();
    let lines: Vec<(usize, &str)> = out
        .snippets
        .iter()
        .map(|s| (s.line, s.code.as_str()))
        .collect();
    assert_eq!(lines, [(6, "print('included')\n"), (10, "print(2)\n")]);
    assert!(out.snippets.iter().all(|s| s.runnable));
    let html = &out.html;
    assert!(html.contains("<div class=\"admonition note\">"), "{html}");
    assert!(
        html.contains("<abbr title=\"Application Programming Interface\">API</abbr>"),
        "{html}"
    );
    assert!(
        html.contains("8&lt;– “shown.md”</p>"),
        "the escaped line is shown (in prose, with smart punctuation): {html}"
    );
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert_eq!(out.warnings[0].line, 12);
    assert!(
        out.warnings[0].message.contains("`..`"),
        "{}",
        out.warnings[0].message
    );
}
