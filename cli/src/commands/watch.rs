//! `tdm watch`: for pack authors. On every change the pack is validated, its
//! test cases run and the samples re-evaluated, and what changed is printed.
//! When the new state is invalid, the errors are shown and the last good
//! state stays in force.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;
use tdm_core::{
    EvalResult, Pack, reload::LivePack, reload::ReloadOutcome, reload::WatchOptions,
    reload::describe_error,
};

use crate::context::{self, CliError};
use crate::exit::Exit;

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
    #[command(flatten)]
    pub trust: crate::trust::TrustArgs,
}

pub(crate) fn run(args: &WatchArgs) -> Result<Exit, CliError> {
    let options = args
        .trust
        .load_options(context::plugins(args.allow_plugins))?;
    // Wait for a valid (and, if required, signed) pack to start from,
    // saying why once for each different reason.
    let mut said = String::new();
    let live = loop {
        match LivePack::load(&args.pack, options.clone()) {
            Ok(live) => break live,
            Err(e) => {
                let why = describe_error(&e);
                if why != said {
                    println!("{why}");
                    println!("waiting for a valid pack…");
                    said = why;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    };
    let samples = match &args.samples {
        None => Vec::new(),
        Some(path) => read_samples(path, &live.pack())?,
    };
    let mut previous = report(&live.pack(), &args.pack, &samples, None);
    let (tx, rx) = mpsc::channel();
    let options = WatchOptions {
        debounce: Duration::from_millis(100),
        poll: args.poll.map(Duration::from_millis),
    };
    let _watcher = tdm_core::reload::watch(live.clone(), options, move |o| {
        let _ = tx.send(o.clone());
    })
    .map_err(|message| CliError::Open {
        path: args.pack.display().to_string(),
        error: std::io::Error::other(message),
    })?;
    println!("watching {} (Ctrl-C to stop)", args.pack.display());
    for outcome in rx {
        match outcome {
            ReloadOutcome::Reloaded {
                old_digest,
                new_digest,
            } => {
                println!("\n== reloaded: {old_digest} -> {new_digest}");
                previous = report(&live.pack(), &args.pack, &samples, Some(&previous));
            }
            ReloadOutcome::Unchanged => println!("\n== saved, no change in content"),
            ReloadOutcome::Failed(message) => {
                println!(
                    "\n== the pack on disk is invalid; still in force: {}",
                    live.pack().id().digest
                );
                println!("{message}");
            }
        }
    }
    Ok(Exit::Ok)
}

/// The samples, read once (FHIR and HL7 through the first pack's code maps).
fn read_samples(path: &str, pack: &tdm_core::Pack) -> Result<Vec<tdm_core::Record>, CliError> {
    let input = context::open_samples(path, None)?;
    let mut records = Vec::new();
    tdm_core::read_records(input.reader, input.format, pack, |r| {
        records.push(r);
        Ok(())
    })?;
    Ok(records)
}

/// What a sample's result says, for comparing two packs.
fn summary(r: &EvalResult) -> String {
    match &r.assessment {
        None => format!("error: {}", r.error.as_deref().unwrap_or("")),
        Some(a) => {
            let next = match (a.next_dose_mg, a.next_interval_h) {
                (Some(mg), Some(h)) => {
                    format!(
                        " {} mg q{}h",
                        tdm_core::result::fmt_num(mg),
                        tdm_core::result::fmt_num(h)
                    )
                }
                _ => String::new(),
            };
            format!(
                "{}/{}{next}",
                a.classification.map_or("-", |c| c.as_str()),
                a.advice.as_str()
            )
        }
    }
}

/// Runs the cases and the samples against `pack`, prints them (and what
/// changed since `previous`), and returns the samples' summaries.
fn report(
    pack: &Pack,
    dir: &std::path::Path,
    samples: &[tdm_core::Record],
    previous: Option<&BTreeMap<usize, (String, String)>>,
) -> BTreeMap<usize, (String, String)> {
    println!(
        "pack {} {} ({}): valid, {} drugs",
        pack.id().name,
        pack.id().version,
        pack.id().digest,
        pack.drugs().len()
    );
    match tdm_core::tools::load_cases(dir) {
        Err(e) => println!("test cases: {}", describe_error(&e)),
        Ok(cases) => {
            let outcomes: Vec<_> = cases
                .iter()
                .map(|c| tdm_core::tools::run_case(pack, c))
                .collect();
            let failed: Vec<_> = outcomes.iter().filter(|o| !o.failures.is_empty()).collect();
            println!(
                "test cases: {} passed, {} failed",
                outcomes.len() - failed.len(),
                failed.len()
            );
            for o in failed {
                println!(
                    "  FAIL {} :: {}: {}",
                    o.case.file,
                    o.case.name,
                    o.failures.join("; ")
                );
            }
        }
    }
    let mut now = BTreeMap::new();
    let mut histories = tdm_core::eval::Histories::default();
    for record in samples {
        let result = histories.evaluate_record(pack, record.clone());
        let id = result
            .id
            .clone()
            .unwrap_or_else(|| format!("record {}", record.index));
        now.insert(record.index, (id, summary(&result)));
    }
    if !samples.is_empty() {
        match previous {
            None => println!("samples: {} evaluated", samples.len()),
            Some(before) => {
                let changed: Vec<_> = now
                    .iter()
                    .filter_map(|(i, (id, s))| {
                        before
                            .get(i)
                            .filter(|(_, b)| b != s)
                            .map(|(_, b)| (id, b, s))
                    })
                    .collect();
                println!("samples: {} of {} changed", changed.len(), samples.len());
                for (id, before, after) in changed {
                    println!("  {id}: {before} -> {after}");
                }
            }
        }
    }
    now
}
