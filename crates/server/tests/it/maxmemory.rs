//! maxmemory: every policy picks the right victims, OOM refusals, runtime
//! CONFIG SET, OBJECT FREQ/IDLETIME, `evicted` events and WATCH. Each
//! behavioural test runs on Ferrokey and on redis-server (when installed),
//! so a test that Redis fails is a wrong test.

use std::time::Duration;

use ferrokey_resp::Frame;

use crate::harness::{diff, encode_cmd, servers, Conn, Server};

/// A 1000-byte value: big enough that a few thousand keys dwarf the
/// server's fixed costs, small enough to load fast.
fn value() -> Vec<u8> {
    vec![b'v'; 1000]
}

/// An INFO field as a number.
fn info_num(c: &mut Conn, section: &str, field: &str) -> u64 {
    let text = c.cmd(&["INFO", section]).text();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no {field}"))
}

fn used(c: &mut Conn) -> u64 {
    info_num(c, "memory", "used_memory")
}

/// Pipelines `SET prefix:i value [EX ttl(i)]` for i in `range`; returns
/// the replies that were errors.
fn fill(
    c: &mut Conn,
    prefix: &str,
    range: std::ops::Range<usize>,
    ttl: impl Fn(usize) -> Option<u64>,
) -> Vec<String> {
    let v = value();
    let mut errors = Vec::new();
    for chunk in range.collect::<Vec<_>>().chunks(100) {
        for &i in chunk {
            let key = format!("{prefix}:{i}");
            match ttl(i) {
                Some(t) => c.send(&[
                    b"SET".as_slice(),
                    key.as_bytes(),
                    &v,
                    b"EX",
                    t.to_string().as_bytes(),
                ]),
                None => c.send(&[b"SET".as_slice(), key.as_bytes(), &v]),
            }
        }
        for _ in chunk {
            let r = c.read();
            if r.is_error() {
                errors.push(r.text());
            }
        }
    }
    errors
}

/// How many of `prefix:i`, i in `range`, exist.
fn count(c: &mut Conn, prefix: &str, range: std::ops::Range<usize>) -> usize {
    let keys: Vec<String> = range.map(|i| format!("{prefix}:{i}")).collect();
    let mut n = 0;
    for chunk in keys.chunks(500) {
        let mut args = vec!["EXISTS"];
        args.extend(chunk.iter().map(String::as_str));
        match c.cmd(&args).frame {
            Frame::Integer(k) => n += k as usize,
            other => panic!("EXISTS: {other:?}"),
        }
    }
    n
}

/// Sets maxmemory to what is in use now plus `extra` bytes.
fn limit_to_now_plus(c: &mut Conn, extra: u64) -> u64 {
    let limit = used(c) + extra;
    let r = c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    assert!(!r.is_error(), "{}", r.text());
    limit
}

/// How far over `maxmemory` a reading may be: one value, plus what the
/// allocator count read from one thread may lag behind another's.
const SLACK: u64 = 64 * 1024;

fn name(s: &Server) -> &'static str {
    s.kind.name()
}

#[test]
fn volatile_policies_never_evict_keys_without_ttl() {
    for s in servers() {
        for policy in [
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ] {
            let mut c = s.connect();
            c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
            c.cmd(&["FLUSHALL"]);
            c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]);
            assert!(fill(&mut c, "keep", 0..300, |_| None).is_empty());
            limit_to_now_plus(&mut c, 2 << 20);
            // 5 MB of volatile keys into 2 MB of room: most must go.
            let errors = fill(&mut c, "tmp", 0..5000, |i| Some(1000 + i as u64));
            assert!(errors.is_empty(), "{} {policy}: {errors:?}", name(&s));
            assert!(info_num(&mut c, "stats", "evicted_keys") > 0);
            assert_eq!(count(&mut c, "keep", 0..300), 300, "{} {policy}", name(&s));
            assert!(count(&mut c, "tmp", 0..5000) < 5000);
            // Once no volatile key is left, writes are refused.
            let errors = fill(&mut c, "more", 0..5000, |_| None);
            assert!(
                errors
                    .iter()
                    .any(|e| e.starts_with("-OOM command not allowed")),
                "{} {policy}: never refused",
                name(&s)
            );
            assert_eq!(count(&mut c, "keep", 0..300), 300, "{} {policy}", name(&s));
            c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        }
    }
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    for s in servers() {
        let mut c = s.connect();
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]);
        // Soon-expiring keys, then late ones; then room for about half.
        assert!(fill(&mut c, "soon", 0..2000, |i| Some(10_000 + i as u64)).is_empty());
        assert!(fill(&mut c, "late", 0..2000, |i| Some(900_000 + i as u64)).is_empty());
        let full = used(&mut c);
        c.cmd(&[
            "CONFIG",
            "SET",
            "maxmemory",
            &(full - (1 << 20)).to_string(),
        ]);
        assert!(fill(&mut c, "newer", 0..1000, |i| Some(100_000 + i as u64)).is_empty());
        let soon = count(&mut c, "soon", 0..2000);
        let late = count(&mut c, "late", 0..2000);
        assert!(soon < 2000, "{}: nothing evicted", name(&s));
        // Sampling is approximate in Redis: nearly every late key stays.
        assert!(late >= 1900, "{}: soon {soon} late {late}", name(&s));
    }
}

#[test]
fn allkeys_lru_keeps_recently_used_keys() {
    for s in servers() {
        let mut c = s.connect();
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        assert!(fill(&mut c, "k", 0..2000, |_| None).is_empty());
        // Redis's LRU clock ticks once a second.
        std::thread::sleep(Duration::from_millis(1100));
        let use_hot = |c: &mut Conn| {
            for i in 0..1000 {
                c.send(&["GET", &format!("k:{i}")]);
            }
            for _ in 0..1000 {
                c.read();
            }
        };
        use_hot(&mut c);
        limit_to_now_plus(&mut c, 1 << 20);
        // New keys arrive while the hot ones stay in use.
        for batch in 0..15 {
            assert!(fill(&mut c, "new", batch * 100..(batch + 1) * 100, |_| None).is_empty());
            use_hot(&mut c);
        }
        let hot = count(&mut c, "k", 0..1000);
        let cold = count(&mut c, "k", 1000..2000);
        assert!(cold < 1000, "{}: nothing evicted", name(&s));
        // Approximate LRU: candidates keep the idle time they had when
        // sampled, so a few hot keys may go; random eviction would take
        // as many hot keys as cold ones.
        assert!(
            hot >= 800 && hot >= cold + 300,
            "{}: hot {hot} cold {cold}",
            name(&s)
        );
    }
}

#[test]
fn allkeys_lfu_keeps_frequently_used_keys() {
    for s in servers() {
        let mut c = s.connect();
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        assert!(fill(&mut c, "k", 0..2000, |_| None).is_empty());
        for _ in 0..20 {
            for i in 0..1000 {
                c.send(&["GET", &format!("k:{i}")]);
            }
            for _ in 0..1000 {
                c.read();
            }
        }
        limit_to_now_plus(&mut c, 1 << 20);
        assert!(fill(&mut c, "new", 0..1500, |_| None).is_empty());
        let hot = count(&mut c, "k", 0..1000);
        let cold = count(&mut c, "k", 1000..2000);
        assert!(cold < 1000, "{}: nothing evicted", name(&s));
        // New keys start with the counter cold keys have, so eviction
        // shares between them; the hot ones stay.
        assert!(
            hot >= 800 && hot > cold,
            "{}: hot {hot} cold {cold}",
            name(&s)
        );
    }
}

#[test]
fn allkeys_random_evicts_any_key() {
    for s in servers() {
        let mut c = s.connect();
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
        assert!(fill(&mut c, "a", 0..2000, |_| None).is_empty());
        assert!(fill(&mut c, "b", 0..2000, |_| Some(100_000)).is_empty());
        limit_to_now_plus(&mut c, 0);
        assert!(fill(&mut c, "c", 0..2000, |_| None).is_empty());
        let (a, b) = (count(&mut c, "a", 0..2000), count(&mut c, "b", 0..2000));
        // Both kinds go, in roughly equal numbers.
        assert!(a < 1900 && b < 1900, "{}: a {a} b {b}", name(&s));
    }
}

#[test]
fn lowering_maxmemory_at_runtime_evicts_at_once() {
    for s in servers() {
        let mut c = s.connect();
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
        assert!(fill(&mut c, "k", 0..5000, |_| None).is_empty());
        let limit = used(&mut c) - (2 << 20);
        c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
        // Memory comes under the limit with no write to prompt it (Redis
        // goes on in its event loop; bounded wait). Allocator counts read
        // from different threads differ by a few KiB.
        let start = std::time::Instant::now();
        while used(&mut c) > limit + SLACK {
            assert!(start.elapsed() < crate::harness::IO_TIMEOUT, "{}", name(&s));
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(info_num(&mut c, "stats", "evicted_keys") >= 1000);
        // Raising it again stops eviction.
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        let before = info_num(&mut c, "stats", "evicted_keys");
        assert!(fill(&mut c, "more", 0..1000, |_| None).is_empty());
        assert_eq!(info_num(&mut c, "stats", "evicted_keys"), before);
    }
}

/// Brings a server to the point where writes are refused under
/// noeviction, with `ok:1` set beforehand: well over the limit, so that
/// buffers freed between commands cannot bring it back under.
fn out_of_memory(c: &mut Conn) {
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    c.cmd(&["SET", "ok:1", "x"]);
    assert!(fill(c, "k", 0..3000, |_| None).is_empty());
    let limit = used(c) - (1 << 20);
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
}

#[test]
fn noeviction_refuses_growth_but_serves_reads_and_deletes() {
    let mut refusals = Vec::new();
    for s in servers() {
        let mut c = s.connect();
        out_of_memory(&mut c);
        let mut seen = Vec::new();
        for args in [
            &["SET", "x", "1"][..],
            &["GET", "ok:1"],
            &["LPUSH", "l", "a"],
            &["INCR", "ok:1"],
            &["EXPIRE", "ok:1", "100"],
            &["EVAL", "return redis.call('set','x','y')", "0"],
            &["EVAL", "return redis.call('get','ok:1')", "0"],
            &["EVAL", "#!lua\nreturn 1", "0"],
            &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
            &[
                "EVAL",
                "#!lua flags=allow-oom\nreturn redis.call('set','x','y')",
                "0",
            ],
            &["MULTI"],
            &["GET", "ok:1"],
            &["EXEC"],
            &["MULTI"],
            &["EXEC"],
            &["DEL", "x", "ok:1"],
            &["EXISTS", "x"],
        ] {
            seen.push(c.cmd(args).text());
        }
        refusals.push((name(&s), seen));
    }
    let (_, fk) = &refusals[0];
    assert!(fk[0].starts_with("-OOM command not allowed when used memory > 'maxmemory'."));
    assert!(fk[5].contains("OOM command not allowed"), "{}", fk[5]);
    if let Some((_, redis)) = refusals.get(1) {
        assert_eq!(fk, redis, "Ferrokey vs redis-server");
    }
}

#[test]
fn queued_growth_under_oom_aborts_exec() {
    let mut outcomes = Vec::new();
    for s in servers() {
        let mut c = s.connect();
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "a", "1"]);
        out_of_memory(&mut s.connect());
        let exec = c.cmd(&["EXEC"]).text();
        let after = c.cmd(&["EXISTS", "a"]).text();
        outcomes.push((exec, after));
    }
    assert!(outcomes[0]
        .0
        .starts_with("-EXECABORT Transaction discarded because of: OOM"));
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1]);
    }
}

#[test]
fn object_freq_and_idletime_follow_the_policy() {
    diff(&[
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        &["SET", "k", "v"],
        &["OBJECT", "FREQ", "k"],
        &["GET", "k"],
        &["OBJECT", "FREQ", "k"],
        &["~err", "OBJECT", "IDLETIME", "k"],
        &["OBJECT", "FREQ", "nokey"],
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        &["~err", "OBJECT", "FREQ", "k"],
        &["SET", "j", "v"],
        &["OBJECT", "IDLETIME", "j"],
    ]);
    for s in servers() {
        let mut c = s.connect();
        // RESTORE IDLETIME / FREQ set the stamp of their policy's kind.
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        c.cmd(&["SET", "src", "v"]);
        let Frame::Bulk(payload) = c.cmd(&["DUMP", "src"]).frame else {
            panic!("DUMP")
        };
        let restore = |c: &mut Conn, key: &str, opt: &str, n: &str| {
            let r = c.cmd(&[
                b"RESTORE".as_slice(),
                key.as_bytes(),
                b"0",
                &payload,
                opt.as_bytes(),
                n.as_bytes(),
            ]);
            assert!(!r.is_error(), "{}", r.text());
        };
        restore(&mut c, "r", "IDLETIME", "1000");
        let idle = c.cmd(&["OBJECT", "IDLETIME", "r"]).frame;
        assert!(
            matches!(idle, Frame::Integer(1000 | 1001)),
            "{}: {idle:?}",
            name(&s)
        );
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        restore(&mut c, "f", "FREQ", "100");
        assert_eq!(c.cmd(&["OBJECT", "FREQ", "f"]).frame, Frame::Integer(100));
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        c.cmd(&["SET", "idle", "v"]);
        std::thread::sleep(Duration::from_millis(2100));
        let idle = match c.cmd(&["OBJECT", "IDLETIME", "idle"]).frame {
            Frame::Integer(i) => i,
            other => panic!("{other:?}"),
        };
        assert!((1..=10).contains(&idle), "{}: {idle}", name(&s));
        // CLIENT NO-TOUCH (Redis 7.2) reads leave the stamp alone; TOUCH
        // still counts.
        if c.cmd(&["CLIENT", "NO-TOUCH", "ON"]).is_error() {
            continue;
        }
        c.cmd(&["GET", "idle"]);
        let still = c.cmd(&["OBJECT", "IDLETIME", "idle"]).frame;
        assert_eq!(still, Frame::Integer(idle), "{}", name(&s));
        c.cmd(&["TOUCH", "idle"]);
        assert_eq!(
            c.cmd(&["OBJECT", "IDLETIME", "idle"]).frame,
            Frame::Integer(0),
            "{}",
            name(&s)
        );
    }
}

#[test]
fn eviction_is_announced_and_aborts_watchers() {
    for s in servers() {
        let mut c = s.connect();
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
        let mut sub = s.connect();
        sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
        let mut watcher = s.connect();
        assert!(fill(&mut c, "k", 0..3000, |_| None).is_empty());
        for i in 0..3000 {
            watcher.send(&["WATCH", &format!("k:{i}")]);
        }
        for _ in 0..3000 {
            watcher.read();
        }
        limit_to_now_plus(&mut c, 0);
        assert!(fill(&mut c, "more", 0..1000, |_| None).is_empty());
        let evicted = info_num(&mut c, "stats", "evicted_keys");
        assert!(evicted > 0);
        // The first event names an evicted key.
        let msg = sub.read();
        match &msg.frame {
            Frame::Array(parts) => {
                assert_eq!(parts[0], Frame::Bulk(b"message".to_vec()));
                assert_eq!(parts[1], Frame::Bulk(b"__keyevent@0__:evicted".to_vec()));
            }
            other => panic!("{}: {other:?}", name(&s)),
        }
        watcher.cmd(&["MULTI"]);
        watcher.cmd(&["PING"]);
        assert_eq!(
            watcher.cmd(&["EXEC"]).frame,
            Frame::NullArray,
            "{}",
            name(&s)
        );
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    }
}

#[test]
fn ferrokey_reports_eviction_in_info() {
    let s = Server::ferrokey_with(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = s.connect();
    assert!(fill(&mut c, "k", 0..2000, |_| None).is_empty());
    let limit = limit_to_now_plus(&mut c, 0);
    assert!(fill(&mut c, "more", 0..2000, |_| None).is_empty());
    let text = c.cmd(&["INFO", "memory"]).text();
    assert!(text.contains(&format!("maxmemory:{limit}")), "{text}");
    assert!(text.contains("maxmemory_policy:allkeys-lru"));
    assert!(used(&mut c) <= limit + SLACK);
    let stats = c.cmd(&["INFO", "stats"]).text();
    assert!(!stats.contains("evicted_keys:0\r\n"), "{stats}");
}

#[test]
fn unlink_and_async_flush_free_in_the_background() {
    for s in servers() {
        let mut c = s.connect();
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let mut sadd = vec!["SADD", "big"];
        sadd.extend(members.iter().map(String::as_str));
        c.cmd(&sadd);
        c.cmd(&["SET", "small", "v"]);
        let freed = |c: &mut Conn| {
            let start = std::time::Instant::now();
            while info_num(c, "memory", "lazyfree_pending_objects") > 0 {
                assert!(start.elapsed() < crate::harness::IO_TIMEOUT);
                std::thread::sleep(Duration::from_millis(2));
            }
            info_num(c, "memory", "lazyfreed_objects")
        };
        assert_eq!(freed(&mut c), 0, "{}", name(&s));
        // A small value is freed in place even by UNLINK.
        assert_eq!(c.cmd(&["UNLINK", "small"]).frame, Frame::Integer(1));
        assert_eq!(freed(&mut c), 0, "{}", name(&s));
        assert_eq!(c.cmd(&["UNLINK", "big", "nokey"]).frame, Frame::Integer(1));
        assert_eq!(freed(&mut c), 1, "{}", name(&s));
        for i in 0..100 {
            c.send(&["SET", &format!("k{i}"), "v"]);
        }
        for _ in 0..100 {
            c.read();
        }
        assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]).text(), "+OK\r\n");
        assert_eq!(freed(&mut c), 101, "{}", name(&s));
        assert_eq!(c.cmd(&["DBSIZE"]).frame, Frame::Integer(0));
    }
}

/// Under lazyfree-lazy-expire, a big value removed by expiry is freed in
/// the background, whether active expiry or a lookup found it expired;
/// without it, in place.
/// INFO's `lazyfreed_objects` once the background thread has nothing
/// pending (bounded wait).
fn lazyfreed(c: &mut Conn) -> u64 {
    let start = std::time::Instant::now();
    while info_num(c, "memory", "lazyfree_pending_objects") > 0 {
        assert!(start.elapsed() < crate::harness::IO_TIMEOUT);
        std::thread::sleep(Duration::from_millis(2));
    }
    info_num(c, "memory", "lazyfreed_objects")
}

#[test]
fn expired_values_free_in_the_background_under_lazy_expire() {
    for s in servers() {
        let mut c = s.connect();
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        for on_access in [false, true] {
            let active = if on_access { "0" } else { "1" };
            c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", active]);
            for (lazy, want) in [("no", 0), ("yes", 1)] {
                c.cmd(&["CONFIG", "RESETSTAT"]);
                c.cmd(&["CONFIG", "SET", "lazyfree-lazy-expire", lazy]);
                let mut sadd = vec!["SADD", "big"];
                sadd.extend(members.iter().map(String::as_str));
                c.cmd(&sadd);
                c.cmd(&["PEXPIRE", "big", "10"]);
                let start = std::time::Instant::now();
                if on_access {
                    std::thread::sleep(Duration::from_millis(20));
                    assert_eq!(c.cmd(&["EXISTS", "big"]).frame, Frame::Integer(0));
                } else {
                    // DBSIZE does not touch the key: active expiry removes it.
                    while c.cmd(&["DBSIZE"]).frame != Frame::Integer(0) {
                        assert!(start.elapsed() < crate::harness::IO_TIMEOUT, "{}", name(&s));
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                assert_eq!(
                    lazyfreed(&mut c),
                    want,
                    "lazyfree-lazy-expire {lazy}, on access {on_access}, on {}",
                    name(&s)
                );
            }
        }
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    }
}

/// Creates `n` keys with `make(i)` (a command), returning the growth of
/// `used_memory` per key and the mean MEMORY USAGE of a sample of them.
fn measured_and_reported(
    c: &mut Conn,
    n: usize,
    make: &dyn Fn(usize) -> Vec<String>,
) -> (f64, f64) {
    c.cmd(&["FLUSHALL"]);
    let before = used(c);
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        for &i in chunk {
            c.send(&make(i));
        }
        for _ in chunk {
            let r = c.read();
            assert!(!r.is_error(), "{}", r.text());
        }
    }
    let after = used(c);
    let sample: Vec<usize> = (0..n).step_by((n / 50).max(1)).collect();
    let mut total = 0i64;
    for &i in &sample {
        let key = make(i)[1].clone();
        match c.cmd(&["MEMORY", "USAGE", &key]).frame {
            Frame::Integer(b) => total += b,
            other => panic!("MEMORY USAGE {key}: {other:?}"),
        }
    }
    (
        (after - before) as f64 / n as f64,
        total as f64 / sample.len() as f64,
    )
}

#[test]
fn memory_usage_matches_what_keys_hold() {
    let s = Server::ferrokey();
    let mut c = s.connect();
    fn cmd(head: &[&str], tail: Vec<String>) -> Vec<String> {
        let mut v: Vec<String> = head.iter().map(|s| s.to_string()).collect();
        v.extend(tail);
        v
    }
    type Case = (&'static str, usize, Box<dyn Fn(usize) -> Vec<String>>);
    let cases: Vec<Case> = vec![
        (
            "int",
            20_000,
            Box::new(|i| vec!["SET".into(), format!("int:{i}"), "12345".into()]),
        ),
        (
            "embstr",
            20_000,
            Box::new(|i| vec!["SET".into(), format!("emb:{i}"), "v".repeat(30)]),
        ),
        (
            "raw",
            5_000,
            Box::new(|i| vec!["SET".into(), format!("raw:{i}"), "v".repeat(1000)]),
        ),
        (
            "ttl",
            20_000,
            Box::new(|i| {
                vec![
                    "SET".into(),
                    format!("ttl:{i}"),
                    "v".into(),
                    "EX".into(),
                    "1000".into(),
                ]
            }),
        ),
        (
            "list small",
            5_000,
            Box::new(|i| {
                cmd(
                    &["RPUSH", &format!("l:{i}")],
                    (0..10).map(|j| format!("e{j}")).collect(),
                )
            }),
        ),
        (
            "list big",
            100,
            Box::new(|i| {
                cmd(
                    &["RPUSH", &format!("L:{i}")],
                    (0..2000).map(|j| format!("e{j}")).collect(),
                )
            }),
        ),
        (
            "hash small",
            5_000,
            Box::new(|i| {
                cmd(
                    &["HSET", &format!("h:{i}")],
                    (0..10)
                        .flat_map(|j| [format!("f{j}"), format!("v{j}")])
                        .collect(),
                )
            }),
        ),
        (
            "hash big",
            100,
            Box::new(|i| {
                cmd(
                    &["HSET", &format!("H:{i}")],
                    (0..1000)
                        .flat_map(|j| [format!("f{j}"), format!("v{j}")])
                        .collect(),
                )
            }),
        ),
        (
            "intset",
            5_000,
            Box::new(|i| {
                cmd(
                    &["SADD", &format!("si:{i}")],
                    (0..10).map(|j| j.to_string()).collect(),
                )
            }),
        ),
        (
            "set small",
            5_000,
            Box::new(|i| {
                cmd(
                    &["SADD", &format!("s:{i}")],
                    (0..10).map(|j| format!("m{j}")).collect(),
                )
            }),
        ),
        (
            "set big",
            100,
            Box::new(|i| {
                cmd(
                    &["SADD", &format!("S:{i}")],
                    (0..1000).map(|j| format!("m{j}")).collect(),
                )
            }),
        ),
        (
            "zset small",
            5_000,
            Box::new(|i| {
                cmd(
                    &["ZADD", &format!("z:{i}")],
                    (0..10)
                        .flat_map(|j| [j.to_string(), format!("m{j}")])
                        .collect(),
                )
            }),
        ),
        (
            "zset big",
            100,
            Box::new(|i| {
                cmd(
                    &["ZADD", &format!("Z:{i}")],
                    (0..1000)
                        .flat_map(|j| [j.to_string(), format!("m{j}")])
                        .collect(),
                )
            }),
        ),
        (
            "stream",
            1_000,
            Box::new(|i| {
                cmd(
                    &["XADD", &format!("x:{i}"), "*"],
                    vec!["a".into(), i.to_string(), "b".into(), "x".into()],
                )
            }),
        ),
    ];
    // The first fill also grows buffers that stay: measure it twice.
    measured_and_reported(&mut c, 20_000, &*cases[0].2);
    for (label, n, make) in &cases {
        let (real, reported) = measured_and_reported(&mut c, *n, &**make);
        let ratio = reported / real;
        assert!(
            (0.9..=1.1).contains(&ratio),
            "{label}: MEMORY USAGE {reported:.0} vs {real:.0} bytes held per key"
        );
    }
}

/// Names of the connected clients.
fn client_names(c: &mut Conn) -> Vec<String> {
    c.cmd(&["CLIENT", "LIST"])
        .text()
        .lines()
        .filter_map(|l| {
            l.split(' ')
                .find_map(|f| f.strip_prefix("name="))
                .map(str::to_string)
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// Polls until the client named `name` is gone (bounded: the test fails
/// rather than hangs).
fn wait_gone(c: &mut Conn, name: &str) -> bool {
    for _ in 0..500 {
        if !client_names(c).iter().any(|n| n == name) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn maxmemory_clients_evicts_the_biggest_clients() {
    for s in servers() {
        let mut admin = s.connect();
        admin.cmd(&["CLIENT", "NO-EVICT", "on"]);
        admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "1mb"]);
        let named = |n: &str| {
            let mut c = s.connect();
            c.cmd(&["CLIENT", "SETNAME", n]);
            c
        };
        let mut idle = named("idle");
        // A query buffer over the limit: the biggest client goes, the
        // small one stays.
        let mut big = named("big");
        let mut query = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n".to_vec();
        query.extend(std::iter::repeat_n(b'x', 1_500_000));
        // The server may close the connection before the whole query is
        // written, so a failed write is expected here.
        let _ = big.try_send_raw(&query);
        assert!(big.read_to_close().1, "{}: big client kept", name(&s));
        assert!(wait_gone(&mut admin, "big"), "{}", name(&s));
        assert!(client_names(&mut admin).contains(&"idle".to_string()));
        assert_eq!(info_num(&mut admin, "stats", "evicted_clients"), 1);

        // Commands queued in MULTI count too.
        let mut queued = named("queued");
        queued.cmd(&["MULTI"]);
        // The first stays under the limit; the second goes over while it is
        // read.
        let value = "q".repeat(600_000);
        for _ in 0..2 {
            let _ = queued.try_send_raw(&encode_cmd(&["SET", "k", &value]));
        }
        assert!(wait_gone(&mut admin, "queued"), "{}: MULTI kept", name(&s));
        assert_eq!(info_num(&mut admin, "stats", "evicted_clients"), 2);

        // Replies a client does not read count too. (The value stays well
        // under the limit: the admin's own query buffer counts while it
        // sends it, and must not push the total over.)
        admin.cmd(&["SET", "v", &"y".repeat(128 << 10)]);
        let mut lazy = named("lazy");
        // Eviction may close the connection while the requests are still
        // being written.
        let gets = encode_cmd(&["GET", "v"]).repeat(160);
        let _ = lazy.try_send_raw(&gets);
        assert!(
            wait_gone(&mut admin, "lazy"),
            "{}: lazy reader kept",
            name(&s)
        );
        assert_eq!(
            info_num(&mut admin, "stats", "evicted_clients"),
            3,
            "{}",
            name(&s)
        );

        // A NO-EVICT client over the limit stays; the others go instead.
        let mut kept = named("kept");
        kept.cmd(&["CLIENT", "NO-EVICT", "on"]);
        kept.send_raw(&query);
        assert!(wait_gone(&mut admin, "idle"), "{}: idle kept", name(&s));
        assert!(idle.read_to_close().1);
        kept.send_raw(&vec![b'x'; 500_000]);
        kept.send_raw(b"\r\n");
        assert_eq!(kept.read().raw, b"+OK\r\n", "{}", name(&s));
        assert_eq!(info_num(&mut admin, "stats", "evicted_clients"), 4);

        drop(lazy);
    }
}

#[test]
fn server_deletions_free_in_the_background_under_lazy_server_del() {
    for s in servers() {
        let mut c = s.connect();
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let mut sadd = vec!["SADD", "big"];
        sadd.extend(members.iter().map(String::as_str));
        // Each way the server itself replaces or deletes a key.
        let ways: [&[&str]; 5] = [
            &["SET", "big", "x"],
            &["RENAME", "src", "big"],
            &["COPY", "src", "big", "REPLACE"],
            &["SUNIONSTORE", "big", "nothing"],
            &["SORT", "nothing", "STORE", "big"],
        ];
        for way in ways {
            for (lazy, want) in [("no", 0), ("yes", 1)] {
                c.cmd(&["CONFIG", "RESETSTAT"]);
                c.cmd(&["CONFIG", "SET", "lazyfree-lazy-server-del", lazy]);
                c.cmd(&["SET", "src", "v"]);
                c.cmd(&sadd);
                assert!(!c.cmd(way).is_error(), "{way:?} on {}", name(&s));
                assert_eq!(
                    lazyfreed(&mut c),
                    want,
                    "{way:?} with lazyfree-lazy-server-del {lazy} on {}",
                    name(&s)
                );
                c.cmd(&["DEL", "big", "src"]);
            }
        }
    }
}
