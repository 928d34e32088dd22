//! What changed between two versions of a pack, in clinical terms.
//!
//! Both packs are compared as validated models, value by value, in
//! canonical units: re-indenting a file, reordering keys, rewriting a bound
//! from 1 mg/L to 1000 ng/mL or moving a comment changes nothing here,
//! while any number a decision reads does.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::pack::model::{Drug, HookProvider, Lower, Pack, Target, TroughCorrection};
use crate::result::PackId;
use crate::result::num::Num;

/// The differences between two packs.
#[derive(Debug, Clone, Serialize)]
pub struct PackDiff {
    /// The old pack: name, version, digest.
    pub old: PackId,
    /// The new pack.
    pub new: PackId,
    /// Every difference, pack-wide ones first, then by drug.
    pub changes: Vec<Change>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The drug it concerns; none for the manifest and policy.
    pub drug: Option<String>,
    /// What changed, e.g. ``target `cml` lower bound``.
    pub what: String,
    /// `added`, `removed` or `changed`.
    pub kind: ChangeKind,
    /// The old value, as a reviewer reads it.
    pub old: Option<String>,
    /// The new value.
    pub new: Option<String>,
    /// For a number: the change in percent of the old value.
    pub percent: Option<f64>,
    /// How much it matters.
    pub impact: Impact,
}

/// Added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only in the new pack.
    Added,
    /// Only in the old pack.
    Removed,
    /// In both, with another value.
    Changed,
}

/// How much a change matters, for review and for version numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Text for readers only (notes, references, citations, titles).
    Editorial,
    /// Changes what results say or how a sample is read, not the target
    /// or dose a decision rests on (evidence level, warnings, names).
    Clinical,
    /// Moves a decision: a target, a dose level, a drug or target added or
    /// removed, the policy, the trough correction, a script.
    Major,
}

impl PackDiff {
    /// Whether anything beyond editorial text differs.
    pub fn is_clinical(&self) -> bool {
        self.changes.iter().any(|c| c.impact >= Impact::Clinical)
    }
}

/// Compares `old` with `new`.
pub fn diff_packs(old: &Pack, new: &Pack) -> PackDiff {
    let mut changes = compare(None, &pack_facts(old), &pack_facts(new));
    let names = |p: &'_ Pack| -> BTreeMap<String, usize> {
        p.drugs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect()
    };
    let (old_drugs, new_drugs) = (names(old), names(new));
    let mut all: Vec<&String> = old_drugs.keys().chain(new_drugs.keys()).collect();
    all.sort();
    all.dedup();
    for name in all {
        match (old_drugs.get(name), new_drugs.get(name)) {
            (Some(&o), Some(&n)) => changes.extend(compare(
                Some(name),
                &drug_facts(&old.drugs[o]),
                &drug_facts(&new.drugs[n]),
            )),
            (o, n) => changes.push(Change {
                drug: Some(name.clone()),
                what: "drug".into(),
                kind: if o.is_some() {
                    ChangeKind::Removed
                } else {
                    ChangeKind::Added
                },
                old: o.map(|&i| drug_summary(&old.drugs[i])),
                new: n.map(|&i| drug_summary(&new.drugs[i])),
                percent: None,
                impact: Impact::Major,
            }),
        }
    }
    PackDiff {
        old: old.id().clone(),
        new: new.id().clone(),
        changes,
    }
}

/// One comparable value of a pack.
#[derive(Debug, Clone, PartialEq)]
struct Fact {
    value: Value,
    impact: Impact,
    /// Facts of one group (a target) are added or removed as one change.
    group: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Number(f64, &'static str),
    Text(String),
}

impl Value {
    fn show(&self) -> String {
        match self {
            Value::Number(v, "") => Num(*v).to_string(),
            Value::Number(v, unit) => format!("{} {unit}", Num(*v)),
            Value::Text(t) => t.clone(),
        }
    }
}

type Facts = BTreeMap<String, Fact>;

fn compare(drug: Option<&String>, old: &Facts, new: &Facts) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut groups_done: Vec<String> = Vec::new();
    for key in keys {
        let (o, n) = (old.get(key), new.get(key));
        if o == n {
            continue;
        }
        // A group (a target) present on one side only is one change.
        let group = o.or(n).and_then(|f| f.group.clone());
        if let Some(g) = &group {
            let in_old = old.values().any(|f| f.group.as_ref() == Some(g));
            let in_new = new.values().any(|f| f.group.as_ref() == Some(g));
            if in_old != in_new {
                if !groups_done.contains(g) {
                    groups_done.push(g.clone());
                    let side = if in_old { old } else { new };
                    let summary = side
                        .iter()
                        .filter(|(_, f)| f.group.as_ref() == Some(g))
                        .map(|(k, f)| {
                            format!(
                                "{}: {}",
                                k.trim_start_matches(g.as_str()).trim(),
                                f.value.show()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    changes.push(Change {
                        drug: drug.cloned(),
                        what: g.clone(),
                        kind: if in_old {
                            ChangeKind::Removed
                        } else {
                            ChangeKind::Added
                        },
                        old: in_old.then(|| summary.clone()),
                        new: in_new.then_some(summary),
                        percent: None,
                        impact: Impact::Major,
                    });
                }
                continue;
            }
        }
        let percent = match (o.map(|f| &f.value), n.map(|f| &f.value)) {
            (Some(Value::Number(a, _)), Some(Value::Number(b, _))) if *a != 0.0 => {
                Some(crate::result::num::round_sig((b - a) / a * 100.0, 3))
            }
            _ => None,
        };
        changes.push(Change {
            drug: drug.cloned(),
            what: key.clone(),
            kind: match (o, n) {
                (None, _) => ChangeKind::Added,
                (_, None) => ChangeKind::Removed,
                _ => ChangeKind::Changed,
            },
            old: o.map(|f| f.value.show()),
            new: n.map(|f| f.value.show()),
            percent,
            impact: o.or(n).map_or(Impact::Clinical, |f| f.impact),
        });
    }
    changes
}

/// Collects facts with their impact.
pub(super) struct Collector {
    facts: Facts,
    pub(super) group: Option<String>,
}

impl Collector {
    pub(super) fn new() -> Self {
        Collector {
            facts: Facts::new(),
            group: None,
        }
    }

    fn add(&mut self, key: impl Into<String>, value: Value, impact: Impact) {
        let fact = Fact {
            value,
            impact,
            group: self.group.clone(),
        };
        self.facts.insert(key.into(), fact);
    }

    pub(super) fn num(
        &mut self,
        key: impl Into<String>,
        value: Option<f64>,
        unit: &'static str,
        impact: Impact,
    ) {
        if let Some(v) = value {
            self.add(key, Value::Number(v, unit), impact);
        }
    }

    pub(super) fn text(&mut self, key: impl Into<String>, value: Option<&str>, impact: Impact) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.add(key, Value::Text(v.to_owned()), impact);
        }
    }

    pub(super) fn list(&mut self, key: impl Into<String>, values: &[String], impact: Impact) {
        self.text(key, Some(&values.join(", ")), impact);
    }
}

fn pack_facts(p: &Pack) -> Facts {
    use Impact::*;
    let mut c = Collector::new();
    c.text("title", Some(&p.title), Editorial);
    c.text("description", p.description.as_deref(), Editorial);
    c.text("effective date", p.effective.as_deref(), Editorial);
    let policy = &p.policy;
    c.num(
        "policy: toxicity grade that changes the decision",
        Some(f64::from(policy.toxicity_grade)),
        "",
        Major,
    );
    c.text(
        "policy: act on population-mean targets",
        Some(if policy.act_on_population_mean {
            "yes"
        } else {
            "no"
        }),
        Major,
    );
    c.num(
        "policy: half-lives to steady state",
        Some(policy.steady_state_half_lives),
        "",
        Major,
    );
    c.num(
        "policy: trough tolerance",
        Some(policy.trough_tolerance_h),
        "h",
        Major,
    );
    c.num(
        "policy: spread of an exposure whose source gives none",
        policy.default_cv.map(|cv| cv * 100.0),
        "%",
        Major,
    );
    c.num(
        "policy: largest swing for an untimed sample read as a trough",
        policy.untimed_trough_max_swing,
        "",
        Major,
    );
    c.num(
        "policy: probability a model's dose must reach the target with",
        Some(policy.model_target_probability),
        "",
        Clinical,
    );
    let steps: Vec<String> = policy
        .interventions_before_increase
        .iter()
        .map(|i| i.action.clone())
        .collect();
    c.list("policy: steps before any increase", &steps, Clinical);
    c.list("policy: unconfirmed", &policy.unconfirmed, Clinical);
    if let Some(a) = &p.approval {
        c.text("approved by", Some(&a.by), Editorial);
        c.text("approved on", Some(&a.on), Editorial);
        c.text("approval note", a.note.as_deref(), Editorial);
    }
    for (id, citation) in &p.sources {
        c.text(format!("source `{id}`"), Some(citation), Editorial);
    }
    c.facts
}

fn drug_summary(d: &Drug) -> String {
    let targets: Vec<String> = d.targets.iter().map(crate::eval::describe_target).collect();
    if targets.is_empty() {
        d.group.clone()
    } else {
        format!("{}; targets: {}", d.group, targets.join("; "))
    }
}

fn drug_facts(d: &Drug) -> Facts {
    use Impact::*;
    let mut c = Collector::new();
    c.list("aliases", &d.aliases, Clinical);
    c.text("group", Some(&d.group), Editorial);
    c.list("notes", &d.notes, Editorial);
    c.text(
        "pharmacokinetics unconfirmed",
        d.pk_unconfirmed.as_deref(),
        Clinical,
    );
    for (i, a) in d.analytes.iter().enumerate() {
        let role = if i == 0 { "parent" } else { "metabolite" };
        let name = format!("analyte `{}`", a.name);
        c.text(format!("{name} role"), Some(role), Major);
        c.list(format!("{name} aliases"), &a.aliases, Clinical);
        c.num(format!("{name} molar mass"), a.molar_mass, "g/mol", Major);
        c.num(format!("{name} half-life"), a.half_life_h, "h", Major);
        c.text(
            format!("{name} unconfirmed"),
            a.unconfirmed.as_deref(),
            Clinical,
        );
    }
    c.num("half-life", d.half_life_h, "h", Major);
    c.num("days to steady state", d.steady_state_days, "days", Major);
    let correction = match &d.correction {
        TroughCorrection::LogLinear { valid_from_h } => {
            format!("log-linear from {} h after the dose", Num(*valid_from_h))
        }
        TroughCorrection::None { reason } => format!("none ({reason})"),
    };
    c.text("trough correction", Some(&correction), Major);
    for t in &d.targets {
        target_facts(&mut c, d, t);
    }
    c.group = None;
    for s in &d.signals {
        let key = format!("toxicity signal above {}", Num(s.above));
        c.text(key.clone(), Some(&s.effect), Clinical);
        c.list(format!("{key} references"), &s.references, Editorial);
    }
    let dosing = &d.dosing;
    c.num("dosing interval", Some(dosing.interval_h), "h", Major);
    let levels: Vec<String> = dosing
        .levels
        .iter()
        .map(|l| {
            let label = if l.label { "" } else { " (beyond the label)" };
            format!("{}{label}", l.describe())
        })
        .collect();
    c.list("dose levels", &levels, Major);
    c.text(
        "standard dose",
        dosing
            .levels
            .get(dosing.standard)
            .map(|l| l.describe())
            .as_deref(),
        Major,
    );
    for l in &dosing.levels {
        c.text(
            format!("dose level {} note", l.describe()),
            l.note.as_deref(),
            Clinical,
        );
        c.text(
            format!("dose level {} unconfirmed", l.describe()),
            l.unconfirmed.as_deref(),
            Clinical,
        );
    }
    let steps: Vec<String> = dosing
        .interventions
        .iter()
        .map(|i| i.action.clone())
        .collect();
    c.list("steps before an increase", &steps, Clinical);
    let strengths: Vec<String> = dosing
        .strengths_mg
        .iter()
        .map(|s| Num(*s).to_string())
        .collect();
    c.list("strengths (mg)", &strengths, Clinical);
    c.text(
        "dose levels unconfirmed",
        dosing.unconfirmed.as_deref(),
        Clinical,
    );
    match &d.hooks {
        Some(HookProvider::Script(s)) => {
            c.text("script", Some(&s.path), Major);
            c.text("script text", Some(&s.source), Major);
        }
        Some(HookProvider::Plugin { path, .. }) => c.text("native plugin", Some(path), Major),
        None => {}
    }
    c.list("extra inputs", &d.inputs, Clinical);
    super::diff_label::label_facts(&mut c, d);
    super::diff_label::model_facts(&mut c, d);
    for p in &d.products {
        super::diff_label::product_facts(&mut c, p);
    }
    c.facts
}

fn target_facts(c: &mut Collector, d: &Drug, t: &Target) {
    use Impact::*;
    let name = format!("target `{}`", t.id);
    c.group = Some(name.clone());
    let unit = t.measure.quantity().canonical();
    c.text(format!("{name} measure"), Some(t.measure.label()), Major);
    match t.lower {
        Some(Lower::Fixed(v)) => c.num(format!("{name} lower bound"), Some(v), unit, Major),
        Some(Lower::PerMgDose(k)) => c.text(
            format!("{name} lower bound"),
            Some(&format!("{} {unit} per mg of dose", Num(k))),
            Major,
        ),
        None => {}
    }
    c.num(format!("{name} upper bound"), t.upper, unit, Major);
    c.text(
        format!("{name} reduction above the upper bound"),
        t.reduce_above.as_deref(),
        Major,
    );
    c.text(format!("{name} basis"), Some(t.basis.as_str()), Major);
    c.text(
        format!("{name} evidence"),
        Some(t.evidence.as_str()),
        Clinical,
    );
    c.text(
        format!("{name} use"),
        Some(if t.primary { "primary" } else { "alternative" }),
        Major,
    );
    c.text(format!("{name} default"), t.default.then_some("yes"), Major);
    c.list(format!("{name} indications"), &t.indications, Major);
    c.list(format!("{name} regimens"), &t.regimens, Major);
    let sum_of: Vec<String> = t
        .sum_of
        .iter()
        .map(|&i| d.analytes[i].name.clone())
        .collect();
    c.list(format!("{name} sum of"), &sum_of, Major);
    c.num(
        format!("{name} population mean"),
        t.population_mean,
        unit,
        Clinical,
    );
    c.text(format!("{name} outcome"), t.outcome.as_deref(), Editorial);
    c.list(format!("{name} references"), &t.references, Editorial);
    c.text(format!("{name} note"), t.note.as_deref(), Editorial);
    super::diff_label::target_extras(c, &name, t);
}
