//! Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
//! BZPOPMAX, BZMPOP): immediate replies compared byte for byte with
//! redis-server, and the waiting itself (order of service, transactions,
//! CLIENT UNBLOCK, disconnects, many clients at once) checked on both
//! servers with the same expectations.

use std::collections::HashMap;

use crate::harness::*;

#[test]
fn immediate_replies_and_errors_differential() {
    let script: &[&[&str]] = &[
        &["RPUSH", "l", "a", "b", "c"],
        &["BLPOP", "nokey", "l", "0"],
        &["BRPOP", "l", "nokey", "0"],
        &["BLPOP", "nokey", "0.01"],
        &["BRPOP", "nokey", "nokey2", "0.01"],
        &["BLMOVE", "l", "dst", "LEFT", "RIGHT", "0"],
        &["BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.01"],
        &["BRPOPLPUSH", "dst", "l", "0"],
        &["BRPOPLPUSH", "nokey", "l", "0.01"],
        &["LRANGE", "l", "0", "-1"],
        &["RPUSH", "l", "x", "y", "z"],
        &["BLMPOP", "0", "2", "nokey", "l", "LEFT", "COUNT", "2"],
        &["BLMPOP", "0", "1", "l", "RIGHT"],
        &["BLMPOP", "0.01", "1", "nokey", "RIGHT"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4.5", "d"],
        &["BZPOPMIN", "nokey", "z", "0"],
        &["BZPOPMAX", "z", "0"],
        &["BZPOPMIN", "nokey", "0.01"],
        &["BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "5"],
        &["BZMPOP", "0.01", "1", "z", "MAX"],
        &["EXISTS", "z"],
        // Errors: timeouts, syntax, types.
        &["BLPOP", "l", "-1"],
        &["BLPOP", "l", "abc"],
        &["BRPOPLPUSH", "l", "d", "-0.5"],
        &["BLMOVE", "l", "d", "UP", "LEFT", "0"],
        &["BLMPOP", "-1", "1", "l", "LEFT"],
        &["BLMPOP", "0", "0", "l", "LEFT"],
        &["BLMPOP", "0", "1", "l", "MIDDLE"],
        &["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"],
        &["BLMPOP", "0", "3", "l", "LEFT"],
        &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "-1"],
        &["BZPOPMIN", "z", "nan"],
        &["SET", "s", "v"],
        &["BLPOP", "s", "0"],
        &["BLPOP", "nokey", "s", "0"],
        &["BZPOPMAX", "s", "0"],
        &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
        &["RPUSH", "l2", "e"],
        &["BLMOVE", "l2", "s", "LEFT", "LEFT", "0"],
        &["LLEN", "l2"],
        &["BLMPOP", "0", "1", "s", "LEFT"],
        &["BZMPOP", "0", "1", "s", "MIN"],
        &["BLPOP", "l"],
        &["BZMPOP", "0", "1"],
        // Inside MULTI nothing blocks: the reply is the timeout reply.
        &["MULTI"],
        &["BLPOP", "nokey", "0"],
        &["BRPOPLPUSH", "nokey", "x", "0"],
        &["BZPOPMIN", "nokey", "0"],
        &["BLMPOP", "0", "1", "nokey", "LEFT"],
        &["EXEC"],
    ];
    let p = Pair::new();
    p.diff(script);
    p.diff3(script);
    // Redis 7.0 lets the huge timeout overflow into "negative"; 7.2 (the
    // target) range-checks it.
    let mut c = p.ferrokey.connect();
    expect(
        &mut c,
        &["BLPOP", "l", "1e400"],
        b"-ERR timeout is out of range\r\n",
    );
}

/// A client that sent a blocking command and has not read the reply yet.
fn block(s: &Server, args: &[&str]) -> Conn {
    let mut c = s.connect();
    c.send(args);
    c
}

#[test]
fn waiters_are_served_in_the_order_they_blocked() {
    for s in servers() {
        let mut ctl = s.connect();
        ctl.cmd(&["FLUSHALL"]);
        let mut waiters = Vec::new();
        for i in 0..3 {
            waiters.push(block(&s, &["BLPOP", "k", "other", "0"]));
            wait_blocked(&mut ctl, i + 1);
        }
        assert_eq!(
            ctl.cmd(&["RPUSH", "k", "a", "b", "c", "d"]).text(),
            ":4\r\n"
        );
        let got: Vec<String> = waiters.iter_mut().map(|w| w.read().text()).collect();
        assert_eq!(
            got,
            vec![
                "*2\r\n$1\r\nk\r\n$1\r\na\r\n",
                "*2\r\n$1\r\nk\r\n$1\r\nb\r\n",
                "*2\r\n$1\r\nk\r\n$1\r\nc\r\n",
            ],
            "{:?}",
            s.kind
        );
        assert_eq!(
            ctl.cmd(&["LRANGE", "k", "0", "-1"]).text(),
            "*1\r\n$1\r\nd\r\n"
        );
        wait_blocked(&mut ctl, 0);
    }
}

#[test]
fn push_inside_multi_serves_after_exec() {
    for s in servers() {
        let mut ctl = s.connect();
        ctl.cmd(&["FLUSHALL"]);
        let mut w = block(&s, &["BLPOP", "blist", "0"]);
        wait_blocked(&mut ctl, 1);
        ctl.cmd(&["MULTI"]);
        ctl.cmd(&["LPUSH", "blist", "a"]);
        ctl.cmd(&["LPUSH", "blist", "b"]);
        ctl.cmd(&["LPUSH", "blist", "c"]);
        ctl.cmd(&["EXEC"]);
        // The waiter sees the list as EXEC left it: c b a.
        assert_eq!(
            w.read().text(),
            "*2\r\n$5\r\nblist\r\n$1\r\nc\r\n",
            "{:?}",
            s.kind
        );
        assert_eq!(ctl.cmd(&["LLEN", "blist"]).text(), ":2\r\n");
        // A push then pop inside one transaction leaves nothing to serve.
        let mut w = block(&s, &["BLPOP", "empty", "0"]);
        wait_blocked(&mut ctl, 1);
        ctl.cmd(&["MULTI"]);
        ctl.cmd(&["LPUSH", "empty", "x"]);
        ctl.cmd(&["LPOP", "empty"]);
        ctl.cmd(&["EXEC"]);
        ctl.cmd(&["RPUSH", "empty", "y"]);
        assert_eq!(w.read().text(), "*2\r\n$5\r\nempty\r\n$1\r\ny\r\n");
    }
}

#[test]
fn blmove_chain_and_zset_waiters() {
    for s in servers() {
        let mut ctl = s.connect();
        ctl.cmd(&["FLUSHALL"]);
        // A moves src -> mid, B waits on mid: one push feeds both.
        let mut a = block(&s, &["BLMOVE", "src", "mid", "RIGHT", "LEFT", "0"]);
        wait_blocked(&mut ctl, 1);
        let mut b = block(&s, &["BRPOPLPUSH", "mid", "dst", "0"]);
        wait_blocked(&mut ctl, 2);
        ctl.cmd(&["RPUSH", "src", "x"]);
        assert_eq!(a.read().text(), "$1\r\nx\r\n", "{:?}", s.kind);
        assert_eq!(b.read().text(), "$1\r\nx\r\n", "{:?}", s.kind);
        assert_eq!(
            ctl.cmd(&["LRANGE", "dst", "0", "-1"]).text(),
            "*1\r\n$1\r\nx\r\n"
        );
        assert_eq!(ctl.cmd(&["EXISTS", "src", "mid"]).text(), ":0\r\n");

        // Sorted sets, RESP2 and RESP3.
        let mut z2 = block(&s, &["BZPOPMIN", "z", "0"]);
        wait_blocked(&mut ctl, 1);
        let mut z3 = s.connect();
        z3.cmd(&["HELLO", "3"]);
        z3.send(&["BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"]);
        wait_blocked(&mut ctl, 2);
        ctl.cmd(&["ZADD", "z", "1", "a", "2.5", "b", "3", "c", "4", "d"]);
        assert_eq!(
            z2.read().text(),
            "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n",
            "{:?}",
            s.kind
        );
        assert_eq!(
            z3.read().text(),
            "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n",
            "{:?}",
            s.kind
        );
        assert_eq!(ctl.cmd(&["ZCARD", "z"]).text(), ":1\r\n");

        // BLMPOP with a count takes what is there, up to the count.
        let mut m = block(&s, &["BLMPOP", "0", "2", "l1", "l2", "LEFT", "COUNT", "3"]);
        wait_blocked(&mut ctl, 1);
        ctl.cmd(&["RPUSH", "l2", "p", "q"]);
        assert_eq!(
            m.read().text(),
            "*2\r\n$2\r\nl2\r\n*2\r\n$1\r\np\r\n$1\r\nq\r\n"
        );
    }
}

#[test]
fn wrong_type_and_deleted_keys_do_not_serve() {
    for s in servers() {
        let mut ctl = s.connect();
        ctl.cmd(&["FLUSHALL"]);
        let mut w = block(&s, &["BLPOP", "k", "0"]);
        wait_blocked(&mut ctl, 1);
        // A string, then a sorted set, under the waited key: not served.
        ctl.cmd(&["SET", "k", "v"]);
        ctl.cmd(&["DEL", "k"]);
        ctl.cmd(&["ZADD", "k", "1", "m"]);
        ctl.cmd(&["DEL", "k"]);
        // A list that expires before anyone pops it: not served either.
        ctl.cmd(&["MULTI"]);
        ctl.cmd(&["RPUSH", "k", "stale"]);
        ctl.cmd(&["PEXPIRE", "k", "1"]);
        ctl.cmd(&["RPOP", "k"]);
        ctl.cmd(&["EXEC"]);
        wait_blocked(&mut ctl, 1);
        ctl.cmd(&["RPUSH", "k", "fresh"]);
        assert_eq!(
            w.read().text(),
            "*2\r\n$1\r\nk\r\n$5\r\nfresh\r\n",
            "{:?}",
            s.kind
        );
    }
}

#[test]
fn timeouts_unblock_kill_and_disconnect() {
    for s in servers() {
        let mut ctl = s.connect();
        ctl.cmd(&["FLUSHALL"]);
        // A fractional timeout ends the wait with the null reply.
        let mut w = s.connect();
        assert_eq!(w.cmd(&["BLPOP", "k", "0.05"]).text(), "*-1\r\n");
        assert_eq!(w.cmd(&["BRPOPLPUSH", "k", "d", "0.05"]).text(), "*-1\r\n");
        w.cmd(&["HELLO", "3"]);
        assert_eq!(w.cmd(&["BZPOPMIN", "k", "0.05"]).text(), "_\r\n");
        assert_eq!(
            w.cmd(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"]).text(),
            "_\r\n"
        );

        // CLIENT UNBLOCK, with the default reason and with ERROR.
        let mut w = s.connect();
        let id = w.cmd(&["CLIENT", "ID"]).text();
        let id = id.trim_start_matches(':').trim().to_string();
        w.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut ctl, 1);
        let list = ctl.cmd(&["CLIENT", "LIST", "ID", &id]).text();
        assert!(list.contains("flags=b"), "{list}");
        assert_eq!(ctl.cmd(&["CLIENT", "UNBLOCK", &id]).text(), ":1\r\n");
        assert_eq!(w.read().text(), "*-1\r\n");
        assert_eq!(ctl.cmd(&["CLIENT", "UNBLOCK", &id]).text(), ":0\r\n");
        w.send(&["BZPOPMAX", "k", "0"]);
        wait_blocked(&mut ctl, 1);
        assert_eq!(
            ctl.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]).text(),
            ":1\r\n"
        );
        assert_eq!(
            w.read().text(),
            "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
        );
        assert_eq!(
            ctl.cmd(&["CLIENT", "UNBLOCK", &id, "MAYBE"]).text(),
            "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
        );
        // Commands pipelined behind a blocked one run after it.
        w.send_raw(&[encode_cmd(&["BLPOP", "k", "0"]), encode_cmd(&["PING"])].concat());
        wait_blocked(&mut ctl, 1);
        ctl.cmd(&["RPUSH", "k", "v"]);
        assert_eq!(w.read().text(), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
        assert_eq!(w.read().text(), "+PONG\r\n");

        // A killed or vanished waiter takes nothing: the element stays.
        let mut w = s.connect();
        let id = w.cmd(&["CLIENT", "ID"]).text();
        let id = id.trim_start_matches(':').trim().to_string();
        w.send(&["BLPOP", "gone", "0"]);
        wait_blocked(&mut ctl, 1);
        assert_eq!(ctl.cmd(&["CLIENT", "KILL", "ID", &id]).text(), ":1\r\n");
        wait_blocked(&mut ctl, 0);
        let w = block(&s, &["BLPOP", "gone", "0"]);
        wait_blocked(&mut ctl, 1);
        drop(w);
        wait_blocked(&mut ctl, 0);
        ctl.cmd(&["RPUSH", "gone", "kept"]);
        assert_eq!(
            ctl.cmd(&["LRANGE", "gone", "0", "-1"]).text(),
            "*1\r\n$4\r\nkept\r\n"
        );
    }
}

/// 50 clients blocked on BLPOP over 10 keys while 20 clients push 10,000
/// elements: every element is popped exactly once, and each key's first
/// waiters are served in the order they blocked.
#[test]
fn fifty_waiters_twenty_pushers() {
    const KEYS: usize = 10;
    const WAITERS: usize = 50;
    const PUSHERS: usize = 20;
    const PER_PUSHER: usize = 500;
    for s in servers() {
        let mut ctl = s.connect();
        ctl.cmd(&["FLUSHALL"]);
        let port = s.port;
        // Block the waiters one at a time so the order per key is known.
        let mut conns = Vec::new();
        for i in 0..WAITERS {
            let key = format!("q{}", i % KEYS);
            conns.push((key.clone(), block(&s, &["BLPOP", &key, "0"])));
            wait_blocked(&mut ctl, i as u64 + 1);
        }
        // One element per waiter, pushed per key in one RPUSH: waiter j of
        // a key must get the key's j-th element.
        for k in 0..KEYS {
            let key = format!("q{k}");
            let mut args = vec!["RPUSH".to_string(), key.clone()];
            args.extend((0..WAITERS / KEYS).map(|j| format!("first-{k}-{j}")));
            ctl.cmd(&args);
        }
        let mut seen_per_key: HashMap<String, usize> = HashMap::new();
        for (key, c) in conns.iter_mut() {
            let j = seen_per_key.entry(key.clone()).or_default();
            let want = format!("first-{}-{}", &key[1..], *j);
            *j += 1;
            let got = c.read();
            assert_eq!(
                got.text(),
                format!(
                    "*2\r\n${}\r\n{key}\r\n${}\r\n{want}\r\n",
                    key.len(),
                    want.len()
                ),
                "{:?}",
                s.kind
            );
        }
        // Now the waiters loop on BLPOP until they see "stop", while the
        // pushers run.
        let waiters: Vec<_> = conns
            .into_iter()
            .map(|(key, mut c)| {
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    loop {
                        let r = c.cmd(&["BLPOP", &key, "0"]);
                        let ferrokey_resp::Frame::Array(v) = r.frame else {
                            panic!("unexpected reply {}", r.text());
                        };
                        let ferrokey_resp::Frame::Bulk(e) = &v[1] else {
                            panic!("unexpected element");
                        };
                        if e == b"stop" {
                            return got;
                        }
                        got.push(String::from_utf8(e.clone()).unwrap());
                    }
                })
            })
            .collect();
        let pushers: Vec<_> = (0..PUSHERS)
            .map(|p| {
                std::thread::spawn(move || {
                    let mut c = Conn::connect(port);
                    for i in 0..PER_PUSHER {
                        let key = format!("q{}", (p * 7 + i) % KEYS);
                        let r = c.cmd(&["LPUSH", &key, &format!("p{p}-{i}")]);
                        assert!(!r.is_error(), "{}", r.text());
                    }
                })
            })
            .collect();
        for p in pushers {
            p.join().unwrap();
        }
        // Every waiter gets exactly one stop once the rest is drained: the
        // stops go last (RPUSH) and each waiter stops after its first.
        for k in 0..KEYS {
            let key = format!("q{k}");
            let mut args = vec!["RPUSH".to_string(), key];
            args.extend((0..WAITERS / KEYS).map(|_| "stop".to_string()));
            ctl.cmd(&args);
        }
        let mut all: Vec<String> = Vec::new();
        for w in waiters {
            all.extend(w.join().unwrap());
        }
        let total = all.len();
        all.sort();
        all.dedup();
        assert_eq!(total, PUSHERS * PER_PUSHER, "{:?}: popped count", s.kind);
        assert_eq!(
            all.len(),
            total,
            "{:?}: an element was popped twice",
            s.kind
        );
        assert_eq!(ctl.cmd(&["DBSIZE"]).text(), ":0\r\n", "{:?}", s.kind);
        wait_blocked(&mut ctl, 0);
    }
}
