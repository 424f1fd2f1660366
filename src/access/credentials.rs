//! Telling who a request comes from: proxy header, basic auth or bearer token.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

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
}

/// Most verified `Authorization` values remembered at once.
const REMEMBERED_CREDENTIALS: usize = 1024;

/// The access settings, with a memory of credentials already verified.
pub struct Gate {
    pub config: AccessConfig,
    /// SHA-256 of an `Authorization` value → the name it proved.
    verified: Mutex<HashMap<[u8; 32], String>>,
}

impl Gate {
    pub fn new(config: AccessConfig) -> Gate {
        Gate {
            config,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// Telling who sent `headers` needs no password verification: they
    /// carry no `Authorization`, or one already verified.
    pub fn is_quick(&self, headers: &HeaderMap) -> bool {
        headers.get(AUTHORIZATION).is_none_or(|value| {
            let key: [u8; 32] = Sha256::digest(value.as_bytes()).into();
            self.remembered(&key).is_some()
        })
    }

    /// Who sent a request with these headers from `peer`. Verifying a new
    /// password or token is slow (argon2): call this off the async threads.
    pub fn identify(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<Identity, Denied> {
        if let Some(header) = &self.config.proxy_user_header {
            if let Some(value) = headers.get(header) {
                let trusted = peer.is_some_and(|p| self.config.trusted_proxies.contains(&p));
                if !trusted {
                    return Err(Denied::UntrustedProxy {
                        header: header.to_string(),
                        peer: peer.map_or("an unknown address".into(), |p| p.to_string()),
                    });
                }
                let name = value.to_str().unwrap_or_default().trim();
                if !name.is_empty() {
                    return Ok(Identity::Known(name.to_string()));
                }
            }
        }
        let Some(authorization) = headers.get(AUTHORIZATION) else {
            return Ok(Identity::Anonymous);
        };
        let key: [u8; 32] = Sha256::digest(authorization.as_bytes()).into();
        if let Some(name) = self.remembered(&key) {
            return Ok(Identity::Known(name));
        }
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
        self.remember(key, &name);
        Ok(Identity::Known(name))
    }

    fn basic(&self, encoded: &str) -> Result<String, Denied> {
        let wrong = || Denied::BadCredentials("wrong user name or password".into());
        let decoded = Base64::decode_vec(encoded).map_err(|_| wrong())?;
        let decoded = String::from_utf8(decoded).map_err(|_| wrong())?;
        let (user, password) = decoded.split_once(':').ok_or_else(wrong)?;
        let hash = self.config.users.get(user).ok_or_else(wrong)?;
        if verify(password, hash) {
            Ok(user.to_string())
        } else {
            Err(wrong())
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
