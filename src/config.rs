//! Configuration: defaults → config file → `RUNDOCS_*` environment → flags
//! (the command line turns its flags into overrides, in [`crate::cli`]).
//!
//! [`Config::load`] merges the layers with figment, then `RawConfig::validate`
//! checks every value once; the rest of the program receives a ready
//! [`Config`] and never re-checks it. Errors name the key, where it came from
//! and what is accepted.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::magic::RelativePathBuf;
use figment::Figment;
use serde::{Deserialize, Serialize};

pub use crate::access::{AccessConfig, AccessLevel, RawAccessConfig};
use crate::runtime::WorkerPriority;

/// The config file looked for in the current folder when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "rundocs.toml";

/// Longest per-run timeout an author or operator may set, in seconds.
pub const MAX_TIMEOUT_S: f64 = 3600.0;

/// Bounds of the run settings.
const MAX_WORKERS: usize = 1024;
const MAX_QUEUE: usize = 100_000;
const MIN_OUTPUT_LIMIT: usize = 1024;
/// Below this an example cannot even import the standard modules it needs.
const MIN_MEMORY_LIMIT: usize = 16 << 20;

/// Everything the operator can set, as read from the layers (not yet validated).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Folder of markdown files; `None` serves the write-ups bundled in the binary.
    content: Option<RelativePathBuf>,
    bind: String,
    watch: bool,
    drafts: bool,
    title: String,
    description: String,
    log: String,
    edit_url_template: Option<String>,
    base_path: String,
    drain_s: f64,
    python: RawPythonConfig,
    run: RunConfig,
    access: RawAccessConfig,
    wiki: WikiConfig,
}

/// `[wiki]`: pages edited in the browser, kept in the content folder's git
/// repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WikiConfig {
    /// Whether a save runs the page's examples first, and what a failure does.
    pub check_on_save: CheckOnSave,
    /// The largest page a save may write, in bytes.
    pub max_page_bytes: usize,
    /// The largest image the editor may upload into the content folder, in bytes.
    pub max_image_bytes: usize,
    /// A git remote (URL or name) the writer pushes to after each commit and
    /// every instance fetches from.
    pub remote: Option<String>,
    /// The branch followed on the remote.
    pub branch: String,
    /// Seconds between fetches from `remote` (0: only on `POST /api/sync`).
    pub sync_interval_s: f64,
    /// The secret `POST /api/sync` must carry (`Authorization: Bearer ...`).
    pub sync_secret: Option<String>,
    /// Whether this instance commits edits (and pushes them); the others
    /// only follow the remote.
    pub writer: bool,
}

impl Default for WikiConfig {
    fn default() -> Self {
        WikiConfig {
            check_on_save: CheckOnSave::Warn,
            max_page_bytes: 1 << 20,
            max_image_bytes: 5 << 20,
            remote: None,
            branch: "main".into(),
            sync_interval_s: 30.0,
            sync_secret: None,
            writer: true,
        }
    }
}

/// `wiki.check_on_save`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckOnSave {
    /// Run the page's examples; save anyway and say which failed.
    #[default]
    Warn,
    /// Run them; refuse the save while one fails.
    Block,
    /// Do not run them.
    Off,
}

/// The `[python]` section as read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPythonConfig {
    /// A virtualenv whose packages examples may import.
    venv: Option<RelativePathBuf>,
}

/// Settings for running examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Default time limit of one run, in seconds (a block's `timeout=` overrides it).
    pub timeout_s: f64,
    /// Worker threads that execute runs. The GIL lets one run execute Python
    /// at a time, but runs that sleep or wait on I/O overlap.
    pub workers: usize,
    /// Runs that may wait for a worker; beyond that a run is refused with 503.
    pub queue: usize,
    /// Most bytes of output one run may write before it is stopped.
    pub output_limit_bytes: usize,
    /// Most bytes one `display()` (a figure, a table) may take; a larger one
    /// is left out with a note, and the run goes on. Displays also count
    /// toward `output_limit_bytes`.
    pub display_limit_bytes: usize,
    /// Most bytes one run may allocate before allocations fail with
    /// `MemoryError`; 0 turns the limit off.
    pub memory_limit_bytes: usize,
    /// How worker threads compete with page requests for the CPU.
    pub worker_priority: WorkerPriority,
    /// Runs one client address may start per minute (all at once, at most).
    pub rate_limit_per_minute: u32,
    /// How authored snippets run: on the server's worker threads, or each in
    /// a sandboxed child process.
    pub isolation: Isolation,
    /// Who may run code they edited in the page (always in a child process).
    pub edit: EditAccess,
    /// The warm interpreter and its sandboxed children (`[run.process]`).
    pub process: ProcessConfig,
}

/// `run.isolation`: where authored snippets run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// In-process, on the runtime's worker threads (fastest).
    #[default]
    Thread,
    /// Each run in its own sandboxed process forked from a warm interpreter.
    Process,
}

/// `run.edit`: who may run code they changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EditAccess {
    /// Nobody: only the authored snippets run.
    #[default]
    Off,
    /// Signed-in users who may run (see `access.runners`).
    Restricted,
    /// Everyone who may run.
    Open,
}

impl EditAccess {
    pub fn name(self) -> &'static str {
        match self {
            EditAccess::Off => "off",
            EditAccess::Restricted => "restricted",
            EditAccess::Open => "open",
        }
    }
}

/// How strong a sandbox the children reached, weakest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxLevel {
    /// Resource limits only.
    None,
    /// Resource limits, no-new-privileges and the seccomp filter.
    Basic,
    /// Basic, plus Landlock (file system and TCP rules).
    Landlock,
    /// Landlock, plus user, mount, IPC, UTS and network namespaces.
    #[default]
    Full,
}

impl SandboxLevel {
    pub fn name(self) -> &'static str {
        match self {
            SandboxLevel::None => "none",
            SandboxLevel::Basic => "basic",
            SandboxLevel::Landlock => "landlock",
            SandboxLevel::Full => "full",
        }
    }
}

/// `[run.process]`: the warm interpreter and its children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProcessConfig {
    /// Children forked in advance, sandboxed and waiting for code.
    pub warm: usize,
    /// The warm interpreter is replaced after this many runs...
    pub recycle_after_runs: u64,
    /// ...or after this many seconds, whichever comes first.
    pub recycle_after_s: u64,
    /// Size of a child's private `/tmp`, its working directory.
    pub tmp_size_bytes: usize,
    /// Processes one run may have at once (its own included).
    pub max_processes: u32,
    /// Edited runs are refused (and start-up fails with editing on) when the
    /// host cannot give at least this sandbox.
    pub minimum_sandbox: SandboxLevel,
    /// CPU seconds of edited runs one client may use per hour.
    pub edit_cpu_seconds_per_hour: f64,
    /// Modules the warm interpreter imports once, so runs find them loaded.
    pub preload: Vec<String>,
    /// Also import every top-level package of the site's virtualenv.
    pub preload_venv: bool,
}

impl Default for ProcessConfig {
    fn default() -> Self {
        ProcessConfig {
            warm: 2,
            recycle_after_runs: 1000,
            recycle_after_s: 600,
            tmp_size_bytes: 64 << 20,
            max_processes: 32,
            minimum_sandbox: SandboxLevel::Full,
            edit_cpu_seconds_per_hour: 600.0,
            preload: Vec::new(),
            preload_venv: true,
        }
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            timeout_s: 10.0,
            workers: 8,
            queue: 64,
            output_limit_bytes: 1 << 20,
            display_limit_bytes: 512 << 10,
            memory_limit_bytes: 512 << 20,
            worker_priority: WorkerPriority::Idle,
            rate_limit_per_minute: 120,
            isolation: Isolation::Thread,
            edit: EditAccess::Off,
            process: ProcessConfig::default(),
        }
    }
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            content: None,
            bind: "127.0.0.1:8000".into(),
            watch: false,
            drafts: false,
            title: "rundocs".into(),
            description: "Write-ups whose Python examples run live.".into(),
            log: "info,actix_server=warn".into(),
            edit_url_template: None,
            base_path: String::new(),
            drain_s: 0.0,
            python: RawPythonConfig::default(),
            run: RunConfig::default(),
            access: RawAccessConfig::default(),
            wiki: WikiConfig::default(),
        }
    }
}

/// Where the markdown comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentSource {
    /// A folder on disk.
    Dir(PathBuf),
    /// The write-ups compiled into the binary.
    Bundled,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub content: ContentSource,
    pub bind: SocketAddr,
    pub watch: bool,
    pub drafts: bool,
    /// Site title shown in the header and the browser tab.
    pub title: String,
    /// One line about the site, shown on the index page.
    pub description: String,
    /// tracing filter, e.g. `info` or `rundocs=debug`.
    pub log: String,
    /// Link for "Edit this page", with `{path}` standing for the page's file
    /// relative to the content folder.
    pub edit_url_template: Option<String>,
    /// `site-packages` of the virtualenv examples import from, if any.
    pub venv_site_packages: Option<PathBuf>,
    /// Path the site is served under: `""` (the root) or e.g. `/docs`,
    /// with no trailing `/`.
    pub base_path: String,
    /// Seconds a stop (SIGTERM) lets runs in flight finish, refusing new
    /// ones and answering `/readyz` with 503, before it cancels the rest.
    pub drain_s: f64,
    pub run: RunConfig,
    pub access: AccessConfig,
    pub wiki: WikiConfig,
    /// The mkdocs project the content folder is, if it holds `mkdocs.yml`
    /// (then `content` is its `docs_dir`).
    pub mkdocs: Option<crate::content::mkdocs::MkdocsProject>,
    /// The `rundocs` binary process mode starts as its warm interpreter:
    /// this program itself, unless something embeds rundocs (a test binary
    /// does) and names the real one. Not a configuration key.
    pub zygote_program: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        RawConfig::default()
            .validate()
            .expect("the defaults are valid")
    }
}

/// The path every route of rundocs itself is under, below the base path;
/// content cannot take it (see `web::reserved`).
pub const INTERNAL_PREFIX: &str = "/_rundocs";

impl Config {
    /// Code nobody vetted may run: edited examples (`run.edit`), or the
    /// examples of a page being saved (`access.edit` with
    /// `wiki.check_on_save`). It runs in sandboxed processes only.
    pub fn runs_untrusted_code(&self) -> bool {
        self.run.edit != EditAccess::Off
            || (self.access.edit != EditAccess::Off && self.wiki.check_on_save != CheckOnSave::Off)
    }

    /// Where rundocs' own routes start: the base path and [`INTERNAL_PREFIX`].
    pub fn routes_base(&self) -> String {
        format!("{}{INTERNAL_PREFIX}", self.base_path)
    }

    /// Merges all layers and validates the result: the defaults, then
    /// `config_file` (or `rundocs.toml` in the current folder, if present),
    /// then the `RUNDOCS_*` environment, then `flags`: the settings given on
    /// the command line, serialized with the config's key names (keys left
    /// out keep the value of a lower layer).
    pub fn load(config_file: Option<&Path>, flags: &impl Serialize) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        match config_file {
            Some(path) => {
                if !path.is_file() {
                    bail!("config file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        figment = figment.merge(settings_from_environment());
        figment = figment.merge(Serialized::defaults(flags));
        let raw: RawConfig = figment
            .extract()
            .map_err(|error| anyhow::anyhow!(describe_figment_error(error)))
            .context("invalid configuration")?;
        raw.validate().context("invalid configuration")
    }
}

/// Top-level keys of the config; `RUNDOCS_<KEY>` (and `RUNDOCS_<KEY>__<SUBKEY>`) set them.
const KEYS: [&str; 14] = [
    "content",
    "bind",
    "watch",
    "drafts",
    "title",
    "description",
    "log",
    "edit_url_template",
    "base_path",
    "drain_s",
    "python",
    "run",
    "access",
    "wiki",
];

/// `RUNDOCS_*` variables that name a setting. Others are left out with a
/// warning: the environment is shared with other software, a file is not.
fn settings_from_environment() -> Env {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if let Some(key) = name.strip_prefix("RUNDOCS_") {
            let top = key
                .split("__")
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !KEYS.contains(&top.as_str()) {
                eprintln!("warning: ignoring environment variable {name}: rundocs has no setting `{top}` (settings: {})", KEYS.join(", "));
            }
        }
    }
    Env::prefixed("RUNDOCS_").split("__").filter(|key| {
        let top = key.as_str().split('.').next().unwrap_or_default();
        KEYS.iter().any(|known| known.eq_ignore_ascii_case(top))
    })
}

/// figment's errors already name the key and the source; collect all of them.
fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `site-packages` folder of the virtualenv at `venv`, which must have
/// been made with the Python rundocs embeds (same major.minor).
fn venv_site_packages(venv: &Path, setting: &str) -> anyhow::Result<PathBuf> {
    if !venv.join("pyvenv.cfg").is_file() {
        bail!(
            "{setting} = {} is not a virtualenv (it has no pyvenv.cfg); make one with `python3 -m venv DIR`",
            venv.display()
        );
    }
    let version = crate::runtime::BUILD_PYTHON_VERSION;
    let minor = version.rsplit_once('.').map_or(version, |(minor, _)| minor);
    let site_packages = venv.join(format!("lib/python{minor}/site-packages"));
    if !site_packages.is_dir() {
        bail!(
            "{setting} = {} has no lib/python{minor}/site-packages: it was made with another Python. \
             rundocs embeds Python {version}; make the virtualenv with python{minor} -m venv",
            venv.display()
        );
    }
    Ok(site_packages)
}

/// `docs`, `/docs` and `/docs/` all mean `/docs`; `/` and `""` mean the root.
fn normalize_base_path(raw: &str) -> anyhow::Result<String> {
    let trimmed = raw.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/".contains(c);
    if !trimmed.chars().all(allowed)
        || trimmed
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        bail!(
            "`base_path` = {raw:?} is not a URL path; use segments of letters, digits, `-`, `.`, `_` or `~`, e.g. /docs or /team/wiki"
        );
    }
    Ok(format!("/{trimmed}"))
}

impl RawConfig {
    /// Checks every value, in the order of the file's sections, and turns
    /// the raw settings into a [`Config`]. The first bad value is the error.
    fn validate(self) -> anyhow::Result<Config> {
        let bind = parse_bind(&self.bind)?;
        let mut content = content_source(self.content)?;
        let mkdocs = match &content {
            ContentSource::Dir(folder) => crate::content::mkdocs::find(folder)?,
            ContentSource::Bundled => None,
        };
        let mut title = self.title;
        let mut edit_url_template = self.edit_url_template;
        if let Some(project) = &mkdocs {
            content = ContentSource::Dir(project.docs_dir.clone());
            // The project's own name and edit link, unless rundocs' settings name others.
            if title == RawConfig::default().title {
                title = project.site_name.clone().unwrap_or(title);
            }
            edit_url_template = edit_url_template.or_else(|| project.edit_url_template.clone());
        }
        if self.watch && content == ContentSource::Bundled {
            bail!("`watch` needs a content folder: pass --content DIR (the bundled write-ups never change)");
        }
        self.run.validate()?;
        let venv_site_packages = python_site_packages(self.python.venv)?;
        check_edit_url_template(edit_url_template.as_deref())?;
        if title.trim().is_empty() {
            bail!("`title` is empty; give the site a name");
        }
        check_log_filter(&self.log)?;
        Ok(Config {
            content,
            bind,
            watch: self.watch,
            drafts: self.drafts,
            title,
            description: self.description,
            log: self.log,
            edit_url_template,
            mkdocs,
            venv_site_packages,
            zygote_program: None,
            base_path: normalize_base_path(&self.base_path)?,
            drain_s: drain_seconds(self.drain_s)?,
            run: self.run,
            access: self.access.validate()?,
            wiki: self.wiki.validated()?,
        })
    }
}

impl WikiConfig {
    fn validated(self) -> anyhow::Result<WikiConfig> {
        if self.max_page_bytes < 1024 {
            bail!("`wiki.max_page_bytes` must be at least 1024");
        }
        let served = crate::content::MAX_IMAGE_BYTES;
        if self.max_image_bytes < 1024 || self.max_image_bytes as u64 > served {
            bail!(
                "`wiki.max_image_bytes` = {} is out of range; use 1024 to {served} (the largest image the site serves)",
                self.max_image_bytes
            );
        }
        if !self.sync_interval_s.is_finite() || self.sync_interval_s < 0.0 {
            bail!("`wiki.sync_interval_s` must be 0 (only on POST /api/sync) or more");
        }
        if self.sync_secret.as_deref().is_some_and(|s| s.len() < 16) {
            bail!("`wiki.sync_secret` is shorter than 16 characters; use a long random one");
        }
        if self.branch.trim().is_empty() || self.branch.starts_with('-') {
            bail!("`wiki.branch` = {:?} is not a branch name", self.branch);
        }
        Ok(self)
    }
}

impl RunConfig {
    /// Every run setting within its bounds.
    fn validate(&self) -> anyhow::Result<()> {
        if !(self.timeout_s > 0.0 && self.timeout_s <= MAX_TIMEOUT_S) {
            bail!(
                "`run.timeout_s` = {} is out of range; use seconds greater than 0 and at most {MAX_TIMEOUT_S}",
                self.timeout_s
            );
        }
        if !(1..=MAX_WORKERS).contains(&self.workers) {
            bail!(
                "`run.workers` = {} is out of range; use 1 to {MAX_WORKERS}",
                self.workers
            );
        }
        if !(1..=MAX_QUEUE).contains(&self.queue) {
            bail!(
                "`run.queue` = {} is out of range; use 1 to {MAX_QUEUE}",
                self.queue
            );
        }
        if self.output_limit_bytes < MIN_OUTPUT_LIMIT {
            bail!(
                "`run.output_limit_bytes` = {} is too small; use at least {MIN_OUTPUT_LIMIT}",
                self.output_limit_bytes
            );
        }
        if self.display_limit_bytes < MIN_OUTPUT_LIMIT
            || self.display_limit_bytes > self.output_limit_bytes
        {
            bail!(
                "`run.display_limit_bytes` = {} is out of range; use {MIN_OUTPUT_LIMIT} to `run.output_limit_bytes` ({})",
                self.display_limit_bytes,
                self.output_limit_bytes
            );
        }
        if self.memory_limit_bytes != 0 && self.memory_limit_bytes < MIN_MEMORY_LIMIT {
            bail!(
                "`run.memory_limit_bytes` = {} is too small; use at least {MIN_MEMORY_LIMIT} (16 MiB), or 0 for no limit",
                self.memory_limit_bytes
            );
        }
        if self.rate_limit_per_minute == 0 {
            bail!("`run.rate_limit_per_minute` is 0, which would refuse every run; use 1 or more");
        }
        self.process.validate()
    }
}

impl ProcessConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if self.warm > MAX_WORKERS {
            bail!(
                "`run.process.warm` = {} is out of range; use 0 to {MAX_WORKERS}",
                self.warm
            );
        }
        if self.recycle_after_runs == 0 || self.recycle_after_s == 0 {
            bail!("`run.process.recycle_after_runs` and `recycle_after_s` must be 1 or more");
        }
        if self.tmp_size_bytes < 1 << 20 {
            bail!(
                "`run.process.tmp_size_bytes` = {} is too small; use at least 1048576 (1 MiB)",
                self.tmp_size_bytes
            );
        }
        if !(1..=4096).contains(&self.max_processes) {
            bail!(
                "`run.process.max_processes` = {} is out of range; use 1 to 4096",
                self.max_processes
            );
        }
        if self.edit_cpu_seconds_per_hour.is_nan() || self.edit_cpu_seconds_per_hour <= 0.0 {
            bail!("`run.process.edit_cpu_seconds_per_hour` must be more than 0");
        }
        if let Some(bad) = self
            .preload
            .iter()
            .find(|name| name.is_empty() || !name.split('.').all(is_identifier))
        {
            bail!("`run.process.preload` has {bad:?}, which is not a module name (e.g. `numpy` or `xml.etree`)");
        }
        Ok(())
    }
}

fn is_identifier(part: &str) -> bool {
    let mut chars = part.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// The `bind` address.
fn parse_bind(bind: &str) -> anyhow::Result<SocketAddr> {
    bind.parse().map_err(|_| {
        anyhow::anyhow!(
            "`bind` = {bind:?} is not an address; use IP:PORT, e.g. 127.0.0.1:8000 or [::1]:8000"
        )
    })
}

/// `drain_s`: between 0 (stop at once) and an hour.
fn drain_seconds(value: f64) -> anyhow::Result<f64> {
    if !(0.0..=3600.0).contains(&value) {
        bail!("`drain_s` = {value} is not between 0 and 3600 seconds");
    }
    Ok(value)
}

/// A `content` folder that exists, or the bundled write-ups when none is set.
fn content_source(content: Option<RelativePathBuf>) -> anyhow::Result<ContentSource> {
    let Some(path) = content else {
        return Ok(ContentSource::Bundled);
    };
    let path = path.relative();
    if !path.is_dir() {
        bail!(
            "`content` = {} is not a folder; point it at the folder holding your .md files",
            path.display()
        );
    }
    Ok(ContentSource::Dir(path))
}

/// The `site-packages` examples import from: `python.venv`'s, or else the
/// active virtualenv's when it fits.
fn python_site_packages(venv: Option<RelativePathBuf>) -> anyhow::Result<Option<PathBuf>> {
    match venv {
        Some(venv) => venv_site_packages(&venv.relative(), "`python.venv`").map(Some),
        // An active virtualenv is used when it fits, and otherwise only
        // warned about: it may belong to something else in this shell.
        None => Ok(std::env::var_os("VIRTUAL_ENV")
            .filter(|v| !v.is_empty())
            .and_then(|venv| {
                venv_site_packages(Path::new(&venv), "VIRTUAL_ENV")
                    .map_err(|error| eprintln!("warning: not using the active virtualenv: {error}"))
                    .ok()
            })),
    }
}

/// An `edit_url_template`, if set, says where the page's file goes.
fn check_edit_url_template(template: Option<&str>) -> anyhow::Result<()> {
    if let Some(template) = template {
        if !template.contains("{path}") {
            bail!(
                "`edit_url_template` = {template:?} has no `{{path}}`; write where the page's file goes, \
                 e.g. \"https://git.example.com/docs/edit/main/{{path}}\""
            );
        }
    }
    Ok(())
}

/// `log` is a filter tracing understands.
fn check_log_filter(log: &str) -> anyhow::Result<()> {
    tracing_subscriber::EnvFilter::try_new(log).map_err(|e| {
        anyhow::anyhow!(
            "`log` = {log:?} is not a log filter ({e}); use a level such as error, warn, info, debug, trace"
        )
    })?;
    Ok(())
}
