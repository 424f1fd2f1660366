//! `GET /static/{file}`: the embedded assets. Hashed names are immutable for
//! a year; plain names revalidate with their ETag.
use actix_web::http::header::{self, EntityTag};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};

use super::pages::matches_etag;
use super::AppState;

/// Any other path under `/static/`: 404 (405 for methods other than GET
/// and HEAD), never a page.
pub async fn not_an_asset(request: HttpRequest) -> HttpResponse {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return super::read_only_method(request).await;
    }
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "no asset at {}\n",
            super::reserved::requested_path(&request)
        ))
}

pub async fn serve(
    state: web::Data<AppState>,
    request: HttpRequest,
    file: web::Path<String>,
) -> HttpResponse {
    let Some(asset) = state.assets.get(&file) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body(format!("no asset named {file}\n"));
    };
    let etag = EntityTag::new_strong(asset.etag.trim_matches('"').to_string());
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    if matches_etag(&request, &etag) {
        return HttpResponse::NotModified()
            .insert_header(header::ETag(etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(asset.content_type.as_str())
        .insert_header(header::ETag(etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(asset.bytes.clone().into_owned())
}
