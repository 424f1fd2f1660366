//! Rich output: the MIME bundles a run's `display()` sends (figures, tables,
//! HTML), cleaned before they leave the server.
//!
//! A bundle arrives as JSON text, `{"data": {mime: value}, "metadata": {}}`,
//! from code that may be hostile. What goes out is a [`Display`] holding only
//! types the page knows how to show, each made safe:
//!
//! * `text/html` goes through `ammonia`: no scripts, styles, event handlers,
//!   `javascript:` or other active URLs, and no remote resources (an image
//!   only from a `data:` URL of a raster or SVG image);
//! * `text/markdown` is rendered by the site's markdown parser and cleaned
//!   the same way, arriving as `text/html`;
//! * `image/png`, `image/jpeg`, `image/gif`, `image/webp` must be base64 of
//!   an image of that type; `image/svg+xml` is text, which the page shows
//!   only inside `<img>` (where an SVG's scripts never run);
//! * `text/plain`, `text/latex` and `application/json` (checked to parse)
//!   are text the page shows as text;
//! * anything else (`application/javascript`, widget state) is dropped.
//!
//! A bundle larger than the per-item limit is refused as a whole.
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One cleaned display, as the run stream's `display` event carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Display {
    pub data: BTreeMap<String, String>,
    pub metadata: Map<String, Value>,
}

impl Display {
    /// Bytes it adds to the run's output (what counts toward the limits).
    pub fn size(&self) -> usize {
        self.data.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Its `text/plain` form, what `rundocs check` compares.
    pub fn text(&self) -> &str {
        self.data.get("text/plain").map_or("", String::as_str)
    }

    /// Whether it shows an image.
    pub fn is_image(&self) -> bool {
        self.data.keys().any(|mime| mime.starts_with("image/"))
    }
}

/// Why a bundle was not shown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    #[error("display() sent something that is not a MIME bundle: {0}")]
    NotABundle(String),
    #[error("a display of {bytes} bytes is over the limit of {limit} bytes for one item")]
    TooLarge { bytes: usize, limit: usize },
}

#[derive(Deserialize)]
struct RawBundle {
    data: Map<String, Value>,
    #[serde(default)]
    metadata: Map<String, Value>,
}

/// The raster images shown: MIME type, how the file starts (`?` stands for
/// any byte), file extension.
const RASTER_TYPES: [(&str, &[u8], &str); 4] = [
    ("image/png", b"\x89PNG\r\n\x1a\n", "png"),
    ("image/jpeg", b"\xff\xd8\xff", "jpg"),
    ("image/gif", b"GIF8", "gif"),
    ("image/webp", b"RIFF????WEBP", "webp"),
];

/// The image type `bytes` hold, judged by how they start (an SVG by being
/// text with an `<svg` element), or `None` when they are no image shown here.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    let starts_like = |magic: &[u8]| {
        bytes.len() >= magic.len() && magic.iter().zip(bytes).all(|(m, b)| *m == b'?' || m == b)
    };
    RASTER_TYPES
        .iter()
        .find(|(_, magic, _)| starts_like(magic))
        .map(|(mime, _, _)| *mime)
        .or_else(|| {
            std::str::from_utf8(bytes)
                .is_ok_and(is_svg)
                .then_some("image/svg+xml")
        })
}

/// Whether `text` is (or holds) an SVG image.
fn is_svg(text: &str) -> bool {
    text.contains("<svg")
}

/// The file extension for an image type a display may hold.
pub fn image_extension(mime: &str) -> Option<&'static str> {
    if mime == "image/svg+xml" {
        return Some("svg");
    }
    RASTER_TYPES
        .iter()
        .find(|(known, _, _)| *known == mime)
        .map(|(_, _, extension)| *extension)
}

/// The longest bundle JSON worth parsing for an item `limit` bytes long:
/// past it the item could never fit (the JSON is a little larger than what
/// it holds, escapes aside).
pub fn longest_json(limit: usize) -> usize {
    limit.saturating_mul(2).max(1 << 16)
}

/// Cleans the bundle in `json`; `limit` is the most one item may take.
pub fn clean(json: &str, limit: usize) -> Result<Display, Refused> {
    if json.len() > longest_json(limit) {
        return Err(Refused::TooLarge {
            bytes: json.len(),
            limit,
        });
    }
    let raw: RawBundle =
        serde_json::from_str(json).map_err(|e| Refused::NotABundle(e.to_string()))?;
    let mut data = BTreeMap::new();
    for (mime, value) in &raw.data {
        let text = match value {
            Value::String(text) => Cow::Borrowed(text.as_str()),
            Value::Object(_) | Value::Array(_) if mime == "application/json" => {
                Cow::Owned(value.to_string())
            }
            _ => continue,
        };
        if let Some(clean) = clean_one(mime, &text) {
            data.insert(clean.0.to_string(), clean.1);
        }
    }
    if let Some(markdown) = data.remove("text/markdown") {
        data.entry("text/html".into()).or_insert(markdown);
    }
    data.entry("text/plain".into()).or_default();
    let display = Display {
        metadata: clean_metadata(&raw.metadata, &data),
        data,
    };
    let bytes = display.size();
    if bytes > limit {
        return Err(Refused::TooLarge { bytes, limit });
    }
    Ok(display)
}

/// The cleaned `(mime, value)` for one entry, or `None` to drop it.
fn clean_one<'m>(mime: &'m str, text: &str) -> Option<(&'m str, String)> {
    match mime {
        "text/plain" | "text/latex" => Some((mime, text.to_string())),
        "application/json" => serde_json::from_str::<Value>(text)
            .ok()
            .map(|v| (mime, serde_json::to_string_pretty(&v).unwrap_or_default())),
        "text/html" => Some((mime, sanitize_html(text))),
        "text/markdown" => Some((mime, sanitize_html(&markdown_to_html(text)))),
        "image/svg+xml" => is_svg(text).then(|| (mime, text.to_string())),
        _ => {
            RASTER_TYPES.iter().find(|(m, _, _)| *m == mime)?;
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let bytes = Base64::decode_vec(&compact).ok()?;
            (image_type(&bytes) == Some(mime)).then_some((mime, compact))
        }
    }
}

/// Only the metadata the page uses: an image's size in CSS pixels.
fn clean_metadata(raw: &Map<String, Value>, data: &BTreeMap<String, String>) -> Map<String, Value> {
    let mut metadata = Map::new();
    for (mime, value) in raw {
        if !mime.starts_with("image/") || !data.contains_key(mime) {
            continue;
        }
        let mut size = Map::new();
        for key in ["width", "height"] {
            if let Some(n) = value.get(key).and_then(Value::as_f64) {
                if n > 0.0 && n < 100_000.0 {
                    size.insert(key.into(), Value::from(n.round() as u64));
                }
            }
        }
        if !size.is_empty() {
            metadata.insert(mime.clone(), Value::Object(size));
        }
    }
    metadata
}

fn markdown_to_html(markdown: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES),
    );
    html
}

/// HTML a run made, safe to put in the page: see the module doc.
pub fn sanitize_html(html: &str) -> String {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let mut builder = ammonia::Builder::default();
            builder
                .url_schemes(HashSet::from(["http", "https", "mailto", "data"]))
                .link_rel(Some("noopener noreferrer nofollow"))
                .attribute_filter(|element, attribute, value| {
                    keep_url(element, attribute, value).then(|| value.into())
                });
            builder
        })
        .clean(html)
        .to_string()
}

/// Whether a URL-bearing attribute may stay: images only from `data:` URLs
/// of images (nothing is fetched from elsewhere), links anywhere but `data:`.
fn keep_url(element: &str, attribute: &str, value: &str) -> bool {
    let lower = value.trim_start().to_ascii_lowercase();
    match (element, attribute) {
        ("img", "src") => {
            RASTER_TYPES
                .iter()
                .any(|(mime, _, _)| lower.starts_with(&format!("data:{mime};base64,")))
                || lower.starts_with("data:image/svg+xml")
        }
        (_, "href" | "cite") => !lower.starts_with("data:"),
        (_, "src" | "srcset" | "poster" | "background" | "longdesc") => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    fn bundle(data: Value) -> String {
        serde_json::json!({ "data": data, "metadata": {} }).to_string()
    }

    #[test]
    fn scripts_handlers_active_urls_and_remote_images_are_removed() {
        let html = r#"<b onclick="x()">bold</b><script>alert(1)</script>
            <img src="https://evil.example/x.png" onerror="alert(2)">
            <a href="javascript:alert(3)">js</a><a href="https://docs.python.org/">docs</a>
            <img src="data:image/png;base64,AAAA" alt="inline"><style>body{}</style>
            <iframe src="https://evil.example"></iframe>"#;
        let clean = sanitize_html(html);
        for bad in [
            "onclick",
            "<script",
            "alert",
            "evil.example",
            "javascript:",
            "<style",
            "<iframe",
        ] {
            assert!(!clean.contains(bad), "{bad} left in {clean}");
        }
        assert!(clean.contains("<b>bold</b>"), "{clean}");
        assert!(
            clean.contains(r#"href="https://docs.python.org/""#),
            "{clean}"
        );
        assert!(clean.contains("data:image/png;base64,AAAA"), "{clean}");
    }

    #[test]
    fn a_table_keeps_its_structure() {
        let clean = sanitize_html(
            r#"<table border="1" class="dataframe"><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"#,
        );
        assert!(
            clean.contains("<table")
                && clean.contains("<th>a</th>")
                && clean.contains("<td>1</td>"),
            "{clean}"
        );
    }

    #[test]
    fn image_types_are_known_by_their_first_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a"), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(
            image_type(b"RIFF\x10\0\0\0WAVEfmt "),
            None,
            "a sound is no image"
        );
        assert_eq!(
            image_type(b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Some("image/svg+xml")
        );
        assert_eq!(image_type(b"%PDF-1.7"), None);
        assert_eq!(image_type(b"\x89PN"), None, "too short to tell");
    }

    #[test]
    fn images_must_be_what_they_say() {
        let shown = clean(
            &bundle(serde_json::json!({"image/png": PNG, "text/plain": "<Figure>"})),
            1 << 20,
        )
        .unwrap();
        assert_eq!(shown.data.get("image/png").map(String::as_str), Some(PNG));
        assert!(shown.is_image());
        let lying = clean(
            &bundle(serde_json::json!({"image/png": "aGVsbG8=", "text/plain": "x"})),
            1 << 20,
        )
        .unwrap();
        assert!(!lying.data.contains_key("image/png"));
    }

    #[test]
    fn javascript_is_dropped_and_markdown_arrives_as_clean_html() {
        let shown = clean(
            &bundle(serde_json::json!({
                "application/javascript": "alert(1)",
                "text/markdown": "**hi** <img src=x onerror=alert(1)>",
            })),
            1 << 20,
        )
        .unwrap();
        assert!(!shown.data.contains_key("application/javascript"));
        let html = &shown.data["text/html"];
        assert!(
            html.contains("<strong>hi</strong>") && !html.contains("onerror"),
            "{html}"
        );
        assert_eq!(shown.text(), "");
    }

    #[test]
    fn a_bundle_over_the_limit_is_refused_whole() {
        let big = "x".repeat(5000);
        let refused = clean(&bundle(serde_json::json!({"text/plain": big})), 1000).unwrap_err();
        assert!(
            matches!(refused, Refused::TooLarge { limit: 1000, .. }),
            "{refused:?}"
        );
        assert!(matches!(clean("[1, 2]", 1000), Err(Refused::NotABundle(_))));
    }

    #[test]
    fn only_image_sizes_stay_in_the_metadata() {
        let json = serde_json::json!({
            "data": {"image/png": PNG, "text/plain": "f"},
            "metadata": {"image/png": {"width": 640.4, "height": 480, "onload": "x"}, "other": 1},
        })
        .to_string();
        let shown = clean(&json, 1 << 20).unwrap();
        assert_eq!(
            Value::Object(shown.metadata),
            serde_json::json!({"image/png": {"width": 640, "height": 480}})
        );
    }
}
