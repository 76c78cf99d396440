//! The replication stream (SYNC): what a write command propagates, compared
//! with redis-server's stream for the same commands.

use std::io::Read;

use ferrokey_resp::Frame;

use crate::harness::{Conn, Server};

/// Attaches to the replication stream: sends SYNC and consumes the
/// snapshot (a bulk length and the bytes, with no trailing CRLF).
fn attach(s: &Server) -> (Conn, Vec<u8>) {
    let mut c = s.connect();
    c.send_raw(b"SYNC\r\n");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        c.stream.read_exact(&mut byte).expect("read SYNC header");
        if byte[0] == b'\n' {
            if line.is_empty() {
                continue; // a keep-alive newline
            }
            break;
        }
        if byte[0] != b'\r' {
            line.push(byte[0]);
        }
    }
    assert_eq!(
        line[0],
        b'$',
        "SYNC header: {}",
        String::from_utf8_lossy(&line)
    );
    let n: usize = std::str::from_utf8(&line[1..]).unwrap().parse().unwrap();
    let mut rdb = vec![0u8; n];
    c.stream.read_exact(&mut rdb).expect("read snapshot");
    (c, rdb)
}

/// One command read off the stream, numbers that look like Unix
/// milliseconds and stream IDs masked.
fn next_cmd(c: &mut Conn) -> Vec<String> {
    match c.read().frame {
        Frame::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                let Frame::Bulk(b) = f else {
                    panic!("not a bulk string in the stream")
                };
                let s = String::from_utf8_lossy(&b).into_owned();
                let s = if i == 0 { s.to_ascii_lowercase() } else { s };
                let digits = |t: &str| t.len() >= 12 && t.bytes().all(|c| c.is_ascii_digit());
                match s.split_once('-') {
                    Some((ms, seq)) if digits(ms) && seq.bytes().all(|c| c.is_ascii_digit()) => {
                        "<id>".into()
                    }
                    _ if digits(&s) => "<ms>".into(),
                    _ => s,
                }
            })
            .collect(),
        other => panic!("not a command in the stream: {other:?}"),
    }
}

/// Runs `script` on a fresh connection and returns what the stream
/// carried, up to the marker command the script is followed by.
fn stream_for(s: &Server, setup: &[&[&str]], script: &[&[&str]]) -> Vec<Vec<String>> {
    let mut c = s.connect();
    for cmd in setup {
        c.cmd(cmd);
    }
    std::thread::sleep(std::time::Duration::from_millis(5));
    let (mut repl, _) = attach(s);
    for cmd in script {
        c.cmd(cmd);
    }
    c.cmd(&["SET", "end-marker", "1"]);
    let mut out = Vec::new();
    loop {
        let cmd = next_cmd(&mut repl);
        if cmd.len() == 3 && cmd[1] == "end-marker" {
            return out;
        }
        out.push(cmd);
    }
}

const SETUP: &[&[&str]] = &[
    // `gone` must expire on access (propagated as DEL then), not in the
    // background at a moment that differs between the servers.
    &["DEBUG", "SET-ACTIVE-EXPIRE", "0"],
    &["FLUSHALL"],
    &["SELECT", "9"],
    &["RPUSH", "l", "a", "b", "c"],
    &["RPUSH", "l2", "x"],
    &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    &["SADD", "s1", "m"],
    &["SADD", "s3", "a", "b", "c"],
    &["HSET", "h", "f", "1.5"],
    &["SET", "gone", "v", "PX", "1"],
];

const SCRIPT: &[&[&str]] = &[
    &["SELECT", "9"],
    &["SET", "k", "v", "EX", "100"],
    &["SET", "k", "v2", "GET"],
    &["SET", "k", "v3", "PXAT", "4102444800000"],
    &["SETEX", "k2", "100", "v"],
    &["PSETEX", "k3", "100000", "v"],
    &["GETSET", "k2", "w"],
    &["GETEX", "k3", "EX", "50"],
    &["GETEX", "k3", "PERSIST"],
    &["GETDEL", "k3"],
    &["SET", "n", "10"],
    &["INCRBYFLOAT", "n", "0.5"],
    &["HINCRBYFLOAT", "h", "f", "1"],
    &["EXPIRE", "n", "100"],
    &["PEXPIRE", "n", "100000", "NX"],
    &["EXPIREAT", "n", "1"],
    &["DEL", "missing"],
    &["SPOP", "s1"],
    &["SPOP", "s3", "5"],
    &["LMPOP", "2", "nope", "l", "LEFT", "COUNT", "2"],
    &["BLPOP", "l", "0"],
    &["BLMOVE", "l2", "dst", "left", "right", "0"],
    &["BZPOPMIN", "z", "0"],
    &["ZMPOP", "1", "z", "MAX", "COUNT", "5"],
    &["MULTI"],
    &["SET", "a", "1"],
    &["INCR", "a"],
    &["EXEC"],
    &["MULTI"],
    &["SET", "b", "1"],
    &["GET", "b"],
    &["EXEC"],
    &[
        "EVAL",
        "redis.call('set', KEYS[1], 'x'); redis.call('incr', 'c')",
        "1",
        "e",
    ],
    &["EVAL", "return redis.call('get', KEYS[1])", "1", "e"],
    &["GET", "gone"],
    &["SELECT", "3"],
    &["LPUSH", "other", "1"],
    &["SELECT", "9"],
    &["XADD", "st", "MAXLEN", "~", "10", "*", "f", "v"],
    &["PUBLISH", "ch", "hello"],
    &["FLUSHDB"],
];

#[test]
fn write_commands_propagate_as_redis() {
    let f = Server::ferrokey();
    let got = stream_for(&f, SETUP, SCRIPT);
    let text: Vec<String> = got.iter().map(|c| c.join(" ")).collect();
    // Checked on Ferrokey alone, so that the test means something without
    // redis-server installed.
    for want in [
        "set k v PXAT <ms>",
        "set k v2",
        "set k v3 PXAT <ms>",
        "set k2 v PXAT <ms>",
        "set k2 w",
        "pexpireat k3 <ms>",
        "persist k3",
        "del k3",
        "set n 10.5 KEEPTTL",
        "hset h f 2.5",
        "pexpireat n <ms>",
        "del n",
        "srem s1 m",
        "del s3",
        "lpop l 2",
        "lpop l",
        "lmove l2 dst left right",
        "zpopmin z",
        "zpopmax z 2",
        "del gone",
        "xadd st MAXLEN = 1 <id> f v",
        "publish ch hello",
        "flushdb",
    ] {
        assert!(
            text.contains(&want.to_string()),
            "missing {want:?} in {text:#?}"
        );
    }
    assert!(!text.iter().any(|t| t.contains("missing")), "{text:#?}");
    if let Some(r) = Server::redis() {
        let want = stream_for(&r, SETUP, SCRIPT);
        assert_eq!(got, want, "ferrokey's stream vs redis-server's");
    }
}

#[test]
fn concurrent_writers_replay_to_the_same_state() {
    // Several clients increment and append to shared keys at once; a
    // replica that applies the stream in order must end up with the same
    // values the server holds.
    let f = Server::ferrokey_with(&["--threads", "2"]);
    let (mut repl, _) = attach(&f);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let mut c = f.connect();
            std::thread::spawn(move || {
                for i in 0..500 {
                    c.cmd(&["INCR", "counter"]);
                    c.cmd(&["RPUSH", "log", &format!("{w}:{i}")]);
                    c.cmd(&["SET", &format!("k{}", i % 7), &format!("{w}:{i}")]);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut c = f.connect();
    c.cmd(&["SET", "end-marker", "1"]);
    let mut counter = 0i64;
    let mut log = Vec::new();
    let mut keys = std::collections::HashMap::new();
    loop {
        let cmd = next_cmd(&mut repl);
        match cmd[0].as_str() {
            "incr" => counter += 1,
            "rpush" => log.push(cmd[2].clone()),
            "set" if cmd[1] == "end-marker" => break,
            "set" => {
                keys.insert(cmd[1].clone(), cmd[2].clone());
            }
            _ => {}
        }
    }
    assert_eq!(c.cmd(&["GET", "counter"]).text(), "$4\r\n2000\r\n");
    assert_eq!(counter, 2000);
    let Frame::Array(items) = c.cmd(&["LRANGE", "log", "0", "-1"]).frame else {
        panic!("LRANGE")
    };
    let server_log: Vec<String> = items
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) => String::from_utf8(b).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(server_log, log, "list order in the stream");
    for (k, v) in keys {
        let want = format!("${}\r\n{}\r\n", v.len(), v);
        assert_eq!(c.cmd(&["GET", &k]).text(), want, "{k}");
    }
}

/// WAIT asks the replicas for an acknowledgement (REPLCONF GETACK) and
/// answers once enough of them acknowledged the client's writes, or with
/// how many did when the timeout passes.
#[test]
fn wait_counts_replica_acknowledgements() {
    let f = Server::ferrokey();
    let (mut repl, _) = attach(&f);
    let mut c = f.connect();
    assert_eq!(c.cmd(&["SET", "k", "v"]).text(), "+OK\r\n");
    // Not acknowledged yet: WAIT 1 blocks until the replica answers.
    c.send(&["WAIT", "1", "5000"]);
    loop {
        let cmd = next_cmd(&mut repl);
        if cmd[0] == "replconf" && cmd.get(1).map(String::as_str) == Some("GETACK") {
            break;
        }
    }
    repl.send(&["REPLCONF", "ACK", "1000000"]);
    assert_eq!(c.read().text(), ":1\r\n");
    // Two replicas wanted, one there: the timeout answers 1.
    assert_eq!(c.cmd(&["WAIT", "2", "50"]).text(), ":1\r\n");
    let info = c.cmd(&["INFO", "replication"]).text();
    assert!(info.contains("connected_slaves:1"), "{info}");
    assert!(info.contains("offset=1000000"), "{info}");
}

/// A real redis-server, started with `--replicaof` pointing at Ferrokey,
/// syncs and follows the stream; WAIT sees its acknowledgement.
#[test]
fn redis_server_replicates_from_ferrokey() {
    let f = Server::ferrokey();
    let mut c = f.connect();
    c.cmd(&["SET", "before", "1"]);
    c.cmd(&["XADD", "s", "1-1", "f", "v"]);
    let port = f.port.to_string();
    let Some(r) = Server::redis_with(&["--replicaof", "127.0.0.1", &port]) else {
        return;
    };
    let mut rc = r.connect();
    let start = std::time::Instant::now();
    while !rc
        .cmd(&["INFO", "replication"])
        .text()
        .contains("master_link_status:up")
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "replica never synced"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    c.cmd(&["SET", "after", "2", "EX", "100"]);
    c.cmd(&["RPUSH", "l", "a", "b"]);
    c.cmd(&[
        "EVAL",
        "redis.call('set', KEYS[1], '1'); redis.call('incr', KEYS[1])",
        "1",
        "e",
    ]);
    assert_eq!(c.cmd(&["WAIT", "1", "5000"]).text(), ":1\r\n");
    assert_eq!(rc.cmd(&["GET", "before"]).text(), "$1\r\n1\r\n");
    assert_eq!(rc.cmd(&["GET", "e"]).text(), "$1\r\n2\r\n");
    assert_eq!(
        rc.cmd(&["LRANGE", "l", "0", "-1"]).text(),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(rc.cmd(&["XLEN", "s"]).text(), ":1\r\n");
    let ttl: i64 = rc.cmd(&["TTL", "after"]).text()[1..]
        .trim()
        .parse()
        .unwrap();
    assert!((90..=100).contains(&ttl), "TTL on the replica: {ttl}");
}

/// Polls `check` until it holds (bounded: fails rather than hangs).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// A Ferrokey replica follows a Ferrokey master and a redis-server
/// master: the snapshot, then the stream (scripts and expiries included),
/// is read-only meanwhile, and is writable again after REPLICAOF NO ONE.
#[test]
fn replicaof_follows_a_master() {
    let mut masters = vec![Server::ferrokey()];
    // redis-server's diskless sync waits 5 s for more replicas: disable.
    masters.extend(Server::redis_with(&["--repl-diskless-sync-delay", "0"]));
    for master in masters {
        let name = master.kind.name();
        let replica = Server::ferrokey();
        let mut m = master.connect();
        let mut r = replica.connect();
        m.cmd(&["SET", "before", "1"]);
        m.cmd(&["RPUSH", "list", "a", "b"]);
        r.cmd(&["SET", "local", "gone after the sync"]);
        let port = master.port.to_string();
        assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]).raw, b"+OK\r\n");
        assert_eq!(
            r.cmd(&["REPLICAOF", "127.0.0.1", &port]).raw,
            b"+OK Already connected to specified master\r\n"
        );
        eventually("the snapshot", || {
            r.cmd(&["GET", "before"]).frame == Frame::Bulk(b"1".to_vec())
        });
        assert_eq!(
            r.cmd(&["EXISTS", "local"]).frame,
            Frame::Integer(0),
            "{name}"
        );
        m.cmd(&["INCR", "counter"]);
        m.cmd(&["EVAL", "redis.call('set', 'scripted', 'yes')", "0"]);
        m.cmd(&["SET", "ttl", "v", "EX", "1000"]);
        m.cmd(&["LPOP", "list"]);
        // The LPOP is the stream's last write: once it is seen, so are
        // the others.
        eventually("the stream", || {
            r.cmd(&["LLEN", "list"]).frame == Frame::Integer(1)
        });
        assert_eq!(
            r.cmd(&["GET", "ttl"]).frame,
            Frame::Bulk(b"v".to_vec()),
            "{name}"
        );
        assert_eq!(
            r.cmd(&["MGET", "counter", "scripted"]).frame,
            Frame::Array(vec![
                Frame::Bulk(b"1".to_vec()),
                Frame::Bulk(b"yes".to_vec())
            ]),
            "{name}"
        );
        assert_eq!(
            r.cmd(&["LRANGE", "list", "0", "-1"]).frame,
            Frame::Array(vec![Frame::Bulk(b"b".to_vec())])
        );
        assert!(
            matches!(r.cmd(&["TTL", "ttl"]).frame, Frame::Integer(t) if t > 990),
            "{name}"
        );
        assert_eq!(
            r.cmd(&["SET", "x", "1"]).raw,
            b"-READONLY You can't write against a read only replica.\r\n"
        );
        let Frame::Array(role) = r.cmd(&["ROLE"]).frame else {
            panic!("ROLE is an array");
        };
        assert_eq!(role[0], Frame::Bulk(b"slave".to_vec()));
        assert_eq!(role[3], Frame::Bulk(b"connected".to_vec()));
        let info = r.cmd(&["INFO", "replication"]).text();
        assert!(
            info.contains("role:slave") && info.contains("master_link_status:up"),
            "{info}"
        );
        // The master hears the replica's acknowledgements.
        eventually("an ACK", || {
            m.cmd(&["INFO", "replication"]).text().contains("slave0:")
        });
        assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]).raw, b"+OK\r\n");
        assert_eq!(r.cmd(&["SET", "x", "1"]).raw, b"+OK\r\n");
        m.cmd(&["SET", "after", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(
            r.cmd(&["EXISTS", "after"]).frame,
            Frame::Integer(0),
            "{name}"
        );
    }
}

#[test]
fn replica_refusals_as_redis() {
    crate::harness::diff(&[
        &["ROLE"],
        &["REPLICAOF", "NO", "ONE"],
        &["SLAVEOF", "no", "one"],
        &["REPLICAOF", "127.0.0.1", "99999"],
        &["REPLICAOF", "127.0.0.1", "x"],
        &["REPLICAOF", "127.0.0.1"],
        &["SET", "k", "v"],
        // A master nobody listens on: the link stays down.
        &["REPLICAOF", "127.0.0.1", "1"],
        &["SET", "k", "v2"],
        &["GET", "k"],
        &["CONFIG", "SET", "replica-serve-stale-data", "no"],
        &["GET", "k"],
        &["~type", "INFO", "server"],
        &["MULTI"],
        &["GET", "k"],
        &["EXEC"],
        &["CONFIG", "SET", "replica-serve-stale-data", "yes"],
        &["CONFIG", "SET", "replica-read-only", "no"],
        &["SET", "k", "v3"],
        &["REPLICAOF", "NO", "ONE"],
        &["GET", "k"],
    ]);
}
