//! Search over real HTTP: `GET /api/search` (JSON) and `GET /search` (a page
//! that needs no JavaScript), on the `search` fixture.
use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use super::helpers::*;

async fn hits(app: &TestApp, query: &str) -> Vec<Value> {
    let path = format!("/api/search?q={}", urlencode(query));
    app.json(&path).await.as_array().expect("an array").clone()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn urls(hits: &[Value]) -> Vec<&str> {
    hits.iter().map(|h| h["url"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn api_hits_have_the_documented_fields() {
    let app = spawn_app(&fixture("search")).await;
    let hits = hits(&app, "deadlock").await;
    assert!(!hits.is_empty());
    for hit in &hits {
        let keys: BTreeSet<&str> = hit
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["path", "title", "heading", "excerpt", "score", "url"]),
            "{hit}"
        );
        assert!(hit["score"].as_f64().unwrap() > 0.0);
        assert!(hit["path"].is_string() && hit["title"].is_string() && hit["heading"].is_string());
    }
    assert_eq!(hits[0]["path"], "locks");
    assert_eq!(hits[0]["title"], "Deadlocks and lock ordering");
}

#[tokio::test]
async fn a_title_match_comes_before_a_mention_and_words_are_stemmed() {
    let app = spawn_app(&fixture("search")).await;
    // "deadlocks" stems to "deadlock": the sections of the page titled with
    // it that say it come first, then the page that mentions it once, then
    // the rest of the titled page (which matches by its page title only).
    let hits = hits(&app, "deadlocks ").await;
    let found: Vec<&str> = urls(&hits);
    assert_eq!(
        found,
        [
            "/locks#deadlocks-and-lock-ordering",
            "/locks#why-deadlocks-happen",
            "/queues#backpressure",
            "/locks#ordering-by-address"
        ]
    );
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    let mention = &hits[2];
    assert_eq!(mention["heading"], "Backpressure");
    assert_eq!(mention["url"], "/queues#backpressure");
    assert!(
        mention["excerpt"]
            .as_str()
            .unwrap()
            .contains("is a <mark>deadlock</mark> of its own"),
        "{mention}"
    );
}

#[tokio::test]
async fn the_word_being_typed_matches_as_a_prefix() {
    let app = spawn_app(&fixture("search")).await;
    assert_eq!(
        urls(&hits(&app, "bounded backpr").await),
        ["/queues#backpressure"]
    );
    assert!(
        hits(&app, "bounded backpr ").await.is_empty(),
        "a word followed by a space is whole"
    );
}

#[tokio::test]
async fn code_is_searched_by_its_identifiers() {
    let app = spawn_app(&fixture("search")).await;
    let found = hits(&app, "acquire_in_order").await;
    assert_eq!(urls(&found), ["/locks#why-deadlocks-happen"]);
    assert!(found[0]["excerpt"]
        .as_str()
        .unwrap()
        .contains("<mark>acquire</mark>"));
}

#[tokio::test]
async fn excerpts_escape_the_page_text() {
    let app = spawn_app(&fixture("search")).await;
    let found = hits(&app, "ampersand").await;
    assert_eq!(
        found[0]["excerpt"],
        "Characters such as &lt;angle&gt; &amp; <mark>ampersand</mark> are text, not markup."
    );
}

#[tokio::test]
async fn an_empty_query_or_a_bad_limit_is_answered_clearly() {
    let app = spawn_app(&fixture("search")).await;
    assert_eq!(app.json("/api/search?q=").await, Value::Array(vec![]));
    assert_eq!(app.json("/api/search").await, Value::Array(vec![]));
    for limit in ["0", "51"] {
        let response = app.get(&format!("/api/search?q=lock&limit={limit}")).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("1 to 50"),
            "{body}"
        );
    }
    let found = app.json("/api/search?q=lock&limit=1").await;
    assert_eq!(found.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_results_page_works_without_javascript() {
    let app = spawn_app(&fixture("search")).await;
    let html = app.page("/search?q=deadlock", 200).await;
    let links = attributes(&html, "li.search-result a.search-result-link", "href");
    assert!(links[0].starts_with("/locks#"), "{links:?}");
    assert!(
        links.contains(&"/queues#backpressure".to_string()),
        "{links:?}"
    );
    // Every link lands on an element of its page.
    for link in &links {
        let (page, anchor) = link.split_once('#').unwrap();
        let target = app.page(page, 200).await;
        assert_eq!(
            attributes(&target, &format!("[id='{anchor}']"), "id").len(),
            1,
            "{link}"
        );
    }
    let excerpts = texts(&html, ".search-result-excerpt mark");
    assert!(
        excerpts.iter().all(|m| m.eq_ignore_ascii_case("deadlock")),
        "{excerpts:?}"
    );
    assert!(!excerpts.is_empty());
    // The box keeps the query; the sidebar is there as on any page.
    assert_eq!(
        attributes(&html, "form.search input[name=q]", "value"),
        ["deadlock"]
    );
    assert!(!texts(&html, ".sidebar a").is_empty());
}

#[tokio::test]
async fn the_results_page_escapes_the_query_and_says_when_nothing_matches() {
    let app = spawn_app(&fixture("search")).await;
    let response = app.get("/search?q=%3Cscript%3Ezebra").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(!body.contains("<script>zebra"), "the query is escaped");
    assert!(
        body.contains("Nothing matches <strong>&#60;script&#62;zebra</strong>")
            || body.contains("Nothing matches <strong>&lt;script&gt;zebra</strong>"),
        "{body}"
    );
    let empty = app.page("/search", 200).await;
    assert!(texts(&empty, ".search-summary")[0].starts_with("Type words"));
}

#[tokio::test]
async fn the_index_follows_content_changes() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("search"), dir.path());
    let app = spawn_app_with(dir.path(), |c| c.watch = true).await;
    assert!(hits(&app, "zanzibar").await.is_empty());
    std::fs::write(
        dir.path().join("travel.md"),
        "# Travel\n\nA trip to Zanzibar.\n",
    )
    .unwrap();
    let found = eventually(Duration::from_secs(10), || async {
        let found = hits(&app, "zanzibar").await;
        (!found.is_empty()).then_some(found)
    })
    .await
    .expect("the new page is found after the rebuild");
    assert_eq!(urls(&found), ["/travel#travel"]);
    std::fs::remove_file(dir.path().join("travel.md")).unwrap();
    let gone = eventually(Duration::from_secs(10), || async {
        hits(&app, "zanzibar").await.is_empty().then_some(())
    })
    .await;
    assert!(gone.is_some(), "a removed page leaves the index");
}
