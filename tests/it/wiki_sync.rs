//! Two instances sharing one wiki through a bare git remote on disk: an edit
//! on one appears on the other, a webhook syncs at once, and a conflict with
//! the remote never stops syncing.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rundocs::config::EditAccess;
use serde_json::json;

use super::helpers::*;

const SECRET: &str = "a-long-shared-webhook-secret";

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A bare remote holding the `wiki` fixture, and two work trees cloned from it.
fn remote_and_clones(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let seed = dir.join("seed");
    git_copy_of_fixture("wiki", &seed);
    let remote = dir.join("remote.git");
    git(
        dir,
        &["init", "--quiet", "--bare", remote.to_str().unwrap()],
    );
    git(
        &seed,
        &[
            "push",
            "--quiet",
            remote.to_str().unwrap(),
            "HEAD:refs/heads/main",
        ],
    );
    let (a, b) = (dir.join("a"), dir.join("b"));
    for clone in [&a, &b] {
        git(
            dir,
            &[
                "clone",
                "--quiet",
                "-b",
                "main",
                remote.to_str().unwrap(),
                clone.to_str().unwrap(),
            ],
        );
    }
    (remote, a, b)
}

async fn instance(root: &Path, remote: &Path, interval_s: f64) -> TestApp {
    let remote = remote.to_str().unwrap().to_string();
    spawn_app_with(root, move |config| {
        config.access.edit = EditAccess::Open;
        config.wiki.remote = Some(remote);
        config.wiki.sync_interval_s = interval_s;
        config.wiki.sync_secret = Some(SECRET.into());
    })
    .await
}

/// Waits until `path` on `app` shows `text` (syncing is asynchronous).
async fn eventually_shows(app: &TestApp, path: &str, text: &str) {
    let started = Instant::now();
    loop {
        let body = app.get(path).await.text().await.unwrap();
        if body.contains(text) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{path} never showed {text:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn edit(app: &TestApp, path: &str, from: &str, to: &str) -> StatusCode {
    let page = app.json(&format!("/_rundocs/api/page?path={path}")).await;
    let source = page["source"].as_str().unwrap().replace(from, to);
    app.client
        .put(app.url(&format!("/_rundocs/api/page?path={path}")))
        .json(&json!({"source": source, "base": page["revision"]}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn metric(app: &TestApp, outcome: &str) -> u64 {
    let text = app.get("/_rundocs/metrics").await.text().await.unwrap();
    let line = format!("rundocs_wiki_sync_rounds_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .unwrap_or_else(|| panic!("no {line} in {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_edit_on_one_instance_appears_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (remote, a_root, b_root) = remote_and_clones(dir.path());
    let a = instance(&a_root, &remote, 0.2).await;
    // b fetches only when asked.
    let b = instance(&b_root, &remote, 0.0).await;

    assert_eq!(
        edit(&a, "notes", "about the queue", "about the queue, from a").await,
        StatusCode::OK
    );
    let refused = b
        .client
        .post(b.url("/_rundocs/api/sync"))
        .header("Authorization", "Bearer wrong-secret-of-some-length")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // The webhook, once a's push is on the remote.
    let started = Instant::now();
    loop {
        let accepted = b
            .client
            .post(b.url("/_rundocs/api/sync"))
            .header("Authorization", format!("Bearer {SECRET}"))
            .send()
            .await
            .unwrap();
        assert_eq!(accepted.status(), StatusCode::ACCEPTED);
        tokio::time::sleep(Duration::from_millis(300)).await;
        if b.get("/notes")
            .await
            .text()
            .await
            .unwrap()
            .contains("from a")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "b never took a's edit"
        );
    }
    assert!(std::fs::read_to_string(b_root.join("notes.md"))
        .unwrap()
        .contains("from a"));

    // And back, through a's interval.
    assert_eq!(
        edit(&b, "guide/setup", "# Setup", "# Setup, from b").await,
        StatusCode::OK
    );
    eventually_shows(&a, "/guide/setup", "Setup, from b").await;
}

#[tokio::test]
async fn a_conflict_with_the_remote_keeps_both_and_syncing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (remote, a_root, b_root) = remote_and_clones(dir.path());
    // Neither fetches on its own: the order of events is the test's.
    let a = instance(&a_root, &remote, 0.0).await;
    let b = instance(&b_root, &remote, 0.0).await;
    // Both start from the same commit and change the same line.
    assert_eq!(
        edit(&a, "notes", "about the locks", "about the locks (a)").await,
        StatusCode::OK
    );
    eventually_pushed(&remote, "(a)");
    assert_eq!(
        edit(&b, "notes", "about the locks", "about the locks (b)").await,
        StatusCode::OK
    );

    // b's push is refused (the remote moved), its next round finds the conflict.
    let started = Instant::now();
    while metric(&b, "conflict").await == 0 {
        b.client
            .post(b.url("/_rundocs/api/sync"))
            .header("Authorization", format!("Bearer {SECRET}"))
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no conflict was counted"
        );
    }
    // b now serves the remote's text; its own commit is on a branch.
    eventually_shows(&b, "/notes", "(a)").await;
    let branches = Command::new("git")
        .args(["branch", "--list", "rundocs/conflict-*"])
        .current_dir(&b_root)
        .output()
        .unwrap();
    let branches = String::from_utf8(branches.stdout).unwrap();
    assert!(branches.contains("rundocs/conflict-"), "{branches:?}");
    let kept = Command::new("git")
        .args([
            "show",
            &format!("{}:notes.md", branches.trim().trim_start_matches("* ")),
        ])
        .current_dir(&b_root)
        .output()
        .unwrap();
    assert!(
        String::from_utf8(kept.stdout).unwrap().contains("(b)"),
        "b's edit is kept"
    );

    // Syncing goes on: a later edit on b reaches the remote.
    assert_eq!(
        edit(
            &b,
            "index",
            "Start here.",
            "Start here, after the conflict."
        )
        .await,
        StatusCode::OK
    );
    eventually_pushed(&remote, "after the conflict");
}

/// Waits until the remote's `main` holds `text` in one of the fixture's pages.
fn eventually_pushed(remote: &Path, text: &str) {
    let started = Instant::now();
    loop {
        let shown: String = ["notes.md", "index.md", "guide/setup.md"]
            .iter()
            .map(|file| {
                let output = Command::new("git")
                    .args(["show", &format!("main:{file}")])
                    .current_dir(remote)
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&output.stdout).into_owned()
            })
            .collect();
        if shown.contains(text) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the remote never got {text:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
