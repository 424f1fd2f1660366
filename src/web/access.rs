//! The access gate in front of every route, and the routes about signing in.
//!
//! [`guard`] decides, before routing, whether a request may go on: assets
//! and `/healthz` always may; a run needs the right to run; everything else
//! needs the right to read. A refused request gets 401 (sign in) or 403
//! (signed in, but not allowed), as JSON under `/api/` and as a page
//! elsewhere; neither shows anything of the site.
//!
//! `GET /login` makes a browser sign in (basic auth) and goes back to the
//! page it came from; `GET /api/session` tells the page's script who the
//! reader is, whether Run will work for them and whether they may edit
//! pages. [`refuse_editing`] answers the wiki's editor page for those who
//! may not edit.
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::refusals::Reason;
use super::reserved::INTERNAL_PREFIX;

/// The sign-in page, below the base path.
const LOGIN_ROUTE: &str = "/_rundocs/login";
use super::AppState;
use crate::access::{Denied, Identity};
use crate::render::templates::AccessDeniedTemplate;
use crate::render::AssetTable;

/// What a request asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Open to all; who asks does not matter (assets, `/healthz`).
    Nothing,
    /// Open to all, but the answer depends on who asks (`/login`, `/api/session`).
    Identity,
    Read,
    Run,
}

/// Which right a request for `path` (below the base path, decoded as the
/// router decodes it) needs. Only reads of the open routes need nothing, and
/// only when the open route is sure to answer (an asset that exists: any
/// other `/static/…` path would reach the 404 page, sidebar and all); any
/// other method needs the right to run, the only route that takes one.
fn need_of(method: &Method, path: &str, assets: &AssetTable) -> Need {
    let reads = method == Method::GET || method == Method::HEAD;
    let Some(path) = path.strip_prefix(INTERNAL_PREFIX) else {
        // A page: pages are read.
        return if reads { Need::Read } else { Need::Run };
    };
    if !reads && path == "/api/sync" {
        // A webhook: its handler checks the shared secret.
        return Need::Nothing;
    }
    if !reads
        && matches!(
            path,
            "/api/page" | "/api/revert" | "/api/move" | "/api/preview" | "/api/upload"
        )
    {
        // The wiki's changes (and its preview): the handler asks `access.edit` about the sender.
        return Need::Identity;
    }
    let asset = path
        .strip_prefix("/static/")
        .is_some_and(|file| assets.get(file).is_some());
    if !reads {
        Need::Run
    } else if asset || path == "/healthz" || path == "/readyz" {
        Need::Nothing
    } else if matches!(path, "/login" | "/api/session") {
        Need::Identity
    } else {
        Need::Read
    }
}

/// The middleware: identifies the sender, refuses what they may not do,
/// and leaves their [`Identity`] in the request's extensions.
pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let access = &state.gate.config;
    if access.is_wide_open() {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    // The path as the router sees it: `/api/%72un/1` is `/api/run/1`.
    let routed = request.match_info().as_str().to_string();
    let base = state.config.base_path.as_str();
    let path = routed.strip_prefix(base).unwrap_or(&routed);
    let need = need_of(request.method(), path, &state.assets);
    if need == Need::Nothing {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let peer = request.peer_addr().map(|a| a.ip());
    let identity = match state.gate.identify_quickly(request.headers(), peer) {
        Some(identity) => identity,
        None => {
            // A new password or token costs an argon2 verification: off the async threads.
            let headers = request.headers().clone();
            let gate = state.gate.clone();
            web::block(move || gate.identify(&headers, peer)).await?
        }
    };
    let refusal = match (&identity, need) {
        (Err(denied), Need::Read | Need::Run) => Some(Refusal::from_denied(denied)),
        (Err(Denied::Busy), Need::Identity) => Some(Refusal::from_denied(&Denied::Busy)),
        (Ok(who), Need::Read) if !access.may_read(who) => Some(Refusal::sign_in("reading")),
        (Ok(who), Need::Run) if !access.may_run(who) => Some(match who {
            Identity::Anonymous => Refusal::sign_in("running examples"),
            Identity::Known(name) => Refusal::not_a_runner(name),
        }),
        _ => None,
    };
    if let Some(refusal) = refusal {
        state.refusals.count(match refusal.status {
            StatusCode::UNAUTHORIZED => Reason::SignIn,
            StatusCode::SERVICE_UNAVAILABLE => Reason::SignInBusy,
            _ => Reason::Forbidden,
        });
        let back = request
            .uri()
            .path_and_query()
            .map_or(request.path(), |p| p.as_str())
            .to_string();
        let response = refusal.respond(&state, path, &back);
        return Ok(request.into_response(response));
    }
    request
        .extensions_mut()
        .insert(identity.clone().unwrap_or(Identity::Anonymous));
    let mut response = next.call(request).await?.map_into_boxed_body();
    // What a signed-in reader, or any reader of a private site, gets is
    // theirs alone: no shared cache (a proxy, a CDN) may keep it.
    if access.read == crate::access::AccessLevel::Restricted
        || identity.as_ref().is_ok_and(Identity::is_known)
    {
        keep_private(response.headers_mut());
    }
    Ok(response)
}

/// Marks a response `private` for caches, keeping its other directives.
fn keep_private(headers: &mut actix_web::http::header::HeaderMap) {
    let current = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if current.contains("private") || current.contains("no-store") {
        return;
    }
    let value = if current.is_empty() {
        "private".to_string()
    } else {
        format!(
            "private, {}",
            current.replace("public, ", "").replace("public", "")
        )
    };
    if let Ok(value) = header::HeaderValue::from_str(value.trim_end_matches([',', ' '])) {
        headers.insert(header::CACHE_CONTROL, value);
    }
}

/// Why a request is refused.
struct Refusal {
    status: StatusCode,
    heading: &'static str,
    message: String,
    hint: Option<String>,
}

impl Refusal {
    fn sign_in(what: &str) -> Refusal {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            heading: "Sign in to go on",
            message: format!("On this site, {what} needs signing in."),
            hint: None,
        }
    }

    fn not_a_runner(name: &str) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            heading: "Not allowed to run examples",
            message: format!(
                "You are signed in as {name}, who may read but not run examples here."
            ),
            hint: Some("Ask the site's operator to add you to `access.runners`.".into()),
        }
    }

    fn not_an_editor(name: &str) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            heading: "Not allowed to edit pages",
            message: format!("You are signed in as {name}, who may read but not edit pages here."),
            hint: Some("Ask the site's operator to add you to `access.editors`.".into()),
        }
    }

    fn from_denied(denied: &Denied) -> Refusal {
        match denied {
            Denied::BadCredentials(why) => Refusal {
                status: StatusCode::UNAUTHORIZED,
                heading: "Sign-in failed",
                message: format!("The credentials sent were not accepted: {why}."),
                hint: None,
            },
            Denied::Busy => Refusal {
                status: StatusCode::SERVICE_UNAVAILABLE,
                heading: "Busy",
                message: format!("{denied}."),
                hint: None,
            },
            Denied::UntrustedProxy { .. } => Refusal {
                status: StatusCode::FORBIDDEN,
                heading: "Request not trusted",
                message: format!("{denied}."),
                hint: Some(
                    "Reach the site through its reverse proxy, or add the proxy's address to `access.trusted_proxies`."
                        .into(),
                ),
            },
        }
    }

    /// The answer to a request for `path` (below the base path); `back` is
    /// where to return after signing in (path and query as requested).
    fn respond(self, state: &AppState, path: &str, back: &str) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            if let Some(challenge) = challenge(state) {
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
        }
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        let mut message = self.message;
        let route = path.strip_prefix(INTERNAL_PREFIX);
        if route.is_some_and(|route| route.starts_with("/api/")) {
            if let Some(hint) = &self.hint {
                message = format!("{message} {hint}");
            } else if self.status == StatusCode::UNAUTHORIZED {
                message = format!("{message} {}", how_to_sign_in(state));
            }
            return response.json(json!({ "error": message }));
        }
        let hint = self.hint.unwrap_or_else(|| how_to_sign_in(state));
        let login_url = login_url(state)
            .filter(|_| path != LOGIN_ROUTE)
            .map(|login| {
                let back = back
                    .replace('%', "%25")
                    .replace('&', "%26")
                    .replace('+', "%2B");
                format!("{login}?next={back}")
            });
        let page = AccessDeniedTemplate {
            site_title: &state.config.title,
            stylesheet: &state.assets.urls.style,
            heading: self.heading,
            message: &message,
            hint: Some(&hint),
            login_url,
        };
        match page.render() {
            Ok(html) => response.content_type("text/html; charset=utf-8").body(html),
            Err(_) => response
                .content_type("text/plain; charset=utf-8")
                .body(message),
        }
    }
}

/// The answer to a page of the wiki's editor (`/edit`) for a sender who
/// may not edit, or `None` when they may: sign in (401, with the browser's
/// password dialog where the site takes passwords), not an editor (403), or
/// no editing on this site (404).
pub fn refuse_editing(state: &AppState, request: &HttpRequest) -> Option<HttpResponse> {
    let identity = request
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or(Identity::Anonymous);
    if state.wiki.is_some() && state.gate.config.may_edit(&identity) {
        return None;
    }
    let refusal = match &identity {
        _ if state.wiki.is_none() => Refusal {
            status: StatusCode::NOT_FOUND,
            heading: "No editing here",
            message: "Pages of this site are not edited in the browser.".into(),
            hint: Some("The site's operator can turn it on with `access.edit`.".into()),
        },
        Identity::Anonymous => Refusal::sign_in("editing pages"),
        Identity::Known(name) => Refusal::not_an_editor(name),
    };
    match refusal.status {
        StatusCode::UNAUTHORIZED => state.refusals.count(Reason::SignIn),
        StatusCode::FORBIDDEN => state.refusals.count(Reason::Forbidden),
        _ => {}
    }
    let back = request
        .uri()
        .path_and_query()
        .map_or(request.path(), |p| p.as_str())
        .to_string();
    Some(refusal.respond(state, &format!("{INTERNAL_PREFIX}/edit"), &back))
}

/// Where a browser signs in, when the site takes passwords itself.
fn login_url(state: &AppState) -> Option<String> {
    state
        .gate
        .config
        .has_basic_auth()
        .then(|| format!("{}{LOGIN_ROUTE}", state.config.base_path))
}

/// The `WWW-Authenticate` challenge: basic auth lets a browser ask for a
/// password itself; tokens are for scripts.
fn challenge(state: &AppState) -> Option<String> {
    let access = &state.gate.config;
    let realm = state.config.title.replace(['"', '\\'], "");
    if access.has_basic_auth() {
        Some(format!("Basic realm=\"{realm}\", charset=\"UTF-8\""))
    } else if !access.tokens.is_empty() {
        Some(format!("Bearer realm=\"{realm}\""))
    } else {
        None
    }
}

/// One sentence on the ways in this site offers.
fn how_to_sign_in(state: &AppState) -> String {
    let access = &state.gate.config;
    let mut ways = Vec::new();
    if access.has_basic_auth() {
        ways.push("a user name and password (HTTP basic auth)".to_string());
    }
    if !access.tokens.is_empty() {
        ways.push("a token (`Authorization: Bearer TOKEN`)".to_string());
    }
    if let Some(header) = &access.proxy_user_header {
        ways.push(format!(
            "the site's single sign-on (a reverse proxy that sets {header})"
        ));
    }
    if ways.is_empty() {
        return "Nobody signs in on this site.".into();
    }
    format!("Sign in with {}.", ways.join(", or "))
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login?next=PATH`: asks the browser to sign in, then goes to `next`.
pub async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<LoginQuery>,
) -> HttpResponse {
    let base = &state.config.base_path;
    let home = format!("{base}/");
    // Only a path of this site: never an open redirect.
    let next = query
        .next
        .as_deref()
        .filter(|n| is_within(n, &home))
        .unwrap_or(&home);
    let identity = request.extensions().get::<Identity>().cloned();
    match identity {
        Some(Identity::Known(_)) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, next.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        _ if !state.gate.config.has_basic_auth() => Refusal {
            status: StatusCode::NOT_FOUND,
            heading: "No sign-in page here",
            message: "This site does not take passwords itself.".into(),
            hint: None,
        }
        .respond(&state, LOGIN_ROUTE, ""),
        _ => Refusal {
            status: StatusCode::UNAUTHORIZED,
            heading: "Sign in",
            message: "Sign in with your user name and password to go on.".into(),
            hint: None,
        }
        .respond(&state, LOGIN_ROUTE, ""),
    }
}

/// `next` is a path of this site: under `home`, with no `..` or `\` that
/// could lead elsewhere.
fn is_within(next: &str, home: &str) -> bool {
    let path = next.split('?').next().unwrap_or_default();
    next.starts_with(home)
        && next.chars().all(|c| c.is_ascii_graphic())
        && !next.starts_with("//")
        && !next.contains('\\')
        && !path
            .split('/')
            .any(|segment| segment == ".." || segment == ".")
        && !path.to_ascii_lowercase().contains("%2e")
}

/// `GET /api/session`: who the reader is and what they may do.
pub async fn session(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let identity = request
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or(Identity::Anonymous);
    let access = &state.gate.config;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "user": identity.name(),
            "can_read": access.may_read(&identity),
            "can_run": access.may_run(&identity),
            "can_edit": access.may_run_edited(state.config.run.edit, &identity),
            "can_edit_pages": state.wiki.is_some() && access.may_edit(&identity),
            "login_url": login_url(&state),
        }))
}
