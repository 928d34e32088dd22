//! The clinical context a sample may carry beyond its level: what was
//! measured (plasma, serum, whole blood) and the co-medication that changes
//! exposure.

/// What a level was measured in. Plasma and serum levels of these drugs
/// are read alike; whole blood is another quantity (everolimus).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Matrix {
    /// Plasma.
    Plasma,
    /// Serum.
    Serum,
    /// Whole blood.
    WholeBlood,
}

impl Matrix {
    /// Reads `plasma`, `serum`, `whole_blood` (or `whole blood`), any case.
    pub fn parse(text: &str) -> Option<Matrix> {
        match text.trim().to_ascii_lowercase().replace(' ', "_").as_str() {
            "plasma" => Some(Matrix::Plasma),
            "serum" => Some(Matrix::Serum),
            "whole_blood" => Some(Matrix::WholeBlood),
            _ => None,
        }
    }

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Matrix::Plasma => "plasma",
            Matrix::Serum => "serum",
            Matrix::WholeBlood => "whole_blood",
        }
    }

    /// As a pharmacist reads it.
    pub fn words(self) -> &'static str {
        match self {
            Matrix::Plasma => "plasma",
            Matrix::Serum => "serum",
            Matrix::WholeBlood => "whole blood",
        }
    }

    /// Plasma and serum are one kind of sample for these drugs.
    pub fn same_kind(self, other: Matrix) -> bool {
        (self == Matrix::WholeBlood) == (other == Matrix::WholeBlood)
    }
}

/// Co-medication that changes a kinase inhibitor's exposure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comedication {
    /// A strong CYP3A4 inhibitor (raises exposure of CYP3A4 substrates).
    StrongCyp3a4Inhibitor,
    /// A strong CYP3A4 inducer (lowers it).
    StrongCyp3a4Inducer,
    /// A proton-pump inhibitor, H2 blocker or antacid (lowers the
    /// absorption of drugs whose solubility falls with gastric pH).
    AcidReducer,
}

impl Comedication {
    /// Every flag, in the contract's order.
    pub const ALL: [Comedication; 3] = [
        Comedication::StrongCyp3a4Inhibitor,
        Comedication::StrongCyp3a4Inducer,
        Comedication::AcidReducer,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Comedication::StrongCyp3a4Inhibitor => "strong_cyp3a4_inhibitor",
            Comedication::StrongCyp3a4Inducer => "strong_cyp3a4_inducer",
            Comedication::AcidReducer => "acid_reducer",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Comedication> {
        let t = text.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(t))
    }
}
