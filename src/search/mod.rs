//! Full-text search over the site, one index per snapshot.
//!
//! Every section of every page (the text from one heading to the next) is a
//! document: the page title, the section heading, its prose and its code.
//! The index lives in memory ([tantivy]'s RAM directory) and is built with
//! the snapshot, so search always matches the pages being served.
//!
//! Prose, titles and headings are stemmed (English), so `threads` finds
//! `thread`; code is only lowercased, so `PyGILState_Ensure` is found by its
//! parts. Every word of a query must appear; the last word also matches as a
//! prefix while the reader is still typing it (`deadl` finds `deadlock`),
//! against unstemmed copies of the words (the stem `lock` of `locking` is no
//! prefix of `lockin`). A match in the title of a page's first section
//! outweighs one in a heading, which outweighs the body; the page title
//! counts a little for every section, so that a query naming the page and a
//! detail finds the section with the detail.
mod excerpt;
mod pending;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use excerpt::{excerpt_html, Analyzers, QueryWords};
pub use pending::PendingIndex;

/// One section of one page, as the index sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchSection {
    /// URL path of the page (no leading `/`).
    pub page: String,
    pub title: String,
    /// Empty for the text before a page's first heading.
    pub heading: String,
    pub anchor: String,
    pub text: String,
    pub code: String,
}

/// A matching section, best first.
#[derive(Debug, Clone)]
pub struct SearchHit<'a> {
    pub section: &'a SearchSection,
    pub score: f32,
    /// The best part of the section, HTML-escaped, matches in `<mark>`.
    pub excerpt_html: String,
}

/// The index of one snapshot.
pub struct SearchIndex {
    sections: Vec<SearchSection>,
    reader: IndexReader,
    fields: Fields,
    analyzers: Analyzers,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("sections", &self.sections.len())
            .finish()
    }
}

#[derive(Clone, Copy)]
struct Fields {
    ord: Field,
    /// The page title, on the page's first section only.
    title: Field,
    /// The page title, on every section.
    page_title: Field,
    heading: Field,
    text: Field,
    code: Field,
    /// Unstemmed words of `title` and `heading`, and of `text`, for prefixes.
    heading_words: Field,
    text_words: Field,
}

/// How much a match in each field counts.
const TITLE_BOOST: f32 = 4.0;
const PAGE_TITLE_BOOST: f32 = 0.5;
const HEADING_BOOST: f32 = 2.0;
const TEXT_BOOST: f32 = 1.0;
const CODE_BOOST: f32 = 0.8;

/// Memory tantivy's writer may fill before it flushes (its minimum).
const WRITER_MEMORY_BYTES: usize = 15_000_000;

/// Longest query read, in bytes; the rest is ignored.
pub const MAX_QUERY_BYTES: usize = 200;

impl SearchIndex {
    /// Indexes `sections` (empty ones are left out).
    pub fn build(sections: Vec<SearchSection>) -> tantivy::Result<SearchIndex> {
        let sections: Vec<SearchSection> = sections
            .into_iter()
            .filter(|s| {
                !(s.heading.is_empty() && s.text.trim().is_empty() && s.code.trim().is_empty())
            })
            .collect();
        let mut builder = Schema::builder();
        let text_options = |tokenizer: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let fields = Fields {
            ord: builder.add_u64_field("ord", FAST),
            title: builder.add_text_field("title", text_options("en_stem")),
            page_title: builder.add_text_field("page_title", text_options("en_stem")),
            heading: builder.add_text_field("heading", text_options("en_stem")),
            text: builder.add_text_field("text", text_options("en_stem")),
            code: builder.add_text_field("code", text_options("default")),
            heading_words: builder.add_text_field("heading_words", text_options("default")),
            text_words: builder.add_text_field("text_words", text_options("default")),
        };
        let index = Index::create_in_ram(builder.build());
        let mut writer =
            index.writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY_BYTES)?;
        for (ord, section) in sections.iter().enumerate() {
            let opens_page = ord == 0 || sections[ord - 1].page != section.page;
            let mut document = TantivyDocument::default();
            document.add_u64(fields.ord, ord as u64);
            if opens_page {
                document.add_text(fields.title, &section.title);
                document.add_text(fields.heading_words, &section.title);
            }
            document.add_text(fields.page_title, &section.title);
            document.add_text(fields.heading, &section.heading);
            document.add_text(fields.heading_words, &section.heading);
            document.add_text(fields.text, &section.text);
            document.add_text(fields.text_words, &section.text);
            document.add_text(fields.code, &section.code);
            writer.add_document(document)?;
        }
        writer.commit()?;
        drop(writer);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let analyzer = |name: &str| {
            index
                .tokenizers()
                .get(name)
                .expect("tantivy registers its default analyzers")
        };
        Ok(SearchIndex {
            analyzers: Analyzers::new(analyzer("en_stem"), analyzer("default")),
            sections,
            reader,
            fields,
        })
    }

    /// The `limit` best sections for `query`; none for a query with no words.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit<'_>> {
        let mut analyzers = self.analyzers.clone();
        let words = QueryWords::parse(query, &mut analyzers);
        let Some(tantivy_query) = self.query(&words) else {
            return Vec::new();
        };
        let searcher = self.reader.searcher();
        let Ok(top) = searcher.search(&tantivy_query, &TopDocs::with_limit(limit).order_by_score())
        else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(score, address)| {
                let column = searcher
                    .segment_reader(address.segment_ord)
                    .fast_fields()
                    .u64("ord")
                    .ok()?;
                let section = self.sections.get(column.first(address.doc_id)? as usize)?;
                Some(SearchHit {
                    section,
                    score,
                    excerpt_html: excerpt_html(section, &words, &mut analyzers.stemmed),
                })
            })
            .collect()
    }

    /// Every word must match in some field; the last may match as a prefix.
    fn query(&self, words: &QueryWords) -> Option<BooleanQuery> {
        let f = self.fields;
        let per_word: Vec<(Occur, Box<dyn Query>)> = words
            .words
            .iter()
            .map(|word| {
                let stemmed = [
                    (f.title, TITLE_BOOST),
                    (f.page_title, PAGE_TITLE_BOOST),
                    (f.heading, HEADING_BOOST),
                    (f.text, TEXT_BOOST),
                ]
                .map(|(field, boost)| (field, word.stem.as_str(), boost));
                let mut alternatives: Vec<(Occur, Box<dyn Query>)> = stemmed
                    .into_iter()
                    .chain([(f.code, word.lower.as_str(), CODE_BOOST)])
                    .map(|(field, text, boost)| {
                        (Occur::Should, boosted(term_query(field, text), boost))
                    })
                    .collect();
                if word.is_prefix {
                    for (field, boost) in [
                        (f.heading_words, HEADING_BOOST),
                        (f.text_words, TEXT_BOOST),
                        (f.code, CODE_BOOST),
                    ] {
                        alternatives.push((
                            Occur::Should,
                            boosted(prefix_query(field, &word.lower), boost),
                        ));
                    }
                }
                (
                    Occur::Must,
                    Box::new(BooleanQuery::new(alternatives)) as Box<dyn Query>,
                )
            })
            .collect();
        (!per_word.is_empty()).then(|| BooleanQuery::new(per_word))
    }

    /// Sections indexed.
    pub fn len(&self) -> usize {
        self.sections.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn prefix_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(FuzzyTermQuery::new_prefix(
        Term::from_field_text(field, text),
        0,
        true,
    ))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

#[cfg(test)]
mod tests;
