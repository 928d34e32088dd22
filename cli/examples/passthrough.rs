//! The baseline of `tests/bench/run.sh`: reads a batch with the same reader
//! as `tdm eval` and writes each sample back out (NDJSON or CSV), without
//! evaluating anything. The difference to `tdm eval` is what evaluation costs.
//!
//! `cargo run --release -p tdm-cli --example passthrough -- ndjson|csv FILE`
#![allow(clippy::unwrap_used, missing_docs)]

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};

use serde_json::json;
use tdm_core::{InputFormat, Record};

// The allocator of `tdm`, so that only the evaluation differs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fields(r: &Record) -> (String, String, f64, String, String) {
    match &r.sample {
        Ok(s) => (
            s.id.clone().unwrap_or_default(),
            s.drug.clone(),
            s.value,
            s.unit.clone(),
            String::new(),
        ),
        Err(e) => (
            e.id.clone().unwrap_or_default(),
            String::new(),
            0.0,
            String::new(),
            e.message.clone(),
        ),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[2];
    let input = BufReader::with_capacity(1 << 16, File::open(path).unwrap());
    let format = InputFormat::from_path(path).unwrap();
    // FHIR and HL7 input read through the pack's code maps.
    let pack =
        tdm_core::load_pack(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/ki-oncology")).unwrap();
    let stdout = std::io::stdout();
    let out = BufWriter::with_capacity(1 << 16, stdout.lock());
    if args[1] == "csv" {
        let mut w = csv::Writer::from_writer(out);
        tdm_core::read_records(input, format, &pack, |r| {
            let (id, drug, value, unit, error) = fields(&r);
            w.write_record([id, drug, value.to_string(), unit, error])?;
            Ok(())
        })
        .unwrap();
        w.flush().unwrap();
    } else {
        let mut out = out;
        tdm_core::read_records(input, format, &pack, |r| {
            let (id, drug, value, unit, error) = fields(&r);
            serde_json::to_writer(
                &mut out,
                &json!({"id": id, "drug": drug, "value": value, "unit": unit, "error": error}),
            )?;
            out.write_all(b"\n")
        })
        .unwrap();
        out.flush().unwrap();
    }
}
