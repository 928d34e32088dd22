//! What `tdm validate` says of a drug's population PK models beyond their
//! shape: the model's typical steady-state trough at the standard dose
//! against the drug's population mean from the tables. Beyond a factor of
//! 2 it is a warning: a likely slip in transcription, or a real
//! disagreement between sources to show a reader, never to "fix".

use crate::pack::model::{Measure, Pack};
use crate::pk::Dosing;

/// Beyond this ratio either way, the model and the tables disagree.
const FACTOR: f64 = 2.0;

/// One warning per model whose typical trough and the tables' population
/// mean differ by more than a factor of 2: (drug, model id, message).
pub fn model_warnings(pack: &Pack) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for drug in pack.drugs() {
        let Some(mean) = drug
            .targets
            .iter()
            .filter(|t| t.primary && t.measure == Measure::Cmin && t.sum_of == [0])
            .find_map(|t| t.population_mean)
        else {
            continue;
        };
        let standard = &drug.dosing.levels[drug.dosing.standard];
        let tau = standard.interval_h;
        for m in &drug.models {
            let dosing = Dosing::Regular {
                dose_mg: standard.mg,
                tau_h: tau,
                count: None,
            };
            let trough = dosing.concentration(&m.model.typical, tau);
            let ratio = trough / mean;
            if !(1.0 / FACTOR..=FACTOR).contains(&ratio) {
                out.push((
                    drug.name.clone(),
                    m.model.id.clone(),
                    format!(
                        "{} model `{}`: the typical patient's steady-state trough at {} mg every {} h is {:.0} ng/mL, {:.1} times the tables' population mean of {:.0} ng/mL (a typical value is a median, the tables' a mean): a slip, or a disagreement to show",
                        drug.name, m.model.id, standard.mg, tau, trough, ratio, mean
                    ),
                ));
            }
        }
    }
    out
}
