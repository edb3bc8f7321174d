//! apigw-audit: finds why Amazon API Gateway private integrations fail.
//!
//! `main` only parses flags, runs the command and maps its outcome to the
//! contract's exit codes (0 clean, 1 findings, 2 bad invocation or input,
//! 3 audit incomplete; 130 interrupted). Everything else lives in the modules: `collect`
//! reads AWS into a snapshot, the `apigw-audit-checks` crate judges it,
//! `report` renders it.

mod audit;
mod baseline;
mod cli;
mod clock;
mod collect;
mod error;
mod explain;
mod live;
mod output;
mod report;
mod suppress;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use cli::{Cli, Command};
use error::Fatal;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    if let Command::Audit(args) = &cli.command
        && args.snapshot.is_none()
    {
        collect::aws::load_roots_ahead();
    }
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
        Command::Audit(args) => {
            runtime.block_on(interruptible(audit::run(*args, cli.verbose, cli.quiet)))
        }
        Command::Explain(args) => runtime.block_on(interruptible(explain::run(*args))),
        Command::Checks(args) => audit::catalogue(&args),
        Command::Completions(args) => audit::completions(args.shell),
        Command::Man => audit::man(),
    };
    // Calls still in flight after an interrupt are abandoned, not awaited.
    runtime.shutdown_background();
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(fatal) => {
            eprintln!("apigw-audit: {}", fatal.message());
            ExitCode::from(fatal.exit_code())
        }
    }
}

/// Runs a command until it ends or the user interrupts it (Ctrl-C, or
/// SIGTERM from a scheduler). On an interrupt the command's future is
/// dropped at once, which deletes its half-written temporary files, and the
/// exit code is 130 (128 + SIGINT), as shells report it.
async fn interruptible(
    command: impl std::future::Future<Output = Result<u8, Fatal>>,
) -> Result<u8, Fatal> {
    tokio::select! {
        outcome = command => outcome,
        () = interrupted() => Err(Fatal::Interrupted),
    }
}

async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            // Without signal handling the default action (exit) stays.
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
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
