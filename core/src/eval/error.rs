//! Why a sample could not be evaluated: a code for programs and a sentence
//! that names the field and the problem for people.

use crate::result::ErrorCode;

/// A sample that cannot be evaluated against the pack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// What kind of problem it is (written as the result's `error_code`).
    pub code: ErrorCode,
    /// The sentence written as the result's `error`.
    pub message: String,
}

impl EvalError {
    /// An error of `code` with its sentence.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EvalError {
            code,
            message: message.into(),
        }
    }

    /// The drug's script or plugin failed.
    pub(crate) fn hook(message: String) -> Self {
        EvalError::new(ErrorCode::Hook, message)
    }

    /// No target applies to the sample.
    pub(crate) fn no_target(message: String) -> Self {
        EvalError::new(ErrorCode::NoTarget, message)
    }
}
