//! What a population model is fitted to: the sample's level and the
//! patient's earlier ones, and the doses behind them.
//!
//! Each level comes with the regimen recorded with it (dose, interval, the
//! time after the last dose, days on the dose). Between two samples the
//! later one's regimen is taken as given from its start (`days_on_dose`),
//! the earlier one's continuing until then; without a start, from the
//! earlier sample on. No dose lies between a level and the dose before it
//! that the sample names. A sample's own dose list (`doses`), where given,
//! is the whole dosing of its fit.

use crate::eval::analytes::Measured;
use crate::eval::history::Earlier;
use crate::eval::timing::Timing;
use crate::eval::{Context, Reading, plausibility, staged, undetectable};
use crate::input::{Sample, time};
use crate::pack::model::Pack;
use crate::pk::{self, Course, Dosing, Level};
use crate::result::{Measure, Trough};

/// Earlier levels further back than this are not fitted (as `doses`).
const MAX_HOURS_BEFORE: f64 = 366.0 * 24.0;
/// Most doses superposed for a regimen given in days (beyond: steady state).
const MAX_DOSES: f64 = 10_000.0;

/// One level with the regimen recorded with it.
#[derive(Debug, Clone)]
pub(crate) struct Observation {
    pub id: Option<String>,
    pub sampled_at: Option<String>,
    /// Seconds since 1970 (None: no time of sampling).
    pub at_s: Option<i64>,
    /// The parent, ng/mL.
    pub ng_ml: f64,
    /// The model's metabolite, ng/mL, where the model has one and the
    /// sample measured it (fitted beside the parent).
    pub metabolite_ng_ml: Option<f64>,
    pub dose_mg: f64,
    pub tau_h: f64,
    /// Hours from the last dose to the level.
    pub hours: f64,
    pub days_on_dose: Option<f64>,
}

/// The sample's level and regimen, or why it cannot be fitted;
/// `metabolite` is the drug's analyte the model predicts besides the
/// parent.
pub(crate) fn observation(
    sample: &Sample,
    reading: &Reading,
    measured: &Measured,
    timing: &Timing,
    metabolite: Option<usize>,
) -> Result<Observation, &'static str> {
    if reading.measure != Measure::Cmin {
        return Err("fitted to concentrations only, not to an AUC: not used");
    }
    if undetectable(sample) {
        return Err("an undetectable level is not fitted (never as 0 or half the limit)");
    }
    let ng_ml = measured
        .values
        .first()
        .copied()
        .flatten()
        .map(|v| v.1)
        .ok_or("no level of the parent to fit: not used")?;
    let last_listed = sample
        .doses
        .iter()
        .min_by(|a, b| a.hours_before.total_cmp(&b.hours_before));
    // The dose is never assumed: a fit to the wrong dose is a wrong number.
    let dose_mg = sample
        .dose_mg
        .or(last_listed.map(|d| d.mg))
        .ok_or("the dose (dose_mg) is needed to fit a level: not used")?;
    let hours = match (last_listed, sample.hours_since_dose, timing.trough) {
        (Some(d), _, _) => d.hours_before,
        (None, Some(h), _) => h,
        (None, None, Trough::AssumedTrough) => timing.interval_h,
        (None, None, _) => {
            return Err("the time after the dose is needed to fit a level: not used");
        }
    };
    Ok(Observation {
        id: sample.id.clone(),
        sampled_at: sample.sampled_at.clone(),
        at_s: sample.sampled_at.as_deref().and_then(time::parse),
        ng_ml,
        metabolite_ng_ml: metabolite
            .and_then(|i| measured.values.get(i).copied().flatten())
            .map(|v| v.1)
            .filter(|v| *v > 0.0),
        dose_mg,
        tau_h: timing.interval_h,
        hours,
        days_on_dose: sample.days_on_dose,
    })
}

/// An earlier sample's observation, after the same stages as its own
/// evaluation (an implausible value is not fitted here either).
fn observe(pack: &Pack, sample: &Sample, metabolite: Option<usize>) -> Result<Observation, String> {
    let s = staged(pack, sample).map_err(|e| format!("not readable ({})", e.message))?;
    if s.plausible.verdict == plausibility::Plausible::Impossible {
        return Err("an implausible value".into());
    }
    observation(sample, &s.unit, &s.measured, &s.timing, metabolite).map_err(|why| {
        why.trim_end_matches(": not used")
            .trim_end_matches(" is needed to fit a level")
            .to_owned()
    })
}

/// The patient's earlier levels the fit uses, earliest first; the
/// warnings name those it does not, and why.
pub(crate) fn earlier(
    cx: &Context<'_>,
    current: &Observation,
    earlier: &Earlier,
    metabolite: Option<usize>,
    say: &mut impl FnMut(String),
) -> Vec<Observation> {
    let patient = cx.sample.patient.as_deref().unwrap_or_default();
    if earlier.forgotten {
        say(format!(
            "earlier samples of patient {patient} were beyond the memory of this batch (the latest {} samples of {} held): fitted without them",
            crate::eval::history::PER_PATIENT,
            crate::eval::history::HELD,
        ));
    }
    let Some(now) = current.at_s else {
        if !earlier.samples.is_empty() {
            say(format!(
                "the patient's earlier samples are not fitted: this sample has no `sampled_at` to place them by (patient {patient})"
            ));
        }
        return Vec::new();
    };
    let mut used = Vec::new();
    let mut not_used = Vec::new();
    for sample in &earlier.samples {
        let name = sample.id.clone().unwrap_or_else(|| "a sample".into());
        let at = sample.sampled_at.as_deref().and_then(time::parse);
        let before = at.map(|t| (now - t) as f64 / 3600.0);
        match before {
            Some(h) if h <= 0.0 => not_used.push(format!(
                "{name} (listed before this sample, drawn at or after it: list a patient's samples in time order)"
            )),
            Some(h) if h > MAX_HOURS_BEFORE => {
                not_used.push(format!("{name} (more than a year before)"));
            }
            _ => match observe(cx.pack, sample, metabolite) {
                Ok(o) => used.push(o),
                Err(why) => not_used.push(format!("{name} ({why})")),
            },
        }
    }
    if !not_used.is_empty() {
        say(format!(
            "earlier samples of patient {patient} not fitted: {}",
            not_used.join("; ")
        ));
    }
    used.sort_by_key(|o| o.at_s);
    used
}

/// The doses a fit assumes, the levels on their clock, and both in words.
pub(crate) struct Plan {
    pub dosing: Dosing,
    pub levels: Vec<(Level, Observation)>,
    pub described: String,
}

/// The plan for `current` alone or with `earlier` (earliest first, all
/// drawn before `current`): the clock's 0 is the current sample.
pub(crate) fn plan(sample: &Sample, current: Observation, earlier: Vec<Observation>) -> Plan {
    let now = current.at_s;
    let hours_before = move |o: &Observation| hours_between(now, o.at_s);
    if !sample.doses.is_empty() {
        let first = sample
            .doses
            .iter()
            .map(|d| d.hours_before)
            .fold(0.0, f64::max);
        let doses: Vec<(f64, f64)> = sample
            .doses
            .iter()
            .map(|d| (-d.hours_before, d.mg))
            .collect();
        let described = format!(
            "{} doses as given, the last ({} mg) {:.1} h before the sample",
            sample.doses.len(),
            current.dose_mg,
            current.hours
        );
        let levels = earlier
            .into_iter()
            .filter(|o| hours_before(o) < first)
            .chain(std::iter::once(current))
            .flat_map(|o| {
                let t_h = -hours_between(now, o.at_s);
                levels_of(o, t_h)
            })
            .collect();
        return Plan {
            dosing: Dosing::Courses(pk::courses_of(&doses)),
            levels,
            described,
        };
    }
    let all: Vec<Observation> = earlier
        .into_iter()
        .chain(std::iter::once(current))
        .collect();
    let times: Vec<f64> = all.iter().map(|o| -hours_before(o)).collect();
    let courses = courses(&all, &times);
    let described = describe(&all, &courses);
    let levels = all
        .into_iter()
        .zip(times)
        .flat_map(|(o, t_h)| levels_of(o, t_h))
        .collect();
    Plan {
        dosing: Dosing::Courses(courses),
        levels,
        described,
    }
}

/// A sample's levels at `t_h`: the parent's, and the metabolite's where it
/// is fitted too.
fn levels_of(o: Observation, t_h: f64) -> Vec<(Level, Observation)> {
    let parent = Level {
        t_h,
        ng_ml: o.ng_ml,
        analyte: pk::Analyte::Parent,
    };
    match o.metabolite_ng_ml {
        Some(ng_ml) => {
            let metabolite = Level {
                t_h,
                ng_ml,
                analyte: pk::Analyte::Metabolite,
            };
            vec![(parent, o.clone()), (metabolite, o)]
        }
        None => vec![(parent, o)],
    }
}

/// Hours from `at` to `now` (0 without either).
fn hours_between(now: Option<i64>, at: Option<i64>) -> f64 {
    match (now, at) {
        (Some(now), Some(t)) => (now - t) as f64 / 3600.0,
        _ => 0.0,
    }
}

/// The regimens of the samples (drawn at `times`, earliest first) as
/// courses of regular doses.
fn courses(all: &[Observation], times: &[f64]) -> Vec<Course> {
    let mut out = Vec::new();
    for (i, o) in all.iter().enumerate() {
        let t = times[i];
        let last = t - o.hours;
        let start = o.days_on_dose.map(|d| t - d * 24.0);
        // This regimen's doses: from its start, and not before the
        // previous sample was drawn.
        let from = match (i.checked_sub(1).map(|p| times[p]), start) {
            (Some(previous), Some(s)) => Some(previous.max(s)),
            (Some(previous), None) => Some(previous),
            (None, s) => s,
        };
        let count = from.map(|f| ((last - f) / o.tau_h + 1e-9).floor() + 1.0);
        let count = match count {
            Some(n) if n < 1.0 => continue,
            Some(n) if n <= MAX_DOSES => Some(n as u32),
            _ => None,
        };
        if let (Some(p), Some(n)) = (i.checked_sub(1), count) {
            // The previous regimen went on after its sample until this
            // one's first dose, and no closer to it than half an interval:
            // a new regimen (or another time of day) moves the dosing
            // times, it neither doubles a dose nor skips one.
            let first = last - f64::from(n - 1) * o.tau_h;
            out.extend(continued(&all[p], times[p], first - o.tau_h / 2.0));
        }
        out.push(Course {
            last_h: last,
            dose_mg: o.dose_mg,
            tau_h: o.tau_h,
            count,
        });
    }
    pk::joined(out)
}

/// The doses of `o`'s regimen after its sample (drawn at `t`) and before
/// `until`.
fn continued(o: &Observation, t: f64, until: f64) -> Option<Course> {
    let last = t - o.hours;
    let first = ((t - last) / o.tau_h - 1e-9).ceil().max(1.0);
    let end = ((until - last) / o.tau_h - 1e-9).ceil() - 1.0;
    (end >= first).then_some(Course {
        last_h: last + end * o.tau_h,
        dose_mg: o.dose_mg,
        tau_h: o.tau_h,
        count: Some((end - first + 1.0) as u32),
    })
}

fn describe(all: &[Observation], courses: &[Course]) -> String {
    let Some(current) = all.last() else {
        return String::new();
    };
    if all.len() == 1 {
        return match courses.first().and_then(|c| c.count) {
            Some(n) => format!(
                "{} mg every {} h, {n} doses, regular dosing assumed",
                current.dose_mg, current.tau_h
            ),
            None => format!(
                "{} mg every {} h at steady state, regular dosing assumed",
                current.dose_mg, current.tau_h
            ),
        };
    }
    let mut regimens: Vec<String> = Vec::new();
    let mut previous: Option<(f64, f64)> = None;
    for o in all {
        if previous == Some((o.dose_mg, o.tau_h)) {
            continue;
        }
        let from = match (previous, o.days_on_dose) {
            (Some(_), None) => " from the earlier sample on (no days_on_dose)",
            _ => "",
        };
        regimens.push(format!("{} mg every {} h{from}", o.dose_mg, o.tau_h));
        previous = Some((o.dose_mg, o.tau_h));
    }
    format!(
        "{} samples from {}: {}; regular dosing between samples assumed",
        all.len(),
        all[0].sampled_at.as_deref().unwrap_or("?"),
        regimens.join(", then ")
    )
}
