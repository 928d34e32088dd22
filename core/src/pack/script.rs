//! Rhai scripts for what a table cannot say: a drug rule may hand any of the
//! hooks `exposure(sample)`, `target(sample)` and `next_dose(sample, result)`
//! to a script in its pack (docs/scripting.md).
//!
//! Scripts are written by institutions, so they run in a sandbox: no
//! modules, no `eval`, no file or network access (Rhai has none without
//! extra packages), and limits on operations, call depth, expression depth
//! and the size of strings, arrays and maps. A script that breaks a limit or
//! fails stops with an error for that one sample. Scripts are compiled once
//! when the pack loads; the compiled form is shared across threads.

use std::fmt;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Map, Scope};
use serde_json::Value;

use crate::pack::error::{Position, Problem, ProblemKind};
use crate::result::Hook;

/// Limits of one hook call. A clinical rule needs a few hundred operations.
pub const MAX_OPERATIONS: u64 = 100_000;
/// Function call depth.
pub const MAX_CALL_LEVELS: usize = 16;
/// Characters in one string.
pub const MAX_STRING_SIZE: usize = 4_096;
/// Elements of one array.
pub const MAX_ARRAY_SIZE: usize = 1_000;
/// Entries of one map.
pub const MAX_MAP_SIZE: usize = 256;
/// Wall-clock time of one hook call. The operation limit counts a sort of
/// a large array as one operation, so a script could stay under it and
/// still spend seconds; a clinical rule needs microseconds.
pub const MAX_CALL_TIME: std::time::Duration = std::time::Duration::from_millis(50);

thread_local! {
    /// When the hook call running on this thread must stop.
    static DEADLINE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// The sandboxed engine a pack's scripts run on.
pub(crate) struct ScriptEngine(Engine);

impl fmt::Debug for ScriptEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScriptEngine")
    }
}

impl Default for ScriptEngine {
    fn default() -> Self {
        let mut engine = Engine::new();
        engine
            .set_max_operations(MAX_OPERATIONS)
            .set_max_call_levels(MAX_CALL_LEVELS)
            .set_max_expr_depths(64, 32)
            .set_max_string_size(MAX_STRING_SIZE)
            .set_max_array_size(MAX_ARRAY_SIZE)
            .set_max_map_size(MAX_MAP_SIZE)
            .set_max_variables(256)
            .set_max_functions(64)
            .disable_symbol("eval");
        // Scripts do not write to the terminal of a lab system.
        engine.on_print(|_| {}).on_debug(|_, _, _| {});
        // The clock is read every 64 operations: often enough to stop a call
        // within its budget, rarely enough to cost nothing measurable.
        engine.on_progress(|count| {
            let late = count % 64 == 0
                && DEADLINE.with(|d| d.get().is_some_and(|at| std::time::Instant::now() > at));
            late.then(|| Dynamic::from("time"))
        });
        ScriptEngine(engine)
    }
}

/// A compiled script of a pack.
pub struct Script {
    /// Path inside the pack, e.g. `scripts/nintedanib.rhai`.
    pub path: String,
    /// Which hooks it defines.
    pub hooks: Vec<Hook>,
    /// The script's text, for reviewers comparing pack versions.
    pub source: Arc<str>,
    ast: rhai::AST,
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Script({}, {:?})", self.path, self.hooks)
    }
}

impl Script {
    /// Whether the script defines `hook`.
    pub fn has(&self, hook: Hook) -> bool {
        self.hooks.contains(&hook)
    }
}

/// Compiles a script; syntax errors and hooks with the wrong number of
/// parameters are problems at their line and column.
pub(crate) fn compile(
    engine: &ScriptEngine,
    path: &str,
    text: &str,
) -> Result<Arc<Script>, Vec<Problem>> {
    let text_arc: Arc<str> = Arc::from(text);
    let problem = |position: Position, message: String, help: &str| {
        let mut p = Problem::new(ProblemKind::Syntax, path, position, message).with_help(help);
        p.text = Some(text_arc.clone());
        p
    };
    let ast = engine.0.compile(text).map_err(|e| {
        let pos = e.position();
        vec![problem(
            Position {
                line: pos.line().unwrap_or(0) as u64,
                column: pos.position().unwrap_or(0) as u64,
            },
            format!("the script does not compile: {}", e.err_type()),
            "fix the syntax; docs/scripting.md shows each hook with an example",
        )]
    })?;
    let mut hooks = Vec::new();
    let mut problems = Vec::new();
    for f in ast.iter_functions() {
        if let Some(hook) = Hook::from_name(f.name) {
            let (name, params) = (hook.as_str(), hook.arity());
            if f.params.len() == params {
                hooks.push(hook);
            } else {
                problems.push(problem(
                    Position { line: 1, column: 1 },
                    format!(
                        "fn {name} takes {params} parameter(s), not {}",
                        f.params.len()
                    ),
                    "exposure(sample), target(sample), next_dose(sample, result)",
                ));
            }
        }
    }
    if hooks.is_empty() && problems.is_empty() {
        problems.push(problem(
            Position { line: 1, column: 1 },
            "the script defines none of the hooks exposure, target, next_dose".into(),
            "define at least one of fn exposure(sample), fn target(sample), fn next_dose(sample, result)",
        ));
    }
    if problems.is_empty() {
        Ok(Arc::new(Script {
            path: path.to_owned(),
            hooks,
            source: text_arc,
            ast,
        }))
    } else {
        Err(problems)
    }
}

/// Calls `hook` of `script` with `args`; an error names the script, the hook and the limit.
pub(crate) fn call(
    engine: &ScriptEngine,
    script: &Script,
    hook: &str,
    args: Vec<Dynamic>,
) -> Result<Dynamic, String> {
    let mut scope = Scope::new();
    DEADLINE.with(|d| d.set(Some(std::time::Instant::now() + MAX_CALL_TIME)));
    // Only the functions run: top-level statements are not evaluated per call.
    let options = rhai::CallFnOptions::new().eval_ast(false);
    let mut args = args;
    let result = match args.len() {
        1 => engine.0.call_fn_with_options::<Dynamic>(
            options,
            &mut scope,
            &script.ast,
            hook,
            (args.remove(0),),
        ),
        _ => {
            let second = args.remove(1);
            let first = args.remove(0);
            engine.0.call_fn_with_options::<Dynamic>(
                options,
                &mut scope,
                &script.ast,
                hook,
                (first, second),
            )
        }
    };
    DEADLINE.with(|d| d.set(None));
    result.map_err(|e| format!("script `{}`, fn {hook}: {}", script.path, describe(&e)))
}

fn describe(e: &EvalAltResult) -> String {
    let at = |pos: &rhai::Position| {
        if pos.is_none() {
            String::new()
        } else {
            format!(
                " (line {}, column {})",
                pos.line().unwrap_or(0),
                pos.position().unwrap_or(0)
            )
        }
    };
    match e {
        EvalAltResult::ErrorTerminated(_, pos) => format!(
            "stopped after {} ms, the time limit of one call{}",
            MAX_CALL_TIME.as_millis(),
            at(pos)
        ),
        EvalAltResult::ErrorTooManyOperations(pos) => {
            format!(
                "stopped after {MAX_OPERATIONS} operations, the limit of one call{}",
                at(pos)
            )
        }
        EvalAltResult::ErrorStackOverflow(pos) => {
            format!(
                "stopped at the call depth limit of {MAX_CALL_LEVELS}{}",
                at(pos)
            )
        }
        EvalAltResult::ErrorDataTooLarge(what, pos) => format!(
            "{what} exceeds the size limit (strings {MAX_STRING_SIZE} characters, arrays {MAX_ARRAY_SIZE}, maps {MAX_MAP_SIZE}){}",
            at(pos)
        ),
        other => other.to_string(),
    }
}

/// A JSON value as a script value; every number is a float.
pub(crate) fn to_dynamic(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(items) => Dynamic::from_array(items.iter().map(to_dynamic).collect()),
        Value::Object(map) => Dynamic::from_map(
            map.iter()
                .map(|(k, v)| (k.as_str().into(), to_dynamic(v)))
                .collect::<Map>(),
        ),
    }
}

/// A number a script returned (integer or float).
pub(crate) fn number(value: &Dynamic) -> Option<f64> {
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|i| i as f64))
}

/// A field of a map a script returned.
pub(crate) fn field<'a>(map: &'a Map, key: &str) -> Option<&'a Dynamic> {
    map.get(key).filter(|v| !v.is_unit())
}

/// Text items of an array field (`warnings`, `interventions`, `notes`).
pub(crate) fn texts(map: &Map, key: &str) -> Result<Vec<String>, String> {
    let Some(v) = field(map, key) else {
        return Ok(Vec::new());
    };
    let items = v
        .clone()
        .into_array()
        .map_err(|t| format!("`{key}` must be an array of strings, got {t}"))?;
    items
        .into_iter()
        .map(|i| {
            i.into_string()
                .map_err(|t| format!("`{key}` must hold strings, got {t}"))
        })
        .collect()
}
