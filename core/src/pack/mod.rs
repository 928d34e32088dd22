//! Packs: where their files come from, YAML, the raw types, shape and
//! clinical checks, overlays, the digest, and the validated model that
//! evaluation reads.

pub(crate) mod check;
pub mod codes;
pub(crate) mod digest;
pub(crate) mod error;
pub(crate) mod files;
pub(crate) mod label;
pub(crate) mod load;
pub(crate) mod model;
pub(crate) mod overlay;
pub(crate) mod pk;
pub(crate) mod plugin;
pub(crate) mod raw;
pub(crate) mod raw_codes;
pub(crate) mod raw_pk;
pub(crate) mod schema;
pub(crate) mod script;
pub(crate) mod shape;
pub mod signature;
pub(crate) mod source;
pub(crate) mod trust;
pub(crate) mod yaml;

pub use codes::Codes;
pub use error::{MAX_PROBLEMS_PER_FILE, PackError, Position, Problem, ProblemKind, ProblemReport};
pub use load::{load_pack, load_pack_with, resolve_pack};
pub use model::{
    Analyte, Approval, ChangelogEntry, DoseLevel, Dosing, Drug, DrugModel, Frequency, HookProvider,
    Intervention, Lower, Pack, Policy, Signal, SignedBy, Spread, Target, TroughCorrection,
};
pub use overlay::{Origin, ResolvedFile};
pub use plugin::{LoadOptions, NativePlugin, PluginLoader, Plugins};
pub use script::Script;
pub use source::PackSource;
pub use trust::{NAMESPACE as SIGNATURE_NAMESPACE, Trust, TrustError};
pub use yaml::to_json_value as yaml_to_json;

/// The content digest (`sha256:<hex>`) of pack files given as (name
/// relative to the pack, content): YAML files as their parsed values,
/// scripts as their text. Formatting, key order, comments and the spelling
/// of a number do not change it; a pack's digest is this of the pack's files.
pub fn content_digest<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
) -> String {
    digest::digest(files)
}
