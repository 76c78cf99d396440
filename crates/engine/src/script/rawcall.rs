//! The hot path of a script, on Lua's C API rather than through mlua's
//! handles: `redis.call` / `redis.pcall`, and the start of a run (KEYS and
//! ARGV, then the call under the error handler).
//!
//! mlua keeps every value it hands Rust in a reference slot and takes its
//! state lock for each operation, which cost more than the command itself
//! for a short script. Here the arguments are read in place on the Lua
//! stack, and replies are pushed straight onto it.
//!
//! Lua reports errors with `longjmp`, which must not cross a Rust frame
//! that owns something to drop. Any Lua call that allocates can raise (out
//! of memory, or a `__gc` metamethod of a `newproxy` userdata, which
//! scripts may create). So the C function works in three phases:
//! 1. read the arguments: `lua_type`, `lua_tonumber` and `lua_tolstring`
//!    on strings allocate nothing and cannot raise;
//! 2. run the command, in plain Rust, and park its outcome in the run's
//!    [`CallState`](super::CallState), off the stack;
//! 3. push the parked outcome, holding only borrows of it. A `__gc` that
//!    runs here may itself call `redis.call`: each call parks its own box
//!    and takes back only that box, so an outcome never moves or goes away
//!    while it is being pushed. A box left behind by a raise is dropped
//!    with the run's state.

#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use ferrokey_resp::Frame;
use mlua::ffi::{self, lua_State};
use mlua::{Function, LightUserData, Lua, MultiValue, Table};

use super::vm::{double_text, number_arg, IGNORE_STATS};
use super::{CallOut, RunState};

/// Keeps the run state alive as long as the Lua state whose C closures
/// point at it.
struct KeepRun(#[allow(dead_code)] Arc<RunState>);

/// `redis.call` (`raise_errors`) or `redis.pcall` as a C closure over the
/// run state.
pub(crate) fn call_function(
    lua: &Lua,
    run: &Arc<RunState>,
    raise_errors: bool,
) -> mlua::Result<Function> {
    if lua.app_data_ref::<KeepRun>().is_none() {
        lua.set_app_data(KeepRun(run.clone()));
    }
    let ptr = Arc::as_ptr(run) as *mut c_void;
    // SAFETY: pushes a light userdata, a boolean and a C closure over them;
    // nothing here owns memory a `longjmp` could skip. The pointer stays
    // valid while the state lives: the state keeps an `Arc` (`KeepRun`).
    unsafe {
        lua.exec_raw((), |l| {
            ffi::lua_pushlightuserdata(l, ptr);
            ffi::lua_pushboolean(l, raise_errors as c_int);
            ffi::lua_pushcclosure(l, redis_call, 2);
        })
    }
}

/// Why a call's arguments cannot be used.
enum BadArgs {
    None,
    Type,
}

/// Reads the arguments in place: strings borrowed from the Lua stack,
/// numbers formatted as Redis formats them.
///
/// # Safety
/// `l` is the state of a running C function; the borrows live while its
/// arguments stay on the stack, that is until it returns.
unsafe fn read_args<'s>(l: *mut lua_State) -> Result<Vec<std::borrow::Cow<'s, [u8]>>, BadArgs> {
    let n = ffi::lua_gettop(l);
    if n == 0 {
        return Err(BadArgs::None);
    }
    let mut out = Vec::with_capacity(n as usize);
    for i in 1..=n {
        match ffi::lua_type(l, i) {
            ffi::LUA_TSTRING => {
                let mut len = 0usize;
                let p = ffi::lua_tolstring(l, i, &mut len) as *const u8;
                out.push(std::borrow::Cow::Borrowed(std::slice::from_raw_parts(
                    p, len,
                )));
            }
            ffi::LUA_TNUMBER => {
                out.push(std::borrow::Cow::Owned(number_arg(ffi::lua_tonumber(l, i))))
            }
            _ => return Err(BadArgs::Type),
        }
    }
    Ok(out)
}

/// Text a call gets when no script is running (library code calling
/// `redis.call` while FUNCTION LOAD runs it).
const NO_RUN: &[u8] = b"ERR redis.call is only available while a script runs";

/// Text a call gets when the command panicked (a bug, reported as an
/// error rather than taking the server down).
const PANICKED: &[u8] = b"ERR internal error running the command";

/// Phases 1 and 2: runs the call and parks its outcome; returns where it
/// is parked, or the text to raise when there is no run to park it in.
///
/// # Safety
/// As [`read_args`].
unsafe fn run_call(l: *mut lua_State, run: &RunState) -> Result<*const CallOut, &'static [u8]> {
    let cell = super::call_state(run).ok_or(NO_RUN)?;
    let out = match read_args(l) {
        Err(BadArgs::None) => CallOut::Fail(
            "ERR Please specify at least one argument for this redis lib call".into(),
            false,
        ),
        Err(BadArgs::Type) => CallOut::Fail(
            "ERR Lua redis lib command arguments must be strings or integers".into(),
            false,
        ),
        Ok(args) => {
            let refs: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
            cell.borrow_mut().dispatch(&refs)
        }
    };
    let boxed = Box::new(out);
    let p: *const CallOut = &*boxed;
    cell.borrow_mut().parked.push(boxed);
    Ok(p)
}

/// Takes back (and drops) the outcome parked at `p`.
fn unpark(run: &RunState, p: *const CallOut) {
    if let Some(cell) = super::call_state(run) {
        let mut s = cell.borrow_mut();
        if let Some(i) = s.parked.iter().rposition(|b| std::ptr::eq(&**b, p)) {
            s.parked.swap_remove(i);
        }
    }
}

/// The C function behind `redis.call` and `redis.pcall`.
unsafe extern "C-unwind" fn redis_call(l: *mut lua_State) -> c_int {
    // SAFETY: upvalue 1 is the `RunState` the state keeps alive (`KeepRun`).
    let run = &*(ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const RunState);
    let raise = ffi::lua_toboolean(l, ffi::lua_upvalueindex(2)) != 0;
    // A panic must not unwind through Lua's C frames.
    let parked = catch_unwind(AssertUnwindSafe(|| run_call(l, run))).unwrap_or(Err(PANICKED));
    ffi::lua_settop(l, 0);
    let failed = match parked {
        Err(text) => {
            push_err_table(l, text, false);
            true
        }
        Ok(p) => {
            // SAFETY: `p` is a box only this call takes back (see the
            // module notes), so it is alive and unmoved while it is pushed.
            let failed = match &*p {
                CallOut::Reply(f) => {
                    let v3 = run.resp.load(std::sync::atomic::Ordering::Relaxed) >= 3;
                    push_frame(l, f, v3, 0);
                    false
                }
                CallOut::Fail(text, counted) => {
                    push_err_table(l, text.as_bytes(), *counted);
                    true
                }
            };
            unpark(run, p);
            failed
        }
    };
    if failed && raise {
        ffi::lua_error(l);
    }
    1
}

/// Pushes `s`.
unsafe fn push_bytes(l: *mut lua_State, s: &[u8]) {
    ffi::lua_pushlstring(l, s.as_ptr() as *const _, s.len());
}

/// Sets `t[name] = <top>` (popping it) on the table just below the top.
unsafe fn set_field(l: *mut lua_State, name: &str) {
    push_bytes(l, name.as_bytes());
    ffi::lua_insert(l, -2);
    ffi::lua_rawset(l, -3);
}

/// Pushes `{err = text}`, marked as already counted when it is.
unsafe fn push_err_table(l: *mut lua_State, text: &[u8], counted: bool) {
    ffi::lua_createtable(l, 0, 2);
    push_bytes(l, text);
    set_field(l, "err");
    if counted {
        ffi::lua_pushboolean(l, 1);
        set_field(l, IGNORE_STATS);
    }
}

/// How deep a reply may nest before the rest is cut (the C stack of the
/// recursion, and Lua's stack, stay bounded).
const PUSH_DEPTH_MAX: usize = 1000;

/// Pushes a reply as the script sees it (one value), as
/// Redis's `redisProtocolToLuaType` converts it (RESP3 types as tables
/// under `redis.setresp(3)`, lowered to RESP2 shapes otherwise).
unsafe fn push_frame(l: *mut lua_State, f: &Frame, v3: bool, depth: usize) {
    if depth > PUSH_DEPTH_MAX || ffi::lua_checkstack(l, 4) == 0 {
        ffi::lua_pushnil(l);
        return;
    }
    match f {
        Frame::Simple(s) => {
            ffi::lua_createtable(l, 0, 1);
            push_bytes(l, s.as_bytes());
            set_field(l, "ok");
        }
        Frame::Error(s) => push_err_table(l, s.as_bytes(), false),
        Frame::Integer(i) => ffi::lua_pushnumber(l, *i as f64),
        Frame::Bulk(b) => push_bytes(l, b),
        Frame::Null | Frame::NullArray => {
            if v3 {
                ffi::lua_pushnil(l)
            } else {
                ffi::lua_pushboolean(l, 0)
            }
        }
        Frame::Array(items) | Frame::Push(items) | Frame::Many(items) => {
            push_array(l, items.iter(), items.len(), v3, depth)
        }
        Frame::Bulks(b) => push_strings(l, b.iter()),
        Frame::Set(items) => {
            if v3 {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, items.len().min(i32::MAX as usize) as c_int);
                for it in items {
                    push_frame(l, it, v3, depth + 1);
                    if usable_key(l) {
                        ffi::lua_pushboolean(l, 1);
                        ffi::lua_rawset(l, -3);
                    } else {
                        ffi::lua_pop(l, 1);
                    }
                }
                set_field(l, "set");
            } else {
                push_array(l, items.iter(), items.len(), v3, depth)
            }
        }
        Frame::Map(pairs) => {
            if v3 {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, pairs.len().min(i32::MAX as usize) as c_int);
                for (k, v) in pairs {
                    push_frame(l, k, v3, depth + 1);
                    if usable_key(l) {
                        push_frame(l, v, v3, depth + 1);
                        ffi::lua_rawset(l, -3);
                    } else {
                        ffi::lua_pop(l, 1);
                    }
                }
                set_field(l, "map");
            } else {
                let flat = pairs.iter().flat_map(|(k, v)| [k, v]);
                push_array(l, flat, pairs.len() * 2, v3, depth)
            }
        }
        Frame::Double(d) => {
            if v3 {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_pushnumber(l, *d);
                set_field(l, "double");
            } else {
                push_double_text(l, *d)
            }
        }
        Frame::DoubleText(text) => {
            if v3 {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_pushnumber(l, text.parse::<f64>().unwrap_or(0.0));
                set_field(l, "double");
            } else {
                push_bytes(l, text.as_bytes())
            }
        }
        Frame::Boolean(b) => {
            if v3 {
                ffi::lua_pushboolean(l, *b as c_int)
            } else {
                ffi::lua_pushnumber(l, if *b { 1.0 } else { 0.0 })
            }
        }
        Frame::BigNumber(n) => {
            if v3 {
                ffi::lua_createtable(l, 0, 1);
                push_bytes(l, n.as_bytes());
                set_field(l, "big_number");
            } else {
                push_bytes(l, n.as_bytes())
            }
        }
        Frame::Verbatim(text) => {
            if v3 {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, b"txt");
                set_field(l, "format");
                push_bytes(l, text);
                set_field(l, "string");
                set_field(l, "verbatim_string");
            } else {
                push_bytes(l, text)
            }
        }
        Frame::Attribute(_, reply) => push_frame(l, reply, v3, depth),
    }
}

/// Pushes an array of `len` items.
unsafe fn push_array<'f>(
    l: *mut lua_State,
    items: impl Iterator<Item = &'f Frame>,
    len: usize,
    v3: bool,
    depth: usize,
) {
    ffi::lua_createtable(l, len.min(i32::MAX as usize) as c_int, 0);
    for (i, it) in items.enumerate() {
        push_frame(l, it, v3, depth + 1);
        ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
    }
}

/// Whether the value on top can be a table key (rawset raises on nil and
/// NaN keys).
unsafe fn usable_key(l: *mut lua_State) -> bool {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TNIL => false,
        ffi::LUA_TNUMBER => !ffi::lua_tonumber(l, -1).is_nan(),
        _ => true,
    }
}

/// Pushes a double as RESP2 text, formatted on the stack (no heap value
/// may be alive across a Lua call that can raise).
unsafe fn push_double_text(l: *mut lua_State, d: f64) {
    let mut buf = [0u8; 64];
    let n = {
        let text = double_text(d);
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text[..n]);
        n
    };
    push_bytes(l, &buf[..n]);
}

/// What a run starts with, passed to [`start_run`] by address.
struct StartArgs<'a> {
    keys: &'a [&'a [u8]],
    argv: &'a [&'a [u8]],
    /// EVAL: KEYS and ARGV are globals; FCALL: they are arguments.
    as_globals: bool,
}

/// The C function that starts a run, as a closure over the real globals
/// and the error handler.
pub(crate) fn start_function(
    lua: &Lua,
    globals: &Table,
    handler: &Function,
) -> mlua::Result<Function> {
    // SAFETY: pushes two values and a C closure over them; the closure
    // owns nothing a `longjmp` could skip.
    unsafe {
        lua.exec_raw((globals.clone(), handler.clone()), |l| {
            ffi::lua_pushcclosure(l, start_run, 2);
        })
    }
}

/// Sets KEYS and ARGV in the globals (EVAL) or passes them (FCALL), and
/// calls `f` under the error handler; returns what `xpcall` would: `true`
/// and `f`'s results, or `false` and the handler's error.
pub(crate) fn start(
    vm: &super::vm::Vm,
    f: &Function,
    keys: &[&[u8]],
    argv: &[&[u8]],
    as_globals: bool,
) -> mlua::Result<MultiValue> {
    let args = StartArgs {
        keys,
        argv,
        as_globals,
    };
    let ptr = &args as *const StartArgs<'_> as *mut c_void;
    vm.start.call((LightUserData(ptr), f.clone()))
}

/// `start(args, f)`, upvalues (globals, handler). Calls `f` with
/// `lua_pcall` and the handler, as Redis does (and as `xpcall` does
/// inside, without a Lua frame around it).
unsafe extern "C-unwind" fn start_run(l: *mut lua_State) -> c_int {
    // SAFETY: argument 1 is the address of the `StartArgs` that `start`
    // keeps alive for the whole call; this frame owns nothing, so a Lua
    // error raised below (by an allocation) skips no destructor.
    let a = &*(ffi::lua_touserdata(l, 1) as *const StartArgs<'_>);
    // Stack: 1 args, 2 f, 3 handler, 4 f (called), then its arguments.
    const HANDLER: c_int = 3;
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(2));
    ffi::lua_pushvalue(l, 2);
    push_strings(l, a.keys.iter().copied());
    push_strings(l, a.argv.iter().copied());
    let nargs = if a.as_globals {
        let globals = ffi::lua_upvalueindex(1);
        push_bytes(l, b"ARGV");
        ffi::lua_insert(l, -2);
        ffi::lua_rawset(l, globals);
        push_bytes(l, b"KEYS");
        ffi::lua_insert(l, -2);
        ffi::lua_rawset(l, globals);
        0
    } else {
        2
    };
    let status = ffi::lua_pcall(l, nargs, ffi::LUA_MULTRET, HANDLER);
    // The handler's slot takes the status, ahead of the results (or of
    // the error).
    ffi::lua_pushboolean(l, c_int::from(status == 0));
    ffi::lua_replace(l, HANDLER);
    ffi::lua_gettop(l) - 2
}

/// Pushes a Lua array of byte strings.
unsafe fn push_strings<'a>(l: *mut lua_State, items: impl ExactSizeIterator<Item = &'a [u8]>) {
    ffi::lua_createtable(l, items.len().min(i32::MAX as usize) as c_int, 0);
    for (i, it) in items.enumerate() {
        push_bytes(l, it);
        ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
    }
}
