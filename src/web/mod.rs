//! HTTP: the route table and its handlers.
//!
//! [`configure`] is the whole route table, used by the server and the tests
//! alike. Handlers read the current [`Snapshot`] (one atomic load) and never
//! render markdown or touch Python.
//!
//! With a base path (e.g. `/docs`), every route below is under it, and
//! requests outside it get a 404 that says where the site is. Every route
//! but the pages is under [`reserved::INTERNAL_PREFIX`] (`/_rundocs`), which
//! the table leaves out; the version 1 paths without it still answer where
//! no page claims them ([`reserved`]).
//!
//! | route | handler |
//! |---|---|
//! | `GET /` and `GET /{path}` | [`pages`]: articles, index, 404 |
//! | `GET /static/{file}` | [`assets`]: embedded CSS/JS |
//! | `GET /search?q=` | [`search::page`]: results as a page |
//! | `GET /login` | [`access::login`]: sign in (basic auth), then back |
//! | `GET /api/snippets` | [`api`]: code blocks as JSON |
//! | `GET /api/search?q=` | [`search::api`]: results as JSON |
//! | `GET /api/session` | [`access::session`]: who the reader is, may they run |
//! | `GET /api/live-reload` | [`live_reload`]: SSE telling pages to reload (`--watch`) |
//! | `POST /api/run/{id}` | [`run`]: runs a snippet, streams its output (SSE) |
//! | `POST /api/run` | [`edited_run`]: runs edited code in process mode (SSE) |
//! | `GET /edit`, `GET /history` | [`wiki_pages`]: the wiki's editor and history |
//! | `GET/PUT/DELETE /api/page`, `GET /api/history`, `GET /api/diff`, `POST /api/revert` | [`wiki`]: the wiki's JSON API |
//! | `POST /api/preview` | [`wiki_preview`]: the editor's live preview |
//! | `POST /api/upload` | [`wiki_upload`]: an image from the editor, committed |
//! | `GET /healthz` | [`api::health`] |
//! | `GET /readyz` | [`api::ready`]: 503 while draining |
//! | `GET /metrics` | [`metrics`]: Prometheus text |
pub mod access;
pub mod api;
pub mod assets;
pub mod edited_run;
pub mod error;
pub mod json_body;
pub mod live_reload;
pub mod metrics;
pub mod pages;
pub mod refusals;
pub mod request_shape;
pub mod reserved;
pub mod run;
pub mod run_access;
pub mod search;
pub mod sse;
pub mod wiki;
pub mod wiki_pages;
pub mod wiki_preview;
pub mod wiki_upload;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{guard, web, HttpRequest, HttpResponse, Route};
use arc_swap::ArcSwap;
use tokio::sync::watch;

use crate::access::Gate;
use crate::config::Config;
use crate::render::templates::Chrome;
use crate::render::{AssetTable, Snapshot};
use crate::runtime::Runtime;

/// What every handler can reach.
pub struct AppState {
    pub config: Arc<Config>,
    pub gate: Arc<Gate>,
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub assets: Arc<AssetTable>,
    pub runtime: Arc<Runtime>,
    /// Runs per client address.
    pub run_rate: run_access::RunRateLimit,
    /// CPU seconds of edited runs per client address.
    pub edit_quota: std::sync::Arc<edited_run::EditQuota>,
    /// Refused requests, by reason, for `/metrics`.
    pub refusals: refusals::Refusals,
    /// The current snapshot generation; changes when `--watch` rebuilds.
    pub generations: watch::Receiver<u64>,
    /// Live-reload streams open now, capped per client and in all.
    pub live_reload_slots: Arc<live_reload::StreamSlots>,
    /// The wiki, when pages are edited in the browser (`access.edit`).
    pub wiki: Option<Arc<crate::wiki::Wiki>>,
    /// Becomes `true` when the server is shutting down, so streams end.
    pub shutting_down: watch::Receiver<bool>,
}

impl AppState {
    /// The layout's data, for pages rendered on request.
    pub fn chrome(&self, generation: u64) -> Chrome<'_> {
        Chrome::new(&self.config, &self.assets.urls, generation)
    }
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

pub(crate) async fn read_only_method(request: HttpRequest) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, HEAD"))
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "{} is not allowed on {}; it answers GET and HEAD only.\n",
            request.method(),
            reserved::requested_path(&request)
        ))
}

/// The route table, under the configured base path.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let base = state.config.base_path.clone();
        cfg.app_data(state);
        if base.is_empty() {
            routes(cfg);
        } else {
            cfg.service(
                web::scope(&base)
                    // The bare base path (`/docs`) is the home page's address without its `/`.
                    .service(web::resource("").to(outside_base_path))
                    .configure(routes),
            )
            .default_service(web::to(outside_base_path));
        }
    }
}

/// A request outside the base path: the bare base path goes to the home
/// page; anything else is told where the site is.
async fn outside_base_path(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let base = &state.config.base_path;
    if request.path() == base.as_str() || request.path() == "/" {
        return HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, format!("{base}/")))
            .finish();
    }
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "{} is outside this site, which is served under {base}/.\n",
            request.path()
        ))
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(reserved::INTERNAL_PREFIX)
            .configure(internal_routes)
            .default_service(web::to(not_a_route)),
    )
    .service(read_only("/", get_or_head().to(pages::index)))
    // Every other path is a page or the 404 page: looked up in the
    // snapshot by the handler, with no pattern to match.
    .default_service(web::to(pages::page));
}

/// A path under the reserved prefix that is no route: no page can be there.
async fn not_a_route(request: HttpRequest) -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "{} is no route of rundocs; the routes are listed in the README.\n",
            request.path()
        ))
}

/// rundocs' own routes, under [`reserved::INTERNAL_PREFIX`].
fn internal_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(read_only("/healthz", get_or_head().to(api::health)))
        .service(read_only("/readyz", get_or_head().to(api::ready)))
        .service(read_only("/metrics", get_or_head().to(metrics::metrics)))
        .service(
            web::scope("/api")
                // A query that does not parse (`limit=ten`) gets the API's JSON error.
                .app_data(web::QueryConfig::default().error_handler(|error, _| {
                    error::ApiError::BadRequest(format!(
                        "{error}; see the HTTP contract in the README"
                    ))
                    .into()
                }))
                .service(read_only("/snippets", get_or_head().to(api::snippets)))
                .service(read_only("/search", get_or_head().to(search::api)))
                .service(read_only("/session", get_or_head().to(access::session)))
                .service(read_only(
                    "/live-reload",
                    get_or_head().to(live_reload::stream),
                ))
                .service(
                    web::resource("/run")
                        .route(web::post().to(edited_run::run_edited))
                        .default_service(web::to(run::wrong_method)),
                )
                .service(
                    web::resource("/page")
                        .route(get_or_head().to(wiki::read))
                        .route(web::put().to(wiki::save))
                        .route(web::delete().to(wiki::delete)),
                )
                .service(read_only("/history", get_or_head().to(wiki::history)))
                .service(read_only("/diff", get_or_head().to(wiki::diff)))
                .service(web::resource("/revert").route(web::post().to(wiki::revert)))
                .service(web::resource("/sync").route(web::post().to(wiki::sync)))
                .service(web::resource("/move").route(web::post().to(wiki::move_page)))
                .service(web::resource("/preview").route(web::post().to(wiki_preview::preview)))
                .service(web::resource("/upload").route(web::post().to(wiki_upload::upload)))
                .service(
                    web::resource("/run/{id}")
                        .route(web::post().to(run::run))
                        .default_service(web::to(run::wrong_method)),
                )
                .default_service(web::to(api::unknown_route)),
        )
        .service(
            web::scope("/static")
                .service(read_only("/{file}", get_or_head().to(assets::serve)))
                .default_service(web::to(assets::not_an_asset)),
        )
        .service(read_only("/search", get_or_head().to(search::page)))
        .service(read_only("/login", get_or_head().to(access::login)))
        .service(read_only("/edit", get_or_head().to(wiki_pages::edit)))
        .service(read_only("/history", get_or_head().to(wiki_pages::history)));
}
