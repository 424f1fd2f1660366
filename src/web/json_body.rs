//! Request bodies of the JSON API: `Content-Type: application/json` or
//! `415`, read up to a limit or `413` as soon as it is passed, then parsed
//! into the route's type or `400` saying which shape was expected.
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use actix_web::HttpRequest;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// How a route reads its body.
pub struct BodyRules<'a> {
    /// Most bytes the body may have.
    pub limit: usize,
    /// The shape, for messages: `{"code": "...", "snippet": "ID"}`.
    pub shape: &'a str,
    /// What `413` says.
    pub too_large: &'a dyn Fn() -> ApiError,
}

/// Reads and parses the body of `http` by `rules`.
pub async fn read_json<T: DeserializeOwned>(
    http: &HttpRequest,
    mut payload: web::Payload,
    rules: BodyRules<'_>,
) -> Result<T, ApiError> {
    let json = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send JSON: Content-Type: application/json, body {}",
            rules.shape
        )));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > rules.limit {
            return Err((rules.too_large)());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not {}: {e}", rules.shape)))
}
