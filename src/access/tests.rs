use std::net::IpAddr;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use super::*;

fn raw(toml_text: &str) -> RawAccessConfig {
    toml::from_str(toml_text).expect("valid toml")
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::try_from(*name).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64ct::Base64::encode_string(format!("{user}:{password}").as_bytes())
    )
}

use base64ct::Encoding;

#[test]
fn restricting_without_a_way_in_is_refused_with_the_keys_to_set() {
    let error = raw("read = \"restricted\"")
        .validate()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("access.users") && error.contains("proxy_user_header"),
        "{error}"
    );
}

#[test]
fn a_plain_password_in_the_config_is_refused() {
    let error = format!(
        "{:#}",
        raw("run = \"restricted\"\nusers = { alice = \"hunter2\" }")
            .validate()
            .unwrap_err()
    );
    assert!(
        error.contains("access.users.alice") && error.contains("hash-password"),
        "{error}"
    );
}

#[test]
fn restricted_reading_restricts_running_too() {
    let config = raw("read = \"restricted\"\nproxy_user_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"127.0.0.1\"]")
        .validate()
        .unwrap();
    assert_eq!(config.run, AccessLevel::Restricted);
    assert!(!config.may_run(&Identity::Anonymous));
    assert!(config.may_run(&Identity::Known("ann".into())));
}

#[test]
fn nothing_is_trusted_unless_configured() {
    let config = AccessConfig::default();
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    assert_eq!(
        config.client_address(Some(loopback), Some("198.51.100.4")),
        Some(loopback)
    );
    let error = raw("proxy_user_header = \"X-User\"")
        .validate()
        .unwrap_err()
        .to_string();
    assert!(error.contains("access.trusted_proxies"), "{error}");
}

#[test]
fn runners_limit_who_may_run() {
    let config = raw("run = \"restricted\"\nproxy_user_header = \"X-User\"\ntrusted_proxies = [\"::1\"]\nrunners = [\"ann\"]")
        .validate()
        .unwrap();
    assert!(config.may_read(&Identity::Anonymous));
    assert!(config.may_run(&Identity::Known("ann".into())));
    assert!(!config.may_run(&Identity::Known("bob".into())));
}

#[test]
fn basic_auth_and_tokens_are_checked_against_their_hashes() {
    let password_hash = hash_secret("correct horse").unwrap();
    let token_hash = hash_secret("t0ken").unwrap();
    let config = raw(&format!(
        "run = \"restricted\"\nusers = {{ alice = \"{password_hash}\" }}\ntokens = {{ ci = \"{token_hash}\" }}"
    ))
    .validate()
    .unwrap();
    let gate = Gate::new(config);
    let ask = |value: &str| gate.identify(&headers(&[("authorization", value)]), None);
    assert_eq!(
        ask(&basic("alice", "correct horse")),
        Ok(Identity::Known("alice".into()))
    );
    // Remembered the second time; still the same answer.
    assert_eq!(
        ask(&basic("alice", "correct horse")),
        Ok(Identity::Known("alice".into()))
    );
    assert!(matches!(
        ask(&basic("alice", "wrong")),
        Err(Denied::BadCredentials(_))
    ));
    assert!(matches!(
        ask(&basic("mallory", "correct horse")),
        Err(Denied::BadCredentials(_))
    ));
    assert_eq!(ask("Bearer t0ken"), Ok(Identity::Known("ci".into())));
    assert!(matches!(ask("Bearer nope"), Err(Denied::BadCredentials(_))));
    assert!(matches!(ask("Digest x"), Err(Denied::BadCredentials(_))));
    assert_eq!(
        gate.identify(&HeaderMap::new(), None),
        Ok(Identity::Anonymous)
    );
    assert!(headers(&[]).get(AUTHORIZATION).is_none());
}

#[test]
fn the_proxy_header_is_believed_only_from_trusted_proxies() {
    let config = raw("read = \"restricted\"\nproxy_user_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"10.0.0.2\"]")
        .validate()
        .unwrap();
    let gate = Gate::new(config);
    let request = headers(&[("x-forwarded-user", "ann")]);
    let proxy: IpAddr = "10.0.0.2".parse().unwrap();
    let stranger: IpAddr = "10.0.0.9".parse().unwrap();
    assert_eq!(
        gate.identify(&request, Some(proxy)),
        Ok(Identity::Known("ann".into()))
    );
    assert!(matches!(
        gate.identify(&request, Some(stranger)),
        Err(Denied::UntrustedProxy { .. })
    ));
}

#[test]
fn the_client_address_behind_a_trusted_proxy_is_the_last_forwarded_one() {
    let config = raw("trusted_proxies = [\"127.0.0.1\"]").validate().unwrap();
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    let other: IpAddr = "192.0.2.7".parse().unwrap();
    assert_eq!(
        config.client_address(Some(loopback), Some("203.0.113.1, 198.51.100.4")),
        Some("198.51.100.4".parse().unwrap())
    );
    assert_eq!(
        config.client_address(Some(other), Some("198.51.100.4")),
        Some(other)
    );
    assert_eq!(
        config.client_address(Some(loopback), Some("garbage")),
        Some(loopback)
    );
}
