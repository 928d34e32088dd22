//! Result writers: a table for people; JSON, NDJSON and CSV for machines.
//! Each writes a result as soon as it arrives (streaming, constant memory).

use std::io::{self, Write};

use clap::ValueEnum;
use tdm_core::{EvalResult, result::Bounds, result::fmt_num, result::round_sig};

/// Output formats of `tdm eval`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// A readable table with the rationale under each row.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// One CSV row per result, flattened.
    Csv,
    /// One FHIR R4 Bundle: an Observation per judged sample, a
    /// MedicationRequest proposal per next dose, an OperationOutcome per error.
    Fhir,
}

/// Writes results one at a time.
pub(crate) trait Writer {
    /// Before the first result (headers, an opening bracket).
    fn begin(&mut self) -> io::Result<()>;
    /// One result.
    fn write(&mut self, result: &EvalResult) -> io::Result<()>;
    /// After the last result; flushes.
    fn finish(&mut self, summary: &str) -> io::Result<()>;
    /// Hands on what is buffered, without closing anything.
    fn flush(&mut self) -> io::Result<()>;
}

pub(crate) fn writer_for<'a, W: Write + 'a>(format: OutputFormat, out: W) -> Box<dyn Writer + 'a> {
    writer_after(format, out, None)
}

/// A writer for a later part of the same output, after `written` results:
/// the header, opening bracket or separators already written are not
/// written again. Lets parts of a batch be written out on several threads.
pub(crate) fn continuation<'a, W: Write + 'a>(
    format: OutputFormat,
    out: W,
    written: u64,
) -> Box<dyn Writer + 'a> {
    writer_after(format, out, Some(written))
}

fn writer_after<'a, W: Write + 'a>(
    format: OutputFormat,
    out: W,
    written: Option<u64>,
) -> Box<dyn Writer + 'a> {
    let begun = written.is_some();
    match format {
        OutputFormat::Table => Box::new(Table { out, begun }),
        OutputFormat::Json => Box::new(Json {
            out,
            count: written.unwrap_or(0),
            begun,
        }),
        OutputFormat::Ndjson => Box::new(Ndjson {
            out,
            line: Vec::with_capacity(2048),
        }),
        OutputFormat::Csv => Box::new(Csv {
            out: csv::Writer::from_writer(out),
            begun,
        }),
        OutputFormat::Fhir => Box::new(crate::output_fhir::Fhir {
            out,
            count: written.unwrap_or(0),
            begun,
        }),
    }
}

struct Ndjson<W> {
    out: W,
    /// The line being written, reused from result to result.
    line: Vec<u8>,
}

impl<W: Write> Writer for Ndjson<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn write(&mut self, result: &EvalResult) -> io::Result<()> {
        self.line.clear();
        result.write_json(&mut self.line);
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    fn finish(&mut self, _: &str) -> io::Result<()> {
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct Json<W> {
    out: W,
    count: u64,
    begun: bool,
}

impl<W: Write> Writer for Json<W> {
    fn begin(&mut self) -> io::Result<()> {
        if !self.begun {
            self.begun = true;
            self.out.write_all(b"[")?;
        }
        Ok(())
    }

    fn write(&mut self, result: &EvalResult) -> io::Result<()> {
        self.begin()?;
        self.out
            .write_all(if self.count == 0 { b"\n" } else { b",\n" })?;
        self.count += 1;
        serde_json::to_writer_pretty(&mut self.out, result)?;
        Ok(())
    }

    fn finish(&mut self, _: &str) -> io::Result<()> {
        self.begin()?;
        self.out.write_all(b"\n]\n")?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The flattened CSV columns.
pub(crate) const CSV_COLUMNS: &[&str] = &[
    "id",
    "patient",
    "drug",
    "status",
    "error",
    "error_code",
    "line",
    "indication",
    "regimen",
    "product",
    "measure",
    "exposure",
    "exposure_unit",
    "measured_total",
    "hours_since_dose",
    "half_life_h",
    "correction",
    "model_ratio",
    "parent_only",
    "target_id",
    "target_lower",
    "target_upper",
    "target_basis",
    "target_evidence",
    "target_references",
    "classification",
    "toxicity_signal_exceeded",
    "advice",
    "next_dose_mg",
    "next_interval_h",
    "interventions",
    "conditions",
    "warnings",
    "rationale",
    "pack_name",
    "pack_version",
    "pack_digest",
    "engine",
    "decision_id",
];

struct Csv<W: Write> {
    out: csv::Writer<W>,
    begun: bool,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn json_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl<W: Write> Writer for Csv<W> {
    fn begin(&mut self) -> io::Result<()> {
        if !self.begun {
            self.begun = true;
            self.out.write_record(CSV_COLUMNS)?;
        }
        Ok(())
    }

    fn write(&mut self, r: &EvalResult) -> io::Result<()> {
        self.begin()?;
        let a = r.assessment.as_ref();
        let e = a.map(|a| &a.exposure);
        let t = a.map(|a| &a.target);
        let row: Vec<String> = vec![
            opt(r.id.as_deref()),
            opt(r.patient.as_deref()),
            opt(r.drug.as_deref()),
            json_name(&r.status),
            opt(r.error.as_deref()),
            opt(r.error_code),
            opt(r.line),
            opt(a.and_then(|a| a.indication.as_deref())),
            opt(a.and_then(|a| a.regimen.as_deref())),
            opt(a.and_then(|a| a.product.as_deref())),
            e.map(|e| json_name(&e.measure)).unwrap_or_default(),
            opt(e.map(|e| e.value)),
            opt(e.map(|e| e.unit.as_str())),
            opt(e.and_then(|e| e.corrected_from.as_ref()).map(|c| c.value)),
            opt(a.and_then(|a| a.sampling.hours_since_dose)),
            opt(e
                .and_then(|e| e.corrected_from.as_ref())
                .and_then(|c| c.half_life_h)),
            opt(e
                .and_then(|e| e.corrected_from.as_ref())
                .map(|c| c.method.as_str())),
            opt(e
                .and_then(|e| e.corrected_from.as_ref())
                .and_then(|c| c.model_ratio)),
            opt(e.map(|e| e.parent_only)),
            opt(t.map(|t| t.id.as_str())),
            opt(t.and_then(|t| t.lower)),
            opt(t.and_then(|t| t.upper)),
            t.map(|t| json_name(&t.basis)).unwrap_or_default(),
            t.map(|t| json_name(&t.evidence)).unwrap_or_default(),
            t.map(|t| t.references.join(" ")).unwrap_or_default(),
            opt(a.and_then(|a| a.classification).map(|c| c.as_str())),
            opt(a.map(|a| a.toxicity_signal_exceeded)),
            opt(a.map(|a| a.advice.as_str())),
            opt(a.and_then(|a| a.next_dose_mg)),
            opt(a.and_then(|a| a.next_interval_h)),
            a.map(|a| a.interventions.join("; ")).unwrap_or_default(),
            a.map(|a| a.conditions.join("; ")).unwrap_or_default(),
            r.warnings.join("; "),
            opt(r.rationale.as_deref()),
            r.pack.name.clone(),
            r.pack.version.clone(),
            r.pack.digest.clone(),
            r.engine.to_owned(),
            opt(r.decision_id.as_deref()),
        ];
        let row: Vec<String> = row.into_iter().map(inert).collect();
        self.out.write_record(&row)?;
        Ok(())
    }

    fn finish(&mut self, _: &str) -> io::Result<()> {
        self.begin()?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct Table<W> {
    out: W,
    begun: bool,
}

const WIDTHS: [usize; 6] = [10, 12, 24, 22, 8, 20];

/// Text from input as a terminal shows it: control characters (a newline
/// that would forge a row, an escape sequence that would clear the screen)
/// are written as escapes, never passed through.
pub(crate) fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A CSV cell that a spreadsheet would run as a formula (OWASP: it starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`.
fn inert(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

fn cell(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count > width {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    } else {
        format!("{text}{}", " ".repeat(width - count))
    }
}

impl<W: Write> Writer for Table<W> {
    fn begin(&mut self) -> io::Result<()> {
        if !self.begun {
            self.begun = true;
            let header = ["ID", "DRUG", "EXPOSURE", "TARGET", "CLASS", "ADVICE"];
            let mut line = String::new();
            for (h, w) in header.iter().zip(WIDTHS) {
                line.push_str(&cell(h, w));
                line.push(' ');
            }
            line.push_str("NEXT DOSE");
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    fn write(&mut self, r: &EvalResult) -> io::Result<()> {
        self.begin()?;
        let id =
            r.id.as_deref()
                .map(|i| shown(i).into_owned())
                .or_else(|| r.line.map(|l| format!("line {l}")))
                .unwrap_or_else(|| "-".into());
        let drug = r
            .drug
            .as_deref()
            .map_or_else(|| "-".into(), |d| shown(d).into_owned());
        let cells: Vec<String> = match &r.assessment {
            Some(a) => {
                let corrected = if a.exposure.corrected_from.is_some() {
                    "*"
                } else {
                    ""
                };
                let target = format!(
                    "{} {}",
                    Bounds(a.target.lower, a.target.upper),
                    a.target.unit
                );
                let next = match (a.next_dose_mg, a.next_interval_h) {
                    (Some(mg), Some(h)) => format!("{} mg q{}h", fmt_num(mg), fmt_num(h)),
                    _ => "-".into(),
                };
                vec![
                    id,
                    drug,
                    format!(
                        "{} {}{corrected}",
                        fmt_num(round_sig(a.exposure.value, 4)),
                        a.exposure.unit
                    ),
                    target,
                    a.classification.map_or("-", |c| c.as_str()).to_owned(),
                    a.advice.as_str().to_owned(),
                    next,
                ]
            }
            None => vec![id, drug, "error".into()],
        };
        let mut line = String::new();
        for (i, c) in cells.iter().enumerate() {
            match WIDTHS.get(i) {
                Some(&w) if i + 1 < cells.len() => {
                    line.push_str(&cell(c, w));
                    line.push(' ');
                }
                _ => line.push_str(c),
            }
        }
        writeln!(self.out, "{}", line.trim_end())?;
        if let Some(e) = &r.error {
            writeln!(self.out, "    error: {}", shown(e))?;
        }
        if let Some(product) = r.assessment.as_ref().and_then(|a| a.product.as_deref()) {
            writeln!(self.out, "    product: {}", shown(product))?;
        }
        if let Some(text) = &r.rationale {
            writeln!(self.out, "    {}", shown(text))?;
        }
        if let Some(a) = &r.assessment
            && !a.interventions.is_empty()
        {
            writeln!(
                self.out,
                "    interventions: {}",
                shown(&a.interventions.join("; "))
            )?;
        }
        if let Some(a) = &r.assessment
            && !a.conditions.is_empty()
        {
            writeln!(
                self.out,
                "    conditions: {}",
                shown(&a.conditions.join("; "))
            )?;
        }
        if let Some(m) = r.assessment.as_ref().and_then(|a| a.model.as_ref()) {
            writeln!(self.out, "    model: {}", shown(&model_line(m)))?;
            if let Some(d) = &m.recommendation {
                writeln!(
                    self.out,
                    "    model dose: {} mg q{}h (probability {:.2} of reaching the target; {}); its steady state after {} days",
                    fmt_num(d.dose_mg),
                    fmt_num(d.interval_h),
                    d.p_target,
                    shown(&d.note),
                    fmt_num(round_sig(d.next_level_after_days, 2)),
                )?;
            }
            if let Some(f) = &m.forecast {
                writeln!(
                    self.out,
                    "    model forecast{}: {} ng/mL from the {} earlier level{} (90 % of a measured level {}-{}), measured {} ({:+.0} %)",
                    // Of the parent, where the model's trough is of a total.
                    m.analyte
                        .split_once(" + ")
                        .map_or(String::new(), |(parent, _)| format!(" of {parent}")),
                    fmt_num(round_sig(f.predicted, 4)),
                    f.from_levels,
                    if f.from_levels == 1 { "" } else { "s" },
                    fmt_num(round_sig(f.lower_90, 3)),
                    fmt_num(round_sig(f.upper_90, 3)),
                    fmt_num(round_sig(f.observed, 4)),
                    f.error_percent,
                )?;
            }
        }
        for note in r
            .assessment
            .iter()
            .flat_map(|a| a.script.iter())
            .flat_map(|s| s.notes.iter())
        {
            writeln!(self.out, "    note: {}", shown(note))?;
        }
        for w in &r.warnings {
            writeln!(self.out, "    ! {}", shown(w))?;
        }
        if let Some(id) = &r.decision_id {
            writeln!(self.out, "    decision: {id} (audit log)")?;
        }
        writeln!(self.out)
    }

    fn finish(&mut self, summary: &str) -> io::Result<()> {
        writeln!(self.out, "{summary}")?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One line of what the population model says (informational).
fn model_line(m: &tdm_core::result::model::ModelFit) -> String {
    let own: Vec<String> = m
        .parameters
        .iter()
        .filter(|p| p.eta.is_some())
        .map(|p| {
            format!(
                "{} {} {} (typical {})",
                p.name.to_uppercase(),
                fmt_num(round_sig(p.value, 3)),
                p.unit,
                fmt_num(round_sig(p.typical, 3))
            )
        })
        .collect();
    let trough = m.trough.as_ref().map_or_else(
        || "no predicted trough".to_owned(),
        |t| {
            let of = if m.analyte.contains(" + ") {
                format!(" of {}", m.analyte)
            } else {
                String::new()
            };
            format!(
                "predicted trough{of} {} ng/mL (90 % {}-{}) at {} mg q{}h, shrinkage {:.2}",
                fmt_num(round_sig(t.value, 3)),
                fmt_num(round_sig(t.lower_90, 3)),
                fmt_num(round_sig(t.upper_90, 3)),
                fmt_num(t.dose_mg),
                fmt_num(t.interval_h),
                t.shrinkage
            )
        },
    );
    let levels = match m.levels_used {
        1 => "1 level".to_owned(),
        n => format!("{n} levels of the patient"),
    };
    format!(
        "{} (informational, {levels}): {}; {trough}",
        m.id,
        own.join(", ")
    )
}
