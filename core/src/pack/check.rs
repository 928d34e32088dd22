//! The clinical checks of a pack beyond its shape: citations, units,
//! bounds, dose ladders, analytes, plausibility. Each check records a
//! [`Problem`] at the offending value and goes on, so that an author sees
//! every problem at once; the validated model is built from the same pass.

use std::sync::Arc;

use crate::input::units::Unit;
use crate::pack::error::{Position, Problem, ProblemKind};
use crate::pack::model::*;
use crate::pack::raw::*;
use crate::pack::yaml::{self, Spanned};
use crate::result::num::Num;

/// Checks raw values of one file at a time and records every problem.
pub(crate) struct Checker<'a> {
    pub problems: &'a mut Vec<Problem>,
    pub file: &'a str,
    pub text: Arc<str>,
    pub sources: Vec<String>,
    /// Compiled scripts of the pack, by path.
    pub scripts: std::collections::HashMap<String, Arc<crate::pack::script::Script>>,
    /// The pack's plugins by name, loaded or why not.
    pub plugins: std::collections::HashMap<String, PluginState>,
}

/// A declared plugin after its pin was checked.
pub(crate) enum PluginState {
    /// Loaded and ready.
    Loaded(String, Arc<dyn crate::pack::plugin::NativePlugin>),
    /// Pin checked, not loaded (`tdm validate`).
    Verified,
    /// Not loaded: the operator did not opt in.
    NeedsOptIn(String),
    /// Refused (the problem is already reported).
    Refused,
}

impl Checker<'_> {
    pub(crate) fn report(&mut self, at: Position, message: impl Into<String>, help: Option<&str>) {
        let mut p = Problem::new(ProblemKind::Rule, self.file, at, message);
        p.help = help.map(str::to_owned);
        p.text = Some(self.text.clone());
        self.problems.push(p);
    }

    /// A `source:` must start with a source id declared in `pack.yaml`.
    pub(crate) fn source(&mut self, source: &Spanned<String>) {
        let id = source
            .value
            .split([' ', ':', ',', ';'])
            .next()
            .unwrap_or_default();
        if !self.sources.iter().any(|s| s == id) {
            let known = self.sources.join(", ");
            self.report(
                yaml::position(source),
                format!(
                    "source `{}` does not start with a known source id",
                    source.value
                ),
                Some(&format!(
                    "start it with one of the ids under `sources:` in pack.yaml: {known}"
                )),
            );
        }
    }

    pub(crate) fn positive(&mut self, value: &Spanned<f64>, what: &str) -> f64 {
        if !(value.value.is_finite() && value.value > 0.0) {
            self.report(
                yaml::position(value),
                format!("{what} must be a positive number, got {}", value.value),
                None,
            );
        }
        value.value
    }

    pub(crate) fn version(&mut self, version: &Spanned<String>) {
        if let Err(e) = semver::Version::parse(&version.value) {
            self.report(
                yaml::position(version),
                format!("version `{}` is not a semantic version: {e}", version.value),
                Some("write MAJOR.MINOR.PATCH, e.g. `1.0.0`, quoted if YAML would read it as a number"),
            );
        }
    }

    /// The changelog and approval: dates are dates, versions are semantic,
    /// and the pack's own version has an entry once there is a changelog.
    pub(crate) fn history(&mut self, m: &RawManifest) -> (Vec<ChangelogEntry>, Option<Approval>) {
        let mut seen: Vec<&str> = Vec::new();
        let mut entries = Vec::new();
        for e in &m.changelog {
            self.version(&e.version);
            self.date(&e.date);
            if e.changes.value.is_empty() {
                self.report(
                    yaml::position(&e.changes),
                    format!("the changelog entry of {} lists no change", e.version.value),
                    Some("say what changed, one line each"),
                );
            }
            if seen.contains(&e.version.value.as_str()) {
                self.report(
                    yaml::position(&e.version),
                    format!("version {} has two changelog entries", e.version.value),
                    None,
                );
            }
            seen.push(&e.version.value);
            entries.push(ChangelogEntry {
                version: e.version.value.clone(),
                date: e.date.value.clone(),
                changes: e.changes.value.clone(),
            });
        }
        if !m.changelog.is_empty() && !seen.contains(&m.version.value.as_str()) {
            self.report(
                yaml::position(&m.version),
                format!("version {} has no changelog entry", m.version.value),
                Some("add an entry for this version under `changelog:` saying what changed"),
            );
        }
        if let Some(effective) = &m.effective {
            self.date(effective);
        }
        let approval = m.approval.as_ref().map(|a| {
            self.date(&a.on);
            Approval {
                by: a.by.clone(),
                on: a.on.value.clone(),
                note: a.note.clone(),
            }
        });
        (entries, approval)
    }

    fn date(&mut self, date: &Spanned<String>) {
        if !crate::input::time::is_date(&date.value) {
            self.report(
                yaml::position(date),
                format!("`{}` is not a date", date.value),
                Some("write the date as YYYY-MM-DD, quoted"),
            );
        }
    }

    pub(crate) fn policy(&mut self, m: &RawManifest) -> Policy {
        /// posologyr's default; design.md: the targets are cut-points of
        /// single troughs, so the median prediction reaching one is the
        /// natural reading.
        const DEFAULT_TARGET_PROBABILITY: f64 = 0.5;
        let p = &m.policy;
        self.source(&p.toxicity_grade.source);
        self.source(&p.act_on_population_mean.source);
        self.source(&p.steady_state_half_lives.source);
        self.source(&p.trough_tolerance_h.source);
        let grade = &p.toxicity_grade.value;
        if !(1..=5).contains(&grade.value) {
            self.report(
                yaml::position(grade),
                "toxicity_grade must be a CTCAE grade from 1 to 5",
                None,
            );
        }
        let half_lives = self.positive(&p.steady_state_half_lives.value, "steady_state_half_lives");
        let tolerance = &p.trough_tolerance_h.value;
        if !(tolerance.value.is_finite() && tolerance.value >= 0.0) {
            self.report(
                yaml::position(tolerance),
                "trough_tolerance_h must be zero or more",
                None,
            );
        }
        let default_cv = p.default_cv_percent.as_ref().map(|c| {
            self.source(&c.source);
            self.positive(&c.value, "default_cv_percent") / 100.0
        });
        let untimed_trough_max_swing = p.untimed_trough_max_swing.as_ref().map(|c| {
            self.source(&c.source);
            let swing = self.positive(&c.value, "untimed_trough_max_swing");
            if swing < 1.0 {
                self.report(
                    yaml::position(&c.value),
                    "untimed_trough_max_swing is a ratio of peak to trough: 1 or more",
                    None,
                );
            }
            swing
        });
        let model_target_probability = p.model_target_probability.as_ref().map(|c| {
            self.source(&c.source);
            let v = &c.value;
            if !(v.value > 0.0 && v.value < 1.0) {
                self.report(
                    yaml::position(v),
                    "model_target_probability is a probability: above 0 and below 1",
                    None,
                );
            }
            v.value
        });
        Policy {
            default_cv,
            untimed_trough_max_swing,
            model_target_probability: model_target_probability.unwrap_or(DEFAULT_TARGET_PROBABILITY),
            toxicity_grade: grade.value,
            act_on_population_mean: p.act_on_population_mean.value,
            steady_state_half_lives: half_lives,
            trough_tolerance_h: tolerance.value,
            interventions_before_increase: self.interventions(&p.interventions_before_increase),
            unconfirmed: [
                ("toxicity_grade", &p.toxicity_grade.unconfirmed),
                (
                    "act_on_population_mean",
                    &p.act_on_population_mean.unconfirmed,
                ),
                (
                    "steady_state_half_lives",
                    &p.steady_state_half_lives.unconfirmed,
                ),
                ("trough_tolerance_h", &p.trough_tolerance_h.unconfirmed),
                (
                    "default_cv_percent",
                    &p.default_cv_percent
                        .as_ref()
                        .and_then(|c| c.unconfirmed.clone()),
                ),
                (
                    "untimed_trough_max_swing",
                    &p.untimed_trough_max_swing
                        .as_ref()
                        .and_then(|c| c.unconfirmed.clone()),
                ),
                (
                    "model_target_probability",
                    &p.model_target_probability.as_ref().map_or_else(
                        || Some(format!("{DEFAULT_TARGET_PROBABILITY} by default (the model's prediction reaches the target): a local convention, no kinase-inhibitor source gives another")),
                        |c| c.unconfirmed.clone(),
                    ),
                ),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
            .collect(),
        }
    }

    fn interventions(&mut self, raw: &[RawIntervention]) -> Vec<Intervention> {
        raw.iter()
            .map(|i| {
                self.source(&i.source);
                Intervention {
                    action: i.action.clone(),
                    beyond_label: i.beyond_label,
                }
            })
            .collect()
    }

    pub(crate) fn drug(&mut self, raw: &RawDrug) -> Option<Drug> {
        let before = self.problems.len();
        let name = raw.drug.value.trim().to_owned();
        if name.is_empty() || name != name.to_lowercase() {
            self.report(
                yaml::position(&raw.drug),
                format!("drug name `{}` must be a lower-case INN", raw.drug.value),
                None,
            );
        }
        self.source(&raw.pk.source);
        let half_life_h = raw
            .pk
            .half_life_h
            .as_ref()
            .map(|h| self.positive(h, "half_life_h"));
        let analytes = self.analytes(raw, half_life_h);
        let steady_state_days = raw
            .pk
            .steady_state_days
            .as_ref()
            .map(|d| self.positive(d, "steady_state_days"));
        let correction = self.correction(raw, half_life_h);
        let targets = self.targets(raw, &analytes);
        let signals = raw
            .toxicity_signals
            .iter()
            .map(|s| {
                self.source(&s.source);
                let above = self.positive(&s.above, "above");
                let unit = self.unit(&s.unit, crate::input::units::Quantity::Concentration);
                Signal {
                    above: unit
                        .and_then(|u| u.to_canonical(above, None).ok())
                        .unwrap_or(above),
                    effect: s.effect.clone(),
                    references: s.references.clone(),
                }
            })
            .collect();
        let dosing = self.dosing(&raw.dosing)?;
        self.molar_masses(raw, &targets);
        let script = raw
            .script
            .as_ref()
            .and_then(|s| self.script(s))
            .map(HookProvider::Script);
        let plugin = raw.plugin.as_ref().and_then(|p| self.plugin(p));
        if let (Some(_), Some(p)) = (&raw.script, &raw.plugin) {
            self.report(
                yaml::position(p),
                "a drug rule may use a script or a plugin, not both",
                Some("move the hooks into one of them"),
            );
        }
        let hooks = script.or(plugin);
        let no_target = self.no_target(raw);
        let toxicity = self.toxicity_management(raw);
        let acid_reducers = self.interactions(raw);
        let near_assay_limits = raw.near_assay_limits.as_ref().map(|n| {
            self.source(&n.source);
            (n.reason.clone(), n.unconfirmed.clone())
        });
        let models = self.models(raw);
        if self.problems.len() > before {
            return None;
        }
        let drug = Drug {
            name,
            aliases: raw.aliases.clone(),
            group: raw.group.clone(),
            notes: raw.notes.clone(),
            pk_unconfirmed: raw.pk.unconfirmed.clone(),
            analytes,
            half_life_h,
            steady_state_days,
            correction,
            targets,
            signals,
            dosing,
            hooks,
            inputs: raw.inputs.clone(),
            product: None,
            products: Vec::new(),
            no_target,
            toxicity,
            acid_reducers,
            near_assay_limits,
            models,
        };
        let products = self.products(raw, &drug);
        if self.problems.len() > before {
            return None;
        }
        Some(Drug { products, ..drug })
    }

    fn analytes(&mut self, raw: &RawDrug, parent_half_life: Option<f64>) -> Vec<Analyte> {
        let mut out = Vec::new();
        for (i, a) in raw.analytes.iter().enumerate() {
            self.source(&a.source);
            let is_parent = a.role == Role::Parent;
            if is_parent != (i == 0) {
                self.report(
                    yaml::position(&a.name),
                    "the parent drug must be the first analyte, and only the first",
                    Some("list the parent (role: parent) first, then its metabolites"),
                );
            }
            if is_parent && a.name.value.to_lowercase() != raw.drug.value.to_lowercase() {
                self.report(
                    yaml::position(&a.name),
                    format!(
                        "the parent analyte `{}` must be named like the drug `{}`",
                        a.name.value, raw.drug.value
                    ),
                    None,
                );
            }
            let molar_mass = a
                .molar_mass
                .as_ref()
                .map(|m| self.positive(m, "molar_mass"));
            let own = a
                .half_life_h
                .as_ref()
                .map(|h| self.positive(h, "half_life_h"));
            if is_parent && let Some(h) = &a.half_life_h {
                self.report(
                    yaml::position(h),
                    "the parent's half-life belongs under `pk: half_life_h`",
                    None,
                );
            }
            out.push(Analyte {
                name: a.name.value.clone(),
                aliases: a.aliases.clone(),
                molar_mass,
                half_life_h: if is_parent { parent_half_life } else { own },
                unconfirmed: a.unconfirmed.clone(),
            });
        }
        if out.is_empty() {
            self.report(
                yaml::position(&raw.drug),
                "a drug needs at least its parent analyte",
                None,
            );
        }
        out
    }

    /// Every analyte a sample may carry in a molar unit needs a molar mass,
    /// or a stated reason why it is unknown.
    fn molar_masses(&mut self, raw: &RawDrug, targets: &[Target]) {
        for (i, a) in raw.analytes.iter().enumerate() {
            let counted = i == 0 || targets.iter().any(|t| t.sum_of.contains(&i));
            if counted && a.molar_mass.is_none() && a.unconfirmed.is_none() {
                self.report(
                    yaml::position(&a.name),
                    format!("analyte `{}` has no molar_mass: a sample in nmol/L or µmol/L could not be converted", a.name.value),
                    Some("add `molar_mass` (g/mol of the free base) with its source, or say why it is unknown in `unconfirmed`"),
                );
            }
        }
    }

    /// The drug's script: a path inside the pack, present and compiled.
    fn script(&mut self, script: &Spanned<String>) -> Option<Arc<crate::pack::script::Script>> {
        let path = &script.value;
        let inside = path.starts_with("scripts/")
            && path.ends_with(".rhai")
            && !path.contains("..")
            && !path.contains('\\')
            && !path["scripts/".len().min(path.len())..].contains('/');
        if !inside {
            self.report(
                yaml::position(script),
                format!("script `{path}` is not a path inside the pack"),
                Some("write a relative path under `scripts/` ending in `.rhai`, e.g. `scripts/nintedanib.rhai`"),
            );
            return None;
        }
        let found = self.scripts.get(path).cloned();
        if found.is_none() && !self.problems.iter().any(|p| &p.file == path) {
            self.report(
                yaml::position(script),
                format!("script `{path}` is not in the pack"),
                Some("add the file under the pack's `scripts/` directory, or correct the name"),
            );
        }
        found
    }

    /// The drug's plugin: declared in pack.yaml, pinned, and loaded (or not needed to be).
    fn plugin(&mut self, name: &Spanned<String>) -> Option<HookProvider> {
        match self.plugins.get(&name.value) {
            None => {
                let declared: Vec<&str> = self.plugins.keys().map(String::as_str).collect();
                self.report(
                    yaml::position(name),
                    format!(
                        "plugin `{}` is not declared under `plugins:` in pack.yaml",
                        name.value
                    ),
                    Some(&format!(
                        "declare it with its path and sha256 (declared: {})",
                        if declared.is_empty() {
                            "none".to_owned()
                        } else {
                            declared.join(", ")
                        }
                    )),
                );
                None
            }
            Some(PluginState::Loaded(path, plugin)) => Some(HookProvider::Plugin {
                path: path.clone(),
                plugin: plugin.clone(),
            }),
            Some(PluginState::NeedsOptIn(path)) => {
                let message = format!(
                    "this drug needs the native plugin `{}` ({path}), and loading native code needs the operator's opt-in",
                    name.value
                );
                self.report(
                    yaml::position(name),
                    message,
                    Some("run with --allow-plugins (library: LoadOptions { plugins: Plugins::Load(..) }) after checking the plugin"),
                );
                None
            }
            Some(PluginState::Verified | PluginState::Refused) => None,
        }
    }

    /// A bound far from the population mean is most likely a unit slip
    /// (mg/L written as ng/mL is a factor of 1,000).
    fn plausibility(
        &mut self,
        t: &RawTarget,
        value: f64,
        at: &Spanned<f64>,
        mean: Option<f64>,
        what: &str,
    ) {
        let Some(mean) = mean.filter(|m| *m > 0.0) else {
            return;
        };
        let ratio = value / mean;
        if (0.2..=5.0).contains(&ratio) || t.plausibility_override.is_some() {
            return;
        }
        let unit = t.measure.quantity().canonical();
        self.report(
            yaml::position(at),
            format!(
                "{what} {} {unit} is {} % of the population mean {} {unit}: likely a unit slip",
                Num(value),
                crate::result::num::round_sig(ratio * 100.0, 2),
                Num(mean)
            ),
            Some("check the unit (mg/L written as ng/mL is a factor of 1,000); if the value is right, say why in `plausibility_override`"),
        );
    }

    fn correction(&mut self, raw: &RawDrug, half_life: Option<f64>) -> TroughCorrection {
        let c = &raw.trough_correction;
        self.source(&c.source);
        match (c.method, &c.valid_from_h) {
            (CorrectionMethod::LogLinear, Some(from)) => {
                if !(from.value.is_finite() && from.value >= 0.0) {
                    self.report(
                        yaml::position(from),
                        "valid_from_h must be zero or more",
                        None,
                    );
                }
                if half_life.is_none() {
                    self.report(
                        yaml::position(&c.source),
                        "log-linear trough correction needs pk.half_life_h",
                        Some("give the half-life with its source, or set `method: none`"),
                    );
                }
                TroughCorrection::LogLinear {
                    valid_from_h: from.value,
                }
            }
            (CorrectionMethod::LogLinear, None) => {
                self.report(
                    yaml::position(&c.source),
                    "log-linear trough correction needs valid_from_h",
                    Some("give the earliest valid sampling time with its source, or set `method: none` with a reason"),
                );
                TroughCorrection::None {
                    reason: String::new(),
                }
            }
            (CorrectionMethod::None, _) => TroughCorrection::None {
                reason: c
                    .reason
                    .clone()
                    .unwrap_or_else(|| "no validated correction for this drug".into()),
            },
        }
    }

    /// The unit of a pack value: a known mass unit of `quantity`, reported once if not.
    pub(crate) fn unit(
        &mut self,
        unit: &Spanned<String>,
        quantity: crate::input::units::Quantity,
    ) -> Option<Unit> {
        match Unit::parse(&unit.value) {
            Ok(u) if u.molar => {
                self.report(
                    yaml::position(unit),
                    format!(
                        "unit `{}` is molar; write pack values in a mass unit",
                        unit.value
                    ),
                    Some("use ng/mL (or mg/L) for concentrations and ng*h/mL for AUC"),
                );
                None
            }
            Ok(u) if u.quantity != quantity => {
                self.report(
                    yaml::position(unit),
                    format!(
                        "unit `{}` does not measure a {}",
                        unit.value,
                        if quantity == crate::input::units::Quantity::Auc {
                            "AUC"
                        } else {
                            "concentration"
                        }
                    ),
                    Some("Cmin takes a concentration unit (ng/mL); AUC takes ng*h/mL"),
                );
                None
            }
            Ok(u) => Some(u),
            Err(e) => {
                self.report(yaml::position(unit), e.to_string(), None);
                None
            }
        }
    }

    fn targets(&mut self, raw: &RawDrug, analytes: &[Analyte]) -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        // The drug's population mean (the tables' row), in the canonical unit,
        // for targets that do not give their own.
        let drug_mean = raw
            .targets
            .iter()
            .filter(|t| t.usage == TargetUse::Primary)
            .find_map(|t| {
                let mean = t.population_mean.as_ref()?.value;
                let unit = Unit::parse(&t.unit.value).ok()?;
                (unit.quantity == t.measure.quantity() && !unit.molar)
                    .then(|| unit.to_canonical(mean, None).ok())
                    .flatten()
                    .map(|m| (t.measure, m))
            });
        for t in &raw.targets {
            self.source(&t.source);
            if out.iter().any(|o| o.id == t.id.value) {
                self.report(
                    yaml::position(&t.id),
                    format!("target id `{}` is used twice", t.id.value),
                    None,
                );
            }
            let unit = self.unit(&t.unit, t.measure.quantity());
            let convert = |c: &mut Self, v: &Spanned<f64>, what| {
                let v = c.positive(v, what);
                unit.and_then(|u| u.to_canonical(v, None).ok()).unwrap_or(v)
            };
            let lower = match (&t.lower, &t.lower_per_mg_dose) {
                (Some(l), None) => Some(Lower::Fixed(convert(self, l, "lower"))),
                (None, Some(p)) => Some(Lower::PerMgDose(convert(self, p, "lower_per_mg_dose"))),
                (None, None) => None,
                (Some(l), Some(_)) => {
                    self.report(
                        yaml::position(l),
                        "give `lower` or `lower_per_mg_dose`, not both",
                        None,
                    );
                    None
                }
            };
            let upper = t.upper.as_ref().map(|u| convert(self, u, "upper"));
            if let Some(why) = &t.reduce_above {
                self.source(why);
                if t.upper.is_none() {
                    self.report(
                        yaml::position(why),
                        "`reduce_above` needs an `upper` bound to act on",
                        Some("give `upper`, or remove `reduce_above`"),
                    );
                }
            }
            let population_mean = t
                .population_mean
                .as_ref()
                .map(|m| convert(self, m, "population_mean"));
            let mean =
                population_mean.or(drug_mean.filter(|(m, _)| *m == t.measure).map(|(_, v)| v));
            let spread = t.population_spread.as_ref().map(|s| {
                self.source(&s.source);
                if t.population_mean.is_none() {
                    self.report(
                        yaml::position(&s.cv_percent),
                        "`population_spread` needs the `population_mean` it spreads around",
                        Some("give `population_mean`, or remove `population_spread`"),
                    );
                }
                let cv = self.positive(&s.cv_percent, "cv_percent") / 100.0;
                let dose_mg = self.positive(&s.dose_mg, "dose_mg");
                Spread {
                    cv,
                    geometric: s.mean == MeanKind::Geometric,
                    dose_mg,
                }
            });
            if let (Some(Lower::Fixed(l)), Some(at)) = (lower, &t.lower) {
                self.plausibility(t, l, at, mean, "lower");
            }
            if let (Some(u), Some(at)) = (upper, &t.upper) {
                self.plausibility(t, u, at, mean, "upper");
            }
            if lower.is_none() && upper.is_none() {
                self.report(
                    yaml::position(&t.id),
                    "a target needs `lower`, `upper` or both",
                    None,
                );
            }
            if let (Some(Lower::Fixed(l)), Some(u), Some(span)) = (lower, upper, &t.upper)
                && l >= u
            {
                self.report(
                    yaml::position(span),
                    format!("upper ({u}) must be above lower ({l})"),
                    None,
                );
            }
            let mut sum_of = Vec::new();
            for name in &t.sum_of {
                match analytes.iter().position(|a| {
                    a.name.eq_ignore_ascii_case(&name.value)
                        || a.aliases
                            .iter()
                            .any(|x| x.eq_ignore_ascii_case(&name.value))
                }) {
                    Some(i) => sum_of.push(i),
                    None => self.report(
                        yaml::position(name),
                        format!("`{}` is not an analyte of `{}`", name.value, raw.drug.value),
                        Some("list it under `analytes:` first"),
                    ),
                }
            }
            if sum_of.is_empty() {
                sum_of.push(0);
            }
            out.push(Target {
                id: t.id.value.clone(),
                primary: t.usage == TargetUse::Primary,
                default: t.default,
                indications: t.indications.clone(),
                regimens: t.regimens.clone(),
                measure: t.measure,
                lower,
                upper,
                reduce_above: t.reduce_above.as_ref().map(|r| r.value.clone()),
                sum_of,
                basis: t.basis,
                evidence: t.evidence,
                outcome: t.outcome.clone(),
                population_mean,
                spread,
                references: t.references.clone(),
                source: t.source.value.clone(),
                note: t.note.clone(),
                matrix: t.matrix.unwrap_or(crate::input::Matrix::Plasma),
                auc_interval_h: self.auc_interval(t),
                auc_interval_unknown: t.auc_interval_unknown.clone(),
            });
        }
        if !out.iter().any(|t| t.primary) {
            self.report(
                yaml::position(&raw.drug),
                "a drug needs at least one primary target (the tables' recommendation)",
                None,
            );
        }
        if out.iter().filter(|t| t.default).count() > 1 {
            self.report(
                yaml::position(&raw.drug),
                "at most one target may be the default",
                None,
            );
        }
        out
    }

    pub(crate) fn dosing(&mut self, raw: &RawDosing) -> Option<Dosing> {
        self.source(&raw.source);
        let interval_h = self.positive(&raw.interval_h, "interval_h");
        let standard_mg = self.positive(&raw.standard_mg, "standard_mg");
        let mut levels: Vec<DoseLevel> = Vec::new();
        for l in &raw.levels {
            let mg = self.positive(&l.mg, "mg");
            match &l.source {
                Some(s) => self.source(s),
                None if !l.label => self.report(
                    yaml::position(&l.mg),
                    "a dose level beyond the label needs its own `source`",
                    Some("cite the TDM practice or study that uses this level"),
                ),
                None => {}
            }
            let level = DoseLevel {
                mg,
                interval_h: l.interval_h.unwrap_or(interval_h),
                label: l.label,
                note: l.note.clone(),
                unconfirmed: l.unconfirmed.clone(),
            };
            if let Some(prev) = levels.last() {
                // Equal daily doses may follow each other only when the later
                // one splits the intake (e.g. 800 mg once daily -> 400 mg
                // twice daily), which raises the trough.
                let rises = level.daily_mg() > prev.daily_mg()
                    || (level.daily_mg() == prev.daily_mg() && level.interval_h < prev.interval_h);
                if !rises {
                    self.report(
                        yaml::position(&l.mg),
                        format!(
                            "dose levels must rise strictly: {} follows {}",
                            level.describe(),
                            prev.describe()
                        ),
                        Some(
                            "order `levels` from the lowest reduction to the maximum by daily dose",
                        ),
                    );
                }
            }
            levels.push(level);
        }
        let standard = levels
            .iter()
            .position(|l| l.mg == standard_mg && l.interval_h == interval_h);
        if standard.is_none() {
            self.report(
                yaml::position(&raw.standard_mg),
                format!("the standard dose {standard_mg} mg is not among the dose levels"),
                Some("add it to `levels`"),
            );
        }
        let interventions = self.interventions(&raw.interventions);
        let fasting = self.intake(raw);
        let escalation_conditions = raw
            .escalation_conditions
            .iter()
            .map(|c| {
                self.source(&c.source);
                c.condition.clone()
            })
            .collect();
        Some(Dosing {
            interval_h,
            standard: standard?,
            levels,
            interventions,
            escalation_conditions,
            strengths_mg: raw.strengths_mg.clone(),
            unconfirmed: raw.unconfirmed.clone(),
            fasting,
            above_highest: raw.above_highest.as_ref().map(|n| {
                self.source(&n.source);
                n.note.clone()
            }),
        })
    }
}
