//! `tdm`: evaluate therapeutic drug monitoring samples of oral kinase
//! inhibitors against a versioned rule pack.

mod audit;
mod batch;
mod commands;
mod context;
mod exit;
mod output;
mod output_fhir;
mod trust;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

// Evaluation allocates many small strings (rationale, warnings, echoed
// fields); mimalloc halves their cost against the system allocator
// (README, "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `0.1.0 (commit 1a2b3c4d5e6f, engine tdm-core 0.1.0)`: what `--version`
/// says (the crates share the workspace's version, so the engine's is this
/// one; results name it as `engine`).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TDM_COMMIT"),
    ", engine tdm-core ",
    env!("CARGO_PKG_VERSION"),
    ")"
);

/// Therapeutic drug monitoring of oral kinase inhibitors, rules as data.
#[derive(Parser)]
#[command(name = "tdm", version = VERSION)]
#[command(
    after_help = "Exit codes: 0 all ok; 1 some records erred or test cases failed; \
2 usage error; 3 pack refused; 4 input unreadable; 5 output could not be written; \
6 the service could not start."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate one sample (from flags) or a batch (JSON array, NDJSON, CSV).
    Eval(Box<commands::eval::EvalArgs>),
    /// Run the test cases of one or more packs (tests/*.yaml in each pack).
    Test(commands::test::TestArgs),
    /// What tdm reads from FHIR or HL7 v2 input: the contract samples, as NDJSON.
    Convert(commands::convert::ConvertArgs),
    /// Check one or more packs and report every problem with file, line and column.
    Validate(commands::validate::ValidateArgs),
    /// Write the JSON Schemas (draft-07) of pack files, samples and results.
    Schema(commands::schema::SchemaArgs),
    /// For pack authors: re-validate, re-test and re-evaluate samples on every change.
    Watch(commands::watch::WatchArgs),
    /// Serve evaluations over HTTP (an API, CDS Hooks, web pages), reloading the pack when it changes.
    Serve(commands::serve::ServeArgs),
    /// Write a report per patient: the concentration–time chart, every sample, the latest advice.
    Report(commands::report::ReportArgs),
    /// Write N deterministic, realistic samples over every drug of a pack (for benchmarks).
    GenSamples(commands::gen_samples::GenArgs),
    /// What changed between two pack versions, in clinical terms (exit 0 same, 1 different, 2 error).
    Diff(commands::diff::DiffArgs),
    /// Thresholds as a percentage of the population mean exposure (Figure 2 of the review).
    Stats(commands::stats::StatsArgs),
    /// Population PK models beside the review (simulated populations) and on local data (forecasts).
    Models(commands::models::ModelsArgs),
    /// What a pack is: identity, history, drugs; `--resolved` prints what a pack that extends another resolves to.
    Show(commands::show::ShowArgs),
    /// Start a local pack on a published one: manifest, an example override, a test case.
    Init(commands::init::InitArgs),
    /// Sign the pack's content as an approver (an SSH signature in its signatures.yaml).
    Sign(commands::sign::SignArgs),
    /// Check a pack's signatures against the trusted keys (exit 0 approved, 3 refused).
    Verify(commands::sign::VerifyArgs),
    /// Write the shell completions of tdm (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(commands::shell::CompletionsArgs),
    /// Write the man pages of tdm and each command (roff) to standard output.
    Man(commands::shell::ManArgs),
}

fn main() -> ExitCode {
    quiet_when_the_reader_goes_away();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Eval(args) => commands::eval::run(&args),
        Command::Test(args) => Ok(commands::test::run(&args)),
        Command::Validate(args) => Ok(commands::validate::run(&args)),
        Command::Convert(args) => commands::convert::run(&args),
        Command::Schema(args) => Ok(commands::schema::run(&args)),
        Command::Watch(args) => commands::watch::run(&args),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Report(args) => commands::report::run(&args),
        Command::GenSamples(args) => Ok(commands::gen_samples::run(&args)),
        Command::Stats(args) => Ok(commands::stats::run(&args)),
        Command::Show(args) => Ok(commands::show::run(&args)),
        Command::Models(args) => commands::models::run(&args),
        Command::Init(args) => commands::init::run(&args),
        Command::Sign(args) => commands::sign::sign(&args),
        Command::Verify(args) => commands::sign::verify(&args),
        Command::Completions(args) => Ok(commands::shell::completions(&args)),
        Command::Man(args) => Ok(commands::shell::man(&args)),
        // `diff` answers as `diff` does: 0 same, 1 different, 2 trouble.
        Command::Diff(args) => {
            let code = commands::diff::run(&args).unwrap_or_else(|e| {
                e.report();
                commands::diff::TROUBLE
            });
            return ExitCode::from(code);
        }
    };
    let exit = outcome.unwrap_or_else(|e| e.report());
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
