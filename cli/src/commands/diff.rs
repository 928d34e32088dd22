//! `tdm diff OLD NEW`: what changed between two pack versions, in clinical
//! terms, and which patients' advice would change.
//!
//! Exit codes as `diff`: 0 no clinical difference, 1 different, 2 error.

use std::io::{self, IsTerminal, Write};

use crate::context::{self, CliError};
use clap::{Args, ValueEnum};
use serde::Serialize;
use tdm_core::eval::Histories;
use tdm_core::{
    EvalResult, Pack, Record, tools::Change, tools::ChangeKind, tools::Impact, tools::PackDiff,
    tools::diff_packs,
};

/// Arguments of `tdm diff`.
#[derive(Args)]
pub(crate) struct DiffArgs {
    /// The old pack: a directory, or a directory at a git revision (`rules/ki-oncology@v1.0.0`).
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new pack, as OLD.
    #[arg(value_name = "NEW")]
    pub new: String,
    /// `human` (default; colour on a terminal), `markdown` (for a committee document) or `json`.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Evaluate these samples against both packs and list every one whose
    /// classification, advice or next dose changes.
    #[arg(long, value_name = "FILE")]
    pub samples: Option<String>,
    /// Load the native plugins the packs pin.
    #[arg(long)]
    pub allow_plugins: bool,
    /// Colour the human format: `auto` (on a terminal, unless NO_COLOR is
    /// set), `always` or `never`.
    #[arg(long, value_enum, default_value_t = Colour::Auto)]
    pub color: Colour,
}

/// When `tdm diff` colours its text.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Colour {
    /// On a terminal, unless the NO_COLOR environment variable is set and not empty.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl Colour {
    fn wanted(self) -> bool {
        match self {
            Colour::Always => true,
            Colour::Never => false,
            // https://no-color.org: present and not empty turns colour off.
            Colour::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && io::stdout().is_terminal()
            }
        }
    }
}

/// Formats of `tdm diff`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// Text for a reviewer.
    Human,
    /// Markdown tables for a committee document.
    Markdown,
    /// JSON for tooling.
    Json,
}

/// `diff`'s exit codes.
const SAME: u8 = 0;
const DIFFERENT: u8 = 1;
pub(crate) const TROUBLE: u8 = 2;

/// Answers as `diff` does: 0 same, 1 different; an error is 2 (the caller's).
pub(crate) fn run(args: &DiffArgs) -> Result<u8, CliError> {
    let old = context::load_pack(&args.old, args.allow_plugins)?;
    let new = context::load_pack(&args.new, args.allow_plugins)?;
    let diff = diff_packs(&old, &new);
    let impact = match &args.samples {
        Some(path) => Some(impact(&old, &new, path)?),
        None => None,
    };
    let text = match args.format {
        DiffFormat::Human => human(&diff, impact.as_ref(), args.color.wanted()),
        DiffFormat::Markdown => markdown(&diff, impact.as_ref()),
        DiffFormat::Json => json(&diff, impact.as_ref()),
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::output("the output", e))?;
    let patients_differ = impact.as_ref().is_some_and(|i| !i.changed.is_empty());
    Ok(if diff.is_clinical() || patients_differ {
        DIFFERENT
    } else {
        SAME
    })
}

/// The samples whose result differs between the two packs.
#[derive(Serialize)]
pub(crate) struct SampleImpact {
    pub samples: usize,
    pub changed: Vec<ChangedSample>,
}

#[derive(Serialize)]
pub(crate) struct ChangedSample {
    pub id: Option<String>,
    pub line: Option<u64>,
    pub drug: Option<String>,
    pub old: Outcome,
    pub new: Outcome,
}

/// What a result tells the pharmacist to do, and the dose the patient's
/// model points to (its probability is left out: a model change moves
/// every probability a little, the dose is what a pharmacist acts on).
#[derive(Serialize, PartialEq)]
pub(crate) struct Outcome {
    status: &'static str,
    classification: Option<&'static str>,
    advice: Option<&'static str>,
    next_dose_mg: Option<f64>,
    next_interval_h: Option<f64>,
    /// The population model fitted, if any.
    model: Option<String>,
    model_dose_mg: Option<f64>,
    model_interval_h: Option<f64>,
}

impl Outcome {
    fn of(r: &EvalResult) -> Self {
        let a = r.assessment.as_ref();
        let model = a.and_then(|a| a.model.as_ref());
        let recommended = model.and_then(|m| m.recommendation.as_ref());
        Outcome {
            status: r.status.as_str(),
            classification: a.and_then(|a| a.classification).map(|c| c.as_str()),
            advice: a.map(|a| a.advice.as_str()),
            next_dose_mg: a.and_then(|a| a.next_dose_mg),
            next_interval_h: a.and_then(|a| a.next_interval_h),
            model: model.map(|m| m.id.clone()),
            model_dose_mg: recommended.map(|m| m.dose_mg),
            model_interval_h: recommended.map(|m| m.interval_h),
        }
    }

    pub(crate) fn show(&self) -> String {
        match (self.advice, self.classification) {
            (None, _) => "error".into(),
            (Some(advice), class) => {
                let regimen = |mg: Option<f64>, h: Option<f64>| match (mg, h) {
                    (Some(mg), Some(h)) => format!(
                        "{} mg q{}h",
                        tdm_core::result::fmt_num(mg),
                        tdm_core::result::fmt_num(h)
                    ),
                    _ => String::new(),
                };
                let mut text = format!("{} {advice}", class.unwrap_or("-"));
                let dose = regimen(self.next_dose_mg, self.next_interval_h);
                if !dose.is_empty() {
                    text = format!("{text}, {dose}");
                }
                let model = regimen(self.model_dose_mg, self.model_interval_h);
                if !model.is_empty() {
                    text = format!("{text} (model: {model})");
                } else if self.model.is_some() {
                    text = format!("{text} (model: no dose)");
                }
                text
            }
        }
    }
}

fn impact(old: &Pack, new: &Pack, path: &str) -> Result<SampleImpact, CliError> {
    let input = context::open_samples(path, None)?;
    Ok(impact_of(old, new, input.reader, input.format)?)
}

/// The samples of `input` whose result differs between `old` and `new`.
pub(crate) fn impact_of(
    old: &Pack,
    new: &Pack,
    input: impl io::BufRead,
    format: tdm_core::InputFormat,
) -> Result<SampleImpact, tdm_core::input::InputError> {
    let mut samples = 0;
    let mut changed = Vec::new();
    let (mut old_histories, mut new_histories) = <(Histories, Histories)>::default();
    // FHIR and HL7 input are read through the new version's code maps.
    tdm_core::read_records(input, format, new, |record: Record| {
        samples += 1;
        let before = old_histories.evaluate_record(old, record.clone());
        let after = new_histories.evaluate_record(new, record);
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
    })?;
    Ok(SampleImpact { samples, changed })
}

fn side(d: &tdm_core::result::PackId) -> String {
    format!("{} {} ({})", d.name, d.version, short(&d.digest))
}

/// `sha256:` and the first 12 hex digits.
pub(crate) fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

pub(crate) fn sign(c: &Change) -> &'static str {
    match c.kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Changed => "~",
    }
}

pub(crate) fn impact_word(i: Impact) -> &'static str {
    match i {
        Impact::Major => "major",
        Impact::Clinical => "clinical",
        Impact::Editorial => "editorial",
    }
}

/// `1000 ng/mL -> 1100 ng/mL (+10 %)`, or the one side there is.
pub(crate) fn values(c: &Change) -> String {
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

pub(crate) fn sample_name(s: &ChangedSample) -> String {
    match (&s.id, s.line) {
        (Some(id), _) => id.clone(),
        (None, Some(line)) => format!("line {line}"),
        (None, None) => "-".into(),
    }
}

pub(crate) fn summary(diff: &PackDiff) -> String {
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
