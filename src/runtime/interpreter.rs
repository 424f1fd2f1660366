//! Starting the interpreter, in named phases, and the handles into the
//! Python side of the runtime (`python/rundocs_prelude.py`).
//!
//! `Python::initialize` runs on the thread that starts the server, before
//! the HTTP server exists, and leaves that thread without the GIL (it calls
//! `PyEval_SaveThread`). The check phase proves it: if the starting thread
//! still held the GIL, every worker would wait for it forever, which is the
//! classic deadlock of an embedding server that enters its run loop holding it.
use std::ffi::CString;
use std::path::Path;
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::types::PyModule;

use super::memory;

/// The prelude's source, embedded in the binary.
const PRELUDE_SOURCE: &str = include_str!("../../python/rundocs_prelude.py");
/// The guards' source: a module of its own, also run in sub-interpreters.
const GUARDS_SOURCE: &str = include_str!("../../python/rundocs_guards.py");

/// A start-up phase, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Initialize,
    CheckGilReleased,
    InstallPrelude,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Initialize => "initialize the interpreter",
            Phase::CheckGilReleased => "check that start-up released the GIL",
            Phase::InstallPrelude => "install the runtime's Python prelude",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot {phase}: {message}")]
pub struct StartError {
    pub phase: Phase,
    pub message: String,
}

/// Python objects the runtime calls, looked up once.
pub struct Prelude {
    pub enter: Py<PyAny>,
    pub leave: Py<PyAny>,
    pub join_threads: Py<PyAny>,
    pub new_namespace: Py<PyAny>,
    pub compile_block: Py<PyAny>,
    pub describe_error: Py<PyAny>,
    pub exit_code: Py<PyAny>,
    pub alive_thread_idents: Py<PyAny>,
    pub track_left_running: Py<PyAny>,
    pub left_running_idents: Py<PyAny>,
    pub receive_interrupt: Py<PyAny>,
    pub restore_streams: Py<PyAny>,
    pub run_interrupted: Py<PyAny>,
    pub exec: Py<PyAny>,
    pub get_ident: Py<PyAny>,
    pub stdout: Py<PyAny>,
    pub stderr: Py<PyAny>,
}

impl Prelude {
    /// Raises `RunInterrupted` in each thread of `idents` the next time it
    /// runs Python code.
    pub fn interrupt_threads(&self, _py: Python<'_>, idents: impl IntoIterator<Item = u64>) {
        let exception = self.run_interrupted.as_ptr();
        for ident in idents {
            // SAFETY: attached (the token proves it); the exception type lives
            // as long as the prelude.
            unsafe {
                pyo3::ffi::PyThreadState_SetAsyncExc(ident as std::os::raw::c_long, exception)
            };
        }
    }
}

/// Thread idents from a prelude function returning a list of them (none if
/// the call failed).
pub fn idents(py: Python<'_>, result: PyResult<Py<PyAny>>) -> Vec<u64> {
    result
        .and_then(|list| list.extract::<Vec<u64>>(py))
        .unwrap_or_default()
}

static PRELUDE: OnceLock<Prelude> = OnceLock::new();

/// Starts the interpreter once per process and returns the prelude. With
/// `count_memory`, Python's allocators are wrapped first, so runs can have a
/// memory limit; `site_packages` (a virtualenv's) is added to `sys.path`
/// before the prelude records it. The first start in a process decides both.
pub fn start(
    count_memory: bool,
    site_packages: Option<&Path>,
) -> Result<&'static Prelude, StartError> {
    if let Some(prelude) = PRELUDE.get() {
        return Ok(prelude);
    }
    match memory::disabled_by_environment() {
        _ if !count_memory => {}
        None => memory::install_raw(),
        Some(variable) => tracing::warn!(
            "{variable} is set: the interpreter picks its own allocator, so the per-run memory limit is off"
        ),
    }
    Python::initialize();
    // SAFETY: PyGILState_Check only reads the calling thread's state.
    if unsafe { pyo3::ffi::PyGILState_Check() } != 0 {
        return Err(StartError {
            phase: Phase::CheckGilReleased,
            message: "the starting thread still holds the GIL; workers would wait for it forever"
                .into(),
        });
    }
    let prelude = Python::attach(|py| {
        if memory::is_installed() {
            memory::install_arena();
        }
        if let Some(dir) = site_packages {
            add_site_dir(py, dir)?;
        }
        install_prelude(py)
    })
    .map_err(|message| StartError {
        phase: Phase::InstallPrelude,
        message,
    })?;
    Ok(PRELUDE.get_or_init(|| prelude))
}

/// `site.addsitedir(dir)`: the folder and its `.pth` files join `sys.path`.
fn add_site_dir(py: Python<'_>, dir: &Path) -> Result<(), String> {
    py.import("site")
        .and_then(|site| site.call_method1("addsitedir", (dir,)))
        .map(drop)
        .map_err(|e| format!("cannot add {} to sys.path: {e}", dir.display()))
}

fn install_prelude(py: Python<'_>) -> Result<Prelude, String> {
    let describe = |e: PyErr| e.to_string();
    let modules = py
        .import("sys")
        .and_then(|sys| sys.getattr("modules"))
        .map_err(describe)?;
    let source = CString::new(GUARDS_SOURCE).map_err(|e| e.to_string())?;
    let guards = PyModule::from_code(py, &source, c"rundocs_guards.py", c"_rundocs_guards")
        .map_err(describe)?;
    guards.setattr("SOURCE", GUARDS_SOURCE).map_err(describe)?;
    modules
        .set_item("_rundocs_guards", &guards)
        .map_err(describe)?;
    let source = CString::new(PRELUDE_SOURCE).map_err(|e| e.to_string())?;
    let module =
        PyModule::from_code(py, &source, c"rundocs_prelude.py", c"_rundocs").map_err(describe)?;
    modules.set_item("_rundocs", &module).map_err(describe)?;
    module
        .getattr("install")
        .and_then(|f| f.call0())
        .map_err(describe)?;
    let get = |name: &str| -> Result<Py<PyAny>, String> {
        Ok(module.getattr(name).map_err(describe)?.unbind())
    };
    let sys = py.import("sys").map_err(describe)?;
    Ok(Prelude {
        enter: get("enter")?,
        leave: get("leave")?,
        join_threads: get("join_threads")?,
        new_namespace: get("new_namespace")?,
        compile_block: get("compile_block")?,
        describe_error: get("describe_error")?,
        exit_code: get("exit_code")?,
        alive_thread_idents: get("alive_thread_idents")?,
        track_left_running: get("track_left_running")?,
        left_running_idents: get("left_running_idents")?,
        receive_interrupt: get("receive_interrupt")?,
        restore_streams: get("restore_streams")?,
        run_interrupted: get("RunInterrupted")?,
        exec: py
            .import("builtins")
            .and_then(|b| b.getattr("exec"))
            .map_err(describe)?
            .unbind(),
        get_ident: py
            .import("_thread")
            .and_then(|t| t.getattr("get_ident"))
            .map_err(describe)?
            .unbind(),
        stdout: sys.getattr("stdout").map_err(describe)?.unbind(),
        stderr: sys.getattr("stderr").map_err(describe)?.unbind(),
    })
}
