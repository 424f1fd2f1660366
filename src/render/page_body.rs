//! [`PageBody`]: a response body made of shared pieces of the snapshot.
//!
//! A page is the HTML before the sidebar, the sidebar (split where this
//! page's link is marked current) and the HTML after it. Sending those
//! pieces as they are, reference-counted, saves assembling a copy of every
//! page (most of it the sidebar, 66 kB on a 1,000-page site) per request.
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

/// The pieces of one page, sent in order; empty ones are skipped.
pub struct PageBody {
    pieces: [Bytes; 5],
    next: usize,
    size: u64,
}

impl PageBody {
    pub fn new(pieces: [Bytes; 5]) -> PageBody {
        let size = pieces.iter().map(|p| p.len() as u64).sum();
        PageBody {
            pieces,
            next: 0,
            size,
        }
    }
}

impl MessageBody for PageBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        while self.next < self.pieces.len() {
            let index = self.next;
            self.next += 1;
            let piece = std::mem::take(&mut self.pieces[index]);
            if !piece.is_empty() {
                return Poll::Ready(Some(Ok(piece)));
            }
        }
        Poll::Ready(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn the_pieces_arrive_in_order_with_their_total_size() {
        let body = PageBody::new([
            Bytes::from_static(b"<head>"),
            Bytes::from_static(b"<nav>a "),
            Bytes::new(),
            Bytes::from_static(b"b</nav>"),
            Bytes::from_static(b"</html>"),
        ]);
        assert_eq!(body.size(), BodySize::Sized(27));
        let bytes = actix_web::body::to_bytes(body).await.unwrap();
        assert_eq!(&bytes[..], b"<head><nav>a b</nav></html>");
    }
}
