//! Native plugins as the core sees them. Loading native code is the job of
//! the `tdm-plugin-host` crate (the only one allowed `unsafe`); the core
//! checks each plugin's pinned sha256 before anything is loaded and calls
//! plugins through this trait with the same JSON contract as scripts.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A loaded native plugin.
pub trait NativePlugin: Send + Sync + fmt::Debug {
    /// The plugin's own name.
    fn name(&self) -> &str;
    /// The hooks it implements (`exposure`, `target`, `next_dose`).
    fn hooks(&self) -> &[crate::result::Hook];
    /// Calls `hook` with `{"sample": ..., "result": ...}`; answers with the
    /// value a script would return (`null` for `()`), or an error message.
    fn call(&self, hook: &str, request: &serde_json::Value) -> Result<serde_json::Value, String>;
}

/// Loads a plugin library whose bytes matched the pack's pin.
pub trait PluginLoader: Send + Sync {
    /// `bytes` are the verified contents of the file at `path`; a loader
    /// must load these bytes, not whatever is at `path` later.
    fn load(&self, path: &Path, bytes: &[u8]) -> Result<Arc<dyn NativePlugin>, String>;
}

/// What the loader does with a pack's plugins.
#[derive(Clone, Default)]
pub enum Plugins {
    /// Refuse a pack whose drugs need a plugin: loading native code needs
    /// the operator's opt-in.
    #[default]
    Refuse,
    /// Check the pins without loading anything (`tdm validate`); drugs that
    /// need a plugin cannot be evaluated with such a pack.
    VerifyOnly,
    /// Load plugins with this loader (the operator opted in).
    Load(Arc<dyn PluginLoader>),
}

/// Options of loading a pack (`load_pack_with`).
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// What to do with native plugins.
    pub plugins: Plugins,
    /// When given, a pack (and an overlay's base) is refused unless enough
    /// trusted approvers signed its content (`signatures.yaml`).
    pub trust: Option<Arc<crate::pack::trust::Trust>>,
}

/// The largest plugin library read for its checksum.
pub(crate) const MAX_PLUGIN_BYTES: u64 = 256 * 1024 * 1024;

/// Lower-case hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
