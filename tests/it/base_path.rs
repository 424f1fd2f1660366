//! Serving under a base path (`base_path = "/docs"`), as behind a reverse
//! proxy that forwards `/docs/` unchanged: every URL the site hands out is
//! under it, and nothing is served outside it.
use reqwest::StatusCode;
use scraper::{Html, Selector};

use super::helpers::*;
use super::run::read_events;

async fn docs_app() -> TestApp {
    spawn_app_with(&fixture("search"), |config| {
        config.base_path = "/docs".into();
        config.watch = true;
    })
    .await
}

/// Every URL in `html` that names a path of this host.
fn site_urls(html: &Html) -> Vec<String> {
    let selector = Selector::parse("[href], [src], [action], [data-live-reload]").unwrap();
    html.select(&selector)
        .flat_map(|e| {
            ["href", "src", "action", "data-live-reload"]
                .into_iter()
                .filter_map(|name| e.value().attr(name).map(str::to_string))
                .collect::<Vec<_>>()
        })
        .filter(|url| url.starts_with('/'))
        .collect()
}

#[tokio::test]
async fn every_url_of_a_page_is_under_the_base_path() {
    let app = docs_app().await;
    for path in [
        "/docs/",
        "/docs/locks",
        "/docs/search?q=lock",
        "/docs/no-such-page",
    ] {
        let response = app.get(path).await;
        assert!(
            response.status() == StatusCode::OK || response.status() == StatusCode::NOT_FOUND,
            "{path}"
        );
        let html = Html::parse_document(&response.text().await.unwrap());
        let urls = site_urls(&html);
        assert!(urls.len() > 5, "{path}: {urls:?}");
        for url in &urls {
            assert!(url.starts_with("/docs/"), "{path} links {url}");
        }
        assert_eq!(attributes(&html, "body", "data-base"), ["/docs"], "{path}");
    }
    let page = app.page("/docs/locks", 200).await;
    assert!(
        attributes(&page, ".article a", "href").contains(&"/docs/queues".to_string()),
        "a markdown link to /queues points into the base path"
    );
    for url in site_urls(&page) {
        if url.contains("/static/") || url == "/docs/queues" {
            assert_eq!(app.get(&url).await.status(), StatusCode::OK, "{url}");
        }
    }
}

#[tokio::test]
async fn outside_the_base_path_nothing_is_served() {
    let app = docs_app().await;
    for (path, location) in [
        ("/", "/docs/"),
        ("/docs", "/docs/"),
        ("/docs/locks/", "/docs/locks"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT, "{path}");
        assert_eq!(response.headers()["location"], location, "{path}");
    }
    for path in [
        "/locks",
        "/api/snippets",
        "/static/style.css",
        "/docsx/locks",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("served under /docs/"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_api_runs_and_live_reload_work_under_the_base_path() {
    let app = docs_app().await;
    assert_eq!(app.get("/docs/healthz").await.status(), StatusCode::OK);
    let hits = app.json("/docs/api/search?q=deadlock").await;
    for hit in hits.as_array().unwrap() {
        assert!(hit["url"].as_str().unwrap().starts_with("/docs/"), "{hit}");
    }
    let snippets = app.json("/docs/api/snippets?page=locks").await;
    let id = snippets[0]["id"].as_str().unwrap();
    let mut response = app
        .client
        .post(app.url(&format!("/docs/api/run/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(&mut response, 100).await;
    assert_eq!(events.last().unwrap().data["status"], "ok", "{events:?}");

    let page = app.page("/docs/locks", 200).await;
    let reload = attributes(&page, "body", "data-live-reload");
    assert_eq!(reload, ["/docs/_rundocs/api/live-reload"]);
    let mut stream = app.get(&reload[0]).await;
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("generation"));
}
