//! The scripting family: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT,
//! FCALL, FCALL_RO and FUNCTION. The engine itself lives in
//! `crate::script`.

use ferrokey_resp::Frame;

use super::{help_reply, is};
use crate::command::{flags::*, CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::script;
use crate::script::functions;

const SCRIPTING: &[&str] = &["@scripting"];

/// Flags every script-running command shares; EXCLUSIVE makes the script
/// atomic against every other client.
const RUNS: u32 = NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | MOVABLEKEYS | EXCLUSIVE;

/// The scripting family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, RUNS | MAY_REPLICATE, eval)
        .acl(SCRIPTING)
        .doc("scripting", "2.6.0", "Executes a server-side Lua script."),
    CommandSpec::new("evalsha", -3, RUNS | MAY_REPLICATE, evalsha)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "2.6.0",
            "Executes a server-side Lua script by SHA1 digest.",
        ),
    CommandSpec::new("eval_ro", -3, RUNS | READONLY, eval_ro)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Executes a read-only server-side Lua script.",
        ),
    CommandSpec::new("evalsha_ro", -3, RUNS | READONLY, evalsha_ro)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Executes a read-only server-side Lua script by SHA1 digest.",
        ),
    CommandSpec::new("fcall", -3, RUNS | MAY_REPLICATE, fcall)
        .acl(SCRIPTING)
        .doc("scripting", "7.0.0", "Invokes a function."),
    CommandSpec::new("fcall_ro", -3, RUNS | READONLY, fcall_ro)
        .acl(SCRIPTING)
        .doc("scripting", "7.0.0", "Invokes a read-only function."),
    CommandSpec::new("function", -2, 0, super::keys::container)
        .doc("scripting", "7.0.0", "A container for function commands.")
        .subs(FUNCTION_SUBS),
    CommandSpec::new("script", -2, 0, super::keys::container)
        .doc(
            "scripting",
            "2.6.0",
            "A container for Lua scripts management commands.",
        )
        .subs(SCRIPT_SUBS),
];

static SCRIPT_SUBS: &[CommandSpec] = &[
    CommandSpec::new("exists", -3, NOSCRIPT, script_exists)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "2.6.0",
            "Determines whether server-side Lua scripts exist in the script cache.",
        )
        .tips(&[
            "request_policy:all_shards",
            "response_policy:agg_logical_and",
        ]),
    CommandSpec::new("flush", -2, NOSCRIPT, script_flush)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "2.6.0",
            "Removes all server-side Lua scripts from the script cache.",
        )
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("help", 2, LOADING | STALE, script_help)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
        ),
    CommandSpec::new("kill", 2, NOSCRIPT | ALLOW_BUSY, script_kill)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "2.6.0",
            "Terminates a server-side Lua script during execution.",
        )
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    CommandSpec::new("load", 3, NOSCRIPT | STALE, script_load)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "2.6.0",
            "Loads a server-side Lua script to the script cache.",
        )
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

/// The FUNCTION subcommands that change the libraries run alone
/// (EXCLUSIVE), like the scripts that use them.
static FUNCTION_SUBS: &[CommandSpec] = &[
    CommandSpec::new("delete", 3, NOSCRIPT | WRITE | EXCLUSIVE, function_delete)
        .acl(SCRIPTING)
        .doc("scripting", "7.0.0", "Deletes a library and its functions.")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("dump", 2, NOSCRIPT, function_dump)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Dumps all libraries into a serialized binary payload.",
        ),
    CommandSpec::new("flush", -2, NOSCRIPT | WRITE | EXCLUSIVE, function_flush)
        .acl(SCRIPTING)
        .doc("scripting", "7.0.0", "Deletes all libraries and functions.")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("help", 2, LOADING | STALE, function_help)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Returns helpful text about the different subcommands.",
        ),
    CommandSpec::new("kill", 2, NOSCRIPT | ALLOW_BUSY, function_kill)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Terminates a function during execution.",
        )
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    CommandSpec::new("list", -2, NOSCRIPT, function_list)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Returns information about all libraries.",
        )
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new(
        "load",
        -3,
        NOSCRIPT | WRITE | DENYOOM | EXCLUSIVE,
        function_load,
    )
    .acl(SCRIPTING)
    .doc("scripting", "7.0.0", "Creates a library.")
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "restore",
        -3,
        NOSCRIPT | WRITE | DENYOOM | EXCLUSIVE,
        function_restore,
    )
    .acl(SCRIPTING)
    .doc(
        "scripting",
        "7.0.0",
        "Restores all libraries from a payload.",
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("stats", 2, NOSCRIPT | ALLOW_BUSY, function_stats)
        .acl(SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Returns information about a function during execution.",
        )
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
];

fn fcall(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    functions::fcall(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    functions::fcall(ctx, args, true)
}

fn function_delete(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    functions::function_delete(ctx, args[2])
}

fn function_dump(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    functions::function_dump(ctx)
}

/// Redis's reply to a FUNCTION subcommand with too many arguments.
fn too_many(args: &[&[u8]]) -> CmdError {
    CmdError::owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        crate::error::sanitize(args[1], 128)
    ))
}

fn function_flush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(too_many(args));
    }
    match args.get(2) {
        None => {}
        Some(a) if is(a, "async") || is(a, "sync") => {}
        Some(_) => {
            return Err(CmdError::msg(
                "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
            ))
        }
    }
    functions::function_flush(ctx);
    Ok(Frame::ok())
}

fn function_kill(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    ctx.server.scripting.run.kill(false)
}

fn function_list(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    functions::function_list(ctx, args)
}

fn function_load(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    functions::function_load(ctx, args)
}

fn function_restore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() > 4 {
        return Err(too_many(args));
    }
    functions::function_restore(ctx, args)
}

fn function_stats(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    functions::function_stats(ctx)
}

fn function_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    )
}

fn eval(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    script::eval(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    script::eval(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    script::eval(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    script::eval(ctx, args, true, true)
}

fn script_exists(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    script::script_exists(ctx, &args[2..])
}

fn script_flush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    match args.len() {
        2 => {}
        3 if is(args[2], "sync") || is(args[2], "async") => {}
        _ => {
            return Err(CmdError::msg(
                "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
            ))
        }
    }
    script::script_flush(ctx);
    Ok(Frame::ok())
}

fn script_kill(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    ctx.server.scripting.run.kill(true)
}

fn script_load(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    script::script_load(ctx, args[2])
}

fn script_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    )
}
