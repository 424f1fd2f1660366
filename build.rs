//! Links the binary against the libpython of the interpreter it was built with.
//!
//! pyo3 finds libpython through the build interpreter (`python3` on PATH, or
//! `PYO3_PYTHON`), but its rpath does not reach the final binary. Without an
//! rpath of our own the dynamic loader may pick another libpython with the same
//! soname (a distribution's build: a different patch release with a different
//! standard library). The build interpreter's full version is recorded so that
//! tests can check the binary loaded the right library, and its path becomes
//! the examples' `sys.executable`.
use std::process::Command;

fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
    let config = pyo3_build_config::get();
    let version = config
        .executable()
        .and_then(|python| {
            Command::new(python)
                .args(["-c", "import platform; print(platform.python_version())"])
                .output()
                .ok()
        })
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_else(|| config.version().to_string());
    println!("cargo:rustc-env=PYTHON_VERSION_AT_BUILD={version}");
    // Examples see it as sys.executable, so `subprocess.run([sys.executable, ...])`
    // starts the same Python rather than the server's own binary.
    let executable = config.executable().unwrap_or_default();
    println!("cargo:rustc-env=PYTHON_EXECUTABLE_AT_BUILD={executable}");
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
}
