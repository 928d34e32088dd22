//! `tdm diff OLD NEW`: what changed between two pack versions, in clinical
//! terms, and which patients' advice would change.
//!
//! Exit codes as `diff`: 0 no clinical difference, 1 different, 2 error.

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Write};

use serde::Serialize;
use tdm_core::{
    EvalResult, InputFormat, Pack, Record, tools::Change, tools::ChangeKind, tools::Impact,
    tools::PackDiff, tools::diff_packs,
};

use crate::{DiffArgs, DiffFormat};

/// `diff`'s exit codes.
const SAME: u8 = 0;
const DIFFERENT: u8 = 1;
const TROUBLE: u8 = 2;

pub(crate) fn run(args: &DiffArgs) -> u8 {
    let load = |spec: &str| load(spec, args.allow_plugins);
    let (old, new) = match (load(&args.old), load(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return TROUBLE;
        }
    };
    let diff = diff_packs(&old, &new);
    let impact = match &args.samples {
        Some(path) => match impact(&old, &new, path) {
            Ok(i) => Some(i),
            Err(e) => {
                eprintln!("error: {e}");
                return TROUBLE;
            }
        },
        None => None,
    };
    let text = match args.format {
        DiffFormat::Human => human(&diff, impact.as_ref(), io::stdout().is_terminal()),
        DiffFormat::Markdown => markdown(&diff, impact.as_ref()),
        DiffFormat::Json => json(&diff, impact.as_ref()),
    };
    if let Err(e) = io::stdout().lock().write_all(text.as_bytes()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the output: {e}");
        }
        return TROUBLE;
    }
    let patients_differ = impact.as_ref().is_some_and(|i| !i.changed.is_empty());
    if diff.is_clinical() || patients_differ {
        DIFFERENT
    } else {
        SAME
    }
}

/// A pack from a directory, or from a git revision: `rules/ki-oncology@v1.0.0`.
pub(crate) fn load(spec: &str, allow_plugins: bool) -> Result<Pack, String> {
    let options = tdm_core::LoadOptions {
        plugins: crate::plugins(allow_plugins),
    };
    tdm_core::load_pack_with(tdm_core::PackSource::parse(spec), &options)
        .map_err(|e| format!("{spec}: {:?}", miette::Report::new(e)))
}

/// The samples whose result differs between the two packs.
#[derive(Serialize)]
struct SampleImpact {
    samples: usize,
    changed: Vec<ChangedSample>,
}

#[derive(Serialize)]
struct ChangedSample {
    id: Option<String>,
    line: Option<u64>,
    drug: Option<String>,
    old: Outcome,
    new: Outcome,
}

/// What a result tells the pharmacist to do.
#[derive(Serialize, PartialEq)]
struct Outcome {
    status: &'static str,
    classification: Option<&'static str>,
    advice: Option<&'static str>,
    next_dose_mg: Option<f64>,
    next_interval_h: Option<f64>,
}

impl Outcome {
    fn of(r: &EvalResult) -> Self {
        let a = r.assessment.as_ref();
        Outcome {
            status: r.status.as_str(),
            classification: a.and_then(|a| a.classification).map(|c| c.as_str()),
            advice: a.map(|a| a.advice.as_str()),
            next_dose_mg: a.and_then(|a| a.next_dose_mg),
            next_interval_h: a.and_then(|a| a.next_interval_h),
        }
    }

    fn show(&self) -> String {
        match (self.advice, self.classification) {
            (None, _) => "error".into(),
            (Some(advice), class) => {
                let dose = match (self.next_dose_mg, self.next_interval_h) {
                    (Some(mg), Some(h)) => {
                        format!(
                            ", {} mg q{}h",
                            tdm_core::result::fmt_num(mg),
                            tdm_core::result::fmt_num(h)
                        )
                    }
                    _ => String::new(),
                };
                format!("{} {advice}{dose}", class.unwrap_or("-"))
            }
        }
    }
}

fn impact(old: &Pack, new: &Pack, path: &str) -> Result<SampleImpact, String> {
    let format = InputFormat::from_path(path)
        .ok_or_else(|| format!("cannot tell the format of `{path}` (.json, .ndjson, .csv)"))?;
    let file = File::open(path).map_err(|e| format!("cannot open `{path}`: {e}"))?;
    let mut samples = 0;
    let mut changed = Vec::new();
    tdm_core::read_records(BufReader::new(file), format, |record: Record| {
        samples += 1;
        let before = tdm_core::evaluate_record(old, record.clone());
        let after = tdm_core::evaluate_record(new, record);
        let (o, n) = (Outcome::of(&before), Outcome::of(&after));
        if o != n {
            changed.push(ChangedSample {
                id: after.id.clone(),
                line: after.line,
                drug: after.drug.clone(),
                old: o,
                new: n,
            });
        }
        Ok(())
    })
    .map_err(|e| format!("{path}: {e}"))?;
    Ok(SampleImpact { samples, changed })
}

fn side(d: &tdm_core::result::PackId) -> String {
    format!("{} {} ({})", d.name, d.version, short(&d.digest))
}

/// `sha256:` and the first 12 hex digits.
pub(crate) fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

fn sign(c: &Change) -> &'static str {
    match c.kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Changed => "~",
    }
}

fn impact_word(i: Impact) -> &'static str {
    match i {
        Impact::Major => "major",
        Impact::Clinical => "clinical",
        Impact::Editorial => "editorial",
    }
}

/// `1000 ng/mL -> 1100 ng/mL (+10 %)`, or the one side there is.
fn values(c: &Change) -> String {
    match (&c.old, &c.new) {
        (Some(o), Some(n)) => {
            let percent = c
                .percent
                .map(|p| {
                    format!(
                        " ({}{} %)",
                        if p > 0.0 { "+" } else { "" },
                        tdm_core::result::fmt_num(p)
                    )
                })
                .unwrap_or_default();
            format!("{o} -> {n}{percent}")
        }
        (Some(v), None) | (None, Some(v)) => v.clone(),
        (None, None) => String::new(),
    }
}

/// A line diff of a script's two texts.
fn text_diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .to_string()
}

fn human(diff: &PackDiff, impact: Option<&SampleImpact>, colour: bool) -> String {
    let paint = |code: &str, text: String| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text
        }
    };
    let mut out = format!("{} -> {}\n", side(&diff.old), side(&diff.new));
    let mut scope: Option<Option<&String>> = None;
    for c in &diff.changes {
        if scope != Some(c.drug.as_ref()) {
            scope = Some(c.drug.as_ref());
            out.push_str(&match &c.drug {
                Some(d) => format!("\n{}\n", paint("1", d.clone())),
                None => "\npack\n".into(),
            });
        }
        let colour_code = match c.kind {
            ChangeKind::Added => "32",
            ChangeKind::Removed => "31",
            ChangeKind::Changed => "33",
        };
        let head = format!("  {} {}", sign(c), c.what);
        if c.what == "script text" {
            let body = text_diff(
                c.old.as_deref().unwrap_or(""),
                c.new.as_deref().unwrap_or(""),
            );
            out.push_str(&format!(
                "{} [{}]\n",
                paint(colour_code, head),
                impact_word(c.impact)
            ));
            for line in body.lines() {
                out.push_str(&format!("      {line}\n"));
            }
        } else {
            out.push_str(&format!(
                "{}: {} [{}]\n",
                paint(colour_code, head),
                values(c),
                impact_word(c.impact)
            ));
        }
    }
    out.push('\n');
    out.push_str(&summary(diff));
    if let Some(i) = impact {
        out.push_str(&format!(
            "\n{} of {} samples would get another result\n",
            i.changed.len(),
            i.samples
        ));
        for s in &i.changed {
            out.push_str(&format!(
                "  {} {}: {} -> {}\n",
                sample_name(s),
                s.drug.as_deref().unwrap_or("-"),
                s.old.show(),
                s.new.show()
            ));
        }
    }
    out
}

fn sample_name(s: &ChangedSample) -> String {
    match (&s.id, s.line) {
        (Some(id), _) => id.clone(),
        (None, Some(line)) => format!("line {line}"),
        (None, None) => "-".into(),
    }
}

fn summary(diff: &PackDiff) -> String {
    let count = |i: Impact| diff.changes.iter().filter(|c| c.impact == i).count();
    if diff.changes.is_empty() {
        return "no differences\n".into();
    }
    format!(
        "{} major, {} clinical, {} editorial change(s){}\n",
        count(Impact::Major),
        count(Impact::Clinical),
        count(Impact::Editorial),
        if diff.is_clinical() {
            ""
        } else {
            ": no clinical difference"
        }
    )
}

fn markdown(diff: &PackDiff, impact: Option<&SampleImpact>) -> String {
    let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
    let mut out = format!(
        "# {} -> {}\n\n{}",
        side(&diff.old),
        side(&diff.new),
        summary(diff)
    );
    if !diff.changes.is_empty() {
        out.push_str("\n| drug | change | old | new | % | impact |\n|---|---|---|---|---|---|\n");
        for c in &diff.changes {
            let (old, new) = if c.what == "script text" {
                ("(text)".to_owned(), "(text, see below)".to_owned())
            } else {
                (
                    cell(c.old.as_deref().unwrap_or("")),
                    cell(c.new.as_deref().unwrap_or("")),
                )
            };
            out.push_str(&format!(
                "| {} | {} {} | {old} | {new} | {} | {} |\n",
                c.drug.as_deref().unwrap_or("(pack)"),
                sign(c),
                cell(&c.what),
                c.percent.map(tdm_core::result::fmt_num).unwrap_or_default(),
                impact_word(c.impact)
            ));
        }
        for c in diff.changes.iter().filter(|c| c.what == "script text") {
            out.push_str(&format!(
                "\n## Script of {}\n\n```diff\n{}```\n",
                c.drug.as_deref().unwrap_or("-"),
                text_diff(
                    c.old.as_deref().unwrap_or(""),
                    c.new.as_deref().unwrap_or("")
                )
            ));
        }
    }
    if let Some(i) = impact {
        out.push_str(&format!(
            "\n## Impact on samples\n\n{} of {} samples would get another result.\n",
            i.changed.len(),
            i.samples
        ));
        if !i.changed.is_empty() {
            out.push_str("\n| sample | drug | old | new |\n|---|---|---|---|\n");
            for s in &i.changed {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    cell(&sample_name(s)),
                    s.drug.as_deref().unwrap_or("-"),
                    s.old.show(),
                    s.new.show()
                ));
            }
        }
    }
    out
}

fn json(diff: &PackDiff, impact: Option<&SampleImpact>) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        #[serde(flatten)]
        diff: &'a PackDiff,
        clinical: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        samples: Option<&'a SampleImpact>,
    }
    let report = Report {
        diff,
        clinical: diff.is_clinical(),
        samples: impact,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}
