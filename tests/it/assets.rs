//! Embedded CSS and JS: hashed names, caching, compression, size budget.
use std::io::Write;

use super::helpers::*;

async fn linked_assets(app: &TestApp) -> Vec<String> {
    let page = app.page("/guide/usage", 200).await;
    let mut urls = attributes(&page, "link[rel=stylesheet]", "href");
    urls.extend(attributes(&page, "script[src]", "src"));
    urls
}

#[tokio::test]
async fn every_linked_asset_answers_with_a_long_cache() {
    let app = spawn_app(&fixture("site")).await;
    let urls = linked_assets(&app).await;
    assert_eq!(urls.len(), 6, "{urls:?}");
    for url in urls {
        assert!(url.starts_with("/_rundocs/static/"), "{url}");
        let response = app.get(&url).await;
        assert_eq!(response.status(), 200, "{url}");
        let headers = response.headers();
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{url}"
        );
        let content_type = headers["content-type"].to_str().unwrap();
        let expected = if url.ends_with(".css") {
            "text/css"
        } else {
            "javascript"
        };
        assert!(content_type.contains(expected), "{url}: {content_type}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{url}");
    }
}

#[tokio::test]
async fn plain_names_revalidate_and_unknown_names_are_404() {
    let app = spawn_app(&fixture("site")).await;
    let response = app.get("/static/style.css").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let again = app
        .client
        .get(app.url("/static/style.css"))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(app.get("/static/nothing.css").await.status(), 404);
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
}

#[tokio::test]
async fn assets_are_gzipped_and_stay_within_budget() {
    let app = spawn_app(&fixture("site")).await;
    let mut total = 0;
    for url in linked_assets(&app).await {
        let body = app.get(&url).await.bytes().await.unwrap();
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(&body).unwrap();
        total += gzip.finish().unwrap().len();
        let compressed = app
            .client
            .get(app.url(&url))
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(compressed.headers()["content-encoding"], "gzip", "{url}");
    }
    assert!(
        total <= 30 * 1024,
        "CSS and JS are {total} bytes gzipped; the budget is 30 KB"
    );
}
