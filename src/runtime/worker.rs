//! Worker threads: take a run from the queue, attach, execute, detach.
//!
//! A worker holds the GIL only inside [`execute`]; it waits for the next run
//! in `recv` while detached. Each run gets a fresh `__main__` namespace, and
//! each block is compiled under its own file name (`page.md, block N`) so
//! tracebacks and the end event's `line` count the lines the reader sees.
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use pyo3::exceptions::PySystemExit;
use pyo3::prelude::*;

use super::canceller::CancelCommand;
use super::events::{EndStatus, OutputStream, RunEnd, RunError, RunEvent};
use super::interpreter::{idents, Prelude};
use super::memory::{self, MemoryBudget};
use super::metrics::RunMetrics;
use super::output::{human_bytes, OutputCaps, OutputSink};
use super::priority::WorkerPriority;
use super::run_state::{Phase, RunState, StopReason};
use crate::content::session::Statement;

/// One block of a run: the run's own code, or a block it `requires=`.
#[derive(Debug, Clone)]
pub struct Block {
    pub snippet_id: String,
    /// The name tracebacks show, e.g. `guide/usage.md, block 2`.
    pub filename: String,
    pub code: String,
    /// Show the value of a last bare expression (`echo`).
    pub echo: bool,
    /// An interpreter session: its statements run one by one, as typed at
    /// the interactive interpreter.
    pub session: bool,
}

impl Block {
    /// The statements of a session block (`None` for other blocks), as the
    /// Python side runs them.
    pub fn statements(&self) -> Option<Vec<Statement>> {
        self.session
            .then(|| crate::content::session::parse(&self.code).statements())
    }
}

/// A run waiting in the queue.
pub struct Job {
    pub state: Arc<RunState>,
    pub blocks: Vec<Block>,
    pub timeout: Duration,
    pub output_caps: OutputCaps,
    /// 0: no limit.
    pub memory_limit_bytes: usize,
}

/// What a worker thread needs.
pub struct WorkerContext {
    pub jobs: Receiver<Job>,
    pub canceller: Sender<CancelCommand>,
    pub prelude: &'static Prelude,
    pub metrics: Arc<RunMetrics>,
}

/// Threads that outlived their runs, still alive, beyond which new runs are
/// refused (`rejected`): each holds an OS thread and may hold memory. It is
/// well above the 64 threads one run may have alive, so no single run can
/// use it up.
pub const MAX_THREADS_LEFT_RUNNING: i64 = 160;

/// Niceness of worker threads with [`WorkerPriority::Low`].
pub const LOW_PRIORITY_NICENESS: i32 = 10;

/// The worker loop: runs jobs until the queue is closed.
pub fn run(context: WorkerContext, priority: WorkerPriority) {
    set_priority(priority);
    own_file_system_state();
    let ident: u64 = Python::attach(|py| {
        context
            .prelude
            .get_ident
            .call0(py)
            .and_then(|i| i.extract(py))
            .expect("_thread.get_ident() returns an int")
    });
    for job in context.jobs.iter() {
        run_job(&context, ident, job);
    }
}

/// Gives the calling worker a working directory and umask of its own
/// (Linux: `unshare(CLONE_FS)`), which the threads its runs start share: an
/// example's `os.chdir` then moves only its own run, never another run that
/// is going on or the server.
fn own_file_system_state() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: unshare(CLONE_FS) only detaches the calling thread's
        // file-system attributes from the other threads'.
        if unsafe { libc::unshare(libc::CLONE_FS) } != 0 {
            tracing::warn!(
                "a worker cannot have a working directory of its own, so examples that change \
                 directory affect each other while they run: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Sets the calling worker thread's scheduling priority (Linux only).
fn set_priority(priority: WorkerPriority) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: both calls only change the calling thread's scheduling.
        let result = unsafe {
            match priority {
                WorkerPriority::Normal => 0,
                WorkerPriority::Low => {
                    let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                    libc::setpriority(libc::PRIO_PROCESS, tid, LOW_PRIORITY_NICENESS)
                }
                WorkerPriority::Idle => {
                    let param = libc::sched_param { sched_priority: 0 };
                    libc::sched_setscheduler(0, libc::SCHED_IDLE, &param)
                }
            }
        };
        if result != 0 {
            tracing::warn!(
                ?priority,
                "cannot set the priority of a worker thread: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = priority;
}

fn run_job(context: &WorkerContext, ident: u64, job: Job) {
    let state = job.state.clone();
    context.metrics.run_started();
    state.push(RunEvent::Start {
        run_id: state.id.clone(),
        queued_ms: state.submitted.elapsed().as_secs_f64() * 1e3,
    });
    let started = Instant::now();
    let mut left_running = context.metrics.threads_left_running();
    if left_running >= MAX_THREADS_LEFT_RUNNING {
        // Some may have ended since they were counted.
        left_running = Python::attach(|py| interrupt_left_running(py, context, None));
    }
    let end = if let Some(reason) = state.stop_reason() {
        // Cancelled (or shut down) while it waited in the queue.
        state.set_phase(Phase::Ended);
        stopped_end(reason, 0.0, 0.0, job.timeout)
    } else if left_running >= MAX_THREADS_LEFT_RUNNING {
        state.set_phase(Phase::Ended);
        RunEnd::rejected(format!(
            "Earlier examples left {left_running} threads running that would not stop, \
             the most this server allows; no example runs until they end or the server restarts."
        ))
    } else {
        let budget = (job.memory_limit_bytes > 0 && memory::is_installed())
            .then(|| Arc::new(MemoryBudget::new(job.memory_limit_bytes)));
        Python::attach(|py| {
            let gil_wait = started.elapsed();
            let started = Instant::now();
            let failure = execute(py, context, ident, &job, budget.clone());
            finish_attached(py, context, &state, ident);
            let duration = started.elapsed();
            let mut end = classify(py, context.prelude, &job, failure, duration, gil_wait);
            if let Some(budget) = budget.filter(|b| b.was_exceeded()) {
                if end.status == EndStatus::Error {
                    end.message = Some(format!(
                        "The example needed more memory than its limit of {} and an allocation failed.",
                        human_bytes(budget.limit_bytes())
                    ));
                }
            }
            end
        })
    };
    let gil_wait_s = (end.status != EndStatus::Cancelled || end.duration_ms > 0.0)
        .then_some(end.gil_wait_ms / 1e3);
    context
        .metrics
        .run_ended(end.status, started.elapsed().as_secs_f64(), gil_wait_s);
    state.push(RunEvent::End(end));
}

/// Adds the threads `run` leaves running (if a run is given) to those
/// earlier runs left, counts the ones still alive into `/metrics`, interrupts
/// each of them once more, and returns how many there are.
fn interrupt_left_running(py: Python<'_>, context: &WorkerContext, run: Option<Py<PyAny>>) -> i64 {
    let prelude = context.prelude;
    let tracked = match run {
        Some(run) => prelude.track_left_running.call1(py, (run,)),
        None => prelude.track_left_running.call0(py),
    };
    let left = match tracked.and_then(|n| n.extract::<i64>(py)) {
        Ok(left) => {
            context.metrics.set_threads_left_running(left);
            left
        }
        Err(_) => context.metrics.threads_left_running(),
    };
    prelude.interrupt_threads(py, idents(py, prelude.left_running_idents.call0(py)));
    left
}

/// The exception that ended a run, described (for errors) while the run's
/// namespace still existed: 3.11's "Did you mean" hint looks names up there.
struct Failure {
    error: PyErr,
    described: Option<RunError>,
    /// The run's own `sys.excepthook` reported it (the run ends as a script
    /// would then: exit status 1).
    reported_by_hook: bool,
}

impl Failure {
    fn new(error: PyErr) -> Failure {
        Failure {
            error,
            described: None,
            reported_by_hook: false,
        }
    }
}

/// Runs the blocks; returns the exception that ended them, if any.
fn execute(
    py: Python<'_>,
    context: &WorkerContext,
    ident: u64,
    job: &Job,
    budget: Option<Arc<MemoryBudget>>,
) -> Option<Failure> {
    let prelude = context.prelude;
    let state = &job.state;
    let _counting = budget.as_deref().map(memory::count_against);
    let sink = OutputSink::new(
        state.clone(),
        context.canceller.clone(),
        prelude.run_interrupted.clone_ref(py),
        job.output_caps,
        budget,
    );
    let timeout_s = job.timeout.as_secs_f64();
    let run = match Py::new(py, sink).and_then(|sink| prelude.enter.call1(py, (sink, timeout_s))) {
        Ok(run) => run,
        Err(error) => return Some(Failure::new(error)),
    };
    state.set_python_run(Some(run.clone_ref(py)), Some(ident));
    state.set_phase(Phase::Running);
    let deadline = Instant::now() + job.timeout;
    let _ = context.canceller.send(CancelCommand::Watch {
        run: state.clone(),
        deadline,
    });
    let (main_filename, main_code) = job
        .blocks
        .last()
        .map_or(("", ""), |b| (b.filename.as_str(), b.code.as_str()));
    let namespace = match prelude
        .new_namespace
        .call1(py, (run.clone_ref(py), main_filename, main_code))
    {
        Ok(namespace) => namespace,
        Err(error) => return Some(Failure::new(error)),
    };
    let mut failure = None;
    for block in &job.blocks {
        let result = prelude
            .compile_block
            .call1(
                py,
                (
                    block.code.as_str(),
                    block.filename.as_str(),
                    block.echo,
                    block.statements(),
                ),
            )
            .and_then(|code| evaluate(py, &code, &namespace));
        if let Err(error) = result {
            failure = Some(Failure::new(error));
            break;
        }
    }
    drop(namespace);
    if state.stop_reason().is_some() {
        return failure;
    }
    if let Some(failure) = failure.as_mut() {
        if !failure.error.is_instance_of::<PySystemExit>(py) {
            failure.described = Some(describe(py, prelude, job, &failure.error));
            failure.reported_by_hook = prelude
                .run_excepthook
                .call1(py, (failure.error.value(py),))
                .and_then(|handled| handled.extract::<bool>(py))
                .unwrap_or(false);
        }
    }
    // As a script's interpreter at exit, after an error too: wait for
    // non-daemon threads, run atexit callbacks, finalise the namespace.
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .as_secs_f64();
    let finished = prelude.finish.call1(py, (run, remaining)).err();
    failure.or(finished.map(Failure::new))
}

/// Runs compiled module code in `namespace`, as the interpreter runs a
/// script (`PyEval_EvalCode`; calling `exec` would add a level of recursion).
pub(crate) fn evaluate(py: Python<'_>, code: &Py<PyAny>, namespace: &Py<PyAny>) -> PyResult<()> {
    // SAFETY: attached; both objects are alive for the call, and the result
    // is a new reference (or null with an exception set).
    let result = unsafe {
        pyo3::ffi::PyEval_EvalCode(code.as_ptr(), namespace.as_ptr(), namespace.as_ptr())
    };
    if result.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a new reference, owned from here on.
    drop(unsafe { Bound::from_owned_ptr(py, result) });
    Ok(())
}

/// Ends the run while still attached: no interruption can reach this worker
/// afterwards, one already pending is cleared, and threads the run left
/// running are interrupted.
fn finish_attached(py: Python<'_>, context: &WorkerContext, state: &RunState, ident: u64) {
    let prelude = context.prelude;
    let run = state.set_python_run(None, None);
    state.set_phase(Phase::Ended);
    remove_trace_and_profile_hooks(py);
    receive_pending_interrupt(py, prelude, ident);
    if let Some(run) = run {
        if let Err(error) = prelude.leave.call1(py, (run.clone_ref(py),)) {
            tracing::warn!("releasing a run's resources failed: {error}");
        }
        interrupt_left_running(py, context, Some(run));
    }
    let _ = prelude.restore_streams.call1(
        py,
        (prelude.stdout.clone_ref(py), prelude.stderr.clone_ref(py)),
    );
}

/// Removes the trace and profile functions a snippet set on this worker
/// thread, before any more Python code runs on it.
fn remove_trace_and_profile_hooks(py: Python<'_>) {
    // SAFETY: attached; both only change the calling thread's state.
    unsafe {
        pyo3::ffi::PyEval_SetTrace(None, std::ptr::null_mut());
        pyo3::ffi::PyEval_SetProfile(None, std::ptr::null_mut());
    }
    // An audit hook may refuse; the run is over either way.
    let _ = PyErr::take(py);
}

/// Takes an interruption still pending for this worker, so it cannot reach
/// the next run.
///
/// Up to 3.12 CPython signals "an asynchronous exception is pending" with one
/// flag per interpreter, cleared only when a thread receives one.
/// `PyThreadState_SetAsyncExc(ident, NULL)` drops the exception but leaves the
/// flag set: every function entry then stops to look for pending work, and on
/// 3.11 a traced function never gets past its entry. Injecting one more
/// `RunInterrupted` and receiving it at once, in a no-op Python function,
/// clears both the exception and the flag.
fn receive_pending_interrupt(py: Python<'_>, prelude: &Prelude, ident: u64) {
    prelude.interrupt_threads(py, [ident]);
    let _ = prelude.receive_interrupt.call0(py);
}

fn classify(
    py: Python<'_>,
    prelude: &Prelude,
    job: &Job,
    failure: Option<Failure>,
    duration: Duration,
    gil_wait: Duration,
) -> RunEnd {
    let duration_ms = duration.as_secs_f64() * 1e3;
    let gil_wait_ms = gil_wait.as_secs_f64() * 1e3;
    if let Some(reason) = job.state.stop_reason() {
        return stopped_end(reason, duration_ms, gil_wait_ms, job.timeout);
    }
    let mut end = RunEnd {
        status: EndStatus::Ok,
        duration_ms,
        gil_wait_ms,
        error: None,
        exit_code: None,
        message: None,
    };
    let Some(Failure {
        error,
        described,
        reported_by_hook,
    }) = failure
    else {
        return end;
    };
    if reported_by_hook {
        end.status = EndStatus::Exit;
        end.exit_code = Some(1);
        return end;
    }
    if error.is_instance_of::<PySystemExit>(py) {
        let exit = prelude
            .exit_code
            .call1(py, (error.value(py),))
            .and_then(|r| r.extract::<ExitRequest>(py))
            .unwrap_or(ExitRequest {
                code: 1,
                text: None,
            });
        if let Some(text) = exit.text {
            job.state.push_output(OutputStream::Stderr, &text);
        }
        end.status = EndStatus::Exit;
        end.exit_code = Some(exit.code);
        return end;
    }
    end.status = EndStatus::Error;
    end.error = Some(described.unwrap_or_else(|| describe(py, prelude, job, &error)));
    end
}

/// What `SystemExit` asks for, from the prelude's `exit_code`.
#[derive(FromPyObject)]
struct ExitRequest {
    code: i64,
    /// Text to print to stderr (`sys.exit("message")`).
    text: Option<String>,
}

/// An exception as the reader sees it, from the prelude's `describe_error`.
#[derive(FromPyObject)]
struct ErrorReport {
    kind: String,
    message: String,
    traceback: String,
    /// The innermost line inside the run's own blocks, and that block's file name.
    line: Option<u32>,
    filename: Option<String>,
}

fn describe(py: Python<'_>, prelude: &Prelude, job: &Job, error: &PyErr) -> RunError {
    let filenames: Vec<&str> = job.blocks.iter().map(|b| b.filename.as_str()).collect();
    let value = error.value(py);
    // On 3.11 the traceback travels beside the exception; attach it for traceback.format_exception.
    if let Some(traceback) = error.traceback(py) {
        let _ = value.setattr("__traceback__", traceback);
    }
    let described = prelude
        .describe_error
        .call1(py, (value, filenames))
        .and_then(|d| d.extract::<ErrorReport>(py));
    match described {
        Ok(report) => RunError {
            kind: report.kind,
            message: report.message,
            traceback: report.traceback,
            line: report.line,
            snippet_id: report.filename.and_then(|f| {
                job.blocks
                    .iter()
                    .find(|b| b.filename == f)
                    .map(|b| b.snippet_id.clone())
            }),
        },
        Err(_) => RunError {
            kind: error
                .get_type(py)
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            message: error.to_string(),
            traceback: String::new(),
            line: None,
            snippet_id: None,
        },
    }
}

/// The end of a run the runtime stopped, with a message saying why.
pub(super) fn stopped_end(
    reason: StopReason,
    duration_ms: f64,
    gil_wait_ms: f64,
    timeout: Duration,
) -> RunEnd {
    let message = match reason {
        StopReason::Timeout => format!(
            "The example ran longer than its limit of {} s and was stopped.",
            timeout.as_secs_f64()
        ),
        StopReason::Cancelled => "The run was stopped.".to_string(),
        StopReason::OutputLimit => {
            "The example wrote more output than allowed and was stopped.".to_string()
        }
        StopReason::Shutdown => "The server is shutting down.".to_string(),
    };
    RunEnd {
        status: reason.status(),
        duration_ms,
        gil_wait_ms,
        error: None,
        exit_code: None,
        message: Some(message),
    }
}
