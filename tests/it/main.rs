//! Integration tests: the real app on a free port, real HTTP, fixture content.
//! See tests/README.md for how to add a case.
mod access;
mod assets;
mod base_path;
mod check;
mod cli;
mod display;
mod fidelity;
mod guards;
mod helpers;
mod hostile;
mod isolation;
mod like_python;
mod markdown_extensions;
mod problems;
mod process;
mod requests;
mod run;
mod sandbox;
mod search;
mod security;
mod site;
mod snippets;
mod watch;
