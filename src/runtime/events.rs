//! What a run reports, in the order it happens: [`RunEvent`]s, ending with
//! exactly one [`RunEnd`]. The shapes here are the run stream's JSON.
use serde::{Deserialize, Serialize};

/// The two output streams of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputStream {
    Stdout,
    Stderr,
}

impl OutputStream {
    pub fn name(self) -> &'static str {
        match self {
            OutputStream::Stdout => "stdout",
            OutputStream::Stderr => "stderr",
        }
    }
}

/// How a run ended. Every run ends in exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndStatus {
    /// The code ran to the end.
    Ok,
    /// An exception escaped the code.
    Error,
    /// The code raised `SystemExit`.
    Exit,
    /// The run hit its time limit and was interrupted.
    Timeout,
    /// The client went away or asked to stop.
    Cancelled,
    /// The run wrote more than the output cap and was stopped.
    OutputLimit,
    /// The runtime refused the run (it is shutting down).
    Rejected,
    /// Process mode: the run's process died from a signal (a native crash,
    /// a resource limit).
    Crashed,
}

impl EndStatus {
    pub const ALL: [EndStatus; 8] = [
        EndStatus::Ok,
        EndStatus::Error,
        EndStatus::Exit,
        EndStatus::Timeout,
        EndStatus::Cancelled,
        EndStatus::OutputLimit,
        EndStatus::Rejected,
        EndStatus::Crashed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EndStatus::Ok => "ok",
            EndStatus::Error => "error",
            EndStatus::Exit => "exit",
            EndStatus::Timeout => "timeout",
            EndStatus::Cancelled => "cancelled",
            EndStatus::OutputLimit => "output_limit",
            EndStatus::Rejected => "rejected",
            EndStatus::Crashed => "crashed",
        }
    }
}

/// The exception that ended a run with `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunError {
    /// Exception class name, e.g. `ZeroDivisionError`.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    /// The formatted traceback, with the snippet's own file name and lines.
    pub traceback: String,
    /// 1-based line in the block where it was raised, as the reader sees it.
    pub line: Option<u32>,
    /// The block that line belongs to (a `requires=` block, or the run's own).
    pub snippet_id: Option<String>,
}

/// The last event of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEnd {
    pub status: EndStatus,
    pub duration_ms: f64,
    pub gil_wait_ms: f64,
    pub error: Option<RunError>,
    /// The `SystemExit` code, for `exit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// A sentence for the reader on `timeout`, `cancelled`, `output_limit`, `rejected` and `crashed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl RunEnd {
    /// A run that never started, with why for the reader.
    pub fn rejected(message: String) -> RunEnd {
        RunEnd {
            status: EndStatus::Rejected,
            duration_ms: 0.0,
            gil_wait_ms: 0.0,
            error: None,
            exit_code: None,
            message: Some(message),
        }
    }
}

/// Everything a run reports.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// A worker took the run from the queue.
    Start {
        run_id: String,
        queued_ms: f64,
    },
    /// Text written by the snippet (consecutive writes to one stream merge).
    Output {
        stream: OutputStream,
        text: String,
    },
    /// Rich output: a figure, a table, HTML (cleaned), with its text form.
    Display(super::display::Display),
    End(RunEnd),
}
