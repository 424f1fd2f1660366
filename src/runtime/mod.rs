//! The embedded CPython interpreter.
//!
//! rundocs links the libpython of the interpreter it was built with (see
//! `build.rs`). This module reports which one was loaded; running snippets
//! builds on it.
use std::ffi::CStr;

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

/// The line `rundocs --version` prints.
pub fn version_line() -> String {
    let loaded = loaded_python_version();
    let loaded_short = loaded.split_whitespace().next().unwrap_or_default();
    let mut line = format!("{} (embedded Python {loaded})", env!("CARGO_PKG_VERSION"));
    if loaded_short != BUILD_PYTHON_VERSION {
        line.push_str(&format!(
            "\nwarning: built against Python {BUILD_PYTHON_VERSION} but loaded {loaded_short}; \
             the loader found another libpython (check LD_LIBRARY_PATH)"
        ));
    }
    line
}
