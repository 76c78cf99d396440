//! Pub/Sub: replies and errors compared byte for byte with redis-server,
//! delivery through the `redis` crate's pub/sub API, ordering under many
//! publishers and subscribers, and a subscriber that never reads.

use std::io::Read;
use std::time::{Duration, Instant};

use ferrokey_resp::{decode, Frame};

use crate::harness::*;

#[test]
fn subscribe_replies_and_errors_differential() {
    let script: &[&[&str]] = &[
        &["PUBLISH", "ch", "nobody"],
        &["SPUBLISH", "ch", "nobody"],
        &["UNSUBSCRIBE"],
        &["PUNSUBSCRIBE"],
        &["SUNSUBSCRIBE"],
        &["UNSUBSCRIBE", "never"],
        &["PUBSUB", "NUMSUB"],
        &["PUBSUB", "NUMSUB", "a", "b"],
        &["PUBSUB", "NUMPAT"],
        &["PUBSUB", "CHANNELS"],
        &["PUBSUB", "SHARDCHANNELS"],
        &["PUBSUB", "SHARDNUMSUB", "x"],
        &["PUBSUB", "CHANNELS", "a", "b"],
        &["PUBSUB", "NUMPAT", "x"],
        &["PUBSUB", "NOSUCH"],
        &["PUBSUB"],
        &["PUBSUB", "HELP"],
        &["SUBSCRIBE"],
        &["PSUBSCRIBE"],
        &["PUBLISH", "ch"],
        &["MULTI"],
        &["SSUBSCRIBE", "s1"],
        &["EXEC"],
        &["SUBSCRIBE", "a", "b", "a"],
        &["PSUBSCRIBE", "a*", "h?llo", "a*"],
        &["SSUBSCRIBE", "s1", "s2"],
        // RESP2 subscribed mode refuses everything but these.
        &["GET", "k"],
        &["INFO"],
        &["CLIENT", "ID"],
        &["PING"],
        &["PING", "hello"],
        &["PING", "a", "b"],
        &["UNSUBSCRIBE", "b", "zz"],
        &["PUNSUBSCRIBE", "h?llo"],
        &["SUNSUBSCRIBE", "s2"],
        &["~sorted", "UNSUBSCRIBE"],
        &["~sorted", "SUNSUBSCRIBE"],
        &["PUNSUBSCRIBE"],
        &["GET", "k"],
        &["PING"],
        &["SUBSCRIBE", "again"],
        &["RESET"],
        &["GET", "k"],
    ];
    let p = Pair::new();
    p.diff(script);
    // RESP3: confirmations are pushes and other commands run while
    // subscribed. (A connection's own PUBLISH: see
    // `self_published_messages_follow_the_reply`, where 7.0 and 7.2 differ.)
    p.diff3(&[
        // One channel per SUBSCRIBE: each confirmation is one reply.
        &["SUBSCRIBE", "a"],
        &["SUBSCRIBE", "b"],
        &["PSUBSCRIBE", "a*"],
        &["GET", "k"],
        &["PING"],
        &["PUBSUB", "NUMSUB", "a", "b", "c"],
        &["PUBSUB", "NUMPAT"],
        &["~sorted", "PUBSUB", "CHANNELS"],
        &["PUBSUB", "CHANNELS", "b*"],
        &["UNSUBSCRIBE", "a"],
        &["~sorted", "UNSUBSCRIBE"],
        &["PUNSUBSCRIBE"],
        &["UNSUBSCRIBE"],
    ]);
}

/// Redis 7.2 holds back what a command sends to its own connection (a
/// message it publishes to a channel it listens to, its own keyspace
/// events) until the command's reply, or the whole EXEC's, is out; 7.0
/// sent it first, so this is checked against 7.2's behaviour.
#[test]
fn self_published_messages_follow_the_reply() {
    check72(|c| {
        c.cmd(&["HELLO", "3"]);
        expect(
            c,
            &["SUBSCRIBE", "a"],
            b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
        );
        expect(
            c,
            &["PSUBSCRIBE", "a*"],
            b">3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:2\r\n",
        );
        expect(c, &["PUBLISH", "a", "self"], b":2\r\n");
        let msg = b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$4\r\nself\r\n";
        let pmsg = b">4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$4\r\nself\r\n";
        assert_eq!(c.read().raw, msg);
        assert_eq!(c.read().raw, pmsg);
        // In a transaction, after the whole EXEC reply.
        expect(c, &["MULTI"], b"+OK\r\n");
        expect(c, &["PING", "x"], b"+QUEUED\r\n");
        expect(c, &["PUBLISH", "a", "self"], b"+QUEUED\r\n");
        expect(c, &["EXEC"], b"*2\r\n$1\r\nx\r\n:2\r\n");
        assert_eq!(c.read().raw, msg);
        assert_eq!(c.read().raw, pmsg);
        // Keyspace events about the connection's own writes too.
        expect(
            c,
            &["CONFIG", "SET", "notify-keyspace-events", "K$"],
            b"+OK\r\n",
        );
        expect(
            c,
            &["SUBSCRIBE", "__keyspace@0__:k"],
            b">3\r\n$9\r\nsubscribe\r\n$16\r\n__keyspace@0__:k\r\n:3\r\n",
        );
        expect(c, &["SET", "k", "v"], b"+OK\r\n");
        assert_eq!(
            c.read().raw,
            b">3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n"
        );
        expect(
            c,
            &["CONFIG", "SET", "notify-keyspace-events", ""],
            b"+OK\r\n",
        );
        expect(c, &["DEL", "k"], b":1\r\n");
    });
}

/// Reads `n` frames from a raw connection.
fn frames(c: &mut Conn, n: usize) -> Vec<String> {
    (0..n).map(|_| c.read().text()).collect()
}

#[test]
fn channel_and_pattern_deliveries() {
    let s = Server::ferrokey();
    let mut sub = s.connect();
    sub.cmd(&["SUBSCRIBE", "news.tech"]);
    sub.cmd(&["PSUBSCRIBE", "news.*"]);
    sub.cmd(&["PSUBSCRIBE", "n[aeiou]ws.[^x]ech"]);
    sub.cmd(&["PSUBSCRIBE", "esc\\*aped"]);
    let mut p = s.connect();
    // One channel subscription and two matching patterns: three deliveries.
    assert_eq!(p.cmd(&["PUBLISH", "news.tech", "m1"]).text(), ":3\r\n");
    // Patterns deliver in no particular order (as in Redis, table order).
    let mut got = frames(&mut sub, 3);
    got[1..].sort();
    assert_eq!(
        got,
        vec![
            "*3\r\n$7\r\nmessage\r\n$9\r\nnews.tech\r\n$2\r\nm1\r\n",
            "*4\r\n$8\r\npmessage\r\n$18\r\nn[aeiou]ws.[^x]ech\r\n$9\r\nnews.tech\r\n$2\r\nm1\r\n",
            "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n$2\r\nm1\r\n",
        ]
    );
    assert_eq!(p.cmd(&["PUBLISH", "nuws.xech", "m2"]).text(), ":0\r\n");
    assert_eq!(p.cmd(&["PUBLISH", "esc*aped", "m3"]).text(), ":1\r\n");
    assert_eq!(p.cmd(&["PUBLISH", "escXaped", "m4"]).text(), ":0\r\n");
    assert_eq!(
        sub.read().text(),
        "*4\r\n$8\r\npmessage\r\n$9\r\nesc\\*aped\r\n$8\r\nesc*aped\r\n$2\r\nm3\r\n"
    );
    // Shard channels are a separate namespace.
    let mut ssub = s.connect();
    ssub.cmd(&["SSUBSCRIBE", "news.tech"]);
    assert_eq!(p.cmd(&["SPUBLISH", "news.tech", "s"]).text(), ":1\r\n");
    assert_eq!(
        ssub.read().text(),
        "*3\r\n$8\r\nsmessage\r\n$9\r\nnews.tech\r\n$1\r\ns\r\n"
    );
    // RESP3 subscribers get pushes.
    let mut r3 = s.connect();
    r3.cmd(&["HELLO", "3"]);
    assert_eq!(
        r3.cmd(&["SUBSCRIBE", "c3"]).text(),
        ">3\r\n$9\r\nsubscribe\r\n$2\r\nc3\r\n:1\r\n"
    );
    assert_eq!(p.cmd(&["PUBLISH", "c3", "x"]).text(), ":1\r\n");
    assert_eq!(
        r3.read().text(),
        ">3\r\n$7\r\nmessage\r\n$2\r\nc3\r\n$1\r\nx\r\n"
    );
    // A closed subscriber stops counting.
    drop(sub);
    let start = Instant::now();
    while p.cmd(&["PUBLISH", "news.tech", "late"]).text() != ":0\r\n" {
        assert!(start.elapsed() < IO_TIMEOUT, "subscriber never went away");
        std::thread::sleep(Duration::from_millis(5));
    }
    let list = p.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=P"), "{list}");
    assert!(list.contains("ssub=1"), "{list}");
}

#[test]
fn redis_crate_pubsub_api() {
    for s in std::iter::once(Server::ferrokey()).chain(Server::redis()) {
        let client = redis::Client::open(s.url()).unwrap();
        let mut sub_con = client.get_connection().unwrap();
        let mut pubsub = sub_con.as_pubsub();
        pubsub.subscribe("orders").unwrap();
        pubsub.psubscribe("cache:*").unwrap();
        pubsub.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut publisher = client.get_connection().unwrap();
        let n: i64 = redis::cmd("PUBLISH")
            .arg("orders")
            .arg("order-1")
            .query(&mut publisher)
            .unwrap();
        assert_eq!(n, 1, "{:?}", s.kind);
        let n: i64 = redis::cmd("PUBLISH")
            .arg("cache:user:1")
            .arg("invalidate")
            .query(&mut publisher)
            .unwrap();
        assert_eq!(n, 1, "{:?}", s.kind);
        let m = pubsub.get_message().unwrap();
        assert_eq!(m.get_channel_name(), "orders");
        assert_eq!(m.get_payload::<String>().unwrap(), "order-1");
        let m = pubsub.get_message().unwrap();
        assert_eq!(m.get_channel_name(), "cache:user:1");
        assert_eq!(m.get_pattern::<String>().unwrap(), "cache:*");
        assert_eq!(m.get_payload::<String>().unwrap(), "invalidate");
    }
}

/// Parses complete `message` frames from `buf[*pos..]`, returning payloads.
fn parse_messages(buf: &[u8], pos: &mut usize, out: &mut Vec<Vec<u8>>) {
    while let Ok((f, n)) = decode(&buf[*pos..]) {
        *pos += n;
        if let Frame::Array(v) | Frame::Push(v) = f {
            if let (Some(Frame::Bulk(kind)), Some(Frame::Bulk(p))) = (v.first(), v.get(2)) {
                if kind == b"message" {
                    out.push(p.clone());
                }
            }
        }
    }
}

/// 100 subscribers, 10 publishers, 100,000 messages: every subscriber gets
/// every message, and each publisher's in the order it published them.
#[test]
fn hundred_subscribers_ten_publishers_in_order() {
    const SUBS: usize = 100;
    const PUBS: usize = 10;
    const PER_PUB: usize = 10_000;
    let s = Server::ferrokey();
    let port = s.port;
    let mut ctl = s.connect();
    let subs: Vec<_> = (0..SUBS)
        .map(|_| {
            let mut c = Conn::connect(port);
            c.cmd(&["SUBSCRIBE", "fanout"]);
            c
        })
        .collect();
    assert_eq!(
        ctl.cmd(&["PUBSUB", "NUMSUB", "fanout"]).text(),
        format!("*2\r\n$6\r\nfanout\r\n:{SUBS}\r\n")
    );
    let readers: Vec<_> = subs
        .into_iter()
        .map(|mut c| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut pos = 0;
                let mut got = Vec::with_capacity(PUBS * PER_PUB);
                let mut chunk = vec![0u8; 256 * 1024];
                while got.len() < PUBS * PER_PUB {
                    let n = c.stream.read(&mut chunk).expect("subscriber read");
                    assert!(n > 0, "subscriber closed after {} messages", got.len());
                    buf.extend_from_slice(&chunk[..n]);
                    parse_messages(&buf, &mut pos, &mut got);
                    if pos > 1 << 20 {
                        buf.drain(..pos);
                        pos = 0;
                    }
                }
                got
            })
        })
        .collect();
    let publishers: Vec<_> = (0..PUBS)
        .map(|p| {
            std::thread::spawn(move || {
                let mut c = Conn::connect(port);
                for batch in 0..PER_PUB / 100 {
                    let mut bytes = Vec::new();
                    for i in batch * 100..(batch + 1) * 100 {
                        bytes.extend(encode_cmd(&["PUBLISH", "fanout", &format!("{p}:{i}")]));
                    }
                    c.send_raw(&bytes);
                    for _ in 0..100 {
                        assert_eq!(c.read().text(), format!(":{SUBS}\r\n"));
                    }
                }
            })
        })
        .collect();
    for p in publishers {
        p.join().unwrap();
    }
    for r in readers {
        let got = r.join().unwrap();
        let mut next = [0usize; PUBS];
        for m in got {
            let text = String::from_utf8(m).unwrap();
            let (p, i) = text.split_once(':').unwrap();
            let (p, i): (usize, usize) = (p.parse().unwrap(), i.parse().unwrap());
            assert_eq!(i, next[p], "publisher {p}: out of order or missing");
            next[p] += 1;
        }
        assert!(next.iter().all(|&n| n == PER_PUB));
    }
}

/// A subscriber that never reads while 1 GB is published to it is
/// disconnected at the pubsub output buffer limit, and the server's memory
/// stays bounded.
#[test]
fn slow_subscriber_is_disconnected_memory_bounded() {
    let s = Server::ferrokey();
    let mut sub = s.connect();
    sub.cmd(&["SUBSCRIBE", "firehose"]);
    let mut p = s.connect();
    let msg = "x".repeat(1 << 20);
    let mut last = String::new();
    for _ in 0..1024 {
        last = p.cmd(&["PUBLISH", "firehose", &msg]).text();
    }
    assert_eq!(last, ":0\r\n", "the subscriber is still subscribed");
    assert_eq!(
        p.cmd(&["PUBSUB", "NUMSUB", "firehose"]).text(),
        "*2\r\n$8\r\nfirehose\r\n:0\r\n"
    );
    let info = p.cmd(&["INFO", "memory"]).text();
    let peak: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory_peak:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    // The default pubsub limit is 32 MB hard; allow for the message being
    // held a few times over in flight.
    assert!(peak < 256 << 20, "used_memory_peak {peak}");
    let (_, eof) = sub.read_to_close();
    assert!(eof, "the slow subscriber was not disconnected");
}

#[test]
fn watch_aborts_on_other_client_expiry_and_flushall() {
    for s in std::iter::once(Server::ferrokey()).chain(Server::redis()) {
        let mut a = s.connect();
        let mut b = s.connect();
        a.cmd(&["FLUSHALL"]);
        // Modified by another client.
        a.cmd(&["SET", "k", "1"]);
        a.cmd(&["WATCH", "k"]);
        b.cmd(&["SET", "k", "2"]);
        a.cmd(&["MULTI"]);
        a.cmd(&["SET", "k", "3"]);
        assert_eq!(a.cmd(&["EXEC"]).text(), "*-1\r\n", "{:?}", s.kind);
        // Expired between WATCH and EXEC.
        a.cmd(&["SET", "t", "1", "PX", "20"]);
        a.cmd(&["WATCH", "t"]);
        std::thread::sleep(Duration::from_millis(50));
        a.cmd(&["MULTI"]);
        a.cmd(&["GET", "t"]);
        assert_eq!(a.cmd(&["EXEC"]).text(), "*-1\r\n", "{:?}", s.kind);
        // FLUSHALL by another client.
        a.cmd(&["SET", "f", "1"]);
        a.cmd(&["WATCH", "f"]);
        b.cmd(&["FLUSHALL"]);
        a.cmd(&["MULTI"]);
        a.cmd(&["GET", "f"]);
        assert_eq!(a.cmd(&["EXEC"]).text(), "*-1\r\n", "{:?}", s.kind);
        // Untouched: EXEC runs.
        a.cmd(&["SET", "u", "1"]);
        a.cmd(&["WATCH", "u"]);
        a.cmd(&["MULTI"]);
        a.cmd(&["GET", "u"]);
        assert_eq!(a.cmd(&["EXEC"]).text(), "*1\r\n$1\r\n1\r\n", "{:?}", s.kind);
    }
}

#[test]
fn monitor_streams_commands_with_secrets_redacted() {
    for s in std::iter::once(Server::ferrokey()).chain(Server::redis()) {
        let mut m = s.connect();
        assert_eq!(m.cmd(&["MONITOR"]).text(), "+OK\r\n");
        let mut c = s.connect();
        let port = c.stream.local_addr().unwrap().port();
        c.cmd(&["SET", "k", "a\"b\\c\n\x01\u{7f}"]);
        c.cmd(&["AUTH", "user", "secret"]);
        c.cmd(&["SELECT", "2"]);
        c.cmd(&["HELLO", "2", "AUTH", "default", "pw"]);
        c.cmd(&["CONFIG", "GET", "maxmemory"]); // admin: not shown
        c.cmd(&["MULTI"]);
        c.cmd(&["INCR", "n"]);
        c.cmd(&["EXEC"]);
        let want = [
            r#""SET" "k" "a\"b\\c\n\x01\x7f""#.to_string(),
            r#""AUTH" "(redacted)" "(redacted)""#.to_string(),
            r#""SELECT" "2""#.to_string(),
            r#""HELLO" "2" "AUTH" "(redacted)" "(redacted)""#.to_string(),
            r#""MULTI""#.to_string(),
            r#""INCR" "n""#.to_string(),
            r#""EXEC""#.to_string(),
        ];
        for (i, w) in want.iter().enumerate() {
            let line = m.read().text();
            let line = line.trim_end();
            // +<secs>.<usecs> [<db> 127.0.0.1:<port>] <args>
            let (stamp, rest) = line.split_once(' ').unwrap();
            assert!(stamp.starts_with('+') && stamp.contains('.'), "{line}");
            let db = if i < 2 { 0 } else { 2 };
            let prefix = format!("[{db} 127.0.0.1:{port}] ");
            assert_eq!(
                rest.strip_prefix(&prefix),
                Some(w.as_str()),
                "{:?}: {line}",
                s.kind
            );
        }
        let list = c.cmd(&["CLIENT", "LIST"]).text();
        assert!(list.contains("flags=O"), "{list}");
    }
}
