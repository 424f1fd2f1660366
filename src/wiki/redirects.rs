//! Addresses of moved pages: `.rundocs-redirects` in the content folder,
//! one `old-address new-address` pair a line (`#` starts a comment), written
//! by a move in the same commit, so the redirects travel with the wiki's
//! history and its remote. A page at the old address wins over its redirect.
use std::collections::HashMap;

/// The file, at the top of the content folder (hidden: it is no page).
pub const REDIRECTS_FILE: &str = ".rundocs-redirects";

/// The redirects in `text`: old address → new address (no leading `/`).
pub fn parse(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (old, new) = line.split_once(char::is_whitespace)?;
            Some((
                old.trim_matches('/').to_string(),
                new.trim().trim_matches('/').to_string(),
            ))
        })
        .collect()
}

/// `text` with `old` → `new` added; earlier redirects to `old` now lead to
/// `new` (no chains), and a redirect away from `new` is dropped (the page
/// is there again).
pub fn add(text: &str, old: &str, new: &str) -> String {
    let mut out = String::new();
    if text.trim().is_empty() {
        out.push_str(
            "# Moved pages: old address, new address. Written by rundocs when a page moves.\n",
        );
    }
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [from, _] if from.trim_matches('/') == new || from.trim_matches('/') == old => {}
            [from, to] if to.trim_matches('/') == old => {
                out.push_str(&format!("/{} /{new}\n", from.trim_matches('/')));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.push_str(&format!("/{old} /{new}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_chain_into_one_hop_and_a_page_moved_back_is_no_redirect() {
        let once = add("", "guide/setup", "guide/install");
        assert_eq!(parse(&once)["guide/setup"], "guide/install");
        let twice = add(&once, "guide/install", "start/install");
        let map = parse(&twice);
        assert_eq!(map["guide/setup"], "start/install");
        assert_eq!(map["guide/install"], "start/install");
        let back = add(&twice, "start/install", "guide/setup");
        let map = parse(&back);
        assert!(!map.contains_key("guide/setup"), "{back}");
        assert_eq!(map["guide/install"], "guide/setup");
        assert_eq!(map["start/install"], "guide/setup");
    }
}
