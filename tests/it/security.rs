//! Only this site's pages start runs, within a rate; pages carry security headers.
use serde_json::Value;

use super::helpers::*;
use super::run::snippet_id;

async fn post(app: &TestApp, id: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.post(app.url(&format!("/api/run/{id}")));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn cross_site_requests_cannot_start_runs() {
    let app = spawn_app(&fixture("run")).await;
    let id = snippet_id(&app, "basics", "hello").await;
    for headers in [
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Sec-Fetch-Site", "same-site")],
        vec![("Origin", "https://elsewhere.example")],
        vec![("Origin", "null")],
    ] {
        let response = post(&app, &id, &headers).await;
        assert_eq!(response.status(), 403, "{headers:?}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("this site's own pages"),
            "{body}"
        );
    }
    let host = app.base.trim_start_matches("http://").to_string();
    let own_origin = format!("http://{host}");
    for headers in [
        vec![
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", own_origin.as_str()),
        ],
        vec![("Origin", own_origin.as_str())],
        vec![
            ("Origin", "https://docs.example.com"),
            ("X-Forwarded-Host", "docs.example.com"),
        ],
        vec![],
    ] {
        let response = post(&app, &id, &headers).await;
        assert_eq!(response.status(), 200, "{headers:?}");
    }
}

#[tokio::test]
async fn runs_per_client_are_rate_limited_with_retry_after() {
    let app = spawn_app_with(&fixture("run"), |c| c.run.rate_limit_per_minute = 2).await;
    let id = snippet_id(&app, "basics", "hello").await;
    assert_eq!(post(&app, &id, &[]).await.status(), 200);
    assert_eq!(post(&app, &id, &[]).await.status(), 200);
    let refused = post(&app, &id, &[]).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("too many runs"),
        "{body}"
    );
    // Pages are not limited.
    app.page("/basics", 200).await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("rundocs_refusals_total{reason=\"rate_limited\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_run_rate() {
    let app = spawn_app_with(&fixture("run"), |c| {
        c.run.rate_limit_per_minute = 1;
        c.access.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let id = snippet_id(&app, "basics", "hello").await;
    let from = |client: &'static str| [("x-forwarded-for", client)];
    assert_eq!(post(&app, &id, &from("203.0.113.1")).await.status(), 200);
    assert_eq!(post(&app, &id, &from("203.0.113.1")).await.status(), 429);
    // The last entry is the one the proxy saw; what the client wrote before it is not believed.
    assert_eq!(
        post(&app, &id, &from("203.0.113.1, 203.0.113.2"))
            .await
            .status(),
        200
    );
    assert_eq!(
        post(&app, &id, &from("203.0.113.9, 203.0.113.2"))
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_changes_nothing() {
    let app = spawn_app_with(&fixture("run"), |c| c.run.rate_limit_per_minute = 1).await;
    let id = snippet_id(&app, "basics", "hello").await;
    assert_eq!(
        post(&app, &id, &[("x-forwarded-for", "203.0.113.1")])
            .await
            .status(),
        200
    );
    assert_eq!(
        post(&app, &id, &[("x-forwarded-for", "203.0.113.2")])
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_without_inline_script() {
    let app = spawn_app(&fixture("site")).await;
    let response = app.get("/guide/usage").await;
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    let page = scraper::Html::parse_document(&html);
    let inline_scripts = page
        .select(&scraper::Selector::parse("script:not([src])").unwrap())
        .count();
    assert_eq!(inline_scripts, 0, "no inline scripts");
    assert!(!html.contains(" style=\""), "no inline styles");
}
