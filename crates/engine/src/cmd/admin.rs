//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, TIME, LASTSAVE, FLUSHDB,
//! FLUSHALL, SHUTDOWN, MEMORY and DEBUG.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use ferrokey_resp::Frame;

use super::connection::{FERROKEY_VERSION, REDIS_VERSION};
use super::keys::container;
use super::{dirty, help_reply, is, parse_float, parse_int};
use crate::client::Shutdown;
use crate::command::{flags::*, table, CommandSpec, Ctx, KeySpec, Table};
use crate::config::glob_match;
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, SHARDS};
use crate::value::Value;

/// The server family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("info", -1, LOADING | STALE, info)
        .acl(&["@dangerous"])
        .doc(
            "server",
            "1.0.0",
            "Returns information and statistics about the server.",
        ),
    CommandSpec::new("config", -2, 0, container)
        .doc(
            "server",
            "2.0.0",
            "A container for server configuration commands.",
        )
        .subs(CONFIG_SUBS),
    CommandSpec::new("command", -1, LOADING | STALE, command)
        .acl(CONN_ACL)
        .doc(
            "server",
            "2.8.13",
            "Returns detailed information about all commands.",
        )
        .subs(COMMAND_SUBS),
    CommandSpec::new("dbsize", 1, READONLY | FAST, dbsize)
        .acl(&["@keyspace"])
        .doc(
            "server",
            "1.0.0",
            "Returns the number of keys in the database.",
        ),
    CommandSpec::new("time", 1, LOADING | STALE | FAST, time).doc(
        "server",
        "2.6.0",
        "Returns the server time.",
    ),
    CommandSpec::new("save", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI | EXCLUSIVE, save).doc(
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk.",
    ),
    CommandSpec::new("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | EXCLUSIVE, bgsave).doc(
        "server",
        "1.0.0",
        "Asynchronously saves the database(s) to disk.",
    ),
    CommandSpec::new(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | EXCLUSIVE,
        bgrewriteaof,
    )
    .doc(
        "server",
        "1.0.0",
        "Asynchronously rewrites the append-only file to disk.",
    ),
    CommandSpec::new("slowlog", -2, 0, container)
        .doc(
            "server",
            "2.2.12",
            "A container for slow log commands.",
        )
        .subs(SLOWLOG_SUBS),
    CommandSpec::new("wait", 3, 0, wait)
        .acl(&["@connection"])
        .doc(
            "generic",
            "3.0.0",
            "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.",
        )
        .tips(&["request_policy:all_shards", "response_policy:agg_min"]),
    CommandSpec::new("lastsave", 1, LOADING | STALE | FAST, lastsave)
        .acl(&["@admin", "@dangerous"])
        .doc(
            "server",
            "1.0.0",
            "Returns the Unix timestamp of the last successful save to disk.",
        ),
    CommandSpec::new("flushdb", -1, WRITE | EXCLUSIVE, flushdb)
        .acl(&["@keyspace", "@dangerous"])
        .doc(
            "server",
            "1.0.0",
            "Removes all keys from the current database.",
        ),
    CommandSpec::new("flushall", -1, WRITE | EXCLUSIVE, flushall)
        .acl(&["@keyspace", "@dangerous"])
        .doc("server", "1.0.0", "Removes all keys from all databases."),
    CommandSpec::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        shutdown,
    )
    .doc(
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
    ),
    CommandSpec::new("memory", -2, 0, container)
        .doc(
            "server",
            "4.0.0",
            "A container for memory diagnostics commands.",
        )
        .subs(MEMORY_SUBS),
    CommandSpec::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED | EXCLUSIVE,
        debug,
    )
    .doc("server", "1.0.0", "A container for debugging commands."),
];

const CONN_ACL: &[&str] = &["@connection"];

static CONFIG_SUBS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, ADMIN | NOSCRIPT | LOADING | STALE, config_get).doc(
        "server",
        "2.0.0",
        "Returns the effective values of configuration parameters.",
    ),
    CommandSpec::new("set", -4, ADMIN | NOSCRIPT | LOADING | STALE, config_set).doc(
        "server",
        "2.0.0",
        "Sets configuration parameters in-flight.",
    ),
    CommandSpec::new(
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_resetstat,
    )
    .doc("server", "2.0.0", "Resets the server's statistics."),
    CommandSpec::new(
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_rewrite,
    )
    .doc(
        "server",
        "2.8.0",
        "Persists the effective configuration to file.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, config_help).doc(
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
    ),
];

static COMMAND_SUBS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, LOADING | STALE, command_count)
        .acl(CONN_ACL)
        .doc("server", "2.8.13", "Returns a count of commands."),
    CommandSpec::new("list", -2, LOADING | STALE, command_list)
        .acl(CONN_ACL)
        .doc("server", "7.0.0", "Returns a list of command names."),
    CommandSpec::new("info", -2, LOADING | STALE, command_info)
        .acl(CONN_ACL)
        .doc(
            "server",
            "2.8.13",
            "Returns information about one, multiple or all commands.",
        ),
    CommandSpec::new("docs", -2, LOADING | STALE, command_docs)
        .acl(CONN_ACL)
        .doc(
            "server",
            "7.0.0",
            "Returns documentary information about one, multiple or all commands.",
        ),
    CommandSpec::new("getkeys", -3, LOADING | STALE, command_getkeys)
        .acl(CONN_ACL)
        .doc(
            "server",
            "2.8.13",
            "Extracts the key names from an arbitrary command.",
        ),
    CommandSpec::new(
        "getkeysandflags",
        -3,
        LOADING | STALE,
        command_getkeysandflags,
    )
    .acl(CONN_ACL)
    .doc(
        "server",
        "7.0.0",
        "Extracts the key names and access flags for an arbitrary command.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, command_help)
        .acl(CONN_ACL)
        .doc(
            "server",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
        ),
];

static SLOWLOG_SUBS: &[CommandSpec] = &[
    CommandSpec::new("get", -2, ADMIN | LOADING | STALE, slowlog_get)
        .doc("server", "2.2.12", "Returns the slow log's entries.")
        .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    CommandSpec::new("help", 2, LOADING | STALE, slowlog_help).doc(
        "server",
        "6.2.0",
        "Show helpful text about the different subcommands",
    ),
    CommandSpec::new("len", 2, ADMIN | LOADING | STALE, slowlog_len)
        .doc(
            "server",
            "2.2.12",
            "Returns the number of entries in the slow log.",
        )
        .tips(&[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ]),
    CommandSpec::new("reset", 2, ADMIN | LOADING | STALE, slowlog_reset)
        .doc("server", "2.2.12", "Clears all entries from the slow log.")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

fn slowlog_get(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::owned(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
            crate::error::sanitize(args[1], 128)
        )));
    }
    let log = ctx.server.slowlog.lock();
    let mut count = 10usize;
    if let Some(a) = args.get(2) {
        match ferrokey_resp::parse_i64(a) {
            Some(-1) => count = log.entries.len(),
            Some(n) if n >= 0 => count = n as usize,
            _ => {
                return Err(CmdError::msg(
                    "ERR count should be greater than or equal to -1",
                ))
            }
        }
    }
    Ok(Frame::Array(
        log.entries
            .iter()
            .take(count)
            .map(|e| {
                Frame::Array(vec![
                    Frame::Integer(e.id as i64),
                    Frame::Integer(e.time_s as i64),
                    Frame::Integer(e.duration_us as i64),
                    Frame::Array(e.args.iter().map(Frame::bulk).collect()),
                    Frame::bulk(&e.peer),
                    Frame::bulk(&e.name),
                ])
            })
            .collect(),
    ))
}

fn slowlog_len(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Integer(
        ctx.server.slowlog.lock().entries.len() as i64
    ))
}

fn slowlog_reset(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    ctx.server.slowlog.lock().entries.clear();
    Ok(Frame::ok())
}

fn slowlog_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )
}

static MEMORY_SUBS: &[CommandSpec] = &[
    CommandSpec::new("usage", -3, READONLY, memory_usage)
        .keys(2, 2, 1)
        .specs(&[KeySpec::new(&["RO"], 2, 0, 1)])
        .specs(&[
            KeySpec::new(&["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"], 1, 0, 1)
                .notes("RW and ACCESS due to the optional `GET` argument"),
        ])
        .doc("server", "4.0.0", "Estimates the memory usage of a key."),
    CommandSpec::new("stats", 2, 0, memory_stats).doc(
        "server",
        "4.0.0",
        "Returns details about memory usage.",
    ),
    CommandSpec::new("doctor", 2, 0, memory_doctor).doc(
        "server",
        "4.0.0",
        "Outputs a memory problems report.",
    ),
    CommandSpec::new("malloc-stats", 2, 0, memory_malloc_stats).doc(
        "server",
        "4.0.0",
        "Returns the allocator statistics.",
    ),
    CommandSpec::new("purge", 2, 0, memory_purge).doc(
        "server",
        "4.0.0",
        "Asks the allocator to release memory.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, memory_help).doc(
        "server",
        "4.0.0",
        "Returns helpful text about the different subcommands.",
    ),
];

/// Formats bytes as Redis's `bytesToHuman` does.
pub fn human_bytes(n: u64) -> String {
    let f = n as f64;
    const K: f64 = 1024.0;
    if n < 1024 {
        format!("{n}B")
    } else if f < K * K {
        format!("{:.2}K", f / K)
    } else if f < K * K * K {
        format!("{:.2}M", f / (K * K))
    } else if f < K * K * K * K {
        format!("{:.2}G", f / (K * K * K))
    } else if f < K * K * K * K * K {
        format!("{:.2}T", f / (K * K * K * K))
    } else {
        format!("{:.2}P", f / (K * K * K * K * K))
    }
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

fn info(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut wanted: Vec<String> = Vec::new();
    for a in &args[1..] {
        let s = String::from_utf8_lossy(a).to_ascii_lowercase();
        match s.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            "all" => {
                wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
                wanted.push("commandstats".into());
                wanted.push("latencystats".into());
            }
            "everything" => {
                wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
                wanted.push("commandstats".into());
                wanted.push("latencystats".into());
            }
            _ => wanted.push(s),
        }
    }
    if args.len() == 1 {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    let text = info_text(ctx, &wanted);
    Ok(Frame::Verbatim(text.into_bytes()))
}

/// The INFO text for the given section names (lower-case).
pub fn info_text(ctx: &Ctx<'_>, wanted: &[String]) -> String {
    let order = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "modules",
        "commandstats",
        "errorstats",
        "latencystats",
        "cluster",
        "keyspace",
    ];
    let mut out = String::new();
    for sec in order {
        if !wanted.iter().any(|w| w == sec) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        info_section(ctx, sec, &mut out);
    }
    out
}

fn info_section(ctx: &Ctx<'_>, sec: &str, o: &mut String) {
    let srv = ctx.server;
    let st = &srv.stats;
    let host = srv.host.stats();
    let cfg = srv.config.read().clone();
    let up_s = ctx.now_ms.saturating_sub(srv.start_ms) / 1000;
    macro_rules! kv {
        ($k:expr, $v:expr) => {
            let _ = write!(o, "{}:{}\r\n", $k, $v);
        };
    }
    match sec {
        "server" => {
            o.push_str("# Server\r\n");
            kv!("redis_version", REDIS_VERSION);
            kv!("redis_git_sha1", "00000000");
            kv!("redis_git_dirty", 0);
            kv!("redis_build_id", "0");
            kv!("redis_mode", "standalone");
            kv!("os", host.os);
            kv!("arch_bits", 64);
            kv!("monotonic_clock", "POSIX clock_gettime");
            kv!("multiplexing_api", "epoll");
            kv!("atomicvar_api", "c11-builtin");
            kv!("gcc_version", "0.0.0");
            kv!("process_id", host.pid);
            kv!("process_supervised", "no");
            kv!("run_id", srv.run_id);
            kv!("tcp_port", srv.port.load(Ordering::Relaxed));
            kv!("server_time_usec", ctx.now_us);
            kv!("uptime_in_seconds", up_s);
            kv!("uptime_in_days", up_s / 86400);
            kv!("hz", cfg.hz());
            kv!("configured_hz", cfg.hz());
            kv!("lru_clock", ctx.new_stamp() & ((1 << 24) - 1));
            kv!("executable", host.executable);
            kv!("config_file", srv.config_file.clone().unwrap_or_default());
            kv!("io_threads_active", 0);
            kv!(
                "listener0",
                format!(
                    "name=tcp,bind={},port={}",
                    cfg.bind().join(","),
                    srv.port.load(Ordering::Relaxed)
                )
            );
            kv!("ferrokey_version", FERROKEY_VERSION);
            kv!("ferrokey_threads", srv.threads.load(Ordering::Relaxed));
        }
        "clients" => {
            o.push_str("# Clients\r\n");
            kv!("connected_clients", srv.clients.len());
            kv!("cluster_connections", 0);
            kv!("maxclients", cfg.maxclients());
            kv!("client_recent_max_input_buffer", 0);
            kv!("client_recent_max_output_buffer", 0);
            kv!(
                "blocked_clients",
                srv.blocking.clients.load(Ordering::Relaxed)
            );
            kv!(
                "tracking_clients",
                srv.tracking.clients.load(Ordering::Relaxed)
            );
            kv!("pubsub_clients", srv.pubsub.clients.load(Ordering::Relaxed));
            kv!("watching_clients", 0);
            kv!("clients_in_timeout_table", 0);
            kv!("total_watched_keys", 0);
            kv!(
                "total_blocking_keys",
                srv.blocking.keys.load(Ordering::Relaxed)
            );
            kv!(
                "total_blocking_keys_on_nokey",
                srv.blocking.keys_on_nokey.load(Ordering::Relaxed)
            );
        }
        "memory" => {
            o.push_str("# Memory\r\n");
            let used = srv.used_memory();
            let peak = srv.peak_memory.fetch_max(used, Ordering::Relaxed).max(used);
            let maxmem = cfg.maxmemory();
            let clients_mem: u64 = srv.clients.all().iter().map(|h| h.tot_mem() as u64).sum();
            let overhead = clients_mem;
            let dataset = used.saturating_sub(overhead);
            kv!("used_memory", used);
            kv!("used_memory_human", human_bytes(used));
            kv!("used_memory_rss", host.rss);
            kv!("used_memory_rss_human", human_bytes(host.rss));
            kv!("used_memory_peak", peak);
            kv!("used_memory_peak_human", human_bytes(peak));
            kv!(
                "used_memory_peak_perc",
                format!(
                    "{:.2}%",
                    if peak == 0 {
                        100.0
                    } else {
                        used as f64 * 100.0 / peak as f64
                    }
                )
            );
            kv!("used_memory_overhead", overhead);
            kv!("used_memory_startup", 0);
            kv!("used_memory_dataset", dataset);
            kv!(
                "used_memory_dataset_perc",
                format!(
                    "{:.2}%",
                    if used == 0 {
                        0.0
                    } else {
                        dataset as f64 * 100.0 / used as f64
                    }
                )
            );
            kv!("allocator_allocated", host.allocated);
            kv!("allocator_active", host.active);
            kv!("allocator_resident", host.resident);
            kv!("total_system_memory", host.total_system_memory);
            kv!(
                "total_system_memory_human",
                human_bytes(host.total_system_memory)
            );
            let st = &srv.scripting.stats;
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            let (vm_eval, vm_fn) = (load(&st.eval_vm_bytes), load(&st.functions_vm_bytes));
            let (scripts, functions) = (load(&st.scripts_bytes), load(&st.functions_bytes));
            kv!("used_memory_lua", vm_eval);
            kv!("used_memory_vm_eval", vm_eval);
            kv!("used_memory_lua_human", human_bytes(vm_eval));
            kv!("used_memory_scripts_eval", scripts);
            kv!("number_of_cached_scripts", load(&st.cached_scripts));
            kv!("number_of_functions", load(&st.functions));
            kv!("number_of_libraries", load(&st.libraries));
            kv!("used_memory_vm_functions", vm_fn);
            kv!("used_memory_vm_total", vm_eval + vm_fn);
            kv!("used_memory_vm_total_human", human_bytes(vm_eval + vm_fn));
            kv!("used_memory_functions", functions);
            kv!("used_memory_scripts", scripts + functions);
            kv!(
                "used_memory_scripts_human",
                human_bytes(scripts + functions)
            );
            kv!("maxmemory", maxmem);
            kv!("maxmemory_human", human_bytes(maxmem));
            kv!("maxmemory_policy", cfg.maxmemory_policy());
            let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            kv!(
                "allocator_frag_ratio",
                format!("{:.2}", ratio(host.active, host.allocated))
            );
            kv!(
                "allocator_frag_bytes",
                host.active.saturating_sub(host.allocated)
            );
            kv!(
                "allocator_rss_ratio",
                format!("{:.2}", ratio(host.resident, host.active))
            );
            kv!(
                "allocator_rss_bytes",
                host.resident.saturating_sub(host.active)
            );
            kv!(
                "rss_overhead_ratio",
                format!("{:.2}", ratio(host.rss, host.resident))
            );
            kv!("rss_overhead_bytes", host.rss as i64 - host.resident as i64);
            kv!(
                "mem_fragmentation_ratio",
                format!("{:.2}", ratio(host.rss, used))
            );
            kv!("mem_fragmentation_bytes", host.rss as i64 - used as i64);
            kv!("mem_not_counted_for_evict", crate::evict::not_counted(srv));
            kv!("mem_replication_backlog", 0);
            kv!("mem_total_replication_buffers", 0);
            kv!("mem_clients_slaves", 0);
            kv!("mem_clients_normal", clients_mem);
            kv!("mem_cluster_links", 0);
            kv!("mem_aof_buffer", 0);
            kv!("mem_allocator", host.allocator);
            kv!("active_defrag_running", 0);
            kv!("lazyfree_pending_objects", srv.lazyfree.pending());
            kv!("lazyfreed_objects", srv.lazyfree.freed());
        }
        "persistence" => {
            o.push_str("# Persistence\r\n");
            kv!("loading", i32::from(srv.loading.load(Ordering::Relaxed)));
            kv!("async_loading", 0);
            kv!("current_cow_peak", 0);
            kv!("current_cow_size", 0);
            kv!("current_cow_size_age", 0);
            kv!("current_fork_perc", "0.00");
            kv!("current_save_keys_processed", 0);
            kv!("current_save_keys_total", 0);
            kv!(
                "rdb_changes_since_last_save",
                st.dirty.load(Ordering::Relaxed)
            );
            let snap = &srv.snapshots;
            let bg = snap.bgsave.load(Ordering::Relaxed);
            kv!("rdb_bgsave_in_progress", i32::from(bg));
            kv!(
                "rdb_last_save_time",
                st.lastsave_ms.load(Ordering::Relaxed) / 1000
            );
            kv!(
                "rdb_last_bgsave_status",
                if snap.last_failed.load(Ordering::Relaxed) {
                    "err"
                } else {
                    "ok"
                }
            );
            kv!(
                "rdb_last_bgsave_time_sec",
                match snap.last_secs.load(Ordering::Relaxed) {
                    u64::MAX => -1,
                    s => s as i64,
                }
            );
            kv!(
                "rdb_current_bgsave_time_sec",
                if bg {
                    (ctx.now_ms
                        .saturating_sub(snap.started_ms.load(Ordering::Relaxed))
                        / 1000) as i64
                } else {
                    -1
                }
            );
            kv!("rdb_saves", st.rdb_saves.load(Ordering::Relaxed));
            kv!("rdb_last_cow_size", 0);
            kv!("rdb_last_load_keys_expired", 0);
            kv!(
                "rdb_last_load_keys_loaded",
                st.rdb_loaded_keys.load(Ordering::Relaxed)
            );
            let aof = &srv.aof;
            let aof_on = aof.enabled.load(Ordering::Relaxed);
            kv!("aof_enabled", i32::from(aof_on));
            kv!(
                "aof_rewrite_in_progress",
                i32::from(aof.rewriting.load(Ordering::Relaxed))
            );
            kv!("aof_rewrite_scheduled", 0);
            kv!(
                "aof_last_rewrite_time_sec",
                if aof.rewrites.load(Ordering::Relaxed) == 0 {
                    -1
                } else {
                    aof.last_rewrite_secs.load(Ordering::Relaxed) as i64
                }
            );
            kv!("aof_current_rewrite_time_sec", -1);
            kv!(
                "aof_last_bgrewrite_status",
                if aof.last_rewrite_failed.load(Ordering::Relaxed) {
                    "err"
                } else {
                    "ok"
                }
            );
            kv!("aof_rewrites", aof.rewrites.load(Ordering::Relaxed));
            kv!("aof_rewrites_consecutive_failures", 0);
            kv!(
                "aof_last_write_status",
                if aof.write_error.lock().is_some() {
                    "err"
                } else {
                    "ok"
                }
            );
            kv!("aof_last_cow_size", 0);
            kv!("module_fork_in_progress", 0);
            kv!("module_fork_last_cow_size", 0);
            if aof_on {
                kv!("aof_current_size", aof.current_size.load(Ordering::Relaxed));
                kv!("aof_base_size", aof.base_size.load(Ordering::Relaxed));
                kv!("aof_pending_rewrite", 0);
                kv!("aof_buffer_length", 0);
                kv!("aof_pending_bio_fsync", 0);
                kv!("aof_delayed_fsync", 0);
            }
        }
        "stats" => {
            o.push_str("# Stats\r\n");
            let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            kv!(
                "total_connections_received",
                g(&st.total_connections_received)
            );
            kv!("total_commands_processed", g(&st.total_commands_processed));
            kv!("instantaneous_ops_per_sec", st.ops_samples.lock().per_sec());
            kv!("total_net_input_bytes", g(&st.net_input_bytes));
            kv!("total_net_output_bytes", g(&st.net_output_bytes));
            kv!("total_net_repl_input_bytes", 0);
            kv!("total_net_repl_output_bytes", 0);
            kv!("instantaneous_input_kbps", "0.00");
            kv!("instantaneous_output_kbps", "0.00");
            kv!("instantaneous_input_repl_kbps", "0.00");
            kv!("instantaneous_output_repl_kbps", "0.00");
            kv!("rejected_connections", g(&st.rejected_connections));
            kv!("sync_full", 0);
            kv!("sync_partial_ok", 0);
            kv!("sync_partial_err", 0);
            kv!("expired_keys", g(&st.expired_keys));
            kv!("expired_stale_perc", "0.00");
            kv!("expired_time_cap_reached_count", 0);
            kv!("expire_cycle_cpu_milliseconds", 0);
            kv!("evicted_keys", g(&st.evicted_keys));
            kv!("evicted_clients", g(&st.evicted_clients));
            let (over_total_ms, over_now_ms) = srv.evictor.exceeded_ms();
            kv!("total_eviction_exceeded_time", over_total_ms);
            kv!("current_eviction_exceeded_time", over_now_ms);
            kv!("keyspace_hits", g(&st.keyspace_hits));
            kv!("keyspace_misses", g(&st.keyspace_misses));
            kv!("pubsub_channels", 0);
            kv!("pubsub_patterns", 0);
            kv!("pubsubshard_channels", 0);
            kv!("latest_fork_usec", 0);
            kv!("total_forks", 0);
            kv!("migrate_cached_sockets", 0);
            kv!("slave_expires_tracked_keys", 0);
            kv!("active_defrag_hits", 0);
            kv!("active_defrag_misses", 0);
            kv!("active_defrag_key_hits", 0);
            kv!("active_defrag_key_misses", 0);
            kv!("total_active_defrag_time", 0);
            kv!("current_active_defrag_time", 0);
            kv!(
                "tracking_total_keys",
                srv.tracking.keys.load(Ordering::Relaxed)
            );
            kv!(
                "tracking_total_items",
                srv.tracking.items.load(Ordering::Relaxed)
            );
            kv!("tracking_total_prefixes", srv.tracking.prefix_count());
            kv!("unexpected_error_replies", 0);
            kv!("total_error_replies", g(&st.total_error_replies));
            kv!("dump_payload_sanitizations", 0);
            kv!("total_reads_processed", g(&st.total_reads));
            kv!("total_writes_processed", g(&st.total_writes));
            kv!("io_threaded_reads_processed", 0);
            kv!("io_threaded_writes_processed", 0);
            kv!("reply_buffer_shrinks", 0);
            kv!("reply_buffer_expands", 0);
            kv!("acl_access_denied_auth", 0);
            kv!("acl_access_denied_cmd", 0);
            kv!("acl_access_denied_key", 0);
            kv!("acl_access_denied_channel", 0);
        }
        "replication" => {
            o.push_str("# Replication\r\n");
            let up = &srv.upstream;
            if let Some((host, port)) = up.target() {
                let link_up = up.link_up();
                let offset = up.offset.load(Ordering::Relaxed);
                kv!("role", "slave");
                kv!("master_host", host);
                kv!("master_port", port);
                kv!("master_link_status", if link_up { "up" } else { "down" });
                let last = up.last_io_ms.load(Ordering::Relaxed);
                let ago = if link_up {
                    (ctx.now_ms.saturating_sub(last) / 1000) as i64
                } else {
                    -1
                };
                kv!("master_last_io_seconds_ago", ago);
                kv!(
                    "master_sync_in_progress",
                    u8::from(up.state() == crate::replica::LinkState::Sync)
                );
                kv!("slave_read_repl_offset", offset);
                kv!("slave_repl_offset", offset);
                kv!("slave_priority", 100);
                kv!("slave_read_only", u8::from(cfg.replica_read_only()));
                kv!("replica_announced", 1);
            } else {
                kv!("role", "master");
            }
            let replicas = srv.repl.replicas();
            kv!("connected_slaves", replicas.len());
            for (i, r) in replicas.iter().enumerate() {
                let ip = r
                    .addr
                    .rsplit_once(':')
                    .map_or(r.addr.as_str(), |(ip, _)| ip);
                let ack_ms = r.repl_ack_ms.load(Ordering::Relaxed);
                let lag = if ack_ms == 0 {
                    0
                } else {
                    ctx.now_ms.saturating_sub(ack_ms) / 1000
                };
                kv!(
                    format!("slave{i}"),
                    format!(
                        "ip={ip},port={},state=online,offset={},lag={lag}",
                        r.repl_port.load(Ordering::Relaxed),
                        r.repl_ack.load(Ordering::Relaxed)
                    )
                );
            }
            kv!("master_failover_state", "no-failover");
            kv!("master_replid", srv.run_id);
            kv!("master_replid2", "0000000000000000000000000000000000000000");
            kv!("master_repl_offset", srv.repl.offset());
            kv!("second_repl_offset", -1);
            kv!("repl_backlog_active", 0);
            kv!("repl_backlog_size", 1048576);
            kv!("repl_backlog_first_byte_offset", 0);
            kv!("repl_backlog_histlen", 0);
        }
        "cpu" => {
            o.push_str("# CPU\r\n");
            kv!("used_cpu_sys", format!("{:.6}", host.cpu_sys));
            kv!("used_cpu_user", format!("{:.6}", host.cpu_user));
            kv!("used_cpu_sys_children", "0.000000");
            kv!("used_cpu_user_children", "0.000000");
            kv!("used_cpu_sys_main_thread", format!("{:.6}", host.cpu_sys));
            kv!("used_cpu_user_main_thread", format!("{:.6}", host.cpu_user));
        }
        "modules" => o.push_str("# Modules\r\n"),
        "commandstats" => {
            o.push_str("# Commandstats\r\n");
            let t = table();
            for (i, e) in t.entries.iter().enumerate() {
                let c = &srv.counters[i];
                let calls = c.calls.load(Ordering::Relaxed);
                let rejected = c.rejected.load(Ordering::Relaxed);
                let failed = c.failed.load(Ordering::Relaxed);
                if calls == 0 && rejected == 0 && failed == 0 {
                    continue;
                }
                let usec = c.usec.load(Ordering::Relaxed);
                let per = if calls == 0 {
                    0.0
                } else {
                    usec as f64 / calls as f64
                };
                let _ = write!(
                    o,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                    e.full_name, calls, usec, per, rejected, failed
                );
            }
        }
        "errorstats" => {
            o.push_str("# Errorstats\r\n");
            let errs = st.errors.lock();
            let mut v: Vec<_> = errs.iter().collect();
            v.sort();
            for (code, n) in v {
                let _ = write!(o, "errorstat_{code}:count={n}\r\n");
            }
        }
        "latencystats" => o.push_str("# Latencystats\r\n"),
        "cluster" => {
            o.push_str("# Cluster\r\n");
            kv!("cluster_enabled", 0);
        }
        "keyspace" => {
            o.push_str("# Keyspace\r\n");
            for (i, db) in srv.dbs.iter().enumerate() {
                let (mut keys, mut sum, mut vol) = (0usize, 0u128, 0usize);
                for s in 0..SHARDS {
                    let g = db.lock(s);
                    keys += g.len();
                    let (ts, n) = g.ttl_sum(ctx.now_ms);
                    sum += ts;
                    vol += n;
                }
                if keys == 0 {
                    continue;
                }
                let avg = if vol == 0 {
                    0
                } else {
                    (sum / vol as u128) as u64
                };
                let _ = write!(o, "db{i}:keys={keys},expires={vol},avg_ttl={avg}\r\n");
            }
        }
        _ => {}
    }
}

fn config_get(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let pairs = ctx.server.config.read().get(&args[2..]);
    Ok(Frame::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Frame::Bulk(k.into_bytes()), Frame::Bulk(v.into_bytes())))
            .collect(),
    ))
}

fn config_set(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..].chunks(2).map(|c| (c[0], c[1])).collect();
    let local = is_local(&ctx.client.handle.addr);
    let mut cfg = ctx.server.config.write();
    let aof_was = cfg.appendonly();
    cfg.set_from(&pairs, local)?;
    ctx.server.tunables.refresh(&cfg);
    ctx.server.sync_requirepass(&cfg);
    ctx.server.host.config_changed(&cfg);
    let aof_now = cfg.appendonly();
    let maxmemory = cfg.maxmemory();
    drop(cfg);
    if maxmemory != 0 && pairs.iter().any(|(k, _)| is(k, "maxmemory")) {
        lowered_maxmemory(ctx, maxmemory);
    }
    // A lower client limit (or maxmemory, for a percentage) applies at once.
    crate::evict::evict_clients(ctx.server, ctx.now_ms);
    crate::aof::fsync_policy_changed(ctx.server);
    if aof_now && !aof_was {
        // Like Redis: the base is written by a rewrite that starts now.
        ctx.server.aof.rewriting.store(true, Ordering::Release);
        crate::aof::background(ctx.server, ctx.now_ms, false);
    } else if aof_was && !aof_now {
        crate::aof::disable(ctx.server);
    }
    Ok(Frame::ok())
}

/// A new `maxmemory` below what is in use evicts at once, until memory is
/// under it or nothing more can go.
fn lowered_maxmemory(ctx: &Ctx<'_>, maxmemory: u64) {
    let used = ctx
        .server
        .used_memory()
        .saturating_sub(crate::evict::not_counted(ctx.server));
    if used <= maxmemory {
        return;
    }
    ctx.server.host.log(
        "warning",
        &format!("WARNING: the new maxmemory value set via CONFIG SET ({maxmemory}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."),
    );
    while crate::evict::perform_locked(ctx.server, ctx.now_ms) == crate::evict::Outcome::Running {}
}

fn config_resetstat(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let st = &ctx.server.stats;
    for a in [
        &st.total_connections_received,
        &st.total_commands_processed,
        &st.rejected_connections,
        &st.expired_keys,
        &st.evicted_keys,
        &st.evicted_clients,
        &st.keyspace_hits,
        &st.keyspace_misses,
        &st.net_input_bytes,
        &st.net_output_bytes,
        &st.total_reads,
        &st.total_writes,
        &st.total_error_replies,
        &st.rejected_calls,
    ] {
        a.store(0, Ordering::Relaxed);
    }
    st.errors.lock().clear();
    ctx.server.lazyfree.reset_stats();
    for c in ctx.server.counters.iter() {
        c.calls.store(0, Ordering::Relaxed);
        c.usec.store(0, Ordering::Relaxed);
        c.rejected.store(0, Ordering::Relaxed);
        c.failed.store(0, Ordering::Relaxed);
    }
    ctx.server.peak_memory.store(0, Ordering::Relaxed);
    Ok(Frame::ok())
}

fn config_rewrite(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let Some(path) = ctx.server.config_file.clone() else {
        return Err(CmdError::msg(
            "ERR The server is running without a config file",
        ));
    };
    let original = ctx.server.host.read_file(&path).ok();
    let text = ctx.server.config.read().rewrite(original.as_deref());
    ctx.server
        .host
        .write_file(&path, &text)
        .map_err(|e| CmdError::owned(format!("ERR Rewriting config file: {e}")))?;
    Ok(Frame::ok())
}

fn config_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    )
}

/// WAIT numreplicas timeout. Ferrokey has no replicas yet (issue 10), so
/// no write is ever acknowledged: the answer is 0, at once when no
/// replica is asked for or the client may not block (MULTI, scripts),
/// else when the timeout passes (0: never) or CLIENT UNBLOCK ends it, as
/// Redis behaves with no replica connected.
fn wait(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let numreplicas = parse_int(args[1])?;
    let timeout_ms = match ferrokey_resp::parse_i64(args[2]) {
        None => {
            return Err(CmdError::msg(
                "ERR timeout is not an integer or out of range",
            ))
        }
        Some(t) if t < 0 => return Err(CmdError::msg("ERR timeout is negative")),
        Some(t) => t as u64,
    };
    // Everything this client wrote is in the stream by now (a reply
    // leaves only after its unit is emitted).
    let offset = ctx.server.repl.offset();
    let have = ctx.server.repl.acked(offset);
    if numreplicas <= 0 || ctx.client.deny_blocking || have >= numreplicas as usize {
        return Ok(Frame::Integer(have as i64));
    }
    let deadline = if timeout_ms == 0 {
        0
    } else {
        ctx.now_ms + timeout_ms
    };
    if !ctx.server.repl.replicas().is_empty() {
        ctx.server.repl.getack(ctx.server, ctx.now_ms);
    }
    let op = crate::blocking::Op::Wait {
        numreplicas: numreplicas as usize,
        offset,
    };
    crate::blocking::block_or_run(ctx, &[crate::blocking::WAIT_KEY], op, deadline)
}

fn dbsize(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Integer(ctx.db().len() as i64))
}

fn time(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Array(vec![
        Frame::Bulk((ctx.now_us / 1_000_000).to_string().into_bytes()),
        Frame::Bulk((ctx.now_us % 1_000_000).to_string().into_bytes()),
    ]))
}

fn save(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    if crate::snapshot::running(ctx.server) {
        return Err(CmdError::msg("ERR Background save already in progress"));
    }
    crate::rdb::save(ctx.server, ctx.now_ms)
        .map(|()| Frame::ok())
        .map_err(|_| CmdError::msg("ERR"))
}

fn bgsave(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if is(args[1], "schedule") => true,
        _ => return Err(CmdError::Syntax),
    };
    let busy =
        crate::snapshot::running(ctx.server) || ctx.server.aof.rewriting.load(Ordering::Acquire);
    if busy && schedule {
        ctx.server
            .snapshots
            .scheduled
            .store(true, Ordering::Release);
        return Ok(Frame::simple("Background saving scheduled"));
    }
    if ctx.server.aof.rewriting.load(Ordering::Acquire) {
        return Err(CmdError::msg("ERR An AOF log rewriting in progress: can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."));
    }
    crate::snapshot::bgsave(ctx.server, ctx.now_ms).map_err(CmdError::owned)?;
    Ok(Frame::simple("Background saving started"))
}

fn bgrewriteaof(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let Some(server) = ctx.server.arc() else {
        return Err(CmdError::msg("ERR Background AOF rewrite is not available"));
    };
    crate::aof::start_rewrite(&server, ctx.now_ms)
        .map_err(|e| CmdError::owned(format!("ERR {e}")))?;
    Ok(Frame::simple(
        "Background append only file rewriting started",
    ))
}

fn lastsave(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Integer(
        (ctx.server.stats.lastsave_ms.load(Ordering::Relaxed) / 1000) as i64,
    ))
}

/// FLUSHDB/FLUSHALL's mode: ASYNC frees in the background, SYNC in place,
/// and with neither `lazyfree-lazy-user-flush` decides.
fn flush_lazy(ctx: &Ctx<'_>, args: &[&[u8]]) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.server.config.read().lazyfree_lazy_user_flush()),
        2 if is(args[1], "async") => Ok(true),
        2 if is(args[1], "sync") => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

fn flushdb(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let lazy = flush_lazy(ctx, args)?.then_some(&ctx.server.lazyfree);
    let n = ctx.db().clear(&ctx.server.hasher, ctx.now_ms, lazy);
    ctx.server.tracking.flush_all(&ctx.server.clients);
    dirty(ctx, n as u64);
    // Propagated even when the database was already empty, as in Redis.
    crate::propagate::force(false);
    Ok(Frame::ok())
}

fn flushall(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let lazy = flush_lazy(ctx, args)?.then_some(&ctx.server.lazyfree);
    crate::snapshot::cancel_bgsave(ctx.server);
    let n: usize = ctx
        .server
        .dbs
        .iter()
        .map(|db| db.clear(&ctx.server.hasher, ctx.now_ms, lazy))
        .sum();
    ctx.server.tracking.flush_all(&ctx.server.clients);
    dirty(ctx, n as u64 + 1);
    crate::propagate::force(false);
    Ok(Frame::ok())
}

fn shutdown(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut save = None;
    let mut abort = false;
    for a in &args[1..] {
        if is(a, "nosave") && save.is_none() {
            save = Some(false);
        } else if is(a, "save") && save.is_none() {
            save = Some(true);
        } else if is(a, "now") || is(a, "force") {
        } else if is(a, "abort") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if abort {
        if args.len() > 2 {
            return Err(CmdError::Syntax);
        }
        return Err(CmdError::msg("ERR No shutdown in progress."));
    }
    if save != Some(false) {
        // Past the busy threshold only SHUTDOWN NOSAVE may stop the server.
        let threshold = ctx.server.config.read().busy_reply_threshold_ms();
        if let Some(e) = ctx.server.scripting.run.busy_error(threshold) {
            return Err(e);
        }
    }
    ctx.client.shutdown = Some(Shutdown { save });
    ctx.client.close_after_reply = true;
    Ok(Frame::ok())
}

/// Bytes a key holds: its slot (value, metadata and key bytes), its share
/// of the shard's table (`table_share`), its value's own allocations, and
/// its hash in the shard's list of keys with a TTL when it has one (8
/// bytes in a vector that grows by doubling, so about 12 on average).
pub fn key_mem_bytes(key_len: usize, value: &Value, has_ttl: bool, table_share: usize) -> usize {
    let slot = crate::value::alloc_size(crate::slot::footprint(key_len, has_ttl));
    let ttl = if has_ttl { 12 } else { 0 };
    slot + table_share + value.heap_bytes() + ttl
}

fn memory_usage(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        if args.len() != 5 || !is(args[3], "samples") {
            return Err(CmdError::Syntax);
        }
        parse_int(args[4])?;
    }
    let key = args[2];
    let h = ctx.hash(key);
    // No lookup: like Redis's, MEMORY USAGE neither expires the key nor
    // reports a miss, and sizes an expired key not yet removed.
    let shard = ctx.db().lock(shard_of(h));
    Ok(match shard.find(h, key) {
        None => Frame::Null,
        Some(e) => {
            // A key's share of its table, at most what a half-full table
            // costs per key: the empty buckets of a table that shrank from
            // many keys to few are not this key's.
            let share = (shard.table_bytes() / shard.len().max(1))
                .min(2 * (std::mem::size_of::<crate::keyspace::Slot>() + 1));
            Frame::Integer(
                key_mem_bytes(key.len(), e.value(), e.expire_ms().is_some(), share) as i64,
            )
        }
    })
}

fn memory_stats(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let host = ctx.server.host.stats();
    let peak = ctx
        .server
        .peak_memory
        .load(Ordering::Relaxed)
        .max(host.allocated);
    let keys: usize = ctx.server.dbs.iter().map(|d| d.len()).sum();
    let b = |s: &str| Frame::bulk(s);
    let i = |v: u64| Frame::Integer(v as i64);
    let mut m = vec![
        (b("peak.allocated"), i(peak)),
        (b("total.allocated"), i(host.allocated)),
        (b("startup.allocated"), i(0)),
        (b("replication.backlog"), i(0)),
        (b("clients.slaves"), i(0)),
        (
            b("clients.normal"),
            i(ctx.server.clients.len() as u64 * 16384),
        ),
        (b("cluster.links"), i(0)),
        (b("aof.buffer"), i(0)),
        (b("lua.caches"), i(0)),
        (b("functions.caches"), i(0)),
        (b("overhead.total"), i(0)),
        (b("keys.count"), i(keys as u64)),
        (
            b("keys.bytes-per-key"),
            i(if keys == 0 {
                0
            } else {
                host.allocated / keys as u64
            }),
        ),
        (b("dataset.bytes"), i(host.allocated)),
        (b("dataset.percentage"), Frame::Double(100.0)),
        (
            b("peak.percentage"),
            Frame::Double(if peak == 0 {
                100.0
            } else {
                host.allocated as f64 * 100.0 / peak as f64
            }),
        ),
        (b("allocator.allocated"), i(host.allocated)),
        (b("allocator.active"), i(host.active)),
        (b("allocator.resident"), i(host.resident)),
    ];
    for (idx, db) in ctx.server.dbs.iter().enumerate() {
        let n = db.len();
        if n == 0 {
            continue;
        }
        m.push((
            Frame::Bulk(format!("db.{idx}").into_bytes()),
            Frame::Map(vec![
                (b("overhead.hashtable.main"), i(n as u64 * 16)),
                (
                    b("overhead.hashtable.expires"),
                    i(db.volatile_len() as u64 * 8),
                ),
            ]),
        ));
    }
    m.push((
        b("fragmentation"),
        Frame::Double(if host.allocated == 0 {
            0.0
        } else {
            host.rss as f64 / host.allocated as f64
        }),
    ));
    m.push((
        b("fragmentation.bytes"),
        Frame::Integer(host.rss as i64 - host.allocated as i64),
    ));
    Ok(Frame::Map(m))
}

fn memory_doctor(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let used = ctx.server.host.stats().allocated;
    let text = if used < 5 * 1024 * 1024 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    Ok(Frame::Verbatim(text.as_bytes().to_vec()))
}

fn memory_malloc_stats(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let h = ctx.server.host.stats();
    Ok(Frame::Verbatim(
        format!(
            "{}: allocated={} active={} resident={}\n",
            h.allocator, h.allocated, h.active, h.resident
        )
        .into_bytes(),
    ))
}

fn memory_purge(_ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::ok())
}

fn memory_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )
}

/// Whether a peer address is the loopback interface (for the `local`
/// setting of the protected-config options).
fn is_local(addr: &str) -> bool {
    addr.starts_with("127.") || addr.starts_with("[::1]") || addr.starts_with("::1")
}

fn debug_allowed(ctx: &Ctx<'_>) -> bool {
    let mode = ctx.server.config.read().enable_debug_command();
    match mode.as_str() {
        "yes" => true,
        "local" => is_local(&ctx.client.handle.addr),
        _ => false,
    }
}

fn debug(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if !debug_allowed(ctx) {
        return Err(CmdError::msg("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = args[1];
    if is(sub, "sleep") && args.len() == 3 {
        let secs = parse_float(args[2]).ok_or(CmdError::NotFloat)?;
        ctx.client.sleep_ms = (secs.max(0.0) * 1000.0) as u64;
        return Ok(Frame::ok());
    }
    if is(sub, "set-disable-deny-scripts") && args.len() == 3 {
        let v = parse_int(args[2])?;
        ctx.server
            .scripting
            .allow_noscript
            .store(v != 0, Ordering::Relaxed);
        return Ok(Frame::ok());
    }
    if is(sub, "pause-cron") && args.len() == 3 {
        let v = parse_int(args[2])?;
        ctx.server.cron_paused.store(v != 0, Ordering::Relaxed);
        return Ok(Frame::ok());
    }
    if is(sub, "set-active-expire") && args.len() == 3 {
        let v = parse_int(args[2])?;
        ctx.server.active_expire.store(v != 0, Ordering::Relaxed);
        return Ok(Frame::ok());
    }
    if is(sub, "populate") && (3..=5).contains(&args.len()) {
        // DEBUG POPULATE count [prefix] [size]: `prefix:N` holding
        // `value:N`, zero-padded or cut to `size`; existing keys stay.
        let count = super::parse_int(args[2])
            .ok()
            .filter(|&n| n >= 0)
            .ok_or(CmdError::msg("ERR value is out of range, must be positive"))?;
        let prefix = args.get(3).copied().unwrap_or(b"key");
        let size = match args.get(4) {
            Some(a) => Some(
                super::parse_int(a)
                    .ok()
                    .filter(|&n| n >= 0)
                    .ok_or(CmdError::msg("ERR value is out of range, must be positive"))?
                    as usize,
            ),
            None => None,
        };
        let db = ctx.db();
        for j in 0..count {
            let mut key = prefix.to_vec();
            key.extend_from_slice(format!(":{j}").as_bytes());
            let mut val = format!("value:{j}").into_bytes();
            if let Some(n) = size {
                val.resize(n, 0);
            }
            let h = ctx.hash(&key);
            let mut shard = db.lock(crate::keyspace::shard_of(h));
            if shard.peek(h, &key, ctx.now_ms).is_some() {
                continue;
            }
            shard.insert(
                &ctx.server.hasher,
                h,
                &key,
                Value::Str(crate::value::Str::from_vec(val)),
                0,
                ctx.new_stamp(),
            );
        }
        return Ok(Frame::ok());
    }
    if is(sub, "loadaof") {
        // Sync the AOF, empty the keyspace, load the files back.
        if ctx.server.aof.enabled.load(Ordering::Acquire) {
            crate::script::functions::flush_all(ctx.server);
            let now = ctx.now_ms;
            crate::propagate::suspended(|| crate::aof::reload(ctx.server, now))
                .map_err(CmdError::owned)?;
            ctx.server
                .host
                .log("notice", "Append Only File loaded by DEBUG LOADAOF");
        }
        return Ok(Frame::ok());
    }
    if is(sub, "reload") {
        // Serialize everything and load it back, as Redis's save + load
        // (in memory: the image is not written to disk).
        let (mut flush, mut merge) = (true, false);
        for a in &args[2..] {
            if is(a, "merge") {
                merge = true;
            } else if is(a, "noflush") {
                flush = false;
            } else if is(a, "nosave") {
            } else {
                return Err(CmdError::msg(
                    "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                ));
            }
        }
        let image = crate::rdb::snapshot(ctx.server, ctx.now_ms);
        if flush {
            for db in ctx.server.dbs.iter() {
                db.clear(&ctx.server.hasher, ctx.now_ms, None);
            }
            crate::script::functions::flush_all(ctx.server);
        } else if !merge && ctx.server.dbs.iter().any(|db| !db.is_empty()) {
            // Loading over existing keys without MERGE fails in Redis on the
            // first duplicate; every key is a duplicate here.
            return Err(CmdError::msg(
                "ERR Error trying to load the RDB dump, check server logs.",
            ));
        }
        crate::rdb::load_into(ctx.server, &image, ctx.now_ms, merge).map_err(|_| {
            CmdError::msg("ERR Error trying to load the RDB dump, check server logs.")
        })?;
        return Ok(Frame::ok());
    }
    if is(sub, "quicklist-packed-threshold") && args.len() == 3 {
        // Redis stores list elements at or above this size in nodes of
        // their own. Ferrokey's lists keep every element the same way, so
        // the value is only validated and remembered, as Redis does.
        let sz = crate::config::memtoull(args[2])
            .filter(|&sz| sz <= (1u64 << 32) - (1 << 20))
            .ok_or(CmdError::msg(
                "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
            ))?;
        let sz = if sz == 0 { 1 << 30 } else { sz };
        ctx.server
            .tunables
            .packed_threshold
            .store(sz, Ordering::Relaxed);
        return Ok(Frame::ok());
    }
    if is(sub, "object") && args.len() == 3 {
        let key = args[2];
        let h = ctx.hash(key);
        // As Redis: the raw table, so a logically expired key that is
        // still there is shown, and not expired by looking.
        let shard = ctx.db().lock(shard_of(h));
        let Some(e) = shard.find(h, key) else {
            return Err(CmdError::NoSuchKey);
        };
        let ser = match e.value() {
            Value::Str(s) => rdb_string_len(&s.to_vec()),
            other => other.mem_bytes(),
        };
        let idle = crate::evict::idle_ms(e.lru(), ctx.now_ms) / 1000;
        return Ok(Frame::Simple(
            format!(
                "Value at:0x{:x} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e as *const _ as usize,
                e.value().encoding(),
                ser,
                e.lru() & ((1 << 24) - 1),
                idle
            )
            .into(),
        ));
    }
    if is(sub, "digest") && args.len() == 2 {
        return Ok(Frame::Simple(hex(&db_digest(ctx)).into()));
    }
    if is(sub, "digest-value") && args.len() >= 2 {
        let mut out = Vec::new();
        for key in &args[2..] {
            let h = ctx.hash(key);
            let shard = ctx.db().lock(shard_of(h));
            let d = shard
                .peek(h, key, ctx.now_ms)
                .map_or([0u8; 20], |e| value_digest(e.value()));
            out.push(Frame::Simple(hex(&d).into()));
        }
        return Ok(Frame::Array(out));
    }
    if is(sub, "log") && args.len() == 3 {
        ctx.server.host.log(
            "warning",
            &format!("DEBUG LOG: {}", String::from_utf8_lossy(args[2])),
        );
        return Ok(Frame::ok());
    }
    if is(sub, "protocol") && args.len() == 3 {
        return debug_protocol(ctx, args[2]);
    }
    if is(sub, "change-repl-id") && args.len() == 2 {
        return Ok(Frame::ok());
    }
    if is(sub, "stringmatch-len") && args.len() == 2 {
        return Ok(Frame::ok());
    }
    if is(sub, "help") {
        return help_reply(
            args,
            &[
                "LOADAOF",
                "    Flush the AOF buffers on disk and reload the AOF in memory.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "OBJECT <key>",
                "    Show low level info about the <key> and associated value.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                "    it is used instead of the 'key' prefix. These are not propagated to",
                "    replicas. Cluster slots are not respected so keys not belonging to the",
                "    current node can be created in cluster mode.",
                "PAUSE-CRON <0|1>",
                "    Stop periodic cron job processing.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type.",
                "QUICKLIST-PACKED-THRESHOLD <size>",
                "    Set the threshold for list elements stored in nodes of their own",
                "    (accepted and validated; Ferrokey's lists store every element alike).",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
    }
    Err(CmdError::owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
        String::from_utf8_lossy(sub)
    )))
}

fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = sha1_smol::Sha1::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.digest().bytes()
}

fn xor_into(acc: &mut [u8; 20], d: &[u8; 20]) {
    for (a, b) in acc.iter_mut().zip(d) {
        *a ^= b;
    }
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest of a value's contents, independent of its encoding and, for
/// sets and hashes, of element order (DEBUG DIGEST-VALUE). Ferrokey's own
/// function: equal contents give equal digests, as the test suites need.
fn value_digest(v: &Value) -> [u8; 20] {
    match v {
        Value::Str(s) => sha1(&[b"string", &s.to_vec()]),
        Value::List(l) => {
            let mut h = sha1_smol::Sha1::new();
            h.update(b"list");
            for e in l.iter() {
                h.update(&(e.len() as u64).to_le_bytes());
                h.update(e);
            }
            h.digest().bytes()
        }
        Value::Set(s) => {
            let mut acc = sha1(&[b"set"]);
            for m in s.iter() {
                xor_into(&mut acc, &sha1(&[&m]));
            }
            acc
        }
        Value::Hash(hh) => {
            let mut acc = sha1(&[b"hash"]);
            for (f, x) in hh.iter() {
                xor_into(&mut acc, &sha1(&[f, x]));
            }
            acc
        }
        Value::Stream(st) => {
            // Entries in order, then each group's state.
            let mut acc = sha1(&[b"stream"]);
            for e in st.range(
                crate::types::stream::StreamId::MIN,
                crate::types::stream::StreamId::MAX,
                false,
            ) {
                let mut parts: Vec<Vec<u8>> = vec![e.id.to_bytes()];
                for (f, x) in e.fields() {
                    parts.push(f.to_vec());
                    parts.push(x.to_vec());
                }
                let refs: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
                acc = sha1(&[&acc, &sha1(&refs)]);
            }
            for (name, g) in &st.groups {
                let last = g.last_id.to_bytes();
                let pel = g.pel.len().to_string();
                xor_into(&mut acc, &sha1(&[name, &last, pel.as_bytes()]));
            }
            acc
        }
        Value::ZSet(z) => {
            let mut acc = sha1(&[b"zset"]);
            for (score, m) in z.range(0, z.len()) {
                let mut t = Vec::new();
                ferrokey_resp::format_double(score, &mut t);
                xor_into(&mut acc, &sha1(&[m, &t]));
            }
            acc
        }
    }
}

/// DEBUG DIGEST: all zeros for an empty dataset, otherwise the xor over
/// every key of a digest of (database, key, value, expiry).
fn db_digest(ctx: &Ctx<'_>) -> [u8; 20] {
    let mut acc = [0u8; 20];
    for (i, db) in ctx.server.dbs.iter().enumerate() {
        for s in 0..SHARDS {
            let shard = db.lock(s);
            for e in shard.iter() {
                if e.expire_ms().is_some_and(|t| t <= ctx.now_ms) {
                    continue;
                }
                let vd = value_digest(e.value());
                let exp = e.expire_ms().unwrap_or(0).to_le_bytes();
                xor_into(
                    &mut acc,
                    &sha1(&[&(i as u64).to_le_bytes(), e.key(), &vd, &exp]),
                );
            }
        }
    }
    acc
}

/// Bytes a string takes in an RDB file, as DEBUG OBJECT's
/// `serializedlength` reports: short integers use the integer encodings,
/// other strings a length prefix plus the bytes.
///
/// FIXME(issue 10): strings over 20 bytes are LZF-compressed in RDB when that
/// saves space; without the RDB writer this reports them uncompressed.
fn rdb_string_len(b: &[u8]) -> usize {
    if b.len() <= 11 {
        if let Some(v) = ferrokey_resp::parse_i64(b) {
            if (-128..=127).contains(&v) {
                return 2;
            } else if (-32768..=32767).contains(&v) {
                return 3;
            } else if (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&v) {
                return 5;
            }
        }
    }
    let prefix = match b.len() {
        0..=63 => 1,
        64..=16383 => 2,
        n if n <= u32::MAX as usize => 5,
        _ => 9,
    };
    prefix + b.len()
}

fn debug_protocol(ctx: &Ctx<'_>, t: &[u8]) -> CmdResult {
    let name = String::from_utf8_lossy(t).to_ascii_lowercase();
    Ok(match name.as_str() {
        "string" => Frame::bulk("Hello World"),
        "integer" => Frame::Integer(12345),
        // The value Redis sends, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        "double" => Frame::Double(3.141),
        "bignum" => Frame::BigNumber("1234567999999999999999999999999999999".into()),
        "null" => Frame::Null,
        "array" => Frame::Array((0..3).map(Frame::Integer).collect()),
        "set" => Frame::Set((0..3).map(Frame::Integer).collect()),
        "map" => Frame::Map(
            (0..3)
                .map(|i| (Frame::Integer(i), Frame::Boolean(i == 1)))
                .collect(),
        ),
        "true" => Frame::Boolean(true),
        "false" => Frame::Boolean(false),
        "verbatim" => Frame::Verbatim(b"This is a verbatim\nstring".to_vec()),
        "attrib" => Frame::Attribute(
            vec![(
                Frame::bulk("key-popularity"),
                Frame::Array(vec![Frame::bulk("key:123"), Frame::Integer(90)]),
            )],
            Box::new(Frame::bulk("Some real reply following the attribute")),
        ),
        "push" => {
            if ctx.client.resp < 3 {
                return Err(CmdError::msg("ERR RESP2 is not supported by this command"));
            }
            Frame::Many(vec![
                Frame::Push(vec![Frame::bulk("server-cpu-usage"), Frame::Integer(42)]),
                Frame::bulk("Some real reply following the push reply"),
            ])
        }
        _ => {
            return Err(CmdError::msg(
                "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ))
        }
    })
}

fn command_reply(t: &Table, id: usize) -> Frame {
    let e = &t.entries[id];
    let s = e.spec;
    let flag_names: Vec<Frame> = NAMES
        .iter()
        .filter(|(f, _)| s.has(*f))
        .map(|(_, n)| Frame::simple(n))
        .collect();
    let key_specs: Vec<Frame> = s
        .effective_key_specs()
        .iter()
        .map(|k| {
            let mut m = Vec::new();
            if !k.notes.is_empty() {
                m.push((Frame::bulk("notes"), Frame::bulk(k.notes)));
            }
            m.push((Frame::bulk("flags"), key_flags_frame(k.flags)));
            m.push((
                Frame::bulk("begin_search"),
                Frame::Map(vec![
                    (Frame::bulk("type"), Frame::bulk("index")),
                    (
                        Frame::bulk("spec"),
                        Frame::Map(vec![(
                            Frame::bulk("index"),
                            Frame::Integer(i64::from(k.index)),
                        )]),
                    ),
                ]),
            ));
            m.push((
                Frame::bulk("find_keys"),
                Frame::Map(vec![
                    (Frame::bulk("type"), Frame::bulk("range")),
                    (
                        Frame::bulk("spec"),
                        Frame::Map(vec![
                            (Frame::bulk("lastkey"), Frame::Integer(i64::from(k.lastkey))),
                            (Frame::bulk("keystep"), Frame::Integer(i64::from(k.step))),
                            (Frame::bulk("limit"), Frame::Integer(0)),
                        ]),
                    ),
                ]),
            ));
            Frame::Map(m)
        })
        .collect();
    let subs: Vec<Frame> = t
        .children(id)
        .map(|(sid, _)| command_reply(t, sid))
        .collect();
    Frame::Array(vec![
        Frame::Bulk(e.full_name.clone().into_bytes()),
        Frame::Integer(i64::from(s.arity)),
        Frame::Set(flag_names),
        Frame::Integer(i64::from(s.first_key)),
        Frame::Integer(i64::from(s.last_key)),
        Frame::Integer(i64::from(s.step)),
        Frame::Set(s.acl_categories().into_iter().map(Frame::simple).collect()),
        Frame::Set(
            s.tips
                .iter()
                .map(|t| Frame::Bulk(t.to_ascii_lowercase().into_bytes()))
                .collect(),
        ),
        Frame::Set(key_specs),
        Frame::Set(subs),
    ])
}

/// Key-spec flags as Redis prints them: the access kind (RW, RO, OW, RM)
/// upper-case, the rest lower-case.
fn key_flags_frame(flags: &[&'static str]) -> Frame {
    Frame::Set(
        flags
            .iter()
            .map(|f| {
                if matches!(*f, "RW" | "RO" | "OW" | "RM") {
                    Frame::simple(f)
                } else {
                    Frame::Simple(f.to_ascii_lowercase().into())
                }
            })
            .collect(),
    )
}

fn command(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let _ = (ctx, args);
    let t = table();
    Ok(Frame::Array(
        t.top_level().map(|(id, _)| command_reply(t, id)).collect(),
    ))
}

fn command_count(_ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Integer(table().top_level().count() as i64))
}

fn command_list(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let t = table();
    let mut filter: Option<(Vec<u8>, Vec<u8>)> = None;
    if args.len() > 2 {
        if args.len() != 5 || !is(args[2], "filterby") {
            return Err(CmdError::Syntax);
        }
        let kind = args[3].to_ascii_lowercase();
        if !matches!(kind.as_slice(), b"module" | b"aclcat" | b"pattern") {
            return Err(CmdError::Syntax);
        }
        filter = Some((kind, args[4].to_vec()));
    }
    let mut out = Vec::new();
    for e in &t.entries {
        let keep = match &filter {
            None => true,
            Some((k, v)) => match k.as_slice() {
                b"module" => false,
                b"aclcat" => {
                    let cat = format!("@{}", String::from_utf8_lossy(v).to_ascii_lowercase());
                    e.spec.acl_categories().contains(&cat.as_str())
                }
                _ => glob_match(v, e.full_name.as_bytes(), true),
            },
        };
        // Subcommands are listed too (`client|list`), filtered or not.
        if keep {
            out.push(Frame::Bulk(e.full_name.clone().into_bytes()));
        }
    }
    Ok(Frame::Array(out))
}

/// Finds a command or `container|sub` by the names COMMAND INFO/DOCS take.
fn find_named(t: &Table, name: &[u8]) -> Option<usize> {
    match name.iter().position(|&c| c == b'|') {
        None => t.lookup(name),
        Some(p) => t.lookup_sub(t.lookup(&name[..p])?, &name[p + 1..]),
    }
}

fn command_info(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let t = table();
    if args.len() == 2 {
        return Ok(Frame::Array(
            t.top_level().map(|(id, _)| command_reply(t, id)).collect(),
        ));
    }
    Ok(Frame::Array(
        args[2..]
            .iter()
            .map(|n| find_named(t, n).map_or(Frame::Null, |id| command_reply(t, id)))
            .collect(),
    ))
}

fn doc_reply(t: &Table, id: usize) -> Frame {
    let s = t.entries[id].spec;
    let mut m = vec![
        (Frame::bulk("summary"), Frame::bulk(s.summary)),
        (Frame::bulk("since"), Frame::bulk(s.since)),
        (Frame::bulk("group"), Frame::bulk(s.group)),
    ];
    if let Some((complexity, args)) = super::docs::docs_for(&t.entries[id].full_name) {
        m.push((Frame::bulk("complexity"), Frame::bulk(complexity)));
        if !args.is_empty() {
            m.push((Frame::bulk("arguments"), Frame::Array(args)));
        }
    }
    let subs: Vec<(Frame, Frame)> = t
        .children(id)
        .map(|(sid, e)| {
            (
                Frame::Bulk(e.full_name.clone().into_bytes()),
                doc_reply(t, sid),
            )
        })
        .collect();
    if !subs.is_empty() {
        m.push((Frame::bulk("subcommands"), Frame::Map(subs)));
    }
    Frame::Map(m)
}

fn command_docs(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let t = table();
    let ids: Vec<usize> = if args.len() == 2 {
        t.top_level().map(|(id, _)| id).collect()
    } else {
        args[2..].iter().filter_map(|n| find_named(t, n)).collect()
    };
    Ok(Frame::Map(
        ids.into_iter()
            .map(|id| {
                (
                    Frame::Bulk(t.entries[id].full_name.clone().into_bytes()),
                    doc_reply(t, id),
                )
            })
            .collect(),
    ))
}

fn getkeys_generic(args: &[&[u8]], with_flags: bool) -> CmdResult {
    let t = table();
    let inner = &args[2..];
    let Some(top) = t.lookup(inner[0]) else {
        return Err(CmdError::msg("ERR Invalid command specified"));
    };
    let id = if t.entries[top].spec.subcommands.is_empty() {
        top
    } else {
        inner
            .get(1)
            .and_then(|s| t.lookup_sub(top, s))
            .ok_or(CmdError::msg("ERR Invalid command specified"))?
    };
    let spec = t.entries[id].spec;
    if crate::script::key_positions(inner).is_none() {
        if spec.first_key <= 0 && !spec.has(MOVABLEKEYS) {
            return Err(CmdError::msg("ERR The command has no key arguments"));
        }
        if !spec.arity_ok(inner.len()) {
            return Err(CmdError::msg(
                "ERR Invalid number of arguments specified for command",
            ));
        }
    }
    let keys = keys_with_flags(spec, inner)?;
    Ok(Frame::Array(
        keys.into_iter()
            .map(|(p, flags)| {
                let k = Frame::bulk(inner[p]);
                if with_flags {
                    Frame::Array(vec![k, key_flags_frame(flags)])
                } else {
                    k
                }
            })
            .collect(),
    ))
}

/// The keys of a command line (`args[0]` the command's name) with their
/// key-spec flags (`RW`, `ACCESS`, `UPDATE`, ...), as COMMAND
/// GETKEYSANDFLAGS reports them and ACL checks them. Scripts' keys count
/// as read and written.
pub fn keys_with_flags(
    spec: &CommandSpec,
    args: &[&[u8]],
) -> Result<Vec<(usize, &'static [&'static str])>, CmdError> {
    if let Some(pos) = crate::script::key_positions(args) {
        const SCRIPT_KEY: &[&str] = &["RW", "ACCESS", "UPDATE"];
        return Ok(pos.into_iter().map(|p| (p, SCRIPT_KEY)).collect());
    }
    if spec.first_key <= 0 && !spec.has(MOVABLEKEYS) {
        return Ok(Vec::new());
    }
    // Movable keys: SORT's STORE destination depends on the arguments.
    let pos = if spec.name == "sort" {
        super::sort::sort_get_keys(args)
    } else if spec.name == "migrate" {
        super::persist::migrate_get_keys(args)
    } else if spec.name == "xread" || spec.name == "xreadgroup" {
        super::stream::read_get_keys(args)
            .ok_or(CmdError::msg("ERR Invalid arguments specified for command"))?
    } else if let Some(pos) = numkeys_get_keys(spec.name, args) {
        pos.ok_or(CmdError::msg("ERR Invalid arguments specified for command"))?
    } else {
        spec.key_positions(args.len())
    };
    let specs = spec.effective_key_specs();
    Ok(pos
        .into_iter()
        .map(|p| {
            let mut flags = specs
                .iter()
                .find(|ks| ks.covers(p, args.len()))
                .map_or(&[][..], |ks| ks.flags);
            // SORT's STORE destination is found by its own search (Redis's
            // second key spec, of unknown begin search): overwritten.
            if spec.name == "sort" && p != 1 {
                flags = &["OW", "UPDATE"];
            }
            // VARIABLE_FLAGS: SET only reads the old value with GET.
            if flags.contains(&"VARIABLE_FLAGS") && spec.name == "set" {
                flags = if args[3..].iter().any(|a| is(a, "get")) {
                    &["RW", "ACCESS", "UPDATE"]
                } else {
                    &["OW", "UPDATE"]
                };
            }
            (p, flags)
        })
        .collect())
}

/// Key positions of the commands whose keys a count argument introduces
/// (`None`: not one of them; `Some(None)`: a bad count).
fn numkeys_get_keys(name: &str, args: &[&[u8]]) -> Option<Option<Vec<usize>>> {
    // (position of the count, keys before it that always are keys)
    let (at, fixed): (usize, &[usize]) = match name {
        "zunionstore" | "zinterstore" | "zdiffstore" => (2, &[1]),
        "zunion" | "zinter" | "zdiff" | "zintercard" | "sintercard" | "lmpop" | "zmpop" => (1, &[]),
        "blmpop" | "bzmpop" => (2, &[]),
        _ => return None,
    };
    let n = args
        .get(at)
        .and_then(|a| ferrokey_resp::parse_i64(a))
        .filter(|&n| n > 0)
        .map(|n| n as usize);
    Some(n.filter(|&n| at + n < args.len()).map(|n| {
        let mut pos = fixed.to_vec();
        pos.extend(at + 1..=at + n);
        pos
    }))
}

fn command_getkeys(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    getkeys_generic(args, false)
}

fn command_getkeysandflags(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    getkeys_generic(args, true)
}

fn command_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    )
}
