//! Tools over packs: semantic diff, threshold statistics, pack test cases.

pub(crate) mod cases;
pub(crate) mod diff;
mod diff_label;
pub(crate) mod model_check;
pub(crate) mod overlay_check;
pub(crate) mod schemas;
pub(crate) mod stats;

pub use cases::{Case, CaseOutcome, Expect, load_cases, run_case};
pub use diff::{Change, ChangeKind, Impact, PackDiff, diff_packs};
pub use model_check::{
    Distribution, ForecastCheck, Forecasts, PopulationCheck, model_warnings, population_checks,
};
pub use overlay_check::overlay_losses;
pub use schemas::schemas;
pub use stats::{ThresholdRow, ThresholdStats, threshold_stats};
