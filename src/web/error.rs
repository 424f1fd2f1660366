//! Errors of the JSON API: each variant knows its status, and the body is
//! always `{"error": "..."}` saying what to fix.
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// Too many runs waiting: try again shortly.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Unavailable(String),
}

/// Seconds a client should wait before retrying a refused run.
pub const RETRY_AFTER_S: u32 = 1;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Busy(_) | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Busy(_) | ApiError::Unavailable(_)) {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                RETRY_AFTER_S.to_string(),
            ));
        }
        response.json(serde_json::json!({ "error": self.to_string() }))
    }
}
