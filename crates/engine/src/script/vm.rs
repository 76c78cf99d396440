//! One Lua 5.1 state dressed as Redis dresses its scripting engine: the
//! libraries Redis loads, the `redis` table, Redis's `math.random`, locked
//! globals (see `prelude.lua`), the error handler that turns any Lua error
//! into Redis's `{err=..., source=..., line=...}` table, and the
//! conversions between replies and Lua values in both directions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ferrokey_resp::Frame;
use mlua::{
    chunk::ChunkMode, Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value,
    VmState,
};

use super::RunState;

/// Name of the sandbox chunk; the error handler skips its frames.
const SANDBOX: &str = "=sandbox";

/// Text of the error a killed script raises.
pub(crate) const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// An error a Rust function of the `redis` API raises, with Redis's full
/// text (code included). Redis raises `{err=text}` tables; mlua raises
/// Rust errors as userdata, which the error handler and `pcall` turn back
/// into what Redis gives.
#[derive(Debug)]
pub(crate) struct ScriptError(pub String);

/// The field Redis sets in an error table whose error is already in the
/// error statistics: the error a command called by the script replied, or
/// the refusal of such a command, so the script's own error reply does not
/// count it twice. `redis.call` raises such tables (see `rawcall`).
pub(crate) const IGNORE_STATS: &str = "ignore_error_stats_update";

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

/// Raises `text` as Redis raises an error table.
pub(crate) fn raise(text: &str) -> mlua::Error {
    mlua::Error::external(ScriptError(text.to_string()))
}

/// The innermost cause of an mlua error.
fn root(e: &mlua::Error) -> &mlua::Error {
    match e {
        mlua::Error::CallbackError { cause, .. } => root(cause),
        other => other,
    }
}

/// The Redis error text of an error raised from Rust: ours as they are,
/// library errors with the ERR code.
fn redis_text(e: &mlua::Error) -> String {
    match root(e) {
        mlua::Error::ExternalError(x) => match x.downcast_ref::<ScriptError>() {
            Some(s) => s.0.clone(),
            None => format!("ERR {x}"),
        },
        mlua::Error::RuntimeError(m) => format!("ERR {m}"),
        other => format!("ERR {other}"),
    }
}

/// What `pcall` hands a script for an error raised from Rust: the err
/// text of ours, the message of a library error.
fn pcall_text(e: &mlua::Error) -> String {
    match root(e) {
        mlua::Error::ExternalError(x) => match x.downcast_ref::<ScriptError>() {
            Some(s) => s.0.clone(),
            None => x.to_string(),
        },
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// How deep a returned table may nest before conversion stops, as Redis
/// stops when the Lua stack cannot grow.
const MAX_DEPTH: usize = 500;

/// A ready Lua state.
pub(crate) struct Vm {
    pub lua: Lua,
    /// The real globals (scripts see a read-only proxy of it).
    pub globals: Table,
    /// The real `redis` table.
    pub redis: Table,
    /// Redis's error handler.
    pub handler: Function,
    /// `invoke(f, handler)` runs `f` under the handler (FUNCTION LOAD's
    /// library body; scripts start through `start`).
    pub invoke: Function,
    /// The globals scripts see.
    pub env: Table,
    /// The metatable of `env`; its `__index` is the real globals.
    pub env_meta: Table,
    /// The `__index` that raises "nonexistent global variable".
    pub missing: Function,
    /// `protect(t)`: a read-only proxy of `t`.
    pub protect: Function,
    /// Starts a run: KEYS and ARGV, then the script under the handler
    /// (see `rawcall`).
    pub start: Function,
    /// Runs since the last incremental GC step.
    pub runs: u32,
}

/// Redis's `rand48` generator, shared by every Lua state of the process
/// (Redis keeps one for the whole server, never reseeded between scripts).
#[derive(Debug)]
pub struct Rand48(AtomicU64);

const RAND48_MASK: u64 = (1 << 48) - 1;

impl Default for Rand48 {
    fn default() -> Self {
        Rand48(AtomicU64::new(0x1234_ABCD_330E))
    }
}

impl Rand48 {
    /// The next 31-bit value, as `lrand48`.
    fn next(&self) -> i32 {
        let x = self.0.load(Ordering::Relaxed);
        let n = (x.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & RAND48_MASK;
        self.0.store(n, Ordering::Relaxed);
        (n >> 17) as i32
    }

    /// Reseeds, as `srand48`.
    fn seed(&self, seed: i32) {
        let s = seed as u32 as u64;
        self.0.store((s << 16) | 0x330E, Ordering::Relaxed);
    }
}

/// Builds a state. `functions` is true for the FUNCTION engine's state.
pub(crate) fn new_vm(run: &Arc<RunState>, rand: &Arc<Rand48>) -> mlua::Result<Vm> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::new(),
    )?;
    let globals = lua.globals();
    install_math(&lua, &globals, rand)?;
    super::libs::install(&lua, &globals)?;
    let redis = redis_table(&lua, run)?;
    globals.raw_set("redis", redis.clone())?;
    let prelude: Function = lua
        .load(include_str!("prelude.lua"))
        .set_name(SANDBOX)
        .set_mode(ChunkMode::Text)
        .into_function()?;
    let errtext = lua.create_function(|_, v: Value| {
        Ok(match v {
            Value::Error(e) => Some(pcall_text(&e)),
            _ => None,
        })
    })?;
    let kill_run = run.clone();
    let killed = lua.create_function(move |_, ()| Ok(kill_run.killed.load(Ordering::Relaxed)))?;
    let (env, invoke, env_meta, missing, protect): (Table, Function, Table, Function, Function) =
        prelude.call((globals.clone(), errtext, killed))?;
    lua.set_globals(env.clone())?;
    let handler = lua.create_function(error_handler)?;
    let hook_run = run.clone();
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(100_000),
        move |_, _| {
            if hook_run.killed.load(Ordering::Relaxed) {
                return Err(raise(KILLED));
            }
            let deadline = hook_run.load_deadline_ms.load(Ordering::Relaxed);
            if deadline != 0 && super::monotonic_ms() > deadline {
                return Err(raise("ERR FUNCTION LOAD timeout"));
            }
            if hook_run.pause_due() {
                // Busy: the thread serves its other connections (BUSY,
                // SCRIPT KILL) before the next slice of the script.
                super::pause();
                if hook_run.killed.load(Ordering::Relaxed) {
                    return Err(raise(KILLED));
                }
            }
            Ok(VmState::Continue)
        },
    )?;
    let start = super::rawcall::start_function(&lua, &globals, &handler)?;
    Ok(Vm {
        start,
        lua,
        globals,
        redis,
        env_meta,
        missing,
        protect,
        handler,
        invoke,
        env,
        runs: 0,
    })
}

/// `math.random` and `math.randomseed` on Redis's rand48, so sequences are
/// the same on every platform.
fn install_math(lua: &Lua, globals: &Table, rand: &Arc<Rand48>) -> mlua::Result<()> {
    let math: Table = globals.raw_get("math")?;
    let r = rand.clone();
    let random = lua.create_function(move |lua, args: MultiValue| {
        let v = f64::from(r.next() % i32::MAX) / f64::from(i32::MAX);
        let int_arg = |i: usize| -> mlua::Result<i64> {
            match args.get(i) {
                Some(Value::Integer(n)) => Ok(*n),
                Some(Value::Number(n)) => Ok(*n as i64),
                Some(Value::String(s)) => s
                    .to_str()
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .map(|f| f as i64)
                    .ok_or_else(|| {
                        mlua::Error::runtime(format!(
                            "bad argument #{} to 'random' (number expected, got string)",
                            i + 1
                        ))
                    }),
                other => Err(mlua::Error::runtime(format!(
                    "bad argument #{} to 'random' (number expected, got {})",
                    i + 1,
                    other.map_or("no value", |v| v.type_name())
                ))),
            }
        };
        let out = match args.len() {
            0 => v,
            1 => {
                let u = int_arg(0)? as i32;
                if u < 1 {
                    return Err(super::libs::lib_error(
                        lua,
                        "bad argument #1 to 'random' (interval is empty)",
                    ));
                }
                (v * f64::from(u)).floor() + 1.0
            }
            2 => {
                let l = int_arg(0)? as i32;
                let u = int_arg(1)? as i32;
                if l > u {
                    return Err(super::libs::lib_error(
                        lua,
                        "bad argument #2 to 'random' (interval is empty)",
                    ));
                }
                (v * (f64::from(u) - f64::from(l) + 1.0)).floor() + f64::from(l)
            }
            _ => return Err(super::libs::lib_error(lua, "wrong number of arguments")),
        };
        Ok(out)
    })?;
    let r = rand.clone();
    let seed = lua.create_function(move |_, n: f64| {
        r.seed(n as i64 as i32);
        Ok(())
    })?;
    math.raw_set("random", random)?;
    math.raw_set("randomseed", seed)?;
    Ok(())
}

/// The `redis` table. call and pcall reach the running command through
/// `RunState` (see `call_command`).
fn redis_table(lua: &Lua, run: &Arc<RunState>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (name, raise_errors) in [("call", true), ("pcall", false)] {
        t.raw_set(name, super::rawcall::call_function(lua, run, raise_errors)?)?;
    }
    let r = run.clone();
    t.raw_set(
        "acl_check_cmd",
        lua.create_function(move |_, args: MultiValue| super::acl_check_cmd(&r, args))?,
    )?;
    let r = run.clone();
    t.raw_set(
        "setresp",
        lua.create_function(move |_, args: MultiValue| super::setresp(&r, args))?,
    )?;
    t.raw_set(
        "set_repl",
        lua.create_function(|_, args: MultiValue| super::set_repl(args))?,
    )?;
    let r = run.clone();
    t.raw_set(
        "log",
        lua.create_function(move |lua, args: MultiValue| super::log(&r, lua, args))?,
    )?;
    let version = crate::cmd::connection::REDIS_VERSION;
    let num = version
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0))
        .fold(0u32, |acc, p| (acc << 8) | p);
    t.raw_set("REDIS_VERSION", version)?;
    t.raw_set("REDIS_VERSION_NUM", num)?;
    for (name, v) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        t.raw_set(name, v)?;
    }
    t.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise("ERR wrong number of arguments"));
            }
            let bytes = match &args[0] {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Integer(_) | Value::Number(_) => lua
                    .coerce_string(args[0].clone())?
                    .map(|s| s.as_bytes().to_vec())
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            Ok(Value::String(lua.create_string(sha1_hex(&bytes))?))
        })?,
    )?;
    t.raw_set(
        "error_reply",
        lua.create_function(|lua, args: MultiValue| {
            let Some(text) = single_string(&args) else {
                return err_table(lua, "ERR wrong number or type of arguments");
            };
            let text = if text.first() == Some(&b'-') {
                text
            } else {
                let mut t = b"-".to_vec();
                t.extend_from_slice(&text);
                t
            };
            err_table(lua, &error_text(&text))
        })?,
    )?;
    t.raw_set(
        "status_reply",
        lua.create_function(|lua, args: MultiValue| {
            let Some(text) = single_string(&args) else {
                return err_table(lua, "ERR wrong number or type of arguments");
            };
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(text)?)?;
            Ok(t)
        })?,
    )?;
    t.raw_set(
        "replicate_commands",
        lua.create_function(|_, _: MultiValue| Ok(true))?,
    )?;
    t.raw_set(
        "breakpoint",
        lua.create_function(|_, _: MultiValue| Ok(false))?,
    )?;
    t.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    Ok(t)
}

fn single_string(args: &MultiValue) -> Option<Vec<u8>> {
    match args.iter().collect::<Vec<_>>().as_slice() {
        [Value::String(s)] => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

/// `{err = text}`.
pub(crate) fn err_table(lua: &Lua, text: &str) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", text)?;
    Ok(t)
}

/// Redis's error text from `-CODE message` or `message` (code ERR), with
/// trailing CR/LF trimmed.
pub(crate) fn error_text(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let (code, msg) = match s.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, msg)) => (code.to_string(), msg.to_string()),
            None => ("ERR".to_string(), rest.to_string()),
        },
        None => ("ERR".to_string(), s.to_string()),
    };
    let msg = msg.trim_matches(|c| c == '\r' || c == '\n');
    format!("{code} {msg}")
}

/// SHA-1 in lower-case hex.
pub(crate) fn sha1_hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// Redis's `__redis__err__handler`: makes every error a table with `err`,
/// and adds where in the user's code it happened.
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let t = match err {
        Value::Table(t) => t,
        Value::String(s) => {
            let mut text = b"ERR ".to_vec();
            text.extend_from_slice(&s.as_bytes());
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(text)?)?;
            t
        }
        Value::Error(e) => err_table(lua, &redis_text(&e))?,
        other => {
            let text = other
                .to_string()
                .unwrap_or_else(|_| "execution failure".into());
            err_table(lua, &format!("ERR {text}"))?
        }
    };
    for level in 1..64 {
        let Some(found) = lua.inspect_stack(level, |d| {
            let src = d.source();
            if src.what == "C" {
                return None;
            }
            let name = src.source.as_deref().unwrap_or("").to_string();
            if name == SANDBOX || name == "=(tail call)" {
                return None;
            }
            Some((name, d.current_line()))
        }) else {
            break;
        };
        if let Some((source, line)) = found {
            t.raw_set("source", source)?;
            t.raw_set("line", line.map_or(-1, |l| l as i64))?;
            break;
        }
    }
    Ok(t)
}

/// Compiles a script body (shebang already cut) as `@user_script` would.
pub(crate) fn compile(vm: &Vm, body: &[u8], name: &str) -> Result<Function, String> {
    vm.lua
        .load(body)
        .set_name(name)
        .set_mode(ChunkMode::Text)
        .set_environment(vm.env.clone())
        .into_function()
        .map_err(|e| match e {
            mlua::Error::SyntaxError { message, .. } => message,
            other => other.to_string(),
        })
}

/// A command argument from a Lua value: strings as they are, numbers as
/// Redis prints them (integers when exact), anything else refused.
pub(crate) fn lua_arg(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        // Lua 5.1 numbers are doubles, so an Integer converts back exactly.
        Value::Integer(i) => Some(number_arg(*i as f64)),
        Value::Number(n) => Some(number_arg(*n)),
        _ => None,
    }
}

/// A number as a command argument: an integer when it is one (and not
/// huge), otherwise as Redis prints a double.
pub(crate) fn number_arg(n: f64) -> Vec<u8> {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if n.fract() == 0.0 && n.abs() <= LIMIT {
        (n as i64).to_string().into_bytes()
    } else {
        double_text(n)
    }
}

pub(crate) fn double_text(d: f64) -> Vec<u8> {
    let mut out = Vec::new();
    ferrokey_resp::format_double(d, &mut out);
    out
}

/// A script's return value as a reply; `resp` is the script's protocol
/// version (it decides how booleans go out).
pub(crate) fn lua_to_frame(v: &Value, resp: u8, depth: usize) -> Frame {
    if depth > MAX_DEPTH {
        return Frame::Error("ERR reached lua stack limit".into());
    }
    match v {
        Value::String(s) => Frame::Bulk(s.as_bytes().to_vec()),
        Value::Boolean(b) => {
            if resp == 2 {
                if *b {
                    Frame::Integer(1)
                } else {
                    Frame::Null
                }
            } else {
                Frame::Boolean(*b)
            }
        }
        Value::Integer(i) => Frame::Integer(*i),
        Value::Number(n) => Frame::Integer(c_truncate(*n)),
        Value::Table(t) => table_to_frame(t, resp, depth),
        _ => Frame::Null,
    }
}

/// `(long long)d` as x86-64 does it: out of range and NaN give i64::MIN.
fn c_truncate(d: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if d.is_nan() || !(-TWO_63..TWO_63).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

fn one_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

fn table_to_frame(t: &Table, resp: u8, depth: usize) -> Frame {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        return Frame::Error(String::from_utf8_lossy(&e.as_bytes()).into_owned().into());
    }
    if let Ok(Value::Integer(n)) = t.raw_get::<Value>("err") {
        return Frame::Error(n.to_string().into());
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        return Frame::Simple(one_line(&s.as_bytes()).into());
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return Frame::Double(d),
        Ok(Value::Integer(d)) => return Frame::Double(d as f64),
        _ => {}
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        return Frame::BigNumber(one_line(&s.as_bytes()));
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(_)), Ok(Value::String(s))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            return Frame::Verbatim(s.as_bytes().to_vec());
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let mut pairs = Vec::new();
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            pairs.push((
                lua_to_frame(&k, resp, depth + 1),
                lua_to_frame(&v, resp, depth + 1),
            ));
        }
        return Frame::Map(pairs);
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let mut items = Vec::new();
        for (k, _) in s.pairs::<Value, Value>().flatten() {
            items.push(lua_to_frame(&k, resp, depth + 1));
        }
        return Frame::Set(items);
    }
    let mut items = Vec::new();
    let mut i = 1usize;
    loop {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(lua_to_frame(&v, resp, depth + 1)),
        }
        i += 1;
    }
    Frame::Array(items)
}

/// Calls `f` (no arguments) under the error handler; returns the first
/// result or the error table.
pub(crate) fn invoke(vm: &Vm, f: &Function) -> mlua::Result<Result<Value, Table>> {
    let results: MultiValue = vm.invoke.call((f.clone(), vm.handler.clone()))?;
    invoke_results(vm, results)
}

/// What `invoke` or `rawcall::start` returned (`xpcall`'s results): the
/// first result, or the error table.
pub(crate) fn invoke_results(vm: &Vm, results: MultiValue) -> mlua::Result<Result<Value, Table>> {
    let mut it = results.into_iter();
    let ok = matches!(it.next(), Some(Value::Boolean(true)));
    let v = it.next().unwrap_or(Value::Nil);
    if ok {
        Ok(Ok(v))
    } else {
        match v {
            Value::Table(t) => Ok(Err(t)),
            other => {
                let text = other
                    .to_string()
                    .unwrap_or_else(|_| "execution failure".into());
                Ok(Err(err_table(&vm.lua, &format!("ERR {text}"))?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand48_matches_redis_first_values() {
        // Redis 7.2 answers 85 to the second `math.random(100)` after start.
        let r = Rand48::default();
        let first = f64::from(r.next() % i32::MAX) / f64::from(i32::MAX);
        assert_eq!(first as i64, 0);
        let v = f64::from(r.next() % i32::MAX) / f64::from(i32::MAX);
        assert_eq!((v * 100.0).floor() + 1.0, 85.0);
    }

    #[test]
    fn error_text_splits_code() {
        assert_eq!(error_text(b"-x"), "ERR x");
        assert_eq!(error_text(b"-x y"), "x y");
        assert_eq!(error_text(b"boom\r\n"), "ERR boom");
    }
}
