//! The wiki's pages in the browser: the editor and the history.
//!
//! | route | |
//! |---|---|
//! | `GET /edit?path=P` | the editor of page `P` (a file or an address) |
//! | `GET /edit?new=1[&path=P]` | the editor of a new page (named there when `path` is missing) |
//! | `GET /history` | the site's recent changes |
//! | `GET /history?path=P` | the page's revisions: pick two to compare, view one, revert to one |
//! | `GET /history?path=P&from=R&to=R` | the changes between two revisions, line by line |
//! | `GET /history?path=P&rev=R[&view=source]` | an old revision, rendered as the page was (or its source) |
//!
//! Both are rendered on request from the repository, never from the
//! snapshot, in the layout without the sidebar. The editor is for those who
//! may edit ([`super::access::refuse_editing`] answers everyone else); the
//! history for every reader, with Revert for editors. In the browser,
//! `static/wiki.js` does the rest: CodeMirror, the live preview
//! (`POST /api/preview`), drafts, saving (`PUT /api/page`), the conflict
//! screen, image uploads and reverts (`POST /api/revert`).
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::access::refuse_editing;
use super::error::ApiError;
use super::wiki::{blocking, page_path};
use super::AppState;
use crate::access::Identity;
use crate::render::preview::render_text;
use crate::render::templates::{render_split, Chrome, Link};
use crate::util::{encode_query_value, page_url};
use crate::wiki::history::{self, Change};
use crate::wiki::PagePath;

/// Revisions a page's history lists, and changes the site's recent changes list.
const PAGE_HISTORY: usize = 200;
const RECENT_CHANGES: usize = 100;

#[derive(Debug, Deserialize)]
pub struct EditQuery {
    path: Option<String>,
    new: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    path: Option<String>,
    rev: Option<String>,
    from: Option<String>,
    to: Option<String>,
    view: Option<String>,
}

/// The editor. `static/wiki.js` reads its data attributes and the source.
#[derive(Template)]
#[template(path = "edit.html")]
struct EditTemplate<'a> {
    chrome: &'a Chrome<'a>,
    /// The page's file; empty for a new page not named yet.
    path: String,
    source: String,
    /// The revision the edit starts from; `None` for a new page.
    revision: Option<String>,
    /// The page's links, for a page that exists.
    page_url: Option<String>,
    history_url: Option<String>,
    /// The preview's examples may run (as edited code: `run.edit` allows this reader).
    preview_runs: bool,
    max_page_bytes: usize,
    max_image_bytes: usize,
}

/// A page of the history: one of the views in the module's table.
#[derive(Template)]
#[template(path = "history.html")]
struct HistoryTemplate<'a> {
    chrome: &'a Chrome<'a>,
    /// The page's file; `None` for the site's recent changes.
    path: Option<String>,
    /// Links to the page, its history and its editor.
    links: Option<PageLinks>,
    /// The revisions (or the site's changes), newest first.
    changes: Vec<ChangeView>,
    /// The two revisions compared, when a diff is shown (or proposed).
    from: Option<String>,
    to: Option<String>,
    diff: Option<Vec<DiffLine>>,
    revision: Option<RevisionView>,
    /// This reader may revert.
    can_revert: bool,
}

impl HistoryTemplate<'_> {
    fn is_from(&self, revision: &str) -> bool {
        self.from.as_deref() == Some(revision)
    }

    fn is_to(&self, revision: &str) -> bool {
        self.to.as_deref() == Some(revision)
    }

    fn short<'r>(&self, revision: &'r str) -> &'r str {
        short(revision)
    }
}

/// An answer that is a sentence and maybe a way on.
#[derive(Template)]
#[template(path = "wiki_notice.html")]
struct NoticeTemplate<'a> {
    chrome: &'a Chrome<'a>,
    heading: &'a str,
    message: &'a str,
    link: Option<Link<'a>>,
}

struct PageLinks {
    page: String,
    history: String,
    edit: String,
}

/// One change as the history shows it.
struct ChangeView {
    revision: Option<String>,
    short: String,
    author: String,
    time: Time,
    message: String,
    /// The page's file, its history and the revision's view.
    path: String,
    history_url: String,
    view_url: Option<String>,
}

/// An old revision.
struct RevisionView {
    revision: String,
    short: String,
    /// The change that made it, if the history still lists it.
    change: Option<ChangeView>,
    is_current: bool,
    /// The source, shown as it is (`&view=source`).
    source: Option<String>,
    /// The page as it was; `Err` holds the problem it had.
    rendered: Option<Result<String, String>>,
    source_url: String,
    rendered_url: String,
}

/// One line of a diff, with its kind for colour: `file`, `hunk`, `add`,
/// `del`, `same` or `note`.
#[derive(Debug, PartialEq, Eq)]
struct DiffLine {
    kind: &'static str,
    text: String,
}

/// A time as the reader sees it, and as `<time datetime>` carries it.
struct Time {
    shown: String,
    iso: String,
}

/// `GET /edit`.
pub async fn edit(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<EditQuery>,
) -> HttpResponse {
    if let Some(refused) = refuse_editing(&state, &request) {
        return refused;
    }
    let snapshot = state.snapshot.load();
    let chrome = without_live_reload(state.chrome(snapshot.generation));
    let routes = &chrome.routes;
    let is_new = query.new.is_some();
    let named = query.path.as_deref().filter(|p| !p.trim().is_empty());
    let page = match named.map(|raw| page_path(&snapshot, raw)).transpose() {
        Ok(page) => page,
        Err(error) => {
            return notice(
                &chrome,
                StatusCode::BAD_REQUEST,
                "Not a page",
                &error.to_string(),
                None,
            )
        }
    };
    let Some(page) = page else {
        if is_new {
            return editor(&state, &chrome, &request, None, None);
        }
        let new = format!("{routes}/edit?new=1");
        return notice(
            &chrome,
            StatusCode::BAD_REQUEST,
            "Which page?",
            "Name the page to edit: /_rundocs/edit?path=guide/setup.md.",
            Some(Link {
                url: new,
                title: "Start a new page",
            }),
        );
    };
    let reading = page.clone();
    let current = match blocking(&state, move |wiki| {
        wiki.with_store(|store| store.read(&reading, None))
    })
    .await
    {
        Ok(text) => Some(text),
        Err(ApiError::NotFound(_)) => None,
        Err(error) => return failed(&chrome, error),
    };
    let file = encode_query_value(page.as_str());
    match (is_new, current) {
        (false, None) => notice(
            &chrome,
            StatusCode::NOT_FOUND,
            "No such page yet",
            &format!("There is no page {page} to edit."),
            Some(Link {
                url: format!("{routes}/edit?new=1&path={file}"),
                title: "Create it",
            }),
        ),
        (true, Some(_)) => notice(
            &chrome,
            StatusCode::CONFLICT,
            "The page exists",
            &format!("{page} exists already; edit it, or pick another name for the new page."),
            Some(Link {
                url: format!("{routes}/edit?path={file}"),
                title: "Edit it",
            }),
        ),
        (_, current) => editor(&state, &chrome, &request, Some(page), current),
    }
}

/// The editor of `page` (`None`: a new page not named yet), starting from
/// `current` (`None`: a new page).
fn editor(
    state: &AppState,
    chrome: &Chrome<'_>,
    request: &HttpRequest,
    page: Option<PagePath>,
    current: Option<crate::wiki::PageText>,
) -> HttpResponse {
    let identity = identity(request);
    let exists = current.is_some();
    let (source, revision) = match current {
        Some(text) => (text.source, Some(text.revision)),
        None => (page.as_ref().map_or_else(String::new, first_heading), None),
    };
    let links = page
        .as_ref()
        .filter(|_| exists)
        .map(|page| page_links(chrome, page));
    let template = EditTemplate {
        chrome,
        path: page
            .as_ref()
            .map_or_else(String::new, |p| p.as_str().to_string()),
        source,
        revision,
        page_url: links.as_ref().map(|l| l.page.clone()),
        history_url: links.map(|l| l.history),
        preview_runs: state
            .gate
            .config
            .may_run_edited(state.config.run.edit, &identity),
        max_page_bytes: state.config.wiki.max_page_bytes,
        max_image_bytes: state.config.wiki.max_image_bytes,
    };
    respond(StatusCode::OK, &template)
}

/// A new page's first line: a heading made from its file name.
fn first_heading(page: &PagePath) -> String {
    let stem = page.as_str().trim_end_matches(".md");
    let stem = stem.strip_suffix("/index").unwrap_or(stem);
    let name = stem.rsplit('/').next().unwrap_or(stem);
    format!("# {}\n\n", crate::content::humanize(name))
}

/// `GET /history`.
pub async fn history(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<HistoryQuery>,
) -> HttpResponse {
    let snapshot = state.snapshot.load();
    let chrome = without_live_reload(state.chrome(snapshot.generation));
    if state.wiki.is_none() {
        return notice(
            &chrome,
            StatusCode::NOT_FOUND,
            "No history here",
            "Pages of this site are not edited in the browser, so it keeps no history of them.",
            None,
        );
    }
    let can_revert = state.gate.config.may_edit(&identity(&request));
    let page = match query
        .path
        .as_deref()
        .map(|raw| page_path(&snapshot, raw))
        .transpose()
    {
        Ok(page) => page,
        Err(error) => {
            return notice(
                &chrome,
                StatusCode::BAD_REQUEST,
                "Not a page",
                &error.to_string(),
                None,
            )
        }
    };
    let Some(page) = page else {
        return recent_changes(&state, &chrome).await;
    };
    let listing = page.clone();
    let changes = match blocking(&state, move |wiki| {
        wiki.with_store(|store| history::page_history(store, &listing, PAGE_HISTORY))
    })
    .await
    {
        Ok(changes) if changes.is_empty() => {
            return notice(
                &chrome,
                StatusCode::NOT_FOUND,
                "No history",
                &format!("{page} has never been saved."),
                None,
            )
        }
        Ok(changes) => changes,
        Err(error) => return failed(&chrome, error),
    };
    let mut template = HistoryTemplate {
        chrome: &chrome,
        path: Some(page.to_string()),
        links: Some(page_links(&chrome, &page)),
        changes: changes.iter().map(|c| change_view(&chrome, c)).collect(),
        from: query.from.clone(),
        to: query.to.clone(),
        diff: None,
        revision: None,
        can_revert,
    };
    if let (Some(from), Some(to)) = (&query.from, &query.to) {
        let (diffed, from, to) = (page.clone(), from.clone(), to.clone());
        match blocking(&state, move |wiki| {
            wiki.with_store(|store| history::diff(store, &diffed, &from, &to))
        })
        .await
        {
            Ok(diff) => template.diff = Some(diff_lines(&diff)),
            Err(error) => return failed(&chrome, error),
        }
    } else if let Some(rev) = &query.rev {
        let (reading, rev) = (page.clone(), rev.clone());
        let old = match blocking(&state, move |wiki| {
            wiki.with_store(|store| store.read(&reading, Some(&rev)))
        })
        .await
        {
            Ok(old) => old,
            Err(error) => return failed(&chrome, error),
        };
        let as_source = query.view.as_deref() == Some("source");
        let rendered = (!as_source).then(|| {
            render_text(&state.config, page.as_str(), &old.source)
                .map(|r| r.html)
                .map_err(|problem| problem.to_string())
        });
        let here = format!(
            "{}/history?path={}&rev={}",
            chrome.routes,
            encode_query_value(page.as_str()),
            old.revision
        );
        template.revision = Some(RevisionView {
            short: short(&old.revision).to_string(),
            change: changes
                .iter()
                .find(|c| c.revision.as_deref() == Some(old.revision.as_str()))
                .map(|c| change_view(&chrome, c)),
            is_current: changes[0].revision.as_deref() == Some(old.revision.as_str()),
            source: as_source.then_some(old.source),
            rendered,
            source_url: format!("{here}&view=source"),
            rendered_url: here,
            revision: old.revision,
        });
    } else {
        // Proposed for comparing: the last change.
        let mut revisions = changes.iter().filter_map(|c| c.revision.clone());
        template.to = revisions.next();
        template.from = revisions.next();
    }
    respond(StatusCode::OK, &template)
}

async fn recent_changes(state: &web::Data<AppState>, chrome: &Chrome<'_>) -> HttpResponse {
    match blocking(state, |wiki| {
        wiki.with_store(|store| history::recent_changes(store, RECENT_CHANGES))
    })
    .await
    {
        Ok(changes) => respond(
            StatusCode::OK,
            &HistoryTemplate {
                chrome,
                path: None,
                links: None,
                changes: changes.iter().map(|c| change_view(chrome, c)).collect(),
                from: None,
                to: None,
                diff: None,
                revision: None,
                can_revert: false,
            },
        ),
        Err(error) => failed(chrome, error),
    }
}

/// The layout's data for these pages: they never reload themselves under
/// `--watch` (every save rebuilds the site; an editor must not lose its page).
fn without_live_reload(mut chrome: Chrome<'_>) -> Chrome<'_> {
    chrome.live_reload = false;
    chrome
}

fn identity(request: &HttpRequest) -> Identity {
    request
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or(Identity::Anonymous)
}

fn page_links(chrome: &Chrome<'_>, page: &PagePath) -> PageLinks {
    let file = encode_query_value(page.as_str());
    PageLinks {
        page: page_url(chrome.base, &page.url_path()),
        history: format!("{}/history?path={file}", chrome.routes),
        edit: format!("{}/edit?path={file}", chrome.routes),
    }
}

fn change_view(chrome: &Chrome<'_>, change: &Change) -> ChangeView {
    let file = encode_query_value(&change.path);
    let history_url = format!("{}/history?path={file}", chrome.routes);
    ChangeView {
        short: change.revision.as_deref().map_or("", short).to_string(),
        view_url: change
            .revision
            .as_ref()
            .map(|r| format!("{history_url}&rev={r}")),
        revision: change.revision.clone(),
        author: change.author.clone(),
        time: utc(change.time),
        message: change.message.clone(),
        path: change.path.clone(),
        history_url,
    }
}

fn short(revision: &str) -> &str {
    revision.get(..10).unwrap_or(revision)
}

/// The lines of a unified diff, each with its kind.
fn diff_lines(diff: &str) -> Vec<DiffLine> {
    diff.lines()
        .enumerate()
        .map(|(number, line)| {
            let kind = match line.as_bytes().first() {
                // The two file names open the diff; later `---` lines are removed text.
                Some(b'-' | b'+')
                    if number < 2 && (line.starts_with("---") || line.starts_with("+++")) =>
                {
                    "file"
                }
                Some(b'@') if line.starts_with("@@") => "hunk",
                Some(b'+') => "add",
                Some(b'-') => "del",
                Some(b'\\') => "note",
                _ => "same",
            };
            DiffLine {
                kind,
                text: line.to_string(),
            }
        })
        .collect()
}

/// `seconds` since the Unix epoch, in UTC (days to a date as in Howard
/// Hinnant's `civil_from_days`).
fn utc(seconds: i64) -> Time {
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
    Time {
        shown: format!("{year}-{month:02}-{day:02} {hour:02}:{minute:02} UTC"),
        iso: format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"),
    }
}

/// A page of the wiki: rendered, in the layout without the sidebar, never cached.
fn respond(status: StatusCode, template: &impl Template) -> HttpResponse {
    match render_split(template) {
        Ok(parts) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(parts.before_sidebar + &parts.after_sidebar),
        Err(error) => {
            tracing::error!(%error, "a wiki page could not be rendered");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body(format!("The page could not be rendered: {error}\n"))
        }
    }
}

fn notice(
    chrome: &Chrome<'_>,
    status: StatusCode,
    heading: &str,
    message: &str,
    link: Option<Link<'_>>,
) -> HttpResponse {
    respond(
        status,
        &NoticeTemplate {
            chrome,
            heading,
            message,
            link,
        },
    )
}

/// A failed read of the repository, as a page with the API's sentence.
fn failed(chrome: &Chrome<'_>, error: ApiError) -> HttpResponse {
    use actix_web::ResponseError;
    let heading = match error.status_code() {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::BAD_REQUEST => "Not possible",
        _ => "The wiki could not be read",
    };
    notice(
        chrome,
        error.status_code(),
        heading,
        &error.to_string(),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_dates_in_utc() {
        assert_eq!(utc(0).shown, "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_700_000_000).iso, "2023-11-14T22:13:20Z");
        assert_eq!(utc(951_782_400).shown, "2000-02-29 00:00 UTC");
        assert_eq!(utc(-1).iso, "1969-12-31T23:59:59Z");
    }

    #[test]
    fn diff_lines_know_their_kind() {
        let diff = "--- a\n+++ b\n@@ -1,2 +1,2 @@\n same\n-old\n--- a rule\n+new\n\\ No newline at end of file\n";
        let kinds: Vec<_> = diff_lines(diff).into_iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            ["file", "file", "hunk", "same", "del", "del", "add", "note"]
        );
    }
}
