//! `OutputSink`: where a run's `sys.stdout`/`sys.stderr` writes land.
//!
//! The prelude's routing stream calls `sink.write(kind, text)` on the thread
//! that wrote, attached to the interpreter. The sink counts bytes against the
//! run's output cap and hands the text to the run's event queue at once, so
//! `print(..., end="")` progress shows without waiting for a newline. Past
//! the cap the run gets a visible marker, is marked to stop, and the writing
//! thread gets `RunInterrupted`.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::Sender;
use pyo3::prelude::*;

use super::canceller::CancelCommand;
use super::events::OutputStream;
use super::memory::{self, MemoryBudget};
use super::run_state::{Phase, RunState, StopReason};

#[pyclass(frozen, module = "_rundocs")]
pub struct OutputSink {
    state: Arc<RunState>,
    canceller: Sender<CancelCommand>,
    interrupted: Py<PyAny>,
    cap_bytes: usize,
    written: AtomicUsize,
    memory: Option<Arc<MemoryBudget>>,
}

impl OutputSink {
    pub fn new(
        state: Arc<RunState>,
        canceller: Sender<CancelCommand>,
        interrupted: Py<PyAny>,
        cap_bytes: usize,
        memory: Option<Arc<MemoryBudget>>,
    ) -> OutputSink {
        OutputSink {
            state,
            canceller,
            interrupted,
            cap_bytes,
            written: AtomicUsize::new(0),
            memory,
        }
    }
}

/// The line shown where output was cut.
pub fn limit_marker(cap_bytes: usize) -> String {
    format!(
        "\n[rundocs: output stopped at the limit of {}; the run was ended]\n",
        human_bytes(cap_bytes)
    )
}

/// `bytes` in the largest binary unit that divides it: `1 MiB`, `512 KiB`.
pub fn human_bytes(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[pymethods]
impl OutputSink {
    /// Counts the calling thread's allocations against the run's memory
    /// budget (`on`), or stops counting them. The prelude calls it around
    /// the body of every thread the run starts.
    fn count_memory(&self, on: bool) {
        let budget = self.memory.as_deref().filter(|_| on);
        // SAFETY: the budget lives as long as this sink, and the thread
        // (which holds the sink through its run) stops counting before it
        // lets go of it.
        unsafe { memory::set_thread_budget(budget) };
    }

    /// Called by the routing stream; `kind` is `"stdout"` or `"stderr"`.
    fn write(&self, py: Python<'_>, kind: &str, text: &str) -> PyResult<()> {
        if self.state.phase() == Phase::Ended {
            // A thread the run left behind: the run is over, its output goes nowhere.
            return Ok(());
        }
        let stream = if kind == "stderr" {
            OutputStream::Stderr
        } else {
            OutputStream::Stdout
        };
        let before = self.written.fetch_add(text.len(), Ordering::Relaxed);
        if before + text.len() <= self.cap_bytes {
            self.state.push_output(stream, text);
            return Ok(());
        }
        if before < self.cap_bytes {
            let mut allowed = self.cap_bytes - before;
            while !text.is_char_boundary(allowed) {
                allowed -= 1;
            }
            self.state.push_output(stream, &text[..allowed]);
            self.state
                .push_output(stream, &limit_marker(self.cap_bytes));
        }
        if self.state.request_stop(StopReason::OutputLimit) {
            let _ = self.canceller.send(CancelCommand::Stop(self.state.clone()));
        }
        Err(PyErr::from_value(self.interrupted.bind(py).call0()?))
    }
}
