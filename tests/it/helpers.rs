//! Starting the app for a test and reading what it serves.
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rundocs::app::Stopper;
use rundocs::config::{Config, ContentSource};
use scraper::{Html, Selector};

/// A running app on 127.0.0.1 with a free port; stops when dropped.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    stopper: Stopper,
}

impl TestApp {
    /// Stops the app as SIGTERM would (draining first).
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let stopper = self.stopper.clone();
        tokio::spawn(async move { stopper.stop().await });
    }
}

/// Path of a fixture folder under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Starts the app on `content` with the default config changed by `adjust`.
pub async fn spawn_app_with(content: &Path, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config {
        content: ContentSource::Dir(content.to_path_buf()),
        bind: "127.0.0.1:0".parse().unwrap(),
        zygote_program: Some(env!("CARGO_BIN_EXE_rundocs").into()),
        ..Config::default()
    };
    adjust(&mut config);
    start(config).await
}

/// Starts the app on `folder` as `rundocs serve --content FOLDER` reads it
/// (an mkdocs project's `mkdocs.yml` included).
pub async fn spawn_folder(folder: &Path) -> TestApp {
    let flags = serde_json::json!({ "content": folder, "bind": "127.0.0.1:0" });
    let mut config = Config::load(None, &flags).expect("the folder is valid content");
    config.zygote_program = Some(env!("CARGO_BIN_EXE_rundocs").into());
    start(config).await
}

async fn start(config: Config) -> TestApp {
    let app = rundocs::app::start(config).await.expect("the app starts");
    let base = format!("http://{}", app.addr);
    let stopper = app.stopper();
    tokio::spawn(app.run());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        client,
        stopper,
    }
}

/// A copy of fixture `name` at `to`, made a git repository with its files
/// as the first commit (as `rundocs init` makes one).
pub fn git_copy_of_fixture(name: &str, to: &Path) {
    copy_dir(&fixture(name), to);
    let files: Vec<PathBuf> = walkdir::WalkDir::new(to)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_path_buf())
        .collect();
    assert!(rundocs::init::make_repository(to, &files).unwrap());
}

/// Copies the folder `from` into `to`, for tests that change content.
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub async fn spawn_app(content: &Path) -> TestApp {
    spawn_app_with(content, |_| {}).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the request completes")
    }

    /// GET `path`, expecting `status`, parsed as HTML.
    pub async fn page(&self, path: &str, status: u16) -> Html {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        Html::parse_document(&response.text().await.unwrap())
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }
}

/// Texts of the elements matching `selector`, whitespace-trimmed.
pub fn texts(html: &Html, selector: &str) -> Vec<String> {
    let selector = Selector::parse(selector).unwrap();
    html.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

/// Values of `attribute` on the elements matching `selector`.
pub fn attributes(html: &Html, selector: &str, attribute: &str) -> Vec<String> {
    let selector = Selector::parse(selector).unwrap();
    html.select(&selector)
        .filter_map(|e| e.value().attr(attribute).map(str::to_string))
        .collect()
}

/// Retries `check` until it returns `Some` or `within` passes.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
