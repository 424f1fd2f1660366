//! Requests refused, counted by reason, for `/metrics`: what an operator
//! watches to see readers locked out, floods, or a site too busy to run.
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// 401: no accepted credentials where signing in is needed.
    SignIn,
    /// 403: signed in without the right, or a proxy header from an untrusted peer.
    Forbidden,
    /// 503: too many password checks at once.
    SignInBusy,
    /// 403: a run started from another site's page.
    CrossSite,
    /// 429: a client over its run rate.
    RateLimited,
    /// 503: the run queue is full.
    QueueFull,
    /// 403: edited code from a sender `run.edit` does not allow.
    EditNotAllowed,
    /// 429: a client over its CPU time for edited runs.
    EditQuota,
}

impl Reason {
    const ALL: [Reason; 8] = [
        Reason::SignIn,
        Reason::Forbidden,
        Reason::SignInBusy,
        Reason::CrossSite,
        Reason::RateLimited,
        Reason::QueueFull,
        Reason::EditNotAllowed,
        Reason::EditQuota,
    ];

    fn label(self) -> &'static str {
        match self {
            Reason::SignIn => "sign_in",
            Reason::Forbidden => "forbidden",
            Reason::SignInBusy => "sign_in_busy",
            Reason::CrossSite => "cross_site",
            Reason::RateLimited => "rate_limited",
            Reason::QueueFull => "queue_full",
            Reason::EditNotAllowed => "edit_not_allowed",
            Reason::EditQuota => "edit_quota",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// The counters and the registry they are shown from.
pub struct Refusals {
    registry: Registry,
    counts: Family<ReasonLabel, Counter>,
}

impl Refusals {
    pub fn new() -> Refusals {
        let mut registry = Registry::with_prefix("rundocs");
        let counts = Family::<ReasonLabel, Counter>::default();
        registry.register("refusals", "Requests refused, by reason", counts.clone());
        for reason in Reason::ALL {
            // Every reason shows, at 0, before its first refusal.
            let _ = counts.get_or_create(&ReasonLabel {
                reason: reason.label(),
            });
        }
        Refusals { registry, counts }
    }

    pub fn count(&self, reason: Reason) {
        self.counts
            .get_or_create(&ReasonLabel {
                reason: reason.label(),
            })
            .inc();
    }

    /// Appends the counters in the text format (without its `# EOF`).
    pub fn encode(&self, text: &mut String) {
        prometheus_client::encoding::text::encode_registry(text, &self.registry)
            .expect("writing to a String cannot fail");
    }
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals::new()
    }
}
