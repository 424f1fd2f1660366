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
use super::display::{self, Refused};
use super::events::{OutputStream, RunEvent};
use super::memory::{self, MemoryBudget};
use super::run_state::{Phase, RunState, StopReason};

#[pyclass(frozen, module = "_rundocs")]
pub struct OutputSink {
    state: Arc<RunState>,
    canceller: Sender<CancelCommand>,
    interrupted: Py<PyAny>,
    caps: OutputCaps,
    written: AtomicUsize,
    memory: Option<Arc<MemoryBudget>>,
}

impl OutputSink {
    pub fn new(
        state: Arc<RunState>,
        canceller: Sender<CancelCommand>,
        interrupted: Py<PyAny>,
        caps: OutputCaps,
        memory: Option<Arc<MemoryBudget>>,
    ) -> OutputSink {
        OutputSink {
            state,
            canceller,
            interrupted,
            caps,
            written: AtomicUsize::new(0),
            memory,
        }
    }
}

/// How much a run may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputCaps {
    /// All its output: text and displays.
    pub total_bytes: usize,
    /// One display.
    pub display_bytes: usize,
}

/// Charges `text` of `stream` to `written` (the run's bytes so far) and
/// pushes it. Returns false when it took the run over its cap: what fitted
/// and the marker are pushed (once); the caller stops the run.
pub fn push_text(
    stream: OutputStream,
    text: &str,
    cap_bytes: usize,
    written: &AtomicUsize,
    state: &RunState,
) -> bool {
    let before = written.fetch_add(text.len(), Ordering::Relaxed);
    if before + text.len() <= cap_bytes {
        state.push_output(stream, text);
        return true;
    }
    if before < cap_bytes {
        let mut allowed = cap_bytes - before;
        while !text.is_char_boundary(allowed) {
            allowed -= 1;
        }
        state.push_output(stream, &text[..allowed]);
        state.push_output(stream, &limit_marker(cap_bytes));
    }
    false
}

/// Cleans the display in `json`, charges it to `written` (the run's bytes
/// so far) and pushes it, or a line saying why it was left out. Returns
/// false when it took the run over its cap (the marker is pushed; the caller
/// stops the run).
pub fn push_display(json: &str, caps: OutputCaps, written: &AtomicUsize, state: &RunState) -> bool {
    match display::clean(json, caps.display_bytes) {
        Ok(shown) => {
            let size = shown.size();
            let before = written.fetch_add(size, Ordering::Relaxed);
            if before + size <= caps.total_bytes {
                state.push(RunEvent::Display(shown));
                return true;
            }
            if before < caps.total_bytes {
                state.push_output(OutputStream::Stdout, &limit_marker(caps.total_bytes));
            }
            false
        }
        Err(refused) => {
            state.push_output(OutputStream::Stderr, &left_out_marker(&refused));
            true
        }
    }
}

/// The line shown where a display was left out.
pub fn left_out_marker(refused: &Refused) -> String {
    match refused {
        Refused::TooLarge { bytes, limit } => format!(
            "[rundocs: a display of {} was left out: over the limit of {} for one item]\n",
            human_size(*bytes),
            human_bytes(*limit)
        ),
        Refused::NotABundle(_) => format!("[rundocs: {refused}]\n"),
    }
}

/// `3.2 MiB`, `12 KiB`: a size for people.
fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1 << 10))
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

    /// Called by `display()` of a run's thread with a MIME bundle as JSON.
    fn display(&self, py: Python<'_>, bundle: &str) -> PyResult<()> {
        if self.state.phase() == Phase::Ended {
            return Ok(());
        }
        // Cleaning HTML or checking an image takes a while: not with the GIL.
        let within = py.detach(|| push_display(bundle, self.caps, &self.written, &self.state));
        if within {
            return Ok(());
        }
        if self.state.request_stop(StopReason::OutputLimit) {
            let _ = self.canceller.send(CancelCommand::Stop(self.state.clone()));
        }
        Err(PyErr::from_value(self.interrupted.bind(py).call0()?))
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
        if push_text(
            stream,
            text,
            self.caps.total_bytes,
            &self.written,
            &self.state,
        ) {
            return Ok(());
        }
        if self.state.request_stop(StopReason::OutputLimit) {
            let _ = self.canceller.send(CancelCommand::Stop(self.state.clone()));
        }
        Err(PyErr::from_value(self.interrupted.bind(py).call0()?))
    }
}
