//! Pages, navigation, table of contents and front matter, over HTTP.
use super::helpers::*;

#[tokio::test]
async fn every_page_answers_in_reading_order() {
    let app = spawn_app(&fixture("site")).await;
    let home = app.page("/", 200).await;
    let links = attributes(&home, "nav.sidebar a", "href");
    assert_eq!(
        links,
        [
            "/beta",
            "/loose/deep",
            "/zeta-notes",
            "/guide",
            "/guide/install",
            "/guide/usage",
            "/alpha"
        ]
    );
    for link in &links {
        let page = app.page(link, 200).await;
        assert_eq!(
            attributes(&page, "nav.sidebar a[aria-current=page]", "href"),
            [link.as_str()]
        );
    }
}

#[tokio::test]
async fn sections_nest_and_section_without_index_gets_folder_name() {
    let app = spawn_app(&fixture("site")).await;
    let home = app.page("/", 200).await;
    assert_eq!(texts(&home, "nav.sidebar .nav-section-title"), ["Loose"]);
    assert_eq!(
        attributes(&home, "nav.sidebar li.nav-section > ul a", "href"),
        ["/loose/deep", "/guide/install", "/guide/usage"]
    );
}

#[tokio::test]
async fn titles_come_from_front_matter_heading_or_file_name() {
    let app = spawn_app(&fixture("site")).await;
    for (path, title) in [
        ("/alpha", "Alpha"),
        ("/beta", "Beta from heading"),
        ("/zeta-notes", "Zeta notes"),
        ("/guide", "Guide"),
    ] {
        let page = app.page(path, 200).await;
        assert_eq!(
            texts(&page, "title"),
            [format!("{title} · rundocs")],
            "{path}"
        );
        let h1 = texts(&page, "article h1");
        assert_eq!(h1.len(), 1, "{path} has one h1: {h1:?}");
        assert!(h1[0].starts_with(title), "{path}: {h1:?}");
    }
}

#[tokio::test]
async fn yaml_and_toml_descriptions_reach_meta_and_index() {
    let app = spawn_app(&fixture("site")).await;
    let alpha = app.page("/alpha", 200).await;
    assert_eq!(
        attributes(&alpha, "meta[name=description]", "content"),
        ["The last page, ordered by weight."]
    );
    let home = app.page("/", 200).await;
    let listed = texts(&home, ".article-list li p");
    assert!(
        listed.contains(&"The last page, ordered by weight.".to_string()),
        "{listed:?}"
    );
    assert!(
        listed.contains(&"A section with its own page.".to_string()),
        "{listed:?}"
    );
    assert_eq!(texts(&home, ".article-group h2"), ["Loose", "Guide"]);
}

#[tokio::test]
async fn previous_and_next_follow_reading_order() {
    let app = spawn_app(&fixture("site")).await;
    let install = app.page("/guide/install", 200).await;
    assert_eq!(
        attributes(&install, ".pager a[rel=prev]", "href"),
        ["/guide"]
    );
    assert_eq!(
        attributes(&install, ".pager a[rel=next]", "href"),
        ["/guide/usage"]
    );
    let first = app.page("/beta", 200).await;
    assert!(attributes(&first, ".pager a[rel=prev]", "href").is_empty());
    let last = app.page("/alpha", 200).await;
    assert!(attributes(&last, ".pager a[rel=next]", "href").is_empty());
}

#[tokio::test]
async fn table_of_contents_links_to_heading_anchors() {
    let app = spawn_app(&fixture("site")).await;
    let page = app.page("/guide/install", 200).await;
    assert_eq!(
        attributes(&page, "aside.toc a", "href"),
        ["#requirements", "#checking", "#steps"]
    );
    assert_eq!(
        attributes(&page, "aside.toc li", "class"),
        ["toc-h2", "toc-h3", "toc-h2"]
    );
    assert_eq!(
        attributes(&page, "article h2", "id"),
        ["requirements", "steps"]
    );
    assert_eq!(
        attributes(&page, "article h2 a.heading-anchor", "href"),
        ["#requirements", "#steps"]
    );
}

#[tokio::test]
async fn drafts_are_hidden_unless_asked_for() {
    let app = spawn_app(&fixture("site")).await;
    app.page("/draft", 404).await;
    let home = app.page("/", 200).await;
    assert!(!attributes(&home, "nav.sidebar a", "href").contains(&"/draft".to_string()));

    let app = spawn_app_with(&fixture("site"), |c| c.drafts = true).await;
    let draft = app.page("/draft", 200).await;
    assert_eq!(texts(&draft, "article .badge"), ["Draft"]);
    let home = app.page("/", 200).await;
    assert!(attributes(&home, "nav.sidebar a", "href").contains(&"/draft".to_string()));
}

#[tokio::test]
async fn missing_page_gets_the_404_page_in_the_site_layout() {
    let app = spawn_app(&fixture("site")).await;
    for path in [
        "/no-such-page",
        "/guide/nothing",
        "/../etc/passwd",
        "/%2e%2e/Cargo.toml",
    ] {
        let page = app.page(path, 404).await;
        assert_eq!(texts(&page, "article h1"), ["Page not found"], "{path}");
        assert_eq!(
            attributes(&page, "nav.sidebar a", "href").len(),
            7,
            "{path}"
        );
    }
}

#[tokio::test]
async fn trailing_slash_and_md_suffix_redirect_to_the_page() {
    let app = spawn_app(&fixture("site")).await;
    for path in ["/guide/", "/guide/index.md", "/alpha.md"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 308, "{path}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(
            ["/guide", "/alpha"].contains(&location),
            "{path} → {location}"
        );
    }
}

#[tokio::test]
async fn pages_revalidate_with_etag() {
    let app = spawn_app(&fixture("site")).await;
    let first = app.get("/alpha").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let again = app
        .client
        .get(app.url("/alpha"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.text().await.unwrap().is_empty());
    let other = app.get("/beta").await;
    assert_ne!(other.headers()["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app(&fixture("site")).await;
    let response = app.client.head(app.url("/alpha")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(response.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn pages_read_without_javascript() {
    let app = spawn_app(&fixture("site")).await;
    let page = app.page("/guide/usage", 200).await;
    // The navigation opens through a checkbox and label, not a script.
    assert_eq!(
        attributes(&page, "label.nav-toggle-label", "for"),
        ["nav-toggle"]
    );
    assert_eq!(attributes(&page, "input#nav-toggle", "type"), ["checkbox"]);
    // The theme button needs JS, so it starts hidden; CSS follows the system theme.
    assert_eq!(attributes(&page, "button.theme-toggle", "hidden"), [""]);
    // Code and the recorded output are in the HTML itself.
    assert_eq!(texts(&page, ".recorded-output pre"), ["hello"]);
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app(&fixture("site")).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok\n");
}

#[tokio::test]
async fn edit_url_template_puts_edit_this_page_on_every_page() {
    let app = spawn_app_with(&fixture("site"), |c| {
        c.edit_url_template = Some("https://git.example.com/docs/edit/main/{path}".into());
    })
    .await;
    let page = app.page("/guide/install", 200).await;
    assert_eq!(
        attributes(&page, ".edit-page a", "href"),
        ["https://git.example.com/docs/edit/main/guide/install.md"]
    );
    assert_eq!(texts(&page, ".edit-page a"), ["Edit this page"]);
    let plain = spawn_app(&fixture("site")).await;
    let page = plain.page("/guide/install", 200).await;
    assert!(attributes(&page, ".edit-page a", "href").is_empty());
}

#[tokio::test]
async fn bundled_site_serves_every_page_and_every_link_between_them_resolves() {
    let app = spawn_app_with(&fixture("site"), |c| {
        c.content = rundocs::config::ContentSource::Bundled;
    })
    .await;
    let home = app.page("/", 200).await;
    let pages = attributes(&home, "nav.sidebar a", "href");
    let mut checked = std::collections::BTreeSet::new();
    for page in &pages {
        let html = app.page(page, 200).await;
        for href in attributes(&html, "main a[href^='/'], article a[href^='/']", "href") {
            let target = href.split('#').next().unwrap().to_string();
            if target.is_empty() || !checked.insert(target.clone()) {
                continue;
            }
            let status = app.get(&target).await.status();
            assert_eq!(status, 200, "{page} links to {href}");
        }
    }
    assert!(checked.len() >= pages.len(), "{checked:?}");
}
