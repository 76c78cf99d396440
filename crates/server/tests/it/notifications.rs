//! Keyspace notifications: the events every command emits, compared in
//! order with redis-server's, under several `notify-keyspace-events` masks.

use crate::harness::*;

/// Runs `script` on one server with `flags`, and returns every keyspace
/// message a pattern subscriber received, in order.
fn events(s: &Server, flags: &str, script: &[&[&str]]) -> Vec<String> {
    let mut c = s.connect();
    c.cmd(&["FLUSHALL"]);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags])
            .text(),
        "+OK\r\n"
    );
    let mut sub = s.connect();
    sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    sub.cmd(&["SUBSCRIBE", "end"]);
    for cmd in script {
        c.cmd(cmd);
    }
    c.cmd(&["PUBLISH", "end", "x"]);
    let mut out = Vec::new();
    loop {
        let r = sub.read();
        let ferrokey_resp::Frame::Array(v) = r.frame else {
            panic!("unexpected {}", r.text());
        };
        let text: Vec<String> = v
            .iter()
            .skip(1)
            .map(|f| match f {
                ferrokey_resp::Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect();
        if text.first().map(String::as_str) == Some("end") {
            break;
        }
        // Drop the pattern, keep channel and message.
        out.push(text[1..].join(" "));
    }
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    out
}

fn compare(flags: &str, script: &[&[&str]]) {
    let f = Server::ferrokey();
    let got = events(&f, flags, script);
    let Some(r) = Server::redis() else {
        assert!(!got.is_empty(), "no events at all");
        return;
    };
    let want = events(&r, flags, script);
    assert_eq!(got, want, "events differ under '{flags}'");
}

const SCRIPT: &[&[&str]] = &[
    // strings and generic
    &["SET", "s", "1"],
    &["SET", "s", "2", "EX", "100"],
    &["SETNX", "s", "x"],
    &["SETEX", "s2", "100", "v"],
    &["MSET", "a", "1", "b", "2"],
    &["INCR", "a"],
    &["INCRBYFLOAT", "a", "1.5"],
    &["APPEND", "b", "x"],
    &["SETRANGE", "b", "5", "y"],
    &["GETSET", "b", "z"],
    &["GETEX", "b", "PX", "100000"],
    &["GETEX", "b", "PERSIST"],
    &["GETDEL", "b"],
    &["SETBIT", "bits", "7", "1"],
    &["EXPIRE", "a", "100"],
    &["PERSIST", "a"],
    &["EXPIRE", "a", "-1"],
    &["RENAME", "s", "s3"],
    &["COPY", "s3", "s4"],
    &["MOVE", "s4", "1"],
    &["DEL", "s3", "nokey", "s2"],
    &["GET", "nokey"],
    // lists
    &["LPUSH", "l", "a", "b", "c"],
    &["RPUSH", "l", "d"],
    &["LPUSHX", "nol", "x"],
    &["LINSERT", "l", "BEFORE", "a", "z"],
    &["LSET", "l", "0", "q"],
    &["LREM", "l", "0", "z"],
    &["LTRIM", "l", "0", "2"],
    &["LPOP", "l"],
    &["RPOPLPUSH", "l", "l2"],
    &["LMOVE", "l", "l2", "LEFT", "RIGHT"],
    &["LMPOP", "1", "l2", "LEFT", "COUNT", "5"],
    &["RPUSH", "srt", "3", "1", "2"],
    &["SORT", "srt", "STORE", "sorted"],
    &["SORT", "nol", "STORE", "sorted"],
    // hashes
    &["HSET", "h", "f", "v", "g", "w"],
    &["HSETNX", "h", "f", "x"],
    &["HINCRBY", "h", "n", "2"],
    &["HINCRBYFLOAT", "h", "n", "0.5"],
    &["HDEL", "h", "f", "nof"],
    &["HDEL", "h", "g", "n"],
    // sets
    &["SADD", "st", "1", "2", "3"],
    &["SADD", "st", "1"],
    &["SREM", "st", "1", "9"],
    &["SMOVE", "st", "st2", "2"],
    &["SPOP", "st"],
    &["SADD", "st3", "a", "b"],
    &["SINTERSTORE", "dst", "st2", "st3"],
    &["SUNIONSTORE", "dst", "st2", "st3"],
    &["SDIFFSTORE", "dst", "st2", "st3"],
    &["SPOP", "st3", "5"],
    // sorted sets
    &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    &["ZADD", "z", "1", "a"],
    &["ZINCRBY", "z", "1", "a"],
    &["ZADD", "z", "INCR", "1", "b"],
    &["ZREM", "z", "a", "nomember"],
    &["ZREMRANGEBYRANK", "z", "0", "0"],
    &["ZREMRANGEBYSCORE", "z", "100", "200"],
    &["ZREMRANGEBYLEX", "z", "[c", "[c"],
    &["ZADD", "z2", "1", "x", "2", "y"],
    &["ZUNIONSTORE", "zd", "2", "z", "z2"],
    &["ZINTERSTORE", "zd", "2", "z", "z2"],
    &["ZDIFFSTORE", "zd", "1", "z2"],
    &["ZRANGESTORE", "zr", "z2", "0", "0"],
    &["ZPOPMIN", "z2"],
    &["ZPOPMAX", "z2"],
    &["ZMPOP", "1", "z", "MIN"],
    &["FLUSHALL"],
];

#[test]
fn every_family_all_events() {
    compare("KEA", SCRIPT);
}

#[test]
fn masks_select_classes_and_channels() {
    compare("Kl", SCRIPT);
    compare("Eg", SCRIPT);
    compare("E$hz", SCRIPT);
    compare("Ks", SCRIPT);
}

#[test]
fn new_and_keymiss_events() {
    compare("KEn", SCRIPT);
    compare("Km", SCRIPT);
}
