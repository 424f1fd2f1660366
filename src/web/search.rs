//! Search: `GET /search?q=` (a page, no JavaScript needed) and
//! `GET /api/search?q=` (JSON, for results as you type).
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::AppState;
use crate::render::templates::{render_split, SearchHitView, SearchTemplate};
use crate::search::SearchHit;

/// Hits on the search page.
const PAGE_HITS: usize = 30;
/// Hits from the API unless `limit` says otherwise, and the most it may ask for.
const API_DEFAULT_HITS: usize = 8;
const API_MAX_HITS: usize = 50;

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<usize>,
}

/// One hit as the API returns it.
#[derive(Debug, Serialize)]
pub struct ApiHit<'a> {
    /// URL path of the page, as in `/api/snippets` (no leading `/`).
    pub path: &'a str,
    pub title: &'a str,
    /// The section's heading; empty for the text before the first heading.
    pub heading: &'a str,
    /// HTML-escaped text with the matched words in `<mark>`.
    pub excerpt: &'a str,
    pub score: f32,
    /// Link to the section, base path and anchor included.
    pub url: String,
}

/// The index failed to build (logged when it did).
fn index_missing() -> ApiError {
    ApiError::Unavailable(
        "search is unavailable: the index could not be built (see the server log)".into(),
    )
}

/// Where a hit links to.
fn hit_url(base_path: &str, hit: &SearchHit<'_>) -> String {
    let section = hit.section;
    if section.anchor.is_empty() {
        format!("{base_path}/{}", section.page)
    } else {
        format!("{base_path}/{}#{}", section.page, section.anchor)
    }
}

/// `GET /api/search?q=WORDS[&limit=N]`.
pub async fn api(
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(API_DEFAULT_HITS);
    if !(1..=API_MAX_HITS).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit={limit} is out of range; ask for 1 to {API_MAX_HITS} hits"
        )));
    }
    let snapshot = state.snapshot.load_full();
    let index = snapshot.search().ready().await.ok_or_else(index_missing)?;
    let hits = index.search(&query.q, limit);
    let base_path = &state.config.base_path;
    let body: Vec<ApiHit<'_>> = hits
        .iter()
        .map(|hit| ApiHit {
            path: &hit.section.page,
            title: &hit.section.title,
            heading: &hit.section.heading,
            excerpt: &hit.excerpt_html,
            score: hit.score,
            url: hit_url(base_path, hit),
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .json(body))
}

/// `GET /search?q=WORDS`: the results as a page of the site.
pub async fn page(
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let snapshot = state.snapshot.load_full();
    let index = snapshot.search().ready().await.ok_or_else(index_missing)?;
    let hits = index.search(&query.q, PAGE_HITS);
    let base_path = &state.config.base_path;
    let chrome = state.chrome(snapshot.generation);
    let template = SearchTemplate {
        chrome: &chrome,
        query: &query.q,
        hits: hits
            .iter()
            .map(|hit| SearchHitView {
                url: hit_url(base_path, hit),
                title: &hit.section.title,
                heading: &hit.section.heading,
                excerpt_html: hit.excerpt_html.clone(),
            })
            .collect(),
    };
    let parts = render_split(&template).map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .body(snapshot.with_sidebar(parts)))
}
