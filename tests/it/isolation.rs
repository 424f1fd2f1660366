//! A run sees only itself: what one run does to the interpreter's shared
//! state (streams, working directory, environment, warnings, logging, hooks,
//! ...) never reaches another run, during it or after it.
use std::time::Duration;

use super::helpers::*;
use super::run::{output, read_events, snippet_id, start_run, Event};

fn status(events: &[Event]) -> String {
    let end = &events.last().expect("an end event").data;
    end["status"].as_str().unwrap_or_default().to_string()
}

async fn run_to_end(app: &TestApp, name: &str) -> Vec<Event> {
    let id = snippet_id(app, "", name).await;
    let mut response = start_run(app, &id).await;
    assert_eq!(response.status(), 200, "{name}");
    read_events(&mut response, usize::MAX).await
}

#[tokio::test]
async fn redirecting_stdout_in_one_run_never_captures_another_runs_output() {
    let app = spawn_app(&fixture("isolation")).await;
    let redirecting = run_to_end(&app, "redirects-while-sleeping");
    let printing = async {
        // Start while the other run's redirection is in place.
        tokio::time::sleep(Duration::from_millis(150)).await;
        run_to_end(&app, "prints-steadily").await
    };
    let (redirecting, printing) = tokio::join!(redirecting, printing);
    assert_eq!(status(&redirecting), "ok");
    assert_eq!(
        output(&redirecting, "stdout"),
        "redirected buffer: ''\nreplaced stdout: ''\n",
        "the redirecting run caught nothing of the other's"
    );
    assert_eq!(status(&printing), "ok");
    let expected_out: String = (0..10).map(|n| format!("line {n}\n")).collect();
    let expected_err: String = (0..10).map(|n| format!("err {n}\n")).collect();
    assert_eq!(output(&printing, "stdout"), expected_out, "nothing lost");
    assert_eq!(output(&printing, "stderr"), expected_err, "nothing lost");
}

#[tokio::test]
async fn what_a_run_changes_in_the_process_is_undone_before_the_next() {
    let app = spawn_app_with(&fixture("isolation"), |c| c.run.workers = 1).await;
    let before = run_to_end(&app, "reports-state").await;
    assert_eq!(status(&before), "ok", "{:?}", output(&before, "stderr"));
    let changes = run_to_end(&app, "changes-everything").await;
    assert_eq!(output(&changes, "stdout"), "changed\n");
    let after = run_to_end(&app, "reports-state").await;
    assert_eq!(status(&after), "ok", "{:?}", output(&after, "stderr"));
    let without_random = |events: &[Event]| -> Vec<String> {
        output(events, "stdout")
            .lines()
            .filter(|l| !l.starts_with("random:"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(without_random(&after), without_random(&before));
    let random_of = |events: &[Event]| {
        output(events, "stdout")
            .lines()
            .find(|l| l.starts_with("random:"))
            .unwrap()
            .to_string()
    };
    // random.seed(1) in the other run does not carry over, and each run
    // gets a freshly seeded generator.
    assert_ne!(random_of(&after), "random: 0.13436424411240122");
    assert_ne!(random_of(&after), random_of(&before));
}

#[tokio::test]
async fn audit_hooks_are_refused() {
    let app = spawn_app(&fixture("isolation")).await;
    let events = run_to_end(&app, "audit-hook").await;
    assert_eq!(
        output(&events, "stdout"),
        "sys.addaudithook is not allowed in a rundocs example\n"
    );
}

#[tokio::test]
async fn finalisers_output_belongs_to_the_run_that_made_the_object() {
    let app = spawn_app_with(&fixture("isolation"), |c| c.run.workers = 1).await;
    let events = run_to_end(&app, "finaliser-output").await;
    assert_eq!(
        output(&events, "stdout"),
        "made\nfinalised by the run that made me\n"
    );
    let next = run_to_end(&app, "prints-steadily").await;
    assert!(!output(&next, "stdout").contains("finalised"));
}

#[tokio::test]
async fn a_socket_left_open_is_closed_when_its_run_ends() {
    let app = spawn_app(&fixture("isolation")).await;
    let events = run_to_end(&app, "socket-kept-open").await;
    assert_eq!(status(&events), "ok");
    let port: u16 = output(&events, "stdout").trim().parse().unwrap();
    let refused = std::net::TcpStream::connect(("127.0.0.1", port)).is_err();
    assert!(refused, "the example's listening socket is closed");
}

#[tokio::test]
async fn changing_directory_never_changes_what_the_server_serves() {
    let content = tempfile::tempdir().unwrap();
    copy_dir(&fixture("isolation"), content.path());
    // A content folder given as a relative path, as `--content docs` would.
    let cwd = std::env::current_dir().unwrap();
    let relative = pathdiff(content.path(), &cwd);
    let app = spawn_app_with(&relative, |c| c.watch = true).await;
    let events = run_to_end(&app, "chdir-away").await;
    assert_eq!(output(&events, "stdout"), "/\n");
    app.page("/", 200).await;
    std::fs::write(content.path().join("new.md"), "# Added later\n").unwrap();
    let served = eventually(Duration::from_secs(10), || async {
        (app.get("/new").await.status() == 200).then_some(())
    })
    .await;
    assert!(served.is_some(), "a page added after the chdir is served");
}

/// `path` relative to `base` (both absolute), with `..` where needed.
fn pathdiff(path: &std::path::Path, base: &std::path::Path) -> std::path::PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut relative = std::path::PathBuf::new();
    for _ in common..base.len() {
        relative.push("..");
    }
    for component in &path[common..] {
        relative.push(component);
    }
    relative
}
