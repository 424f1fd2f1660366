//! What operators and load balancers see: readiness while serving and while
//! draining, capacity in `/metrics`, and what shared caches may keep.
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rundocs::access::AccessLevel;

use super::helpers::*;

#[tokio::test]
async fn readyz_turns_503_when_draining_while_runs_in_flight_end() {
    let app = spawn_app_with(&fixture("run"), |config| config.drain_s = 10.0).await;
    for path in ["/_rundocs/readyz", "/readyz"] {
        let ready = app.get(path).await;
        assert_eq!(ready.status(), StatusCode::OK, "{path}");
        assert_eq!(ready.text().await.unwrap(), "ready\n");
    }
    // A run in flight keeps the instance draining, not gone.
    let id = super::run::snippet_id(&app, "basics", "paced").await;
    let run = super::run::start_run(&app, &id).await;
    let stopper = app.stopper();
    tokio::spawn(async move { stopper.stop().await });
    let started = Instant::now();
    loop {
        let answer = app.get("/_rundocs/readyz").await;
        if answer.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(answer.text().await.unwrap().starts_with("draining"));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "readyz never said draining"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // New runs are refused while draining.
    let refused = app
        .client
        .post(app.url(&format!("/_rundocs/api/run/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The run in flight still ends as it should.
    let events = super::run::read_run(run).await;
    assert_eq!(events.last().unwrap().data["status"], "ok", "{events:?}");
}

#[tokio::test]
async fn metrics_show_the_capacity_an_autoscaler_divides_by() {
    let app = spawn_app_with(&fixture("run"), |config| {
        config.run.workers = 3;
        config.run.queue = 17;
    })
    .await;
    let text = app.get("/_rundocs/metrics").await.text().await.unwrap();
    assert!(text.contains("\nrundocs_run_workers 3\n"), "{text}");
    assert!(text.contains("\nrundocs_run_queue_capacity 17\n"), "{text}");
    assert!(text.contains("rundocs_run_queue_depth"), "{text}");
    assert!(text.contains("rundocs_runs_active"), "{text}");
}

#[tokio::test]
async fn a_private_sites_pages_and_answers_are_kept_by_no_shared_cache() {
    let open = spawn_app(&fixture("run")).await;
    let page = open.get("/basics").await;
    assert_eq!(page.headers()["cache-control"], "no-cache");

    let private = spawn_app_with(&fixture("run"), |config| {
        config.access = super::access::config_with_users();
        config.access.read = AccessLevel::Restricted;
        config.access.run = AccessLevel::Restricted;
    })
    .await;
    let signed_in = super::access::basic_as("alice");
    for path in [
        "/basics",
        "/_rundocs/api/snippets",
        "/_rundocs/search?q=sleep",
    ] {
        let response = private
            .client
            .get(private.url(path))
            .header("Authorization", &signed_in)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let cache = response.headers()["cache-control"].to_str().unwrap();
        assert!(cache.starts_with("private"), "{path}: {cache}");
    }
    // Assets are the same for everyone.
    let home = private
        .client
        .get(private.url("/"))
        .header("Authorization", &signed_in)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let css = home
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|href| href.ends_with(".css")))
        .unwrap()
        .to_string();
    let asset = private.get(&css).await;
    assert!(asset.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
}
