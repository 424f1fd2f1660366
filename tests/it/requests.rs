//! Bad requests: traversal, oversized paths, invalid UTF-8, wrong methods,
//! bodies where none belong, and fuzzed request targets and raw requests.
//! Each gets a 4xx that says what is wrong; none a 5xx, and the server lives.
use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, TestRng, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::helpers::*;
use super::run::snippet_id;

/// Sends raw bytes on a new connection; returns what came back (the status
/// line and the rest), or an empty string if the server closed without one.
async fn raw(app: &TestApp, request: &[u8]) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request).await;
    // Half-close: a request cut short ends here rather than at a timeout.
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> Option<u16> {
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}

async fn assert_alive(app: &TestApp) {
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn path_traversal_on_every_route_finds_nothing() {
    let app = spawn_app(&fixture("site")).await;
    let routes = ["/", "/static/", "/api/snippets/", "/api/run/", "/guide/"];
    let escapes = [
        "../Cargo.toml",
        "..%2fCargo.toml",
        "..%2F..%2FCargo.toml",
        "%2e%2e/%2e%2e/Cargo.toml",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..\\..\\Cargo.toml",
        "..%5c..%5cCargo.toml",
        "....//....//etc/passwd",
        "%252e%252e%252fCargo.toml",
        "alpha/../../../../etc/passwd",
        "%c0%ae%c0%ae/etc/passwd",
    ];
    for route in routes {
        for escape in escapes {
            let target = format!("{route}{escape}");
            let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let answer = raw(&app, request.as_bytes()).await;
            let status = status_of(&answer).unwrap_or_else(|| panic!("{target}: {answer}"));
            assert!(
                (400..500).contains(&status) || status == 301 || status == 308,
                "{target}: {status}"
            );
            assert!(
                !answer.contains("[package]") && !answer.contains("root:"),
                "{target} leaked a file"
            );
        }
    }
    assert_alive(&app).await;
}

#[tokio::test]
async fn very_long_paths_and_queries_get_4xx() {
    let app = spawn_app(&fixture("site")).await;
    for length in [2_000, 8_000, 40_000, 200_000] {
        let long = "a".repeat(length);
        for target in [
            format!("/{long}"),
            format!("/?q={long}"),
            format!("/api/run/{long}"),
        ] {
            let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let answer = raw(&app, request.as_bytes()).await;
            let status = status_of(&answer).unwrap_or(0);
            // A page may ignore a long query (200); nothing may fail (5xx).
            assert!(
                (200..500).contains(&status),
                "{} bytes: {status} {answer:.80}",
                target.len()
            );
        }
    }
    assert_alive(&app).await;
}

#[tokio::test]
async fn invalid_utf8_in_paths_gets_404() {
    let app = spawn_app(&fixture("site")).await;
    for target in [
        "/%ff%fe",
        "/alpha%c3",
        "/static/%80.css",
        "/api/run/%ed%a0%80",
    ] {
        let status = app.get(target).await.status().as_u16();
        assert!(status == 404 || status == 405, "{target}: {status}");
    }
    let answer = raw(
        &app,
        b"GET /\xff\xfe\x80 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let status = status_of(&answer).unwrap_or(0);
    assert!((400..500).contains(&status), "{answer}");
    assert_alive(&app).await;
}

#[tokio::test]
async fn wrong_methods_get_405_with_allow_and_a_reason() {
    let app = spawn_app(&fixture("site")).await;
    let read_only = ["/", "/alpha", "/healthz", "/metrics", "/api/snippets"];
    for path in read_only {
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let response = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(response.headers()["allow"], "GET, HEAD", "{method} {path}");
            let text = response.text().await.unwrap();
            assert!(
                text.contains(&format!("{method} is not allowed on {path}")),
                "{text}"
            );
        }
    }
    let response = app
        .client
        .get(app.url("/api/run/abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn a_get_with_a_body_is_refused_with_400() {
    let app = spawn_app(&fixture("site")).await;
    let response = app
        .client
        .get(app.url("/alpha"))
        .body("a body")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(text.contains("GET requests carry no body"), "{text}");
    let chunked = raw(
        &app,
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&chunked), Some(400), "{chunked}");
    assert_alive(&app).await;
}

#[tokio::test]
async fn huge_post_bodies_are_refused_with_413_before_anything_runs() {
    let app = spawn_app(&fixture("run")).await;
    let id = snippet_id(&app, "basics", "hello").await;
    let path = format!("/api/run/{id}");
    // A declared 10 GB body: answered from the head, nothing is read.
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\nConnection: close\r\n\r\n"
    );
    let answer = raw(&app, request.as_bytes()).await;
    assert_eq!(status_of(&answer), Some(413), "{answer}");
    assert!(answer.contains("may carry at most 1024"), "{answer}");
    // A real 64 KiB body.
    let response = app
        .client
        .post(app.url(&path))
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("rundocs_runs_total") && !l.ends_with(" 0")),
        "no run started: {metrics}"
    );
    // A small body (a generic client's `{}`) is ignored.
    let response = app
        .client
        .post(app.url(&path))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("event: end"));
}

/// Random request targets: path segments of bytes that matter to routing
/// (dots, slashes, backslashes, percent signs, NUL, non-ASCII), percent-
/// encoded where HTTP requires it, with random methods.
fn request_target(prefixes: Vec<&'static str>) -> impl Strategy<Value = (String, String)> {
    let byte = prop_oneof![
        4 => prop::sample::select(b"aZ09-_.~".to_vec()),
        2 => Just(b'.'),
        2 => Just(b'/'),
        1 => Just(b'\\'),
        1 => Just(b'%'),
        1 => any::<u8>(),
    ];
    let segment = prop::collection::vec(byte, 0..12);
    let prefix = prop::sample::select(prefixes);
    let method = prop::sample::select(vec!["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]);
    let query = prop::option::of(prop::collection::vec(any::<u8>(), 0..24));
    (method, prefix, prop::collection::vec(segment, 0..5), query).prop_map(
        |(method, prefix, segments, query)| {
            let mut target = prefix.to_string();
            for (i, segment) in segments.iter().enumerate() {
                if i > 0 {
                    target.push('/');
                }
                target.push_str(&encode(segment));
            }
            if let Some(query) = query {
                target.push('?');
                target.push_str(&encode(&query));
            }
            (method.to_string(), target)
        },
    )
}

/// A proptest runner with a fixed seed, so a failure repeats.
fn seeded_runner() -> TestRunner {
    TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    )
}

/// Percent-encodes what may not appear raw in a request target (and, at
/// random, leaves a `%` unescaped so malformed escapes are tried too).
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            b'%' => "%".to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn fuzzed_request_targets_never_get_a_5xx() {
    let app = spawn_app(&fixture("site")).await;
    let strategy = request_target(vec![
        "/",
        "/static/",
        "/api/",
        "/api/run/",
        "/api/snippets",
        "/api/search",
        "/search",
        "/guide/",
        "/healthz",
    ]);
    let mut runner = seeded_runner();
    for _ in 0..1500 {
        let (method, target) = strategy.new_tree(&mut runner).unwrap().current();
        let request = format!("{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = raw(&app, request.as_bytes()).await;
        let status = status_of(&answer)
            .unwrap_or_else(|| panic!("no answer to {method} {target}: {answer:?}"));
        assert!(status < 500, "{method} {target}: {status}");
    }
    assert_alive(&app).await;
}

/// Page titles of the `site` fixture, which a stranger must never see when
/// reading is restricted.
const SITE_TITLES: [&str; 6] = [
    "Alpha",
    "Beta from heading",
    "Install",
    "Usage",
    "Guide",
    "Fixture site",
];

#[tokio::test]
async fn fuzzed_requests_to_a_private_site_reveal_nothing_without_signing_in() {
    let app = spawn_app_with(&fixture("site"), |config| {
        config.base_path = "/docs".into();
        config.access = rundocs::config::AccessConfig {
            read: rundocs::config::AccessLevel::Restricted,
            run: rundocs::config::AccessLevel::Restricted,
            proxy_user_header: Some("x-forwarded-user".parse().unwrap()),
            // Nobody is trusted: the header sent below is never believed.
            trusted_proxies: Vec::new(),
            ..Default::default()
        };
    })
    .await;
    let strategy = request_target(vec![
        "/",
        "/docs",
        "/docs/",
        "/docsx/",
        "/docs/static/",
        "/docs/%73tatic/",
        "/docs/static/..",
        "/docs/api/",
        "/docs/api/run/",
        "/docs/api/%72un/",
        "/docs/api/snippets",
        "/docs/api/search",
        "/docs/api/session",
        "/docs/search",
        "/docs/login",
        "/docs/guide/",
        "/docs/healthz",
        "/docs/metrics",
    ]);
    let mut runner = seeded_runner();
    let mut open = 0;
    for i in 0..1500 {
        let (method, target) = strategy.new_tree(&mut runner).unwrap().current();
        let spoof = if i % 2 == 0 {
            "X-Forwarded-User: admin\r\n"
        } else {
            ""
        };
        let request =
            format!("{method} {target} HTTP/1.1\r\nHost: x\r\n{spoof}Connection: close\r\n\r\n");
        let answer = raw(&app, request.as_bytes()).await;
        let status = status_of(&answer)
            .unwrap_or_else(|| panic!("no answer to {method} {target}: {answer:?}"));
        assert!(status < 500, "{method} {target}: {status}");
        for title in SITE_TITLES {
            assert!(
                !answer.contains(title),
                "{method} {target} shows {title:?}: {answer}"
            );
        }
        assert!(
            !answer.contains("nav-tree") && !answer.contains("data-snippet-id"),
            "{method} {target}: {answer}"
        );
        if status == 200 {
            open += 1;
            let path = target.split('?').next().unwrap();
            assert!(
                path == "/docs/healthz"
                    || path == "/docs/api/session"
                    || path.starts_with("/docs/static/"),
                "{method} {target} answered 200 to a stranger: {answer}"
            );
        }
    }
    assert!(open > 0, "the open routes answered");
    assert_eq!(app.get("/docs/healthz").await.status(), 200);
}

#[tokio::test]
async fn fuzzed_raw_requests_never_crash_the_server() {
    let app = spawn_app(&fixture("site")).await;
    let mut runner = seeded_runner();
    // Mutations of a valid request: bytes replaced, inserted, cut.
    let valid =
        b"GET /alpha HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nConnection: close\r\n\r\n".to_vec();
    let mutation = prop::collection::vec((0..valid.len(), any::<u8>(), 0..3u8), 1..6);
    let mut answered = 0;
    for _ in 0..600 {
        let edits = mutation.new_tree(&mut runner).unwrap().current();
        let mut request = valid.clone();
        for (at, byte, kind) in edits {
            let at = at.min(request.len().saturating_sub(1));
            match kind {
                0 => request[at] = byte,
                1 => request.insert(at, byte),
                _ => {
                    request.truncate(at.max(1));
                    request.extend_from_slice(b"\r\n\r\n");
                }
            }
        }
        let answer = raw(&app, &request).await;
        if let Some(status) = status_of(&answer) {
            answered += 1;
            assert!(
                status < 500,
                "{:?}: {status}",
                String::from_utf8_lossy(&request)
            );
        }
    }
    // Most mutations still parse (or fail to) into an answer worth checking.
    assert!(answered > 300, "only {answered} of 600 got an answer");
    assert_alive(&app).await;
}

#[tokio::test]
async fn odd_spellings_of_paths_reach_what_they_name_and_nothing_else() {
    let app = spawn_app(&fixture("site")).await;
    for (method, target, status, body_has) in [
        // Not assets, and not pages either.
        ("GET", "/static/guide/install", 404, "no asset"),
        ("GET", "/static/", 404, "no asset"),
        ("GET", "/static", 404, "no asset"),
        ("POST", "/static/guide/install", 405, "GET and HEAD"),
        // One leading slash makes a page path; two do not.
        ("GET", "//guide/install", 404, "Page not found"),
        ("GET", "//", 308, "location: /\r\n"),
        // Encoded characters are decoded as in any path.
        ("GET", "/guide%2Finstall", 200, "Install"),
        ("GET", "/guide/%69nstall", 200, "Install"),
    ] {
        let request = format!("{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = raw(&app, request.as_bytes()).await;
        assert_eq!(
            status_of(&answer),
            Some(status),
            "{method} {target}: {answer}"
        );
        assert!(answer.contains(body_has), "{method} {target}: {answer}");
    }
}
