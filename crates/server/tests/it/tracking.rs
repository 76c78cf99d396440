//! Client-side caching (CLIENT TRACKING): option errors compared with
//! redis-server byte for byte, and invalidation delivery in every mode
//! checked on both servers with the same expectations.

use std::time::Duration;

use crate::harness::*;

/// Ferrokey first, then redis-server when installed.
fn servers() -> Vec<Server> {
    let mut v = vec![Server::ferrokey()];
    v.extend(Server::redis());
    v
}

fn id_of(c: &mut Conn) -> String {
    let r = c.cmd(&["CLIENT", "ID"]).text();
    r.trim_start_matches(':').trim().to_string()
}

#[test]
fn tracking_options_and_errors_differential() {
    let script: &[&[&str]] = &[
        &["CLIENT", "GETREDIR"],
        &["CLIENT", "TRACKINGINFO"],
        &["CLIENT", "CACHING", "YES"],
        &["CLIENT", "TRACKING", "ON", "PREFIX", "a"],
        &["CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"],
        &["CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"],
        &["CLIENT", "TRACKING", "ON", "REDIRECT", "999999"],
        &["CLIENT", "TRACKING", "ON", "REDIRECT", "x"],
        &["CLIENT", "TRACKING", "ON", "FOO"],
        &["CLIENT", "TRACKING", "MAYBE"],
        &[
            "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "a",
        ],
        &["CLIENT", "TRACKING", "ON", "OPTIN"],
        &["CLIENT", "TRACKINGINFO"],
        &["CLIENT", "CACHING", "NO"],
        &["CLIENT", "CACHING", "MAYBE"],
        &["CLIENT", "CACHING", "YES"],
        &["CLIENT", "TRACKINGINFO"],
        &["CLIENT", "TRACKING", "ON", "OPTOUT"],
        &["CLIENT", "TRACKING", "ON", "BCAST"],
        &["CLIENT", "GETREDIR"],
        &["CLIENT", "TRACKING", "OFF"],
        &[
            "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "item:",
        ],
        &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:1"],
        &["CLIENT", "TRACKINGINFO"],
        &["CLIENT", "TRACKING", "ON"],
        &["CLIENT", "TRACKING", "OFF"],
        &["CLIENT", "TRACKINGINFO"],
    ];
    let p = Pair::new();
    p.diff(script);
    p.diff3(script);
}

#[test]
fn default_mode_invalidates_once_and_after_own_reply() {
    for s in servers() {
        let mut a = s.connect();
        let mut b = s.connect();
        a.cmd(&["FLUSHALL"]);
        a.cmd(&["HELLO", "3"]);
        assert_eq!(a.cmd(&["CLIENT", "TRACKING", "ON"]).text(), "+OK\r\n");
        b.cmd(&["SET", "k", "1"]);
        a.cmd(&["GET", "k"]);
        a.cmd(&["MGET", "m1", "m2"]);
        b.cmd(&["SET", "k", "2"]);
        let inv_k = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
        assert_eq!(a.read().text(), inv_k, "{:?}", s.kind);
        // Forgotten after one invalidation: a second write sends nothing,
        // so the next frame is the PING reply.
        b.cmd(&["SET", "k", "3"]);
        b.cmd(&["DEL", "m2"]); // m2 did not exist: nothing changed
        b.cmd(&["SET", "m1", "x"]);
        assert_eq!(
            a.read().text(),
            ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nm1\r\n",
            "{:?}",
            s.kind
        );
        assert_eq!(a.cmd(&["PING"]).text(), "+PONG\r\n", "{:?}", s.kind);
        // Its own write: the reply first, then the invalidation.
        a.cmd(&["GET", "k"]);
        a.send(&["SET", "k", "4"]);
        assert_eq!(a.read().text(), "+OK\r\n");
        assert_eq!(a.read().text(), inv_k, "{:?}", s.kind);
        // Lists modified in place, expiry and FLUSHALL invalidate too.
        b.cmd(&["RPUSH", "l", "x"]);
        a.cmd(&["LRANGE", "l", "0", "-1"]);
        b.cmd(&["RPUSH", "l", "y"]);
        assert_eq!(
            a.read().text(),
            ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nl\r\n",
            "{:?}",
            s.kind
        );
        b.cmd(&["SET", "t", "1", "PX", "30"]);
        a.cmd(&["GET", "t"]);
        std::thread::sleep(Duration::from_millis(60));
        b.cmd(&["EXISTS", "t"]); // expires it
        assert_eq!(
            a.read().text(),
            ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nt\r\n",
            "{:?}",
            s.kind
        );
        b.cmd(&["FLUSHALL"]);
        assert_eq!(
            a.read().text(),
            ">2\r\n$10\r\ninvalidate\r\n_\r\n",
            "{:?}",
            s.kind
        );
        let list = b.cmd(&["CLIENT", "LIST"]).text();
        assert!(list.contains("flags=t"), "{list}");
    }
}

#[test]
fn noloop_optin_optout() {
    for s in servers() {
        let mut a = s.connect();
        let mut b = s.connect();
        a.cmd(&["FLUSHALL"]);
        a.cmd(&["HELLO", "3"]);
        a.cmd(&["CLIENT", "TRACKING", "ON", "NOLOOP"]);
        a.cmd(&["GET", "k"]);
        a.cmd(&["SET", "k", "mine"]);
        assert_eq!(a.cmd(&["PING"]).text(), "+PONG\r\n", "{:?} NOLOOP", s.kind);
        a.cmd(&["CLIENT", "TRACKING", "OFF"]);

        a.cmd(&["CLIENT", "TRACKING", "ON", "OPTIN"]);
        a.cmd(&["GET", "x"]); // not tracked
        a.cmd(&["CLIENT", "CACHING", "YES"]);
        a.cmd(&["GET", "y"]); // tracked
        a.cmd(&["GET", "z"]); // not tracked: CACHING covers one command
        b.cmd(&["MSET", "x", "1", "y", "1", "z", "1"]);
        assert_eq!(
            a.read().text(),
            ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\ny\r\n",
            "{:?} OPTIN",
            s.kind
        );
        assert_eq!(a.cmd(&["PING"]).text(), "+PONG\r\n", "{:?} OPTIN", s.kind);
        a.cmd(&["CLIENT", "TRACKING", "OFF"]);

        a.cmd(&["CLIENT", "TRACKING", "ON", "OPTOUT"]);
        a.cmd(&["CLIENT", "CACHING", "NO"]);
        a.cmd(&["GET", "x"]); // not tracked
        a.cmd(&["GET", "y"]); // tracked
        b.cmd(&["MSET", "x", "2", "y", "2"]);
        assert_eq!(
            a.read().text(),
            ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\ny\r\n",
            "{:?} OPTOUT",
            s.kind
        );
        assert_eq!(a.cmd(&["PING"]).text(), "+PONG\r\n", "{:?} OPTOUT", s.kind);
    }
}

#[test]
fn bcast_and_resp2_redirect() {
    for s in servers() {
        let mut a = s.connect();
        let mut b = s.connect();
        a.cmd(&["FLUSHALL"]);
        a.cmd(&["HELLO", "3"]);
        a.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:"]);
        b.cmd(&["MSET", "user:1", "a", "other", "b", "user:2", "c"]);
        assert_eq!(
            a.read().text(),
            ">2\r\n$10\r\ninvalidate\r\n*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n",
            "{:?}",
            s.kind
        );
        b.cmd(&["SET", "other", "c"]);
        assert_eq!(a.cmd(&["PING"]).text(), "+PONG\r\n", "{:?}", s.kind);

        // RESP2: invalidations go to a redirect target subscribed to
        // __redis__:invalidate.
        let mut r = s.connect();
        let rid = id_of(&mut r);
        r.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
        let mut c = s.connect();
        assert_eq!(
            c.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &rid])
                .text(),
            "+OK\r\n"
        );
        assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]).text(), format!(":{rid}\r\n"));
        c.cmd(&["GET", "key"]);
        b.cmd(&["SET", "key", "v"]);
        assert_eq!(
            r.read().text(),
            "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$3\r\nkey\r\n",
            "{:?}",
            s.kind
        );
        // The target goes away: a RESP3 client hears its redirect broke.
        let mut d = s.connect();
        d.cmd(&["HELLO", "3"]);
        let mut gone = s.connect();
        let gid = id_of(&mut gone);
        d.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &gid]);
        d.cmd(&["GET", "key2"]);
        drop(gone);
        std::thread::sleep(Duration::from_millis(50));
        b.cmd(&["SET", "key2", "v"]);
        assert_eq!(
            d.read().text(),
            format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{gid}\r\n"),
            "{:?}",
            s.kind
        );
    }
}
