//! Starting the interpreter, in named phases, and the handles into the
//! Python side of the runtime (`python/rundocs_prelude.py`).
//!
//! `Python::initialize` runs on the thread that starts the server, before
//! the HTTP server exists, and leaves that thread without the GIL (it calls
//! `PyEval_SaveThread`). The check phase proves it: if the starting thread
//! still held the GIL, every worker would wait for it forever, which is the
//! classic deadlock of an embedding server that enters its run loop holding it.
use std::ffi::{CStr, CString};
use std::path::Path;
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::types::PyModule;

use super::memory;

/// The runtime's Python modules, embedded in the binary, in the order they
/// are installed: (module name, file name, source). The guards' source is
/// also run in every sub-interpreter an example makes.
const MODULES: [(&CStr, &CStr, &str); 9] = [
    (
        c"_rundocs_tracebacks",
        c"rundocs_tracebacks.py",
        include_str!("../../python/rundocs_tracebacks.py"),
    ),
    (
        c"_rundocs_venv",
        c"rundocs_venv.py",
        include_str!("../../python/rundocs_venv.py"),
    ),
    (
        c"_rundocs_display",
        c"rundocs_display.py",
        include_str!("../../python/rundocs_display.py"),
    ),
    (
        c"_rundocs_session",
        c"rundocs_session.py",
        include_str!("../../python/rundocs_session.py"),
    ),
    (
        c"_rundocs_guards",
        c"rundocs_guards.py",
        include_str!("../../python/rundocs_guards.py"),
    ),
    (
        c"_rundocs_streams",
        c"rundocs_streams.py",
        include_str!("../../python/rundocs_streams.py"),
    ),
    (
        c"_rundocs_state",
        c"rundocs_state.py",
        include_str!("../../python/rundocs_state.py"),
    ),
    (
        c"_rundocs_main",
        c"rundocs_main.py",
        include_str!("../../python/rundocs_main.py"),
    ),
    (
        c"_rundocs",
        c"rundocs_prelude.py",
        include_str!("../../python/rundocs_prelude.py"),
    ),
];

/// The interpreter this binary was built with: examples' `sys.executable`.
pub const BUILD_PYTHON: &str = env!("PYTHON_EXECUTABLE_AT_BUILD");

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
    pub finish: Py<PyAny>,
    pub new_namespace: Py<PyAny>,
    pub compile_block: Py<PyAny>,
    pub describe_error: Py<PyAny>,
    pub run_excepthook: Py<PyAny>,
    pub exit_code: Py<PyAny>,
    pub prepare_stop: Py<PyAny>,
    pub track_left_running: Py<PyAny>,
    pub left_running_idents: Py<PyAny>,
    pub receive_interrupt: Py<PyAny>,
    pub restore_streams: Py<PyAny>,
    pub run_interrupted: Py<PyAny>,
    pub get_ident: Py<PyAny>,
    pub stdout: Py<PyAny>,
    pub stderr: Py<PyAny>,
    /// The folder of the examples' script files (`__file__`), removed when
    /// the runtime stops.
    pub examples_dir: std::path::PathBuf,
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
/// memory limit; with `site_packages` (a virtualenv's), examples see the
/// interpreter as that virtualenv's. The first start in a process decides both.
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
        install_prelude(py, site_packages)
    })
    .map_err(|message| StartError {
        phase: Phase::InstallPrelude,
        message,
    })?;
    Ok(PRELUDE.get_or_init(|| prelude))
}

/// The streams the prelude's `install` puts in `sys`.
#[derive(FromPyObject)]
struct RoutingStreams {
    stdout: Py<PyAny>,
    stderr: Py<PyAny>,
}

fn install_prelude(py: Python<'_>, site_packages: Option<&Path>) -> Result<Prelude, String> {
    let describe = |e: PyErr| e.to_string();
    let modules = py
        .import("sys")
        .and_then(|sys| sys.getattr("modules"))
        .map_err(describe)?;
    let mut module = None;
    for (name, file_name, source) in MODULES {
        let code = CString::new(source).map_err(|e| e.to_string())?;
        let installed = PyModule::from_code(py, &code, file_name, name).map_err(describe)?;
        if name == c"_rundocs_guards" {
            installed.setattr("SOURCE", source).map_err(describe)?;
        }
        modules
            .set_item(name.to_str().unwrap_or_default(), &installed)
            .map_err(describe)?;
        module = Some(installed);
    }
    let module = module.expect("the prelude is the last module");
    let executable = Some(BUILD_PYTHON).filter(|p| Path::new(p).is_file());
    let RoutingStreams { stdout, stderr } = module
        .getattr("install")
        .and_then(|f| f.call1((site_packages, executable)))
        .and_then(|streams| streams.extract())
        .map_err(describe)?;
    let get = |name: &str| -> Result<Py<PyAny>, String> {
        Ok(module.getattr(name).map_err(describe)?.unbind())
    };
    Ok(Prelude {
        enter: get("enter")?,
        leave: get("leave")?,
        finish: get("finish")?,
        new_namespace: get("new_namespace")?,
        compile_block: get("compile_block")?,
        describe_error: get("describe_error")?,
        run_excepthook: get("run_excepthook")?,
        exit_code: get("exit_code")?,
        prepare_stop: get("prepare_stop")?,
        track_left_running: get("track_left_running")?,
        left_running_idents: get("left_running_idents")?,
        receive_interrupt: get("receive_interrupt")?,
        restore_streams: get("restore_streams")?,
        run_interrupted: get("RunInterrupted")?,
        get_ident: py
            .import("_thread")
            .and_then(|t| t.getattr("get_ident"))
            .map_err(describe)?
            .unbind(),
        stdout,
        stderr,
        examples_dir: module
            .getattr("EXAMPLES_DIR")
            .and_then(|d| d.extract::<std::path::PathBuf>())
            .map_err(describe)?,
    })
}
