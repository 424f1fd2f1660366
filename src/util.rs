//! Small helpers that several parts of rundocs share: HTML escaping, short
//! hex digests, and handing freed memory back to the system.
//!
//! This module is the ground floor: it uses nothing else of the crate, so
//! every other module may use it.

/// Escapes `text` for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    pulldown_cmark_escape::escape_html(&mut out, text).expect("writing to a String cannot fail");
    out
}

/// What a path segment of a link must not carry as it is.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// What a value in a link's query must not carry as it is (`/` may stay).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `value` percent-encoded for a link's query: `a&b c.md` → `a%26b%20c.md`.
pub fn encode_query_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The address of the page at `url_path` under `base_path`, each segment
/// percent-encoded: `a b/c#?` → `{base_path}/a%20b/c%23%3F`.
pub fn page_url(base_path: &str, url_path: &str) -> String {
    format!("{base_path}/{}", encode_path(url_path))
}

/// `path` with each `/`-separated segment percent-encoded for a URL.
pub fn encode_path(path: &str) -> String {
    let mut url = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            url.push('/');
        }
        url.extend(percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT));
    }
    url
}

/// Whether two secrets are equal, in time that does not depend on where
/// they differ (their digests are compared).
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The first `len` hex digits of `bytes` (a digest's short form, for ids,
/// ETags and file names).
pub fn hex_prefix(bytes: &[u8], len: usize) -> String {
    bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .take(len)
        .map(|nibble| char::from_digit(u32::from(nibble), 16).expect("a nibble is a hex digit"))
        .collect()
}

/// Building a site allocates several times what its snapshot keeps (the
/// grammars' compiled regexes, each page's intermediate HTML). glibc keeps
/// freed memory for later; hand it back, so a server's resident memory is
/// what it serves from rather than the peak of its last build.
pub fn return_free_memory_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of glibc's heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls_encode_what_links_cannot_carry() {
        assert_eq!(page_url("", ""), "/");
        assert_eq!(page_url("/docs", ""), "/docs/");
        assert_eq!(page_url("", "a/b"), "/a/b");
        assert_eq!(
            page_url("/docs", "a b/c#d?e%f"),
            "/docs/a%20b/c%23d%3Fe%25f"
        );
        assert_eq!(page_url("", "caf\u{e9}"), "/caf%C3%A9");
    }

    #[test]
    fn escape_html_escapes_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn hex_prefix_takes_the_leading_digits() {
        assert_eq!(hex_prefix(&[0xab, 0x0f, 0x10], 5), "ab0f1");
        assert_eq!(hex_prefix(&[0xab], 8), "ab");
    }
}
