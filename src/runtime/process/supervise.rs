//! One run on one ready child: send the code, stream the pipes as run
//! events, stop it (a `SIGKILL` to its process group) at the deadline, on
//! Stop or past the output cap, and end it in exactly one state.
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde::Deserialize;

use super::zygote::{ExitReport, ReadyChild};
use crate::runtime::events::{EndStatus, OutputStream, RunEnd, RunError, RunEvent};
use crate::runtime::output::limit_marker;
use crate::runtime::run_state::{RunState, StopReason};
use crate::runtime::worker::{stopped_end, Block};

/// How often a silent run checks whether it must stop.
const CHECK_STOP_EVERY: Duration = Duration::from_millis(20);
/// After the kill, how long the pipes may take to close.
const DRAIN_AFTER_KILL: Duration = Duration::from_secs(2);
/// How long the zygote's exit report may take.
const EXIT_REPORT_WITHIN: Duration = Duration::from_secs(2);

/// What one process run needs.
pub struct ProcessJob {
    pub state: std::sync::Arc<RunState>,
    pub blocks: Vec<Block>,
    pub timeout: Duration,
    pub output_cap_bytes: usize,
    /// Told the CPU seconds the run used, once it has ended.
    pub on_cpu: Option<Box<dyn FnOnce(f64) + Send>>,
}

/// The child's last line on its result pipe.
#[derive(Deserialize)]
struct Outcome {
    status: Option<String>,
    exit_code: Option<i64>,
    error: Option<RunError>,
    failed: Option<String>,
}

/// One output pipe, decoded as UTF-8 across reads.
struct Pipe {
    fd: OwnedFd,
    stream: OutputStream,
    open: bool,
    /// The start of a character cut by a read.
    partial: Vec<u8>,
}

impl Pipe {
    fn new(fd: OwnedFd, stream: OutputStream) -> Pipe {
        Pipe {
            fd,
            stream,
            open: true,
            partial: Vec::new(),
        }
    }

    /// Text from `bytes`, keeping an incomplete last character for later.
    fn decode(&mut self, bytes: &[u8]) -> String {
        self.partial.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.partial) {
            Ok(_) => self.partial.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.partial.len(),
        };
        let rest = self.partial.split_off(valid);
        let text = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial = rest;
        text
    }
}

/// Runs `job` on `child`; pushes its events, the last being its end.
pub fn supervise(child: ReadyChild, job: ProcessJob) -> EndStatus {
    let started = Instant::now();
    let state = &job.state;
    let ReadyChild {
        pid,
        code,
        stdout,
        stderr,
        result,
        zygote,
        ..
    } = child;
    let request = serde_json::json!({
        "blocks": job.blocks.iter().map(|b| serde_json::json!({
            "snippet_id": b.snippet_id, "filename": b.filename, "code": b.code,
        })).collect::<Vec<_>>(),
        "timeout_s": job.timeout.as_secs_f64(),
    });
    let mut code = std::fs::File::from(code);
    // A child that died already (it cannot read) shows as a crash below.
    let _ = std::io::Write::write_all(&mut code, request.to_string().as_bytes());
    drop(code);
    let deadline = started + job.timeout;
    let mut pipes = [
        Pipe::new(stdout, OutputStream::Stdout),
        Pipe::new(stderr, OutputStream::Stderr),
    ];
    let mut result = Some(result);
    let mut result_text = Vec::new();
    let mut written = 0usize;
    let mut killed_at: Option<Instant> = None;
    let mut main_exited = false;
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        if killed_at.is_none() {
            if Instant::now() >= deadline {
                state.request_stop(StopReason::Timeout);
            }
            if state.stop_reason().is_some() {
                super::kill_group(pid);
                killed_at = Some(Instant::now());
            }
        }
        // The run is over when its own process is, as `python3 file.py`
        // returns then: processes it left in the background are ended, and
        // the pipes they held close.
        if !main_exited && (has_outcome(&result_text) || zygote.has_exited(pid)) {
            main_exited = true;
            super::kill_group(pid);
            killed_at.get_or_insert_with(Instant::now);
        }
        if killed_at.is_some_and(|at| at.elapsed() > DRAIN_AFTER_KILL) {
            break;
        }
        let open: Vec<usize> = (0..2).filter(|&i| pipes[i].open).collect();
        if open.is_empty() && result.is_none() {
            break;
        }
        let wait = match killed_at {
            Some(_) => CHECK_STOP_EVERY,
            None => deadline
                .saturating_duration_since(Instant::now())
                .min(CHECK_STOP_EVERY),
        };
        let mut fds: Vec<PollFd> = open
            .iter()
            .map(|&i| PollFd::new(pipes[i].fd.as_fd(), PollFlags::POLLIN))
            .collect();
        if let Some(result) = &result {
            fds.push(PollFd::new(result.as_fd(), PollFlags::POLLIN));
        }
        let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(_) => break,
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        for (slot, &i) in open.iter().enumerate() {
            if !ready[slot] {
                continue;
            }
            let pipe = &mut pipes[i];
            let n = read_some(&pipe.fd, &mut chunk);
            if n == 0 {
                pipe.open = false;
                continue;
            }
            let text = pipe.decode(&chunk[..n]);
            if state.stop_reason() == Some(StopReason::OutputLimit) {
                continue;
            }
            written += text.len();
            if written <= job.output_cap_bytes {
                state.push_output(pipe.stream, &text);
                continue;
            }
            let mut allowed = job.output_cap_bytes - (written - text.len());
            while !text.is_char_boundary(allowed) {
                allowed -= 1;
            }
            state.push_output(pipe.stream, &text[..allowed]);
            state.push_output(pipe.stream, &limit_marker(job.output_cap_bytes));
            state.request_stop(StopReason::OutputLimit);
        }
        if result.is_some() && *ready.last().unwrap_or(&false) {
            let fd = result.as_ref().expect("checked");
            let n = read_some(fd, &mut chunk);
            if n == 0 {
                result = None;
            } else {
                result_text.extend_from_slice(&chunk[..n]);
            }
        }
    }
    // Whatever the run left behind (background processes) goes with it.
    super::kill_group(pid);
    let exit = zygote.wait_exit(pid, EXIT_REPORT_WITHIN);
    if let (Some(report), Some(on_cpu)) = (exit, job.on_cpu) {
        on_cpu(report.cpu_s);
    }
    let duration = started.elapsed();
    let end = classify(
        &job.blocks,
        state,
        &result_text,
        exit,
        duration,
        job.timeout,
    );
    let status = end.status;
    state.push(RunEvent::End(end));
    status
}

/// Bytes read from a pipe; 0 at its end (or on an error, which ends it too).
/// Whether the child has written its outcome (its last line).
fn has_outcome(result_text: &[u8]) -> bool {
    result_text.ends_with(b"\n")
}

fn read_some(fd: &OwnedFd, buffer: &mut [u8]) -> usize {
    loop {
        match nix::unistd::read(fd, buffer) {
            Ok(n) => return n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 0,
        }
    }
}

/// The run's end: a stop wins; then the child's own outcome; then how its
/// process ended (a signal is a crash).
fn classify(
    blocks: &[Block],
    state: &RunState,
    result_text: &[u8],
    exit: Option<ExitReport>,
    duration: Duration,
    timeout: Duration,
) -> RunEnd {
    let duration_ms = duration.as_secs_f64() * 1e3;
    if let Some(reason) = state.stop_reason() {
        return stopped_end(reason, duration_ms, 0.0, timeout);
    }
    let mut end = RunEnd {
        status: EndStatus::Ok,
        duration_ms,
        gil_wait_ms: 0.0,
        error: None,
        exit_code: None,
        message: None,
    };
    let outcome = result_text
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(|line| serde_json::from_slice::<Outcome>(line).ok())
        .find(|o| o.status.is_some() || o.failed.is_some());
    match outcome {
        Some(Outcome {
            status: Some(status),
            exit_code,
            error,
            ..
        }) => match status.as_str() {
            "ok" => {}
            "exit" => {
                end.status = EndStatus::Exit;
                end.exit_code = exit_code;
            }
            _ => {
                end.status = EndStatus::Error;
                end.error = error.map(|mut e| {
                    if e.snippet_id.is_none() {
                        e.snippet_id = blocks.last().map(|b| b.snippet_id.clone());
                        e.line = None;
                    }
                    e
                });
            }
        },
        Some(Outcome {
            failed: Some(message),
            ..
        }) => {
            end.status = EndStatus::Crashed;
            end.message = Some(format!("The example's process failed: {message}"));
        }
        _ => match exit {
            Some(ExitReport {
                signal: Some(signal),
                ..
            }) => {
                end.status = EndStatus::Crashed;
                end.message = Some(format!(
                    "The example's process was killed by {}.",
                    describe_signal(signal)
                ));
            }
            Some(ExitReport {
                code: Some(code), ..
            }) => {
                // `os._exit(code)`: the process ended without a word, as a script can.
                end.status = EndStatus::Exit;
                end.exit_code = Some(i64::from(code));
            }
            _ => {
                end.status = EndStatus::Crashed;
                end.message = Some("The example's process ended without saying how.".into());
            }
        },
    }
    end
}

/// `SIGSEGV (segmentation fault)`, with a hint for the limits a run hits.
fn describe_signal(signal: i32) -> String {
    let name = nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"));
    // SAFETY: strsignal returns a pointer to a static or thread-local string.
    let description = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(signal)) }
        .to_string_lossy()
        .to_lowercase();
    let hint = match signal {
        libc::SIGXCPU => "; it used more CPU time than its limit",
        libc::SIGKILL => "; it may have run out of memory or CPU time",
        _ => "",
    };
    format!("{name} ({description}{hint})")
}
