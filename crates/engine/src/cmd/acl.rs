//! ACL: users, their rules, and what a user may run (`crate::acl`).

use ferrokey_resp::Frame;

use super::keys::container;
use super::{help_reply, parse_int};
use crate::command::{flags::*, table, CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};

const SUB: u32 = NOSCRIPT | LOADING | STALE;

/// The commands.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("acl", -2, 0, container)
    .doc(
        "server",
        "6.0.0",
        "A container for Access List Control commands.",
    )
    .subs(ACL_SUBS)];

static ACL_SUBS: &[CommandSpec] = &[
    CommandSpec::new("cat", -2, SUB, cat).doc(
        "server",
        "6.0.0",
        "Lists the ACL categories, or the commands inside a category.",
    ),
    CommandSpec::new("deluser", -3, ADMIN | SUB, deluser)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "server",
            "6.0.0",
            "Deletes ACL users, and terminates their connections.",
        ),
    CommandSpec::new("dryrun", -4, ADMIN | SUB, dryrun).doc(
        "server",
        "7.0.0",
        "Simulates the execution of a command by a user, without executing the command.",
    ),
    CommandSpec::new("genpass", -2, SUB, genpass).doc(
        "server",
        "6.0.0",
        "Generates a pseudorandom, secure password that can be used to identify ACL users.",
    ),
    CommandSpec::new("getuser", 3, ADMIN | SUB, getuser).doc(
        "server",
        "6.0.0",
        "Lists the ACL rules of a user.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, help).doc(
        "server",
        "6.0.0",
        "Returns helpful text about the different subcommands.",
    ),
    CommandSpec::new("list", 2, ADMIN | SUB, list).doc(
        "server",
        "6.0.0",
        "Dumps the effective rules in ACL file format.",
    ),
    CommandSpec::new("setuser", -3, ADMIN | SUB, setuser)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "server",
            "6.0.0",
            "Creates and modifies an ACL user and its rules.",
        ),
    CommandSpec::new("users", 2, ADMIN | SUB, users).doc("server", "6.0.0", "Lists all ACL users."),
    CommandSpec::new("whoami", 2, SUB, whoami).doc(
        "server",
        "6.0.0",
        "Returns the authenticated username of the current connection.",
    ),
];

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn cat(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::owned(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
            text(args[1])
        )));
    }
    crate::acl::cat(args.get(2).copied()).map_err(CmdError::owned)
}

fn setuser(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let name = text(args[2]);
    if name.contains(' ') || name.contains('\0') {
        return Err(CmdError::msg(
            "ERR Usernames can't contain spaces or null characters",
        ));
    }
    ctx.server
        .acl
        .set_user(&name, &args[3..])
        .map_err(|e| CmdError::owned(format!("ERR {e}")))?;
    ctx.server.acl_changed();
    Ok(Frame::ok())
}

fn deluser(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let names: Vec<String> = args[2..].iter().map(|a| text(a)).collect();
    if names.iter().any(|n| n == "default") {
        return Err(CmdError::msg("ERR The 'default' user cannot be removed"));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let n = ctx.server.acl.delete(&refs);
    ctx.server.acl_changed();
    // Connections authenticated as a deleted user are closed.
    for h in ctx.server.clients.all() {
        if names.contains(&h.names.lock().user) {
            h.kill();
        }
    }
    Ok(Frame::Integer(n as i64))
}

fn getuser(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    Ok(ctx
        .server
        .acl
        .get(&text(args[2]))
        .map_or(Frame::Null, |u| u.getuser_frame()))
}

fn list(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Array(
        ctx.server
            .acl
            .all()
            .iter()
            .map(|u| Frame::Bulk(u.describe().into_bytes()))
            .collect(),
    ))
}

fn users(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Array(
        ctx.server
            .acl
            .all()
            .iter()
            .map(|u| Frame::Bulk(u.name.clone().into_bytes()))
            .collect(),
    ))
}

fn whoami(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Bulk(ctx.client.acl.name.clone().into_bytes()))
}

fn genpass(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let bits = match args.get(2) {
        Some(a) => parse_int(a)?,
        None => 256,
    };
    if !(1..=4096).contains(&bits) {
        return Err(CmdError::msg("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"));
    }
    let chars = (bits as usize).div_ceil(4);
    let hex: String = (0..chars)
        .map(|_| char::from_digit(rand::random::<u32>() % 16, 16).unwrap_or('0'))
        .collect();
    Ok(Frame::Bulk(hex.into_bytes()))
}

fn dryrun(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let Some(user) = ctx.server.acl.get(&text(args[2])) else {
        return Err(CmdError::owned(format!(
            "ERR User '{}' not found",
            text(args[2])
        )));
    };
    let cmd = &args[3..];
    let t = table();
    let id = match crate::command::resolve(cmd) {
        Ok(id) => id,
        Err(CmdError::Arity(_)) => {
            let id = t.lookup(cmd[0]).unwrap_or(0);
            let sub = t.entries[id].spec.subcommands.is_empty();
            let full = if sub {
                t.entries[id].full_name.clone()
            } else {
                cmd.get(1).and_then(|s| t.lookup_sub(id, s)).map_or_else(
                    || t.entries[id].full_name.clone(),
                    |s| t.entries[s].full_name.clone(),
                )
            };
            return Err(CmdError::owned(format!(
                "ERR wrong number of arguments for '{full}' command"
            )));
        }
        Err(_) => {
            return Err(CmdError::owned(format!(
                "ERR Command '{}' not found",
                text(cmd[0])
            )))
        }
    };
    match user.check(id, cmd) {
        Ok(()) => Ok(Frame::ok()),
        Err(d) => Ok(Frame::Bulk(
            d.verbose_message(&user.name, &t.entries[id].full_name, cmd)
                .into_bytes(),
        )),
    }
}

fn help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    )
}

/// Whether the client's user may run command `id` with `args`; the
/// refusal as Redis words it otherwise (`NOPERM ...`, or inside a script
/// the message alone).
pub fn check(
    ctx_server: &crate::Server,
    client: &mut crate::client::Client,
    id: usize,
    args: &[&[u8]],
) -> Result<(), String> {
    let Some(user) = client.acl.user(&ctx_server.acl) else {
        return Err(format!(
            "User {} has no permissions to run the '{}' command",
            client.acl.name,
            table().entries[id].full_name
        ));
    };
    if user.unrestricted() {
        return Ok(());
    }
    user.check(id, args)
        .map_err(|d| d.message(&user.name, &table().entries[id].full_name))
}
