//! Access control over real HTTP: restricted reading and running, basic
//! auth and bearer tokens against argon2 hashes, a trusted proxy's header.
use std::sync::OnceLock;

use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use rundocs::access::hash_secret;
use rundocs::config::{AccessConfig, AccessLevel};
use serde_json::Value;

use super::helpers::*;
use super::run::{read_events, snippet_id};

const PASSWORD: &str = "correct horse battery";
const TOKEN: &str = "ci-token-0123456789";

/// Hashing is slow on purpose: once per test binary.
fn hashes() -> &'static (String, String) {
    static HASHES: OnceLock<(String, String)> = OnceLock::new();
    HASHES.get_or_init(|| (hash_secret(PASSWORD).unwrap(), hash_secret(TOKEN).unwrap()))
}

fn access(read: AccessLevel, run: AccessLevel) -> AccessConfig {
    let (password_hash, token_hash) = hashes().clone();
    AccessConfig {
        read,
        run,
        users: [
            ("alice".to_string(), password_hash.clone()),
            ("bob".to_string(), password_hash),
        ]
        .into(),
        tokens: [("ci".to_string(), token_hash)].into(),
        ..AccessConfig::default()
    }
}

async fn app_with(access: AccessConfig) -> TestApp {
    spawn_app_with(&fixture("run"), move |config| config.access = access).await
}

fn basic(user: &str, password: &str) -> String {
    use base64ct::Encoding;
    format!(
        "Basic {}",
        base64ct::Base64::encode_string(format!("{user}:{password}").as_bytes())
    )
}

async fn get_as(app: &TestApp, path: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    request.send().await.unwrap()
}

async fn run_as(app: &TestApp, id: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url(&format!("/api/run/{id}")));
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    request.send().await.unwrap()
}

/// The id of `hello` on the `basics` page, asked with `authorization`.
async fn hello_id(app: &TestApp, authorization: Option<&str>) -> String {
    let snippets: Value = get_as(app, "/api/snippets?page=basics", authorization)
        .await
        .json()
        .await
        .unwrap();
    snippets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "hello")
        .expect("the basics page has a block named hello")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn restricted_reading_asks_to_sign_in_and_shows_nothing_of_the_site() {
    let app = app_with(access(AccessLevel::Restricted, AccessLevel::Restricted)).await;
    for path in ["/", "/basics", "/search?q=hello", "/no-such-page"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            "Basic realm=\"rundocs\", charset=\"UTF-8\"",
            "a browser asks for the password itself"
        );
        let body = response.text().await.unwrap();
        assert!(
            body.contains("Sign in to go on") && body.contains("user name and password"),
            "{body}"
        );
        assert!(
            !body.contains("Runs") && !body.contains("nav-tree"),
            "no page title or sidebar leaks: {body}"
        );
    }
    // The sign-in link comes back to the very page asked for, query included.
    let html = app.page("/search?q=a%26b", 401).await;
    assert_eq!(
        attributes(&html, "a.access-login", "href"),
        ["/_rundocs/login?next=/_rundocs/search?q=a%2526b"]
    );
    for path in ["/api/snippets", "/api/search?q=hello", "/metrics"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        if path.starts_with("/api/") {
            let body: Value = response.json().await.unwrap();
            assert!(
                body["error"].as_str().unwrap().contains("Sign in with"),
                "{body}"
            );
        }
    }
}

#[tokio::test]
async fn health_and_assets_stay_open() {
    let app = app_with(access(AccessLevel::Restricted, AccessLevel::Restricted)).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let page = get_as(&app, "/", Some(&basic("alice", PASSWORD)))
        .await
        .text()
        .await
        .unwrap();
    let html = scraper::Html::parse_document(&page);
    for href in attributes(&html, "link[rel=stylesheet]", "href") {
        assert_eq!(app.get(&href).await.status(), StatusCode::OK, "{href}");
    }
}

#[tokio::test]
async fn the_right_password_or_token_opens_the_site_and_a_wrong_one_is_told() {
    let app = app_with(access(AccessLevel::Restricted, AccessLevel::Restricted)).await;
    let page = get_as(&app, "/basics", Some(&basic("alice", PASSWORD))).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = scraper::Html::parse_document(&page.text().await.unwrap());
    assert!(texts(&html, ".snippet pre.code")
        .iter()
        .any(|c| c.contains("print(\"hello\")")));
    assert_eq!(
        get_as(&app, "/basics", Some(&format!("Bearer {TOKEN}")))
            .await
            .status(),
        StatusCode::OK
    );
    for wrong in [
        basic("alice", "nope"),
        basic("mallory", PASSWORD),
        "Bearer wrong".into(),
        "Digest x".into(),
    ] {
        let response = get_as(&app, "/basics", Some(&wrong)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{wrong}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("Sign-in failed") && body.contains("not accepted"),
            "{body}"
        );
    }
    // Signed in, a run goes through.
    let authorization = basic("alice", PASSWORD);
    let id = hello_id(&app, Some(&authorization)).await;
    let mut response = run_as(&app, &id, Some(&authorization)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(&mut response, 100).await;
    let stdout: String = events
        .iter()
        .filter(|e| e.name == "stdout")
        .map(|e| e.data["text"].as_str().unwrap())
        .collect();
    assert_eq!(stdout, "hello\n", "{events:?}");
}

#[tokio::test]
async fn restricted_runs_leave_pages_open_with_the_code_and_recorded_output() {
    let app = app_with(access(AccessLevel::Open, AccessLevel::Restricted)).await;
    let html = app.page("/basics", 200).await;
    assert_eq!(attributes(&html, "body", "data-runs"), ["restricted"]);
    assert!(texts(&html, ".snippet pre.code")
        .iter()
        .any(|c| c.contains("print(\"hello\")")));
    let id = snippet_id(&app, "basics", "hello").await;
    let response = run_as(&app, &id, None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("running examples needs signing in"),
        "{body}"
    );
    let mut response = run_as(&app, &id, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(&mut response, 100).await;
    assert_eq!(events.last().unwrap().data["status"], "ok", "{events:?}");
}

#[tokio::test]
async fn a_page_with_recorded_output_keeps_it_for_anonymous_readers() {
    let app = spawn_app_with(&fixture("browser-run"), |config| {
        config.access = access(AccessLevel::Open, AccessLevel::Restricted)
    })
    .await;
    let snippets = app.json("/api/snippets").await;
    let page = snippets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["expected_output"].is_string())
        .expect("the fixture records an output")["page"]
        .as_str()
        .unwrap()
        .to_string();
    let html = app.page(&format!("/{page}"), 200).await;
    assert!(!texts(&html, ".recorded-output pre").is_empty());
}

#[tokio::test]
async fn the_session_says_who_the_reader_is_and_whether_they_may_run() {
    let app = app_with(access(AccessLevel::Open, AccessLevel::Restricted)).await;
    assert_eq!(
        app.json("/api/session").await,
        serde_json::json!({"user": null, "can_read": true, "can_run": false, "can_edit": false, "can_edit_pages": false, "login_url": "/_rundocs/login"})
    );
    let signed_in: Value = get_as(&app, "/api/session", Some(&basic("bob", PASSWORD)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(signed_in["user"], "bob");
    assert_eq!(signed_in["can_run"], true);
}

#[tokio::test]
async fn runners_limit_running_to_the_users_they_name() {
    let mut config = access(AccessLevel::Open, AccessLevel::Restricted);
    config.runners = vec!["alice".into()];
    let app = app_with(config).await;
    let id = snippet_id(&app, "basics", "hello").await;
    let response = run_as(&app, &id, Some(&basic("bob", PASSWORD))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("bob")
            && body["error"].as_str().unwrap().contains("access.runners"),
        "{body}"
    );
    let mut response = run_as(&app, &id, Some(&basic("alice", PASSWORD))).await;
    assert_eq!(response.status(), StatusCode::OK);
    read_events(&mut response, 100).await;
}

#[tokio::test]
async fn a_trusted_proxy_names_the_user_and_an_untrusted_one_is_refused() {
    let proxy_access = |trusted: &str| AccessConfig {
        read: AccessLevel::Restricted,
        run: AccessLevel::Restricted,
        proxy_user_header: Some("x-forwarded-user".parse().unwrap()),
        trusted_proxies: vec![trusted.parse().unwrap()],
        ..AccessConfig::default()
    };
    let app = app_with(proxy_access("127.0.0.1")).await;
    let response = app.get("/basics").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers().get(WWW_AUTHENTICATE).is_none(),
        "no password dialog: the proxy signs in"
    );
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("reverse proxy that sets x-forwarded-user"));
    let named = app
        .client
        .get(app.url("/api/session"))
        .header("X-Forwarded-User", "carol")
        .send()
        .await
        .unwrap();
    let session: Value = named.json().await.unwrap();
    assert_eq!(session["user"], "carol");
    assert_eq!(session["login_url"], Value::Null);
    let page = app
        .client
        .get(app.url("/basics"))
        .header("X-Forwarded-User", "carol")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    let elsewhere = app_with(proxy_access("10.9.9.9")).await;
    let response = elsewhere
        .client
        .get(elsewhere.url("/basics"))
        .header("X-Forwarded-User", "carol")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("127.0.0.1") && body.contains("access.trusted_proxies"),
        "{body}"
    );
}

#[tokio::test]
async fn login_signs_in_and_goes_back_only_within_the_site() {
    let app = app_with(access(AccessLevel::Open, AccessLevel::Restricted)).await;
    let anonymous = app.get("/login?next=/basics").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key(WWW_AUTHENTICATE));
    let authorization = basic("alice", PASSWORD);
    for (next, expected) in [
        ("/basics", "/basics"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/%5C%5Cevil.example", "/"),
        ("/a/../../x", "/"),
        ("/%09/evil.example", "/"),
        ("/%2E%2E/x", "/"),
        ("/search?q=lock", "/search?q=lock"),
    ] {
        let response = get_as(&app, &format!("/login?next={next}"), Some(&authorization)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(response.headers()["location"], expected, "{next}");
    }
}

#[tokio::test]
async fn an_open_site_ignores_credentials_it_does_not_need() {
    let app = spawn_app(&fixture("run")).await;
    let response = get_as(&app, "/basics", Some("Bearer anything")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.json("/api/session").await["can_run"], true);
    assert_eq!(AccessConfig::default().read, AccessLevel::Open);
}

#[tokio::test]
async fn refusals_are_counted_by_reason_in_metrics() {
    let mut config = access(AccessLevel::Open, AccessLevel::Restricted);
    config.runners = vec!["alice".into()];
    let app = app_with(config).await;
    let count = |text: &str, reason: &str| -> f64 {
        let prefix = format!("rundocs_refusals_total{{reason=\"{reason}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
    };
    let before = app.get("/metrics").await.text().await.unwrap();
    for reason in [
        "sign_in",
        "forbidden",
        "sign_in_busy",
        "cross_site",
        "rate_limited",
        "queue_full",
    ] {
        assert_eq!(count(&before, reason), 0.0, "{reason}");
    }
    let id = snippet_id(&app, "basics", "hello").await;
    for _ in 0..2 {
        assert_eq!(
            run_as(&app, &id, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let bob = basic("bob", PASSWORD);
    assert_eq!(
        run_as(&app, &id, Some(&bob)).await.status(),
        StatusCode::FORBIDDEN
    );
    let after = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(count(&after, "sign_in"), 2.0);
    assert_eq!(count(&after, "forbidden"), 1.0);
    assert!(
        after.trim_end().ends_with("# EOF"),
        "one exposition: {after}"
    );
    assert_eq!(after.matches("# EOF").count(), 1);
}

/// Users alice and bob (both with [`PASSWORD`]) and nothing restricted.
pub fn config_with_users() -> AccessConfig {
    access(AccessLevel::Open, AccessLevel::Open)
}

/// `Authorization` for `user` with the test password.
pub fn basic_as(user: &str) -> String {
    basic(user, PASSWORD)
}
