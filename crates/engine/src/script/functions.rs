//! Redis Functions: FUNCTION LOAD and friends, FCALL and FCALL_RO.
//!
//! Libraries live in their own Lua state, as in Redis. While a library's
//! code runs at load time its globals read through to a small API (only
//! `redis.register_function`, `redis.log` and the version and log-level
//! constants); afterwards the same environment reads through to the full
//! globals, so the registered callbacks see `redis.call`, `string` and the
//! rest when FCALL runs them.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use ferrokey_resp::Frame;
use mlua::{Function, MultiValue, Table, Value};
use parking_lot::Mutex;

use super::vm::{self, raise, Vm};
use super::{monotonic_ms, script_flags, Scripting};
use crate::command::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::server::Server;

/// How long a library's code may run at load time.
const LOAD_TIMEOUT_MS: u64 = 500;

/// A registered function.
pub(crate) struct FunctionInfo {
    name: String,
    desc: Option<Vec<u8>>,
    flags: u32,
    func: Function,
}

/// A loaded library. Library and function names are case-insensitive,
/// as in Redis: maps are keyed by the lower-case name.
pub(crate) struct Library {
    name: String,
    code: Vec<u8>,
    functions: BTreeMap<String, FunctionInfo>,
}

impl Library {
    fn key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// Where `redis.register_function` puts what it registers: `Some` only
/// while FUNCTION LOAD runs a library's code. The function itself is
/// created once, so a library that keeps it and calls it later (from an
/// FCALL) gets Redis's error rather than a dangling callback.
type Registrations = Arc<Mutex<Option<Vec<FunctionInfo>>>>;

/// The functions engine: its Lua state, libraries and function index.
#[derive(Default)]
pub(crate) struct FunctionEngine {
    vm: Option<Vm>,
    /// The globals the library code sees while it loads.
    load_api: Option<Table>,
    registrations: Registrations,
    libraries: BTreeMap<String, Library>,
    /// Function name -> library name.
    index: HashMap<String, String>,
}

/// Library and function names: letters, digits and underscores.
fn valid_name(n: &[u8]) -> bool {
    !n.is_empty() && n.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

const BAD_NAME: &str = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// A library's first line, read: engine, name, and the code after the
/// line (its newline kept, so line numbers do not move).
struct Metadata {
    engine: Vec<u8>,
    name: Vec<u8>,
    code: Vec<u8>,
}

/// Reads the `#!<engine> name=<lib>` line.
fn metadata(payload: &[u8]) -> Result<Metadata, String> {
    if !payload.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = payload.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid library metadata".into());
    };
    let parts = ferrokey_resp::split_args(&payload[..end]).unwrap_or_default();
    if parts.is_empty() {
        return Err("ERR Invalid library metadata".into());
    }
    let engine = parts[0][2..].to_vec();
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(p[5..].to_vec());
            continue;
        }
        return Err(format!(
            "ERR Invalid metadata value given: {}",
            String::from_utf8_lossy(p)
        ));
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    Ok(Metadata {
        engine,
        name,
        code: payload[end..].to_vec(),
    })
}

impl FunctionEngine {
    fn vm(&mut self, s: &Scripting) -> Result<&mut Vm, CmdError> {
        if self.vm.is_none() {
            let slot = self.registrations.clone();
            let built = vm::new_vm(&s.run, &s.rand).and_then(|vm| {
                let api = load_api(&vm, slot)?;
                Ok((vm, api))
            });
            let (vm, api) = built
                .map_err(|e| CmdError::owned(format!("ERR Error creating the Lua state: {e}")))?;
            self.vm = Some(vm);
            self.load_api = Some(api);
        }
        Ok(self.vm.as_mut().expect("just created"))
    }

    /// Compiles a library and runs its code so it registers its functions;
    /// does not add it to the engine.
    fn compile(&mut self, server: &Server, payload: &[u8]) -> Result<Library, String> {
        let s = &server.scripting;
        let Metadata { engine, name, code } = metadata(payload)?;
        if !valid_name(&name) {
            return Err(BAD_NAME.into());
        }
        if !engine.eq_ignore_ascii_case(b"lua") {
            return Err(format!(
                "ERR Engine '{}' not found",
                String::from_utf8_lossy(&engine)
            ));
        }
        self.vm(s).map_err(|e| e.to_frame_text())?;
        let api = self.load_api.clone().expect("built with the state");
        let vm = self.vm.as_mut().expect("built");
        let func = vm::compile(vm, &code, "@user_function")
            .map_err(|e| format!("ERR Error compiling function: {e}"))?;
        *self.registrations.lock() = Some(Vec::new());
        s.run
            .load_deadline_ms
            .store(monotonic_ms() + LOAD_TIMEOUT_MS, Ordering::Relaxed);
        let outcome = (|| {
            vm.env_meta.raw_set("__index", api.clone())?;
            let out = vm::invoke(vm, &func);
            vm.env_meta.raw_set("__index", vm.globals.clone())?;
            out
        })();
        s.run.load_deadline_ms.store(0, Ordering::Relaxed);
        super::flush_logs(server, &s.run);
        let list = self.registrations.lock().take().unwrap_or_default();
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(t)) => {
                let msg = match t.raw_get::<Value>("err") {
                    Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                    _ => String::new(),
                };
                return Err(format!("ERR Error registering functions: {msg}"));
            }
            Err(e) => return Err(format!("ERR Error registering functions: {e}")),
        }
        if list.is_empty() {
            return Err("ERR No functions registered".into());
        }
        Ok(Library {
            name: String::from_utf8_lossy(&name).into_owned(),
            code: payload.to_vec(),
            functions: list
                .into_iter()
                .map(|f| (f.name.to_ascii_lowercase(), f))
                .collect(),
        })
    }

    /// Adds a compiled library, replacing one of the same name when
    /// `replace`; fails without changing anything on a collision.
    fn link(&mut self, lib: Library, replace: bool) -> Result<(), String> {
        let key = lib.key();
        if self.libraries.contains_key(&key) && !replace {
            return Err(format!("ERR Library '{}' already exists", lib.name));
        }
        for (k, f) in &lib.functions {
            if let Some(owner) = self.index.get(k) {
                if *owner != key {
                    return Err(format!("ERR Function {} already exists", f.name));
                }
            }
        }
        self.unlink(&key);
        for k in lib.functions.keys() {
            self.index.insert(k.clone(), key.clone());
        }
        self.libraries.insert(key, lib);
        Ok(())
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.libraries.remove(&name.to_ascii_lowercase())?;
        for f in lib.functions.keys() {
            self.index.remove(f);
        }
        Some(lib)
    }

    /// Publishes the engine's figures for INFO.
    fn publish(&self, stats: &super::ScriptStats) {
        stats
            .libraries
            .store(self.libraries.len() as u64, Ordering::Relaxed);
        stats
            .functions
            .store(self.index.len() as u64, Ordering::Relaxed);
        let code: usize = self.libraries.values().map(|l| l.code.len()).sum();
        stats.functions_bytes.store(code as u64, Ordering::Relaxed);
        let vm_bytes = self.vm.as_ref().map_or(0, |vm| vm.lua.used_memory());
        stats
            .functions_vm_bytes
            .store(vm_bytes as u64, Ordering::Relaxed);
    }

    fn flush(&mut self) {
        self.libraries.clear();
        self.index.clear();
        self.vm = None;
        self.load_api = None;
    }
}

impl CmdError {
    fn to_frame_text(&self) -> String {
        match self.to_frame() {
            Frame::Error(e) => e.into_owned(),
            _ => String::new(),
        }
    }
}

/// The library API's globals: `redis` with register_function, log and
/// the constants; anything else is a missing global.
fn load_api(vm: &Vm, slot: Registrations) -> mlua::Result<Table> {
    let lua = &vm.lua;
    let guard = lua.create_table()?;
    guard.raw_set("__index", vm.missing.clone())?;
    let redis = lua.create_table()?;
    for k in [
        "log",
        "REDIS_VERSION",
        "REDIS_VERSION_NUM",
        "LOG_DEBUG",
        "LOG_VERBOSE",
        "LOG_NOTICE",
        "LOG_WARNING",
    ] {
        redis.raw_set(k, vm.redis.raw_get::<Value>(k)?)?;
    }
    redis.raw_set(
        "register_function",
        lua.create_function(move |lua, args: MultiValue| {
            let mut guard = slot.lock();
            let Some(list) = guard.as_mut() else {
                return Err(raise(
                    "ERR redis.register_function can only be called on FUNCTION LOAD command",
                ));
            };
            let info = register_args(lua, args)?;
            if list.iter().any(|f| f.name.eq_ignore_ascii_case(&info.name)) {
                return Err(raise("ERR Function already exists in the library"));
            }
            list.push(info);
            Ok(())
        })?,
    )?;
    redis.set_metatable(Some(guard.clone()))?;
    let (redis_proxy, _): (Table, Table) = vm.protect.call(redis.clone())?;
    let api = lua.create_table()?;
    api.raw_set("redis", redis_proxy)?;
    api.set_metatable(Some(guard))?;
    Ok(api)
}

/// Reads redis.register_function's arguments: `(name, callback)` or a
/// table of named arguments.
fn register_args(lua: &mlua::Lua, args: MultiValue) -> mlua::Result<FunctionInfo> {
    let fail = |m: &str| Err(raise(&format!("ERR {m}")));
    let string_of = |v: &Value| -> Option<Vec<u8>> {
        match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(_) | Value::Number(_) => lua
                .coerce_string(v.clone())
                .ok()
                .flatten()
                .map(|s| s.as_bytes().to_vec()),
            _ => None,
        }
    };
    let (name, desc, flags, func) = match args.len() {
        1 => {
            let Value::Table(t) = &args[0] else {
                return fail("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let (mut name, mut desc, mut flags, mut func) = (None, None, 0u32, None);
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let Some(key) = string_of(&k) else {
                    return fail(
                        "named argument key given to redis.register_function is not a string",
                    );
                };
                let key = String::from_utf8_lossy(&key).to_ascii_lowercase();
                match key.as_str() {
                    "function_name" => match string_of(&v) {
                        Some(n) => name = Some(n),
                        None => return fail("function_name argument given to redis.register_function must be a string"),
                    },
                    "description" => match string_of(&v) {
                        Some(d) => desc = Some(d),
                        None => return fail("description argument given to redis.register_function must be a string"),
                    },
                    "callback" => match v {
                        Value::Function(f) => func = Some(f),
                        _ => return fail("callback argument given to redis.register_function must be a function"),
                    },
                    "flags" => {
                        let Value::Table(ft) = v else {
                            return fail("flags argument to redis.register_function must be a table representing function flags");
                        };
                        let mut i = 1;
                        loop {
                            let item: Value = ft.raw_get(i)?;
                            if matches!(item, Value::Nil) {
                                break;
                            }
                            let Some(text) = string_of(&item) else {
                                return fail("unknown flag given");
                            };
                            match script_flags::NAMES
                                .iter()
                                .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(&text))
                            {
                                Some((f, _)) => flags |= f,
                                None => return fail("unknown flag given"),
                            }
                            i += 1;
                        }
                    }
                    _ => return fail("unknown argument given to redis.register_function"),
                }
            }
            let Some(name) = name else {
                return fail("redis.register_function must get a function name argument");
            };
            let Some(func) = func else {
                return fail("redis.register_function must get a callback argument");
            };
            (name, desc, flags, func)
        }
        2 => {
            let Some(name) = string_of(&args[0]) else {
                return fail("first argument to redis.register_function must be a string");
            };
            let Value::Function(f) = &args[1] else {
                return fail("second argument to redis.register_function must be a function");
            };
            (name, None, 0, f.clone())
        }
        _ => return fail("wrong number of arguments to redis.register_function"),
    };
    if !valid_name(&name) {
        return Err(raise(BAD_NAME));
    }
    Ok(FunctionInfo {
        name: String::from_utf8_lossy(&name).into_owned(),
        desc,
        flags,
        func,
    })
}

/// FUNCTION LOAD [REPLACE] code.
pub fn function_load(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if args[i].eq_ignore_ascii_case(b"replace") {
            replace = true;
            i += 1;
            continue;
        }
        return Err(CmdError::owned(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(args[i])
        )));
    }
    if i >= args.len() {
        return Err(CmdError::msg("ERR Function code is missing"));
    }
    let s = &ctx.server.scripting;
    let mut eng = s.functions.lock();
    let lib = eng.compile(ctx.server, args[i]).map_err(CmdError::owned)?;
    let name = lib.name.clone();
    let linked = eng.link(lib, replace).map_err(CmdError::owned);
    eng.publish(&s.stats);
    linked?;
    Ok(Frame::Bulk(name.into_bytes()))
}

/// FUNCTION DELETE library.
pub fn function_delete(ctx: &mut Ctx<'_>, name: &[u8]) -> CmdResult {
    let mut eng = ctx.server.scripting.functions.lock();
    let gone = eng.unlink(&String::from_utf8_lossy(name));
    eng.publish(&ctx.server.scripting.stats);
    match gone {
        Some(_) => Ok(Frame::ok()),
        None => Err(CmdError::msg("ERR Library not found")),
    }
}

/// FUNCTION FLUSH.
pub fn function_flush(ctx: &mut Ctx<'_>) {
    flush_all(ctx.server);
}

/// Drops every library (FUNCTION FLUSH, and DEBUG RELOAD before it loads).
pub fn flush_all(server: &Server) {
    let mut eng = server.scripting.functions.lock();
    eng.flush();
    eng.publish(&server.scripting.stats);
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
pub fn function_list(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            if i >= args.len() - 1 {
                return Err(CmdError::msg("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(args[i]);
        } else {
            return Err(CmdError::owned(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let eng = ctx.server.scripting.functions.lock();
    let mut out = Vec::new();
    for lib in eng.libraries.values() {
        if let Some(p) = pattern {
            if !crate::config::glob_match(p, lib.name.as_bytes(), true) {
                continue;
            }
        }
        let functions = lib
            .functions
            .values()
            .map(|f| {
                Frame::Map(vec![
                    (Frame::bulk("name"), Frame::bulk(&f.name)),
                    (
                        Frame::bulk("description"),
                        f.desc.as_ref().map_or(Frame::Null, Frame::bulk),
                    ),
                    (Frame::bulk("flags"), flag_set(f.flags)),
                ])
            })
            .collect();
        let mut m = vec![
            (Frame::bulk("library_name"), Frame::bulk(&lib.name)),
            (Frame::bulk("engine"), Frame::bulk("LUA")),
            (Frame::bulk("functions"), Frame::Array(functions)),
        ];
        if with_code {
            m.push((Frame::bulk("library_code"), Frame::bulk(&lib.code)));
        }
        out.push(Frame::Map(m));
    }
    Ok(Frame::Array(out))
}

fn flag_set(flags: u32) -> Frame {
    Frame::Set(
        script_flags::NAMES
            .iter()
            .filter(|(f, _)| flags & f != 0)
            .map(|(_, n)| Frame::simple(n))
            .collect(),
    )
}

/// FUNCTION STATS.
pub fn function_stats(ctx: &mut Ctx<'_>) -> CmdResult {
    let run = &ctx.server.scripting.run;
    if run.running.load(Ordering::Acquire) && run.eval.load(Ordering::Relaxed) {
        return Err(CmdError::msg(super::BUSY_EVAL));
    }
    let running = match &*run.info.lock() {
        Some(info) if run.running.load(Ordering::Acquire) => Frame::Map(vec![
            (Frame::bulk("name"), Frame::bulk(&info.name)),
            (
                Frame::bulk("command"),
                Frame::Array(info.argv.iter().map(Frame::bulk).collect()),
            ),
            (
                Frame::bulk("duration_ms"),
                Frame::Integer(run.elapsed_ms() as i64),
            ),
        ]),
        _ => Frame::Null,
    };
    // While a function runs its engine is locked; the counts come from the
    // last state the engine published.
    let (libs, funcs) = match ctx.server.scripting.functions.try_lock() {
        Some(eng) => (eng.libraries.len(), eng.index.len()),
        None => *run.function_counts.lock(),
    };
    Ok(Frame::Map(vec![
        (Frame::bulk("running_script"), running),
        (
            Frame::bulk("engines"),
            Frame::Map(vec![(
                Frame::bulk("LUA"),
                Frame::Map(vec![
                    (Frame::bulk("libraries_count"), Frame::Integer(libs as i64)),
                    (Frame::bulk("functions_count"), Frame::Integer(funcs as i64)),
                ]),
            )]),
        ),
    ]))
}

/// FUNCTION DUMP: every library's code in Redis's payload format.
pub fn function_dump(ctx: &mut Ctx<'_>) -> CmdResult {
    let eng = ctx.server.scripting.functions.lock();
    let codes: Vec<&[u8]> = eng.libraries.values().map(|l| l.code.as_slice()).collect();
    Ok(Frame::Bulk(crate::rdb::function_payload(&codes)))
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
pub fn function_restore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy =
        match args.get(3) {
            None => Policy::Append,
            Some(p) if p.eq_ignore_ascii_case(b"append") => Policy::Append,
            Some(p) if p.eq_ignore_ascii_case(b"replace") => Policy::Replace,
            Some(p) if p.eq_ignore_ascii_case(b"flush") => Policy::Flush,
            Some(_) => return Err(CmdError::msg(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            )),
        };
    let codes = crate::rdb::read_function_payload(args[2]).map_err(CmdError::owned)?;
    let s = &ctx.server.scripting;
    let mut eng = s.functions.lock();
    let mut libs = Vec::new();
    for code in &codes {
        let lib = eng.compile(ctx.server, code).map_err(CmdError::owned)?;
        if libs.iter().any(|l: &Library| l.key() == lib.key()) {
            return Err(CmdError::owned(format!(
                "ERR Library '{}' already exists",
                lib.name
            )));
        }
        libs.push(lib);
    }
    if policy == Policy::Flush {
        let vm = eng.vm.take();
        let api = eng.load_api.take();
        eng.flush();
        eng.vm = vm;
        eng.load_api = api;
    } else {
        // Check every collision before changing anything.
        for lib in &libs {
            if policy == Policy::Append && eng.libraries.contains_key(&lib.key()) {
                return Err(CmdError::owned(format!(
                    "ERR Library {} already exists",
                    lib.name
                )));
            }
            for (k, f) in &lib.functions {
                if let Some(owner) = eng.index.get(k) {
                    let replaced =
                        policy == Policy::Replace && libs.iter().any(|l| &l.key() == owner);
                    if *owner != lib.key() && !replaced {
                        return Err(CmdError::owned(format!(
                            "ERR Function {} already exists",
                            f.name
                        )));
                    }
                }
            }
        }
    }
    for lib in libs {
        eng.link(lib, true).map_err(CmdError::owned)?;
    }
    eng.publish(&s.stats);
    Ok(Frame::ok())
}

/// The code of every loaded library, for RDB snapshots.
pub fn library_codes(s: &Scripting) -> Vec<Vec<u8>> {
    s.functions
        .lock()
        .libraries
        .values()
        .map(|l| l.code.clone())
        .collect()
}

/// Loads libraries read from an RDB file; one that exists already is an
/// error unless `replace`.
pub fn load_libraries(server: &Server, codes: &[Vec<u8>], replace: bool) -> Result<(), String> {
    let mut eng = server.scripting.functions.lock();
    for code in codes {
        let lib = eng.compile(server, code)?;
        let linked = eng.link(lib, replace);
        eng.publish(&server.scripting.stats);
        linked?;
    }
    Ok(())
}

/// FCALL / FCALL_RO.
pub fn fcall(ctx: &mut Ctx<'_>, args: &[&[u8]], ro: bool) -> CmdResult {
    super::feed_monitors(ctx, args);
    let s = &ctx.server.scripting;
    let mut eng = s.functions.lock();
    let key = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
    let Some(lib_name) = eng.index.get(&key).cloned() else {
        return Err(CmdError::msg("ERR Function not found"));
    };
    let numkeys = super::numkeys(args, CmdError::msg("ERR Bad number of keys provided"))?;
    let f = &eng.libraries[&lib_name].functions[&key];
    let (flags, func, name) = (f.flags, f.func.clone(), f.name.clone());
    if flags & script_flags::NO_WRITES == 0 && ro {
        return Err(CmdError::msg(
            "ERR Can not execute a script with write flag using *_ro command.",
        ));
    }
    let readonly = ro || flags & script_flags::NO_WRITES != 0;
    let allow_oom = flags & script_flags::ALLOW_OOM != 0;
    super::refuse_up_front(ctx, flags)?;
    *s.run.function_counts.lock() = (eng.libraries.len(), eng.index.len());
    let vm = eng.vm(s)?;
    let keys = &args[3..3 + numkeys];
    let argv = &args[3 + numkeys..];
    super::run(
        ctx,
        vm,
        &func,
        super::RunArgs {
            keys,
            argv,
            readonly,
            allow_oom,
            is_eval: false,
            name: &name,
            command: args,
        },
    )
}
