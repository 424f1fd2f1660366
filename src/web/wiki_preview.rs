//! `POST /api/preview`: a page's text rendered as the page would be, for
//! the wiki editor's live preview.
//!
//! The body is JSON `{"source": "...", "path": "P"}` (`path` as
//! `/api/page` takes it: the blocks get the ids a page there gives them).
//! The answer is `{"html", "title", "url", "requires"}`: the article's
//! HTML, the page's title and address, and for each runnable block that
//! `requires=` others, the ids of the blocks that run before it, in order
//! (the preview runs a block as edited code, those blocks first). A
//! mistake in the text is not an error of the request: the answer is then
//! `{"html": null, "problem": "FILE:LINE: what to fix"}`, as the page would
//! show it. Only editors may ask (the same rule as saving), and the text
//! may be as long as a page may be (`wiki.max_page_bytes`).
use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::wiki::{editor, page_path, read_page_body, wiki};
use super::AppState;
use crate::content::snippet::run_chain;
use crate::render::preview::render_text;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
    source: String,
    path: String,
}

/// `POST /api/preview`.
pub async fn preview(
    state: web::Data<AppState>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    editor(&state, &http)?;
    let request: PreviewRequest = read_page_body(
        &state,
        &http,
        payload,
        r#"{"source": "...", "path": "P"}"#,
        |request: &PreviewRequest| &request.source,
    )
    .await?;
    let page = page_path(&state.snapshot.load(), &request.path)?;
    let url = crate::util::page_url(&state.config.base_path, &page.url_path());
    let config = state.config.clone();
    // Highlighting a long page takes milliseconds: off the async threads.
    let rendered = web::block(move || render_text(&config, page.as_str(), &request.source))
        .await
        .map_err(|e| ApiError::Unavailable(format!("the preview could not be made: {e}")))?;
    let answer = match rendered {
        Ok(rendered) => {
            let requires: BTreeMap<&str, Vec<&str>> = rendered
                .snippets
                .iter()
                .filter(|s| s.runnable && !s.requires.is_empty())
                .map(|s| {
                    let chain = run_chain(&rendered.snippets, s);
                    let before = chain[..chain.len() - 1].iter().map(|r| r.id.as_str());
                    (s.id.as_str(), before.collect())
                })
                .collect();
            json!({
                "html": rendered.html,
                "title": rendered.title,
                "url": url,
                "requires": requires,
            })
        }
        Err(problem) => json!({ "html": null, "problem": problem.to_string(), "url": url }),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}
