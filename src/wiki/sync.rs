//! Several instances, one wiki: following a git remote (`wiki.remote`).
//!
//! The writer pushes after each commit; every instance fetches the remote's
//! `wiki.branch` every `wiki.sync_interval_s` and on `POST /api/sync`, then
//! takes what is new:
//!
//! - the remote is ahead: fast-forward (the work tree is checked out safely,
//!   never over a file changed on disk);
//! - both moved and the pages merge cleanly: a merge commit, pushed;
//! - both changed the same lines: the local commits go to a branch
//!   `rundocs/conflict-<time>`, this instance takes the remote's state, and
//!   the conflict is logged and counted in `/metrics`. Syncing goes on.
//!
//! Fetch and push use the `git` command (its transports and credential
//! helpers); everything else is libgit2. The work runs on a thread of its
//! own, so a slow remote never holds up a save.
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use git2::{Oid, Repository};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::Wiki;
use crate::config::WikiConfig;

/// The ref a fetch leaves the remote's branch in.
const UPSTREAM_REF: &str = "refs/rundocs/upstream";

/// Longest a `git fetch` or `git push` may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// What one round of syncing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing new either way.
    UpToDate,
    /// The remote's commits were taken.
    FastForwarded,
    /// Both sides moved; merged and pushed.
    Merged,
    /// Local commits were pushed.
    Pushed,
    /// Both changed the same lines: local commits kept on a branch.
    Conflict,
    Failed,
}

impl Outcome {
    const ALL: [Outcome; 6] = [
        Outcome::UpToDate,
        Outcome::FastForwarded,
        Outcome::Merged,
        Outcome::Pushed,
        Outcome::Conflict,
        Outcome::Failed,
    ];

    fn label(self) -> &'static str {
        match self {
            Outcome::UpToDate => "up_to_date",
            Outcome::FastForwarded => "fast_forwarded",
            Outcome::Merged => "merged",
            Outcome::Pushed => "pushed",
            Outcome::Conflict => "conflict",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// Counts of sync rounds by outcome, for `/metrics`.
pub struct SyncMetrics {
    registry: Registry,
    rounds: Family<OutcomeLabel, Counter>,
}

impl SyncMetrics {
    fn new() -> SyncMetrics {
        let mut registry = Registry::with_prefix("rundocs_wiki");
        let rounds = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "sync_rounds",
            "Rounds of syncing with wiki.remote, by outcome",
            rounds.clone(),
        );
        for outcome in Outcome::ALL {
            let _ = rounds.get_or_create(&OutcomeLabel {
                outcome: outcome.label(),
            });
        }
        SyncMetrics { registry, rounds }
    }

    fn count(&self, outcome: Outcome) {
        self.rounds
            .get_or_create(&OutcomeLabel {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Appends the counters (without `# EOF`).
    pub fn encode(&self, out: &mut String) {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode_registry(&mut text, &self.registry).is_ok() {
            out.push_str(&text);
        }
    }
}

/// What to do next.
enum Request {
    /// Fetch and take what is new (after a webhook, or on the interval).
    Sync,
    /// A commit was made: push it (syncing first if the push is refused).
    Push,
}

/// The handle the wiki keeps: asks the sync thread for rounds.
pub struct Syncer {
    requests: mpsc::Sender<Request>,
    pub metrics: Arc<SyncMetrics>,
}

impl Syncer {
    /// Starts the sync thread for `wiki`, which must have a remote.
    pub fn start(config: &WikiConfig, workdir: PathBuf) -> (Syncer, SyncThread) {
        let (requests, receiver) = mpsc::channel();
        let metrics = Arc::new(SyncMetrics::new());
        let remote = config.remote.clone().expect("started only with a remote");
        let thread = SyncThread {
            receiver,
            remote,
            branch: config.branch.clone(),
            interval: (config.sync_interval_s > 0.0)
                .then(|| Duration::from_secs_f64(config.sync_interval_s)),
            workdir,
            metrics: metrics.clone(),
        };
        (Syncer { requests, metrics }, thread)
    }

    /// Asks for a round of fetching (answered at once; the round follows).
    pub fn sync_soon(&self) {
        let _ = self.requests.send(Request::Sync);
    }

    /// Asks for the last commit to be pushed.
    pub fn push_soon(&self) {
        let _ = self.requests.send(Request::Push);
    }
}

/// The thread's side, moved into it by [`SyncThread::run`].
pub struct SyncThread {
    receiver: mpsc::Receiver<Request>,
    remote: String,
    branch: String,
    interval: Option<Duration>,
    workdir: PathBuf,
    metrics: Arc<SyncMetrics>,
}

impl SyncThread {
    /// Runs rounds until the wiki is dropped. The first round is at once.
    pub fn run(self, wiki: std::sync::Weak<Wiki>) {
        let mut next_sync = Instant::now();
        loop {
            let wait = self.interval.map_or(Duration::from_secs(3600), |_| {
                next_sync.saturating_duration_since(Instant::now())
            });
            let request = match self.receiver.recv_timeout(wait) {
                Ok(request) => Some(request),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            // Requests that piled up are one round.
            let mut push = matches!(request, Some(Request::Push));
            while let Ok(more) = self.receiver.try_recv() {
                push |= matches!(more, Request::Push);
            }
            let timed_out = request.is_none();
            if timed_out && self.interval.is_none() {
                continue;
            }
            let Some(wiki) = wiki.upgrade() else {
                return;
            };
            let outcome = self.round(&wiki, push);
            self.metrics.count(outcome);
            if let Some(interval) = self.interval {
                next_sync = Instant::now() + interval;
            }
        }
    }

    /// Fetch, integrate, push: one round.
    fn round(&self, wiki: &Wiki, push_requested: bool) -> Outcome {
        match self.try_round(wiki, push_requested) {
            Ok(outcome) => {
                if outcome != Outcome::UpToDate {
                    tracing::info!(outcome = outcome.label(), remote = %self.remote, "wiki synced");
                }
                outcome
            }
            Err(error) => {
                tracing::error!(remote = %self.remote, "wiki sync failed: {error:#}");
                Outcome::Failed
            }
        }
    }

    fn try_round(&self, wiki: &Wiki, push_requested: bool) -> anyhow::Result<Outcome> {
        let fetched = self.fetch()?;
        let (outcome, local_ahead) = wiki.with_store(|store| integrate(store.repo(), fetched))?;
        if matches!(
            outcome,
            Outcome::FastForwarded | Outcome::Merged | Outcome::Conflict
        ) {
            wiki.publisher.rebuild();
        }
        if local_ahead || push_requested && outcome != Outcome::Conflict {
            if local_ahead {
                self.push()?;
            }
            if outcome == Outcome::UpToDate && local_ahead {
                return Ok(Outcome::Pushed);
            }
        }
        Ok(outcome)
    }

    /// `git fetch` of the remote's branch into [`UPSTREAM_REF`]; `None`
    /// when the remote has no such branch yet.
    fn fetch(&self) -> anyhow::Result<Option<Oid>> {
        let refspec = format!("+refs/heads/{}:{UPSTREAM_REF}", self.branch);
        match self.git(&["fetch", "--quiet", "--no-tags", &self.remote, &refspec]) {
            Ok(()) => {}
            Err(error) if error.to_string().contains("couldn't find remote ref") => {
                return Ok(None)
            }
            Err(error) => return Err(error),
        }
        let repo = Repository::open(&self.workdir)?;
        let upstream = repo.refname_to_id(UPSTREAM_REF)?;
        Ok(Some(upstream))
    }

    fn push(&self) -> anyhow::Result<()> {
        let refspec = format!("HEAD:refs/heads/{}", self.branch);
        self.git(&["push", "--quiet", &self.remote, &refspec])
    }

    /// Runs `git ARGS` in the work tree, never asking for a password, for at
    /// most [`GIT_TIMEOUT`].
    fn git(&self, args: &[&str]) -> anyhow::Result<()> {
        let mut child = Command::new("git")
            .args(args)
            .current_dir(&self.workdir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run git (is it installed?): {e}"))?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    use std::io::Read;
                    let _ = pipe.read_to_string(&mut stderr);
                }
                if status.success() {
                    return Ok(());
                }
                anyhow::bail!("git {} failed: {}", args[0], stderr.trim());
            }
            if started.elapsed() > GIT_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!(
                    "git {} took over {} s; stopped",
                    args[0],
                    GIT_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Takes the fetched `upstream` into HEAD. Returns the outcome and whether
/// HEAD then has commits the remote lacks (to push).
fn integrate(repo: &Repository, upstream: Option<Oid>) -> anyhow::Result<(Outcome, bool)> {
    let head = match repo.head() {
        Ok(head) => Some(head.peel_to_commit()?.id()),
        Err(_) => None,
    };
    let Some(upstream) = upstream else {
        // The remote branch does not exist yet: ours goes there.
        return Ok((Outcome::UpToDate, head.is_some()));
    };
    let Some(head) = head else {
        move_head(repo, upstream)?;
        return Ok((Outcome::FastForwarded, false));
    };
    if head == upstream {
        return Ok((Outcome::UpToDate, false));
    }
    let base = repo.merge_base(head, upstream)?;
    if base == upstream {
        return Ok((Outcome::UpToDate, true));
    }
    if base == head {
        move_head(repo, upstream)?;
        return Ok((Outcome::FastForwarded, false));
    }
    let ours = repo.find_commit(head)?;
    let theirs = repo.find_commit(upstream)?;
    let mut index = repo.merge_commits(&ours, &theirs, None)?;
    if index.has_conflicts() {
        let branch = format!(
            "rundocs/conflict-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        );
        repo.branch(&branch, &ours, false)?;
        tracing::error!(
            branch,
            "the remote changed the same lines as this instance; its commits are kept on the branch, \
             and this instance now follows the remote"
        );
        move_head(repo, upstream)?;
        return Ok((Outcome::Conflict, false));
    }
    let tree = repo.find_tree(index.write_tree_to(repo)?)?;
    let signature = git2::Signature::now("rundocs", "rundocs@rundocs.invalid")?;
    let merge = repo.commit(
        None,
        &signature,
        &signature,
        "Merge the remote's changes",
        &tree,
        &[&ours, &theirs],
    )?;
    move_head(repo, merge)?;
    Ok((Outcome::Merged, true))
}

/// Points HEAD's branch at `target` and checks out its files, safely: a
/// file changed on disk and not committed is left, and the error says so.
fn move_head(repo: &Repository, target: Oid) -> anyhow::Result<()> {
    let commit = repo.find_commit(target)?;
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.safe();
    repo.checkout_tree(commit.as_object(), Some(&mut checkout))
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot update the work tree (a file changed on disk and not committed?): {e}"
            )
        })?;
    let head_ref = match repo.find_reference("HEAD")?.symbolic_target() {
        Some(name) => name.to_string(),
        None => "HEAD".to_string(),
    };
    repo.reference(&head_ref, target, true, "rundocs: sync")?;
    // The index follows the checked-out tree.
    let mut index = repo.index()?;
    index.read_tree(&commit.tree()?)?;
    index.write()?;
    Ok(())
}
