//! The `rundocs` binary itself: version, configuration errors, serving.
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::helpers::fixture;

const BINARY: &str = env!("CARGO_BIN_EXE_rundocs");

/// Runs the binary to completion; one that is still running after 20 s
/// (it started serving when it should have refused) is killed.
fn rundocs(args: &[&str], dir: &std::path::Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("rundocs runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn version_names_the_embedded_python_it_was_built_with() {
    let dir = tempfile::tempdir().unwrap();
    let output = rundocs(&["--version"], dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", stderr(&output));
    let expected = format!(
        "rundocs {} (embedded Python {} ",
        env!("CARGO_PKG_VERSION"),
        rundocs::runtime::BUILD_PYTHON_VERSION
    );
    assert!(stdout.starts_with(&expected), "{stdout}");
    assert!(!stdout.contains("warning"), "{stdout}");
}

/// A libpython3.11 other than the build's, where Debian installs its own.
const OTHER_LIBPYTHON_DIR: &str = "/usr/lib/x86_64-linux-gnu";

#[test]
fn version_fails_when_the_loader_finds_another_libpython() {
    if !std::path::Path::new(OTHER_LIBPYTHON_DIR)
        .join("libpython3.11.so.1.0")
        .is_file()
    {
        eprintln!("SKIPPED: no libpython3.11.so.1.0 in {OTHER_LIBPYTHON_DIR} to load instead");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = rundocs(
        &["--version"],
        dir.path(),
        &[("LD_LIBRARY_PATH", OTHER_LIBPYTHON_DIR)],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let built = rundocs::runtime::BUILD_PYTHON_VERSION;
    if stdout.contains(&format!("(embedded Python {built} ")) {
        eprintln!(
            "SKIPPED: with {OTHER_LIBPYTHON_DIR} first, the loader still found Python {built}, the build's own version"
        );
        return;
    }
    assert!(
        stdout.contains(&format!(
            "warning: built against Python {built} but loaded "
        )),
        "{stdout}{}",
        stderr(&output)
    );
    assert!(!output.status.success(), "{stdout}");
}

#[test]
fn bad_values_name_the_key_and_what_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let site = fixture("site");
    let site = site.to_str().unwrap();
    for (args, env, needles) in [
        (
            vec!["--bind", "localhost"],
            vec![],
            vec!["`bind`", "IP:PORT"],
        ),
        (
            vec!["--content", "/no/such/dir"],
            vec![],
            vec!["`content`", "/no/such/dir"],
        ),
        (vec!["--watch"], vec![], vec!["`watch`", "--content"]),
        (
            vec!["--content", site],
            vec![("RUNDOCS_BIND", "nope")],
            vec!["`bind`", "nope"],
        ),
        (
            vec!["--content", site],
            vec![("RUNDOCS_RUN__TIMEOUT_S", "0")],
            vec!["run.timeout_s"],
        ),
        (
            vec!["--content", site],
            vec![("RUNDOCS_LOG", "=")],
            vec!["`log`"],
        ),
        (
            vec!["--content", site],
            vec![("RUNDOCS_EDIT_URL_TEMPLATE", "https://example.com/edit")],
            vec!["`edit_url_template`", "{path}"],
        ),
        (
            vec!["--content", site],
            vec![("RUNDOCS_RUN__MEMORY_LIMIT_BYTES", "1000")],
            vec!["run.memory_limit_bytes", "16 MiB"],
        ),
        (
            vec!["--config", "missing.toml"],
            vec![],
            vec!["missing.toml", "does not exist"],
        ),
        (
            vec!["--content", site, "--base-path", "/docs/../x"],
            vec![],
            vec!["`base_path`", "/docs"],
        ),
        (
            vec!["--content", site],
            vec![("RUNDOCS_ACCESS__READ", "restricted")],
            vec!["access.users", "access.proxy_user_header"],
        ),
        (
            vec!["--content", site],
            vec![("RUNDOCS_ACCESS__USERS__ALICE", "hunter2")],
            vec!["access.users.alice", "rundocs hash-password"],
        ),
    ] {
        let output = rundocs(&args, dir.path(), &env);
        assert!(!output.status.success(), "{args:?} {env:?} should fail");
        let message = stderr(&output);
        for needle in needles {
            assert!(message.contains(needle), "{args:?} {env:?}: {message}");
        }
    }
}

#[test]
fn config_file_mistakes_are_reported_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rundocs.toml"), "contnet = \"docs\"\n").unwrap();
    let message = stderr(&rundocs(&[], dir.path(), &[]));
    assert!(message.contains("contnet"), "{message}");
    assert!(
        message.contains("content"),
        "the accepted keys are listed: {message}"
    );

    std::fs::write(
        dir.path().join("rundocs.toml"),
        "[run]\ntimeout_s = \"soon\"\n",
    )
    .unwrap();
    let message = stderr(&rundocs(&[], dir.path(), &[]));
    assert!(message.contains("timeout_s"), "{message}");
    assert!(message.contains("rundocs.toml"), "{message}");
}

#[test]
fn hash_password_prints_an_argon2_hash_the_config_accepts() {
    let mut child = Command::new(BINARY)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).unwrap();
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("s3cret"));
    let access = toml::from_str::<rundocs::config::RawAccessConfig>(&format!(
        "run = \"restricted\"\nusers = {{ alice = '{hash}' }}"
    ))
    .unwrap()
    .validate()
    .unwrap();
    let gate = rundocs::access::Gate::new(access);
    let mut headers = actix_web::http::header::HeaderMap::new();
    headers.insert(
        actix_web::http::header::AUTHORIZATION,
        "Basic YWxpY2U6czNjcmV0".parse().unwrap(), // alice:s3cret
    );
    assert_eq!(
        gate.identify(&headers, None),
        Ok(rundocs::access::Identity::Known("alice".into()))
    );
}

/// Starts the binary on a free port and returns it with its address.
async fn serve(args: &[&str], dir: &std::path::Path) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(BINARY)
        .args(args)
        .args(["--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server starts")
        .unwrap()
        .unwrap();
    let addr = line.rsplit("http://").next().unwrap().trim().to_string();
    (child, format!("http://{addr}"))
}

#[tokio::test]
async fn config_file_is_read_relative_to_itself_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/one.md"), "# One\n").unwrap();
    std::fs::write(
        dir.path().join("rundocs.toml"),
        "content = \"docs\"\ntitle = \"Team wiki\"\nbind = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let (_child, base) = serve(&[], dir.path()).await;
    let html = reqwest::get(format!("{base}/one"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<title>One · Team wiki</title>"), "{html}");
}

#[tokio::test]
async fn the_binary_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let site = fixture("site");
    let (mut child, base) =
        serve(&["serve", "--content", site.to_str().unwrap()], dir.path()).await;
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let pid = child.id().unwrap().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the server exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// Starts the `run` fixture, starts each named run and waits for its first
/// line, sends `signal`, and checks that every client gets a `cancelled` end
/// event and the process exits, all within 5 s.
async fn stop_with_runs_in_progress(signal: &str, runs: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let site = fixture("run");
    let (mut child, base) = serve(&["--content", site.to_str().unwrap()], dir.path()).await;
    let client = reqwest::Client::new();
    let snippets: serde_json::Value = client
        .get(format!("{base}/api/snippets?page=basics"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut streams = Vec::new();
    for (name, first_line) in runs {
        let id = snippets
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == *name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut stream = client
            .post(format!("{base}/api/run/{id}"))
            .send()
            .await
            .unwrap();
        let mut seen = String::new();
        while !seen.contains(first_line) {
            seen.push_str(&String::from_utf8_lossy(
                &stream.chunk().await.unwrap().unwrap(),
            ));
        }
        streams.push((name, stream, seen));
    }
    let pid = child.id().unwrap().to_string();
    let started = std::time::Instant::now();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    for (name, mut stream, mut seen) in streams {
        while let Ok(Some(chunk)) = stream.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(seen.contains("event: end"), "{name}: {seen}");
        assert!(seen.contains("\"status\":\"cancelled\""), "{name}: {seen}");
        assert!(seen.contains("shutting down"), "{name}: {seen}");
    }
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("the server exits within 5 s of the signal")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sigterm_ends_running_examples_with_an_end_event_and_exits() {
    stop_with_runs_in_progress("-TERM", &[("sleeps", "going to sleep")]).await;
}

#[tokio::test]
async fn sigint_ends_stuck_examples_too_and_exits_within_5_s() {
    stop_with_runs_in_progress(
        "-INT",
        &[("stubborn", "holding on"), ("holds-gil", "crunching")],
    )
    .await;
}

#[tokio::test]
async fn init_makes_a_site_that_serves_runs_and_checks_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("docs");
    let init = Command::new(BINARY)
        .args(["init", site.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let check = Command::new(BINARY)
        .args(["check", "--content", site.to_str().unwrap()])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.ends_with("4 passed, 0 failed\n"), "{report}");

    let (_child, base) = serve(&["serve", "--content", site.to_str().unwrap()], dir.path()).await;
    let page = reqwest::get(format!("{base}/first-example"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-snippet-id"), "{page}");
    let snippets: serde_json::Value =
        reqwest::get(format!("{base}/api/snippets?page=first-example"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let first = snippets[0]["id"].as_str().unwrap();
    let stream = reqwest::Client::new()
        .post(format!("{base}/api/run/{first}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        stream.contains("9 words, the longest is 'quick'"),
        "{stream}"
    );
    assert!(stream.contains("\"status\":\"ok\""), "{stream}");

    let again = Command::new(BINARY)
        .args(["init", site.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn a_virtualenvs_packages_import_in_examples() {
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let made = Command::new(build_python())
        .args(["-m", "venv", "--without-pip", venv.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());
    let site_packages = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages");
    std::fs::write(
        site_packages.join("venv_probe.py"),
        "GREETING = 'hello from the venv'\n",
    )
    .unwrap();
    let content = dir.path().join("docs");
    std::fs::create_dir(&content).unwrap();
    std::fs::write(
        content.join("index.md"),
        "# Venv\n\n```python\nimport venv_probe\nprint(venv_probe.GREETING)\n```\n\n\
         ```output\nhello from the venv\n```\n\n\
         ```python expect=error\nimport not_installed_anywhere\n```\n",
    )
    .unwrap();
    let check = |env: &[(&str, &std::path::Path)]| {
        let mut command = Command::new(BINARY);
        command
            .args(["check", "--content", content.to_str().unwrap()])
            .env_remove("VIRTUAL_ENV");
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    };
    let (ok, text) = check(&[("RUNDOCS_PYTHON__VENV", &venv)]);
    assert!(ok, "{text}");
    assert!(text.contains("2 passed, 0 failed"), "{text}");
    let (ok, text) = check(&[("VIRTUAL_ENV", &venv)]);
    assert!(ok, "VIRTUAL_ENV works too: {text}");
    let (ok, text) = check(&[]);
    assert!(!ok, "without the venv the import fails: {text}");
    assert!(text.contains("ModuleNotFoundError"), "{text}");
    let (ok, text) = check(&[("RUNDOCS_PYTHON__VENV", &content)]);
    assert!(!ok);
    assert!(
        text.contains("`python.venv`") && text.contains("not a virtualenv"),
        "{text}"
    );
}

/// The interpreter the binary was built with (`PYO3_PYTHON`, else `python3`).
fn build_python() -> String {
    std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// A package in the base interpreter's own site-packages, if it has one.
fn a_base_site_package() -> Option<String> {
    let output = Command::new(build_python())
        .args(["-c", "import site; print(site.getsitepackages()[0])"])
        .output()
        .ok()?;
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.join("__init__.py").is_file())
        .and_then(|p| p.file_name()?.to_str().map(str::to_string))
}

#[test]
fn a_virtualenv_is_isolated_as_a_real_one() {
    let Some(base_package) = a_base_site_package() else {
        println!("SKIPPED: the base interpreter has no package in its site-packages to hide");
        return;
    };
    for include_system in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("venv");
        let mut make = Command::new(build_python());
        make.args(["-m", "venv", "--without-pip"]);
        if include_system {
            make.arg("--system-site-packages");
        }
        assert!(make.arg(&venv).status().unwrap().success());
        let venv = venv.canonicalize().unwrap();
        let venv_text = venv.to_str().unwrap();
        let content = dir.path().join("docs");
        std::fs::create_dir(&content).unwrap();
        std::fs::write(
            content.join("index.md"),
            format!(
                "# Venv\n\n```python\nimport importlib.util, os, sys\n\
                 print(os.path.realpath(sys.prefix) == {venv_text:?})\n\
                 print(sys.executable.startswith({venv_text:?}))\n\
                 print(importlib.util.find_spec({base_package:?}) is not None)\n```\n\n\
                 ```output\nTrue\nTrue\n{include_system}\n```\n",
                include_system = if include_system { "True" } else { "False" },
            ),
        )
        .unwrap();
        let output = Command::new(BINARY)
            .args(["check", "--content", content.to_str().unwrap()])
            .env_remove("VIRTUAL_ENV")
            .env("RUNDOCS_PYTHON__VENV", &venv)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "include-system-site-packages = {include_system}, {base_package}: {text}"
        );
    }
}

#[tokio::test]
async fn sighup_stops_gracefully_too() {
    stop_with_runs_in_progress("-HUP", &[("sleeps", "going to sleep")]).await;
}
