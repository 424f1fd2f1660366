//! Requests whose shape no route accepts, refused before routing (and after
//! [`super::reserved`] has put a version 1 path under the reserved prefix).
//!
//! A few routes read a request body, each counting its bytes against a limit
//! of its own: `POST /api/run` (edited code, up to
//! [`super::edited_run::MAX_BODY_BYTES`]), and the wiki's `PUT /api/page`,
//! `POST /api/revert`, `POST /api/preview` and `POST /api/upload`. Pages,
//! assets and the rest of the JSON API are `GET`/`HEAD`, and
//! `POST /api/run/{id}` names everything it needs in its path. So a `GET` or
//! `HEAD` that carries a body is refused with 400, and any other body over
//! [`MAX_BODY_BYTES`] with 413, before a handler runs or a byte of the body
//! is read. Each answer says what to change.
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;

/// Largest body any request may carry (`POST /api/run/{id}` needs none;
/// a small one, such as `{}` from a generic client, is ignored).
pub const MAX_BODY_BYTES: u64 = 1024;

/// The middleware: refuses misshapen requests, passes the rest on.
pub async fn refuse_misshapen(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some((status, message)) = problem(&request) {
        let response = HttpResponse::build(status)
            .insert_header((header::CONNECTION, "close"))
            .content_type("text/plain; charset=utf-8")
            .body(message);
        return Ok(request.into_response(response));
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

fn problem(request: &ServiceRequest) -> Option<(StatusCode, String)> {
    let headers = request.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    let method = request.method();
    let edited_run = method == Method::POST
        && request
            .path()
            .strip_suffix("/api/run")
            .and_then(|prefix| prefix.strip_suffix(super::reserved::INTERNAL_PREFIX))
            .zip(request.app_data::<actix_web::web::Data<super::AppState>>())
            .is_some_and(|(base, state)| base == state.config.base_path);
    if (method == Method::GET || method == Method::HEAD) && (length.unwrap_or(0) > 0 || chunked) {
        return Some((
            StatusCode::BAD_REQUEST,
            format!("{method} requests carry no body here; send it without one.\n"),
        ));
    }
    let wiki_change = (method == Method::PUT || method == Method::POST)
        && request
            .app_data::<actix_web::web::Data<super::AppState>>()
            .is_some_and(|state| {
                let routes = state.config.routes_base();
                request
                    .path()
                    .strip_prefix(routes.as_str())
                    .is_some_and(|route| {
                        (method == Method::PUT && route == "/api/page")
                            || (method == Method::POST
                                && matches!(
                                    route,
                                    "/api/revert"
                                        | "/api/sync"
                                        | "/api/move"
                                        | "/api/preview"
                                        | "/api/upload"
                                ))
                    })
            });
    if edited_run || wiki_change {
        // Their handlers count the bytes as they come, chunked or not.
        return None;
    }
    if length.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Some((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The request body is {} bytes; only edited code (POST /api/run) and the wiki's \
                 changes (/api/page, /api/preview, /api/upload, /api/revert, /api/move, /api/sync) \
                 carry larger bodies; other requests may carry at most {MAX_BODY_BYTES}. \
                 POST /api/run/{{id}} needs none.\n",
                length.unwrap_or_default()
            ),
        ));
    }
    None
}
