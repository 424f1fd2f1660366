//! The state one run shares between the HTTP side, its worker thread and the
//! canceller: its events waiting to be sent, why it must stop (if it must),
//! and which phase it is in.
//!
//! The worker pushes events while attached to the interpreter, so pushing
//! never waits: it takes an uncontended mutex for a moment and wakes the
//! reader through a [`Notify`]. Consecutive writes to one stream merge, so a
//! snippet printing a character at a time costs the reader one event per
//! wake-up, and memory stays bounded by the output cap.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use pyo3::{Py, PyAny};
use tokio::sync::Notify;

use super::events::{EndStatus, OutputStream, RunEvent};

/// Why the runtime stops a run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StopReason {
    Timeout = 1,
    Cancelled = 2,
    OutputLimit = 3,
    Shutdown = 4,
}

impl StopReason {
    fn from_u8(value: u8) -> Option<StopReason> {
        match value {
            1 => Some(StopReason::Timeout),
            2 => Some(StopReason::Cancelled),
            3 => Some(StopReason::OutputLimit),
            4 => Some(StopReason::Shutdown),
            _ => None,
        }
    }

    pub fn status(self) -> EndStatus {
        match self {
            StopReason::Timeout => EndStatus::Timeout,
            StopReason::Cancelled | StopReason::Shutdown => EndStatus::Cancelled,
            StopReason::OutputLimit => EndStatus::OutputLimit,
        }
    }
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Queued = 0,
    Running = 1,
    Ended = 2,
}

#[derive(Debug, Default)]
struct EventQueue {
    pending: VecDeque<RunEvent>,
    ended: bool,
}

/// Shared by everyone who deals with one run.
#[derive(Debug)]
pub struct RunState {
    pub id: String,
    pub submitted: Instant,
    queue: Mutex<EventQueue>,
    wake_reader: Notify,
    stop: AtomicU8,
    phase: AtomicU8,
    /// The Python-side `Run` object while the run executes (set and cleared
    /// by the worker, read by the canceller, both attached).
    py_run: Mutex<Option<Py<PyAny>>>,
    /// `threading.get_ident()` of the worker running it.
    worker_ident: Mutex<Option<u64>>,
}

impl RunState {
    pub fn new(id: String) -> RunState {
        RunState {
            id,
            submitted: Instant::now(),
            queue: Mutex::new(EventQueue::default()),
            wake_reader: Notify::new(),
            stop: AtomicU8::new(0),
            phase: AtomicU8::new(Phase::Queued as u8),
            py_run: Mutex::new(None),
            worker_ident: Mutex::new(None),
        }
    }

    /// Appends an event; output merges into a directly preceding output of the same stream.
    pub fn push(&self, event: RunEvent) {
        let mut queue = self.queue.lock().expect("event queue lock");
        if queue.ended {
            return;
        }
        if let RunEvent::Output { stream, text } = &event {
            if let Some(RunEvent::Output {
                stream: last_stream,
                text: last_text,
            }) = queue.pending.back_mut()
            {
                if last_stream == stream {
                    last_text.push_str(text);
                    drop(queue);
                    self.wake_reader.notify_one();
                    return;
                }
            }
        }
        if matches!(event, RunEvent::End(_)) {
            queue.ended = true;
        }
        queue.pending.push_back(event);
        drop(queue);
        self.wake_reader.notify_one();
    }

    pub fn push_output(&self, stream: OutputStream, text: &str) {
        if !text.is_empty() {
            self.push(RunEvent::Output {
                stream,
                text: text.to_string(),
            });
        }
    }

    /// Takes every pending event. After the `End` event nothing more comes.
    pub fn drain(&self) -> Vec<RunEvent> {
        let mut queue = self.queue.lock().expect("event queue lock");
        queue.pending.drain(..).collect()
    }

    /// Waits until an event may be pending (for the one reader of the run).
    pub async fn wait_for_events(&self) {
        self.wake_reader.notified().await;
    }

    /// Marks the run to stop for `reason`, unless it already has a reason.
    /// Returns whether this call set it.
    pub fn request_stop(&self, reason: StopReason) -> bool {
        self.stop
            .compare_exchange(0, reason as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        StopReason::from_u8(self.stop.load(Ordering::Acquire))
    }

    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Queued,
            1 => Phase::Running,
            _ => Phase::Ended,
        }
    }

    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    pub fn set_python_run(
        &self,
        run: Option<Py<PyAny>>,
        worker_ident: Option<u64>,
    ) -> Option<Py<PyAny>> {
        *self.worker_ident.lock().expect("worker ident lock") = worker_ident;
        std::mem::replace(&mut *self.py_run.lock().expect("python run lock"), run)
    }

    /// The Python `Run` and the worker's thread ident (only while running).
    pub fn python_run(&self, py: pyo3::Python<'_>) -> Option<(Py<PyAny>, u64)> {
        let run = self
            .py_run
            .lock()
            .expect("python run lock")
            .as_ref()?
            .clone_ref(py);
        let ident = (*self.worker_ident.lock().expect("worker ident lock"))?;
        Some((run, ident))
    }
}
