//! Fidelity: every example under tests/fixtures/fidelity must behave in the
//! server exactly as `python3 example.py` does with the interpreter the binary
//! was built against (`PYO3_PYTHON`, else `python3`): the same stdout, the same
//! stderr (tracebacks included) once file names are set aside, and the same
//! ending (exit status 0 is `ok`, `sys.exit(n)` is `exit` with `n`, an uncaught
//! exception is `error`).
//!
//! Blocks whose first line is `# fidelity: own-process` need a process of their
//! own (fork, signal handlers, multiprocessing): they run and are reported, but
//! do not count.
//!
//! Blocks whose first line is `# fidelity: shared-state` change state that
//! runs share in thread mode (the environment, logging and warnings
//! configuration, `sys.path`, the recursion limit): they count, but run
//! alone, since examples running at the same time see each other's changes
//! (the README's "What thread mode cannot give").
//!
//! The server runs the corpus twice: four runs at a time, then all at once, so
//! that runs which see each other's output or state show up as mismatches of
//! the second pass; the shared-state examples run one by one, once, with no
//! other run going on. The test prints a summary, each mismatch with a short diff,
//! and one `fidelity: known mismatches (N): ...` line to copy from; it fails
//! while any counted example differs (`cargo nextest run fidelity
//! --no-capture` shows the report of a passing run too).
use std::fmt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use rundocs::runtime::{Isolation, WorkerPriority};
use serde_json::Value;

use super::helpers::*;
use super::run::{output, read_events, start_run};

const OWN_PROCESS: &str = "# fidelity: own-process";
const SHARED_STATE: &str = "# fidelity: shared-state";
/// Runs (and python3 processes) at a time in the first pass.
const CONCURRENCY: usize = 4;
/// A process-mode child's script file.
const PROCESS_SCRIPT: &str = "/tmp/example.py";
/// What file names become in both outputs.
const FILE: &str = "<file>";
/// Changed lines shown per stream in a mismatch.
const DIFF_LINES: usize = 12;

pub(super) struct Example {
    id: String,
    /// The block's `name=`, if it has one.
    pub(super) name: Option<String>,
    /// `page/block N`, counting blocks as tracebacks do.
    label: String,
    /// The name the server compiles the block under (`/page, block N`).
    filename: String,
    code: String,
    timeout_s: f64,
    own_process: bool,
    shares_state: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Ending {
    Ok,
    Exit(i64),
    Error,
    Other(String),
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Ok => write!(f, "ok (exit status 0)"),
            Ending::Exit(code) => write!(f, "exit {code}"),
            Ending::Error => write!(f, "error (uncaught exception)"),
            Ending::Other(what) => write!(f, "{what}"),
        }
    }
}

#[derive(Clone)]
pub(super) struct Outcome {
    stdout: String,
    stderr: String,
    ending: Ending,
}

pub(super) fn examples(snippets: &Value) -> Vec<Example> {
    snippets
        .as_array()
        .expect("the snippet list is an array")
        .iter()
        .filter(|s| s["runnable"] == true)
        .map(|s| {
            let page = s["page"].as_str().unwrap();
            let block = s["index"].as_u64().unwrap() + 1;
            let code = s["code"].as_str().unwrap().to_string();
            Example {
                id: s["id"].as_str().unwrap().to_string(),
                name: s["name"].as_str().map(str::to_string),
                label: format!("{page}/block {block}"),
                filename: format!("/{page}, block {block}"),
                own_process: code.lines().next().map(str::trim) == Some(OWN_PROCESS),
                shares_state: code.lines().next().map(str::trim) == Some(SHARED_STATE),
                timeout_s: s["timeout_s"].as_f64().unwrap_or(10.0),
                code,
            }
        })
        .collect()
}

/// Sets the example's file name aside: python3 names the script's path, the
/// server the block; tracebacks and warnings keep their line numbers.
fn normalise(text: &str, filename: &str) -> String {
    text.replace(filename, FILE)
}

/// The interpreter the binary was built against, resolved once to its real
/// executable: a launcher such as a pyenv shim costs a tenth of a second per
/// start, which over the whole corpus would be most of the test's time.
pub(super) fn python() -> String {
    let python = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let output = std::process::Command::new(&python)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    let executable = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if output.status.success() && !executable.is_empty() {
        executable
    } else {
        python
    }
}

/// `python3 example.py` in a fresh temporary directory.
pub(super) async fn under_python3(python: &str, example: &Example) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let script = dir_path.join("example.py");
    std::fs::write(&script, &example.code).unwrap();
    let mut command = tokio::process::Command::new(python);
    command
        .arg("example.py")
        .current_dir(&dir_path)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONHASHSEED", "0")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let limit = Duration::from_secs_f64(example.timeout_s + 5.0);
    let output = match tokio::time::timeout(limit, command.output()).await {
        Ok(output) => output.unwrap_or_else(|e| panic!("cannot start {python}: {e}")),
        Err(_) => {
            return Outcome {
                stdout: String::new(),
                stderr: String::new(),
                ending: Ending::Other(format!("still running after {limit:?}")),
            }
        }
    };
    let path = script.to_str().unwrap();
    let stdout = normalise(&String::from_utf8_lossy(&output.stdout), path);
    let stderr = normalise(&String::from_utf8_lossy(&output.stderr), path);
    let ending = match output.status.code() {
        Some(0) => Ending::Ok,
        Some(1) if is_uncaught_exception(&stderr) => Ending::Error,
        Some(code) => Ending::Exit(code.into()),
        None => Ending::Other(format!("ended by a signal ({})", output.status)),
    };
    Outcome {
        stdout,
        stderr,
        ending,
    }
}

/// Whether python3's stderr ends the way an uncaught exception ends it (a
/// traceback, or a syntax error pointing into the script).
fn is_uncaught_exception(stderr: &str) -> bool {
    stderr.contains("Traceback (most recent call last):\n")
        || stderr.starts_with(&format!("  File \"{FILE}\", line "))
}

/// The script file the server gives a block as its `__file__` (see
/// `script_path` in python/rundocs_prelude.py): the app runs in this process.
fn script_file(filename: &str) -> String {
    let stem: String = filename
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    std::env::temp_dir()
        .join(format!("rundocs-examples-{}", std::process::id()))
        .join(format!("{}.py", stem.trim_matches('-')))
        .to_string_lossy()
        .into_owned()
}

/// One run over HTTP (it may wait in the queue first). What a reader sees as stderr is the stream's text and,
/// for an error, the traceback the page shows under it.
pub(super) async fn in_server(app: &TestApp, example: &Example) -> Outcome {
    let mut response = start_run(app, &example.id).await;
    assert_eq!(
        response.status(),
        200,
        "POST /api/run for {}",
        example.label
    );
    let events = read_events(&mut response, usize::MAX).await;
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    let starts = names.iter().skip_while(|n| **n == "queued");
    assert_eq!(
        starts.clone().next(),
        Some(&"start"),
        "{}: {names:?}",
        example.label
    );
    assert_eq!(
        names.iter().filter(|n| **n == "end").count(),
        1,
        "{}: {names:?}",
        example.label
    );
    assert_eq!(names.last(), Some(&"end"), "{}", example.label);
    let stdout = output(&events, "stdout");
    let mut stderr = output(&events, "stderr");
    let end = &events.last().unwrap().data;
    let ending = match end["status"].as_str().unwrap_or_default() {
        "ok" => Ending::Ok,
        "exit" => match end["exit_code"].as_i64() {
            Some(0) => Ending::Ok,
            Some(code) => Ending::Exit(code),
            None => Ending::Other(format!("exit without a code: {end}")),
        },
        "error" => {
            let traceback = end["error"]["traceback"].as_str().unwrap_or_default();
            if !stderr.ends_with(traceback) {
                stderr.push_str(traceback);
            }
            Ending::Error
        }
        status => Ending::Other(format!(
            "{status}: {}",
            end["message"].as_str().unwrap_or_default()
        )),
    };
    // Tracebacks name the block; `__file__` is the block's script file
    // (in process mode, the one in the child's private tmp).
    let script = script_file(&example.filename);
    let set_aside = |text: &str| {
        [script.as_str(), PROCESS_SCRIPT, &example.filename]
            .iter()
            .fold(text.to_string(), |text, name| normalise(&text, name))
    };
    Outcome {
        stdout: set_aside(&stdout),
        stderr: set_aside(&stderr),
        ending,
    }
}

/// A line of a diff, cut short and with its end made visible.
fn shown(line: &str) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(body) => (body, ""),
        None => (line, " [no newline]"),
    };
    let mut cut: String = body.chars().take(160).collect();
    if cut.len() < body.len() {
        cut.push('…');
    }
    format!("{cut}{newline}")
}

/// The changed lines of `actual` against `expected` (`-` python3, `+` rundocs).
fn short_diff(expected: &str, actual: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, actual);
    let changes: Vec<String> = diff
        .iter_all_changes()
        .filter_map(|change| match change.tag() {
            similar::ChangeTag::Equal => None,
            similar::ChangeTag::Delete => Some(format!("      -{}", shown(change.value()))),
            similar::ChangeTag::Insert => Some(format!("      +{}", shown(change.value()))),
        })
        .collect();
    let mut out = changes
        .iter()
        .take(DIFF_LINES)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    if changes.len() > DIFF_LINES {
        out.push_str(&format!(
            "\n      … {} more changed lines",
            changes.len() - DIFF_LINES
        ));
    }
    out
}

/// How the server's outcome differs from python3's; empty when it does not.
pub(super) fn differences(expected: &Outcome, actual: &Outcome) -> Vec<String> {
    let mut found = Vec::new();
    if expected.ending != actual.ending {
        found.push(format!(
            "    ending: python3 {} / rundocs {}",
            expected.ending, actual.ending
        ));
    }
    for (stream, want, got) in [
        ("stdout", &expected.stdout, &actual.stdout),
        ("stderr", &expected.stderr, &actual.stderr),
    ] {
        if want != got {
            found.push(format!("    {stream}:\n{}", short_diff(want, got)));
        }
    }
    found
}

#[tokio::test]
async fn examples_behave_as_under_python3() {
    check_corpus(Isolation::Thread).await;
}

/// In process mode every example counts (each run is a process of its own)
/// and none needs to run alone.
#[tokio::test]
async fn examples_behave_as_under_python3_in_process_mode() {
    check_corpus(Isolation::Process).await;
}

async fn check_corpus(isolation: Isolation) {
    let started = Instant::now();
    let content = fixture("fidelity");
    let app = spawn_app_with(&content, |c| {
        c.run.rate_limit_per_minute = 100_000;
        c.run.queue = 4096;
        c.run.worker_priority = WorkerPriority::Normal;
        c.run.isolation = isolation;
    })
    .await;
    let process_mode = isolation == Isolation::Process;
    let mut examples = examples(&app.json("/api/snippets").await);
    if process_mode {
        for example in &mut examples {
            example.own_process = false;
            example.shares_state = false;
        }
    }
    let counted = examples.iter().filter(|e| !e.own_process).count();
    assert!(
        counted >= 220,
        "the corpus in {} has {counted} counted examples",
        content.display()
    );

    let python = python();
    let expected: Vec<Outcome> = stream::iter(&examples)
        .map(|e| under_python3(&python, e))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let python_done = started.elapsed();

    let (alone, together): (Vec<usize>, Vec<usize>) =
        (0..examples.len()).partition(|&i| examples[i].shares_state);
    let mut first: Vec<Option<Outcome>> = vec![None; examples.len()];
    let outcomes: Vec<Outcome> = stream::iter(&together)
        .map(|&i| in_server(&app, &examples[i]))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    for (&i, outcome) in together.iter().zip(outcomes) {
        first[i] = Some(outcome);
    }
    for &i in &alone {
        first[i] = Some(in_server(&app, &examples[i]).await);
    }
    let first: Vec<Outcome> = first.into_iter().map(Option::unwrap).collect();
    let first_done = started.elapsed();
    let mut second = first.clone();
    let outcomes =
        futures_util::future::join_all(together.iter().map(|&i| in_server(&app, &examples[i])))
            .await;
    for (&i, outcome) in together.iter().zip(outcomes) {
        second[i] = outcome;
    }

    let mut report = Vec::new();
    let mut mismatches = Vec::new();
    let mut only_concurrent = 0;
    let mut own_process = Vec::new();
    for (i, example) in examples.iter().enumerate() {
        let in_first = differences(&expected[i], &first[i]);
        let in_second = differences(&expected[i], &second[i]);
        if in_first.is_empty() && in_second.is_empty() {
            if example.own_process {
                own_process.push(format!("{} matches", example.label));
            }
            continue;
        }
        if example.own_process {
            let outcome = if in_first.is_empty() {
                &second[i]
            } else {
                &first[i]
            };
            let said = outcome.stderr.lines().last().unwrap_or_default();
            own_process.push(format!(
                "{} differs: python3 {}, rundocs {}: {said}",
                example.label, expected[i].ending, outcome.ending
            ));
            continue;
        }
        let when = match (in_first.is_empty(), in_second.is_empty()) {
            (false, false) => "in both passes",
            (false, true) => "in the first pass only",
            _ => {
                only_concurrent += 1;
                "only when the whole corpus runs at once"
            }
        };
        let mut entry = format!("MISMATCH {} (id {}), {when}", example.label, example.id);
        let shown = if in_first.is_empty() {
            &in_second
        } else {
            &in_first
        };
        for difference in shown {
            entry.push_str(&format!("\n{difference}"));
        }
        if !in_first.is_empty() && !in_second.is_empty() && in_first != in_second {
            entry.push_str("\n    second pass:");
            for difference in &in_second {
                entry.push_str(&format!("\n{difference}"));
            }
        }
        report.push(entry);
        mismatches.push(example.label.clone());
    }

    let matching = counted - mismatches.len();
    println!("{}", report.join("\n\n"));
    println!();
    for line in &own_process {
        println!("own-process: {line}");
    }
    println!("fidelity ({isolation:?} mode):");
    println!(
        "fidelity: {matching}/{counted} match python3 ({:.1} %); own-process: {}",
        matching as f64 * 100.0 / counted as f64,
        own_process.len()
    );
    println!(
        "fidelity: {only_concurrent} of the mismatches appear only when the whole corpus runs at once; \
         {} examples that change shared state ran alone",
        alone.len()
    );
    println!(
        "fidelity: python3 {:.1} s, first pass {:.1} s, concurrent pass {:.1} s (python: {python})",
        python_done.as_secs_f64(),
        (first_done - python_done).as_secs_f64(),
        (started.elapsed() - first_done).as_secs_f64(),
    );
    println!(
        "fidelity: known mismatches ({}): {}",
        mismatches.len(),
        mismatches.join(", ")
    );
    assert!(
        mismatches.is_empty(),
        "{} of {counted} examples in tests/fixtures/fidelity behave differently \
         from python3 (report above): {}",
        mismatches.len(),
        mismatches.join(", ")
    );
}
