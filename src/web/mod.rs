//! HTTP: the route table and its handlers.
//!
//! [`configure`] is the whole route table, used by the server and the tests
//! alike. Handlers read the current [`Snapshot`] (one atomic load) and never
//! render markdown or touch Python.
//!
//! | route | handler |
//! |---|---|
//! | `GET /` and `GET /{path}` | [`pages`]: articles, index, 404 |
//! | `GET /static/{file}` | [`assets`]: embedded CSS/JS |
//! | `GET /api/snippets` | [`api`]: code blocks as JSON |
//! | `GET /api/live-reload` | [`live_reload`]: SSE telling pages to reload (`--watch`) |
//! | `POST /api/run/{id}` | [`run`]: runs a snippet, streams its output (SSE) |
//! | `GET /healthz` | [`api::health`] |
//! | `GET /metrics` | [`run::metrics`]: Prometheus text |
pub mod api;
pub mod assets;
pub mod error;
pub mod live_reload;
pub mod pages;
pub mod run;
pub mod run_access;
pub mod sse;

use std::sync::Arc;

use actix_web::{guard, web, Route};
use arc_swap::ArcSwap;
use tokio::sync::watch;

use crate::render::{AssetTable, Snapshot};
use crate::runtime::Runtime;

/// What every handler can reach.
pub struct AppState {
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub assets: Arc<AssetTable>,
    pub runtime: Arc<Runtime>,
    /// Runs per client address.
    pub run_rate: run_access::RunRateLimit,
    /// The current snapshot generation; changes when `--watch` rebuilds.
    pub generations: watch::Receiver<u64>,
    /// Becomes `true` when the server is shutting down, so streams end.
    pub shutting_down: watch::Receiver<bool>,
    pub live_reload: bool,
}

/// GET, and HEAD answered the same way without a body.
fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The route table.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(state)
            .service(web::resource("/healthz").route(get_or_head().to(api::health)))
            .service(web::resource("/metrics").route(get_or_head().to(run::metrics)))
            .service(
                web::scope("/api")
                    .service(web::resource("/snippets").route(get_or_head().to(api::snippets)))
                    .service(
                        web::resource("/live-reload").route(web::get().to(live_reload::stream)),
                    )
                    .service(
                        web::resource("/run/{id}")
                            .route(web::post().to(run::run))
                            .default_service(web::to(run::wrong_method)),
                    )
                    .default_service(web::to(api::unknown_route)),
            )
            .service(web::resource("/static/{file}").route(get_or_head().to(assets::serve)))
            .service(web::resource("/").route(get_or_head().to(pages::index)))
            .service(web::resource("/{path:.+}").route(get_or_head().to(pages::page)))
            .default_service(web::to(pages::not_found));
    }
}
