//! `GET /api/live-reload`: with `--watch`, tells open pages when the content
//! was rebuilt. The first event carries the current generation, so a page
//! that reconnects after missing a rebuild still notices it.
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use futures_util::stream;
use serde_json::json;
use tokio::sync::watch;

use super::error::ApiError;
use super::{sse, AppState};

/// Idle streams send a comment this often.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

struct ReloadStream {
    generations: watch::Receiver<u64>,
    shutting_down: watch::Receiver<bool>,
    sent_first: bool,
}

enum Next {
    Reload(u64),
    KeepAlive,
    End,
}

pub async fn stream(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.config.watch {
        return Err(ApiError::NotFound(
            "live reload is off; start the server with --watch".into(),
        ));
    }
    let start = ReloadStream {
        generations: state.generations.clone(),
        shutting_down: state.shutting_down.clone(),
        sent_first: false,
    };
    let events = stream::unfold(start, |mut s| async move {
        if !s.sent_first {
            s.sent_first = true;
            let generation = *s.generations.borrow_and_update();
            return Some((Ok(reload_event(generation)), s));
        }
        let next = tokio::select! {
            changed = s.generations.changed() => match changed {
                Ok(()) => Next::Reload(*s.generations.borrow_and_update()),
                Err(_) => Next::End,
            },
            _ = s.shutting_down.wait_for(|&stop| stop) => Next::End,
            _ = tokio::time::sleep(KEEP_ALIVE_EVERY) => Next::KeepAlive,
        };
        match next {
            Next::Reload(generation) => Some((Ok(reload_event(generation)), s)),
            Next::KeepAlive => Some((Ok(Bytes::from_static(sse::KEEP_ALIVE)), s)),
            Next::End => None,
        }
    });
    Ok(sse::response(events))
}

fn reload_event(generation: u64) -> Bytes {
    sse::event("generation", &json!({ "generation": generation }))
}
