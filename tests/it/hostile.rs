//! Snippets that try to harm the server: each ends with one `end` event and
//! the server keeps serving.
use serde_json::Value;

use super::helpers::*;
use super::run::{run, snippet_id};

async fn run_named(app: &TestApp, name: &str) -> (String, Value) {
    let events = run(app, &snippet_id(app, "", name).await).await;
    let stdout = events
        .iter()
        .filter(|e| e.name == "stdout")
        .map(|e| e.data["text"].as_str().unwrap().to_string())
        .collect();
    (stdout, events.last().unwrap().data.clone())
}

async fn assert_still_serving(app: &TestApp) {
    assert_eq!(app.get("/healthz").await.status(), 200);
    let (stdout, end) = run_named(app, "checks-state").await;
    assert_eq!(end["status"], "ok", "{end}");
    assert_eq!(stdout, "False False [1]\n");
}

#[tokio::test]
async fn process_ending_calls_are_refused_with_a_clear_error() {
    let app = spawn_app(&fixture("hostile")).await;
    for (name, needle) in [
        ("os-exit", "os._exit is not allowed"),
        ("posix-exit", "os._exit is not allowed"),
        ("abort", "os.abort is not allowed"),
        ("fork", "os.fork is not allowed"),
        ("forkpty", "os.forkpty is not allowed"),
        ("kill-self", "os.kill is not allowed"),
        ("signal-handler", "signal.signal is not allowed"),
        ("pthread-kill", "signal.pthread_kill is not allowed"),
        ("close-fd", "os.close(1) is not allowed"),
    ] {
        let (_, end) = run_named(&app, name).await;
        assert_eq!(end["status"], "error", "{name}: {end}");
        assert_eq!(end["error"]["type"], "ServerProtected", "{name}");
        let message = end["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{name}: {message}");
        assert_still_serving(&app).await;
    }
}

#[tokio::test]
async fn closing_or_replacing_stdout_affects_only_that_run() {
    let app = spawn_app(&fixture("hostile")).await;
    let (stdout, end) = run_named(&app, "close-stdout").await;
    assert_eq!(end["status"], "ok");
    assert_eq!(stdout, "before close\nafter close\n");
    let (stdout, end) = run_named(&app, "replace-stdout").await;
    assert_eq!(end["status"], "ok");
    assert_eq!(stdout, "");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn recursion_ends_in_recursion_error() {
    let app = spawn_app(&fixture("hostile")).await;
    for name in ["recursion", "deep-repr"] {
        let (_, end) = run_named(&app, name).await;
        assert_eq!(end["status"], "error", "{name}");
        assert_eq!(end["error"]["type"], "RecursionError", "{name}");
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn sleeping_forever_and_deadlocked_rlock_condition_and_queue_time_out() {
    let app = spawn_app(&fixture("hostile")).await;
    for name in ["sleep-forever", "rlock", "condition", "queue"] {
        let (_, end) = run_named(&app, name).await;
        assert_eq!(end["status"], "timeout", "{name}");
        assert!(
            end["duration_ms"].as_f64().unwrap() < 2000.0,
            "{name}: {end}"
        );
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_thread_left_running_is_reported_in_metrics() {
    let app = spawn_app(&fixture("hostile")).await;
    let (stdout, end) = run_named(&app, "stubborn-thread").await;
    assert_eq!(end["status"], "ok");
    assert_eq!(stdout, "started\n");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("rundocs_threads_left_running 1"),
        "{metrics}"
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn changes_to_builtins_path_and_modules_are_undone() {
    let app = spawn_app(&fixture("hostile")).await;
    let (_, end) = run_named(&app, "vandal").await;
    assert_eq!(end["status"], "ok");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn switch_interval_recursion_limit_and_hooks_are_reset() {
    let app = spawn_app_with(&fixture("hostile"), |c| c.run.workers = 1).await;
    let (stdout, _) = run_named(&app, "reads-knobs").await;
    let (_, end) = run_named(&app, "global-knobs").await;
    assert_eq!(end["status"], "ok");
    let (after, end) = run_named(&app, "reads-knobs").await;
    assert_eq!(end["status"], "ok");
    assert_eq!(
        after, stdout,
        "the same worker sees the start-up values again"
    );
    assert!(after.starts_with("0.005 1000 None None"), "{after}");
}

#[tokio::test]
async fn a_traced_run_after_stopped_and_finished_runs_completes() {
    let app = spawn_app_with(&fixture("hostile"), |c| c.run.workers = 1).await;
    for step in ["first", "after a finished run"] {
        let (stdout, end) = run_named(&app, "traced").await;
        assert_eq!(end["status"], "ok", "{step}: {end}");
        assert_eq!(stdout, "traced 1 1\n", "{step}");
    }
    let (_, end) = run_named(&app, "queue").await;
    assert_eq!(end["status"], "timeout");
    let (stdout, end) = run_named(&app, "traced").await;
    assert_eq!(end["status"], "ok", "after a stopped run: {end}");
    assert_eq!(stdout, "traced 1 1\n");
}

#[tokio::test]
async fn allocating_without_bound_ends_in_memory_error_for_that_run_only() {
    let app = spawn_app_with(&fixture("hostile"), |c| {
        c.run.memory_limit_bytes = 64 << 20;
    })
    .await;
    for name in ["memory-hog", "memory-small-objects"] {
        let (_, end) = run_named(&app, name).await;
        assert_eq!(end["status"], "error", "{name}: {end}");
        assert_eq!(end["error"]["type"], "MemoryError", "{name}: {end}");
        let message = end["message"].as_str().unwrap_or_default();
        assert!(message.contains("limit of 64 MiB"), "{name}: {end}");
        assert_still_serving(&app).await;
    }
    let events = run(&app, &snippet_id(&app, "", "memory-hog-thread").await).await;
    let stderr: String = events
        .iter()
        .filter(|e| e.name == "stderr")
        .map(|e| e.data["text"].as_str().unwrap().to_string())
        .collect();
    assert!(stderr.contains("MemoryError"), "{stderr}");
    let end = &events.last().unwrap().data;
    assert_eq!(end["status"], "ok", "{end}");
    let (stdout, end) = run_named(&app, "memory-within-limit").await;
    assert_eq!(end["status"], "ok", "{end}");
    assert_eq!(stdout, "40 MiB\n");
}

#[tokio::test]
async fn one_run_may_have_64_threads_alive_at_once() {
    let app = spawn_app(&fixture("hostile")).await;
    let (stdout, end) = run_named(&app, "thread-flood").await;
    assert_eq!(end["status"], "ok", "{end}");
    assert_eq!(
        stdout,
        "64 started; an example may have at most 64 threads running at once; \
         join some before starting more\n"
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn one_run_cannot_use_up_the_threads_left_running_but_many_can() {
    let app = spawn_app_with(&fixture("hostile"), |c| c.run.workers = 1).await;
    let (stdout, end) = run_named(&app, "blocked-crowd").await;
    assert_eq!(end["status"], "ok", "{end}");
    assert_eq!(stdout, "started 40\n");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("rundocs_threads_left_running 40"),
        "{metrics}"
    );
    // One run, even one that leaves as many threads as it may have, leaves
    // the others able to run.
    let (_, end) = run_named(&app, "checks-state").await;
    assert_eq!(end["status"], "ok", "{end}");
    for _ in 0..3 {
        let (_, end) = run_named(&app, "blocked-crowd").await;
        assert_eq!(end["status"], "ok", "{end}");
    }
    let (stdout, end) = run_named(&app, "checks-state").await;
    assert_eq!(end["status"], "rejected", "{end}");
    assert_eq!(stdout, "");
    let message = end["message"].as_str().unwrap();
    assert!(message.contains("left 160 threads running"), "{message}");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn sub_interpreters_get_the_guards_too() {
    let app = spawn_app(&fixture("hostile")).await;
    let (stdout, end) = run_named(&app, "subinterpreter-exit").await;
    assert_eq!(end["status"], "ok", "{end}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].contains("os._exit is not allowed"), "{stdout}");
    assert!(lines[1].contains("os.kill is not allowed"), "{stdout}");
    assert_eq!(lines[2], "the server lives");
    assert_still_serving(&app).await;
}
