//! DUMP / RESTORE and DEBUG RELOAD: error replies compared with
//! redis-server, payloads moved between the two servers in both
//! directions, and a reload that keeps every type and TTL.

use crate::harness::*;

#[test]
fn restore_errors_differential() {
    let p = Pair::new();
    p.diff(&[
        &["SET", "k", "v"],
        &["~type", "DUMP", "k"],
        &["DUMP", "nokey"],
        &["RESTORE", "k", "0", "garbage"],
        &["RESTORE", "new", "0", "garbage"],
        &["RESTORE", "new", "-1", "garbage"],
        &["RESTORE", "new", "abc", "garbage"],
        &["RESTORE", "new", "0", "garbage", "IDLETIME", "-1"],
        &["RESTORE", "new", "0", "garbage", "FREQ", "300"],
        &[
            "RESTORE", "new", "0", "garbage", "IDLETIME", "1", "FREQ", "1",
        ],
        &["RESTORE", "new", "0", "garbage", "BOGUS"],
        &["RESTORE", "new", "0", ""],
        &["RESTORE", "new"],
    ]);
}

fn bulk(r: &Reply) -> Vec<u8> {
    match &r.frame {
        ferrokey_resp::Frame::Bulk(b) => b.clone(),
        other => panic!("expected a bulk, got {other:?}"),
    }
}

#[test]
fn payloads_move_both_ways() {
    let Some(redis) = Server::redis() else {
        eprintln!("redis-server not installed: cross-server DUMP/RESTORE skipped");
        return;
    };
    let fk = Server::ferrokey();
    let mut f = fk.connect();
    let mut r = redis.connect();
    let long = "x".repeat(300); // LZF-compressed by Redis
    let setup: &[&[&str]] = &[
        &["RPUSH", "list", "a", "1", "-20000", &long],
        &["HSET", "hash", "f", "v", "n", "123456789012"],
        &["SADD", "iset", "1", "-2", "70000"],
        &["SADD", "sset", "a", "b"],
        &["ZADD", "zset", "1.5", "a", "-inf", "b", "3", "c"],
        &["SET", "str", &long],
        &["SET", "num", "-123"],
    ];
    let keys = ["list", "hash", "iset", "sset", "zset", "str", "num"];
    let reads: &[&[&str]] = &[
        &["LRANGE", "list", "0", "-1"],
        &["HGETALL", "hash"],
        &["SMEMBERS", "iset"],
        &["SMEMBERS", "sset"],
        &["ZRANGE", "zset", "0", "-1", "WITHSCORES"],
        &["GET", "str"],
        &["GET", "num"],
    ];
    for c in setup {
        f.cmd(c);
        r.cmd(c);
    }
    for (k, read) in keys.iter().zip(reads) {
        // Redis -> Ferrokey.
        let from_redis = bulk(&r.cmd(&["DUMP", k]));
        let to = format!("{k}:from-redis");
        let restored = f.cmd(&[b"RESTORE".as_slice(), to.as_bytes(), b"0", &from_redis]);
        assert_eq!(restored.text(), "+OK\r\n", "{k}");
        // Ferrokey -> Redis.
        let from_fk = bulk(&f.cmd(&["DUMP", k]));
        let to2 = format!("{k}:from-ferrokey");
        let restored = r.cmd(&[b"RESTORE".as_slice(), to2.as_bytes(), b"0", &from_fk]);
        assert_eq!(restored.text(), "+OK\r\n", "{k}");
        let mut a: Vec<&str> = read.to_vec();
        a[1] = &to;
        let mut b: Vec<&str> = read.to_vec();
        b[1] = &to2;
        let (mut x, mut y) = (f.cmd(read), r.cmd(&b));
        let mut z = f.cmd(&a);
        if read[0] == "SMEMBERS" || read[0] == "HGETALL" {
            for v in [&mut x, &mut y, &mut z] {
                if let ferrokey_resp::Frame::Array(items) = &mut v.frame {
                    items.sort_by_key(|f| format!("{f:?}"));
                }
            }
        }
        assert_eq!(
            x.frame, y.frame,
            "{k}: Ferrokey's payload read back by Redis"
        );
        assert_eq!(
            x.frame, z.frame,
            "{k}: Redis's payload read back by Ferrokey"
        );
    }
    // A corrupted payload is refused.
    let mut p = bulk(&f.cmd(&["DUMP", "str"]));
    let last = p.len() - 1;
    p[last] ^= 0xff;
    assert_eq!(
        f.cmd(&[b"RESTORE".as_slice(), b"bad", b"0", &p]).text(),
        "-ERR DUMP payload version or checksum are wrong\r\n"
    );
}

#[test]
fn restore_ttl_replace_and_debug_reload() {
    let s = Server::ferrokey();
    let mut c = s.connect();
    c.cmd(&["RPUSH", "l", "a", "b"]);
    let p = bulk(&c.cmd(&["DUMP", "l"]));
    let args = |extra: &[&[u8]]| {
        let mut v: Vec<Vec<u8>> = vec![
            b"RESTORE".to_vec(),
            b"l2".to_vec(),
            b"5000".to_vec(),
            p.clone(),
        ];
        v.extend(extra.iter().map(|e| e.to_vec()));
        v
    };
    assert_eq!(c.cmd(&args(&[])).text(), "+OK\r\n");
    let pttl: i64 = c.cmd(&["PTTL", "l2"]).text()[1..].trim().parse().unwrap();
    assert!(pttl > 0 && pttl <= 5000, "{pttl}");
    assert_eq!(
        c.cmd(&args(&[])).text(),
        "-BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(
        c.cmd(&args(&[b"REPLACE", b"IDLETIME", b"100"])).text(),
        "+OK\r\n"
    );
    let idle: i64 = c.cmd(&["OBJECT", "IDLETIME", "l2"]).text()[1..]
        .trim()
        .parse()
        .unwrap();
    assert!(idle >= 100, "{idle}");
    // ABSTTL in the past: replaced key is deleted, nothing created.
    let mut v = args(&[b"REPLACE", b"ABSTTL"]);
    v[2] = b"1000".to_vec();
    assert_eq!(c.cmd(&v).text(), "+OK\r\n");
    assert_eq!(c.cmd(&["EXISTS", "l2"]).text(), ":0\r\n");

    // DEBUG RELOAD keeps every type, TTLs and databases.
    c.cmd(&["HSET", "h", "f", "v"]);
    c.cmd(&["SADD", "s", "1", "x"]);
    c.cmd(&["ZADD", "z", "2", "m"]);
    c.cmd(&["SET", "t", "v", "EX", "1000"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["SET", "other", "db3"]);
    let digest = c.cmd(&["DEBUG", "DIGEST"]).text();
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]).text(), "+OK\r\n");
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]).text(), digest);
    assert_eq!(c.cmd(&["GET", "other"]).text(), "$3\r\ndb3\r\n");
    c.cmd(&["SELECT", "0"]);
    let ttl: i64 = c.cmd(&["TTL", "t"]).text()[1..].trim().parse().unwrap();
    assert!(ttl > 990 && ttl <= 1000, "{ttl}");
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]).text(),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
}

/// A fresh scratch directory under the system temp dir.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ferrokey-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fill(c: &mut Conn) {
    c.cmd(&["RPUSH", "list", "a", "1", &"y".repeat(200)]);
    c.cmd(&["HSET", "hash", "f", "v"]);
    c.cmd(&["SADD", "set", "1", "2"]);
    c.cmd(&["ZADD", "zset", "1.5", "a"]);
    c.cmd(&["SET", "ttl", "v", "EX", "1000"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["SET", "in2", "x"]);
    c.cmd(&["SELECT", "0"]);
    // A stream with a consumer group, a delivered entry pending and a
    // NOACK consumer.
    c.cmd(&["XADD", "stream", "1-1", "f", "v"]);
    c.cmd(&["XADD", "stream", "2-1", "g", "w"]);
    c.cmd(&["XGROUP", "CREATE", "stream", "grp", "0"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "grp",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "stream",
        ">",
    ]);
    c.cmd(&["XGROUP", "CREATE", "stream", "quiet", "0"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "quiet",
        "bob",
        "NOACK",
        "STREAMS",
        "stream",
        ">",
    ]);
}

fn check(c: &mut Conn, who: &str) {
    assert_eq!(c.cmd(&["DBSIZE"]).text(), ":6\r\n", "{who}");
    assert_eq!(c.cmd(&["XLEN", "stream"]).text(), ":2\r\n", "{who}");
    assert_eq!(
        c.cmd(&["XPENDING", "stream", "grp"]).text(),
        "*4\r\n:1\r\n$3\r\n1-1\r\n$3\r\n1-1\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n",
        "{who}"
    );
    let groups = c.cmd(&["XINFO", "GROUPS", "stream"]).text();
    assert!(groups.contains("$5\r\nquiet\r\n"), "{who}: {groups}");
    assert!(
        groups.contains("$3\r\n2-1\r\n"),
        "{who}: quiet's last ID in {groups}"
    );
    let consumers = c.cmd(&["XINFO", "CONSUMERS", "stream", "quiet"]).text();
    assert!(consumers.contains("$3\r\nbob\r\n"), "{who}: {consumers}");
    assert_eq!(
        c.cmd(&["LRANGE", "list", "0", "1"]).text(),
        "*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        "{who}"
    );
    assert_eq!(c.cmd(&["HGET", "hash", "f"]).text(), "$1\r\nv\r\n", "{who}");
    assert_eq!(
        c.cmd(&["ZSCORE", "zset", "a"]).text(),
        "$3\r\n1.5\r\n",
        "{who}"
    );
    let ttl: i64 = c.cmd(&["TTL", "ttl"]).text()[1..].trim().parse().unwrap();
    assert!(ttl > 900, "{who}: ttl {ttl}");
    c.cmd(&["SELECT", "2"]);
    assert_eq!(c.cmd(&["GET", "in2"]).text(), "$1\r\nx\r\n", "{who}");
    c.cmd(&["SELECT", "0"]);
}

#[test]
fn save_and_load_rdb_files_with_redis() {
    let dir = scratch("rdb");
    let d = dir.to_str().unwrap();
    {
        let s = Server::ferrokey_with(&["--dir", d]);
        let mut c = s.connect();
        fill(&mut c);
        assert_eq!(c.cmd(&["SAVE"]).text(), "+OK\r\n");
        assert!(dir.join("dump.rdb").exists());
        let info = c.cmd(&["INFO", "persistence"]).text();
        assert!(info.contains("rdb_changes_since_last_save:0"), "{info}");
    }
    // Ferrokey loads its own file at startup.
    {
        let s = Server::ferrokey_with(&["--dir", d]);
        check(&mut s.connect(), "ferrokey reloading its own file");
    }
    let Some(redis) = Server::redis_with(&["--dir", d]) else {
        return;
    };
    // redis-server loads Ferrokey's file, and Ferrokey loads redis-server's.
    let mut r = redis.connect();
    check(&mut r, "redis-server loading Ferrokey's file");
    r.cmd(&["SET", "from-redis", "1"]);
    r.cmd(&["DEL", "from-redis"]);
    assert_eq!(r.cmd(&["SAVE"]).text(), "+OK\r\n");
    drop(r);
    drop(redis);
    let s = Server::ferrokey_with(&["--dir", d]);
    check(&mut s.connect(), "ferrokey loading redis-server's file");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits until INFO persistence no longer shows `field:1` (a background
/// AOF rewrite or BGSAVE still running).
fn wait_persistence_idle(c: &mut Conn, field: &str) {
    let busy = format!("{field}:1");
    let start = std::time::Instant::now();
    while c.cmd(&["INFO", "persistence"]).text().contains(&busy) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "{field} never ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn aof_directories_move_between_ferrokey_and_redis() {
    let dir = scratch("aof");
    let d = dir.to_str().unwrap();
    let aof = [
        "--dir",
        d,
        "--appendonly",
        "yes",
        "--aof-timestamp-enabled",
        "yes",
    ];
    {
        // Killed, not shut down: what was acknowledged is in the files.
        let s = Server::ferrokey_with(&aof);
        let mut c = s.connect();
        fill(&mut c);
        // A rewrite in the middle: part of the data in the base, part in
        // the new incremental file.
        c.cmd(&["BGREWRITEAOF"]);
        wait_persistence_idle(&mut c, "aof_rewrite_in_progress");
        c.cmd(&["SET", "after-rewrite", "1"]);
        c.cmd(&["DEL", "after-rewrite"]);
        c.cmd(&[
            "EVAL",
            "redis.call('set', KEYS[1], 'x'); redis.call('del', KEYS[1])",
            "1",
            "k",
        ]);
        let manifest = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest"))
            .expect("manifest");
        assert!(manifest.contains("seq 2 type b"), "{manifest}");
    }
    {
        let s = Server::ferrokey_with(&aof);
        check(&mut s.connect(), "ferrokey reloading its own AOF");
    }
    // redis-server under everysec may postpone its write(2) while a
    // background fsync is slow (a loaded disk) and answer first; it is
    // killed below, so it must have written what it acknowledged.
    let mut redis_args = aof.to_vec();
    redis_args.extend(["--appendfsync", "always"]);
    let Some(redis) = Server::redis_with(&redis_args) else {
        return;
    };
    let mut r = redis.connect();
    check(&mut r, "redis-server loading Ferrokey's AOF");
    // Redis appends to the same files; Ferrokey then loads what it wrote.
    r.cmd(&["SADD", "set", "3"]);
    r.cmd(&["SREM", "set", "3"]);
    r.cmd(&["BGREWRITEAOF"]);
    wait_persistence_idle(&mut r, "aof_rewrite_in_progress");
    r.cmd(&["SET", "tmp", "1"]);
    r.cmd(&["DEL", "tmp"]);
    drop(r);
    drop(redis);
    let s = Server::ferrokey_with(&aof);
    check(&mut s.connect(), "ferrokey loading redis-server's AOF");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn truncated_aof_tail_loads_only_when_allowed() {
    let dir = scratch("aof-cut");
    let d = dir.to_str().unwrap();
    {
        let s = Server::ferrokey_with(&["--dir", d, "--appendonly", "yes"]);
        let mut c = s.connect();
        c.cmd(&["SET", "a", "1"]);
        c.cmd(&["SET", "b", "2"]);
    }
    let incr = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
    let good = std::fs::metadata(&incr).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap();
    std::io::Write::write_all(&mut f, b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1").unwrap();
    drop(f);
    // Refused: the server stops, naming the file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrokey-server"))
        .args(["--port", "0", "--dir", d, "--appendonly", "yes"])
        .args(["--aof-load-truncated", "no"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("appendonly.aof.1.incr.aof"), "{log}");
    // Allowed: cut back to the last whole command, and loaded.
    let s = Server::ferrokey_with(&["--dir", d, "--appendonly", "yes"]);
    let mut c = s.connect();
    assert_eq!(
        c.cmd(&["MGET", "a", "b", "c"]).text(),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
    );
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), good);
    drop(c);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cycles` times: writers pipeline INCRs and RPUSHes while the server is
/// killed with SIGKILL; after each restart every write a writer saw
/// acknowledged is there: each counter is at least the last INCR reply,
/// each list at least as long as the last RPUSH reply. Returns how many
/// writes were acknowledged in all.
fn kill_9_cycles(fsync: &str, cycles: u64) -> i64 {
    let dir = scratch(&format!("aof-crash-{fsync}"));
    let d = dir.to_str().unwrap();
    let args = ["--dir", d, "--appendonly", "yes", "--appendfsync", fsync];
    let int = |r: Reply| -> i64 {
        match r.frame {
            ferrokey_resp::Frame::Integer(n) => n,
            ferrokey_resp::Frame::Bulk(b) => String::from_utf8(b).unwrap().parse().unwrap(),
            ferrokey_resp::Frame::Null => 0,
            other => panic!("{other:?}"),
        }
    };
    let check = |c: &mut Conn, acked: &[(i64, i64)], when: &str| {
        for (w, &(n, len)) in acked.iter().enumerate() {
            let have = int(c.cmd(&["GET", &format!("counter:{w}")]));
            assert!(
                have >= n,
                "{fsync} {when}: counter {w} is {have}, {n} was acknowledged"
            );
            let l = int(c.cmd(&["LLEN", &format!("log:{w}")]));
            assert!(
                l >= len,
                "{fsync} {when}: log {w} has {l}, {len} was acknowledged"
            );
        }
    };
    let mut acked = [(0i64, 0i64); 4];
    for cycle in 0..cycles {
        let s = Server::ferrokey_with(&args);
        let mut c = s.connect();
        check(&mut c, &acked, &format!("cycle {cycle}"));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let mut c = s.connect();
                let mut last = acked[w];
                std::thread::spawn(move || loop {
                    let mut req = encode_cmd(&["INCR", &format!("counter:{w}")]);
                    req.extend(encode_cmd(&["RPUSH", &format!("log:{w}"), "x"]));
                    if std::io::Write::write_all(&mut c.stream, &req).is_err() {
                        return last;
                    }
                    match c.try_read() {
                        Ok(r) if !r.is_error() => last.0 = int(r),
                        _ => return last,
                    }
                    match c.try_read() {
                        Ok(r) if !r.is_error() => last.1 = int(r),
                        _ => return last,
                    }
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(30 + 7 * cycle));
        drop(c);
        drop(s); // SIGKILL
        for (w, h) in writers.into_iter().enumerate() {
            acked[w] = h.join().unwrap();
        }
    }
    assert!(
        acked.iter().all(|&(n, _)| n > 0),
        "writers made progress: {acked:?}"
    );
    let s = Server::ferrokey_with(&args);
    check(&mut s.connect(), &acked, "final");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    acked.iter().map(|&(n, _)| n).sum()
}

/// `appendfsync always`: 20 SIGKILLs under load lose no acknowledged write.
#[test]
fn acknowledged_writes_survive_kill_9() {
    let n = kill_9_cycles("always", 20);
    eprintln!("appendfsync always: {n} acknowledged INCRs over 20 kill -9 cycles, none lost");
}

/// `appendfsync everysec`: a process crash loses nothing acknowledged
/// either, since every write reaches the file (the page cache) before its
/// reply; what everysec risks is the last second on an OS crash or power
/// loss, which a SIGKILL does not show.
#[test]
fn everysec_loses_nothing_on_a_process_crash() {
    let n = kill_9_cycles("everysec", 10);
    eprintln!("appendfsync everysec: {n} acknowledged INCRs over 10 kill -9 cycles, none lost");
}

/// Clients keep overwriting, deleting, creating and finally flushing
/// while BGSAVE writes; the file holds the dataset as it was when BGSAVE
/// was called, and nothing of what came after.
#[test]
fn bgsave_writes_the_dataset_as_of_its_start() {
    let dir = scratch("bgsave");
    let d = dir.to_str().unwrap();
    {
        let s = Server::ferrokey_with(&["--dir", d]);
        let mut c = s.connect();
        c.cmd(&["DEBUG", "POPULATE", "200000", "key", "16"]);
        c.cmd(&["RPUSH", "list", "a", "b", "c"]);
        c.cmd(&["SET", "ttl", "v", "EX", "1000"]);
        assert_eq!(c.cmd(&["BGSAVE"]).text(), "+Background saving started\r\n");
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let mut c = s.connect();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let k = format!("key:{}", i * 2 + w);
                        c.send(&["SET", &k, "changed"]);
                        c.send(&["DEL", &format!("key:{}", 100_000 + i * 2 + w)]);
                        c.send(&["SET", &format!("new:{w}:{i}"), "x"]);
                        c.send(&["RPUSH", "list", "d"]);
                        for _ in 0..4 {
                            c.read();
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        c.cmd(&["FLUSHALL"]);
        wait_persistence_idle(&mut c, "rdb_bgsave_in_progress");
        let info = c.cmd(&["INFO", "persistence"]).text();
        assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
    }
    let s = Server::ferrokey_with(&["--dir", d]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["DBSIZE"]).text(), ":200002\r\n");
    assert_eq!(c.cmd(&["LLEN", "list"]).text(), ":3\r\n");
    assert_eq!(
        c.cmd(&["EXISTS", "new:0:0", "new:1:19999"]).text(),
        ":0\r\n"
    );
    for i in [0, 1, 2, 39_999, 100_000, 139_999, 199_999] {
        let want = format!("value:{i}");
        let got = c.cmd(&["GET", &format!("key:{i}")]).frame;
        let ferrokey_resp::Frame::Bulk(v) = got else {
            panic!("key:{i} missing")
        };
        assert!(
            v.starts_with(want.as_bytes()),
            "key:{i} = {:?}",
            String::from_utf8_lossy(&v)
        );
    }
    drop(c);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rdbchecksum no` writes a zero checksum, which redis-server and
/// Ferrokey both load without checking; the default writes a real one.
#[test]
fn rdbchecksum_no_writes_a_zero_checksum() {
    for (flag, zero) in [("yes", false), ("no", true)] {
        let dir = scratch(&format!("crc-{flag}"));
        let d = dir.to_str().unwrap();
        {
            let s = Server::ferrokey_with(&["--dir", d, "--rdbchecksum", flag]);
            let mut c = s.connect();
            c.cmd(&["SET", "k", "v"]);
            assert_eq!(c.cmd(&["SAVE"]).text(), "+OK\r\n");
        }
        let data = std::fs::read(dir.join("dump.rdb")).unwrap();
        let crc = &data[data.len() - 8..];
        assert_eq!(crc == [0u8; 8], zero, "rdbchecksum {flag}");
        let s = Server::ferrokey_with(&["--dir", d]);
        assert_eq!(s.connect().cmd(&["GET", "k"]).text(), "$1\r\nv\r\n");
        drop(s);
        if let Some(r) = Server::redis_with(&["--dir", d]) {
            assert_eq!(r.connect().cmd(&["GET", "k"]).text(), "$1\r\nv\r\n");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// DEBUG LOADAOF replays the AOF without writing what it replays into the
/// AOF again (twice in a row used to nest the replay until the stack
/// overflowed).
#[test]
fn debug_loadaof_propagates_nothing() {
    let dir = scratch("loadaof");
    let d = dir.to_str().unwrap();
    let s = Server::ferrokey_with(&["--dir", d, "--appendonly", "yes"]);
    let mut c = s.connect();
    c.cmd(&["SET", "foo", "bar", "EX", "100"]);
    let incr = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
    let before = std::fs::read(&incr).unwrap();
    for _ in 0..2 {
        assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]).text(), "+OK\r\n");
    }
    assert_eq!(std::fs::read(&incr).unwrap(), before);
    assert_eq!(c.cmd(&["GETEX", "foo", "PERSIST"]).text(), "$3\r\nbar\r\n");
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]).text(), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "foo"]).text(), ":-1\r\n");
    drop(c);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// MIGRATE between two servers of the same kind: every reply is compared
/// between the Ferrokey pair and the redis-server pair.
#[test]
fn migrate_moves_keys_between_servers() {
    use crate::harness::Server;
    let run = |src: Server, dst: Server| -> Vec<String> {
        let mut s = src.connect();
        let mut d = dst.connect();
        let port = dst.port.to_string();
        let mut out = Vec::new();
        let mut log = |r: crate::harness::Reply| out.push(crate::harness::escape(&r.raw));
        s.cmd(&["SET", "a", "1", "EX", "1000"]);
        s.cmd(&["HSET", "h", "f", "v"]);
        s.cmd(&["RPUSH", "l", "x", "y"]);
        s.cmd(&["SET", "c", "copied"]);
        let m = |extra: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = vec!["MIGRATE".into(), "127.0.0.1".into(), port.clone()];
            v.extend(extra.iter().map(|s| s.to_string()));
            v
        };
        log(s.cmd(&m(&["a", "0", "5000"])));
        log(s.cmd(&m(&["", "0", "5000", "KEYS", "h", "l", "missing"])));
        log(s.cmd(&m(&["c", "1", "5000", "COPY"])));
        log(s.cmd(&m(&["c", "1", "5000", "COPY"])));
        log(s.cmd(&m(&["c", "1", "5000", "COPY", "REPLACE"])));
        log(s.cmd(&m(&["missing", "0", "5000"])));
        log(s.cmd(&m(&["c", "0", "5000", "AUTH", "nopass"])));
        log(s.cmd(&m(&["c", "0", "5000", "KEYS", "c"])));
        log(s.cmd(&m(&["c", "0", "5000", "BOGUS"])));
        log(s.cmd(&m(&["c", "0", "5000", "AUTH"])));
        log(s.cmd(&m(&["c", "x", "5000"])));
        log(s.cmd(&["MIGRATE", "127.0.0.1", "1", "c", "0", "100"]));
        log(s.cmd(&["EXISTS", "a", "h", "l", "c"]));
        log(d.cmd(&["GET", "a"]));
        let ttl_ok = matches!(d.cmd(&["TTL", "a"]).frame, ferrokey_resp::Frame::Integer(t) if (990..=1000).contains(&t));
        log(d.cmd(&["HGETALL", "h"]));
        log(d.cmd(&["LRANGE", "l", "0", "-1"]));
        d.cmd(&["SELECT", "1"]);
        log(d.cmd(&["GET", "c"]));
        out.push(format!("ttl ok: {ttl_ok}"));
        out
    };
    let ours = run(Server::ferrokey(), Server::ferrokey());
    if let (Some(a), Some(b)) = (Server::redis(), Server::redis()) {
        assert_eq!(ours, run(a, b));
    }
    assert_eq!(ours[0], "+OK\\r\\n", "{ours:#?}");
    assert_eq!(ours.last().map(String::as_str), Some("ttl ok: true"));
}
