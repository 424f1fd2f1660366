//! `/api/snippets` and the `data-snippet-id`s in pages.
use std::collections::BTreeSet;

use serde_json::Value;

use super::helpers::*;

#[tokio::test]
async fn page_ids_match_the_runnable_snippets_of_the_api() {
    let app = spawn_app(&fixture("site")).await;
    let all = app.json("/api/snippets").await;
    let all = all.as_array().unwrap();
    let home = app.page("/", 200).await;
    let mut pages = attributes(&home, "nav.sidebar a", "href");
    pages.push("/".into());
    let mut in_pages = BTreeSet::new();
    for path in pages {
        let page = app.page(&path, 200).await;
        in_pages.extend(attributes(&page, "[data-snippet-id]", "data-snippet-id"));
    }
    let runnable: BTreeSet<String> = all
        .iter()
        .filter(|s| s["runnable"] == true)
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(in_pages, runnable);
    assert_eq!(runnable.len(), 3);
}

#[tokio::test]
async fn snippet_objects_follow_the_contract() {
    let app = spawn_app(&fixture("site")).await;
    let usage = app.json("/api/snippets?page=guide/usage").await;
    let usage = usage.as_array().unwrap();
    let shape: Vec<(&str, bool, u64)> = usage
        .iter()
        .map(|s| {
            (
                s["language"].as_str().unwrap(),
                s["runnable"].as_bool().unwrap(),
                s["index"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("python", true, 0),
            ("python", true, 1),
            ("python", false, 2),
            ("python", true, 3),
            ("bash", false, 4)
        ]
    );
    for snippet in usage {
        assert_eq!(snippet["page"], "guide/usage");
        for key in ["id", "code", "timeout_s"] {
            assert!(snippet.get(key).is_some(), "{key} missing in {snippet}");
        }
        let id = snippet["id"].as_str().unwrap();
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{id}"
        );
    }
    assert_eq!(usage[0]["name"], "setup");
    assert_eq!(usage[1]["requires"], serde_json::json!(["setup"]));
    assert_eq!(usage[1]["expected_output"], "hello\n");
    assert_eq!(usage[1]["code"], "print(greeting)\n");
    assert_eq!(usage[0]["timeout_s"], 10.0);
    assert_eq!(usage[3]["timeout_s"], 2.5);
    let slashes = app.json("/api/snippets?page=/guide/usage/").await;
    assert_eq!(&slashes, &Value::Array(usage.clone()));
}

#[tokio::test]
async fn unknown_page_filter_is_a_json_404() {
    let app = spawn_app(&fixture("site")).await;
    let response = app.get("/api/snippets?page=nope").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("/nope"), "{body}");
    let response = app.get("/api/nothing-here").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("/api/nothing-here"),
        "{body}"
    );
}

#[tokio::test]
async fn ids_are_stable_across_restarts_and_change_with_the_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.md"), "```python\nprint(1)\n```\n").unwrap();
    let first = spawn_app(dir.path()).await.json("/api/snippets").await;
    let again = spawn_app(dir.path()).await.json("/api/snippets").await;
    assert_eq!(first[0]["id"], again[0]["id"]);
    std::fs::write(
        dir.path().join("p.md"),
        "Intro.\n\n```python\nprint(1)\n```\n",
    )
    .unwrap();
    let moved = spawn_app(dir.path()).await.json("/api/snippets").await;
    assert_eq!(
        first[0]["id"], moved[0]["id"],
        "moving a block keeps its id"
    );
    std::fs::write(dir.path().join("p.md"), "```python\nprint(2)\n```\n").unwrap();
    let edited = spawn_app(dir.path()).await.json("/api/snippets").await;
    assert_ne!(
        first[0]["id"], edited[0]["id"],
        "editing the code changes the id"
    );
}
