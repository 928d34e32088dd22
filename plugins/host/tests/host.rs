//! The plugin host end to end: build real plugin libraries, load them
//! through the core's pinning and opt-in, and check that nothing a plugin
//! does can crash the host.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use serde_json::json;
use tdm_core::{
    LoadOptions, PackError, Plugins, eval::evaluate_value, load_pack, load_pack_with,
    result::Status,
};
use tdm_plugin_host::HostLoader;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds the workspace's plugin libraries once (in their own target
/// directory, so the outer build is not disturbed) and returns their paths.
fn libraries() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = root().join("target/plugin-tests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root())
            .args([
                "build",
                "-q",
                "-p",
                "tdm-example-plugin",
                "-p",
                "tdm-test-plugin",
                "--target-dir",
            ])
            .arg(&target)
            .status()
            .unwrap();
        assert!(status.success(), "building the plugins failed");
        let lib = |name: &str| {
            target.join("debug").join(format!(
                "{}{name}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ))
        };
        (lib("tdm_example_plugin"), lib("tdm_test_plugin"))
    })
}

/// Tests that load the misbehaving plugin take this lock: one of them
/// changes the environment variable the plugin reads when it is loaded.
static MISBEHAVING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn allow() -> LoadOptions {
    LoadOptions {
        plugins: Plugins::Load(Arc::new(HostLoader)),
        ..LoadOptions::default()
    }
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A copy of the example plugin pack using `library`, pinned with `pin`
/// (the library's real digest when `None`).
fn pack_with(library: &Path, pin: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("rules/examples/plugin-ratio");
    for sub in ["drugs", "tests", "plugins"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for f in ["drugs/imatinib.yaml", "tests/imatinib.yaml"] {
        fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    if library.exists() {
        fs::copy(library, dir.path().join("plugins/libimatinib_ratio.so")).unwrap();
    }
    let digest = pin.map_or_else(|| sha256(library), str::to_owned);
    let manifest = fs::read_to_string(src.join("pack.yaml")).unwrap();
    let manifest = manifest
        .lines()
        .map(|l| {
            if l.starts_with("    sha256: ") {
                format!("    sha256: \"{digest}\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(dir.path().join("pack.yaml"), manifest).unwrap();
    dir
}

fn problems(e: &PackError) -> String {
    e.problems()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_example_plugin_predicts_troughs_and_matches_log_linear_late_in_the_interval() {
    let (example, _) = libraries();
    let dir = pack_with(example, None);
    let plugin_pack =
        load_pack_with(dir.path(), &allow()).unwrap_or_else(|e| panic!("{}", problems(&e)));
    let log_linear = load_pack(root().join("rules/ki-oncology")).unwrap();
    // Without a dose, ki-oncology's population model is not fitted, and
    // its correction is log-linear.
    let at = |pack, hours: f64| {
        let s = json!({"drug": "imatinib", "indication": "CML", "value": 1000, "unit": "ng/mL",
                       "hours_since_dose": hours, "days_on_dose": 30});
        let r = evaluate_value(pack, &s);
        r.assessment
            .as_ref()
            .map(|a| a.exposure.value)
            .unwrap_or_else(|| panic!("{r:?}"))
    };
    // Where both apply, late in the interval, they agree within 3 %.
    for hours in [8.0, 10.0, 12.0, 16.0, 20.0, 23.0] {
        let (ratio, log) = (at(&plugin_pack, hours), at(&log_linear, hours));
        assert!(
            (ratio - log).abs() / log < 0.03,
            "{hours} h: ratio {ratio} vs log-linear {log}"
        );
    }
    // Early, near the peak, log-linear ignores ongoing absorption and
    // predicts a lower trough than the model (by more than 10 % at 3-4 h).
    for hours in [3.0, 4.0] {
        let (ratio, log) = (at(&plugin_pack, hours), at(&log_linear, hours));
        assert!(
            ratio > log * 1.1,
            "{hours} h: ratio {ratio} vs log-linear {log}"
        );
    }
    // In the absorption phase only the plugin gives a value.
    let early = evaluate_value(
        &log_linear,
        &json!({"drug": "imatinib", "indication": "CML", "value": 1000,
                                                   "unit": "ng/mL", "hours_since_dose": 1, "days_on_dose": 30}),
    );
    assert_eq!(
        early.assessment.map(|a| a.advice),
        Some(tdm_core::result::Advice::RepeatSample)
    );
    assert!((at(&plugin_pack, 1.0) - 729.3).abs() < 1.0);
}

#[test]
fn the_pack_cases_pass_through_the_plugin() {
    let (example, _) = libraries();
    let dir = pack_with(example, None);
    let pack = load_pack_with(dir.path(), &allow()).unwrap();
    for case in tdm_core::tools::load_cases(dir.path()).unwrap() {
        let outcome = tdm_core::tools::run_case(&pack, &case);
        assert!(
            outcome.failures.is_empty(),
            "{}: {:?}",
            case.name,
            outcome.failures
        );
    }
}

#[test]
fn a_wrong_hash_is_refused_before_loading() {
    let (example, _) = libraries();
    let dir = pack_with(example, Some(&"ab".repeat(32)));
    let e = load_pack_with(dir.path(), &allow()).unwrap_err();
    let text = problems(&e);
    assert!(
        text.contains("pack.yaml:")
            && text.contains("but the pack pins abab")
            && text.contains("it was not loaded"),
        "{text}"
    );
}

#[test]
fn without_the_opt_in_the_pack_is_refused_with_how_to_allow_it() {
    let (example, _) = libraries();
    let dir = pack_with(example, None);
    let e = load_pack(dir.path()).unwrap_err();
    let p = &e.problems()[0];
    assert!(p.message.contains("needs the operator's opt-in"), "{p}");
    assert!(p.help.as_deref().unwrap_or("").contains("--allow-plugins"));
    // `tdm validate` checks the pin without loading.
    let verified = load_pack_with(
        dir.path(),
        &LoadOptions {
            plugins: Plugins::VerifyOnly,
            ..LoadOptions::default()
        },
    );
    assert!(verified.is_ok());
}

#[test]
fn a_missing_library_is_a_clear_error() {
    let dir = pack_with(
        Path::new("/nonexistent/libnothing.so"),
        Some(&"00".repeat(32)),
    );
    let e = load_pack_with(dir.path(), &allow()).unwrap_err();
    let text = problems(&e);
    assert!(
        text.contains("cannot read `plugins/libimatinib_ratio.so`"),
        "{text}"
    );
}

#[test]
fn another_abi_version_is_refused_naming_both() {
    let _serial = MISBEHAVING.lock().unwrap_or_else(|e| e.into_inner());
    let (_, misbehaving) = libraries();
    let dir = pack_with(misbehaving, None);
    // The test plugin reports the ABI version in this variable; the
    // variable is read when the host asks for the entry.
    unsafe_env_set("TDM_TEST_PLUGIN_ABI", "2");
    let e = load_pack_with(dir.path(), &allow()).unwrap_err();
    unsafe_env_set("TDM_TEST_PLUGIN_ABI", "1");
    let text = problems(&e);
    assert!(
        text.contains("built against plugin ABI version 2, but this tdm speaks version 1"),
        "{text}"
    );
}

fn unsafe_env_set(key: &str, value: &str) {
    // Setting the environment is `unsafe` in edition 2024; this crate may.
    // SAFETY: tests that load the test plugin hold `MISBEHAVING`, so no other
    // thread reads this variable while it changes.
    unsafe { std::env::set_var(key, value) };
}

#[test]
fn misbehaving_plugins_give_error_results_and_the_host_goes_on() {
    let _serial = MISBEHAVING.lock().unwrap_or_else(|e| e.into_inner());
    let (_, misbehaving) = libraries();
    let dir = pack_with(misbehaving, None);
    // The misbehaving plugin drives imatinib here; its normal answer is
    // twice the parent's level, a value the plausibility check accepts.
    let pack = load_pack_with(dir.path(), &allow()).unwrap_or_else(|e| panic!("{}", problems(&e)));
    let run = |behaviour: &str| {
        let s = json!({"drug": "imatinib", "indication": "CML", "value": 1000, "unit": "ng/mL",
                       "hours_since_dose": 10, "days_on_dose": 30, "behaviour": behaviour});
        evaluate_value(&pack, &s)
    };
    for (behaviour, expected) in [
        (
            "panic",
            "the plugin panicked: the plugin was asked to panic",
        ),
        ("nan", "needs `value`"),
        (
            "negative",
            "must be a finite number of zero or more, got -5",
        ),
        ("wrong-unit", "unknown unit `furlongs`"),
        ("not-a-map", "must return a map or ()"),
        ("error", "the plugin reports an error"),
    ] {
        let r = run(behaviour);
        assert_eq!(r.status, Status::Error, "{behaviour}: {r:?}");
        let message = r.error.unwrap_or_default();
        assert!(
            message.contains("plugin `misbehaving`") && message.contains(expected),
            "{behaviour}: {message}"
        );
    }
    // After all that, the host still evaluates normally.
    let r = run("");
    assert_eq!(r.status, Status::Ok, "{r:?}");
}

#[test]
fn a_plugin_that_is_not_thread_safe_is_serialised() {
    let _serial = MISBEHAVING.lock().unwrap_or_else(|e| e.into_inner());
    let (_, misbehaving) = libraries();
    let dir = pack_with(misbehaving, None);
    let pack = load_pack_with(dir.path(), &allow()).unwrap();
    let sample = json!({"drug": "imatinib", "indication": "CML", "value": 1000, "unit": "ng/mL",
                        "hours_since_dose": 10, "days_on_dose": 30});
    let alone = evaluate_value(&pack, &sample);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..100)
                        .map(|_| evaluate_value(&pack, &sample))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap().iter().all(|r| *r == alone));
        }
    });
}

#[cfg(unix)]
unsafe extern "C" {
    /// The process's file-creation mask (libc).
    fn umask(mask: u32) -> u32;
}

/// Under `umask 000` the staged copy of the verified library is still the
/// owner's alone (directory 0700, file 0600), and it is removed with the
/// plugin: another user cannot change the code this process runs.
#[cfg(unix)]
#[test]
fn the_staged_copy_is_the_owners_alone_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let (example, _) = libraries();
    let bytes = std::fs::read(example).unwrap();
    // SAFETY: umask only changes this process's creation mask; it is put back.
    let before = unsafe { umask(0) };
    let loaded = tdm_plugin_host::HostPlugin::load(example, &bytes);
    // SAFETY: as above.
    unsafe { umask(before) };
    let plugin = loaded.unwrap();
    let staged = plugin.staged().to_path_buf();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&staged), 0o600, "{}", staged.display());
    assert_eq!(mode(staged.parent().unwrap()), 0o700);
    drop(plugin);
    assert!(!staged.exists(), "the staged copy outlived the plugin");
}
