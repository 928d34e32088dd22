//! `tdm test`: run packs' own test cases, like `opa test`.

use clap::{Args, ValueEnum};
use serde_json::json;
use std::path::PathBuf;
use tdm_core::{tools::load_cases, tools::run_case};

use crate::context;
use crate::exit::Exit;

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
    #[command(flatten)]
    pub trust: crate::trust::TrustArgs,
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

pub(crate) fn run(args: &TestArgs) -> Exit {
    let human = args.format == TestFormat::Human;
    let (mut passed, mut failed) = (0u64, 0u64);
    let mut packs = Vec::new();
    for dir in &args.packs {
        let pack = match context::load_pack_trusted(dir, args.allow_plugins, &args.trust) {
            Ok(p) => p,
            Err(e) => return e.report(),
        };
        let cases = match load_cases(dir) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                return Exit::PackRefused;
            }
        };
        if human {
            println!(
                "pack {} {} ({}): {} cases",
                pack.id().name,
                pack.id().version,
                pack.id().digest,
                cases.len()
            );
            if cases.is_empty() {
                println!("  no test cases: add tests/*.yaml to {}", dir.display());
            }
        }
        let mut reports = Vec::new();
        for case in &cases {
            let outcome = run_case(&pack, case);
            let ok = outcome.failures.is_empty();
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
            if !human {
                reports.push(json!({
                    "file": case.file, "name": case.name, "passed": ok,
                    "failures": outcome.failures, "result": outcome.result,
                }));
            } else if ok && args.verbose {
                println!("  ok    {} :: {}", case.file, case.name);
            } else if !ok {
                println!("  FAIL  {} :: {}", case.file, case.name);
                for f in &outcome.failures {
                    println!("          {f}");
                }
                if let Some(r) = &outcome.result.rationale {
                    println!("          rationale: {r}");
                }
                if let Some(e) = &outcome.result.error {
                    println!("          error: {e}");
                }
            }
        }
        if !human {
            packs.push(json!({
                "pack": dir.display().to_string(), "name": pack.id().name, "version": pack.id().version,
                "digest": pack.id().digest, "cases": reports,
            }));
        }
    }
    if human {
        println!("{passed} passed, {failed} failed");
    } else {
        let report = json!({"packs": packs, "passed": passed, "failed": failed});
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    }
    if failed > 0 { Exit::Failures } else { Exit::Ok }
}
