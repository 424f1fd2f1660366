//! Start-up: load the content, build the first snapshot, bind, and run.
//!
//! [`start`] does everything up to a bound listener and returns a
//! [`RunningApp`] that knows its address (bind to port 0 in tests). The
//! interpreter starts here, on the starting thread, before the HTTP server
//! exists; pages never need it.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle};
use actix_web::{middleware, App, HttpServer};
use anyhow::Context;
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::config::{Config, ContentSource};
use crate::render::{AssetTable, Snapshot};
use crate::runtime::{Runtime, RuntimeSettings};
use crate::watch::ContentWatcher;
use crate::web::{self, AppState};

/// No inline script or style, no plugins, no framing; images may come from
/// anywhere over https (write-ups link diagrams), everything else from here.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// How long a graceful stop waits for open requests, after the runs have had
/// [`RUNS_END_WITHIN`]: together under the 5 s a stop may take.
const SHUTDOWN_TIMEOUT_S: u64 = 2;

/// `rundocs serve`: load config, start logging, serve until SIGINT/SIGTERM.
pub fn serve_from_args(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.load_config()?;
    init_logging(&config.log);
    actix_web::rt::System::new().block_on(async move {
        let app = start(config).await?;
        println!("rundocs is serving on http://{}", app.addr);
        let stopper = app.stopper();
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            stopper.stop().await;
        });
        app.run().await
    })
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).expect("validated with the config");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a terminal, not for journald or a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate()).expect("can listen for SIGTERM");
        // A closed terminal (SSH session) sends SIGHUP: stop as gracefully.
        let mut hangup = signal(SignalKind::hangup()).expect("can listen for SIGHUP");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// A bound server, not yet running.
pub struct RunningApp {
    /// The address actually bound (the real port when asked for port 0).
    pub addr: SocketAddr,
    server: Server,
    stopper: Stopper,
    _watcher: Option<ContentWatcher>,
}

/// How long a stop waits for runs to deliver their `end` events.
const RUNS_END_WITHIN: Duration = Duration::from_secs(2);

/// Stops a running app gracefully: every run ends and tells its client,
/// streams close, open requests finish.
#[derive(Clone)]
pub struct Stopper {
    handle: ServerHandle,
    shutting_down: Arc<watch::Sender<bool>>,
    runtime: Arc<Runtime>,
    /// `drain_s`: how long runs in flight may go on first.
    drain: Duration,
}

impl Stopper {
    /// Drains, then stops: `/readyz` answers 503 and new runs are refused at
    /// once; runs in flight may finish for `drain_s`; then the rest are
    /// cancelled, their clients told, and the server stops.
    pub async fn stop(&self) {
        self.shutting_down.send_replace(true);
        if !self.drain.is_zero() {
            self.runtime.stop_accepting();
            let runtime = self.runtime.clone();
            let drain = self.drain;
            let drained = tokio::task::spawn_blocking(move || runtime.wait_until_idle(drain))
                .await
                .unwrap_or(false);
            if !drained {
                tracing::info!(
                    drain_s = drain.as_secs_f64(),
                    "runs still going after drain_s; cancelling them"
                );
            }
        }
        self.runtime.shutdown();
        let runtime = self.runtime.clone();
        let all_ended =
            tokio::task::spawn_blocking(move || runtime.wait_until_idle(RUNS_END_WITHIN))
                .await
                .unwrap_or(false);
        if !all_ended {
            let stuck = self.runtime.end_remaining_runs();
            tracing::warn!(
                stuck,
                "runs did not end in time (a C call may hold the GIL); their clients were told, stopping anyway"
            );
        }
        self.handle.stop(true).await;
    }
}

impl RunningApp {
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Serves until stopped.
    pub async fn run(self) -> anyhow::Result<()> {
        self.server.await.context("the HTTP server failed")
    }
}

/// Starts the interpreter, builds the first snapshot and binds. Must run
/// inside an actix or tokio runtime, on the thread that should own start-up.
pub async fn start(config: Config) -> anyhow::Result<RunningApp> {
    let started = Instant::now();
    let runtime = Arc::new(
        Runtime::start(RuntimeSettings::from_config(&config))
            .context("cannot start the Python runtime")?,
    );
    let config = Arc::new(config);
    let assets = Arc::new(AssetTable::build(&config.base_path));
    if let Some(project) = &config.mkdocs {
        tracing::info!(
            config = %project.file.display(),
            docs = %project.docs_dir.display(),
            nav = project.nav.is_some(),
            "serving an mkdocs project"
        );
        if !project.ignored_keys.is_empty() {
            tracing::info!(
                keys = project.ignored_keys.join(", "),
                "mkdocs settings for its own build, not used here"
            );
        }
    }
    let first = Snapshot::build(&config, &assets.urls, None)?;
    first.log_new_problems(None);
    tracing::info!(
        pages = first.page_count(),
        snippets = first.snippets().len(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "content loaded"
    );
    let (publisher, generations) =
        crate::render::publisher::Publisher::new(config.clone(), assets.clone(), first);
    let publisher = Arc::new(publisher);
    let snapshot = publisher.snapshot.clone();
    let (shutdown_tx, shutting_down) = watch::channel(false);

    let watcher = match (&config.content, config.watch) {
        (ContentSource::Dir(dir), true) => Some(crate::watch::start(dir, publisher.clone())?),
        _ => None,
    };

    let wiki = crate::wiki::Wiki::start(&config, publisher.clone())?;
    let gate = Arc::new(crate::access::Gate::new(config.access.clone()));
    let state = actix_web::web::Data::new(AppState {
        wiki,
        live_reload_slots: Arc::default(),
        config: config.clone(),
        gate,
        snapshot,
        assets,
        runtime: runtime.clone(),
        run_rate: crate::web::run_access::RunRateLimit::new(
            std::num::NonZeroU32::new(config.run.rate_limit_per_minute)
                .expect("validated as non-zero"),
        ),
        edit_quota: crate::web::edited_run::EditQuota::new(
            config.run.process.edit_cpu_seconds_per_hour,
        ),
        refusals: crate::web::refusals::Refusals::new(),
        generations,
        shutting_down,
    });
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::from_fn(web::access::guard))
            .wrap(middleware::from_fn(web::request_shape::refuse_misshapen))
            .wrap(middleware::from_fn(web::reserved::route_version_1_paths))
            .wrap(middleware::Compress::default())
            .wrap(
                middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "same-origin"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Cross-Origin-Opener-Policy", "same-origin"))
                    .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY)),
            )
            .configure(web::configure(state.clone()))
    })
    .on_connect(|connection, _| {
        // Run events are small writes; without this, Nagle's algorithm and
        // delayed ACKs hold each one back for tens of milliseconds.
        if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
    })
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_TIMEOUT_S)
    .bind(config.bind)
    .with_context(|| format!("cannot listen on {}", config.bind))?;
    let addr = *server
        .addrs()
        .first()
        .context("the server bound no address")?;
    let server = server.run();
    let stopper = Stopper {
        handle: server.handle(),
        shutting_down: Arc::new(shutdown_tx),
        runtime,
        drain: Duration::from_secs_f64(config.drain_s),
    };
    Ok(RunningApp {
        addr,
        server,
        stopper,
        _watcher: watcher,
    })
}
