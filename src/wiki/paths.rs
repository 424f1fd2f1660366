//! Which page paths an edit may name: a `.md` file inside the content
//! folder, and nothing else, however the path is spelled.
use std::fmt;

/// A page's file below the content folder: `/`-separated, relative, ending in
/// `.md`, with no empty, `.` or `..` segment, no hidden segment (`.git`),
/// no backslash or control character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PagePath(String);

/// Why a path was refused, said so the client can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadPath(pub String);

/// The longest page path accepted.
const MAX_PATH_BYTES: usize = 512;

impl PagePath {
    /// Checks `path` as a client sent it (already percent-decoded). A path
    /// without `.md` names the page at that address (`guide/setup` is
    /// `guide/setup.md`).
    pub fn parse(path: &str) -> Result<PagePath, BadPath> {
        let trimmed = inside_content(path, "the page's file, e.g. guide/setup.md")?;
        let file = if trimmed.ends_with(".md") {
            trimmed.to_string()
        } else if trimmed.contains('.')
            && trimmed
                .rsplit('/')
                .next()
                .is_some_and(|name| name.contains('.'))
        {
            return Err(BadPath(format!(
                "{path:?} is not a page; pages are .md files"
            )));
        } else {
            format!("{trimmed}.md")
        };
        Ok(PagePath(file))
    }

    /// The path as it is in the content folder.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The page's address (`guide/setup.md` → `guide/setup`, `a/index.md` → `a`).
    pub fn url_path(&self) -> String {
        let stem = self.0.strip_suffix(".md").unwrap_or(&self.0);
        match stem.rsplit_once('/') {
            Some((folder, "index")) => folder.to_string(),
            None if stem == "index" => String::new(),
            _ => stem.to_string(),
        }
    }
}

/// An image's file below the content folder: checked as a [`PagePath`] is,
/// and ending in an extension of the images the site serves
/// ([`crate::content::IMAGE_EXTENSIONS`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImagePath(String);

impl ImagePath {
    /// Checks `path` as a client sent it (already percent-decoded).
    pub fn parse(path: &str) -> Result<ImagePath, BadPath> {
        let trimmed = inside_content(path, "the image's file, e.g. guide/diagram.png")?;
        if !crate::content::is_image(trimmed) {
            return Err(BadPath(format!(
                "{path:?} is not an image file; name one ending in .{}",
                crate::content::IMAGE_EXTENSIONS.join(", .")
            )));
        }
        Ok(ImagePath(trimmed.to_string()))
    }

    /// The path as it is in the content folder.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `path` (a client's, percent-decoded) without its leading `/`, if it
/// stays inside the content folder: not empty, not too long, no backslash
/// or control character, no empty, `.`, `..` or hidden segment, and not in
/// the reserved folder. `what` says what to name when it is empty.
fn inside_content<'a>(path: &'a str, what: &str) -> Result<&'a str, BadPath> {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Err(BadPath(format!("the path is empty; name {what}")));
    }
    if trimmed.len() > MAX_PATH_BYTES {
        return Err(BadPath(format!(
            "the path is longer than {MAX_PATH_BYTES} bytes"
        )));
    }
    if trimmed.chars().any(|c| c.is_control() || c == '\\') {
        return Err(BadPath(
            "the path has a backslash or a control character; use / between folders".into(),
        ));
    }
    for segment in trimmed.split('/') {
        match segment {
            "" => {
                return Err(BadPath(format!(
                    "{path:?} has an empty segment (//); write folder/page.md"
                )))
            }
            "." | ".." => {
                return Err(BadPath(format!(
                    "{path:?} steps out with . or ..; name a file inside the content folder"
                )))
            }
            _ if segment.starts_with('.') => {
                return Err(BadPath(format!(
                    "{path:?} names a hidden file or folder ({segment}); nothing is written there"
                )))
            }
            _ if segment.trim() != segment => {
                return Err(BadPath(format!(
                    "{path:?} has a segment starting or ending with a space"
                )))
            }
            _ => {}
        }
    }
    if trimmed.split('/').next() == Some(crate::web::reserved::RESERVED_FOLDER) {
        return Err(BadPath(format!(
            "{path:?} is in _rundocs/, whose addresses are rundocs' own routes"
        )));
    }
    Ok(trimmed)
}

impl fmt::Display for PagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_inside_the_folder_are_accepted() {
        assert_eq!(
            PagePath::parse("guide/setup.md").unwrap().as_str(),
            "guide/setup.md"
        );
        assert_eq!(
            PagePath::parse("/guide/setup").unwrap().as_str(),
            "guide/setup.md"
        );
        assert_eq!(
            PagePath::parse("faq #1?.md").unwrap().as_str(),
            "faq #1?.md"
        );
        assert_eq!(
            PagePath::parse("v1.2/notes").unwrap().as_str(),
            "v1.2/notes.md"
        );
        assert_eq!(PagePath::parse("a/index.md").unwrap().url_path(), "a");
        assert_eq!(PagePath::parse("index.md").unwrap().url_path(), "");
    }

    #[test]
    fn paths_out_of_the_folder_or_into_git_are_refused() {
        for bad in [
            "",
            "../etc/passwd.md",
            "a/../../b.md",
            "a/./b.md",
            ".git/config",
            "a/.git/HEAD.md",
            ".hidden.md",
            "a//b.md",
            "a\\..\\b.md",
            "a\0b.md",
            "image.png",
            "_rundocs/notes.md",
            " a.md",
        ] {
            assert!(PagePath::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn images_are_image_files_inside_the_folder() {
        assert_eq!(
            ImagePath::parse("/guide/diagram.png").unwrap().as_str(),
            "guide/diagram.png"
        );
        assert!(ImagePath::parse("photo.JPEG").is_ok());
        for bad in [
            "",
            "guide/diagram",
            "guide/notes.md",
            "script.js",
            "../diagram.png",
            ".git/x.png",
            "a/.hidden.png",
            "_rundocs/x.png",
            "a\\b.png",
        ] {
            assert!(ImagePath::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
