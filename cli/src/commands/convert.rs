//! `tdm convert`: what tdm reads from a FHIR document or HL7 v2 messages,
//! as the contract samples `tdm eval` then evaluates (NDJSON, one line per
//! drug-level result, in order; a result that cannot be read is a line
//! with its error). For checking a hospital's feed against the pack's code
//! maps before it goes live.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};
use tdm_core::input::read_raw_records;

use crate::batch::InputFormatArg;
use crate::context::{self, CliError};
use crate::exit::Exit;

/// Arguments of `tdm convert`.
#[derive(Args)]
pub(crate) struct ConvertArgs {
    /// The pack whose code maps read the input.
    #[arg(long, value_name = "DIR")]
    pub pack: PathBuf,
    /// A FHIR R4 JSON document (`.json`) or HL7 v2 messages (`.hl7`); `-` for standard input.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// `fhir` or `hl7`; by default from the file.
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormatArg>,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}

pub(crate) fn run(args: &ConvertArgs) -> Result<Exit, CliError> {
    let pack = context::load_pack(&args.pack, args.allow_plugins)?;
    let input = context::open_samples(&args.file, args.input_format)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut errors = 0;
    let mut unmapped = false;
    read_raw_records(input.reader, input.format, &pack, |raw| {
        let Some(mapped) = raw.mapped() else {
            unmapped = true;
            return Err(std::io::Error::other("not FHIR or HL7"));
        };
        let line = match mapped {
            Ok(sample) => Value::Object(sample.clone()),
            Err(e) => {
                errors += 1;
                json!({
                    "id": e.id, "patient": e.patient, "drug": e.drug,
                    "line": (raw.line > 0).then_some(raw.line),
                    "error_code": e.code.as_str(), "error": e.message,
                })
            }
        };
        writeln!(out, "{line}")
    })
    .map_err(|e| match e {
        tdm_core::input::InputError::Stopped(_) if unmapped => CliError::Usage(
            "tdm convert reads FHIR or HL7 input; JSON, NDJSON and CSV are samples already".into(),
        ),
        other => CliError::from(other),
    })?;
    out.flush().map_err(|error| CliError::Output {
        what: "the output".into(),
        error,
    })?;
    Ok(if errors > 0 { Exit::Failures } else { Exit::Ok })
}
