//! Differential tests for the connection commands.

use ferrokey_resp::Frame;

use crate::harness::*;

#[test]
fn ping_echo() {
    diff(&[
        &["PING"],
        &["PING", "hello"],
        &["PING", ""],
        &["ping"],
        &["PING", "a", "b"],
        &["ECHO", "hi"],
        &["ECHO", ""],
        &["ECHO"],
        &["ECHO", "a", "b"],
    ]);
}

#[test]
fn select_and_swapdb() {
    diff(&[
        &["SET", "k", "db0"],
        &["SELECT", "1"],
        &["GET", "k"],
        &["SET", "k", "db1"],
        &["SELECT", "15"],
        &["SELECT", "16"],
        &["SELECT", "-1"],
        &["SELECT", "abc"],
        &["SELECT", "1.5"],
        &["SELECT", ""],
        &["SELECT", "9223372036854775808"],
        &["SELECT"],
        &["SELECT", "0", "1"],
        &["SELECT", "0"],
        &["GET", "k"],
        &["SWAPDB", "0", "1"],
        &["GET", "k"],
        &["SELECT", "1"],
        &["GET", "k"],
        &["SWAPDB", "1", "1"],
        &["SWAPDB", "0", "16"],
        &["SWAPDB", "16", "0"],
        &["SWAPDB", "-1", "0"],
        &["SWAPDB", "a", "1"],
        &["SWAPDB", "0", "b"],
        &["SWAPDB", "a", "b"],
        &["SWAPDB", "0"],
        &["DBSIZE"],
        &["SELECT", "0"],
        &["DBSIZE"],
    ]);
}

#[test]
fn fewer_databases_configured() {
    let script: &[&[&str]] = &[
        &["SELECT", "3"],
        &["SET", "k", "v"],
        &["SELECT", "4"],
        &["SWAPDB", "0", "4"],
        &["SWAPDB", "0", "3"],
        &["SELECT", "0"],
        &["GET", "k"],
        &["MOVE", "k", "4"],
        &["MOVE", "k", "3"],
        &["COPY", "x", "y", "DB", "4"],
        &["CONFIG", "GET", "databases"],
        &["~type", "INFO", "keyspace"],
    ];
    Pair::with_args(&["--databases", "4"]).diff(script);
}

/// HELLO replies carry the server's version and the client id: compare
/// every field's name and type, and the values of all but those two.
fn hello_check(s: &mut Session, args: &[&str]) {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    s.ferrokey.send(&args);
    let f = s.ferrokey.read();
    let Some(rc) = s.redis.as_mut() else { return };
    rc.send(&args);
    let r = rc.read();
    let norm = |fr: &Frame| -> Frame {
        fn pairs(fr: &Frame) -> Option<Vec<(Frame, Frame)>> {
            match fr {
                Frame::Map(p) => Some(p.clone()),
                Frame::Array(v) if v.len() % 2 == 0 => {
                    Some(v.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect())
                }
                _ => None,
            }
        }
        match pairs(fr) {
            Some(p) => Frame::Array(
                p.into_iter()
                    .map(|(k, v)| {
                        let blank = matches!(&k, Frame::Bulk(b) if b == b"version" || b == b"id");
                        let v = match (&v, blank) {
                            (Frame::Bulk(_), true) => Frame::Bulk(Vec::new()),
                            (Frame::Integer(_), true) => Frame::Integer(0),
                            _ => v,
                        };
                        Frame::Array(vec![k, v])
                    })
                    .collect(),
            ),
            None => fr.clone(),
        }
    };
    let same_type = r.raw.first() == f.raw.first();
    if !same_type || norm(&r.frame) != norm(&f.frame) {
        s.failures.push(format!(
            "{} (compared without version and id values)\n  redis:    {}\n  ferrokey: {}",
            args.iter().map(|a| escape(a)).collect::<Vec<_>>().join(" "),
            escape(&r.raw),
            escape(&f.raw)
        ));
    }
}

#[test]
fn hello() {
    let pair = Pair::new();
    let mut s = pair.session("RESP2");
    hello_check(&mut s, &["HELLO"]);
    hello_check(&mut s, &["HELLO", "2"]);
    hello_check(&mut s, &["HELLO", "3"]);
    s.line(Mode::Exact, &[b"GET".to_vec(), b"missing".to_vec()]);
    hello_check(&mut s, &["HELLO"]);
    hello_check(&mut s, &["HELLO", "2"]);
    s.line(Mode::Exact, &[b"GET".to_vec(), b"missing".to_vec()]);
    hello_check(&mut s, &["HELLO", "3", "SETNAME", "myname"]);
    hello_check(&mut s, &["HELLO", "2", "AUTH", "default", "anything"]);
    hello_check(
        &mut s,
        &["HELLO", "2", "AUTH", "default", "x", "SETNAME", "n2"],
    );
    s.run(&lines(&[
        &["CLIENT", "GETNAME"],
        &["HELLO", "4"],
        &["HELLO", "1"],
        &["HELLO", "0"],
        &["HELLO", "-1"],
        &["HELLO", "abc"],
        &["HELLO", "3.0"],
        &["HELLO", "2", "AUTH"],
        &["HELLO", "2", "AUTH", "default"],
        &["HELLO", "2", "AUTH", "nosuchuser", "pw"],
        &["HELLO", "2", "SETNAME"],
        &["HELLO", "2", "SETNAME", "a b"],
        &["HELLO", "2", "FOO"],
        &["HELLO", "2", "FOO", "bar"],
        &["HELLO", "4", "FOO"],
        &["CLIENT", "GETNAME"],
    ]));
    s.finish();
}

#[test]
fn auth_without_password() {
    diff(&[
        &["AUTH", "secret"],
        &["AUTH", "default", "secret"],
        &["AUTH", "default", ""],
        &["AUTH", "nosuchuser", "secret"],
        &["AUTH", "a", "b", "c"],
        &["AUTH"],
        &["PING"],
    ]);
}

#[test]
fn client_name_id_info_list() {
    diff(&[
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", "worker-1"],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", "a b"],
        &["CLIENT", "SETNAME", "a\nb"],
        &["CLIENT", "SETNAME", "caf\u{e9}"],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", ""],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME"],
        &["CLIENT", "SETNAME", "a", "b"],
        &["CLIENT", "GETNAME", "x"],
        &["client", "setname", "lower"],
        &["CLIENT", "GETNAME"],
        &["~type", "CLIENT", "ID"],
        &["CLIENT", "ID", "x"],
        &["~type", "CLIENT", "INFO"],
        &["~type", "CLIENT", "LIST"],
        &["~type", "CLIENT", "LIST", "TYPE", "normal"],
        &["CLIENT", "LIST", "TYPE", "pubsub"],
        &["CLIENT", "LIST", "TYPE", "master"],
        &["CLIENT", "LIST", "TYPE", "replica"],
        &["CLIENT", "LIST", "TYPE", "foo"],
        &["CLIENT", "LIST", "TYPE"],
        &["CLIENT", "LIST", "ID", "abc"],
        &["CLIENT", "LIST", "ID", "999999"],
        &["CLIENT", "LIST", "FOO"],
        &["CLIENT", "NO-EVICT", "on"],
        &["CLIENT", "NO-EVICT", "OFF"],
        &["CLIENT", "NO-EVICT", "maybe"],
        &["CLIENT", "NO-EVICT"],
        &["CLIENT", "FOO"],
        &["CLIENT", "FOO", "bar"],
        &["CLIENT"],
        &["~type", "CLIENT", "HELP"],
    ]);
}

/// `k=v` field names of one CLIENT INFO/LIST line, in order.
fn field_names(line: &str) -> Vec<String> {
    line.trim_end()
        .split(' ')
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string()))
        .collect()
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.trim_end().split(' ').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then_some(v)
    })
}

fn bulk_text(r: &Reply) -> String {
    match &r.frame {
        Frame::Bulk(b) | Frame::Verbatim(b) => String::from_utf8_lossy(b).into_owned(),
        _ => panic!("expected a bulk string, got {}", escape(&r.raw)),
    }
}

#[test]
fn client_info_fields() {
    let pair = Pair::new();
    let mut f = pair.ferrokey.connect();
    f.cmd(&["CLIENT", "SETNAME", "me"]);
    f.cmd(&["SELECT", "3"]);
    let fi = bulk_text(&f.cmd(&["CLIENT", "INFO"]));
    let fl = bulk_text(&f.cmd(&["CLIENT", "LIST"]));
    let fid = f.cmd(&["CLIENT", "ID"]);
    let Frame::Integer(fid) = fid.frame else {
        panic!("CLIENT ID: {}", fid.text())
    };
    // Redis 7.2 fields (7.0 lacks lib-name and lib-ver).
    let want72 = [
        "id",
        "addr",
        "laddr",
        "fd",
        "name",
        "age",
        "idle",
        "flags",
        "db",
        "sub",
        "psub",
        "ssub",
        "multi",
        "qbuf",
        "qbuf-free",
        "argv-mem",
        "multi-mem",
        "rbs",
        "rbp",
        "obl",
        "oll",
        "omem",
        "tot-mem",
        "events",
        "cmd",
        "user",
        "redir",
        "resp",
        "lib-name",
        "lib-ver",
    ];
    assert_eq!(field_names(&fi), want72, "CLIENT INFO fields: {fi}");
    assert_eq!(field(&fi, "name"), Some("me"), "{fi}");
    assert_eq!(field(&fi, "db"), Some("3"), "{fi}");
    assert_eq!(field(&fi, "cmd"), Some("client|info"), "{fi}");
    assert_eq!(field(&fi, "flags"), Some("N"), "{fi}");
    assert_eq!(field(&fi, "resp"), Some("2"), "{fi}");
    assert_eq!(field(&fi, "user"), Some("default"), "{fi}");
    assert_eq!(field(&fi, "id"), Some(fid.to_string().as_str()), "{fi}");
    let addr = field(&fi, "addr").unwrap_or_default();
    assert!(addr.starts_with("127.0.0.1:"), "{fi}");
    let laddr = format!("127.0.0.1:{}", pair.ferrokey.port);
    assert_eq!(field(&fi, "laddr"), Some(laddr.as_str()), "{fi}");
    assert!(
        fl.ends_with('\n'),
        "CLIENT LIST ends each line with \\n: {fl:?}"
    );
    let mine: Vec<&str> = fl
        .lines()
        .filter(|l| field(l, "id") == Some(fid.to_string().as_str()))
        .collect();
    assert_eq!(mine.len(), 1, "CLIENT LIST shows this client once: {fl}");
    assert_eq!(field_names(mine[0]), want72, "CLIENT LIST fields");
    assert_eq!(field(mine[0], "cmd"), Some("client|list"));
    if let Some(rs) = pair.redis.as_ref() {
        // The 7.0 oracle's field names, less the two 7.2 added.
        let mut r = rs.connect();
        let ri = bulk_text(&r.cmd(&["CLIENT", "INFO"]));
        let mut f70: Vec<String> = field_names(&fi);
        f70.retain(|n| n != "lib-name" && n != "lib-ver");
        assert_eq!(
            field_names(&ri),
            f70,
            "CLIENT INFO field names vs redis 7.0"
        );
    }
    // Three clients: the newest sees all three in CLIENT LIST. (The other
    // one answers a PING first, so the server has surely accepted it.)
    let mut other = pair.ferrokey.connect();
    assert_eq!(other.cmd(&["PING"]).raw, b"+PONG\r\n");
    let mut f2 = pair.ferrokey.connect();
    let l2 = bulk_text(&f2.cmd(&["CLIENT", "LIST"]));
    assert!(l2.lines().count() >= 3, "{l2}");
    assert!(l2.lines().any(|l| field(l, "name") == Some("me")), "{l2}");
}

#[test]
fn client_setinfo_and_no_touch_redis72() {
    // CLIENT SETINFO and CLIENT NO-TOUCH are Redis 7.2 additions: Debian's
    // 7.0 does not have them, so the expectations come from 7.2's source.
    let s = Server::ferrokey();
    let mut c = s.connect();
    expect(
        &mut c,
        &["CLIENT", "SETINFO", "lib-name", "redis-rs"],
        b"+OK\r\n",
    );
    expect(
        &mut c,
        &["CLIENT", "SETINFO", "LIB-VER", "0.27.6"],
        b"+OK\r\n",
    );
    let info = bulk_text(&c.cmd(&["CLIENT", "INFO"]));
    assert_eq!(field(&info, "lib-name"), Some("redis-rs"), "{info}");
    assert_eq!(field(&info, "lib-ver"), Some("0.27.6"), "{info}");
    expect(
        &mut c,
        &["CLIENT", "SETINFO", "lib-name", "a b"],
        b"-ERR lib-name cannot contain spaces, newlines or special characters.\r\n",
    );
    expect(
        &mut c,
        &["CLIENT", "SETINFO", "LIB-VER", "1\n2"],
        b"-ERR LIB-VER cannot contain spaces, newlines or special characters.\r\n",
    );
    expect(
        &mut c,
        &["CLIENT", "SETINFO", "foo", "x"],
        b"-ERR Unrecognized option 'foo'\r\n",
    );
    expect(&mut c, &["CLIENT", "SETINFO", "lib-name", ""], b"+OK\r\n");
    let info = bulk_text(&c.cmd(&["CLIENT", "INFO"]));
    assert_eq!(field(&info, "lib-name"), Some(""), "{info}");
    expect(
        &mut c,
        &["CLIENT", "SETINFO", "lib-name"],
        b"-ERR wrong number of arguments for 'client|setinfo' command\r\n",
    );
    expect(&mut c, &["CLIENT", "NO-TOUCH", "on"], b"+OK\r\n");
    let info = bulk_text(&c.cmd(&["CLIENT", "INFO"]));
    assert_eq!(field(&info, "flags"), Some("T"), "{info}");
    expect(&mut c, &["CLIENT", "NO-TOUCH", "OFF"], b"+OK\r\n");
    expect(
        &mut c,
        &["CLIENT", "NO-TOUCH", "maybe"],
        b"-ERR syntax error\r\n",
    );
    expect(
        &mut c,
        &["CLIENT", "NO-TOUCH"],
        b"-ERR wrong number of arguments for 'client|no-touch' command\r\n",
    );
}

#[test]
fn client_reply_off_on_skip() {
    diff(&[
        &["~noreply", "CLIENT", "REPLY", "OFF"],
        &["~noreply", "SET", "a", "1"],
        &["~noreply", "GET", "a"],
        &["~noreply", "NOSUCHCOMMAND"],
        &["CLIENT", "REPLY", "ON"],
        &["GET", "a"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["~noreply", "SET", "b", "2"],
        &["GET", "b"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["~noreply", "INCR", "b"],
        &["GET", "b"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "ON"],
        &["CLIENT", "REPLY", "ON"],
        &["CLIENT", "REPLY", "FOO"],
        &["CLIENT", "REPLY"],
        &["PING"],
    ]);
}

#[test]
fn reset_command() {
    diff(&[
        &["SELECT", "2"],
        &["SET", "k", "in2"],
        &["CLIENT", "SETNAME", "before"],
        &["~noreply", "CLIENT", "REPLY", "OFF"],
        &["RESET"],
        &["CLIENT", "GETNAME"],
        &["GET", "k"],
        &["~shape", "HELLO", "3"],
        &["SELECT", "2"],
        &["RESET"],
        &["GET", "k"],
        &["GET", "missing"],
        &["CLIENT", "SETNAME", "x"],
        &["RESET", "extra"],
        &["reset"],
    ]);
}

#[test]
fn quit_closes_after_ok() {
    let pair = Pair::new();
    let mut results = Vec::new();
    let mut servers = vec![(pair.ferrokey.kind, pair.ferrokey.port)];
    if let Some(r) = &pair.redis {
        servers.push((r.kind, r.port));
    }
    for (kind, port) in servers {
        let mut c = Conn::connect(port);
        // QUIT, and a pipelined command after it that must not run.
        c.send_raw(b"*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n");
        let (bytes, closed) = c.read_to_close();
        let mut check = Conn::connect(port);
        let exists = check.cmd(&["EXISTS", "after"]).raw;
        // QUIT with arguments is still QUIT in Redis 7.0.
        let mut c2 = Conn::connect(port);
        c2.send(&["QUIT", "extra"]);
        let (bytes2, closed2) = c2.read_to_close();
        results.push((
            kind,
            escape(&bytes),
            closed,
            escape(&exists),
            escape(&bytes2),
            closed2,
        ));
    }
    let f = &results[0];
    assert_eq!(f.1, "+OK\\r\\n", "Ferrokey QUIT reply");
    assert!(f.2, "Ferrokey closes the connection after QUIT");
    assert_eq!(
        f.3, ":0\\r\\n",
        "a command pipelined after QUIT must not run"
    );
    if let Some(r) = results.get(1) {
        assert_eq!(
            (&f.1, f.2, &f.3, &f.4, f.5),
            (&r.1, r.2, &r.3, &r.4, r.5),
            "ferrokey vs redis"
        );
    }
}
