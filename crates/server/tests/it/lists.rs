//! Differential tests for the non-blocking list commands (the blocking
//! ones are in blocking.rs), in RESP2 and RESP3, with bad input and wrong
//! types.

use crate::harness::*;

/// Runs one script in RESP2 and again in RESP3 against one server pair.
fn both(script: &[&[&str]]) {
    let p = Pair::new();
    p.diff(script);
    p.diff3(script);
}

#[test]
fn push_pop_len_range() {
    both(&[
        &["LPUSH", "l", "a"],
        &["LPUSH", "l", "b", "c"],
        &["RPUSH", "l", "d", "e", "f"],
        &["LRANGE", "l", "0", "-1"],
        &["LLEN", "l"],
        &["LLEN", "nokey"],
        &["LPUSHX", "nokey", "a"],
        &["RPUSHX", "nokey", "a", "b"],
        &["EXISTS", "nokey"],
        &["LPUSHX", "l", "x", "y"],
        &["RPUSHX", "l", "z"],
        &["LRANGE", "l", "0", "-1"],
        &["LPOP", "l"],
        &["RPOP", "l"],
        &["LPOP", "l", "2"],
        &["RPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["RPOP", "l", "0"],
        &["LRANGE", "l", "0", "-1"],
        &["LPOP", "l", "100"],
        &["EXISTS", "l"],
        &["LPOP", "nokey"],
        &["RPOP", "nokey"],
        &["LPOP", "nokey", "2"],
        &["RPOP", "nokey", "0"],
        &["LPOP", "nokey", "-1"],
        &["RPUSH", "l", "1", "2", "3"],
        &["LPOP", "l", "-1"],
        &["RPOP", "l", "abc"],
        &["LPOP", "l", "1.5"],
        &["LPOP", "l", "1", "2"],
        &["LPOP", "l", "9223372036854775807"],
        &["RPUSH", "l", "1", "2", "3"],
        &["LPOP", "l", "9223372036854775808"],
        &["LRANGE", "l", "0", "0"],
        &["LRANGE", "l", "-1", "-1"],
        &["LRANGE", "l", "-100", "100"],
        &["LRANGE", "l", "1", "0"],
        &["LRANGE", "l", "5", "10"],
        &["LRANGE", "l", "-2", "-3"],
        &["LRANGE", "l", "0", "-4"],
        &["LRANGE", "l", "-9223372036854775808", "9223372036854775807"],
        &["LRANGE", "l", "a", "1"],
        &["LRANGE", "l", "0", "1.0"],
        &["LRANGE", "l", "0", "99999999999999999999"],
        &["LRANGE", "nokey", "0", "-1"],
        &["LRANGE", "nokey", "x", "-1"],
        &["LPUSH", "l"],
        &["RPUSH", "l"],
        &["LPUSHX", "l"],
        &["LLEN"],
        &["LRANGE", "l", "0"],
        &["LPOP"],
        &["RPOP", "l", "1", "2"],
        &["RPUSH", "e", ""],
        &["LRANGE", "e", "0", "-1"],
        &["LPOP", "e"],
        &["EXISTS", "e"],
    ]);
}

#[test]
fn lindex_lset_linsert_lrem_ltrim() {
    both(&[
        &["RPUSH", "l", "a", "b", "c", "b", "a", "1", "2", "-3"],
        &["LINDEX", "l", "0"],
        &["LINDEX", "l", "-1"],
        &["LINDEX", "l", "7"],
        &["LINDEX", "l", "8"],
        &["LINDEX", "l", "-8"],
        &["LINDEX", "l", "-9"],
        &["LINDEX", "l", "5"],
        &["LINDEX", "l", "x"],
        &["LINDEX", "l", "9223372036854775808"],
        &["LINDEX", "nokey", "0"],
        &["LINDEX", "nokey", "x"],
        &["LSET", "l", "0", "A"],
        &["LSET", "l", "-1", "Z"],
        &["LSET", "l", "8", "x"],
        &["LSET", "l", "-9", "x"],
        &["LSET", "l", "x", "x"],
        &["LSET", "nokey", "0", "x"],
        &["LSET", "nokey", "x", "x"],
        &["LRANGE", "l", "0", "-1"],
        &["LINSERT", "l", "BEFORE", "b", "x"],
        &["LINSERT", "l", "after", "b", "y"],
        &["LINSERT", "l", "AFTER", "Z", "tail"],
        &["LINSERT", "l", "BEFORE", "A", "head"],
        &["LINSERT", "l", "BEFORE", "nothere", "x"],
        &["LINSERT", "l", "MIDDLE", "b", "x"],
        &["LINSERT", "nokey", "BEFORE", "b", "x"],
        &["LINSERT", "nokey", "MIDDLE", "b", "x"],
        &["EXISTS", "nokey"],
        &["LRANGE", "l", "0", "-1"],
        &["LREM", "l", "0", "b"],
        &["RPUSH", "r", "a", "b", "a", "c", "a", "b", "a"],
        &["LREM", "r", "2", "a"],
        &["LRANGE", "r", "0", "-1"],
        &["LREM", "r", "-1", "a"],
        &["LRANGE", "r", "0", "-1"],
        &["LREM", "r", "0", "zz"],
        &["LREM", "r", "x", "a"],
        &["LREM", "nokey", "1", "a"],
        &["LREM", "r", "0", "b"],
        &["LREM", "r", "0", "a"],
        &["LREM", "r", "0", "c"],
        &["EXISTS", "r"],
        &["RPUSH", "t", "1", "2", "3", "4", "5", "6"],
        &["LTRIM", "t", "1", "-2"],
        &["LRANGE", "t", "0", "-1"],
        &["LTRIM", "t", "-100", "100"],
        &["LRANGE", "t", "0", "-1"],
        &["LTRIM", "t", "1", "1"],
        &["LRANGE", "t", "0", "-1"],
        &["LTRIM", "t", "x", "1"],
        &["LTRIM", "t", "5", "1"],
        &["EXISTS", "t"],
        &["LTRIM", "nokey", "0", "1"],
        &["LTRIM", "nokey", "a", "1"],
        &["RPUSH", "t", "1", "2", "3"],
        &["LTRIM", "t", "-1", "-2"],
        &["EXISTS", "t"],
        &["RPUSH", "n", "1", "01", "1.0", "-0", "0"],
        &["LREM", "n", "0", "1"],
        &["LRANGE", "n", "0", "-1"],
        &["LINSERT", "n", "BEFORE", "0", "9"],
        &["LRANGE", "n", "0", "-1"],
        &["LINDEX", "l"],
        &["LSET", "l", "0"],
        &["LINSERT", "l", "BEFORE", "a"],
        &["LREM", "l", "0"],
        &["LTRIM", "l", "0"],
    ]);
}

#[test]
fn lpos() {
    both(&[
        &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
        &["LPOS", "l", "c"],
        &["LPOS", "l", "zz"],
        &["LPOS", "nokey", "a"],
        &["LPOS", "nokey", "a", "COUNT", "0"],
        &["LPOS", "l", "c", "RANK", "2"],
        &["LPOS", "l", "c", "RANK", "-1"],
        &["LPOS", "l", "c", "RANK", "-3"],
        &["LPOS", "l", "c", "RANK", "4"],
        &["LPOS", "l", "c", "RANK", "0"],
        &["LPOS", "l", "c", "RANK", "9223372036854775807"],
        &["LPOS", "l", "c", "RANK", "x"],
        &["LPOS", "l", "c", "COUNT", "0"],
        &["LPOS", "l", "c", "COUNT", "2"],
        &["LPOS", "l", "c", "COUNT", "10"],
        &["LPOS", "l", "zz", "COUNT", "10"],
        &["LPOS", "l", "c", "COUNT", "-1"],
        &["LPOS", "l", "c", "COUNT", "x"],
        &["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"],
        &["LPOS", "l", "c", "RANK", "2", "COUNT", "0"],
        &["LPOS", "l", "c", "MAXLEN", "3"],
        &["LPOS", "l", "c", "MAXLEN", "2"],
        &["LPOS", "l", "c", "MAXLEN", "0"],
        &["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"],
        &["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"],
        &["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "2", "COUNT", "0"],
        &["LPOS", "l", "c", "MAXLEN", "-1"],
        &["LPOS", "l", "c", "MAXLEN", "x"],
        &["LPOS", "l", "c", "RANK"],
        &["LPOS", "l", "c", "COUNT"],
        &["LPOS", "l", "c", "FOO", "1"],
        &["LPOS", "l", "c", "rank", "1", "count", "1", "maxlen", "0"],
        &["LPOS", "l", "1"],
        &["LPOS", "l", "1", "RANK", "1", "RANK", "-1"],
        &["LPOS", "nokey", "a", "RANK", "0"],
        &["LPOS", "l"],
    ]);
}

#[test]
fn lmove_rpoplpush_lmpop() {
    both(&[
        &["RPUSH", "src", "a", "b", "c", "d"],
        &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
        &["LMOVE", "src", "dst", "RIGHT", "LEFT"],
        &["LMOVE", "src", "dst", "left", "left"],
        &["LMOVE", "src", "dst", "RIGHT", "RIGHT"],
        &["EXISTS", "src"],
        &["LRANGE", "dst", "0", "-1"],
        &["LMOVE", "nokey", "dst", "LEFT", "RIGHT"],
        &["LMOVE", "dst", "dst", "LEFT", "RIGHT"],
        &["LRANGE", "dst", "0", "-1"],
        &["LMOVE", "dst", "dst", "RIGHT", "LEFT"],
        &["LRANGE", "dst", "0", "-1"],
        &["LMOVE", "dst", "x", "UP", "LEFT"],
        &["LMOVE", "dst", "x", "LEFT", "DOWN"],
        &["LMOVE", "nokey", "x", "UP", "LEFT"],
        &["LMOVE", "dst", "x", "LEFT"],
        &["RPOPLPUSH", "dst", "other"],
        &["RPOPLPUSH", "dst", "dst"],
        &["RPOPLPUSH", "nokey", "dst"],
        &["LRANGE", "dst", "0", "-1"],
        &["LRANGE", "other", "0", "-1"],
        &["RPOPLPUSH", "dst"],
        &["SET", "str", "v"],
        &["LMOVE", "dst", "str", "LEFT", "LEFT"],
        &["RPOPLPUSH", "dst", "str"],
        &["LMOVE", "str", "dst", "LEFT", "LEFT"],
        &["LMOVE", "nokey", "str", "LEFT", "LEFT"],
        &["LRANGE", "dst", "0", "-1"],
        &["RPUSH", "one", "x"],
        &["LMOVE", "one", "str", "LEFT", "LEFT"],
        &["LRANGE", "one", "0", "-1"],
        &["RPUSH", "m1", "a", "b", "c"],
        &["RPUSH", "m2", "x", "y"],
        &["LMPOP", "2", "nokey", "m1", "LEFT"],
        &["LMPOP", "2", "m1", "m2", "RIGHT", "COUNT", "5"],
        &["LMPOP", "1", "m1", "LEFT", "COUNT", "1"],
        &["LMPOP", "2", "m1", "m2", "left", "count", "1"],
        &["LMPOP", "2", "m1", "m2", "LEFT", "COUNT", "100"],
        &["LMPOP", "2", "m1", "m2", "LEFT"],
        &["LMPOP", "1", "nokey", "LEFT"],
        &["LMPOP", "0", "m1", "LEFT"],
        &["LMPOP", "-1", "m1", "LEFT"],
        &["LMPOP", "x", "m1", "LEFT"],
        &["LMPOP", "3", "m1", "LEFT"],
        &["LMPOP", "1", "m1", "UP"],
        &["LMPOP", "1", "m1", "LEFT", "COUNT", "0"],
        &["LMPOP", "1", "m1", "LEFT", "COUNT", "-1"],
        &["LMPOP", "1", "m1", "LEFT", "COUNT", "x"],
        &["LMPOP", "1", "m1", "LEFT", "COUNT"],
        &["LMPOP", "1", "m1", "LEFT", "COUNT", "1", "COUNT", "1"],
        &["LMPOP", "1", "m1", "LEFT", "FOO"],
        &["LMPOP", "1", "m1"],
        &["LMPOP", "1", "str", "LEFT"],
        &["LMPOP", "2", "nokey", "str", "LEFT"],
        &["LMPOP", "2", "str", "nokey", "LEFT"],
        &["LMPOP", "99999999999", "m1", "LEFT"],
        &["LMPOP", "2147483648", "m1", "LEFT"],
    ]);
}

#[test]
fn list_wrong_type() {
    both(&[
        &["SET", "s", "v"],
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s"],
        &["LPOP", "s", "2"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "x"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "d", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "d"],
        &["LMPOP", "1", "s", "LEFT"],
        // Argument errors against the wrong type.
        &["LPOP", "s", "x"],
        &["LRANGE", "s", "x", "1"],
        &["LINDEX", "s", "x"],
        &["LSET", "s", "x", "v"],
        &["LINSERT", "s", "MIDDLE", "a", "b"],
        &["LREM", "s", "x", "a"],
        &["LTRIM", "s", "x", "1"],
        &["LPOS", "s", "a", "RANK", "0"],
        &["LMOVE", "s", "d", "UP", "LEFT"],
        &["HSET", "h", "a", "1"],
        &["LPUSH", "h", "a"],
        &["LLEN", "h"],
        &["ZADD", "z", "1", "a"],
        &["LRANGE", "z", "0", "-1"],
        &["SADD", "st", "a"],
        &["RPOP", "st"],
        &["GET", "s"],
    ]);
}

/// Redis 7.2 keeps small lists in a single listpack and says so; 7.0 (the
/// oracle) always says `quicklist`. The commands are compared with the
/// oracle and the encodings checked against 7.2's rules.
#[test]
fn list_encoding_conversions() {
    let big = "x".repeat(9000);
    let script: Vec<Vec<&str>> = vec![
        vec!["RPUSH", "l", "a", "b", "c"],
        vec!["CONFIG", "SET", "list-max-listpack-size", "4"],
        vec!["RPUSH", "l", "d"],
        vec!["RPUSH", "l", "e"],
        vec!["LRANGE", "l", "0", "-1"],
        vec!["LPOP", "l", "3"],
        vec!["RPOP", "l"],
        vec!["CONFIG", "SET", "list-max-listpack-size", "-2"],
        vec!["RPUSH", "b", "small"],
        vec!["RPUSH", "b", big.as_str()],
        vec!["LINSERT", "b", "BEFORE", big.as_str(), "mid"],
        vec!["LINDEX", "b", "1"],
        vec!["LSET", "b", "0", big.as_str()],
        vec!["STRLEN", "b"],
        vec!["LLEN", "b"],
        vec!["CONFIG", "SET", "list-max-listpack-size", "-2"],
    ];
    let lines: Vec<&[&str]> = script.iter().map(Vec::as_slice).collect();
    both(&lines);
    check72(|c| {
        let enc = |c: &mut Conn, key: &str, want: &str| {
            expect(
                c,
                &["OBJECT", "ENCODING", key],
                format!("${}\r\n{want}\r\n", want.len()).as_bytes(),
            );
        };
        // A count limit: a listpack up to 4 entries, then a quicklist of
        // nodes of 4; back to a listpack only once a single node holds at
        // most half the limit.
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "4"]);
        c.cmd(&["RPUSH", "l", "a", "b", "c"]);
        enc(c, "l", "listpack");
        c.cmd(&["RPUSH", "l", "d"]);
        enc(c, "l", "listpack");
        c.cmd(&["RPUSH", "l", "e"]);
        enc(c, "l", "quicklist");
        c.cmd(&["LPOP", "l", "3"]);
        enc(c, "l", "quicklist");
        c.cmd(&["RPOP", "l"]);
        enc(c, "l", "listpack");
        // A size limit (8 kB by default).
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "-2"]);
        c.cmd(&["RPUSH", "b", "small"]);
        enc(c, "b", "listpack");
        c.cmd(&["RPUSH", "b", &big]);
        enc(c, "b", "quicklist");
        c.cmd(&["RPOP", "b"]);
        enc(c, "b", "listpack");
        c.cmd(&["LSET", "b", "0", &big]);
        enc(c, "b", "quicklist");
        c.cmd(&["LSET", "b", "0", "small"]);
        enc(c, "b", "listpack");
        c.cmd(&["LINSERT", "b", "BEFORE", "small", &big]);
        enc(c, "b", "quicklist");
        c.cmd(&["LREM", "b", "0", &big]);
        enc(c, "b", "listpack");
        c.cmd(&["RPUSH", "c", "1", "2", "3"]);
        c.cmd(&["LTRIM", "c", "0", "0"]);
        enc(c, "c", "listpack");
        c.cmd(&["DEL", "l", "b", "c"]);
        // LPOS past what 7.0 accepted: a rank of i64::MIN cannot be negated.
        c.cmd(&["RPUSH", "p", "a"]);
        expect(
            c,
            &["LPOS", "p", "a", "RANK", "-9223372036854775808"],
            b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
        );
        c.cmd(&["DEL", "p"]);
    });
}

#[test]
fn list_long_quicklist() {
    // A list spanning many quicklist nodes: ranges, indexes, inserts and
    // removals in the middle.
    let mut push = vec!["RPUSH".to_string(), "l".into()];
    for i in 0..1000 {
        push.push(format!("value-{}-padding-padding", i % 97));
    }
    let mut script: Vec<Vec<String>> = vec![push];
    for l in [
        "OBJECT ENCODING l",
        "LLEN l",
        "LINDEX l 500",
        "LINDEX l -501",
        "LRANGE l 495 505",
        "LRANGE l -3 -1",
        "LSET l 600 changed",
        "LINDEX l 600",
        "LINSERT l AFTER changed inserted",
        "LINDEX l 601",
        "LPOS l value-3-padding-padding RANK 3 COUNT 4",
        "LPOS l value-3-padding-padding RANK -2 COUNT 3",
        "LPOS l value-3-padding-padding COUNT 0 MAXLEN 500",
        "LREM l 3 value-5-padding-padding",
        "LREM l -2 value-6-padding-padding",
        "LREM l 0 value-7-padding-padding",
        "LLEN l",
        "LTRIM l 100 -100",
        "LLEN l",
        "LRANGE l 0 4",
        "LPOP l 300",
        "RPOP l 300",
        "LLEN l",
        "LMPOP 1 l RIGHT COUNT 50",
        "LLEN l",
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

/// Redis 7.2 hands LSET's index to a C `int`: only the low 32 bits count
/// (7.0 range-checked the whole 64-bit value).
#[test]
fn lset_index_is_a_c_int_72() {
    check72(|c| {
        c.cmd(&["RPUSH", "l", "a", "b", "c"]);
        expect(c, &["LSET", "l", "-9223372036854775808", "x"], b"+OK\r\n");
        expect(c, &["LSET", "l", "9223372036854775807", "z"], b"+OK\r\n");
        expect(c, &["LSET", "l", "4294967297", "y"], b"+OK\r\n");
        expect(
            c,
            &["LRANGE", "l", "0", "-1"],
            b"*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n",
        );
        expect(
            c,
            &["LSET", "l", "2147483648", "w"],
            b"-ERR index out of range\r\n",
        );
        expect(
            c,
            &["LSET", "l", "9223372036854775808", "w"],
            b"-ERR value is not an integer or out of range\r\n",
        );
        c.cmd(&["DEL", "l"]);
    });
}

/// LSET and LINSERT convert a listpack for the new element before they
/// look at the index or search for the pivot (7.2 encodings).
#[test]
fn lset_linsert_convert_before_checking_72() {
    check72(|c| {
        let big = "x".repeat(9000);
        c.cmd(&["RPUSH", "a", "x"]);
        expect(c, &["LSET", "a", "5", &big], b"-ERR index out of range\r\n");
        expect(c, &["OBJECT", "ENCODING", "a"], b"$9\r\nquicklist\r\n");
        c.cmd(&["RPUSH", "b", "x"]);
        expect(c, &["LINSERT", "b", "BEFORE", "nothere", &big], b":-1\r\n");
        expect(c, &["OBJECT", "ENCODING", "b"], b"$9\r\nquicklist\r\n");
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "2"]);
        c.cmd(&["RPUSH", "c", "x", "y"]);
        expect(c, &["LINSERT", "c", "AFTER", "nothere", "z"], b":-1\r\n");
        expect(c, &["OBJECT", "ENCODING", "c"], b"$9\r\nquicklist\r\n");
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "-2"]);
        c.cmd(&["DEL", "a", "b", "c"]);
    });
}
