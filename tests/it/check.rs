//! `rundocs check`: the bundled content passes, wrong expectations fail with a diff.
use std::process::Command;

use super::helpers::fixture;

fn check(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rundocs"))
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn the_bundled_write_ups_pass() {
    let (success, text) = check(&[]);
    assert!(success, "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.ends_with("passed, 0 failed"), "{text}");
    assert!(!last.starts_with("0 passed"), "{text}");
}

#[test]
fn exact_ellipsis_expect_error_and_chains_pass() {
    let content = fixture("check-pass");
    let (success, text) = check(&["--content", content.to_str().unwrap()]);
    assert!(success, "{text}");
    assert!(text.ends_with("5 passed, 0 failed\n"), "{text}");
}

#[test]
fn wrong_output_fails_with_a_unified_diff_and_a_non_zero_exit() {
    let content = fixture("check-fail");
    let (success, text) = check(&["--content", content.to_str().unwrap()]);
    assert!(!success, "{text}");
    assert!(text.ends_with("1 passed, 3 failed\n"), "{text}");
    assert!(text.contains("FAIL  /examples block 2"), "{text}");
    assert!(text.contains("--- expected output"), "{text}");
    assert!(text.contains("-expected line"), "{text}");
    assert!(text.contains("+actual line"), "{text}");
    assert!(text.contains("expected ok, got error"), "{text}");
    assert!(text.contains("KeyError"), "{text}");
    assert!(
        text.contains("expected an exception (expect=error), got ok"),
        "{text}"
    );
}

#[test]
fn page_filter_and_unknown_page() {
    let content = fixture("check-pass");
    let (success, text) = check(&[
        "--content",
        content.to_str().unwrap(),
        "--page",
        "/examples",
    ]);
    assert!(success && text.ends_with("5 passed, 0 failed\n"), "{text}");
    let (success, text) = check(&["--content", content.to_str().unwrap(), "--page", "nope"]);
    assert!(!success);
    assert!(text.contains("no page /nope"), "{text}");
}

#[test]
fn broken_content_fails_the_check_naming_the_file() {
    let content = fixture("broken");
    let (success, text) = check(&["--content", content.to_str().unwrap()]);
    assert!(!success);
    assert!(text.contains("FAIL  bad-toml.md:3"), "{text}");
    assert!(text.contains("1 passed, 3 failed"), "{text}");
}
