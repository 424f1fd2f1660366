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

#[test]
fn record_writes_outputs_and_images_into_the_page_and_then_it_passes() {
    let dir = tempfile::tempdir().unwrap();
    super::helpers::copy_dir(&fixture("check-record"), dir.path());
    let content = dir.path().to_str().unwrap();
    let page = dir.path().join("guide/page.md");
    let before = std::fs::read_to_string(&page).unwrap();

    let (success, text) = check(&["--content", content, "--record"]);
    assert!(!success, "the failing example still fails: {text}");
    assert!(
        text.contains("wrote 4 output block(s) in guide/page.md"),
        "{text}"
    );
    assert!(text.ends_with("4 passed, 1 failed\n"), "{text}");
    let after = std::fs::read_to_string(&page).unwrap();
    assert!(
        after.contains("print(\"fresh\")\n```\n\n```output\nfresh\n```\n"),
        "{after}"
    );
    assert!(after.contains("```output\nnew text\n```"), "{after}");
    assert!(!after.contains("old text"), "{after}");
    assert!(
        after.contains("```output\nbefore\n![<a dot>](page.outputs/block-3-1.png)\nafter\n```"),
        "{after}"
    );
    assert!(
        after.contains("    ```output\n    indented\n    ```\n"),
        "{after}"
    );
    assert!(
        after.contains("```output\nkept\n```"),
        "a failing example's block stays: {after}"
    );
    let image = std::fs::read(dir.path().join("guide/page.outputs/block-3-1.png")).unwrap();
    assert!(image.starts_with(b"\x89PNG"));
    // The rest of the file is as it was: only output blocks were added or changed.
    let without_outputs = |text: &str| -> String {
        let mut kept = String::new();
        let mut in_output = false;
        for line in text.lines() {
            let fence = line.trim_start().starts_with("```");
            if fence && line.trim_start() == "```output" {
                in_output = true;
            } else if fence && in_output {
                in_output = false;
            } else if !in_output && !line.is_empty() {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        kept
    };
    assert_eq!(without_outputs(&before), without_outputs(&after));

    // Recording again changes nothing, and the recorded outputs now pass.
    let (_, text) = check(&["--content", content, "--record"]);
    assert!(
        text.contains("recorded: 0 output block(s) changed"),
        "{text}"
    );
    let (success, text) = check(&["--content", content, "--page", "guide/page"]);
    assert!(!success);
    assert!(text.ends_with("4 passed, 1 failed\n"), "{text}");
}

#[tokio::test]
async fn a_recorded_image_shows_in_the_page_for_readers_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    super::helpers::copy_dir(&fixture("check-record"), dir.path());
    let (_, text) = check(&["--content", dir.path().to_str().unwrap(), "--record"]);
    assert!(text.contains("wrote 4"), "{text}");
    std::fs::write(dir.path().join("guide/notes.txt"), "not served").unwrap();
    let app = super::helpers::spawn_app(dir.path()).await;
    let page = app.page("/guide/page", 200).await;
    let sources = super::helpers::attributes(&page, ".recorded-output img.recorded-image", "src");
    assert_eq!(sources, ["/guide/page.outputs/block-3-1.png"]);
    let alts = super::helpers::attributes(&page, ".recorded-output img.recorded-image", "alt");
    assert_eq!(alts, ["<a dot>"]);
    let image = app.get(&sources[0]).await;
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // Only images are served from the content folder, never its other files.
    assert_eq!(app.get("/guide/notes.txt").await.status(), 404);
}

#[test]
fn record_refuses_the_bundled_write_ups() {
    let (success, text) = check(&["--record"]);
    assert!(!success);
    assert!(
        text.contains("--record writes into the content folder"),
        "{text}"
    );
}
