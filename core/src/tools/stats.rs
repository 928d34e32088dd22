//! Thresholds against population exposure (Figure 2 of the seed): for each
//! drug and indication with a Cmin threshold and a population mean at the
//! approved dose, the threshold as a percentage of that mean.

use serde::Serialize;

use crate::pack::model::{Basis, Lower, Measure, Pack};

/// The rows used and what they add up to.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdStats {
    /// One row per qualifying target, in drug order.
    pub rows: Vec<ThresholdRow>,
    /// Mean of the percentages.
    pub mean_percent: f64,
    /// Sample standard deviation of the percentages.
    pub sd_percent: f64,
    /// Targets left out, with why (so that a reviewer sees every target).
    pub left_out: Vec<String>,
}

/// One target's threshold as a share of the population mean.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdRow {
    /// The drug.
    pub drug: String,
    /// The target's id.
    pub target: String,
    /// The indications or regimens it is for, if specific.
    pub scope: Option<String>,
    /// The threshold (lower bound), canonical unit.
    pub threshold: f64,
    /// The population mean exposure, canonical unit.
    pub population_mean: f64,
    /// `ng/mL`.
    pub unit: String,
    /// threshold / population mean x 100.
    pub percent: f64,
}

/// The rows: primary Cmin thresholds with a fixed lower bound and a
/// population mean. Other targets with a population mean are listed in
/// `left_out` with the reason.
pub fn threshold_stats(pack: &Pack) -> ThresholdStats {
    let mut rows = Vec::new();
    let mut left_out = Vec::new();
    for drug in &pack.drugs {
        for t in &drug.targets {
            if t.basis != Basis::Threshold {
                continue;
            }
            let name = format!("{} `{}`", drug.name, t.id);
            let why = match (t.measure, t.primary, t.lower, t.population_mean) {
                (_, _, _, None) => Some("no population mean"),
                (Measure::Auc, ..) => Some("an AUC target (the figure compares Cmin)"),
                (_, false, ..) => Some("an alternative target from the text, not the tables"),
                (_, _, Some(Lower::PerMgDose(_)) | None, _) => Some("no fixed lower bound"),
                _ => None,
            };
            if let Some(why) = why {
                left_out.push(format!("{name}: {why}"));
                continue;
            }
            let (Some(Lower::Fixed(threshold)), Some(mean)) = (t.lower, t.population_mean) else {
                continue;
            };
            rows.push(ThresholdRow {
                drug: drug.name.clone(),
                target: t.id.clone(),
                scope: t.scope(),
                threshold,
                population_mean: mean,
                unit: t.measure.quantity().canonical().to_owned(),
                percent: threshold / mean * 100.0,
            });
        }
    }
    let n = rows.len() as f64;
    let mean_percent = rows.iter().map(|r| r.percent).sum::<f64>() / n.max(1.0);
    let sd_percent = if rows.len() > 1 {
        (rows
            .iter()
            .map(|r| (r.percent - mean_percent).powi(2))
            .sum::<f64>()
            / (n - 1.0))
            .sqrt()
    } else {
        0.0
    };
    ThresholdStats {
        rows,
        mean_percent,
        sd_percent,
        left_out,
    }
}
