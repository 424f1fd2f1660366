//! JSON endpoints: the snippet list, health, and the API's own 404.
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::AppState;
use crate::access::Identity;
use crate::content::Snippet;

#[derive(Debug, Deserialize)]
pub struct SnippetQuery {
    /// Only the blocks of this page (URL path, with or without slashes).
    page: Option<String>,
}

/// One block as `/api/snippets` lists it: the snippet, and whether the
/// sender may run an edited version of it.
#[derive(Serialize)]
struct SnippetView<'a> {
    #[serde(flatten)]
    snippet: &'a Snippet,
    editable: bool,
}

/// `GET /api/snippets[?page=PATH]`: every code block rundocs knows.
pub async fn snippets(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<SnippetQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot.load();
    let page = query.page.as_deref().map(|p| p.trim_matches('/'));
    if let Some(page) = page.filter(|p| snapshot.page(p).is_none()) {
        let base = &state.config.base_path;
        let routes = state.config.routes_base();
        return Err(ApiError::NotFound(format!(
            "there is no page {base}/{page}; GET {routes}/api/snippets without ?page= lists every page's blocks"
        )));
    }
    let identity = request.extensions().get::<Identity>().cloned();
    let identity = identity.unwrap_or(Identity::Anonymous);
    let may_edit = state
        .gate
        .config
        .may_run_edited(state.config.run.edit, &identity);
    let views: Vec<_> = snapshot
        .snippets()
        .iter()
        .filter(|s| page.is_none_or(|p| s.page == p))
        .map(|snippet| SnippetView {
            snippet,
            editable: snippet.runnable && may_edit,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// `GET /healthz`: `200 ok` while the process serves; with process mode,
/// a second line names the sandbox its children reach.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let mut body = String::from("ok\n");
    if let Some(reached) = state.runtime.sandbox() {
        body.push_str(&format!("sandbox: {}\n", reached.summary()));
    }
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// `GET /readyz`: `200` while this instance serves and runs; `503` from the
/// moment it starts draining (SIGTERM), so a load balancer sends its traffic
/// elsewhere while the runs in flight end. (While it starts, nothing listens.)
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let draining = *state.shutting_down.borrow();
    let mut response = if draining {
        HttpResponse::ServiceUnavailable()
    } else {
        HttpResponse::Ok()
    };
    response
        .content_type("text/plain; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(if draining {
            "draining: this instance is stopping; runs in flight are ending\n"
        } else {
            "ready\n"
        })
}

/// Any other path under `/api/`.
pub async fn unknown_route(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no API route {} {}; see the HTTP contract in the README",
        request.method(),
        super::reserved::requested_path(&request)
    )))
}
