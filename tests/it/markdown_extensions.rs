//! Pages written for mkdocs-material with pymdown-extensions, served as
//! readers see them: numbered and highlighted code lines (still runnable),
//! attr_list headings, abbreviations and included files
//! (`fixtures/pymdown/`).
use std::time::Duration;

use serde_json::Value;

use super::helpers::*;
use super::run::{output, run};

/// The runnable blocks of `page` from `/api/snippets`.
async fn runnable(app: &TestApp, page: &str) -> Vec<Value> {
    let snippets = app.json(&format!("/api/snippets?page={page}")).await;
    snippets
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["runnable"] == true)
        .cloned()
        .collect()
}

#[tokio::test]
async fn numbered_and_highlighted_lines_show_and_the_block_still_runs_its_own_code() {
    let app = spawn_app(&fixture("pymdown")).await;
    let page = app.page("/lines", 200).await;
    let numbered = ".snippet code.linenums > .code-line";
    assert_eq!(attributes(&page, numbered, "data-line"), ["3", "4"]);
    assert_eq!(
        texts(&page, ".snippet .code-line-hl"),
        ["print(total)"],
        "hl_lines counts the block's own lines from 1"
    );
    assert_eq!(
        texts(&page, ".snippet pre.code code")
            .first()
            .map(String::as_str),
        Some("total = 6 * 7\nprint(total)"),
        "the numbers are not text of the code"
    );
    // A value that cannot be read leaves the block as it was, runnable.
    assert_eq!(texts(&page, ".code-title"), ["total.py", "bad.py"]);
    assert_eq!(page.select(&sel(".snippet")).count(), 2);
    // Other languages too: highlighted lines, and no numbers for "ten".
    assert_eq!(
        texts(&page, "code.language-toml .code-line-hl"),
        ["[project]", "name = \"demo\""]
    );
    assert_eq!(page.select(&sel("code.language-toml.linenums")).count(), 0);

    let blocks = runnable(&app, "lines").await;
    assert_eq!(blocks[0]["code"], "total = 6 * 7\nprint(total)\n");
    let events = run(&app, blocks[0]["id"].as_str().unwrap()).await;
    assert_eq!(output(&events, "stdout"), "42\n");
    let events = run(&app, blocks[1]["id"].as_str().unwrap()).await;
    assert_eq!(output(&events, "stdout"), "still runs\n");
}

#[tokio::test]
async fn heading_attributes_set_ids_and_classes_and_the_contents_follow() {
    let app = spawn_app(&fixture("pymdown")).await;
    let page = app.page("/headings", 200).await;
    assert_eq!(
        attributes(&page, "article h2", "id"),
        ["start", "install", "options"]
    );
    assert_eq!(attributes(&page, "h2#start", "class"), ["wide lead"]);
    assert_eq!(
        attributes(&page, ".toc-list a", "href"),
        ["#start", "#install", "#options"]
    );
    assert_eq!(
        texts(&page, ".toc-list a"),
        ["Getting started", "Install", "Options"]
    );
    let headings = texts(&page, "article h2").join(" ");
    assert!(
        !headings.contains('{') && !headings.contains("toc"),
        "{headings}"
    );
    assert_eq!(page.select(&sel("[onclick]")).count(), 0);
    assert_eq!(attributes(&page, "article p a", "href"), ["#start"]);
}

#[tokio::test]
async fn abbreviations_from_an_included_glossary_mark_the_text_only() {
    let app = spawn_app(&fixture("pymdown")).await;
    let page = app.page("/abbreviations", 200).await;
    let abbr = "article abbr[title=\"Hyper Text Markup Language\"]";
    assert_eq!(texts(&page, abbr), ["HTML", "HTML"], "heading and text");
    assert_eq!(attributes(&page, "article h2", "id"), ["the-html-spec"]);
    assert_eq!(texts(&page, ".toc-list a"), ["The HTML spec"]);
    assert_eq!(texts(&page, "article p code"), ["HTML"]);
    assert_eq!(
        attributes(&page, "article p a", "href"),
        ["https://example.com/HTML"]
    );
    assert_eq!(page.select(&sel("pre abbr, code abbr")).count(), 0);
    let article = texts(&page, "article").join("");
    assert!(!article.contains("*[HTML]"), "{article}");
    let blocks = runnable(&app, "abbreviations").await;
    let events = run(&app, blocks[0]["id"].as_str().unwrap()).await;
    assert_eq!(output(&events, "stdout"), "HTML stays HTML in code\n");
}

#[tokio::test]
async fn included_files_show_in_place_and_their_python_runs() {
    let app = spawn_app(&fixture("pymdown")).await;
    let page = app.page("/includes", 200).await;
    let article = texts(&page, "article").join("");
    assert!(article.contains("Text from an included file."), "{article}");
    assert_eq!(
        texts(&page, ".admonition.note .admonition-title"),
        ["Included note"]
    );
    assert!(
        article.contains("8<– “snippets/intro.md”"),
        "the escaped line is shown: {article}"
    );
    assert!(
        !article.contains("Welcome to the fixture"),
        "a file outside the content folder is never read: {article}"
    );
    let blocks = runnable(&app, "includes").await;
    let shape: Vec<(&str, u64)> = blocks
        .iter()
        .map(|b| (b["code"].as_str().unwrap(), b["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        shape,
        [
            ("print(\"from an included note\")\n", 3),
            (
                "name = \"reader\"\nprint(f\"hello, {name}\")\nprint(\"goodbye\")\n",
                5
            ),
            ("print(\"goodbye\")\n", 9),
        ],
        "included lines count as the line that includes them"
    );
    assert_eq!(
        texts(&page, "code.linenums .code-line-hl"),
        ["print(f\"hello, {name}\")"]
    );
    let outputs = [
        "from an included note\n",
        "hello, reader\ngoodbye\n",
        "goodbye\n",
    ];
    for (block, expected) in blocks.iter().zip(outputs) {
        let events = run(&app, block["id"].as_str().unwrap()).await;
        assert_eq!(output(&events, "stdout"), expected);
    }
}

#[tokio::test]
async fn includes_never_read_through_links_out_of_the_content_folder() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "TOP SECRET\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("pymdown"), dir.path());
    let link = |name: &str, to: &std::path::Path| {
        std::os::unix::fs::symlink(to, dir.path().join(name)).unwrap()
    };
    link("secret.txt", &outside.path().join("secret.txt"));
    link("elsewhere", outside.path());
    let absolute = outside.path().join("secret.txt");
    std::fs::write(
        dir.path().join("peek.md"),
        format!(
            "# Peek\n\n--8<-- \"secret.txt\"\n\n--8<-- \"elsewhere/secret.txt\"\n\n--8<-- \"{}\"\n\nStill here.\n",
            absolute.display()
        ),
    )
    .unwrap();
    let app = spawn_app(dir.path()).await;
    let response = app.get("/peek").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("Still here."), "{body}");
    assert!(!body.contains("TOP SECRET"), "{body}");
}

#[tokio::test]
async fn watching_rebuilds_a_page_when_a_file_it_includes_changes() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("pymdown"), dir.path());
    let app = spawn_app_with(dir.path(), |c| c.watch = true).await;
    let before = app.get("/includes").await.text().await.unwrap();
    assert!(before.contains("Text from an included file."));
    std::fs::write(
        dir.path().join("snippets/intro.md"),
        "Changed in the included file.\n",
    )
    .unwrap();
    let changed = eventually(Duration::from_secs(10), || async {
        let body = app.get("/includes").await.text().await.ok()?;
        body.contains("Changed in the included file.").then_some(())
    })
    .await;
    assert!(changed.is_some(), "the including page shows the change");
}

#[test]
fn what_is_left_out_is_logged_with_file_and_line() {
    use std::io::{BufRead, BufReader, Read};
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_rundocs"))
        .args(["serve", "--bind", "127.0.0.1:0", "--content"])
        .arg(fixture("pymdown"))
        .env("RUNDOCS_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The pages are built, and their warnings logged, before it serves.
    let mut serving = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut serving)
        .unwrap();
    server.kill().unwrap();
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    server.wait().unwrap();
    assert!(serving.contains("serving on"), "{serving}{log}");
    for (file, line, needle) in [
        ("lines.md", 8, "`x` is not a line"),
        ("lines.md", 12, "linenums=\"ten\""),
        ("includes.md", 13, "goes up with `..`"),
        ("includes.md", 15, "names no file"),
    ] {
        let found = log.lines().any(|l| {
            l.contains(needle)
                && l.contains(&format!("file={file}"))
                && l.contains(&format!("line={line}"))
        });
        assert!(found, "{file}:{line} {needle}:\n{log}");
    }
}

fn sel(selector: &str) -> scraper::Selector {
    scraper::Selector::parse(selector).unwrap()
}
