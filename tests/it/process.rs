//! Process mode over real HTTP: authored snippets with `run.isolation =
//! "process"`, edited code on `POST /api/run`, the end states only a process
//! has (`crashed`), stopping a run's whole process group, the CPU quota of
//! edited runs, recycling the warm interpreter, and what never reaches it.
//! (Escapes from the sandbox are tried in `sandbox.rs`.)
use std::time::Duration;

use reqwest::StatusCode;
use rundocs::runtime::Isolation;
use serde_json::{json, Value};

use super::helpers::*;
use super::run::{output, read_events, run, snippet_id, Event};

async fn process_app(adjust: impl FnOnce(&mut rundocs::config::Config)) -> TestApp {
    spawn_app_with(&fixture("process"), |c| {
        c.run.isolation = Isolation::Process;
        c.run.edit = rundocs::config::EditAccess::Open;
        adjust(c);
    })
    .await
}

/// Posts edited code; returns the response (not yet read).
async fn post_edited(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/run"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn run_edited(app: &TestApp, code: &str) -> Vec<Event> {
    let mut response = post_edited(app, &json!({ "code": code })).await;
    assert_eq!(response.status(), StatusCode::OK);
    read_events(&mut response, usize::MAX).await
}

fn end(events: &[Event]) -> &Value {
    &events.last().expect("a run has events").data
}

fn is_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[tokio::test]
async fn authored_snippets_run_each_in_a_process_of_their_own_with_their_requires_chain() {
    let app = process_app(|_| {}).await;
    let id = snippet_id(&app, "examples", "uses-setup").await;
    let events = run(&app, &id).await;
    assert_eq!(end(&events)["status"], "ok", "{events:?}");
    let printed = output(&events, "stdout");
    let mut fields = printed.split_whitespace();
    assert_eq!(fields.next(), Some("42"), "the required block ran first");
    let first_pid: u32 = fields.next().unwrap().parse().unwrap();
    assert_ne!(first_pid, std::process::id(), "not the server's process");
    let again = run(&app, &snippet_id(&app, "examples", "pid").await).await;
    let second_pid: u32 = output(&again, "stdout").trim().parse().unwrap();
    assert_ne!(first_pid, second_pid, "each run is a process of its own");
}

#[tokio::test]
async fn a_native_crash_ends_only_its_run_as_crashed() {
    let app = process_app(|_| {}).await;
    let events = run(&app, &snippet_id(&app, "examples", "crash").await).await;
    assert_eq!(output(&events, "stdout"), "before the crash\n");
    let end = end(&events);
    assert_eq!(end["status"], "crashed", "{end}");
    assert!(
        end["message"].as_str().unwrap().contains("SIGSEGV"),
        "{end}"
    );
    let next = run(&app, &snippet_id(&app, "examples", "uses-setup").await).await;
    assert_eq!(next.last().unwrap().data["status"], "ok");
}

#[tokio::test]
async fn a_timeout_kills_the_run_and_every_process_it_started() {
    let app = process_app(|_| {}).await;
    let events = run(&app, &snippet_id(&app, "examples", "sleeper").await).await;
    assert_eq!(end(&events)["status"], "timeout", "{events:?}");
    let pids: Vec<u32> = output(&events, "stdout")
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "{events:?}");
    let gone = eventually(Duration::from_secs(5), || async {
        pids.iter().all(|&pid| !is_alive(pid)).then_some(())
    })
    .await;
    assert!(gone.is_some(), "processes {pids:?} outlived their run");
}

#[tokio::test]
async fn a_reader_leaving_stops_the_process_group() {
    let app = process_app(|_| {}).await;
    let id = snippet_id(&app, "examples", "sleeper").await;
    let mut response = app
        .client
        .post(app.url(&format!("/api/run/{id}")))
        .send()
        .await
        .unwrap();
    let mut printed = String::new();
    while !printed.contains('\n') {
        let chunk = response
            .chunk()
            .await
            .unwrap()
            .expect("the run prints its pids");
        let text = String::from_utf8_lossy(&chunk).into_owned();
        if let Some(data) = text.lines().find(|l| l.starts_with("data: {\"text\"")) {
            let value: Value = serde_json::from_str(&data["data: ".len()..]).unwrap();
            printed.push_str(value["text"].as_str().unwrap());
        }
    }
    drop(response);
    let pids: Vec<u32> = printed
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    let gone = eventually(Duration::from_secs(5), || async {
        pids.iter().all(|&pid| !is_alive(pid)).then_some(())
    })
    .await;
    assert!(gone.is_some(), "processes {pids:?} outlived the reader");
}

#[tokio::test]
async fn edited_code_replaces_its_block_and_keeps_the_blocks_requires_chain() {
    let app = process_app(|_| {}).await;
    let id = snippet_id(&app, "examples", "uses-setup").await;
    let mut response = post_edited(
        &app,
        &json!({ "code": "print(base * 2)\nraise KeyError('edited')", "snippet": id }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(&mut response, usize::MAX).await;
    assert_eq!(output(&events, "stdout"), "80\n");
    let error = &end(&events)["error"];
    assert_eq!(error["type"], "KeyError");
    assert_eq!(error["line"], 2, "the line in the edited code");
    assert_eq!(error["snippet_id"], id.as_str());
}

#[tokio::test]
async fn edited_runs_stop_at_the_clients_cpu_quota() {
    let app = process_app(|c| c.run.process.edit_cpu_seconds_per_hour = 0.3).await;
    let burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\nprint('done')";
    let events = run_edited(&app, burn).await;
    assert_eq!(output(&events, "stdout"), "done\n");
    let refused = eventually(Duration::from_secs(5), || async {
        let response = post_edited(&app, &json!({ "code": "print(1)" })).await;
        (response.status() == StatusCode::TOO_MANY_REQUESTS).then_some(response)
    })
    .await
    .expect("the second edited run is refused");
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("CPU seconds"),
        "{body}"
    );
    // Authored examples are not charged.
    let authored = run(&app, &snippet_id(&app, "examples", "pid").await).await;
    assert_eq!(end(&authored)["status"], "ok");
}

#[tokio::test]
async fn the_warm_interpreter_is_replaced_after_its_runs_and_runs_go_on() {
    let app = process_app(|c| c.run.process.recycle_after_runs = 2).await;
    for n in 0..7 {
        let events = run_edited(&app, &format!("print({n})")).await;
        assert_eq!(output(&events, "stdout"), format!("{n}\n"), "run {n}");
    }
    let starts = || async {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("rundocs_zygote_starts_total "))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .expect("the zygote start counter")
    };
    let recycled = eventually(Duration::from_secs(10), || async {
        (starts().await >= 2).then_some(())
    })
    .await;
    assert!(recycled.is_some(), "no new warm interpreter after 7 runs");
    // Replaced ones exit once their runs have: one is left.
    let one_left = eventually(Duration::from_secs(10), || async {
        (zygotes().len() == 1).then_some(())
    })
    .await;
    assert!(one_left.is_some(), "{} warm interpreters", zygotes().len());
}

/// The environment of each warm interpreter this test process started.
fn zygotes() -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let cmdline = std::fs::read(path.join("cmdline")).ok()?;
            let status = std::fs::read_to_string(path.join("status")).ok()?;
            let parent = format!("PPid:\t{}\n", std::process::id());
            if !(cmdline.windows(8).any(|w| w == b"__zygote") && status.contains(&parent)) {
                return None;
            }
            if status.contains("State:\tZ") {
                return None;
            }
            let environ = std::fs::read(path.join("environ")).ok()?;
            Some(String::from_utf8_lossy(&environ).into_owned())
        })
        .collect()
}

/// The zygote is a fresh exec: no variable of the server's environment but
/// the locale, PATH and Python's own reaches it, nor its command line.
#[tokio::test]
async fn the_warm_interpreter_and_its_runs_never_see_the_servers_secrets() {
    const SECRET: &str = "hunter2-in-the-environment";
    std::env::set_var("RUNDOCS_ACCESS__TOKEN_FOR_TESTS", SECRET);
    let app = process_app(|_| {}).await;
    let events = run_edited(
        &app,
        "import os, sys\nprint(sorted(os.environ))\nprint(sys.argv)\nprint(repr(open('/proc/self/environ').read()))",
    )
    .await;
    let printed = output(&events, "stdout");
    assert!(!printed.contains(SECRET), "{printed}");
    assert!(!printed.contains("RUNDOCS"), "{printed}");
    let zygotes = zygotes();
    assert!(
        !zygotes.is_empty(),
        "the warm interpreter is this process's child"
    );
    for environ in zygotes {
        assert!(!environ.contains(SECRET), "{environ}");
        assert!(!environ.contains("RUNDOCS"), "{environ}");
    }
}
