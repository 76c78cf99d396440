//! HyperLogLog compared byte for byte with redis-server: the replies and
//! the stored values themselves (GET shows the sparse and dense encodings,
//! the cached cardinality and its validity bit), through PFADD, PFCOUNT,
//! PFMERGE and PFDEBUG, and values written by one server counted by the
//! other.

use crate::harness::*;

fn seq(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

fn cmd(head: &[&str], tail: &[String]) -> Vec<Vec<u8>> {
    head.iter()
        .map(|a| a.as_bytes().to_vec())
        .chain(tail.iter().map(|a| a.as_bytes().to_vec()))
        .collect()
}

#[test]
fn pfadd_pfcount_pfmerge_pfdebug() {
    let p = Pair::new();
    for resp3 in [false, true] {
        let mut s = p.session(if resp3 { "RESP3" } else { "RESP2" });
        if resp3 {
            s.line(Mode::Shape, &cmd(&["HELLO", "3"], &[]));
        }
        let script: Vec<Vec<Vec<u8>>> = vec![
            cmd(&["PFADD", "h", "a", "b", "c", "d", "e", "f", "g"], &[]),
            cmd(&["PFCOUNT", "h"], &[]),
            cmd(&["GET", "h"], &[]),
            cmd(&["PFDEBUG", "DECODE", "h"], &[]),
            cmd(&["PFDEBUG", "ENCODING", "h"], &[]),
            cmd(&["PFADD", "h", "a"], &[]),
            cmd(&["PFADD", "h"], &[]),
            cmd(&["PFADD", "new"], &[]),
            cmd(&["GET", "new"], &[]),
            cmd(&["PFADD", "h2"], &seq("e", 300)),
            cmd(&["PFCOUNT", "h2"], &[]),
            cmd(&["GET", "h2"], &[]),
            cmd(&["PFDEBUG", "ENCODING", "h2"], &[]),
            cmd(&["PFDEBUG", "DECODE", "h2"], &[]),
            cmd(&["PFADD", "h3"], &seq("x", 5000)),
            cmd(&["PFCOUNT", "h3"], &[]),
            cmd(&["GET", "h3"], &[]),
            cmd(&["PFDEBUG", "ENCODING", "h3"], &[]),
            cmd(&["PFCOUNT", "h", "h2", "h3", "nokey"], &[]),
            cmd(&["PFMERGE", "m", "h", "h2"], &[]),
            cmd(&["PFCOUNT", "m"], &[]),
            cmd(&["GET", "m"], &[]),
            cmd(&["PFMERGE", "m2", "h3", "h"], &[]),
            cmd(&["GET", "m2"], &[]),
            cmd(&["SET", "s", "foo"], &[]),
            cmd(&["PFADD", "s", "a"], &[]),
            cmd(&["PFCOUNT", "s"], &[]),
            cmd(&["PFMERGE", "s", "h"], &[]),
            cmd(&["LPUSH", "l", "a"], &[]),
            cmd(&["PFADD", "l", "a"], &[]),
            cmd(&["PFCOUNT", "l"], &[]),
            cmd(&["PFDEBUG", "GETREG", "h"], &[]),
            cmd(&["GET", "h"], &[]),
            cmd(&["PFDEBUG", "TODENSE", "h2"], &[]),
            cmd(&["PFDEBUG", "TODENSE", "h2"], &[]),
            cmd(&["GET", "h2"], &[]),
            cmd(&["PFDEBUG", "FOO", "h"], &[]),
            cmd(&["PFDEBUG", "DECODE", "h3"], &[]),
            cmd(&["PFDEBUG", "GETREG", "nokey"], &[]),
            cmd(&["PFDEBUG", "GETREG", "h", "extra"], &[]),
            cmd(&["PFADD", "h4", "x"], &[]),
            cmd(&["PFDEBUG", "TODENSE", "h4"], &[]),
            cmd(&["PFCOUNT", "h4"], &[]),
            cmd(&["GET", "h4"], &[]),
            cmd(&["PFMERGE", "m3"], &[]),
            cmd(&["GET", "m3"], &[]),
            cmd(&["PFMERGE", "m4", "nokey", "nokey2"], &[]),
            cmd(&["PFCOUNT", "m4"], &[]),
            cmd(&["SET", "bad", "HYLLxxxxxxxxxxxxxxxxxxx"], &[]),
            cmd(&["PFCOUNT", "bad"], &[]),
            cmd(&["CONFIG", "SET", "hll-sparse-max-bytes", "100"], &[]),
            cmd(&["PFADD", "small"], &seq("y", 40)),
            cmd(&["PFDEBUG", "ENCODING", "small"], &[]),
            cmd(&["GET", "small"], &[]),
            cmd(&["CONFIG", "SET", "hll-sparse-max-bytes", "3000"], &[]),
            cmd(&["PFSELFTEST"], &[]),
        ];
        for line in &script {
            s.line(Mode::Exact, line);
        }
        s.finish();
    }
}

/// A value PFADD built on redis-server, copied with GET/SET, counts the
/// same on Ferrokey, and keeps growing the same way.
#[test]
fn values_move_between_servers() {
    let Some(r) = Server::redis() else {
        eprintln!("redis-server not installed: cross-server HLL values not checked");
        return;
    };
    let f = Server::ferrokey();
    let (mut rc, mut fc) = (r.connect(), f.connect());
    for (name, n) in [("sparse", 200usize), ("dense", 20000)] {
        rc.cmd(&cmd(&["PFADD", name], &seq("v", n)));
        let value = match rc.cmd(&["GET", name]).frame {
            ferrokey_resp::Frame::Bulk(b) => b,
            other => panic!("GET gave {other:?}"),
        };
        let set: Vec<&[u8]> = vec![b"SET", name.as_bytes(), &value];
        assert_eq!(fc.cmd(&set).text(), "+OK\r\n");
        assert_eq!(
            fc.cmd(&["PFCOUNT", name]).text(),
            rc.cmd(&["PFCOUNT", name]).text()
        );
        fc.cmd(&cmd(&["PFADD", name], &seq("w", 50)));
        rc.cmd(&cmd(&["PFADD", name], &seq("w", 50)));
        assert_eq!(
            fc.cmd(&["GET", name]).raw,
            rc.cmd(&["GET", name]).raw,
            "{name} after more PFADDs"
        );
    }
    // And the other way: values Ferrokey built, counted by redis-server.
    for (name, n) in [("fk_sparse", 150usize), ("fk_dense", 15000)] {
        fc.cmd(&cmd(&["PFADD", name], &seq("z", n)));
        let value = match fc.cmd(&["GET", name]).frame {
            ferrokey_resp::Frame::Bulk(b) => b,
            other => panic!("GET gave {other:?}"),
        };
        let set: Vec<&[u8]> = vec![b"SET", name.as_bytes(), &value];
        assert_eq!(rc.cmd(&set).text(), "+OK\r\n");
        assert_eq!(
            rc.cmd(&["PFCOUNT", name]).text(),
            fc.cmd(&["PFCOUNT", name]).text(),
            "{name} counted by redis-server"
        );
        assert_eq!(
            rc.cmd(&["PFDEBUG", "ENCODING", name]).text(),
            fc.cmd(&["PFDEBUG", "ENCODING", name]).text()
        );
    }
}
