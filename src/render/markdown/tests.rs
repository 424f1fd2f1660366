use super::*;

pub(super) fn context() -> PageContext<'static> {
    PageContext {
        url_path: "guide/page",
        body_first_line: 1,
        default_timeout_s: 10.0,
        max_timeout_s: 3600.0,
        base_path: "",
        file_dir: "guide",
        includes: None,
    }
}

pub(super) fn render_ok(markdown: &str) -> RenderedMarkdown {
    render(markdown, context()).expect("renders")
}

#[test]
fn gfm_extensions_render() {
    let html = render_ok(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~\n\n- [x] done\n\nNote[^1].\n\n[^1]: The note.\n",
    )
    .html;
    assert!(html.contains("<table>"), "{html}");
    assert!(html.contains("<del>gone</del>"), "{html}");
    assert!(html.contains("type=\"checkbox\""), "{html}");
    assert!(html.contains("footnote-definition"), "{html}");
}

#[test]
fn smart_punctuation_applies_to_text_but_not_code() {
    let out = render_ok("\"quoted\" -- text `\"code\" --`\n\n```text\n\"block\" --\n```\n");
    assert!(out.html.contains("“quoted” – text"), "{}", out.html);
    assert!(
        out.html.contains("<code>\"code\" --</code>"),
        "{}",
        out.html
    );
    assert_eq!(out.snippets[0].code, "\"block\" --\n");
}

#[test]
fn headings_get_unique_ids_anchors_and_a_toc() {
    let out = render_ok("# Title\n\n## Setup\n\n### Setup\n\n## `code` and *more*\n\n#### Deep\n\n## Own {#custom}\n");
    assert_eq!(out.first_h1.as_deref(), Some("Title"));
    assert!(out.starts_with_h1);
    let toc: Vec<_> = out
        .toc
        .iter()
        .map(|e| (e.level, e.id.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        toc,
        [
            (2, "setup", "Setup"),
            (3, "setup-1", "Setup"),
            (2, "code-and-more", "code and more"),
            (2, "custom", "Own"),
        ]
    );
    assert!(
        out.html
            .contains("<h2 id=\"setup\">Setup<a class=\"heading-anchor\" href=\"#setup\""),
        "{}",
        out.html
    );
    assert!(out.html.contains("<h4 id=\"deep\">"), "{}", out.html);
}

#[test]
fn a_page_not_opening_with_h1_says_so() {
    let out = render_ok("Intro.\n\n# Later\n");
    assert!(!out.starts_with_h1);
    assert_eq!(out.first_h1.as_deref(), Some("Later"));
}

#[test]
fn runnable_block_carries_its_id_and_owns_the_output_block() {
    let out = render_ok(
        "Text\n\n```python timeout=3\nprint('hi')\n```\n\n```output\nhi\n```\n\nAfter.\n",
    );
    let snippet = &out.snippets[0];
    assert!(snippet.runnable);
    assert_eq!(snippet.timeout_s, 3.0);
    assert_eq!(snippet.line, 3);
    assert_eq!(snippet.expected_output.as_deref(), Some("hi\n"));
    assert_eq!(out.snippets.len(), 1, "the output block is not a snippet");
    let html = &out.html;
    let wrapper = format!("<div class=\"snippet\" data-snippet-id=\"{}\"", snippet.id);
    let start = html.find(&wrapper).expect(html);
    let output = html.find("data-output-for").expect(html);
    let after = html.find("<p>After.</p>").expect(html);
    assert!(start < output && output < after, "{html}");
    assert_eq!(
        html.matches("<div").count(),
        html.matches("</div>").count(),
        "{html}"
    );
}

#[test]
fn output_block_after_a_paragraph_is_not_attached() {
    let out = render_ok("```python\nprint(1)\n```\n\nBetween.\n\n```output\n1\n```\n");
    assert_eq!(out.snippets[0].expected_output, None);
    assert!(out.html.contains("<pre class=\"output\">"), "{}", out.html);
    assert_eq!(
        out.html.matches("<div").count(),
        out.html.matches("</div>").count()
    );
}

#[test]
fn sessions_are_runnable_shown_with_prompts_and_own_no_output_block() {
    let out = render_ok(
        "```pycon\n>>> 1 + 1\n2\n```\n\n```output\n2\n```\n\n```python\n\n>>> x = 1\n```\n\n```python\nprint('>>> no')\n```\n\n```pycon norun\n>>> 3\n```\n",
    );
    let shape: Vec<_> = out
        .snippets
        .iter()
        .map(|s| (s.language.as_str(), s.session, s.runnable))
        .collect();
    assert_eq!(
        shape,
        [
            ("pycon", true, true),
            ("pycon", true, true),
            ("python", false, true),
            ("pycon", true, false)
        ]
    );
    assert_eq!(out.snippets[0].expected_output, None);
    let html = &out.html;
    assert!(
        html.contains(
            "<code class=\"language-pycon hl-code\"><span class=\"hl-p\">&gt;&gt;&gt; </span>"
        ),
        "{html}"
    );
    assert!(html.contains("<pre class=\"output\">"), "{html}");
    assert_eq!(
        html.matches("<div").count(),
        html.matches("</div>").count(),
        "{html}"
    );
}

#[test]
fn what_does_not_apply_to_a_session_is_an_error_at_its_line() {
    let error = render("```pycon expect=error\n>>> 1/0\n```\n", context()).unwrap_err();
    assert_eq!(error.line, 1);
    assert!(error.message.contains("expect=error"), "{}", error.message);
    let error = render("text\n\n```python\n>>> if x:\n...y\n```\n", context()).unwrap_err();
    assert_eq!(error.line, 5);
    assert!(
        error.message.contains("followed by a space"),
        "{}",
        error.message
    );
}

#[test]
fn norun_and_other_languages_are_listed_but_not_runnable() {
    let out = render_ok(
        "```python norun\nimport os\n```\n\n```rust\nfn main() {}\n```\n\n    indented\n",
    );
    let shape: Vec<_> = out
        .snippets
        .iter()
        .map(|s| (s.language.as_str(), s.runnable, s.index))
        .collect();
    assert_eq!(
        shape,
        [("python", false, 0), ("rust", false, 1), ("", false, 2)]
    );
    assert!(!out.html.contains("data-snippet-id"), "{}", out.html);
}

#[test]
fn line_numbers_count_from_the_file_start() {
    let mut context = context();
    context.body_first_line = 5;
    let out = render("para\n\n```py\nx = 1\n```\n", context).unwrap();
    assert_eq!(out.snippets[0].line, 7);
    let error = render("\n```python timeout=never\n```\n", context).unwrap_err();
    assert_eq!(error.line, 6);
    assert!(error.message.contains("timeout=never"), "{}", error.message);
}

#[test]
fn code_is_escaped() {
    let out = render_ok("```python\nprint('<script>alert(1)</script>')\n```\n");
    assert!(!out.html.contains("<script>"), "{}", out.html);
}

#[test]
fn requires_must_name_a_block_and_not_loop() {
    let ok =
        render_ok("```python name=setup\nx = 1\n```\n\n```python requires=setup\nprint(x)\n```\n");
    assert_eq!(ok.snippets[1].requires, ["setup"]);

    let unknown = render("```python requires=nothing\nx\n```\n", context()).unwrap_err();
    assert!(
        unknown.message.contains("names no block"),
        "{}",
        unknown.message
    );

    let cycle = render(
        "```python name=a requires=b\n1\n```\n\n```python name=b requires=a\n2\n```\n",
        context(),
    )
    .unwrap_err();
    assert!(cycle.message.contains("circle"), "{}", cycle.message);
    assert!(cycle.message.ends_with("a → b → a"), "{}", cycle.message);

    let duplicate = render(
        "```python name=a\n1\n```\n\n```python name=a\n2\n```\n",
        context(),
    )
    .unwrap_err();
    assert_eq!(duplicate.line, 5);
}

#[test]
fn identical_blocks_get_distinct_ids() {
    let out = render_ok("```python\nx = 1\n```\n\n```python\nx = 1\n```\n");
    assert_ne!(out.snippets[0].id, out.snippets[1].id);
}

#[test]
fn slugs_are_url_safe() {
    assert_eq!(
        slugify("What the GIL is (really)"),
        "what-the-gil-is-really"
    );
    assert_eq!(slugify("  --  "), "section");
    assert_eq!(slugify("Ünïcode names"), "ünïcode-names");
}

#[test]
fn links_and_images_to_site_paths_get_the_base_path_in_headings_too() {
    let markdown = "## See [locks](/locks)\n\n[a](/a) [b](//host/b) [c](https://x.test/c) [d](d) ![i](/i.png)\n";
    let rendered = render(
        markdown,
        PageContext {
            base_path: "/docs",
            ..context()
        },
    )
    .expect("renders");
    for expected in [
        "href=\"/docs/locks\"",
        "href=\"/docs/a\"",
        "href=\"//host/b\"",
        "href=\"https://x.test/c\"",
        "href=\"d\"",
        "src=\"/docs/i.png\"",
    ] {
        assert!(
            rendered.html.contains(expected),
            "{expected} in {}",
            rendered.html
        );
    }
    let root = render_ok(markdown);
    assert!(root.html.contains("href=\"/locks\"") && root.html.contains("href=\"/a\""));
}

/// A page of many blocks, each requiring the two before it: every chain
/// shares most of its blocks with the others (a walk that followed each
/// path anew would take 2^n steps), and a loop at its very end is found.
#[test]
fn long_and_branching_requires_chains_load_and_a_late_loop_is_found() {
    let blocks = 3000;
    let mut page = String::new();
    for i in 0..blocks {
        let requires = match i {
            0 => String::new(),
            1 => " requires=b0".to_string(),
            _ => format!(" requires=b{},b{}", i - 1, i - 2),
        };
        page.push_str(&format!(
            "```python name=b{i}{requires}\nx{i} = {i}\n```\n\n"
        ));
    }
    let out = render_ok(&page);
    assert_eq!(out.snippets.len(), blocks);
    assert_eq!(
        out.snippets[blocks - 1].requires,
        [format!("b{}", blocks - 2), format!("b{}", blocks - 3)]
    );

    page.push_str(&format!(
        "```python name=last requires=b{} \nx\n```\n",
        blocks - 1
    ));
    let looped = page.replacen(
        "```python name=b0\n",
        "```python name=b0 requires=last\n",
        1,
    );
    let error = render(&looped, context()).unwrap_err();
    assert!(
        error.message.contains("goes round in a circle"),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .contains("circle: b0 → last → b2999 → b2998 → … (2994 more) → b3 → b2 → b1 → b0"),
        "{}",
        error.message
    );
}
