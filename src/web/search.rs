//! Search: `GET /search?q=` (a page, no JavaScript needed) and
//! `GET /api/search?q=` (JSON, for results as you type).
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::error::ApiError;
use super::AppState;
use crate::render::templates::{render_split, SearchHitView, SearchTemplate};
use crate::search::SearchHit;
use crate::util::page_url;

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

/// The index failed to build (logged when it did).
fn index_missing() -> ApiError {
    ApiError::Unavailable(
        "search is unavailable: the index could not be built (see the server log)".into(),
    )
}

/// `hits` as the API and the page show them, linked under `base_path`.
fn views<'a>(base_path: &str, hits: &'a [SearchHit<'a>]) -> Vec<SearchHitView<'a>> {
    hits.iter()
        .map(|hit| {
            let section = hit.section;
            let url = if section.anchor.is_empty() {
                page_url(base_path, &section.page)
            } else {
                format!("{}#{}", page_url(base_path, &section.page), section.anchor)
            };
            SearchHitView {
                path: &section.page,
                title: &section.title,
                heading: &section.heading,
                excerpt: &hit.excerpt_html,
                score: hit.score,
                url,
            }
        })
        .collect()
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
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .json(views(&state.config.base_path, &hits)))
}

/// `GET /search?q=WORDS`: the results as a page of the site.
pub async fn page(
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let snapshot = state.snapshot.load_full();
    let index = snapshot.search().ready().await.ok_or_else(index_missing)?;
    let hits = index.search(&query.q, PAGE_HITS);
    let chrome = state.chrome(snapshot.generation);
    let template = SearchTemplate {
        chrome: &chrome,
        query: &query.q,
        hits: views(&state.config.base_path, &hits),
    };
    let parts = render_split(&template).map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .body(snapshot.with_sidebar(parts)))
}
