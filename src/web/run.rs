//! `POST /api/run/{id}`: runs a content snippet and streams its events.
//!
//! The handler only looks the snippet up and queues it; the run happens on
//! the runtime's own threads. The response is Server-Sent Events (see the
//! README's run stream). While the run is silent a `: keep-alive` comment
//! goes out every [`KEEP_ALIVE_EVERY`], so a client that has gone is noticed:
//! actix drops the stream, which drops the [`RunHandle`], which cancels the run.
use std::time::Duration;

use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::stream;
use serde_json::json;

use super::error::ApiError;
use super::refusals::Reason;
use super::{run_access, sse, AppState};
use crate::content::Snippet;
use crate::render::Snapshot;
use crate::runtime::{Block, Isolation, RunEvent, RunHandle, RunRequest, SubmitError};

/// Interval of keep-alive comments while a run is silent.
pub const KEEP_ALIVE_EVERY: Duration = Duration::from_millis(250);

pub async fn run(
    state: web::Data<AppState>,
    http: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    run_access::reject_cross_site(&http)
        .inspect_err(|_| state.refusals.count(Reason::CrossSite))?;
    let snapshot = state.snapshot.load();
    let snippet = runnable_snippet(&snapshot, &id)?;
    let client = client_of(&state, &http);
    state
        .run_rate
        .check(client)
        .inspect_err(|_| state.refusals.count(Reason::RateLimited))?;
    let request = run_request(&snapshot, snippet, state.config.run.isolation);
    start(&state, request, None)
}

/// The runnable block `id` of the current content.
pub fn runnable_snippet<'a>(snapshot: &'a Snapshot, id: &str) -> Result<&'a Snippet, ApiError> {
    let snippet = snapshot.snippet(id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no example has the id {id}; the page may be older than its content, reload it"
        ))
    })?;
    if !snippet.runnable {
        return Err(ApiError::BadRequest(format!(
            "block {id} is not runnable (only Python blocks without `norun` are)"
        )));
    }
    Ok(snippet)
}

/// The address a request comes from (the proxy's word for it, when trusted).
pub fn client_of(state: &AppState, http: &HttpRequest) -> Option<std::net::IpAddr> {
    let forwarded_for = http
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    state
        .config
        .access
        .client_address(http.peer_addr().map(|addr| addr.ip()), forwarded_for)
        .map(super::run_access::rate_key)
}

/// Queues `request` and answers its run stream.
pub fn start(
    state: &AppState,
    request: RunRequest,
    on_cpu: Option<Box<dyn FnOnce(f64) + Send>>,
) -> Result<HttpResponse, ApiError> {
    let handle = state
        .runtime
        .submit_charging(request, on_cpu)
        .map_err(|error| match error {
            SubmitError::QueueFull(_) => {
                state.refusals.count(Reason::QueueFull);
                ApiError::Busy(error.to_string())
            }
            SubmitError::ShuttingDown | SubmitError::NoProcessMode => {
                ApiError::Unavailable(error.to_string())
            }
        })?;
    Ok(sse::response(event_stream(handle)))
}

/// What running `snippet` means: its `requires=` chain, then itself, under its time limit.
pub fn run_request(snapshot: &Snapshot, snippet: &Snippet, isolation: Isolation) -> RunRequest {
    chain_request(snapshot.run_chain(snippet), snippet, isolation)
}

/// Runs `chain` (ending in `snippet`) as one run in one namespace.
pub fn chain_request(chain: Vec<&Snippet>, snippet: &Snippet, isolation: Isolation) -> RunRequest {
    RunRequest {
        isolation,
        blocks: chain.into_iter().map(block_of).collect(),
        timeout: Duration::from_secs_f64(snippet.timeout_s),
    }
}

/// How a block is named in tracebacks: its page and position, as a reader finds it.
pub fn block_of(snippet: &Snippet) -> Block {
    Block {
        snippet_id: snippet.id.clone(),
        filename: format!("/{}, block {}", snippet.page, snippet.index + 1),
        code: snippet.code.clone(),
        echo: snippet.echo,
        session: snippet.session,
    }
}

/// How long a partial line may wait for the rest of its line.
const LINGER_FOR_LINE_END: Duration = Duration::from_millis(20);

fn ends_mid_line(events: &[RunEvent]) -> bool {
    matches!(events.last(), Some(RunEvent::Output { text, .. }) if !text.ends_with('\n'))
}

struct StreamState {
    handle: RunHandle,
    ended: bool,
    /// The queue position last told to the client.
    told_position: Option<usize>,
}

fn event_stream(
    handle: RunHandle,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    stream::unfold(
        StreamState {
            handle,
            ended: false,
            told_position: None,
        },
        |mut s| async move {
            if s.ended {
                return None;
            }
            loop {
                let mut events = s.handle.take_events();
                // Give a line being written a moment to finish, so `print`'s
                // separate writes of text, separator and newline go out as one
                // even when other runs take the GIL in between.
                let linger_until = tokio::time::Instant::now() + LINGER_FOR_LINE_END;
                while ends_mid_line(&events) {
                    let more = tokio::time::timeout_at(linger_until, s.handle.changed()).await;
                    events.extend(s.handle.take_events());
                    if more.is_err() {
                        break;
                    }
                }
                if !events.is_empty() {
                    let mut bytes = BytesMut::new();
                    for event in &merge_output(events) {
                        s.ended |= matches!(event, RunEvent::End(_));
                        bytes.extend_from_slice(&frame(event));
                    }
                    return Some((Ok(bytes.freeze()), s));
                }
                tokio::select! {
                    _ = s.handle.changed() => continue,
                    _ = tokio::time::sleep(KEEP_ALIVE_EVERY) => {
                        // Still waiting for a worker: say where in the queue, when it changes.
                        let position = s.handle.queue_position();
                        if position.is_some() && position != s.told_position {
                            s.told_position = position;
                            let event = sse::event("queued", &json!({ "position": position }));
                            return Some((Ok(event), s));
                        }
                        return Some((Ok(Bytes::from_static(sse::KEEP_ALIVE)), s));
                    }
                }
            }
        },
    )
}

/// Consecutive output of one stream as one event (a line written in pieces
/// and read in pieces arrives whole).
fn merge_output(events: Vec<RunEvent>) -> Vec<RunEvent> {
    let mut merged: Vec<RunEvent> = Vec::with_capacity(events.len());
    for event in events {
        if let (
            Some(RunEvent::Output { stream, text }),
            RunEvent::Output {
                stream: next_stream,
                text: next_text,
            },
        ) = (merged.last_mut(), &event)
        {
            if stream == next_stream {
                text.push_str(next_text);
                continue;
            }
        }
        merged.push(event);
    }
    merged
}

fn frame(event: &RunEvent) -> Bytes {
    match event {
        RunEvent::Start { run_id, queued_ms } => sse::event(
            "start",
            &json!({ "run_id": run_id, "queued_ms": queued_ms }),
        ),
        RunEvent::Output { stream, text } => sse::event(stream.name(), &json!({ "text": text })),
        RunEvent::Display(display) => sse::event("display", display),
        RunEvent::End(end) => sse::event("end", end),
    }
}

/// Any method but POST on a run URL.
pub async fn wrong_method(request: actix_web::HttpRequest) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((actix_web::http::header::ALLOW, "POST"))
        .json(json!({ "error": format!("{} is not allowed here; start a run with POST {}", request.method(), super::reserved::requested_path(&request)) }))
}
