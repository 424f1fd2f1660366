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
        ["greet.py", "braced.py", "pyproject.toml"]
    );
    let snippets = app.json("/api/snippets").await;
    let runnable: Vec<&str> = snippets
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["runnable"] == true)
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(runnable.len(), 2, "{snippets}");
    let events = super::run::run(&app, runnable[0]).await;
    assert_eq!(super::run::output(&events, "stdout"), "hello, reader\n");
}
