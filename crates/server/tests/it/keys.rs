//! Differential tests for the keyspace commands.

use std::collections::BTreeSet;

use ferrokey_resp::Frame;

use crate::args;
use crate::harness::*;

const T2100: &str = "4102444800";
const T2100_MS: &str = "4102444800123";

#[test]
fn del_unlink_exists_type_touch() {
    diff(&[
        &["MSET", "a", "1", "b", "2", "c", "3"],
        &["EXISTS", "a"],
        &["EXISTS", "a", "a", "b", "zz"],
        &["EXISTS", "zz"],
        &["TYPE", "a"],
        &["TYPE", "zz"],
        &["TOUCH", "a", "b", "zz", "a"],
        &["TOUCH", "zz"],
        &["DEL", "a", "zz", "a"],
        &["DEL", "a"],
        &["UNLINK", "b", "c", "zz"],
        &["UNLINK", "b"],
        &["EXISTS", "a", "b", "c"],
        &["DBSIZE"],
        &["DEL"],
        &["UNLINK"],
        &["EXISTS"],
        &["TOUCH"],
        &["TYPE"],
        &["TYPE", "a", "b"],
    ]);
}

#[test]
fn rename_renamenx() {
    diff(&[
        &["RENAME", "missing", "x"],
        &["RENAMENX", "missing", "x"],
        &["SET", "a", "1"],
        &["RENAME", "a", "b"],
        &["EXISTS", "a"],
        &["GET", "b"],
        &["RENAME", "b", "b"],
        &["GET", "b"],
        &["RENAMENX", "b", "b"],
        &["SET", "t", "v", "EX", "100"],
        &["RENAME", "t", "t2"],
        &["TTL", "t2"],
        &["SET", "c", "3"],
        &["RENAMENX", "b", "c"],
        &["GET", "c"],
        &["RENAMENX", "b", "d"],
        &["MGET", "b", "d"],
        &["SET", "e", "5", "EX", "100"],
        &["RENAME", "d", "e"],
        &["TTL", "e"],
        &["GET", "e"],
        &["RENAME", "a"],
        &["RENAMENX", "a", "b", "c"],
    ]);
}

#[test]
fn copy_and_move() {
    diff(&[
        &["SET", "a", "1"],
        &["COPY", "a", "b"],
        &["GET", "b"],
        &["COPY", "a", "b"],
        &["SET", "a", "2"],
        &["COPY", "a", "b", "REPLACE"],
        &["GET", "b"],
        &["COPY", "a", "a"],
        &["COPY", "a", "a", "REPLACE"],
        &["COPY", "missing", "x"],
        &["COPY", "a", "x", "DB", "1"],
        &["COPY", "a", "x", "DB", "1"],
        &["COPY", "a", "x", "DB", "1", "REPLACE"],
        &["COPY", "a", "a", "DB", "1"],
        &["COPY", "a", "a", "DB", "0"],
        &["COPY", "a", "x", "DB", "16"],
        &["COPY", "a", "x", "DB", "-1"],
        &["COPY", "a", "x", "DB", "abc"],
        &["COPY", "a", "x", "DB"],
        &["COPY", "a", "x", "FOO"],
        &["COPY", "a", "x", "REPLACE", "REPLACE"],
        &["SET", "t", "v", "EX", "100"],
        &["COPY", "t", "t2"],
        &["TTL", "t2"],
        &["SELECT", "1"],
        &["GET", "x"],
        &["GET", "a"],
        &["SET", "m", "in1"],
        &["SELECT", "0"],
        &["SET", "m", "in0"],
        &["MOVE", "m", "1"],
        &["MOVE", "a", "1"],
        &["EXISTS", "a"],
        &["MOVE", "missing", "1"],
        &["SET", "a", "again"],
        &["MOVE", "a", "0"],
        &["MOVE", "a", "16"],
        &["MOVE", "a", "-1"],
        &["MOVE", "a", "abc"],
        &["MOVE", "t", "2"],
        &["SELECT", "2"],
        &["TTL", "t"],
        &["SELECT", "1"],
        &["MGET", "a", "m"],
        &["MOVE", "a"],
        &["COPY", "a"],
    ]);
}

#[test]
fn keys_glob_patterns() {
    let mut s: Vec<&[&str]> = vec![&[
        "MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5", "h*llo",
        "6", "h?llo", "7", "foo:1", "8", "foo:2", "9", "bar", "10", "", "11", "[x]", "12", "a\\b",
        "13", "FOO:3", "14",
    ]];
    let patterns: &[&str] = &[
        "*",
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[!e]llo",
        "h[a-b]llo",
        "h[b-a]llo",
        "h\\*llo",
        "h\\?llo",
        "foo:*",
        "FOO:*",
        "*:*",
        "nomatch*",
        "",
        "?",
        "\\[x\\]",
        "[[]x]",
        "a\\\\b",
        "h[",
        "h[a",
        "*o",
        "h*l*o",
        "**",
        "[a-z]*",
        "[^a-z]*",
        "h[a-]llo",
        "\\",
    ];
    let lines: Vec<[&str; 3]> = patterns.iter().map(|p| ["~sorted", "KEYS", p]).collect();
    for l in &lines {
        s.push(l);
    }
    s.push(&["KEYS"]);
    s.push(&["KEYS", "a", "b"]);
    diff(&s);
}

/// Runs SCAN to the end with `extra` arguments; returns the keys seen
/// (as a set) or the first error reply.
fn scan_all(c: &mut Conn, extra: &[&str]) -> Result<BTreeSet<Vec<u8>>, String> {
    let mut seen = BTreeSet::new();
    let mut cursor = b"0".to_vec();
    for _ in 0..100_000 {
        let mut args = vec![b"SCAN".to_vec(), cursor.clone()];
        args.extend(extra.iter().map(|a| a.as_bytes().to_vec()));
        let r = c.cmd(&args);
        let Frame::Array(parts) = &r.frame else {
            return Err(r.text());
        };
        let (Some(Frame::Bulk(next)), Some(Frame::Array(keys))) = (parts.first(), parts.get(1))
        else {
            return Err(r.text());
        };
        for k in keys {
            match k {
                Frame::Bulk(k) => {
                    seen.insert(k.clone());
                }
                other => return Err(format!("non-bulk key {other:?}")),
            }
        }
        if next == b"0" {
            return Ok(seen);
        }
        cursor = next.clone();
    }
    Err("SCAN did not finish in 100000 calls".into())
}

#[test]
fn scan_full_iterations() {
    let pair = Pair::new();
    let mut s = pair.session("RESP2");
    let mut mset = vec!["MSET".to_string()];
    for i in 0..500 {
        mset.push(format!("user:{i}"));
        mset.push(i.to_string());
        mset.push(format!("item:{i}"));
        mset.push("x".into());
    }
    let mset: Vec<Vec<u8>> = mset.into_iter().map(String::into_bytes).collect();
    s.line(Mode::Exact, &mset);
    s.line(Mode::Exact, &args!["DBSIZE"]);
    let cases: &[&[&str]] = &[
        &[],
        &["COUNT", "7"],
        &["COUNT", "1000"],
        &["MATCH", "user:1*"],
        &["MATCH", "item:4?"],
        &["MATCH", "user:1*", "COUNT", "3"],
        &["MATCH", "nomatch*"],
        &["TYPE", "string"],
        &["TYPE", "STRING"],
        &["TYPE", "list"],
        &["TYPE", "nosuchtype"],
        &["MATCH", "user:2*", "TYPE", "string", "COUNT", "50"],
    ];
    let mut failures = Vec::new();
    for extra in cases {
        let f = scan_all(&mut s.ferrokey, extra);
        if let Some(r) = s.redis.as_mut() {
            let r = scan_all(r, extra);
            if r != f {
                let show = |x: &Result<BTreeSet<Vec<u8>>, String>| match x {
                    Ok(set) => format!("{} keys", set.len()),
                    Err(e) => escape(e.as_bytes()),
                };
                failures.push(format!(
                    "SCAN ... {}\n  redis:    {}\n  ferrokey: {}",
                    extra.join(" "),
                    show(&r),
                    show(&f)
                ));
            }
        } else {
            assert!(f.is_ok(), "SCAN {extra:?}: {f:?}");
        }
    }
    assert!(
        failures.is_empty(),
        "SCAN sets differ:\n{}",
        failures.join("\n")
    );
    s.run(&lines(&[
        &["SCAN", "abc"],
        // A cursor of -1 is accepted (strtoul wraps it); which keys it
        // yields depends on each server's table layout, so compare the shape.
        &["~type", "SCAN", "-1", "COUNT", "1"],
        &["SCAN", "18446744073709551616"],
        &["SCAN", "0", "COUNT", "0"],
        &["SCAN", "0", "COUNT", "-1"],
        &["SCAN", "0", "COUNT", "abc"],
        &["SCAN", "0", "COUNT"],
        &["SCAN", "0", "MATCH"],
        &["SCAN", "0", "TYPE"],
        &["SCAN", "0", "FOO", "bar"],
        &["SCAN", "0", "FOO"],
        &["SCAN"],
    ]));
    s.finish();
}

#[test]
fn scan_small_and_empty() {
    diff(&[
        &["SCAN", "0"],
        &["SET", "only", "1"],
        &["SCAN", "0"],
        &["SCAN", "0", "MATCH", "o*"],
        &["SCAN", "0", "MATCH", "x*"],
        &["SCAN", "0", "TYPE", "string"],
        &["SCAN", "0", "TYPE", "hash"],
    ]);
}

#[test]
fn object_subcommands() {
    diff(&[
        &["SET", "int", "123"],
        &["SET", "bigint", "12345678901234567890"],
        &["SET", "negint", "-9223372036854775808"],
        &["SET", "lead0", "0123"],
        &["SET", "plus", "+1"],
        &["SET", "space", " 1"],
        &["SET", "short", "hello"],
        &["SET", "s44", "12345678901234567890123456789012345678901234"],
        &[
            "SET",
            "s45",
            "123456789012345678901234567890123456789012345",
        ],
        &["OBJECT", "ENCODING", "int"],
        &["OBJECT", "ENCODING", "bigint"],
        &["OBJECT", "ENCODING", "negint"],
        &["OBJECT", "ENCODING", "lead0"],
        &["OBJECT", "ENCODING", "plus"],
        &["OBJECT", "ENCODING", "space"],
        &["OBJECT", "ENCODING", "short"],
        &["OBJECT", "ENCODING", "s44"],
        &["OBJECT", "ENCODING", "s45"],
        &["OBJECT", "ENCODING", "missing"],
        &["APPEND", "short", "!"],
        &["OBJECT", "ENCODING", "short"],
        &["SETRANGE", "int", "0", "9"],
        &["OBJECT", "ENCODING", "int"],
        &["INCR", "int"],
        &["OBJECT", "ENCODING", "int"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["OBJECT", "ENCODING", "f"],
        &["SET", "e", ""],
        &["OBJECT", "ENCODING", "e"],
        &["object", "encoding", "s44"],
        &["OBJECT", "REFCOUNT", "short"],
        &["OBJECT", "REFCOUNT", "int"],
        &["OBJECT", "REFCOUNT", "missing"],
        &["SET", "small", "42"],
        &["OBJECT", "REFCOUNT", "small"],
        &["~type", "OBJECT", "IDLETIME", "short"],
        &["OBJECT", "IDLETIME", "missing"],
        &["OBJECT", "FREQ", "short"],
        &["OBJECT", "HELP"],
        &["OBJECT", "help"],
        &["OBJECT", "HELP", "extra"],
        &["OBJECT", "FOO"],
        &["OBJECT", "FOO", "k"],
        &["OBJECT", "ENCODING"],
        &["OBJECT", "ENCODING", "a", "b"],
        &["OBJECT", "REFCOUNT"],
        &["OBJECT"],
    ]);
}

#[test]
fn expire_family() {
    diff(&[
        &["EXPIRE", "missing", "100"],
        &["PEXPIRE", "missing", "100"],
        &["EXPIREAT", "missing", T2100],
        &["PEXPIREAT", "missing", T2100_MS],
        &["SET", "k", "v"],
        &["TTL", "k"],
        &["PTTL", "k"],
        &["EXPIRETIME", "k"],
        &["PEXPIRETIME", "k"],
        &["TTL", "missing"],
        &["PTTL", "missing"],
        &["EXPIRETIME", "missing"],
        &["PEXPIRETIME", "missing"],
        &["EXPIRE", "k", "100"],
        &["TTL", "k"],
        &["PEXPIRE", "k", "200000"],
        &["TTL", "k"],
        &["EXPIREAT", "k", T2100],
        &["EXPIRETIME", "k"],
        &["PEXPIRETIME", "k"],
        &["PEXPIREAT", "k", T2100_MS],
        &["PEXPIRETIME", "k"],
        &["EXPIRETIME", "k"],
        &["PERSIST", "k"],
        &["PERSIST", "k"],
        &["PERSIST", "missing"],
        &["TTL", "k"],
        &["EXPIRE", "k", "0"],
        &["EXISTS", "k"],
        &["SET", "k", "v"],
        &["EXPIRE", "k", "-5"],
        &["EXISTS", "k"],
        &["SET", "k", "v"],
        &["PEXPIRE", "k", "-1"],
        &["EXISTS", "k"],
        &["SET", "k", "v"],
        &["EXPIREAT", "k", "1"],
        &["GET", "k"],
        &["SET", "k", "v"],
        &["PEXPIREAT", "k", "0"],
        &["GET", "k"],
        &["SET", "k", "v"],
        &["expire", "k", "100"],
        &["TTL", "k"],
        &["EXPIRE", "k", "abc"],
        &["EXPIRE", "k", "1.5"],
        &["EXPIRE", "k", ""],
        &["PEXPIRE", "k", "x"],
        &["EXPIREAT", "k", "x"],
        &["PEXPIREAT", "k", "x"],
        &["TTL", "k"],
        &["EXPIRE", "k"],
        &["TTL"],
        &["PTTL", "a", "b"],
        &["PERSIST"],
        &["EXPIRETIME"],
    ]);
}

#[test]
fn expire_nx_xx_gt_lt() {
    // TTL lines compare the reply type only: a loaded machine can take over
    // 500 ms between EXPIRE and TTL, which rounds 100 down to 99 on either
    // server. The EXPIRE replies carry the NX/XX/GT/LT semantics.
    diff(&[
        &["SET", "k", "v"],
        &["EXPIRE", "k", "100", "XX"],
        &["EXPIRE", "k", "100", "GT"],
        &["~type", "TTL", "k"],
        &["EXPIRE", "k", "100", "LT"],
        &["~type", "TTL", "k"],
        &["PERSIST", "k"],
        &["EXPIRE", "k", "100", "NX"],
        &["~type", "TTL", "k"],
        &["EXPIRE", "k", "200", "NX"],
        &["EXPIRE", "k", "200", "XX"],
        &["~type", "TTL", "k"],
        &["EXPIRE", "k", "100", "GT"],
        &["EXPIRE", "k", "300", "GT"],
        &["~type", "TTL", "k"],
        &["EXPIRE", "k", "400", "LT"],
        &["EXPIRE", "k", "150", "LT"],
        &["~type", "TTL", "k"],
        // Equal relative TTLs: GT holds only if a millisecond passed since
        // the previous EXPIRE, on either server, so compare the type only.
        &["~type", "EXPIRE", "k", "150", "gt"],
        &["EXPIRE", "k", "500", "xx", "gt"],
        &["~type", "TTL", "k"],
        &["EXPIRE", "k", "100", "LT", "XX"],
        &["~type", "TTL", "k"],
        &["PEXPIRE", "k", "600000", "GT"],
        &["~type", "TTL", "k"],
        &["EXPIREAT", "k", T2100, "NX"],
        &["EXPIREAT", "k", T2100, "GT"],
        &["EXPIRETIME", "k"],
        &["PEXPIREAT", "k", T2100_MS, "LT"],
        &["PEXPIREAT", "k", "4102444800000", "LT"],
        &["PEXPIRETIME", "k"],
        &["EXPIRE", "k", "100", "NX", "XX"],
        &["EXPIRE", "k", "100", "XX", "NX"],
        &["EXPIRE", "k", "100", "GT", "LT"],
        &["EXPIRE", "k", "100", "NX", "GT"],
        &["EXPIRE", "k", "100", "NX", "LT"],
        &["EXPIRE", "k", "100", "FOO"],
        &["EXPIRE", "k", "100", "NX", "FOO"],
        &["EXPIRE", "k", "100", "NX", "NX"],
        &["PEXPIRE", "k", "100", "BAR"],
        &["EXPIREAT", "k", "100", "GT", "LT"],
        &["PEXPIREAT", "k", "100", "NX", "XX"],
        &["EXPIRE", "k", "abc", "NX"],
        &["EXPIRE", "missing", "100", "NX"],
        &["EXPIRE", "missing", "100", "XX"],
        // A negative TTL with a condition that fails keeps the key.
        &["SET", "n", "v", "EX", "100"],
        &["EXPIRE", "n", "-1", "NX"],
        &["EXISTS", "n"],
        &["EXPIRE", "n", "-1", "GT"],
        &["EXISTS", "n"],
        &["EXPIRE", "n", "-1", "LT"],
        &["EXISTS", "n"],
        &["SET", "p", "v"],
        &["EXPIRE", "p", "-1", "GT"],
        &["EXPIRE", "p", "-1", "LT"],
        &["EXISTS", "p"],
    ]);
}

#[test]
fn ttl_out_of_range() {
    diff(&[
        &["SET", "k", "v"],
        &["SET", "k", "v", "EX", "9223372036854775807"],
        &["SET", "k", "v", "PX", "9223372036854775807"],
        &["SET", "k", "v", "EXAT", "9223372036854775807"],
        &["SET", "k", "v", "PXAT", "9223372036854775807"],
        &["SET", "k", "v", "EX", "9223372036854775"],
        &["SET", "k", "v", "EX", "9223372036854776"],
        &["SET", "k", "v", "PX", "9223372036854775000"],
        &["SETEX", "k", "9223372036854775807", "v"],
        &["PSETEX", "k", "9223372036854775807", "v"],
        &["GETEX", "k", "EX", "9223372036854775807"],
        &["GETEX", "k", "EXAT", "9223372036854775807"],
        &["EXPIRE", "k", "9223372036854775807"],
        &["EXPIRE", "k", "9223372036854775"],
        &["EXPIRE", "k", "9223372036854776"],
        &["EXPIRE", "k", "-9223372036854775808"],
        &["EXISTS", "k"],
        &["SET", "k", "v"],
        &["PEXPIRE", "k", "9223372036854775807"],
        &["PEXPIRE", "k", "9223372036854775000"],
        &["EXPIREAT", "k", "9223372036854775807"],
        &["PEXPIREAT", "k", "9223372036854775807"],
        &["PEXPIREAT", "k", "-9223372036854775808"],
        &["EXISTS", "k"],
        &["SET", "k", "v"],
        &["EXPIRE", "k", "9223372036854775808"],
        &["TTL", "k"],
    ]);
}
