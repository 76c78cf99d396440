//! Differential tests for the sorted set commands, in RESP2 and RESP3,
//! with bad input and wrong types. Scores must print as Redis prints them
//! (17 significant digits, `inf`, `-inf`), in bulk strings for RESP2 and
//! doubles for RESP3.

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
fn zadd_options() {
    both(&[
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZADD", "z", "1", "a"],
        &["ZADD", "z", "CH", "1", "a", "5", "b", "6", "d"],
        &["ZADD", "z", "NX", "10", "a", "7", "e"],
        &["ZADD", "z", "XX", "10", "a", "7", "f"],
        &["ZADD", "z", "XX", "CH", "11", "a", "7", "f"],
        &["ZADD", "z", "GT", "CH", "5", "a", "20", "b"],
        &["ZADD", "z", "LT", "CH", "5", "a", "30", "b"],
        &["ZADD", "z", "GT", "100", "new"],
        &["ZADD", "z", "LT", "XX", "CH", "-1", "new", "1", "none"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["ZADD", "z", "INCR", "5", "a"],
        &["ZADD", "z", "INCR", "-2.5", "inc"],
        &["ZADD", "z", "NX", "INCR", "1", "a"],
        &["ZADD", "z", "XX", "INCR", "1", "absent"],
        &["ZADD", "z", "GT", "INCR", "-1", "a"],
        &["ZADD", "z", "LT", "INCR", "-1", "a"],
        &["ZADD", "z", "GT", "INCR", "1", "a"],
        &["ZADD", "z", "INCR", "1", "a", "2", "b"],
        &["ZADD", "z", "INCR", "1"],
        &["ZADD", "z", "NX", "XX", "1", "a"],
        &["ZADD", "z", "NX", "GT", "1", "a"],
        &["ZADD", "z", "NX", "LT", "1", "a"],
        &["ZADD", "z", "GT", "LT", "1", "a"],
        &["ZADD", "z", "1"],
        &["ZADD", "z", "1", "a", "2"],
        &["ZADD", "z", "CH"],
        &["ZADD", "z", "CH", "1"],
        &["ZADD", "z", "x", "a"],
        &["ZADD", "z", "1", "a", "x", "b"],
        &["ZADD", "z", "nan", "a"],
        &["ZADD", "z", "", "a"],
        &["ZADD", "z", "1.5.5", "a"],
        &["ZADD", "z", "FOO", "1", "a"],
        &["ZADD", "z", "inf", "pinf", "-inf", "ninf", "+inf", "pinf2"],
        &["ZADD", "z", "1e400", "huge"],
        &["ZADD", "z", "INCR", "-inf", "pinf"],
        &["ZADD", "z", "INCR", "inf", "pinf"],
        &["ZSCORE", "z", "pinf"],
        &["ZSCORE", "z", "ninf"],
        &["ZSCORE", "z", "huge"],
        &["ZADD", "z", "0x10", "hex"],
        &["ZADD", "z", " 1", "sp"],
        &["ZADD", "z", "1 ", "sp"],
        &[
            "ZADD", "z", "1e3", "e3", "-0", "negzero", ".5", "half", "5.", "five",
        ],
        &["ZSCORE", "z", "negzero"],
        &["ZSCORE", "z", "half"],
        &[
            "ZADD",
            "z",
            "0.125",
            "eighth",
            "3.0000000000000001",
            "three",
        ],
        &["ZSCORE", "z", "eighth"],
        &["ZSCORE", "z", "three"],
        &[
            "ZADD",
            "z",
            "1.7976931348623157e308",
            "max",
            "1e-400",
            "tiny",
        ],
        &["ZSCORE", "z", "max"],
        &["ZSCORE", "z", "tiny"],
        &["ZADD", "z", "1234567890123456", "long", "0X1P-2", "hex2"],
        &[
            "ZADD", "z", "0x1.8p1", "hex3", "infinity", "pinf3", "-INF", "ninf2",
        ],
        &["ZSCORE", "z", "long"],
        &["ZADD", "z", "0x", "bad"],
        &["ZADD", "z", "1e", "bad"],
        &["ZADD", "z", "1\u{0}", "bad"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["ZCARD", "z"],
        &["ZADD", "z", "XX", "1", "nothere"],
        &["ZADD", "nokey", "XX", "1", "a"],
        &["EXISTS", "nokey"],
        &["ZADD", "nokey", "XX", "INCR", "1", "a"],
        &["ZADD", "nokey", "NX", "INCR", "1", "a"],
        &["ZADD"],
        &["ZADD", "z"],
    ]);
}

#[test]
fn zincrby_zrem_zscore_zcard() {
    both(&[
        &["ZINCRBY", "z", "0.5", "a"],
        &["ZINCRBY", "z", "0.25", "a"],
        &["ZSCORE", "z", "a"],
        &["ZINCRBY", "z", "-0.75", "a"],
        &["ZSCORE", "z", "a"],
        &["ZINCRBY", "z", "0x10", "a"],
        &["ZINCRBY", "z", " 1", "a"],
        &["ZINCRBY", "z", "1e400", "a"],
        &["ZINCRBY", "z", "1e308", "b"],
        &["ZINCRBY", "z", "1e308", "b"],
        &["ZINCRBY", "z", "inf", "c"],
        &["ZINCRBY", "z", "-inf", "c"],
        &["ZINCRBY", "z", "1", "c"],
        &["ZINCRBY", "z", "nan", "c"],
        &["ZINCRBY", "z", "x", "c"],
        &["ZINCRBY", "z", "1"],
        &["ZINCRBY", "z", "7", "d"],
        &["ZSCORE", "z", "d"],
        &["ZSCORE", "z", "nothere"],
        &["ZSCORE", "nokey", "a"],
        &["ZMSCORE", "z", "a", "nothere", "b", "c", "d"],
        &["ZMSCORE", "nokey", "a", "b"],
        &["ZMSCORE", "z"],
        &["ZCARD", "z"],
        &["ZCARD", "nokey"],
        &["ZREM", "z", "a", "nothere", "a"],
        &["ZREM", "nokey", "a"],
        &["ZREM", "z"],
        &["ZCARD", "z"],
        &["ZREM", "z", "b", "c", "d"],
        &["EXISTS", "z"],
        &["ZSCORE", "z"],
        &["ZCARD"],
    ]);
}

#[test]
fn zrank_zcount_zlexcount() {
    let p = Pair::new();
    let script: &[&[&str]] = &[
        &[
            "ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "-inf", "m", "inf", "p",
        ],
        &["ZRANK", "z", "a"],
        &["ZRANK", "z", "p"],
        &["ZREVRANK", "z", "a"],
        &["ZREVRANK", "z", "m"],
        &["ZRANK", "z", "nothere"],
        &["ZRANK", "nokey", "a"],
        &["ZREVRANK", "nokey", "a"],
        &["ZCOUNT", "z", "-inf", "+inf"],
        &["ZCOUNT", "z", "1", "2"],
        &["ZCOUNT", "z", "(1", "2"],
        &["ZCOUNT", "z", "(1", "(2"],
        &["ZCOUNT", "z", "2", "1"],
        &["ZCOUNT", "z", "(-inf", "(inf"],
        &["ZCOUNT", "z", "-inf", "-inf"],
        &["ZCOUNT", "z", "x", "1"],
        &["ZCOUNT", "z", "1", "(x"],
        &["ZCOUNT", "z", "((1", "2"],
        &["ZCOUNT", "z", "nan", "2"],
        &["ZCOUNT", "z", "(", "2"],
        &["ZCOUNT", "z", "1e1", "0x1"],
        &["ZCOUNT", "nokey", "0", "1"],
        &["ZCOUNT", "nokey", "x", "1"],
        &[
            "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
        ],
        &["ZLEXCOUNT", "l", "-", "+"],
        &["ZLEXCOUNT", "l", "[b", "[d"],
        &["ZLEXCOUNT", "l", "(b", "(d"],
        &["ZLEXCOUNT", "l", "(b", "[b"],
        &["ZLEXCOUNT", "l", "+", "-"],
        &["ZLEXCOUNT", "l", "[d", "[b"],
        &["ZLEXCOUNT", "l", "-", "[c"],
        &["ZLEXCOUNT", "l", "[", "+"],
        &["ZLEXCOUNT", "l", "b", "[d"],
        &["ZLEXCOUNT", "l", "[b", "d"],
        &["ZLEXCOUNT", "l", "", "+"],
        &["ZLEXCOUNT", "l", "-a", "+"],
        &["ZLEXCOUNT", "nokey", "-", "+"],
        &["ZLEXCOUNT", "nokey", "x", "+"],
        &["ZRANK", "z"],
        &["ZRANK", "z", "a", "x", "y"],
        &["ZCOUNT", "z", "1"],
        &["ZLEXCOUNT", "l", "-"],
    ];
    p.diff(script);
    p.diff3(script);
    // WITHSCORE is new in 7.2.
    check72(|c| {
        expect(c, &["ZADD", "w", "1.5", "a", "2", "b"], b":2\r\n");
        expect(
            c,
            &["ZRANK", "w", "b", "WITHSCORE"],
            b"*2\r\n:1\r\n$1\r\n2\r\n",
        );
        expect(
            c,
            &["ZREVRANK", "w", "b", "withscore"],
            b"*2\r\n:0\r\n$1\r\n2\r\n",
        );
        expect(
            c,
            &["ZRANK", "w", "a", "WITHSCORE"],
            b"*2\r\n:0\r\n$3\r\n1.5\r\n",
        );
        expect(c, &["ZRANK", "w", "zz", "WITHSCORE"], b"*-1\r\n");
        expect(c, &["ZRANK", "nokey", "a", "WITHSCORE"], b"*-1\r\n");
        expect(
            c,
            &["ZRANK", "w", "a", "WITHSCORES"],
            b"-ERR syntax error\r\n",
        );
        expect(
            c,
            &["ZRANK", "w", "a", "WITHSCORE", "x"],
            b"-ERR wrong number of arguments for 'zrank' command\r\n",
        );
        c.cmd(&["SET", "str", "v"]);
        expect(
            c,
            &["ZRANK", "str", "a", "WITHSCORE"],
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        c.cmd(&["HELLO", "3"]);
        expect(
            c,
            &["ZRANK", "w", "a", "WITHSCORE"],
            b"*2\r\n:0\r\n,1.5\r\n",
        );
        expect(c, &["ZRANK", "w", "zz", "WITHSCORE"], b"_\r\n");
        c.cmd(&["FLUSHALL"]);
    });
}

/// Redis 7.2 prints scores with the digits its Grisu2 finds
/// (`fpconv_dtoa`), 7.0 with `%.17g`: 0.1 is `0.1` in 7.2 and
/// `0.10000000000000001` in 7.0. Scores whose text differs between the two
/// are checked against 7.2's output here.
#[test]
fn score_format_72() {
    let cases: &[(&str, &str)] = &[
        ("0.1", "0.1"),
        ("-0.000001", "-0.000001"),
        ("1e-7", "1e-7"),
        ("1.5e-7", "1.5e-7"),
        ("0.00012345678", "1.2345678e-4"),
        ("123456789012345678", "123456789012345680"),
        ("12345678901234567890", "12345678901234567000"),
        ("1e19", "1e+19"),
        ("1e22", "1e+22"),
        ("4.9e-324", "5e-324"),
        ("1e-300", "1e-300"),
        ("-7000614.5233", "-7.0006145232999995e+6"),
        ("9.7223e20", "972230000000000100000"),
        ("-1.651484200947297e116", "-1.6514842009472968e+116"),
        ("4611686018427387904", "4611686018427387904"),
        ("4611686018427387905", "4611686018427387904"),
        ("9223372036854775807", "9223372036854776000"),
        ("0.3", "0.3"),
        ("2.5e-5", "0.000025"),
    ];
    check72(|c| {
        let pad = "x".repeat(100);
        for (i, (input, want)) in cases.iter().enumerate() {
            let m = format!("m{i}");
            c.cmd(&["ZADD", "z", input, &m]);
            // A listpack and a skiplist print the same.
            c.cmd(&["ZADD", "big", input, &m, "0", &pad]);
            let bulk = format!("${}\r\n{want}\r\n", want.len());
            expect(c, &["ZSCORE", "z", &m], bulk.as_bytes());
            expect(c, &["ZSCORE", "big", &m], bulk.as_bytes());
            expect(c, &["ZINCRBY", "inc", input, &m], bulk.as_bytes());
        }
        // -0: a listpack stores it as the integer 0, a skiplist keeps it;
        // the reply to an increment is the value computed.
        expect(c, &["ZADD", "nz", "-0", "a"], b":1\r\n");
        expect(c, &["ZSCORE", "nz", "a"], b"$1\r\n0\r\n");
        expect(c, &["ZADD", "big", "-0", "negzero"], b":1\r\n");
        expect(c, &["ZSCORE", "big", "negzero"], b"$2\r\n-0\r\n");
        expect(c, &["ZINCRBY", "nz2", "-0", "a"], b"$2\r\n-0\r\n");
        expect(c, &["ZSCORE", "nz2", "a"], b"$1\r\n0\r\n");
        expect(c, &["ZADD", "nz3", "INCR", "-0", "a"], b"$2\r\n-0\r\n");
        expect(
            c,
            &["ZRANGE", "nz3", "0", "-1", "WITHSCORES"],
            b"*2\r\n$1\r\na\r\n$1\r\n0\r\n",
        );
        // ZSCAN prints a listpack's scores as stored (as above) and a
        // skiplist's with %.17g.
        expect(
            c,
            &["ZSCAN", "z", "0", "MATCH", "m0"],
            b"*2\r\n$1\r\n0\r\n*2\r\n$2\r\nm0\r\n$3\r\n0.1\r\n",
        );
        expect(
            c,
            &["ZSCAN", "big", "0", "MATCH", "m0", "COUNT", "1000"],
            b"*2\r\n$1\r\n0\r\n*2\r\n$2\r\nm0\r\n$19\r\n0.10000000000000001\r\n",
        );
        expect(
            c,
            &["ZSCAN", "big", "0", "MATCH", "negzero", "COUNT", "1000"],
            b"*2\r\n$1\r\n0\r\n*2\r\n$7\r\nnegzero\r\n$2\r\n-0\r\n",
        );
        c.cmd(&["HELLO", "3"]);
        expect(c, &["ZSCORE", "z", "m0"], b",0.1\r\n");
        expect(c, &["ZSCORE", "z", "m3"], b",1.5e-7\r\n");
        expect(c, &["ZSCORE", "big", "negzero"], b",-0\r\n");
        expect(
            c,
            &["ZRANGE", "z", "0", "1", "WITHSCORES"],
            b"*2\r\n*2\r\n$3\r\nm13\r\n,-1.6514842009472968e+116\r\n*2\r\n$3\r\nm11\r\n,-7.0006145232999995e+6\r\n",
        );
        c.cmd(&["FLUSHALL"]);
    });
}

#[test]
fn zrange_variants() {
    both(&[
        &[
            "ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "4.5", "e", "-inf", "m", "inf",
            "p",
        ],
        &["ZRANGE", "z", "0", "-1"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["ZRANGE", "z", "-3", "-2", "withscores"],
        &["ZRANGE", "z", "5", "1"],
        &["ZRANGE", "z", "100", "200"],
        &["ZRANGE", "z", "-100", "1"],
        &["ZRANGE", "z", "0", "-1", "REV"],
        &["ZRANGE", "z", "0", "1", "REV", "WITHSCORES"],
        &["ZRANGE", "z", "x", "1"],
        &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"],
        &["ZRANGE", "z", "(1", "3", "BYSCORE"],
        &["ZRANGE", "z", "1", "(3", "BYSCORE", "WITHSCORES"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE"],
        &["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV"],
        &["ZRANGE", "z", "3", "1", "BYSCORE", "REV", "WITHSCORES"],
        &["ZRANGE", "z", "(3", "(1", "BYSCORE", "REV"],
        &["ZRANGE", "z", "1", "3", "BYSCORE", "REV"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "3"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-1"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "3"],
        &[
            "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "100", "3",
        ],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "0"],
        &[
            "ZRANGE",
            "z",
            "+inf",
            "-inf",
            "BYSCORE",
            "REV",
            "LIMIT",
            "1",
            "2",
            "WITHSCORES",
        ],
        &["ZRANGE", "z", "x", "1", "BYSCORE"],
        &["ZRANGE", "z", "1", "x", "BYSCORE"],
        &["ZRANGE", "z", "nan", "1", "BYSCORE"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "x", "1"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "x"],
        &["ZRANGE", "z", "-", "+", "BYLEX"],
        &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
        &["ZRANGE", "z", "-", "+", "BYSCORE", "BYLEX"],
        &["ZRANGE", "z", "0", "1", "FOO"],
        &["ZRANGE", "z", "0", "1", "WITHSCORES", "WITHSCORES"],
        &["ZRANGE", "z", "0"],
        &[
            "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f",
        ],
        &["ZRANGE", "l", "-", "+", "BYLEX"],
        &["ZRANGE", "l", "[b", "(e", "BYLEX"],
        &["ZRANGE", "l", "(b", "[e", "BYLEX", "LIMIT", "1", "2"],
        &["ZRANGE", "l", "+", "-", "BYLEX", "REV"],
        &["ZRANGE", "l", "[e", "(b", "BYLEX", "REV", "LIMIT", "0", "2"],
        &["ZRANGE", "l", "[e", "(b", "BYLEX"],
        &["ZRANGE", "l", "b", "e", "BYLEX"],
        &["ZRANGE", "l", "-", "+", "BYLEX", "LIMIT", "0", "-1"],
        &["ZRANGE", "l", "[", "(", "BYLEX"],
        &["ZRANGE", "l", "(", "+", "BYLEX"],
        &["ZRANGE", "nokey", "0", "-1"],
        &["ZRANGE", "nokey", "x", "-1"],
        &["ZRANGE", "nokey", "-", "+", "BYLEX", "WITHSCORES"],
        &["ZRANGE", "nokey", "0", "1", "LIMIT", "0", "1"],
        &["ZREVRANGE", "z", "0", "-1"],
        &["ZREVRANGE", "z", "0", "2", "WITHSCORES"],
        &["ZREVRANGE", "z", "0", "2", "FOO"],
        &["ZREVRANGE", "z", "0", "2", "WITHSCORES", "x"],
        &["ZRANGEBYSCORE", "z", "-inf", "+inf"],
        &["ZRANGEBYSCORE", "z", "(2", "+inf", "WITHSCORES"],
        &["ZRANGEBYSCORE", "z", "2", "2"],
        &["ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "1", "2"],
        &[
            "ZRANGEBYSCORE",
            "z",
            "0",
            "10",
            "WITHSCORES",
            "LIMIT",
            "1",
            "2",
        ],
        &[
            "ZRANGEBYSCORE",
            "z",
            "0",
            "10",
            "LIMIT",
            "1",
            "2",
            "WITHSCORES",
        ],
        &["ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "1"],
        &["ZRANGEBYSCORE", "z", "0", "10", "REV"],
        &["ZRANGEBYSCORE", "z", "a", "10"],
        &["ZREVRANGEBYSCORE", "z", "+inf", "-inf"],
        &["ZREVRANGEBYSCORE", "z", "3", "(1", "WITHSCORES"],
        &["ZREVRANGEBYSCORE", "z", "1", "3"],
        &["ZREVRANGEBYSCORE", "z", "10", "0", "LIMIT", "0", "2"],
        &["ZRANGEBYLEX", "l", "-", "+"],
        &["ZRANGEBYLEX", "l", "[c", "+", "LIMIT", "1", "10"],
        &["ZRANGEBYLEX", "l", "-", "+", "WITHSCORES"],
        &["ZRANGEBYLEX", "l", "a", "+"],
        &["ZREVRANGEBYLEX", "l", "+", "-"],
        &["ZREVRANGEBYLEX", "l", "(d", "-", "LIMIT", "1", "1"],
        &["ZREVRANGEBYLEX", "l", "-", "+"],
        &["ZREVRANGEBYLEX", "l", "+", "x"],
        &["ZRANGEBYSCORE", "nokey", "0", "1"],
        &["ZRANGEBYSCORE", "nokey", "x", "1"],
        &["ZRANGEBYLEX", "nokey", "x", "+"],
        &["ZRANGEBYSCORE", "z", "0"],
        &["ZRANGEBYLEX", "l", "-"],
        &["ZREVRANGE", "z", "0"],
    ]);
}

#[test]
fn zrangestore() {
    both(&[
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        &["ZRANGESTORE", "dst", "z", "1", "2"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &[
            "ZRANGESTORE",
            "dst",
            "z",
            "(1",
            "+inf",
            "BYSCORE",
            "LIMIT",
            "1",
            "2",
        ],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &[
            "ZRANGESTORE",
            "dst",
            "z",
            "+inf",
            "-inf",
            "BYSCORE",
            "REV",
            "LIMIT",
            "0",
            "1",
        ],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["ZRANGESTORE", "dst", "z", "[b", "+", "BYLEX"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["ZRANGESTORE", "dst", "z", "5", "10"],
        &["EXISTS", "dst"],
        &["ZRANGESTORE", "dst", "nokey", "0", "-1"],
        &["ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"],
        &["ZRANGESTORE", "dst", "z", "0", "-1", "LIMIT", "0", "1"],
        &["ZRANGESTORE", "dst", "z", "x", "1"],
        &["ZRANGESTORE", "z", "z", "0", "1"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["SET", "str", "v"],
        &["ZRANGESTORE", "str", "z", "0", "-1"],
        &["TYPE", "str"],
        &["ZRANGESTORE", "dst", "str", "0", "-1"],
        &["ZRANGESTORE", "dst", "z"],
    ]);
}

#[test]
fn zremrange() {
    both(&[
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f",
        ],
        &["ZREMRANGEBYRANK", "z", "0", "0"],
        &["ZREMRANGEBYRANK", "z", "-1", "-1"],
        &["ZREMRANGEBYRANK", "z", "10", "20"],
        &["ZREMRANGEBYRANK", "z", "3", "1"],
        &["ZREMRANGEBYRANK", "z", "x", "1"],
        &["ZRANGE", "z", "0", "-1"],
        &["ZREMRANGEBYSCORE", "z", "(2", "3"],
        &["ZREMRANGEBYSCORE", "z", "10", "20"],
        &["ZREMRANGEBYSCORE", "z", "x", "20"],
        &["ZREMRANGEBYSCORE", "z", "5", "1"],
        &["ZRANGE", "z", "0", "-1"],
        &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
        &["EXISTS", "z"],
        &["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"],
        &["ZREMRANGEBYLEX", "l", "(a", "[c"],
        &["ZREMRANGEBYLEX", "l", "x", "[c"],
        &["ZREMRANGEBYLEX", "l", "[z", "+"],
        &["ZRANGE", "l", "0", "-1"],
        &["ZREMRANGEBYLEX", "l", "-", "+"],
        &["EXISTS", "l"],
        &["ZREMRANGEBYRANK", "nokey", "0", "-1"],
        &["ZREMRANGEBYSCORE", "nokey", "0", "1"],
        &["ZREMRANGEBYLEX", "nokey", "-", "+"],
        &["ZREMRANGEBYRANK", "nokey", "x", "-1"],
        &["ZREMRANGEBYSCORE", "nokey", "x", "1"],
        &["ZREMRANGEBYLEX", "nokey", "x", "+"],
        &["ZREMRANGEBYRANK", "z", "0"],
    ]);
}

#[test]
fn zpop_zmpop_zrandmember() {
    both(&[
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
        &["ZPOPMIN", "z"],
        &["ZPOPMAX", "z"],
        &["ZPOPMIN", "z", "2"],
        &["ZPOPMAX", "z", "0"],
        &["ZPOPMIN", "z", "-1"],
        &["ZPOPMAX", "z", "x"],
        &["ZPOPMIN", "z", "1", "2"],
        &["ZPOPMAX", "z", "10"],
        &["EXISTS", "z"],
        &["ZPOPMIN", "nokey"],
        &["ZPOPMAX", "nokey", "3"],
        &["ZPOPMIN", "nokey", "-1"],
        &["ZPOPMIN", "nokey", "x"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZMPOP", "1", "z", "MIN"],
        &["ZMPOP", "1", "z", "max", "count", "5"],
        &["ZMPOP", "1", "z", "MAX"],
        &["ZMPOP", "1", "z", "MIN", "COUNT", "-1"],
        &["ZMPOP", "1", "z", "MIN", "COUNT", "x"],
        &["ZMPOP", "1", "z", "MIN", "COUNT"],
        &["ZMPOP", "-1", "z", "MIN"],
        &["ZMPOP", "x", "z", "MIN"],
        &["ZMPOP", "1", "z"],
        &["ZMPOP", "1"],
        &["ZRANDMEMBER", "nokey"],
        &["ZRANDMEMBER", "nokey", "3"],
        &["ZRANDMEMBER", "nokey", "3", "WITHSCORES"],
        &["ZRANDMEMBER", "nokey", "x"],
        &["ZADD", "r", "1", "a", "2.5", "b", "inf", "c"],
        &["~shape", "ZRANDMEMBER", "r"],
        &["ZRANDMEMBER", "r", "0"],
        &["ZRANDMEMBER", "r", "0", "WITHSCORES"],
        &["~sorted", "ZRANDMEMBER", "r", "3"],
        &["~sorted", "ZRANDMEMBER", "r", "30"],
        &["~pairs", "ZRANDMEMBER", "r", "30", "WITHSCORES"],
        &["~shape", "ZRANDMEMBER", "r", "2"],
        &["~shape", "ZRANDMEMBER", "r", "-5"],
        &["~shape", "ZRANDMEMBER", "r", "-5", "WITHSCORES"],
        &["~shape", "ZRANDMEMBER", "r", "1", "WITHSCORES"],
        &["ZRANDMEMBER", "r", "x"],
        &["ZRANDMEMBER", "r", "1", "WITHSCORE"],
        &["ZRANDMEMBER", "r", "1", "WITHSCORES", "x"],
        &["ZRANDMEMBER", "r", "-9223372036854775808"],
        &["ZRANDMEMBER", "r", "-9223372036854775807", "WITHSCORES"],
        &["ZRANDMEMBER", "r", "9223372036854775807", "WITHSCORES"],
        &["ZRANDMEMBER"],
    ]);
}

#[test]
fn zrandmember_and_zpop_skiplist() {
    let mut add = words("ZADD big");
    for i in 0..300 {
        add.push(format!("{}", i as f64 / 4.0));
        add.push(format!("m{i}"));
    }
    let mut script = vec![add];
    for l in [
        "OBJECT ENCODING big",
        "~sorted ZRANDMEMBER big 300",
        "~pairs ZRANDMEMBER big 1000 WITHSCORES",
        "~shape ZRANDMEMBER big 250",
        "~shape ZRANDMEMBER big 20 WITHSCORES",
        "~shape ZRANDMEMBER big -400",
        "ZPOPMIN big 3",
        "ZPOPMAX big 3",
        "ZMPOP 1 big MIN COUNT 2",
        "ZRANGE big 100 105 WITHSCORES",
        "ZRANGE big (10 20 BYSCORE LIMIT 3 4 WITHSCORES",
        "ZRANGE big +inf -inf BYSCORE REV LIMIT 5 3",
        "ZRANK big m150",
        "ZREVRANK big m150",
        "ZCOUNT big 10 (20",
        "ZREMRANGEBYRANK big 10 20",
        "ZREMRANGEBYSCORE big 30 (40",
        "ZCARD big",
        "ZRANGE big 0 5",
        "ZRANGE big -5 -1",
        "ZSCORE big m299",
    ] {
        script.push(words(l));
    }
    both_owned(&script);
}

#[test]
fn zset_algebra() {
    both(&[
        &["ZADD", "a", "1", "x", "2", "y", "3", "z"],
        &["ZADD", "b", "10", "y", "20", "z", "30", "w"],
        &["SADD", "s", "x", "w", "v"],
        &["ZUNION", "2", "a", "b"],
        &["ZUNION", "2", "a", "b", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "2", "0.5", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "aggregate", "max", "withscores"],
        &["ZUNION", "3", "a", "b", "s", "WITHSCORES"],
        &["ZUNION", "2", "a", "nokey", "WITHSCORES"],
        &["ZUNION", "1", "nokey"],
        &["ZINTER", "2", "a", "b"],
        &["ZINTER", "2", "a", "b", "WITHSCORES"],
        &["ZINTER", "2", "a", "b", "WEIGHTS", "1", "-1", "WITHSCORES"],
        &["ZINTER", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES"],
        &["ZINTER", "2", "a", "s", "WITHSCORES"],
        &["ZINTER", "2", "a", "nokey"],
        &["ZDIFF", "2", "a", "b"],
        &["ZDIFF", "2", "a", "b", "WITHSCORES"],
        &["ZDIFF", "2", "b", "s", "WITHSCORES"],
        &["ZDIFF", "1", "a", "WITHSCORES"],
        &["ZDIFF", "2", "nokey", "a"],
        &["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "1"],
        &["ZDIFF", "2", "a", "b", "AGGREGATE", "SUM"],
        &["ZINTERCARD", "2", "a", "b"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "0"],
        &["ZINTERCARD", "2", "a", "s"],
        &["ZINTERCARD", "2", "a", "nokey"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT"],
        &["ZINTERCARD", "2", "a", "b", "WEIGHTS", "1", "1"],
        &["ZINTERCARD", "0", "a"],
        &["ZINTERCARD", "3", "a", "b"],
        &["ZINTERCARD", "x", "a"],
        &["ZUNIONSTORE", "dst", "2", "a", "b"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &[
            "ZUNIONSTORE",
            "dst",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "2",
            "AGGREGATE",
            "MIN",
        ],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["ZINTERSTORE", "dst", "2", "a", "b"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["ZINTERSTORE", "dst", "2", "a", "nokey"],
        &["EXISTS", "dst"],
        &["ZDIFFSTORE", "dst", "2", "a", "b"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["ZDIFFSTORE", "dst", "2", "a", "a"],
        &["EXISTS", "dst"],
        &["ZUNIONSTORE", "a", "2", "a", "b"],
        &["ZRANGE", "a", "0", "-1", "WITHSCORES"],
        &["ZUNIONSTORE", "dst", "2", "a", "b", "WITHSCORES"],
        &["ZINTERSTORE", "dst", "2", "a", "b", "WITHSCORES"],
        &["ZDIFFSTORE", "dst", "2", "a", "b", "WITHSCORES"],
        &["ZUNIONSTORE", "dst", "0", "a"],
        &["ZINTERSTORE", "dst", "0", "a"],
        &["ZDIFFSTORE", "dst", "0", "a"],
        &["ZUNION", "0", "a"],
        &["ZINTER", "0", "a"],
        &["ZDIFF", "0", "a"],
        &["ZUNION", "-1", "a"],
        &["ZUNION", "x", "a"],
        &["ZUNION", "3", "a", "b"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "nan"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "2", "3"],
        &["ZUNION", "2", "a", "b", "AGGREGATE", "AVG"],
        &["ZUNION", "2", "a", "b", "AGGREGATE"],
        &["ZUNION", "2", "a", "b", "FOO"],
        &["ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "x", "1"],
        &["ZUNIONSTORE", "dst", "x", "a"],
        &["ZUNIONSTORE", "dst", "3", "a", "b"],
        &["ZUNION", "2147483648", "a"],
        &["ZUNIONSTORE", "dst"],
        &["ZUNION", "1"],
        &["ZDIFF", "1"],
    ]);
}

#[test]
fn zset_infinities_and_nan() {
    both(&[
        &["ZADD", "a", "inf", "x", "-inf", "y", "1", "z"],
        &["ZADD", "b", "-inf", "x", "inf", "y", "1", "z"],
        // inf + -inf is NaN: Redis stores 0 for a NaN sum.
        &["ZUNION", "2", "a", "b", "WITHSCORES"],
        &["ZINTER", "2", "a", "b", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "0", "0", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "inf", "1", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES"],
        &["ZUNIONSTORE", "d", "2", "a", "b"],
        &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        &["ZINCRBY", "a", "-inf", "x"],
        &["ZADD", "a", "INCR", "-inf", "x"],
        &["ZSCORE", "a", "x"],
        &["ZADD", "c", "1e308", "m"],
        &["ZUNION", "2", "c", "c", "WITHSCORES"],
        &["ZUNION", "2", "c", "c", "WEIGHTS", "10", "1", "WITHSCORES"],
        &["ZADD", "p", "0.1", "m"],
        &["ZADD", "q", "0.2", "m"],
        &["ZUNION", "2", "p", "q", "WITHSCORES"],
        &["ZINCRBY", "p", "0.2", "m"],
        &[
            "ZADD",
            "big",
            "1234567.125",
            "m",
            "1e-10",
            "o",
            "-2.5e20",
            "p",
        ],
        &["ZRANGE", "big", "0", "-1", "WITHSCORES"],
        &["ZMSCORE", "big", "m", "o", "p", "q"],
    ]);
}

#[test]
fn zscan() {
    let p = Pair::new();
    let script: &[&[&str]] = &[
        &["ZSCAN", "nokey", "0"],
        &["ZADD", "z", "1", "a", "2.5", "b", "inf", "ab", "-3", "zz"],
        &["ZSCAN", "z", "0"],
        &["ZSCAN", "z", "0", "MATCH", "a*"],
        &["ZSCAN", "z", "0", "COUNT", "1"],
        &["ZSCAN", "z", "0", "COUNT", "0"],
        &["ZSCAN", "z", "0", "MATCH"],
        &["ZSCAN", "z", "0", "NOVALUES"],
        &["ZSCAN", "z", "x"],
        &["ZSCAN", "z"],
    ];
    p.diff(script);
    p.diff3(script);
    let mut servers = vec![p.ferrokey.connect()];
    servers.extend(p.redis.as_ref().map(Server::connect));
    let mut seen = Vec::new();
    for c in &mut servers {
        c.cmd(&["FLUSHALL"]);
        // Scores a skiplist's ZSCAN prints with %.17g (0.1 is
        // 0.10000000000000001 there, unlike in other replies).
        let mut args = words("ZADD big");
        for i in 0..500 {
            args.push(match i % 5 {
                0 => format!("{i}.5"),
                1 => format!("{}", i as f64 / 10.0),
                2 => format!("{i}e16"),
                3 => format!("-{i}e-7"),
                _ => ["0", "inf", "-inf", "1e300"][i % 4].to_string(),
            });
            args.push(format!("m{i}"));
        }
        c.cmd(&args);
        seen.push(scan_all(
            c,
            &["ZSCAN", "big", "0", "MATCH", "m4*", "COUNT", "13"],
            2,
            2,
        ));
    }
    assert_eq!(seen[0].len(), 111);
    if seen.len() == 2 {
        assert_same_items("ZSCAN", &seen[0], &seen[1]);
    }
}

#[test]
fn zset_wrong_type() {
    both(&[
        &["SET", "str", "v"],
        &["ZADD", "str", "1", "a"],
        &["ZINCRBY", "str", "1", "a"],
        &["ZREM", "str", "a"],
        &["ZCARD", "str"],
        &["ZCOUNT", "str", "0", "1"],
        &["ZLEXCOUNT", "str", "-", "+"],
        &["ZSCORE", "str", "a"],
        &["ZMSCORE", "str", "a"],
        &["ZRANK", "str", "a"],
        &["ZREVRANK", "str", "a"],
        &["ZRANGE", "str", "0", "-1"],
        &["ZRANGESTORE", "dst", "str", "0", "-1"],
        &["ZREVRANGE", "str", "0", "-1"],
        &["ZRANGEBYSCORE", "str", "0", "1"],
        &["ZREVRANGEBYSCORE", "str", "1", "0"],
        &["ZRANGEBYLEX", "str", "-", "+"],
        &["ZREVRANGEBYLEX", "str", "+", "-"],
        &["ZREMRANGEBYRANK", "str", "0", "1"],
        &["ZREMRANGEBYSCORE", "str", "0", "1"],
        &["ZREMRANGEBYLEX", "str", "-", "+"],
        &["ZPOPMIN", "str"],
        &["ZPOPMAX", "str", "2"],
        &["ZMPOP", "1", "str", "MIN"],
        &["ZRANDMEMBER", "str"],
        &["ZRANDMEMBER", "str", "2"],
        &["ZUNION", "2", "str", "nokey"],
        &["ZINTER", "2", "nokey", "str"],
        &["ZDIFF", "2", "nokey", "str"],
        &["ZDIFF", "2", "str", "nokey"],
        &["ZINTERCARD", "2", "nokey", "str"],
        &["ZUNIONSTORE", "dst", "1", "str"],
        &["ZINTERSTORE", "dst", "1", "str"],
        &["ZDIFFSTORE", "dst", "1", "str"],
        &["ZSCAN", "str", "0"],
        // Argument errors against the wrong type.
        &["ZCOUNT", "str", "x", "1"],
        &["ZLEXCOUNT", "str", "x", "+"],
        &["ZRANGE", "str", "x", "1"],
        &["ZRANGEBYSCORE", "str", "x", "1"],
        &["ZRANGEBYLEX", "str", "x", "+"],
        &["ZREMRANGEBYRANK", "str", "x", "1"],
        &["ZREMRANGEBYSCORE", "str", "x", "1"],
        &["ZREMRANGEBYLEX", "str", "x", "+"],
        &["ZPOPMIN", "str", "x"],
        &["ZINCRBY", "str", "x", "a"],
        &["ZADD", "str", "x", "a"],
        &["ZRANDMEMBER", "str", "x"],
        &["ZADD", "z", "1", "a"],
        &["ZUNIONSTORE", "str", "1", "z"],
        &["TYPE", "str"],
        &["SET", "str", "v"],
        &["ZINTERSTORE", "str", "2", "z", "nokey"],
        &["EXISTS", "str"],
        &["LPUSH", "z", "a"],
        &["SADD", "z", "a"],
        &["HSET", "z", "a", "1"],
        &["GET", "z"],
    ]);
}

#[test]
fn zset_encoding_conversions() {
    both(&[
        &["CONFIG", "SET", "zset-max-listpack-entries", "3"],
        &["CONFIG", "SET", "zset-max-listpack-value", "5"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["OBJECT", "ENCODING", "z"],
        &["ZADD", "z", "4", "d"],
        &["OBJECT", "ENCODING", "z"],
        &["ZREM", "z", "a", "b", "c"],
        &["OBJECT", "ENCODING", "z"],
        &["ZADD", "v", "1", "abcde"],
        &["OBJECT", "ENCODING", "v"],
        &["ZADD", "v", "1", "abcdef"],
        &["OBJECT", "ENCODING", "v"],
        &["ZINCRBY", "w", "1", "abcdef"],
        &["OBJECT", "ENCODING", "w"],
        &["ZADD", "s1", "1", "a", "2", "b"],
        &["ZUNIONSTORE", "u", "2", "s1", "z"],
        &["OBJECT", "ENCODING", "u"],
        &["ZINTERSTORE", "i", "2", "s1", "s1"],
        &["OBJECT", "ENCODING", "i"],
        &["ZRANGESTORE", "r", "v", "0", "-1"],
        &["OBJECT", "ENCODING", "r"],
        &["ZRANGESTORE", "r2", "z", "0", "0"],
        &["OBJECT", "ENCODING", "r2"],
        &["ZDIFFSTORE", "d", "1", "v"],
        &["OBJECT", "ENCODING", "d"],
        &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        &["CONFIG", "SET", "zset-max-listpack-entries", "0"],
        &["ZADD", "zero", "1", "a"],
        &["OBJECT", "ENCODING", "zero"],
        &["ZRANGE", "zero", "0", "-1", "WITHSCORES"],
        &["CONFIG", "SET", "zset-max-listpack-entries", "128"],
        &["CONFIG", "SET", "zset-max-listpack-value", "64"],
    ]);
}

/// Lex ranges over members with different scores (so not in lexicographic
/// order): Redis walks a listpack from the first member at or above min
/// and stops at the first one past max, which is what these pin down.
/// (A skiplist's answer then depends on its random levels, so only
/// listpacks are compared.)
#[test]
fn lex_ranges_over_mixed_scores() {
    both(&[
        &[
            "ZADD", "z", "1", "d", "2", "a", "3", "e", "4", "b", "5", "c", "6", "a2",
        ],
        &["ZRANGEBYLEX", "z", "[a", "[c"],
        &["ZRANGEBYLEX", "z", "[b", "+"],
        &["ZRANGEBYLEX", "z", "-", "(c"],
        &["ZRANGEBYLEX", "z", "[a", "[e", "LIMIT", "1", "2"],
        &["ZRANGEBYLEX", "z", "[a", "[e", "LIMIT", "2", "10"],
        &["ZRANGEBYLEX", "z", "(a", "[d", "LIMIT", "0", "-1"],
        &["ZREVRANGEBYLEX", "z", "[c", "[a"],
        &["ZREVRANGEBYLEX", "z", "+", "[b"],
        &["ZREVRANGEBYLEX", "z", "[e", "-", "LIMIT", "1", "3"],
        &["ZRANGE", "z", "[a", "[c", "BYLEX"],
        &["ZRANGE", "z", "[c", "[a", "BYLEX", "REV"],
        &["ZRANGE", "z", "[c", "[a", "BYLEX", "REV", "LIMIT", "2", "2"],
        &["ZLEXCOUNT", "z", "[a", "[c"],
        &["ZLEXCOUNT", "z", "-", "(c"],
        &["ZLEXCOUNT", "z", "[e", "+"],
        &["ZLEXCOUNT", "z", "(d", "+"],
        &["ZLEXCOUNT", "z", "-", "[a"],
        &["ZRANGESTORE", "dst", "z", "[a", "[c", "BYLEX"],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &[
            "ZRANGESTORE",
            "dst",
            "z",
            "[c",
            "[a",
            "BYLEX",
            "REV",
            "LIMIT",
            "1",
            "5",
        ],
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        &["COPY", "z", "z2"],
        &["ZREMRANGEBYLEX", "z2", "[a", "[c"],
        &["ZRANGE", "z2", "0", "-1"],
        &["COPY", "z", "z3"],
        &["ZREMRANGEBYLEX", "z3", "(d", "+"],
        &["ZRANGE", "z3", "0", "-1"],
        &["ZREMRANGEBYLEX", "z3", "[z", "+"],
        &["ZADD", "y", "1", "m", "2", "a"],
        &["ZLEXCOUNT", "y", "-", "(c"],
        &["ZRANGEBYLEX", "y", "-", "(c"],
        &["ZLEXCOUNT", "y", "[n", "+"],
    ]);
}

#[test]
fn zinter_zunion_nan_products_and_ties() {
    both(&[
        &[
            "ZADD", "a", "-inf", "x", "inf", "y", "0", "z", "-0", "w", "1", "v",
        ],
        &[
            "ZADD", "b", "inf", "x", "inf", "y", "-0", "z", "0", "w", "2", "v",
        ],
        // inf * 0 is NaN: cleared to 0 for the first input of ZINTER (and
        // every input of ZUNION), not for the others.
        &["ZINTER", "2", "a", "b", "WEIGHTS", "0", "1", "WITHSCORES"],
        &["ZINTER", "2", "a", "b", "WEIGHTS", "1", "0", "WITHSCORES"],
        &[
            "ZINTER",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "0",
            "AGGREGATE",
            "MIN",
            "WITHSCORES",
        ],
        &[
            "ZINTER",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "0",
            "AGGREGATE",
            "MAX",
            "WITHSCORES",
        ],
        &[
            "ZINTER",
            "2",
            "a",
            "a",
            "WEIGHTS",
            "inf",
            "-0",
            "WITHSCORES",
        ],
        &[
            "ZINTER",
            "2",
            "a",
            "a",
            "WEIGHTS",
            "-0",
            "inf",
            "AGGREGATE",
            "MAX",
            "WITHSCORES",
        ],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "0", "WITHSCORES"],
        &[
            "ZUNION",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "0",
            "1",
            "AGGREGATE",
            "MIN",
            "WITHSCORES",
        ],
        &["ZUNION", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"],
        &["ZUNION", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES"],
        &["ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "0"],
        &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        &["ZINTERCARD", "2", "a", "b"],
    ]);
}

#[test]
fn zadd_conversion_only_for_inserted_members() {
    let long = "x".repeat(70);
    let l = long.as_str();
    both(&[
        &["ZADD", "z", "1", "a"],
        &["ZADD", "z", "XX", "2", l],
        &["OBJECT", "ENCODING", "z"],
        &["ZADD", "z", "NX", "1", "a", "2", l],
        &["OBJECT", "ENCODING", "z"],
        &["ZADD", "y", "1", "a"],
        &["ZADD", "y", "GT", "0", "a"],
        &["ZINCRBY", "y", "1", l],
        &["OBJECT", "ENCODING", "y"],
        &["ZADD", "new", "1", "a", "2", l],
        &["OBJECT", "ENCODING", "new"],
        &["ZADD", "new2", "1", l, "2", "a"],
        &["OBJECT", "ENCODING", "new2"],
        &["ZADD", "new3", "XX", "1", l],
        &["EXISTS", "new3"],
    ]);
    // 7.2 also converts an existing listpack up front when the pair count
    // alone passes the limit, whether or not the members get added (7.0
    // did not).
    check72(|c| {
        c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "2"]);
        c.cmd(&["ZADD", "c", "1", "a"]);
        expect(
            c,
            &["ZADD", "c", "XX", "1", "p", "2", "q", "3", "r"],
            b":0\r\n",
        );
        expect(c, &["OBJECT", "ENCODING", "c"], b"$8\r\nskiplist\r\n");
        c.cmd(&["ZADD", "d", "1", "a"]);
        expect(c, &["ZADD", "d", "XX", "1", "p", "2", "q"], b":0\r\n");
        expect(c, &["OBJECT", "ENCODING", "d"], b"$8\r\nlistpack\r\n");
        c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]);
        c.cmd(&["DEL", "c", "d"]);
    });
}
