//! Bad and extreme input: broken framing, huge sizes, vanishing clients,
//! many connections. Each case runs side by side with redis-server where
//! it is installed, comparing the bytes each server sends.

use std::io::Write;
use std::net::Shutdown;

use ferrokey_resp::Frame;

use crate::harness::*;

/// Sends `input` on a fresh connection and returns what the server sends
/// until it closes (or the read timeout passes), and whether it closed.
fn until_close(port: u16, input: &[u8]) -> (String, bool) {
    let mut c = Conn::connect(port);
    // The server may close before reading everything: ignore write errors.
    let _ = c.stream.write_all(input);
    let (bytes, closed) = c.read_to_close();
    (escape(&bytes), closed)
}

/// Runs a closing case on both servers. `want` is what Redis sends (also
/// checked without redis-server). Afterwards both must still serve PING.
fn closing_case(pair: &mut Pair, input: &[u8], want: &[u8]) {
    let f = until_close(pair.ferrokey.port, input);
    let mut msgs = Vec::new();
    if let Some(r) = pair.redis.as_ref() {
        let r = until_close(r.port, input);
        assert_eq!(
            (escape(want), true),
            r,
            "the oracle itself for input {}",
            escape(input)
        );
        if f != r {
            msgs.push(format!(
                "input {}\n  redis:    {} (closed: {})\n  ferrokey: {} (closed: {})",
                escape(input),
                r.0,
                r.1,
                f.0,
                f.1
            ));
        }
    } else if f != (escape(want), true) {
        msgs.push(format!(
            "input {}\n  expected: {} (closed)\n  ferrokey: {} (closed: {})",
            escape(input),
            escape(want),
            f.0,
            f.1
        ));
    }
    assert!(
        pair.ferrokey.alive(),
        "Ferrokey died on input {}",
        escape(input)
    );
    let pong = Conn::connect(pair.ferrokey.port).cmd(&["PING"]);
    assert_eq!(pong.raw, b"+PONG\r\n");
    assert!(msgs.is_empty(), "{}", msgs.join("\n"));
}

#[test]
fn oversized_bulk_length() {
    let mut pair = Pair::new();
    closing_case(
        &mut pair,
        b"*1\r\n$600000000\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    closing_case(
        &mut pair,
        b"*2\r\n$3\r\nGET\r\n$536870913\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    closing_case(
        &mut pair,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-1\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    closing_case(
        &mut pair,
        b"*1\r\n$abc\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    closing_case(
        &mut pair,
        b"*1\r\n$99999999999999999999\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
}

#[test]
fn broken_multibulk_headers() {
    let mut pair = Pair::new();
    closing_case(
        &mut pair,
        b"*abc\r\n",
        b"-ERR Protocol error: invalid multibulk length\r\n",
    );
    closing_case(
        &mut pair,
        b"*2147483648\r\n",
        b"-ERR Protocol error: invalid multibulk length\r\n",
    );
    closing_case(
        &mut pair,
        b"*1\r\nfoo\r\n",
        b"-ERR Protocol error: expected '$', got 'f'\r\n",
    );
    closing_case(
        &mut pair,
        b"*2\r\n$4\r\nECHO\r\n:5\r\n",
        b"-ERR Protocol error: expected '$', got ':'\r\n",
    );
    closing_case(
        &mut pair,
        b"*1\r\n$4\r\nPING\r\n*1\r\nx\r\n",
        b"+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n",
    );
}

#[test]
fn negative_and_empty_multibulk_are_ignored() {
    let pair = Pair::new();
    let mut s = pair.session("raw");
    s.raw(Mode::Exact, b"*-5\r\n*1\r\n$4\r\nPING\r\n");
    s.raw(Mode::Exact, b"*0\r\n*1\r\n$4\r\nPING\r\n");
    s.raw(Mode::Exact, b"*-1\r\n\r\n\n*1\r\n$4\r\nPING\r\n");
    s.raw(Mode::Exact, b"$5\r\n");
    s.raw(Mode::Exact, b"PING\n");
    s.raw(Mode::Exact, b"  PING   \r\n");
    s.raw(Mode::Exact, b"ECHO \"a\\x41\\n\\tb\"\r\n");
    s.raw(Mode::Exact, b"ECHO 'it\\'s'\r\n");
    s.raw(Mode::Exact, b"SET k \"\"\r\n");
    s.raw(Mode::Exact, b"GET k\r\n");
    s.raw(Mode::Exact, b"ECHO \"\\r\\n\"\r\n");
    s.finish();
}

#[test]
fn inline_unbalanced_quotes() {
    let mut pair = Pair::new();
    closing_case(
        &mut pair,
        b"SET \"k v\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    closing_case(
        &mut pair,
        b"SET 'k v\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    closing_case(
        &mut pair,
        b"SET k \"a\"b\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    closing_case(
        &mut pair,
        b"ECHO 'it''s'\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    closing_case(
        &mut pair,
        b"PING\r\nSET \"k\r\n",
        b"+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n",
    );
}

#[test]
fn too_big_inline_request() {
    let mut pair = Pair::new();
    let line = vec![b'a'; 70 * 1024];
    closing_case(
        &mut pair,
        &line,
        b"-ERR Protocol error: too big inline request\r\n",
    );
}

#[test]
fn half_a_request_then_disconnect() {
    let mut pair = Pair::new();
    let mut ports = vec![pair.ferrokey.port];
    if let Some(r) = &pair.redis {
        ports.push(r.port);
    }
    for port in ports {
        let mut other = Conn::connect(port);
        assert_eq!(other.cmd(&["SET", "k", "v"]).raw, b"+OK\r\n");
        for partial in [
            &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nab"[..],
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5",
            b"*3\r\n$3\r\nSE",
            b"*3",
            b"GET k",
            b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1048577\r\n",
        ] {
            let mut c = Conn::connect(port);
            c.send_raw(partial);
            // The other client keeps working while the partial one waits.
            assert_eq!(other.cmd(&["GET", "k"]).raw, b"$1\r\nv\r\n");
            let _ = c.stream.shutdown(Shutdown::Both);
            drop(c);
            assert_eq!(
                other.cmd(&["GET", "k"]).raw,
                b"$1\r\nv\r\n",
                "after {}",
                escape(partial)
            );
        }
        assert_eq!(other.cmd(&["DBSIZE"]).raw, b":1\r\n");
        assert_eq!(Conn::connect(port).cmd(&["PING"]).raw, b"+PONG\r\n");
    }
    assert!(pair.ferrokey.alive(), "Ferrokey survived");
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn one_megabyte_value_round_trip() {
    let pair = Pair::new();
    let mut s = pair.session("RESP2");
    let big = pattern(1024 * 1024);
    s.line(Mode::Exact, &crate::args!["SET", "big", big]);
    s.line(Mode::Exact, &crate::args!["STRLEN", "big"]);
    s.line(Mode::Exact, &crate::args!["GET", "big"]);
    s.line(Mode::Exact, &crate::args!["APPEND", "big", big]);
    s.line(
        Mode::Exact,
        &crate::args!["GETRANGE", "big", "1048570", "1048590"],
    );
    s.line(Mode::Exact, &crate::args!["GET", "big"]);
    s.line(Mode::Exact, &crate::args!["ECHO", big]);
    s.finish();
    // Ferrokey returns the very bytes.
    let mut c = pair.ferrokey.connect();
    c.cmd(&crate::args!["SET", "b2", big]);
    let r = c.cmd(&["GET", "b2"]);
    assert!(
        matches!(&r.frame, Frame::Bulk(b) if *b == big),
        "1 MB value round trip"
    );
}

#[test]
fn one_hundred_thousand_arguments() {
    let pair = Pair::new();
    let mut s = pair.session("RESP2");
    let mut args: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
    for i in 0..50_000 {
        args.push(format!("key:{i}").into_bytes());
        args.push(format!("value:{i}").into_bytes());
    }
    assert_eq!(args.len(), 100_001);
    s.line(Mode::Exact, &args);
    s.line(Mode::Exact, &crate::args!["DBSIZE"]);
    s.line(
        Mode::Exact,
        &crate::args!["MGET", "key:0", "key:25000", "key:49999", "key:50000"],
    );
    let mut mget: Vec<Vec<u8>> = vec![b"MGET".to_vec()];
    mget.extend((0..100_000).map(|i| format!("key:{}", i % 60_000).into_bytes()));
    s.line(Mode::Exact, &mget);
    let mut del: Vec<Vec<u8>> = vec![b"DEL".to_vec()];
    del.extend(
        (0..50_000)
            .step_by(2)
            .map(|i| format!("key:{i}").into_bytes()),
    );
    s.line(Mode::Exact, &del);
    s.line(Mode::Exact, &crate::args!["DBSIZE"]);
    s.finish();
}

/// The soft limit on open files of this process.
fn open_files_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024)
}

#[test]
fn two_thousand_idle_connections() {
    // 2,000 idle clients per server; with both servers that is 4,000 file
    // descriptors in this process. If `ulimit -n` is lower (it is 20,000
    // on the machine this was written on; 1,024 is a common default), use
    // what fits, leaving room for the other tests running in parallel.
    let limit = open_files_limit();
    let per_server = 2000.min(limit.saturating_sub(300) / 2).max(50);
    if per_server < 2000 {
        println!("ulimit -n is {limit}: holding {per_server} idle connections per server instead of 2000");
    }
    let mut pair = Pair::new();
    let mut servers = vec![(pair.ferrokey.kind, pair.ferrokey.port)];
    if let Some(r) = &pair.redis {
        servers.push((r.kind, r.port));
    }
    let mut transcripts = Vec::new();
    for (kind, port) in servers {
        let mut idle: Vec<Conn> = (0..per_server).map(|_| Conn::connect(port)).collect();
        let mut worker = Conn::connect(port);
        let mut transcript = Vec::new();
        for i in 0..300 {
            transcript.push(
                worker
                    .cmd(&["SET", &format!("k{}", i % 50), &i.to_string()])
                    .raw,
            );
            transcript.push(worker.cmd(&["INCR", "counter"]).raw);
            transcript.push(worker.cmd(&["GET", &format!("k{}", (i * 7) % 50)]).raw);
        }
        // Every idle client still works.
        for (i, c) in idle.iter_mut().enumerate() {
            assert_eq!(
                c.cmd(&["PING"]).raw,
                b"+PONG\r\n",
                "{kind:?} idle client {i}"
            );
        }
        let info = worker.cmd(&["INFO", "clients"]);
        let text = info.text();
        let n: usize = text
            .split("\r\n")
            .find_map(|l| l.strip_prefix("connected_clients:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        assert!(
            n > per_server,
            "{kind:?} connected_clients:{n} with {per_server} idle clients"
        );
        drop(idle);
        transcripts.push(transcript);
    }
    assert!(pair.ferrokey.alive());
    if transcripts.len() == 2 {
        assert!(
            transcripts[0] == transcripts[1],
            "worker replies differ between ferrokey and redis"
        );
    }
}
