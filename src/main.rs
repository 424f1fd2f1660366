//! The `rundocs` command: parse the command line, start logging, run.
//! On failure print the whole error chain and exit non-zero.
use std::process::ExitCode;

use clap::Parser;
use rundocs::cli::{Cli, Command};

fn check(args: rundocs::cli::CheckArgs) -> ExitCode {
    let result = args.as_serve_args().load_config().and_then(|config| {
        rundocs::check::run(
            &config,
            args.page.as_deref(),
            args.record,
            &mut std::io::stdout(),
        )
    });
    match result {
        Ok((_, 0)) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => report(&error),
    }
}

fn init(dir: &std::path::Path) -> anyhow::Result<()> {
    let written = rundocs::init::run(dir)?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    if rundocs::init::make_repository(dir, &written)? {
        println!(
            "made {} a git repository with these files as its first commit",
            dir.display()
        );
    }
    let dir = dir.display();
    println!("\nServe it:  rundocs serve --content {dir} --watch\nCheck it:  rundocs check --content {dir}");
    Ok(())
}

/// `rundocs hash-password`: the secret never appears in the shell's history
/// or the process list.
fn hash_password() -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal};
    let secret = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password or token: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the two entries differ; nothing was hashed");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    anyhow::ensure!(
        !secret.is_empty(),
        "the secret is empty; type a password or token"
    );
    println!("{}", rundocs::access::hash_secret(&secret)?);
    Ok(())
}

fn report(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::FAILURE
}

/// `rundocs --version`: prints the version line; fails when it warns that
/// the libpython loaded is not the one rundocs was built against.
fn version(shown: &clap::Error) -> ExitCode {
    let _ = shown.print();
    match rundocs::runtime::python_mismatch_warning() {
        Some(_) => ExitCode::FAILURE,
        None => ExitCode::SUCCESS,
    }
}

fn main() -> ExitCode {
    // Process mode's warm interpreter: the server starts its own binary so.
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() == Some(std::ffi::OsStr::new("__zygote")) {
        let site_packages = args.next().map(|a| a.to_string_lossy().into_owned());
        return rundocs::runtime::process::entry::main(site_packages);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if error.kind() == clap::error::ErrorKind::DisplayVersion => {
            return version(&error)
        }
        Err(error) => error.exit(),
    };
    let result = match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => rundocs::app::serve_from_args(args),
        Command::Check(args) => return check(args),
        Command::Init(args) => init(&args.dir),
        Command::HashPassword => hash_password(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&error),
    }
}
