//! Units of measured values, and conversion to the pack's canonical units:
//! ng/mL for concentrations, ng*h/mL for AUC. Nothing is guessed: a unit
//! outside the list is an error, and molar units need the analyte's molar mass.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::result::Measure;

/// What a value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// A plasma concentration (canonical unit ng/mL).
    Concentration,
    /// An area under the concentration–time curve (canonical unit ng*h/mL).
    Auc,
}

impl Quantity {
    /// The canonical unit of the quantity.
    pub fn canonical(self) -> &'static str {
        match self {
            Quantity::Concentration => "ng/mL",
            Quantity::Auc => "ng*h/mL",
        }
    }
}

/// A supported unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// The spelling as accepted.
    pub symbol: &'static str,
    /// Concentration or AUC.
    pub quantity: Quantity,
    /// Multiply by this to get the canonical unit (for molar units: by this
    /// times the molar mass in g/mol).
    factor: f64,
    /// Amount of substance (nmol, µmol) rather than mass.
    pub molar: bool,
}

// ng/mL == µg/L; mg/L == µg/mL == 1000 ng/mL. nmol/L * g/mol = ng/L = 0.001 ng/mL;
// µmol/L * g/mol = µg/L = 1 ng/mL.
const UNITS: &[Unit] = &[
    Unit::mass("ng/mL", Quantity::Concentration, 1.0),
    Unit::mass("ng/ml", Quantity::Concentration, 1.0),
    Unit::mass("ug/L", Quantity::Concentration, 1.0),
    Unit::mass("µg/L", Quantity::Concentration, 1.0),
    Unit::mass("mg/L", Quantity::Concentration, 1000.0),
    Unit::mass("ug/mL", Quantity::Concentration, 1000.0),
    Unit::mass("µg/mL", Quantity::Concentration, 1000.0),
    Unit::molar("nmol/L", 0.001),
    Unit::molar("nM", 0.001),
    Unit::molar("umol/L", 1.0),
    Unit::molar("µM", 1.0),
    Unit::mass("ng*h/mL", Quantity::Auc, 1.0),
    Unit::mass("mg*h/L", Quantity::Auc, 1000.0),
    Unit::mass("ug*h/mL", Quantity::Auc, 1000.0),
];

impl Unit {
    const fn mass(symbol: &'static str, quantity: Quantity, factor: f64) -> Unit {
        Unit {
            symbol,
            quantity,
            factor,
            molar: false,
        }
    }

    const fn molar(symbol: &'static str, factor: f64) -> Unit {
        Unit {
            symbol,
            quantity: Quantity::Concentration,
            factor,
            molar: true,
        }
    }

    /// Looks a unit up by its exact spelling. The Greek letter mu (U+03BC)
    /// is read as the micro sign (U+00B5): they look the same and mean the
    /// same, so this is not a guess.
    pub fn parse(text: &str) -> Result<Unit, UnitError> {
        let normalized = text.replace('\u{3bc}', "\u{b5}");
        UNITS
            .iter()
            .find(|u| u.symbol == normalized)
            .copied()
            .ok_or_else(|| UnitError::Unknown {
                unit: text.to_owned(),
                suggestion: suggest(text),
            })
    }

    /// Converts `value` in this unit to the canonical unit of its quantity.
    pub fn to_canonical(&self, value: f64, molar_mass: Option<f64>) -> Result<f64, UnitError> {
        if self.molar {
            let mass = molar_mass.ok_or(UnitError::NoMolarMass { unit: self.symbol })?;
            Ok(value * self.factor * mass)
        } else {
            Ok(value * self.factor)
        }
    }

    /// Converts a canonical value back to this unit (the inverse of
    /// [`Unit::to_canonical`]).
    pub fn from_canonical(&self, value: f64, molar_mass: Option<f64>) -> Result<f64, UnitError> {
        if self.molar {
            let mass = molar_mass.ok_or(UnitError::NoMolarMass { unit: self.symbol })?;
            Ok(value / (self.factor * mass))
        } else {
            Ok(value / self.factor)
        }
    }

    /// Every accepted spelling.
    pub fn all() -> impl Iterator<Item = &'static str> {
        UNITS.iter().map(|u| u.symbol)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol)
    }
}

/// Why a unit cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// Not one of the supported spellings.
    #[error("unknown unit `{unit}`{}; supported: {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), Unit::all().collect::<Vec<_>>().join(", "))]
    Unknown {
        /// What was given.
        unit: String,
        /// The closest supported spelling, if one is close.
        suggestion: Option<&'static str>,
    },
    /// A molar unit for an analyte whose molar mass the pack does not give.
    #[error(
        "unit `{unit}` is molar, but the pack gives no molar mass for this analyte; send the value in a mass unit such as ng/mL"
    )]
    NoMolarMass {
        /// The molar unit.
        unit: &'static str,
    },
}

fn suggest(text: &str) -> Option<&'static str> {
    crate::suggest(text.trim(), UNITS.iter().map(|u| u.symbol))
}

/// The quantity a value of a measure has (a unit of the input, a measure
/// of the contract).
impl Measure {
    /// `Concentration` for Cmin, `Auc` for AUC.
    pub fn quantity(self) -> Quantity {
        match self {
            Measure::Cmin => Quantity::Concentration,
            Measure::Auc => Quantity::Auc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(value: f64, unit: &str, mw: Option<f64>) -> f64 {
        Unit::parse(unit)
            .and_then(|u| u.to_canonical(value, mw))
            .unwrap_or(f64::NAN)
    }

    #[test]
    fn mass_units_convert_to_ng_per_ml() {
        assert_eq!(canonical(850.0, "ng/mL", None), 850.0);
        assert_eq!(canonical(850.0, "ug/L", None), 850.0);
        assert_eq!(canonical(20.0, "mg/L", None), 20_000.0);
        assert_eq!(canonical(1.4, "µg/mL", None), 1400.0);
        assert_eq!(
            canonical(1.4, "\u{3bc}g/mL", None),
            1400.0,
            "Greek mu reads as micro"
        );
    }

    #[test]
    fn molar_units_use_the_molar_mass() {
        // The seed: ponatinib 34.2 ng/mL corresponds to 64.3 nM (532.57 g/mol).
        let ng = canonical(64.3, "nM", Some(532.57));
        assert!((ng - 34.24).abs() < 0.01, "{ng}");
        // Osimertinib 166 ng/mL corresponds to 332 nM (499.62 g/mol).
        let ng = canonical(0.332, "µM", Some(499.62));
        assert!((ng - 165.87).abs() < 0.01, "{ng}");
    }

    #[test]
    fn molar_unit_without_molar_mass_is_refused() {
        let unit = Unit::parse("nmol/L").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(matches!(
            unit.to_canonical(10.0, None),
            Err(UnitError::NoMolarMass { .. })
        ));
    }

    #[test]
    fn auc_units() {
        assert_eq!(canonical(0.3, "mg*h/L", None), 300.0);
        assert_eq!(
            Unit::parse("ng*h/mL").map(|u| u.quantity),
            Ok(Quantity::Auc)
        );
    }

    #[test]
    fn unknown_units_are_refused_with_a_suggestion() {
        let err = Unit::parse("ng/dL").err();
        assert!(
            matches!(
                err,
                Some(UnitError::Unknown {
                    suggestion: Some(_),
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(
            Unit::parse("ng/mL ").is_err(),
            "trailing space is not silently trimmed"
        );
        assert!(Unit::parse("NG/ML").is_err(), "case is not guessed");
        let err = Unit::parse("furlongs").err();
        assert!(matches!(
            err,
            Some(UnitError::Unknown {
                suggestion: None,
                ..
            })
        ));
    }

    #[test]
    fn round_trip_is_identity() {
        for symbol in Unit::all() {
            let unit = Unit::parse(symbol).unwrap_or_else(|e| unreachable!("{e}"));
            let back = unit
                .to_canonical(123.456, Some(500.0))
                .and_then(|c| unit.from_canonical(c, Some(500.0)));
            assert!(back.is_ok_and(|b| (b - 123.456).abs() < 1e-9), "{symbol}");
        }
    }
}
