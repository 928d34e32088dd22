//! The contract's named values: each an enum whose spellings are the ones
//! results are written with and the schemas list, defined once here.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Defines a contract enum, its spellings (`as_str`, serde, the schema)
/// and `Display`, from one list.
macro_rules! spelled {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The contract spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

spelled! {
    /// `ok` or `error`.
    pub enum Status {
        /// Evaluated.
        Ok = "ok",
        /// Not evaluated; see `error`.
        Error = "error",
    }
}

spelled! {
    /// Exposure relative to the target.
    pub enum Classification {
        /// value < lower
        Below = "below",
        /// lower <= value <= upper
        Within = "within",
        /// value > upper
        Above = "above",
    }
}

spelled! {
    /// Where the coefficient of variation of a plausibility check came from.
    pub enum CvFrom {
        /// The reference's own spread.
        Source = "source",
        /// The pack's `default_cv_percent`.
        Pack = "pack",
        /// Neither: only impossible values are checked.
        None = "none",
    }
}

spelled! {
    /// What to do.
    pub enum Advice {
        /// Raise the dose one level.
        IncreaseDose = "increase_dose",
        /// Keep the dose.
        Continue = "continue",
        /// Lower the dose one level.
        ReduceDose = "reduce_dose",
        /// Dose changes cannot help (toxic despite low exposure, or at the end of the ladder).
        ConsiderAlternative = "consider_alternative",
        /// The sample cannot be interpreted; draw another.
        RepeatSample = "repeat_sample",
        /// Reference value only; do not act on it.
        InterpretOnly = "interpret_only",
    }
}

spelled! {
    /// Measure of a target.
    pub enum Measure {
        /// Trough concentration.
        Cmin = "cmin",
        /// Area under the curve over a dosing interval.
        Auc = "auc",
    }
}

impl Measure {
    /// `Cmin` or `AUC`, for sentences.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Cmin => "Cmin",
            Measure::Auc => "AUC",
        }
    }
}

spelled! {
    /// Where a target number comes from.
    pub enum Basis {
        /// An exposure–response threshold.
        Threshold = "threshold",
        /// The population mean exposure at the approved dose, used as a proxy.
        PopulationMean = "population_mean",
    }
}

spelled! {
    /// The seed's weighting of the evidence for TDM of a drug.
    pub enum Evidence {
        /// No target yet; too early to act.
        Exploratory = "exploratory",
        /// A target from an exposure–response analysis.
        Promising = "promising",
        /// A prospective feasibility study exists.
        Viable = "viable",
        /// TDM is standard care.
        StandardOfCare = "standard_of_care",
        /// Shown not to help.
        Negative = "negative",
    }
}

spelled! {
    /// Whether the target is the tables' recommendation or a value from the text.
    pub enum TargetUse {
        /// The tables' recommendation.
        Primary = "primary",
        /// A value from the text, selected by indication or an overlay.
        Alternative = "alternative",
    }
}

spelled! {
    /// Where the dosing interval came from.
    pub enum IntervalFrom {
        /// Given with the sample.
        Sample = "sample",
        /// The drug's usual interval in the pack.
        Pack = "pack",
    }
}

spelled! {
    /// How the value relates to the trough.
    pub enum Trough {
        /// Drawn at the end of the interval (within the pack's tolerance).
        MeasuredAtTrough = "measured_at_trough",
        /// Extrapolated to the trough log-linearly.
        Corrected = "corrected",
        /// No time after dose given: taken to be a trough.
        AssumedTrough = "assumed_trough",
        /// Drawn where it cannot be extrapolated: repeat the sample.
        NotInterpretable = "not_interpretable",
        /// An AUC: no trough applies.
        NotApplicable = "not_applicable",
        /// The trough was predicted by the drug's script or plugin (a model).
        Predicted = "predicted",
    }
}

spelled! {
    /// Where the time to steady state came from.
    pub enum SteadyStateFrom {
        /// A sourced value in the pack.
        Pack = "pack",
        /// Estimated from half-lives (the pack's policy says how many).
        HalfLives = "half_lives",
        /// Neither is known.
        Unknown = "unknown",
    }
}

spelled! {
    /// Whether the sample was drawn at steady state.
    pub enum SteadyState {
        /// Days on dose reach the time to steady state.
        Yes = "yes",
        /// Drawn before steady state.
        No = "no",
        /// No days on dose given: assumed.
        Assumed = "assumed",
        /// The time to steady state is unknown.
        Unknown = "unknown",
    }
}

spelled! {
    /// What implements a drug's hooks beyond its YAML rule.
    pub enum Provider {
        /// A Rhai script of the pack.
        Script = "script",
        /// A native plugin of the pack.
        Plugin = "plugin",
    }
}

spelled! {
    /// How a sample not drawn at trough was brought to the trough.
    pub enum CorrectionMethod {
        /// `Cmin = C(t) * 2^(-(tau - t) / t_half)` (Wang et al. 2009).
        LogLinear = "log-linear",
        /// Predicted by the drug's script (see `script`).
        Script = "script",
        /// Predicted by the drug's native plugin (see `script`).
        Plugin = "plugin",
        /// `Cmin = C(t) * f(tau) / f(t)`, `f` the patient's curve from the
        /// drug's population model (MAP fit, `model`): the ratio method of
        /// Janssen et al. 2020 with the individual curve.
        Model = "model",
    }
}

impl From<Provider> for CorrectionMethod {
    fn from(provider: Provider) -> Self {
        match provider {
            Provider::Script => CorrectionMethod::Script,
            Provider::Plugin => CorrectionMethod::Plugin,
        }
    }
}

spelled! {
    /// Why a record gave an error result: a stable code for programs, next
    /// to the sentence in `error` for people.
    pub enum ErrorCode {
        /// The record is not a sample: not a JSON object, a line too long
        /// to read, broken JSON or CSV, a key given twice.
        Unreadable = "unreadable",
        /// A field the contract requires is missing.
        MissingField = "missing_field",
        /// A field has the wrong type or a value outside its range.
        InvalidField = "invalid_field",
        /// The drug is not in the pack.
        UnknownDrug = "unknown_drug",
        /// A code of a FHIR resource or an HL7 v2 segment (a result's
        /// analyte, a diagnosis) is not in the pack's code maps.
        UnknownCode = "unknown_code",
        /// The unit is unknown, does not fit the measure, or needs a molar mass the pack lacks.
        Unit = "unit",
        /// No target applies: the indication, regimen or measure selects none, or several.
        NoTarget = "no_target",
        /// A metabolite is not one of the drug's, is the parent, or is given twice.
        Metabolite = "metabolite",
        /// The drug has products that are not interchangeable and the sample
        /// names none, or names one the pack does not know.
        Product = "product",
        /// The sample was measured in another matrix than the target
        /// (plasma against a whole-blood target), or an AUC over another interval.
        Matrix = "matrix",
        /// The value is impossible for the dose and sampling time (100 times
        /// or 1/100 of the expected level): a likely unit slip.
        ImplausibleValue = "implausible_value",
        /// The drug's script or plugin failed or returned something unusable.
        Hook = "hook",
        /// Not evaluated: the service's time limit for the request passed
        /// before this sample's turn; send it again.
        TimeLimit = "time_limit",
        /// Evaluating the record failed inside tdm (a defect to report).
        Internal = "internal",
        /// Evaluated, but not given: the decision could not be written to
        /// the audit log (a full disk), and a decision without its record
        /// is not given.
        Audit = "audit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled_as_serde<T: Serialize + Copy + fmt::Display>(all: &[T]) {
        for v in all {
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json.as_str(), Some(v.to_string().as_str()));
        }
    }

    #[test]
    fn every_value_is_spelled_as_serde_writes_it() {
        spelled_as_serde(Status::ALL);
        spelled_as_serde(Classification::ALL);
        spelled_as_serde(Advice::ALL);
        spelled_as_serde(Measure::ALL);
        spelled_as_serde(Basis::ALL);
        spelled_as_serde(Evidence::ALL);
        spelled_as_serde(TargetUse::ALL);
        spelled_as_serde(IntervalFrom::ALL);
        spelled_as_serde(Trough::ALL);
        spelled_as_serde(SteadyStateFrom::ALL);
        spelled_as_serde(SteadyState::ALL);
        spelled_as_serde(Provider::ALL);
        spelled_as_serde(CorrectionMethod::ALL);
        spelled_as_serde(ErrorCode::ALL);
    }
}
