//! `tdm eval`: one sample from flags, or a streamed batch.

use std::io::{self, BufWriter, IsTerminal};
use std::path::PathBuf;

use std::thread;

use clap::Args;
use serde_json::{Map, Value};
use tdm_core::{Record, Sample, input::Cells};

use crate::batch::InputFormatArg;
use crate::batch::{self, Failure, Tally};
use crate::context::{self, CliError};
use crate::exit::Exit;
use crate::output::{OutputFormat, writer_for};

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
    #[command(flatten)]
    pub trust: crate::trust::TrustArgs,
    #[command(flatten)]
    pub audit: crate::audit::AuditArgs,
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
    /// The assay's lower limit of quantification, in the sample's unit.
    #[arg(long, help_heading = "One sample", allow_negative_numbers = true)]
    pub lloq: Option<f64>,
    /// The laboratory reported the level as below its limit of quantification.
    #[arg(long, help_heading = "One sample")]
    pub below_lloq: bool,
    /// The adverse event behind the grade, e.g. pneumonitis, haematological.
    #[arg(long, help_heading = "One sample")]
    pub toxicity_type: Option<String>,
    /// The patient finds the grade 2 toxicity intolerable (acted on as grade 3).
    #[arg(long, help_heading = "One sample")]
    pub intolerable: bool,
    /// What was measured: plasma, serum or whole_blood.
    #[arg(long, help_heading = "One sample")]
    pub matrix: Option<String>,
    /// Interacting co-medication (repeatable): strong_cyp3a4_inhibitor,
    /// strong_cyp3a4_inducer, acid_reducer.
    #[arg(long, value_name = "NAME", help_heading = "One sample")]
    pub comedication: Vec<String>,
    /// The product taken, where the drug's products differ (e.g. Cometriq).
    #[arg(long, help_heading = "One sample")]
    pub product: Option<String>,
    /// The interval an AUC covers, hours (12 for AUC0-12).
    #[arg(long, help_heading = "One sample")]
    pub auc_interval_h: Option<f64>,
    /// Another field a drug's script reads, as NAME=VALUE (repeatable), e.g. normotensive=true.
    #[arg(long = "field", value_name = "NAME=VALUE", help_heading = "One sample")]
    pub fields: Vec<String>,
}

pub(crate) fn run(args: &EvalArgs) -> Result<Exit, CliError> {
    let pack = context::load_pack_trusted(&args.pack, args.allow_plugins, &args.trust)?;
    let audit = args.audit.open()?;
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout());
    let (tally, outcome) = match (&args.file, &args.sample.drug) {
        (None, None) => {
            return Err(CliError::Usage(
                "give a FILE (or `-` for standard input), or one sample with --drug, --value and --unit\n\n\
                 For more information, try 'tdm eval --help'."
                    .into(),
            ));
        }
        (None, Some(_)) => {
            let (record, given) = sample_from_flags(&args.sample).map_err(CliError::Usage)?;
            let result = tdm_core::evaluate_record(&pack, record);
            let caller = crate::batch::cli_caller();
            let given = crate::audit::Given {
                text: &given,
                caller: &caller,
            };
            let result = crate::audit::recorded(audit.as_ref(), result, &given);
            let mut tally = Tally::default();
            tally.count(&result);
            let mut writer = writer_for(args.format, &mut out);
            let written = writer
                .begin()
                .and_then(|()| writer.write(&result))
                .and_then(|()| writer.finish(&tally.summary()));
            (tally, written.map_err(Failure::Output))
        }
        (Some(path), _) => {
            let input = context::open_samples(path, args.input_format)?;
            let jobs = args.jobs.map_or_else(
                || thread::available_parallelism().map_or(1, |n| n.get()),
                usize::from,
            );
            // Progress on standard error only when a person watches it.
            let progress = !args.quiet && io::stderr().is_terminal();
            batch::run(
                &pack,
                input.reader,
                input.format,
                args.format,
                &mut out,
                &batch::Run {
                    jobs,
                    progress,
                    audit: audit.as_ref(),
                },
            )
        }
    };
    match outcome {
        Err(Failure::Output(e)) => return Err(CliError::output("the output", e)),
        Err(Failure::Input(e)) => return Err(e.into()),
        Ok(()) => {}
    }
    if let Some(audit) = &audit {
        audit
            .flush()
            .map_err(|e| CliError::output("the audit log", e))?;
    }
    if !args.quiet && args.format != OutputFormat::Table {
        eprintln!("{}", tally.summary());
    }
    Ok(if tally.errors > 0 {
        Exit::Failures
    } else {
        Exit::Ok
    })
}

/// Builds the record for one sample given as flags, through the same checks
/// as a file, and the sample as JSON text (for the audit log).
fn sample_from_flags(flags: &SampleFlags) -> Result<(Record, String), String> {
    let mut map = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            map.insert(key.to_owned(), v);
        }
    };
    let text = |s: &Option<String>| s.clone().map(Value::String);
    let number = |n: Option<f64>| n.and_then(serde_json::Number::from_f64).map(Value::Number);
    put("id", text(&flags.id));
    put("patient", text(&flags.patient));
    put("drug", text(&flags.drug));
    put("indication", text(&flags.indication));
    put("regimen", text(&flags.regimen));
    put("measure", text(&flags.measure));
    put("value", number(flags.value));
    put("unit", text(&flags.unit));
    put("dose_mg", number(flags.dose_mg));
    put("interval_h", number(flags.interval_h));
    put("hours_since_dose", number(flags.hours_since_dose));
    put("days_on_dose", number(flags.days_on_dose));
    put("toxicity_grade", number(flags.toxicity_grade));
    put("lloq", number(flags.lloq));
    put("below_lloq", flags.below_lloq.then_some(Value::Bool(true)));
    put("toxicity_type", text(&flags.toxicity_type));
    put(
        "toxicity_intolerable",
        flags.intolerable.then_some(Value::Bool(true)),
    );
    put("matrix", text(&flags.matrix));
    put("product", text(&flags.product));
    put("auc_interval_h", number(flags.auc_interval_h));
    if !flags.comedication.is_empty() {
        let names = flags.comedication.iter().cloned().map(Value::String);
        put("comedication", Some(Value::Array(names.collect())));
    }
    if !flags.metabolites.is_empty() {
        let mut metabolites = Map::new();
        for item in &flags.metabolites {
            let (name, value) = item.split_once('=').ok_or_else(|| {
                format!("--metabolite `{item}` must be NAME=VALUE, e.g. SU12662=25")
            })?;
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| format!("--metabolite `{item}`: `{value}` is not a number"))?;
            let number = serde_json::Number::from_f64(value)
                .ok_or_else(|| format!("--metabolite `{item}`: the value must be finite"))?;
            metabolites.insert(name.trim().to_owned(), Value::Number(number));
        }
        map.insert("metabolites".into(), Value::Object(metabolites));
    }
    for item in &flags.fields {
        let (name, value) = item.split_once('=').ok_or_else(|| {
            format!("--field `{item}` must be NAME=VALUE, e.g. normotensive=true")
        })?;
        let value = value.trim();
        // The same reading as a JSON value: true/false, a number, or text.
        let value = match value {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            v => v
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(v.to_owned()), Value::Number),
        };
        map.insert(name.trim().to_owned(), value);
    }
    let record = Record {
        index: 1,
        line: 0,
        sample: Sample::from_map(&map, Cells::Typed),
    };
    Ok((record, Value::Object(map).to_string()))
}
