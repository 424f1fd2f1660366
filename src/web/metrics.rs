//! `GET /metrics`: Prometheus text for operators.
//!
//! The runtime's run metrics ([`crate::runtime::Runtime::metrics_text`]) come
//! first, then the requests refused by reason ([`super::refusals`]), then the
//! closing `# EOF`.
use actix_web::{web, HttpResponse};

use super::AppState;

/// `GET /metrics`: Prometheus text.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut text = state.runtime.metrics_text();
    state.refusals.encode(&mut text);
    text.push_str("# EOF\n");
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
