//! `GET /api/live-reload`: with `--watch`, tells open pages when the content
//! was rebuilt. The first event carries the current generation, so a page
//! that reconnects after missing a rebuild still notices it.
//!
//! Each stream holds a connection for as long as the page is open, so
//! streams are capped: [`MAX_STREAMS_PER_CLIENT`] per client (an IPv4
//! address or an IPv6 /64) and [`MAX_STREAMS`] in all; beyond that `503`
//! with `Retry-After` (the page's script tries again later).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use futures_util::stream;
use serde_json::json;
use tokio::sync::watch;

use super::error::ApiError;
use super::{sse, AppState};

/// Idle streams send a comment this often; a stream whose reader went away
/// is found when these writes fail, which gives its place back.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(5);

/// Live-reload streams one client may hold (a reader with many tabs).
pub const MAX_STREAMS_PER_CLIENT: usize = 16;
/// Live-reload streams the server holds in all.
pub const MAX_STREAMS: usize = 1024;

/// The streams open now, by client.
#[derive(Default)]
pub struct StreamSlots {
    open: Mutex<(usize, HashMap<Option<IpAddr>, usize>)>,
}

/// One open stream's place; given back when the stream ends.
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    client: Option<IpAddr>,
}

impl StreamSlots {
    /// A place for a stream of `client`, unless it or the server is at its cap.
    fn take(self: &Arc<Self>, client: Option<IpAddr>) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (total, by_client) = &mut *open;
        let mine = by_client.entry(client).or_default();
        if *total >= MAX_STREAMS || *mine >= MAX_STREAMS_PER_CLIENT {
            return None;
        }
        *mine += 1;
        *total += 1;
        Some(StreamSlot {
            slots: self.clone(),
            client,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        let (total, by_client) = &mut *open;
        *total -= 1;
        if let Some(mine) = by_client.get_mut(&self.client) {
            *mine -= 1;
            if *mine == 0 {
                by_client.remove(&self.client);
            }
        }
    }
}

struct ReloadStream {
    /// Held while the stream is open.
    _slot: StreamSlot,
    generations: watch::Receiver<u64>,
    shutting_down: watch::Receiver<bool>,
    sent_first: bool,
}

enum Next {
    Reload(u64),
    KeepAlive,
    End,
}

pub async fn stream(
    state: web::Data<AppState>,
    http: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !state.config.watch {
        return Err(ApiError::NotFound(
            "live reload is off; start the server with --watch".into(),
        ));
    }
    let client = super::run::client_of(&state, &http);
    let Some(slot) = state.live_reload_slots.take(client) else {
        return Err(ApiError::Busy(format!(
            "too many live-reload streams are open (at most {MAX_STREAMS_PER_CLIENT} per client, \
             {MAX_STREAMS} in all); close some tabs of this site"
        )));
    };
    let start = ReloadStream {
        _slot: slot,
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
