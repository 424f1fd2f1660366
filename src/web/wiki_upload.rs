//! `POST /api/upload?path=P`: an image from the wiki editor, committed into
//! the content folder.
//!
//! The body is the image's bytes, with its type as `Content-Type`
//! (`image/png`, `image/jpeg`, `image/gif`, `image/webp` or
//! `image/svg+xml`). The image is taken only when all three agree: the
//! bytes are that type (by how they start, [`image_type`]), and `P` is an
//! image file inside the content folder ([`ImagePath`]) whose extension is
//! one of that type's. It may be `wiki.max_image_bytes` long. It is then one
//! commit by the editor, as a save is, and served at its path once the site
//! is rebuilt; the answer is `{"path", "url", "commit"}`. An image already
//! at `P` is never replaced (pages may show it): the same bytes again are
//! taken as they are, other bytes are `409`.
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::run_access::reject_cross_site;
use super::wiki::{editor, store_error, wiki};
use super::AppState;
use crate::runtime::display::image_type;
use crate::wiki::{ImagePath, StoreError};

/// The types an upload may declare.
const ACCEPTED: [&str; 5] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/svg+xml",
];

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    path: String,
}

/// `POST /api/upload?path=P`.
pub async fn upload(
    state: web::Data<AppState>,
    http: HttpRequest,
    query: web::Query<UploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    wiki(&state)?;
    reject_cross_site(&http)?;
    let author = editor(&state, &http)?;
    let image = ImagePath::parse(&query.path).map_err(|e| ApiError::BadRequest(e.0))?;
    let declared = declared_type(&http)?;
    let bytes = read_image(&state, &http, payload).await?;
    let found = image_type(&bytes).ok_or_else(|| {
        ApiError::BadRequest(
            "the bytes sent are not a PNG, JPEG, GIF, WebP or SVG image; send the image file itself"
                .into(),
        )
    })?;
    if found != declared {
        return Err(ApiError::BadRequest(format!(
            "the bytes sent are {found}, not {declared} as Content-Type says"
        )));
    }
    if !mime_guess::from_path(image.as_str())
        .iter()
        .any(|mime| mime.essence_str() == found)
    {
        return Err(ApiError::BadRequest(format!(
            "{image:?} does not end in an extension of {found}; name the file after its type",
            image = image.as_str()
        )));
    }
    let message = format!("Add {}", image.as_str());
    let stored = image.clone();
    let committed = web::block({
        let state = state.clone();
        move || {
            let wiki = wiki(&state)?;
            Ok::<_, ApiError>(
                wiki.change(|store| store.add_image(&stored, &bytes, &message, &author)),
            )
        }
    })
    .await
    .map_err(|e| ApiError::Unavailable(format!("the wiki is busy: {e}")))??;
    match committed {
        Ok(committed) => Ok(HttpResponse::Ok().json(json!({
            "path": image.as_str(),
            "url": format!(
                "{}/{}",
                state.config.base_path,
                crate::util::encode_path(image.as_str())
            ),
            "commit": committed.commit,
        }))),
        Err(StoreError::Exists(path)) => Err(ApiError::Conflict(format!(
            "{path} exists already with other content; give the image another name"
        ))),
        Err(error) => Err(store_error(error)),
    }
}

/// The `Content-Type` of the request, one of [`ACCEPTED`].
fn declared_type(http: &HttpRequest) -> Result<&'static str, ApiError> {
    let given = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    ACCEPTED
        .into_iter()
        .find(|accepted| *accepted == given)
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(format!(
                "send the image's bytes with its type as Content-Type: one of {}",
                ACCEPTED.join(", ")
            ))
        })
}

/// The body, refused with `413` as soon as it is over `wiki.max_image_bytes`.
async fn read_image(
    state: &AppState,
    http: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Vec<u8>, ApiError> {
    let limit = state.config.wiki.max_image_bytes;
    let too_large = || {
        ApiError::TooLarge(format!(
            "the image is over the limit of {} KiB (`wiki.max_image_bytes`); make it smaller",
            limit >> 10
        ))
    };
    let length = http
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if length.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(length.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the body is empty; send the image's bytes".into(),
        ));
    }
    Ok(body.to_vec())
}
