//! `POST /api/run/{id}`: the run stream contract, isolation, cancellation,
//! limits, over real HTTP against the embedded interpreter.
use std::time::{Duration, Instant};

use serde_json::Value;

use super::helpers::*;

/// One parsed SSE event with the time it arrived.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub data: Value,
    pub at: Instant,
}

/// The id of the block `name=NAME` on `page`.
pub async fn snippet_id(app: &TestApp, page: &str, name: &str) -> String {
    let snippets = app.json(&format!("/api/snippets?page={page}")).await;
    snippets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no block name={name} on {page}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn start_run(app: &TestApp, id: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/run/{id}")))
        .send()
        .await
        .unwrap()
}

/// Reads SSE events from `response` until `end` (or `limit` events).
pub async fn read_events(response: &mut reqwest::Response, limit: usize) -> Vec<Event> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < limit {
        let Some(chunk) = response.chunk().await.unwrap() else {
            break;
        };
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let mut name = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(rest) = line.strip_prefix("event: ") {
                    name = Some(rest.to_string());
                } else if let Some(rest) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(rest).unwrap());
                }
            }
            if let (Some(name), Some(data)) = (name, data) {
                let done = name == "end";
                events.push(Event {
                    name,
                    data,
                    at: Instant::now(),
                });
                if done {
                    return events;
                }
            }
        }
    }
    events
}

/// Runs a snippet to its end.
pub async fn run(app: &TestApp, id: &str) -> Vec<Event> {
    read_run(start_run(app, id).await).await
}

/// Reads a run stream (`POST /api/run/{id}` or `POST /api/run`) to its end,
/// checking its shape: `200`, `text/event-stream`, `start` first (after any
/// `queued`), and exactly one `end`, last.
pub async fn read_run(mut response: reqwest::Response) -> Vec<Event> {
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = read_events(&mut response, usize::MAX).await;
    // A busy server may first say where the run waits in the queue.
    assert_eq!(
        events
            .iter()
            .map(|e| e.name.as_str())
            .find(|name| *name != "queued"),
        Some("start"),
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| e.name == "end").count(),
        1,
        "{events:?}"
    );
    assert_eq!(events.last().unwrap().name, "end");
    events
}

/// The text of a run's `stream` events (`stdout` or `stderr`), in order.
pub fn output(events: &[Event], stream: &str) -> String {
    events
        .iter()
        .filter(|e| e.name == stream)
        .map(|e| e.data["text"].as_str().unwrap())
        .collect()
}

/// The data of a run's `end` event.
pub fn end(events: &[Event]) -> &Value {
    &events.last().unwrap().data
}

async fn metric(app: &TestApp, line_start: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {line_start} in\n{text}"))
}

#[tokio::test]
async fn metrics_are_openmetrics_text_as_their_content_type_says() {
    let app = spawn_app(&fixture("run")).await;
    let response = app.get("/metrics").await;
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("rundocs_threads_left_running"), "{text}");
}

#[tokio::test]
async fn the_first_request_runs_a_snippet() {
    // No other request before it: the start-up thread must have released the GIL.
    let app = spawn_app(&fixture("run")).await;
    let snippets: Value = reqwest::get(app.url("/api/snippets?page=basics"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = run(&app, snippets[0]["id"].as_str().unwrap()).await;
    assert_eq!(end(&events)["status"], "ok");
}

#[tokio::test]
async fn ok_run_streams_stdout_and_stderr_apart() {
    let app = spawn_app(&fixture("run")).await;
    let events = run(&app, &snippet_id(&app, "basics", "hello").await).await;
    assert_eq!(output(&events, "stdout"), "hello\n");
    assert_eq!(output(&events, "stderr"), "to stderr\n");
    let end = end(&events);
    assert_eq!(end["status"], "ok");
    assert!(end["error"].is_null());
    assert!(end["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(end["gil_wait_ms"].as_f64().unwrap() >= 0.0);
    assert!(events[0].data["run_id"].is_string());
    assert!(events[0].data["queued_ms"].as_f64().unwrap() >= 0.0);
}

#[tokio::test]
async fn error_reports_type_message_traceback_and_the_readers_line() {
    let app = spawn_app(&fixture("run")).await;
    let id = snippet_id(&app, "basics", "fails").await;
    let events = run(&app, &id).await;
    let end = end(&events);
    assert_eq!(end["status"], "error");
    let error = &end["error"];
    assert_eq!(error["type"], "ZeroDivisionError");
    assert_eq!(error["message"], "division by zero");
    assert_eq!(error["line"], 3);
    assert_eq!(error["snippet_id"], id.as_str());
    let traceback = error["traceback"].as_str().unwrap();
    assert!(
        traceback.contains("/basics, block 2\", line 3"),
        "{traceback}"
    );
    assert!(
        traceback.contains("print(x / y)"),
        "the source line is shown: {traceback}"
    );
    assert!(!traceback.contains("rundocs_prelude"), "{traceback}");
}

#[tokio::test]
async fn syntax_errors_point_at_their_line() {
    let app = spawn_app(&fixture("run")).await;
    let events = run(&app, &snippet_id(&app, "basics", "syntax").await).await;
    let end = end(&events);
    assert_eq!(end["status"], "error");
    assert_eq!(end["error"]["type"], "SyntaxError");
    assert_eq!(end["error"]["line"], 2);
    assert_eq!(
        output(&events, "stdout"),
        "",
        "nothing runs before a syntax error"
    );
}

#[tokio::test]
async fn system_exit_ends_with_its_code() {
    let app = spawn_app(&fixture("run")).await;
    let events = run(&app, &snippet_id(&app, "basics", "exits").await).await;
    assert_eq!(output(&events, "stdout"), "bye\n");
    assert_eq!(end(&events)["status"], "exit");
    assert_eq!(end(&events)["exit_code"], 3);
}

#[tokio::test]
async fn busy_loop_and_deadlock_time_out() {
    let app = spawn_app(&fixture("run")).await;
    for name in ["spins", "deadlock"] {
        let started = Instant::now();
        let events = run(&app, &snippet_id(&app, "basics", name).await).await;
        assert_eq!(end(&events)["status"], "timeout", "{name}");
        assert!(
            end(&events)["message"].as_str().unwrap().contains("1 s"),
            "{name}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name} ended late"
        );
    }
}

#[tokio::test]
async fn input_gets_a_clear_error() {
    let app = spawn_app(&fixture("run")).await;
    let events = run(&app, &snippet_id(&app, "basics", "asks").await).await;
    let end = end(&events);
    assert_eq!(end["status"], "error");
    assert_eq!(end["error"]["type"], "RuntimeError");
    assert!(end["error"]["message"]
        .as_str()
        .unwrap()
        .contains("input() is not available"));
}

#[tokio::test]
async fn output_arrives_while_the_run_goes_on() {
    let app = spawn_app(&fixture("run")).await;
    let events = run(&app, &snippet_id(&app, "basics", "paced").await).await;
    let ticks: Vec<&Event> = events.iter().filter(|e| e.name == "stdout").collect();
    assert_eq!(
        output(&events, "stdout"),
        "tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n"
    );
    assert!(
        ticks.len() >= 4,
        "lines come as separate events, not one batch: {ticks:?}"
    );
    // The snippet sleeps 0.2 s between lines: the first line must arrive
    // well before the end, not batched with it.
    let spread = events.last().unwrap().at - ticks[0].at;
    assert!(
        spread >= Duration::from_millis(500),
        "first line came only {spread:?} before the end"
    );
}

#[tokio::test]
async fn thread_and_pool_output_is_captured() {
    let app = spawn_app(&fixture("run")).await;
    let events = run(&app, &snippet_id(&app, "basics", "threads").await).await;
    assert_eq!(end(&events)["status"], "ok");
    let mut lines: Vec<&str> = Vec::new();
    let text = output(&events, "stdout");
    lines.extend(text.lines());
    lines.sort();
    assert_eq!(
        lines,
        ["thread 0", "thread 1", "thread 10", "thread 11", "thread 2"]
    );
}

#[tokio::test]
async fn requires_chains_share_a_namespace_and_keep_their_own_lines() {
    let app = spawn_app(&fixture("run")).await;
    let events = run(&app, &snippet_id(&app, "chain", "uses").await).await;
    assert_eq!(output(&events, "stdout"), "hello\n");

    let setup = snippet_id(&app, "chain", "setup").await;
    let events = run(&app, &snippet_id(&app, "chain", "fails-in-setup").await).await;
    assert_eq!(output(&events, "stdout"), "about to fail\n");
    let error = &end(&events)["error"];
    assert_eq!(error["type"], "NameError");
    assert_eq!(
        error["line"], 3,
        "line 3 of the setup block, where it was raised"
    );
    assert_eq!(error["snippet_id"], setup.as_str());
    let traceback = error["traceback"].as_str().unwrap();
    assert!(
        traceback.contains("/chain, block 3\", line 2"),
        "{traceback}"
    );
    assert!(
        traceback.contains("/chain, block 1\", line 3"),
        "{traceback}"
    );
}

#[tokio::test]
async fn each_run_gets_a_fresh_main_namespace() {
    let app = spawn_app(&fixture("run")).await;
    let snippets = app.json("/api/snippets?page=chain").await;
    let fresh = snippets[3]["id"].as_str().unwrap().to_string();
    run(&app, &snippet_id(&app, "chain", "uses").await).await;
    let events = run(&app, &fresh).await;
    assert_eq!(output(&events, "stdout"), "__main__\nFalse\n");
}

#[tokio::test]
async fn sixteen_concurrent_runs_never_mix_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut page = String::new();
    for tag in 0..16 {
        page.push_str(&format!(
            "```python\nimport time\nfor i in range(40):\n    print('run{tag:02}', i)\n    time.sleep(0.001)\n```\n\n"
        ));
    }
    std::fs::write(dir.path().join("tags.md"), page).unwrap();
    let app = spawn_app_with(dir.path(), |c| c.run.workers = 16).await;
    let snippets = app.json("/api/snippets").await;
    let ids: Vec<String> = snippets
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let runs = ids.iter().map(|id| run(&app, id));
    let results = futures_util::future::join_all(runs).await;
    for (tag, events) in results.iter().enumerate() {
        let expected: String = (0..40).map(|i| format!("run{tag:02} {i}\n")).collect();
        assert_eq!(output(events, "stdout"), expected, "run {tag}");
        assert_eq!(end(events)["status"], "ok");
    }
}

#[tokio::test]
async fn disconnecting_cancels_the_run() {
    let app = spawn_app(&fixture("run")).await;
    let mut response = start_run(&app, &snippet_id(&app, "basics", "sleeps").await).await;
    let mut events = read_events(&mut response, 2).await;
    while output(&events, "stdout") != "going to sleep\n" {
        events.extend(read_events(&mut response, 1).await);
    }
    drop(response);
    let cancelled = eventually(Duration::from_secs(5), || async {
        let cancelled = metric(&app, "rundocs_runs_total{status=\"cancelled\"}").await;
        let active = metric(&app, "rundocs_runs_active").await;
        (cancelled == 1.0 && active == 0.0).then_some(())
    })
    .await;
    assert!(
        cancelled.is_some(),
        "the run was not cancelled after the client left"
    );
}

#[tokio::test]
async fn output_over_the_cap_ends_with_output_limit_and_a_marker() {
    let app = spawn_app_with(&fixture("run"), |c| c.run.output_limit_bytes = 4096).await;
    let events = run(&app, &snippet_id(&app, "basics", "floods").await).await;
    assert_eq!(end(&events)["status"], "output_limit");
    let text = output(&events, "stdout");
    assert!(
        text.contains("output stopped at the limit of 4 KiB"),
        "{}",
        &text[text.len().saturating_sub(200)..]
    );
    assert!(text.len() < 4096 + 200);
}

#[tokio::test]
async fn pages_answer_while_two_cpu_bound_runs_hold_the_gil() {
    let app = spawn_app(&fixture("run")).await;
    let id = snippet_id(&app, "basics", "burns").await;
    let mut first = start_run(&app, &id).await;
    let mut second = start_run(&app, &id).await;
    read_events(&mut first, 1).await;
    read_events(&mut second, 1).await;
    // Both runs are now executing Python for 1.5 s.
    for _ in 0..10 {
        app.page("/basics", 200).await;
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
    let first_end = read_events(&mut first, usize::MAX).await;
    assert_eq!(first_end.last().unwrap().data["status"], "ok");
}

#[tokio::test]
async fn unknown_and_unrunnable_ids_are_json_errors() {
    let app = spawn_app(&fixture("site")).await;
    let response = start_run(&app, "no-such-id").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("reload"), "{body}");

    let snippets = app.json("/api/snippets?page=guide/usage").await;
    let norun = snippets[2]["id"].as_str().unwrap();
    let response = start_run(&app, norun).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("not runnable"),
        "{body}"
    );

    let response = app.client.get(app.url("/api/run/x")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("POST"), "{body}");
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    let app = spawn_app_with(&fixture("run"), |c| {
        c.run.workers = 1;
        c.run.queue = 1;
    })
    .await;
    let sleeps = snippet_id(&app, "basics", "sleeps").await;
    let mut running = start_run(&app, &sleeps).await;
    read_events(&mut running, 1).await;
    let mut queued = start_run(&app, &sleeps).await;
    assert_eq!(queued.status(), 200);
    let waiting = read_events(&mut queued, 1).await;
    assert_eq!(
        waiting[0].name, "queued",
        "a waiting run says so: {waiting:?}"
    );
    assert_eq!(waiting[0].data["position"], 1);
    let refused = start_run(&app, &sleeps).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("queue"), "{body}");
}
