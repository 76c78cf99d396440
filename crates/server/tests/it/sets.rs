//! Differential tests for the set commands, in RESP2 and RESP3, with bad
//! input and wrong types. Member order of a hashtable set differs between
//! the servers, so whole-set replies are compared with `~sorted`.

use crate::harness::*;

/// Runs one script in RESP2 and again in RESP3 against one server pair.
fn both(script: &[&[&str]]) {
    let p = Pair::new();
    p.diff(script);
    p.diff3(script);
}

/// Owned script lines (generated arguments) as the borrowed form `both`
/// takes.
fn both_owned(script: &[Vec<String>]) {
    let refs: Vec<Vec<&str>> = script
        .iter()
        .map(|l| l.iter().map(String::as_str).collect())
        .collect();
    let lines: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    both(&lines);
}

fn words(l: &str) -> Vec<String> {
    l.split(' ').map(String::from).collect()
}

#[test]
fn sadd_srem_smembers_scard() {
    both(&[
        &["SADD", "s", "a"],
        &["SADD", "s", "a", "b", "c", "b"],
        &["~sorted", "SMEMBERS", "s"],
        &["SMEMBERS", "nokey"],
        &["SCARD", "s"],
        &["SCARD", "nokey"],
        &["SISMEMBER", "s", "a"],
        &["SISMEMBER", "s", "zz"],
        &["SISMEMBER", "nokey", "a"],
        &["SMISMEMBER", "s", "a", "zz", "c", "a"],
        &["SMISMEMBER", "nokey", "a", "b"],
        &["SREM", "s", "a", "zz", "a"],
        &["SREM", "nokey", "a"],
        &["SCARD", "s"],
        &["SREM", "s", "b", "c"],
        &["EXISTS", "s"],
        &["SADD", "i", "1", "2", "3", "-5", "1"],
        &["SMEMBERS", "i"],
        &["SISMEMBER", "i", "2"],
        &["SISMEMBER", "i", "02"],
        &["SISMEMBER", "i", "x"],
        &["SMISMEMBER", "i", "1", "01", "-5"],
        &["SREM", "i", "01", "x", "3"],
        &["SMEMBERS", "i"],
        &["SADD", "i", "9223372036854775807", "-9223372036854775808"],
        &["SMEMBERS", "i"],
        &["SADD", "e", ""],
        &["SMEMBERS", "e"],
        &["SISMEMBER", "e", ""],
        &["SADD", "s"],
        &["SREM", "s"],
        &["SMEMBERS"],
        &["SCARD", "s", "x"],
        &["SISMEMBER", "s"],
        &["SMISMEMBER", "s"],
    ]);
}

#[test]
fn spop_and_srandmember() {
    both(&[
        &["SPOP", "nokey"],
        &["SPOP", "nokey", "3"],
        &["SPOP", "nokey", "0"],
        &["SRANDMEMBER", "nokey"],
        &["SRANDMEMBER", "nokey", "3"],
        &["SRANDMEMBER", "nokey", "-3"],
        &["SADD", "s", "a", "b", "c", "d", "e"],
        &["~shape", "SRANDMEMBER", "s"],
        &["SRANDMEMBER", "s", "0"],
        &["~sorted", "SRANDMEMBER", "s", "5"],
        &["~sorted", "SRANDMEMBER", "s", "50"],
        &["~shape", "SRANDMEMBER", "s", "3"],
        &["~shape", "SRANDMEMBER", "s", "-12"],
        &["~shape", "SRANDMEMBER", "s", "-1"],
        &["SRANDMEMBER", "s", "x"],
        &["SRANDMEMBER", "s", "1", "2"],
        &["SRANDMEMBER", "s", "-9223372036854775808"],
        &["SRANDMEMBER", "s", "9223372036854775808"],
        &["~shape", "SPOP", "s"],
        &["~shape", "SPOP", "s", "2"],
        &["SPOP", "s", "0"],
        &["SCARD", "s"],
        &["SPOP", "s", "-1"],
        &["SPOP", "s", "x"],
        &["SPOP", "s", "1", "2"],
        &["~shape", "SPOP", "s", "1"],
        &["~shape", "SPOP", "s", "5"],
        &["EXISTS", "s"],
        &["SADD", "i", "1", "2", "3"],
        &["SPOP", "i", "3"],
        &["EXISTS", "i"],
        &["SADD", "i", "1", "2", "3"],
        &["SPOP", "i", "9223372036854775807"],
        &["SADD", "one", "x"],
        &["SPOP", "one"],
        &["EXISTS", "one"],
        &["SPOP"],
        &["SRANDMEMBER"],
    ]);
}

#[test]
fn spop_srandmember_large_sets() {
    // Each size/count branch of SPOP and SRANDMEMBER (count near the size,
    // count far below it) on intset, small and hashtable sets.
    let mut ints = words("SADD ints");
    let mut strs = words("SADD strs");
    for i in 0..300 {
        ints.push(i.to_string());
        strs.push(format!("m{i}"));
    }
    let mut script = vec![ints, strs];
    for l in [
        "~sorted SRANDMEMBER ints 300",
        "~sorted SRANDMEMBER strs 1000",
        "~shape SRANDMEMBER ints 250",
        "~shape SRANDMEMBER strs 250",
        "~shape SRANDMEMBER strs 20",
        "~shape SRANDMEMBER strs -500",
        "~shape SPOP ints 10",
        "~shape SPOP strs 250",
        "SCARD strs",
        "~shape SPOP strs 20",
        "SCARD strs",
        "~shape SPOP strs 30",
        "EXISTS strs",
        "~shape SPOP ints 200",
        "~shape SPOP ints 90",
        "EXISTS ints",
    ] {
        script.push(words(l));
    }
    both_owned(&script);
}

#[test]
fn smove() {
    both(&[
        &["SADD", "a", "1", "2", "x"],
        &["SADD", "b", "3"],
        &["SMOVE", "a", "b", "1"],
        &["SMOVE", "a", "b", "zz"],
        &["SMOVE", "nokey", "b", "1"],
        &["SMOVE", "a", "b", "x"],
        &["SMOVE", "a", "a", "2"],
        &["SMOVE", "a", "a", "zz"],
        &["SMEMBERS", "a"],
        &["~sorted", "SMEMBERS", "b"],
        &["SMOVE", "a", "new", "2"],
        &["EXISTS", "a"],
        &["SMEMBERS", "new"],
        &["SMOVE", "b", "new", "3"],
        &["SMEMBERS", "new"],
        &["SET", "str", "v"],
        &["SMOVE", "b", "str", "1"],
        &["SMOVE", "str", "b", "1"],
        &["SMOVE", "nokey", "str", "1"],
        &["SMOVE", "b", "str", "zz"],
        &["~sorted", "SMEMBERS", "b"],
        &["SMOVE", "a", "b"],
    ]);
}

#[test]
fn set_algebra() {
    both(&[
        &["SADD", "a", "1", "2", "3", "4", "x"],
        &["SADD", "b", "2", "3", "y", "x"],
        &["SADD", "c", "3", "x", "z"],
        &["SADD", "i", "1", "2", "3"],
        &["~sorted", "SINTER", "a", "b"],
        &["~sorted", "SINTER", "a", "b", "c"],
        &["SINTER", "a", "nokey"],
        &["SINTER", "nokey", "a"],
        &["~sorted", "SINTER", "a"],
        &["SINTER", "a", "i"],
        &["~sorted", "SUNION", "a", "b", "c"],
        &["~sorted", "SUNION", "nokey", "a"],
        &["SUNION", "nokey"],
        &["~sorted", "SDIFF", "a", "b"],
        &["~sorted", "SDIFF", "a", "b", "c"],
        &["SDIFF", "a", "a"],
        &["SDIFF", "nokey", "a"],
        &["~sorted", "SDIFF", "a", "nokey"],
        &["SDIFF", "i", "a"],
        &["SINTERCARD", "2", "a", "b"],
        &["SINTERCARD", "3", "a", "b", "c"],
        &["SINTERCARD", "2", "a", "nokey"],
        &["SINTERCARD", "1", "a"],
        &["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
        &["SINTERCARD", "2", "a", "b", "LIMIT", "0"],
        &["SINTERCARD", "2", "a", "b", "limit", "100"],
        &["SINTERCARD", "2", "a", "b", "LIMIT", "-1"],
        &["SINTERCARD", "2", "a", "b", "LIMIT", "x"],
        &["SINTERCARD", "2", "a", "b", "LIMIT"],
        &["SINTERCARD", "2", "a", "b", "FOO", "1"],
        &["SINTERCARD", "0", "a"],
        &["SINTERCARD", "-1", "a"],
        &["SINTERCARD", "x", "a"],
        &["SINTERCARD", "3", "a", "b"],
        &["SINTERCARD", "9223372036854775808", "a"],
        &["SINTERCARD", "1", "a", "b"],
        &["SINTERSTORE", "dst", "a", "b"],
        &["~sorted", "SMEMBERS", "dst"],
        &["SINTERSTORE", "dst", "a", "nokey"],
        &["EXISTS", "dst"],
        &["SINTERSTORE", "dst", "i", "a"],
        &["SMEMBERS", "dst"],
        &["OBJECT", "ENCODING", "dst"],
        &["SUNIONSTORE", "dst", "a", "b", "c"],
        &["SCARD", "dst"],
        &["SUNIONSTORE", "dst", "nokey"],
        &["EXISTS", "dst"],
        &["SDIFFSTORE", "dst", "a", "b"],
        &["~sorted", "SMEMBERS", "dst"],
        &["SDIFFSTORE", "dst", "a", "a"],
        &["EXISTS", "dst"],
        &["SDIFFSTORE", "a", "a", "c"],
        &["~sorted", "SMEMBERS", "a"],
        &["SUNIONSTORE", "a", "a", "c"],
        &["SCARD", "a"],
        &["SET", "str", "v"],
        &["SINTERSTORE", "str", "a", "b"],
        &["TYPE", "str"],
        &["SET", "str", "v"],
        &["SUNIONSTORE", "str", "nokey"],
        &["EXISTS", "str"],
        &["SET", "str", "v"],
        &["SINTER", "a", "str"],
        &["SINTER", "nokey", "str"],
        &["SINTER", "str", "nokey"],
        &["SUNION", "a", "str"],
        &["SDIFF", "a", "str"],
        &["SDIFF", "nokey", "str"],
        &["SINTERCARD", "2", "a", "str"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SINTERSTORE", "dst", "a", "str"],
        &["SUNIONSTORE", "dst", "a", "str"],
        &["SDIFFSTORE", "dst", "a", "str"],
        &["SDIFFSTORE", "dst", "nokey", "str"],
        &["SINTER"],
        &["SUNION"],
        &["SDIFF"],
        &["SINTERSTORE", "dst"],
        &["SUNIONSTORE", "dst"],
        &["SDIFFSTORE", "dst"],
        &["SINTERCARD", "1"],
    ]);
}

#[test]
fn set_algebra_large() {
    let mut a = words("SADD a");
    let mut b = words("SADD b");
    let mut c = words("SADD c");
    for i in 0..400 {
        a.push(format!("e{i}"));
        if i % 2 == 0 {
            b.push(format!("e{i}"));
        }
        if i % 3 == 0 {
            c.push(format!("e{i}"));
        }
    }
    let mut script = vec![a, b, c];
    for l in [
        "SINTERCARD 3 a b c",
        "SINTERCARD 3 a b c LIMIT 10",
        "~sorted SINTER a b c",
        "~sorted SDIFF a b c",
        "SUNIONSTORE u a b c",
        "SINTERSTORE d b c",
        "SDIFFSTORE d2 a b",
        "SCARD d2",
        "OBJECT ENCODING d2",
        "SINTERCARD 2 d d2",
    ] {
        script.push(words(l));
    }
    both_owned(&script);
}

#[test]
fn sscan() {
    let p = Pair::new();
    let script: &[&[&str]] = &[
        &["SSCAN", "nokey", "0"],
        &["SADD", "i", "5", "1", "3", "22", "-4"],
        // An intset is returned whole, sorted, in one call.
        &["SSCAN", "i", "0"],
        &["SSCAN", "i", "0", "MATCH", "2*"],
        &["SSCAN", "i", "0", "COUNT", "1"],
        &["SSCAN", "i", "0", "MATCH", "*", "COUNT", "100"],
        &["SSCAN", "i", "0", "COUNT", "0"],
        &["SSCAN", "i", "0", "COUNT", "x"],
        &["SSCAN", "i", "0", "MATCH"],
        &["SSCAN", "i", "0", "NOVALUES"],
        &["SSCAN", "i", "x"],
        &["SSCAN", "i"],
        &["SADD", "s", "alpha", "beta", "gamma"],
        &["~shape", "SSCAN", "s", "0"],
        &["~shape", "SSCAN", "s", "0", "MATCH", "*a"],
    ];
    p.diff(script);
    p.diff3(script);
    // Cursors differ between the servers: walk each to the end and compare
    // what was collected.
    let mut servers = vec![p.ferrokey.connect()];
    servers.extend(p.redis.as_ref().map(Server::connect));
    let mut seen = Vec::new();
    for c in &mut servers {
        c.cmd(&["FLUSHALL"]);
        let mut args = words("SADD big");
        for i in 0..500 {
            args.push(format!("m{i}"));
        }
        c.cmd(&args);
        seen.push(scan_all(
            c,
            &["SSCAN", "big", "0", "MATCH", "m4*", "COUNT", "13"],
            2,
            1,
        ));
    }
    assert_eq!(seen[0].len(), 111);
    if seen.len() == 2 {
        assert_same_items("SSCAN", &seen[0], &seen[1]);
    }
}

#[test]
fn set_wrong_type() {
    both(&[
        &["SET", "str", "v"],
        &["SADD", "str", "a"],
        &["SREM", "str", "a"],
        &["SMEMBERS", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SSCAN", "str", "0"],
        &["SPOP", "str", "x"],
        &["SRANDMEMBER", "str", "x"],
        &["SPOP", "str", "-1"],
        &["LPUSH", "l", "a"],
        &["SADD", "l", "a"],
        &["SCARD", "l"],
        &["SMEMBERS", "l"],
        &["GET", "str"],
    ]);
}

/// Set encodings: Redis 7.2 keeps small sets of strings in a listpack,
/// 7.0 (the oracle) goes straight to a hashtable. Intset and hashtable
/// transitions are the same in both and compared; listpack ones are
/// checked against Ferrokey only.
#[test]
fn set_encoding_conversions() {
    let p = Pair::new();
    let script: &[&[&str]] = &[
        &["CONFIG", "SET", "set-max-intset-entries", "4"],
        &["SADD", "i", "1", "2", "3", "4"],
        &["OBJECT", "ENCODING", "i"],
        &["SADD", "i", "5"],
        &["OBJECT", "ENCODING", "i"],
        &["SREM", "i", "1", "2", "3", "4"],
        &["OBJECT", "ENCODING", "i"],
        &["SADD", "j", "9223372036854775807"],
        &["OBJECT", "ENCODING", "j"],
        &["SADD", "j", "9223372036854775808"],
        &["~sorted", "SMEMBERS", "j"],
        &["SADD", "k", "1", "2"],
        &["SINTERSTORE", "d", "k", "k"],
        &["OBJECT", "ENCODING", "d"],
        &["CONFIG", "SET", "set-max-intset-entries", "512"],
    ];
    p.diff(script);
    p.diff3(script);
    check72(|c| {
        let enc = |c: &mut Conn, key: &str, want: &str| {
            expect(
                c,
                &["OBJECT", "ENCODING", key],
                format!("${}\r\n{want}\r\n", want.len()).as_bytes(),
            );
        };
        c.cmd(&["CONFIG", "SET", "set-max-listpack-entries", "3"]);
        c.cmd(&["CONFIG", "SET", "set-max-listpack-value", "5"]);
        c.cmd(&["SADD", "s", "a", "b"]);
        enc(c, "s", "listpack");
        c.cmd(&["SADD", "s", "c"]);
        enc(c, "s", "listpack");
        c.cmd(&["SADD", "s", "d"]);
        enc(c, "s", "hashtable");
        c.cmd(&["SADD", "v", "abcde"]);
        enc(c, "v", "listpack");
        c.cmd(&["SADD", "v", "abcdef"]);
        enc(c, "v", "hashtable");
        // An intset that gains a string member becomes a listpack while
        // small.
        c.cmd(&["SADD", "n", "1", "2"]);
        enc(c, "n", "intset");
        c.cmd(&["SADD", "n", "x"]);
        enc(c, "n", "listpack");
        // An intset past the listpack limit goes straight to a hashtable.
        c.cmd(&["SADD", "n4", "1", "2", "3", "4"]);
        enc(c, "n4", "intset");
        c.cmd(&["SADD", "n4", "x"]);
        enc(c, "n4", "hashtable");
        // Results of the set algebra are built in the same encodings.
        c.cmd(&["SADD", "a", "x", "y"]);
        c.cmd(&["SUNIONSTORE", "u", "a", "n"]);
        enc(c, "u", "hashtable");
        c.cmd(&["SINTERSTORE", "i", "a", "n"]);
        enc(c, "i", "listpack");
        c.cmd(&["SDIFFSTORE", "d", "n", "a"]);
        enc(c, "d", "intset");
        c.cmd(&["SMOVE", "a", "m", "x"]);
        enc(c, "m", "listpack");
        c.cmd(&["CONFIG", "SET", "set-max-listpack-entries", "128"]);
        c.cmd(&["CONFIG", "SET", "set-max-listpack-value", "64"]);
        c.cmd(&["FLUSHALL"]);
    });
}

/// The encodings of SINTERSTORE / SDIFFSTORE results and of what SPOP with
/// a count leaves, which follow how Redis 7.2 builds them (7.0 differs).
#[test]
fn store_and_spop_encodings_72() {
    check72(|c| {
        let enc = |c: &mut Conn, key: &str, want: &str| {
            expect(
                c,
                &["OBJECT", "ENCODING", key],
                format!("${}\r\n{want}\r\n", want.len()).as_bytes(),
            );
        };
        let cmd = |c: &mut Conn, line: String| {
            let args: Vec<&str> = line.split(' ').collect();
            c.cmd(&args);
        };
        c.cmd(&["CONFIG", "SET", "set-max-listpack-entries", "4"]);
        c.cmd(&["CONFIG", "SET", "set-max-intset-entries", "3"]);
        // SINTERSTORE starts from a listpack unless the smallest input is
        // an intset, and ends as an intset when it can.
        cmd(c, "SADD s 2 3 4 5 6".into());
        c.cmd(&["SREM", "s", "6"]);
        enc(c, "s", "hashtable");
        expect(c, &["SINTERSTORE", "d1", "s", "s"], b":4\r\n");
        enc(c, "d1", "listpack");
        cmd(c, "SADD p 1 2 a".into());
        expect(c, &["SINTERSTORE", "d2", "p", "s"], b":1\r\n");
        enc(c, "d2", "intset");
        // SPOP leaving at most a fifth of a hashtable moves the rest into
        // a new listpack.
        cmd(
            c,
            format!(
                "SADD t {}",
                (0..10)
                    .map(|i| format!("m{i}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
        c.cmd(&["SPOP", "t", "9"]);
        enc(c, "t", "listpack");
        cmd(
            c,
            format!(
                "SADD t2 {}",
                (0..10).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
            ),
        );
        c.cmd(&["SPOP", "t2", "8"]);
        enc(c, "t2", "hashtable");
        c.cmd(&["CONFIG", "SET", "set-max-listpack-entries", "128"]);
        c.cmd(&["CONFIG", "SET", "set-max-intset-entries", "512"]);
        cmd(
            c,
            format!(
                "SADD u {}",
                (0..300)
                    .map(|i| format!("m{i}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
        c.cmd(&["SPOP", "u", "250"]);
        enc(c, "u", "listpack");
        expect(c, &["SCARD", "u"], b":50\r\n");
        // SDIFFSTORE by its second algorithm (a big first set, small
        // others) keeps the encoding the whole first set needed.
        cmd(
            c,
            format!(
                "SADD v {}",
                (0..600)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
        cmd(
            c,
            format!(
                "SADD w {}",
                (0..100)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
        cmd(
            c,
            format!(
                "SADD w2 {}",
                (100..150)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
        expect(c, &["SDIFFSTORE", "d5", "v", "w", "w2"], b":450\r\n");
        enc(c, "d5", "hashtable");
        expect(c, &["SDIFFSTORE", "d6", "v", "w"], b":500\r\n");
        enc(c, "d6", "intset");
        c.cmd(&["FLUSHALL"]);
    });
}
