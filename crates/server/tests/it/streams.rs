//! Streams compared with redis-server: every command and its errors in
//! RESP2 and RESP3 (explicit IDs, so that both servers hold the same
//! entries), blocked XREAD / XREADGROUP woken by writes and deletions on
//! both servers, values carried through DEBUG RELOAD and DUMP / RESTORE in
//! both directions, and a consumer group working through 100,000 entries.

use std::collections::HashSet;

use crate::harness::*;

/// Commands and errors, replayed on both servers. Times (XPENDING idle,
/// XINFO CONSUMERS) are compared by shape only.
const SCRIPT: &[&[&str]] = &[
    &["XADD", "s", "1-1", "a", "1", "b", "2"],
    &["XADD", "s", "1-*", "a", "3", "b", "4"],
    &["XADD", "s", "5", "c", "5"],
    &["XADD", "s", "3", "a", "1"],
    &["XADD", "s", "5", "a", "1"],
    &["XADD", "s", "0-0", "a", "1"],
    &["XADD", "s", "0-*", "a", "1"],
    &["XADD", "s", "foo", "a", "1"],
    &["XADD", "s", "6-x", "a", "1"],
    &["XADD", "s", "9", "a"],
    &["XADD", "s", "9"],
    &["XADD", "s", "NOMKSTREAM", "9", "f", "v"],
    &["XADD", "nokey", "NOMKSTREAM", "9", "f", "v"],
    &["EXISTS", "nokey"],
    &["XADD", "s", "MAXLEN", "-1", "10", "a", "b"],
    &["XADD", "s", "MAXLEN", "x", "10", "a", "b"],
    &["XADD", "s", "MAXLEN", "5", "MINID", "1", "10", "a", "b"],
    &["XADD", "s", "MAXLEN", "5", "LIMIT", "2", "10", "a", "b"],
    &["XADD", "s", "LIMIT", "2", "10", "a", "b"],
    &[
        "XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "10", "a", "b",
    ],
    &["XADD", "s", "MAXLEN", "=", "100", "10", "a", "b"],
    &["XADD", "s", "MINID", "~", "0", "LIMIT", "0", "11", "a", "b"],
    &["XADD", "s", "MINID", "bad", "12", "a", "b"],
    &["XLEN", "s"],
    &["XLEN", "nokey"],
    &["XRANGE", "s", "-", "+"],
    &["XRANGE", "s", "(1-1", "+", "COUNT", "1"],
    &["XRANGE", "s", "-", "(5"],
    &["XRANGE", "s", "1", "1"],
    &["XREVRANGE", "s", "+", "-", "COUNT", "2"],
    &["XREVRANGE", "s", "(10", "(1-1"],
    &["XRANGE", "s", "-", "+", "COUNT", "0"],
    &["XRANGE", "s", "-", "+", "COUNT", "-3"],
    &["XRANGE", "s", "-", "+", "COUNT"],
    &["XRANGE", "s", "-", "+", "LIMIT", "1"],
    &["XRANGE", "s", "(-", "+"],
    &["XRANGE", "s", "0", "(0"],
    &[
        "XRANGE",
        "s",
        "(18446744073709551615-18446744073709551615",
        "+",
    ],
    &["XRANGE", "s", "abc", "+"],
    &["XRANGE", "s", "1-", "+"],
    &["XRANGE", "s", "5", "1"],
    &["XRANGE", "nokey", "-", "+"],
    &["XDEL", "s", "1-2", "99", "1-2"],
    &["XDEL", "s", "bad"],
    &["XDEL", "nokey", "1"],
    &["~shape", "XINFO", "STREAM", "s"],
    &["XINFO", "STREAM", "nokey"],
    &["XINFO", "STREAM", "s", "FULL", "COUNT"],
    &["XINFO", "STREAM", "s", "BAD"],
    &["XGROUP", "CREATE", "s", "g", "0"],
    &["XGROUP", "CREATE", "s", "g", "0"],
    &["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "-5"],
    &["XGROUP", "CREATE", "s", "g2", "bad"],
    &["XGROUP", "CREATE", "nokey", "g", "0"],
    &["XGROUP", "CREATE", "mk", "g", "$", "MKSTREAM"],
    &["XGROUP", "CREATE", "s", "g3", "$", "ENTRIESREAD", "2"],
    &["XGROUP", "CREATE", "s", "g4", "0", "FOO"],
    &["XINFO", "GROUPS", "s"],
    &["XINFO", "GROUPS", "mk"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
    &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
    &["XINFO", "GROUPS", "s"],
    &["XPENDING", "s", "g"],
    &["~shape", "XPENDING", "s", "g", "-", "+", "10"],
    &["~shape", "XPENDING", "s", "g", "-", "+", "10", "bob"],
    &["XPENDING", "s", "g", "-", "+", "10", "nobody"],
    &["XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"],
    &["XPENDING", "s", "g", "-", "+"],
    &["XPENDING", "s", "nog"],
    &["XPENDING", "nokey", "g"],
    &["XACK", "s", "g", "1-1", "1-1", "77"],
    &["XACK", "s", "g", "bad"],
    &["XACK", "s", "nog", "1-1"],
    &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        "0",
    ],
    &["XDEL", "s", "5-0"],
    &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"],
    &["~shape", "XINFO", "STREAM", "s"],
    &["XINFO", "GROUPS", "s"],
    &["XREAD", "COUNT", "1", "STREAMS", "s", "0"],
    &["XREAD", "STREAMS", "s", "mk", "0", "0"],
    &["XREAD", "STREAMS", "s", "nokey", "0", "0"],
    &["XREAD", "STREAMS", "s", "$"],
    &["XREAD", "STREAMS", "s"],
    &["XREAD", "STREAMS", "s", ">"],
    &["XREAD", "COUNT", "x", "STREAMS", "s", "0"],
    &["XREAD", "COUNT", "-1", "STREAMS", "s", "9"],
    &["XREAD", "BLOCK", "-1", "STREAMS", "s", "0"],
    &["XREAD", "BLOCK", "x", "STREAMS", "s", "0"],
    &["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"],
    &["XREAD", "NOACK", "STREAMS", "s", "0"],
    &["XREAD", "FOO", "STREAMS", "s", "0"],
    &["XREAD", "COUNT", "1"],
    &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "$"],
    &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s"],
    &["XREADGROUP", "COUNT", "1", "STREAMS", "s", ">"],
    &["XREADGROUP", "GROUP", "nog", "alice", "STREAMS", "s", ">"],
    &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "nokey", ">"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ],
    &["XGROUP", "SETID", "s", "g", "0"],
    &["XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "3"],
    &["XGROUP", "SETID", "s", "nog", "0"],
    &["XGROUP", "SETID", "s", "g", "bad"],
    &["XINFO", "GROUPS", "s"],
    &["XGROUP", "SETID", "s", "g", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "carol",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ],
    &["XPENDING", "s", "g"],
    &["XGROUP", "CREATECONSUMER", "s", "g", "dave"],
    &["XGROUP", "CREATECONSUMER", "s", "g", "dave"],
    &["XGROUP", "CREATECONSUMER", "s", "nog", "dave"],
    &["XGROUP", "DELCONSUMER", "s", "g", "bob"],
    &["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
    &["XPENDING", "s", "g"],
    &["XGROUP", "SETID", "s", "g", "0"],
    &["XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", ">"],
    &["XCLAIM", "s", "g", "frank", "0", "1-1", "10-0", "12345"],
    &["XCLAIM", "s", "g", "frank", "0", "1-1", "JUSTID"],
    &[
        "XCLAIM",
        "s",
        "g",
        "frank",
        "0",
        "10-0",
        "RETRYCOUNT",
        "7",
        "JUSTID",
    ],
    &["~shape", "XPENDING", "s", "g", "-", "+", "10", "frank"],
    &["XCLAIM", "s", "g", "frank", "0", "12345", "FORCE", "JUSTID"],
    &["XCLAIM", "s", "g", "frank", "x", "1-1"],
    &["XCLAIM", "s", "g", "frank", "0", "1-1", "IDLE", "x"],
    &["XCLAIM", "s", "g", "frank", "0", "1-1", "TIME", "x"],
    &["XCLAIM", "s", "g", "frank", "0", "1-1", "RETRYCOUNT", "x"],
    &["XCLAIM", "s", "g", "frank", "0", "1-1", "LASTID", "x"],
    &["XCLAIM", "s", "g", "frank", "0", "1-1", "BOGUS"],
    &["XCLAIM", "s", "nog", "frank", "0", "1-1"],
    &["XCLAIM", "s", "g", "frank", "999999999", "1-1"],
    &["XAUTOCLAIM", "s", "g", "gina", "0", "0", "COUNT", "1"],
    &["XAUTOCLAIM", "s", "g", "gina", "0", "0", "JUSTID"],
    &["XAUTOCLAIM", "s", "g", "gina", "0", "0", "COUNT", "0"],
    &["XAUTOCLAIM", "s", "g", "gina", "0", "0", "COUNT", "x"],
    &["XAUTOCLAIM", "s", "g", "gina", "x", "0"],
    &["XAUTOCLAIM", "s", "g", "gina", "0", "bad"],
    &["XAUTOCLAIM", "s", "g", "gina", "0", "0", "BOGUS"],
    &["XAUTOCLAIM", "s", "nog", "gina", "0", "0"],
    &["XDEL", "s", "10-0"],
    &["XAUTOCLAIM", "s", "g", "gina", "0", "0"],
    &["XPENDING", "s", "g"],
    &["XTRIM", "s", "MAXLEN", "2"],
    &["XTRIM", "s"],
    &["XTRIM", "s", "MAXLEN", "=", "1", "LIMIT", "1"],
    &["XTRIM", "s", "MINID", "0", "MAXLEN", "1"],
    &["XTRIM", "s", "FOO", "1"],
    &["XTRIM", "s", "MINID", "11"],
    &["XTRIM", "nokey", "MAXLEN", "0"],
    &["~shape", "XINFO", "STREAM", "s"],
    &["~err", "XSETID", "s", "1"],
    &["XSETID", "s", "100-0", "ENTRIESADDED", "1"],
    &["XSETID", "s", "100-0", "ENTRIESADDED", "-1"],
    &["XSETID", "s", "100-0", "MAXDELETEDID", "200"],
    &[
        "XSETID",
        "s",
        "100-0",
        "ENTRIESADDED",
        "30",
        "MAXDELETEDID",
        "50",
    ],
    &["XSETID", "s", "100-0", "BOGUS", "1"],
    &["XSETID", "nokey", "1"],
    &["~shape", "XINFO", "STREAM", "s"],
    &["XGROUP", "DESTROY", "s", "g"],
    &["XGROUP", "DESTROY", "s", "g"],
    &["XGROUP", "DESTROY", "nokey", "g"],
    &["XGROUP", "FOO", "s", "g"],
    &["XGROUP", "HELP"],
    &["XINFO", "HELP"],
    &["XINFO", "CONSUMERS", "s", "nog"],
    &["XINFO", "FOO", "s"],
    &["SET", "str", "x"],
    &["XADD", "str", "*", "a", "b"],
    &["XLEN", "str"],
    &["XRANGE", "str", "-", "+"],
    &["XREAD", "STREAMS", "str", "0"],
    &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"],
    &["XGROUP", "CREATE", "str", "g", "0"],
    &["XINFO", "STREAM", "str"],
    &["XPENDING", "str", "g"],
    &["XACK", "str", "g", "1"],
    &["XCLAIM", "str", "g", "c", "0", "1"],
    &["XAUTOCLAIM", "str", "g", "c", "0", "0"],
    &["XSETID", "str", "1"],
    &["XTRIM", "str", "MAXLEN", "1"],
    &["XDEL", "str", "1"],
    &["TYPE", "s"],
    &["OBJECT", "ENCODING", "s"],
    &["~type", "MEMORY", "USAGE", "s"],
    &["COPY", "s", "s2"],
    &["XRANGE", "s2", "-", "+"],
    &["RENAME", "s2", "s3"],
    &["~shape", "XINFO", "STREAM", "s3"],
    &["~shape", "SCAN", "0", "TYPE", "stream"],
    &["~type", "XADD", "auto", "*", "f", "v"],
    &[
        "COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0",
    ],
    &[
        "COMMAND",
        "GETKEYS",
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "STREAMS",
        "a",
        ">",
    ],
];

#[test]
fn commands_and_errors_differential() {
    let p = Pair::new();
    p.diff(SCRIPT);
    p.diff3(SCRIPT);
}

#[test]
fn trimming_follows_node_sizes_differential() {
    let p = Pair::with_args(&["--stream-node-max-entries", "10"]);
    let mut s = p.session("RESP2");
    for i in 1..=1000 {
        let id = i.to_string();
        s.run(&lines(&[&[
            "XADD", "t", "MAXLEN", "~", "555", &id, "item", &id,
        ]]));
    }
    s.run(&lines(&[
        &["XLEN", "t"],
        &["~shape", "XINFO", "STREAM", "t"],
        &["XTRIM", "t", "MAXLEN", "~", "300", "LIMIT", "30"],
        &["XTRIM", "t", "MINID", "~", "800"],
        &["XTRIM", "t", "MAXLEN", "100"],
        &["XDEL", "t", "950", "951"],
        &["~shape", "XINFO", "STREAM", "t"],
        &["CONFIG", "SET", "stream-node-max-bytes", "100"],
        &[
            "XADD",
            "t",
            "2000",
            "f",
            "a long enough value to fill the node quickly",
        ],
        &[
            "XADD",
            "t",
            "2001",
            "f",
            "a long enough value to fill the node quickly",
        ],
        &["~shape", "XINFO", "STREAM", "t"],
        &["XRANGE", "t", "990", "+"],
    ]));
    s.finish();
}

/// XINFO CONSUMERS' `inactive` and XINFO STREAM FULL's `active-time` are
/// 7.2 additions: checked against 7.2's source of truth when available.
#[test]
fn consumer_activity_fields_match_redis_72() {
    check72(|c| {
        c.cmd(&["DEL", "s"]);
        expect(c, &["XADD", "s", "1-1", "f", "v"], b"$3\r\n1-1\r\n");
        expect(c, &["XGROUP", "CREATE", "s", "g", "0"], b"+OK\r\n");
        expect(
            c,
            &["XGROUP", "CREATECONSUMER", "s", "g", "idle"],
            b":1\r\n",
        );
        let r = c.cmd(&["XINFO", "CONSUMERS", "s", "g"]).text();
        assert!(r.contains("inactive"), "{r}");
        // Never active: -1.
        assert!(r.contains("-1"), "{r}");
        let full = c.cmd(&["XINFO", "STREAM", "s", "FULL"]).text();
        assert!(full.contains("active-time"), "{full}");
    });
}

#[test]
fn blocked_readers_are_woken_as_on_redis() {
    for srv in servers() {
        let name = srv.kind.name();
        // Redis 7.0 (the oracle) answers a reader whose stream went away
        // with UNBLOCKED; 7.2 (the target) re-runs it: NOGROUP or WRONGTYPE.
        let gone = |r: Reply, want: &str| {
            let t = r.text();
            assert!(
                t.contains(want) || (name != "ferrokey" && t.contains("UNBLOCKED")),
                "{name}: {t}"
            );
        };
        let mut c = srv.connect();
        c.cmd(&["FLUSHALL"]);
        c.cmd(&["XADD", "s", "1-1", "old", "x"]);
        // `$` means after the last entry when the reader blocked; readers
        // are served in the order they blocked.
        let mut r1 = srv.connect();
        let mut r2 = srv.connect();
        r1.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_blocked(&mut c, 1);
        r2.send(&[
            "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "other", "s", "0", "$",
        ]);
        wait_blocked(&mut c, 2);
        c.cmd(&["XADD", "s", "2-1", "new", "y"]);
        let want =
            b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$3\r\nnew\r\n$1\r\ny\r\n";
        assert_eq!(escape(&r1.read().raw), escape(want), "{name}");
        assert_eq!(escape(&r2.read().raw), escape(want), "{name}");
        // A timeout answers a null array.
        let reply = r1.cmd(&["XREAD", "BLOCK", "20", "STREAMS", "s", "$"]);
        assert_eq!(reply.raw, b"*-1\r\n", "{name}");
        // XREADGROUP: new entries go to one consumer; deleting the key or
        // the group wakes the reader with NOGROUP; a type change with
        // WRONGTYPE.
        c.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
        park(&mut r1, &mut c);
        c.cmd(&["XADD", "s", "3-1", "f", "v"]);
        assert!(r1.read().text().contains("3-1"), "{name}");
        park(&mut r1, &mut c);
        c.cmd(&["DEL", "s"]);
        gone(r1.read(), "NOGROUP");
        c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        park(&mut r1, &mut c);
        c.cmd(&["XGROUP", "DESTROY", "s", "g"]);
        assert!(r1.read().text().contains("NOGROUP"), "{name}");
        c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        park(&mut r1, &mut c);
        c.cmd(&["MULTI"]);
        c.cmd(&["DEL", "s"]);
        c.cmd(&["SET", "s", "now a string"]);
        c.cmd(&["EXEC"]);
        gone(r1.read(), "WRONGTYPE");
        // In MULTI, BLOCK does not block.
        c.cmd(&["DEL", "s"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        assert_eq!(c.cmd(&["EXEC"]).raw, b"*1\r\n*-1\r\n", "{name}");
    }
}

/// `r` blocks in XREADGROUP GROUP g a BLOCK 0 on `s`; returns once `c`
/// sees it blocked.
fn park(r: &mut Conn, c: &mut Conn) {
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "a",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(c, 1);
}

#[test]
fn streams_survive_reload_and_dump_restore_both_ways() {
    let p = Pair::new();
    let Some(redis) = p.redis.as_ref() else {
        eprintln!("redis-server not installed: skipping the cross-server part");
        return;
    };
    let mut f = p.ferrokey.connect();
    let mut r = redis.connect();
    let build = |c: &mut Conn| {
        c.cmd(&["FLUSHALL"]);
        for i in 1..=250 {
            let id = format!("{i}-1");
            if i % 3 == 0 {
                c.cmd(&["XADD", "s", &id, "odd", "fields", "n", &i.to_string()]);
            } else {
                c.cmd(&["XADD", "s", &id, "a", "1", "b", &i.to_string()]);
            }
        }
        c.cmd(&["XDEL", "s", "7-1", "120-1"]);
        c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
        c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "5",
            "STREAMS",
            "s",
            ">",
        ]);
        c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "COUNT",
            "3",
            "STREAMS",
            "s",
            ">",
        ]);
        c.cmd(&["XACK", "s", "g", "2-1"]);
        c.cmd(&["XGROUP", "CREATECONSUMER", "s", "g", "carol"]);
        c.cmd(&["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "7"]);
    };
    build(&mut f);
    build(&mut r);
    // Delivery times differ between the servers; everything else must
    // match, so compare XINFO with the times masked by shape, and the
    // entries and summaries exactly.
    let exact = |c: &mut Conn| {
        vec![
            c.cmd(&["XRANGE", "s", "-", "+"]).raw,
            c.cmd(&["XPENDING", "s", "g"]).raw,
            c.cmd(&["XINFO", "GROUPS", "s"]).raw,
            xinfo_without_rax_nodes(c),
        ]
    };
    let before = exact(&mut f);
    assert_eq!(before, exact(&mut r), "same data on both servers");
    // DEBUG RELOAD writes and reads Ferrokey's own file.
    assert_eq!(f.cmd(&["DEBUG", "RELOAD"]).raw, b"+OK\r\n");
    assert_eq!(exact(&mut f), before, "after DEBUG RELOAD");
    // Ferrokey's payload restores into redis-server, and the other way.
    let fd = f.cmd(&["DUMP", "s"]);
    let rd = r.cmd(&["DUMP", "s"]);
    let payload = |rep: &Reply| match &rep.frame {
        ferrokey_resp::Frame::Bulk(b) => b.clone(),
        other => panic!("DUMP: {other:?}"),
    };
    let (fp, rp) = (payload(&fd), payload(&rd));
    let restored = r.cmd(&[&b"RESTORE"[..], b"from-ferrokey", b"0", &fp]);
    assert_eq!(
        restored.raw, b"+OK\r\n",
        "redis-server RESTOREs Ferrokey's DUMP"
    );
    let restored = f.cmd(&[&b"RESTORE"[..], b"from-redis", b"0", &rp]);
    assert_eq!(
        restored.raw, b"+OK\r\n",
        "Ferrokey RESTOREs redis-server's DUMP"
    );
    for key in ["from-ferrokey", "from-redis"] {
        let c = if key == "from-ferrokey" {
            &mut r
        } else {
            &mut f
        };
        c.cmd(&["RENAME", key, "s"]);
        assert_eq!(exact(c), before, "{key}");
        let xi = c.cmd(&["XINFO", "STREAM", "s", "FULL"]);
        assert!(xi.text().contains("carol"), "{key}: consumers kept");
    }
}

/// XINFO STREAM's reply without `radix-tree-nodes`, the inner node count
/// of Redis's radix tree, which Ferrokey (a B-tree) only approximates.
fn xinfo_without_rax_nodes(c: &mut Conn) -> Vec<u8> {
    use ferrokey_resp::Frame;
    let r = c.cmd(&["XINFO", "STREAM", "s"]);
    let Frame::Array(items) = r.frame else {
        panic!("XINFO STREAM: {}", r.text());
    };
    let kept: Vec<Frame> = items
        .chunks(2)
        .filter(|kv| kv[0] != Frame::bulk("radix-tree-nodes"))
        .flatten()
        .cloned()
        .collect();
    format!("{kept:?}").into_bytes()
}

#[test]
fn xinfo_stream_matches_but_for_radix_tree_nodes() {
    let p = Pair::with_args(&["--stream-node-max-entries", "10"]);
    let Some(redis) = p.redis.as_ref() else {
        return;
    };
    let mut f = p.ferrokey.connect();
    let mut r = redis.connect();
    for c in [&mut f, &mut r] {
        c.cmd(&["FLUSHALL"]);
        for i in 1..=1000 {
            let id = i.to_string();
            c.cmd(&["XADD", "s", "MAXLEN", "~", "555", &id, "item", &id]);
        }
    }
    assert_eq!(
        xinfo_without_rax_nodes(&mut f),
        xinfo_without_rax_nodes(&mut r)
    );
    for step in [
        &["XTRIM", "s", "MAXLEN", "~", "300", "LIMIT", "30"][..],
        &["XTRIM", "s", "MINID", "~", "800"],
        &["XDEL", "s", "950", "951"],
        &["XTRIM", "s", "MAXLEN", "90"],
        &["CONFIG", "SET", "stream-node-max-bytes", "100"],
        &[
            "XADD",
            "s",
            "2000",
            "f",
            "a long enough value to fill the node quickly",
        ],
        &[
            "XADD",
            "s",
            "2001",
            "f",
            "a long enough value to fill the node quickly",
        ],
    ] {
        assert_eq!(f.cmd(step).raw, r.cmd(step).raw, "{step:?}");
        assert_eq!(
            xinfo_without_rax_nodes(&mut f),
            xinfo_without_rax_nodes(&mut r),
            "after {step:?}"
        );
    }
}

/// Five consumers in one group read 100,000 entries with XREADGROUP BLOCK
/// while a producer adds them; every entry reaches exactly one consumer
/// and is acknowledged, one consumer stops half-way and its pending
/// entries are taken over with XAUTOCLAIM; XPENDING ends empty.
#[test]
fn five_consumers_share_100k_entries() {
    const TOTAL: usize = 100_000;
    let srv = Server::ferrokey();
    let mut admin = srv.connect();
    admin.cmd(&["XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"]);
    let port = srv.port;
    let consumer = move |name: String, stop_after: Option<usize>| {
        std::thread::spawn(move || {
            let mut c = Conn::connect(port);
            let mut seen: Vec<String> = Vec::new();
            loop {
                let r = c.cmd(&[
                    "XREADGROUP",
                    "GROUP",
                    "workers",
                    &name,
                    "COUNT",
                    "200",
                    "BLOCK",
                    "200",
                    "STREAMS",
                    "jobs",
                    ">",
                ]);
                let ids = reply_ids(&r.frame);
                if ids.is_empty() {
                    // Done when the producer's end marker is visible and
                    // nothing new came.
                    let done = c.cmd(&["EXISTS", "produced"]).raw == b":1\r\n";
                    if done {
                        break;
                    }
                    continue;
                }
                if let Some(limit) = stop_after {
                    if seen.len() + ids.len() > limit {
                        // Killed mid-way: these entries stay pending.
                        return seen;
                    }
                }
                ack(&mut c, &ids);
                seen.extend(ids);
            }
            seen
        })
    };
    let workers: Vec<_> = (0..5)
        .map(|i| consumer(format!("w{i}"), (i == 4).then_some(5_000)))
        .collect();
    // The producer pipelines XADDs in batches.
    let mut p = Conn::connect(port);
    let mut sent = 0;
    while sent < TOTAL {
        let batch = 1000.min(TOTAL - sent);
        for j in 0..batch {
            p.send(&["XADD", "jobs", "*", "job", &(sent + j).to_string()]);
        }
        for _ in 0..batch {
            assert!(!p.read().is_error());
        }
        sent += batch;
    }
    p.cmd(&["SET", "produced", "1"]);
    let mut all: Vec<String> = Vec::new();
    for w in workers {
        all.extend(w.join().expect("consumer thread"));
    }
    // Take over what the stopped consumer left pending.
    let mut cursor = "0-0".to_string();
    loop {
        let r = admin.cmd(&[
            "XAUTOCLAIM",
            "jobs",
            "workers",
            "rescuer",
            "0",
            &cursor,
            "COUNT",
            "500",
        ]);
        let ferrokey_resp::Frame::Array(parts) = &r.frame else {
            panic!("XAUTOCLAIM: {}", r.text());
        };
        let ids = reply_ids(&ferrokey_resp::Frame::Array(vec![
            ferrokey_resp::Frame::Array(vec![ferrokey_resp::Frame::bulk("jobs"), parts[1].clone()]),
        ]));
        if !ids.is_empty() {
            ack(&mut admin, &ids);
            all.extend(ids);
        }
        cursor = match &parts[0] {
            ferrokey_resp::Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("cursor {other:?}"),
        };
        if cursor == "0-0" {
            break;
        }
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), TOTAL, "every entry delivered once");
    assert_eq!(unique.len(), TOTAL, "no entry delivered twice");
    let pending = admin.cmd(&["XPENDING", "jobs", "workers"]);
    assert!(
        pending.raw.starts_with(b"*4\r\n:0\r\n"),
        "{}",
        pending.text()
    );
    assert_eq!(admin.cmd(&["XLEN", "jobs"]).raw, b":100000\r\n");
}

/// Acknowledges `ids` in the jobs group; all must have been pending.
fn ack(c: &mut Conn, ids: &[String]) {
    let mut args: Vec<&str> = vec!["XACK", "jobs", "workers"];
    args.extend(ids.iter().map(String::as_str));
    let n = c.cmd(&args);
    assert_eq!(n.raw, format!(":{}\r\n", ids.len()).into_bytes());
}

/// The entry IDs of an XREADGROUP reply (one stream).
fn reply_ids(f: &ferrokey_resp::Frame) -> Vec<String> {
    use ferrokey_resp::Frame;
    let Frame::Array(streams) = f else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in streams {
        let Frame::Array(kv) = s else { continue };
        let Some(Frame::Array(entries)) = kv.get(1) else {
            continue;
        };
        for e in entries {
            if let Frame::Array(parts) = e {
                if let Some(Frame::Bulk(id)) = parts.first() {
                    out.push(String::from_utf8_lossy(id).into_owned());
                }
            }
        }
    }
    out
}
