//! mkdocs projects served as they are: `mkdocs.yml`'s name, nav and edit
//! links, pages whose folders or names match rundocs' own routes, odd file
//! names, and every page readable with its Python runnable.
use reqwest::StatusCode;
use scraper::{Html, Selector};

use super::helpers::*;

/// The fixture projects written the way mkdocs and mkdocs-material sites are.
const PROJECTS: [&str; 2] = ["mkdocs-project", "material-project"];

#[tokio::test]
async fn the_project_is_served_with_its_name_nav_order_and_edit_links() {
    let app = spawn_folder(&fixture("mkdocs-project")).await;
    let home = app.page("/", 200).await;
    assert_eq!(texts(&home, ".site-title"), ["Tallyho"]);
    assert_eq!(
        attributes(&home, "nav.sidebar a", "href"),
        [
            "/",
            "/getting-started",
            "/guide/counting",
            "/guide/faq%20%231%3F",
            "/guide/100%25%20sure",
            "/api",
            "/api/tally",
            "https://github.com/example/tallyho/releases",
        ],
        "the nav's order, odd names percent-encoded; the entry naming no file is left out"
    );
    assert_eq!(
        texts(&home, "nav.sidebar a"),
        [
            "Home",
            "Getting started",
            "Counting",
            "Odd names",
            "Certainty",
            "API reference",
            "The Tally class",
            "Changelog",
        ],
        "nav titles, else the page's own"
    );
    assert_eq!(
        texts(&home, "nav.sidebar .nav-section-title"),
        ["Guide", "API reference"]
    );
    let page = app.page("/guide/faq%20%231%3F", 200).await;
    assert_eq!(
        attributes(&page, ".edit-page a", "href"),
        ["https://github.com/example/tallyho/edit/main/docs/guide/faq%20%231%3F.md"]
    );
    assert_eq!(
        attributes(&page, "nav.sidebar a[aria-current=page]", "href"),
        ["/guide/faq%20%231%3F"]
    );
    // Reading order follows the nav too.
    let started = app.page("/getting-started", 200).await;
    assert_eq!(
        attributes(&started, "a[rel=next]", "href"),
        ["/guide/counting"]
    );
}

#[tokio::test]
async fn pages_the_nav_leaves_out_still_serve_and_run() {
    let app = spawn_folder(&fixture("mkdocs-project")).await;
    let page = app.page("/orphan", 200).await;
    assert_eq!(heading(&page), ["Not in the nav"]);
    let id = snippet_ids(&app, "orphan").await.remove(0);
    let events = super::run::run(&app, &id).await;
    assert_eq!(super::run::output(&events, "stdout"), "orphan runs too\n");
}

#[tokio::test]
async fn pages_under_api_and_named_like_routes_serve_at_their_own_address() {
    let app = spawn_folder(&fixture("mkdocs-project")).await;
    let api = app.page("/api", 200).await;
    assert_eq!(heading(&api), ["API reference"]);
    let tally = app.page("/api/tally", 200).await;
    assert_eq!(heading(&tally), ["The Tally class"]);
    let search = app.page("/search", 200).await;
    assert_eq!(heading(&search), ["Search tips"]);

    // rundocs' own routes are under /_rundocs, and the pages' scripts use them.
    let results = app.page("/_rundocs/search?q=tally", 200).await;
    let hits = attributes(&results, ".search-result-link", "href");
    assert!(
        hits.iter().any(|href| href.starts_with("/api/tally#")),
        "{hits:?}"
    );
    assert_eq!(
        attributes(&tally, "body", "data-routes"),
        ["/_rundocs"],
        "the page's scripts reach the API under the prefix"
    );
    let id = snippet_ids(&app, "api/tally").await.remove(0);
    let events = super::run::run(&app, &id).await;
    assert_eq!(super::run::output(&events, "stdout"), "3\n");

    // A version 1 API route no page claims still answers; a page missing
    // from api/ gets the site's 404 page, not the API's JSON.
    let snippets = app.get("/api/snippets?page=api").await;
    assert_eq!(snippets.status(), StatusCode::OK);
    assert_eq!(snippets.headers()["content-type"], "application/json");
    let missing = app.get("/api/no-such-page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn every_page_of_every_project_serves_and_every_example_runs() {
    for project in PROJECTS {
        let app = spawn_folder(&fixture(project)).await;
        let home = app.page("/", 200).await;
        let mut links: Vec<String> = attributes(&home, "nav.sidebar a", "href")
            .into_iter()
            .filter(|href| href.starts_with('/'))
            .collect();
        let snippets = app.json("/api/snippets").await;
        for snippet in snippets.as_array().unwrap() {
            let page = snippet["page"].as_str().unwrap();
            links.push(rundocs::util::page_url("", page));
        }
        links.sort();
        links.dedup();
        for link in &links {
            let page = app.page(link, 200).await;
            assert!(
                texts(&page, ".content-problem").is_empty(),
                "{project}{link} shows an error"
            );
            let prose = prose_text(&page);
            for marker in ["!!!", "???", "===", "--8<--"] {
                assert!(
                    !prose.contains(marker),
                    "{project}{link} shows {marker} as text: {prose}"
                );
            }
        }
        for snippet in snippets.as_array().unwrap() {
            if snippet["runnable"] != true {
                continue;
            }
            let events = super::run::run(&app, snippet["id"].as_str().unwrap()).await;
            assert_eq!(
                super::run::end(&events)["status"],
                "ok",
                "{project} /{} block {}: {events:?}",
                snippet["page"],
                snippet["index"]
            );
        }
    }
}

#[tokio::test]
async fn folders_named_like_routes_and_the_reserved_prefix() {
    let app = spawn_app(&fixture("route-names")).await;
    for (path, title) in [
        ("/healthz", "Health of the fleet"),
        ("/metrics", "Metrics we track"),
        ("/login", "Logging in to the lab"),
        ("/static", "Static typing"),
        ("/api/run", "Running the API"),
    ] {
        let page = app.page(path, 200).await;
        assert_eq!(heading(&page), [title], "{path}");
    }
    let health = app.get("/_rundocs/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.text().await.unwrap().starts_with("ok\n"));
    let metrics = app.get("/_rundocs/metrics").await.text().await.unwrap();
    assert!(metrics.contains("rundocs_runs_total"), "{metrics}");
    // The page at /api/run takes no POST; the run route under the prefix does.
    let id = snippet_ids(&app, "api/run").await.remove(0);
    let events = super::run::run(&app, &id).await;
    assert_eq!(super::run::output(&events, "stdout"), "ran\n");
    // Nothing of the content is served under the prefix.
    let reserved = app.get("/_rundocs/notes").await;
    assert_eq!(reserved.status(), StatusCode::NOT_FOUND);
    assert!(reserved
        .text()
        .await
        .unwrap()
        .contains("is no route of rundocs"));
}

#[test]
fn a_page_in_the_reserved_folder_is_reported() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rundocs"))
        .args(["check", "--content"])
        .arg(fixture("route-names"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("_rundocs/notes.md") && text.contains("move it to a folder"),
        "{text}"
    );
}

/// The page's first heading, without its anchor link.
fn heading(page: &Html) -> Vec<String> {
    texts(page, "article h1")
        .into_iter()
        .map(|text| text.trim_end_matches('#').to_string())
        .collect()
}

async fn snippet_ids(app: &TestApp, page: &str) -> Vec<String> {
    let snippets = app
        .json(&format!("/_rundocs/api/snippets?page={page}"))
        .await;
    snippets
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// The article's text outside code blocks, inline code and run output.
fn prose_text(page: &Html) -> String {
    let article = Selector::parse("article").unwrap();
    let code = Selector::parse("pre, code, .run-output").unwrap();
    let mut prose = String::new();
    for article in page.select(&article) {
        let inside_code: std::collections::HashSet<_> = article
            .select(&code)
            .flat_map(|c| c.descendants())
            .map(|n| n.id())
            .collect();
        for node in article.descendants() {
            if let Some(text) = node.value().as_text() {
                if !inside_code.contains(&node.id()) {
                    prose.push_str(text);
                }
            }
        }
    }
    prose
}
