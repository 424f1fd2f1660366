//! The escape suite: code a reader edited (`POST /api/run`) runs in a
//! sandboxed child process, and nothing it tries reaches the network, the
//! host's files, the server, other processes or the next run.
//!
//! Each test starts the `rundocs` binary as a process of its own, with a
//! config file that holds a secret, a secret in its environment and another
//! in its command line, so that the code has a real server to go after: its
//! pid, its port, its files. The code is Python sent over HTTP; the tests
//! check what a reader or the operator would notice (the run's output and end
//! state, the server answering, files on disk, connections reaching a socket
//! the test listens on, processes left behind).
//!
//! Probes print one line each, `NAME: refused ERRNO` or `NAME: ALLOWED ...`,
//! so a failure names what got through. Where plain `python3` on the host
//! can do what a probe tries, the same probe is run there first, to show the
//! probe itself works (so that "refused" in the sandbox means something).
//!
//! A test that needs a kernel feature this machine lacks prints `SKIPPED:`
//! with what is missing, and returns.
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::helpers::eventually;
use super::run::{end, output, read_events, read_run, Event};

const BINARY: &str = env!("CARGO_BIN_EXE_rundocs");

/// Prints one line per probe; only `OSError` counts as refused, so a
/// mistake in a probe ends the run with an error instead of passing.
const PROBE: &str = r#"
import errno, os

def probe(name, action):
    try:
        result = action()
    except OSError as error:
        code = error.errno if isinstance(error.errno, int) and error.errno > 0 else None
        code = errno.errorcode.get(code) or type(error).__name__
        print(f"{name}: refused {code}", flush=True)
    else:
        print(f"{name}: ALLOWED {result!r}", flush=True)
"#;

// ---------------------------------------------------------------------------
// Kernel features

/// What this kernel lacks for the `full` sandbox (user namespaces, Landlock,
/// seccomp), each with where that was read.
fn missing_for_full_sandbox() -> Vec<String> {
    let mut missing = Vec::new();
    match std::fs::read_to_string("/proc/sys/user/max_user_namespaces") {
        Ok(text) if text.trim().parse::<u64>().unwrap_or(0) > 0 => {}
        Ok(text) => missing.push(format!(
            "user namespaces (/proc/sys/user/max_user_namespaces is {})",
            text.trim()
        )),
        Err(error) => missing.push(format!(
            "user namespaces (/proc/sys/user/max_user_namespaces: {error})"
        )),
    }
    let abi = landlock_abi();
    if abi < 1 {
        missing.push(format!(
            "Landlock (landlock_create_ruleset(NULL, 0, VERSION) answered {abi}: {})",
            std::io::Error::last_os_error()
        ));
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if !status.lines().any(|line| line.starts_with("Seccomp:")) {
        missing.push("seccomp (no Seccomp: line in /proc/self/status)".to_string());
    }
    missing
}

/// The Landlock ABI version, or -1 without Landlock.
fn landlock_abi() -> i64 {
    const LANDLOCK_CREATE_RULESET: libc::c_long = 444;
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute and size 0, the kernel only answers the
    // ABI version; nothing is read or written.
    unsafe {
        libc::syscall(
            LANDLOCK_CREATE_RULESET,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    }
}

/// Prints why `test` is skipped and returns true when the kernel cannot
/// give the full sandbox.
fn skip_without_full_sandbox(test: &str) -> bool {
    let missing = missing_for_full_sandbox();
    if missing.is_empty() {
        return false;
    }
    println!(
        "SKIPPED: {test}: this kernel lacks {}, which the `full` sandbox this test \
         asks for (run.process.minimum_sandbox = \"full\") needs",
        missing.join(", ")
    );
    true
}

// ---------------------------------------------------------------------------
// The server under test

/// Settings of one server; the rest of the config is fixed by [`Server::start`].
#[derive(Clone)]
struct Setup {
    edit: &'static str,
    minimum_sandbox: &'static str,
    timeout_s: u32,
    tmp_size_bytes: usize,
    max_processes: u32,
    memory_limit_bytes: usize,
    warm: usize,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            edit: "open",
            minimum_sandbox: "full",
            timeout_s: 10,
            tmp_size_bytes: 8 << 20,
            max_processes: 16,
            memory_limit_bytes: 512 << 20,
            warm: 2,
        }
    }
}

/// Strings that must never reach a run's output.
struct Secrets {
    /// In the config file (a comment).
    file: String,
    /// In the server's environment (`ESCAPE_PROBE_SECRET`).
    env: String,
    /// In the server's command line (the name `--config` is given).
    cmdline: String,
}

/// A `rundocs` process serving a small site with editing on.
struct Server {
    base: String,
    client: reqwest::Client,
    pid: u32,
    port: u16,
    child: tokio::process::Child,
    secrets: Secrets,
    /// Holds the config, the content and the server's own temp folder;
    /// under the target folder, not /tmp, so a private /tmp does not hide it.
    dir: tempfile::TempDir,
}

/// A fresh random hex string.
fn token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("{:016x}", hasher.finish())
}

impl Server {
    async fn start(setup: Setup) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("escape-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let secrets = Secrets {
            file: format!("file-secret-{}", token()),
            env: format!("env-secret-{}", token()),
            cmdline: format!("cmdline-secret-{}", token()),
        };
        let content = dir.path().join("content");
        std::fs::create_dir(&content).unwrap();
        std::fs::write(
            content.join("index.md"),
            "# Escape\n\n```python name=hello\nprint(\"hello\")\n```\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("server-tmp")).unwrap();
        let Setup {
            edit,
            minimum_sandbox,
            timeout_s,
            tmp_size_bytes,
            max_processes,
            memory_limit_bytes,
            warm,
        } = setup;
        let config = dir.path().join("rundocs.toml");
        std::fs::write(
            &config,
            format!(
                "# {file_secret}\n\
                 content = {content:?}\n\
                 [run]\n\
                 edit = \"{edit}\"\n\
                 timeout_s = {timeout_s}.0\n\
                 rate_limit_per_minute = 100000\n\
                 memory_limit_bytes = {memory_limit_bytes}\n\
                 [run.process]\n\
                 warm = {warm}\n\
                 tmp_size_bytes = {tmp_size_bytes}\n\
                 max_processes = {max_processes}\n\
                 minimum_sandbox = \"{minimum_sandbox}\"\n\
                 edit_cpu_seconds_per_hour = 1000000.0\n",
                file_secret = secrets.file,
                content = content.to_str().unwrap(),
            ),
        )
        .unwrap();
        // The server is told the config under a name that holds the command
        // line's secret; the probes only ever name `rundocs.toml`.
        let named = dir.path().join(format!("{}.toml", secrets.cmdline));
        std::os::unix::fs::symlink(&config, &named).unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut child = tokio::process::Command::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0", "--config"])
            .arg(&named)
            .current_dir(dir.path())
            .env_remove("RUNDOCS_BIN")
            .env("ESCAPE_PROBE_SECRET", &secrets.env)
            .env("TMPDIR", dir.path().join("server-tmp"))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("rundocs starts");
        let pid = child.id().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(address) = line
                    .rsplit("http://")
                    .next()
                    .filter(|_| line.contains("http://"))
                {
                    return Some(address.trim().to_string());
                }
            }
            None
        })
        .await
        .expect("the server starts within 60 s");
        let Some(address) = first else {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("the server exited before serving:\n{log}");
        };
        // Whatever else it prints is read, so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let port = address.rsplit(':').next().unwrap().parse().unwrap();
        Server {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            pid,
            port,
            child,
            secrets,
            dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// What the server has logged so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.path("server.log")).unwrap_or_default()
    }

    /// `POST /api/run` with `body` as JSON.
    async fn post(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/run"))
            .json(body)
            .send()
            .await
            .expect("the request completes")
    }

    /// Runs `code` as edited code, to its end.
    async fn run(&self, code: &str) -> Ran {
        Ran {
            events: read_run(self.post(&json!({ "code": code })).await).await,
        }
    }

    /// Runs the authored block on the index page (`print("hello")`) by id.
    async fn run_authored(&self) -> Ran {
        let snippets: Value = self
            .client
            .get(self.url("/api/snippets?page="))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = snippets[0]["id"].as_str().expect("the index has a block");
        let response = self
            .client
            .post(self.url(&format!("/api/run/{id}")))
            .send()
            .await
            .unwrap();
        Ran {
            events: read_run(response).await,
        }
    }

    /// Whether the server process is still running.
    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The server is the same process as at the start, answers `/healthz`,
    /// serves a page, and runs authored and edited code.
    async fn assert_serving(&mut self, after: &str) {
        assert!(self.alive(), "after {after}, the server process is gone");
        let health = self.client.get(self.url("/healthz")).send().await;
        let health = health.unwrap_or_else(|e| panic!("after {after}, /healthz: {e}"));
        assert_eq!(health.status(), 200, "after {after}: /healthz");
        let page = self.client.get(self.url("/")).send().await.unwrap();
        assert_eq!(page.status(), 200, "after {after}: the index page");
        let authored = self.run_authored().await;
        assert_eq!(
            (authored.status(), authored.stdout().as_str()),
            ("ok", "hello\n"),
            "after {after}, an authored block: {authored}"
        );
        let edited = self.run("print(6 * 7)").await;
        assert_eq!(
            (edited.status(), edited.stdout().as_str()),
            ("ok", "42\n"),
            "after {after}, an edited run: {edited}\nserver log:\n{}",
            self.log()
        );
    }
}

impl Drop for Server {
    /// Stops the server as an operator would (SIGTERM), so that it removes
    /// its pids cgroup; `kill_on_drop` then ends one still there after 10 s.
    fn drop(&mut self) {
        if self.alive() {
            // SAFETY: plain kill(2) of the server this test started.
            unsafe { libc::kill(self.pid as i32, libc::SIGTERM) };
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while self.alive() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// One run's events, with what a reader sees of them.
struct Ran {
    events: Vec<Event>,
}

impl Ran {
    fn stdout(&self) -> String {
        output(&self.events, "stdout")
    }

    fn stderr(&self) -> String {
        output(&self.events, "stderr")
    }

    fn end(&self) -> &Value {
        end(&self.events)
    }

    fn status(&self) -> &str {
        self.end()["status"].as_str().unwrap_or_default()
    }

    /// The message of an end that is not `ok`: `end.message`, else
    /// `end.error.message`.
    fn message(&self) -> String {
        let end = self.end();
        end["message"]
            .as_str()
            .or_else(|| end["error"]["message"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    /// Everything the stream carried, as text, to look for secrets in.
    fn everything(&self) -> String {
        self.events
            .iter()
            .map(|e| format!("{} {}\n", e.name, e.data))
            .collect()
    }

    /// Each probe's outcome, by name.
    fn outcomes(&self) -> BTreeMap<String, String> {
        outcomes(&self.stdout())
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n--- stdout\n{}--- stderr\n{}--- end\n{}",
            self.stdout(),
            self.stderr(),
            self.end()
        )
    }
}

/// The `NAME: refused ...` / `NAME: ALLOWED ...` lines of `stdout`, by name.
fn outcomes(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|line| {
            let (name, outcome) = line.split_once(": ")?;
            (outcome.starts_with("refused") || outcome.starts_with("ALLOWED"))
                .then(|| (name.to_string(), outcome.to_string()))
        })
        .collect()
}

/// Each of `names` was probed in `ran` and refused.
fn assert_refused(ran: &Ran, names: &[&str]) {
    let outcomes = ran.outcomes();
    let got_through: Vec<String> = names
        .iter()
        .filter_map(|name| match outcomes.get(*name) {
            Some(outcome) if outcome.starts_with("refused") => None,
            Some(outcome) => Some(format!("{name}: {outcome}")),
            None => Some(format!("{name}: not probed")),
        })
        .collect();
    assert!(
        got_through.is_empty(),
        "got through the sandbox:\n  {}\n{ran}",
        got_through.join("\n  ")
    );
}

/// `template` with each `@KEY@` replaced; every key must be used.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut code = template.to_string();
    for (key, value) in values {
        let marker = format!("@{key}@");
        assert!(code.contains(&marker), "{marker} is not in the template");
        code = code.replace(&marker, value);
    }
    code
}

/// `text` as a Python string literal.
fn py(text: impl AsRef<str>) -> String {
    serde_json::to_string(text.as_ref()).unwrap()
}

/// A path as a Python string literal.
fn py_path(path: &Path) -> String {
    py(path.to_str().unwrap())
}

/// The interpreter the binary was built with (`PYO3_PYTHON`, else `python3`).
fn build_python() -> String {
    std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Runs `code` with plain `python3` on the host: the oracle.
fn host_python(code: &str) -> std::process::Output {
    let mut child = std::process::Command::new(build_python())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The probes' outcomes under plain `python3` on the host, printing a note
/// for each of `names` that the host refuses too (there the sandbox's
/// refusal shows only that it stays refused).
fn host_outcomes(code: &str, names: &[&str]) -> String {
    let ran = host_python(code);
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();
    assert!(
        ran.status.success(),
        "the probe fails under python3 itself:\n{stdout}{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let outcomes = outcomes(&stdout);
    for name in names {
        match outcomes.get(*name) {
            Some(outcome) if outcome.starts_with("ALLOWED") => {}
            Some(outcome) => println!(
                "note: {name} is refused to python3 on the host too ({outcome}); \
                 its refusal in the sandbox shows only that it stays refused"
            ),
            None => panic!("{name} was not probed under python3:\n{stdout}"),
        }
    }
    stdout
}

// ---------------------------------------------------------------------------
// Processes

/// Processes (other than this one) whose command line or name holds `marker`.
fn processes_with(marker: &str) -> Vec<(i32, String)> {
    let own = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != own)
        .filter_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            (cmdline.contains(marker) || comm.contains(marker))
                .then(|| (pid, format!("{} [{}]", cmdline.trim(), comm.trim())))
        })
        .collect()
}

/// Waits up to 10 s for every process marked `marker` to go; kills (by
/// pid) and returns those still there, which the test started.
async fn leftovers(marker: &str) -> Vec<(i32, String)> {
    let gone = eventually(Duration::from_secs(10), || async {
        processes_with(marker).is_empty().then_some(())
    })
    .await;
    if gone.is_some() {
        return Vec::new();
    }
    kill_marked(marker)
}

/// Kills (by pid) the processes marked `marker`, which the test started,
/// and returns them.
fn kill_marked(marker: &str) -> Vec<(i32, String)> {
    let left = processes_with(marker);
    for (pid, _) in &left {
        // SAFETY: plain kill(2) of a process this test's code started.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    left
}

/// Pids of the processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.rsplit_once(") ")
                .and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok())
                == Some(parent)
        })
        .collect()
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(!stat.rsplit_once(") ")?.1.starts_with('Z')))
        .unwrap_or(false)
}

/// Where the server `pid` makes its pids cgroup (beside this process's own,
/// in the cgroup v1 `pids` hierarchy), if this host has one.
fn pids_cgroup_of(pid: u32) -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        controllers.split(',').any(|c| c == "pids").then_some(path)
    })?;
    Some(
        Path::new("/sys/fs/cgroup/pids")
            .join(path.trim_start_matches('/'))
            .join(format!("rundocs-{pid}")),
    )
}

/// A marker for a process's name (`/proc/PID/comm` keeps 15 bytes).
fn marker() -> String {
    format!("esc{}", &token()[..12])
}

/// A `sleep` the test owns, for code to try to signal.
fn sentinel() -> tokio::process::Child {
    tokio::process::Command::new("sleep")
        .arg("600")
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

// ---------------------------------------------------------------------------
// Sockets the test listens on

/// TCP, UDP and Unix sockets on this host that answer whatever reaches them
/// and write it down.
struct Listeners {
    tcp_port: u16,
    udp_port: u16,
    dns_port: u16,
    unix_path: PathBuf,
    abstract_name: String,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listeners {
    fn start(dir: &Path) -> Listeners {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{SocketAddr, UnixListener};
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let dns = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let unix_path = dir.join("host.sock");
        let unix = UnixListener::bind(&unix_path).unwrap();
        let abstract_name = format!("rundocs-escape-{}", token());
        let abstract_unix =
            UnixListener::bind_addr(&SocketAddr::from_abstract_name(&abstract_name).unwrap())
                .unwrap();
        tcp.set_nonblocking(true).unwrap();
        udp.set_nonblocking(true).unwrap();
        dns.set_nonblocking(true).unwrap();
        unix.set_nonblocking(true).unwrap();
        abstract_unix.set_nonblocking(true).unwrap();
        let (tcp_port, udp_port, dns_port) = (
            tcp.local_addr().unwrap().port(),
            udp.local_addr().unwrap().port(),
            dns.local_addr().unwrap().port(),
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let mut buffer = [0u8; 1500];
                let note = |what: String| seen.lock().unwrap().push(what);
                while !stop.load(Ordering::Relaxed) {
                    if let Ok((mut stream, from)) = tcp.accept() {
                        note(format!("a TCP connection from {from}"));
                        let _ = stream.write_all(b"hello from the host\n");
                        kept.push(Box::new(stream) as Box<dyn Send>);
                    }
                    for (name, socket) in [("UDP", &udp), ("DNS", &dns)] {
                        if let Ok((n, from)) = socket.recv_from(&mut buffer) {
                            note(format!("a {name} datagram of {n} bytes from {from}"));
                            let _ = socket.send_to(&buffer[..n], from);
                        }
                    }
                    for (name, listener) in [("path", &unix), ("abstract", &abstract_unix)] {
                        if let Ok((mut stream, _)) = listener.accept() {
                            note(format!("a connection to the {name} Unix socket"));
                            let _ = stream.write_all(b"hello from the host\n");
                            kept.push(Box::new(stream));
                        }
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Listeners {
            tcp_port,
            udp_port,
            dns_port,
            unix_path,
            abstract_name,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// What reached the listeners so far, and forgets it.
    fn take(&self) -> Vec<String> {
        // What is on its way is given a moment to be accepted.
        std::thread::sleep(Duration::from_millis(100));
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------
// The tests

/// Scripts whose output and exit status are the same on every run of
/// python3, by what they show.
const LIKE_PYTHON3: [(&str, &str); 4] = [
    (
        "a plain script",
        r#"
import collections, json, math, sys
words = "the quick brown fox jumps over the lazy dog the end".split()
print(collections.Counter(words).most_common(2))
print(json.dumps({"pi": round(math.pi, 5), "e": [1, 2.5, None]}, sort_keys=True))
print(f"{sum(i * i for i in range(10)):>8}|")
try:
    {}["missing"]
except KeyError as error:
    print("caught", repr(error))
print("to stderr", file=sys.stderr)
print(__name__)
"#,
    ),
    (
        "sys.exit with a code",
        "import sys\nprint('bye')\nsys.exit(2)\n",
    ),
    (
        "a forked child that ends with sys.exit",
        r#"
import os, sys, time
pid = os.fork()
if pid == 0:
    print("child", flush=True)
    sys.exit(3)
_, status = os.waitpid(pid, 0)
print("the child exited with", os.waitstatus_to_exitcode(status), flush=True)
time.sleep(0.5)
print("parent")
"#,
    ),
    (
        "a forked child that runs to the end of the script",
        r#"
import os, time
pid = os.fork()
if pid:
    os.waitpid(pid, 0)
    time.sleep(0.5)
print("parent" if pid else "child", flush=True)
"#,
    ),
];

#[tokio::test]
async fn edited_code_prints_and_ends_as_under_python3() {
    if skip_without_full_sandbox("edited_code_prints_and_ends_as_under_python3") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let mut differences = Vec::new();
    for (what, code) in LIKE_PYTHON3 {
        let expected = host_python(code);
        let ran = server.run(code).await;
        let exit_code = match ran.status() {
            "ok" => Some(0),
            "exit" => ran.end()["exit_code"].as_i64().map(|c| c as i32),
            _ => None,
        };
        let got = (ran.stdout(), ran.stderr(), exit_code);
        let wanted = (
            String::from_utf8_lossy(&expected.stdout).into_owned(),
            String::from_utf8_lossy(&expected.stderr).into_owned(),
            expected.status.code(),
        );
        if got != wanted {
            differences.push(format!(
                "{what}:\n  python3 (stdout, stderr, exit code): {wanted:?}\n  rundocs: {got:?}{ran}"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "edited runs that differ from python3:\n{}\nserver log:\n{}",
        differences.join("\n"),
        server.log()
    );
    server.assert_serving("plain runs").await;
}

#[tokio::test]
async fn healthz_and_metrics_name_the_full_sandbox_this_host_gives() {
    if skip_without_full_sandbox("healthz_and_metrics_name_the_full_sandbox_this_host_gives") {
        return;
    }
    let server = Server::start(Setup::default()).await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sandbox = health
        .lines()
        .find_map(|line| line.strip_prefix("sandbox: "))
        .unwrap_or_else(|| panic!("/healthz names no sandbox:\n{health}"));
    println!("this host's sandbox: {sandbox}");
    let abi = landlock_abi();
    assert!(
        sandbox.starts_with(&format!(
            "full (namespaces: user,mount,ipc,uts,net; landlock: ABI {abi}; seccomp: on;"
        )),
        "{sandbox}"
    );
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "rundocs_sandbox_level{level=\"full\"} 1".to_string(),
        "rundocs_sandbox_level{level=\"landlock\"} 0".to_string(),
        format!("rundocs_sandbox_landlock_abi {abi}"),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line} in\n{metrics}"
        );
    }
}

#[tokio::test]
async fn the_network_is_out_of_reach() {
    if skip_without_full_sandbox("the_network_is_out_of_reach") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let listeners = Listeners::start(server.dir.path());
    let template = PROBE.to_string()
        + r#"
import socket

def answer(s):
    # Once connected, the connection got through, answered or not.
    try:
        return s.recv(100)
    except TimeoutError:
        return "connected, no answer"

def tcp(port):
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        return answer(s)

def udp(port, payload):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(payload, ("127.0.0.1", port))
        try:
            return s.recvfrom(512)
        except TimeoutError:
            return "sent, no answer"

def dns_query(port):
    name = b"".join(bytes([len(p)]) + p for p in b"escape-probe.example".split(b"."))
    header = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    return udp(port, header + name + b"\x00\x00\x01\x00\x01")

def unix(address):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        s.connect(address)
        return answer(s)

def resolve(name):
    return socket.getaddrinfo(name, 80)

probe("the server's own port", lambda: tcp(@SERVER_PORT@))
probe("a TCP listener on the host", lambda: tcp(@TCP_PORT@))
probe("a UDP socket on the host", lambda: udp(@UDP_PORT@, b"escape probe"))
probe("a DNS query to a nameserver on the host", lambda: dns_query(@DNS_PORT@))
probe("a DNS lookup through the system resolver", lambda: resolve("rundocs-escape-probe.example.com"))
probe("a Unix socket at a path on the host", lambda: unix(@UNIX_PATH@))
probe("an abstract Unix socket on the host", lambda: unix("\0" + @ABSTRACT@))
"#;
    let code = fill(
        &template,
        &[
            ("SERVER_PORT", server.port.to_string()),
            ("TCP_PORT", listeners.tcp_port.to_string()),
            ("UDP_PORT", listeners.udp_port.to_string()),
            ("DNS_PORT", listeners.dns_port.to_string()),
            ("UNIX_PATH", py_path(&listeners.unix_path)),
            ("ABSTRACT", py(&listeners.abstract_name)),
        ],
    );
    let names = [
        "the server's own port",
        "a TCP listener on the host",
        "a UDP socket on the host",
        "a DNS query to a nameserver on the host",
        "a DNS lookup through the system resolver",
        "a Unix socket at a path on the host",
        "an abstract Unix socket on the host",
    ];
    // Outside the sandbox the same probes get through (the system resolver
    // only where the host's DNS answers).
    host_outcomes(&code, &names);
    let on_host = listeners.take();
    assert!(
        on_host.len() >= 5,
        "python3 on the host reaches the listeners: {on_host:?}"
    );

    let ran = server.run(&code).await;
    assert_eq!(ran.status(), "ok", "{ran}");
    let reached = listeners.take();
    assert!(
        reached.is_empty(),
        "the run reached sockets on the host: {reached:?}{ran}"
    );
    assert_refused(&ran, &names);
    server.assert_serving("network probes").await;
}

#[tokio::test]
async fn host_files_and_the_servers_secrets_stay_unread() {
    if skip_without_full_sandbox("host_files_and_the_servers_secrets_stay_unread") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let home = PathBuf::from(std::env::var("HOME").expect("HOME is set"));
    let home_dir = tempfile::Builder::new()
        .prefix(".rundocs-escape-")
        .tempdir_in(&home)
        .unwrap();
    let home_secret = format!("home-secret-{}", token());
    std::fs::write(home_dir.path().join("secret.txt"), &home_secret).unwrap();
    let tmp_dir = tempfile::tempdir().unwrap();
    let tmp_secret = format!("tmp-secret-{}", token());
    std::fs::write(tmp_dir.path().join("secret.txt"), &tmp_secret).unwrap();

    let template = PROBE.to_string()
        + r#"
def read(path):
    with open(path, "rb") as f:
        data = f.read()
    print(data.decode("utf-8", "replace"))
    return len(data)

def listing(path):
    names = os.listdir(path)
    print(names)
    return len(names)

server = @SERVER_PID@
probe("the config file", lambda: read(@CONFIG@))
probe("the config file's folder", lambda: listing(@CONFIG_DIR@))
probe("the config file through the server's cwd", lambda: read(f"/proc/{server}/cwd/rundocs.toml"))
probe("the config file through the server's root", lambda: read(f"/proc/{server}/root" + @CONFIG@))
probe("a file in the home folder", lambda: read(@HOME_FILE@))
probe("a file in the host's temp folder", lambda: read(@TMP_FILE@))
probe("the server's environ", lambda: read(f"/proc/{server}/environ"))
probe("the server's cmdline", lambda: read(f"/proc/{server}/cmdline"))
probe("the server's main thread's environ", lambda: read(f"/proc/{server}/task/{server}/environ"))
probe("the server's open files", lambda: listing(f"/proc/{server}/fd"))
# What the run may see of its own process and its parent must hold no
# secret either (printed, not counted: these may be readable).
print(dict(os.environ))
for path in ["/proc/self/environ", "/proc/self/cmdline",
             f"/proc/{os.getppid()}/environ", f"/proc/{os.getppid()}/cmdline"]:
    try:
        print(path, read(path))
    except OSError as error:
        print(path, "unreadable:", type(error).__name__)
"#;
    let config = server.path("rundocs.toml");
    let values = |pid: u32| {
        [
            ("SERVER_PID", pid.to_string()),
            ("CONFIG", py_path(&config)),
            ("CONFIG_DIR", py_path(server.dir.path())),
            ("HOME_FILE", py_path(&home_dir.path().join("secret.txt"))),
            ("TMP_FILE", py_path(&tmp_dir.path().join("secret.txt"))),
        ]
    };
    let names = [
        "the config file",
        "the config file's folder",
        "the config file through the server's cwd",
        "the config file through the server's root",
        "a file in the home folder",
        "a file in the host's temp folder",
        "the server's environ",
        "the server's cmdline",
        "the server's main thread's environ",
        "the server's open files",
    ];
    // The probes read the secrets when nothing stops them.
    let on_host = host_outcomes(&fill(&template, &values(server.pid)), &names);
    for secret in [
        &server.secrets.file,
        &server.secrets.env,
        &server.secrets.cmdline,
        &home_secret,
        &tmp_secret,
    ] {
        assert!(on_host.contains(secret.as_str()), "python3 reads {secret}");
    }

    let ran = server.run(&fill(&template, &values(server.pid))).await;
    assert_eq!(ran.status(), "ok", "{ran}");
    let everything = ran.everything();
    for (what, secret) in [
        ("the config file's secret", &server.secrets.file),
        ("the server's environment's secret", &server.secrets.env),
        (
            "the server's command line's secret",
            &server.secrets.cmdline,
        ),
        ("the home folder's secret", &home_secret),
        ("the host temp folder's secret", &tmp_secret),
    ] {
        assert!(
            !everything.contains(secret.as_str()),
            "{what} reached the run's output{ran}"
        );
    }
    assert_refused(&ran, &names);
    server.assert_serving("reading host files").await;
}

#[tokio::test]
async fn writes_outside_the_private_tmp_fail_and_leave_nothing_on_disk() {
    if skip_without_full_sandbox("writes_outside_the_private_tmp_fail_and_leave_nothing_on_disk") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let name = format!("escape-{}", token());
    let home = PathBuf::from(std::env::var("HOME").expect("HOME is set"));
    let site_packages = {
        let out = host_python("import sysconfig; print(sysconfig.get_paths()['purelib'])");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    };
    let targets: Vec<(&str, PathBuf)> = vec![
        (
            "the content folder",
            server.path("content").join(format!("{name}.md")),
        ),
        ("the config folder", server.path(&name)),
        (
            "the server's temp folder",
            server.path("server-tmp").join(&name),
        ),
        ("the home folder", home.join(format!(".{name}"))),
        ("/var/tmp", PathBuf::from("/var/tmp").join(&name)),
        (
            "site-packages",
            site_packages.join(format!("{}.py", name.replace('-', "_"))),
        ),
    ];
    let core_pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let mut template = PROBE.to_string()
        + r#"
def create(path):
    with open(path, "x") as f:
        f.write("written by an edited run\n")
    return "created"

def rewrite(path, text):
    with open(path, "w") as f:
        f.write(text)
    return "written"

# The same text as the host's, so that even a write that got through
# changes nothing.
probe("core_pattern", lambda: rewrite("/proc/sys/kernel/core_pattern", @CORE_PATTERN@))
probe("the pids cgroup's root", lambda: rewrite("/sys/fs/cgroup/pids/cgroup.procs", str(os.getpid())))
"#;
    for (what, path) in &targets {
        template.push_str(&format!(
            "probe({}, lambda: create({}))\n",
            py(what),
            py_path(path)
        ));
    }
    let code = fill(&template, &[("CORE_PATTERN", py(&core_pattern))]);
    let ran = server.run(&code).await;
    let appeared: Vec<String> = targets
        .iter()
        .filter(|(_, path)| path.exists())
        .map(|(what, path)| {
            let _ = std::fs::remove_file(path);
            format!("{what}: {}", path.display())
        })
        .collect();
    assert!(
        appeared.is_empty(),
        "files an edited run wrote on the host:\n  {}{ran}",
        appeared.join("\n  ")
    );
    assert_eq!(ran.status(), "ok", "{ran}");
    let mut names: Vec<&str> = targets.iter().map(|(what, _)| *what).collect();
    names.extend(["core_pattern", "the pids cgroup's root"]);
    assert_refused(&ran, &names);
    server.assert_serving("writing outside /tmp").await;
}

#[tokio::test]
async fn tmp_is_private_and_nothing_carries_to_the_next_run() {
    if skip_without_full_sandbox("tmp_is_private_and_nothing_carries_to_the_next_run") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let name = format!("carry-{}", token());
    let first = fill(
        r#"
import builtins, json, os, sys
with open("/tmp/" + @NAME@, "w") as f:
    f.write("left behind")
with open(@NAME@ + "-cwd", "w") as f:
    f.write("left behind")
with open("/dev/shm/" + @NAME@, "w") as f:
    f.write("left behind")
print("cwd", os.getcwd())
print("written", os.path.exists("/tmp/" + @NAME@), os.path.exists("/tmp/" + @NAME@ + "-cwd"),
      os.path.exists("/dev/shm/" + @NAME@))
os.environ["CARRY"] = "set"
builtins.CARRY = "set"
json.CARRY = "set"
sys.CARRY = "set"
CARRY = "set"
"#,
        &[("NAME", py(&name))],
    );
    let ran = server.run(&first).await;
    assert_eq!(
        (ran.status(), ran.stdout().as_str()),
        ("ok", "cwd /tmp\nwritten True True True\n"),
        "{ran}"
    );
    for shared in ["/tmp", "/dev/shm"] {
        assert!(
            !Path::new(shared).join(&name).exists(),
            "the run's {shared} is the host's"
        );
    }
    let next = fill(
        r#"
import builtins, json, os, sys
print([name for name in os.listdir("/tmp") if name.startswith("carry-")])
print(os.environ.get("CARRY"), getattr(builtins, "CARRY", None), getattr(json, "CARRY", None),
      getattr(sys, "CARRY", None), globals().get("CARRY"))
print(os.path.exists("/tmp/" + @NAME@), os.path.exists("/dev/shm/" + @NAME@))
"#,
        &[("NAME", py(&name))],
    );
    // Enough runs to come to every warm child, and past the ones forked
    // before the first run.
    for attempt in 0..6 {
        let ran = server.run(&next).await;
        assert_eq!(
            (ran.status(), ran.stdout().as_str()),
            ("ok", "[]\nNone None None None None\nFalse False\n"),
            "run {} after the one that left things behind{ran}",
            attempt + 1
        );
    }
    server.assert_serving("runs that leave state").await;
}

#[tokio::test]
async fn a_full_tmp_fails_with_enospc_and_harms_nothing() {
    if skip_without_full_sandbox("a_full_tmp_fails_with_enospc_and_harms_nothing") {
        return;
    }
    let limit = 4 << 20;
    let mut server = Server::start(Setup {
        tmp_size_bytes: limit,
        ..Setup::default()
    })
    .await;
    // Many files (each under the file size limit), then one big file.
    let code = fill(
        r#"
import errno, os
LIMIT = @LIMIT@
chunk = b"x" * (512 * 1024)

def fill(path_of):
    written = 0
    try:
        n = 0
        while written < 4 * LIMIT:
            with open(path_of(n), "wb", buffering=0) as f:
                written += f.write(chunk)
            n += 1
    except OSError as error:
        return errno.errorcode.get(error.errno, error.errno), written
    return "nothing", written

stopped, written = fill(lambda n: f"/tmp/part{n}")
print("many files:", stopped, written <= LIMIT, written, flush=True)
for name in os.listdir("/tmp"):
    if name.startswith("part"):
        os.remove("/tmp/" + name)
written = 0
try:
    with open("/tmp/big", "wb", buffering=0) as f:
        while written < 4 * LIMIT:
            written += f.write(chunk)
except OSError as error:
    print("one file:", errno.errorcode.get(error.errno, error.errno), written <= LIMIT, written)
else:
    print("one file: nothing", written)
"#,
        &[("LIMIT", limit.to_string())],
    );
    let ran = server.run(&code).await;
    assert_eq!(ran.status(), "ok", "{ran}");
    let stdout = ran.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{ran}");
    assert!(
        lines[0].starts_with("many files: ENOSPC True "),
        "files past run.process.tmp_size_bytes = {limit}{ran}"
    );
    if lines[1].starts_with("one file: EFBIG True ") {
        println!(
            "note: one file grown past {limit} bytes fails with EFBIG (the file size \
             rlimit, equal to the size of /tmp), not ENOSPC"
        );
    } else {
        assert!(
            lines[1].starts_with("one file: ENOSPC True "),
            "one file grown past run.process.tmp_size_bytes = {limit}{ran}"
        );
    }
    // The next run gets an empty /tmp of its own.
    let ran = server
        .run("open('/tmp/fill', 'wb').write(b'y' * (3 << 20)); print('fits')")
        .await;
    assert_eq!(
        (ran.status(), ran.stdout().as_str()),
        ("ok", "fits\n"),
        "{ran}"
    );
    server.assert_serving("a full /tmp").await;
}

#[tokio::test]
async fn the_server_cannot_be_signalled() {
    if skip_without_full_sandbox("the_server_cannot_be_signalled") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let mut sentinel = sentinel();
    // Another reader's run, going on while the signals fly.
    let mut other = server
        .post(&json!({ "code": "import os, time\nprint('waiting', os.getpid(), flush=True)\ntime.sleep(3)\nprint('still here')\n" }))
        .await;
    assert_eq!(other.status(), 200);
    let mut other_events = read_events(&mut other, 1).await;
    while !output(&other_events, "stdout").contains('\n') {
        let more = read_events(&mut other, 1).await;
        assert!(
            !more.is_empty(),
            "the other run ended early: {other_events:?}"
        );
        other_events.extend(more);
    }
    let waiting = output(&other_events, "stdout");
    let other_pid: u32 = waiting
        .trim()
        .strip_prefix("waiting ")
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("the other run printed {waiting:?}"));
    let template = PROBE.to_string()
        + r#"
import signal
server, sentinel, parent, other = @SERVER_PID@, @SENTINEL_PID@, os.getppid(), @OTHER_PID@
print("parent pid:", parent, flush=True)

def kill(pid, sig):
    os.kill(pid, sig)
    return "sent"

# Signal 0 only asks whether a signal could be sent.
reachable = []
for name, pid in [("the server", server), ("the sentinel", sentinel), ("the parent", parent),
                  ("another reader's run", other), ("init", 1)]:
    try:
        os.kill(pid, 0)
    except OSError as error:
        print(f"signal 0 to {name}: refused {errno.errorcode[error.errno]}", flush=True)
    else:
        print(f"signal 0 to {name}: ALLOWED", flush=True)
        reachable.append(name)
probe("SIGTERM to the server", lambda: kill(server, signal.SIGTERM))
probe("SIGKILL to the server", lambda: kill(server, signal.SIGKILL))
probe("killpg SIGKILL to the server's group", lambda: os.killpg(server, signal.SIGKILL))
probe("SIGKILL to the parent", lambda: kill(parent, signal.SIGKILL))
probe("SIGKILL to the sentinel", lambda: kill(sentinel, signal.SIGKILL))
probe("SIGKILL to another reader's run", lambda: kill(other, signal.SIGKILL))
# kill(-1) signals every process the caller may signal: only tried once
# nothing outside can be reached, so a sandbox that fails here cannot take
# the machine down with it.
if reachable:
    print("kill(-1, SIGKILL): not tried, since", reachable, "can be signalled")
else:
    probe("kill(-1, SIGKILL)", lambda: kill(-1, signal.SIGKILL))
"#;
    let code = fill(
        &template,
        &[
            ("SERVER_PID", server.pid.to_string()),
            ("SENTINEL_PID", sentinel.id().unwrap().to_string()),
            ("OTHER_PID", other_pid.to_string()),
        ],
    );
    let ran = server.run(&code).await;
    assert!(server.alive(), "the server was killed{ran}");
    assert!(
        sentinel.try_wait().unwrap().is_none(),
        "the test's own `sleep` was killed{ran}"
    );
    let parent: u32 = ran
        .stdout()
        .lines()
        .find_map(|l| l.strip_prefix("parent pid: ")?.parse().ok())
        .unwrap_or_else(|| panic!("no parent pid{ran}"));
    let parent_state = std::fs::read_to_string(format!("/proc/{parent}/stat")).unwrap_or_default();
    assert!(
        parent_state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        "the warm interpreter ({parent}) was killed: {parent_state:?}{ran}"
    );
    other_events.extend(read_events(&mut other, usize::MAX).await);
    let other = Ran {
        events: other_events,
    };
    assert_eq!(
        (other.status(), other.stdout().as_str()),
        ("ok", format!("waiting {other_pid}\nstill here\n").as_str()),
        "another reader's run during the signals{other}"
    );
    assert_eq!(ran.status(), "ok", "{ran}");
    // kill(-1) itself answers 0 whenever it found a process to try, even if
    // every signal was refused: the survivors above are what tells.
    assert!(ran.outcomes().contains_key("kill(-1, SIGKILL)"), "{ran}");
    assert_refused(
        &ran,
        &[
            "signal 0 to the server",
            "signal 0 to the sentinel",
            "signal 0 to the parent",
            "signal 0 to another reader's run",
            "signal 0 to init",
            "SIGTERM to the server",
            "SIGKILL to the server",
            "killpg SIGKILL to the server's group",
            "SIGKILL to the parent",
            "SIGKILL to the sentinel",
            "SIGKILL to another reader's run",
        ],
    );
    server.assert_serving("signals at the server").await;
}

/// Probes of calls the seccomp filter and Landlock refuse; `@TARGET@` is the
/// pid traced (the server in the sandbox, a `sleep` under the oracle).
const SYSCALLS: &str = r#"
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L = ctypes.c_long
target = @TARGET@

def call(number, *args):
    ctypes.set_errno(0)
    result = libc.syscall(L(number), *args)
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result

def ptrace_attach():
    call(101, L(16), L(target), None, None)  # PTRACE_ATTACH
    os.waitpid(target, 0x40000000)  # __WALL
    call(101, L(17), L(target), None, None)  # PTRACE_DETACH
    os.kill(target, 18)  # SIGCONT
    return "attached"

def process_vm_readv():
    buffer = ctypes.create_string_buffer(8)
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    local = iovec(ctypes.cast(buffer, ctypes.c_void_p), 8)
    remote = iovec(0x400000, 8)
    try:
        return call(310, L(target), ctypes.byref(local), L(1), ctypes.byref(remote), L(1), L(0))
    except OSError as error:
        if error.errno == errno.EFAULT:
            return "permitted (EFAULT at a guessed address)"
        raise

def pidfd_getfd():
    pidfd = call(434, L(target), L(0))  # pidfd_open
    return call(438, L(pidfd), L(0), L(0))  # pidfd_getfd

def mount():
    os.makedirs("/tmp/mount-probe", exist_ok=True)
    call(165, b"none", b"/tmp/mount-probe", b"tmpfs", L(0), None)
    call(166, b"/tmp/mount-probe", L(0))  # umount2
    return "mounted"

def unshare(flags):
    return call(272, L(flags))

def bpf_map():
    attr = (ctypes.c_uint32 * 32)(2, 4, 4, 1)  # BPF_MAP_TYPE_ARRAY, 4-byte keys and values, 1 entry
    fd = call(321, L(0), ctypes.byref(attr), L(ctypes.sizeof(attr)))  # BPF_MAP_CREATE
    os.close(fd)
    return "created a map"

def keyctl():
    return call(250, L(1), None)  # KEYCTL_JOIN_SESSION_KEYRING

def add_key():
    return call(248, b"user", b"escape-probe", b"value", L(5), L(-2))  # to the process keyring

def io_uring():
    params = (ctypes.c_uint8 * 120)()
    fd = call(425, L(4), ctypes.byref(params))
    os.close(fd)
    return "set up a ring"

PROBES = {
    "ptrace PTRACE_ATTACH": ptrace_attach,
    "process_vm_readv": process_vm_readv,
    "pidfd_getfd": pidfd_getfd,
    "mount": mount,
    "unshare a user namespace": lambda: unshare(0x10000000),
    "unshare a network namespace": lambda: unshare(0x40000000),
    "bpf": bpf_map,
    "keyctl": keyctl,
    "add_key": add_key,
    "io_uring_setup": io_uring,
}
for name in @ONLY@ or PROBES:
    probe(name, PROBES[name])
"#;

const SYSCALL_PROBES: [&str; 10] = [
    "ptrace PTRACE_ATTACH",
    "process_vm_readv",
    "pidfd_getfd",
    "mount",
    "unshare a user namespace",
    "unshare a network namespace",
    "bpf",
    "keyctl",
    "add_key",
    "io_uring_setup",
];

#[tokio::test]
async fn ptrace_mount_unshare_bpf_keyrings_and_io_uring_are_refused() {
    if skip_without_full_sandbox("ptrace_mount_unshare_bpf_keyrings_and_io_uring_are_refused") {
        return;
    }
    if !cfg!(target_arch = "x86_64") {
        println!(
            "SKIPPED: ptrace_mount_unshare_bpf_keyrings_and_io_uring_are_refused: \
             the probes use x86_64 system call numbers"
        );
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let sentinel = sentinel();
    let syscalls = PROBE.to_string() + SYSCALLS;
    let oracle = fill(
        &syscalls,
        &[
            ("TARGET", sentinel.id().unwrap().to_string()),
            ("ONLY", "None".to_string()),
        ],
    );
    host_outcomes(&oracle, &SYSCALL_PROBES);
    // One run per probe: a filter that kills the process (SIGSYS) instead
    // of failing the call refuses too, and ends only that run.
    let mut got_through = Vec::new();
    for name in SYSCALL_PROBES {
        let code = fill(
            &syscalls,
            &[
                ("TARGET", server.pid.to_string()),
                ("ONLY", format!("[{}]", py(name))),
            ],
        );
        let ran = server.run(&code).await;
        if ran.status() == "crashed" && ran.message().contains("SIGSYS") {
            continue;
        }
        match ran.outcomes().get(name) {
            Some(outcome) if outcome.starts_with("refused") && ran.status() == "ok" => {
                println!("{name}: {outcome}");
            }
            _ => got_through.push(format!("{name}:{ran}")),
        }
    }
    assert!(
        got_through.is_empty(),
        "calls the sandbox lets through:\n{}",
        got_through.join("\n")
    );
    server.assert_serving("refused system calls").await;
}

#[tokio::test]
async fn a_fork_bomb_is_contained() {
    if skip_without_full_sandbox("a_fork_bomb_is_contained") {
        return;
    }
    let setup = Setup {
        timeout_s: 5,
        ..Setup::default()
    };
    let max_processes = setup.max_processes as usize;
    let mut server = Server::start(setup).await;
    let marker = marker();
    // At most 2^10 processes even if nothing stops it; each holds on until
    // the run is stopped.
    let code = fill(
        r#"
import ctypes, errno, os, time
libc = ctypes.CDLL(None)
libc.prctl(15, @MARKER@.encode(), 0, 0, 0)  # PR_SET_NAME
refused = None
for level in range(10):
    try:
        pid = os.fork()
    except OSError as error:
        refused = error
        break
    if pid == 0:
        libc.prctl(15, @MARKER@.encode(), 0, 0, 0)
# A moment for the rest to fork, so that the bomb is at its height when the
# test hears of it; one write each, so that lines never interleave.
time.sleep(1)
os.write(1, b"alive\n")
if refused is not None:
    os.write(1, f"refused {errno.errorcode.get(refused.errno, refused.errno)}\n".encode())
time.sleep(120)
"#,
        &[("MARKER", py(&marker))],
    );
    let mut response = server.post(&json!({ "code": code })).await;
    assert_eq!(response.status(), 200);
    let mut events = read_events(&mut response, 1).await;
    while !output(&events, "stdout").contains("alive")
        && events.last().is_some_and(|e| e.name != "end")
    {
        let more = read_events(&mut response, 1).await;
        if more.is_empty() {
            break;
        }
        events.extend(more);
    }
    // The server answers while the bomb holds on.
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "/healthz during the fork bomb");
    // Another reader's edited run, which starts a process of its own.
    let other = server
        .run("import os\npid = os.fork()\nif pid == 0:\n    print('child')\n    os._exit(0)\nos.waitpid(pid, 0)\nprint('parent')\n")
        .await;
    let authored = server.run_authored().await;
    events.extend(read_events(&mut response, usize::MAX).await);
    let ran = Ran { events };
    let left = leftovers(&marker).await;
    // Every way the bomb was not contained, at once.
    let mut uncontained = Vec::new();
    if (other.status(), other.stdout().as_str()) != ("ok", "child\nparent\n") {
        uncontained.push(format!(
            "another reader's run could not fork during the bomb:{other}"
        ));
    }
    if authored.stdout() != "hello\n" {
        uncontained.push(format!("an authored run during the bomb:{authored}"));
    }
    if !left.is_empty() {
        uncontained.push(format!(
            "processes of the bomb left running after its run ended: {left:?}"
        ));
    }
    if !["error", "timeout", "crashed"].contains(&ran.status()) {
        uncontained.push(format!("the bomb's run ended {}", ran.status()));
    }
    let alive = ran.stdout().lines().filter(|l| *l == "alive").count();
    if alive > max_processes {
        uncontained.push(format!(
            "{alive} processes of one run were alive at once; run.process.max_processes is {max_processes}"
        ));
    }
    if !ran.stdout().lines().any(|l| l.starts_with("refused")) {
        uncontained.push("no fork of the bomb was refused".to_string());
    }
    assert!(
        uncontained.is_empty(),
        "{}\nthe bomb's run:{ran}",
        uncontained.join("\n")
    );
    server.assert_serving("a fork bomb").await;
}

#[tokio::test]
async fn a_memory_bomb_ends_only_its_run() {
    if skip_without_full_sandbox("a_memory_bomb_ends_only_its_run") {
        return;
    }
    let setup = Setup {
        memory_limit_bytes: 256 << 20,
        ..Setup::default()
    };
    let mut server = Server::start(setup).await;
    // 4 GiB at most, written to so that it is really used.
    let code = r#"
chunks = []
total = 0
while total < 4 << 30:
    chunks.append(b"\x01" * (64 << 20))
    total += 64 << 20
    print("allocated", total >> 20, "MiB", flush=True)
print("allocated all 4 GiB")
"#;
    let mut response = server.post(&json!({ "code": code })).await;
    assert_eq!(response.status(), 200);
    let mut events = read_events(&mut response, 2).await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "/healthz during the memory bomb");
    events.extend(read_events(&mut response, usize::MAX).await);
    let ran = Ran { events };
    assert!(
        ["error", "timeout", "crashed"].contains(&ran.status()),
        "{ran}"
    );
    assert!(!ran.stdout().contains("allocated all"), "{ran}");
    if ran.status() == "error" {
        assert_eq!(ran.end()["error"]["type"], "MemoryError", "{ran}");
    }
    let reached = ran
        .stdout()
        .lines()
        .filter_map(|l| {
            l.strip_prefix("allocated ")?
                .strip_suffix(" MiB")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    assert!(
        reached <= 256,
        "the run allocated {reached} MiB with run.memory_limit_bytes at 256 MiB{ran}"
    );
    println!(
        "the memory bomb ended {} after {reached} MiB: {}",
        ran.status(),
        ran.message()
    );
    server.assert_serving("a memory bomb").await;
}

#[tokio::test]
async fn a_segfault_ends_only_its_run_as_crashed() {
    if skip_without_full_sandbox("a_segfault_ends_only_its_run_as_crashed") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let ran = server
        .run("import ctypes\nprint('before', flush=True)\nctypes.string_at(0)\nprint('after')\n")
        .await;
    assert_eq!(ran.status(), "crashed", "{ran}");
    assert!(
        ran.message().contains("SIGSEGV"),
        "the message names the signal{ran}"
    );
    assert_eq!(ran.stdout(), "before\n", "{ran}");
    server.assert_serving("a segfault").await;
}

#[tokio::test]
async fn a_timed_out_run_leaves_no_process_behind() {
    if skip_without_full_sandbox("a_timed_out_run_leaves_no_process_behind") {
        return;
    }
    let mut server = Server::start(Setup {
        timeout_s: 3,
        ..Setup::default()
    })
    .await;
    let marker = marker();
    // A child started with subprocess and one that tries to leave the process
    // group for a session of its own (ignoring SIGTERM and SIGHUP), both printing
    // after the timeout and living on well past it; the run itself is marked
    // too.
    let code = fill(
        r#"
import ctypes, os, signal, subprocess, sys, time
libc = ctypes.CDLL(None)
libc.prctl(15, @MARKER@.encode(), 0, 0, 0)  # PR_SET_NAME
late = "import time; time.sleep(4); print('late from subprocess', flush=True); time.sleep(60)"
try:
    subprocess.Popen([sys.executable, "-c", late, @MARKER@])
except OSError as error:
    print("subprocess refused:", error, flush=True)
if os.fork() == 0:
    try:
        os.setsid()
    except OSError:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    libc.prctl(15, @MARKER@.encode(), 0, 0, 0)
    time.sleep(4)
    print("late from a new session", flush=True)
    time.sleep(60)
    os._exit(0)
print("started", flush=True)
time.sleep(60)
"#,
        &[("MARKER", py(&marker))],
    );
    let ran = server.run(&code).await;
    assert_eq!(ran.status(), "timeout", "{ran}");
    if ran.stdout().contains("subprocess refused") {
        println!(
            "note: the sandbox refused to start a subprocess, so only forked \
             children were left to stop:{ran}"
        );
    } else {
        assert_eq!(ran.stdout(), "started\n", "{ran}");
    }
    // Past the moment the children would print (4 s after the first run
    // started), nothing of theirs reaches the next run.
    let next = server
        .run("import time\ntime.sleep(2.5)\nprint('next')\n")
        .await;
    let left = leftovers(&marker).await;
    assert!(
        left.is_empty(),
        "processes of a timed-out run still running: {left:?}{ran}"
    );
    assert_eq!(
        (
            next.status(),
            next.stdout().as_str(),
            next.stderr().as_str()
        ),
        ("ok", "next\n", ""),
        "{next}"
    );
    server.assert_serving("a timed-out run").await;
}

#[tokio::test]
async fn a_finished_run_leaves_no_process_behind() {
    if skip_without_full_sandbox("a_finished_run_leaves_no_process_behind") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let marker = marker();
    // The child lets go of the run's output, as a daemon does, and lives on.
    let code = fill(
        r#"
import ctypes, os, time
pid = os.fork()
if pid == 0:
    ctypes.CDLL(None).prctl(15, @MARKER@.encode(), 0, 0, 0)  # PR_SET_NAME
    null = os.open("/dev/null", os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    time.sleep(60)
    os._exit(0)
print("left a child behind", flush=True)
"#,
        &[("MARKER", py(&marker))],
    );
    let ran = server.run(&code).await;
    let left = leftovers(&marker).await;
    assert!(
        left.is_empty(),
        "a process of a finished run still running: {left:?}{ran}"
    );
    let expected = host_python(&code);
    // python3 returned at once; its child is this test's to stop.
    kill_marked(&marker);
    assert_eq!(
        (ran.status(), ran.stdout()),
        ("ok", String::from_utf8_lossy(&expected.stdout).into_owned()),
        "python3 exits 0 as soon as the script ends{ran}"
    );
    server.assert_serving("a run that left a child").await;
}

#[tokio::test]
async fn a_server_that_stops_takes_its_warm_interpreter_and_children_with_it() {
    if skip_without_full_sandbox(
        "a_server_that_stops_takes_its_warm_interpreter_and_children_with_it",
    ) {
        return;
    }
    // Many warm children, which all have to go.
    for signal in [libc::SIGKILL, libc::SIGTERM] {
        let mut server = Server::start(Setup {
            warm: 16,
            ..Setup::default()
        })
        .await;
        let cgroup = pids_cgroup_of(server.pid);
        let ran = server.run("import os\nprint(os.getppid())\n").await;
        let zygote: u32 = ran.stdout().trim().parse().unwrap();
        let warm = children_of(zygote);
        assert!(
            !warm.is_empty(),
            "the warm interpreter {zygote} has no children ready"
        );
        if let Some(cgroup) = &cgroup {
            assert!(cgroup.is_dir(), "no pids cgroup at {}", cgroup.display());
        }
        // SAFETY: plain kill(2) of the server this test started.
        unsafe { libc::kill(server.pid as i32, signal) };
        let stopped = tokio::time::timeout(Duration::from_secs(10), server.child.wait()).await;
        assert!(
            stopped.is_ok(),
            "the server did not stop on signal {signal}"
        );
        let gone = eventually(Duration::from_secs(10), || async {
            (!running(zygote) && warm.iter().all(|pid| !running(*pid))).then_some(())
        })
        .await;
        assert!(
            gone.is_some(),
            "after signal {signal} to the server, still running: warm interpreter {} \
             and children {:?}",
            running(zygote),
            warm.iter().filter(|pid| running(**pid)).collect::<Vec<_>>()
        );
        // A group left behind is removed once empty (it only can be then),
        // and reported.
        let left = cgroup.as_ref().filter(|c| c.exists());
        if let Some(left) = left {
            // Each run has a group of its own inside it.
            let emptied = eventually(Duration::from_secs(10), || async {
                for entry in std::fs::read_dir(left).into_iter().flatten().flatten() {
                    if entry.file_name().to_string_lossy().starts_with("run-") {
                        let _ = std::fs::remove_dir(entry.path());
                    }
                }
                std::fs::remove_dir(left).is_ok().then_some(())
            })
            .await;
            assert!(emptied.is_some(), "{} never emptied", left.display());
        }
        match (left, signal) {
            (Some(left), libc::SIGTERM) => panic!(
                "a server stopped by SIGTERM left its pids cgroup {} (emptied only after)",
                left.display()
            ),
            (Some(left), _) => println!(
                "note: a server ended by SIGKILL leaves its pids cgroup {} (removed)",
                left.display()
            ),
            (None, _) if cgroup.is_none() => {
                println!("note: this host has no cgroup v1 pids hierarchy to look in")
            }
            (None, _) => {}
        }
    }
}

#[tokio::test]
async fn eight_edited_runs_at_once_each_see_only_their_own_output() {
    if skip_without_full_sandbox("eight_edited_runs_at_once_each_see_only_their_own_output") {
        return;
    }
    let mut server = Server::start(Setup::default()).await;
    let codes: Vec<String> = (0..8)
        .map(|n| {
            let tag = format!("run{n}-{}", token());
            format!(
                "import sys, time\nfor i in range(300):\n    print({tag:?}, i)\n    \
                 print({tag:?}, -i, file=sys.stderr)\n    if i % 30 == 0:\n        time.sleep(0.01)\n"
            )
        })
        .collect();
    let expected: Vec<std::process::Output> = codes.iter().map(|code| host_python(code)).collect();
    let runs = codes.iter().map(|code| server.run(code));
    let results = futures_util::future::join_all(runs).await;
    for (n, (ran, expected)) in results.iter().zip(&expected).enumerate() {
        assert_eq!(ran.status(), "ok", "run {n}{ran}");
        assert!(
            ran.stdout() == String::from_utf8_lossy(&expected.stdout)
                && ran.stderr() == String::from_utf8_lossy(&expected.stderr),
            "run {n} differs from python3's output{ran}"
        );
    }
    server.assert_serving("eight runs at once").await;
}

#[tokio::test]
async fn edited_code_is_refused_when_off_too_big_not_json_or_cross_site() {
    // These refusals come before any sandbox, so any machine can check them.
    let off = Server::start(Setup {
        edit: "off",
        minimum_sandbox: "none",
        ..Setup::default()
    })
    .await;
    let response = off.post(&json!({ "code": "print(1)" })).await;
    assert_eq!(response.status(), 403, "run.edit = \"off\"");
    let body: Value = response.json().await.expect("a JSON error");
    assert!(body["error"].is_string(), "{body}");

    let open = Server::start(Setup {
        minimum_sandbox: "none",
        ..Setup::default()
    })
    .await;
    // Just under the limit runs; just over it is refused.
    let under = format!("x = '{}'\nprint(len(x))\n", "a".repeat(60 * 1024));
    let ran = open.run(&under).await;
    assert_eq!(
        (ran.status(), ran.stdout()),
        ("ok", format!("{}\n", 60 * 1024)),
        "{ran}"
    );
    let over = format!("x = '{}'\nprint(len(x))\n", "a".repeat(64 * 1024));
    let response = open.post(&json!({ "code": over })).await;
    assert_eq!(response.status(), 413, "a body over 64 KiB");

    let response = open
        .client
        .post(open.url("/api/run"))
        .header("content-type", "text/plain")
        .body(json!({ "code": "print(1)" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415, "a body that is not JSON");

    for (header, value) in [
        ("Origin", "https://elsewhere.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let response = open
            .client
            .post(open.url("/api/run"))
            .header(header, value)
            .json(&json!({ "code": "print(1)" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{header}: {value}");
        let body: Value = response.json().await.expect("a JSON error");
        assert!(body["error"].is_string(), "{body}");
    }
}
