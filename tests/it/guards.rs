//! Examples that would crash, end, signal or starve their own process as a
//! script: in the server each run ends as a reader expects (its status,
//! error and output) and the server keeps serving pages and runs.
use std::time::{Duration, Instant};

use serde_json::Value;

use super::helpers::*;
use super::run::{run, snippet_id};

/// What a reader sees of one run, and how long it took from the request.
struct Outcome {
    stdout: String,
    stderr: String,
    end: Value,
    elapsed: Duration,
}

async fn run_named(app: &TestApp, name: &str) -> Outcome {
    let id = snippet_id(app, "", name).await;
    let started = Instant::now();
    let events = run(app, &id).await;
    let elapsed = started.elapsed();
    let text = |stream: &str| -> String {
        events
            .iter()
            .filter(|e| e.name == stream)
            .map(|e| e.data["text"].as_str().unwrap())
            .collect()
    };
    Outcome {
        stdout: text("stdout"),
        stderr: text("stderr"),
        end: events.last().unwrap().data.clone(),
        elapsed,
    }
}

/// The health check, a page, an asset and a run all still work.
async fn assert_still_serving(app: &TestApp) {
    assert_eq!(app.get("/healthz").await.status(), 200);
    let home = app.get("/").await;
    assert_eq!(home.status(), 200);
    let home = home.text().await.unwrap();
    assert!(home.contains("Here the process is the server."), "{home}");
    assert_eq!(app.get("/static/style.css").await.status(), 200);
    let out = run_named(app, "checks-state").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert_eq!(out.stdout, "False False [1]\n");
}

/// `rundocs_threads_left_running` as `/metrics` shows it now.
async fn threads_left_running(app: &TestApp) -> i64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| {
            line.strip_prefix("rundocs_threads_left_running ")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no rundocs_threads_left_running in\n{text}"))
}

/// Polls `/metrics` (and nothing else) until no thread is left running.
async fn assert_no_thread_left_running_within(app: &TestApp, within: Duration, what: &str) {
    let zero = eventually(within, || async {
        (threads_left_running(app).await == 0).then_some(())
    })
    .await;
    if zero.is_none() {
        let before = threads_left_running(app).await;
        // Tells apart a thread still alive from a count that is only
        // refreshed when a run ends.
        let out = run_named(app, "checks-state").await;
        let after = threads_left_running(app).await;
        panic!(
            "{what}: /metrics still shows rundocs_threads_left_running {before} after {within:?} \
             of polling; after one more run ({}) it shows {after}",
            out.end["status"]
        );
    }
}

#[tokio::test]
async fn deep_recursion_through_c_ends_in_recursion_error() {
    // The blocks have a 3 s (thread: 10 s) limit: as a script (with a stack big enough)
    // each ends in RecursionError in under a second, its traceback printed.
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "lru-fib").await;
    assert_eq!(out.end["status"], "error", "{}", out.end);
    assert_eq!(out.end["error"]["type"], "RecursionError", "{}", out.end);
    assert_eq!(out.stdout, "");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn deep_recursion_through_c_in_a_thread_ends_in_recursion_error() {
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "lru-fib-thread").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert!(out.stderr.contains("RecursionError"), "{}", out.stderr);
    assert_eq!(out.stdout, "joined\n");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn the_recursion_limit_is_capped_where_c_recursion_shares_it() {
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "recursion-limit").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    let numbers: Vec<u64> = out
        .stdout
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let [major, minor, limit] = numbers[..] else {
        panic!("{}", out.stdout);
    };
    let expected = if (major, minor) < (3, 12) {
        150_000
    } else {
        1_000_000
    };
    assert_eq!(limit, expected, "Python {major}.{minor}");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn each_guard_refuses_with_a_clear_server_protected_error() {
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "refusals").await;
    assert_eq!(out.end["status"], "ok", "{}\n{}", out.end, out.stderr);
    let expected: String = [
        ("alarm", "signal.alarm"),
        ("setitimer", "signal.setitimer"),
        ("pthread_kill", "signal.pthread_kill"),
        ("raise_signal", "signal.raise_signal"),
        ("pause", "signal.pause"),
        ("kill -1", "os.kill(-1, ...)"),
        ("kill main", "os.kill"),
        ("kill own", "os.kill"),
        ("execv", "os.execv"),
        (
            "dump_traceback_later",
            "faulthandler.dump_traceback_later(exit=True)",
        ),
        ("sigsegv", "faulthandler._sigsegv"),
        ("addaudithook", "sys.addaudithook"),
        ("setrlimit", "resource.setrlimit"),
        ("dup2", "os.dup2(..., N)"),
    ]
    .iter()
    .map(|(label, what)| {
        format!("{label} -> ServerProtected - {what} is not allowed in a rundocs example\n")
    })
    .chain(["socket kept: True\n".to_string()])
    .collect();
    assert_eq!(out.stdout, expected);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_sub_interpreter_from_testcapi_cannot_end_the_server() {
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "subinterp-exit").await;
    assert_eq!(out.end["status"], "ok", "{}\n{}", out.end, out.stderr);
    if out.stdout.starts_with("skipped:") {
        eprintln!("SKIPPED _testcapi.run_in_subinterp: {}", out.stdout.trim());
        assert_eq!(out.stdout.lines().last(), Some("the server lives"));
    } else {
        assert_eq!(
            out.stdout,
            "returned -1\n\
             returned 0\n\
             ServerProtected - os._exit is not allowed in a rundocs example\n\
             the server lives\n"
        );
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn closerange_closes_the_examples_files_and_not_the_servers() {
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "closerange").await;
    assert_eq!(out.end["status"], "ok", "{}\n{}", out.end, out.stderr);
    assert_eq!(
        out.stdout,
        "closerange returned\nown descriptor closed: True\n"
    );
    assert_still_serving(&app).await;
    let snippets = app.json("/api/snippets?page=").await;
    assert!(snippets.as_array().unwrap().len() > 10, "{snippets}");
    let out = run_named(&app, "subprocess-output").await;
    assert_eq!(out.end["status"], "ok", "{}\n{}", out.end, out.stderr);
    assert_eq!(out.stdout, "from a child\ndone\n");
    // And once more, now that other runs' resources exist.
    let out = run_named(&app, "closerange").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn switch_intervals_are_clamped_and_reset_after_the_run() {
    let app = spawn_app_with(&fixture("guards"), |c| c.run.workers = 1).await;
    let out = run_named(&app, "switch-extremes").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    let intervals: Vec<f64> = out.stdout.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(intervals.len(), 2, "{}", out.stdout);
    for interval in intervals {
        assert!((0.0005..=0.05).contains(&interval), "{}", out.stdout);
    }
    let out = run_named(&app, "switch-reads").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert_eq!(out.stdout, "0.005\n");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn threads_from_the_thread_module_print_to_the_run_and_are_limited() {
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "raw-thread-output").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert_eq!(out.stdout, "from the raw thread: hello\nwaited: True\n");

    let out = run_named(&app, "raw-thread-flood").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert_eq!(
        out.stdout,
        "64 started; an example may have at most 64 threads running at once; \
         join some before starting more\n"
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_thread_module_thread_is_counted_as_left_running_only_while_alive() {
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "raw-thread-lingers").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert_eq!(out.stdout, "started\n");
    assert_eq!(threads_left_running(&app).await, 1, "while it is alive");
    // It ends about three seconds after it started.
    assert_no_thread_left_running_within(&app, Duration::from_secs(8), "raw-thread-lingers").await;
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn thread_module_threads_that_end_are_not_counted_for_ever() {
    let app = spawn_app(&fixture("guards")).await;
    for _ in 0..10 {
        let out = run_named(&app, "raw-thread-quick").await;
        assert_eq!(out.end["status"], "ok", "{}", out.end);
        assert_eq!(out.stdout, "started\n");
    }
    // Each thread ends 0.3 s after it started; a run's end counts again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let out = run_named(&app, "checks-state").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert_eq!(threads_left_running(&app).await, 0);
}

#[tokio::test]
async fn a_thread_blocked_on_the_examples_socket_ends_after_the_run() {
    let app = spawn_app(&fixture("guards")).await;
    let out = run_named(&app, "socket-recv").await;
    assert_eq!(out.end["status"], "ok", "{}", out.end);
    assert_eq!(out.stdout, "receiving\n");
    assert_no_thread_left_running_within(&app, Duration::from_secs(10), "socket-recv").await;
    assert_still_serving(&app).await;
}

fn assert_queue_run(out: &Outcome, step: &str) {
    assert_eq!(
        out.end["status"], "ok",
        "{step}: {}\n{}",
        out.end, out.stderr
    );
    assert_eq!(out.stdout, "[0, 1, 2, 3]\n", "{step}");
    assert_eq!(out.stderr, "", "{step}");
    let duration_ms = out.end["duration_ms"].as_f64().unwrap();
    assert!(duration_ms < 5000.0, "{step}: {}", out.end);
    assert!(
        out.elapsed < Duration::from_secs(6),
        "{step}: {:?}",
        out.elapsed
    );
}

#[tokio::test]
async fn multiprocessing_queue_examples_end_every_time() {
    let app = spawn_app(&fixture("guards")).await;
    for n in 1..=20 {
        let out = run_named(&app, "mp-queue").await;
        assert_queue_run(&out, &format!("run {n} of 20"));
    }
    let (a, b, c, d) = tokio::join!(
        run_named(&app, "mp-queue"),
        run_named(&app, "mp-queue"),
        run_named(&app, "mp-queue"),
        run_named(&app, "mp-queue"),
    );
    for (n, out) in [a, b, c, d].iter().enumerate() {
        assert_queue_run(out, &format!("concurrent run {}", n + 1));
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_finaliser_that_blocks_for_ever_ends_with_the_time_limit() {
    let app = spawn_app_with(&fixture("guards"), |c| c.run.workers = 1).await;
    let out = run_named(&app, "stuck-finaliser").await;
    assert_eq!(out.end["status"], "timeout", "{}\n{}", out.end, out.stderr);
    assert_eq!(out.stdout, "made\n");
    assert!(out.elapsed < Duration::from_secs(4), "{:?}", out.elapsed);
    // The same (only) worker runs the next examples normally.
    let out = run_named(&app, "switch-reads").await;
    assert_eq!(out.end["status"], "ok", "{}\n{}", out.end, out.stderr);
    assert_eq!(out.stdout, "0.005\n");
    assert!(out.elapsed < Duration::from_secs(2), "{:?}", out.elapsed);
    assert_still_serving(&app).await;
}
