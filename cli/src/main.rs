//! `tdm`: evaluate therapeutic drug monitoring samples of oral kinase
//! inhibitors against a versioned rule pack.

mod batch;
mod diff_cmd;
mod eval_cmd;
mod exit;
mod gen_cmd;
mod init_cmd;
mod output;
mod report;
mod schema_cmd;
mod serve;
mod show_cmd;
mod stats_cmd;
mod test_cmd;
mod validate_cmd;
mod watch_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::Exit;

// Evaluation allocates many small strings (rationale, warnings, echoed
// fields); mimalloc halves their cost against the system allocator
// (README, "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Therapeutic drug monitoring of oral kinase inhibitors, rules as data.
#[derive(Parser)]
#[command(name = "tdm", version)]
#[command(
    after_help = "Exit codes: 0 all ok; 1 some records erred or test cases failed; \
2 usage error; 3 pack refused; 4 input unreadable; 5 output could not be written."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate one sample (from flags) or a batch (JSON array, NDJSON, CSV).
    Eval(Box<EvalArgs>),
    /// Run the test cases of one or more packs (tests/*.yaml in each pack).
    Test(TestArgs),
    /// Check one or more packs and report every problem with file, line and column.
    Validate(ValidateArgs),
    /// Write the JSON Schemas (draft-07) of pack files, samples and results.
    Schema(SchemaArgs),
    /// For pack authors: re-validate, re-test and re-evaluate samples on every change.
    Watch(WatchArgs),
    /// Serve evaluations over HTTP, reloading the pack when it changes.
    Serve(ServeArgs),
    /// Write a report per patient: the concentration–time chart, every sample, the latest advice.
    Report(ReportArgs),
    /// Write N deterministic, realistic samples over every drug of a pack (for benchmarks).
    GenSamples(GenArgs),
    /// What changed between two pack versions, in clinical terms (exit 0 same, 1 different, 2 error).
    Diff(DiffArgs),
    /// Thresholds as a percentage of the population mean exposure (Figure 2 of the review).
    Stats(StatsArgs),
    /// What a pack is: identity, history, drugs; `--resolved` prints what a pack that extends another resolves to.
    Show(ShowArgs),
    /// Start a local pack on a published one: manifest, an example override, a test case.
    Init(InitArgs),
}

/// Arguments of `tdm init`.
#[derive(Args)]
pub(crate) struct InitArgs {
    /// The directory of the new pack (created; must not hold a pack.yaml).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The published pack it extends.
    #[arg(long, value_name = "PACK")]
    pub extends: PathBuf,
}

/// Arguments of `tdm show`.
#[derive(Args)]
pub(crate) struct ShowArgs {
    /// The pack directory.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// Print the resolved files, each stretch of lines with the file it came from (base or overlay).
    #[arg(long)]
    pub resolved: bool,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}

/// Arguments of `tdm stats`.
#[derive(Args)]
pub(crate) struct StatsArgs {
    /// The pack directory.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// `human` (a table and the summary) or `json`.
    #[arg(long, value_enum, default_value_t = StatsFormat::Human)]
    pub format: StatsFormat,
    /// Also write the figure as an SVG bar chart.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}

/// Formats of `tdm stats`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatsFormat {
    /// A table and the summary line.
    Human,
    /// The rows and figures as JSON.
    Json,
}

/// Arguments of `tdm diff`.
#[derive(Args)]
pub(crate) struct DiffArgs {
    /// The old pack: a directory, or a directory at a git revision (`rules/ki-oncology@v1.0.0`).
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new pack, as OLD.
    #[arg(value_name = "NEW")]
    pub new: String,
    /// `human` (default; colour on a terminal), `markdown` (for a committee document) or `json`.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Evaluate these samples against both packs and list every one whose
    /// classification, advice or next dose changes.
    #[arg(long, value_name = "FILE")]
    pub samples: Option<String>,
    /// Load the native plugins the packs pin.
    #[arg(long)]
    pub allow_plugins: bool,
}

/// Formats of `tdm diff`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// Text for a reviewer.
    Human,
    /// Markdown tables for a committee document.
    Markdown,
    /// JSON for tooling.
    Json,
}

/// Arguments of `tdm gen-samples`.
#[derive(Args)]
pub(crate) struct GenArgs {
    /// The pack whose drugs, targets and dose levels the samples follow.
    #[arg(long, value_name = "DIR", default_value = "rules/ki-oncology")]
    pub pack: PathBuf,
    /// How many samples.
    #[arg(long)]
    pub n: u64,
    /// Seed: the same seed gives the same samples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InputFormatArg::Ndjson)]
    pub format: InputFormatArg,
    /// Share of deliberately bad records (unknown drug, bad unit, negative or text value).
    #[arg(long, default_value_t = 0.02)]
    pub bad_fraction: f64,
}

/// Arguments of `tdm report`.
#[derive(Args)]
pub(crate) struct ReportArgs {
    /// The rule pack directory.
    #[arg(long, value_name = "DIR")]
    pub pack: PathBuf,
    /// Directory to write one report per patient into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// `html` (self-contained, prints on A4) or `md` (for a health record).
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
    /// Samples of one or more patients, each with `patient` and `sampled_at` (JSON, NDJSON or CSV).
    #[arg(value_name = "FILE")]
    pub file: String,
}

/// Report formats.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// One self-contained HTML page per patient.
    Html,
    /// Markdown per patient.
    Md,
}

/// Arguments of `tdm watch`.
#[derive(Args)]
pub(crate) struct WatchArgs {
    /// The pack directory.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// Samples to re-evaluate on every change (JSON, NDJSON or CSV).
    #[arg(long, value_name = "FILE")]
    pub samples: Option<String>,
    /// Poll every MS milliseconds instead of using file-system events (network file systems).
    #[arg(long, value_name = "MS")]
    pub poll: Option<u64>,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}

/// Arguments of `tdm serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The pack directory.
    #[arg(long, value_name = "DIR")]
    pub pack: PathBuf,
    /// Address to listen on. A non-loopback address needs --token-file.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub addr: String,
    /// File holding the bearer token every request must carry.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub max_body: usize,
    /// Seconds a request may take before it is answered 503.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Poll every MS milliseconds instead of using file-system events.
    #[arg(long, value_name = "MS")]
    pub poll: Option<u64>,
    /// Log sample ids (never values or patients) with each request.
    #[arg(long)]
    pub log_ids: bool,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}

/// Arguments of `tdm validate`.
#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// Pack directories.
    #[arg(value_name = "PACK", required = true)]
    pub packs: Vec<PathBuf>,
    /// How problems are printed: `human` (snippets, on standard error),
    /// `plain` (one line each, on standard output), `json` (for tools, on standard output).
    #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    /// The previous version of the pack (a directory or `DIR@REV`): flags
    /// content changed under the same version, a version that went down,
    /// and a major clinical change under a patch-level bump.
    #[arg(long, value_name = "OLD_PACK")]
    pub against: Option<String>,
}

/// Arguments of `tdm schema`.
#[derive(Args)]
pub(crate) struct SchemaArgs {
    /// Directory to write the schemas into.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub out: PathBuf,
}

/// Renderings of pack problems.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ErrorFormat {
    /// Snippets with a caret and help lines.
    Human,
    /// `file:line:column: message`, one per line.
    Plain,
    /// A JSON object per pack with every problem.
    Json,
}

/// Arguments of `tdm eval`.
#[derive(Args)]
pub(crate) struct EvalArgs {
    /// The rule pack directory.
    #[arg(long, value_name = "DIR")]
    pub pack: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Input format when reading standard input or a file without a known extension.
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormatArg>,
    /// Do not print the summary line on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// Load the native plugins the pack pins (their sha256 is checked first).
    #[arg(long)]
    pub allow_plugins: bool,
    /// Threads that evaluate a batch (default: one per core). The output is
    /// in input order whatever the number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Batch input file (`-` for standard input). Omit it to give one sample with the flags below.
    #[arg(value_name = "FILE", conflicts_with = "drug")]
    pub file: Option<String>,
    #[command(flatten)]
    pub sample: SampleFlags,
}

/// One sample given as flags; the names follow the input contract.
#[derive(Args, Default)]
pub(crate) struct SampleFlags {
    /// Drug INN or alias.
    #[arg(long, help_heading = "One sample")]
    pub drug: Option<String>,
    /// The parent drug's measured value.
    #[arg(long, help_heading = "One sample", allow_negative_numbers = true)]
    pub value: Option<f64>,
    /// Unit of the value and of every metabolite (e.g. ng/mL, mg/L, nmol/L).
    #[arg(long, help_heading = "One sample")]
    pub unit: Option<String>,
    /// Sample id, echoed in the result.
    #[arg(long, help_heading = "One sample")]
    pub id: Option<String>,
    /// Patient id, echoed in the result.
    #[arg(long, help_heading = "One sample")]
    pub patient: Option<String>,
    /// Indication (e.g. CML, GIST); selects the target.
    #[arg(long, help_heading = "One sample")]
    pub indication: Option<String>,
    /// Regimen (e.g. intermittent, continuous); selects the target.
    #[arg(long, help_heading = "One sample")]
    pub regimen: Option<String>,
    /// `concentration` (default) or `auc`.
    #[arg(long, help_heading = "One sample")]
    pub measure: Option<String>,
    /// A metabolite value in the same unit, as NAME=VALUE (repeatable).
    #[arg(
        long = "metabolite",
        value_name = "NAME=VALUE",
        help_heading = "One sample"
    )]
    pub metabolites: Vec<String>,
    /// Current dose per administration, mg.
    #[arg(long, help_heading = "One sample", allow_negative_numbers = true)]
    pub dose_mg: Option<f64>,
    /// Dosing interval, hours (default from the pack).
    #[arg(long, help_heading = "One sample", allow_negative_numbers = true)]
    pub interval_h: Option<f64>,
    /// Hours from the last dose to sampling.
    #[arg(long, help_heading = "One sample", allow_negative_numbers = true)]
    pub hours_since_dose: Option<f64>,
    /// Days on the current dose.
    #[arg(long, help_heading = "One sample", allow_negative_numbers = true)]
    pub days_on_dose: Option<f64>,
    /// Worst current CTCAE toxicity grade, 0–5.
    #[arg(long, help_heading = "One sample", allow_negative_numbers = true)]
    pub toxicity_grade: Option<f64>,
    /// Another field a drug's script reads, as NAME=VALUE (repeatable), e.g. normotensive=true.
    #[arg(long = "field", value_name = "NAME=VALUE", help_heading = "One sample")]
    pub fields: Vec<String>,
}

/// Arguments of `tdm test`.
#[derive(Args)]
pub(crate) struct TestArgs {
    /// Pack directories.
    #[arg(value_name = "PACK", required = true)]
    pub packs: Vec<PathBuf>,
    /// Print every case, not only failures.
    #[arg(long, short)]
    pub verbose: bool,
    /// Load the native plugins the packs pin (their sha256 is checked first).
    #[arg(long)]
    pub allow_plugins: bool,
    /// `human` (default) or `json` (for tooling: every case with its outcome).
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
}

/// Output formats of `tdm test`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TestFormat {
    /// Failures (and with `-v` every case) for people.
    Human,
    /// One JSON document: packs, cases, outcomes.
    Json,
}

/// Output formats of `tdm eval`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// A readable table with the rationale under each row.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// One CSV row per result, flattened.
    Csv,
}

/// Input formats of `tdm eval`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InputFormatArg {
    /// A JSON array of samples, or one sample object.
    Json,
    /// One JSON sample per line.
    Ndjson,
    /// CSV with contract field names as headers.
    Csv,
}

fn main() -> ExitCode {
    quiet_when_the_reader_goes_away();
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Eval(args) => eval_cmd::run(&args),
        Command::Test(args) => test_cmd::run(&args),
        Command::Validate(args) => validate_cmd::run(&args),
        Command::Schema(args) => schema_cmd::run(&args),
        Command::Watch(args) => watch_cmd::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Report(args) => report::run(&args),
        Command::GenSamples(args) => gen_cmd::run(&args),
        Command::Stats(args) => stats_cmd::run(&args),
        Command::Show(args) => show_cmd::run(&args),
        Command::Init(args) => init_cmd::run(&args),
        // `diff` answers as `diff` does: 0 same, 1 different, 2 trouble.
        Command::Diff(args) => return ExitCode::from(diff_cmd::run(&args)),
    };
    ExitCode::from(exit as u8)
}

/// `tdm show ... | head` closes standard output early, and `println!`
/// then panics. That is the reader's choice, not an error of ours: exit
/// with "output could not be written" and no panic message. Every other
/// panic keeps the default report.
fn quiet_when_the_reader_goes_away() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(Exit::OutputFailed as i32);
        }
        default(info);
    }));
}

/// The plugin policy of a command: load them only when the operator opted in.
pub(crate) fn plugins(allow: bool) -> tdm_core::Plugins {
    if allow {
        tdm_core::Plugins::Load(std::sync::Arc::new(tdm_plugin_host::HostLoader))
    } else {
        tdm_core::Plugins::Refuse
    }
}

/// Loads a pack, printing every problem when it is refused.
pub(crate) fn load_pack(
    dir: &std::path::Path,
    plugins: tdm_core::Plugins,
) -> Result<tdm_core::Pack, Exit> {
    tdm_core::load_pack_with(dir, &tdm_core::LoadOptions { plugins }).map_err(|e| {
        eprintln!("{:?}", miette::Report::new(e));
        Exit::PackRefused
    })
}
