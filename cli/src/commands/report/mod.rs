//! `tdm report`: a patient's course on one page — every level, every dose
//! change, the target band, and the advice for the latest sample — as a
//! self-contained HTML file (inline SVG, no network, A4 print) or Markdown
//! for pasting into a health record.

mod html;
pub(crate) mod markdown;
mod model;
mod svg;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tdm_core::{EvalResult, Record};

use crate::context::{self, CliError};
use crate::exit::Exit;

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

/// One sample of a patient's course with its result.
pub(crate) struct Point {
    /// Seconds since the epoch.
    pub time: i64,
    pub sampled_at: String,
    pub result: EvalResult,
    pub dose_mg: Option<f64>,
    pub interval_h: Option<f64>,
    pub days_on_dose: Option<f64>,
    pub toxicity_grade: Option<u8>,
}

impl Point {
    /// Daily dose, mg.
    pub fn daily_mg(&self) -> Option<f64> {
        let interval = self.interval_h.or_else(|| {
            self.result
                .assessment
                .as_ref()
                .map(|a| a.sampling.interval_h)
        })?;
        self.dose_mg.map(|mg| mg * 24.0 / interval)
    }

    /// The value as measured (summed, canonical unit) and at trough.
    pub fn values(&self) -> Option<(f64, f64)> {
        let e = &self.result.assessment.as_ref()?.exposure;
        Some((
            e.corrected_from.as_ref().map_or(e.value, |c| c.value),
            e.value,
        ))
    }
}

/// A patient's samples of one drug, in time order.
pub(crate) struct Course<'a> {
    pub drug: String,
    pub points: Vec<&'a Point>,
}

pub(crate) fn run(args: &ReportArgs) -> Result<Exit, CliError> {
    let pack = context::load_pack(&args.pack, args.allow_plugins)?;
    let input = context::open_samples(&args.file, None)?;
    let mut left_out = Vec::new();
    let patients = read_patients(&pack, input.reader, input.format, &mut left_out)?;
    for why in &left_out {
        eprintln!("{why}");
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::output(format!("`{}`", args.out.display()), e))?;
    for (patient, mut points) in patients {
        let courses = courses(&mut points);
        let (text, extension) = match args.format {
            ReportFormat::Html => (html::page(&pack, &patient, &courses), "html"),
            ReportFormat::Md => (markdown::page(&pack, &patient, &courses), "md"),
        };
        let path = args
            .out
            .join(format!("{}.{extension}", file_name(&patient)));
        std::fs::write(&path, text)
            .map_err(|e| CliError::output(format!("`{}`", path.display()), e))?;
        println!("wrote {}", path.display());
    }
    Ok(if left_out.is_empty() {
        Exit::Ok
    } else {
        Exit::Failures
    })
}

/// Every sample of `input` evaluated in order (a patient's samples fitted
/// together), by patient; a sample without `patient` or `sampled_at` is
/// left out, and `left_out` says why.
pub(crate) fn read_patients(
    pack: &tdm_core::Pack,
    input: impl std::io::BufRead,
    format: tdm_core::InputFormat,
    left_out: &mut Vec<String>,
) -> Result<BTreeMap<String, Vec<Point>>, tdm_core::input::InputError> {
    let mut patients: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    let mut histories = tdm_core::eval::Histories::default();
    tdm_core::read_records(input, format, pack, |record: Record| {
        let line = record.line;
        let sample = record.sample.clone().ok();
        let result = histories.evaluate_record(pack, record);
        let (patient, time) = match (
            &result.patient,
            result
                .sampled_at
                .as_deref()
                .and_then(tdm_core::input::parse_date_time),
        ) {
            (Some(p), Some(t)) => (p.clone(), t),
            _ => {
                left_out.push(format!(
                    "line {line}: left out of the reports: a report needs `patient` and `sampled_at`{}",
                    result
                        .error
                        .as_ref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ));
                return Ok(());
            }
        };
        patients.entry(patient).or_default().push(Point {
            time,
            sampled_at: result.sampled_at.clone().unwrap_or_default(),
            dose_mg: sample.as_ref().and_then(|s| s.dose_mg),
            interval_h: sample.as_ref().and_then(|s| s.interval_h),
            days_on_dose: sample.as_ref().and_then(|s| s.days_on_dose),
            toxicity_grade: sample.as_ref().and_then(|s| s.toxicity_grade),
            result,
        });
        Ok(())
    })?;
    Ok(patients)
}

/// A patient's samples as one course per drug, each in time order.
pub(crate) fn courses(points: &mut [Point]) -> Vec<Course<'_>> {
    points.sort_by_key(|p| p.time);
    let mut drugs: BTreeMap<String, Vec<&Point>> = BTreeMap::new();
    for p in points.iter() {
        drugs
            .entry(p.result.drug.clone().unwrap_or_default())
            .or_default()
            .push(p);
    }
    drugs
        .into_iter()
        .map(|(drug, points)| Course { drug, points })
        .collect()
}

/// The model's sentence of a result, for the pages.
pub(crate) fn model_sentence(m: &tdm_core::result::model::ModelFit) -> String {
    model::sentence(m)
}

/// The report of one patient as a part of a page (the web page's).
pub(crate) fn html_part(pack: &tdm_core::Pack, patient: &str, courses: &[Course]) -> maud::Markup {
    html::part(pack, patient, courses)
}

/// A patient id as a file name: letters, digits, `-` and `_` kept.
fn file_name(patient: &str) -> String {
    let name: String = patient
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "patient".into()
    } else {
        name
    }
}

/// `2026-11-24 08:30` from a sample's `sampled_at`.
pub(crate) fn short_time(text: &str) -> String {
    text.replace('T', " ").chars().take(16).collect()
}

/// `viable (the tables' target, threshold); references: 19`.
pub(crate) fn evidence(a: &tdm_core::result::Assessment) -> String {
    format!(
        "{} ({}, {}); references: {}",
        format!("{:?}", a.target.evidence).to_lowercase(),
        if a.target.usage == tdm_core::result::TargetUse::Primary {
            "the tables' target"
        } else {
            "an alternative from the text"
        },
        format!("{:?}", a.target.basis).to_lowercase(),
        if a.target.references.is_empty() {
            "none given".into()
        } else {
            a.target.references.join(", ")
        }
    )
}
