//! Process mode: each run in its own sandboxed child, forked from a warm
//! interpreter.
//!
//! ```text
//! submit ──bounded queue──▶ supervisor thread ──takes──▶ ready child (sandboxed, waiting)
//!                                 │  code ▶ pipe          ▲
//!                                 ◀ stdout/stderr/result  │ forked in advance by
//!                                                         │ the zygote (`rundocs __zygote`)
//!                           keeper thread ────────────────┘ keeps `warm` ready, recycles the zygote
//! ```
//!
//! The server process never runs a line of the code: it only writes the code
//! into a pipe and reads the output back, so a crash, a fork bomb or a memory
//! bomb ends the child, never the server. Runs use every core: each is a
//! process with its own GIL.
pub mod cgroup;
pub mod entry;
pub mod supervise;
pub mod zygote;

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};

use super::events::{EndStatus, RunEnd, RunEvent};
use super::metrics::RunMetrics;
use super::run_state::Phase;
use super::SubmitError;
use crate::config::{Config, SandboxLevel};
use crate::sandbox::{Reached, SandboxSettings};
pub use supervise::ProcessJob;
use zygote::{ReadyChild, Zygote};

/// How long start-up waits for the first sandboxed child.
const FIRST_CHILD_WITHIN: Duration = Duration::from_secs(60);
/// CPU seconds a child may use before it receives its run's own limit.
const CPU_BACKSTOP_S: u64 = crate::config::MAX_TIMEOUT_S as u64 + 1;

/// Process mode's settings, from the `run` section.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    pub supervisors: usize,
    pub queue: usize,
    pub warm: usize,
    pub recycle_after_runs: u64,
    pub recycle_after: Duration,
    pub minimum_sandbox: SandboxLevel,
    /// Untrusted code may run (edited examples, pages being saved): a
    /// sandbox below the minimum fails start-up.
    pub editing: bool,
    pub preload: Vec<String>,
    pub preload_venv: bool,
    pub site_packages: Option<PathBuf>,
    pub sandbox: SandboxSettings,
    /// The `rundocs` binary to start as the zygote (`None`: this one).
    pub program: Option<PathBuf>,
}

impl ProcessSettings {
    pub fn from_config(config: &Config) -> ProcessSettings {
        let process = &config.run.process;
        ProcessSettings {
            supervisors: config.run.workers,
            queue: config.run.queue,
            warm: process.warm,
            recycle_after_runs: process.recycle_after_runs,
            recycle_after: Duration::from_secs(process.recycle_after_s),
            minimum_sandbox: process.minimum_sandbox,
            editing: config.runs_untrusted_code(),
            preload: process.preload.clone(),
            preload_venv: process.preload_venv,
            // The zygote starts in `/`: a relative path would lead nowhere.
            site_packages: config
                .venv_site_packages
                .as_deref()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())),
            program: config.zygote_program.clone(),
            sandbox: SandboxSettings {
                tmp_size_bytes: process.tmp_size_bytes,
                max_processes: process.max_processes,
                memory_bytes: config.run.memory_limit_bytes,
                cpu_seconds: CPU_BACKSTOP_S,
                pids_cgroup: None,
                read_paths: Vec::new(),
            },
        }
    }
}

/// What the supervisors and the keeper share.
/// How long the keeper waits before it forks a replacement while another
/// child is still ready. Forking and entering the sandbox (namespaces above
/// all) take a core for some milliseconds; done at once, they compete with
/// the run that just took a child, whose first output a reader is waiting
/// for. With no child left it forks at once.
const REFILL_AFTER: Duration = Duration::from_millis(3);

struct Shared {
    settings: ProcessSettings,
    ready: Mutex<VecDeque<ReadyChild>>,
    /// Wakes the keeper when a ready child was taken (or it must stop).
    wanted: Condvar,
    zygote: Mutex<Option<Arc<Zygote>>>,
    reached: Mutex<Reached>,
    stopping: AtomicBool,
    zygotes_started: AtomicU64,
    forked_on_demand: AtomicU64,
    /// The pids cgroup of all runs, removed by the keeper when it stops.
    cgroup: Option<cgroup::PidsCgroup>,
}

/// Process mode's runs.
pub struct ProcessPool {
    jobs: Sender<ProcessJob>,
    shared: Arc<Shared>,
    keeper: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl ProcessPool {
    /// Starts the keeper (and its zygote) and the supervisors; returns once
    /// the first child has entered its sandbox, or with why none could.
    pub fn start(
        mut settings: ProcessSettings,
        metrics: Arc<RunMetrics>,
    ) -> Result<ProcessPool, String> {
        let cgroup = cgroup::PidsCgroup::create(
            u64::from(settings.sandbox.max_processes)
                * (settings.supervisors + settings.warm) as u64,
        );
        match &cgroup {
            Ok(group) => settings.sandbox.pids_cgroup = Some(group.path().to_path_buf()),
            Err(note) => {
                tracing::info!("process mode: no pids cgroup ({note}); RLIMIT_NPROC caps processes")
            }
        }
        let shared = Arc::new(Shared {
            settings,
            ready: Mutex::new(VecDeque::new()),
            wanted: Condvar::new(),
            zygote: Mutex::new(None),
            reached: Mutex::new(Reached::default()),
            stopping: AtomicBool::new(false),
            zygotes_started: AtomicU64::new(0),
            forked_on_demand: AtomicU64::new(0),
            cgroup: cgroup.ok(),
        });
        let (first, first_known) = crossbeam_channel::bounded(1);
        let keeper = std::thread::Builder::new()
            .name("rundocs-zygote-keeper".into())
            .spawn({
                let shared = shared.clone();
                move || keep(&shared, first)
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let reached = first_known
            .recv_timeout(FIRST_CHILD_WITHIN)
            .map_err(|_| "the warm interpreter did not fork a first child in time".to_string())??;
        if let Some(problem) = crate::sandbox::shortfall(&reached, shared.settings.minimum_sandbox)
        {
            if shared.settings.editing {
                shared.stop();
                return Err(problem);
            }
            tracing::warn!("process mode: {problem}");
        }
        tracing::info!("process mode: sandbox {}", reached.summary());
        for note in &reached.notes {
            tracing::info!("process mode: {note}");
        }
        let (jobs, queue) = crossbeam_channel::bounded::<ProcessJob>(shared.settings.queue);
        for index in 0..shared.settings.supervisors {
            let queue = queue.clone();
            let shared = shared.clone();
            let metrics = metrics.clone();
            std::thread::Builder::new()
                .name(format!("rundocs-process-{index}"))
                .spawn(move || {
                    while let Ok(job) = queue.recv() {
                        run_job(&shared, &metrics, job);
                    }
                })
                .map_err(|e| format!("cannot start a thread: {e}"))?;
        }
        Ok(ProcessPool {
            jobs,
            shared,
            keeper: Mutex::new(Some(keeper)),
        })
    }

    /// Queues a run; never blocks.
    pub fn submit(&self, job: ProcessJob) -> Result<(), SubmitError> {
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(SubmitError::QueueFull(self.shared.settings.queue)),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::ShuttingDown),
        }
    }

    pub fn queue_depth(&self) -> usize {
        self.jobs.len()
    }

    /// What the last child forked reached.
    pub fn reached(&self) -> Reached {
        self.shared.reached.lock().expect("reached lock").clone()
    }

    /// Stops forking; warm children and the zygote exit.
    pub fn shutdown(&self) {
        self.shared.stop();
    }

    /// Waits (blocking) at most `within` for the zygote to exit after
    /// [`ProcessPool::shutdown`] and the runs' cgroup to be removed.
    pub fn wait_stopped(&self, within: Duration) {
        let deadline = Instant::now() + within;
        let keeper = self.keeper.lock().expect("keeper lock").take();
        if let Some(keeper) = keeper {
            while !keeper.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if keeper.is_finished() {
                let _ = keeper.join();
            }
        }
    }

    /// Prometheus text of process mode's own gauges.
    pub fn metrics_text(&self) -> String {
        let reached = self.reached();
        let ready = self.shared.ready.lock().expect("ready lock").len();
        let mut text = String::new();
        text.push_str("# HELP rundocs_sandbox_level The sandbox level process-mode children reach (1 for the level reached).\n# TYPE rundocs_sandbox_level gauge\n");
        for level in [
            SandboxLevel::None,
            SandboxLevel::Basic,
            SandboxLevel::Landlock,
            SandboxLevel::Full,
        ] {
            let value = u8::from(level == reached.level);
            text.push_str(&format!(
                "rundocs_sandbox_level{{level=\"{}\"}} {value}\n",
                level.name()
            ));
        }
        text.push_str(&format!(
            "# HELP rundocs_sandbox_landlock_abi The Landlock ABI children enforce (0: none).\n# TYPE rundocs_sandbox_landlock_abi gauge\nrundocs_sandbox_landlock_abi {}\n",
            reached.landlock_abi
        ));
        text.push_str(&format!(
            "# HELP rundocs_process_warm_children Sandboxed children waiting for code.\n# TYPE rundocs_process_warm_children gauge\nrundocs_process_warm_children {ready}\n"
        ));
        text.push_str(&format!(
            "# HELP rundocs_process_warm_target Sandboxed children kept waiting for code (run.process.warm).\n# TYPE rundocs_process_warm_target gauge\nrundocs_process_warm_target {}\n",
            self.shared.settings.warm
        ));
        text.push_str(&format!(
            "# HELP rundocs_process_supervisors Process-mode runs at once (capacity).\n# TYPE rundocs_process_supervisors gauge\nrundocs_process_supervisors {}\n",
            self.shared.settings.supervisors
        ));
        text.push_str(&format!(
            "# HELP rundocs_zygote_starts Warm interpreters started (recycling starts a new one).\n# TYPE rundocs_zygote_starts counter\nrundocs_zygote_starts_total {}\n",
            self.shared.zygotes_started.load(Ordering::Relaxed)
        ));
        text.push_str(&format!(
            "# HELP rundocs_process_forks_on_demand Runs that found no child ready and waited for a fork.\n# TYPE rundocs_process_forks_on_demand counter\nrundocs_process_forks_on_demand_total {}\n",
            self.shared.forked_on_demand.load(Ordering::Relaxed)
        ));
        text
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

impl Shared {
    fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.ready.lock().expect("ready lock").clear();
        self.wanted.notify_all();
    }

    /// A ready child: one forked in advance, or else one forked now.
    fn take(&self) -> Result<ReadyChild, String> {
        let taken = self.ready.lock().expect("ready lock").pop_front();
        if let Some(child) = &taken {
            child.zygote.runs.fetch_add(1, Ordering::Relaxed);
        }
        self.wanted.notify_all();
        let child = match taken {
            Some(child) => child,
            None => {
                self.forked_on_demand.fetch_add(1, Ordering::Relaxed);
                let zygote = self
                    .zygote
                    .lock()
                    .expect("zygote lock")
                    .clone()
                    .ok_or("the warm interpreter is starting")?;
                zygote.runs.fetch_add(1, Ordering::Relaxed);
                zygote.fork_child()?
            }
        };
        Ok(child)
    }

    fn due_for_recycling(&self, zygote: &Zygote) -> bool {
        zygote.is_gone()
            || zygote.runs.load(Ordering::Relaxed) >= self.settings.recycle_after_runs
            || zygote.started.elapsed() >= self.settings.recycle_after
    }
}

/// The keeper: starts (and replaces) the zygote and keeps `warm` children
/// ready. Zygotes are started on this thread only, because a zygote dies
/// with the thread that started it (and this one lives as long as the pool).
fn keep(shared: &Arc<Shared>, first: Sender<Result<Reached, String>>) {
    let mut first = Some(first);
    let mut failures = 0u32;
    // Since when fewer than `warm` children have been ready.
    let mut short_since: Option<Instant> = None;
    while !shared.stopping.load(Ordering::Acquire) {
        let current = shared.zygote.lock().expect("zygote lock").clone();
        let zygote = match current {
            Some(zygote) if !shared.due_for_recycling(&zygote) => zygote,
            old => {
                let started = Zygote::start(
                    shared.settings.program.as_deref(),
                    &shared.settings.sandbox,
                    &shared.settings.preload,
                    shared.settings.preload_venv,
                    shared.settings.site_packages.as_deref(),
                );
                let zygote = match started {
                    Ok(zygote) => zygote,
                    Err(error) => {
                        failures += 1;
                        tracing::error!("process mode: {error}");
                        if let Some(first) = first.take() {
                            let _ = first.send(Err(error));
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(
                            200 * u64::from(failures.min(25)),
                        ));
                        continue;
                    }
                };
                failures = 0;
                shared.zygotes_started.fetch_add(1, Ordering::Relaxed);
                *shared.zygote.lock().expect("zygote lock") = Some(zygote.clone());
                if let Some(old) = old {
                    // Its waiting children go (their code pipes close); it
                    // exits once the runs it forked have ended.
                    shared
                        .ready
                        .lock()
                        .expect("ready lock")
                        .retain(|child| !Arc::ptr_eq(&child.zygote, &old));
                    old.retire();
                    std::thread::spawn(move || old.reap(Duration::from_secs(3700)));
                }
                zygote
            }
        };
        let ready = shared.ready.lock().expect("ready lock").len();
        if ready < shared.settings.warm.max(usize::from(first.is_some())) {
            // While a child is still ready, the replacement waits a little:
            // the cores go to the run that just took a child first.
            let deferred = *short_since.get_or_insert_with(Instant::now);
            if ready > 0 && first.is_none() && deferred.elapsed() < REFILL_AFTER {
                let ready = shared.ready.lock().expect("ready lock");
                let _ = shared
                    .wanted
                    .wait_timeout(ready, REFILL_AFTER.saturating_sub(deferred.elapsed()))
                    .expect("ready lock");
                continue;
            }
            short_since = None;
            match zygote.fork_child() {
                Ok(child) => {
                    *shared.reached.lock().expect("reached lock") = child.reached.clone();
                    if let Some(first) = first.take() {
                        let _ = first.send(Ok(child.reached.clone()));
                    }
                    if shared.settings.warm > 0 && !shared.stopping.load(Ordering::Acquire) {
                        shared.ready.lock().expect("ready lock").push_back(child);
                    }
                }
                Err(error) => {
                    tracing::error!("process mode: {error}");
                    if let Some(first) = first.take() {
                        let _ = first.send(Err(error));
                        return;
                    }
                    zygote.retire();
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
            continue;
        }
        let ready = shared.ready.lock().expect("ready lock");
        let _ = shared
            .wanted
            .wait_timeout(ready, Duration::from_secs(1))
            .expect("ready lock");
    }
    if let Some(zygote) = shared.zygote.lock().expect("zygote lock").take() {
        zygote.retire();
        zygote.reap(Duration::from_secs(5));
    }
    if let Some(cgroup) = &shared.cgroup {
        cgroup.remove(Duration::from_secs(2));
    }
}

/// One queued run, on a supervisor thread.
fn run_job(shared: &Shared, metrics: &RunMetrics, job: ProcessJob) {
    let state = job.state.clone();
    let waited_ms = state.submitted.elapsed().as_secs_f64() * 1e3;
    if let Some(reason) = state.stop_reason() {
        state.push(RunEvent::End(super::worker::stopped_end(
            reason,
            waited_ms,
            0.0,
            job.timeout,
        )));
        state.set_phase(Phase::Ended);
        return;
    }
    state.set_phase(Phase::Running);
    metrics.run_started();
    let started = Instant::now();
    let status = match shared.take() {
        Ok(child) => {
            state.push(RunEvent::Start {
                run_id: state.id.clone(),
                queued_ms: waited_ms,
            });
            supervise::supervise(child, job)
        }
        Err(error) => {
            tracing::error!("process mode: cannot start a run: {error}");
            state.push(RunEvent::End(RunEnd::rejected(format!(
                "The server could not start a sandboxed process for this run ({error}); try again in a moment."
            ))));
            EndStatus::Rejected
        }
    };
    metrics.run_ended(status, started.elapsed().as_secs_f64(), None);
    state.set_phase(Phase::Ended);
}

/// Kills a run's process group (its leader's pid is the group's id).
pub fn kill_group(leader: i32) {
    if leader > 1 {
        // SAFETY: kill has no memory effects; a gone group answers ESRCH.
        unsafe { libc::kill(-leader, libc::SIGKILL) };
    }
}

/// Whether `fd` becomes readable (or closes) within `timeout`.
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(
            &mut fds,
            PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
}
