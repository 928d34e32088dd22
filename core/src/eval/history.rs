//! A batch's memory of each patient's samples, so that a drug's population
//! model is fitted to all of a patient's levels up to the sample at hand
//! (design.md, "Model-informed dosing": one patient's history).
//!
//! A sample joins its patient's history when it has a `patient`, a
//! `sampled_at` and a drug with a model. Memory is bounded: the latest
//! [`PER_PATIENT`] samples of each patient, at most [`HELD`] samples in
//! all; beyond that the patients seen least recently are forgotten, and a
//! later sample of a forgotten patient says so rather than being fitted
//! quietly without its history.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use crate::input::{Record, Sample, time};
use crate::pack::model::Pack;
use crate::result::EvalResult;

/// The latest samples of a patient a fit uses (TDM gives a few a year).
pub const PER_PATIENT: usize = 20;
/// Samples held in all: some 50 MB at most.
pub const HELD: usize = 100_000;
/// Forgotten patients remembered as forgotten (8 bytes each).
const FORGOTTEN: usize = 1_000_000;

/// The earlier samples of one patient that a sample's fit may use.
#[derive(Debug, Clone, Default)]
pub struct Earlier {
    /// In the order listed, the earliest first.
    pub(crate) samples: Vec<Arc<Sample>>,
    /// Some of the patient's samples were forgotten (memory bound).
    pub(crate) forgotten: bool,
}

impl Earlier {
    /// No earlier sample, and none forgotten.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && !self.forgotten
    }
}

/// Each patient's samples, in the order listed: evaluate a batch's
/// records through one `Histories`, in input order.
///
/// ```
/// let pack = tdm_core::load_pack("../rules/ki-oncology")?;
/// let batch = r#"
/// {"patient": "P-1", "sampled_at": "2026-03-02T15:00", "drug": "imatinib", "indication": "CML", "value": 1800, "unit": "ng/mL", "dose_mg": 400, "hours_since_dose": 6, "days_on_dose": 30}
/// {"patient": "P-1", "sampled_at": "2026-03-09T09:00", "drug": "imatinib", "indication": "CML", "value": 1100, "unit": "ng/mL", "dose_mg": 400, "hours_since_dose": 24}
/// "#;
/// let mut histories = tdm_core::eval::Histories::default();
/// let mut levels_used = Vec::new();
/// tdm_core::read_records(batch.as_bytes(), tdm_core::InputFormat::Ndjson, &pack, |record| {
///     let result = histories.evaluate_record(&pack, record);
///     levels_used.push(result.assessment.and_then(|a| a.model).map(|m| m.levels_used));
///     Ok(())
/// })?;
/// assert_eq!(levels_used, [Some(1), Some(2)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct Histories {
    patients: HashMap<(String, String), Held>,
    held: usize,
    /// Samples taken so far: the recency of a patient.
    taken: u64,
    forgotten: HashSet<u64>,
    /// More patients were forgotten than `forgotten` holds.
    forgot_more: bool,
    hasher: RandomState,
}

#[derive(Debug)]
struct Held {
    samples: VecDeque<Arc<Sample>>,
    last_taken: u64,
}

impl Histories {
    /// Evaluates `record` with its patient's earlier samples, then
    /// remembers it for the patient's later ones.
    pub fn evaluate_record(&mut self, pack: &Pack, record: Record) -> EvalResult {
        match &record.sample {
            Ok(sample) => {
                let earlier = self.take(pack, sample);
                super::evaluate_record_with(pack, record, &earlier)
            }
            Err(_) => super::evaluate_record(pack, record),
        }
    }

    /// The patient's samples held before `sample`; `sample` is then held
    /// as theirs. Call in input order.
    pub fn take(&mut self, pack: &Pack, sample: &Sample) -> Earlier {
        let Some(key) = key(pack, sample) else {
            return Earlier::default();
        };
        self.taken += 1;
        let hash = self.hasher.hash_one(&key);
        let forgotten = self.forgot_more || self.forgotten.contains(&hash);
        let held = self.patients.entry(key).or_insert_with(|| Held {
            samples: VecDeque::new(),
            last_taken: 0,
        });
        held.last_taken = self.taken;
        let earlier = Earlier {
            samples: held.samples.iter().cloned().collect(),
            forgotten,
        };
        held.samples.push_back(Arc::new(sample.clone()));
        if held.samples.len() > PER_PATIENT {
            held.samples.pop_front();
        } else {
            self.held += 1;
        }
        if self.held > HELD {
            self.forget_least_recent();
        }
        earlier
    }

    /// Forgets the patients seen least recently, down to 90 % of `HELD`
    /// (so that the sort is paid once per many samples).
    fn forget_least_recent(&mut self) {
        let mut by_recency: Vec<(u64, (String, String))> = self
            .patients
            .iter()
            .map(|(k, h)| (h.last_taken, k.clone()))
            .collect();
        by_recency.sort_unstable_by_key(|(t, _)| *t);
        for (_, key) in by_recency {
            if self.held <= HELD / 10 * 9 {
                break;
            }
            if let Some(h) = self.patients.remove(&key) {
                self.held -= h.samples.len();
                if self.forgotten.len() < FORGOTTEN {
                    self.forgotten.insert(self.hasher.hash_one(&key));
                } else {
                    self.forgot_more = true;
                }
            }
        }
    }
}

/// The patient and drug a sample's history is kept under: only where it
/// can be used (a patient, a time of sampling, a drug with a model).
fn key(pack: &Pack, sample: &Sample) -> Option<(String, String)> {
    let patient = sample.patient.as_ref()?;
    sample.sampled_at.as_deref().and_then(time::parse)?;
    let drug = pack.drug(&sample.drug)?;
    (!drug.models.is_empty()).then(|| (patient.clone(), drug.name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(patient: &str, at: &str) -> Sample {
        let value = serde_json::json!({
            "patient": patient, "sampled_at": at, "drug": "imatinib", "indication": "CML",
            "value": 1000, "unit": "ng/mL", "dose_mg": 400,
        });
        crate::input::record_from_value(1, 0, value).sample.unwrap()
    }

    #[test]
    fn a_patient_gets_their_own_latest_samples_and_forgotten_ones_are_said() {
        let pack = crate::load_pack("../rules/ki-oncology").unwrap();
        let mut h = Histories::default();
        for day in 1..=25 {
            let at = format!("2026-01-{day:02}T08:00");
            let earlier = h.take(&pack, &sample("A", &at));
            assert_eq!(
                earlier.samples.len(),
                (day - 1).min(PER_PATIENT as u32) as usize
            );
        }
        assert!(h.take(&pack, &sample("B", "2026-01-01T08:00")).is_empty());
        // No time of sampling: not held.
        let mut untimed = sample("C", "2026-01-01T08:00");
        untimed.sampled_at = None;
        h.take(&pack, &untimed);
        assert!(h.take(&pack, &untimed).is_empty());
        // Past the bound, the least recent patient (A) is forgotten, and
        // says so when seen again.
        for n in 0..HELD {
            h.take(&pack, &sample(&format!("N{n}"), "2026-02-01T08:00"));
        }
        assert!(h.held <= HELD);
        let again = h.take(&pack, &sample("A", "2026-03-01T08:00"));
        assert!(again.samples.is_empty() && again.forgotten);
    }
}
