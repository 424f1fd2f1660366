//! Site navigation: the section tree, reading order, and the sidebar.
//!
//! Folders are sections; inside each, pages and sub-sections are ordered by
//! `weight`, then title. The reading order (for previous/next links) walks
//! that tree depth-first, a section's own page before its children.
//!
//! The sidebar is the same on every page except for which link is current,
//! so it is rendered once: [`Navigation::sidebar_html`] plus, per page, the
//! byte offset where `aria-current="page"` is spliced in when a page is
//! served. A 1,000-page site then keeps one sidebar in memory, not 1,000.
use std::fmt::Write;

use std::collections::HashMap;

use crate::content::humanize;
use crate::content::mkdocs::NavEntry;
use crate::util::{escape_html, page_url};

/// What navigation needs to know about one page.
#[derive(Debug, Clone)]
pub struct NavPage<'a> {
    pub url_path: &'a str,
    /// The file below the content folder (as an mkdocs `nav` names it).
    pub file: &'a str,
    pub title: &'a str,
    pub weight: i64,
    pub is_section_index: bool,
    pub draft: bool,
}

/// A group of the index page: a top-level section (or the loose top-level pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexGroup {
    pub title: Option<String>,
    /// Page indices in reading order, with their depth below the group.
    pub pages: Vec<(usize, usize)>,
}

/// The navigation of one snapshot.
#[derive(Debug, Clone, Default)]
pub struct Navigation {
    /// Page indices in reading order (the home page is not in it).
    pub order: Vec<usize>,
    /// The sidebar list, with no link marked current.
    pub sidebar_html: String,
    /// Per page index: where ` aria-current="page"` goes in `sidebar_html`.
    pub current_marks: Vec<Option<usize>>,
    pub index_groups: Vec<IndexGroup>,
}

/// The attribute spliced into the current page's link.
pub const CURRENT_MARK: &str = " aria-current=\"page\"";

#[derive(Debug, Default)]
struct Node {
    segment: String,
    title: String,
    weight: i64,
    page: Option<usize>,
    /// A link out of the site (an mkdocs `nav` entry), instead of a page.
    link: Option<String>,
    children: Vec<Node>,
}

impl Node {
    fn child(&mut self, segment: &str) -> &mut Node {
        let position = match self.children.iter().position(|c| c.segment == segment) {
            Some(position) => position,
            None => {
                self.children.push(Node {
                    segment: segment.to_string(),
                    title: humanize(segment),
                    ..Node::default()
                });
                self.children.len() - 1
            }
        };
        &mut self.children[position]
    }

    fn sort(&mut self) {
        self.children.sort_by(|a, b| {
            (a.weight, a.title.to_lowercase()).cmp(&(b.weight, b.title.to_lowercase()))
        });
        self.children.iter_mut().for_each(Node::sort);
    }
}

impl Navigation {
    /// Builds the navigation of `pages` (indices refer to this slice).
    /// `base_path` goes before every link (`""` at the root).
    pub fn build(pages: &[NavPage<'_>], base_path: &str) -> Navigation {
        let mut root = Node::default();
        for (index, page) in pages.iter().enumerate() {
            if page.url_path.is_empty() {
                continue;
            }
            let segments: Vec<&str> = page.url_path.split('/').collect();
            let (last, parents) = segments
                .split_last()
                .expect("a non-empty path has a segment");
            let mut node = &mut root;
            for segment in parents {
                node = node.child(segment);
            }
            let node = if page.is_section_index {
                node.child(last)
            } else {
                // Leaf pages get a segment no folder can have, so they never merge with a section.
                node.children.push(Node {
                    segment: format!("\u{1}{last}"),
                    ..Node::default()
                });
                node.children.last_mut().expect("just pushed")
            };
            node.page = Some(index);
            node.title = page.title.to_string();
            node.weight = page.weight;
        }
        root.sort();
        Navigation::from_tree(&root, pages, base_path)
    }

    /// The navigation an mkdocs project's `nav` lays out: its order, titles,
    /// sections and links. Pages it leaves out serve, but are not listed
    /// (as with mkdocs); entries naming no page are logged and left out.
    pub fn build_from_mkdocs(
        entries: &[NavEntry],
        pages: &[NavPage<'_>],
        base_path: &str,
    ) -> Navigation {
        let by_file: HashMap<&str, usize> = pages
            .iter()
            .enumerate()
            .map(|(index, page)| (page.file, index))
            .collect();
        let root = Node {
            children: mkdocs_nodes(entries, pages, &by_file),
            ..Node::default()
        };
        Navigation::from_tree(&root, pages, base_path)
    }

    fn from_tree(root: &Node, pages: &[NavPage<'_>], base_path: &str) -> Navigation {
        let mut nav = Navigation {
            current_marks: vec![None; pages.len()],
            ..Navigation::default()
        };
        nav.sidebar_html.push_str("<ul class=\"nav-tree\">\n");
        for child in &root.children {
            nav.write_node(child, pages, base_path);
        }
        nav.sidebar_html.push_str("</ul>\n");
        nav.index_groups = index_groups(root);
        nav
    }

    fn write_node(&mut self, node: &Node, pages: &[NavPage<'_>], base_path: &str) {
        let is_section = !node.children.is_empty();
        let class = if is_section {
            " class=\"nav-section\""
        } else {
            ""
        };
        let _ = write!(self.sidebar_html, "<li{class}>");
        let title = escape_html(&node.title);
        match node.page {
            Some(index) => {
                self.order.push(index);
                let page = &pages[index];
                self.sidebar_html.push_str("<a");
                self.current_marks[index] = Some(self.sidebar_html.len());
                let draft = if page.draft {
                    " <span class=\"badge\">draft</span>"
                } else {
                    ""
                };
                let _ = write!(
                    self.sidebar_html,
                    " href=\"{}\">{title}{draft}</a>",
                    escape_html(&page_url(base_path, page.url_path))
                );
            }
            None => match &node.link {
                Some(url) => {
                    let _ = write!(
                        self.sidebar_html,
                        "<a class=\"nav-external\" href=\"{}\">{title}</a>",
                        escape_html(url)
                    );
                }
                None => {
                    let _ = write!(
                        self.sidebar_html,
                        "<span class=\"nav-section-title\">{title}</span>"
                    );
                }
            },
        }
        if is_section {
            self.sidebar_html.push_str("\n<ul>\n");
            for child in &node.children {
                self.write_node(child, pages, base_path);
            }
            self.sidebar_html.push_str("</ul>\n");
        }
        self.sidebar_html.push_str("</li>\n");
    }

    /// The sidebar with `page`'s link marked current.
    pub fn sidebar_for(&self, page: Option<usize>) -> String {
        let mut html = self.sidebar_html.clone();
        if let Some(offset) = page.and_then(|p| self.current_marks[p]) {
            html.insert_str(offset, CURRENT_MARK);
        }
        html
    }

    /// The pages before and after `page` in reading order.
    pub fn neighbours(&self, page: usize) -> (Option<usize>, Option<usize>) {
        match self.order.iter().position(|&p| p == page) {
            Some(position) => (
                position.checked_sub(1).map(|p| self.order[p]),
                self.order.get(position + 1).copied(),
            ),
            None => (None, None),
        }
    }
}

/// The nodes of mkdocs `nav` entries, in their order.
fn mkdocs_nodes(
    entries: &[NavEntry],
    pages: &[NavPage<'_>],
    by_file: &HashMap<&str, usize>,
) -> Vec<Node> {
    let mut nodes = Vec::with_capacity(entries.len());
    for entry in entries {
        match entry {
            NavEntry::Page { title, file } => {
                let Some(&index) = by_file.get(file.as_str()) else {
                    tracing::warn!(file, "mkdocs nav names a file that is not a page of the docs folder; left out of the sidebar");
                    continue;
                };
                nodes.push(Node {
                    title: title
                        .clone()
                        .unwrap_or_else(|| pages[index].title.to_string()),
                    page: Some(index),
                    ..Node::default()
                });
            }
            NavEntry::Section { title, children } => nodes.push(Node {
                title: title.clone(),
                children: mkdocs_nodes(children, pages, by_file),
                ..Node::default()
            }),
            NavEntry::Link { title, url } => nodes.push(Node {
                title: title.clone(),
                link: Some(url.clone()),
                ..Node::default()
            }),
        }
    }
    nodes
}

fn index_groups(root: &Node) -> Vec<IndexGroup> {
    let mut groups = Vec::new();
    let mut loose = IndexGroup {
        title: None,
        pages: Vec::new(),
    };
    for child in &root.children {
        if child.children.is_empty() {
            loose.pages.extend(child.page.map(|p| (p, 0)));
            continue;
        }
        if !loose.pages.is_empty() {
            groups.push(std::mem::replace(
                &mut loose,
                IndexGroup {
                    title: None,
                    pages: Vec::new(),
                },
            ));
        }
        let mut group = IndexGroup {
            title: Some(child.title.clone()),
            pages: Vec::new(),
        };
        group.pages.extend(child.page.map(|p| (p, 0)));
        collect_pages(&child.children, 1, &mut group.pages);
        groups.push(group);
    }
    if !loose.pages.is_empty() {
        groups.push(loose);
    }
    groups
}

fn collect_pages(nodes: &[Node], depth: usize, out: &mut Vec<(usize, usize)>) {
    for node in nodes {
        out.extend(node.page.map(|p| (p, depth)));
        collect_pages(&node.children, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page<'a>(url_path: &'a str, title: &'a str, weight: i64) -> NavPage<'a> {
        NavPage {
            url_path,
            file: url_path,
            title,
            weight,
            is_section_index: false,
            draft: false,
        }
    }

    #[test]
    fn order_is_weight_then_title_sections_first_page_then_children() {
        let mut section = page("threads", "Threads", 1);
        section.is_section_index = true;
        let pages = [
            page("zeta", "Zeta", 0),
            page("alpha", "Alpha", 0),
            page("threads/b", "B", 0),
            section,
            page("threads/a", "A", 0),
            page("first", "First", -1),
            page("", "Home", 0),
        ];
        let nav = Navigation::build(&pages, "");
        let titles: Vec<_> = nav.order.iter().map(|&i| pages[i].title).collect();
        assert_eq!(titles, ["First", "Alpha", "Zeta", "Threads", "A", "B"]);
        assert_eq!(nav.neighbours(3), (Some(0), Some(4)));
        assert_eq!(nav.neighbours(5), (None, Some(1)));
    }

    #[test]
    fn sections_without_index_take_the_folder_name() {
        let pages = [page("deep-dives/one", "One", 0)];
        let nav = Navigation::build(&pages, "");
        assert!(nav
            .sidebar_html
            .contains("<span class=\"nav-section-title\">Deep dives</span>"));
        assert_eq!(nav.index_groups[0].title.as_deref(), Some("Deep dives"));
    }

    #[test]
    fn current_link_is_marked_by_splicing() {
        let pages = [page("a", "A", 0), page("b", "B <&>", 0)];
        let nav = Navigation::build(&pages, "");
        let html = nav.sidebar_for(Some(1));
        assert!(
            html.contains("<a aria-current=\"page\" href=\"/b\">B &lt;&amp;&gt;</a>"),
            "{html}"
        );
        assert_eq!(html.matches("aria-current").count(), 1);
        assert!(!nav.sidebar_for(None).contains("aria-current"));
    }
}
