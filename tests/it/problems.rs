//! A broken content file names itself; everything else keeps serving.
use super::helpers::*;

#[tokio::test]
async fn broken_files_show_an_error_page_naming_file_and_line() {
    let app = spawn_app(&fixture("broken")).await;
    for (path, file, line, needle) in [
        ("/bad-toml", "bad-toml.md", Some(3), "invalid type"),
        ("/bad-fence", "bad-fence.md", Some(7), "timeout=soon"),
        ("/unclosed", "unclosed.md", Some(1), "never closed"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 500, "{path}");
        let html = scraper::Html::parse_document(&response.text().await.unwrap());
        let problem = texts(&html, ".content-problem").join(" ");
        assert!(problem.contains(file), "{path}: {problem}");
        if let Some(line) = line {
            assert!(
                problem.contains(&format!("line {line}")),
                "{path}: {problem}"
            );
        }
        assert!(problem.contains(needle), "{path}: {problem}");
    }
}

#[tokio::test]
async fn good_pages_keep_serving_next_to_broken_ones() {
    let app = spawn_app(&fixture("broken")).await;
    let good = app.page("/good", 200).await;
    assert_eq!(texts(&good, "article h1"), ["Good"]);
    let home = app.page("/", 200).await;
    assert_eq!(attributes(&home, "nav.sidebar a", "href"), ["/good"]);
    let snippets = app.json("/api/snippets").await;
    assert_eq!(snippets.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn other_tools_fence_attributes_never_make_an_error_page() {
    let app = spawn_app(&fixture("foreign-fences")).await;
    let page = app.page("/", 200).await;
    assert_eq!(
        texts(&page, ".code-title"),
        ["greet.py", "braced.py", "pyproject.toml", "inside.py"]
    );
    let snippets = app.json("/api/snippets").await;
    let runnable: Vec<&str> = snippets
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["runnable"] == true)
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(runnable.len(), 4, "{snippets}");
    let events = super::run::run(&app, runnable[0]).await;
    assert_eq!(super::run::output(&events, "stdout"), "hello, reader\n");
}

#[tokio::test]
async fn admonitions_render_and_their_code_runs_with_the_files_line_numbers() {
    let app = spawn_app(&fixture("foreign-fences")).await;
    let page = app.page("/", 200).await;
    let body = texts(&page, "main").join(" ");
    assert!(!body.contains("!!!") && !body.contains("???"), "{body}");
    assert_eq!(
        texts(&page, ".admonition.note > .admonition-title"),
        ["Before you run it"]
    );
    assert_eq!(texts(&page, "details.admonition.tip > summary"), ["Tip"]);
    assert_eq!(
        attributes(&page, "details.admonition.warning", "open"),
        [""]
    );
    assert_eq!(
        attributes(&page, "details.admonition.tip", "open"),
        Vec::<String>::new()
    );
    let snippets = app.json("/api/snippets").await;
    let inside = snippets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "print(\"from inside a note\")\n")
        .expect("the block inside the note is a snippet");
    assert_eq!(inside["runnable"], true);
    assert_eq!(inside["line"], 20, "the fence's line in the file");
    let events = super::run::run(&app, inside["id"].as_str().unwrap()).await;
    assert_eq!(
        super::run::output(&events, "stdout"),
        "from inside a note\n"
    );
}

#[tokio::test]
async fn content_tabs_are_radio_buttons_and_their_code_runs() {
    let app = spawn_app(&fixture("foreign-fences")).await;
    let page = app.page("/", 200).await;
    assert!(!texts(&page, "main").join(" ").contains("==="));
    assert!(!texts(&page, "main").join(" ").contains("[TOC]"));
    assert_eq!(texts(&page, "dl dt"), ["Term"]);
    assert_eq!(texts(&page, "dl dd"), ["Its definition."]);
    assert_eq!(
        texts(&page, ".tabbed-set .tabbed-label"),
        ["pip", "In Python"]
    );
    assert_eq!(
        attributes(&page, ".tabbed-set input[checked]", "id"),
        ["tabs-1-1"]
    );
    assert_eq!(texts(&page, ".tabbed-content pre code").len(), 2);
    let snippets = app.json("/api/snippets").await;
    let in_tab = snippets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "print(\"from a tab\")\n")
        .expect("the block in the tab is a snippet");
    let events = super::run::run(&app, in_tab["id"].as_str().unwrap()).await;
    assert_eq!(super::run::output(&events, "stdout"), "from a tab\n");
}
