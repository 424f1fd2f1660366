//! `--watch`: added, changed, removed and broken pages, and live reload.
use std::time::Duration;

use super::helpers::*;

/// File events, debounce and rebuild together take well under this.
const WITHIN: Duration = Duration::from_secs(10);

async fn watched_copy_of_site() -> (tempfile::TempDir, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("site"), dir.path());
    let app = spawn_app_with(dir.path(), |c| c.watch = true).await;
    (dir, app)
}

async fn body_when(app: &TestApp, path: &str, status: u16, needle: &str) -> Option<String> {
    eventually(WITHIN, || async {
        let response = app.get(path).await;
        if response.status().as_u16() != status {
            return None;
        }
        let body = response.text().await.ok()?;
        body.contains(needle).then_some(body)
    })
    .await
}

#[tokio::test]
async fn added_changed_and_removed_pages_are_picked_up() {
    let (dir, app) = watched_copy_of_site().await;
    app.page("/fresh", 404).await;

    std::fs::write(
        dir.path().join("fresh.md"),
        "# Fresh page\n\nFirst words.\n",
    )
    .unwrap();
    body_when(&app, "/fresh", 200, "First words.")
        .await
        .expect("the new page appears");
    let home = app.page("/", 200).await;
    assert!(attributes(&home, "nav.sidebar a", "href").contains(&"/fresh".to_string()));

    std::fs::write(
        dir.path().join("fresh.md"),
        "# Fresh page\n\nSecond words.\n",
    )
    .unwrap();
    body_when(&app, "/fresh", 200, "Second words.")
        .await
        .expect("the change shows");

    std::fs::remove_file(dir.path().join("fresh.md")).unwrap();
    body_when(&app, "/fresh", 404, "Page not found")
        .await
        .expect("the removed page is gone");
    let home = app.page("/", 200).await;
    assert!(!attributes(&home, "nav.sidebar a", "href").contains(&"/fresh".to_string()));
}

#[tokio::test]
async fn a_broken_edit_keeps_the_last_good_version_and_shows_the_error() {
    let (dir, app) = watched_copy_of_site().await;
    let file = dir.path().join("alpha.md");
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, "---\ntitle: [unclosed\n---\nBroken body.\n").unwrap();
    let body = body_when(&app, "/alpha", 200, "content-problem")
        .await
        .expect("the error banner appears");
    assert!(body.contains("Alpha’s body."), "last good body kept");
    assert!(
        body.contains("alpha.md:2"),
        "the banner names file and line"
    );
    assert!(!body.contains("Broken body."));

    std::fs::write(&file, good.replace("Alpha's body.", "Alpha fixed.")).unwrap();
    let body = body_when(&app, "/alpha", 200, "Alpha fixed.")
        .await
        .expect("the fix shows");
    assert!(!body.contains("content-problem"));
}

#[tokio::test]
async fn live_reload_stream_announces_each_rebuild() {
    let (dir, app) = watched_copy_of_site().await;
    let page = app.page("/alpha", 200).await;
    let generation = attributes(&page, "body", "data-generation")[0].clone();
    assert_eq!(
        attributes(&page, "body", "data-live-reload"),
        ["/_rundocs/api/live-reload"]
    );

    let mut stream = app.get("/api/live-reload").await;
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    let first = format!("data: {{\"generation\":{generation}}}");
    while !seen.contains(&first) {
        let chunk = stream
            .chunk()
            .await
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    std::fs::write(dir.path().join("alpha.md"), "# Alpha again\n").unwrap();
    let next: u64 = generation.parse::<u64>().unwrap() + 1;
    let wanted = format!("event: generation\ndata: {{\"generation\":{next}}}");
    let found = tokio::time::timeout(WITHIN, async {
        while !seen.contains(&wanted) {
            let chunk = stream
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(found.is_ok(), "no reload event; got {seen:?}");
    let page = app.page("/alpha", 200).await;
    assert_eq!(
        attributes(&page, "body", "data-generation"),
        [next.to_string()]
    );
}

#[tokio::test]
async fn live_reload_is_off_without_watch() {
    let app = spawn_app(&fixture("site")).await;
    let page = app.page("/alpha", 200).await;
    assert!(attributes(&page, "body", "data-live-reload").is_empty());
    assert_eq!(app.get("/api/live-reload").await.status(), 404);
}

#[tokio::test]
async fn live_reload_streams_are_capped_per_client() {
    let (_dir, app) = watched_copy_of_site().await;
    let cap = rundocs::web::live_reload::MAX_STREAMS_PER_CLIENT;
    let mut open = Vec::new();
    for _ in 0..cap {
        let mut stream = app.get("/_rundocs/api/live-reload").await;
        assert_eq!(stream.status(), 200);
        stream.chunk().await.unwrap();
        open.push(stream);
    }
    let refused = app.get("/_rundocs/api/live-reload").await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    // Pages still serve, and a closed stream frees its place.
    assert_eq!(app.get("/alpha").await.status(), 200);
    drop(open.pop());
    // The server finds the stream closed when its keep-alives (every 5 s) fail.
    let again = eventually(Duration::from_secs(25), || async {
        let stream = app.get("/_rundocs/api/live-reload").await;
        (stream.status() == 200).then_some(stream)
    })
    .await;
    assert!(again.is_some(), "a closed stream's place is given back");
}
