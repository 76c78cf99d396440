//! Unknown commands, arity errors, binary data and RESP3 replies.

use crate::harness::*;

#[test]
fn unknown_commands() {
    let long_name = "x".repeat(200);
    let long_arg = "y".repeat(100);
    diff(&[
        &["FOO"],
        &["foo", "a", "b"],
        &["FOO", "a", "b", "c", "d", "e", "f"],
        &[long_name.as_str()],
        &["FOO", &long_arg, &long_arg, &long_arg],
        &["FOO", "a\r\nb", "c\nd"],
        &["FOO\r\nBAR", "x"],
        &["FOO", ""],
        &[""],
        &["GET ", "k"],
        &["CLIENT", "NOSUCHSUB"],
        &["CONFIG", "NOSUCHSUB", "x"],
        &["OBJECT", "NOSUCHSUB", "x"],
        &["COMMAND", "NOSUCHSUB"],
        &["MEMORY", "NOSUCHSUB"],
        &["DEBUG", "NOSUCHSUB"],
        &["PING"],
    ]);
}

#[test]
fn wrong_arity_for_each_command() {
    let script: &[&[&str]] = &[
        &["GET"],
        &["GET", "a", "b"],
        &["get"],
        &["GeT", "a", "b"],
        &["SET", "a"],
        &["SETNX", "a"],
        &["SETNX", "a", "b", "c"],
        &["SETEX", "a", "1"],
        &["SETEX", "a", "1", "v", "x"],
        &["PSETEX", "a", "1"],
        &["GETSET", "a"],
        &["GETSET", "a", "b", "c"],
        &["GETDEL"],
        &["GETEX"],
        &["MGET"],
        &["MSET"],
        &["MSET", "a"],
        &["MSET", "a", "1", "b"],
        &["MSETNX"],
        &["MSETNX", "a"],
        &["APPEND", "a"],
        &["APPEND", "a", "b", "c"],
        &["STRLEN"],
        &["GETRANGE", "a", "1"],
        &["GETRANGE", "a", "1", "2", "3"],
        &["SUBSTR", "a", "1"],
        &["SETRANGE", "a", "1"],
        &["INCR"],
        &["DECR", "a", "b"],
        &["INCRBY", "a"],
        &["DECRBY", "a"],
        &["INCRBYFLOAT", "a"],
        &["LCS", "a"],
        &["DEL"],
        &["UNLINK"],
        &["EXISTS"],
        &["TYPE"],
        &["RENAME", "a"],
        &["RENAMENX", "a"],
        &["COPY", "a"],
        &["MOVE", "a"],
        &["MOVE", "a", "1", "2"],
        &["KEYS"],
        &["SCAN"],
        &["TOUCH"],
        &["OBJECT"],
        &["OBJECT", "ENCODING"],
        &["OBJECT", "REFCOUNT"],
        &["OBJECT", "IDLETIME"],
        &["OBJECT", "FREQ"],
        &["EXPIRE", "a"],
        &["PEXPIRE", "a"],
        &["EXPIREAT", "a"],
        &["PEXPIREAT", "a"],
        &["TTL"],
        &["PTTL"],
        &["EXPIRETIME"],
        &["PEXPIRETIME"],
        &["PERSIST"],
        &["PING", "a", "b"],
        &["ECHO"],
        &["SELECT"],
        &["SWAPDB", "a"],
        &["AUTH"],
        &["CLIENT"],
        &["CLIENT", "SETNAME"],
        &["CLIENT", "GETNAME", "x"],
        &["CLIENT", "ID", "x"],
        &["CLIENT", "INFO", "x"],
        &["CLIENT", "REPLY"],
        &["CLIENT", "NO-EVICT"],
        &["DBSIZE", "x"],
        &["CONFIG"],
        &["CONFIG", "GET"],
        &["CONFIG", "SET", "a"],
        &["CONFIG", "RESETSTAT", "x"],
        &["COMMAND", "COUNT", "x"],
        &["COMMAND", "GETKEYS"],
        &["DEBUG"],
        &["MEMORY"],
        &["MEMORY", "USAGE"],
        &["TIME", "x"],
        &["LASTSAVE", "x"],
        &["RANDOMKEY", "x"],
        &["RESET", "x"],
        &["PING"],
    ];
    diff(script);
}

/// Every byte value, plus CR LF inside.
fn all_bytes() -> Vec<u8> {
    let mut v: Vec<u8> = (0..=255u8).collect();
    v.extend_from_slice(b"\r\n\r\n$3\r\n*1\r\n");
    v
}

#[test]
fn binary_and_empty_keys_values() {
    let pair = Pair::new();
    let mut s = pair.session("RESP2");
    let bin = all_bytes();
    let key0 = b"\x00".to_vec();
    let crlf = b"a\r\nb".to_vec();
    let script: Vec<Vec<Vec<u8>>> = vec![
        crate::args!["SET", bin, bin].to_vec(),
        crate::args!["GET", bin].to_vec(),
        crate::args!["STRLEN", bin].to_vec(),
        crate::args!["EXISTS", bin].to_vec(),
        crate::args!["TYPE", bin].to_vec(),
        crate::args!["APPEND", bin, crlf].to_vec(),
        crate::args!["GET", bin].to_vec(),
        crate::args!["GETRANGE", bin, "250", "270"].to_vec(),
        crate::args!["SETRANGE", bin, "1", crlf].to_vec(),
        crate::args!["GETRANGE", bin, "0", "6"].to_vec(),
        crate::args!["SET", key0, crlf].to_vec(),
        crate::args!["GET", key0].to_vec(),
        crate::args!["SET", "", ""].to_vec(),
        crate::args!["GET", ""].to_vec(),
        crate::args!["STRLEN", ""].to_vec(),
        crate::args!["APPEND", "", ""].to_vec(),
        crate::args!["SET", "empty", ""].to_vec(),
        crate::args!["GET", "empty"].to_vec(),
        crate::args!["EXISTS", "empty"].to_vec(),
        crate::args!["MGET", bin, key0, "", "empty", "missing"].to_vec(),
        crate::args!["MSET", crlf, bin, key0, ""].to_vec(),
        crate::args!["MGET", crlf, key0].to_vec(),
        crate::args!["RENAME", bin, "plain"].to_vec(),
        crate::args!["GET", "plain"].to_vec(),
        crate::args!["RENAME", "plain", bin].to_vec(),
        crate::args!["COPY", bin, crlf, "REPLACE"].to_vec(),
        crate::args!["GET", crlf].to_vec(),
        crate::args!["SET", "\u{7f}\u{80}\u{ff}", "x"].to_vec(),
        crate::args!["ECHO", bin].to_vec(),
        crate::args!["PING", bin].to_vec(),
        crate::args!["SET", "n", b"1\x00"].to_vec(),
        crate::args!["INCR", "n"].to_vec(),
        crate::args!["SET", "n2", b"\x001"].to_vec(),
        crate::args!["INCR", "n2"].to_vec(),
        crate::args!["INCRBYFLOAT", "n", b"1\x00"].to_vec(),
        crate::args!["LCS", bin, crlf].to_vec(),
        crate::args!["DEL", bin, key0, ""].to_vec(),
        crate::args!["DBSIZE"].to_vec(),
    ];
    for l in &script {
        s.line(Mode::Exact, l);
    }
    s.line(Mode::Sorted, &crate::args!["KEYS", "*"]);
    s.line(Mode::Sorted, &crate::args!["KEYS", b"a\r\n*"]);
    s.line(Mode::Sorted, &crate::args!["KEYS", b"*\x00*"]);
    s.finish();
}

#[test]
fn resp3_replies() {
    diff3(&[
        &["GET", "missing"],
        &["SET", "k", "v"],
        &["GET", "k"],
        &["SET", "k", "v2", "NX"],
        &["SET", "k", "v2", "GET"],
        &["SET", "new", "v", "XX", "GET"],
        &["MGET", "k", "missing", "k"],
        &["MSET", "a", "1", "b", "2"],
        &["~pairs", "CONFIG", "GET", "maxmemory"],
        &["~pairs", "CONFIG", "GET", "maxmemory*"],
        &["~pairs", "CONFIG", "GET", "nosuch"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["INCRBYFLOAT", "f", "0.1"],
        &["INCR", "c"],
        &["TTL", "k"],
        &["PTTL", "missing"],
        &["EXPIRE", "k", "100"],
        &["TTL", "k"],
        &["EXISTS", "k", "a"],
        &["TYPE", "k"],
        &["TYPE", "missing"],
        &["GETEX", "missing"],
        &["GETDEL", "missing"],
        &["OBJECT", "ENCODING", "missing"],
        &["OBJECT", "ENCODING", "a"],
        &["MEMORY", "USAGE", "missing"],
        &["CLIENT", "GETNAME"],
        &["~type", "CLIENT", "INFO"],
        &["~type", "CLIENT", "LIST"],
        &["~type", "INFO", "server"],
        &["RANDOMKEY", "x"],
        &["COMMAND", "INFO", "nosuchcommand"],
        &["COMMAND", "GETKEYS", "SET", "a", "b"],
        &["~shape", "COMMAND", "INFO", "get"],
        &["MSET", "key1", "ohmytext", "key2", "mynewtext"],
        &["LCS", "key1", "key2"],
        &["LCS", "key1", "key2", "LEN"],
        &[
            "LCS",
            "key1",
            "key2",
            "IDX",
            "MINMATCHLEN",
            "4",
            "WITHMATCHLEN",
        ],
        &["LCS", "key1", "key2", "IDX"],
        &["~sorted", "KEYS", "*"],
        &["SCAN", "0", "MATCH", "key1"],
        &["ECHO", "hi"],
        &["PING"],
        &["PING", "x"],
        &["GET"],
        &["NOSUCHCOMMAND"],
        &["INCR", "k"],
        &["DBSIZE"],
        &["~type", "TIME"],
        &["~shape", "HELLO"],
        &["~shape", "HELLO", "2"],
        &["GET", "missing"],
        &["MGET", "missing"],
        &["~shape", "HELLO", "3"],
        &["RESET"],
        &["GET", "missing"],
        &["CLIENT", "GETNAME"],
    ]);
}

#[test]
fn resp3_randomkey_and_empty_aggregates() {
    diff3(&[
        &["RANDOMKEY"],
        &["KEYS", "*"],
        &["SCAN", "0"],
        &["MGET", "a"],
        &["SET", "only", "1"],
        &["RANDOMKEY"],
        &["~type", "OBJECT", "IDLETIME", "only"],
    ]);
    diff(&[
        &["RANDOMKEY"],
        &["SET", "only", "1"],
        &["RANDOMKEY"],
        &["MSET", "a", "1", "b", "2"],
        &["~type", "RANDOMKEY"],
    ]);
}

#[test]
fn zmpop_differential() {
    diff(&[
        &["ZADD", "z1", "1", "a", "2", "b", "3", "c"],
        &["ZADD", "z2", "5", "x"],
        &["ZMPOP", "2", "nokey", "z1", "MIN", "COUNT", "2"],
        &["ZMPOP", "1", "z1", "MAX"],
        &["EXISTS", "z1"],
        &["ZMPOP", "2", "z1", "z2", "MAX", "COUNT", "10"],
        &["ZMPOP", "1", "z2", "MIN"],
        &["ZMPOP", "0", "z2", "MIN"],
        &["ZMPOP", "1", "z2", "FOO"],
        &["ZMPOP", "1", "z2", "MIN", "COUNT", "0"],
        &["ZMPOP", "1", "z2", "MIN", "COUNT", "1", "COUNT", "2"],
        &["ZMPOP", "2", "z2"],
        &["SET", "s", "v"],
        &["ZMPOP", "1", "s", "MIN"],
    ]);
}

/// WAIT with no replica connected: 0 at once when nothing is asked for or
/// the client may not block, else 0 once the timeout passes.
#[test]
fn wait_without_replicas() {
    diff(&[
        &["WAIT", "0", "0"],
        &["WAIT", "1", "50"],
        &["WAIT", "x", "0"],
        &["WAIT", "1", "x"],
        &["WAIT", "1", "-1"],
        &["WAIT", "1"],
        &["MULTI"],
        &["WAIT", "1", "0"],
        &["EXEC"],
    ]);
    // Redis 7.2 lets scripts call WAIT (7.0 refused it); it cannot block
    // there.
    let s = Server::ferrokey();
    let mut c = s.connect();
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('wait', '1', '0')", "0"])
            .text(),
        ":0\r\n"
    );
}

/// SLOWLOG: what gets logged (everything at threshold 0, nothing when
/// negative), the cap on entries, Redis's cuts of long arguments and
/// argument lists, redaction, and the errors.
#[test]
fn slowlog() {
    diff(&[
        &["SLOWLOG", "GET", "-2"],
        &["SLOWLOG", "GET", "x"],
        &["SLOWLOG", "GET", "1", "2"],
        &["SLOWLOG", "FOO"],
        &["SLOWLOG"],
        &["SLOWLOG", "HELP"],
        &["CONFIG", "SET", "slowlog-log-slower-than", "-1"],
        &["SLOWLOG", "RESET"],
        &["SET", "a", "b"],
        &["SLOWLOG", "LEN"],
    ]);
    let s = Server::ferrokey();
    let mut c = s.connect();
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd(&["SLOWLOG", "RESET"]);
    c.cmd(&["CLIENT", "SETNAME", "me"]);
    let long = "x".repeat(200);
    c.cmd(&["SET", "k", &long]);
    let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut sadd = vec!["SADD", "s"];
    sadd.extend(many.iter().map(String::as_str));
    c.cmd(&sadd);
    c.cmd(&["AUTH", "secret"]);
    let got = c.cmd(&["SLOWLOG", "GET", "3"]).text();
    assert!(got.contains("$10\r\n(redacted)\r\n"), "{got}");
    assert!(got.contains("... (11 more arguments)"), "{got}");
    assert!(
        got.contains(&format!("{}... (72 more bytes)", "x".repeat(128))),
        "{got}"
    );
    assert!(got.contains("$2\r\nme\r\n"), "{got}");
    c.cmd(&["CONFIG", "SET", "slowlog-max-len", "2"]);
    c.cmd(&["PING"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["SLOWLOG", "LEN"]).text(), ":2\r\n");
}
