//! rundocs' own routes live under one prefix that content cannot take.
//!
//! Every route of rundocs itself (the JSON API, assets, the search and
//! sign-in pages, health and metrics) is served under
//! [`INTERNAL_PREFIX`] (`/_rundocs/api/run/{id}`, `/_rundocs/static/…`), so a
//! docs folder with an `api/` section or a page named `search` serves it at
//! its own URL. A content file under `_rundocs/` is reported, not served.
//!
//! The version 1 paths (`/api/…`, `/static/…`, `/search`, `/login`,
//! `/healthz`, `/metrics`, and `/readyz`) keep working where no page claims
//! them: [`route_version_1_paths`] rewrites such a request to its place under
//! the prefix before routing, so scripts and probes written against them go
//! on working. Under a folder the content uses (`api/`), only paths that are
//! rundocs routes are rewritten; a mistyped page there gets the site's 404.
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::uri::{PathAndQuery, Uri};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use super::AppState;
use crate::render::Snapshot;

pub use crate::config::INTERNAL_PREFIX;

/// The folder name [`INTERNAL_PREFIX`] takes from the content.
pub const RESERVED_FOLDER: &str = "_rundocs";

/// Top-level version 1 routes that are a single path.
const SINGLE_ROUTES: [&str; 5] = ["healthz", "metrics", "readyz", "search", "login"];

/// The first segment after `api/` of every JSON route.
const API_ROUTES: [&str; 14] = [
    "snippets",
    "search",
    "session",
    "live-reload",
    "run",
    "page",
    "history",
    "diff",
    "revert",
    "preview",
    "upload",
    "sync",
    "move",
    "",
];

/// The path as the client sent it, before it was put under the prefix.
#[derive(Debug, Clone)]
pub struct RequestedPath(pub String);

/// The path `request` was sent to (before a version 1 path was rewritten).
pub fn requested_path(request: &actix_web::HttpRequest) -> String {
    match request.extensions().get::<RequestedPath>() {
        Some(requested) => requested.0.clone(),
        None => request.path().to_string(),
    }
}

/// The middleware: a version 1 path no page claims goes to its route under
/// the prefix; everything else passes unchanged.
pub async fn route_version_1_paths(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(uri) = rewritten(&request) {
        let requested = RequestedPath(request.path().to_string());
        request.match_info_mut().get_mut().update(&uri);
        request.head_mut().uri = uri;
        request.extensions_mut().insert(requested);
    }
    next.call(request).await
}

fn rewritten(request: &ServiceRequest) -> Option<Uri> {
    let state = request.app_data::<web::Data<AppState>>()?;
    let base = state.config.base_path.as_str();
    // As the router sees it (`%XX` decoded but `/`, `%` and `+`).
    let routed = request.match_info().as_str();
    let below_base = routed.strip_prefix(base)?;
    let snapshot = state.snapshot.load();
    if !is_rundocs_route(below_base, &snapshot, &state.assets) {
        return None;
    }
    let raw = request.uri();
    let raw_below_base = raw.path().strip_prefix(base)?;
    let path = match raw.query() {
        Some(query) => format!("{base}{INTERNAL_PREFIX}{raw_below_base}?{query}"),
        None => format!("{base}{INTERNAL_PREFIX}{raw_below_base}"),
    };
    let mut parts = raw.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path).ok()?);
    Uri::from_parts(parts).ok()
}

/// Whether `path` (below the base path, with its leading `/`) is a version 1
/// route of rundocs that no page or image of the content claims.
fn is_rundocs_route(path: &str, snapshot: &Snapshot, assets: &crate::render::AssetTable) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let route = match first {
        _ if SINGLE_ROUTES.contains(&first) => rest == first,
        "api" => {
            let route = tail.split('/').next().unwrap_or_default();
            !snapshot.has_folder("api") || API_ROUTES.contains(&route)
        }
        "static" => !snapshot.has_folder("static") || assets.get(tail).is_some(),
        _ => false,
    };
    route && !snapshot.claims(&super::pages::decode_reserved(rest))
}
