//! The embedded CPython interpreter and the runs it executes.
//!
//! [`Runtime`] is the only way into the interpreter. Its start-up
//! ([`interpreter::start`]) initialises CPython on the calling thread and
//! leaves it without the GIL. Runs then flow:
//!
//! ```text
//! submit ──bounded queue──▶ worker thread (attach · exec · detach) ──events──▶ RunHandle
//!                                   ▲
//!              canceller thread ────┘ (deadlines, stop requests: injects RunInterrupted)
//! ```
//!
//! No async thread ever attaches: [`Runtime::submit`] only queues, and
//! [`RunHandle`] only reads events and asks the canceller to stop.
//! How a run is executed stays behind [`Runtime::submit`], so other backends
//! (a sub-interpreter pool, a child process) can slot in behind it.
pub mod canceller;
pub mod display;
pub mod events;
pub mod interpreter;
pub mod memory;
pub mod metrics;
pub mod output;
pub mod priority;
pub mod process;
pub mod run_state;
pub mod worker;

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};

pub use crate::config::Isolation;

use canceller::CancelCommand;
pub use events::{EndStatus, OutputStream, RunEnd, RunError, RunEvent};
use metrics::RunMetrics;
use output::OutputCaps;
pub use priority::WorkerPriority;
use run_state::{Phase, RunState, StopReason};
pub use worker::Block;
use worker::{Job, WorkerContext};

/// Stack of a worker thread: deep recursion in C code (an `lru_cache`,
/// recursive `__getattr__`, repr of nested structures) must hit
/// `RecursionError`, not the end of the stack. Up to 3.11 one level of such
/// recursion takes about 0.5 KiB of C stack, and the guards cap the recursion
/// limit at 150,000; the threads examples start get the same size (see the
/// prelude). Only the pages a thread touches take memory.
const WORKER_STACK_BYTES: usize = 256 << 20;

/// How the runtime is sized and limited (from the `run` config section).
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    pub workers: usize,
    pub queue: usize,
    pub output_caps: OutputCaps,
    /// Most bytes one run may allocate; 0 for no limit.
    pub memory_limit_bytes: usize,
    /// A virtualenv's `site-packages`, importable from examples.
    pub site_packages: Option<std::path::PathBuf>,
    pub worker_priority: WorkerPriority,
    /// Process mode, when authored snippets use it or edited code may run.
    pub process: Option<process::ProcessSettings>,
}

impl RuntimeSettings {
    /// The settings the operator configured (the `run` section and the virtualenv).
    pub fn from_config(config: &crate::config::Config) -> RuntimeSettings {
        RuntimeSettings {
            workers: config.run.workers,
            queue: config.run.queue,
            output_caps: OutputCaps {
                total_bytes: config.run.output_limit_bytes,
                display_bytes: config.run.display_limit_bytes,
            },
            memory_limit_bytes: config.run.memory_limit_bytes,
            site_packages: config.venv_site_packages.clone(),
            worker_priority: config.run.worker_priority,
            process: (config.run.isolation == Isolation::Process || config.runs_untrusted_code())
                .then(|| process::ProcessSettings::from_config(config)),
        }
    }
}

/// A run to execute: its blocks in order (`requires=` blocks first) and its time limit.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub blocks: Vec<Block>,
    pub timeout: Duration,
    /// Where it runs: on a worker thread, or in a sandboxed child process.
    pub isolation: Isolation,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("all {0} places in the run queue are taken; try again in a moment")]
    QueueFull(usize),
    #[error("the runtime is shutting down")]
    ShuttingDown,
    #[error("this server does not run code in sandboxed processes (process mode is off)")]
    NoProcessMode,
}

/// The embedded interpreter with its worker pool and canceller.
pub struct Runtime {
    jobs: Sender<Job>,
    canceller: Sender<CancelCommand>,
    settings: RuntimeSettings,
    metrics: Arc<RunMetrics>,
    next_id: AtomicU64,
    /// Runs submitted and not yet ended (pruned as they end).
    live: Arc<LiveRuns>,
    shutting_down: AtomicBool,
    /// The folder of the examples' script files.
    examples_dir: std::path::PathBuf,
    /// Process mode's pool, when configured.
    process: Option<process::ProcessPool>,
}

impl Runtime {
    /// Starts the interpreter (once per process) and this runtime's threads.
    /// Call it on the thread that starts the server, before serving.
    pub fn start(settings: RuntimeSettings) -> Result<Runtime, StartError> {
        let prelude = interpreter::start(
            settings.memory_limit_bytes > 0,
            settings.site_packages.as_deref(),
        )?;
        let metrics = Arc::new(RunMetrics::with_capacity(settings.workers, settings.queue));
        let (jobs, queue) = crossbeam_channel::bounded::<Job>(settings.queue);
        let (canceller, commands) = crossbeam_channel::unbounded();
        std::thread::Builder::new()
            .name("rundocs-canceller".into())
            .spawn({
                let metrics = metrics.clone();
                move || canceller::run(commands, prelude, metrics)
            })
            .expect("can start the canceller thread");
        for index in 0..settings.workers {
            let context = WorkerContext {
                jobs: queue.clone(),
                canceller: canceller.clone(),
                prelude,
                metrics: metrics.clone(),
            };
            let priority = settings.worker_priority;
            std::thread::Builder::new()
                .name(format!("rundocs-worker-{index}"))
                .stack_size(WORKER_STACK_BYTES)
                .spawn(move || worker::run(context, priority))
                .expect("can start a worker thread");
        }
        let process = match settings.process.clone() {
            Some(process_settings) => Some(
                process::ProcessPool::start(process_settings, metrics.clone())
                    .map_err(StartError::Process)?,
            ),
            None => None,
        };
        Ok(Runtime {
            jobs,
            canceller,
            settings,
            process,
            metrics,
            next_id: AtomicU64::new(1),
            live: Arc::new(LiveRuns::default()),
            shutting_down: AtomicBool::new(false),
            examples_dir: prelude.examples_dir.clone(),
        })
    }

    /// Refuses new runs and lets the queued and running ones go on (a
    /// drain); [`Runtime::shutdown`] stops them.
    pub fn stop_accepting(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }

    /// Refuses new runs and stops every queued and running one; each ends
    /// with `cancelled` and a message saying the server is shutting down.
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        // The examples' script files; a run still going rewrites its own.
        let _ = std::fs::remove_dir_all(&self.examples_dir);
        for run in self.live_runs() {
            if run.request_stop(StopReason::Shutdown) {
                let _ = self.canceller.send(CancelCommand::Stop(run));
            }
        }
        if let Some(process) = &self.process {
            process.shutdown();
        }
    }

    /// Waits (blocking, so call it off the async threads) until no run is
    /// left or `within` has passed; returns whether all ended.
    pub fn wait_until_idle(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while !self.live_runs().is_empty() {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(process) = &self.process {
            process.wait_stopped(deadline.saturating_duration_since(Instant::now()));
        }
        true
    }

    /// Ends, from outside, the runs still going after [`Runtime::shutdown`]
    /// asked them to stop (a C call can hold the GIL past any interruption):
    /// their clients get a `cancelled` end event now, and whatever the worker
    /// reports later is dropped. Returns how many there were.
    pub fn end_remaining_runs(&self) -> usize {
        let runs = self.live_runs();
        for run in &runs {
            let waited_ms = run.submitted.elapsed().as_secs_f64() * 1e3;
            run.push(RunEvent::End(worker::stopped_end(
                StopReason::Shutdown,
                waited_ms,
                0.0,
                Duration::ZERO,
            )));
        }
        runs.len()
    }

    fn live_runs(&self) -> Vec<Arc<RunState>> {
        self.live.current()
    }

    /// Queues a run. Never blocks: a full queue is an error at once.
    pub fn submit(&self, request: RunRequest) -> Result<RunHandle, SubmitError> {
        self.submit_charging(request, None)
    }

    /// Queues a run; a process-mode run tells `on_cpu` the CPU seconds it
    /// used once it has ended.
    pub fn submit_charging(
        &self,
        request: RunRequest,
        on_cpu: Option<Box<dyn FnOnce(f64) + Send>>,
    ) -> Result<RunHandle, SubmitError> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(SubmitError::ShuttingDown);
        }
        let id = format!("r{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let state = Arc::new(RunState::new(id));
        if request.isolation == Isolation::Process {
            let pool = self.process.as_ref().ok_or(SubmitError::NoProcessMode)?;
            self.live.add(&state);
            pool.submit(process::ProcessJob {
                state: state.clone(),
                blocks: request.blocks,
                timeout: request.timeout,
                output_caps: self.settings.output_caps,
                on_cpu,
            })?;
            return Ok(RunHandle {
                state,
                canceller: None,
                live: self.live.clone(),
            });
        }
        self.live.add(&state);
        let job = Job {
            state: state.clone(),
            blocks: request.blocks,
            timeout: request.timeout,
            output_caps: self.settings.output_caps,
            memory_limit_bytes: self.settings.memory_limit_bytes,
        };
        match self.jobs.try_send(job) {
            Ok(()) => Ok(RunHandle {
                state,
                canceller: Some(self.canceller.clone()),
                live: self.live.clone(),
            }),
            Err(TrySendError::Full(_)) => Err(SubmitError::QueueFull(self.settings.queue)),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::ShuttingDown),
        }
    }

    /// Runs waiting for a worker (or, in process mode, a supervisor).
    pub fn queue_depth(&self) -> usize {
        self.jobs.len() + self.process.as_ref().map_or(0, |p| p.queue_depth())
    }

    /// Prometheus text of the run metrics (without the closing `# EOF`).
    pub fn metrics_text(&self) -> String {
        let mut text = self.metrics.render(self.queue_depth());
        if let Some(process) = &self.process {
            text.push_str(&process.metrics_text());
        }
        text
    }

    /// The sandbox process-mode children reach, when process mode is on.
    pub fn sandbox(&self) -> Option<crate::sandbox::Reached> {
        self.process.as_ref().map(|p| p.reached())
    }

    pub fn settings(&self) -> &RuntimeSettings {
        &self.settings
    }
}

/// The caller's side of one run: its events, and stopping it.
/// Dropping the handle of a run that has not ended cancels it.
pub struct RunHandle {
    state: Arc<RunState>,
    /// The canceller of thread mode; a process run's supervisor sees the
    /// stop request itself.
    canceller: Option<Sender<CancelCommand>>,
    live: Arc<LiveRuns>,
}

/// The runs submitted to a runtime that have not ended, oldest first.
#[derive(Default)]
struct LiveRuns {
    runs: Mutex<Vec<Weak<RunState>>>,
}

impl LiveRuns {
    fn add(&self, run: &Arc<RunState>) {
        let mut runs = self.runs.lock().expect("live runs lock");
        // A `Weak` keeps its run's allocation alive: forget ended runs here
        // too, or every run ever made would stay in memory.
        runs.retain(|run| run.strong_count() > 0);
        runs.push(Arc::downgrade(run));
    }

    /// The live runs, after forgetting the ended ones.
    fn current(&self) -> Vec<Arc<RunState>> {
        let mut runs = self.runs.lock().expect("live runs lock");
        runs.retain(|run| run.upgrade().is_some_and(|run| run.phase() != Phase::Ended));
        runs.iter().filter_map(Weak::upgrade).collect()
    }
}

impl RunHandle {
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// Events produced since the last call (empty if none yet).
    pub fn take_events(&self) -> Vec<RunEvent> {
        self.state.drain()
    }

    /// While the run waits in the queue: its place, 1 being next.
    pub fn queue_position(&self) -> Option<usize> {
        if self.state.phase() != Phase::Queued {
            return None;
        }
        let ahead = self
            .live
            .current()
            .iter()
            .filter(|run| run.phase() == Phase::Queued && run.submitted < self.state.submitted)
            .count();
        Some(ahead + 1)
    }

    /// Waits until new events may be there.
    pub async fn changed(&self) {
        self.state.wait_for_events().await;
    }

    /// Asks the run to stop; it ends with `cancelled` (unless it already ended).
    pub fn cancel(&self) {
        if self.state.phase() != Phase::Ended && self.state.request_stop(StopReason::Cancelled) {
            if let Some(canceller) = &self.canceller {
                let _ = canceller.send(CancelCommand::Stop(self.state.clone()));
            }
        }
    }
}

impl Drop for RunHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Interpreter(#[from] interpreter::StartError),
    #[error("cannot start process mode: {0}")]
    Process(String),
}

/// Full version of the Python rundocs was built against, e.g. `3.11.7`.
pub const BUILD_PYTHON_VERSION: &str = env!("PYTHON_VERSION_AT_BUILD");

/// The version string of the libpython actually loaded, e.g.
/// `3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]`.
pub fn loaded_python_version() -> String {
    // SAFETY: Py_GetVersion is one of the functions CPython documents as safe
    // to call before the interpreter is initialised; it returns a pointer to a
    // static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(pyo3::ffi::Py_GetVersion()) };
    version.to_string_lossy().into_owned()
}

/// The warning to give when the libpython loaded is not the one rundocs was
/// built against (its standard library and behaviour may differ).
pub fn python_mismatch_warning() -> Option<String> {
    let loaded = loaded_python_version();
    let loaded_short = loaded.split_whitespace().next().unwrap_or_default();
    (loaded_short != BUILD_PYTHON_VERSION).then(|| {
        format!(
            "warning: built against Python {BUILD_PYTHON_VERSION} but loaded {loaded_short}; \
             the loader found another libpython (check LD_LIBRARY_PATH)"
        )
    })
}

/// The line `rundocs --version` prints (with the mismatch warning, if any).
pub fn version_line() -> String {
    let mut line = format!(
        "{} (embedded Python {})",
        env!("CARGO_PKG_VERSION"),
        loaded_python_version()
    );
    if let Some(warning) = python_mismatch_warning() {
        line.push('\n');
        line.push_str(&warning);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_runs_forget_ended_runs_as_new_ones_arrive() {
        let live = LiveRuns::default();
        let kept = Arc::new(RunState::new("kept".into()));
        live.add(&kept);
        for n in 0..1000 {
            let run = Arc::new(RunState::new(format!("r{n}")));
            live.add(&run);
        }
        let held = live.runs.lock().unwrap().len();
        assert_eq!(held, 2, "the kept run and the last one added");
        let current = live.current();
        assert_eq!(current.len(), 1);
        assert!(Arc::ptr_eq(&current[0], &kept));
    }
}
