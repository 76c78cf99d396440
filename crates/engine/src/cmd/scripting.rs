//! The scripting family: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT.
//! The engine itself lives in `crate::script`.

use ferrokey_resp::Frame;

use super::{help_reply, is};
use crate::command::{flags::*, CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::script;

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
