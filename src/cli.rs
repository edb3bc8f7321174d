//! The command line, as the contract fixes it: `audit`, `explain`, `checks`;
//! and the additions `completions` and `man`.
//!
//! Only parsing lives here; what each command does lives in its own module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "apigw-audit",
    version,
    about = "Finds why Amazon API Gateway private integrations fail (HTTP 500, 401, 403, 502, 503) before a customer does.",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More output: -v shows passing findings and progress, -vv debug logs, -vvv trace logs (credentials are never logged).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Quiet: no progress indicator and no log messages below errors (warnings the contract requires, such as unmatched suppressions, still print).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit every stage of one or more APIs, live or from a snapshot.
    Audit(Box<AuditArgs>),
    /// Explain an error a caller saw: what it means, its likely causes, and
    /// (with an API) the verdict of the checks that decide between them.
    Explain(Box<ExplainArgs>),
    /// Print the check catalogue and the error signatures `explain` knows.
    Checks(ChecksArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout.
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The HTTP status the caller got (e.g. 403).
    #[arg(long, value_name = "CODE")]
    pub status: Option<u16>,
    /// The x-amzn-errortype response header (e.g. MissingAuthenticationTokenException).
    #[arg(long = "error-type", value_name = "X_AMZN_ERRORTYPE")]
    pub error_type: Option<String>,
    /// The response body or message (e.g. "Missing Authentication Token").
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// A line from the stage's execution or access log.
    #[arg(long = "log-line", value_name = "TEXT")]
    pub log_line: Option<String>,
    /// The URL that failed; execute-api and custom domain URLs are resolved to API, stage and route.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The HTTP method of the failed request, for --url (default: any).
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// Read the stage's logs for this window (30m, 2h, 1d) and classify every error line.
    #[arg(long = "from-logs", value_name = "DURATION")]
    pub from_logs: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub output: ExplainFormat,
    /// The API to run the deciding checks on (otherwise taken from --url).
    #[arg(long = "api-id", value_name = "ID")]
    pub api_id: Option<String>,
    /// The stage (otherwise taken from --url; default: every stage).
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// Judge a saved snapshot instead of reading AWS.
    #[arg(long, value_name = "SNAPSHOT.json")]
    pub snapshot: Option<PathBuf>,
    /// Replace every stage variable value no check resolved for a verdict
    /// before judging and reporting.
    #[arg(long)]
    pub redact: bool,
    /// The lowest finding status that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Where to reach AWS; flags win over the environment, as in the AWS CLI.
#[derive(Debug, Clone, Args, Default)]
pub struct AwsArgs {
    /// AWS region (default: AWS_REGION, then the profile's region); `audit` takes it repeated for several.
    #[arg(long, value_name = "R")]
    pub region: Vec<String>,
    /// Named profile from the shared AWS config (default: AWS_PROFILE).
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (default: AWS_ENDPOINT_URL), e.g. a local emulator.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Give up on one attempt at an AWS call after this many seconds (each
    /// retry gets as long again; time spent waiting for the rate limit is not
    /// counted).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub call_timeout: f64,
    /// Attempts per AWS call, the first included (default: AWS_MAX_ATTEMPTS, else 3).
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Sarif,
    Junit,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    #[default]
    Fail,
    Warn,
    Never,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The API to audit (REST); repeat for several. Optional with --snapshot, where it filters.
    #[arg(long = "api-id", value_name = "ID")]
    pub api_id: Vec<String>,
    /// Audit every REST and HTTP API in the region(s).
    #[arg(long, conflicts_with = "api_id")]
    pub all_apis: bool,
    /// Audit every region enabled for the account (ec2:DescribeRegions) instead of --region.
    #[arg(long, conflicts_with = "snapshot")]
    pub all_regions: bool,
    /// Audit only this stage; repeat for several (default: every stage).
    #[arg(long, value_name = "NAME")]
    pub stage: Vec<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Write the report here instead of stdout (atomically: no half-written file).
    #[arg(long, value_name = "PATH")]
    pub out_file: Option<PathBuf>,
    /// The lowest finding status that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// Save everything read from AWS (and every failed call) to this snapshot file.
    #[arg(long, value_name = "SNAPSHOT.json", conflicts_with = "snapshot")]
    pub record: Option<PathBuf>,
    /// Audit a saved snapshot offline instead of reading AWS.
    #[arg(long, value_name = "SNAPSHOT.json")]
    pub snapshot: Option<PathBuf>,
    /// End the run's reads after this long (30s, 10m, 2h; 1s to 7d): reads
    /// still waiting or in flight then become error findings, and the
    /// report is written.
    #[arg(long, value_name = "DURATION", value_parser = parse_deadline)]
    pub deadline: Option<std::time::Duration>,
    /// Replace the values no verdict needs (every stage variable no check
    /// resolved for a verdict, such as a key passed on through
    /// requestParameters) before recording or reporting.
    #[arg(long)]
    pub redact: bool,
    /// Run only this check; repeat for several.
    #[arg(long = "check", value_name = "ID")]
    pub check: Vec<String>,
    /// Do not run this check; repeat for several.
    #[arg(long = "skip-check", value_name = "ID")]
    pub skip_check: Vec<String>,
    /// Suppressions file (default: apigw-audit.toml in the working directory, when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// An earlier JSON report: only findings new since it set the exit code and are shown.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// After the report, print on stderr (and add to the JSON under `stats`) the AWS calls per operation, retries, throttles, bytes and the critical-path depth.
    #[arg(long)]
    pub stats: bool,
    /// At most this many AWS calls in flight at once (default 16).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=512))]
    pub max_concurrency: Option<u16>,
    /// Override a client-side rate limit: SERVICE[:OPERATION]=RPS[/BURST] or =off; repeat for several (defaults: README).
    #[arg(long, value_name = "KEY=RPS[/BURST]")]
    pub rate_limit: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogueFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// Catalogue format.
    #[arg(long, value_enum, default_value_t = CatalogueFormat::Table)]
    pub output: CatalogueFormat,
}

/// `--deadline`: a duration like 30s, 10m or 2h, from one second to a week.
fn parse_deadline(s: &str) -> Result<std::time::Duration, String> {
    let secs = apigw_audit_checks::explain::parse_duration(s)?;
    if !(1..=7 * 86_400).contains(&secs) {
        return Err(format!("`{s}` is not between 1s and 7d"));
    }
    Ok(std::time::Duration::from_secs(secs))
}
