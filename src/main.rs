//! apigw-audit: finds why Amazon API Gateway private integrations fail.
//!
//! `main` only parses flags, runs the command and maps its outcome to the
//! contract's exit codes (0 clean, 1 findings, 2 bad invocation or input,
//! 3 audit incomplete). Everything else lives in the modules: `collect`
//! reads AWS into a snapshot, the `apigw-audit-checks` crate judges it,
//! `report` renders it.

mod audit;
mod baseline;
mod cli;
mod collect;
mod explain;
mod output;
mod report;
mod suppress;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use cli::{Cli, Command};

/// Why a command stopped before it could report.
#[derive(Debug)]
pub enum Fatal {
    /// Bad flags or input: nothing was audited (exit 2).
    Usage(String),
    /// The audit could not run at all (exit 3).
    Incomplete(String),
}

impl Fatal {
    fn exit_code(&self) -> u8 {
        match self {
            Fatal::Usage(_) => 2,
            Fatal::Incomplete(_) => 3,
        }
    }

    fn message(&self) -> &str {
        match self {
            Fatal::Usage(m) | Fatal::Incomplete(m) => m,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    init_logging(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("apigw-audit: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let outcome = match cli.command {
        Command::Audit(args) => runtime.block_on(audit::run(*args, cli.verbose, cli.quiet)),
        Command::Explain(args) => runtime.block_on(explain::run(*args)),
        Command::Checks(args) => audit::catalogue(&args),
        Command::Completions(args) => audit::completions(args.shell),
        Command::Man => audit::man(),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(fatal) => {
            eprintln!("apigw-audit: {}", fatal.message());
            ExitCode::from(fatal.exit_code())
        }
    }
}

/// Help and version go to stdout with exit 0; any other parse error is one
/// line on stderr and exit 2.
fn clap_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("apigw-audit: {first} (see apigw-audit --help)");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr. Only this crate's own events get more verbose with
/// `-v`: the SDK's and the HTTP stack's debug output can carry signed
/// headers and tokens, so they stay at `warn` at every verbosity.
fn init_logging(verbose: u8, quiet: bool) {
    let own = match verbose {
        _ if quiet => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let others = if quiet { "error" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::new(format!("{others},apigw_audit={own}"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
