//! Server-Sent Events: framing and the response around an event stream.
//!
//! Each event is `event: NAME` plus one `data:` line holding a JSON object.
//! Comment lines (`: keep-alive`) keep idle streams open through proxies and
//! let the server notice a client that has gone.
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures_util::Stream;
use serde::Serialize;

/// A comment line: ignored by `EventSource`, but it makes the connection write.
pub const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// Frames one event. JSON has no raw newlines, so one `data:` line suffices.
pub fn event(name: &str, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).expect("event data serialises to JSON");
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// A streaming `text/event-stream` response, never compressed or buffered.
pub fn response<S>(stream: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}
