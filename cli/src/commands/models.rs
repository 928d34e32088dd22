//! `tdm models check PACK`: each population model's simulated troughs
//! beside the review's population mean and spread, like with like; with
//! `--history`, how well each model forecast a file's levels from each
//! patient's earlier ones (bias and imprecision).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use tdm_core::eval::Histories;
use tdm_core::result::{fmt_num, round_sig};
use tdm_core::tools::{ForecastCheck, Forecasts, PopulationCheck, population_checks};
use tdm_core::{Pack, Record};

use crate::batch::InputFormatArg;
use crate::context::{self, CliError};
use crate::exit::Exit;

mod svg;

/// Arguments of `tdm models`.
#[derive(Args)]
pub(crate) struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

/// What `tdm models` does.
#[derive(Subcommand)]
pub(crate) enum ModelsCommand {
    /// Simulate each model's population at the table's dose and set it beside the review's
    /// population mean and spread; with --history, forecast each level from the earlier ones.
    Check(CheckArgs),
}

/// Arguments of `tdm models check`.
#[derive(Args)]
pub(crate) struct CheckArgs {
    /// The pack directory.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// Virtual patients per model.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
    pub draws: u32,
    /// Seed of the virtual population (the same seed, the same numbers).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A file of patients' samples (JSON, NDJSON, CSV, with `patient` and
    /// `sampled_at`): each level with earlier ones is forecast from them.
    #[arg(long, value_name = "FILE")]
    pub history: Option<String>,
    /// Input format of the history file when its extension does not say.
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormatArg>,
    /// `human` or `json`.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Also write the population figure as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}

/// Formats of `tdm models check`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// Tables and sentences.
    Human,
    /// Every number as JSON.
    Json,
}

#[derive(Serialize)]
struct Report {
    population: Vec<PopulationCheck>,
    forecasts: Option<Vec<ForecastCheck>>,
}

pub(crate) fn run(args: &ModelsArgs) -> Result<Exit, CliError> {
    let ModelsCommand::Check(args) = &args.command;
    let pack = context::load_pack(&args.pack, args.allow_plugins)?;
    let population = population_checks(&pack, args.draws as usize, args.seed);
    let forecasts = match &args.history {
        Some(path) => Some(forecast(&pack, path, args.input_format)?),
        None => None,
    };
    let report = Report {
        population,
        forecasts,
    };
    match args.format {
        CheckFormat::Human => print!("{}", human(&report)),
        CheckFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
    }
    if let Some(path) = &args.svg {
        let title = format!("{} {}", pack.id().name, pack.id().version);
        if let Err(e) = std::fs::write(path, svg::figure(&report.population, &title)) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return Ok(Exit::OutputFailed);
        }
        eprintln!("wrote {}", path.display());
    }
    Ok(Exit::Ok)
}

/// Evaluates the file as `tdm eval` does (a patient's samples as one
/// history) and sums each model's forecasts.
fn forecast(
    pack: &Pack,
    path: &str,
    format: Option<InputFormatArg>,
) -> Result<Vec<ForecastCheck>, CliError> {
    let input = context::open_samples(path, format)?;
    let mut histories = Histories::default();
    let mut forecasts = Forecasts::default();
    tdm_core::read_records(input.reader, input.format, pack, |record: Record| {
        forecasts.add(&histories.evaluate_record(pack, record));
        Ok(())
    })?;
    Ok(forecasts.checks())
}

fn num(v: f64) -> String {
    fmt_num(round_sig(v, 3))
}

fn human(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<16} {:<12} {:>12}  {:>8} {:>6} {:>13}  {:>8} {:>6}  {:>6}",
        "DRUG", "MODEL", "TARGET", "REGIMEN", "MEDIAN", "CV %", "5-95 %", "TABLE", "CV %", "RATIO"
    );
    for c in &r.population {
        let m = &c.measured_trough;
        let _ = writeln!(
            out,
            "{:<12} {:<16} {:<12} {:>12}  {:>8} {:>6} {:>13}  {:>8} {:>6}  {:>6}{}",
            c.drug,
            c.model,
            c.target,
            format!("{} mg q{}h", fmt_num(c.dose_mg), fmt_num(c.interval_h)),
            num(m.median),
            num(c.simulated_cv_percent),
            format!("{}-{}", num(m.p5), num(m.p95)),
            format!(
                "{}{}",
                num(c.table_mean),
                if c.table_geometric { " (g)" } else { "" }
            ),
            c.table_cv_percent.map_or("-".into(), num),
            num(c.mean_ratio),
            if c.disagrees { "  disagrees" } else { "" },
        );
    }
    let _ = writeln!(
        out,
        "\nsimulated: measured steady-state troughs (ng/mL) of {} virtual patients per model (seed {}), with one occasion's variability and the residual error; their mean (geometric where the table's is, marked g) over the table's population mean is RATIO, their CV of the same kind beside the table's; `disagrees`: the means beyond a factor of 2 or the CVs beyond 1.5",
        r.population.first().map_or(0, |c| c.draws),
        r.population.first().map_or(0, |c| c.seed),
    );
    let mut models: Vec<&PopulationCheck> = Vec::new();
    for c in &r.population {
        if !models
            .iter()
            .any(|m| m.drug == c.drug && m.model == c.model)
        {
            models.push(c);
        }
    }
    for c in models {
        if c.unmeasurable > 0 {
            let _ = writeln!(
                out,
                "{} `{}`: {} of {} measured levels came out at 0 or below (the residual error drawn on the concentration scale, as the model states it) and are left out",
                c.drug, c.model, c.unmeasurable, c.draws
            );
        }
        if !c.covariates.is_empty() {
            let _ = writeln!(
                out,
                "{} `{}`: {} (the pack does not hold their distribution in the population)",
                c.drug,
                c.model,
                c.covariates.join(", ")
            );
        }
    }
    if let Some(forecasts) = &r.forecasts {
        let _ = writeln!(
            out,
            "\n{:<12} {:<16} {:>7} {:>8} {:>13} {:>11} {:>12}",
            "DRUG", "MODEL", "LEVELS", "BIAS %", "IMPRECISION %", "MEDIAN |E| %", "IN 90 % PI"
        );
        for f in forecasts {
            let _ = writeln!(
                out,
                "{:<12} {:<16} {:>7} {:>8} {:>13} {:>11} {:>12}",
                f.drug,
                f.model,
                f.levels,
                format!("{:+.1}", f.bias_percent),
                format!("{:.1}", f.imprecision_percent),
                format!("{:.1}", f.median_absolute_percent),
                format!("{:.0} %", f.within_90_percent),
            );
        }
        if forecasts.is_empty() {
            let _ = writeln!(
                out,
                "no level had an earlier level of its patient to be forecast from (give `patient` and `sampled_at`)"
            );
        } else {
            let _ = writeln!(
                out,
                "\neach level forecast from its patient's earlier levels alone (the parent's level, also where a model's trough is of a total); error = (forecast - measured) / measured: BIAS its mean, IMPRECISION its root mean square; IN 90 % PI: the share of measured levels inside the forecast's 90 % interval (about 90 % when the model's variability fits)"
            );
        }
    }
    out
}
