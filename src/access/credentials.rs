//! Telling who a request comes from: proxy header, basic auth or bearer token.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};

use actix_web::http::header::{HeaderMap, HeaderName, AUTHORIZATION};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

use super::slots::VerificationSlots;
use super::AccessConfig;

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Anonymous,
    /// A user, token or proxy-authenticated name.
    Known(String),
}

impl Identity {
    pub fn is_known(&self) -> bool {
        matches!(self, Identity::Known(_))
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Identity::Known(name) => Some(name),
            Identity::Anonymous => None,
        }
    }
}

/// Credentials that were presented and are not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("{0}")]
    BadCredentials(String),
    /// The proxy header came from an address that is not a trusted proxy.
    #[error("the {header} header came from {peer}, which is not in `access.trusted_proxies`; only a trusted reverse proxy may name the user")]
    UntrustedProxy { header: String, peer: String },
    /// Every verification slot is taken: try again in a moment.
    #[error("too many sign-ins are being checked at once; try again in a moment")]
    Busy,
}

/// Most verified `Authorization` values remembered at once.
const REMEMBERED_CREDENTIALS: usize = 1024;

/// The access settings, with a memory of credentials already verified.
pub struct Gate {
    pub config: AccessConfig,
    /// SHA-256 of an `Authorization` value → the name it proved.
    verified: Mutex<HashMap<[u8; 32], String>>,
    /// Password checks running now, one per core at most.
    slots: VerificationSlots,
    unknown_user_hash: OnceLock<String>,
}

impl Gate {
    pub fn new(config: AccessConfig) -> Gate {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Gate {
            config,
            verified: Mutex::new(HashMap::new()),
            slots: VerificationSlots::new(cores),
            unknown_user_hash: OnceLock::new(),
        }
    }

    /// Who sent `headers` from `peer`, when telling needs no password check:
    /// no `Authorization`, or one already verified. `None` means
    /// [`Gate::identify`] must verify one, which is slow.
    pub fn identify_quickly(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Option<Result<Identity, Denied>> {
        if let Some(header) = &self.config.proxy_user_header {
            if let Some(value) = headers.get(header) {
                match self.proxy_user(header, value.as_bytes(), peer) {
                    // An empty header names nobody: credentials may still.
                    Ok(Identity::Anonymous) => {}
                    named_or_refused => return Some(named_or_refused),
                }
            }
        }
        let Some(authorization) = headers.get(AUTHORIZATION) else {
            return Some(Ok(Identity::Anonymous));
        };
        self.remembered(&digest(authorization.as_bytes()))
            .map(|name| Ok(Identity::Known(name)))
    }

    /// Who sent `headers` from `peer`. Verifying a new password or token is
    /// slow (argon2, by design): call this off the async threads. At most one
    /// check per core runs at once; others wait their turn, for a while
    /// ([`VerificationSlots`]), then get [`Denied::Busy`].
    pub fn identify(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<Identity, Denied> {
        if let Some(known) = self.identify_quickly(headers, peer) {
            return known;
        }
        let authorization = headers
            .get(AUTHORIZATION)
            .expect("identify_quickly answers requests without Authorization");
        let _slot = self.slots.take().ok_or(Denied::Busy)?;
        let value = authorization.to_str().unwrap_or_default();
        let name = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => self.basic(rest.trim())?,
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
                self.bearer(rest.trim())?
            }
            _ => {
                return Err(Denied::BadCredentials(
                    "the Authorization header is neither Basic nor Bearer; sign in with a user name and password, or send `Authorization: Bearer TOKEN`".into(),
                ))
            }
        };
        self.remember(digest(authorization.as_bytes()), &name);
        Ok(Identity::Known(name))
    }

    /// The user a proxy header names, if the proxy is trusted.
    fn proxy_user(
        &self,
        header: &HeaderName,
        value: &[u8],
        peer: Option<IpAddr>,
    ) -> Result<Identity, Denied> {
        if !peer.is_some_and(|p| self.config.trusted_proxies.contains(&p)) {
            return Err(Denied::UntrustedProxy {
                header: header.to_string(),
                peer: peer.map_or("an unknown address".into(), |p| p.to_string()),
            });
        }
        let name = std::str::from_utf8(value).map_err(|_| {
            Denied::BadCredentials(format!("the {header} header is not UTF-8 text"))
        })?;
        Ok(match name.trim() {
            "" => Identity::Anonymous,
            name => Identity::Known(name.to_string()),
        })
    }

    fn basic(&self, encoded: &str) -> Result<String, Denied> {
        let wrong = || Denied::BadCredentials("wrong user name or password".into());
        let decoded = Base64::decode_vec(encoded).map_err(|_| wrong())?;
        let decoded = String::from_utf8(decoded).map_err(|_| wrong())?;
        let (user, password) = decoded.split_once(':').ok_or_else(wrong)?;
        match self.config.users.get(user) {
            Some(hash) if verify(password, hash) => Ok(user.to_string()),
            Some(_) => Err(wrong()),
            None => {
                // As slow as a known name, so timing does not tell names apart.
                verify(password, self.unknown_user_hash());
                Err(wrong())
            }
        }
    }

    fn bearer(&self, token: &str) -> Result<String, Denied> {
        self.config
            .tokens
            .iter()
            .find(|(_, hash)| verify(token, hash))
            .map(|(name, _)| name.clone())
            .ok_or_else(|| {
                Denied::BadCredentials("the token matches none of `access.tokens`".into())
            })
    }

    /// A hash no password matches, checked for names that have none, made
    /// with the cost settings of a configured user's hash so that it takes
    /// as long to check.
    fn unknown_user_hash(&self) -> &str {
        self.unknown_user_hash.get_or_init(|| {
            let params = self
                .config
                .users
                .values()
                .find_map(|hash| argon2::Params::try_from(&PasswordHash::new(hash).ok()?).ok())
                .unwrap_or_default();
            Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password(b"no user has this hash")
                .map(|hash| hash.to_string())
                .unwrap_or_default()
        })
    }

    fn remembered(&self, key: &[u8; 32]) -> Option<String> {
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn remember(&self, key: [u8; 32], name: &str) {
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= REMEMBERED_CREDENTIALS {
            verified.clear();
        }
        verified.insert(key, name.to_string());
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn verify(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &hash)
            .is_ok()
    })
}

/// Checks that `hash` is an argon2 PHC string.
pub(super) fn check_hash(hash: &str) -> anyhow::Result<()> {
    let parsed = PasswordHash::new(hash).map_err(|e| anyhow::anyhow!("{e}"))?;
    if !parsed.algorithm.as_str().starts_with("argon2") {
        anyhow::bail!("its algorithm is {}, not argon2", parsed.algorithm);
    }
    Ok(())
}

/// The argon2id PHC string to store for `secret`, with a random salt.
pub fn hash_secret(secret: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the secret: {e}"))
}
