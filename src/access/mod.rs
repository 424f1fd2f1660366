//! Who may read the site and who may run its examples.
//!
//! Reading and running are each `open` or `restricted` (`[access]` in the
//! config). A restricted action needs an identity, which comes from one of:
//!
//! - HTTP basic auth against `access.users` (name → argon2 hash of the password);
//! - `Authorization: Bearer` against `access.tokens` (name → argon2 hash of the token);
//! - a header set by a trusted reverse proxy (`access.proxy_user_header`),
//!   believed only from the addresses in `access.trusted_proxies`.
//!
//! Secrets are stored only as argon2 hashes (`rundocs hash-password` makes
//! one). Verifying a hash takes tens of milliseconds by design, so a verified
//! `Authorization` value is remembered (by its SHA-256) in [`Gate`].
mod credentials;
mod slots;

use std::collections::BTreeMap;
use std::net::IpAddr;

use actix_web::http::header::HeaderName;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

pub use credentials::{hash_secret, Denied, Gate, Identity};

/// Whether an action needs an identity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    #[default]
    Open,
    Restricted,
}

/// The `[access]` section as read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAccessConfig {
    read: AccessLevel,
    run: AccessLevel,
    users: BTreeMap<String, String>,
    tokens: BTreeMap<String, String>,
    proxy_user_header: Option<String>,
    trusted_proxies: Vec<String>,
    runners: Vec<String>,
    edit: crate::config::EditAccess,
    editors: Vec<String>,
}

impl Default for RawAccessConfig {
    fn default() -> Self {
        RawAccessConfig {
            read: AccessLevel::Open,
            run: AccessLevel::Open,
            users: BTreeMap::new(),
            tokens: BTreeMap::new(),
            proxy_user_header: None,
            trusted_proxies: Vec::new(),
            runners: Vec::new(),
            edit: crate::config::EditAccess::Off,
            editors: Vec::new(),
        }
    }
}

/// The validated `[access]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessConfig {
    pub read: AccessLevel,
    /// Never more open than `read`: a reader who cannot see a page cannot run it.
    pub run: AccessLevel,
    /// User name → argon2 PHC string of the password.
    pub users: BTreeMap<String, String>,
    /// Token name → argon2 PHC string of the token.
    pub tokens: BTreeMap<String, String>,
    pub proxy_user_header: Option<HeaderName>,
    /// Peers whose proxy header and `X-Forwarded-For` are believed (none
    /// unless configured: a proxy that passes a client's own headers on
    /// would otherwise let it choose its name and address).
    pub trusted_proxies: Vec<IpAddr>,
    /// Who may run when runs are restricted; empty means every signed-in user.
    pub runners: Vec<String>,
    /// Who may edit pages in the browser.
    pub edit: crate::config::EditAccess,
    /// Who may edit when editing is restricted; empty means every signed-in user.
    pub editors: Vec<String>,
}

impl Default for AccessConfig {
    fn default() -> Self {
        RawAccessConfig::default()
            .validate()
            .expect("the defaults are valid")
    }
}

impl RawAccessConfig {
    pub fn validate(self) -> anyhow::Result<AccessConfig> {
        for (table, entries) in [("users", &self.users), ("tokens", &self.tokens)] {
            for (name, hash) in entries {
                if name.is_empty() || name.contains(':') {
                    bail!("`access.{table}` has the name {name:?}; names must be non-empty and have no `:`");
                }
                credentials::check_hash(hash).with_context(|| {
                    format!(
                        "`access.{table}.{name}` is not an argon2 hash; store the output of \
                         `rundocs hash-password`, never the secret itself"
                    )
                })?;
            }
        }
        let proxy_user_header = self
            .proxy_user_header
            .map(|name| {
                HeaderName::try_from(name.as_str()).map_err(|_| {
                    anyhow::anyhow!(
                        "`access.proxy_user_header` = {name:?} is not a header name; use e.g. X-Forwarded-User"
                    )
                })
            })
            .transpose()?;
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|address| {
                address.trim().parse::<IpAddr>().map_err(|_| {
                    anyhow::anyhow!(
                        "`access.trusted_proxies` has {address:?}, which is not an IP address; list the proxies' addresses, e.g. [\"127.0.0.1\", \"::1\"]"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let run = if self.read == AccessLevel::Restricted {
            AccessLevel::Restricted
        } else {
            self.run
        };
        let has_a_way_in =
            !self.users.is_empty() || !self.tokens.is_empty() || proxy_user_header.is_some();
        if (self.read == AccessLevel::Restricted || run == AccessLevel::Restricted) && !has_a_way_in
        {
            bail!(
                "`access` restricts {} but lets nobody in; add `access.users` (basic auth), \
                 `access.tokens` (bearer tokens) or `access.proxy_user_header` (a trusted reverse proxy)",
                if self.read == AccessLevel::Restricted { "reading" } else { "running" }
            );
        }
        if proxy_user_header.is_some() && trusted_proxies.is_empty() {
            bail!("`access.proxy_user_header` is set but `access.trusted_proxies` is empty; list the addresses of the proxies that set the header, e.g. [\"127.0.0.1\"]");
        }
        if !self.runners.is_empty() && run == AccessLevel::Open {
            bail!("`access.runners` lists who may run, but `access.run` is open; set `access.run = \"restricted\"` or remove `access.runners`");
        }
        use crate::config::EditAccess;
        if self.edit == EditAccess::Restricted && !has_a_way_in {
            bail!(
                "`access.edit` is restricted but nobody can sign in; add `access.users`, \
                 `access.tokens` or `access.proxy_user_header`, or set `access.edit = \"open\"`"
            );
        }
        if !self.editors.is_empty() && self.edit != EditAccess::Restricted {
            bail!("`access.editors` lists who may edit, but `access.edit` is not restricted; set `access.edit = \"restricted\"` or remove `access.editors`");
        }
        if self.edit != EditAccess::Off
            && self.read == AccessLevel::Restricted
            && self.edit == EditAccess::Open
        {
            bail!("`access.edit` is open but reading is restricted; editors must be able to read: set `access.edit = \"restricted\"`");
        }
        Ok(AccessConfig {
            edit: self.edit,
            editors: self.editors,
            read: self.read,
            run,
            users: self.users,
            tokens: self.tokens,
            proxy_user_header,
            trusted_proxies,
            runners: self.runners,
        })
    }
}

impl AccessConfig {
    /// Nothing is restricted and nobody signs in: requests skip the gate.
    pub fn is_wide_open(&self) -> bool {
        self.read == AccessLevel::Open
            && self.run == AccessLevel::Open
            && self.users.is_empty()
            && self.tokens.is_empty()
            && self.proxy_user_header.is_none()
    }

    pub fn may_read(&self, identity: &Identity) -> bool {
        self.read == AccessLevel::Open || identity.is_known()
    }

    pub fn may_run(&self, identity: &Identity) -> bool {
        match (self.run, identity.name()) {
            (AccessLevel::Open, _) => true,
            (AccessLevel::Restricted, None) => false,
            (AccessLevel::Restricted, Some(name)) => {
                self.runners.is_empty() || self.runners.iter().any(|r| r == name)
            }
        }
    }

    /// Whether `identity` may run code it edited, under `run.edit = edit`:
    /// never when it is off; when restricted, signed-in runners only.
    pub fn may_run_edited(&self, edit: crate::config::EditAccess, identity: &Identity) -> bool {
        use crate::config::EditAccess;
        match edit {
            EditAccess::Off => false,
            EditAccess::Restricted => identity.is_known() && self.may_run(identity),
            EditAccess::Open => self.may_run(identity),
        }
    }

    /// Whether `identity` may edit pages.
    pub fn may_edit(&self, identity: &Identity) -> bool {
        use crate::config::EditAccess;
        match (self.edit, identity.name()) {
            (EditAccess::Off, _) => false,
            (EditAccess::Open, _) => self.may_read(identity),
            (EditAccess::Restricted, None) => false,
            (EditAccess::Restricted, Some(name)) => {
                self.editors.is_empty() || self.editors.iter().any(|e| e == name)
            }
        }
    }

    /// Browsers can sign in here with their own password dialog.
    pub fn has_basic_auth(&self) -> bool {
        !self.users.is_empty()
    }

    /// The address a request comes from: the peer, or, when the peer is a
    /// trusted proxy, the last address it put in `X-Forwarded-For`.
    pub fn client_address(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: Option<&str>,
    ) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        forwarded_for
            .and_then(|list| list.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok())
            .or(Some(peer))
    }
}

#[cfg(test)]
mod tests;
