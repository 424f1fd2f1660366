//! JSON endpoints: the snippet list, health, and the API's own 404.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::ApiError;
use super::AppState;

#[derive(Debug, Deserialize)]
pub struct SnippetQuery {
    /// Only the blocks of this page (URL path, with or without slashes).
    page: Option<String>,
}

/// `GET /api/snippets[?page=PATH]`: every code block rundocs knows.
pub async fn snippets(
    state: web::Data<AppState>,
    query: web::Query<SnippetQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot.load();
    let Some(page) = &query.page else {
        return Ok(HttpResponse::Ok().json(snapshot.snippets()));
    };
    let page = page.trim_matches('/');
    if snapshot.page(page).is_none() {
        let base = &state.config.base_path;
        return Err(ApiError::NotFound(format!(
            "there is no page {base}/{page}; GET {base}/api/snippets without ?page= lists every page's blocks"
        )));
    }
    let on_page: Vec<_> = snapshot
        .snippets()
        .iter()
        .filter(|s| s.page == page)
        .collect();
    Ok(HttpResponse::Ok().json(on_page))
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

/// Any other path under `/api/`.
pub async fn unknown_route(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no API route {} {}; see the HTTP contract in the README",
        request.method(),
        request.path()
    )))
}
