//! Pages: a lookup in the snapshot, with ETag revalidation.
use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use std::borrow::Cow;

use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use super::AppState;
use crate::content::ContentImage;
use crate::render::{ServedPage, Snapshot};

/// `GET /`.
pub async fn index(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let snapshot = state.snapshot.load();
    let page = snapshot.page("").unwrap_or_else(|| snapshot.not_found());
    respond(&request, &snapshot, page)
}

/// `GET /{path}`: the article at `path`; `path/` and `path.md` redirect
/// to `path`; anything else is the 404 page. The route table's fallback,
/// so it also answers the methods other than GET and HEAD, with 405.
pub async fn page(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return super::read_only_method(request).await;
    }
    let snapshot = state.snapshot.load();
    // Below the base path, without its one leading `/`.
    let routed = request.match_info().unprocessed();
    let path = decode_reserved(routed.strip_prefix('/').unwrap_or(routed));
    let path = path.as_ref();
    if let Some(page) = snapshot.page(path) {
        return respond(&request, &snapshot, page);
    }
    if let Some(image) = snapshot.image(path) {
        let bytes = match image.clone() {
            ContentImage::Bundled(Cow::Borrowed(data)) => Some(Bytes::from_static(data)),
            ContentImage::Bundled(Cow::Owned(data)) => Some(Bytes::from(data)),
            // Read off the async threads; gone (or grown past the limit)
            // since the last rebuild: 404.
            ContentImage::File(file) => web::block(move || {
                std::fs::read(file)
                    .ok()
                    .filter(|bytes| bytes.len() as u64 <= crate::content::MAX_IMAGE_BYTES)
            })
            .await
            .ok()
            .flatten()
            .map(Bytes::from),
        };
        if let Some(bytes) = bytes {
            return image_response(path, bytes);
        }
    }
    let canonical = crate::render::snapshot::canonical_page_path(path);
    if let Some(target) = snapshot
        .moved_to(canonical)
        .filter(|target| snapshot.page(target).is_some())
    {
        return HttpResponse::PermanentRedirect()
            .insert_header((
                header::LOCATION,
                crate::util::page_url(&state.config.base_path, target),
            ))
            .finish();
    }
    if canonical != path && snapshot.page(canonical).is_some() {
        return HttpResponse::PermanentRedirect()
            .insert_header((
                header::LOCATION,
                crate::util::page_url(&state.config.base_path, canonical),
            ))
            .finish();
    }
    respond(&request, &snapshot, snapshot.not_found())
}

/// An image of the content folder. An SVG opened on its own gets a policy
/// that lets nothing in it run or load.
fn image_response(path: &str, bytes: Bytes) -> HttpResponse {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = HttpResponse::Ok();
    response
        .content_type(mime.essence_str())
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"));
    if mime.essence_str() == "image/svg+xml" {
        response.insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ));
    }
    response.body(bytes)
}

/// The router decodes every `%XX` in a path but `%2F`, `%25` and `%2B`
/// (`/`, `%`, `+`); page paths are looked up fully decoded.
pub(crate) fn decode_reserved(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let mut decoded = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('%') {
        decoded.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or("");
        let reserved = match escape.to_ascii_uppercase().as_str() {
            "%2F" => Some('/'),
            "%25" => Some('%'),
            "%2B" => Some('+'),
            _ => None,
        };
        match reserved {
            Some(c) => {
                decoded.push(c);
                rest = &rest[at + 3..];
            }
            None => {
                decoded.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    decoded.push_str(rest);
    Cow::Owned(decoded)
}

fn respond(request: &HttpRequest, snapshot: &Snapshot, page: &ServedPage) -> HttpResponse {
    let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let etag = EntityTag::new_strong(page.etag.trim_matches('"').to_string());
    if status == StatusCode::OK && matches_etag(request, &etag) {
        return HttpResponse::NotModified()
            .insert_header(header::ETag(etag))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish();
    }
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(header::ETag(etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(snapshot.html(page))
}

/// `If-None-Match` names this ETag (weak comparison, as RFC 9110 asks for GET).
pub fn matches_etag(request: &HttpRequest, etag: &EntityTag) -> bool {
    match request.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(etag)),
        None => false,
    }
}
