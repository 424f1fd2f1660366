//! `GET /metrics`: metrics for operators, in the OpenMetrics text format
//! (which Prometheus reads), as `prometheus-client` writes them.
//!
//! The runtime's run metrics ([`crate::runtime::Runtime::metrics_text`]) come
//! first, then the requests refused by reason ([`super::refusals`]), then the
//! closing `# EOF`.
use actix_web::{web, HttpResponse};

use super::AppState;

/// `GET /metrics`: OpenMetrics text, ending in `# EOF`.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut text = state.runtime.metrics_text();
    state.refusals.encode(&mut text);
    if let Some(syncer) = state.wiki.as_ref().and_then(|wiki| wiki.syncer.as_ref()) {
        syncer.metrics.encode(&mut text);
    }
    text.push_str("# EOF\n");
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text)
}
