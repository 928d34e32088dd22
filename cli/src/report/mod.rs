//! `tdm report`: a patient's course on one page — every level, every dose
//! change, the target band, and the advice for the latest sample — as a
//! self-contained HTML file (inline SVG, no network, A4 print) or Markdown
//! for pasting into a health record.

mod html;
mod markdown;
mod svg;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;

use tdm_core::{EvalResult, InputFormat, Record};

use crate::exit::Exit;
use crate::{ReportArgs, ReportFormat};

/// One sample of a patient's course with its result.
pub(crate) struct Point {
    /// Seconds since the epoch.
    pub time: i64,
    pub sampled_at: String,
    pub result: EvalResult,
    pub dose_mg: Option<f64>,
    pub interval_h: Option<f64>,
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

pub(crate) fn run(args: &ReportArgs) -> Exit {
    let pack = match crate::load_pack(&args.pack, crate::plugins(args.allow_plugins)) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Some(format) = InputFormat::from_path(&args.file) else {
        eprintln!(
            "error: cannot tell the format of `{}` from its extension (.json, .ndjson, .csv)",
            args.file
        );
        return Exit::Usage;
    };
    let file = match File::open(&args.file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot open `{}`: {e}", args.file);
            return Exit::InputUnreadable;
        }
    };
    let mut patients: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    let mut skipped = 0;
    let read = tdm_core::read_records(BufReader::new(file), format, |record: Record| {
        let line = record.line;
        let sample = record.sample.clone().ok();
        let result = tdm_core::evaluate_record(&pack, record);
        let (patient, time) = match (
            &result.patient,
            result
                .sampled_at
                .as_deref()
                .and_then(tdm_core::input::parse_date_time),
        ) {
            (Some(p), Some(t)) => (p.clone(), t),
            _ => {
                skipped += 1;
                eprintln!(
                    "line {line}: left out of the reports: a report needs `patient` and `sampled_at`{}",
                    result
                        .error
                        .as_ref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
                return Ok(());
            }
        };
        patients.entry(patient).or_default().push(Point {
            time,
            sampled_at: result.sampled_at.clone().unwrap_or_default(),
            dose_mg: sample.as_ref().and_then(|s| s.dose_mg),
            interval_h: sample.as_ref().and_then(|s| s.interval_h),
            toxicity_grade: sample.as_ref().and_then(|s| s.toxicity_grade),
            result,
        });
        Ok(())
    });
    if let Err(e) = read {
        eprintln!("{:?}", miette::Report::new(e));
        return Exit::InputUnreadable;
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: cannot create `{}`: {e}", args.out.display());
        return Exit::OutputFailed;
    }
    for (patient, mut points) in patients {
        points.sort_by_key(|p| p.time);
        let mut drugs: BTreeMap<String, Vec<&Point>> = BTreeMap::new();
        for p in &points {
            drugs
                .entry(p.result.drug.clone().unwrap_or_default())
                .or_default()
                .push(p);
        }
        let courses: Vec<Course> = drugs
            .into_iter()
            .map(|(drug, points)| Course { drug, points })
            .collect();
        let (text, extension) = match args.format {
            ReportFormat::Html => (html::page(&pack, &patient, &courses), "html"),
            ReportFormat::Md => (markdown::page(&pack, &patient, &courses), "md"),
        };
        let path = args
            .out
            .join(format!("{}.{extension}", file_name(&patient)));
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return Exit::OutputFailed;
        }
        println!("wrote {}", path.display());
    }
    if skipped > 0 {
        Exit::Failures
    } else {
        Exit::Ok
    }
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
