//! The native plugin interface of `tdm`.
//!
//! A plugin implements [`Plugin`] — any of the hooks `exposure`, `target`
//! and `next_dose`, with the same inputs and outputs as Rhai scripts
//! (docs/scripting.md), as JSON values — and exports it with
//! [`export_plugin!`]:
//!
//! ```ignore
//! #[derive(Default)]
//! struct Ratio;
//! impl tdm_plugin_api::Plugin for Ratio {
//!     const NAME: &'static str = "ratio-method";
//!     const HOOKS: &'static [&'static str] = &["exposure"];
//!     fn exposure(&self, sample: &Value) -> Result<Value, String> { ... }
//! }
//! tdm_plugin_api::export_plugin!(Ratio);
//! ```
//!
//! The ABI is one C function, `tdm_plugin_entry`, returning a pointer to a
//! static [`PluginEntry`]. Requests and answers cross the boundary as JSON in
//! NUL-terminated UTF-8 strings: the same contract as scripts, no shared Rust
//! types, so a plugin built with another compiler version still works, and a
//! change of the contract is a change of [`ABI_VERSION`].

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

pub use serde_json::{Value, json};

/// The ABI version this crate speaks. The host refuses a plugin with another.
pub const ABI_VERSION: u32 = 1;

/// The symbol every plugin exports.
pub const ENTRY_SYMBOL: &str = "tdm_plugin_entry";

/// What a plugin tells the host. `abi_version` is the first field in every
/// ABI version, so the host can read it before trusting anything else.
#[repr(C)]
pub struct PluginEntry {
    /// [`ABI_VERSION`] the plugin was built against.
    pub abi_version: u32,
    /// 1 when the plugin may be called from several threads at once.
    pub thread_safe: u8,
    /// The plugin's name (NUL-terminated UTF-8, static).
    pub name: *const c_char,
    /// The hooks it implements, comma-separated (NUL-terminated, static).
    pub hooks: *const c_char,
    /// Calls a hook: `hook` and `request` are NUL-terminated UTF-8; the
    /// answer is a string the host must give back to `free`.
    pub call: unsafe extern "C" fn(hook: *const c_char, request: *const c_char) -> *mut c_char,
    /// Frees an answer of `call`.
    pub free: unsafe extern "C" fn(answer: *mut c_char),
}

// SAFETY: the entry is immutable static data; its pointers refer to static
// strings and functions of the plugin library.
#[allow(unsafe_code)]
unsafe impl Sync for PluginEntry {}
// SAFETY: as above; the entry is never mutated after it is made.
#[allow(unsafe_code)]
unsafe impl Send for PluginEntry {}

/// The hooks a script or plugin may implement, in the order evaluation
/// calls them. One list for scripts, plugins and results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "contract",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)
)]
#[cfg_attr(feature = "contract", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Hook {
    /// `target(sample)`: replaces the target's bounds.
    Target,
    /// `exposure(sample)`: the exposure to judge, from the analytes.
    Exposure,
    /// `next_dose(sample, result)`: changes the advice or the next dose.
    NextDose,
}

impl Hook {
    /// Every hook.
    pub const ALL: [Hook; 3] = [Hook::Target, Hook::Exposure, Hook::NextDose];

    /// The name scripts define and plugins list: `target`, `exposure`, `next_dose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Target => "target",
            Hook::Exposure => "exposure",
            Hook::NextDose => "next_dose",
        }
    }

    /// The hook of that name.
    pub fn from_name(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|h| h.as_str() == name)
    }

    /// How many arguments the hook takes.
    pub fn arity(self) -> usize {
        match self {
            Hook::NextDose => 2,
            Hook::Target | Hook::Exposure => 1,
        }
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A native plugin. Each hook gets the request as JSON (`sample`, and for
/// `next_dose` also `result`, shaped as for scripts) and answers with the
/// value a script would return (`null` for `()`), or an error message.
pub trait Plugin: Send + Sync + Default + 'static {
    /// The plugin's name, as errors show it.
    const NAME: &'static str;
    /// The hooks it implements.
    const HOOKS: &'static [&'static str];
    /// Whether the host may call it from several threads at once.
    const THREAD_SAFE: bool = true;

    /// `exposure(sample)`.
    fn exposure(&self, _sample: &Value) -> Result<Value, String> {
        Ok(Value::Null)
    }
    /// `target(sample)`.
    fn target(&self, _sample: &Value) -> Result<Value, String> {
        Ok(Value::Null)
    }
    /// `next_dose(sample, result)`.
    fn next_dose(&self, _sample: &Value, _result: &Value) -> Result<Value, String> {
        Ok(Value::Null)
    }
}

/// Runs one request against `plugin`: never panics, never unwinds. The
/// answer is `{"ok": value}` or `{"error": message}`.
pub fn handle<P: Plugin>(plugin: &P, hook: &str, request: &str) -> String {
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<Value, String> {
        let request: Value =
            serde_json::from_str(request).map_err(|e| format!("bad request: {e}"))?;
        let sample = request.get("sample").unwrap_or(&Value::Null);
        match Hook::from_name(hook) {
            Some(Hook::Exposure) => plugin.exposure(sample),
            Some(Hook::Target) => plugin.target(sample),
            Some(Hook::NextDose) => {
                plugin.next_dose(sample, request.get("result").unwrap_or(&Value::Null))
            }
            None => Err(format!("unknown hook `{hook}`")),
        }
    }));
    let answer = match outcome {
        Ok(Ok(value)) => json!({ "ok": value }),
        Ok(Err(message)) => json!({ "error": message }),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            json!({ "error": format!("the plugin panicked: {message}") })
        }
    };
    answer.to_string()
}

/// The C side of the ABI, used by the code [`export_plugin!`] generates.
#[doc(hidden)]
pub mod ffi {
    use super::*;

    /// Reads a C string from the host.
    ///
    /// # Safety
    /// `ptr` is null or a NUL-terminated string valid for this call.
    #[allow(unsafe_code)]
    pub unsafe fn text<'a>(ptr: *const c_char) -> &'a str {
        if ptr.is_null() {
            return "";
        }
        // SAFETY: the caller guarantees a NUL-terminated string.
        unsafe { CStr::from_ptr(ptr) }.to_str().unwrap_or("")
    }

    /// Hands an answer to the host; it comes back through [`release`].
    pub fn answer(text: String) -> *mut c_char {
        CString::new(text.replace('\0', " "))
            .unwrap_or_default()
            .into_raw()
    }

    /// Frees an answer made by [`answer`].
    ///
    /// # Safety
    /// `ptr` is null or came from [`answer`] and is released once.
    #[allow(unsafe_code)]
    pub unsafe fn release(ptr: *mut c_char) {
        if !ptr.is_null() {
            // SAFETY: the caller guarantees the pointer came from `CString::into_raw`.
            drop(unsafe { CString::from_raw(ptr) });
        }
    }

    /// A static C string made once from `text`.
    pub fn leak(text: &str) -> *const c_char {
        CString::new(text).unwrap_or_default().into_raw()
    }
}

/// Exports a [`Plugin`] type as a `tdm` plugin library (build the crate as
/// a `cdylib`).
///
/// `export_plugin!(MyPlugin, abi = EXPR)` reports another ABI version; only
/// `tdm`'s own tests use it, to check that the host refuses a mismatch.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        $crate::export_plugin!($plugin, abi = $crate::ABI_VERSION);
    };
    ($plugin:ty, abi = $abi:expr) => {
        fn __tdm_plugin_instance() -> &'static $plugin {
            static INSTANCE: ::std::sync::OnceLock<$plugin> = ::std::sync::OnceLock::new();
            INSTANCE.get_or_init(<$plugin as ::std::default::Default>::default)
        }

        #[allow(unsafe_code)]
        unsafe extern "C" fn __tdm_plugin_call(
            hook: *const ::std::ffi::c_char,
            request: *const ::std::ffi::c_char,
        ) -> *mut ::std::ffi::c_char {
            // SAFETY: the host passes NUL-terminated strings valid for the call.
            let (hook, request) = unsafe { ($crate::ffi::text(hook), $crate::ffi::text(request)) };
            $crate::ffi::answer($crate::handle(__tdm_plugin_instance(), hook, request))
        }

        #[allow(unsafe_code)]
        unsafe extern "C" fn __tdm_plugin_free(answer: *mut ::std::ffi::c_char) {
            // SAFETY: the host returns each answer of `__tdm_plugin_call` once.
            unsafe { $crate::ffi::release(answer) }
        }

        /// The plugin's entry point, looked up by the host.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn tdm_plugin_entry() -> *const $crate::PluginEntry {
            static ENTRY: ::std::sync::OnceLock<$crate::PluginEntry> = ::std::sync::OnceLock::new();
            ENTRY.get_or_init(|| $crate::PluginEntry {
                abi_version: $abi,
                thread_safe: <$plugin as $crate::Plugin>::THREAD_SAFE as u8,
                name: $crate::ffi::leak(<$plugin as $crate::Plugin>::NAME),
                hooks: $crate::ffi::leak(&<$plugin as $crate::Plugin>::HOOKS.join(",")),
                call: __tdm_plugin_call,
                free: __tdm_plugin_free,
            })
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Echo;
    impl Plugin for Echo {
        const NAME: &'static str = "echo";
        const HOOKS: &'static [&'static str] = &["exposure"];
        fn exposure(&self, sample: &Value) -> Result<Value, String> {
            if sample.get("panic").is_some() {
                #[allow(clippy::panic)]
                {
                    panic!("asked to");
                }
            }
            Ok(json!({"value": sample["value"], "unit": "ng/mL"}))
        }
    }

    #[test]
    fn a_request_is_answered_as_json() {
        let answer = handle(&Echo, "exposure", r#"{"sample": {"value": 5}}"#);
        assert_eq!(answer, r#"{"ok":{"unit":"ng/mL","value":5}}"#);
    }

    #[test]
    fn a_panic_becomes_an_error_answer() {
        let answer = handle(&Echo, "exposure", r#"{"sample": {"panic": true}}"#);
        assert!(answer.contains("the plugin panicked: asked to"), "{answer}");
    }

    #[test]
    fn bad_requests_and_unknown_hooks_are_errors() {
        assert!(handle(&Echo, "exposure", "not json").contains("bad request"));
        assert!(handle(&Echo, "dose", "{}").contains("unknown hook `dose`"));
        assert_eq!(handle(&Echo, "target", "{}"), r#"{"ok":null}"#);
    }
}
