//! Rich output over real HTTP: `display()` and the `_repr_*_` protocol,
//! matplotlib figures (shown by `plt.show()`, left open at the end, six
//! plotting runs at once), pandas tables, hostile HTML arriving clean, and a
//! display over the per-item limit left out with the server unharmed; in
//! thread mode and in process mode.
//!
//! matplotlib, pandas and Pillow come from a virtualenv the suite makes
//! itself (once, under the target folder) with the interpreter rundocs
//! embeds, through pip.
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use rundocs::config::{Config, EditAccess};
use rundocs::runtime::Isolation;
use serde_json::{json, Value};

use super::helpers::*;
use super::run::{output, read_events, run, snippet_id, Event};

/// The test virtualenv's `site-packages`, made on first use. Tests run in
/// processes of their own, so its making is serialised by a file lock.
fn rich_site_packages() -> PathBuf {
    static SITE: OnceLock<PathBuf> = OnceLock::new();
    SITE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&root).unwrap();
        let lock = std::fs::File::create(root.join("venv-rich.lock")).unwrap();
        let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .expect("the venv lock");
        let venv = root.join("venv-rich");
        let python = venv.join("bin/python");
        let done = venv.join("rundocs-complete");
        if !done.exists() {
            let _ = std::fs::remove_dir_all(&venv);
            let made = Command::new(rundocs::runtime::interpreter::BUILD_PYTHON)
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap();
            assert!(made.success(), "python -m venv failed");
            let installed = Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "matplotlib",
                    "pandas",
                    "pillow",
                ])
                .status()
                .unwrap();
            assert!(
                installed.success(),
                "pip install matplotlib pandas pillow failed"
            );
            std::fs::write(&done, "").unwrap();
        }
        let site = Command::new(&python)
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ])
            .output()
            .unwrap();
        PathBuf::from(String::from_utf8(site.stdout).unwrap().trim())
    })
    .clone()
}

fn rich_config(isolation: Isolation) -> impl FnOnce(&mut Config) {
    move |c| {
        c.venv_site_packages = Some(rich_site_packages());
        c.run.isolation = isolation;
        c.run.edit = EditAccess::Open;
        c.run.rate_limit_per_minute = 10_000;
    }
}

async fn rich_app(isolation: Isolation) -> TestApp {
    spawn_app_with(&fixture("display"), rich_config(isolation)).await
}

async fn run_named(app: &TestApp, name: &str) -> Vec<Event> {
    let id = snippet_id(app, "display", name).await;
    run(app, &id).await
}

/// The events' names in order, with consecutive text merged to its stream's name.
fn sequence(events: &[Event]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for event in events {
        let name = match event.name.as_str() {
            "stdout" | "stderr" => {
                format!("{}:{}", event.name, event.data["text"].as_str().unwrap())
            }
            "display" => format!(
                "display:{}",
                event.data["data"]["text/plain"].as_str().unwrap_or("")
            ),
            _ => continue,
        };
        match names.last_mut() {
            Some(last) if last.starts_with("stdout:") && name.starts_with("stdout:") => {
                last.push_str(&name["stdout:".len()..])
            }
            _ => names.push(name),
        }
    }
    names
}

fn displays(events: &[Event]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e.name == "display")
        .map(|e| &e.data)
        .collect()
}

fn end_status(events: &[Event]) -> &str {
    events.last().unwrap().data["status"].as_str().unwrap()
}

fn assert_png_figure(display: &Value, size: &str) {
    let data = &display["data"];
    assert_eq!(
        data["text/plain"],
        format!("<Figure size {size} with 1 Axes>"),
        "{display}"
    );
    let png = data["image/png"].as_str().expect("a PNG");
    assert!(
        png.starts_with("iVBORw0KGgo"),
        "base64 of a PNG: {}",
        &png[..20]
    );
    let width = display["metadata"]["image/png"]["width"].as_u64().unwrap();
    let expected: u64 = size.split('x').next().unwrap().parse().unwrap();
    // Drawn with a tight bounding box: near the figure's size, not exactly it.
    assert!(
        width > expected / 2 && width < expected * 2,
        "css width {width} for {size}"
    );
}

async fn a_figure_shows_where_plt_show_is_called(isolation: Isolation) {
    let app = rich_app(isolation).await;
    let events = run_named(&app, "show").await;
    assert_eq!(end_status(&events), "ok", "{:?}", sequence(&events));
    assert_eq!(
        sequence(&events),
        [
            "stdout:before\n",
            "display:<Figure size 640x480 with 1 Axes>",
            "stdout:after\n"
        ]
    );
    assert_png_figure(displays(&events)[0], "640x480");
    // Left open at the end: shown then.
    let events = run_named(&app, "left_open").await;
    assert_eq!(
        sequence(&events),
        [
            "stdout:drawn\n",
            "display:<Figure size 300x200 with 1 Axes>"
        ]
    );
}

#[tokio::test]
async fn a_figure_shows_where_plt_show_is_called_in_thread_mode() {
    a_figure_shows_where_plt_show_is_called(Isolation::Thread).await;
}

#[tokio::test]
async fn a_figure_shows_where_plt_show_is_called_in_process_mode() {
    a_figure_shows_where_plt_show_is_called(Isolation::Process).await;
}

async fn six_plotting_runs_each_get_their_own_figure(isolation: Isolation) {
    let app = rich_app(isolation).await;
    let runs = (1..=6).map(|n| {
        let app = &app;
        async move {
            // Each run draws a figure of its own width, in steps, while the
            // others draw theirs.
            let code = format!(
                "import time\nimport matplotlib.pyplot as plt\n\
                 fig = plt.figure(figsize=({n}, 2))\ntime.sleep(0.2)\n\
                 plt.plot([0, {n}])\ntime.sleep(0.2)\nprint(len(plt.get_fignums()))\nplt.show()\n"
            );
            let mut response = app
                .client
                .post(app.url("/api/run"))
                .json(&json!({ "code": code, "snippet": snippet_id(app, "display", "show").await }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            (n, read_events(&mut response, usize::MAX).await)
        }
    });
    for (n, events) in futures_util::future::join_all(runs).await {
        assert_eq!(
            end_status(&events),
            "ok",
            "run {n}: {:?}",
            sequence(&events)
        );
        assert_eq!(
            output(&events, "stdout"),
            "1\n",
            "run {n} saw only its own figure"
        );
        let shown = displays(&events);
        assert_eq!(shown.len(), 1, "run {n}: {:?}", sequence(&events));
        assert_png_figure(shown[0], &format!("{}x200", n * 100));
    }
}

#[tokio::test]
async fn six_plotting_runs_at_once_each_get_their_own_figure_in_thread_mode() {
    six_plotting_runs_each_get_their_own_figure(Isolation::Thread).await;
}

#[tokio::test]
async fn six_plotting_runs_at_once_each_get_their_own_figure_in_process_mode() {
    six_plotting_runs_each_get_their_own_figure(Isolation::Process).await;
}

#[tokio::test]
async fn a_dataframe_shows_as_a_table_and_echo_shows_the_last_value() {
    for isolation in [Isolation::Thread, Isolation::Process] {
        let app = rich_app(isolation).await;
        let events = run_named(&app, "table").await;
        assert_eq!(end_status(&events), "ok", "{:?}", sequence(&events));
        let shown = displays(&events);
        assert_eq!(shown.len(), 1, "{:?}", sequence(&events));
        let html = shown[0]["data"]["text/html"].as_str().unwrap();
        let table = scraper::Html::parse_fragment(html);
        let cells = texts(&table, "td");
        assert_eq!(cells, ["1", "3.5", "2", "4.5"], "{html}");
        assert_eq!(texts(&table, "thead th")[1..], ["n", "x"]);
        assert!(shown[0]["data"]["text/plain"]
            .as_str()
            .unwrap()
            .contains("3.5"));
    }
}

#[tokio::test]
async fn hostile_html_arrives_clean_and_javascript_never_arrives() {
    for isolation in [Isolation::Thread, Isolation::Process] {
        let app = rich_app(isolation).await;
        let events = run_named(&app, "hostile").await;
        assert_eq!(end_status(&events), "ok", "{:?}", sequence(&events));
        let shown = displays(&events);
        assert_eq!(shown.len(), 2, "{:?}", sequence(&events));
        let html = shown[0]["data"]["text/html"].as_str().unwrap();
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "evil.example",
            "<style",
            "onload",
        ] {
            assert!(!html.contains(bad), "{bad} reached the page: {html}");
        }
        assert!(html.contains("<b>kept</b>"), "{html}");
        let data = shown[1]["data"].as_object().unwrap();
        assert_eq!(
            data.keys().collect::<Vec<_>>(),
            ["text/plain"],
            "only the text of a JavaScript display is left"
        );
    }
}

#[tokio::test]
async fn a_display_over_the_item_limit_is_left_out_and_the_run_goes_on() {
    for isolation in [Isolation::Thread, Isolation::Process] {
        let app = rich_app(isolation).await;
        let events = run_named(&app, "huge").await;
        assert_eq!(end_status(&events), "ok", "{:?}", sequence(&events));
        assert!(displays(&events).is_empty());
        let stderr = output(&events, "stderr");
        assert!(
            stderr.contains("[rundocs: a display of 4.0 MiB was left out: over the limit of 512 KiB for one item]"),
            "{stderr}"
        );
        assert_eq!(output(&events, "stdout"), "still here\n");
        // And the server goes on serving runs.
        let events = run_named(&app, "show").await;
        assert_eq!(end_status(&events), "ok");
    }
}

#[tokio::test]
async fn displays_count_toward_the_output_limit() {
    let app = spawn_app_with(&fixture("display"), |c| {
        rich_config(Isolation::Thread)(c);
        c.run.output_limit_bytes = 64 << 10;
        c.run.display_limit_bytes = 64 << 10;
    })
    .await;
    let events = run_named(&app, "many").await;
    assert_eq!(
        end_status(&events),
        "output_limit",
        "{:?}",
        sequence(&events)
    );
    let shown = displays(&events).len();
    assert!(
        (1..20).contains(&shown),
        "{shown} displays of 10 KiB under a 64 KiB limit"
    );
}
