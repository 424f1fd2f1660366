//! Who may start a run: same-site browsers (or non-browser clients), within
//! a per-client rate.
//!
//! A run is a POST that costs CPU, so a page on another site must not be able
//! to make a visitor's browser start one. Browsers say where a request comes
//! from in `Sec-Fetch-Site` (modern) and `Origin`; a request with neither is
//! not from a web page (curl, scripts) and is allowed.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::header;
use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::error::ApiError;

/// Refuses requests that a browser marks as coming from another site.
pub fn reject_cross_site(request: &HttpRequest) -> Result<(), ApiError> {
    let text = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(ApiError::Forbidden(format!(
                "runs can only be started from this site's own pages (Sec-Fetch-Site: {other})"
            ))),
        };
    }
    let Some(origin) = text(header::ORIGIN.as_str()) else {
        return Ok(());
    };
    let origin_host = origin.split_once("://").map(|(_, host)| host).unwrap_or("");
    let own_hosts = [text("x-forwarded-host"), text(header::HOST.as_str())];
    if !origin_host.is_empty()
        && own_hosts
            .iter()
            .flatten()
            .any(|host| host.eq_ignore_ascii_case(origin_host))
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "runs can only be started from this site's own pages (Origin: {origin})"
        )))
    }
}

/// Runs per client address, as a token bucket.
pub struct RunRateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

/// Every this many checks, clients with a full allowance are forgotten.
const PRUNE_EVERY: u64 = 1024;

impl RunRateLimit {
    /// `per_minute` runs per client per minute, all of which may come at once.
    pub fn new(per_minute: NonZeroU32) -> RunRateLimit {
        RunRateLimit {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one run from `client`'s allowance.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(client) = client else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            // Keeps memory bounded by the clients seen lately.
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(&client) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let retry_after_s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::TooManyRuns {
                    retry_after_s: retry_after_s.max(1),
                })
            }
        }
    }
}

/// The key a client's allowances are counted under: its IPv4 address, or
/// the /64 network of its IPv6 address (one subscriber holds a whole /64,
/// and would otherwise get a new allowance per address).
pub fn rate_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(network))
            }
        },
    }
}

#[cfg(test)]
mod rate_key_tests {
    use super::rate_key;

    #[test]
    fn ipv6_clients_share_their_64_and_ipv4_stays_itself() {
        let key = |text: &str| rate_key(text.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }
}
