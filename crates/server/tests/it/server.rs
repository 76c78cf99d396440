//! Differential tests for the server commands.

use std::collections::BTreeSet;

use ferrokey_resp::Frame;

use crate::harness::*;

#[test]
fn dbsize_flushdb_flushall() {
    diff(&[
        &["DBSIZE"],
        &["MSET", "a", "1", "b", "2"],
        &["DBSIZE"],
        &["SELECT", "1"],
        &["SET", "c", "3"],
        &["DBSIZE"],
        &["FLUSHDB"],
        &["DBSIZE"],
        &["SET", "c", "3"],
        &["FLUSHDB", "ASYNC"],
        &["DBSIZE"],
        &["SET", "c", "3"],
        &["FLUSHDB", "SYNC"],
        &["DBSIZE"],
        &["flushdb", "async"],
        &["FLUSHDB", "FOO"],
        &["FLUSHDB", "SYNC", "ASYNC"],
        &["FLUSHDB", "ASYNC", "ASYNC"],
        &["SELECT", "0"],
        &["DBSIZE"],
        &["SELECT", "2"],
        &["SET", "d", "4"],
        &["FLUSHALL", "ASYNC"],
        &["DBSIZE"],
        &["SELECT", "0"],
        &["DBSIZE"],
        &["SET", "e", "5"],
        &["FLUSHALL", "SYNC"],
        &["DBSIZE"],
        &["FLUSHALL", "FOO"],
        &["FLUSHALL", "SYNC", "extra"],
        &["FLUSHALL"],
        &["DBSIZE", "x"],
    ]);
}

#[test]
fn config_get_patterns() {
    diff(&[
        &["~pairs", "CONFIG", "GET", "maxmemory*"],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "GET", "MAXMEMORY"],
        &["CONFIG", "GET", "maxmemory-policy"],
        &["CONFIG", "GET", "databases"],
        &["CONFIG", "GET", "save"],
        &["CONFIG", "GET", "appendonly"],
        &["CONFIG", "GET", "timeout"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "GET", "bind"],
        &["CONFIG", "GET", "enable-debug-command"],
        &["CONFIG", "GET", "proto-max-bulk-len"],
        &["CONFIG", "GET", "client-query-buffer-limit"],
        &["CONFIG", "GET", "lazyfree-lazy-user-flush"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "GET", "requirepass"],
        &["CONFIG", "GET", "nosuchparameter"],
        &["CONFIG", "GET", "nosuch*"],
        &["~pairs", "CONFIG", "GET", "hz", "databases", "timeout"],
        &["~pairs", "CONFIG", "GET", "hz", "hz"],
        &["~pairs", "CONFIG", "GET", "maxmemory*", "maxmemory-policy"],
        // (set-max-listpack-* is new in 7.2, so the 7.0 oracle lacks it.)
        &["~pairs", "CONFIG", "GET", "[hz]*-max-*-entries*"],
        &["~pairs", "CONFIG", "GET", "lazyfree*"],
        &["~pairs", "CONFIG", "GET", "slave-*"],
        &["~pairs", "CONFIG", "GET", "replica-*"],
        &["CONFIG", "GET"],
        &["CONFIG"],
        &["CONFIG", "FOO"],
        &["~type", "CONFIG", "HELP"],
    ]);
}

#[test]
fn config_set() {
    diff(&[
        &["CONFIG", "SET", "maxmemory", "100mb"],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "SET", "maxmemory", "1gb"],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "SET", "maxmemory", "12345"],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "SET", "maxmemory", "1k"],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "SET", "maxmemory", "0"],
        &["CONFIG", "SET", "hz", "20", "timeout", "30"],
        &["~pairs", "CONFIG", "GET", "hz", "timeout"],
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        &["CONFIG", "GET", "maxmemory-policy"],
        &["CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LFU"],
        &["CONFIG", "GET", "maxmemory-policy"],
        &["CONFIG", "SET", "MAXMEMORY-POLICY", "noeviction"],
        &["CONFIG", "SET", "hz", "20", "hz", "30"],
        &["CONFIG", "SET", "maxmemory", "abc"],
        &["CONFIG", "SET", "maxmemory", "-1"],
        &["CONFIG", "SET", "maxmemory-policy", "foo"],
        &["CONFIG", "SET", "hz", "abc"],
        &["CONFIG", "SET", "timeout", "-1"],
        &["CONFIG", "SET", "appendonly", "maybe"],
        &["CONFIG", "SET", "daemonize", "yes"],
        &["CONFIG", "SET", "databases", "32"],
        &["CONFIG", "SET", "nosuchparameter", "1"],
        &["CONFIG", "SET", "hz", "25", "nosuchparameter", "1"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "SET", "hz", "25", "maxmemory", "abc"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "SET", "hz"],
        &["CONFIG", "SET", "hz", "10", "timeout"],
        &["CONFIG", "SET"],
        &["CONFIG", "SET", "notify-keyspace-events", "KEA"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "SET", "notify-keyspace-events", "Q"],
        &["CONFIG", "SET", "save", ""],
        &[
            "CONFIG",
            "SET",
            "hz",
            "10",
            "timeout",
            "0",
            "maxmemory",
            "0",
        ],
        &["CONFIG", "RESETSTAT"],
        &["CONFIG", "RESETSTAT", "x"],
        &["CONFIG", "REWRITE"],
    ]);
}

#[test]
fn command_introspection() {
    diff(&[
        &["~type", "COMMAND", "COUNT"],
        &["COMMAND", "COUNT", "x"],
        &["~shape", "COMMAND", "INFO", "get"],
        &["~shape", "COMMAND", "INFO", "GET"],
        &["~shape", "COMMAND", "INFO", "set"],
        &["~shape", "COMMAND", "INFO", "get", "mset"],
        &["~shape", "COMMAND", "INFO", "config|get"],
        &["COMMAND", "INFO", "nosuchcommand"],
        &["~shape", "COMMAND", "INFO", "get", "nosuchcommand"],
        &["~type", "COMMAND", "DOCS", "get"],
        &["COMMAND", "GETKEYS", "SET", "a", "b"],
        &["COMMAND", "GETKEYS", "GET", "a"],
        &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
        &["COMMAND", "GETKEYS", "MGET", "a", "b", "c"],
        &["COMMAND", "GETKEYS", "DEL", "x", "y"],
        &["COMMAND", "GETKEYS", "RENAME", "x", "y"],
        &["COMMAND", "GETKEYS", "COPY", "x", "y", "DB", "1"],
        &["COMMAND", "GETKEYS", "LCS", "x", "y"],
        &["COMMAND", "GETKEYS", "OBJECT", "ENCODING", "x"],
        &["COMMAND", "GETKEYS", "MEMORY", "USAGE", "x"],
        &["COMMAND", "GETKEYS", "SET", "a"],
        &["COMMAND", "GETKEYS", "MSET", "a", "1", "b"],
        &["COMMAND", "GETKEYS", "nosuchcommand", "a"],
        &["COMMAND", "GETKEYS", "PING", "x"],
        &[
            "COMMAND",
            "GETKEYS",
            "ZUNIONSTORE",
            "dst",
            "3",
            "a",
            "b",
            "c",
            "WEIGHTS",
            "1",
            "2",
            "3",
        ],
        &["COMMAND", "GETKEYS", "ZINTER", "2", "a", "b"],
        &["COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"],
        &["COMMAND", "GETKEYS", "BZMPOP", "0", "2", "a", "b", "MIN"],
        &[
            "COMMAND",
            "GETKEYS",
            "SINTERCARD",
            "2",
            "a",
            "b",
            "LIMIT",
            "1",
        ],
        &["~err", "COMMAND", "GETKEYS", "ZUNIONSTORE", "dst", "5", "a"],
        &["~err", "COMMAND", "GETKEYS", "ZUNION", "0", "a"],
        &["COMMAND", "GETKEYS"],
        &["COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b"],
        &["COMMAND", "GETKEYSANDFLAGS", "GET", "a"],
        &["COMMAND", "GETKEYSANDFLAGS", "DEL", "a", "b"],
        &["COMMAND", "GETKEYSANDFLAGS", "COPY", "a", "b"],
        &["COMMAND", "GETKEYSANDFLAGS", "SORT", "abc", "STORE", "def"],
        &["COMMAND", "GETKEYSANDFLAGS", "SORT_RO", "abc"],
        &[
            "COMMAND",
            "GETKEYSANDFLAGS",
            "LMOVE",
            "a",
            "b",
            "LEFT",
            "RIGHT",
        ],
        &["COMMAND", "FOO"],
        &["~type", "COMMAND", "HELP"],
        &["~type", "COMMAND", "LIST"],
    ]);
}

#[test]
fn command_getkeys_arity_redis72() {
    // Redis 7.2 lowered COMMAND GETKEYS's arity from -4 to -3, so these
    // reach the key lookup instead of the 7.0 oracle's arity error: the
    // expectations come from 7.2's source.
    let s = Server::ferrokey();
    let mut c = s.connect();
    expect(
        &mut c,
        &["COMMAND", "GETKEYS", "get"],
        b"-ERR Invalid number of arguments specified for command\r\n",
    );
    expect(
        &mut c,
        &["COMMAND", "GETKEYS", "PING"],
        b"-ERR The command has no key arguments\r\n",
    );
    expect(
        &mut c,
        &["COMMAND", "GETKEYS"],
        b"-ERR wrong number of arguments for 'command|getkeys' command\r\n",
    );
}

#[test]
fn command_count_matches_command_list() {
    let s = Server::ferrokey();
    let mut c = s.connect();
    let Frame::Integer(n) = c.cmd(&["COMMAND", "COUNT"]).frame else {
        panic!("COMMAND COUNT")
    };
    let list = c.cmd(&["COMMAND", "LIST"]);
    let Frame::Array(names) = &list.frame else {
        panic!("COMMAND LIST: {}", list.text())
    };
    // COMMAND LIST names subcommands too (`client|list`), as Redis does;
    // COMMAND COUNT counts only the top-level commands.
    let top = names
        .iter()
        .filter(|f| !matches!(f, Frame::Bulk(b) if b.contains(&b'|')))
        .count();
    assert_eq!(n as usize, top, "COMMAND COUNT vs COMMAND LIST");
    assert!(
        names.contains(&Frame::Bulk(b"client|list".to_vec())),
        "COMMAND LIST lacks client|list"
    );
    let all = c.cmd(&["COMMAND"]);
    let Frame::Array(infos) = &all.frame else {
        panic!("COMMAND: {}", all.text())
    };
    assert_eq!(n as usize, infos.len(), "COMMAND COUNT vs COMMAND");
    let names: BTreeSet<Vec<u8>> = names
        .iter()
        .map(|f| match f {
            Frame::Bulk(b) => b.clone(),
            other => panic!("COMMAND LIST element {other:?}"),
        })
        .collect();
    let wanted = [
        "get",
        "set",
        "setnx",
        "setex",
        "psetex",
        "getset",
        "getdel",
        "getex",
        "mget",
        "mset",
        "msetnx",
        "append",
        "strlen",
        "getrange",
        "substr",
        "setrange",
        "incr",
        "decr",
        "incrby",
        "decrby",
        "incrbyfloat",
        "lcs",
        "del",
        "unlink",
        "exists",
        "type",
        "rename",
        "renamenx",
        "copy",
        "move",
        "keys",
        "scan",
        "touch",
        "object",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "persist",
        "ping",
        "echo",
        "select",
        "swapdb",
        "hello",
        "auth",
        "client",
        "reset",
        "quit",
        "dbsize",
        "flushdb",
        "flushall",
        "config",
        "command",
        "debug",
        "memory",
        "info",
        "time",
        "randomkey",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !names.contains(w.as_bytes()))
        .collect();
    assert!(missing.is_empty(), "COMMAND LIST lacks {missing:?}");
}

#[test]
fn debug_object_and_memory_usage() {
    diff(&[
        &["SET", "k", "hello"],
        &["SET", "n", "12345"],
        &["~type", "DEBUG", "OBJECT", "k"],
        &["DEBUG", "OBJECT", "missing"],
        &["DEBUG", "OBJECT"],
        &["~type", "MEMORY", "USAGE", "k"],
        &["~type", "MEMORY", "USAGE", "n"],
        &["~type", "MEMORY", "USAGE", "k", "SAMPLES", "5"],
        &["~type", "MEMORY", "USAGE", "k", "SAMPLES", "0"],
        &["MEMORY", "USAGE", "missing"],
        &["MEMORY", "USAGE", "k", "SAMPLES"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "x"],
        &["MEMORY", "USAGE", "k", "FOO", "1"],
        &["MEMORY", "USAGE"],
        &["MEMORY", "FOO"],
        &["~type", "MEMORY", "HELP"],
        &["~type", "MEMORY", "DOCTOR"],
        &["~type", "MEMORY", "STATS"],
        &["~type", "TIME"],
        &["~type", "LASTSAVE"],
        &["TIME", "x"],
        &["RANDOMKEY", "x"],
    ]);
}

/// `name:value` fields of a DEBUG OBJECT reply, names only.
fn debug_fields(r: &Reply) -> Vec<String> {
    let Frame::Simple(s) = &r.frame else {
        panic!("DEBUG OBJECT: {}", r.text())
    };
    s.split(' ')
        .filter_map(|kv| kv.split_once(':').map(|(k, _)| k.to_string()))
        .collect()
}

fn debug_field(r: &Reply, name: &str) -> Option<String> {
    let Frame::Simple(s) = &r.frame else {
        return None;
    };
    s.split(' ').find_map(|kv| {
        let (k, v) = kv.split_once(':')?;
        (k == name).then(|| v.to_string())
    })
}

#[test]
fn debug_object_fields() {
    let pair = Pair::new();
    let mut s = pair.session("RESP2");
    let mut sides = vec![&mut s.ferrokey];
    if let Some(r) = s.redis.as_mut() {
        sides.push(r);
    }
    let mut seen = Vec::new();
    for c in sides {
        c.cmd(&["SET", "emb", "hello"]);
        c.cmd(&["SET", "int", "12345"]);
        c.cmd(&["SET", "raw", &"x".repeat(100)]);
        let mut row = Vec::new();
        for k in ["emb", "int", "raw"] {
            let r = c.cmd(&["DEBUG", "OBJECT", k]);
            assert!(
                r.text().starts_with("+Value at:"),
                "DEBUG OBJECT {k}: {}",
                r.text()
            );
            row.push((
                debug_fields(&r),
                debug_field(&r, "encoding"),
                debug_field(&r, "refcount"),
                debug_field(&r, "serializedlength"),
            ));
        }
        seen.push(row);
    }
    let names = [
        "at",
        "refcount",
        "encoding",
        "serializedlength",
        "lru",
        "lru_seconds_idle",
    ];
    assert_eq!(seen[0][0].0, names, "DEBUG OBJECT field names");
    if seen.len() == 2 {
        // FIXME(issue 10): Redis LZF-compresses the 100-byte string in RDB
        // (serializedlength 13); Ferrokey has no LZF yet and reports the
        // uncompressed 102. Compare everything else, and pin today's value.
        assert_eq!(seen[1][2].3.as_deref(), Some("13"));
        assert_eq!(seen[0][2].3.as_deref(), Some("102"));
        seen[0][2].3 = seen[1][2].3.clone();
        assert_eq!(
            seen[0], seen[1],
            "DEBUG OBJECT (field names, encoding, refcount, serializedlength): ferrokey (left) vs redis (right)"
        );
    }
}

/// Parses INFO text into (section headers, field names -> values).
fn parse_info(r: &Reply) -> (Vec<String>, Vec<(String, String)>) {
    let text = match &r.frame {
        Frame::Bulk(b) | Frame::Verbatim(b) => String::from_utf8_lossy(b).into_owned(),
        _ => panic!("INFO: {}", r.text()),
    };
    let mut sections = Vec::new();
    let mut fields = Vec::new();
    for line in text.split("\r\n") {
        if let Some(h) = line.strip_prefix("# ") {
            sections.push(h.to_string());
        } else if let Some((k, v)) = line.split_once(':') {
            fields.push((k.to_string(), v.to_string()));
        }
    }
    (sections, fields)
}

fn info_value(fields: &[(String, String)], name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

#[test]
fn info_sections_and_fields() {
    let pair = Pair::new();
    let mut f = pair.ferrokey.connect();
    f.cmd(&["SET", "k", "v"]);
    f.cmd(&["SET", "t", "v", "EX", "1000"]);
    f.cmd(&["SELECT", "3"]);
    f.cmd(&["SET", "k3", "v"]);
    f.cmd(&["SELECT", "0"]);
    let (sections, fields) = parse_info(&f.cmd(&["INFO"]));
    let want_sections = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Errorstats",
        "Cluster",
        "Keyspace",
    ];
    assert_eq!(sections, want_sections, "INFO default sections");
    let must = [
        "redis_version",
        "ferrokey_version",
        "redis_mode",
        "os",
        "arch_bits",
        "process_id",
        "run_id",
        "tcp_port",
        "uptime_in_seconds",
        "uptime_in_days",
        "hz",
        "configured_hz",
        "connected_clients",
        "maxclients",
        "blocked_clients",
        "used_memory",
        "used_memory_human",
        "used_memory_rss",
        "used_memory_peak",
        "maxmemory",
        "maxmemory_human",
        "maxmemory_policy",
        "mem_fragmentation_ratio",
        "loading",
        "rdb_changes_since_last_save",
        "rdb_last_save_time",
        "aof_enabled",
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "role",
        "connected_slaves",
        "master_replid",
        "master_repl_offset",
        "used_cpu_sys",
        "used_cpu_user",
        "cluster_enabled",
        "db0",
        "db3",
    ];
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    let missing: Vec<&str> = must
        .iter()
        .copied()
        .filter(|m| !names.contains(m))
        .collect();
    assert!(missing.is_empty(), "INFO lacks {missing:?}");
    let v = |n: &str| info_value(&fields, n).unwrap_or_default();
    assert!(
        v("redis_version").starts_with("7.2."),
        "redis_version:{}",
        v("redis_version")
    );
    assert_eq!(v("tcp_port"), pair.ferrokey.port.to_string(), "tcp_port");
    assert_eq!(
        v("process_id"),
        pair.ferrokey.pid().to_string(),
        "process_id"
    );
    assert_eq!(v("role"), "master");
    assert_eq!(v("redis_mode"), "standalone");
    assert_eq!(
        v("db0"),
        "keys=2,expires=1,avg_ttl=".to_string() + &avg_ttl(&v("db0")),
        "db0"
    );
    assert_eq!(v("db3"), "keys=1,expires=0,avg_ttl=0", "db3");
    assert!(
        v("used_memory").parse::<u64>().is_ok_and(|n| n > 0),
        "used_memory:{}",
        v("used_memory")
    );
    assert!(
        v("connected_clients").parse::<u64>().is_ok_and(|n| n >= 1),
        "connected_clients"
    );

    // Against the oracle: same default sections, and every field Redis 7.0
    // reports in them is reported by Ferrokey too.
    if let Some(rs) = pair.redis.as_ref() {
        let mut r = rs.connect();
        let (rsections, rfields) = parse_info(&r.cmd(&["INFO"]));
        assert_eq!(
            sections, rsections,
            "INFO sections: ferrokey (left) vs redis (right)"
        );
        let missing: Vec<&str> = rfields
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !names.contains(k) && !k.starts_with("db"))
            .collect();
        assert!(
            missing.is_empty(),
            "INFO fields redis-server 7.0 has and Ferrokey lacks: {missing:?}"
        );
    }
}

fn avg_ttl(db: &str) -> String {
    db.rsplit_once("avg_ttl=")
        .map(|(_, t)| t.to_string())
        .unwrap_or_default()
}

#[test]
fn info_section_selection() {
    let pair = Pair::new();
    let mut s = pair.session("RESP2");
    let mut sides = vec![("ferrokey", &mut s.ferrokey)];
    if let Some(r) = s.redis.as_mut() {
        sides.push(("redis", r));
    }
    let cases: &[&[&str]] = &[
        &["INFO", "server"],
        &["INFO", "SERVER"],
        &["INFO", "keyspace"],
        &["INFO", "server", "clients"],
        &["INFO", "memory", "memory"],
        &["INFO", "default"],
        &["INFO", "all"],
        &["INFO", "everything"],
        &["INFO", "commandstats"],
        &["INFO", "errorstats"],
        &["INFO", "nosuchsection"],
        &["INFO", "stats"],
    ];
    let mut results: Vec<Vec<Vec<String>>> = Vec::new();
    for (_, c) in sides.iter_mut() {
        let mut row = Vec::new();
        for args in cases {
            let (sections, _) = parse_info(&c.cmd(args));
            row.push(sections);
        }
        results.push(row);
    }
    let f = &results[0];
    assert_eq!(f[0], ["Server"], "INFO server");
    assert_eq!(f[2], ["Keyspace"], "INFO keyspace");
    assert_eq!(f[3], ["Server", "Clients"], "INFO server clients");
    assert_eq!(f[10], Vec::<String>::new(), "INFO nosuchsection");
    if let Some(r) = results.get(1) {
        for (i, args) in cases.iter().enumerate() {
            assert_eq!(
                f[i],
                r[i],
                "{}: sections, ferrokey (left) vs redis (right)",
                args.join(" ")
            );
        }
    }
}

#[test]
fn info_keyspace_and_stats_values() {
    diff(&[
        &["INFO", "keyspace"],
        &["SET", "a", "1"],
        &["SET", "b", "1", "EX", "1000"],
        &["SELECT", "5"],
        &["SET", "c", "1"],
        &["SELECT", "0"],
        &["~type", "INFO", "keyspace"],
        &["DEL", "b"],
        // Redis's avg_ttl is an estimate its expire cycle refreshes, so
        // right after the last volatile key goes it may still show the old
        // value: compare the shape only.
        &["~type", "INFO", "keyspace"],
        &["CONFIG", "RESETSTAT"],
        &["GET", "a"],
        &["GET", "a"],
        &["GET", "missing"],
        &["EXISTS", "a", "missing"],
        &["~ignore", "INFO", "stats"],
    ]);
    // The hit and miss counters, compared value by value.
    let pair = Pair::new();
    let mut s = pair.session("RESP2");
    let mut sides = vec![&mut s.ferrokey];
    if let Some(r) = s.redis.as_mut() {
        sides.push(r);
    }
    let mut seen = Vec::new();
    for c in sides {
        c.cmd(&["SET", "a", "1"]);
        c.cmd(&["CONFIG", "RESETSTAT"]);
        c.cmd(&["GET", "a"]);
        c.cmd(&["GET", "a"]);
        c.cmd(&["GET", "missing"]);
        c.cmd(&["MGET", "a", "missing", "missing2"]);
        c.cmd(&["TTL", "a"]);
        c.cmd(&["EXISTS", "a", "missing"]);
        c.cmd(&["STRLEN", "missing"]);
        c.cmd(&["NOSUCHCOMMAND"]);
        c.cmd(&["GET"]);
        let (_, fields) = parse_info(&c.cmd(&["INFO", "stats"]));
        let v = |n: &str| info_value(&fields, n).unwrap_or_else(|| format!("<no {n}>"));
        seen.push([
            v("keyspace_hits"),
            v("keyspace_misses"),
            v("expired_keys"),
            v("evicted_keys"),
            v("total_error_replies"),
            v("unexpected_error_replies"),
        ]);
    }
    assert_eq!(seen[0][0], "5", "keyspace_hits");
    if seen.len() == 2 {
        assert_eq!(
            seen[0], seen[1],
            "[keyspace_hits, keyspace_misses, expired_keys, evicted_keys, total_error_replies, unexpected_error_replies]: ferrokey (left) vs redis (right)"
        );
    }
}

#[test]
fn cluster_commands_answer_that_cluster_support_is_disabled() {
    diff(&[
        &["CLUSTER", "INFO"],
        &["CLUSTER", "HELP"],
        &["CLUSTER", "KEYSLOT", "foo"],
        &["CLUSTER", "SLOTS"],
        &["CLUSTER", "NODES"],
        &["CLUSTER", "RESET", "HARD"],
        &["CLUSTER", "SETSLOT", "1", "STABLE"],
        &["CLUSTER", "ADDSLOTS", "1", "2"],
        &["CLUSTER", "nosuch"],
        &["CLUSTER"],
        &["CLUSTER", "KEYSLOT"],
        &["CLUSTER", "SETSLOT", "1"],
        &["ASKING"],
        &["READONLY"],
        &["READWRITE"],
        &["READONLY", "x"],
        &["EVAL", "return redis.call('cluster', 'info')", "0"],
        &["EVAL", "return redis.call('cluster', 'reset')", "0"],
        &["EVAL", "return redis.call('readonly')", "0"],
        &[
            "COMMAND",
            "INFO",
            "cluster|setslot",
            "cluster|info",
            "asking",
            "readonly",
            "bgsave",
            "save",
        ],
        &["COMMAND", "GETKEYS", "CLUSTER", "KEYSLOT", "x"],
    ]);
}

#[test]
fn slowlog_times_sleeps_redacts_acl_rules_and_logs_served_blocking_commands() {
    use ferrokey_resp::Frame;
    for s in crate::harness::servers() {
        let mut c = s.connect();
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "100000"]);
        c.cmd(&["SLOWLOG", "RESET"]);
        c.cmd(&["DEBUG", "SLEEP", "0.2"]);
        assert_eq!(c.cmd(&["SLOWLOG", "LEN"]).frame, Frame::Integer(1));
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        c.cmd(&["SLOWLOG", "RESET"]);
        c.cmd(&["acl", "setuser", "u", "on", ">secret"]);
        let Frame::Array(entries) = c.cmd(&["SLOWLOG", "GET", "1"]).frame else {
            panic!("SLOWLOG GET is an array");
        };
        let Frame::Array(entry) = &entries[0] else {
            panic!("an entry is an array");
        };
        let args: Vec<Frame> = ["acl", "setuser", "(redacted)", "(redacted)", "(redacted)"]
            .iter()
            .map(|a| Frame::Bulk(a.as_bytes().to_vec()))
            .collect();
        assert_eq!(entry[3], Frame::Array(args), "{}", s.kind.name());
        // A blocked BLPOP is logged once served, as sent.
        c.cmd(&["SLOWLOG", "RESET"]);
        let mut blocked = s.connect();
        blocked.send(&["BLPOP", "bl", "0"]);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let logged = |c: &mut crate::harness::Conn| {
            c.cmd(&["SLOWLOG", "GET"]).text().matches("BLPOP").count()
        };
        assert_eq!(logged(&mut c), 0, "{}", s.kind.name());
        c.cmd(&["LPUSH", "bl", "x"]);
        blocked.read();
        assert_eq!(logged(&mut c), 1, "{}", s.kind.name());
    }
}
