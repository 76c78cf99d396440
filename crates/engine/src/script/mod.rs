//! Lua scripting: EVAL and its family, run as Redis 7.2 runs them.
//!
//! One Lua 5.1 state (mlua, vendored) serves every EVAL; FUNCTION libraries
//! get their own. A script runs with the gate held exclusively, so it sees
//! and changes the keyspace with nothing interleaved, including keys it did
//! not declare. `redis.call` goes through the same dispatcher as a client
//! command (`execute_inner` with the gate already held) on the caller's
//! `Client`, switched to the script's database and protocol for the run.
//!
//! While a script runs, [`RunState`] says so to everyone else: a command
//! that cannot get the gate within the busy threshold answers `BUSY`, and
//! SCRIPT KILL (which needs no gate) sets the flag the Lua hook checks
//! every 100,000 instructions.

pub mod functions;
mod libs;
mod rawcall;
pub(crate) mod vm;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;

use ferrokey_resp::Frame;
use mlua::{Function, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;
use vm::raise;

use crate::command::{execute_inner, flags, resolve, table, Ctx};
use crate::error::{CmdError, CmdResult};
use vm::{lua_arg, lua_to_frame, Rand48, Vm};

/// Commands that run a script.
pub const SCRIPT_COMMANDS: &[&str] = &[
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
];

/// Whether running `args` may run a script (an EVAL, an FCALL, or an EXEC
/// that queued one). The connection runs those on a coroutine, so that a
/// script past the busy threshold can step aside and let its worker answer
/// BUSY and take SCRIPT KILL from the other connections it serves.
pub fn runs_script(client: &crate::client::Client, args: &[&[u8]]) -> bool {
    // Every command of interest starts with E or F: most commands leave
    // after one byte compare (this runs for every request).
    if !matches!(
        args.first().and_then(|n| n.first()),
        Some(b'e' | b'E' | b'f' | b'F')
    ) {
        return false;
    }
    let is_script = |name: &[u8]| {
        SCRIPT_COMMANDS
            .iter()
            .any(|c| name.eq_ignore_ascii_case(c.as_bytes()))
    };
    match args.first() {
        Some(name) if client.multi.is_none() && is_script(name) => true,
        Some(name) if name.eq_ignore_ascii_case(b"exec") => {
            client.multi.as_ref().is_some_and(|m| {
                m.queue
                    .iter()
                    .any(|c| c.first().is_some_and(|n| is_script(n)))
            })
        }
        _ => false,
    }
}

/// Positions of the keys of a script-running command (`script numkeys
/// key... arg...`), or None for any other command.
pub fn key_positions(args: &[&[u8]]) -> Option<Vec<usize>> {
    let name = args.first()?;
    if !SCRIPT_COMMANDS
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c.as_bytes()))
    {
        return None;
    }
    let n = args
        .get(2)
        .and_then(|a| ferrokey_resp::parse_i64(a))
        .filter(|&n| n >= 0 && (n as usize) <= args.len().saturating_sub(3))
        .unwrap_or(0) as usize;
    Some((3..3 + n).collect())
}

/// Script flags from a `#!lua flags=...` shebang.
pub mod script_flags {
    /// The script declares no shebang: Redis's pre-7.0 rules.
    pub const EVAL_COMPAT: u32 = 1 << 0;
    /// `no-writes`.
    pub const NO_WRITES: u32 = 1 << 1;
    /// `allow-oom`.
    pub const ALLOW_OOM: u32 = 1 << 2;
    /// `allow-stale`.
    pub const ALLOW_STALE: u32 = 1 << 3;
    /// `no-cluster`.
    pub const NO_CLUSTER: u32 = 1 << 4;
    /// `allow-cross-slot-keys`.
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 5;

    /// Flag names as shebangs and FUNCTION LIST spell them.
    pub const NAMES: &[(u32, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];
}
use script_flags::*;

pub(crate) const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// What other connections can see of the running script.
#[derive(Debug, Default)]
pub struct RunState {
    /// A script is running.
    pub running: AtomicBool,
    /// It is an EVAL (not an FCALL).
    pub eval: AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL asked it to stop.
    pub killed: AtomicBool,
    /// It has run a write command (and can no longer be killed).
    pub dirty: AtomicBool,
    /// When it started, in ms on [`monotonic_ms`].
    start_ms: AtomicU64,
    /// When it passes the busy threshold, in ms on [`monotonic_ms`] (0:
    /// never): from then on the Lua hook lets its thread serve its other
    /// connections between slices of the script (see [`set_pause`]).
    pause_at_ms: AtomicU64,
    /// While FUNCTION LOAD runs a library's code: when it times out.
    pub load_deadline_ms: AtomicU64,
    /// The running script's name and command, for FUNCTION STATS.
    pub info: Mutex<Option<RunInfo>>,
    /// Libraries and functions loaded, as of the last FCALL (FUNCTION
    /// STATS reads it while a function holds the engine).
    pub function_counts: Mutex<(usize, usize)>,
    /// The running script's protocol version (`redis.setresp`).
    pub resp: std::sync::atomic::AtomicU8,
    /// Lines `redis.log` wrote, sent to the server log after the run.
    pub logs: Mutex<Vec<(&'static str, String)>>,
    /// While a script runs: its `RefCell<CallState>`, which `redis.call`
    /// and `redis.pcall` (made once per state) borrow; null otherwise.
    call: AtomicPtr<()>,
}

/// Clears [`RunState::call`] when the run that set it ends, however it ends.
struct CallGuard<'r>(&'r RunState);

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        self.0.call.store(std::ptr::null_mut(), Ordering::Release);
    }
}

/// The state of the command whose script is running, if one is.
#[allow(unsafe_code)]
fn call_state<'r>(run: &'r RunState) -> Option<&'r RefCell<CallState<'r, 'r>>> {
    let p = run.call.load(Ordering::Acquire);
    if p.is_null() {
        return None;
    }
    // SAFETY: `run` stores the address of its `RefCell<CallState>` before
    // the script starts and a `CallGuard` clears it before that cell goes
    // out of scope; Lua calls back on the thread that runs the script, so
    // the cell is alive and only reached through this shared reference.
    Some(unsafe { &*(p as *const RefCell<CallState<'r, 'r>>) })
}

/// Runs `f` on the state of the command whose script is running; `name`
/// words the error outside a script run.
fn with_call_state<R>(
    run: &RunState,
    name: &str,
    f: impl FnOnce(&mut CallState<'_, '_>) -> mlua::Result<R>,
) -> mlua::Result<R> {
    match call_state(run) {
        Some(cell) => f(&mut cell.borrow_mut()),
        None => Err(raise(&format!(
            "ERR {name} is only available while a script runs"
        ))),
    }
}

/// `redis.acl_check_cmd(...)`: whether the script's user may run the
/// command, without running it.
pub(crate) fn acl_check_cmd(run: &RunState, args: MultiValue) -> mlua::Result<Value> {
    with_call_state(run, "redis.acl_check_cmd", |s| s.acl_check(args))
}

thread_local! {
    /// Set by the host on a thread whose scripts run on a coroutine: what
    /// suspends the running script so the thread can serve its other
    /// connections (which answer BUSY) once the script is past the busy
    /// threshold. Unset, a busy script keeps its thread until it ends.
    static PAUSE: std::cell::Cell<Option<fn()>> = const { std::cell::Cell::new(None) };
    /// A script of this thread is suspended by [`PAUSE`].
    static SUSPENDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs (or, with `None`, removes) this thread's [`PAUSE`] function.
pub fn set_pause(f: Option<fn()>) {
    PAUSE.with(|p| p.set(f));
}

/// Called by the Lua hook of a busy script: suspends it if the host can.
pub(crate) fn pause() {
    if let Some(f) = PAUSE.with(std::cell::Cell::get) {
        f();
    }
}

/// Whether a script of this thread is suspended: the thread must not wait
/// for what that script holds (the gate), as it is the one to release it.
pub fn suspended_here() -> bool {
    SUSPENDED.with(std::cell::Cell::get)
}

/// The per-thread state of a command in progress (its propagation unit,
/// its tracking context), set aside while its script is suspended so the
/// commands the thread serves meanwhile start clean and cannot touch it.
#[derive(Default)]
pub struct ThreadState {
    propagate: crate::propagate::ThreadState,
    tracking: crate::tracking::ThreadState,
}

/// Sets the state of the suspended script's command aside; the thread is
/// then marked as holding a suspended script.
pub fn suspend_thread_state() -> ThreadState {
    SUSPENDED.with(|s| s.set(true));
    ThreadState {
        propagate: crate::propagate::take_thread_state(),
        tracking: crate::tracking::take_thread_state(),
    }
}

/// Puts back what [`suspend_thread_state`] set aside, before the script
/// resumes.
pub fn resume_thread_state(state: ThreadState) {
    crate::propagate::restore_thread_state(state.propagate);
    crate::tracking::restore_thread_state(state.tracking);
    SUSPENDED.with(|s| s.set(false));
}

/// What FUNCTION STATS shows of a running script.
#[derive(Debug)]
pub struct RunInfo {
    /// Function name (or the script's SHA-1).
    pub name: String,
    /// The command that runs it.
    pub argv: Vec<Vec<u8>>,
}

pub(crate) fn monotonic_ms() -> u64 {
    crate::clock::monotonic_us() / 1000
}

impl RunState {
    fn start(&self, eval: bool, busy_threshold_ms: u64) {
        self.resp.store(2, Ordering::Relaxed);
        self.eval.store(eval, Ordering::Relaxed);
        self.killed.store(false, Ordering::Relaxed);
        self.dirty.store(false, Ordering::Relaxed);
        let now = monotonic_ms();
        self.start_ms.store(now, Ordering::Relaxed);
        let pause_at = if busy_threshold_ms == 0 {
            0
        } else {
            now + busy_threshold_ms
        };
        self.pause_at_ms.store(pause_at, Ordering::Relaxed);
        self.running.store(true, Ordering::Release);
    }

    /// Whether the running script is past the busy threshold, so that its
    /// thread should serve its other connections now and then.
    pub(crate) fn pause_due(&self) -> bool {
        let at = self.pause_at_ms.load(Ordering::Relaxed);
        at != 0 && self.running.load(Ordering::Acquire) && monotonic_ms() >= at
    }

    /// Milliseconds since the running script started.
    pub fn elapsed_ms(&self) -> u64 {
        monotonic_ms().saturating_sub(self.start_ms.load(Ordering::Relaxed))
    }

    fn stop(&self) {
        self.pause_at_ms.store(0, Ordering::Relaxed);
        self.running.store(false, Ordering::Release);
        self.killed.store(false, Ordering::Relaxed);
    }

    /// The BUSY error for other clients, once the running script has been
    /// running for `threshold_ms` (0: never).
    pub fn busy_error(&self, threshold_ms: u64) -> Option<CmdError> {
        if threshold_ms == 0 || !self.running.load(Ordering::Acquire) {
            return None;
        }
        let elapsed = monotonic_ms().saturating_sub(self.start_ms.load(Ordering::Relaxed));
        if elapsed < threshold_ms {
            return None;
        }
        Some(self.busy_reply())
    }

    /// The BUSY error for the kind of script running.
    pub fn busy_reply(&self) -> CmdError {
        CmdError::msg(if self.eval.load(Ordering::Relaxed) {
            BUSY_EVAL
        } else {
            BUSY_FUNCTION
        })
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL.
    pub fn kill(&self, eval: bool) -> CmdResult {
        if !self.running.load(Ordering::Acquire) {
            return Err(CmdError::msg("NOTBUSY No scripts in execution right now."));
        }
        if self.dirty.load(Ordering::Relaxed) {
            return Err(CmdError::msg(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            ));
        }
        let running_eval = self.eval.load(Ordering::Relaxed);
        if eval && !running_eval {
            return Err(CmdError::msg(BUSY_FUNCTION));
        }
        if !eval && running_eval {
            return Err(CmdError::msg(BUSY_EVAL));
        }
        self.killed.store(true, Ordering::Relaxed);
        Ok(Frame::ok())
    }
}

/// A cached EVAL script.
struct Script {
    flags: u32,
    func: Function,
}

/// The EVAL engine: its Lua state and script cache.
#[derive(Default)]
struct EvalEngine {
    vm: Option<Vm>,
    scripts: HashMap<String, Script, foldhash::fast::RandomState>,
    /// Bytes of script bodies in the cache (INFO used_memory_scripts_eval).
    body_bytes: usize,
}

/// Scripting state of the server.
#[derive(Default)]
pub struct Scripting {
    eval: Mutex<EvalEngine>,
    functions: Mutex<functions::FunctionEngine>,
    /// The running script, for BUSY and SCRIPT KILL.
    pub run: Arc<RunState>,
    rand: Arc<Rand48>,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may run NOSCRIPT commands.
    pub allow_noscript: AtomicBool,
    /// Figures for INFO, published where they change, so INFO never
    /// waits for (or, inside a script, deadlocks on) an engine's lock.
    pub stats: ScriptStats,
}

/// Scripting figures INFO memory shows.
#[derive(Debug, Default)]
pub struct ScriptStats {
    /// Cached EVAL scripts.
    pub cached_scripts: AtomicU64,
    /// Bytes of their bodies.
    pub scripts_bytes: AtomicU64,
    /// Bytes the EVAL Lua state uses.
    pub eval_vm_bytes: AtomicU64,
    /// Loaded libraries.
    pub libraries: AtomicU64,
    /// Registered functions.
    pub functions: AtomicU64,
    /// Bytes of library code.
    pub functions_bytes: AtomicU64,
    /// Bytes the functions Lua state uses.
    pub functions_vm_bytes: AtomicU64,
}

impl std::fmt::Debug for Scripting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripting").finish_non_exhaustive()
    }
}

impl EvalEngine {
    /// Publishes the cache's figures for INFO.
    fn publish(&self, stats: &ScriptStats) {
        stats
            .cached_scripts
            .store(self.scripts.len() as u64, Ordering::Relaxed);
        stats
            .scripts_bytes
            .store(self.body_bytes as u64, Ordering::Relaxed);
        let vm_bytes = self.vm.as_ref().map_or(0, |vm| vm.lua.used_memory());
        stats
            .eval_vm_bytes
            .store(vm_bytes as u64, Ordering::Relaxed);
    }
}

impl EvalEngine {
    fn vm(&mut self, s: &Scripting) -> Result<&mut Vm, CmdError> {
        if self.vm.is_none() {
            let vm = vm::new_vm(&s.run, &s.rand)
                .map_err(|e| CmdError::owned(format!("ERR Error creating the Lua state: {e}")))?;
            self.vm = Some(vm);
        }
        Ok(self.vm.as_mut().expect("just created"))
    }

    /// Compiles and caches `body` unless cached; returns its SHA-1.
    fn create(&mut self, s: &Scripting, body: &[u8]) -> Result<String, CmdError> {
        let sha = vm::sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) = parse_shebang(body).map_err(CmdError::owned)?;
        let vm = self.vm(s)?;
        let func = vm::compile(vm, &body[skip..], "@user_script").map_err(|e| {
            CmdError::owned(format!("ERR Error compiling script (new function): {e}"))
        })?;
        self.body_bytes += body.len();
        self.scripts.insert(sha.clone(), Script { flags, func });
        self.publish(&s.stats);
        Ok(sha)
    }
}

/// Reads a `#!lua flags=a,b` first line: the flags and how many bytes to
/// skip (the newline stays, so line numbers do not move).
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let parts = ferrokey_resp::split_args(&body[..end]).unwrap_or_default();
    if parts.is_empty() {
        return Err("ERR Invalid engine in script shebang".into());
    }
    if parts[0] != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            ));
        };
        if list.is_empty() {
            // `flags=` alone declares no flags (Redis splits "" into none).
            continue;
        }
        for name in list.split(|&b| b == b',') {
            match NAMES.iter().find(|(_, n)| n.as_bytes() == name) {
                Some((f, _)) => flags |= f,
                None => {
                    return Err(format!(
                        "ERR Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(name)
                    ))
                }
            }
        }
    }
    Ok((flags, end))
}

/// The numkeys argument of EVAL and FCALL (`args[2]`), checked against
/// the arguments that follow; `not_int` is the error for a non-integer.
fn numkeys(args: &[&[u8]], not_int: CmdError) -> Result<usize, CmdError> {
    let n = ferrokey_resp::parse_i64(args[2]).ok_or(not_int)?;
    if n > (args.len() - 3) as i64 {
        return Err(CmdError::msg(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(CmdError::msg("ERR Number of keys can't be negative"));
    }
    Ok(n as usize)
}

/// Shows a script-running command to MONITOR before the commands it runs
/// (those commands are not SKIP_MONITOR, the script command is).
pub(crate) fn feed_monitors(ctx: &Ctx<'_>, args: &[&[u8]]) {
    if ctx.server.pubsub.monitored() {
        crate::pubsub::feed_monitors(
            ctx.server,
            ctx.client.db,
            &ctx.client.handle.addr,
            args,
            ctx.now_us,
        );
    }
}

/// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO.
pub fn eval(ctx: &mut Ctx<'_>, args: &[&[u8]], by_sha: bool, ro: bool) -> CmdResult {
    feed_monitors(ctx, args);
    let numkeys = numkeys(args, CmdError::NotInteger)?;
    let scripting = &ctx.server.scripting;
    let mut eng = scripting.eval.lock();
    let sha = if by_sha {
        let sha = match std::str::from_utf8(args[1]) {
            Ok(s) if s.len() == 40 => s.to_ascii_lowercase(),
            _ => return Err(noscript()),
        };
        if !eng.scripts.contains_key(&sha) {
            return Err(noscript());
        }
        sha
    } else {
        eng.create(scripting, args[1])?
    };
    let script = &eng.scripts[&sha];
    let (flags, func) = (script.flags, script.func.clone());
    if flags & EVAL_COMPAT == 0 && flags & NO_WRITES == 0 && ro {
        return Err(CmdError::msg(
            "ERR Can not execute a script with write flag using *_ro command.",
        ));
    }
    let readonly = ro || (flags & EVAL_COMPAT == 0 && flags & NO_WRITES != 0);
    let allow_oom = flags & EVAL_COMPAT == 0 && flags & ALLOW_OOM != 0;
    if flags & EVAL_COMPAT == 0 {
        refuse_up_front(ctx, flags)?;
    }
    let vm = eng.vm(scripting)?;
    let keys = &args[3..3 + numkeys];
    let argv = &args[3 + numkeys..];
    let reply = run(
        ctx,
        vm,
        &func,
        RunArgs {
            keys,
            argv,
            readonly,
            allow_oom,
            is_eval: true,
            name: &sha,
            command: args,
        },
    );
    eng.publish(&scripting.stats);
    reply
}

/// A script declaring its flags (shebang, or a function's) that may write
/// is refused while there are too few good replicas for
/// `min-replicas-to-write`; lacking `allow-oom` too, it counts as a
/// command that may grow memory and is refused while memory is over
/// `maxmemory` (Redis derives WRITE and DENYOOM from the flags).
pub(crate) fn refuse_up_front(ctx: &Ctx<'_>, flags: u32) -> Result<(), CmdError> {
    // A script that may write needs enough good replicas (checked first,
    // as Redis's scriptPrepareForRun does).
    if flags & NO_WRITES == 0
        && !ctx.client.obey
        && !ctx.server.enough_good_replicas(ctx.now_us / 1000)
    {
        return Err(CmdError::msg(crate::error::NOREPLICAS));
    }
    if flags & (NO_WRITES | ALLOW_OOM) == 0 && ctx.client.oom_at_start && !ctx.client.obey {
        return Err(CmdError::msg(crate::error::OOM));
    }
    Ok(())
}

fn noscript() -> CmdError {
    CmdError::msg("NOSCRIPT No matching script. Please use EVAL.")
}

/// SCRIPT LOAD.
pub fn script_load(ctx: &mut Ctx<'_>, body: &[u8]) -> CmdResult {
    let scripting = &ctx.server.scripting;
    let sha = scripting.eval.lock().create(scripting, body)?;
    Ok(Frame::Bulk(sha.into_bytes()))
}

/// SCRIPT EXISTS.
pub fn script_exists(ctx: &mut Ctx<'_>, shas: &[&[u8]]) -> CmdResult {
    let eng = ctx.server.scripting.eval.lock();
    Ok(Frame::Array(
        shas.iter()
            .map(|s| {
                let s = String::from_utf8_lossy(s).to_ascii_lowercase();
                Frame::Integer(i64::from(eng.scripts.contains_key(&s)))
            })
            .collect(),
    ))
}

/// SCRIPT FLUSH: a fresh Lua state and an empty cache.
pub fn script_flush(ctx: &mut Ctx<'_>) {
    let mut eng = ctx.server.scripting.eval.lock();
    let old = std::mem::take(&mut *eng);
    eng.publish(&ctx.server.scripting.stats);
    drop(eng);
    drop(old);
}

/// What `redis.call` needs while a script runs.
struct CallState<'a, 'c> {
    ctx: &'a mut Ctx<'c>,
    readonly: bool,
    allow_oom: bool,
    run: &'a RunState,
    /// Outcomes of `redis.call` being pushed onto the Lua stack (see
    /// `rawcall`). Boxed so each stays put while the list changes.
    #[allow(clippy::vec_box)]
    parked: Vec<Box<CallOut>>,
}

/// What a `redis.call` gave: the command's reply, or an error the call
/// raises (`redis.call`) or returns as `{err=...}` (`redis.pcall`), with
/// whether the error statistics already count it.
pub(crate) enum CallOut {
    Reply(Frame),
    Fail(String, bool),
}

/// A Lua number as `lua_tonumber` reads it (numeric strings included).
fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => s.to_str().ok()?.trim().parse().ok(),
        _ => None,
    }
}

impl CallState<'_, '_> {
    fn acl_check(&mut self, args: MultiValue) -> mlua::Result<Value> {
        let mut argv = Vec::with_capacity(args.len());
        for v in args.iter() {
            match lua_arg(v) {
                Some(a) => argv.push(a),
                None => {
                    return Err(raise(
                        "ERR Lua redis lib command arguments must be strings or integers",
                    ))
                }
            }
        }
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let invalid = || raise("ERR Invalid command passed to redis.acl_check_cmd()");
        if refs.is_empty() {
            return Err(invalid());
        }
        let t = table();
        let id = match resolve(&refs) {
            Ok(id) => id,
            Err(CmdError::Arity(_)) => {
                let top = t.lookup(refs[0]).ok_or_else(invalid)?;
                match refs.get(1) {
                    Some(s) if !t.entries[top].spec.subcommands.is_empty() => {
                        t.lookup_sub(top, s).unwrap_or(top)
                    }
                    _ => top,
                }
            }
            Err(_) => return Err(invalid()),
        };
        let ok = crate::cmd::acl::check(self.ctx.server, self.ctx.client, id, &refs).is_ok();
        Ok(Value::Boolean(ok))
    }

    /// Runs a command for the script (phase 2 of `rawcall`: plain Rust,
    /// no Lua calls).
    fn dispatch(&mut self, refs: &[&[u8]]) -> CallOut {
        let server = self.ctx.server;
        // Refusals count as Redis's scriptCall counts them, so the error
        // the script then raises or returns is not counted again.
        let refuse = |id: Option<usize>, text: &str| -> CallOut {
            crate::command::count_script_refusal(server, id, text);
            CallOut::Fail(text.to_string(), true)
        };
        let (id, spec) = match resolve(refs) {
            Ok(id) => (id, table().entries[id].spec),
            Err(CmdError::Arity(_)) => {
                return refuse(
                    table().lookup(refs[0]),
                    "ERR Wrong number of args calling Redis command from script",
                )
            }
            Err(_) => return refuse(None, "ERR Unknown Redis command called from script"),
        };
        if spec.has(flags::NOSCRIPT) && !server.scripting.allow_noscript.load(Ordering::Relaxed) {
            return refuse(
                Some(id),
                "ERR This Redis command is not allowed from script",
            );
        }
        if let Err(msg) = crate::cmd::acl::check(server, self.ctx.client, id, refs) {
            return refuse(Some(id), &format!("ERR ACL failure in script: {msg}"));
        }
        if self.readonly && spec.flags & (flags::WRITE | flags::MAY_REPLICATE) != 0 {
            return refuse(
                Some(id),
                "ERR Write commands are not allowed from read-only scripts.",
            );
        }
        // Over maxmemory when the script started: its first command that
        // may grow memory is refused; once it has written, it must finish.
        if spec.has(flags::DENYOOM)
            && !self.allow_oom
            && self.ctx.client.oom_at_start
            && !self.ctx.client.obey
            && !self.run.dirty.load(Ordering::Relaxed)
        {
            return refuse(Some(id), crate::error::OOM);
        }
        if spec.has(flags::WRITE) {
            if !self.ctx.client.obey && !server.enough_good_replicas(self.ctx.now_us / 1000) {
                return refuse(Some(id), crate::error::NOREPLICAS);
            }
            self.run.dirty.store(true, Ordering::Relaxed);
        }
        let c = &mut *self.ctx;
        c.client.resp = self.run.resp.load(Ordering::Relaxed);
        // The command's own error is in the statistics already.
        match execute_inner(c.server, c.client, refs, c.now_us, true) {
            Frame::Error(text) => CallOut::Fail(text.into_owned(), true),
            reply => CallOut::Reply(reply),
        }
    }
}

/// `redis.setresp(2|3)`: the protocol the next calls and the result use.
pub(crate) fn setresp(run: &RunState, args: MultiValue) -> mlua::Result<()> {
    if args.len() != 1 {
        return Err(raise("ERR redis.setresp() requires one argument."));
    }
    match to_number(&args[0]).map(|n| n as i64) {
        Some(v @ (2 | 3)) => {
            run.resp.store(v as u8, Ordering::Relaxed);
            Ok(())
        }
        _ => Err(raise("ERR RESP version must be 2 or 3.")),
    }
}

/// `redis.set_repl`: validated; Ferrokey has no replication stream yet,
/// so there is nothing to switch.
pub(crate) fn set_repl(args: MultiValue) -> mlua::Result<()> {
    if args.len() != 1 {
        return Err(raise("ERR redis.set_repl() requires one argument."));
    }
    let flags = to_number(&args[0]).unwrap_or(0.0) as i64;
    if flags & !3 != 0 {
        return Err(raise(
            "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        ));
    }
    Ok(())
}

/// `redis.log(level, ...)`.
pub(crate) fn log(run: &RunState, lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() < 2 {
        return Err(raise("ERR redis.log() requires two arguments or more."));
    }
    let Some(level) = to_number(&args[0]) else {
        return Err(raise("ERR First argument must be a number (log level)."));
    };
    let level = level as i64;
    let name = match level {
        0 => "debug",
        1 => "verbose",
        2 => "notice",
        3 => "warning",
        _ => return Err(raise("ERR Invalid debug level.")),
    };
    let mut text = Vec::new();
    for (j, v) in args.iter().enumerate().skip(1) {
        let piece = match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(_) | Value::Number(_) => {
                lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec())
            }
            _ => None,
        };
        if let Some(p) = piece {
            if j != 1 {
                text.push(b' ');
            }
            text.extend_from_slice(&p);
        }
    }
    run.logs
        .lock()
        .push((name, String::from_utf8_lossy(&text).into_owned()));
    Ok(())
}

/// What a script run needs besides the function.
struct RunArgs<'a> {
    /// EVAL: KEYS; FCALL: the function's first argument.
    keys: &'a [&'a [u8]],
    /// EVAL: ARGV; FCALL: the function's second argument.
    argv: &'a [&'a [u8]],
    /// Writes are refused (EVAL_RO, FCALL_RO, no-writes).
    readonly: bool,
    /// `allow-oom`: writes may run while memory is over `maxmemory`.
    allow_oom: bool,
    /// EVAL (SCRIPT KILL) rather than FCALL (FUNCTION KILL).
    is_eval: bool,
    /// The SHA-1 or the function name, for error replies.
    name: &'a str,
    /// The whole command, for FUNCTION STATS.
    command: &'a [&'a [u8]],
}

/// Runs a compiled script and converts its result.
fn run(ctx: &mut Ctx<'_>, vm: &mut Vm, func: &Function, a: RunArgs<'_>) -> CmdResult {
    let RunArgs {
        keys,
        argv,
        readonly,
        allow_oom,
        is_eval,
        name,
        command,
    } = a;
    let server = ctx.server;
    let run_state = server.scripting.run.clone();
    // FUNCTION STATS shows a running function (and refuses while an EVAL
    // runs), so only FCALL needs its command kept.
    *run_state.info.lock() = (!is_eval).then(|| RunInfo {
        name: name.to_string(),
        argv: command.iter().map(|c| c.to_vec()).collect(),
    });
    let threshold = server.config.read().busy_reply_threshold_ms();
    run_state.start(is_eval, threshold);
    let saved = (
        ctx.client.db,
        ctx.client.resp,
        ctx.client.deny_blocking,
        ctx.client.in_script,
    );
    ctx.client.resp = 2;
    ctx.client.deny_blocking = true;
    ctx.client.in_script = true;
    let state = RefCell::new(CallState {
        ctx: &mut *ctx,
        readonly,
        allow_oom,
        run: &run_state,
        parked: Vec::new(),
    });
    run_state.call.store(
        &state as *const RefCell<CallState<'_, '_>> as *mut (),
        Ordering::Release,
    );
    let guard = CallGuard(&run_state);
    let result = (|| -> mlua::Result<(Frame, bool)> {
        let results = rawcall::start(vm, func, keys, argv, is_eval)?;
        let out = vm::invoke_results(vm, results)?;
        let resp = run_state.resp.load(Ordering::Relaxed);
        // A script failing with (or returning) an error its commands got
        // does not count it again.
        let counted = |t: &Table| t.raw_get::<bool>(vm::IGNORE_STATS).unwrap_or(false);
        Ok(match out {
            Ok(v) => {
                let f = lua_to_frame(&v, resp, 0);
                let already = matches!(&v, Value::Table(t) if counted(t));
                (f, already)
            }
            Err(t) => (error_reply(&t, name), counted(&t)),
        })
    })();
    drop(guard);
    vm.runs += 1;
    if vm.runs >= 50 {
        vm.runs = 0;
        let _ = vm.lua.gc_step();
    }
    let (db, resp, deny, in_script) = saved;
    ctx.client.db = db;
    ctx.client.resp = resp;
    ctx.client.deny_blocking = deny;
    ctx.client.in_script = in_script;
    run_state.stop();
    flush_logs(server, &run_state);
    match result {
        Ok((f, already)) => {
            if already && f.is_error() {
                ctx.client.error_counted = true;
            }
            Ok(f)
        }
        Err(e) => Err(CmdError::owned(format!("ERR Error running script: {e}"))),
    }
}

/// Writes what `redis.log` collected to the server log.
pub(crate) fn flush_logs(server: &crate::server::Server, run: &RunState) {
    let lines = std::mem::take(&mut *run.logs.lock());
    for (level, text) in lines {
        server.host.log(level, &text);
    }
}

/// The reply for a failed script: Redis's text plus where it failed.
fn error_reply(t: &Table, name: &str) -> Frame {
    let text = |k: &str| -> Option<String> {
        match t.raw_get::<Value>(k).ok()? {
            Value::String(s) => Some(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
            Value::Integer(i) => Some(i.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let msg = text("err").unwrap_or_default();
    match (text("source"), text("line")) {
        (Some(source), Some(line)) => {
            Frame::Error(format!("{msg} script: {name}, on {source}:{line}.").into())
        }
        _ => Frame::Error(msg.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(parse_shebang(b"return 1"), Ok((EVAL_COMPAT, 0)));
        assert_eq!(
            parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1"),
            Ok((NO_WRITES | ALLOW_OOM, 31))
        );
        assert_eq!(parse_shebang(b"#!lua\nreturn 1"), Ok((0, 5)));
        assert_eq!(parse_shebang(b"#!lua flags=\nreturn 1"), Ok((0, 12)));
        assert!(parse_shebang(b"#!lua flags=no-writes,\nreturn 1").is_err());
        assert_eq!(
            parse_shebang(b"#!lua"),
            Err("ERR Invalid script shebang".to_string())
        );
        assert_eq!(
            parse_shebang(b"#!python\n"),
            Err("ERR Unexpected engine in script shebang: #!python".to_string())
        );
        assert_eq!(
            parse_shebang(b"#!lua flags=bad\n"),
            Err("ERR Unexpected flag in script shebang: bad".to_string())
        );
        assert_eq!(
            parse_shebang(b"#!lua foo=bar\n"),
            Err("ERR Unknown lua shebang option: foo=bar".to_string())
        );
    }
}
