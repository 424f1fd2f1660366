//! The wiki's JSON API: read, save, delete and revert pages, their history
//! and diffs (see [`crate::wiki`]).
//!
//! | route | |
//! |---|---|
//! | `GET /api/page?path=P[&rev=R]` | `{"path", "source", "revision"}` |
//! | `PUT /api/page?path=P` | `{"source", "base", "message"}` → `{"path", "url", "revision", "commit", "merged"}`; `409` with both texts |
//! | `DELETE /api/page?path=P&base=R` | removes the page as a commit |
//! | `GET /api/history[?path=P][&limit=N]` | newest first |
//! | `GET /api/diff?path=P&from=R&to=R` | a unified diff |
//! | `POST /api/revert` | `{"path", "to", "message"}` |
//! | `POST /api/move` | `{"from", "to", "base", "message"}`: the old address redirects |
//! | `POST /api/sync` | fetch `wiki.remote` now (a webhook; `Authorization: Bearer <wiki.sync_secret>`) |
//!
//! Reading needs the right to read; changing needs `access.edit`.
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::json_body::{read_json, BodyRules};
use super::AppState;
use crate::access::Identity;
use crate::config::{CheckOnSave, EditAccess};
use crate::render::Snapshot;
use crate::wiki::{history, Author, PagePath, StoreError, Wiki};

/// Most history entries one request returns.
const MAX_HISTORY: usize = 1000;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    path: String,
    rev: Option<String>,
    base: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Save {
    source: String,
    base: Option<String>,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Revert {
    path: String,
    to: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    from: String,
    to: String,
    base: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    path: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    path: String,
    from: String,
    to: String,
}

/// The wiki, or a `403` saying editing is off.
pub(super) fn wiki(state: &AppState) -> Result<&Wiki, ApiError> {
    state.wiki.as_deref().ok_or_else(|| {
        ApiError::Forbidden(
            "pages are not edited in the browser here (`access.edit` is off)".into(),
        )
    })
}

/// The page a client's `path` names: a file (`guide/setup.md`) or a page's
/// address (`guide/setup`, which may be `guide/setup/index.md`).
pub(super) fn page_path(snapshot: &Snapshot, raw: &str) -> Result<PagePath, ApiError> {
    let url = raw.trim_matches('/');
    if !url.ends_with(".md") {
        if let Some(file) = snapshot.source_file(url) {
            return PagePath::parse(file).map_err(|e| ApiError::BadRequest(e.0));
        }
    }
    PagePath::parse(raw).map_err(|e| ApiError::BadRequest(e.0))
}

/// The author of a change by `http`'s sender, who must be allowed to edit.
pub(super) fn editor(state: &AppState, http: &HttpRequest) -> Result<Author, ApiError> {
    let identity = http
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or(Identity::Anonymous);
    let access = &state.gate.config;
    if state.wiki.as_ref().is_some_and(|wiki| !wiki.writer) {
        return Err(ApiError::Forbidden(
            "this instance follows `wiki.remote` and does not commit edits (`wiki.writer = false`); \
             edit on the writer"
                .into(),
        ));
    }
    if !access.may_edit(&identity) {
        return Err(match (access.edit, &identity) {
            (EditAccess::Off, _) => {
                ApiError::Forbidden("pages are not edited here (`access.edit` is off)".into())
            }
            (_, Identity::Anonymous) => ApiError::Unauthorized("sign in to edit pages".into()),
            (_, Identity::Known(name)) => ApiError::Forbidden(format!(
                "{name} may read but not edit; ask for a place in `access.editors`"
            )),
        });
    }
    Ok(Author {
        name: identity.name().unwrap_or("anonymous").to_string(),
    })
}

/// A commit message: the user's, or one that says what happened.
fn message(given: &str, default: String) -> String {
    let given = given.trim();
    if given.is_empty() {
        default
    } else {
        given.to_string()
    }
}

/// Runs `f` with the repository off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&Wiki) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    web::block(move || {
        let wiki = wiki(&state)?;
        f(wiki).map_err(store_error)
    })
    .await
    .map_err(|e| ApiError::Unavailable(format!("the wiki is busy: {e}")))?
}

pub(super) fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound(_) | StoreError::NoSuchRevision(..) => {
            ApiError::NotFound(error.to_string())
        }
        StoreError::NotText => ApiError::BadRequest(error.to_string()),
        StoreError::Git(_) | StoreError::Io(_) => {
            tracing::error!(%error, "wiki storage failed");
            ApiError::Unavailable(format!("the change could not be stored: {error}"))
        }
        StoreError::Exists(_) | StoreError::Stale { .. } | StoreError::Conflict { .. } => {
            ApiError::Conflict(error.to_string())
        }
    }
}

/// `GET /api/page?path=P[&rev=R]`.
pub async fn read(
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    let page = page_path(&state.snapshot.load(), &query.path)?;
    let rev = query.rev.clone();
    let shown = page.clone();
    let text = blocking(&state, move |wiki| {
        wiki.with_store(|store| store.read(&page, rev.as_deref()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "path": shown.as_str(), "source": text.source, "revision": text.revision })))
}

/// `PUT /api/page?path=P`.
pub async fn save(
    state: web::Data<AppState>,
    http: HttpRequest,
    query: web::Query<PageQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    let author = editor(&state, &http)?;
    let save: Save = read_page_body(
        &state,
        &http,
        payload,
        r#"{"source": "...", "base": "REVISION" or null, "message": "..."}"#,
        |save: &Save| &save.source,
    )
    .await?;
    let page = page_path(&state.snapshot.load(), &query.path)?;
    let check = match state.config.wiki.check_on_save {
        CheckOnSave::Off => None,
        _ => Some(check_examples(&state, &page, &save.source).await?),
    };
    if let Some(check) = check.as_ref().filter(|c| !c.failed.is_empty()) {
        if state.config.wiki.check_on_save == CheckOnSave::Block {
            return Ok(HttpResponse::UnprocessableEntity().json(json!({
                "error": format!(
                    "{} of the page's examples failed, and this site saves only pages whose \
                     examples pass (`wiki.check_on_save = \"block\"`); nothing was saved",
                    check.failed.len()
                ),
                "check": check,
                "yours": save.source,
            })));
        }
    }
    let commit_message = message(
        &save.message,
        match save.base {
            Some(_) => format!("Edit {page}"),
            None => format!("Create {page}"),
        },
    );
    let (source, base, shown) = (save.source.clone(), save.base.clone(), page.clone());
    let outcome = web::block({
        let state = state.clone();
        move || {
            let wiki = wiki(&state)?;
            Ok::<_, ApiError>(wiki.change(|store| {
                store.save(&page, &source, base.as_deref(), &commit_message, &author)
            }))
        }
    })
    .await
    .map_err(|e| ApiError::Unavailable(format!("the wiki is busy: {e}")))??;
    match outcome {
        Ok(committed) => Ok(HttpResponse::Ok().json(json!({
            "path": shown.as_str(),
            "url": crate::util::page_url(&state.config.base_path, &shown.url_path()),
            "revision": committed.revision,
            "commit": committed.commit,
            "merged": committed.merged,
            "check": check,
        }))),
        Err(StoreError::Conflict {
            path,
            current,
            current_revision,
        }) => {
            let diff = history::unified_diff(&current, &save.source, "saved meanwhile", "yours");
            Ok(HttpResponse::build(StatusCode::CONFLICT).json(json!({
                "error": format!(
                    "{path} was changed by someone else in the lines you changed; \
                     your text and the current one are both here: combine them and save again \
                     with base {current_revision}"
                ),
                "path": path,
                "yours": save.source,
                "current": current,
                "current_revision": current_revision,
                "diff": diff,
            })))
        }
        Err(error @ StoreError::Exists(_)) => {
            Ok(HttpResponse::build(StatusCode::CONFLICT).json(json!({
                "error": error.to_string(),
                "yours": save.source,
            })))
        }
        Err(error) => Err(store_error(error)),
    }
}

/// What checking a page's examples found.
#[derive(Debug, serde::Serialize)]
struct CheckReport {
    passed: usize,
    failed: Vec<crate::check::PageFailure>,
}

/// Runs the examples of `source` (the page `page` as it would be saved),
/// each in a sandboxed process, as `rundocs check` would.
async fn check_examples(
    state: &AppState,
    page: &PagePath,
    source: &str,
) -> Result<CheckReport, ApiError> {
    let failure = |details: String| CheckReport {
        passed: 0,
        failed: vec![crate::check::PageFailure {
            block: 0,
            line: 0,
            details,
        }],
    };
    let rendered = crate::render::preview::render_text(&state.config, page.as_str(), source);
    let rendered = match rendered {
        Ok(rendered) => rendered,
        Err(problem) => return Ok(failure(format!("the page has an error: {problem}"))),
    };
    let (passed, failed) = crate::check::check_page(
        &state.runtime,
        &rendered.snippets,
        crate::runtime::Isolation::Process,
    )
    .await
    .map_err(|e| ApiError::Unavailable(format!("the examples could not be checked: {e:#}")))?;
    Ok(CheckReport { passed, failed })
}

/// `DELETE /api/page?path=P&base=R`.
pub async fn delete(
    state: web::Data<AppState>,
    http: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    let author = editor(&state, &http)?;
    let page = page_path(&state.snapshot.load(), &query.path)?;
    let Some(base) = query.base.clone() else {
        return Err(ApiError::BadRequest(
            "name the revision you mean to delete: DELETE /api/page?path=P&base=REVISION".into(),
        ));
    };
    let text = format!("Delete {page}");
    let result = blocking(&state, move |wiki| {
        wiki.change(|store| store.delete(&page, &base, &text, &author))
    })
    .await;
    match result {
        Ok(committed) => Ok(HttpResponse::Ok().json(json!({ "commit": committed.commit }))),
        Err(error) => Err(error),
    }
}

/// A body that carries a page's text (`source`): read up to twice
/// `wiki.max_page_bytes` (JSON escapes it), the text itself within the limit.
pub(super) async fn read_page_body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    http: &HttpRequest,
    payload: web::Payload,
    shape: &str,
    source: impl Fn(&T) -> &str,
) -> Result<T, ApiError> {
    let limit = state.config.wiki.max_page_bytes;
    let too_large = move || {
        ApiError::TooLarge(format!(
            "the page is over the limit of {} KiB (`wiki.max_page_bytes`); split it into pages",
            limit >> 10
        ))
    };
    let body: T = read_json(
        http,
        payload,
        BodyRules {
            limit: limit * 2 + 4096,
            shape,
            too_large: &too_large,
        },
    )
    .await?;
    if source(&body).len() > limit {
        return Err(too_large());
    }
    Ok(body)
}

/// The body of a change that names pages and revisions (no page text).
async fn read_small_json<T: serde::de::DeserializeOwned>(
    http: &HttpRequest,
    payload: web::Payload,
    shape: &str,
) -> Result<T, ApiError> {
    let too_large =
        || ApiError::TooLarge(format!("the body is over 16 KiB; it holds only {shape}"));
    read_json(
        http,
        payload,
        BodyRules {
            limit: 16 << 10,
            shape,
            too_large: &too_large,
        },
    )
    .await
}

/// `POST /api/revert`.
pub async fn revert(
    state: web::Data<AppState>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    let author = editor(&state, &http)?;
    let revert: Revert = read_small_json(
        &http,
        payload,
        r#"{"path": "P", "to": "REVISION", "message": "..."}"#,
    )
    .await?;
    let page = page_path(&state.snapshot.load(), &revert.path)?;
    let text = message(
        &revert.message,
        format!(
            "Revert {page} to {}",
            revert.to.get(..10).unwrap_or(&revert.to)
        ),
    );
    let shown = page.clone();
    let committed = blocking(&state, move |wiki| {
        wiki.change(|store| store.revert(&page, &revert.to, &text, &author))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "path": shown.as_str(),
        "revision": committed.revision,
        "commit": committed.commit,
    })))
}

/// `POST /api/move`: a page to another address, the old one redirecting.
pub async fn move_page(
    state: web::Data<AppState>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    let author = editor(&state, &http)?;
    let moving: Move = read_small_json(
        &http,
        payload,
        r#"{"from": "P", "to": "Q", "base": "REVISION", "message": "..."}"#,
    )
    .await?;
    let snapshot = state.snapshot.load();
    let from = page_path(&snapshot, &moving.from)?;
    let to = PagePath::parse(&moving.to).map_err(|e| ApiError::BadRequest(e.0))?;
    let text = message(&moving.message, format!("Move {from} to {to}"));
    let shown = to.clone();
    let committed = blocking(&state, move |wiki| {
        wiki.change(|store| store.move_page(&from, &to, &moving.base, &text, &author))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "path": shown.as_str(),
        "url": crate::util::page_url(&state.config.base_path, &shown.url_path()),
        "revision": committed.revision,
        "commit": committed.commit,
    })))
}

/// `GET /api/history[?path=P][&limit=N]`.
pub async fn history(
    state: web::Data<AppState>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_HISTORY);
    let page = match &query.path {
        Some(path) => Some(page_path(&state.snapshot.load(), path)?),
        None => None,
    };
    let changes = blocking(&state, move |wiki| {
        wiki.with_store(|store| match &page {
            Some(page) => history::page_history(store, page, limit),
            None => history::recent_changes(store, limit),
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(changes))
}

/// `GET /api/diff?path=P&from=R&to=R`.
pub async fn diff(
    state: web::Data<AppState>,
    query: web::Query<DiffQuery>,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    let page = page_path(&state.snapshot.load(), &query.path)?;
    let (from, to) = (query.from.clone(), query.to.clone());
    let diff = blocking(&state, move |wiki| {
        wiki.with_store(|store| history::diff(store, &page, &from, &to))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/x-diff; charset=utf-8")
        .body(diff))
}

/// `POST /api/sync`: a webhook asking this instance to fetch the remote now.
/// Answers `202` at once; the round runs on the sync thread.
pub async fn sync(state: web::Data<AppState>, http: HttpRequest) -> Result<HttpResponse, ApiError> {
    let Some(syncer) = state.wiki.as_ref().and_then(|wiki| wiki.syncer.as_ref()) else {
        return Err(ApiError::NotFound(
            "this instance follows no git remote (`wiki.remote` is not set)".into(),
        ));
    };
    let Some(secret) = state.config.wiki.sync_secret.as_deref() else {
        return Err(ApiError::Forbidden(
            "set `wiki.sync_secret` to let webhooks ask for a sync".into(),
        ));
    };
    let given = http
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::util::same_secret(given.as_bytes(), secret.as_bytes()) {
        return Err(ApiError::Unauthorized(
            "send `Authorization: Bearer <wiki.sync_secret>`".into(),
        ));
    }
    syncer.sync_soon();
    Ok(HttpResponse::Accepted().json(json!({ "status": "syncing" })))
}
