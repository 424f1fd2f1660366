//! The wiki over HTTP: pages saved, merged, refused on conflict, created,
//! deleted and reverted as git commits, their history and diffs, who may
//! edit, and paths that must never be written.
use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use rundocs::access::AccessConfig;
use rundocs::config::EditAccess;
use serde_json::{json, Value};

use super::helpers::*;

/// A copy of the `wiki` fixture made a git repository, served with editing open.
pub(super) async fn wiki_app() -> (tempfile::TempDir, PathBuf, TestApp) {
    wiki_app_with(|access| access.edit = EditAccess::Open).await
}

pub(super) async fn wiki_app_with(
    access: impl FnOnce(&mut AccessConfig),
) -> (tempfile::TempDir, PathBuf, TestApp) {
    wiki_app_with_config(move |config| access(&mut config.access)).await
}

/// A copy of the `wiki` fixture made a git repository, served with the
/// default config changed by `adjust`.
pub(super) async fn wiki_app_with_config(
    adjust: impl FnOnce(&mut rundocs::config::Config),
) -> (tempfile::TempDir, PathBuf, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("wiki");
    git_copy_of_fixture("wiki", &root);
    let app = spawn_app_with(&root, adjust).await;
    (dir, root, app)
}

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

pub(super) async fn save(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let response = send(
        app,
        Method::PUT,
        &format!("/_rundocs/api/page?path={path}"),
        Some(body),
    )
    .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

pub(super) async fn read(app: &TestApp, path: &str) -> (String, String) {
    let page = app.json(&format!("/_rundocs/api/page?path={path}")).await;
    (
        page["source"].as_str().unwrap().to_string(),
        page["revision"].as_str().unwrap().to_string(),
    )
}

/// What `git status --porcelain` says of the work tree (empty: clean).
pub(super) fn git_status(root: &Path) -> String {
    let output = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(root)
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn a_save_is_a_commit_shown_at_once_with_history_diff_and_revert() {
    let (_dir, root, app) = wiki_app().await;
    let (source, first) = read(&app, "notes").await;
    assert!(source.starts_with("# Notes"));
    let edited = source.replace("about the queue", "about the bounded queue");
    let (status, saved) = save(
        &app,
        "notes",
        json!({"source": edited, "base": first, "message": "Say which queue"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["merged"], false);
    let second = saved["revision"].as_str().unwrap().to_string();
    assert_ne!(second, first);

    // The page, the file and the repository agree, at once.
    let page = app.page("/notes", 200).await;
    assert!(texts(&page, "article p")
        .iter()
        .any(|t| t.contains("bounded queue")));
    assert_eq!(
        std::fs::read_to_string(root.join("notes.md")).unwrap(),
        edited
    );
    assert_eq!(git_status(&root), "", "the work tree is clean");

    let history = app.json("/_rundocs/api/history?path=notes.md").await;
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["message"], "Say which queue");
    assert_eq!(history[0]["author"], "anonymous");
    assert_eq!(history[0]["revision"], second.as_str());
    assert_eq!(history[1]["revision"], first.as_str());

    let diff = app
        .get(&format!(
            "/_rundocs/api/diff?path=notes&from={first}&to={second}"
        ))
        .await;
    assert_eq!(diff.status(), StatusCode::OK);
    let diff = diff.text().await.unwrap();
    assert!(
        diff.contains("-First paragraph, about the queue."),
        "{diff}"
    );
    assert!(
        diff.contains("+First paragraph, about the bounded queue."),
        "{diff}"
    );

    // Any old revision reads back; a revert is a new commit.
    let old = app
        .json(&format!("/_rundocs/api/page?path=notes&rev={first}"))
        .await;
    assert_eq!(old["source"], source.as_str());
    let response = send(
        &app,
        Method::POST,
        "/_rundocs/api/revert",
        Some(json!({"path": "notes.md", "to": first})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = app.page("/notes", 200).await;
    assert!(!texts(&page, "article p")
        .iter()
        .any(|t| t.contains("bounded")));
    let history = app.json("/_rundocs/api/history?path=notes").await;
    assert_eq!(history.as_array().unwrap().len(), 3);
    assert!(history[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Revert notes.md"));
    let recent = app.json("/_rundocs/api/history").await;
    assert_eq!(recent[0]["path"], "notes.md", "recent changes of the site");
    assert_eq!(git_status(&root), "");
}

#[tokio::test]
async fn a_stale_save_merges_when_the_changes_do_not_overlap_and_conflicts_when_they_do() {
    let (_dir, _root, app) = wiki_app().await;
    let (source, base) = read(&app, "notes").await;
    // Someone else changes the first paragraph.
    let theirs = source.replace("about the queue", "about the queue (theirs)");
    let (status, _) = save(&app, "notes", json!({"source": theirs, "base": base})).await;
    assert_eq!(status, StatusCode::OK);

    // This editor, from the same base, changed the last paragraph: merged.
    let mine = source.replace("about the timeouts", "about the timeouts (mine)");
    let (status, saved) = save(&app, "notes", json!({"source": mine, "base": base})).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["merged"], true);
    let (merged, _) = read(&app, "notes").await;
    assert!(
        merged.contains("(theirs)") && merged.contains("(mine)"),
        "{merged}"
    );

    // A third editor, still on the old base, changes the first paragraph too.
    let clash = source.replace("about the queue", "about the queue (clash)");
    let (status, conflict) = save(&app, "notes", json!({"source": clash, "base": base})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(
        conflict["yours"],
        clash.as_str(),
        "nothing the editor typed is lost"
    );
    assert_eq!(conflict["current"], merged.as_str());
    assert!(conflict["diff"].as_str().unwrap().contains("(clash)"));
    let (still, _) = read(&app, "notes").await;
    assert_eq!(still, merged, "a conflict writes nothing");
}

#[tokio::test]
async fn new_pages_deletes_and_their_conflicts() {
    let (_dir, root, app) = wiki_app().await;
    app.page("/guide/faq", 404).await;
    let body = json!({"source": "# FAQ\n\n```python\nprint('asked')\n```\n", "base": null, "message": "Start the FAQ"});
    let (status, created) = save(&app, "guide/faq", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let page = app.page("/guide/faq", 200).await;
    assert!(!texts(&page, "pre").is_empty());
    let home = app.page("/", 200).await;
    assert!(attributes(&home, "nav.sidebar a", "href").contains(&"/guide/faq".to_string()));
    let snippets = app.json("/_rundocs/api/snippets?page=guide/faq").await;
    let id = snippets[0]["id"].as_str().unwrap();
    let events = super::run::run(&app, id).await;
    assert_eq!(super::run::output(&events, "stdout"), "asked\n");

    let (status, again) = save(&app, "guide/faq", body).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a new page that exists: {again}"
    );
    assert!(again["yours"].as_str().unwrap().contains("FAQ"));

    let revision = created["revision"].as_str().unwrap();
    let stale = send(
        &app,
        Method::DELETE,
        "/_rundocs/api/page?path=guide/faq&base=0000000000000000000000000000000000000000",
        None,
    )
    .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let deleted = send(
        &app,
        Method::DELETE,
        &format!("/_rundocs/api/page?path=guide/faq&base={revision}"),
        None,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    app.page("/guide/faq", 404).await;
    assert!(!root.join("guide/faq.md").exists());
    assert!(
        root.join("guide/setup.md").exists(),
        "the folder's other pages stay"
    );
    assert_eq!(git_status(&root), "");
    // Deleted, and brought back by a revert.
    let response = send(
        &app,
        Method::POST,
        "/_rundocs/api/revert",
        Some(json!({"path": "guide/faq", "to": revision})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.page("/guide/faq", 200).await;
}

#[tokio::test]
async fn paths_outside_the_content_folder_are_refused_and_nothing_is_written() {
    let (dir, root, app) = wiki_app().await;
    for path in [
        "../outside.md",
        "..%2Foutside.md",
        "%2e%2e/outside.md",
        "guide/../../outside.md",
        ".git/config",
        ".git/hooks/pre-commit",
        "a%00b.md",
        "a//b.md",
        "guide%5C..%5C..%5Coutside.md",
        "picture.png",
        "_rundocs/x.md",
    ] {
        let (status, answer) = save(&app, path, json!({"source": "# x\n", "base": null})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    assert!(!dir.path().join("outside.md").exists());
    assert!(!root.join(".git/hooks/pre-commit").exists());
    assert_eq!(git_status(&root), "");
    let (status, _) = save(
        &app,
        "big",
        json!({"source": "x".repeat((1 << 20) + 1), "base": null}),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn who_may_edit() {
    let (_dir, _root, app) = wiki_app_with(|access| {
        *access = super::access::config_with_users();
        access.edit = EditAccess::Restricted;
        access.editors = vec!["alice".into()];
    })
    .await;
    let (_, base) = read(&app, "index").await;
    let body = json!({"source": "# Team wiki\n\nEdited.\n", "base": base});
    let put = |authorization: Option<String>| {
        let mut request = app
            .client
            .put(app.url("/_rundocs/api/page?path=index.md"))
            .json(&body);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send()
    };
    assert_eq!(put(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let bob = put(Some(super::access::basic_as("bob"))).await.unwrap();
    assert_eq!(bob.status(), StatusCode::FORBIDDEN);
    let alice = put(Some(super::access::basic_as("alice"))).await.unwrap();
    assert_eq!(alice.status(), StatusCode::OK);
    let history = app.json("/_rundocs/api/history?path=index").await;
    assert_eq!(history[0]["author"], "alice");
    assert_eq!(history[0]["message"], "Edit index.md");
}

#[tokio::test]
async fn with_editing_off_changes_are_refused() {
    let app = spawn_app(&fixture("wiki")).await;
    let response = send(
        &app,
        Method::PUT,
        "/_rundocs/api/page?path=index.md",
        Some(json!({"source": "x", "base": null})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: Value = response.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("access.edit"));
}

#[test]
fn editing_a_folder_outside_git_says_how_to_make_it_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("wiki"), dir.path());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rundocs"))
        .args(["serve", "--bind", "127.0.0.1:0", "--content"])
        .arg(dir.path())
        .env("RUNDOCS_ACCESS__EDIT", "open")
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(text.contains("git init"), "{text}");
}

#[tokio::test]
async fn the_examples_of_a_save_are_checked_first() {
    let failing = "# Sums\n\n```python\nprint(1 + 1)\n```\n\n```output\n3\n```\n";
    let passing = "# Sums\n\n```python\nprint(1 + 1)\n```\n\n```output\n2\n```\n";

    let (_dir, root, app) = wiki_app_with(|access| access.edit = EditAccess::Open).await;
    // warn (the default): saved, with what failed.
    let (status, saved) = save(&app, "sums", json!({"source": failing, "base": null})).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["check"]["passed"], 0);
    assert_eq!(saved["check"]["failed"][0]["block"], 1);
    assert!(saved["check"]["failed"][0]["details"]
        .as_str()
        .unwrap()
        .contains('3'));
    let (status, saved) = save(
        &app,
        "sums",
        json!({"source": passing, "base": saved["revision"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(saved["check"], json!({"passed": 1, "failed": []}));
    drop(app);

    let (_dir, root_blocking, app) = wiki_app_with_config(|config| {
        config.access.edit = EditAccess::Open;
        config.wiki.check_on_save = rundocs::config::CheckOnSave::Block;
    })
    .await;
    let (status, refused) = save(&app, "sums", json!({"source": failing, "base": null})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["yours"], failing, "the editor's text comes back");
    assert!(
        !root_blocking.join("sums.md").exists(),
        "nothing was written"
    );
    assert_eq!(git_status(&root_blocking), "");
    let (status, _) = save(&app, "sums", json!({"source": passing, "base": null})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(root.join("sums.md").exists());
}

#[tokio::test]
async fn a_move_is_one_commit_and_the_old_address_redirects() {
    let (_dir, root, app) = wiki_app().await;
    let (_, revision) = read(&app, "guide/setup").await;
    let response = send(
        &app,
        Method::POST,
        "/_rundocs/api/move",
        Some(json!({"from": "guide/setup", "to": "start/install.md", "base": revision, "message": "Setup is installing"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let moved: Value = response.json().await.unwrap();
    assert_eq!(moved["url"], "/start/install");
    let page = app.page("/start/install", 200).await;
    assert!(!texts(&page, "pre").is_empty());
    let old = app.get("/guide/setup").await;
    assert_eq!(old.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(old.headers()["location"], "/start/install");
    assert!(!root.join("guide/setup.md").exists());
    assert_eq!(
        git_status(&root),
        "",
        "the page, the redirect and the index agree"
    );
    let recent = app.json("/_rundocs/api/history?limit=3").await;
    let in_commit: Vec<&str> = recent
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["message"] == "Setup is installing")
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(in_commit.len(), 2, "one commit moves the page: {recent}");

    // A move onto an existing page, or from a stale revision, is refused.
    let (_, index_revision) = read(&app, "index").await;
    let onto = send(
        &app,
        Method::POST,
        "/_rundocs/api/move",
        Some(json!({"from": "index", "to": "notes.md", "base": index_revision})),
    )
    .await;
    assert_eq!(onto.status(), StatusCode::CONFLICT);
    let stale = send(
        &app,
        Method::POST,
        "/_rundocs/api/move",
        Some(json!({"from": "notes", "to": "n.md", "base": revision})),
    )
    .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
}
