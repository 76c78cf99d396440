//! Differential tests for the hash commands, in RESP2 and RESP3, with bad
//! input and wrong types.

use crate::harness::*;

/// Runs one script in RESP2 and again in RESP3 against one server pair.
fn both(script: &[&[&str]]) {
    let p = Pair::new();
    p.diff(script);
    p.diff3(script);
}

#[test]
fn hset_hget_hdel_and_friends() {
    both(&[
        &["HSET", "h", "a", "1"],
        &["HSET", "h", "a", "2", "b", "3", "c", "4"],
        &["HSET", "h", "a", "2", "a", "5"],
        &["HGET", "h", "a"],
        &["HGET", "h", "nofield"],
        &["HGET", "nokey", "a"],
        &["HSETNX", "h", "a", "x"],
        &["HSETNX", "h", "d", "x"],
        &["HSETNX", "new", "f", "v"],
        &["HMSET", "h", "e", "5", "f", "6"],
        &["HMSET", "h", "e"],
        &["HMGET", "h", "a", "nofield", "b", "a"],
        &["HMGET", "nokey", "a", "b"],
        &["HGETALL", "h"],
        &["HGETALL", "nokey"],
        &["HKEYS", "h"],
        &["HKEYS", "nokey"],
        &["HVALS", "h"],
        &["HVALS", "nokey"],
        &["HLEN", "h"],
        &["HLEN", "nokey"],
        &["HEXISTS", "h", "a"],
        &["HEXISTS", "h", "zz"],
        &["HEXISTS", "nokey", "a"],
        &["HSTRLEN", "h", "a"],
        &["HSTRLEN", "h", "zz"],
        &["HSTRLEN", "nokey", "a"],
        &["HSET", "h", "big", "123456789012345678901234567890"],
        &["HSTRLEN", "h", "big"],
        &["HSET", "h", "neg", "-17"],
        &["HSTRLEN", "h", "neg"],
        &["HSET", "h", "empty", ""],
        &["HGET", "h", "empty"],
        &["HSTRLEN", "h", "empty"],
        &["HSET", "h", "", "emptyfield"],
        &["HGET", "h", ""],
        &["HDEL", "h", "a", "a", "nofield", "b"],
        &["HDEL", "nokey", "a"],
        &["HLEN", "h"],
        &["HDEL", "new", "f"],
        &["EXISTS", "new"],
        &["HGETALL", "h"],
        // Arity and odd pair counts.
        &["HSET", "h"],
        &["HSET", "h", "a"],
        &["HSET", "h", "a", "1", "b"],
        &["HMSET", "h", "a", "1", "b"],
        &["HSETNX", "h", "a"],
        &["HGET", "h"],
        &["HMGET", "h"],
        &["HDEL", "h"],
        &["HLEN"],
        &["HEXISTS", "h"],
        &["HSTRLEN", "h"],
        &["HKEYS"],
        &["HVALS", "h", "x"],
        &["HGETALL"],
    ]);
}

#[test]
fn hincrby_and_hincrbyfloat() {
    both(&[
        &["HINCRBY", "h", "n", "5"],
        &["HINCRBY", "h", "n", "-10"],
        &["HINCRBY", "h", "n", "0"],
        &["HGET", "h", "n"],
        &["HSET", "h", "max", "9223372036854775807"],
        &["HINCRBY", "h", "max", "1"],
        &["HINCRBY", "h", "max", "-1"],
        &["HSET", "h", "min", "-9223372036854775808"],
        &["HINCRBY", "h", "min", "-1"],
        &["HINCRBY", "h", "n", "9223372036854775808"],
        &["HINCRBY", "h", "n", "abc"],
        &["HINCRBY", "h", "n", "1.5"],
        &["HINCRBY", "h", "n", ""],
        &["HINCRBY", "h", "n", " 1"],
        &[
            "HSET",
            "h",
            "s",
            "abc",
            "sp",
            " 1",
            "f",
            "1.5",
            "big",
            "99999999999999999999",
        ],
        &["HINCRBY", "h", "s", "1"],
        &["HINCRBY", "h", "sp", "1"],
        &["HINCRBY", "h", "f", "1"],
        &["HINCRBY", "h", "big", "1"],
        &["HINCRBY", "nokey", "x", "7"],
        &["HGETALL", "nokey"],
        &["HINCRBYFLOAT", "h", "fl", "10.5"],
        &["HINCRBYFLOAT", "h", "fl", "0.1"],
        &["HINCRBYFLOAT", "h", "fl", "-5"],
        &["HINCRBYFLOAT", "h", "fl2", "0.1"],
        &["HINCRBYFLOAT", "h", "fl2", "0.2"],
        &["HINCRBYFLOAT", "h", "fl3", "5.0e3"],
        &["HINCRBYFLOAT", "h", "fl3", "1e-20"],
        &["HINCRBYFLOAT", "h", "fl4", "3"],
        &["HINCRBYFLOAT", "h", "fl4", "-3"],
        &["HINCRBYFLOAT", "h", "fl5", "1.23e30"],
        &["HINCRBYFLOAT", "h", "n", "1.5"],
        &["HINCRBYFLOAT", "h", "f", "2"],
        &["HINCRBYFLOAT", "h", "s", "1"],
        &["HINCRBYFLOAT", "h", "sp", "1"],
        &["HINCRBYFLOAT", "h", "fl", "abc"],
        &["HINCRBYFLOAT", "h", "fl", ""],
        &["HINCRBYFLOAT", "h", "fl", "nan"],
        &["HINCRBYFLOAT", "h", "fl", "inf"],
        &["HINCRBYFLOAT", "h", "fl", "-inf"],
        &["HINCRBYFLOAT", "h", "fl", "1e5000"],
        &["HSET", "h", "huge", "1e308"],
        &["HINCRBYFLOAT", "h", "huge", "1e308"],
        &["HSET", "h", "infv", "inf"],
        &["HINCRBYFLOAT", "h", "infv", "1"],
        &["HGET", "h", "fl"],
        &["HINCRBYFLOAT", "nokey2", "x", "2.5"],
        &["HGET", "nokey2", "x"],
        // strtold's syntax: hex, exponents, long double range.
        &["HINCRBYFLOAT", "h", "hx", "0x10"],
        &["HINCRBYFLOAT", "h", "hx", "0x1p-2"],
        &["HSET", "h", "hx2", "0x10"],
        &["HINCRBYFLOAT", "h", "hx2", "1"],
        &["HINCRBYFLOAT", "h", "e1", "1e400"],
        &["HINCRBYFLOAT", "h", "e1", "-1e400"],
        &["HINCRBYFLOAT", "h", "e2", "1e-400"],
        &["HINCRBYFLOAT", "h", "e3", "1e-5000"],
        &["HINCRBYFLOAT", "h", "e4", "1e5000"],
        &["HINCRBYFLOAT", "h", "e5", "12345678901234567890"],
        &["HINCRBYFLOAT", "h", "e6", "-0"],
        &["HINCRBYFLOAT", "h", "e7", "0.1"],
        &["HINCRBYFLOAT", "h", "e7", "-0.1"],
        &["HINCRBYFLOAT", "h", "e8", "1.5e-10"],
        &["HINCRBYFLOAT", "h", "e9", " 1"],
        &["HINCRBYFLOAT", "h", "e9", "1 "],
        &["HINCRBYFLOAT", "h", "e9", "1\u{0}"],
        &["HINCRBYFLOAT", "h", "e9", "+.5"],
        &["HINCRBYFLOAT", "h", "e9", "5."],
        &["HINCRBYFLOAT", "h", "e9", "infinity"],
        &["HINCRBY", "h", "e10", "+5"],
        &["HINCRBY", "h", "e10", "-0"],
        &["HINCRBY", "h", "e10", "007"],
        &["HSET", "h", "e11", "007", "e12", "+1", "e13", "-0"],
        &["HINCRBY", "h", "e11", "1"],
        &["HINCRBY", "h", "e12", "1"],
        &["HINCRBY", "h", "e13", "1"],
        &["HINCRBYFLOAT", "h", "e11", "1"],
        &["HINCRBYFLOAT", "h", "e12", "1"],
        &["HINCRBY", "h", "n"],
        &["HINCRBYFLOAT", "h", "n"],
        &["HINCRBY", "h", "n", "1", "2"],
    ]);
}

#[test]
fn hrandfield() {
    both(&[
        &["HRANDFIELD", "nokey"],
        &["HRANDFIELD", "nokey", "5"],
        &["HRANDFIELD", "nokey", "-5"],
        &["HRANDFIELD", "nokey", "5", "WITHVALUES"],
        &["HRANDFIELD", "nokey", "0"],
        &["HSET", "h", "a", "1", "b", "2", "c", "3"],
        &["~shape", "HRANDFIELD", "h"],
        &["HRANDFIELD", "h", "0"],
        &["HRANDFIELD", "h", "0", "WITHVALUES"],
        &["~sorted", "HRANDFIELD", "h", "3"],
        &["~sorted", "HRANDFIELD", "h", "100"],
        &["~pairs", "HRANDFIELD", "h", "3", "WITHVALUES"],
        &["~pairs", "HRANDFIELD", "h", "100", "withvalues"],
        &["~shape", "HRANDFIELD", "h", "2"],
        &["~shape", "HRANDFIELD", "h", "1", "WITHVALUES"],
        &["~shape", "HRANDFIELD", "h", "-7"],
        &["~shape", "HRANDFIELD", "h", "-7", "WITHVALUES"],
        &["~shape", "HRANDFIELD", "h", "-1", "WITHVALUES"],
        &["HRANDFIELD", "h", "abc"],
        &["HRANDFIELD", "h", "1.5"],
        &["HRANDFIELD", "h", "3", "WITHVALUE"],
        &["HRANDFIELD", "h", "3", "WITHVALUES", "x"],
        &["HRANDFIELD", "h", "-9223372036854775808"],
        &["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"],
        &["HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"],
        &["HRANDFIELD", "nokey", "abc"],
        &["HRANDFIELD", "nokey", "3", "bad"],
        &["~sorted", "HRANDFIELD", "h", "9223372036854775807"],
    ]);
}

#[test]
fn hrandfield_hashtable_encoding() {
    let mut script: Vec<Vec<String>> = vec![vec!["HSET".into(), "big".into()]];
    for i in 0..200 {
        script[0].push(format!("f{i}"));
        script[0].push(format!("v{i}"));
    }
    for l in [
        "OBJECT ENCODING big",
        "~sorted HRANDFIELD big 200",
        "~sorted HRANDFIELD big 1000",
        "~pairs HRANDFIELD big 1000 WITHVALUES",
        "~shape HRANDFIELD big 150",
        "~shape HRANDFIELD big 10",
        "~shape HRANDFIELD big 190 WITHVALUES",
        "~shape HRANDFIELD big -300",
        "~shape HRANDFIELD big -3 WITHVALUES",
        "HLEN big",
    ] {
        script.push(l.split(' ').map(String::from).collect());
    }
    let refs: Vec<Vec<&str>> = script
        .iter()
        .map(|l| l.iter().map(String::as_str).collect())
        .collect();
    let lines: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    both(&lines);
}

#[test]
fn hscan() {
    let p = Pair::new();
    let script: &[&[&str]] = &[
        &["HSCAN", "nokey", "0"],
        &["HSCAN", "nokey", "0", "COUNT", "0"],
        &["HSET", "h", "a", "1", "b", "2", "ab", "3", "zz", "4"],
        // A listpack is returned whole, in insertion order, in one call.
        &["HSCAN", "h", "0"],
        &["HSCAN", "h", "0", "MATCH", "a*"],
        &["HSCAN", "h", "0", "match", "*b*", "count", "1"],
        &["HSCAN", "h", "0", "COUNT", "1"],
        &["HSCAN", "h", "0", "MATCH", "nothing"],
        &["HSCAN", "h", "0", "COUNT", "0"],
        &["HSCAN", "h", "0", "COUNT", "-1"],
        &["HSCAN", "h", "0", "COUNT", "abc"],
        &["HSCAN", "h", "0", "COUNT"],
        &["HSCAN", "h", "0", "MATCH"],
        &["HSCAN", "h", "0", "FOO", "bar"],
        &["HSCAN", "h", "abc"],
        &["HSCAN", "h", "-1"],
        &["HSCAN", "h", "18446744073709551616"],
        &["HSCAN", "h"],
    ];
    p.diff(script);
    p.diff3(script);
    // NOVALUES arrived in Redis 7.4 (7.0 and 7.2 answer a syntax error);
    // Ferrokey accepts it ahead of its 7.2 target and leaves the values
    // out. Ferrokey only, as no 7.x oracle here has it.
    let mut c = p.ferrokey.connect();
    expect(&mut c, &["HSET", "nv", "a", "1", "b", "2"], b":2\r\n");
    expect(
        &mut c,
        &["HSCAN", "nv", "0", "NOVALUES"],
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    expect(
        &mut c,
        &["HSCAN", "nv", "0", "MATCH", "b", "NOVALUES"],
        b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n",
    );
}

#[test]
fn hscan_hashtable_walks_every_field() {
    // Cursors differ between the servers, so walk each to the end and
    // compare the fields collected.
    let p = Pair::new();
    let mut servers = vec![p.ferrokey.connect()];
    servers.extend(p.redis.as_ref().map(Server::connect));
    let mut seen = Vec::new();
    for c in &mut servers {
        c.cmd(&["FLUSHALL"]);
        let mut args = vec!["HSET".to_string(), "h".into()];
        for i in 0..300 {
            args.push(format!("field:{i}"));
            args.push(format!("{i}"));
        }
        c.cmd(&args);
        seen.push(scan_all(
            c,
            &["HSCAN", "h", "0", "MATCH", "field:1*", "COUNT", "7"],
            2,
            2,
        ));
    }
    assert_eq!(seen[0].len(), 111);
    if seen.len() == 2 {
        assert_same_items("HSCAN", &seen[0], &seen[1]);
    }
}

#[test]
fn hash_wrong_type() {
    both(&[
        &["SET", "s", "v"],
        &["HSET", "s", "a", "1"],
        &["HSETNX", "s", "a", "1"],
        &["HMSET", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HGETALL", "s"],
        &["HDEL", "s", "a"],
        &["HLEN", "s"],
        &["HEXISTS", "s", "a"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HSTRLEN", "s", "a"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "2"],
        &["HRANDFIELD", "s", "2", "WITHVALUES"],
        &["HSCAN", "s", "0"],
        // A bad argument is checked before the type or after it, as Redis
        // does per command.
        &["HINCRBY", "s", "a", "x"],
        &["HINCRBYFLOAT", "s", "a", "x"],
        &["HRANDFIELD", "s", "x"],
        &["HSCAN", "s", "x"],
        &["HSCAN", "s", "0", "COUNT", "0"],
        &["HSET", "s", "a"],
        &["GET", "s"],
        &["HSET", "h", "a", "1"],
        &["GET", "h"],
        &["LPUSH", "h", "x"],
        &["SADD", "h", "x"],
        &["ZADD", "h", "1", "x"],
    ]);
}

#[test]
fn hash_encoding_conversions() {
    both(&[
        &["CONFIG", "SET", "hash-max-listpack-entries", "4"],
        &["CONFIG", "SET", "hash-max-listpack-value", "8"],
        &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"],
        &["OBJECT", "ENCODING", "h"],
        &["HSET", "h", "e", "5"],
        &["OBJECT", "ENCODING", "h"],
        &["HDEL", "h", "a", "b", "c", "d"],
        // No conversion back to a listpack.
        &["OBJECT", "ENCODING", "h"],
        &["HSET", "v", "f", "12345678"],
        &["OBJECT", "ENCODING", "v"],
        &["HSET", "v", "g", "123456789"],
        &["OBJECT", "ENCODING", "v"],
        &["HSET", "k", "123456789", "x"],
        &["OBJECT", "ENCODING", "k"],
        &["HSETNX", "n", "f", "123456789"],
        &["OBJECT", "ENCODING", "n"],
        &["HINCRBYFLOAT", "fl", "f", "1.2345678901"],
        &["OBJECT", "ENCODING", "fl"],
        &["HINCRBY", "i", "f", "1234567890"],
        &["OBJECT", "ENCODING", "i"],
        &[
            "HMSET", "m", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5",
        ],
        &["OBJECT", "ENCODING", "m"],
        &["~pairs", "HGETALL", "m"],
        &["~sorted", "HKEYS", "m"],
        &["~sorted", "HVALS", "m"],
        &["HMGET", "m", "a", "e", "zz"],
        &["HGET", "m", "c"],
        &["HSTRLEN", "m", "c"],
        &["HEXISTS", "m", "e"],
        &["HINCRBY", "m", "a", "10"],
        &["HINCRBYFLOAT", "m", "b", "0.5"],
        &["HDEL", "m", "c"],
        &["HLEN", "m"],
        &["CONFIG", "SET", "hash-max-listpack-entries", "0"],
        &["HSET", "z", "a", "1"],
        &["OBJECT", "ENCODING", "z"],
        &["CONFIG", "SET", "hash-max-listpack-entries", "128"],
        &["CONFIG", "SET", "hash-max-listpack-value", "64"],
        &["HSET", "w", "a", "1"],
        &["OBJECT", "ENCODING", "w"],
    ]);
}
