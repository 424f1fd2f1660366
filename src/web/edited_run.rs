//! `POST /api/run`: runs code a reader edited, always in process mode.
//!
//! The body is JSON `{"code": "...", "snippet": "ID"}`; `snippet` (optional)
//! names the block the code was edited from, whose `requires=` chain and
//! time limit apply and whose name tracebacks show. Code that opens with a
//! `>>> ` prompt runs as an interpreter session. Besides the checks of
//! every run (same site, rate), `run.edit` must allow the sender, and each
//! client has a budget of CPU seconds per hour for edited runs
//! ([`EditQuota`]), charged with what its runs' processes used.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::ApiError;
use super::json_body::{read_json, BodyRules};
use super::refusals::Reason;
use super::run::{client_of, run_request, runnable_snippet, start};
use super::{run_access, AppState};
use crate::access::Identity;
use crate::content::session;
use crate::runtime::{Block, Isolation, RunRequest};

/// Most bytes of code one edited run may send.
pub const MAX_CODE_BYTES: usize = 64 << 10;
/// The request body may hold that much code, JSON-escaped, and a snippet id.
pub const MAX_BODY_BYTES: usize = MAX_CODE_BYTES * 2 + 1024;
/// The window a client's CPU budget is counted over.
const QUOTA_WINDOW: Duration = Duration::from_secs(3600);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditedRun {
    code: String,
    snippet: Option<String>,
}

pub async fn run_edited(
    state: web::Data<AppState>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    run_access::reject_cross_site(&http)
        .inspect_err(|_| state.refusals.count(Reason::CrossSite))?;
    let identity = http
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or(Identity::Anonymous);
    let edit = state.config.run.edit;
    if !state.gate.config.may_run_edited(edit, &identity) {
        state.refusals.count(Reason::EditNotAllowed);
        return Err(ApiError::Forbidden(match edit {
            crate::config::EditAccess::Off => {
                "this site does not run edited code (`run.edit` is off); run the examples as written"
                    .to_string()
            }
            _ => "only signed-in users may run edited code here; sign in first".to_string(),
        }));
    }
    let edited: EditedRun = read_json(
        &http,
        payload,
        BodyRules {
            limit: MAX_BODY_BYTES,
            shape: r#"{"code": "...", "snippet": "ID"}"#,
            too_large: &too_large,
        },
    )
    .await?;
    if edited.code.len() > MAX_CODE_BYTES {
        return Err(too_large());
    }
    let client = client_of(&state, &http);
    state
        .run_rate
        .check(client)
        .inspect_err(|_| state.refusals.count(Reason::RateLimited))?;
    state
        .edit_quota
        .check(client)
        .inspect_err(|_| state.refusals.count(Reason::EditQuota))?;
    let request = match &edited.snippet {
        Some(id) => {
            let snapshot = state.snapshot.load();
            let snippet = runnable_snippet(&snapshot, id)?;
            let mut request = run_request(&snapshot, snippet, Isolation::Process);
            if let Some(own) = request.blocks.last_mut() {
                own.session = session::starts_with_prompt(&edited.code);
                own.code = edited.code;
            }
            request
        }
        None => RunRequest {
            blocks: vec![Block {
                snippet_id: "edited".into(),
                filename: "edited example".into(),
                session: session::starts_with_prompt(&edited.code),
                code: edited.code,
                echo: false,
            }],
            timeout: Duration::from_secs_f64(state.config.run.timeout_s),
            isolation: Isolation::Process,
        },
    };
    let quota = state.edit_quota.clone();
    let charge = client.map(|client| {
        Box::new(move |cpu_s: f64| quota.charge(client, cpu_s)) as Box<dyn FnOnce(f64) + Send>
    });
    start(&state, request, charge)
}

fn too_large() -> ApiError {
    ApiError::TooLarge(format!(
        "the edited code is over {} KiB; shorten it",
        MAX_CODE_BYTES >> 10
    ))
}

/// CPU seconds each client's edited runs used in the current window.
pub struct EditQuota {
    seconds_per_window: f64,
    used: Mutex<HashMap<IpAddr, (Instant, f64)>>,
}

impl EditQuota {
    pub fn new(seconds_per_hour: f64) -> Arc<EditQuota> {
        Arc::new(EditQuota {
            seconds_per_window: seconds_per_hour,
            used: Mutex::new(HashMap::new()),
        })
    }

    /// Refuses a client whose runs used up the window's budget.
    fn check(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(client) = client else {
            return Ok(());
        };
        let mut used = self.used.lock().expect("edit quota lock");
        let now = Instant::now();
        used.retain(|_, (since, _)| now.duration_since(*since) < QUOTA_WINDOW);
        match used.get(&client) {
            Some((since, seconds)) if *seconds >= self.seconds_per_window => {
                let retry_after_s = QUOTA_WINDOW
                    .saturating_sub(now.duration_since(*since))
                    .as_secs()
                    .max(1);
                Err(ApiError::OverQuota {
                    message: format!(
                        "your edited runs used their {} CPU seconds for this hour; try again in {} min",
                        self.seconds_per_window,
                        retry_after_s.div_ceil(60)
                    ),
                    retry_after_s,
                })
            }
            _ => Ok(()),
        }
    }

    fn charge(&self, client: IpAddr, cpu_s: f64) {
        let mut used = self.used.lock().expect("edit quota lock");
        let entry = used.entry(client).or_insert((Instant::now(), 0.0));
        entry.1 += cpu_s;
    }
}
