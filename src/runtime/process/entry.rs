//! The zygote's own `main`: `rundocs __zygote [SITE_PACKAGES]`.
//!
//! It initialises CPython plainly (none of thread mode's prelude: a child is
//! a whole process, so a run needs no routing and no guards), adds the
//! `_rundocs_sandbox` module that children call to enter their sandbox, and
//! hands control to `python/rundocs_zygote.py`, which serves the server's
//! requests until the server closes the control socket.
use std::ffi::CString;
use std::process::ExitCode;

use pyo3::prelude::*;
use pyo3::types::PyModule;

use crate::runtime::worker::evaluate;
use crate::sandbox::{self, SandboxSettings};

/// The zygote's Python modules, in the order they are loaded.
const MODULES: [(&std::ffi::CStr, &std::ffi::CStr, &str); 5] = [
    (
        c"_rundocs_tracebacks",
        c"rundocs_tracebacks.py",
        include_str!("../../../python/rundocs_tracebacks.py"),
    ),
    (
        c"_rundocs_venv",
        c"rundocs_venv.py",
        include_str!("../../../python/rundocs_venv.py"),
    ),
    (
        c"_rundocs_display",
        c"rundocs_display.py",
        include_str!("../../../python/rundocs_display.py"),
    ),
    (
        c"_rundocs_session",
        c"rundocs_session.py",
        include_str!("../../../python/rundocs_session.py"),
    ),
    (
        c"_rundocs_zygote",
        c"rundocs_zygote.py",
        include_str!("../../../python/rundocs_zygote.py"),
    ),
];

/// Enters the sandbox described by `settings` (JSON); returns what was
/// reached (JSON). Called by a freshly forked child.
#[pyfunction]
fn enter(settings: &str) -> PyResult<String> {
    let settings: SandboxSettings = serde_json::from_str(settings)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    let reached = sandbox::enter(&settings).map_err(pyo3::exceptions::PyOSError::new_err)?;
    Ok(serde_json::to_string(&reached).expect("Reached serialises"))
}

#[pymodule]
fn _rundocs_sandbox(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(enter, module)?)
}

/// Runs the zygote; returns when the server is gone. In a child the zygote
/// forked, runs its job and exits the process.
pub fn main(site_packages: Option<String>) -> ExitCode {
    pyo3::append_to_inittab!(_rundocs_sandbox);
    Python::initialize();
    let result = Python::attach(|py| -> PyResult<()> {
        let modules = py.import("sys")?.getattr("modules")?;
        let mut last = None;
        for (name, file_name, source) in MODULES {
            let code = CString::new(source)?;
            let module = PyModule::from_code(py, &code, file_name, name)?;
            modules.set_item(name.to_str().unwrap_or_default(), &module)?;
            last = Some(module);
        }
        let zygote = last.expect("the zygote module is the last");
        let executable = Some(super::super::interpreter::BUILD_PYTHON)
            .filter(|p| std::path::Path::new(p).is_file());
        let child = zygote
            .getattr("serve")?
            .call1((site_packages, executable))?;
        if child.is_none() {
            return Ok(());
        }
        let status = run_child(py, &child)?;
        // SAFETY: _exit ends the process at once, as a forked child must
        // (no destructors or atexit handlers of the zygote run twice).
        unsafe { libc::_exit(status) }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A SystemExit carries a sentence for the operator; say just that.
            let said = Python::attach(|py| {
                error
                    .is_instance_of::<pyo3::exceptions::PySystemExit>(py)
                    .then(|| error.value(py).to_string())
            });
            eprintln!(
                "rundocs zygote: {}",
                said.unwrap_or_else(|| error.to_string())
            );
            ExitCode::FAILURE
        }
    }
}

/// Runs a child's blocks at the bottom of the stack, as the interpreter
/// runs a script; returns the exit status.
fn run_child(py: Python<'_>, child: &Bound<'_, PyAny>) -> PyResult<i32> {
    let namespace = child.call_method0("prepare")?.unbind();
    let blocks: usize = child.getattr("block_count")?.extract()?;
    for index in 0..blocks {
        let evaluated = child
            .call_method1("compile", (index,))
            .and_then(|code| evaluate(py, &code.unbind(), &namespace));
        if let Err(error) = evaluated {
            let value = error.value(py);
            if let Some(traceback) = error.traceback(py) {
                value.setattr("__traceback__", traceback)?;
            }
            child.call_method1("failed", (value,))?;
            break;
        }
    }
    child.call_method0("finish")?.extract()
}
