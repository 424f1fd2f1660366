//! One page's text rendered as the site would serve it, outside the
//! snapshot: the wiki editor's live preview, and old revisions in the
//! history.
//!
//! The steps are those of every page of the snapshot: the text is read as a
//! file of the folder is read ([`crate::content::page_from_text`]), goes
//! through the same markdown pass ([`super::snapshot`]'s), gets its title the
//! same way, and is put in the same article template
//! ([`ArticleTemplate`]), so what the editor shows is what the page will be.
use askama::Template;

use super::snapshot::{page_title, render_markdown};
use super::templates::ArticleTemplate;
use crate::config::Config;
use crate::content::{self, ContentProblem, Snippet};

/// A page's text, rendered.
#[derive(Debug, Clone)]
pub struct RenderedText {
    /// The article's HTML, as the page shows it inside `<article>`.
    pub html: String,
    pub title: String,
    /// Its code blocks, with the ids a page at this file gives them.
    pub snippets: Vec<Snippet>,
}

/// Renders `text` as the page at `file` (relative to the content folder,
/// ending in `.md`). A mistake in it (front matter, a block's attributes)
/// is the problem the page would show.
pub fn render_text(
    config: &Config,
    file: &str,
    text: &str,
) -> Result<RenderedText, ContentProblem> {
    let source = content::page_from_text(file, text)?;
    let markdown = render_markdown(&source, config)?;
    let title = page_title(&source, &markdown);
    let html = ArticleTemplate {
        title: &title,
        draft: source.front.draft,
        show_title: !markdown.starts_with_h1,
        body_html: &markdown.html,
    }
    .render()
    .map_err(|error| ContentProblem {
        url_path: source.url_path.clone(),
        file: file.to_string(),
        line: None,
        message: format!("the article could not be rendered: {error}"),
    })?;
    Ok(RenderedText {
        html,
        title,
        snippets: markdown.snippets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_renders_as_its_page_with_the_ids_of_its_blocks() {
        let config = Config::default();
        let text = "+++\ntitle = \"Set up\"\n+++\nIntro.\n\n```python\nprint(1)\n```\n";
        let rendered = render_text(&config, "guide/setup.md", text).unwrap();
        assert_eq!(rendered.title, "Set up");
        assert!(
            rendered.html.contains("<h1>Set up</h1>"),
            "{}",
            rendered.html
        );
        let id = content::snippet::snippet_id("guide/setup", "print(1)\n", 0);
        assert_eq!(rendered.snippets[0].id, id);
        assert!(rendered.html.contains(&format!("data-snippet-id=\"{id}\"")));
    }

    #[test]
    fn a_mistake_is_the_problem_the_page_would_show() {
        let problem = render_text(
            &Config::default(),
            "notes.md",
            "# Notes\n\n```python tiemout=5\npass\n```\n",
        )
        .unwrap_err();
        assert_eq!(problem.file, "notes.md");
        assert_eq!(problem.line, Some(3));
        assert!(problem.message.contains("timeout"), "{problem}");
    }
}
