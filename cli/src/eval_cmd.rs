//! `tdm eval`: one sample from flags, or a streamed batch.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal};

use std::thread;

use serde_json::{Map, Value};
use tdm_core::{InputFormat, Record, Sample, input::Cells};

use crate::batch::{self, Failure, Tally};
use crate::exit::Exit;
use crate::output::writer_for;
use crate::{EvalArgs, InputFormatArg, SampleFlags};

pub(crate) fn run(args: &EvalArgs) -> Exit {
    let pack = match crate::load_pack(&args.pack, crate::plugins(args.allow_plugins)) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout());
    let (tally, outcome) = match (&args.file, &args.sample.drug) {
        (None, None) => {
            eprintln!(
                "error: give a FILE (or `-` for standard input), or one sample with --drug, --value and --unit\n\n\
                 For more information, try 'tdm eval --help'."
            );
            return Exit::Usage;
        }
        (None, Some(_)) => {
            let record = match sample_from_flags(&args.sample) {
                Ok(r) => r,
                Err(message) => {
                    eprintln!("error: {message}");
                    return Exit::Usage;
                }
            };
            let result = tdm_core::evaluate_record(&pack, record);
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
            let format = match input_format(args.input_format, path) {
                Ok(f) => f,
                Err(message) => {
                    eprintln!("error: {message}");
                    return Exit::Usage;
                }
            };
            let input: Box<dyn BufRead + Send> = if path == "-" {
                Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
            } else {
                match File::open(path) {
                    Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
                    Err(e) => {
                        eprintln!("error: cannot open `{path}`: {e}");
                        return Exit::InputUnreadable;
                    }
                }
            };
            let jobs = args.jobs.map_or_else(
                || thread::available_parallelism().map_or(1, |n| n.get()),
                usize::from,
            );
            // Progress on standard error only when a person watches it.
            let progress = !args.quiet && io::stderr().is_terminal();
            batch::run(&pack, input, format, args.format, &mut out, jobs, progress)
        }
    };
    match outcome {
        Err(Failure::Output(e)) => return output_failed(&e),
        Err(Failure::Input(e)) => {
            eprintln!("{:?}", miette::Report::new(e));
            return Exit::InputUnreadable;
        }
        Ok(()) => {}
    }
    if !args.quiet && args.format != crate::OutputFormat::Table {
        eprintln!("{}", tally.summary());
    }
    if tally.errors > 0 {
        Exit::Failures
    } else {
        Exit::Ok
    }
}

fn output_failed(e: &io::Error) -> Exit {
    if e.kind() == io::ErrorKind::BrokenPipe {
        // The reader went away (`| head`): not an error of ours to report.
        return Exit::OutputFailed;
    }
    eprintln!("error: cannot write the output: {e}");
    Exit::OutputFailed
}

fn input_format(given: Option<InputFormatArg>, path: &str) -> Result<InputFormat, String> {
    match given {
        Some(InputFormatArg::Json) => Ok(InputFormat::Json),
        Some(InputFormatArg::Ndjson) => Ok(InputFormat::Ndjson),
        Some(InputFormatArg::Csv) => Ok(InputFormat::Csv),
        None if path == "-" => Err("reading standard input needs --input-format json|ndjson|csv".into()),
        None => InputFormat::from_path(path).ok_or_else(|| {
            format!("cannot tell the format of `{path}` from its extension (.json, .ndjson, .jsonl, .csv); give --input-format")
        }),
    }
}

/// Builds the record for one sample given as flags, through the same checks as a file.
fn sample_from_flags(flags: &SampleFlags) -> Result<Record, String> {
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
    Ok(Record {
        index: 1,
        line: 0,
        sample: Sample::from_map(&map, Cells::Typed),
    })
}
