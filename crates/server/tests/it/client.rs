//! The seeds' basic cache usage through the Rust `redis` crate (sync API),
//! against Ferrokey (and the same checks against redis-server when it is
//! installed, so the expectations themselves are proven).

use std::time::Duration;

use redis::{Connection, Value};

use crate::harness::*;

fn connect(s: &Server) -> Connection {
    let client = redis::Client::open(s.url()).expect("client");
    let con = client
        .get_connection_with_timeout(IO_TIMEOUT)
        .expect("connect");
    con.set_read_timeout(Some(IO_TIMEOUT))
        .expect("read timeout");
    con.set_write_timeout(Some(IO_TIMEOUT))
        .expect("write timeout");
    con
}

/// Ferrokey first, then redis-server when installed.
fn servers() -> Vec<Server> {
    let mut v = vec![Server::ferrokey()];
    v.extend(Server::redis());
    v
}

#[test]
fn set_ex_get_ttl() {
    for s in servers() {
        let mut con = connect(&s);
        let kind = s.kind;
        let () = redis::cmd("SET")
            .arg("session:abc")
            .arg("{\"user\":1}")
            .arg("EX")
            .arg(3600)
            .query(&mut con)
            .unwrap();
        let v: Option<String> = redis::cmd("GET")
            .arg("session:abc")
            .query(&mut con)
            .unwrap();
        assert_eq!(v.as_deref(), Some("{\"user\":1}"), "{kind:?}");
        let ttl: i64 = redis::cmd("TTL")
            .arg("session:abc")
            .query(&mut con)
            .unwrap();
        assert!((3599..=3600).contains(&ttl), "{kind:?} TTL {ttl}");
        let pttl: i64 = redis::cmd("PTTL")
            .arg("session:abc")
            .query(&mut con)
            .unwrap();
        assert!(
            pttl > 3_598_000 && pttl <= 3_600_000,
            "{kind:?} PTTL {pttl}"
        );
        let missing: Option<String> = redis::cmd("GET")
            .arg("session:none")
            .query(&mut con)
            .unwrap();
        assert_eq!(missing, None, "{kind:?}");
        let ttl: i64 = redis::cmd("TTL")
            .arg("session:none")
            .query(&mut con)
            .unwrap();
        assert_eq!(ttl, -2, "{kind:?}");
        let () = redis::cmd("SET")
            .arg("plain")
            .arg("v")
            .query(&mut con)
            .unwrap();
        let ttl: i64 = redis::cmd("TTL").arg("plain").query(&mut con).unwrap();
        assert_eq!(ttl, -1, "{kind:?}");
        // SETEX, as connect-redis writes sessions.
        let () = redis::cmd("SETEX")
            .arg("sess:x")
            .arg(86400)
            .arg("data")
            .query(&mut con)
            .unwrap();
        let ttl: i64 = redis::cmd("TTL").arg("sess:x").query(&mut con).unwrap();
        assert!((86399..=86400).contains(&ttl), "{kind:?} TTL {ttl}");
        // A conditional lock: SET NX PX.
        let got: Option<String> = redis::cmd("SET")
            .arg("lock")
            .arg("me")
            .arg("NX")
            .arg("PX")
            .arg(30000)
            .query(&mut con)
            .unwrap();
        assert_eq!(got.as_deref(), Some("OK"), "{kind:?}");
        let again: Option<String> = redis::cmd("SET")
            .arg("lock")
            .arg("you")
            .arg("NX")
            .arg("PX")
            .arg(30000)
            .query(&mut con)
            .unwrap();
        assert_eq!(again, None, "{kind:?}");
        let err = redis::cmd("SET")
            .arg("k")
            .arg("v")
            .arg("EX")
            .arg(0)
            .query::<()>(&mut con)
            .unwrap_err();
        assert_eq!(err.code(), Some("ERR"), "{kind:?}");
        assert!(
            err.to_string()
                .contains("invalid expire time in 'set' command"),
            "{kind:?} {err}"
        );
    }
}

#[test]
fn incr_counters() {
    for s in servers() {
        let mut con = connect(&s);
        let kind = s.kind;
        for i in 1..=100i64 {
            let n: i64 = redis::cmd("INCR").arg("hits").query(&mut con).unwrap();
            assert_eq!(n, i, "{kind:?}");
        }
        let n: i64 = redis::cmd("INCRBY")
            .arg("hits")
            .arg(-50)
            .query(&mut con)
            .unwrap();
        assert_eq!(n, 50, "{kind:?}");
        let n: i64 = redis::cmd("DECR").arg("hits").query(&mut con).unwrap();
        assert_eq!(n, 49, "{kind:?}");
        let f: f64 = redis::cmd("INCRBYFLOAT")
            .arg("score")
            .arg(2.5)
            .query(&mut con)
            .unwrap();
        assert_eq!(f, 2.5, "{kind:?}");
        let v: String = redis::cmd("GET").arg("hits").query(&mut con).unwrap();
        assert_eq!(v, "49", "{kind:?}");
        // A rate limiter: INCR then EXPIRE NX.
        let n: i64 = redis::cmd("INCR")
            .arg("rl:1.2.3.4")
            .query(&mut con)
            .unwrap();
        assert_eq!(n, 1, "{kind:?}");
        let set: i64 = redis::cmd("EXPIRE")
            .arg("rl:1.2.3.4")
            .arg(60)
            .arg("NX")
            .query(&mut con)
            .unwrap();
        assert_eq!(set, 1, "{kind:?}");
        let set: i64 = redis::cmd("EXPIRE")
            .arg("rl:1.2.3.4")
            .arg(60)
            .arg("NX")
            .query(&mut con)
            .unwrap();
        assert_eq!(set, 0, "{kind:?}");
        let () = redis::cmd("SET")
            .arg("word")
            .arg("abc")
            .query(&mut con)
            .unwrap();
        let err = redis::cmd("INCR")
            .arg("word")
            .query::<i64>(&mut con)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("value is not an integer or out of range"),
            "{kind:?} {err}"
        );
        // Counters updated from several connections at once.
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let url = s.url();
                std::thread::spawn(move || {
                    let client = redis::Client::open(url).unwrap();
                    let mut con = client.get_connection_with_timeout(IO_TIMEOUT).unwrap();
                    con.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                    for _ in 0..250 {
                        let _: i64 = redis::cmd("INCR").arg("shared").query(&mut con).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let total: i64 = redis::cmd("GET").arg("shared").query(&mut con).unwrap();
        assert_eq!(total, 1000, "{kind:?}");
    }
}

#[test]
fn mget_mset() {
    for s in servers() {
        let mut con = connect(&s);
        let kind = s.kind;
        let () = redis::cmd("MSET")
            .arg("a")
            .arg("1")
            .arg("b")
            .arg("2")
            .arg("c")
            .arg("3")
            .query(&mut con)
            .unwrap();
        let v: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&["a", "b", "missing", "c"])
            .query(&mut con)
            .unwrap();
        assert_eq!(
            v,
            vec![Some("1".into()), Some("2".into()), None, Some("3".into())],
            "{kind:?}"
        );
        let ok: i64 = redis::cmd("MSETNX")
            .arg("c")
            .arg("x")
            .arg("d")
            .arg("y")
            .query(&mut con)
            .unwrap();
        assert_eq!(ok, 0, "{kind:?}");
        let ok: i64 = redis::cmd("MSETNX")
            .arg("d")
            .arg("x")
            .arg("e")
            .arg("y")
            .query(&mut con)
            .unwrap();
        assert_eq!(ok, 1, "{kind:?}");
        let bin: Vec<u8> = (0..=255).collect();
        let () = redis::cmd("MSET")
            .arg(&bin[..])
            .arg(&bin[..])
            .query(&mut con)
            .unwrap();
        let back: Vec<Vec<u8>> = redis::cmd("MGET").arg(&bin[..]).query(&mut con).unwrap();
        assert_eq!(back, vec![bin.clone()], "{kind:?}");
        let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(n, 6, "{kind:?}");
    }
}

#[test]
fn pipeline_of_100_gets() {
    for s in servers() {
        let mut con = connect(&s);
        let kind = s.kind;
        let mut set = redis::pipe();
        for i in 0..100 {
            set.cmd("SET").arg(format!("p:{i}")).arg(i * 3).ignore();
        }
        let () = set.query(&mut con).unwrap();
        let mut get = redis::pipe();
        for i in 0..100 {
            get.cmd("GET").arg(format!("p:{i}"));
        }
        let values: Vec<i64> = get.query(&mut con).unwrap();
        assert_eq!(
            values,
            (0..100).map(|i| i * 3).collect::<Vec<_>>(),
            "{kind:?}"
        );
        // A pipeline mixing an error in the middle.
        let r: Vec<Value> = redis::pipe()
            .cmd("GET")
            .arg("p:1")
            .cmd("INCR")
            .arg("p:1")
            .cmd("GET")
            .arg("p:1")
            .query(&mut con)
            .unwrap();
        assert_eq!(r.len(), 3, "{kind:?}");
        // A MULTI-less pipeline of 1000 INCRs comes back in order.
        let mut incr = redis::pipe();
        for _ in 0..1000 {
            incr.cmd("INCR").arg("seq");
        }
        let seq: Vec<i64> = incr.query(&mut con).unwrap();
        assert_eq!(seq, (1..=1000).collect::<Vec<_>>(), "{kind:?}");
    }
}

#[test]
fn scan_iteration() {
    for s in servers() {
        let mut con = connect(&s);
        let kind = s.kind;
        let mut p = redis::pipe();
        for i in 0..1000 {
            p.cmd("SET").arg(format!("user:{i}")).arg(i).ignore();
            p.cmd("SET").arg(format!("order:{i}")).arg(i).ignore();
        }
        let () = p.query(&mut con).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor: u64 = 0;
        let mut calls = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg("user:*")
                .arg("COUNT")
                .arg(100)
                .query(&mut con)
                .unwrap();
            seen.extend(keys);
            cursor = next;
            calls += 1;
            assert!(calls < 10_000, "{kind:?} SCAN does not finish");
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000, "{kind:?}");
        assert!(seen.iter().all(|k| k.starts_with("user:")), "{kind:?}");
        // The crate's own iterator.
        let mut scan = redis::cmd("SCAN");
        scan.cursor_arg(0).arg("MATCH").arg("order:1*");
        let iter: redis::Iter<String> = scan.iter(&mut con).unwrap();
        let orders: std::collections::BTreeSet<String> = iter.collect();
        assert_eq!(orders.len(), 111, "{kind:?}");
    }
}

#[test]
fn pexpire_removes_keys() {
    for s in servers() {
        let mut con = connect(&s);
        let kind = s.kind;
        let () = redis::cmd("SET")
            .arg("short")
            .arg("v")
            .query(&mut con)
            .unwrap();
        let set: i64 = redis::cmd("PEXPIRE")
            .arg("short")
            .arg(50)
            .query(&mut con)
            .unwrap();
        assert_eq!(set, 1, "{kind:?}");
        let () = redis::cmd("SET")
            .arg("short2")
            .arg("v")
            .arg("PX")
            .arg(50)
            .query(&mut con)
            .unwrap();
        // Poll, bounded: the keys must be gone within 5 s.
        let mut gone = false;
        for _ in 0..250 {
            let v: Option<String> = redis::cmd("GET").arg("short").query(&mut con).unwrap();
            let n: i64 = redis::cmd("EXISTS").arg("short2").query(&mut con).unwrap();
            if v.is_none() && n == 0 {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            gone,
            "{kind:?}: keys with a 50 ms TTL still there after 5 s"
        );
        let ttl: i64 = redis::cmd("PTTL").arg("short").query(&mut con).unwrap();
        assert_eq!(ttl, -2, "{kind:?}");
    }
}

#[test]
fn active_expiry_of_1000_keys() {
    for s in servers() {
        let mut con = connect(&s);
        let kind = s.kind;
        let mut p = redis::pipe();
        for i in 0..1000 {
            p.cmd("SET")
                .arg(format!("tmp:{i}"))
                .arg("x")
                .arg("PX")
                .arg(100)
                .ignore();
        }
        for i in 0..10 {
            p.cmd("SET").arg(format!("keep:{i}")).arg("x").ignore();
        }
        let () = p.query(&mut con).unwrap();
        // Nobody touches the keys: only active expiry can remove them.
        let mut n: i64 = -1;
        for _ in 0..100 {
            n = redis::cmd("DBSIZE").query(&mut con).unwrap();
            if n == 10 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            n, 10,
            "{kind:?}: DBSIZE after active expiry (polled for 5 s)"
        );
        let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
        let expired: i64 = info
            .lines()
            .find_map(|l| l.strip_prefix("expired_keys:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(-1);
        assert_eq!(expired, 1000, "{kind:?} expired_keys");
        let keys: Vec<String> = redis::cmd("KEYS").arg("tmp:*").query(&mut con).unwrap();
        assert!(keys.is_empty(), "{kind:?}");
    }
}

#[test]
fn hello3_with_the_crate() {
    for s in servers() {
        let mut con = connect(&s);
        let kind = s.kind;
        let v: Value = redis::cmd("HELLO").arg(3).query(&mut con).unwrap();
        let Value::Map(pairs) = v else {
            panic!("{kind:?} HELLO 3 is a map: {v:?}")
        };
        let keys: Vec<String> = pairs
            .iter()
            .map(|(k, _)| match k {
                Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            keys,
            ["server", "version", "proto", "id", "mode", "role", "modules"],
            "{kind:?}"
        );
        let v: Value = redis::cmd("GET").arg("missing").query(&mut con).unwrap();
        assert_eq!(v, Value::Nil, "{kind:?}");
        let v: Value = redis::cmd("INCRBYFLOAT")
            .arg("f")
            .arg("1.5")
            .query(&mut con)
            .unwrap();
        assert_eq!(v, Value::BulkString(b"1.5".to_vec()), "{kind:?}");
    }
}
