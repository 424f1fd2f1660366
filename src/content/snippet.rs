//! Code blocks as the rest of rundocs sees them: [`Snippet`], with its id.
//!
//! A snippet id is a short hash of the page path and the block's code: it
//! stays the same while neither changes, and editing the code gives a new id,
//! so a page open from before the edit gets a clear `404` instead of running
//! other code than it shows.
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::util::hex_prefix;

/// One fenced code block of a page (output blocks belong to the block before them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snippet {
    /// Opaque, URL-safe, stable while `page` and `code` are unchanged.
    pub id: String,
    /// URL path of the page, without the leading `/` (`""` for the home page).
    pub page: String,
    /// Position among the page's code blocks, from 0.
    pub index: usize,
    /// Language as written in the fence, lowercased (`""` when none).
    pub language: String,
    /// A Python block without `norun`.
    pub runnable: bool,
    pub code: String,
    /// Time limit of one run, from `timeout=` or the site default.
    pub timeout_s: f64,
    /// `name=`: how other blocks of the page refer to it.
    pub name: Option<String>,
    /// `requires=`: names of blocks of the same page that run first, in one namespace.
    pub requires: Vec<String>,
    /// `expect=error`: the example is meant to raise.
    pub expect_error: bool,
    /// `echo`: the value of a last bare expression is shown.
    pub echo: bool,
    /// An interpreter session (`pycon`, or a Python block opening with
    /// `>>> `): its statements run one by one as the interactive interpreter
    /// runs them, and their outputs are written in the block.
    pub session: bool,
    /// The `output` block that follows the block, if any.
    pub expected_output: Option<String>,
    /// 1-based line of the opening fence in the source file.
    pub line: usize,
}

/// `snippet` and the blocks it `requires=` (found among `snippets`, on its
/// page), each once, in the order they run.
pub fn run_chain<'a>(snippets: &'a [Snippet], snippet: &'a Snippet) -> Vec<&'a Snippet> {
    fn push<'a>(snippets: &'a [Snippet], snippet: &'a Snippet, chain: &mut Vec<&'a Snippet>) {
        for name in &snippet.requires {
            let required = snippets
                .iter()
                .find(|s| s.page == snippet.page && s.name.as_deref() == Some(name.as_str()));
            // Names and cycles were checked when the page was rendered.
            if let Some(required) = required {
                if !chain.iter().any(|s| s.id == required.id) {
                    push(snippets, required, chain);
                }
            }
        }
        if !chain.iter().any(|s| s.id == snippet.id) {
            chain.push(snippet);
        }
    }
    let mut chain = Vec::new();
    push(snippets, snippet, &mut chain);
    chain
}

/// Length of the hex digest kept in an id: 48 bits, plenty within one site.
const ID_HEX_LEN: usize = 12;

/// The id of a block with `code` on page `page`. `occurrence` counts earlier
/// blocks of the page with the very same code (0 for the first), so identical
/// blocks still get distinct ids.
pub fn snippet_id(page: &str, code: &str, occurrence: usize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(page.as_bytes());
    hasher.update([0]);
    hasher.update(code.as_bytes());
    let digest = hasher.finalize();
    let mut id = hex_prefix(&digest, ID_HEX_LEN);
    if occurrence > 0 {
        id.push_str(&format!("-{}", occurrence + 1));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_short_and_url_safe() {
        let id = snippet_id("guide/intro", "print('hi')\n", 0);
        assert_eq!(id, snippet_id("guide/intro", "print('hi')\n", 0));
        assert_eq!(id.len(), ID_HEX_LEN);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn ids_change_with_code_and_page() {
        let id = snippet_id("a", "print(1)\n", 0);
        assert_ne!(id, snippet_id("a", "print(2)\n", 0));
        assert_ne!(id, snippet_id("b", "print(1)\n", 0));
    }

    #[test]
    fn identical_blocks_on_one_page_get_distinct_ids() {
        let first = snippet_id("a", "x = 1\n", 0);
        let second = snippet_id("a", "x = 1\n", 1);
        assert_ne!(first, second);
        assert!(second.starts_with(&first));
    }
}
