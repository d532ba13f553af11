//! `run_script`: sandboxed JavaScript (QuickJS through rquickjs). The script sees the
//! run's context as globals (`deal`/`record`, `previous`, `user`, related records through
//! them) and a small API — `setField(name, value)` or `record.x = …; await
//! record.save()`, `sendEmail({to, cc, subject, text|body, html})`, `log(…)` — that only
//! *records* what it wants. Rendering runs the script, so the step's input (and a dry
//! run) shows exactly what it asked for; executing applies it through keel-service and
//! the email sender. The engine has no file, network, module or process access (rquickjs
//! exposes none of QuickJS's std/os modules), and each run gets a fresh runtime with a
//! time limit (an interrupt handler), a memory limit and a stack limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rquickjs::{Context, Runtime};
use serde_json::Value as Json;

use super::ActionError;

/// Limits a workflow may ask for, and the defaults.
pub const DEFAULT_TIMEOUT_MS: u64 = 1000;
pub const MAX_TIMEOUT_MS: u64 = 5000;
pub const DEFAULT_MEMORY_MB: u64 = 16;
pub const MAX_MEMORY_MB: u64 = 64;
pub const MAX_CODE_CHARS: usize = 20_000;
const STACK_BYTES: usize = 512 * 1024;

/// The API the script sees; it only fills `__keel`.
const PRELUDE: &str = r#"
const __keel = { set: {}, emails: [], logs: [], error: null };
function setField(name, value) { __keel.set[String(name)] = value === undefined ? null : value; }
function sendEmail(m) {
  m = m || {};
  __keel.emails.push({ to: m.to ?? null, cc: m.cc ?? null, subject: m.subject ?? null,
                       text: m.text ?? m.body ?? null, html: m.html ?? null });
}
function log(...args) { __keel.logs.push(args.map(a => typeof a === 'string' ? a : JSON.stringify(a)).join(' ')); }
const console = { log, error: log, warn: log, info: log };
"#;

/// What a script asked for: field changes, emails, log lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub set: serde_json::Map<String, Json>,
    pub emails: Vec<Json>,
    pub logs: Vec<String>,
}

fn sandbox(timeout: Duration, memory_mb: u64) -> Result<(Runtime, Context, Arc<AtomicBool>), ActionError> {
    let rt = Runtime::new().map_err(|e| ActionError::Transient(format!("cannot start the script engine: {e}")))?;
    rt.set_memory_limit(usize::try_from(memory_mb * 1024 * 1024).unwrap_or(usize::MAX));
    rt.set_max_stack_size(STACK_BYTES);
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = stopped.clone();
    let deadline = Instant::now() + timeout;
    rt.set_interrupt_handler(Some(Box::new(move || {
        let late = Instant::now() > deadline;
        if late {
            flag.store(true, Ordering::SeqCst);
        }
        late
    })));
    let ctx = Context::full(&rt).map_err(|e| ActionError::Transient(format!("cannot start the script engine: {e}")))?;
    Ok((rt, ctx, stopped))
}

/// The thrown value of the last failed evaluation, as text.
fn caught(ctx: &rquickjs::Ctx<'_>) -> String {
    let v = ctx.catch();
    if let Some(e) = v.as_exception() {
        return e.message().unwrap_or_else(|| "exception".into());
    }
    v.as_string().and_then(|s| s.to_string().ok()).unwrap_or_else(|| "the script failed".into())
}

fn failure(message: String, stopped: bool, timeout: Duration, memory_mb: u64) -> ActionError {
    if stopped {
        ActionError::Permanent(format!("the script ran longer than {} ms and was stopped", timeout.as_millis()))
    } else if message.contains("out of memory") || message == "null" {
        // QuickJS throws `null` when it runs out of memory again while raising its
        // out-of-memory error (`JS_ThrowOutOfMemory`), and the prelude's `.catch` turns
        // that into "null": a script that throws `null` itself reads as out of memory too.
        ActionError::Permanent(format!("the script used more than {memory_mb} MB of memory and was stopped"))
    } else {
        ActionError::Permanent(format!("the script failed: {message}"))
    }
}

/// Does `code` compile? (Save-time check; runs nothing.)
pub fn check_syntax(code: &str) -> Result<(), String> {
    let (_rt, ctx, _) = sandbox(Duration::from_millis(500), 8).map_err(|e| e.to_string())?;
    let probe = format!(
        "new Function({})",
        serde_json::to_string(&format!("return (async () => {{\n{code}\n}});")).unwrap_or_default()
    );
    ctx.with(|c| c.eval::<(), _>(probe).map_err(|_| caught(&c)))
}

/// Run `code` with `context`'s keys as globals (`singular` names the trigger record, the
/// same object as `record`). Blocking: call from `spawn_blocking`.
pub fn run(
    code: &str,
    context: &Json,
    singular: &str,
    timeout: Duration,
    memory_mb: u64,
) -> Result<Outcome, ActionError> {
    let (rt, ctx, stopped) = sandbox(timeout, memory_mb)?;
    // JSON is a JS expression, so the context goes in as a literal.
    let source = format!(
        "{PRELUDE}\nconst __ctx = {ctx_json};\nfor (const k of Object.keys(__ctx)) globalThis[k] = __ctx[k];\n\
         const __orig = JSON.parse(JSON.stringify(globalThis.record || {{}}));\n\
         if (globalThis.record) {{ globalThis[{singular}] = globalThis.record;\n\
           record.save = async function () {{ for (const k of Object.keys(this)) {{ const v = this[k];\n\
             if (typeof v !== 'function' && (v === null || typeof v !== 'object') && v !== __orig[k]) __keel.set[k] = v; }} }}; }}\n\
         (async () => {{\n{code}\n}})().catch((e) => {{ __keel.error = String(e && e.message ? e.message : e); }});\n",
        ctx_json = context,
        singular = serde_json::to_string(singular).unwrap_or_default(),
    );
    let evaluated = ctx.with(|c| c.eval::<(), _>(source).map_err(|_| caught(&c)));
    if let Err(message) = evaluated {
        return Err(failure(message, stopped.load(Ordering::SeqCst), timeout, memory_mb));
    }
    // Let `await`s finish (bounded by the same time limit).
    loop {
        match rt.execute_pending_job() {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                return Err(failure("a pending job failed".into(), stopped.load(Ordering::SeqCst), timeout, memory_mb));
            }
        }
    }
    let out: String = ctx
        .with(|c| c.eval::<String, _>("JSON.stringify(__keel)").map_err(|_| caught(&c)))
        .map_err(|m| failure(m, stopped.load(Ordering::SeqCst), timeout, memory_mb))?;
    let out: Json = serde_json::from_str(&out).map_err(|e| ActionError::Permanent(format!("script result: {e}")))?;
    if let Some(error) = out["error"].as_str() {
        return Err(failure(error.to_string(), stopped.load(Ordering::SeqCst), timeout, memory_mb));
    }
    Ok(Outcome {
        set: out["set"].as_object().cloned().unwrap_or_default(),
        emails: out["emails"].as_array().cloned().unwrap_or_default(),
        logs: out["logs"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| l.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Json {
        json!({ "record": { "id": "d1", "title": "Big", "owner_id": "u1", "company": { "state": "CA" } }, "user": { "name": "Ada" } })
    }

    #[test]
    fn scripts_read_the_record_and_record_what_they_want() {
        let code = "const map = { CA: 'west' }; deal.owner_id = map[deal.company.state] || 'default'; await deal.save();\n\
                    sendEmail({ to: 'a@example.com', subject: `New: ${deal.title}`, body: 'hi' }); log('by', user.name);";
        let out = run(code, &ctx(), "deal", Duration::from_secs(1), 16).expect("runs");
        assert_eq!(out.set.get("owner_id"), Some(&json!("west")));
        assert_eq!(out.emails[0]["subject"], "New: Big");
        assert_eq!(out.emails[0]["text"], "hi");
        assert_eq!(out.logs, vec!["by Ada"]);
    }

    #[test]
    fn loops_memory_bombs_and_escapes_are_stopped() {
        let e = run("while (true) {}", &ctx(), "deal", Duration::from_millis(200), 16).expect_err("stopped");
        assert!(e.to_string().contains("longer than 200 ms"), "{e}");
        let e = run("const a = []; while (true) a.push('x'.repeat(1000));", &ctx(), "deal", Duration::from_secs(5), 8)
            .expect_err("stopped");
        assert!(e.to_string().contains("more than 8 MB"), "{e}");
        for escape in [
            "require('fs')",
            "fetch('http://127.0.0.1/')",
            "std.open('/etc/passwd')",
            "os.exec(['ls'])",
            "await import('fs')",
        ] {
            let e = run(escape, &ctx(), "deal", Duration::from_secs(1), 16).expect_err(escape);
            assert!(e.is_permanent(), "{escape}: {e}");
        }
        assert!(check_syntax("let x = ;").is_err());
        assert!(check_syntax("await deal.save();").is_ok());
    }
}
