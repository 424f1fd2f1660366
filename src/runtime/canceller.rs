//! The canceller: one OS thread that stops runs.
//!
//! It keeps every running run's deadline and the runs that must stop (time
//! out, client gone, output cap). To stop one it attaches to the interpreter
//! and injects `RunInterrupted` into the run's worker thread and the threads
//! the run started (`PyThreadState_SetAsyncExc`), again every
//! [`REINJECT_EVERY`] until the run ends, in case the snippet catches it.
//! Attaching may wait as long as a C call holds the GIL, which is why this
//! never happens on an async thread. While earlier runs have left threads
//! running, it also counts them again every [`RECOUNT_LEFT_RUNNING_EVERY`],
//! so `/metrics` shows them ending.
//!
//! Injection and the worker's end of a run both happen while attached, and
//! the canceller checks the run's phase first, so nothing is ever injected
//! into a worker that has moved on to another run.
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use pyo3::prelude::*;

use super::interpreter::{self, Prelude};
use super::metrics::RunMetrics;
use super::run_state::{Phase, RunState, StopReason};

/// How often a stopping run is interrupted again.
pub const REINJECT_EVERY: Duration = Duration::from_millis(50);

/// How often threads left running are counted again while there are any.
pub const RECOUNT_LEFT_RUNNING_EVERY: Duration = Duration::from_secs(1);

/// What the canceller is told.
pub enum CancelCommand {
    /// A run started: stop it at `deadline`.
    Watch {
        run: Arc<RunState>,
        deadline: Instant,
    },
    /// A run was marked to stop (its reason is already set).
    Stop(Arc<RunState>),
}

struct Stopping {
    run: Arc<RunState>,
    last_injection: Option<Instant>,
}

/// Runs the canceller until every sender is gone.
pub fn run(commands: Receiver<CancelCommand>, prelude: &'static Prelude, metrics: Arc<RunMetrics>) {
    let mut watched: Vec<(Arc<RunState>, Instant)> = Vec::new();
    let mut stopping: Vec<Stopping> = Vec::new();
    let mut last_count = Instant::now();
    loop {
        watched.retain(|(run, _)| run.phase() != Phase::Ended);
        stopping.retain(|s| s.run.phase() != Phase::Ended);
        let now = Instant::now();
        let next_deadline = watched.iter().map(|(_, deadline)| *deadline).min();
        let next_injection = if stopping.is_empty() {
            None
        } else {
            Some(now + REINJECT_EVERY)
        };
        // Threads left running are counted again now and then, so that
        // /metrics shows them ending even when no run ends.
        let next_count =
            (metrics.threads_left_running() > 0).then_some(last_count + RECOUNT_LEFT_RUNNING_EVERY);
        let wake = [next_deadline, next_injection, next_count]
            .into_iter()
            .flatten()
            .min();
        let command = match wake {
            Some(at) => commands.recv_timeout(at.saturating_duration_since(now)),
            None => commands.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match command {
            Ok(CancelCommand::Watch { run, deadline }) => watched.push((run, deadline)),
            Ok(CancelCommand::Stop(run)) => {
                if !stopping.iter().any(|s| Arc::ptr_eq(&s.run, &run)) {
                    stopping.push(Stopping {
                        run,
                        last_injection: None,
                    });
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        if next_count.is_some_and(|at| at <= now) {
            recount_left_running(prelude, &metrics);
            last_count = now;
        }
        for (run, deadline) in &watched {
            if *deadline <= now && !stopping.iter().any(|s| Arc::ptr_eq(&s.run, run)) {
                run.request_stop(StopReason::Timeout);
                stopping.push(Stopping {
                    run: run.clone(),
                    last_injection: None,
                });
            }
        }
        for entry in &mut stopping {
            let due = entry
                .last_injection
                .is_none_or(|at| now.duration_since(at) >= REINJECT_EVERY);
            if due && entry.run.phase() == Phase::Running {
                interrupt(&entry.run, prelude);
                entry.last_injection = Some(Instant::now());
            }
        }
    }
}

/// Injects `RunInterrupted` into every live thread of `run`.
/// Counts the threads earlier runs left running that are still alive, into
/// `/metrics`.
fn recount_left_running(prelude: &Prelude, metrics: &RunMetrics) {
    Python::attach(|py| {
        if let Ok(left) = prelude
            .track_left_running
            .call0(py)
            .and_then(|n| n.extract::<i64>(py))
        {
            metrics.set_threads_left_running(left);
        }
    });
}

fn interrupt(run: &RunState, prelude: &Prelude) {
    Python::attach(|py| {
        let Some((py_run, worker_ident)) = run.python_run(py) else {
            return;
        };
        let mut idents = vec![worker_ident];
        idents.extend(interpreter::idents(
            py,
            prelude.prepare_stop.call1(py, (py_run,)),
        ));
        // Checked after the Python call above (which may let the worker run)
        // and right before injecting, with no Python code in between: the
        // worker marks a run ended while attached, so it cannot slip past.
        if run.phase() != Phase::Running {
            return;
        }
        prelude.interrupt_threads(py, idents);
    });
}
