//! One run on one ready child: send the code, stream the pipes as run
//! events, stop it (a `SIGKILL` to its process group) at the deadline, on
//! Stop or past the output cap, and end it in exactly one state.
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde::Deserialize;

use super::wait_readable;
use super::zygote::{ExitReport, ReadyChild};
use crate::runtime::display::{self, Refused};
use crate::runtime::events::{EndStatus, OutputStream, RunEnd, RunError, RunEvent};
use crate::runtime::output::{left_out_marker, push_display, push_text, OutputCaps};
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
    pub output_caps: OutputCaps,
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
            "snippet_id": b.snippet_id, "filename": b.filename, "code": b.code, "echo": b.echo,
            "session": b.statements(),
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
    let mut reports = Reports::new(job.output_caps.display_bytes);
    let mut output = Output {
        state,
        caps: job.output_caps,
        written: AtomicUsize::new(0),
        emitted: [0, 0],
    };
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
        if !main_exited && (reports.outcome.is_some() || zygote.has_exited(pid)) {
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
        // The pipes first, then the reports: a display's place among the
        // text is where the text read so far reaches (see `Reports`).
        let mut fresh: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        for (slot, &i) in open.iter().enumerate() {
            if !ready[slot] {
                continue;
            }
            let n = read_some(&pipes[i].fd, &mut chunk);
            if n == 0 {
                pipes[i].open = false;
            } else {
                fresh[i].extend_from_slice(&chunk[..n]);
            }
        }
        if let Some(fd) = &result {
            if wait_readable(fd.as_fd(), Duration::ZERO) {
                let n = read_some(fd, &mut chunk);
                if n == 0 {
                    result = None;
                } else {
                    reports.feed(&chunk[..n]);
                }
            }
        }
        output.emit(&mut pipes, fresh, &mut reports.displays);
    }
    // Displays whose text never came (the run replaced its standard
    // streams' file descriptors) still show, last.
    output.emit(&mut pipes, [Vec::new(), Vec::new()], &mut reports.displays);
    for display in std::mem::take(&mut reports.displays) {
        output.display(&display);
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
        reports.outcome.as_deref(),
        exit,
        duration,
        job.timeout,
    );
    let status = end.status;
    state.push(RunEvent::End(end));
    status
}

/// A display the child reported, waiting for the text written before it.
struct PendingDisplay {
    /// Bytes the child's `sys.stdout` and `sys.stderr` had written before it.
    after: [u64; 2],
    /// The bundle's JSON, or `None` when it was too large to keep.
    json: Option<String>,
    /// Its size as reported.
    bytes: usize,
}

/// What the child reports on its result pipe, one line each: displays
/// (`D <stdout bytes> <stderr bytes> <bundle JSON>`) and, last, its outcome
/// (a JSON object).
///
/// A display's place among the text: the child counts the bytes its
/// standard streams wrote before it. The supervisor reads the pipes before
/// the reports, so a display it reads either falls inside the text read so
/// far or after all of it, never before text it has already shown.
struct Reports {
    partial: Vec<u8>,
    displays: std::collections::VecDeque<PendingDisplay>,
    outcome: Option<Vec<u8>>,
    /// The longest line kept; a longer display is counted, not kept.
    max_line: usize,
    /// The rest of a line too long to keep is being skipped: a display's
    /// (noted where it was, with its size), or a line that is not the
    /// child's own (`None`: dropped).
    skipping: Option<Option<PendingDisplay>>,
}

impl Reports {
    fn new(display_cap_bytes: usize) -> Reports {
        Reports {
            partial: Vec::new(),
            displays: Default::default(),
            outcome: None,
            // With room for the line's prefix (`D <count> <count> `).
            max_line: display::longest_json(display_cap_bytes) + 64,
            skipping: None,
        }
    }

    /// Takes bytes of the result pipe.
    fn feed(&mut self, mut bytes: &[u8]) {
        if let Some(skipped) = &mut self.skipping {
            let end = bytes.iter().position(|&b| b == b'\n');
            if let Some(display) = skipped {
                display.bytes += end.unwrap_or(bytes.len());
            }
            let Some(end) = end else { return };
            if let Some(Some(display)) = self.skipping.take() {
                self.displays.push_back(display);
            }
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.take_line(&line[..line.len() - 1]);
        }
        if self.partial.len() > self.max_line {
            // A display too large to show: keep its place, drop its bytes.
            let line = std::mem::take(&mut self.partial);
            self.skipping = Some(display_line(&line).map(|(after, _)| PendingDisplay {
                after,
                json: None,
                bytes: line.len(),
            }));
        }
    }

    fn take_line(&mut self, line: &[u8]) {
        if let Some((after, json)) = display_line(line) {
            self.displays.push_back(PendingDisplay {
                after,
                bytes: json.len(),
                json: Some(String::from_utf8_lossy(json).into_owned()),
            });
        } else if !line.is_empty() && self.outcome.is_none() {
            let outcome = serde_json::from_slice::<Outcome>(line);
            if outcome.is_ok_and(|o| o.status.is_some() || o.failed.is_some()) {
                self.outcome = Some(line.to_vec());
            }
        }
    }
}

/// `D <stdout bytes> <stderr bytes> <rest>`: the counts and the rest.
fn display_line(line: &[u8]) -> Option<([u64; 2], &[u8])> {
    let rest = line.strip_prefix(b"D ")?;
    let mut parts = rest.splitn(3, |&b| b == b' ');
    let mut count = || std::str::from_utf8(parts.next()?).ok()?.parse::<u64>().ok();
    let after = [count()?, count()?];
    Some((after, parts.next().unwrap_or_default()))
}

/// The run's output on its way out: text and displays in order, under the caps.
struct Output<'a> {
    state: &'a RunState,
    caps: OutputCaps,
    written: AtomicUsize,
    /// Bytes of each pipe shown so far.
    emitted: [u64; 2],
}

impl Output<'_> {
    /// Shows `fresh` text of each pipe and the displays that fall inside it.
    fn emit(
        &mut self,
        pipes: &mut [Pipe; 2],
        fresh: [Vec<u8>; 2],
        displays: &mut std::collections::VecDeque<PendingDisplay>,
    ) {
        let mut shown = [0usize, 0];
        while let Some(display) = displays.front() {
            let mut reached = true;
            for i in 0..2 {
                let wanted = display.after[i].saturating_sub(self.emitted[i]);
                let available = (fresh[i].len() - shown[i]) as u64;
                let take = wanted.min(available) as usize;
                self.text(&mut pipes[i], &fresh[i][shown[i]..shown[i] + take]);
                shown[i] += take;
                reached &= self.emitted[i] >= display.after[i];
            }
            if !reached {
                break;
            }
            let display = displays.pop_front().expect("front exists");
            self.display(&display);
        }
        for i in 0..2 {
            self.text(&mut pipes[i], &fresh[i][shown[i]..]);
        }
    }

    fn text(&mut self, pipe: &mut Pipe, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let index = usize::from(pipe.stream == OutputStream::Stderr);
        self.emitted[index] += bytes.len() as u64;
        let text = pipe.decode(bytes);
        if self.state.stop_reason() == Some(StopReason::OutputLimit) {
            return;
        }
        let cap = self.caps.total_bytes;
        if !push_text(pipe.stream, &text, cap, &self.written, self.state) {
            self.state.request_stop(StopReason::OutputLimit);
        }
    }

    fn display(&mut self, display: &PendingDisplay) {
        if self.state.stop_reason() == Some(StopReason::OutputLimit) {
            return;
        }
        let Some(json) = &display.json else {
            let refused = Refused::TooLarge {
                bytes: display.bytes,
                limit: self.caps.display_bytes,
            };
            self.state
                .push_output(OutputStream::Stderr, &left_out_marker(&refused));
            return;
        };
        if !push_display(json, self.caps, &self.written, self.state) {
            self.state.request_stop(StopReason::OutputLimit);
        }
    }
}

/// Bytes read from a pipe; 0 at its end (or on an error, which ends it too).
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
    outcome: Option<&[u8]>,
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
    let outcome = outcome.and_then(|line| serde_json::from_slice::<Outcome>(line).ok());
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
