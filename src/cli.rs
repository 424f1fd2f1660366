//! The command line. Flags are only overrides: [`ServeArgs::load_config`]
//! turns the flags given into [`FlagOverrides`], which [`crate::config`]
//! merges over the defaults, the config file and the environment.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::config::Config;

/// Serve a folder of markdown write-ups whose Python examples run live.
#[derive(Debug, Parser)]
#[command(
    name = "rundocs",
    version = crate::runtime::version_line(),
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// `rundocs` alone is `rundocs serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (the default when no subcommand is given).
    Serve(ServeArgs),
    /// Run every example and compare it with its `output` block.
    Check(CheckArgs),
    /// Start a new site in DIR: a config file and a page with runnable examples.
    Init(InitArgs),
    /// Hash a password or token for `access.users` / `access.tokens`: reads
    /// it from the terminal (or one line of standard input), prints the hash.
    HashPassword,
}

/// Arguments of `rundocs init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Folder for the new site (created if missing; existing files are never overwritten)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Flags of `rundocs check`.
#[derive(Debug, Default, Clone, Args)]
pub struct CheckArgs {
    /// Folder of markdown files to check [default: the bundled write-ups]
    #[arg(long, value_name = "DIR")]
    pub content: Option<PathBuf>,

    /// Only the examples of this page (its URL path, e.g. guide/setup)
    #[arg(long, value_name = "PATH")]
    pub page: Option<String>,

    /// Config file [default: rundocs.toml in the current folder, if present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Include pages marked `draft = true`
    #[arg(long)]
    pub drafts: bool,

    /// Write what each example prints (and the images it displays) into its
    /// `output` block instead of comparing
    #[arg(long)]
    pub record: bool,
}

impl CheckArgs {
    /// The settings shared with `serve`, for loading the config.
    pub fn as_serve_args(&self) -> ServeArgs {
        ServeArgs {
            content: self.content.clone(),
            config: self.config.clone(),
            drafts: self.drafts,
            ..ServeArgs::default()
        }
    }
}

/// Flags of `rundocs serve`. Each one left out keeps the value from the
/// config file, the environment or the defaults.
#[derive(Debug, Default, Clone, Args)]
pub struct ServeArgs {
    /// Folder of markdown files to serve [default: the bundled write-ups]
    #[arg(long, value_name = "DIR")]
    pub content: Option<PathBuf>,

    /// Address to listen on, e.g. 127.0.0.1:8000 (port 0 picks a free port)
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// Config file [default: rundocs.toml in the current folder, if present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Rebuild pages when content changes and reload open pages
    #[arg(long)]
    pub watch: bool,

    /// Show pages marked `draft = true`
    #[arg(long)]
    pub drafts: bool,

    /// Serve the site under this path, e.g. /docs behind a reverse proxy
    #[arg(long, value_name = "PATH")]
    pub base_path: Option<String>,
}

impl ServeArgs {
    /// The configuration: the config file these flags name (or the default
    /// one), the environment, and the flags given on top.
    pub fn load_config(&self) -> anyhow::Result<Config> {
        Config::load(self.config.as_deref(), &FlagOverrides::from(self))
    }
}

/// Only the flags that were given, under the config's key names, so absent
/// flags do not override lower layers.
#[derive(Debug, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bind: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    watch: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    drafts: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_path: Option<String>,
}

impl From<&ServeArgs> for FlagOverrides {
    fn from(args: &ServeArgs) -> Self {
        FlagOverrides {
            content: args.content.clone(),
            bind: args.bind.clone(),
            watch: args.watch,
            drafts: args.drafts,
            base_path: args.base_path.clone(),
        }
    }
}
