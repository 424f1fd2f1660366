//! Interpreter sessions (`pycon` blocks, and Python blocks opening with
//! `>>> `): shown with prompts, run statement by statement as `python3 -i`
//! runs what is typed at it (python3 itself is the oracle, typed at in a
//! pseudo-terminal), in both ways to run, and checked and recorded by
//! `rundocs check` as doctest checks examples.
use std::process::Command;

use rundocs::runtime::Isolation;
use serde_json::{json, Value};

use super::helpers::*;
use super::run::{end, output, read_run, run, snippet_id};

const MODES: [Isolation; 2] = [Isolation::Thread, Isolation::Process];

async fn app(isolation: Isolation) -> TestApp {
    spawn_app_with(&fixture("pycon"), |c| {
        c.run.isolation = isolation;
        c.run.edit = rundocs::config::EditAccess::Open;
    })
    .await
}

/// The block `name=NAME` of `page`, as `/api/snippets` lists it.
async fn snippet(app: &TestApp, page: &str, name: &str) -> Value {
    let snippets = app.json(&format!("/api/snippets?page={page}")).await;
    snippets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no block name={name} on {page}"))
        .clone()
}

/// Types each statement line of `session` (its text after the prompts) at
/// `python3 -i` in a pseudo-terminal, waiting for each prompt, and returns
/// what the terminal showed, as the interactive interpreter prints a
/// session (without its last, unanswered prompt).
fn python3_interactive(session: &str) -> String {
    const TYPIST: &str = r#"
import os, pty, select, sys
lines = sys.stdin.read().splitlines()
pid, fd = pty.fork()
if pid == 0:
    os.environ.update(TERM="dumb", PYTHON_BASIC_REPL="1")
    os.environ.pop("PYTHONSTARTUP", None)
    os.execv(sys.executable, [sys.executable, "-q", "-S", "-i"])
shown = b""
def until_prompt():
    global shown
    while not shown.endswith((b">>> ", b"... ")):
        if not select.select([fd], [], [], 20)[0]:
            sys.exit("python3 -i showed no prompt: %r" % shown)
        shown += os.read(fd, 4096)
for line in lines:
    until_prompt()
    os.write(fd, line.encode() + b"\n")
    shown += os.read(fd, len(line) + 2)  # the terminal's echo of the line
until_prompt()
os.kill(pid, 9)
sys.stdout.write(shown.decode().replace("\r\n", "\n")[:-4])
"#;
    // A `...` line continues a statement only right after its other lines.
    let mut typed = String::new();
    let mut in_statement = false;
    for line in session.lines() {
        in_statement = line.starts_with(">>>") || (in_statement && line.starts_with("..."));
        if in_statement {
            typed.push_str(line.get(4..).unwrap_or_default());
            typed.push('\n');
        }
    }
    let python = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let mut child = Command::new(python)
        .args(["-c", TYPIST])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the python3 -i typist failed");
    String::from_utf8(output.stdout).unwrap()
}

/// A transcript with its tracebacks' stacks set aside (the lines starting
/// with two spaces): python3 names `<stdin>` and shows no source lines there.
fn without_stacks(transcript: &str) -> String {
    transcript
        .lines()
        .filter(|line| !line.starts_with("  "))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[tokio::test]
async fn a_session_prints_what_python3_interactive_prints_in_both_ways_to_run() {
    for isolation in MODES {
        let app = app(isolation).await;
        for name in ["basics", "detected", "raises"] {
            let block = snippet(&app, "sessions", name).await;
            let events = run(&app, block["id"].as_str().unwrap()).await;
            assert_eq!(
                end(&events)["status"],
                "ok",
                "{isolation:?} {name}: {events:?}"
            );
            let transcript = output(&events, "stdout");
            let python3 = python3_interactive(block["code"].as_str().unwrap());
            if name == "raises" {
                assert_eq!(
                    without_stacks(&transcript),
                    without_stacks(&python3),
                    "{isolation:?}"
                );
            } else {
                assert_eq!(transcript, python3, "{isolation:?} {name}");
            }
        }
    }
}

#[tokio::test]
async fn an_exception_shows_its_traceback_at_the_block_s_lines_and_the_session_goes_on() {
    for isolation in MODES {
        let app = app(isolation).await;
        let id = snippet_id(&app, "sessions", "raises").await;
        let events = run(&app, &id).await;
        // 3.13 marks the whole call with carets where 3.11 does not: set them aside.
        let transcript: String = output(&events, "stdout")
            .split_inclusive('\n')
            .filter(|line| !is_caret_line(line))
            .collect();
        let expected = ">>> divide(1, 0)\n\
            Traceback (most recent call last):\n  \
              File \"/sessions, block 3\", line 4, in <module>\n    \
                divide(1, 0)\n  \
              File \"/sessions, block 3\", line 2, in divide\n    \
                return a / b\n";
        assert!(transcript.contains(expected), "{isolation:?}: {transcript}");
        assert!(
            transcript.ends_with(
                "ZeroDivisionError: division by zero\n>>> print(\"still here\")\nstill here\n\
                 >>> 1 +\n  File \"/sessions, block 3\", line 10\n    1 +\n       ^\n\
                 SyntaxError: invalid syntax\n"
            ),
            "{isolation:?}: {transcript}"
        );
        assert_eq!(end(&events)["status"], "ok");
        assert_eq!(end(&events)["error"], Value::Null);
        assert!(!transcript.contains("rundocs_session"), "{transcript}");
    }
}

#[tokio::test]
async fn sessions_are_listed_as_such_and_share_their_namespace_with_required_blocks() {
    let app = app(Isolation::Thread).await;
    let snippets = app.json("/api/snippets?page=sessions").await;
    let shape: Vec<(String, bool, bool)> = snippets
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or("-").to_string(),
                s["session"].as_bool().unwrap(),
                s["runnable"].as_bool().unwrap(),
            )
        })
        .collect();
    let shape: Vec<(&str, bool, bool)> =
        shape.iter().map(|(n, s, r)| (n.as_str(), *s, *r)).collect();
    assert_eq!(
        shape,
        [
            ("basics", true, true),
            ("detected", true, true),
            ("raises", true, true),
            ("loose", true, true),
            ("setup", false, true),
            ("chained", true, true),
            ("-", true, false),
        ]
    );
    let id = snippet_id(&app, "sessions", "chained").await;
    let events = run(&app, &id).await;
    assert_eq!(output(&events, "stdout"), ">>> base * 2\n20\n");
}

#[tokio::test]
async fn a_session_stops_at_its_time_limit_and_ends_at_system_exit() {
    for isolation in MODES {
        let app = app(isolation).await;
        let events = run(&app, &snippet_id(&app, "stops", "slow").await).await;
        assert_eq!(
            end(&events)["status"],
            "timeout",
            "{isolation:?}: {events:?}"
        );
        let transcript = output(&events, "stdout");
        assert!(
            transcript.starts_with(">>> print(\"started\")\nstarted\n>>> while True:\n"),
            "{transcript}"
        );
        assert!(!transcript.contains("never"), "{isolation:?}: {transcript}");

        let events = run(&app, &snippet_id(&app, "stops", "exits").await).await;
        assert_eq!(end(&events)["status"], "exit", "{isolation:?}: {events:?}");
        assert_eq!(end(&events)["exit_code"], 3);
        assert_eq!(
            output(&events, "stdout"),
            ">>> print(\"before\")\nbefore\n>>> raise SystemExit(3)\n"
        );
    }
}

#[tokio::test]
async fn edited_code_that_opens_with_a_prompt_runs_as_a_session() {
    let app = app(Isolation::Process).await;
    let id = snippet_id(&app, "sessions", "chained").await;
    for body in [
        json!({"code": ">>> 6 * 7\n>>> _ + 1\n"}),
        json!({"code": ">>> base + 1\n>>> _ + 1\n", "snippet": id}),
    ] {
        let response = app
            .client
            .post(app.url("/api/run"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let events = read_run(response).await;
        let transcript = output(&events, "stdout");
        assert!(
            transcript == ">>> 6 * 7\n42\n>>> _ + 1\n43\n"
                || transcript == ">>> base + 1\n11\n>>> _ + 1\n12\n",
            "{body}: {transcript}"
        );
    }
}

#[tokio::test]
async fn the_page_shows_prompts_statements_and_output_apart() {
    let app = app(Isolation::Thread).await;
    let page = app.page("/sessions", 200).await;
    let runnable = texts(&page, ".snippet[data-snippet-id] code.language-pycon");
    assert_eq!(runnable.len(), 5, "{runnable:?}");
    assert!(
        runnable[0].starts_with(">>> x = 40\n>>> x + 2\n42\n"),
        "{}",
        runnable[0]
    );
    let prompts = texts(&page, ".snippet code.language-pycon .hl-p");
    assert_eq!(prompts[..4], [">>>", ">>>", ">>>", "..."]);
    let shown_only = texts(&page, "pre.code > code.language-pycon");
    assert_eq!(shown_only.len(), 6, "the norun session is shown too");
    assert_eq!(shown_only[5], ">>> secret = 1");
}

/// `rundocs check` with `args`, in `isolation`: (success, its report).
fn check(isolation: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rundocs"))
        .arg("check")
        .args(args)
        .env("RUNDOCS_RUN__ISOLATION", isolation)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn check_passes_sessions_that_match_with_ellipsis_whitespace_and_tracebacks() {
    let content = fixture("pycon");
    for isolation in ["thread", "process"] {
        let (success, text) = check(
            isolation,
            &["--content", content.to_str().unwrap(), "--page", "sessions"],
        );
        assert!(success, "{isolation}: {text}");
        assert!(
            text.ends_with("6 passed, 0 failed\n"),
            "{isolation}: {text}"
        );
    }
}

#[test]
fn check_fails_a_wrong_session_naming_each_statement_with_a_diff() {
    let content = fixture("pycon");
    for isolation in ["thread", "process"] {
        let (success, text) = check(
            isolation,
            &["--content", content.to_str().unwrap(), "--page", "wrong"],
        );
        assert!(!success, "{text}");
        assert!(text.contains("FAIL  /wrong block 1 (line 3) ok"), "{text}");
        assert!(
            text.contains("line 4: `>>> print(\"right\")` printed other output:\n      --- expected\n      +++ actual\n"),
            "{text}"
        );
        assert!(text.contains("      -wrong\n      +right\n"), "{text}");
        assert!(
            text.contains("line 8: `>>> int(\"x\")` printed other output:"),
            "{text}"
        );
        assert!(
            text.contains("+ValueError: invalid literal for int() with base 10: 'x'"),
            "{text}"
        );
        assert!(
            !text.contains("line 6:"),
            "the statement that matches is not reported: {text}"
        );
        assert!(text.ends_with("0 passed, 1 failed\n"), "{text}");

        let (success, text) = check(
            isolation,
            &["--content", content.to_str().unwrap(), "--page", "stops"],
        );
        assert!(!success);
        assert!(text.contains("expected ok, got timeout"), "{text}");
        assert!(
            text.contains("line 11: `>>> print(\"never\")` did not run"),
            "{text}"
        );
        assert!(
            text.contains("line 21: `>>> print(\"after\")` did not run"),
            "{text}"
        );
    }
}

#[test]
fn record_rewrites_the_lines_after_each_statement_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("pycon"), dir.path());
    let content = dir.path().to_str().unwrap();
    let page = dir.path().join("record.md");
    let (success, text) = check(
        "thread",
        &["--content", content, "--page", "record", "--record"],
    );
    assert!(success, "{text}");
    assert!(
        text.contains("wrote 2 output block(s) in record.md"),
        "{text}"
    );
    let expected = "# Record\n\n\
        ```pycon name=stale\n\
        >>> print(\"fresh\")\n\
        fresh\n\
        >>> 6 * 7\n\
        42\n\
        >>> print(\"a\\n\\nb\")\n\
        a\n\
        <BLANKLINE>\n\
        b\n\
        >>> {}[\"k\"]\n\
        Traceback (most recent call last):\n  \
          ...\n\
        KeyError: 'k'\n\
        >>> x = 1\n\
        ```\n\n\
        ```pycon\n\
        >>> [0, 1, 2, 3] * 5\n\
        [0, 1, 2, ..., 3]\n\
        ```\n\n   \
           ```pycon\n   \
           >>> print(\"indented\")\n   \
           indented\n   \
           ```\n";
    assert_eq!(std::fs::read_to_string(&page).unwrap(), expected);

    let (success, text) = check(
        "process",
        &["--content", content, "--page", "record", "--record"],
    );
    assert!(success, "{text}");
    assert!(
        text.contains("recorded: 0 output block(s) changed"),
        "{text}"
    );
    let (success, text) = check("thread", &["--content", content, "--page", "record"]);
    assert!(success && text.ends_with("3 passed, 0 failed\n"), "{text}");
}

/// A line of carets under an expression in a traceback (`  ~~^~~`); the
/// caret under a syntax error's position stays (it is only `^`).
fn is_caret_line(line: &str) -> bool {
    let line = line.trim();
    line.contains('~') && line.chars().all(|c| matches!(c, '~' | '^'))
}
