//! `rundocs check`: the docs' own test suite.
//!
//! Every runnable example runs through the same runtime as the server (same
//! guards, limits and `requires=` chains). Its stdout is compared with the
//! block's `output` block ([`matching`]); `expect=error` examples must raise.
//! A session's statements are compared one by one with the output written
//! after each ([`session`]).
//! One line per example, a unified diff on a mismatch, and a closing
//! `N passed, N failed` line; the command fails if any example does.
//! With `--record`, what each example printed is written into its `output`
//! block, or after each statement of a session, instead ([`record`]).
pub mod matching;
pub mod record;
pub mod session;

use std::io::Write;

use anyhow::Context;

use std::collections::BTreeMap;

use crate::config::{Config, ContentSource, Isolation};
use crate::content::Snippet;
use crate::render::{AssetTable, Snapshot};
use crate::runtime::{
    EndStatus, OutputStream, RunEnd, RunEvent, Runtime, RuntimeSettings, WorkerPriority,
};
use crate::web::run::run_request;

/// The outcome of one example.
#[derive(Debug)]
pub struct Verdict {
    pub passed: bool,
    /// Why it failed, and a diff when the output differs.
    pub details: Option<String>,
}

/// Runs the checks and writes the report to `out`. Returns (passed, failed).
pub fn run(
    config: &Config,
    page: Option<&str>,
    record: bool,
    out: &mut impl Write,
) -> anyhow::Result<(usize, usize)> {
    let content_root = match &config.content {
        ContentSource::Dir(root) => Some(root.clone()),
        ContentSource::Bundled => None,
    };
    if record && content_root.is_none() {
        anyhow::bail!(
            "--record writes into the content folder; name one with --content DIR \
             (the bundled write-ups are inside the binary)"
        );
    }
    let assets = AssetTable::build("");
    let snapshot = Snapshot::build(config, &assets.urls, None)?;
    // One example at a time, in order, at the priority of the command itself.
    let runtime = Runtime::start(RuntimeSettings {
        workers: 1,
        queue: 1,
        worker_priority: WorkerPriority::Normal,
        ..RuntimeSettings::from_config(config)
    })
    .context("cannot start the Python runtime")?;
    let page = page.map(|p| p.trim_matches('/'));
    if let Some(page) = page {
        if snapshot.page(page).is_none() {
            anyhow::bail!("there is no page /{page} in the content");
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for problem in snapshot.problems() {
        if page.is_none_or(|p| p == problem.url_path) {
            writeln!(out, "FAIL  {problem}")?;
            failed += 1;
        }
    }
    // By page; each page's file is looked up once, when writing.
    let mut recordings: BTreeMap<&str, Vec<record::Recording>> = BTreeMap::new();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    for snippet in snapshot.snippets().iter().filter(|s| s.runnable) {
        if page.is_some_and(|p| p != snippet.page) {
            continue;
        }
        let request = run_request(&snapshot, snippet, config.run.isolation);
        let (mut verdict, end, pieces, stdout) =
            tokio.block_on(check_one(&runtime, request, snippet))?;
        if record && status_as_expected(snippet, &end) {
            let recorded = if snippet.session {
                session::recorded(snippet, &stdout).map(record::Recorded::Session)
            } else {
                Ok(record::Recorded::Output(pieces))
            };
            // Its output is what is being recorded, not what it is judged by.
            verdict = match recorded {
                Ok(recorded) => {
                    recordings
                        .entry(&snippet.page)
                        .or_default()
                        .push(record::Recording {
                            fence_line: snippet.line,
                            block: snippet.index + 1,
                            recorded,
                        });
                    Verdict {
                        passed: true,
                        details: None,
                    }
                }
                Err(why) => Verdict {
                    passed: false,
                    details: Some(format!("cannot record this session: {why}")),
                },
            };
        }
        let label = if verdict.passed { "ok  " } else { "FAIL" };
        writeln!(
            out,
            "{label}  /{} block {} (line {}) {} {:.1} ms",
            snippet.page,
            snippet.index + 1,
            snippet.line,
            end.status.name(),
            end.duration_ms
        )?;
        if let Some(details) = verdict.details {
            for line in details.lines() {
                writeln!(out, "      {line}")?;
            }
        }
        if verdict.passed {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    runtime.shutdown();
    if let Some(root) = content_root.filter(|_| record) {
        let mut blocks = 0;
        let mut files = 0;
        for (page, recorded) in &recordings {
            let Some(file) = snapshot.source_file(page) else {
                continue;
            };
            let written = record::write(&root.join(file), recorded)?;
            for block in written.included {
                writeln!(
                    out,
                    "not recorded: block {block} of {file} comes from a file it includes (--8<--)"
                )?;
            }
            let changed = written.changed;
            if changed > 0 {
                writeln!(out, "wrote {changed} output block(s) in {file}")?;
                blocks += changed;
                files += 1;
            }
        }
        writeln!(
            out,
            "recorded: {blocks} output block(s) changed in {files} file(s)"
        )?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok((passed, failed))
}

async fn check_one(
    runtime: &Runtime,
    request: crate::runtime::RunRequest,
    snippet: &Snippet,
) -> anyhow::Result<(Verdict, RunEnd, Vec<record::Piece>, String)> {
    let handle = runtime.submit(request)?;
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut pieces = Vec::new();
    let end = loop {
        let mut end = None;
        for event in handle.take_events() {
            match event {
                RunEvent::Output {
                    stream: OutputStream::Stdout,
                    text,
                } => {
                    stdout.push_str(&text);
                    push_text(&mut pieces, &text);
                }
                RunEvent::Output {
                    stream: OutputStream::Stderr,
                    text,
                } => stderr.push_str(&text),
                // A table or a value compares as its text; an image
                // (whose text is only a description) is not compared.
                RunEvent::Display(display) if !display.is_image() => {
                    let text = format!("{}\n", display.text());
                    stdout.push_str(&text);
                    push_text(&mut pieces, &text);
                }
                RunEvent::Display(display) => {
                    let image = display
                        .data
                        .iter()
                        .find_map(|(mime, value)| record::image_piece(mime, value, display.text()));
                    pieces.extend(image);
                }
                RunEvent::Start { .. } => {}
                RunEvent::End(run_end) => end = Some(run_end),
            }
        }
        match end {
            Some(end) => break end,
            None => handle.changed().await,
        }
    };
    Ok((judge(snippet, &end, &stdout, &stderr), end, pieces, stdout))
}

fn push_text(pieces: &mut Vec<record::Piece>, text: &str) {
    match pieces.last_mut() {
        Some(record::Piece::Text(last)) => last.push_str(text),
        _ => pieces.push(record::Piece::Text(text.to_string())),
    }
}

/// Whether the run ended as the block says it should (`ok`, or an
/// exception with `expect=error`).
fn status_as_expected(snippet: &Snippet, end: &RunEnd) -> bool {
    match (snippet.expect_error, end.status) {
        (false, EndStatus::Ok) | (true, EndStatus::Error) => true,
        (false, EndStatus::Exit) => end.exit_code == Some(0),
        _ => false,
    }
}

/// Whether a finished run is what its block promises.
pub fn judge(snippet: &Snippet, end: &RunEnd, stdout: &str, stderr: &str) -> Verdict {
    let status_ok = status_as_expected(snippet, end);
    let mut problems = Vec::new();
    if !status_ok {
        let wanted = if snippet.expect_error {
            "an exception (expect=error)"
        } else {
            "ok"
        };
        let mut text = format!("expected {wanted}, got {}", end.status.name());
        if let Some(error) = &end.error {
            text.push_str(&format!(":\n{}", error.traceback.trim_end()));
        } else if let Some(message) = &end.message {
            text.push_str(&format!(": {message}"));
        }
        if !stderr.is_empty() && end.error.is_none() {
            text.push_str(&format!("\nstderr:\n{}", stderr.trim_end()));
        }
        problems.push(text);
    }
    if snippet.session {
        problems.extend(session::mismatches(snippet, stdout));
    } else if let Some(expected) = &snippet.expected_output {
        if !matching::output_matches(expected, stdout) {
            let diff = similar::TextDiff::from_lines(expected.as_str(), stdout)
                .unified_diff()
                .header("expected output", "actual output")
                .to_string();
            problems.push(format!(
                "stdout differs from the output block:\n{}",
                diff.trim_end()
            ));
        }
    }
    Verdict {
        passed: problems.is_empty(),
        details: (!problems.is_empty()).then(|| problems.join("\n")),
    }
}

/// One example of a page that failed its check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageFailure {
    /// 1-based position among the page's code blocks.
    pub block: usize,
    /// 1-based line of its opening fence.
    pub line: usize,
    pub details: String,
}

/// Checks the runnable examples of one page, given as its `snippets` (not
/// yet served), each in `isolation`. Returns how many passed and what failed.
pub async fn check_page(
    runtime: &Runtime,
    snippets: &[Snippet],
    isolation: Isolation,
) -> anyhow::Result<(usize, Vec<PageFailure>)> {
    let mut passed = 0;
    let mut failures = Vec::new();
    for snippet in snippets.iter().filter(|s| s.runnable) {
        let chain = crate::content::snippet::run_chain(snippets, snippet);
        let request = crate::web::run::chain_request(chain, snippet, isolation);
        let (verdict, end, _, _) = check_one(runtime, request, snippet).await?;
        if verdict.passed {
            passed += 1;
        } else {
            failures.push(PageFailure {
                block: snippet.index + 1,
                line: snippet.line,
                details: verdict
                    .details
                    .unwrap_or_else(|| format!("ended {}", end.status.name())),
            });
        }
    }
    Ok((passed, failures))
}
