//! Packs: where their files come from, YAML, the raw types, shape and
//! clinical checks, overlays, the digest, and the validated model that
//! evaluation reads.

pub(crate) mod check;
pub(crate) mod digest;
pub(crate) mod error;
pub(crate) mod load;
pub(crate) mod model;
pub(crate) mod overlay;
pub(crate) mod plugin;
pub(crate) mod raw;
pub(crate) mod schema;
pub(crate) mod script;
pub(crate) mod shape;
pub mod source;
pub(crate) mod yaml;
