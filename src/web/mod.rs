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
pub mod request_shape;
pub mod run;
pub mod run_access;
pub mod sse;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{guard, web, HttpRequest, HttpResponse, Route};
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

/// A resource that answers GET and HEAD, and 405 with a reason otherwise.
fn read_only(path: &str, route: Route) -> actix_web::Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(read_only_method))
}

async fn read_only_method(request: HttpRequest) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, HEAD"))
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "{} is not allowed on {}; it answers GET and HEAD only.\n",
            request.method(),
            request.path()
        ))
}

/// The route table.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(state)
            .service(read_only("/healthz", get_or_head().to(api::health)))
            .service(read_only("/metrics", get_or_head().to(run::metrics)))
            .service(
                web::scope("/api")
                    .service(read_only("/snippets", get_or_head().to(api::snippets)))
                    .service(read_only(
                        "/live-reload",
                        get_or_head().to(live_reload::stream),
                    ))
                    .service(
                        web::resource("/run/{id}")
                            .route(web::post().to(run::run))
                            .default_service(web::to(run::wrong_method)),
                    )
                    .default_service(web::to(api::unknown_route)),
            )
            .service(read_only("/static/{file}", get_or_head().to(assets::serve)))
            .service(read_only("/", get_or_head().to(pages::index)))
            .service(read_only("/{path:.+}", get_or_head().to(pages::page)))
            .default_service(web::to(pages::not_found));
    }
}
