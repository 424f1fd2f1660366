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
    #[error("{0}")]
    Forbidden(String),
    /// The change meets another made meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// Sign in first.
    #[error("{0}")]
    Unauthorized(String),
    #[error("too many runs from your address; try again in {retry_after_s} s")]
    TooManyRuns { retry_after_s: u64 },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A client used up its CPU time for edited runs.
    #[error("{message}")]
    OverQuota { message: String, retry_after_s: u64 },
}

/// Seconds a client should wait before retrying a refused run.
pub const RETRY_AFTER_S: u32 = 1;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Busy(_) | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRuns { .. } | ApiError::OverQuota { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        let retry_after = match self {
            ApiError::Busy(_) | ApiError::Unavailable(_) => Some(u64::from(RETRY_AFTER_S)),
            ApiError::TooManyRuns { retry_after_s } | ApiError::OverQuota { retry_after_s, .. } => {
                Some(*retry_after_s)
            }
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(serde_json::json!({ "error": self.to_string() }))
    }
}
