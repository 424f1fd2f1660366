use super::*;

fn section(page: &str, title: &str, heading: &str, text: &str, code: &str) -> SearchSection {
    SearchSection {
        page: page.into(),
        title: title.into(),
        heading: heading.into(),
        anchor: heading.to_lowercase().replace(' ', "-"),
        text: text.into(),
        code: code.into(),
    }
}

fn index() -> SearchIndex {
    SearchIndex::build(vec![
        section(
            "gil",
            "The GIL in one page",
            "",
            "One lock guards the interpreter.",
            "",
        ),
        section(
            "gil",
            "The GIL in one page",
            "Switching",
            "Threads take turns every 5 ms.",
            "",
        ),
        section(
            "deadlock",
            "A deadlock in a C++ server",
            "The hang",
            "The request thread waits for the GIL while holding a mutex <b>forever</b>.",
            "PyGILState_Ensure();\nrelease_the_lock()",
        ),
        section(
            "misc",
            "Miscellany",
            "Odds",
            "Nothing about locks, but the word deadlock once.",
            "",
        ),
        section("empty", "Empty", "", "", ""),
    ])
    .expect("index builds")
}

fn pages(hits: &[SearchHit<'_>]) -> Vec<String> {
    hits.iter()
        .map(|h| format!("{}#{}", h.section.page, h.section.anchor))
        .collect()
}

#[test]
fn a_title_match_ranks_above_a_mention_in_the_text() {
    let index = index();
    let hits = index.search("deadlock ", 10);
    assert_eq!(pages(&hits), ["deadlock#the-hang", "misc#odds"]);
    assert!(hits[0].score > hits[1].score);
}

#[test]
fn words_are_stemmed() {
    let hits = index()
        .search("thread ", 10)
        .into_iter()
        .map(|h| h.section.page.clone())
        .collect::<Vec<_>>();
    // "Threads" and "thread" both match "thread".
    assert!(
        hits.contains(&"gil".to_string()) && hits.contains(&"deadlock".to_string()),
        "{hits:?}"
    );
}

#[test]
fn the_word_being_typed_matches_as_a_prefix() {
    let index = index();
    assert_eq!(pages(&index.search("deadl", 10))[0], "deadlock#the-hang");
    assert!(
        index.search("deadl ", 10).is_empty(),
        "a finished word is not a prefix"
    );
}

#[test]
fn code_is_found_by_its_identifiers() {
    let index = index();
    assert_eq!(
        pages(&index.search("pygilstate", 10)),
        ["deadlock#the-hang"]
    );
    assert_eq!(
        pages(&index.search("PyGILState_Ensure ", 10)),
        ["deadlock#the-hang"]
    );
}

#[test]
fn every_word_must_match() {
    let index = index();
    assert_eq!(
        pages(&index.search("gil mutex ", 10)),
        ["deadlock#the-hang"]
    );
    assert!(index.search("gil zebra ", 10).is_empty());
}

#[test]
fn a_query_without_words_finds_nothing() {
    let index = index();
    assert!(index.search("", 10).is_empty());
    assert!(index.search("  ?! ", 10).is_empty());
    assert_eq!(index.len(), 4, "the empty section is not indexed");
}

#[test]
fn excerpts_mark_the_matched_words_and_escape_the_rest() {
    let index = index();
    let hits = index.search("waits forever", 10);
    assert_eq!(
        hits[0].excerpt_html,
        "The request thread <mark>waits</mark> for the GIL while holding a mutex &lt;b&gt;<mark>forever</mark>&lt;/b&gt;."
    );
}

#[test]
fn an_excerpt_comes_from_the_code_when_the_code_matches_more_words() {
    let index = index();
    let hits = index.search("release_the_lock ", 10);
    assert_eq!(
        hits[0].excerpt_html,
        "PyGILState_Ensure(); <mark>release</mark>_the_<mark>lock</mark>()"
    );
}

#[test]
fn the_word_being_typed_matches_words_whose_stem_is_shorter() {
    let index = SearchIndex::build(vec![section(
        "p",
        "P",
        "Locking",
        "Acquiring in order.",
        "",
    )])
    .unwrap();
    assert_eq!(index.search("lockin", 5).len(), 1, "heading");
    assert_eq!(index.search("acquiri", 5).len(), 1, "text");
}

#[test]
fn a_page_title_leads_to_its_opening_section_not_to_all_of_them() {
    let index = index();
    assert_eq!(pages(&index.search("switching ", 10)), ["gil#switching"]);
    let hits = pages(&index.search("gil ", 10));
    assert_eq!(hits[0], "gil#", "{hits:?}");
    // The page title still counts for the other sections, a little.
    assert_eq!(pages(&index.search("gil turns ", 10)), ["gil#switching"]);
}

#[test]
fn excerpts_of_text_with_wide_spaces_are_cut_on_character_boundaries() {
    for space in ['\u{3000}', '\u{a0}', '\u{202f}'] {
        for lead in 40..70 {
            let text = format!(
                "{}{space}lock and more{space}{}",
                "a".repeat(lead),
                "b".repeat(300)
            );
            let index = SearchIndex::build(vec![section("p", "P", "H", &text, "")]).unwrap();
            let hits = index.search("lock ", 1);
            assert!(
                hits[0].excerpt_html.contains("<mark>lock</mark>"),
                "{}",
                hits[0].excerpt_html
            );
        }
    }
}

#[test]
fn a_long_text_is_cut_around_the_matches() {
    let long = format!("{} needle {}", "hay ".repeat(100), "straw ".repeat(100));
    let index = SearchIndex::build(vec![section("p", "P", "H", &long, "")]).unwrap();
    let excerpt = &index.search("needle ", 1)[0].excerpt_html;
    assert!(
        excerpt.starts_with('…') && excerpt.ends_with('…'),
        "{excerpt}"
    );
    assert!(excerpt.contains("<mark>needle</mark>"), "{excerpt}");
    assert!(excerpt.len() < 260, "{excerpt}");
}

#[test]
fn stop_words_are_left_out_unless_they_are_all_there_is() {
    let index = index();
    let with = index.search("the deadlock ", 10);
    let without = index.search("deadlock ", 10);
    assert_eq!(pages(&with), pages(&without));
    assert!(
        !with[0].excerpt_html.contains("<mark>The</mark>"),
        "{}",
        with[0].excerpt_html
    );
    // Alone, a stop word is searched for; still being typed, it may be a prefix.
    assert!(!index.search("the ", 10).is_empty());
    assert_eq!(pages(&index.search("waits fo", 10)), ["deadlock#the-hang"]);
}
