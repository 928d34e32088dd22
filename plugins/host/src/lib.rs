//! Loads `tdm` native plugins (libloading) for the core's [`PluginLoader`].
//!
//! The core has already checked the library's sha256 against the pack's pin
//! and hands over the verified bytes; the host writes exactly those bytes to
//! a private temporary file and loads that file, so a library swapped on
//! disk after the check is never the one that runs. Then:
//!
//! - the ABI version is read first and a mismatch is refused, naming both;
//! - every call passes JSON across C strings; the plugin's export macro
//!   catches panics, so none unwinds into the host;
//! - a plugin that is not thread-safe is called under a mutex.

use std::ffi::{CStr, CString, c_char};
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tdm_core::{pack::NativePlugin, pack::PluginLoader};
use tdm_plugin_api::{ABI_VERSION, ENTRY_SYMBOL, Hook, PluginEntry};

/// The loader of `--allow-plugins`.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostLoader;

impl PluginLoader for HostLoader {
    fn load(&self, path: &Path, bytes: &[u8]) -> Result<Arc<dyn NativePlugin>, String> {
        HostPlugin::load(path, bytes).map(|p| Arc::new(p) as Arc<dyn NativePlugin>)
    }
}

/// A loaded plugin library.
pub struct HostPlugin {
    name: String,
    hooks: Vec<Hook>,
    entry: *const PluginEntry,
    serial: Option<Mutex<()>>,
    // Field order matters: the library is unloaded before its file is removed.
    _library: libloading::Library,
    _dir: tempfile::TempDir,
    staged: std::path::PathBuf,
}

// SAFETY: `entry` points to immutable static data inside `_library`, which
// lives as long as this value; calls are serialised by `serial` when the
// plugin did not declare itself thread-safe.
unsafe impl Send for HostPlugin {}
// SAFETY: as above.
unsafe impl Sync for HostPlugin {}

impl fmt::Debug for HostPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostPlugin({}, {:?})", self.name, self.hooks)
    }
}

/// Writes the verified bytes where only this user can read, write or
/// replace them, whatever the umask: the directory 0700 and the file 0600,
/// set explicitly after creation (a world-writable copy would let another
/// user change the code this process runs).
fn stage(dir: &Path, staged: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(staged)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        std::fs::File::create(staged).and_then(|mut f| f.write_all(bytes))
    }
}

fn c_text(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the plugin's entry strings are NUL-terminated and static.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .ok()
        .map(str::to_owned)
}

impl HostPlugin {
    /// The private copy of the verified bytes that the library was loaded
    /// from (removed when the plugin is dropped).
    pub fn staged(&self) -> &Path {
        &self.staged
    }

    /// Loads the library whose verified contents are `bytes`.
    pub fn load(path: &Path, bytes: &[u8]) -> Result<HostPlugin, String> {
        let shown = path.display();
        let dir = tempfile::Builder::new()
            .prefix("tdm-plugin-")
            .tempdir()
            .map_err(|e| format!("cannot stage `{shown}`: {e}"))?;
        let file_name = path
            .file_name()
            .map_or_else(|| "plugin".into(), |n| n.to_owned());
        let staged = dir.path().join(file_name);
        stage(dir.path(), &staged, bytes).map_err(|e| format!("cannot stage `{shown}`: {e}"))?;
        // SAFETY: loading runs the library's initialisers. The bytes matched
        // the pin the pack's approvers recorded, and the operator opted in.
        let library = unsafe { libloading::Library::new(&staged) }
            .map_err(|e| format!("cannot load `{shown}`: {e}"))?;
        // SAFETY: the symbol's type is the ABI's entry function.
        let entry_fn = unsafe {
            library.get::<extern "C" fn() -> *const PluginEntry>(ENTRY_SYMBOL.as_bytes())
        }
        .map_err(|_| format!("`{shown}` is not a tdm plugin: it exports no `{ENTRY_SYMBOL}`"))?;
        let entry = entry_fn();
        if entry.is_null() {
            return Err(format!("`{shown}`: `{ENTRY_SYMBOL}` returned nothing"));
        }
        // SAFETY: `abi_version` is the first field in every ABI version, so it
        // can be read before the rest of the layout is trusted.
        let abi = unsafe { std::ptr::addr_of!((*entry).abi_version).read() };
        if abi != ABI_VERSION {
            return Err(format!(
                "`{shown}` was built against plugin ABI version {abi}, but this tdm speaks version {ABI_VERSION}"
            ));
        }
        // SAFETY: same ABI version: the whole entry has the layout we know.
        let e = unsafe { &*entry };
        let name = c_text(e.name).ok_or_else(|| format!("`{shown}`: the plugin has no name"))?;
        let mut hooks = Vec::new();
        for name in c_text(e.hooks).unwrap_or_default().split(',') {
            match Hook::from_name(name) {
                Some(hook) => hooks.push(hook),
                None if name.is_empty() => {}
                None => return Err(format!("`{shown}`: unknown hook `{name}`")),
            }
        }
        Ok(HostPlugin {
            name,
            hooks,
            serial: (e.thread_safe == 0).then(|| Mutex::new(())),
            entry,
            _library: library,
            _dir: dir,
            staged,
        })
    }

    fn raw_call(&self, hook: &str, request: &str) -> Result<String, String> {
        let hook = CString::new(hook).map_err(|e| e.to_string())?;
        let request = CString::new(request).map_err(|e| e.to_string())?;
        let _guard = match &self.serial {
            Some(m) => Some(
                m.lock()
                    .map_err(|_| "the plugin's lock is poisoned".to_owned())?,
            ),
            None => None,
        };
        // SAFETY: the entry is valid while the library is loaded (self owns it).
        let e = unsafe { &*self.entry };
        // SAFETY: both arguments are NUL-terminated strings that outlive the call.
        let answer = unsafe { (e.call)(hook.as_ptr(), request.as_ptr()) };
        if answer.is_null() {
            return Err("the plugin returned no answer".into());
        }
        // SAFETY: a non-null answer is a NUL-terminated string from the plugin.
        let text = unsafe { CStr::from_ptr(answer) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: each answer is given back exactly once.
        unsafe { (e.free)(answer) };
        Ok(text)
    }
}

impl NativePlugin for HostPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    fn hooks(&self) -> &[Hook] {
        &self.hooks
    }

    fn call(&self, hook: &str, request: &serde_json::Value) -> Result<serde_json::Value, String> {
        let answer = self.raw_call(hook, &request.to_string())?;
        let mut value: serde_json::Value = serde_json::from_str(&answer)
            .map_err(|e| format!("the plugin's answer is not JSON: {e}"))?;
        if let Some(message) = value.get("error") {
            return Err(message.as_str().unwrap_or("unknown error").to_owned());
        }
        match value.get_mut("ok") {
            Some(ok) => Ok(ok.take()),
            None => Err("the plugin's answer has neither `ok` nor `error`".into()),
        }
    }
}
