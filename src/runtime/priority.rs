//! How worker threads compete with page requests for the CPU.
//!
//! The operator picks a [`WorkerPriority`] in the `run` config section; each
//! worker thread applies it to itself when it starts.
use serde::{Deserialize, Serialize};

/// Scheduling priority of the threads that execute examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerPriority {
    /// `SCHED_IDLE`: examples get only CPU time that requests leave over, so
    /// CPU-bound examples never slow pages down (under a CPU-saturating load
    /// they wait, and may time out).
    Idle,
    /// `nice 10`: requests are favoured, examples still get a share.
    Low,
    /// The same priority as the HTTP threads.
    Normal,
}
