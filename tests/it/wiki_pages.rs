//! The wiki's pages over HTTP: the editor and history pages (and who gets
//! them), the links pages carry to them, the live preview rendering as the
//! page does, and images uploaded from the editor as commits.
use reqwest::StatusCode;
use rundocs::config::EditAccess;
use scraper::Html;
use serde_json::{json, Value};

use super::access::{basic_as, config_with_users};
use super::helpers::*;
use super::wiki::{git_status, read, save, wiki_app, wiki_app_with, wiki_app_with_config};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn png() -> Vec<u8> {
    use base64ct::Encoding;
    base64ct::Base64::decode_vec(PNG).unwrap()
}

/// GET `path` as `authorization` (none: anonymous).
async fn get_as(app: &TestApp, path: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.unwrap()
}

async fn html(response: reqwest::Response) -> Html {
    Html::parse_document(&response.text().await.unwrap())
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn upload(
    app: &TestApp,
    path: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(&format!("/_rundocs/api/upload?path={path}")))
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn pages_link_to_their_editor_and_history_and_the_editor_starts_from_the_current_revision() {
    let (_dir, _root, app) = wiki_app().await;
    let page = app.page("/guide/setup", 200).await;
    assert_eq!(
        attributes(&page, "a.wiki-edit-link", "href"),
        ["/_rundocs/edit?path=guide/setup.md"]
    );
    assert!(
        attributes(&page, "a.wiki-edit-link", "hidden").is_empty(),
        "everyone may edit: the link shows without asking"
    );
    assert_eq!(
        attributes(&page, "a.wiki-history-link", "href"),
        ["/_rundocs/history?path=guide/setup.md"]
    );
    let header = texts(&page, ".wiki-nav a");
    assert_eq!(header, ["Recent changes", "New page"]);
    let session = app.json("/_rundocs/api/session").await;
    assert_eq!(session["can_edit_pages"], true);
    assert_eq!(
        session["can_edit"], false,
        "running edited code is another right"
    );

    let (source, revision) = read(&app, "guide/setup").await;
    let editor = app.page("/_rundocs/edit?path=guide/setup", 200).await;
    assert_eq!(
        attributes(&editor, "form.wiki-editor", "data-revision"),
        [revision]
    );
    assert_eq!(
        attributes(&editor, "form.wiki-editor", "data-path"),
        ["guide/setup.md"]
    );
    assert_eq!(texts(&editor, "textarea.wiki-source"), [source.trim()]);
    assert_eq!(
        attributes(&editor, "form.wiki-editor", "data-preview-runs"),
        ["off"],
        "run.edit is off: the preview's examples do not run"
    );
    assert!(
        attributes(&editor, "script", "src")
            .iter()
            .any(|s| s.contains("/static/wiki.")),
        "the editor's script"
    );
    assert!(texts(&editor, "nav.sidebar a").is_empty(), "no sidebar");

    // A page that does not exist yet is offered to be made; a new one that exists is refused.
    let missing = app.page("/_rundocs/edit?path=guide/faq", 404).await;
    assert_eq!(
        attributes(&missing, "a.wiki-notice-link", "href"),
        ["/_rundocs/edit?new=1&path=guide/faq.md"]
    );
    let new = app.page("/_rundocs/edit?new=1&path=guide/faq", 200).await;
    assert_eq!(attributes(&new, "form.wiki-editor", "data-revision"), [""]);
    assert_eq!(
        attributes(&new, "input.wiki-path", "value"),
        ["guide/faq.md"]
    );
    assert_eq!(texts(&new, "textarea.wiki-source"), ["# Faq"]);
    let unnamed = app.page("/_rundocs/edit?new=1", 200).await;
    assert_eq!(attributes(&unnamed, "input.wiki-path", "value"), [""]);
    let exists = app.page("/_rundocs/edit?new=1&path=notes", 409).await;
    assert!(texts(&exists, ".wiki-notice-message")[0].contains("notes.md exists already"));
    for bad in ["../outside.md", ".git/config", "picture.png", "_rundocs/x"] {
        let refused = app.page(&format!("/_rundocs/edit?path={bad}"), 400).await;
        assert!(
            !texts(&refused, ".wiki-notice-message")[0].is_empty(),
            "{bad}"
        );
    }

    // The 404 page offers to make a page at its address.
    let not_found = app.page("/guide/nothing-here", 404).await;
    assert_eq!(
        attributes(&not_found, "a.wiki-create-link", "href"),
        ["/_rundocs/edit?new=1"]
    );
}

#[tokio::test]
async fn with_editing_off_there_are_no_edit_links_editor_or_history() {
    let app = spawn_app(&fixture("wiki")).await;
    let page = app.page("/notes", 200).await;
    assert!(texts(&page, "a.wiki-edit-link").is_empty());
    assert!(texts(&page, ".wiki-nav").is_empty());
    let body = attributes(&page, "body", "data-editor");
    assert!(body.is_empty(), "no editor bundle to load: {body:?}");
    assert_eq!(
        app.json("/_rundocs/api/session").await["can_edit_pages"],
        false
    );
    app.page("/_rundocs/edit?path=notes", 404).await;
    app.page("/_rundocs/history?path=notes", 404).await;
    app.page("/_rundocs/history", 404).await;
    let (status, answer) = post_json(
        &app,
        "/_rundocs/api/preview",
        json!({"source": "# x", "path": "notes"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(answer["error"].as_str().unwrap().contains("access.edit"));
    let (status, _) = upload(&app, "diagram.png", "image/png", png()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_editors_get_the_editor_and_revert_while_every_reader_gets_the_history() {
    let (_dir, _root, app) = wiki_app_with(|access| {
        *access = config_with_users();
        access.edit = EditAccess::Restricted;
        access.editors = vec!["alice".into()];
    })
    .await;
    let (source, base) = read(&app, "notes").await;
    let edited = source.replace("the queue", "the bounded queue");
    let response = app
        .client
        .put(app.url("/_rundocs/api/page?path=notes"))
        .header("Authorization", basic_as("alice"))
        .json(&json!({"source": edited, "base": base}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Pages are the same for everyone: the links for editors are hidden
    // until the page's script asks the session.
    let page = app.page("/notes", 200).await;
    assert_eq!(attributes(&page, "a.wiki-edit-link", "hidden"), [""]);
    assert_eq!(
        attributes(&page, ".wiki-nav a[data-editors-only]", "hidden"),
        [""]
    );
    assert!(attributes(&page, "a.wiki-history-link", "hidden").is_empty());
    for (who, may) in [(None, false), (Some("bob"), false), (Some("alice"), true)] {
        let authorization = who.map(basic_as);
        let session: Value = get_as(&app, "/_rundocs/api/session", authorization.as_deref())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(session["can_edit_pages"], may, "{who:?}");
    }

    let anonymous = get_as(&app, "/_rundocs/edit?path=notes", None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.headers().contains_key("www-authenticate"),
        "the browser asks for a password"
    );
    let bob = get_as(&app, "/_rundocs/edit?path=notes", Some(&basic_as("bob"))).await;
    assert_eq!(bob.status(), StatusCode::FORBIDDEN);
    assert!(html(bob).await.html().contains("access.editors"));
    let alice = get_as(&app, "/_rundocs/edit?path=notes", Some(&basic_as("alice"))).await;
    assert_eq!(alice.status(), StatusCode::OK);

    let history = html(get_as(&app, "/_rundocs/history?path=notes", None).await).await;
    assert_eq!(texts(&history, "table.wiki-changes tbody tr").len(), 2);
    assert!(
        texts(&history, "button.wiki-revert").is_empty(),
        "readers do not revert"
    );
    let history = html(
        get_as(
            &app,
            "/_rundocs/history?path=notes",
            Some(&basic_as("alice")),
        )
        .await,
    )
    .await;
    assert_eq!(
        attributes(&history, "button.wiki-revert", "data-revision"),
        [base],
        "editors may revert to any revision but the current one"
    );
}

#[tokio::test]
async fn the_history_lists_revisions_compares_any_two_and_shows_old_ones() {
    let (_dir, _root, app) = wiki_app().await;
    let (first_text, first) = read(&app, "notes").await;
    let second_text = first_text.replace("about the queue", "about the bounded queue");
    let (status, saved) = save(
        &app,
        "notes",
        json!({"source": second_text, "base": first, "message": "Say which queue"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let second = saved["revision"].as_str().unwrap().to_string();
    let third_text = second_text.replace("about the locks", "about the locks & <latches>");
    let (_, saved) = save(
        &app,
        "notes",
        json!({"source": third_text, "base": second, "message": "Latches too"}),
    )
    .await;
    let third = saved["revision"].as_str().unwrap().to_string();

    let history = app.page("/_rundocs/history?path=notes", 200).await;
    let rows = texts(&history, "table.wiki-changes tbody td:nth-child(5)");
    assert_eq!(rows, ["Latches too", "Say which queue", "Start the site"]);
    assert_eq!(
        texts(&history, "table.wiki-changes tbody td:nth-child(4)")[0],
        "anonymous"
    );
    // The last change is proposed for comparing.
    assert_eq!(
        attributes(&history, "input[name=from][checked]", "value"),
        [second.as_str()]
    );
    assert_eq!(
        attributes(&history, "input[name=to][checked]", "value"),
        [third.as_str()]
    );

    let diff = app
        .page(
            &format!("/_rundocs/history?path=notes&from={first}&to={third}"),
            200,
        )
        .await;
    let removed = texts(&diff, "pre.wiki-diff .diff-del");
    let added = texts(&diff, "pre.wiki-diff .diff-add");
    assert!(
        removed.contains(&"-First paragraph, about the queue.".to_string()),
        "{removed:?}"
    );
    assert!(
        added.contains(&"+First paragraph, about the bounded queue.".to_string()),
        "{added:?}"
    );
    assert!(
        added.contains(&"+Third paragraph, about the locks & <latches>.".to_string()),
        "{added:?}"
    );
    assert_eq!(texts(&diff, "pre.wiki-diff .diff-hunk").len(), 1);

    let old = app
        .page(&format!("/_rundocs/history?path=notes&rev={first}"), 200)
        .await;
    let shown = texts(&old, ".wiki-old-revision p").join("\n");
    assert!(
        shown.contains("about the queue.") && !shown.contains("bounded"),
        "{shown}"
    );
    assert!(!texts(&old, ".wiki-revision-banner")[0].contains("as it is now"));
    let source = app
        .page(
            &format!("/_rundocs/history?path=notes&rev={second}&view=source"),
            200,
        )
        .await;
    assert_eq!(texts(&source, "pre.wiki-old-source"), [second_text.trim()]);
    let current = app
        .page(&format!("/_rundocs/history?path=notes&rev={third}"), 200)
        .await;
    assert!(texts(&current, ".wiki-revision-banner")[0].contains("as it is now"));
    assert!(texts(&current, ".wiki-old-revision p")
        .join(" ")
        .contains("the locks & "));

    app.page(
        "/_rundocs/history?path=notes&rev=0123456789012345678901234567890123456789",
        404,
    )
    .await;
    app.page(
        &format!("/_rundocs/history?path=guide/setup&rev={first}"),
        404,
    )
    .await;
    app.page("/_rundocs/history?path=never-made", 404).await;
    app.page("/_rundocs/history?path=../x", 400).await;

    let recent = app.page("/_rundocs/history", 200).await;
    assert_eq!(
        texts(&recent, "table.wiki-changes tbody td:nth-child(2)")[0],
        "notes.md"
    );
    assert_eq!(
        texts(&recent, "table.wiki-changes tbody td:nth-child(4)")[0],
        "Latches too"
    );
}

/// A page with the things a preview must render as the page does.
const RICH_PAGE: &str = r#"# Queues

!!! warning "Bounded"
    A queue without a bound grows until memory ends.

```python name=setup
import queue
q = queue.Queue(maxsize=2)
```

```python requires=setup
q.put(1)
print(q.qsize())
```

```output
1
```
"#;

#[tokio::test]
async fn the_preview_renders_as_the_page_does() {
    let (_dir, _root, app) = wiki_app().await;
    let (status, preview) = post_json(
        &app,
        "/_rundocs/api/preview",
        json!({"source": RICH_PAGE, "path": "guide/queues"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["title"], "Queues");
    assert_eq!(preview["url"], "/guide/queues");
    let previewed = Html::parse_fragment(preview["html"].as_str().unwrap());

    let (status, _) = save(
        &app,
        "guide/queues",
        json!({"source": RICH_PAGE, "base": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = app.page("/guide/queues", 200).await;
    for selector in [
        ".admonition.warning .admonition-title",
        ".admonition.warning p",
        ".snippet pre.code",
        ".recorded-output pre",
        "h1",
    ] {
        assert_eq!(
            texts(&previewed, selector),
            texts(&page, &format!("article {selector}")),
            "{selector}"
        );
    }
    let ids = attributes(&page, ".snippet", "data-snippet-id");
    assert_eq!(ids.len(), 2);
    assert_eq!(
        attributes(&previewed, ".snippet", "data-snippet-id"),
        ids,
        "the same ids as the page's blocks"
    );
    assert_eq!(
        preview["requires"],
        json!({ ids[1].clone(): [ids[0].clone()] })
    );

    // A mistake is what the page would show, not a failed request.
    let (status, broken) = post_json(
        &app,
        "/_rundocs/api/preview",
        json!({"source": "# x\n\n```python tiemout=5\npass\n```\n", "path": "notes"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(broken["html"], Value::Null);
    let problem = broken["problem"].as_str().unwrap();
    assert!(
        problem.starts_with("notes.md:3:") && problem.contains("timeout"),
        "{problem}"
    );

    let (status, answer) = post_json(
        &app,
        "/_rundocs/api/preview",
        json!({"source": "x", "path": "../x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _) = post_json(&app, "/_rundocs/api/preview", json!({"source": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, answer) = post_json(
        &app,
        "/_rundocs/api/preview",
        json!({"source": "x".repeat((1 << 20) + 1), "path": "notes"}),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer["error"]
        .as_str()
        .unwrap()
        .contains("wiki.max_page_bytes"));
}

#[tokio::test]
async fn the_preview_is_for_editors_only() {
    let (_dir, _root, app) = wiki_app_with(|access| {
        *access = config_with_users();
        access.edit = EditAccess::Restricted;
        access.editors = vec!["alice".into()];
    })
    .await;
    let body = json!({"source": "# Hi", "path": "notes"});
    let ask = |authorization: Option<String>| {
        let mut request = app
            .client
            .post(app.url("/_rundocs/api/preview"))
            .json(&body);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send()
    };
    assert_eq!(ask(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        ask(Some(basic_as("bob"))).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask(Some(basic_as("alice"))).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_uploaded_image_is_a_commit_served_at_its_path() {
    let (_dir, root, app) = wiki_app().await;
    let (status, uploaded) = upload(&app, "guide/diagram.png", "image/png", png()).await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    assert_eq!(uploaded["path"], "guide/diagram.png");
    assert_eq!(uploaded["url"], "/guide/diagram.png");
    let served = app.get("/guide/diagram.png").await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().to_vec(), png());
    assert_eq!(
        std::fs::read(root.join("guide/diagram.png")).unwrap(),
        png()
    );
    assert_eq!(git_status(&root), "", "committed, the work tree clean");
    let log = std::process::Command::new("git")
        .args(["log", "-1", "--format=%s|%an", "--name-only"])
        .current_dir(&root)
        .output()
        .unwrap();
    let log = String::from_utf8(log.stdout).unwrap();
    assert!(log.starts_with("Add guide/diagram.png|anonymous"), "{log}");
    assert!(log.contains("\nguide/diagram.png"), "{log}");

    // The same bytes again change nothing; other bytes never replace it.
    let (status, again) = upload(&app, "guide/diagram.png", "image/png", png()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["commit"], uploaded["commit"]);
    let mut other = png();
    other.extend_from_slice(b"more");
    let (status, taken) = upload(&app, "guide/diagram.png", "image/png", other).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        taken["error"].as_str().unwrap().contains("another name"),
        "{taken}"
    );

    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>"#.to_vec();
    let (status, answer) = upload(&app, "shapes.svg", "image/svg+xml", svg).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    app.get("/shapes.svg").await.error_for_status().unwrap();
}

#[tokio::test]
async fn uploads_that_are_not_the_image_they_say_or_too_large_or_outside_are_refused() {
    let (_dir, root, app) = wiki_app_with_config(|config| {
        config.access.edit = EditAccess::Open;
        config.wiki.max_image_bytes = 2048;
    })
    .await;
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode)> = vec![
        (
            "a.png",
            "image/png",
            b"just text, no image".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a.png",
            "image/png",
            b"%PDF-1.7 ...".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        ("a.gif", "image/gif", png(), StatusCode::BAD_REQUEST),
        ("a.gif", "image/png", png(), StatusCode::BAD_REQUEST),
        (
            "a.png",
            "text/plain",
            png(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        ("a.png", "image/png", Vec::new(), StatusCode::BAD_REQUEST),
        (
            "a.png",
            "image/png",
            [png(), vec![0; 4096]].concat(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "../outside.png",
            "image/png",
            png(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "guide/..%2F..%2Foutside.png",
            "image/png",
            png(),
            StatusCode::BAD_REQUEST,
        ),
        (".git/x.png", "image/png", png(), StatusCode::BAD_REQUEST),
        (
            "guide/.hidden.png",
            "image/png",
            png(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "_rundocs/x.png",
            "image/png",
            png(),
            StatusCode::BAD_REQUEST,
        ),
        ("notes.md", "image/png", png(), StatusCode::BAD_REQUEST),
        ("script.js", "image/png", png(), StatusCode::BAD_REQUEST),
    ];
    for (path, content_type, bytes, expected) in cases {
        let (status, answer) = upload(&app, path, content_type, bytes).await;
        assert_eq!(status, expected, "{path} as {content_type}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: a sentence saying why: {answer}"
        );
    }
    assert_eq!(git_status(&root), "", "nothing written");
    assert!(!root.join("a.png").exists() && !root.join("a.gif").exists());
    assert!(!root.parent().unwrap().join("outside.png").exists());
}
