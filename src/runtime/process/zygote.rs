//! The server's side of one warm interpreter (a zygote): starting it,
//! asking it for children, and hearing how they ended.
//!
//! The zygote is `rundocs` run again (`rundocs __zygote`) with a scrubbed
//! environment; it talks over a `SOCK_SEQPACKET` socket on its fd 3 (see
//! `python/rundocs_zygote.py` for the messages). For each child the server
//! makes four pipes and passes the child's ends along with the fork request,
//! so the server alone holds the other ends: the code it sends, and the
//! output and result it reads.
use std::collections::HashMap;
use std::io::{IoSlice, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};
use nix::fcntl::OFlag;
use nix::sys::socket::{
    recv, sendmsg, socketpair, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType,
};
use serde::Deserialize;
use serde_json::json;

use crate::sandbox::{Reached, SandboxSettings};

/// The fd the zygote finds its control socket on.
const CONTROL_FD: RawFd = 3;
/// How long a zygote may take to start and import its modules.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long forking a child and its sandbox may take.
const FORK_TIMEOUT: Duration = Duration::from_secs(10);
/// Exit reports nobody asked for yet are kept up to this many.
const UNCLAIMED_EXITS: usize = 256;
/// Thread-pool sizes of numerical libraries (OpenBLAS starts its pool when
/// numpy is imported), unless the operator set them.
const SINGLE_THREADED_LIBRARIES: [(&str, &str); 4] = [
    ("OPENBLAS_NUM_THREADS", "1"),
    ("OMP_NUM_THREADS", "1"),
    ("MKL_NUM_THREADS", "1"),
    ("NUMEXPR_NUM_THREADS", "1"),
];

/// Environment variables the zygote keeps: the locale, the program search
/// path, and the interpreter's own settings (`PYTHON*`). Nothing else
/// reaches it (no secrets, no configuration).
fn kept_environment(name: &str) -> bool {
    matches!(name, "PATH" | "LANG" | "TZ" | "LD_LIBRARY_PATH")
        || SINGLE_THREADED_LIBRARIES
            .iter()
            .any(|(kept, _)| *kept == name)
        || name.starts_with("LC_")
        || name.starts_with("PYTHON")
}

/// How a child process ended, as its zygote saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExitReport {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// User and system CPU time of the child and the children it waited for.
    pub cpu_s: f64,
}

#[derive(Deserialize)]
struct Message {
    op: String,
    token: Option<u64>,
    pid: Option<i32>,
    code: Option<i32>,
    signal: Option<i32>,
    cpu_s: Option<f64>,
    message: Option<String>,
}

#[derive(Default)]
struct Waiters {
    forks: HashMap<u64, Sender<Result<i32, String>>>,
    exits: HashMap<i32, Sender<ExitReport>>,
    unclaimed: HashMap<i32, ExitReport>,
    gone: bool,
}

/// One running zygote.
pub struct Zygote {
    control: Mutex<OwnedFd>,
    process: Mutex<Child>,
    waiters: Arc<Mutex<Waiters>>,
    next_token: AtomicU64,
    pub started: Instant,
    /// Children handed to runs.
    pub runs: AtomicU64,
}

/// A child that entered its sandbox and waits for code.
pub struct ReadyChild {
    pub pid: i32,
    pub code: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    pub result: OwnedFd,
    pub reached: Reached,
    pub zygote: Arc<Zygote>,
}

impl Zygote {
    /// Starts a zygote and configures it. Call it from a thread that lives as
    /// long as the server: the zygote dies with the thread that started it.
    pub fn start(
        program: Option<&std::path::Path>,
        sandbox: &SandboxSettings,
        preload: &[String],
        preload_venv: bool,
        site_packages: Option<&std::path::Path>,
    ) -> Result<Arc<Zygote>, String> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| format!("socketpair: {e}"))?;
        let exe = match program {
            Some(program) => program.to_path_buf(),
            None => {
                std::env::current_exe().map_err(|e| format!("cannot find rundocs' binary: {e}"))?
            }
        };
        let mut command = Command::new(exe);
        command
            .arg("__zygote")
            .env_clear()
            .envs(
                std::env::vars_os().filter(|(name, _)| name.to_str().is_some_and(kept_environment)),
            )
            // One thread per numerical library: a forked child cannot use
            // its parent's thread pools, and runs use every core as processes.
            .envs(
                SINGLE_THREADED_LIBRARIES
                    .iter()
                    .filter(|(name, _)| std::env::var_os(name).is_none())
                    .copied(),
            )
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(site_packages) = site_packages {
            command.arg(site_packages);
        }
        let theirs_fd = theirs.as_raw_fd();
        // SAFETY: between fork and exec only async-signal-safe calls (dup2,
        // prctl, getppid) run.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(theirs_fd, CONTROL_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let process = command
            .spawn()
            .map_err(|e| format!("cannot start the warm interpreter: {e}"))?;
        drop(theirs);
        let zygote = Arc::new(Zygote {
            control: Mutex::new(ours),
            process: Mutex::new(process),
            waiters: Arc::new(Mutex::new(Waiters::default())),
            next_token: AtomicU64::new(1),
            started: Instant::now(),
            runs: AtomicU64::new(0),
        });
        zygote.send(
            &json!({
                "op": "configure",
                "sandbox": sandbox,
                "preload": preload,
                "preload_venv": preload_venv,
            }),
            &[],
        )?;
        let started = zygote.receive(START_TIMEOUT)?;
        if started.op != "started" {
            return Err(format!(
                "the warm interpreter answered {:?} at start",
                started.op
            ));
        }
        let reader = zygote.clone();
        std::thread::Builder::new()
            .name("rundocs-zygote-reader".into())
            .spawn(move || reader.read_reports())
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(zygote)
    }

    fn send(&self, message: &serde_json::Value, fds: &[RawFd]) -> Result<(), String> {
        let bytes = message.to_string();
        let control = self.control.lock().expect("zygote control lock");
        let rights = [ControlMessage::ScmRights(fds)];
        let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
        sendmsg::<()>(
            control.as_raw_fd(),
            &[IoSlice::new(bytes.as_bytes())],
            cmsgs,
            MsgFlags::empty(),
            None,
        )
        .map(|_| ())
        .map_err(|e| format!("the warm interpreter is gone ({e})"))
    }

    /// One message, waiting at most `timeout` (before the reader thread runs).
    fn receive(&self, timeout: Duration) -> Result<Message, String> {
        let control = self.control.lock().expect("zygote control lock");
        let ready = super::wait_readable(control.as_fd(), timeout);
        if !ready {
            return Err(format!(
                "the warm interpreter did not start within {} s",
                timeout.as_secs()
            ));
        }
        let mut buffer = [0u8; 4096];
        let n = match recv(control.as_raw_fd(), &mut buffer, MsgFlags::empty()) {
            Err(nix::errno::Errno::ECONNRESET) => 0,
            other => other.map_err(|e| format!("the warm interpreter: {e}"))?,
        };
        if n == 0 {
            return Err(
                "the warm interpreter exited at start (its error is in the log above)".into(),
            );
        }
        serde_json::from_slice(&buffer[..n]).map_err(|e| format!("the warm interpreter said: {e}"))
    }

    /// The reader thread: routes fork answers and exit reports to whoever waits.
    fn read_reports(self: Arc<Self>) {
        let fd = self
            .control
            .lock()
            .expect("zygote control lock")
            .as_raw_fd();
        let mut buffer = [0u8; 4096];
        loop {
            let n = match recv(fd, &mut buffer, MsgFlags::empty()) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => 0,
            };
            let mut waiters = self.waiters.lock().expect("zygote waiters lock");
            if n == 0 {
                waiters.gone = true;
                waiters.forks.clear();
                waiters.exits.clear();
                return;
            }
            let Ok(message) = serde_json::from_slice::<Message>(&buffer[..n]) else {
                continue;
            };
            match (message.op.as_str(), message.token, message.pid) {
                ("forked", Some(token), Some(pid)) => {
                    if let Some(waiter) = waiters.forks.remove(&token) {
                        let _ = waiter.send(Ok(pid));
                    }
                }
                ("refused", Some(token), _) => {
                    if let Some(waiter) = waiters.forks.remove(&token) {
                        let _ = waiter.send(Err(message.message.unwrap_or_default()));
                    }
                }
                ("exit", _, Some(pid)) => {
                    let report = ExitReport {
                        code: message.code,
                        signal: message.signal,
                        cpu_s: message.cpu_s.unwrap_or(0.0),
                    };
                    match waiters.exits.remove(&pid) {
                        Some(waiter) => {
                            let _ = waiter.send(report);
                        }
                        None => {
                            if waiters.unclaimed.len() >= UNCLAIMED_EXITS {
                                waiters.unclaimed.clear();
                            }
                            waiters.unclaimed.insert(pid, report);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Forks a child, which enters its sandbox; returns it once it says so.
    pub fn fork_child(self: &Arc<Self>) -> Result<ReadyChild, String> {
        let pipe =
            || nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("cannot make a pipe: {e}"));
        let (code_read, code_write) = pipe()?;
        let (stdout_read, stdout_write) = pipe()?;
        let (stderr_read, stderr_write) = pipe()?;
        let (result_read, result_write) = pipe()?;
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = bounded(1);
        {
            let mut waiters = self.waiters.lock().expect("zygote waiters lock");
            if waiters.gone {
                return Err("the warm interpreter is gone".into());
            }
            waiters.forks.insert(token, answer);
        }
        let fds = [
            code_read.as_raw_fd(),
            stdout_write.as_raw_fd(),
            stderr_write.as_raw_fd(),
            result_write.as_raw_fd(),
        ];
        self.send(&json!({"op": "fork", "token": token}), &fds)?;
        drop((code_read, stdout_write, stderr_write, result_write));
        let pid = answered
            .recv_timeout(FORK_TIMEOUT)
            .map_err(|_| "the warm interpreter did not fork in time, or is gone".to_string())??;
        let reached =
            read_ready_line(&result_read, FORK_TIMEOUT).inspect_err(|_| super::kill_group(pid))?;
        Ok(ReadyChild {
            pid,
            code: code_write,
            stdout: stdout_read,
            stderr: stderr_read,
            result: result_read,
            reached,
            zygote: self.clone(),
        })
    }

    /// How `pid` ended, waiting at most `timeout` for the report.
    pub fn wait_exit(&self, pid: i32, timeout: Duration) -> Option<ExitReport> {
        let (report, reported) = bounded(1);
        {
            let mut waiters = self.waiters.lock().expect("zygote waiters lock");
            if let Some(done) = waiters.unclaimed.remove(&pid) {
                return Some(done);
            }
            if waiters.gone {
                return None;
            }
            waiters.exits.insert(pid, report);
        }
        let got = reported.recv_timeout(timeout).ok();
        self.waiters
            .lock()
            .expect("zygote waiters lock")
            .exits
            .remove(&pid);
        got
    }

    /// Whether the zygote has reported `pid`'s end (the report stays for
    /// [`Zygote::wait_exit`]).
    pub fn has_exited(&self, pid: i32) -> bool {
        self.waiters
            .lock()
            .expect("zygote waiters lock")
            .unclaimed
            .contains_key(&pid)
    }

    pub fn is_gone(&self) -> bool {
        self.waiters.lock().expect("zygote waiters lock").gone
    }

    /// Asks the zygote to go: it forks no more and exits once its children have.
    pub fn retire(&self) {
        let control = self.control.lock().expect("zygote control lock");
        let _ = nix::sys::socket::shutdown(control.as_raw_fd(), nix::sys::socket::Shutdown::Write);
    }

    /// Waits for the zygote process to exit (after [`Zygote::retire`]) at
    /// most `within`, then kills it.
    pub fn reap(&self, within: Duration) {
        let deadline = Instant::now() + within;
        let mut process = self.process.lock().expect("zygote process lock");
        while Instant::now() < deadline {
            if let Ok(Some(_)) = process.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = process.kill();
        let _ = process.wait();
    }
}

/// The child's first line on its result pipe: `{"ready": ...}` or `{"failed": ...}`.
fn read_ready_line(result: &OwnedFd, timeout: Duration) -> Result<Reached, String> {
    #[derive(Deserialize)]
    struct First {
        ready: Option<Reached>,
        failed: Option<String>,
    }
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    let mut file = std::fs::File::from(result.try_clone().map_err(|e| e.to_string())?);
    let mut chunk = [0u8; 4096];
    // The child writes nothing more until it has code, so a read never takes
    // more than this line.
    while !line.ends_with(b"\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        if !super::wait_readable(result.as_fd(), left) {
            return Err("the child did not enter its sandbox in time".into());
        }
        match file.read(&mut chunk) {
            Ok(0) => return Err("the child exited while entering its sandbox".into()),
            Ok(n) => line.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let first: First = serde_json::from_slice(&line).map_err(|e| e.to_string())?;
    match (first.ready, first.failed) {
        (Some(reached), _) => Ok(reached),
        (None, failed) => Err(format!(
            "the child could not enter its sandbox: {}",
            failed.unwrap_or_default()
        )),
    }
}
