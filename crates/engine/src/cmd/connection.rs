//! Connection commands: PING, ECHO, QUIT, RESET, SELECT, SWAPDB, HELLO,
//! AUTH and CLIENT.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use ferrokey_resp::Frame;

use super::keys::container;
use super::{help_reply, is, parse_db, parse_int};
use crate::client::{ClientHandle, ReplyMode, UNBLOCK_ERROR, UNBLOCK_TIMEOUT};
use crate::command::{flags::*, table, CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::SHARDS;

/// The version Ferrokey reports as `redis_version`; clients gate features
/// on it.
pub const REDIS_VERSION: &str = "7.2.6";
/// Ferrokey's own version.
pub const FERROKEY_VERSION: &str = env!("CARGO_PKG_VERSION");

const CONN: &[&str] = &["@connection"];

/// The connection family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST, ping).acl(CONN).doc(
        "connection",
        "1.0.0",
        "Returns the server's liveliness response.",
    ),
    CommandSpec::new("echo", 2, FAST, echo).acl(CONN).doc(
        "connection",
        "1.0.0",
        "Returns the given string.",
    ),
    CommandSpec::new(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        quit,
    )
    .acl(CONN)
    .doc("connection", "1.0.0", "Closes the connection."),
    CommandSpec::new(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        reset,
    )
    .acl(CONN)
    .doc("connection", "6.2.0", "Resets the connection."),
    CommandSpec::new("select", 2, LOADING | STALE | FAST, select)
        .acl(CONN)
        .doc("connection", "1.0.0", "Changes the selected database."),
    CommandSpec::new("swapdb", 3, WRITE | FAST | EXCLUSIVE, swapdb)
        .acl(&["@keyspace", "@dangerous"])
        .doc("server", "4.0.0", "Swaps two Redis databases."),
    CommandSpec::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        hello,
    )
    .acl(CONN)
    .doc("connection", "6.0.0", "Handshakes with the Redis server."),
    CommandSpec::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        auth,
    )
    .acl(CONN)
    .doc("connection", "1.0.0", "Authenticates the connection."),
    CommandSpec::new("client", -2, 0, container)
        .acl(CONN)
        .doc(
            "connection",
            "2.4.0",
            "A container for client connection commands.",
        )
        .subs(CLIENT_SUBS),
];

const CLIENT_FLAGS: u32 = NOSCRIPT | LOADING | STALE;

static CLIENT_SUBS: &[CommandSpec] = &[
    CommandSpec::new("id", 2, CLIENT_FLAGS, client_id)
        .acl(CONN)
        .doc(
            "connection",
            "5.0.0",
            "Returns the unique client ID of the connection.",
        ),
    CommandSpec::new("setname", 3, CLIENT_FLAGS, client_setname)
        .acl(CONN)
        .doc("connection", "2.6.9", "Sets the connection name."),
    CommandSpec::new("getname", 2, CLIENT_FLAGS, client_getname)
        .acl(CONN)
        .doc("connection", "2.6.9", "Returns the name of the connection."),
    CommandSpec::new("list", -2, ADMIN | CLIENT_FLAGS, client_list)
        .acl(CONN)
        .doc("connection", "2.4.0", "Lists open connections."),
    CommandSpec::new("info", 2, CLIENT_FLAGS, client_info)
        .acl(CONN)
        .doc(
            "connection",
            "6.2.0",
            "Returns information about the connection.",
        ),
    CommandSpec::new("kill", -3, ADMIN | CLIENT_FLAGS, client_kill)
        .acl(CONN)
        .doc("connection", "2.4.0", "Terminates open connections."),
    CommandSpec::new("setinfo", 4, CLIENT_FLAGS, client_setinfo)
        .acl(CONN)
        .doc(
            "connection",
            "7.2.0",
            "Sets information specific to the client or connection.",
        ),
    CommandSpec::new("no-evict", 3, ADMIN | CLIENT_FLAGS, client_no_evict)
        .acl(CONN)
        .doc(
            "connection",
            "7.0.0",
            "Sets the client eviction mode of the connection.",
        ),
    CommandSpec::new("no-touch", 3, CLIENT_FLAGS, client_no_touch)
        .acl(CONN)
        .doc(
            "connection",
            "7.2.0",
            "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        ),
    CommandSpec::new("reply", 3, CLIENT_FLAGS, client_reply)
        .acl(CONN)
        .doc(
            "connection",
            "3.2.0",
            "Instructs the server whether to reply to commands.",
        ),
    CommandSpec::new("pause", -3, ADMIN | CLIENT_FLAGS, client_pause)
        .acl(CONN)
        .doc("connection", "3.0.0", "Suspends commands processing."),
    CommandSpec::new("unpause", 2, ADMIN | CLIENT_FLAGS, client_unpause)
        .acl(CONN)
        .doc(
            "connection",
            "6.2.0",
            "Resumes processing commands from paused clients.",
        ),
    CommandSpec::new("unblock", -3, ADMIN | CLIENT_FLAGS, client_unblock)
        .acl(CONN)
        .doc(
            "connection",
            "5.0.0",
            "Unblocks a client blocked by a blocking command from a different connection.",
        ),
    CommandSpec::new("tracking", -3, CLIENT_FLAGS, client_tracking)
        .acl(CONN)
        .doc(
            "connection",
            "6.0.0",
            "Controls server-assisted client-side caching for the connection.",
        ),
    CommandSpec::new("caching", 3, CLIENT_FLAGS, client_caching)
        .acl(CONN)
        .doc(
            "connection",
            "6.0.0",
            "Instructs the server whether to track the keys in the next request.",
        ),
    CommandSpec::new("getredir", 2, CLIENT_FLAGS, client_getredir)
        .acl(CONN)
        .doc(
            "connection",
            "6.0.0",
            "Returns the client ID to which the connection's tracking notifications are redirected.",
        ),
    CommandSpec::new("trackinginfo", 2, CLIENT_FLAGS, client_trackinginfo)
        .acl(CONN)
        .doc(
            "connection",
            "6.2.0",
            "Returns information about server-assisted client-side caching for the connection.",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, client_help)
        .acl(CONN)
        .doc(
            "connection",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
        ),
];

fn ping(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if ctx.client.resp == 2 && ctx.client.pubsub.active() {
        // A subscribed RESP2 connection gets PING's answer in the shape of
        // a message, so that it can tell it apart from one.
        if args.len() > 2 {
            return Err(ctx.arity_error());
        }
        return Ok(Frame::Array(vec![
            Frame::bulk(b"pong"),
            Frame::bulk(args.get(1).copied().unwrap_or_default()),
        ]));
    }
    match args.len() {
        1 => Ok(Frame::simple("PONG")),
        2 => Ok(Frame::bulk(args[1])),
        _ => Err(ctx.arity_error()),
    }
}

fn echo(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    Ok(Frame::bulk(args[1]))
}

fn quit(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    ctx.client.close_after_reply = true;
    Ok(Frame::ok())
}

fn default_authenticated(ctx: &Ctx<'_>) -> bool {
    !ctx.server.tunables.auth_required.load(Ordering::Relaxed)
}

fn reset(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let authenticated = default_authenticated(ctx);
    ctx.client.end_multi();
    ctx.client.unwatch_all(ctx.server);
    super::pubsub::unsubscribe_all(ctx.server, ctx.client);
    super::pubsub::stop_monitor(ctx.server, ctx.client);
    disable_tracking(ctx.server, &ctx.client.handle);
    let c = &mut *ctx.client;
    c.db = 0;
    c.handle.db.store(0, Ordering::Relaxed);
    c.resp = 2;
    c.handle.resp.store(2, Ordering::Relaxed);
    c.reply_mode = ReplyMode::On;
    {
        let mut names = c.handle.names.lock();
        names.name.clear();
        names.user = "default".into();
    }
    c.acl.switch("default");
    c.handle.no_evict.store(false, Ordering::Relaxed);
    c.handle.no_touch.store(false, Ordering::Relaxed);
    c.authenticated = authenticated;
    Ok(Frame::simple("RESET"))
}

fn select(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let db = parse_db(ctx, args[1])?;
    ctx.client.db = db;
    ctx.client.handle.db.store(db, Ordering::Relaxed);
    Ok(Frame::ok())
}

fn swapdb(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let a = parse_int(args[1]).map_err(|_| CmdError::msg("ERR invalid first DB index"))?;
    let b = parse_int(args[2]).map_err(|_| CmdError::msg("ERR invalid second DB index"))?;
    let n = ctx.server.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CmdError::DbIndex);
    }
    if a != b {
        // Kept versions of a snapshot being written belong to a shard's
        // database; let it finish before data changes database.
        crate::snapshot::wait_idle(ctx.server);
        // The gate is held exclusively (EXCLUSIVE), so no other command
        // runs; lock in order anyway to keep the invariant simple.
        let (da, db) = (&ctx.server.dbs[a as usize], &ctx.server.dbs[b as usize]);
        for i in 0..SHARDS {
            let mut ga = da.lock(i);
            let mut gb = db.lock(i);
            ga.swap_data(&mut gb, &ctx.server.hasher, ctx.now_ms);
        }
        super::dirty(ctx, 1);
    }
    Ok(Frame::ok())
}

/// Authenticates the client as `user` when `pass` is right for it.
fn log_in(ctx: &mut Ctx<'_>, user: &[u8], pass: &[u8]) -> bool {
    let name = String::from_utf8_lossy(user);
    if !ctx
        .server
        .acl
        .get(&name)
        .is_some_and(|u| u.password_ok(pass))
    {
        return false;
    }
    ctx.client.acl.switch(&name);
    ctx.client.handle.names.lock().user = name.into_owned();
    ctx.client.authenticated = true;
    true
}

const WRONGPASS: CmdError =
    CmdError::msg("WRONGPASS invalid username-password pair or user is disabled.");

fn auth(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let (user, pass): (&[u8], &[u8]) = if args.len() == 2 {
        if default_authenticated(ctx) {
            return Err(CmdError::msg("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
        }
        (b"default", args[1])
    } else {
        (args[1], args[2])
    };
    if log_in(ctx, user, pass) {
        Ok(Frame::ok())
    } else {
        Err(WRONGPASS)
    }
}

/// Whether a client name or library field is acceptable: printable ASCII
/// without spaces.
fn valid_name(b: &[u8]) -> bool {
    b.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn hello(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut ver = None;
    let mut i = 1;
    if args.len() >= 2 {
        let v = parse_int(args[1])
            .map_err(|_| CmdError::msg("ERR Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::msg("NOPROTO unsupported protocol version"));
        }
        ver = Some(v as u8);
        i = 2;
    }
    let mut creds = None;
    let mut name = None;
    while i < args.len() {
        let left = args.len() - i - 1;
        if is(args[i], "auth") && left >= 2 {
            creds = Some((args[i + 1], args[i + 2]));
            i += 3;
        } else if is(args[i], "setname") && left >= 1 {
            name = Some(args[i + 1]);
            i += 2;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(args[i])
            )));
        }
    }
    if let Some((u, p)) = creds {
        if !log_in(ctx, u, p) {
            return Err(WRONGPASS);
        }
    }
    if !ctx.client.authenticated && !default_authenticated(ctx) {
        return Err(CmdError::msg("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = name {
        if !valid_name(n) {
            return Err(CmdError::msg(
                "ERR Client names cannot contain spaces, newlines or special characters.",
            ));
        }
        ctx.client.handle.names.lock().name = String::from_utf8_lossy(n).into_owned();
    }
    if let Some(v) = ver {
        ctx.client.resp = v;
        ctx.client
            .handle
            .resp
            .store(u32::from(v), Ordering::Relaxed);
    }
    Ok(Frame::Map(vec![
        (Frame::bulk("server"), Frame::bulk("redis")),
        (Frame::bulk("version"), Frame::bulk(REDIS_VERSION)),
        (
            Frame::bulk("proto"),
            Frame::Integer(i64::from(ctx.client.resp)),
        ),
        (Frame::bulk("id"), Frame::Integer(ctx.client.id() as i64)),
        (Frame::bulk("mode"), Frame::bulk("standalone")),
        (Frame::bulk("role"), Frame::bulk("master")),
        (Frame::bulk("modules"), Frame::Array(Vec::new())),
    ]))
}

fn client_id(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Integer(ctx.client.id() as i64))
}

fn client_setname(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if !valid_name(args[2]) {
        return Err(CmdError::msg(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    ctx.client.handle.names.lock().name = String::from_utf8_lossy(args[2]).into_owned();
    Ok(Frame::ok())
}

fn client_getname(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let n = ctx.client.handle.names.lock().name.clone();
    Ok(if n.is_empty() {
        Frame::Null
    } else {
        Frame::Bulk(n.into_bytes())
    })
}

/// One CLIENT LIST line (without the trailing newline).
pub fn client_line(h: &ClientHandle, now_ms: u64) -> String {
    let names = h.names.lock().clone();
    let age = now_ms.saturating_sub(h.created_ms) / 1000;
    let idle = now_ms.saturating_sub(h.last_ms.load(Ordering::Relaxed)) / 1000;
    let multi = h.multi.load(Ordering::Relaxed);
    let multi = if multi == u64::MAX { -1 } else { multi as i64 };
    let qbuf = h.qbuf.load(Ordering::Relaxed);
    let omem = h.omem.load(Ordering::Relaxed) + h.outbox.len();
    let tot_mem = h.tot_mem();
    // Flag letters in Redis's order; N when none applies.
    let mut flags = String::new();
    if multi >= 0 {
        flags.push('x');
    }
    let subs: Vec<usize> = h
        .sub_counts
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .collect();
    if subs.iter().sum::<usize>() > 0 {
        flags.insert(0, 'P');
    }
    if h.monitor.load(Ordering::Relaxed) {
        flags.insert(0, 'O');
    } else if h.replica.load(Ordering::Relaxed) {
        flags.insert(0, 'S');
    }
    if h.blocked.load(Ordering::Relaxed) {
        flags.push('b');
    }
    {
        let t = h.tracking.lock();
        if t.on {
            flags.push('t');
        }
        if t.broken_redirect {
            flags.push('R');
        }
        if t.bcast {
            flags.push('B');
        }
    }
    if h.no_evict.load(Ordering::Relaxed) {
        flags.push('e');
    }
    if h.no_touch.load(Ordering::Relaxed) {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem={} rbs={} rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
        h.id,
        h.addr,
        h.laddr,
        h.fd,
        names.name,
        age,
        idle,
        flags,
        h.db.load(Ordering::Relaxed),
        subs[0],
        subs[1],
        subs[2],
        multi,
        qbuf,
        16384usize.saturating_sub(qbuf),
        h.multi_mem.load(Ordering::Relaxed),
        16384,
        omem,
        tot_mem,
        match h.last_cmd.load(Ordering::Relaxed) {
            0 => "NULL",
            id => table().entries[id - 1].full_name.as_str(),
        },
        names.user,
        h.resp.load(Ordering::Relaxed),
        names.lib_name,
        names.lib_ver,
    )
}

fn client_list(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < args.len() {
        if is(args[i], "type") && i + 1 < args.len() {
            let t = args[i + 1];
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|n| is(t, n))
            {
                return Err(CmdError::owned(format!(
                    "ERR Unknown client type '{}'",
                    String::from_utf8_lossy(t)
                )));
            }
            // Every Ferrokey client is a normal client for now.
            if !is(t, "normal") {
                ids = Some(Vec::new());
            }
            i += 2;
        } else if is(args[i], "id") && i + 1 < args.len() {
            let mut v = ids.take().unwrap_or_default();
            for a in &args[i + 1..] {
                match parse_int(a) {
                    Ok(n) if n > 0 => v.push(n as u64),
                    _ => return Err(CmdError::msg("ERR Invalid client ID")),
                }
            }
            ids = Some(v);
            i = args.len();
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut out = String::new();
    for h in ctx.server.clients.all() {
        if ids.as_ref().is_some_and(|v| !v.contains(&h.id)) {
            continue;
        }
        out.push_str(&client_line(&h, ctx.now_ms));
        out.push('\n');
    }
    Ok(Frame::Verbatim(out.into_bytes()))
}

fn client_info(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let mut s = client_line(&ctx.client.handle, ctx.now_ms);
    s.push('\n');
    Ok(Frame::Verbatim(s.into_bytes()))
}

fn client_kill(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let me = ctx.client.id();
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port.
        let addr = String::from_utf8_lossy(args[2]);
        let Some(h) = ctx
            .server
            .clients
            .all()
            .into_iter()
            .find(|h| h.addr == addr)
        else {
            return Err(CmdError::msg("ERR No such client"));
        };
        if h.id == me {
            ctx.client.close_after_reply = true;
        } else {
            h.kill();
        }
        return Ok(Frame::ok());
    }
    let mut id = None;
    let mut addr = None;
    let mut laddr = None;
    let mut user = None;
    let mut typ = None;
    let mut skipme = true;
    let mut maxage = None;
    let mut i = 2;
    while i < args.len() {
        let Some(&v) = args.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        let o = args[i];
        if is(o, "id") {
            match parse_int(v) {
                Ok(n) if n > 0 => id = Some(n as u64),
                _ => return Err(CmdError::msg("ERR client-id should be greater than 0")),
            }
        } else if is(o, "type") {
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|n| is(v, n))
            {
                return Err(CmdError::owned(format!(
                    "ERR Unknown client type '{}'",
                    String::from_utf8_lossy(v)
                )));
            }
            typ = Some(v.to_ascii_lowercase());
        } else if is(o, "addr") {
            addr = Some(String::from_utf8_lossy(v).into_owned());
        } else if is(o, "laddr") {
            laddr = Some(String::from_utf8_lossy(v).into_owned());
        } else if is(o, "user") {
            if ctx.server.acl.get(&String::from_utf8_lossy(v)).is_none() {
                return Err(CmdError::owned(format!(
                    "ERR No such user '{}'",
                    String::from_utf8_lossy(v)
                )));
            }
            user = Some(v.to_vec());
        } else if is(o, "skipme") {
            if is(v, "yes") {
                skipme = true;
            } else if is(v, "no") {
                skipme = false;
            } else {
                return Err(CmdError::Syntax);
            }
        } else if is(o, "maxage") {
            maxage = Some(parse_int(v).map_err(|_| CmdError::Syntax)?);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let mut killed = 0;
    for h in ctx.server.clients.all() {
        if id.is_some_and(|x| x != h.id)
            || addr.as_ref().is_some_and(|a| *a != h.addr)
            || laddr.as_ref().is_some_and(|a| *a != h.laddr)
            || user
                .as_ref()
                .is_some_and(|u| u.as_slice() != h.names.lock().user.as_bytes())
            || typ.as_ref().is_some_and(|t| t.as_slice() != b"normal")
            || maxage.is_some_and(|m| (ctx.now_ms.saturating_sub(h.created_ms) / 1000) as i64 <= m)
        {
            continue;
        }
        if h.id == me {
            if skipme {
                continue;
            }
            ctx.client.close_after_reply = true;
        } else {
            h.kill();
        }
        killed += 1;
    }
    Ok(Frame::Integer(killed))
}

fn client_setinfo(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (attr, val) = (args[2], args[3]);
    let which = if is(attr, "lib-name") {
        "lib-name"
    } else if is(attr, "lib-ver") {
        "lib-ver"
    } else {
        return Err(CmdError::owned(format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        )));
    };
    if !valid_name(val) {
        return Err(CmdError::owned(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr)
        )));
    }
    let v = String::from_utf8_lossy(val).into_owned();
    let mut n = ctx.client.handle.names.lock();
    if which == "lib-name" {
        n.lib_name = v;
    } else {
        n.lib_ver = v;
    }
    Ok(Frame::ok())
}

fn on_off(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "on") {
        Ok(true)
    } else if is(arg, "off") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

fn client_no_evict(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let v = on_off(args[2])?;
    ctx.client.handle.no_evict.store(v, Ordering::Relaxed);
    Ok(Frame::ok())
}

fn client_no_touch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let v = on_off(args[2])?;
    ctx.client.handle.no_touch.store(v, Ordering::Relaxed);
    Ok(Frame::ok())
}

fn client_reply(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let a = args[2];
    if is(a, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        Ok(Frame::ok())
    } else if is(a, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
        Ok(Frame::ok())
    } else if is(a, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
        Ok(Frame::ok())
    } else {
        Err(CmdError::Syntax)
    }
}

fn client_pause(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let ms = parse_int(args[2])
        .map_err(|_| CmdError::msg("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    let writes_only = match args.get(3) {
        None => false,
        Some(a) if is(a, "write") => true,
        Some(a) if is(a, "all") => false,
        Some(_) => return Err(CmdError::Syntax),
    };
    if args.len() > 4 {
        return Err(CmdError::Syntax);
    }
    let until = ctx.now_ms.saturating_add(ms as u64);
    let mut p = ctx.server.pause.lock();
    // A new pause never shortens a running one, and ALL wins over WRITE.
    *p = Some(match *p {
        Some((u, w)) if u > ctx.now_ms => (u.max(until), w && writes_only),
        _ => (until, writes_only),
    });
    Ok(Frame::ok())
}

fn client_unpause(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    *ctx.server.pause.lock() = None;
    for h in ctx.server.clients.all() {
        h.wake();
    }
    Ok(Frame::ok())
}

fn client_unblock(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let id = parse_int(args[2])?;
    let reason = match args.get(3) {
        None => UNBLOCK_TIMEOUT,
        Some(a) if is(a, "timeout") => UNBLOCK_TIMEOUT,
        Some(a) if is(a, "error") => UNBLOCK_ERROR,
        Some(_) => {
            return Err(CmdError::msg(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let Some(target) = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.server.clients.get(id))
    else {
        return Ok(Frame::Integer(0));
    };
    if !target.blocked.load(Ordering::Acquire)
        || target
            .unblock
            .compare_exchange(0, reason, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
    {
        return Ok(Frame::Integer(0));
    }
    target.wake();
    Ok(Frame::Integer(1))
}

fn client_tracking(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut redirect: Option<u64> = None;
    let (mut bcast, mut optin, mut optout, mut noloop) = (false, false, false, false);
    let mut prefixes: Vec<Box<[u8]>> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(args[j], "redirect") && more {
            j += 1;
            if redirect.is_some() {
                return Err(CmdError::msg(
                    "ERR A client can only redirect to a single other client",
                ));
            }
            let id = parse_int(args[j])?;
            if u64::try_from(id)
                .ok()
                .and_then(|id| ctx.server.clients.get(id))
                .is_none()
            {
                return Err(CmdError::msg(
                    "ERR The client ID you want redirect to does not exist",
                ));
            }
            redirect = Some(id as u64);
        } else if is(args[j], "bcast") {
            bcast = true;
        } else if is(args[j], "optin") {
            optin = true;
        } else if is(args[j], "optout") {
            optout = true;
        } else if is(args[j], "noloop") {
            noloop = true;
        } else if is(args[j], "prefix") && more {
            j += 1;
            prefixes.push(args[j].into());
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let handle = ctx.client.handle.clone();
    if is(args[2], "off") {
        disable_tracking(ctx.server, &handle);
        return Ok(Frame::ok());
    }
    if !is(args[2], "on") {
        return Err(CmdError::Syntax);
    }
    let mut mode = handle.tracking.lock().clone();
    if !bcast && !prefixes.is_empty() {
        return Err(CmdError::msg(
            "ERR PREFIX option requires BCAST mode to be enabled",
        ));
    }
    if mode.on && mode.bcast != bcast {
        return Err(CmdError::msg("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    if bcast && (optin || optout) {
        return Err(CmdError::msg(
            "ERR OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if optin && optout {
        return Err(CmdError::msg(
            "ERR You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if (optin && mode.optout) || (optout && mode.optin) {
        return Err(CmdError::msg("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    if bcast {
        let overlaps = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(old) = mode.prefixes.iter().find(|o| overlaps(p, o)) {
                return Err(CmdError::owned(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(old)
                )));
            }
            if let Some(other) = prefixes[i + 1..].iter().find(|o| overlaps(p, o)) {
                return Err(CmdError::owned(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(other)
                )));
            }
        }
    }
    if !mode.on {
        ctx.server.tracking.clients.fetch_add(1, Ordering::Relaxed);
    }
    mode.on = true;
    mode.broken_redirect = false;
    mode.redirect = redirect.unwrap_or(0);
    mode.bcast = bcast;
    mode.optin = optin;
    mode.optout = optout;
    mode.noloop = noloop;
    if bcast {
        if prefixes.is_empty() {
            prefixes.push(Box::from(&b""[..]));
        }
        ctx.server.tracking.add_prefixes(handle.id, &prefixes);
        for p in prefixes {
            if !mode.prefixes.contains(&p) {
                mode.prefixes.push(p);
            }
        }
        mode.prefixes.sort();
    }
    *handle.tracking.lock() = mode;
    Ok(Frame::ok())
}

/// Turns CLIENT TRACKING off (CLIENT TRACKING OFF, RESET, disconnect).
pub fn disable_tracking(server: &crate::Server, handle: &ClientHandle) {
    let mut mode = handle.tracking.lock();
    if !mode.on {
        return;
    }
    if mode.bcast {
        server.tracking.remove_prefixes(handle.id);
    }
    *mode = Default::default();
    server.tracking.clients.fetch_sub(1, Ordering::Relaxed);
}

fn client_caching(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mode = ctx.client.handle.tracking.lock().clone();
    if !mode.on {
        return Err(CmdError::msg("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    }
    if is(args[2], "yes") {
        if !mode.optin {
            return Err(CmdError::msg(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(args[2], "no") {
        if !mode.optout {
            return Err(CmdError::msg(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CmdError::Syntax);
    }
    ctx.client.caching = true;
    Ok(Frame::ok())
}

fn client_getredir(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let mode = ctx.client.handle.tracking.lock();
    Ok(Frame::Integer(if mode.on {
        mode.redirect as i64
    } else {
        -1
    }))
}

fn client_trackinginfo(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let mode = ctx.client.handle.tracking.lock().clone();
    let mut flags = vec![Frame::bulk(if mode.on { &b"on"[..] } else { b"off" })];
    if mode.bcast {
        flags.push(Frame::bulk(b"bcast"));
    }
    if mode.optin {
        flags.push(Frame::bulk(b"optin"));
        if ctx.client.caching {
            flags.push(Frame::bulk(b"caching-yes"));
        }
    }
    if mode.optout {
        flags.push(Frame::bulk(b"optout"));
        if ctx.client.caching {
            flags.push(Frame::bulk(b"caching-no"));
        }
    }
    if mode.noloop {
        flags.push(Frame::bulk(b"noloop"));
    }
    if mode.broken_redirect {
        flags.push(Frame::bulk(b"broken_redirect"));
    }
    Ok(Frame::Map(vec![
        (Frame::bulk(b"flags"), Frame::Set(flags)),
        (
            Frame::bulk(b"redirect"),
            Frame::Integer(if mode.on { mode.redirect as i64 } else { -1 }),
        ),
        (
            Frame::bulk(b"prefixes"),
            Frame::Array(mode.prefixes.iter().map(Frame::bulk).collect()),
        ),
    ]))
}

fn client_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "    * MAXAGE <maxage>",
            "      Kill connections older than the specified age.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    )
}

/// How long a command must wait because of CLIENT PAUSE: the Unix ms the
/// pause ends, if this command is paused at `now_ms`.
pub fn paused_until(server: &crate::Server, args: &[&[u8]], now_ms: u64) -> Option<u64> {
    let (until, writes_only) = (*server.pause.lock())?;
    if until <= now_ms {
        return None;
    }
    let t = table();
    let id = crate::command::resolve(args).ok()?;
    let spec = t.entries[id].spec;
    if writes_only && !spec.has(WRITE | MAY_REPLICATE) {
        return None;
    }
    // Connection housekeeping is never paused.
    if ["client|unpause", "ping", "quit", "reset", "hello", "auth"]
        .contains(&t.entries[id].full_name.as_str())
    {
        return None;
    }
    Some(until)
}

/// Registers a new client handle.
pub fn new_handle(
    server: &crate::Server,
    addr: String,
    laddr: String,
    fd: i64,
    now_ms: u64,
) -> Arc<ClientHandle> {
    let h = Arc::new(ClientHandle {
        id: server.clients.next_id(),
        addr,
        laddr,
        fd,
        created_ms: now_ms,
        last_ms: now_ms.into(),
        db: 0.into(),
        resp: 2.into(),
        last_cmd: 0.into(),
        names: Default::default(),
        killed: false.into(),
        no_evict: false.into(),
        no_touch: false.into(),
        qbuf: 0.into(),
        omem: 0.into(),
        multi: u64::MAX.into(),
        multi_mem: 0.into(),
        waker: parking_lot::Mutex::new(None),
        blocked: false.into(),
        unblock: 0.into(),
        monitor: false.into(),
        replica: false.into(),
        repl_ack: 0.into(),
        repl_ack_ms: 0.into(),
        repl_port: 0.into(),
        tracking: Default::default(),
        late: Default::default(),
        outbox: Default::default(),
        sub_counts: Default::default(),
    });
    server.clients.add(h.clone());
    h
}
